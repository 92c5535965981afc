"""Working through findings (疑点), sealing (封存) and cancelling the deceased."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from enrollment.models import Finding, Resident
from enrollment.services.residents import ResidentStatusConflict, resident_change_status
from pension.models import AuditEntry, User
from pension.services import audit_record_bulk
from pension.staging import execute

SEALABLE = {
    Resident.Status.ELIGIBLE,
    Resident.Status.ENROLLED,
    Resident.Status.NOT_ELIGIBLE,
}


class FindingError(Exception):
    """A finding action that cannot be done; the message says why in Chinese."""


def _may_manage(actor: User, region_code: str) -> None:
    """The page, a command and any later API share this rule: county and township staff act
    on people inside their own region only."""
    if not actor.can_manage_residents:
        raise FindingError(_("您的岗位无权执行此操作"))
    if not actor.can_see_region(region_code):
        raise FindingError(_("该人员不在您的辖区内"))


def finding_resolve(*, finding: Finding, note: str, actor: User) -> Finding:
    """Close one open finding with the clerk's note; a second click changes nothing."""
    resolved = findings_resolve(
        findings=Finding.objects.filter(pk=finding.pk), note=note, actor=actor
    )
    if not resolved:
        raise FindingError(_("该疑点已处理，无需重复处理"))
    finding.refresh_from_db()
    return finding


def findings_resolve(*, findings: QuerySet[Finding], note: str, actor: User) -> int:
    """Close every open finding of `findings` in one statement; returns how many closed."""
    note = (note or "").strip()
    if not note:
        raise FindingError(_("请填写处理意见"))
    if not actor.can_manage_residents:
        raise FindingError(_("您的岗位无权执行此操作"))
    now = timezone.now()
    with transaction.atomic():
        targets = list(findings.visible_to(actor).open().values_list("pk", "region_id"))
        closed = Finding.objects.filter(
            pk__in=[pk for pk, _ in targets], status=Finding.Status.OPEN
        ).update(
            status=Finding.Status.RESOLVED,
            resolution_note=note[:300],
            resolved_by=actor,
            resolved_at=now,
        )
        audit_record_bulk(
            actor=actor,
            action="finding.resolve",
            target_type="enrollment.finding",
            rows=((str(pk), region, {"status": ["open", "resolved"]}) for pk, region in targets),
            note=note[:200],
        )
    return closed


def resident_seal(
    *,
    resident: Resident,
    reason: str,
    actor: User,
    note: str = "",
    on: datetime.date | None = None,
    finding: Finding | None = None,
) -> Resident:
    """Set a resident aside without deleting (DESIGN §6 rule 8); they leave progress."""
    _may_manage(actor, resident.village_id)
    if reason not in Resident.SealReason.values:
        raise FindingError(_("封存原因应为：外嫁未迁户口、失联或空挂户"))
    if resident.status not in SEALABLE:
        raise FindingError(
            _("%(status)s的人员不能封存") % {"status": resident.get_status_display()}
        )
    label = str(Resident.SealReason(reason).label)
    label_and_note = _("%(reason)s：%(note)s") % {"reason": label, "note": note} if note else label
    with transaction.atomic():
        try:
            resident_change_status(
                resident=resident,
                new_status=Resident.Status.SEALED,
                reason=label_and_note[:200],
                actor=actor,
                on=on,
            )
        except ResidentStatusConflict as exc:
            raise FindingError(str(exc)) from None
        if finding is not None:
            Finding.objects.filter(pk=finding.pk, status=Finding.Status.OPEN).update(
                status=Finding.Status.SEALED,
                resolution_note=_("已封存：%(reason)s") % {"reason": label},
                resolved_by=actor,
                resolved_at=timezone.now(),
            )
    return resident


def resident_unseal(*, resident: Resident, actor: User, note: str = "") -> Resident:
    """Undo a sealing: the resident returns to the status they had before it."""
    _may_manage(actor, resident.village_id)
    if resident.status != Resident.Status.SEALED:
        raise FindingError(_("该人员未封存"))
    last_seal = (
        AuditEntry.objects.for_object(resident)
        .filter(action="resident.status", changes__status__1=Resident.Status.SEALED)
        .order_by("-at", "-id")
        .first()
    )
    previous = Resident.Status.ELIGIBLE
    if last_seal is not None and last_seal.changes["status"][0] in SEALABLE:
        previous = last_seal.changes["status"][0]
    try:
        return resident_change_status(
            resident=resident,
            new_status=previous,
            reason=(_("解除封存：%(note)s") % {"note": note} if note else _("解除封存"))[:200],
            actor=actor,
        )
    except ResidentStatusConflict as exc:
        raise FindingError(str(exc)) from None


def resident_cancel(*, resident: Resident, actor: User, note: str = "") -> Resident:
    """Cancel a deceased resident's record (注销) and close their deceased finding."""
    _may_manage(actor, resident.village_id)
    if resident.status != Resident.Status.DECEASED:
        raise FindingError(_("只有“死亡待注销”的人员可以注销"))
    with transaction.atomic():
        try:
            resident_change_status(
                resident=resident,
                new_status=Resident.Status.CANCELLED,
                reason=(_("死亡注销：%(note)s") % {"note": note} if note else _("死亡注销"))[:200],
                actor=actor,
            )
        except ResidentStatusConflict as exc:
            raise FindingError(str(exc)) from None
        Finding.objects.filter(
            resident=resident, kind=Finding.Kind.DECEASED, status=Finding.Status.OPEN
        ).update(
            status=Finding.Status.RESOLVED,
            resolution_note=_("已注销"),
            resolved_by=actor,
            resolved_at=timezone.now(),
        )
    return resident


def sql_message(message: str, **columns: str) -> tuple[str, list[str]]:
    """A translated message with `%(name)s` placeholders as an SQL expression that fills each
    placeholder from the column expression given for its name: (the expression, its
    parameters, in the order they appear), so that a set-based statement writes the message
    in the language active when it runs."""
    expression, params = "%s", [message]
    for name, column in columns.items():
        expression = f"replace({expression}, %s, {column})"
        params.append(f"%({name})s")
    return expression, params


def findings_raise(*, kind: str, source: str, select_sql: str, params: list) -> int:
    """Raise findings in one statement from `select_sql`, which yields the columns
    (id_number, name, resident_id, region_id, detail); returns how many were raised.

    A finding of the same kind already open for the ID number is left alone: the partial unique
    index on open findings decides (ON CONFLICT), which stays fast on a large table, where a
    NOT EXISTS probe per row was not.
    """
    return execute(
        f"""
        INSERT INTO enrollment_finding
            (kind, status, id_number, name, resident_id, region_id, detail, source,
             resolution_note, created_at)
        SELECT %s, 'open', c.id_number, c.name, c.resident_id, c.region_id, c.detail, %s,
               '', %s
        FROM ({select_sql}) c
        WHERE true
        ON CONFLICT (kind, id_number) WHERE status = 'open' DO NOTHING
        """,  # noqa: S608 - the select is ours; values are parameters
        [kind, source, timezone.now(), *params],
    )
