"""Rules and writes of the campaign: schedules and the payment ledger.

Pages, the API, commands, tasks and the admin all call these functions; none of them writes a
payment or checks a tier on its own.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

from django.db import IntegrityError, transaction
from django.utils import timezone

from collection.models import ContributionSchedule, Payment, Tier
from enrollment.models import Resident, SpecialGroupMembership
from pension.models import User
from pension.money import InvalidAmount, parse_amount
from pension.services import audit_record

LOWEST_TIER_MIN_SUBSIDY = Decimal("30.00")
HIGH_TIER_THRESHOLD = Decimal("500.00")
HIGH_TIER_MIN_SUBSIDY = Decimal("60.00")


class PaymentRejected(Exception):
    """A payment that breaks a rule; the message is for the clerk, in Chinese."""


# --- schedules ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TierSpec:
    amount: Decimal
    subsidy: Decimal
    government_only: bool = False


def schedule_validate_tiers(*, tiers: Iterable[TierSpec]) -> list[str]:
    """Errors in a tier list under DESIGN §6 rule 6, in Chinese; empty when it is acceptable.

    The subsidy must reach 30 yuan on the lowest tier and 60 yuan from the 500 tier up, and
    must never fall as the tier rises (国发〔2014〕8号).
    """
    ordered = sorted(tiers, key=lambda tier: tier.amount)
    errors: list[str] = []
    if not ordered:
        return ["缴费方案至少需要一个缴费档次"]
    amounts = [tier.amount for tier in ordered]
    for amount in sorted({a for a in amounts if amounts.count(a) > 1}):
        errors.append(f"缴费档次 {amount:.0f} 元重复")
    lowest = ordered[0]
    if lowest.subsidy < LOWEST_TIER_MIN_SUBSIDY:
        errors.append(
            f"最低档次 {lowest.amount:.0f} 元的政府补贴为 {lowest.subsidy} 元，"
            f"不得低于 {LOWEST_TIER_MIN_SUBSIDY:.0f} 元"
        )
    for tier in ordered:
        if tier.amount >= HIGH_TIER_THRESHOLD and tier.subsidy < HIGH_TIER_MIN_SUBSIDY:
            errors.append(
                f"{tier.amount:.0f} 元档次的政府补贴为 {tier.subsidy} 元，"
                f"500 元及以上档次不得低于 {HIGH_TIER_MIN_SUBSIDY:.0f} 元"
            )
    for lower, higher in pairwise(ordered):
        if higher.subsidy < lower.subsidy:
            errors.append(
                f"{higher.amount:.0f} 元档次的补贴（{higher.subsidy} 元）低于 "
                f"{lower.amount:.0f} 元档次（{lower.subsidy} 元），补贴不得随档次提高而降低"
            )
    return errors


def schedule_for(*, province_code: str, year: int) -> ContributionSchedule | None:
    return (
        ContributionSchedule.objects.for_province_year(province_code, year)
        .prefetch_related("tiers", "milestones")
        .first()
    )


def resident_qualifies_for_proxy(*, resident: Resident, schedule: ContributionSchedule) -> bool:
    """In a qualifying group this year, backed by a department list dated in the year."""
    year_end = datetime.date(schedule.year, 12, 31)
    return (
        SpecialGroupMembership.objects.filter(
            resident=resident, category__in=schedule.qualifying_categories or []
        )
        .backed_in_year(schedule.year)
        .filter(valid_from__lte=year_end)
        .exists()
    )


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

    subsidy = _check_rules(resident=resident, year=contribution_year, amount=value, kind=kind)
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                resident=resident,
                contribution_year=contribution_year,
                amount=value,
                subsidy=subsidy,
                kind=kind,
                channel=channel,
                source=source,
                voucher_no=voucher_no,
                paid_at=paid_at or timezone.now(),
                recorded_by=recorded_by,
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
                },
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


def _check_rules(*, resident: Resident, year: int, amount: Decimal, kind: str) -> Decimal:
    """Tier and proxy rules (DESIGN §6 rules 2, 3, 5); returns the government subsidy."""
    schedule = schedule_for(province_code=resident.village_id[:2], year=year)
    if schedule is None:
        raise PaymentRejected(f"{year} 年度尚未配置该省的缴费方案")
    if kind == Payment.Kind.PROXY:
        if amount != schedule.proxy_amount:
            raise PaymentRejected(f"政府代缴金额应为 {schedule.proxy_amount} 元")
        if not resident_qualifies_for_proxy(resident=resident, schedule=schedule):
            raise PaymentRejected(f"{resident.name} 不属于 {year} 年度政府代缴对象")
        return Decimal("0.00")
    tier: Tier | None = next((t for t in schedule.tiers.all() if t.amount == amount), None)
    if tier is None:
        listed = "、".join(f"{t.amount:.0f}" for t in schedule.tiers.all())
        raise PaymentRejected(f"{amount} 元不是 {year} 年度的缴费档次（可选：{listed}）")
    if tier.government_only and not resident_qualifies_for_proxy(
        resident=resident, schedule=schedule
    ):
        raise PaymentRejected(f"{amount:.0f} 元档次仅限政府代缴对象选择")
    if kind == Payment.Kind.BACK:
        return Decimal("0.00")
    return tier.subsidy


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
