"""One filter definition per list, shared by the page, its Excel export and the staff API."""

import django_filters
from django.db.models import Q
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from enrollment.models import Finding, Resident
from pension import idnumber
from pension.filters import SortedFilterSet, SortFilter


class FindingFilter(SortedFilterSet):
    """The findings worklist (疑点处理): newest first unless sorted by a column."""

    kind = django_filters.ChoiceFilter(label=_("疑点类型"), choices=Finding.Kind.choices)
    status = django_filters.ChoiceFilter(
        label=_("状态"), choices=Finding.Status.choices, empty_label=_("全部状态")
    )
    region = django_filters.CharFilter(
        label=_("区划代码"), field_name="region__code", lookup_expr="startswith"
    )
    q = django_filters.CharFilter(label=_("姓名或身份证号"), method="search")
    sort = SortFilter(
        fields=(
            ("created_at", "created"),
            ("kind", "kind"),
            ("name", "name"),
            ("region_id", "region"),
            ("status", "status"),
        ),
        field_labels={
            "created_at": _("发现时间"), "kind": _("疑点类型"), "name": _("姓名"),
            "region_id": _("村(社区)"), "status": _("状态"),
        },
    )  # fmt: skip

    default_order = ("-created_at",)
    tiebreak = "-pk"

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


class ResidentFilter(SortedFilterSet):
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

    default_order = ("village_id", "name")

    class Meta:
        model = Resident
        fields = ["q", "status", "region"]

    def search(self, queryset, name, value):
        return queryset.search(value)
