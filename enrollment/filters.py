"""One filter definition per list, shared by the page and its Excel export."""

import django_filters
from django.db.models import Q

from enrollment.models import Finding
from pension import idnumber


class FindingFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label="疑点类型", choices=Finding.Kind.choices)
    status = django_filters.ChoiceFilter(
        label="状态", choices=Finding.Status.choices, empty_label="全部状态"
    )
    region = django_filters.CharFilter(
        label="区划代码", field_name="region__code", lookup_expr="startswith"
    )
    q = django_filters.CharFilter(label="姓名或身份证号", method="search")

    class Meta:
        model = Finding
        fields = ["kind", "status", "region", "q"]

    def search(self, queryset, name, value):
        # ID numbers are pasted with full-width digits, spaces or a lower-case x.
        number = idnumber.normalise(value)
        return queryset.filter(Q(name__contains=value.strip()) | Q(id_number__startswith=number))
