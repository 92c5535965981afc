"""The lists of the site as JSON, for staff signed in to it (the staff API).

Each list of the site (residents, payments, findings, discrepancies) is served by a view of its
app built on StaffListView: the same selector and region scope as its page, narrowed and ordered
by the same FilterSet read from the same query string, so that a page, its Excel export and its
API answer hold the same rows. Read-only; the tax bureau's sync API (API keys) is another thing.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.generics import ListAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer

from pension.pagination import CappedPaginator


class StaffPagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class CappedStaffPagination(StaffPagination):
    """For a list that grows without end: `count` stops at CappedPaginator.cap, and `capped`
    says there are more (narrow the query to reach them)."""

    django_paginator_class = CappedPaginator

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["capped"] = self.page.paginator.capped
        return response


@extend_schema(exclude=True)  # the published schema is the tax bureau's
class StaffListView(ListAPIView):
    """A list page's rows for the signed-in user: `base_queryset` is the page's selector
    (region scope included), `filter_for` the page's FilterSet on the query string."""

    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer]
    pagination_class = StaffPagination
    filter_backends: list = []
    filterset_class = None

    def base_queryset(self) -> QuerySet:
        raise NotImplementedError

    def filter_for(self, data: QueryDict, queryset: QuerySet):
        return self.filterset_class(data, queryset=queryset, request=self.request)

    def get_queryset(self) -> QuerySet:
        filterset = self.filter_for(self.request.query_params, self.base_queryset())
        if not filterset.is_valid():
            raise exceptions.ValidationError(filterset.errors)
        return filterset.qs

    def permission_denied(self, request, message=None, code=None):
        if request.authenticators and not request.successful_authenticator:
            raise exceptions.NotAuthenticated(_("请先登录系统"))
        super().permission_denied(request, message=message, code=code)
