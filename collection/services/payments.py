"""The payment ledger: recording personal, proxy and back payments, and reversing them."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from collection.models import Payment
from collection.services.schedules import (
    TierRefused,
    resident_qualifies_for_proxy,
    schedule_for,
    tier_for,
)
from enrollment.models import BENEFIT_AGE, ENROLMENT_AGE, Resident
from pension.idnumber import age_on
from pension.models import User
from pension.money import InvalidAmount, parse_amount
from pension.services import audit_record


class PaymentRejected(Exception):
    """A payment that breaks a rule; the message is for the clerk, in Chinese."""


# --- payments ----------------------------------------------------------------------------


def payment_record(
    *,
    resident: Resident,
    contribution_year: int,
    amount: object,
    kind: str,
    channel: str,
    source: str,
    voucher_no: str,
    paid_at: datetime.datetime | None = None,
    recorded_by: User | None = None,
    note: str = "",
) -> tuple[Payment, bool]:
    """Record one payment; returns (payment, created).

    Idempotent by (source, voucher number): sending the same voucher again returns the stored
    payment when the content agrees and is refused when it does not. The unique constraint, not
    this function, is what holds under concurrency.
    """
    voucher_no = (voucher_no or "").strip()
    if not voucher_no:
        raise PaymentRejected("凭证号不能为空")
    try:
        value = parse_amount(amount)
    except InvalidAmount as exc:
        raise PaymentRejected(str(exc)) from None

    existing = Payment.objects.filter(source=source, voucher_no=voucher_no).first()
    if existing is not None:
        return _same_voucher(existing, resident, contribution_year, value), False

    paid_at = paid_at or timezone.now()
    subsidy = _check_rules(
        resident=resident, year=contribution_year, amount=value, kind=kind, on=paid_at.date()
    )
    try:
        with transaction.atomic():
            # One resident's payments are recorded one at a time, so that two counters cannot
            # both record "the first" personal payment of a year.
            Resident.objects.select_for_update().filter(pk=resident.pk).first()
            duplicate_of = _counted_payment_of_the_year(resident, contribution_year, kind)
            payment = Payment.objects.create(
                resident=resident,
                contribution_year=contribution_year,
                amount=value,
                subsidy=Decimal("0.00") if duplicate_of else subsidy,
                kind=kind,
                channel=channel,
                source=source,
                voucher_no=voucher_no,
                paid_at=paid_at,
                recorded_by=recorded_by,
                duplicate_of=duplicate_of,
                note=note,
            )
            audit_record(
                actor=recorded_by,
                action="payment.record",
                target=payment,
                region_code=resident.village_id,
                changes={
                    "resident": resident.id_number,
                    "year": contribution_year,
                    "amount": str(value),
                    "kind": kind,
                    "voucher_no": voucher_no,
                    **({"duplicate_of": duplicate_of.voucher_no} if duplicate_of else {}),
                },
                note="重复缴费，待退费" if duplicate_of else "",
            )
    except IntegrityError:
        # Another request stored the same voucher between our look-up and our insert.
        existing = Payment.objects.get(source=source, voucher_no=voucher_no)
        return _same_voucher(existing, resident, contribution_year, value), False
    return payment, True


def _same_voucher(existing: Payment, resident: Resident, year: int, amount: Decimal) -> Payment:
    if (existing.resident_id, existing.contribution_year, existing.amount) != (
        resident.pk,
        year,
        amount,
    ):
        raise PaymentRejected(f"凭证号 {existing.voucher_no} 已登记为另一笔缴费，内容不一致")
    return existing


def _counted_payment_of_the_year(resident: Resident, year: int, kind: str) -> Payment | None:
    """The payment a new one would duplicate (DESIGN §6 rules 3 and 4), or None.

    A second normal personal payment of a year is stored as a duplicate awaiting refund; a
    second proxy payment is refused outright, since the government pays once.
    """
    if kind not in (Payment.Kind.PERSONAL, Payment.Kind.PROXY):
        return None
    first = (
        Payment.objects.counted()
        .filter(resident=resident, contribution_year=year, kind=kind)
        .order_by("paid_at", "id")
        .first()
    )
    if first is not None and kind == Payment.Kind.PROXY:
        raise PaymentRejected(
            f"{resident.name} {year} 年度已有政府代缴记录"
            f"（凭证号 {first.voucher_no}），不能重复代缴"
        )
    return first


def _check_rules(
    *, resident: Resident, year: int, amount: Decimal, kind: str, on: datetime.date
) -> Decimal:
    """Tier, proxy and back-payment rules (DESIGN §6 rules 2, 3, 5); returns the subsidy."""
    if kind == Payment.Kind.BACK:
        _check_back_payment(resident=resident, year=year, on=on)
    if kind == Payment.Kind.PROXY:
        schedule = schedule_for(province_code=resident.village_id[:2], year=year)
        if schedule is None:
            raise PaymentRejected(f"{year} 年度尚未配置该省的缴费方案")
        if amount != schedule.proxy_amount:
            raise PaymentRejected(f"政府代缴金额应为 {schedule.proxy_amount} 元")
        if not resident_qualifies_for_proxy(resident=resident, schedule=schedule):
            raise PaymentRejected(f"{resident.name} 不属于 {year} 年度政府代缴对象")
        return Decimal("0.00")
    try:
        _, tier = tier_for(resident=resident, year=year, amount=amount)
    except TierRefused as exc:
        raise PaymentRejected(str(exc)) from None
    if kind == Payment.Kind.BACK:
        return Decimal("0.00")
    return tier.subsidy


def _check_back_payment(*, resident: Resident, year: int, on: datetime.date) -> None:
    """补缴: for a past year, after enrolment, before the resident turns 60."""
    if year >= on.year:
        raise PaymentRejected(f"补缴只能补以前年度，{year} 年度不是以前年度")
    if resident.status not in (Resident.Status.ENROLLED,):
        raise PaymentRejected(
            f"{resident.name} 当前状态为“{resident.get_status_display()}”，参保后才能补缴"
        )
    if year < resident.birth_date.year + ENROLMENT_AGE:
        raise PaymentRejected(
            f"{year} 年 {resident.name} 未满 {ENROLMENT_AGE} 周岁，不能补缴该年度"
        )
    if age_on(resident.birth_date, on) >= BENEFIT_AGE:
        raise PaymentRejected(f"{resident.name} 已年满 {BENEFIT_AGE} 周岁，不能再补缴")


def payment_reverse(
    *, payment: Payment, voucher_no: str, reason: str, recorded_by: User | None = None
) -> Payment:
    """A linked entry that cancels `payment`; the original row is never touched."""
    if payment.is_reversal:
        raise PaymentRejected("冲正记录不能再次冲正")
    if not reason.strip():
        raise PaymentRejected("冲正必须填写原因")
    if Payment.objects.filter(reverses=payment).exists():
        raise PaymentRejected(f"凭证号 {payment.voucher_no} 的缴费已被冲正")
    try:
        with transaction.atomic():
            reversal = Payment.objects.create(
                resident_id=payment.resident_id,
                contribution_year=payment.contribution_year,
                amount=-payment.amount,
                subsidy=-payment.subsidy,
                kind=payment.kind,
                channel=payment.channel,
                source=payment.source,
                voucher_no=voucher_no,
                paid_at=timezone.now(),
                recorded_by=recorded_by,
                reverses=payment,
                note=reason,
            )
            audit_record(
                actor=recorded_by,
                action="payment.reverse",
                target=reversal,
                region_code=payment.resident.village_id,
                changes={"reverses": payment.voucher_no, "amount": str(reversal.amount)},
                note=reason,
            )
    except IntegrityError:
        raise PaymentRejected(f"凭证号 {payment.voucher_no} 的缴费已被冲正") from None
    return reversal
