"""One filter definition per list, shared by the page, its Excel export and the staff API."""

import django_filters
from django.db.models import Q
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from enrollment.models import Finding, Resident
from pension import idnumber
from pension.filters import SortFilter


class FindingFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("疑点类型"), choices=Finding.Kind.choices)
    status = django_filters.ChoiceFilter(
        label=_("状态"), choices=Finding.Status.choices, empty_label=_("全部状态")
    )
    region = django_filters.CharFilter(
        label=_("区划代码"), field_name="region__code", lookup_expr="startswith"
    )
    q = django_filters.CharFilter(label=_("姓名或身份证号"), method="search")

    class Meta:
        model = Finding
        fields = ["kind", "status", "region", "q"]

    @classmethod
    def for_worklist(cls, data: QueryDict, queryset, *, request=None) -> "FindingFilter":
        """The page, its export and the API alike show open findings unless another status
        is asked for."""
        data = data.copy()
        data.setdefault("status", Finding.Status.OPEN)
        return cls(data, queryset=queryset, request=request)

    def search(self, queryset, name, value):
        # ID numbers are pasted with full-width digits, spaces or a lower-case x.
        number = idnumber.normalise(value)
        return queryset.filter(Q(name__contains=value.strip()) | Q(id_number__startswith=number))


class ResidentFilter(django_filters.FilterSet):
    """The resident list's filters and order, shared by the page and its export."""

    q = django_filters.CharFilter(label=_("身份证号码或姓名"), method="search")
    status = django_filters.ChoiceFilter(
        label=_("参保状态"), choices=Resident.Status.choices, empty_label=_("全部状态")
    )
    region = django_filters.CharFilter(
        label=_("区划代码"), field_name="village__code", lookup_expr="startswith"
    )
    sort = SortFilter(
        fields=(
            ("village_id", "village"),
            ("name", "name"),
            ("birth_date", "birth_date"),
            ("status", "status"),
        ),
        field_labels={
            "village_id": _("村(社区)"), "name": _("姓名"), "birth_date": _("出生日期"),
            "status": _("参保状态"),
        },
    )  # fmt: skip

    class Meta:
        model = Resident
        fields = ["q", "status", "region"]

    def search(self, queryset, name, value):
        return queryset.search(value)

    @property
    def qs(self):
        # A stable order under any sort, so that pages never repeat or skip a resident.
        rows = super().qs
        order = list(rows.query.order_by) or ["village_id", "name"]
        return rows.order_by(*order, "pk")
