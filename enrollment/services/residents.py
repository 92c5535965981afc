"""Rules and writes about residents; every interface calls these."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from enrollment.models import ENROLMENT_AGE, Resident
from pension import idnumber
from pension.models import Region, User
from pension.services import audit_record, audit_record_bulk


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
        raise ValueError(_("未知的参保状态：%(status)s") % {"status": new_status})
    if new_status == Resident.Status.EXCLUDED and not exclusion:
        raise ValueError(_("不属参保范围必须注明原因"))
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
            raise ResidentStatusConflict(
                _("%(name)s 的参保状态已被他人修改，请刷新后重试") % {"name": resident.name}
            )
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


class ResidentRejected(Exception):
    """A resident that cannot be registered; the message names the reason in Chinese."""


def resident_register(
    *,
    id_number: str,
    name: str,
    village: Region,
    group: Region | None = None,
    household_no: str = "",
    phone: str = "",
    actor: User | None,
    on: datetime.date | None = None,
) -> Resident:
    """Put one person on file; sex and birth date come from the ID number, never from input.

    A person of 16 or over on `on` starts as eligible-not-enrolled, a younger one as not yet
    eligible (DESIGN §6 rule 1; exclusions are applied by the department-list comparison).
    """
    on = on or timezone.localdate()
    try:
        parsed = idnumber.parse(id_number, today=on)
    except idnumber.InvalidIDNumber as exc:
        raise ResidentRejected(exc.message) from None
    name = (name or "").strip()
    if not name:
        raise ResidentRejected(_("姓名不能为空"))
    if village.level != Region.Level.VILLAGE:
        raise ResidentRejected(
            _("%(village)s 不是村(社区)，不能作为户籍地") % {"village": village.name}
        )
    if group is not None and group.parent_id != village.code:
        raise ResidentRejected(
            _("%(group)s 不属于 %(village)s") % {"group": group.name, "village": village.name}
        )
    if Resident.objects.filter(id_number=parsed.number).exists():
        raise ResidentRejected(
            _("身份证号码 %(id_number)s 已在册") % {"id_number": idnumber.mask(parsed.number)}
        )
    status = (
        Resident.Status.ELIGIBLE
        if idnumber.age_on(parsed.birth_date, on) >= ENROLMENT_AGE
        else Resident.Status.NOT_ELIGIBLE
    )
    with transaction.atomic():
        resident = Resident.objects.create(
            id_number=parsed.number,
            name=name,
            sex=parsed.sex,
            birth_date=parsed.birth_date,
            village=village,
            group=group,
            household_no=household_no,
            phone=phone,
            status=status,
            status_date=on,
        )
        audit_record(
            actor=actor,
            action="resident.register",
            target=resident,
            region_code=village.code,
            changes={"status": [None, status]},
        )
    return resident


def residents_enrol(
    *, resident_ids: Iterable[int], actor: User | None, reason: str, on: datetime.date | None = None
) -> int:
    """Residents who are eligible and not yet enrolled become enrolled (a first payment, for
    instance); the others are left as they are. Three statements whatever their number: the
    selection, one audit row each in bulk, the guarded update. Returns how many changed."""
    on = on or timezone.localdate()
    eligible = list(
        Resident.objects.filter(pk__in=list(resident_ids), status=Resident.Status.ELIGIBLE)
        .order_by("pk")
        .values_list("pk", "village_id")
    )
    if not eligible:
        return 0
    change = {"status": [Resident.Status.ELIGIBLE, Resident.Status.ENROLLED]}
    audit_record_bulk(
        actor=actor,
        action="resident.status",
        target_type=Resident._meta.label_lower,
        rows=((str(pk), village_id, change) for pk, village_id in eligible),
        note=reason,
    )
    return Resident.objects.filter(
        pk__in=[pk for pk, _ in eligible], status=Resident.Status.ELIGIBLE
    ).update(
        status=Resident.Status.ENROLLED,
        status_reason=reason,
        status_date=on,
        updated_at=timezone.now(),
    )
