"""Reads of residents for pages, exports and the API, with their joins already applied."""

from __future__ import annotations

import datetime

from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from enrollment.models import Finding, Resident, SpecialGroupMembership
from pension.models import AuditEntry, ImportJob, Region, User


def resident_list(*, user: User) -> QuerySet[Resident]:
    """The residents a user may list, with what a list row shows joined (no query per row);
    enrollment.filters.ResidentFilter narrows and orders them for the page and the export."""
    return Resident.objects.visible_to(user).select_related("village__parent", "group")


def resident_status_counts(*, user: User) -> list[tuple[str, str, int]]:
    """Residents in the user's scope by status, in one grouped query."""
    rows = Resident.objects.visible_to(user).values("status").annotate(n=Count("id")).order_by()
    counts = {row["status"]: row["n"] for row in rows}
    return [(value, label, counts.get(value, 0)) for value, label in Resident.Status.choices]


def resident_memberships(*, resident: Resident) -> QuerySet[SpecialGroupMembership]:
    return resident.memberships.order_by("-valid_from")


def resident_history(*, resident: Resident) -> list[dict]:
    """The resident's audit entries with status codes turned into the clerk's words."""
    words = {
        "status": (_("参保状态"), dict(Resident.Status.choices)),
        "category": (_("特殊群体"), dict(SpecialGroupMembership.Category.choices)),
        "village": (_("户籍地"), {}),
    }
    separator = pgettext("list separator", "；")
    rows = []
    for entry in AuditEntry.objects.for_object(resident).select_related("actor"):
        changes = []
        for field, values in (entry.changes or {}).items():
            if field in words and isinstance(values, list) and len(values) == 2:
                title, names = words[field]
                old, new = (names.get(v, v or "—") for v in values)
                changes.append(
                    _("%(field)s：%(old)s → %(new)s") % {"field": title, "old": old, "new": new}
                )
            else:
                changes.append(_("%(field)s：%(values)s") % {"field": field, "values": values})
        rows.append({"entry": entry, "changes": separator.join(changes)})
    return rows


def resident_findings(*, resident: Resident) -> QuerySet[Finding]:
    return resident.findings.select_related("resolved_by").order_by("-created_at")


def finding_list(*, user: User) -> QuerySet[Finding]:
    return Finding.objects.visible_to(user).select_related(
        "region__parent", "resident", "resolved_by"
    )


def open_finding_counts(*, user: User) -> list[tuple[str, str, int]]:
    """Open findings in the user's scope by kind, in one grouped query."""
    rows = Finding.objects.visible_to(user).open().values("kind").annotate(n=Count("id")).order_by()
    counts = {row["kind"]: row["n"] for row in rows}
    return [
        (value, label, counts[value]) for value, label in Finding.Kind.choices if counts.get(value)
    ]


def benefits_due(*, user: User, on: datetime.date) -> QuerySet[Resident]:
    return (
        Resident.objects.visible_to(user)
        .benefits_due(on)
        .select_related("village__parent", "group")
        .order_by("village_id", "birth_date")
    )


REGISTRY_EVERY_DAYS = 92  # at least quarterly (DESIGN §6 rule 12)
DEPARTMENT_EVERY_DAYS = 31  # at least monthly


def overdue_comparisons(*, region: Region, on: datetime.date) -> list[dict]:
    """Comparisons of `region` that are overdue on `on`: the registry older than a quarter,
    each proxy-relevant department list older than a month (or never run)."""
    from enrollment.services.departments import CATEGORY_LABELS, MEMBERSHIP_CATEGORIES

    covering = [*region.ancestor_codes(), region.code]
    rows = (
        ImportJob.objects.filter(
            region_id__in=covering, status=ImportJob.Status.DONE, dry_run=False,
            kind__in=[ImportJob.Kind.REGISTRY, ImportJob.Kind.DEPARTMENT],
        )
        .values_list("kind", "params", "finished_at")
    )  # fmt: skip
    last: dict[str, datetime.date] = {}
    for kind, params, finished_at in rows:
        key = "registry" if kind == ImportJob.Kind.REGISTRY else (params or {}).get("category")
        day = timezone.localdate(finished_at)
        if key and (key not in last or day > last[key]):
            last[key] = day
    checks = [("registry", _("公安户籍"), REGISTRY_EVERY_DAYS)] + [
        (c, CATEGORY_LABELS[c], DEPARTMENT_EVERY_DAYS) for c in MEMBERSHIP_CATEGORIES
    ]
    overdue = []
    for key, label, every in checks:
        done = last.get(key)
        if done is None or (on - done).days > every:
            overdue.append({"key": key, "label": label, "last": done, "every_days": every})
    return overdue
