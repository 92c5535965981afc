"""The signed-in user as every page needs them."""

from __future__ import annotations

from django.contrib.auth import backends, get_user_model


class ModelBackend(backends.ModelBackend):
    """Django's username-and-password backend, loading the user's region in the same query:
    the header of every page names it, which would otherwise cost a second query a request."""

    def get_user(self, user_id):
        user_model = get_user_model()
        user = user_model._default_manager.select_related("region").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
