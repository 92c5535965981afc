"""Resolving a reconciliation discrepancy: post the missing payment, link the money to the right
resident, refund it, or accept the difference with a note (issue 5 item 4).

Every resolution goes through the collection services, so a posted or refunded payment obeys
the same rules (tiers, duplicates, idempotency by voucher) as one taken at the counter. The page
shows the forms `discrepancy_actions` lists and `discrepancy_resolve` refuses anything else, so
the two can never disagree.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from collection.models import Payment
from collection.services.payments import PaymentRejected, payment_record, payment_reverse
from collection.services.schedules import TierRefused, tier_for
from enrollment.models import Resident
from pension.models import User
from pension.services import audit_record
from reconciliation.models import Discrepancy, SyncedRecord

Resolution = Discrepancy.Resolution
Category = Discrepancy.Category

# Money the tax bureau collected that the system should hold: the cases a posting can close.
POSTING_CATEGORIES = (Category.TAX_NOT_POSTED, Category.ID_MISMATCH, Category.NOT_A_TIER)
REFUND_CATEGORIES = (Category.DUPLICATE, Category.POSTED_NO_TAX)
NOTE_MAX = 200


class ResolutionRefused(Exception):
    """A resolution that breaks a rule; the message is for the clerk, in Chinese."""


@dataclass
class _Case:
    """What a discrepancy's records say about the money, read once per decision."""

    amount: Decimal | None
    year: int | None
    paid_on: datetime.date | None
    kind: str
    channel: str
    synced: SyncedRecord | None
    resident: Resident | None  # the resident the record's ID number names, if on file
    refund_payment: Payment | None


def _case(discrepancy: Discrepancy) -> _Case:
    tax, synced = discrepancy.tax_line, discrepancy.synced_record
    voucher = discrepancy.voucher_no
    if synced is None and voucher:
        # The sync API and the statement share the voucher: a record held by the API may not
        # have been linked to a case found from the statement.
        synced = SyncedRecord.objects.filter(
            voucher_no=voucher, county_id=discrepancy.county_id
        ).first()
    source = synced or tax
    amount = discrepancy.tax_amount
    if amount is None and source is not None:
        amount = source.amount
    year = discrepancy.contribution_year or (source.contribution_year if source else None)
    paid_on = source.paid_on if source is not None else None
    if synced is not None:
        kind = Payment.Kind.BACK if synced.kind == SyncedRecord.Kind.BACK else Payment.Kind.PERSONAL
        channel = synced.channel
    else:
        # A statement line carries no kind; money paid for a year before the year it was paid
        # in is a back payment, since every schedule's window lies inside its own year.
        back = year is not None and paid_on is not None and year < paid_on.year
        kind = Payment.Kind.BACK if back else Payment.Kind.PERSONAL
        channel = Payment.Channel.TAX_HALL
    resident = None
    if discrepancy.id_number:
        resident = (
            Resident.objects.filter(id_number=discrepancy.id_number)
            .select_related("village")
            .first()
        )
    return _Case(
        amount=amount,
        year=year,
        paid_on=paid_on,
        kind=kind,
        channel=channel,
        synced=synced,
        resident=resident,
        refund_payment=_refund_payment(discrepancy),
    )


def _refund_payment(discrepancy: Discrepancy) -> Payment | None:
    """The payment a refund reverses: the one the case names, else the one recorded for the
    case's tax voucher (a duplicate found from the tax line)."""
    if discrepancy.category not in REFUND_CATEGORIES:
        return None
    if discrepancy.payment_id is not None:
        return discrepancy.payment
    if not discrepancy.voucher_no:
        return None
    payments = Payment.objects.filter(
        voucher_no=discrepancy.voucher_no,
        reverses__isnull=True,
        resident__village__code__startswith=discrepancy.county_id,
    ).select_related("resident")
    # The same voucher can be on file from two sources; the duplicate is the one to return.
    return payments.order_by(F("duplicate_of_id").desc(nulls_last=True), "-id").first()


def _may_act(user: User, discrepancy: Discrepancy) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.can_manage_residents
        and user.can_see_region(discrepancy.region_code)
    )


def _posting_refusal(
    discrepancy: Discrepancy, case: _Case, resident: Resident | None, user: User
) -> str:
    """Why the case's tax money cannot be posted to `resident` now, or ""."""
    if case.amount is None or case.year is None or case.paid_on is None:
        return _("该差异没有税务征收记录（金额、缴费年度、入库日期），无法补记入账")
    if resident is None:
        return _(
            "证件号码 %(number)s 不在册，无法补记入账；请用“关联到正确的参保人”或核实后说明确认"
        ) % {"number": discrepancy.id_number or _("（空）")}
    if not user.can_see_region(resident.village_id):
        return _("证件号码 %(number)s 的参保人不在您的辖区，不能补记入账") % {
            "number": discrepancy.id_number
        }
    if discrepancy.category == Category.ID_MISMATCH and resident.name != discrepancy.name:
        return _(
            "税务记录姓名“%(name)s”与在册姓名“%(registered)s”仍不一致："
            "请先核实更正，或关联到正确的参保人"
        ) % {"name": discrepancy.name, "registered": resident.name}
    if discrepancy.category == Category.NOT_A_TIER:
        try:
            tier_for(resident=resident, year=case.year, amount=case.amount)
        except TierRefused as exc:
            return _("%(reason)s：请先核实缴费方案或由税务部门更正，或说明后确认") % {"reason": exc}
    return ""


def _refusal(*, discrepancy: Discrepancy, resolution: str, user: User, case: _Case) -> str:
    """Why `user` may not resolve the case this way, or ""."""
    if not _may_act(user, discrepancy):
        return _("只有本辖区的县、乡镇经办人员可以处理对账差异")
    if discrepancy.status != Discrepancy.Status.OPEN:
        return _("该差异状态为“%(status)s”，不能再处理") % {
            "status": discrepancy.get_status_display()
        }
    label = discrepancy.get_category_display()
    if resolution == Resolution.POSTED:
        if discrepancy.category not in POSTING_CATEGORIES:
            return _("“%(category)s”的差异不能补记入账") % {"category": label}
        return _posting_refusal(discrepancy, case, case.resident, user)
    if resolution == Resolution.LINKED:
        if discrepancy.category != Category.ID_MISMATCH:
            return _("只有“%(category)s”的差异可以关联到其他参保人") % {
                "category": Category.ID_MISMATCH.label
            }
        if case.amount is None or case.year is None or case.paid_on is None:
            return _("该差异没有税务征收记录（金额、缴费年度、入库日期），无法关联入账")
        return ""
    if resolution == Resolution.REFUNDED:
        if discrepancy.category not in REFUND_CATEGORIES:
            return _("“%(category)s”的差异不能退费") % {"category": label}
        return ""
    if resolution == Resolution.ACCEPTED:
        return ""
    return _("未知的处理方式：%(resolution)s") % {"resolution": resolution}


def discrepancy_actions(*, discrepancy: Discrepancy, user: User) -> list[str]:
    """The resolutions that fit this case for this user, in the page's order; [] when the user
    may only look (auditors, agents, the tax bureau) or the case is no longer open."""
    if not _may_act(user, discrepancy) or discrepancy.status != Discrepancy.Status.OPEN:
        return []
    case = _case(discrepancy)
    return [
        value
        for value in Resolution.values
        if not _refusal(discrepancy=discrepancy, resolution=value, user=user, case=case)
    ]


def discrepancy_resolve(
    *,
    discrepancy: Discrepancy,
    resolution: str,
    actor: User,
    note: str = "",
    resident: Resident | None = None,
    refund_voucher_no: str = "",
) -> Discrepancy:
    """Close one open case the way the clerk chose; every write in one transaction.

    A second click, or a colleague's click on the same case, finds it no longer open and is
    refused with nothing written twice: the status moves with a guarded UPDATE, and a posting
    or refund made before that UPDATE is rolled back with it.
    """
    note = (note or "").strip()
    refund_voucher_no = (refund_voucher_no or "").strip()
    if len(note) > NOTE_MAX:
        raise ResolutionRefused(_("处理说明最多 %(max)s 个字") % {"max": NOTE_MAX})
    with transaction.atomic():
        current = (
            Discrepancy.objects.select_related("tax_line", "synced_record", "payment")
            .filter(pk=discrepancy.pk)
            .first()
        )
        if current is None:
            raise ResolutionRefused(_("该差异不存在"))
        if current.status != Discrepancy.Status.OPEN:
            raise ResolutionRefused(_already_closed(current))
        case = _case(current)
        reason = _refusal(discrepancy=current, resolution=resolution, user=actor, case=case)
        if reason:
            raise ResolutionRefused(reason)
        changes: dict[str, object] = {"resolution": resolution, "category": current.category}
        payment = None
        if resolution == Resolution.POSTED:
            payment = _post(current, case, case.resident, actor)
            changes["payment"] = payment.voucher_no
        elif resolution == Resolution.LINKED:
            _check_linked_resident(current, case, resident, actor)
            payment = _post(current, case, resident, actor)
            changes.update(payment=payment.voucher_no, resident=resident.id_number)
        elif resolution == Resolution.REFUNDED:
            payment = _refund(current, case, note, refund_voucher_no, actor)
            if payment is not None:
                changes.update(reverses=payment.reverses.voucher_no, refund=payment.voucher_no)
        elif not note:
            raise ResolutionRefused(_("说明后确认必须填写处理说明"))
        now = timezone.now()
        updated = Discrepancy.objects.filter(pk=current.pk, status=Discrepancy.Status.OPEN).update(
            status=Discrepancy.Status.RESOLVED,
            resolution=resolution,
            resolution_note=note,
            resolution_payment=payment,
            resolved_by=actor,
            resolved_at=now,
        )
        if updated != 1:
            current.refresh_from_db()
            raise ResolutionRefused(_already_closed(current))
        audit_record(
            actor=actor,
            action="discrepancy.resolve",
            target=current,
            region_code=current.region_code,
            changes=changes,
            note=note,
        )
    current.refresh_from_db()
    return current


def _already_closed(discrepancy: Discrepancy) -> str:
    if discrepancy.status == Discrepancy.Status.RESOLVED:
        who = discrepancy.resolved_by.display_name if discrepancy.resolved_by else _("他人")
        when = timezone.localtime(discrepancy.resolved_at).strftime("%Y-%m-%d %H:%M")
        return _("该差异已于 %(when)s 由%(who)s处理（%(resolution)s），不能重复处理") % {
            "when": when,
            "who": who,
            "resolution": discrepancy.get_resolution_display(),
        }
    return _("该差异状态为“%(status)s”，不能再处理") % {"status": discrepancy.get_status_display()}


def _check_linked_resident(
    discrepancy: Discrepancy, case: _Case, resident: Resident | None, actor: User
) -> None:
    if resident is None:
        raise ResolutionRefused(_("关联到正确的参保人必须填写该参保人的公民身份号码"))
    if not actor.can_see_region(resident.village_id):
        raise ResolutionRefused(
            _("参保人 %(resident)s 不在您的辖区，不能关联") % {"resident": resident.masked_id}
        )
    if resident.village_id[:6] != discrepancy.county_id:
        raise ResolutionRefused(
            _("参保人 %(resident)s 不在本县（%(county)s），不能关联")
            % {"resident": resident.name, "county": discrepancy.county_id}
        )


def _post(discrepancy: Discrepancy, case: _Case, resident: Resident, actor: User) -> Payment:
    """The tax money as a payment of `resident`; a held synced record becomes posted with it."""
    tz = timezone.get_default_timezone()
    paid_at = datetime.datetime.combine(case.paid_on, datetime.time(12), tzinfo=tz)
    try:
        payment, _created = payment_record(
            resident=resident,
            contribution_year=case.year,
            amount=case.amount,
            kind=case.kind,
            channel=case.channel,
            source=Payment.Source.TAX_SYNC,
            voucher_no=discrepancy.voucher_no,
            paid_at=paid_at,
            recorded_by=actor,
            note=_("对账差异补记入账（%(record)s）") % {"record": discrepancy.record_key},
        )
    except PaymentRejected as exc:
        raise ResolutionRefused(_("不能补记入账：%(reason)s") % {"reason": exc}) from None
    synced = case.synced
    if synced is not None and synced.status == SyncedRecord.Status.HELD:
        moved = SyncedRecord.objects.filter(pk=synced.pk, status=SyncedRecord.Status.HELD).update(
            status=SyncedRecord.Status.POSTED, payment=payment
        )
        if moved:
            audit_record(
                actor=actor,
                action="synced_record.post",
                target=synced,
                region_code=resident.village_id,
                changes={
                    "status": [SyncedRecord.Status.HELD, SyncedRecord.Status.POSTED],
                    "payment": payment.voucher_no,
                    "resident": resident.id_number,
                },
                note=_("对账差异处理：%(category)s")
                % {"category": discrepancy.get_category_display()},
            )
    return payment


def _refund(
    discrepancy: Discrepancy, case: _Case, note: str, voucher_no: str, actor: User
) -> Payment | None:
    """Reverse the payment the case points at; with none on file the decision is the note."""
    payment = case.refund_payment
    if payment is None:
        if not note:
            raise ResolutionRefused(_("系统中没有可冲正的缴费记录：退费必须填写处理说明"))
        return None
    if not voucher_no:
        raise ResolutionRefused(_("退费必须填写退费凭证号"))
    if Payment.objects.filter(source=payment.source, voucher_no=voucher_no).exists():
        raise ResolutionRefused(
            _("退费凭证号 %(voucher)s 已被使用，请核对") % {"voucher": voucher_no}
        )
    why = {"note": note or discrepancy.detail or discrepancy.record_key}
    if discrepancy.category == Category.DUPLICATE:
        reason = _("重复缴费退费：%(note)s") % why
    else:
        reason = _("税务无记录退费：%(note)s") % why
    try:
        return payment_reverse(
            payment=payment,
            voucher_no=voucher_no,
            reason=reason[:NOTE_MAX],
            recorded_by=actor,
        )
    except PaymentRejected as exc:
        raise ResolutionRefused(_("不能退费：%(reason)s") % {"reason": exc}) from None
