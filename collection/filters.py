"""One filter definition per list, shared by the page and its Excel export."""

import django_filters
from django.utils.translation import gettext_lazy as _

from collection.models import Payment
from enrollment.models import Resident
from pension.filters import SortedFilterSet, SortFilter


class PaymentFilter(SortedFilterSet):
    """The payments list (缴费记录): by year, kind, channel, source, place, day paid, and a
    person's ID number or name or a voucher; sorted by any of its columns."""

    year = django_filters.NumberFilter(label=_("缴费年度"), field_name="contribution_year")
    kind = django_filters.ChoiceFilter(
        label=_("缴费类型"), choices=Payment.Kind.choices, empty_label=_("全部类型")
    )
    channel = django_filters.ChoiceFilter(
        label=_("缴费渠道"), choices=Payment.Channel.choices, empty_label=_("全部渠道")
    )
    source = django_filters.ChoiceFilter(
        label=_("数据来源"), choices=Payment.Source.choices, empty_label=_("全部来源")
    )
    region = django_filters.CharFilter(
        label=_("区划代码"), field_name="resident__village__code", lookup_expr="startswith"
    )
    paid_from = django_filters.DateFilter(
        label=_("缴费日期从"), field_name="paid_at", lookup_expr="date__gte"
    )
    paid_to = django_filters.DateFilter(
        label=_("至"), field_name="paid_at", lookup_expr="date__lte"
    )
    q = django_filters.CharFilter(label=_("身份证号码、姓名或凭证号"), method="search")
    sort = SortFilter(
        fields=(
            ("paid_at", "paid_at"),
            ("amount", "amount"),
            ("contribution_year", "year"),
            ("resident__name", "name"),
        ),
        field_labels={
            "paid_at": _("缴费时间"), "amount": _("金额"), "contribution_year": _("缴费年度"),
            "resident__name": _("姓名"),
        },
    )  # fmt: skip

    # Newest first unless asked otherwise.
    default_order = ("-paid_at",)
    tiebreak = "-pk"

    class Meta:
        model = Payment
        fields = ["year", "kind", "channel", "source", "region", "paid_from", "paid_to", "q"]

    def search(self, queryset, name, value):
        # Two index look-ups joined by UNION ALL: the payments of the residents the resident
        # list would find (an ID number's start, else a name), and the payment of a voucher
        # (its unique index leads with the source, hence every source). An OR of the two
        # would read every payment of the region.
        residents = Resident.objects.search(value).values("pk")
        by_person = Payment.objects.filter(resident__in=residents).order_by().values("pk")
        by_voucher = (
            Payment.objects.filter(source__in=Payment.Source.values, voucher_no=value.strip())
            .order_by()
            .values("pk")
        )
        return queryset.filter(pk__in=by_person.union(by_voucher, all=True))
