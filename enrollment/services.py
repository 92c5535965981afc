"""Rules and writes about residents; every interface calls these."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from enrollment.models import Resident
from pension.models import User
from pension.services import audit_record


class ResidentStatusConflict(Exception):
    """The resident's status changed under us (a retry or a double click); nothing was written."""


def resident_change_status(
    *,
    resident: Resident,
    new_status: str,
    reason: str,
    actor: User | None,
    on: datetime.date | None = None,
    exclusion: str = "",
) -> Resident:
    """Move a resident to `new_status`, guarded on the status we read, and audit it."""
    if new_status not in Resident.Status.values:
        raise ValueError(f"未知的参保状态：{new_status}")
    if new_status == Resident.Status.EXCLUDED and not exclusion:
        raise ValueError("不属参保范围必须注明原因")
    old_status = resident.status
    on = on or timezone.localdate()
    with transaction.atomic():
        changed = Resident.objects.filter(pk=resident.pk, status=old_status).update(
            status=new_status,
            status_reason=reason,
            status_date=on,
            exclusion=exclusion if new_status == Resident.Status.EXCLUDED else "",
            updated_at=timezone.now(),
        )
        if changed != 1:
            raise ResidentStatusConflict(f"{resident.name} 的参保状态已被他人修改，请刷新后重试")
        audit_record(
            actor=actor,
            action="resident.status",
            target=resident,
            region_code=resident.village_id,
            changes={"status": [old_status, new_status]},
            note=reason,
        )
    resident.refresh_from_db()
    return resident
