"""The tax bureau's collection records arriving through the API: checked, posted as payments,
or held as findings, never lost; and their reversals (refunds and voids).

A batch of up to 5,000 records is one transaction and a fixed number of statements whatever its
size: the throughput target (5,000 records a second from four clients) leaves no room for a
query, or a DRF serializer, per record. Each record is answered on its own:

- `created`: stored, and posted as a payment (or held, see below, when that is not possible);
- `duplicate`: the same voucher with the same content is already stored; nothing is written;
- `held`: well-formed but not postable (ID not on file, name differs, not a tier): the record is
  stored as held and becomes a discrepancy for the county to resolve;
- `rejected`: malformed, or a voucher already stored with different content.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from collection.models import Payment
from collection.services.payments import (
    PAYER_FIELDS,
    PaymentIntent,
    PaymentOutcome,
    PaymentRejected,
    payment_reverse,
    payments_record_bulk,
)
from enrollment.models import Resident
from pension import idnumber
from pension.money import InvalidAmount, parse_amount
from pension.services import audit_record_bulk
from pension.staging import insert_rows
from reconciliation.models import ApiKey, Discrepancy, SyncedRecord

logger = logging.getLogger(__name__)

MAX_BATCH = 5000

CREATED = "created"
DUPLICATE = "duplicate"
HELD = "held"
REJECTED = "rejected"

# The scheme's first contribution years (新农保 pilots, 2009); anything earlier is a typing error.
FIRST_YEAR = 2009
SHANGHAI = ZoneInfo("Asia/Shanghai")
# A record's payment time: the tax bureau sends the day the money reached the treasury, not the
# hour; noon keeps it on that day in any time zone a report might use.
PAID_AT_HOUR = datetime.time(12, 0)

LABELS = {
    "voucher_no": gettext_lazy("电子税票号码"),
    "id_number": gettext_lazy("证件号码"),
    "name": gettext_lazy("姓名"),
    "contribution_year": gettext_lazy("缴费年度"),
    "tier": gettext_lazy("缴费档次"),
    "amount": gettext_lazy("实缴金额"),
    "kind": gettext_lazy("缴费类型"),
    "paid_on": gettext_lazy("入库日期"),
    "channel": gettext_lazy("缴费渠道"),
    "tax_office": gettext_lazy("主管税务机关"),
}
KINDS = {
    SyncedRecord.Kind.NORMAL: Payment.Kind.PERSONAL,
    SyncedRecord.Kind.BACK: Payment.Kind.BACK,
}
# The government's proxy payments are posted by the county's batches, never by the tax sync.
CHANNELS = tuple(c for c in Payment.Channel.values if c != Payment.Channel.GOVERNMENT)

_VOUCHER = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,39}")
_AMOUNT = re.compile(r"[0-9]{1,10}(?:\.[0-9]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_YEAR = re.compile(r"[0-9]{4}")
_SPACES = re.compile(r"\s+")
_NAME_MAX = 50
_TAX_OFFICE_MAX = 20
_REASON_MAX = 200
_RACE_ATTEMPTS = 3

NOT_ON_FILE = gettext_lazy("证件号码不在本县参保人名册中")
HELD_NOT_REVERSIBLE = gettext_lazy("挂起记录请在对账差异中处理")


def _separator() -> str:
    """What joins a record's reasons into one answer."""
    return pgettext("list separator", "；")


def voucher_is_wellformed(value: str) -> bool:
    """Vouchers are used in URLs (the reversal endpoint), so they are plain ASCII tokens."""
    return bool(_VOUCHER.fullmatch(value))


# --- one record ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncInput:
    """One record as validated: normalised ID number, Decimal money, a real date."""

    voucher_no: str
    id_number: str
    name: str
    contribution_year: int
    tier: Decimal
    amount: Decimal
    kind: str
    paid_on: datetime.date
    channel: str
    tax_office: str

    def content(self) -> tuple:
        return (
            self.voucher_no,
            self.id_number,
            self.name,
            self.contribution_year,
            self.tier,
            self.amount,
            self.kind,
            self.paid_on,
            self.channel,
            self.tax_office,
        )


CONTENT_FIELDS = (
    "voucher_no",
    "id_number",
    "name",
    "contribution_year",
    "tier",
    "amount",
    "kind",
    "paid_on",
    "channel",
    "tax_office",
)


@dataclass(frozen=True)
class SyncResult:
    """The answer for one record of a batch, in the order sent."""

    voucher_no: str
    status: str
    reason: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"voucher_no": self.voucher_no, "status": self.status, "reason": self.reason}


def _text(record: dict, field: str, errors: list[str], *, max_length: int) -> str:
    value = record.get(field)
    label = LABELS[field]
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.append(_("〈%(label)s〉不能为空") % {"label": label})
        return ""
    if not isinstance(value, str):
        errors.append(_("〈%(label)s〉应为文本") % {"label": label})
        return ""
    value = value.strip()
    if len(value) > max_length:
        errors.append(
            _("〈%(label)s〉不能超过 %(max)s 个字符：%(value)s…")
            % {"label": label, "max": max_length, "value": value[:max_length]}
        )
        return ""
    if any(ord(ch) < 32 for ch in value):
        errors.append(_("〈%(label)s〉含有控制字符") % {"label": label})
        return ""
    return value


def _money(record: dict, field: str, errors: list[str]) -> Decimal | None:
    value = record.get(field)
    label = LABELS[field]
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.append(_("〈%(label)s〉不能为空") % {"label": label})
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        errors.append(_('〈%(label)s〉应为十进制数字符串，如 "300.00"') % {"label": label})
        return None
    text = format(value, "f") if isinstance(value, Decimal) else str(value).strip()
    # Stricter than a clerk's entry (no "元", no separators, fits the column); then the
    # project's one rule for amounts.
    if not text.startswith("-") and not _AMOUNT.fullmatch(text):
        errors.append(
            _('〈%(label)s〉格式错误，应为十进制数，如 "300.00"：%(value)s')
            % {"label": label, "value": text[:30]}
        )
        return None
    try:
        return parse_amount(text)
    except InvalidAmount as exc:
        # pension.money words its reasons about "the amount": the field's label says which.
        reason = str(exc).removeprefix(pgettext("start of an amount's error", "金额")).strip()
        errors.append(_("〈%(label)s〉%(reason)s") % {"label": label, "reason": reason})
        return None


def _year(record: dict, today: datetime.date, errors: list[str]) -> int:
    value = record.get("contribution_year")
    label = LABELS["contribution_year"]
    if isinstance(value, str) and _YEAR.fullmatch(value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        errors.append(_("〈%(label)s〉应为四位年份，如 2023") % {"label": label})
        return 0
    if not FIRST_YEAR <= value <= today.year + 1:
        errors.append(
            _("〈%(label)s〉应在 %(first)s 至 %(last)s 年之间：%(value)s")
            % {"label": label, "first": FIRST_YEAR, "last": today.year + 1, "value": value}
        )
        return 0
    return value


def _paid_on(record: dict, today: datetime.date, errors: list[str]) -> datetime.date | None:
    value = record.get("paid_on")
    label = LABELS["paid_on"]
    if not isinstance(value, str) or not _DATE.fullmatch(value.strip()):
        errors.append(_("〈%(label)s〉应为 YYYY-MM-DD 格式的日期") % {"label": label})
        return None
    try:
        day = datetime.date.fromisoformat(value.strip())
    except ValueError:
        errors.append(
            _("〈%(label)s〉不是有效日期：%(value)s") % {"label": label, "value": value.strip()}
        )
        return None
    if day > today:
        errors.append(
            _("〈%(label)s〉晚于今天：%(value)s") % {"label": label, "value": day.isoformat()}
        )
        return None
    if day.year < FIRST_YEAR:
        errors.append(
            _("〈%(label)s〉早于 %(first)s 年：%(value)s")
            % {"label": label, "first": FIRST_YEAR, "value": day.isoformat()}
        )
        return None
    return day


def _choice(record: dict, field: str, allowed: Sequence[str], errors: list[str]) -> str:
    value = record.get(field)
    if isinstance(value, str) and value.strip() in allowed:
        return value.strip()
    shown = value if isinstance(value, str) else _("（空）") if value is None else str(value)
    errors.append(
        _("〈%(label)s〉应为 %(choices)s 之一：%(value)s")
        % {
            "label": LABELS[field],
            "choices": pgettext("enumeration separator", "、").join(allowed),
            "value": shown[:30],
        }
    )
    return ""


def record_validate(raw: object, *, today: datetime.date) -> tuple[SyncInput | None, list[str]]:
    """Check one record as sent; returns the record or the reasons (Chinese, naming fields)."""
    if not isinstance(raw, dict):
        return None, [_("记录应为 JSON 对象")]
    errors: list[str] = []
    voucher_no = _text(raw, "voucher_no", errors, max_length=40)
    if voucher_no and not voucher_is_wellformed(voucher_no):
        errors.append(
            _("〈%(label)s〉只能包含字母、数字和 . _ -：%(value)s")
            % {"label": LABELS["voucher_no"], "value": voucher_no}
        )
    id_number = ""
    raw_id = raw.get("id_number")
    if isinstance(raw_id, int) and not isinstance(raw_id, bool):
        raw_id = str(raw_id)
    if not isinstance(raw_id, str) or not raw_id.strip():
        errors.append(_("〈%(label)s〉不能为空") % {"label": LABELS["id_number"]})
    else:
        try:
            id_number = idnumber.validate(raw_id[:40], today=today)
        except idnumber.InvalidIDNumber as exc:
            errors.append(
                _("〈%(label)s〉%(reason)s") % {"label": LABELS["id_number"], "reason": exc.message}
            )
    name = _text(raw, "name", errors, max_length=_NAME_MAX)
    year = _year(raw, today, errors)
    tier = _money(raw, "tier", errors)
    amount = _money(raw, "amount", errors)
    kind = _choice(raw, "kind", SyncedRecord.Kind.values, errors)
    paid_on = _paid_on(raw, today, errors)
    channel = _choice(raw, "channel", CHANNELS, errors)
    tax_office = _text(raw, "tax_office", errors, max_length=_TAX_OFFICE_MAX)
    if errors:
        return None, errors
    return SyncInput(
        voucher_no=voucher_no,
        id_number=id_number,
        name=name,
        contribution_year=year,
        tier=tier,
        amount=amount,
        kind=kind,
        paid_on=paid_on,
        channel=channel,
        tax_office=tax_office,
    ), []


def _echo_voucher(raw: object) -> str:
    value = raw.get("voucher_no") if isinstance(raw, dict) else None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.strip()[:40] if isinstance(value, str) else ""


def _same_name(sent: str, on_file: str) -> bool:
    # Tax systems pad names or drop the space some minority names carry in the registry.
    return _SPACES.sub("", sent) == _SPACES.sub("", on_file)


# --- a batch ------------------------------------------------------------------------------


class BatchRefused(ValueError):
    """A batch that cannot be taken at all (empty or over the limit); nothing is written."""


class _LostRace(Exception):
    """A concurrent batch stored one of our vouchers after we looked: start again."""


@dataclass
class _Plan:
    """What becomes of one valid record, decided inside the transaction."""

    index: int
    item: SyncInput
    resident: Resident | None = None
    status: str = ""  # posted or held
    hold_reason: str = ""
    category: str = ""
    payment_id: int | None = None
    payment_created: bool = False


def sync_payments_batch(*, key: ApiKey, records: Sequence[object]) -> list[SyncResult]:
    """Take a batch from the tax bureau; one answer per record, in the order sent.

    Everything the batch writes is one transaction. Sending the same batch again answers each
    record `duplicate` and writes nothing.
    """
    if not records:
        raise BatchRefused(_("记录列表不能为空"))
    if len(records) > MAX_BATCH:
        raise BatchRefused(
            _("一次最多提交 %(max)s 条记录，本次 %(count)s 条：请分批提交")
            % {"max": MAX_BATCH, "count": len(records)}
        )
    today = timezone.localdate()
    results: list[SyncResult | None] = [None] * len(records)
    valid: list[tuple[int, SyncInput]] = []
    first_of: dict[str, int] = {}
    repeats: dict[int, int] = {}  # index -> index of the same voucher earlier in the batch
    items: dict[int, SyncInput] = {}
    for index, raw in enumerate(records):
        item, errors = record_validate(raw, today=today)
        if item is None:
            results[index] = SyncResult(_echo_voucher(raw), REJECTED, _separator().join(errors))
            continue
        items[index] = item
        earlier = first_of.get(item.voucher_no)
        if earlier is None:
            first_of[item.voucher_no] = index
            valid.append((index, item))
        elif items[earlier].content() == item.content():
            repeats[index] = earlier
        else:
            results[index] = SyncResult(
                item.voucher_no,
                REJECTED,
                _("电子税票号码 %(voucher)s 在本批中重复出现，内容不一致")
                % {"voucher": item.voucher_no},
            )
    if valid:
        for attempt in range(1, _RACE_ATTEMPTS + 1):
            try:
                with transaction.atomic():
                    decided = _sync_valid(key=key, valid=valid)
                break
            except (_LostRace, IntegrityError):
                # Our transaction is rolled back whole; the next attempt reads what the other
                # batch committed and answers those vouchers duplicate or rejected.
                if attempt == _RACE_ATTEMPTS:
                    raise
                logger.info("sync batch lost a race for a voucher; attempt %s", attempt + 1)
        for index, result in decided.items():
            results[index] = result
    for index, earlier in repeats.items():
        first = results[earlier]
        if first is not None and first.status == REJECTED:
            results[index] = SyncResult(first.voucher_no, REJECTED, first.reason)
        else:
            results[index] = SyncResult(
                items[index].voucher_no, DUPLICATE, _("本批中重复出现，内容相同，只接收一次")
            )
    return [r for r in results if r is not None]


def _sync_valid(*, key: ApiKey, valid: list[tuple[int, SyncInput]]) -> dict[int, SyncResult]:
    decided: dict[int, SyncResult] = {}
    # Locked in id order, so that two batches about the same people take turns: the second
    # finds the first one's records once it commits, and nobody records "the first" personal
    # payment of a year twice. Residents of other counties are not on file for this key.
    residents = {
        r.id_number: r
        for r in Resident.objects.in_region(key.county_id)
        .filter(id_number__in={item.id_number for _, item in valid})
        .select_for_update()
        .order_by("id")
        .only(*PAYER_FIELDS)
    }
    stored = _stored_contents([item.voucher_no for _, item in valid])
    plans: list[_Plan] = []
    for index, item in valid:
        existing = stored.get(item.voucher_no)
        if existing is not None:
            decided[index] = _against_stored(item, existing)
            continue
        plan = _Plan(index=index, item=item, resident=residents.get(item.id_number))
        _hold_if_not_postable(plan)
        plans.append(plan)
    _post(key=key, plans=[p for p in plans if not p.status])
    inserted = _insert_records(key=key, plans=plans)
    lost = [p for p in plans if p.item.voucher_no not in inserted]
    if any(p.status == SyncedRecord.Status.POSTED for p in lost):
        raise _LostRace
    if lost:
        stored = _stored_contents([p.item.voucher_no for p in lost])
        for plan in lost:
            decided[plan.index] = _against_stored(plan.item, stored[plan.item.voucher_no])
    won = [p for p in plans if p.item.voucher_no in inserted]
    held = [p for p in won if p.status == SyncedRecord.Status.HELD]
    if held:
        _record_findings(key=key, held=held, ids=inserted)
    for plan in won:
        if plan.status == SyncedRecord.Status.HELD:
            decided[plan.index] = SyncResult(plan.item.voucher_no, HELD, plan.hold_reason)
        else:
            decided[plan.index] = SyncResult(plan.item.voucher_no, CREATED)
    return decided


def _stored_contents(vouchers: list[str]) -> dict[str, tuple]:
    return {
        row[0]: row
        for row in SyncedRecord.objects.filter(voucher_no__in=vouchers).values_list(*CONTENT_FIELDS)
    }


def _against_stored(item: SyncInput, stored: tuple) -> SyncResult:
    if item.content() == tuple(stored):
        return SyncResult(item.voucher_no, DUPLICATE, _("该记录已接收，内容相同，未重复入账"))
    return SyncResult(
        item.voucher_no,
        REJECTED,
        _("电子税票号码 %(voucher)s 已接收，内容不一致") % {"voucher": item.voucher_no},
    )


def _hold(plan: _Plan, category: str, reason: str) -> None:
    plan.status = SyncedRecord.Status.HELD
    plan.category = category
    plan.hold_reason = str(reason)[:_REASON_MAX]


def _hold_if_not_postable(plan: _Plan) -> None:
    item, resident = plan.item, plan.resident
    if resident is None:
        _hold(plan, Discrepancy.Category.ID_MISMATCH, NOT_ON_FILE)
    elif not _same_name(item.name, resident.name):
        _hold(
            plan,
            Discrepancy.Category.ID_MISMATCH,
            _("〈姓名〉%(name)s 与参保人名册不一致（名册：%(registered)s）")
            % {"name": item.name, "registered": resident.name},
        )
    elif item.amount != item.tier:
        _hold(
            plan,
            Discrepancy.Category.NOT_A_TIER,
            _("〈实缴金额〉%(amount)s 元与〈缴费档次〉%(tier)s 元不一致")
            % {"amount": item.amount, "tier": item.tier},
        )


def _post(*, key: ApiKey, plans: list[_Plan]) -> None:
    if not plans:
        return
    intents = [
        PaymentIntent(
            resident_id=plan.resident.pk,
            contribution_year=plan.item.contribution_year,
            amount=plan.item.amount,
            kind=KINDS[plan.item.kind],
            channel=plan.item.channel,
            voucher_no=plan.item.voucher_no,
            paid_at=datetime.datetime.combine(plan.item.paid_on, PAID_AT_HOUR, tzinfo=SHANGHAI),
        )
        for plan in plans
    ]
    outcomes: list[PaymentOutcome] = payments_record_bulk(
        intents=intents,
        source=Payment.Source.TAX_SYNC,
        recorded_by=key.account,
        locked_residents={plan.resident.pk: plan.resident for plan in plans},
    )
    for plan, outcome in zip(plans, outcomes, strict=True):
        if outcome.refused:
            category = (
                Discrepancy.Category.NOT_A_TIER
                if outcome.refusal_code == "not_a_tier"
                else Discrepancy.Category.TAX_NOT_POSTED
            )
            _hold(plan, category, outcome.refusal)
        else:
            plan.status = SyncedRecord.Status.POSTED
            plan.payment_id = outcome.payment_id
            plan.payment_created = outcome.created


_INSERT_COLUMNS = (
    ("voucher_no", "varchar"), ("id_number", "varchar"), ("name", "varchar"),
    ("contribution_year", "smallint"), ("tier", "numeric"), ("amount", "numeric"),
    ("kind", "varchar"), ("paid_on", "date"), ("channel", "varchar"), ("tax_office", "varchar"),
    ("county_id", "varchar"), ("region_code", "varchar"), ("resident_id", "bigint"),
    ("payment_id", "bigint"), ("status", "varchar"), ("hold_reason", "varchar"),
    ("key_id", "bigint"), ("received_at", "timestamptz"),
)  # fmt: skip


def _insert_records(*, key: ApiKey, plans: list[_Plan]) -> dict[str, int]:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING: the ids of the rows this batch stored, by
    voucher. A voucher missing from the answer was stored by a concurrent batch meanwhile."""
    now = timezone.now()
    rows = [
        (
            plan.item.voucher_no,
            plan.item.id_number,
            plan.item.name,
            plan.item.contribution_year,
            plan.item.tier,
            plan.item.amount,
            plan.item.kind,
            plan.item.paid_on,
            plan.item.channel,
            plan.item.tax_office,
            key.county_id,
            _region_code(key, plan.resident),
            plan.resident.pk if plan.resident is not None else None,
            plan.payment_id,
            plan.status,
            plan.hold_reason,
            key.pk,
            now,
        )
        for plan in plans
    ]
    return {
        voucher: pk
        for pk, voucher in insert_rows(
            SyncedRecord._meta.db_table,
            _INSERT_COLUMNS,
            rows,
            tail="ON CONFLICT (voucher_no) DO NOTHING RETURNING id, voucher_no",
        )
    }


def _region_code(key: ApiKey, resident: Resident | None) -> str:
    return resident.village_id if resident is not None else key.county_id


def _record_findings(*, key: ApiKey, held: list[_Plan], ids: dict[str, int]) -> None:
    """Each held record is a discrepancy for the county to resolve, and an audit entry."""
    Discrepancy.objects.bulk_create(
        [
            Discrepancy(
                record_key=f"tax:{plan.item.voucher_no}",
                county_id=key.county_id,
                region_code=_region_code(key, plan.resident),
                month=plan.item.paid_on.replace(day=1),
                category=plan.category,
                detail=plan.hold_reason,
                voucher_no=plan.item.voucher_no,
                id_number=plan.item.id_number,
                name=plan.item.name,
                contribution_year=plan.item.contribution_year,
                tax_amount=plan.item.amount,
                synced_record_id=ids[plan.item.voucher_no],
            )
            for plan in held
        ],
        ignore_conflicts=True,
    )
    audit_record_bulk(
        actor=key.account,
        action="synced_record.hold",
        target_type=SyncedRecord._meta.label_lower,
        rows=(
            (
                str(ids[plan.item.voucher_no]),
                _region_code(key, plan.resident),
                {
                    "voucher_no": plan.item.voucher_no,
                    "id_number": plan.item.id_number,
                    "amount": str(plan.item.amount),
                    "reason": plan.hold_reason,
                },
            )
            for plan in held
        ),
        note=_("接口密钥 %(prefix)s") % {"prefix": key.prefix},
    )


# --- reversals ----------------------------------------------------------------------------


class SyncRecordNotFound(LookupError):
    """No synced record with that voucher in the key's county (404, nothing revealed)."""


class SyncConflict(Exception):
    """A request that contradicts what is stored (409); `code` for programs, message for
    people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class SyncInvalid(ValueError):
    """A malformed request body (400); `errors` maps each field to its reason in Chinese."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(_separator().join(str(error) for error in errors.values()))
        self.errors = errors


REVERSAL_KINDS = {"refund": gettext_lazy("退费"), "void": gettext_lazy("作废")}
_REVERSAL_REASON_MAX = 150


@dataclass(frozen=True)
class ReversalResult:
    record: SyncedRecord
    reversal: Payment
    created: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "voucher_no": self.record.voucher_no,
            "reversal_voucher_no": self.reversal.voucher_no,
            "amount": f"{self.reversal.amount:.2f}",
            "reason": self.reversal.note,
            "reversed_at": self.reversal.recorded_at,
            "created": self.created,
        }


def _reversal_input(data: object) -> tuple[str, str, str]:
    if not isinstance(data, dict):
        raise SyncInvalid({"body": _("请求体应为 JSON 对象")})
    errors: dict[str, str] = {}
    voucher = data.get("reversal_voucher_no")
    if not isinstance(voucher, str) or not voucher.strip():
        errors["reversal_voucher_no"] = _("〈冲正电子税票号码〉不能为空")
    elif not voucher_is_wellformed(voucher.strip()):
        errors["reversal_voucher_no"] = _(
            "〈冲正电子税票号码〉只能包含字母、数字和 . _ -，最长 40 个字符"
        )
    kind = data.get("kind")
    if kind not in REVERSAL_KINDS:
        errors["kind"] = _("〈冲正类型〉应为 refund（退费）或 void（作废）")
    reason = data.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        errors["reason"] = _("〈冲正原因〉不能为空")
    elif len(reason.strip()) > _REVERSAL_REASON_MAX:
        errors["reason"] = _("〈冲正原因〉不能超过 %(max)s 个字") % {"max": _REVERSAL_REASON_MAX}
    if errors:
        raise SyncInvalid(errors)
    return voucher.strip(), kind, reason.strip()


def sync_payment_reverse(*, key: ApiKey, voucher_no: str, data: object) -> ReversalResult:
    """Refund or void the payment a synced record became, by a linked reversal entry.

    The same reversal sent again (same reversal voucher) answers the stored one; another
    reversal of a reversed payment, or any reversal of a held record, is a conflict.
    """
    reversal_voucher, kind, reason = _reversal_input(data)
    with transaction.atomic():
        record = (
            SyncedRecord.objects.visible_to(key.account)
            .filter(voucher_no=voucher_no, county_id=key.county_id)
            .select_related("payment")
            .first()
        )
        if record is None:
            raise SyncRecordNotFound(
                _("没有电子税票号码为 %(voucher)s 的同步记录") % {"voucher": voucher_no}
            )
        if record.status == SyncedRecord.Status.HELD:
            raise SyncConflict("held_record", str(HELD_NOT_REVERSIBLE))
        payment = record.payment
        # One reversal at a time per resident, as for payments: a retried request waits for
        # the first and then finds its reversal.
        Resident.objects.select_for_update().filter(pk=payment.resident_id).first()
        existing = Payment.objects.filter(reverses=payment).first()
        if existing is not None:
            if existing.voucher_no == reversal_voucher:
                return ReversalResult(record=record, reversal=existing, created=False)
            raise SyncConflict(
                "already_reversed",
                _("电子税票号码 %(voucher)s 的缴费已由冲正凭证 %(reversal)s 冲正")
                % {"voucher": voucher_no, "reversal": existing.voucher_no},
            )
        if Payment.objects.filter(source=payment.source, voucher_no=reversal_voucher).exists():
            raise SyncConflict(
                "voucher_in_use",
                _("冲正电子税票号码 %(voucher)s 已被另一笔记录使用")
                % {"voucher": reversal_voucher},
            )
        try:
            reversal = payment_reverse(
                payment=payment,
                voucher_no=reversal_voucher,
                reason=_("%(kind)s：%(reason)s") % {"kind": REVERSAL_KINDS[kind], "reason": reason},
                recorded_by=key.account,
            )
        except PaymentRejected as exc:
            raise SyncConflict("refused", str(exc)) from None
    return ReversalResult(record=record, reversal=reversal, created=True)
