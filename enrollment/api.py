"""The staff API's resident and finding lists (pension/api.py): the pages' rows as JSON."""

from __future__ import annotations

from django.urls import path
from rest_framework import serializers

from enrollment import selectors
from enrollment.filters import FindingFilter, ResidentFilter
from enrollment.models import Finding, Resident
from pension.api import StaffListView


class ResidentSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display")
    village_code = serializers.CharField(source="village_id")
    village_name = serializers.CharField(source="village.name")
    township_name = serializers.CharField(source="village.parent.name")
    group_name = serializers.CharField(source="group.name", default="")

    class Meta:
        model = Resident
        fields = [
            "id_number", "name", "sex", "birth_date", "phone", "status", "status_display",
            "village_code", "village_name", "township_name", "group_name",
        ]  # fmt: skip


class FindingSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display")
    status_display = serializers.CharField(source="get_status_display")
    region_code = serializers.CharField(source="region_id")
    region_name = serializers.CharField(source="region.name")
    resolved_by = serializers.CharField(source="resolved_by.display_name", default="")

    class Meta:
        model = Finding
        fields = [
            "id", "kind", "kind_display", "status", "status_display", "id_number", "name",
            "region_code", "region_name", "detail", "source", "created_at", "resolution_note",
            "resolved_by", "resolved_at",
        ]  # fmt: skip


class ResidentList(StaffListView):
    """参保人查询 as JSON: `?q=&status=&region=&sort=` as on the page."""

    serializer_class = ResidentSerializer
    filterset_class = ResidentFilter

    def base_queryset(self):
        return selectors.resident_list(user=self.request.user)


class FindingList(StaffListView):
    """疑点处理 as JSON: open findings unless `?status=` asks for others, as on the page."""

    serializer_class = FindingSerializer
    filterset_class = FindingFilter

    def base_queryset(self):
        return selectors.finding_list(user=self.request.user)

    def filter_for(self, data, queryset):
        return FindingFilter.for_worklist(data, queryset, request=self.request)


urlpatterns = [
    path("residents/", ResidentList.as_view(), name="api_staff_residents"),
    path("findings/", FindingList.as_view(), name="api_staff_findings"),
]
