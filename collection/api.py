"""The staff API's payment list (pension/api.py): 缴费记录's rows as JSON."""

from __future__ import annotations

from django.urls import path
from rest_framework import serializers

from collection import selectors
from collection.filters import PaymentFilter
from collection.models import Payment
from pension.api import CappedStaffPagination, StaffListView


class PaymentSerializer(serializers.ModelSerializer):
    id_number = serializers.CharField(source="resident.id_number")
    name = serializers.CharField(source="resident.name")
    village_code = serializers.CharField(source="resident.village_id")
    village_name = serializers.CharField(source="resident.village.name")
    township_name = serializers.CharField(source="resident.village.parent.name")
    kind_display = serializers.CharField(source="get_kind_display")
    channel_display = serializers.CharField(source="get_channel_display")
    source_display = serializers.CharField(source="get_source_display")
    recorded_by = serializers.CharField(source="recorded_by.display_name", default="")
    reverses = serializers.CharField(source="reverses.voucher_no", default="")

    class Meta:
        model = Payment
        fields = [
            "id", "voucher_no", "id_number", "name", "village_code", "village_name",
            "township_name", "contribution_year", "amount", "subsidy", "kind", "kind_display",
            "channel", "channel_display", "source", "source_display", "paid_at", "recorded_by",
            "reverses", "note",
        ]  # fmt: skip


class PaymentList(StaffListView):
    """缴费记录 as JSON: `?year=&kind=&channel=&source=&region=&paid_from=&paid_to=&q=&sort=`
    as on the page; amounts are strings of yuan with two places."""

    serializer_class = PaymentSerializer
    filterset_class = PaymentFilter
    pagination_class = CappedStaffPagination  # a county's payments grow by a million a year

    def base_queryset(self):
        return selectors.payment_list(user=self.request.user)


urlpatterns = [path("payments/", PaymentList.as_view(), name="api_staff_payments")]
