"""Village agents (代收协办员): the cash they collect, its remittance at the bank (结报缴销), and
the daily 双限 check (DESIGN §6 rule 11: at most 10 days and 10,000 yuan held, *config*).

The pages, the daily task and the 代办情况登记表 export call these functions; reads that those
interfaces share are the selector functions at the end of this module. The page's list of
agents in breach and the daily task's records come from the same `cash_positions`, so both
give the same answer for the same day.

Cash collected is not a payment: a receipt, remitted or not, counts as collected in cash until
the tax bureau's record of the money arrives as a `Payment` (see `agent_receipts`).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Min, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from collection.models import (
    CashLimitBreach,
    CashReceipt,
    ContributionSchedule,
    Payment,
    Remittance,
)
from collection.services.schedules import TierRefused, tier_for
from enrollment.models import Resident
from pension.models import Region, User
from pension.money import ZERO, InvalidAmount, parse_amount
from pension.services import audit_record, audit_record_bulk, region_holding


class AgentCashRejected(Exception):
    """A cash receipt or remittance that breaks a rule; the message is for the clerk, in Chinese."""


# --- who may record --------------------------------------------------------------------------


def agent_may_record(*, user: User | None, agent: User) -> bool:
    """Receipts and remittances are the agent's own declaration: only the agent records them.
    `None` is the system (a command or an import). The page shows its forms by this rule and
    the services refuse by it, so both give the same answer."""
    if agent.role != User.Role.AGENT or not agent.is_active:
        return False
    return user is None or user.pk == agent.pk


def _check_recorder(*, agent: User, recorded_by: User | None, what: str) -> None:
    """`what` is "receipt" (代收现金) or "remittance" (现金缴销)."""
    if agent.role != User.Role.AGENT or not agent.is_active:
        if what == "receipt":
            message = _("%(agent)s 不是在岗的村协办员，不能登记代收现金")
        else:
            message = _("%(agent)s 不是在岗的村协办员，不能登记现金缴销")
        raise AgentCashRejected(message % {"agent": agent.display_name})
    if not agent_may_record(user=recorded_by, agent=agent):
        if what == "receipt":
            raise AgentCashRejected(_("只有协办员本人可以登记代收现金"))
        raise AgentCashRejected(_("只有协办员本人可以登记现金缴销"))


def _amount(value: object, label: str) -> Decimal:
    try:
        return parse_amount(value)
    except InvalidAmount as exc:
        raise AgentCashRejected(
            _("%(field)s：%(error)s") % {"field": label, "error": exc}
        ) from None


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

    The resident must live in one of the agent's villages and the amount must be a tier of the
    resident's schedule for the year (DESIGN §6 rule 2); a refusal writes nothing. Idempotent by
    (agent, receipt number): the same receipt sent again returns the stored one, the same
    number with other content is refused. The unique constraint holds under concurrency.
    """
    _check_recorder(agent=agent, recorded_by=recorded_by, what="receipt")
    receipt_no = (receipt_no or "").strip()
    if not receipt_no:
        raise AgentCashRejected(_("收据号不能为空"))
    value = _amount(amount, _("金额"))

    existing = CashReceipt.objects.filter(agent=agent, receipt_no=receipt_no).first()
    if existing is not None:
        return _same_receipt(existing, resident, contribution_year, value, collected_on), False

    if not agent.villages.filter(code=resident.village_id).exists():
        raise AgentCashRejected(
            _("参保人 %(name)s 不在您负责的村，不能代收其缴费") % {"name": resident.name}
        )
    if collected_on > timezone.localdate():
        raise AgentCashRejected(
            _("收款日期 %(date)s 不能晚于今天") % {"date": f"{collected_on:%Y-%m-%d}"}
        )
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
        raise AgentCashRejected(
            _("收据号 %(number)s 已登记为另一笔代收，内容不一致") % {"number": existing.receipt_no}
        )
    return existing


def _check_tier(*, resident: Resident, year: int, amount: Decimal) -> None:
    """DESIGN §6 rule 2: the amount is a tier of the resident's schedule for the year."""
    try:
        tier_for(resident=resident, year=year, amount=amount)
    except TierRefused as exc:
        raise AgentCashRejected(
            _("%(field)s：%(error)s") % {"field": _("金额"), "error": exc}
        ) from None


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
    created). The receipts must be the agent's own, not yet remitted, collected on or before
    the remittance day, and sum to the amount; a refusal writes nothing."""
    _check_recorder(agent=agent, recorded_by=recorded_by, what="remittance")
    bank_voucher = (bank_voucher or "").strip()
    if not bank_voucher:
        raise AgentCashRejected(_("银行凭证号不能为空"))
    value = _amount(amount, _("缴销金额"))
    ids = sorted({r.pk if isinstance(r, CashReceipt) else int(r) for r in receipts})

    existing = Remittance.objects.filter(bank_voucher=bank_voucher).first()
    if existing is not None:
        return _same_remittance(existing, agent, value, ids), False

    if not ids:
        raise AgentCashRejected(_("请选择本次缴销的收据"))
    if remitted_on > timezone.localdate():
        raise AgentCashRejected(
            _("缴销日期 %(date)s 不能晚于今天") % {"date": f"{remitted_on:%Y-%m-%d}"}
        )
    try:
        with transaction.atomic():
            # Lock the receipts only (of=self): residents are locked by payment_record, and
            # locking them here too would let a counter payment and a remittance deadlock.
            rows = list(
                CashReceipt.objects.select_for_update(of=("self",))
                .filter(pk__in=ids)
                .select_related("resident")
                .order_by("pk")
            )
            _check_receipts(agent=agent, ids=ids, rows=rows, amount=value, on=remitted_on)
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
                raise AgentCashRejected(_("所选收据已被其他缴销记录使用，请刷新后重试"))
            audit_record(
                actor=recorded_by or agent,
                action="remittance.record",
                target=remittance,
                region_code=region_holding([row.resident.village_id for row in rows]),
                changes={
                    "agent": agent.username,
                    "amount": str(value),
                    "remitted_on": remitted_on.isoformat(),
                    "bank_voucher": bank_voucher,
                    "receipts": [row.receipt_no for row in rows],
                },
            )
            # The tax record of this cash may have arrived before the remittance was entered.
            cash_receipts_post(receipt_ids=ids, actor=recorded_by or agent)
    except IntegrityError:
        existing = Remittance.objects.get(bank_voucher=bank_voucher)
        return _same_remittance(existing, agent, value, ids), False
    return remittance, True


def cash_receipts_post(
    *,
    payment_ids: Sequence[int] = (),
    receipt_ids: Sequence[int] = (),
    actor: User | None = None,
) -> int:
    """Remitted cash becomes a payment when the tax bureau's record of it arrives: each
    remitted, unposted receipt is linked to a tax-synced payment of the same resident, year and
    amount that no receipt holds yet, earliest with earliest. Called with the new payments (a
    sync) or with the receipts just remitted; four statements whatever their number. Returns
    how many receipts were posted."""
    receipts = CashReceipt.objects.awaiting_tax_record()
    payments = Payment.objects.filter(
        source=Payment.Source.TAX_SYNC,
        reverses__isnull=True,
        kind__in=[Payment.Kind.PERSONAL, Payment.Kind.BACK],
        cash_receipt__isnull=True,
    )
    if payment_ids:
        payments = payments.filter(pk__in=list(payment_ids))
        receipts = receipts.filter(resident_id__in=payments.values("resident_id"))
    elif receipt_ids:
        receipts = receipts.filter(pk__in=list(receipt_ids))
        payments = payments.filter(resident_id__in=receipts.values("resident_id"))
    else:
        return 0
    waiting: dict[tuple[int, int, Decimal], list[int]] = {}
    for pk, resident_id, year, amount in payments.order_by("paid_at", "pk").values_list(
        "pk", "resident_id", "contribution_year", "amount"
    ):
        waiting.setdefault((resident_id, year, amount), []).append(pk)
    if not waiting:
        return 0
    posted: list[CashReceipt] = []
    for receipt in receipts.select_related("resident").order_by("collected_on", "pk"):
        queue = waiting.get((receipt.resident_id, receipt.contribution_year, receipt.amount))
        if queue:
            receipt.payment_id = queue.pop(0)
            posted.append(receipt)
    if not posted:
        return 0
    CashReceipt.objects.bulk_update(posted, ["payment"])
    audit_record_bulk(
        actor=actor,
        action="cash_receipt.post",
        target_type=CashReceipt._meta.label_lower,
        rows=(
            (
                str(r.pk),
                r.resident.village_id,
                {"receipt_no": r.receipt_no, "payment": r.payment_id},
            )
            for r in posted
        ),
        note=_("税务记录到达，现金代收入账"),
    )
    return len(posted)


def _check_receipts(
    *,
    agent: User,
    ids: list[int],
    rows: list[CashReceipt],
    amount: Decimal,
    on: datetime.date,
) -> None:
    if len(rows) != len(ids) or any(row.agent_id != agent.pk for row in rows):
        raise AgentCashRejected(_("所选收据中有不属于该协办员的收据"))
    remitted = [row.receipt_no for row in rows if row.remittance_id is not None]
    if remitted:
        raise AgentCashRejected(
            _("收据 %(receipts)s 已经缴销，不能重复缴销")
            % {"receipts": pgettext("list separator", "、").join(remitted)}
        )
    later = [row for row in rows if row.collected_on > on]
    if later:
        raise AgentCashRejected(
            _("缴销日期 %(date)s 早于收据 %(receipt)s 的收款日期 %(collected)s")
            % {
                "date": f"{on:%Y-%m-%d}",
                "receipt": later[0].receipt_no,
                "collected": f"{later[0].collected_on:%Y-%m-%d}",
            }
        )
    total = sum((row.amount for row in rows), ZERO)
    if total != amount:
        if amount > total:
            message = _("缴销金额：%(amount)s 元与所选收据合计 %(total)s 元不符，多 %(diff)s 元")
        else:
            message = _("缴销金额：%(amount)s 元与所选收据合计 %(total)s 元不符，少 %(diff)s 元")
        raise AgentCashRejected(
            message % {"amount": amount, "total": total, "diff": abs(amount - total)}
        )


def _same_remittance(
    existing: Remittance, agent: User, amount: Decimal, ids: list[int]
) -> Remittance:
    covered = sorted(existing.receipts.values_list("pk", flat=True))
    if (existing.agent_id, existing.amount, covered) != (agent.pk, amount, ids):
        raise AgentCashRejected(
            _("银行凭证号 %(number)s 已登记为另一笔缴销") % {"number": existing.bank_voucher}
        )
    return existing


# --- 双限 ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    days: int
    amount: Decimal


def default_limits() -> Limits:
    """The limits when a province has no schedule for the year: settings CASH_LIMIT_DAYS and
    CASH_LIMIT_AMOUNT (the scheme's 10 days and 10,000.00 yuan unless the environment says
    otherwise)."""
    return Limits(int(settings.CASH_LIMIT_DAYS), parse_amount(settings.CASH_LIMIT_AMOUNT))


def _limits_of(schedule: ContributionSchedule | None) -> Limits:
    if schedule is None:
        return default_limits()
    return Limits(schedule.cash_limit_days, schedule.cash_limit_amount)


@dataclass(frozen=True)
class CashPosition:
    """What an agent holds on a day and how close it is to the 双限 limits.

    Exactly at a limit is still within it: cash held 10 days, or 10,000.00 yuan, is not a
    breach; 11 days, or 10,000.01 yuan, is (DESIGN §6 rule 11).
    """

    on_hand: Decimal
    oldest_on: datetime.date | None
    limits: Limits
    day: datetime.date
    # Where the audit row of a breach is filed: the agent's region, else a village of the cash.
    region_code: str = ""

    @property
    def days_held(self) -> int | None:
        return None if self.oldest_on is None else (self.day - self.oldest_on).days

    @property
    def days_left(self) -> int | None:
        """Days until the oldest receipt breaks the day limit; negative once it has."""
        held = self.days_held
        return None if held is None else self.limits.days - held

    @property
    def days_over(self) -> int:
        left = self.days_left
        return -left if left is not None and left < 0 else 0

    @property
    def amount_left(self) -> Decimal:
        return self.limits.amount - self.on_hand

    @property
    def breaches(self) -> list[str]:
        kinds = []
        if self.days_held is not None and self.days_held > self.limits.days:
            kinds.append(CashLimitBreach.Kind.DAYS.value)
        if self.on_hand > self.limits.amount:
            kinds.append(CashLimitBreach.Kind.AMOUNT.value)
        return kinds

    @property
    def breach_labels(self) -> list[str]:
        return [str(CashLimitBreach.Kind(kind).label) for kind in self.breaches]

    @property
    def in_breach(self) -> bool:
        return bool(self.breaches)


def cash_positions(
    *, day: datetime.date, agents: QuerySet[User] | None = None
) -> dict[int, CashPosition]:
    """Each agent holding cash on `day`, by agent id: two queries whatever their number.

    Held cash is what was collected on or before `day` and is not yet remitted. The limits
    are those of the schedule of the province of the agent's villages and the latest
    contribution year of the cash held (*config*), else `default_limits()`.
    """
    receipts = CashReceipt.objects.unremitted().filter(collected_on__lte=day)
    if agents is not None:
        receipts = receipts.filter(agent__in=agents.values("pk"))
    rows = list(
        receipts.values("agent_id", "agent__region_id")
        .annotate(
            on_hand=Sum("amount"),
            oldest_on=Min("collected_on"),
            year=Max("contribution_year"),
            village=Min("resident__village_id"),
        )
        .order_by("agent_id")
    )
    schedules = {
        (schedule.province_id, schedule.year): schedule
        for schedule in ContributionSchedule.objects.filter(
            year__in={row["year"] for row in rows},
            province_id__in={row["village"][:2] for row in rows},
        ).only("province_id", "year", "cash_limit_days", "cash_limit_amount")
    }
    return {
        row["agent_id"]: CashPosition(
            on_hand=row["on_hand"],
            oldest_on=row["oldest_on"],
            limits=_limits_of(schedules.get((row["village"][:2], row["year"]))),
            day=day,
            region_code=row["agent__region_id"] or row["village"],
        )
        for row in rows
    }


def cash_limits_find(
    *, day: datetime.date, agents: QuerySet[User] | None = None
) -> dict[int, CashPosition]:
    """The agents over a 双限 limit on `day`, by id; reads only (the page's list)."""
    return {
        agent_id: position
        for agent_id, position in cash_positions(day=day, agents=agents).items()
        if position.in_breach
    }


def cash_limits_check(*, day: datetime.date) -> list[CashLimitBreach]:
    """The daily task: every agent over a 双限 limit on `day`, recorded once per agent, day
    and limit, with one audit row per breach recorded.

    Returns every breach of the day, recorded now or by an earlier run; running the check again
    for the same day records nothing new and writes no audit row.
    """
    breaching = cash_limits_find(day=day)
    found = [
        CashLimitBreach(
            agent_id=agent_id,
            day=day,
            kind=kind,
            oldest_collected_on=position.oldest_on,
            unremitted=position.on_hand,
        )
        for agent_id, position in breaching.items()
        for kind in position.breaches
    ]
    with transaction.atomic():
        existing = set(CashLimitBreach.objects.filter(day=day).values_list("agent_id", "kind"))
        new = {(b.agent_id, b.kind): b for b in found if (b.agent_id, b.kind) not in existing}
        if new:
            CashLimitBreach.objects.bulk_create(new.values(), ignore_conflicts=True)
            # ignore_conflicts leaves the primary keys unset: read them back for the audit.
            stored = CashLimitBreach.objects.filter(
                day=day, agent_id__in={agent_id for agent_id, _ in new}
            ).values_list("pk", "agent_id", "kind")
            audit_record_bulk(
                actor=None,
                action="cash_limit.breach",
                target_type=CashLimitBreach._meta.label_lower,
                rows=(
                    (str(pk), breaching[agent_id].region_code, _breach_changes(new[agent_id, kind]))
                    for pk, agent_id, kind in stored
                    if (agent_id, kind) in new
                ),
                note=_("双限检查"),
            )
    return found


def _breach_changes(breach: CashLimitBreach) -> dict[str, object]:
    return {
        "agent_id": breach.agent_id,
        "day": breach.day.isoformat(),
        "kind": breach.kind,
        "oldest_collected_on": breach.oldest_collected_on.isoformat(),
        "unremitted": str(breach.unremitted),
    }


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


@dataclass(frozen=True)
class AgentInBreach:
    """An agent over a 双限 limit on the check's day, with the limits broken."""

    agent: User
    kinds: list[str]
    unremitted: Decimal


def agents_in_breach(
    *, region_code: str, day: datetime.date
) -> tuple[datetime.date | None, list[AgentInBreach]]:
    """The agents of the region over a 双限 limit at the latest daily check on or before `day`,
    and that check's day: what the dashboard and the weekly bulletin show. Two queries."""
    breaches = CashLimitBreach.objects.filter(
        agent_id__in=agents_in_region_ids([region_code]), day__lte=day
    )
    latest = breaches.order_by("-day").values_list("day", flat=True).first()
    if latest is None:
        return None, []
    agents: dict[int, AgentInBreach] = {}
    for breach in (
        breaches.filter(day=latest).select_related("agent").order_by("agent__username", "kind")
    ):
        entry = agents.setdefault(
            breach.agent_id, AgentInBreach(breach.agent, [], breach.unremitted)
        )
        entry.kinds.append(breach.get_kind_display())
    return latest, list(agents.values())


def agent_villages(*, agent: User) -> QuerySet[Region]:
    return agent.villages.select_related("parent").order_by("code")


def agent_cash_on_hand(*, agent: User) -> Decimal:
    """Cash collected and not yet remitted."""
    return (
        CashReceipt.objects.filter(agent=agent)
        .unremitted()
        .aggregate(total=Coalesce(Sum("amount"), ZERO))["total"]
    )


def agent_cash_position(*, agent: User, day: datetime.date | None = None) -> CashPosition:
    """The agent's page: the same figures and limits as the daily check for the same day."""
    day = day or timezone.localdate()
    position = cash_positions(day=day, agents=User.objects.filter(pk=agent.pk)).get(agent.pk)
    if position is not None:
        return position
    village = agent.villages.order_by("code").values_list("code", flat=True).first()
    schedule = (
        ContributionSchedule.objects.for_province_year(village[:2], day.year).first()
        if village
        else None
    )
    return CashPosition(on_hand=ZERO, oldest_on=None, limits=_limits_of(schedule), day=day)


@dataclass(frozen=True)
class AgentCash:
    """One line of the region's agents page."""

    agent: User
    position: CashPosition


def agents_cash_overview(*, agents: QuerySet[User], day: datetime.date) -> list[AgentCash]:
    """The agents of a list page with what each holds: four queries whatever their number
    (agents, their villages, the cash held, the schedules)."""
    users = list(agents.prefetch_related("villages").order_by("username"))
    positions = cash_positions(day=day, agents=agents)
    empty = CashPosition(on_hand=ZERO, oldest_on=None, limits=default_limits(), day=day)
    return [AgentCash(agent=user, position=positions.get(user.pk, empty)) for user in users]


def agent_receipts(*, agent: User, limit: int) -> QuerySet[CashReceipt]:
    """The agent's latest receipts; `payment` is set once the tax bureau's record of the
    remitted cash has arrived (`cash_receipts_post`). Until then a receipt, even a remitted one,
    is cash collected, not a payment."""
    return (
        CashReceipt.objects.filter(agent=agent)
        .select_related("resident", "remittance", "payment")
        .order_by("-collected_on", "-pk")[:limit]
    )


def agent_breach_history(*, agent: User, limit: int = 30) -> QuerySet[CashLimitBreach]:
    """The daily check's records for one agent, latest first."""
    return CashLimitBreach.objects.filter(agent=agent).order_by("-day", "kind")[:limit]


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
