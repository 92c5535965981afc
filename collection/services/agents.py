"""Village agents (代收协办员): the cash they collect, its remittance at the bank (结报缴销), and
the daily 双限 check (DESIGN §6 rule 11: at most 10 days and 10,000 yuan held, *config*).

The pages, the daily task and the 代办情况登记表 export call these functions; reads that those
interfaces share are the selector functions at the end of this module.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Max, Min, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from collection.models import CashLimitBreach, CashReceipt, ContributionSchedule, Remittance
from collection.services.schedules import TierRefused, tier_for
from enrollment.models import Resident
from pension.models import Region, User
from pension.money import ZERO, InvalidAmount, parse_amount
from pension.services import audit_record

# Used when a province has no schedule for the year yet; the same values as the model defaults.
DEFAULT_LIMIT_DAYS = 10
DEFAULT_LIMIT_AMOUNT = Decimal("10000.00")


class AgentCashRejected(Exception):
    """A cash receipt or remittance that breaks a rule; the message is for the clerk, in Chinese."""


# --- cash receipts ---------------------------------------------------------------------------


def cash_receipt_record(
    *,
    agent: User,
    resident: Resident,
    contribution_year: int,
    amount: object,
    collected_on: datetime.date,
    receipt_no: str,
    recorded_by: User | None = None,
) -> tuple[CashReceipt, bool]:
    """Record cash an agent collected from a resident; returns (receipt, created).

    Idempotent by (agent, receipt number): the same receipt sent again returns the stored one,
    the same number with other content is refused. The unique constraint holds under concurrency.
    """
    receipt_no = (receipt_no or "").strip()
    if not receipt_no:
        raise AgentCashRejected("收据号不能为空")
    try:
        value = parse_amount(amount)
    except InvalidAmount as exc:
        raise AgentCashRejected(f"金额：{exc}") from None
    if agent.role != User.Role.AGENT:
        raise AgentCashRejected(f"{agent.display_name} 不是村协办员，不能登记代收现金")

    existing = CashReceipt.objects.filter(agent=agent, receipt_no=receipt_no).first()
    if existing is not None:
        return _same_receipt(existing, resident, contribution_year, value, collected_on), False

    if not agent.villages.filter(code=resident.village_id).exists():
        raise AgentCashRejected(f"参保人 {resident.name} 不在您负责的村，不能代收其缴费")
    if collected_on > timezone.localdate():
        raise AgentCashRejected(f"收款日期 {collected_on:%Y-%m-%d} 不能晚于今天")
    _check_tier(resident=resident, year=contribution_year, amount=value)
    try:
        with transaction.atomic():
            receipt = CashReceipt.objects.create(
                agent=agent,
                resident=resident,
                contribution_year=contribution_year,
                amount=value,
                collected_on=collected_on,
                receipt_no=receipt_no,
            )
            audit_record(
                actor=recorded_by or agent,
                action="cash_receipt.record",
                target=receipt,
                region_code=resident.village_id,
                changes={
                    "agent": agent.username,
                    "resident": resident.id_number,
                    "year": contribution_year,
                    "amount": str(value),
                    "collected_on": collected_on.isoformat(),
                    "receipt_no": receipt_no,
                },
            )
    except IntegrityError:
        # Another request stored the same receipt number between our look-up and our insert.
        existing = CashReceipt.objects.get(agent=agent, receipt_no=receipt_no)
        return _same_receipt(existing, resident, contribution_year, value, collected_on), False
    return receipt, True


def _same_receipt(
    existing: CashReceipt,
    resident: Resident,
    year: int,
    amount: Decimal,
    collected_on: datetime.date,
) -> CashReceipt:
    stored = (existing.resident_id, existing.contribution_year, existing.amount)
    if stored != (resident.pk, year, amount) or existing.collected_on != collected_on:
        raise AgentCashRejected(f"收据号 {existing.receipt_no} 已登记为另一笔代收，内容不一致")
    return existing


def _check_tier(*, resident: Resident, year: int, amount: Decimal) -> None:
    """DESIGN §6 rule 2: the amount is a tier of the resident's schedule for the year."""
    try:
        tier_for(resident=resident, year=year, amount=amount)
    except TierRefused as exc:
        raise AgentCashRejected(f"金额：{exc}") from None


# --- remittances -----------------------------------------------------------------------------


def remittance_record(
    *,
    agent: User,
    amount: object,
    remitted_on: datetime.date,
    bank_voucher: str,
    receipts: Iterable[CashReceipt | int],
    recorded_by: User | None,
) -> tuple[Remittance, bool]:
    """Record cash paid in at the bank and mark the receipts it covers; returns (remittance,
    created). The receipts must be the agent's own, not yet remitted, and sum to the amount."""
    bank_voucher = (bank_voucher or "").strip()
    if not bank_voucher:
        raise AgentCashRejected("银行凭证号不能为空")
    try:
        value = parse_amount(amount)
    except InvalidAmount as exc:
        raise AgentCashRejected(f"缴销金额：{exc}") from None
    ids = sorted({r.pk if isinstance(r, CashReceipt) else int(r) for r in receipts})

    existing = Remittance.objects.filter(bank_voucher=bank_voucher).first()
    if existing is not None:
        return _same_remittance(existing, agent, value, ids), False

    if not ids:
        raise AgentCashRejected("请选择本次缴销的收据")
    if remitted_on > timezone.localdate():
        raise AgentCashRejected(f"缴销日期 {remitted_on:%Y-%m-%d} 不能晚于今天")
    try:
        with transaction.atomic():
            rows = list(
                CashReceipt.objects.select_for_update()
                .filter(pk__in=ids)
                .select_related("resident")
                .order_by("pk")
            )
            _check_receipts(agent=agent, ids=ids, rows=rows, amount=value)
            remittance = Remittance.objects.create(
                agent=agent,
                amount=value,
                remitted_on=remitted_on,
                bank_voucher=bank_voucher,
                recorded_by=recorded_by,
            )
            linked = CashReceipt.objects.filter(
                pk__in=ids, agent=agent, remittance__isnull=True
            ).update(remittance=remittance)
            if linked != len(ids):
                raise AgentCashRejected("所选收据已被其他缴销记录使用，请刷新后重试")
            audit_record(
                actor=recorded_by,
                action="remittance.record",
                target=remittance,
                region_code=_common_prefix([row.resident.village_id for row in rows]),
                changes={
                    "agent": agent.username,
                    "amount": str(value),
                    "remitted_on": remitted_on.isoformat(),
                    "bank_voucher": bank_voucher,
                    "receipts": [row.receipt_no for row in rows],
                },
            )
    except IntegrityError:
        existing = Remittance.objects.get(bank_voucher=bank_voucher)
        return _same_remittance(existing, agent, value, ids), False
    return remittance, True


def _check_receipts(
    *, agent: User, ids: list[int], rows: list[CashReceipt], amount: Decimal
) -> None:
    if len(rows) != len(ids) or any(row.agent_id != agent.pk for row in rows):
        raise AgentCashRejected("所选收据中有不属于该协办员的收据")
    remitted = [row.receipt_no for row in rows if row.remittance_id is not None]
    if remitted:
        raise AgentCashRejected(f"收据 {'、'.join(remitted)} 已经缴销，不能重复缴销")
    total = sum((row.amount for row in rows), ZERO)
    if total != amount:
        direction = "多" if amount > total else "少"
        raise AgentCashRejected(
            f"缴销金额：{amount} 元与所选收据合计 {total} 元不符，"
            f"{direction} {abs(amount - total)} 元"
        )


def _same_remittance(
    existing: Remittance, agent: User, amount: Decimal, ids: list[int]
) -> Remittance:
    covered = sorted(existing.receipts.values_list("pk", flat=True))
    if (existing.agent_id, existing.amount, covered) != (agent.pk, amount, ids):
        raise AgentCashRejected(f"银行凭证号 {existing.bank_voucher} 已登记为另一笔缴销")
    return existing


def _common_prefix(codes: list[str]) -> str:
    """The narrowest region holding every code: the audit row of a remittance that spans two
    villages belongs to their township."""
    if not codes:
        return ""
    first, last = min(codes), max(codes)
    size = 0
    while size < len(first) and first[size] == last[size]:
        size += 1
    return next((first[:n] for n in (12, 9, 6, 4, 2) if n <= size), "")


# --- 双限 ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    days: int
    amount: Decimal


def _limits(province_code: str, year: int) -> Limits:
    schedule = (
        ContributionSchedule.objects.for_province_year(province_code, year)
        .only("cash_limit_days", "cash_limit_amount")
        .first()
    )
    return _limits_of(schedule)


def _limits_of(schedule: ContributionSchedule | None) -> Limits:
    if schedule is None:
        return Limits(DEFAULT_LIMIT_DAYS, DEFAULT_LIMIT_AMOUNT)
    return Limits(schedule.cash_limit_days, schedule.cash_limit_amount)


def cash_limits_check(*, day: datetime.date) -> list[CashLimitBreach]:
    """Every agent over a 双限 limit on `day`, recorded once per agent, day and limit.

    Held cash is what was collected on or before `day` and is not yet remitted. An agent is in
    breach when the oldest such receipt is more than the schedule's days old (10 days old is
    still within the limit) or the total exceeds its amount (10,000.00 is still within). The
    limits are those of the province and contribution year of the agent's receipts; running
    the check again for the same day records nothing new.
    """
    held = (
        CashReceipt.objects.unremitted()
        .filter(collected_on__lte=day)
        .values("agent_id")
        .annotate(
            oldest=Min("collected_on"),
            total=Sum("amount"),
            year=Max("contribution_year"),
            village=Min("resident__village_id"),
        )
        .order_by("agent_id")
    )
    rows = list(held)
    schedules = {
        (schedule.province_id, schedule.year): schedule
        for schedule in ContributionSchedule.objects.filter(
            year__in={row["year"] for row in rows},
            province_id__in={row["village"][:2] for row in rows},
        ).only("province_id", "year", "cash_limit_days", "cash_limit_amount")
    }
    found: list[CashLimitBreach] = []
    for row in rows:
        limits = _limits_of(schedules.get((row["village"][:2], row["year"])))
        kinds = []
        if (day - row["oldest"]).days > limits.days:
            kinds.append(CashLimitBreach.Kind.DAYS)
        if row["total"] > limits.amount:
            kinds.append(CashLimitBreach.Kind.AMOUNT)
        found.extend(
            CashLimitBreach(
                agent_id=row["agent_id"],
                day=day,
                kind=kind,
                oldest_collected_on=row["oldest"],
                unremitted=row["total"],
            )
            for kind in kinds
        )
    with transaction.atomic():
        CashLimitBreach.objects.bulk_create(found, ignore_conflicts=True)
    return found


# --- selectors -------------------------------------------------------------------------------


def agents_visible_to(user: User) -> QuerySet[User]:
    """Agents a user may look at: an agent only themselves; staff the agents with a village in
    their region. The one place the pages and the export take their agents from."""
    agents = User.objects.filter(role=User.Role.AGENT, is_active=True)
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return agents.none()
    if user.is_superuser:
        return agents
    if user.role == User.Role.AGENT:
        return agents.filter(pk=user.pk)
    codes = user.scope_codes()
    if not codes:
        return agents.none()
    return agents.filter(pk__in=agents_in_region_ids(codes))


def agents_in_region_ids(codes: Iterable[str]) -> QuerySet:
    villages = Region.objects.in_any_region(codes).filter(level=Region.Level.VILLAGE)
    return User.villages.through.objects.filter(region__in=villages).values("user_id")


def agent_villages(*, agent: User) -> QuerySet[Region]:
    return agent.villages.select_related("parent").order_by("code")


def agent_cash_on_hand(*, agent: User) -> Decimal:
    """Cash collected and not yet remitted."""
    return (
        CashReceipt.objects.filter(agent=agent)
        .unremitted()
        .aggregate(total=Coalesce(Sum("amount"), ZERO))["total"]
    )


def agent_oldest_unremitted(*, agent: User) -> CashReceipt | None:
    return (
        CashReceipt.objects.filter(agent=agent)
        .unremitted()
        .select_related("resident")
        .order_by("collected_on", "pk")
        .first()
    )


@dataclass(frozen=True)
class CashPosition:
    """What an agent holds on a day and how close it is to the 双限 limits."""

    on_hand: Decimal
    oldest: CashReceipt | None
    limits: Limits
    day: datetime.date

    @property
    def days_left(self) -> int | None:
        """Days until the oldest receipt breaks the day limit; negative once it has."""
        if self.oldest is None:
            return None
        return self.limits.days - (self.day - self.oldest.collected_on).days

    @property
    def days_over(self) -> int:
        left = self.days_left
        return -left if left is not None and left < 0 else 0

    @property
    def amount_left(self) -> Decimal:
        return self.limits.amount - self.on_hand

    @property
    def in_breach(self) -> bool:
        return (self.days_left is not None and self.days_left < 0) or self.amount_left < 0


def agent_cash_position(*, agent: User, day: datetime.date | None = None) -> CashPosition:
    day = day or timezone.localdate()
    oldest = agent_oldest_unremitted(agent=agent)
    if oldest is not None:
        limits = _limits(oldest.resident.village_id[:2], oldest.contribution_year)
    else:
        village = agent.villages.order_by("code").values_list("code", flat=True).first()
        limits = _limits(village[:2], day.year) if village else _limits_of(None)
    return CashPosition(
        on_hand=agent_cash_on_hand(agent=agent), oldest=oldest, limits=limits, day=day
    )


def cash_breaches_latest(*, user: User) -> QuerySet[CashLimitBreach]:
    """Breaches of the latest checked day among the agents the user may see."""
    breaches = CashLimitBreach.objects.filter(agent__in=agents_visible_to(user))
    latest = breaches.aggregate(day=Max("day"))["day"]
    if latest is None:
        return breaches.none()
    return (
        breaches.filter(day=latest)
        .select_related("agent")
        .prefetch_related("agent__villages")
        .order_by("agent__username", "kind")
    )


def agent_register_agents(*, agents: QuerySet[User]) -> QuerySet[User]:
    """代办情况登记表: each agent with collected, remitted and outstanding cash.

    The sums are annotated on a query without the villages join, so that an agent with two
    villages is not counted twice; the villages come from a prefetch.
    """
    return (
        User.objects.filter(pk__in=agents.values("pk"))
        .annotate(
            collected=Coalesce(Sum("cash_receipts__amount"), ZERO),
            remitted=Coalesce(
                Sum("cash_receipts__amount", filter=Q(cash_receipts__remittance__isnull=False)),
                ZERO,
            ),
        )
        .select_related("agent_profile")
        .prefetch_related("villages")
        .order_by("username")
    )


def agents_with_cash(*, agents: QuerySet[User]) -> QuerySet[User]:
    """The agents of a list page, each with cash on hand and the date of the oldest receipt."""
    unremitted = Q(cash_receipts__remittance__isnull=True)
    return (
        User.objects.filter(pk__in=agents.values("pk"))
        .annotate(
            on_hand=Coalesce(Sum("cash_receipts__amount", filter=unremitted), ZERO),
            oldest_on=Min("cash_receipts__collected_on", filter=unremitted),
        )
        .prefetch_related("villages")
        .order_by("username")
    )
