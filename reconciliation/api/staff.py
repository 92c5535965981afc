"""The staff API's discrepancy list (pension/api.py): 对账差异's rows as JSON."""

from __future__ import annotations

from django.urls import path
from rest_framework import serializers

from pension.api import StaffListView
from reconciliation import selectors
from reconciliation.filters import DiscrepancyFilter
from reconciliation.models import Discrepancy


class DiscrepancySerializer(serializers.ModelSerializer):
    category_display = serializers.CharField(source="get_category_display")
    status_display = serializers.CharField(source="get_status_display")
    resolution_display = serializers.CharField(source="get_resolution_display")
    region_name = serializers.CharField(default="")
    township_name = serializers.CharField(default="")
    resolved_by = serializers.CharField(source="resolved_by.display_name", default="")

    class Meta:
        model = Discrepancy
        fields = [
            "id", "month", "category", "category_display", "status", "status_display",
            "region_code", "region_name", "township_name", "voucher_no", "id_number", "name",
            "contribution_year", "tax_amount", "bank_amount", "system_amount", "detail",
            "found_at", "resolution", "resolution_display", "resolution_note", "resolved_by",
            "resolved_at",
        ]  # fmt: skip


class DiscrepancyList(StaffListView):
    """对账差异 as JSON: open cases unless `?status=` asks for others, and
    `?month=2023-05&category=&township=&q=` as on the page."""

    serializer_class = DiscrepancySerializer
    filterset_class = DiscrepancyFilter

    def base_queryset(self):
        return selectors.discrepancy_list(user=self.request.user)

    def filter_for(self, data, queryset):
        return DiscrepancyFilter.for_worklist(data, queryset, request=self.request)


urlpatterns = [path("discrepancies/", DiscrepancyList.as_view(), name="api_staff_discrepancies")]
