"""Filters every app's lists share."""

from __future__ import annotations

import django_filters
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _


class SortFilter(django_filters.OrderingFilter):
    """A list's `?sort=` (`-` first for descending), its choices named in the user's language:
    give every field a label, since django-filter would name the others in English."""

    descending_fmt = _("%s（降序）")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label", _("排序"))
        kwargs.setdefault("empty_label", _("默认顺序"))
        super().__init__(*args, **kwargs)
        labels = kwargs.get("field_labels") or {}
        unnamed = [field for field in self.param_map.values() if field not in labels]
        if unnamed:
            raise ImproperlyConfigured(f"SortFilter fields without a label: {unnamed}")


class SortedFilterSet(django_filters.FilterSet):
    """A list's FilterSet whose rows come in a stable order, so that pages never repeat or
    skip a row: the sort asked for, else the selector's order, else `default_order`; then
    `tiebreak` to settle equal rows."""

    default_order: tuple[str, ...] = ()
    tiebreak = "pk"

    @property
    def qs(self):
        rows = super().qs
        order = list(rows.query.order_by) or list(self.default_order)
        return rows.order_by(*order, self.tiebreak)
