"""Reads of residents for pages, exports and the API, with their joins already applied."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from enrollment.models import Resident, SpecialGroupMembership
from pension.models import AuditEntry, User


def resident_search(*, user: User, text: str = "", status: str = "") -> QuerySet[Resident]:
    rows = Resident.objects.visible_to(user).search(text)
    if status:
        rows = rows.filter(status=status)
    return rows.select_related("village__parent", "group")


def resident_status_counts(*, user: User) -> list[tuple[str, str, int]]:
    """Residents in the user's scope by status, in one grouped query."""
    rows = Resident.objects.visible_to(user).values("status").annotate(n=Count("id")).order_by()
    counts = {row["status"]: row["n"] for row in rows}
    return [(value, label, counts.get(value, 0)) for value, label in Resident.Status.choices]


def resident_memberships(*, resident: Resident) -> QuerySet[SpecialGroupMembership]:
    return resident.memberships.order_by("-valid_from")


def resident_history(*, resident: Resident) -> list[dict]:
    """The resident's audit entries with status codes turned into the clerk's words."""
    labels = dict(Resident.Status.choices)
    rows = []
    for entry in AuditEntry.objects.for_object(resident).select_related("actor"):
        changes = []
        for field, values in (entry.changes or {}).items():
            if field == "status" and isinstance(values, list):
                old, new = (labels.get(v, v or "—") for v in values)
                changes.append(f"参保状态：{old} → {new}")
            else:
                changes.append(f"{field}：{values}")
        rows.append({"entry": entry, "changes": "；".join(changes)})
    return rows
