"""Base views: region scope applied in one place."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin


class RegionScopedMixin(LoginRequiredMixin):
    """Limits a view's rows to the user's region; an object outside it answers 404.

    Every list, detail, export and download view inherits this instead of filtering by hand.
    """

    model = None

    def get_queryset(self):
        return self.model.objects.visible_to(self.request.user)
