"""The payment ledger: recording personal, proxy and back payments, and reversing them."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from collection.models import CashReceipt, ContributionSchedule, Payment
from collection.services.schedules import (
    TierRefused,
    resident_qualifies_for_proxy,
    residents_qualifying_for_proxy,
    schedule_for,
    tier_check,
    tier_for,
)
from enrollment.models import BENEFIT_AGE, ENROLMENT_AGE, Resident
from enrollment.services.residents import residents_enrol
from pension import staging
from pension.idnumber import age_on
from pension.models import User, county_of
from pension.money import InvalidAmount, parse_amount
from pension.services import audit_record, audit_record_bulk, region_holding


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
        raise PaymentRejected(_("凭证号不能为空"))
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
                county_code=county_of(resident.village_id),
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
                note=_("重复缴费，待退费") if duplicate_of else "",
            )
            _payments_settle([payment], recorded_by=recorded_by)
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
        raise PaymentRejected(
            _("凭证号 %(voucher)s 已登记为另一笔缴费，内容不一致")
            % {"voucher": existing.voucher_no}
        )
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
            _("%(name)s %(year)s 年度已有政府代缴记录（凭证号 %(voucher)s），不能重复代缴")
            % {"name": resident.name, "year": year, "voucher": first.voucher_no}
        )
    return first


def _check_rules(
    *, resident: Resident, year: int, amount: Decimal, kind: str, on: datetime.date
) -> Decimal:
    """Tier, proxy and back-payment rules (DESIGN §6 rules 2, 3, 5); returns the subsidy."""
    _check_status(resident)
    if kind == Payment.Kind.BACK:
        _check_back_payment(resident=resident, year=year, on=on)
    if kind == Payment.Kind.PROXY:
        schedule = schedule_for(province_code=resident.village_id[:2], year=year)
        if schedule is None:
            raise PaymentRejected(_("%(year)s 年度尚未配置该省的缴费方案") % {"year": year})
        if amount != schedule.proxy_amount:
            raise PaymentRejected(
                _("政府代缴金额应为 %(amount)s 元") % {"amount": schedule.proxy_amount}
            )
        if not resident_qualifies_for_proxy(resident=resident, schedule=schedule):
            raise PaymentRejected(
                _("%(name)s 不属于 %(year)s 年度政府代缴对象")
                % {"name": resident.name, "year": year}
            )
        return Decimal("0.00")
    try:
        _schedule, tier = tier_for(resident=resident, year=year, amount=amount)
    except TierRefused as exc:
        raise PaymentRejected(str(exc)) from None
    if kind == Payment.Kind.BACK:
        return Decimal("0.00")
    return tier.subsidy


def _check_back_payment(*, resident: Resident, year: int, on: datetime.date) -> None:
    """补缴: for a past year, after enrolment, before the resident turns 60."""
    if year >= on.year:
        raise PaymentRejected(_("补缴只能补以前年度，%(year)s 年度不是以前年度") % {"year": year})
    if resident.status not in (Resident.Status.ENROLLED,):
        raise PaymentRejected(
            _("%(name)s 当前状态为“%(status)s”，参保后才能补缴")
            % {"name": resident.name, "status": resident.get_status_display()}
        )
    if year < resident.birth_date.year + ENROLMENT_AGE:
        raise PaymentRejected(
            _("%(year)s 年 %(name)s 未满 %(age)s 周岁，不能补缴该年度")
            % {"year": year, "name": resident.name, "age": ENROLMENT_AGE}
        )
    if age_on(resident.birth_date, on) >= BENEFIT_AGE:
        raise PaymentRejected(
            _("%(name)s 已年满 %(age)s 周岁，不能再补缴")
            % {"name": resident.name, "age": BENEFIT_AGE}
        )


def payment_reverse(
    *, payment: Payment, voucher_no: str, reason: str, recorded_by: User | None = None
) -> Payment:
    """A linked entry that cancels `payment`; the original row is never touched."""
    if payment.is_reversal:
        raise PaymentRejected(_("冲正记录不能再次冲正"))
    if not reason.strip():
        raise PaymentRejected(_("冲正必须填写原因"))
    if Payment.objects.filter(reverses=payment).exists():
        raise PaymentRejected(
            _("凭证号 %(voucher)s 的缴费已被冲正") % {"voucher": payment.voucher_no}
        )
    try:
        with transaction.atomic():
            reversal = Payment.objects.create(
                resident_id=payment.resident_id,
                county_code=payment.county_code,
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
        raise PaymentRejected(
            _("凭证号 %(voucher)s 的缴费已被冲正") % {"voucher": payment.voucher_no}
        ) from None
    return reversal


# --- many payments at once (the tax bureau's sync, statement postings) ---------------------


@dataclass(frozen=True)
class PaymentIntent:
    """One payment asked of `payments_record_bulk`; the resident is already resolved."""

    resident_id: int
    contribution_year: int
    amount: Decimal
    kind: str  # Payment.Kind.PERSONAL or Payment.Kind.BACK
    channel: str
    voucher_no: str
    paid_at: datetime.datetime
    note: str = ""


@dataclass(frozen=True)
class PaymentOutcome:
    """What became of one intent: a payment (new, or the same voucher already on file), or a
    refusal with its reason in Chinese and a code (`not_a_tier`, `refused`)."""

    payment_id: int | None = None
    created: bool = False
    refusal: str = ""
    refusal_code: str = ""

    @property
    def refused(self) -> bool:
        return bool(self.refusal)


# What the payment rules read of a resident (status, age, province, name for messages).
PAYER_FIELDS = ("id", "id_number", "name", "village_id", "status", "birth_date")


def payments_record_bulk(
    *,
    intents: Sequence[PaymentIntent],
    source: str,
    recorded_by: User | None = None,
    locked_residents: Mapping[int, Resident] | None = None,
) -> list[PaymentOutcome]:
    """`payment_record` for many payments in a fixed number of statements, whatever their
    number; one outcome per intent, in order. Same rules (status, tiers, back payments,
    duplicates of a year), same idempotency by (source, voucher). Eligible residents who pay are
    enrolled; remitted cash receipts the payments settle are linked to them.

    Runs in the caller's transaction (it opens one if there is none) and locks the residents
    concerned, in id order, so that two concurrent batches cannot both record "the first"
    personal payment of a year, and the second of two identical batches finds the first's rows.
    A caller that has already locked the residents, in this transaction, with the fields of
    PAYER_FIELDS, passes them as `locked_residents` (by id) to spare a second look-up.
    """
    if not intents:
        return []
    with transaction.atomic():
        residents = locked_residents
        if residents is None:
            residents = {
                r.pk: r
                for r in Resident.objects.select_for_update()
                .filter(pk__in={i.resident_id for i in intents})
                .only(*PAYER_FIELDS)
                .order_by("pk")
            }
        batch = _Batch.load(intents=intents, residents=residents, source=source)
        outcomes: list[PaymentOutcome | None] = [None] * len(intents)
        new: dict[int, _NewPayment] = {}  # intent index -> payment to create
        for index, intent in enumerate(intents):
            outcomes[index] = batch.check(index, intent, new)
        _insert_in_order(new, batch, recorded_by=recorded_by)
        for index, payment in new.items():
            outcomes[index] = PaymentOutcome(payment_id=payment.pk, created=True)
        for index, first in batch.same_voucher_in_batch.items():
            outcomes[index] = PaymentOutcome(payment_id=new[first].pk, created=False)
        created = list(new.values())
        if created:
            _after_payments(created, residents=residents, recorded_by=recorded_by)
    return [outcome for outcome in outcomes if outcome is not None]


class _Batch:
    """What the rules need to know about a batch's residents, loaded in a few queries."""

    def __init__(self) -> None:
        self.residents: Mapping[int, Resident] = {}
        self.source = ""
        self.existing: dict[str, Payment] = {}
        self.schedules: dict[tuple[str, int], ContributionSchedule] = {}
        self.qualifying: dict[tuple[str, int], set[int]] = {}
        self.first_personal: dict[tuple[int, int], int] = {}
        self.vouchers: dict[str, int] = {}
        self.same_voucher_in_batch: dict[int, int] = {}
        # New personal payments of a (resident, year) with none on file yet.
        self.year_firsts: dict[tuple[int, int], list[tuple]] = {}

    @classmethod
    def load(
        cls,
        *,
        intents: Sequence[PaymentIntent],
        residents: Mapping[int, Resident],
        source: str,
    ) -> _Batch:
        batch = cls()
        batch.residents = residents
        batch.source = source
        vouchers = {intent.voucher_no.strip() for intent in intents}
        batch.existing = {
            p.voucher_no: p for p in Payment.objects.filter(source=source, voucher_no__in=vouchers)
        }
        keys = {
            (residents[i.resident_id].village_id[:2], i.contribution_year)
            for i in intents
            if i.resident_id in residents
        }
        condition = Q()
        for province, year in keys:
            condition |= Q(province_id=province, year=year)
        if keys:
            for schedule in ContributionSchedule.objects.filter(condition).prefetch_related(
                "tiers"
            ):
                batch.schedules[(schedule.province_id, schedule.year)] = schedule
        for key, schedule in batch.schedules.items():
            if any(t.government_only for t in schedule.tiers.all()):
                batch.qualifying[key] = residents_qualifying_for_proxy(
                    resident_ids=[r.pk for r in residents.values() if r.village_id[:2] == key[0]],
                    schedule=schedule,
                )
        years = {i.contribution_year for i in intents}
        for resident_id, year, pk in (
            Payment.objects.counted()
            .filter(
                resident_id__in=list(residents),
                contribution_year__in=years,
                kind=Payment.Kind.PERSONAL,
            )
            .order_by("-paid_at", "-id")
            .values_list("resident_id", "contribution_year", "pk")
        ):
            batch.first_personal[(resident_id, year)] = pk  # the earliest is written last
        return batch

    def check(
        self, index: int, intent: PaymentIntent, new: dict[int, _NewPayment]
    ) -> PaymentOutcome | None:
        """The outcome of a refused or already-recorded intent, or None once `intent` is
        added to `new`."""
        voucher_no = intent.voucher_no.strip()
        if not voucher_no:
            return _refused(_("凭证号不能为空"))
        existing = self.existing.get(voucher_no)
        if existing is not None:
            if (existing.resident_id, existing.contribution_year, existing.amount) != (
                intent.resident_id,
                intent.contribution_year,
                intent.amount,
            ):
                return _refused(
                    _("凭证号 %(voucher)s 已登记为另一笔缴费，内容不一致") % {"voucher": voucher_no}
                )
            return PaymentOutcome(payment_id=existing.pk, created=False)
        if voucher_no in self.vouchers:
            first = _same_content(new[self.vouchers[voucher_no]], intent)
            if not first:
                return _refused(
                    _("凭证号 %(voucher)s 在本批中重复，内容不一致") % {"voucher": voucher_no}
                )
            self.same_voucher_in_batch[index] = self.vouchers[voucher_no]
            return None
        resident = self.residents.get(intent.resident_id)
        if resident is None:
            return _refused(_("参保人不存在"))
        if intent.kind not in (Payment.Kind.PERSONAL, Payment.Kind.BACK):
            return _refused(_("政府代缴由代缴批次入账，不能在此登记"))
        try:
            value = parse_amount(intent.amount)
            subsidy = self._subsidy(resident, intent, value)
        except InvalidAmount as exc:
            return _refused(str(exc))
        except PaymentRejected as exc:
            return _refused(str(exc))
        except TierRefused as exc:
            return PaymentOutcome(refusal=str(exc), refusal_code="not_a_tier")
        payment = _NewPayment(
            resident_id=resident.pk,
            county_code=county_of(resident.village_id),
            contribution_year=intent.contribution_year,
            amount=value,
            subsidy=subsidy,
            kind=intent.kind,
            channel=intent.channel,
            source=self.source,
            voucher_no=voucher_no,
            paid_at=intent.paid_at,
            note=intent.note,
        )
        if intent.kind == Payment.Kind.PERSONAL:
            key = (resident.pk, intent.contribution_year)
            first_id = self.first_personal.get(key)
            if first_id is not None:
                payment.duplicate_of_id = first_id
                payment.subsidy = Decimal("0.00")
            else:
                self.year_firsts.setdefault(key, []).append((payment.paid_at, index, payment))
        self.vouchers[voucher_no] = index
        new[index] = payment
        return None

    def _subsidy(self, resident: Resident, intent: PaymentIntent, amount: Decimal) -> Decimal:
        on = timezone.localtime(intent.paid_at).date()
        _check_status(resident)
        if intent.kind == Payment.Kind.BACK:
            _check_back_payment(resident=resident, year=intent.contribution_year, on=on)
        key = (resident.village_id[:2], intent.contribution_year)
        tier = tier_check(
            schedule=self.schedules.get(key),
            year=intent.contribution_year,
            amount=amount,
            qualifies=lambda: resident.pk in self.qualifying.get(key, set()),
        )
        return Decimal("0.00") if intent.kind == Payment.Kind.BACK else tier.subsidy


@dataclass(slots=True)
class _NewPayment:
    """A payment a batch is about to insert; a plain record rather than a model instance, since
    a sync builds thousands of them a second."""

    resident_id: int
    county_code: str
    contribution_year: int
    amount: Decimal
    subsidy: Decimal
    kind: str
    channel: str
    source: str
    voucher_no: str
    paid_at: datetime.datetime
    note: str = ""
    duplicate_of_id: int | None = None
    pk: int | None = None


_INSERT_COLUMNS = (
    ("resident_id", "bigint"), ("county_code", "varchar"), ("contribution_year", "smallint"),
    ("amount", "numeric"), ("subsidy", "numeric"), ("kind", "varchar"), ("channel", "varchar"),
    ("source", "varchar"), ("voucher_no", "varchar"), ("paid_at", "timestamptz"),
    ("note", "varchar"), ("duplicate_of_id", "bigint"), ("recorded_by_id", "bigint"),
    ("recorded_at", "timestamptz"),
)  # fmt: skip


def _insert_payments(payments: list[_NewPayment], *, recorded_by: User | None) -> None:
    """One INSERT for the lot; sets each payment's pk (the vouchers are unique in a source)."""
    recorded_by_id = recorded_by.pk if recorded_by is not None and recorded_by.pk else None
    now = timezone.now()
    stored = {
        voucher: pk
        for pk, voucher in staging.insert_rows(
            Payment._meta.db_table,
            _INSERT_COLUMNS,
            [
                (
                    p.resident_id,
                    p.county_code,
                    p.contribution_year,
                    p.amount,
                    p.subsidy,
                    p.kind,
                    p.channel,
                    p.source,
                    p.voucher_no,
                    p.paid_at,
                    p.note,
                    p.duplicate_of_id,
                    recorded_by_id,
                    now,
                )
                for p in payments
            ],
            tail="RETURNING id, voucher_no",
        )
    }
    for payment in payments:
        payment.pk = stored[payment.voucher_no]


def _same_content(payment: _NewPayment, intent: PaymentIntent) -> bool:
    return (payment.resident_id, payment.contribution_year, payment.amount) == (
        intent.resident_id,
        intent.contribution_year,
        intent.amount,
    )


def _refused(reason: str) -> PaymentOutcome:
    return PaymentOutcome(refusal=reason, refusal_code="refused")


def _insert_in_order(
    new: dict[int, _NewPayment], batch: _Batch, *, recorded_by: User | None
) -> None:
    """Counted payments first, then the duplicates of payments of this same batch, which
    need their ids. Of two payments of a year in one batch, whichever was paid earlier is the
    payment and the other the duplicate awaiting refund (DESIGN §6 rule 4); a duplicate of a
    payment already on file carries its id from the start."""
    duplicates: list[tuple[_NewPayment, _NewPayment]] = []
    for same_year in batch.year_firsts.values():
        same_year.sort(key=lambda entry: entry[:2])
        counted = same_year[0][2]
        for _paid_at, _index, payment in same_year[1:]:
            payment.subsidy = Decimal("0.00")
            duplicates.append((payment, counted))
    later = {id(payment) for payment, _ in duplicates}
    _insert_payments([p for p in new.values() if id(p) not in later], recorded_by=recorded_by)
    for payment, counted in duplicates:
        payment.duplicate_of_id = counted.pk
    _insert_payments([payment for payment, _ in duplicates], recorded_by=recorded_by)


def _after_payments(
    created: list[_NewPayment], *, residents: Mapping[int, Resident], recorded_by: User | None
) -> None:
    """What new payments bring: the payers' enrolment, the agents' cash settled, and one audit
    row naming the batch (each payment carries who recorded it and when; a per-payment row
    would double the writes of a sync without adding a fact)."""
    first = min(p.pk for p in created)
    audit_record_bulk(
        actor=recorded_by,
        action="payment.record",
        target_type=Payment._meta.label_lower,
        rows=[
            (
                str(first),
                region_holding(residents[p.resident_id].village_id for p in created),
                {
                    "source": created[0].source,
                    "count": len(created),
                    "amount": str(sum((p.amount for p in created), Decimal("0.00"))),
                    "ids": [first, max(p.pk for p in created)],
                    "duplicates": sum(1 for p in created if p.duplicate_of_id),
                },
            )
        ],
        note=ngettext("批量登记缴费 %(count)s 笔", "批量登记缴费 %(count)s 笔", len(created))
        % {"count": len(created)},
    )
    _payments_settle(created, recorded_by=recorded_by)


def _payments_settle(
    payments: Sequence[Payment | _NewPayment], *, recorded_by: User | None
) -> None:
    """A payer who was eligible is now enrolled; a tax record settles the agent's cash."""
    residents_enrol(
        resident_ids={p.resident_id for p in payments if p.duplicate_of_id is None},
        actor=recorded_by,
        reason=_("缴费参保"),
    )
    tax_records = [p for p in payments if p.source == Payment.Source.TAX_SYNC]
    payers = {p.resident_id for p in tax_records}
    # Most payers never handed cash to an agent: one cheap look before the matching.
    if payers and CashReceipt.objects.awaiting_tax_record().filter(resident_id__in=payers).exists():
        from collection.services.agents import cash_receipts_post

        cash_receipts_post(payment_ids=[p.pk for p in tax_records], actor=recorded_by)


def _check_status(resident: Resident) -> None:
    """Who may not pay at all: the dead, the cancelled, those covered elsewhere, and those
    already drawing the pension (their money is a case for refund, not income)."""
    if resident.status in REFUSED_STATUSES:
        raise PaymentRejected(
            _("%(name)s 当前状态为“%(status)s”，不能缴费")
            % {"name": resident.name, "status": resident.get_status_display()}
        )


REFUSED_STATUSES = (
    Resident.Status.DECEASED,
    Resident.Status.CANCELLED,
    Resident.Status.EXCLUDED,
    Resident.Status.RECEIVING,
)
