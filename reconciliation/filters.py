"""One filter definition per list, shared by the page and its Excel export."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from pension import idnumber
from pension.filters import SortedFilterSet, SortFilter
from reconciliation.forms import MonthField
from reconciliation.models import Discrepancy
from reconciliation.selectors import visible_townships


class MonthFilter(django_filters.Filter):
    """A "2023-05" month matched against a date column holding months' first days."""

    field_class = MonthField


class DiscrepancyFilter(SortedFilterSet):
    """The worklist's filters. The township choices are the townships the request's user
    sees: a township code from elsewhere is an invalid choice, reported on the form and
    ignored, while the region scope of the queryset keeps its cases out anyway."""

    month = MonthFilter(label=_("所属月份"), field_name="month")
    category = django_filters.ChoiceFilter(
        label=_("差异类型"), choices=Discrepancy.Category.choices, empty_label=_("全部类型")
    )
    status = django_filters.ChoiceFilter(
        label=_("状态"), choices=Discrepancy.Status.choices, empty_label=_("全部状态")
    )
    township = django_filters.ChoiceFilter(
        label=_("乡镇"), choices=[], method="in_township", empty_label=_("全部乡镇")
    )
    q = django_filters.CharFilter(label=_("电子税票号码、证件号码或姓名"), method="search")
    sort = SortFilter(
        fields=(
            ("month", "month"),
            ("category", "category"),
            ("region_code", "region"),
            ("name", "name"),
            ("tax_amount", "tax"),
            ("bank_amount", "bank"),
            ("system_amount", "system"),
        ),
        field_labels={
            "month": _("月份"), "category": _("差异类型"), "region_code": _("村(社区)"),
            "name": _("姓名"), "tax_amount": _("税务(元)"), "bank_amount": _("银行(元)"),
            "system_amount": _("系统(元)"),
        },
    )  # fmt: skip

    class Meta:
        model = Discrepancy
        fields = ["month", "category", "status", "township", "q"]

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        user = getattr(request, "user", None)
        townships = visible_townships(user=user) if user is not None else []
        self.filters["township"].extra["choices"] = [(t.code, t.name) for t in townships]

    @classmethod
    def for_worklist(cls, data: QueryDict, queryset, *, request) -> DiscrepancyFilter:
        """The page and the export alike show open cases unless another status is asked for."""
        data = data.copy()
        data.setdefault("status", Discrepancy.Status.OPEN)
        return cls(data, queryset, request=request)

    def in_township(self, queryset, name, value):
        return queryset.filter(region_code__startswith=value)

    def search(self, queryset, name, value):
        text = value.strip()
        if not text:
            return queryset
        # ID numbers and vouchers are pasted with full-width digits, spaces or a lower-case x.
        number = idnumber.normalise(text)
        return queryset.filter(
            Q(voucher_no__startswith=number)
            | Q(voucher_no__startswith=text)
            | Q(id_number__startswith=number)
            | Q(name__contains=text)
        )
