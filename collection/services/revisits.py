"""Revisits (回访): payers drawn at random to be visited, and what the visit found.

The Cangyuan notice has the tax bureau revisit payers at random, at least 3 townships and 6
payers each time. A county or tax-bureau user draws a sample from the personal payments of a
period: `townships` townships at random among those with payers in the period, then `payers`
payers at random in each (each resident once, with one of their payments of the period). The
draw is made with a seed that is kept, so it can be made again and checked. A visit's outcome is
recorded on its item; a payer whose amount differs or who says they did not pay becomes a finding
(疑点) for the township to follow up. `revisit_sheet_rows` is the sheet taken on the visit,
which the sample's page and its workbook both show.
"""

from __future__ import annotations

import datetime
import random
import secrets
from dataclasses import dataclass
from decimal import Decimal
from functools import reduce
from operator import or_

from django.db import transaction
from django.db.models import Min, Q
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from collection.models import Payment, RevisitItem, RevisitSample, Tier
from enrollment.models import Finding
from pension.dates import start_of
from pension.idnumber import mask
from pension.models import Region, User
from pension.services import audit_record

MIN_TOWNSHIPS = 3  # the notice's floor: at least 3 townships and 6 payers each
MIN_PAYERS = 6
MAX_SAMPLE = 50  # townships and payers per township, each: a visit, not a census
SEED_LIMIT = 2**63 - 1
DIFFERENT = (RevisitItem.Outcome.AMOUNT_DIFFERS, RevisitItem.Outcome.DID_NOT_PAY)


class RevisitRefused(Exception):
    """A draw or an outcome that breaks a rule or is not the actor's; the message is in Chinese."""


def revisit_refusal(*, actor: User | None, county: Region) -> str:
    """Why `actor` may not draw or record a revisit of `county`, or "" when they may."""
    if county.level != Region.Level.COUNTY:
        return _("回访按县抽取：%(name)s不是县级区划") % {"name": county.name}
    if actor is None or actor.is_superuser:
        return ""
    if actor.role not in (User.Role.COUNTY, User.Role.TAX):
        return _("只有县人社局和税务局人员可以抽取和登记回访")
    if not actor.can_see_region(county.code):
        return _("%(name)s不在您的辖区内") % {"name": county.name}
    return ""


def _payers(county: Region, start: datetime.date, end: datetime.date):
    """Counted personal payments of the county paid from `start` to `end` inclusive."""
    return Payment.objects.counted().filter(
        county_code=county.code,
        kind=Payment.Kind.PERSONAL,
        paid_at__gte=start_of(start),
        paid_at__lt=start_of(end + datetime.timedelta(days=1)),
    )


def revisit_sample_draw(
    *,
    county: Region,
    start: datetime.date,
    end: datetime.date,
    townships: int = MIN_TOWNSHIPS,
    payers: int = MIN_PAYERS,
    seed: int | None = None,
    actor: User | None,
) -> RevisitSample:
    """Draw and keep a sample; the same seed on the same payments draws the same payers.

    Fewer townships with payers than asked for, or fewer payers in a township, take them all.
    """
    refusal = revisit_refusal(actor=actor, county=county)
    if refusal:
        raise RevisitRefused(refusal)
    if start > end:
        raise RevisitRefused(_("缴费起始日期不能晚于截止日期"))
    if not MIN_TOWNSHIPS <= townships <= MAX_SAMPLE:
        raise RevisitRefused(
            _("抽取乡镇数应在 %(low)s 至 %(high)s 之间")
            % {"low": MIN_TOWNSHIPS, "high": MAX_SAMPLE}
        )
    if not MIN_PAYERS <= payers <= MAX_SAMPLE:
        raise RevisitRefused(
            _("每乡镇抽取人数应在 %(low)s 至 %(high)s 之间")
            % {"low": MIN_PAYERS, "high": MAX_SAMPLE}
        )
    if seed is None:
        seed = secrets.randbelow(SEED_LIMIT)
    elif not 0 <= seed <= SEED_LIMIT:
        raise RevisitRefused(_("随机种子应为 0 至 %(high)s 之间的整数") % {"high": SEED_LIMIT})
    rng = random.Random(seed)
    # The townships with payers in the period, in one grouped query; then, for the chosen ones
    # only, each payer once by their first payment of the period. Both sorted, so that the
    # seed alone decides the draw.
    length = Region.CODE_LENGTH[Region.Level.TOWNSHIP]
    payments = _payers(county, start, end)
    candidates = list(
        payments.annotate(township=Substr("resident__village_id", 1, length))
        .values_list("township", flat=True)
        .distinct()
        .order_by("township")
    )
    if not candidates:
        raise RevisitRefused(
            _("%(start)s 至 %(end)s 本县没有个人缴费记录，无法抽样")
            % {"start": f"{start:%Y-%m-%d}", "end": f"{end:%Y-%m-%d}"}
        )
    chosen = sorted(rng.sample(candidates, min(townships, len(candidates))))
    drawn: list[tuple[str, int]] = []
    for township in chosen:  # at most MAX_SAMPLE queries, one a township
        pool = list(
            payments.in_region(township)
            .values("resident_id")
            .annotate(payment_id=Min("id"))
            .order_by("resident_id")
            .values_list("payment_id", flat=True)
        )
        drawn += [(township, pk) for pk in sorted(rng.sample(pool, min(payers, len(pool))))]
    with transaction.atomic():
        sample = RevisitSample.objects.create(
            county=county, period_start=start, period_end=end, townships=townships,
            payers=payers, seed=seed, drawn_by=actor if actor is not None and actor.pk else None,
        )  # fmt: skip
        RevisitItem.objects.bulk_create(
            RevisitItem(sample=sample, payment_id=payment_id, township_id=township)
            for township, payment_id in drawn
        )
        audit_record(
            actor=actor,
            action="revisit.draw",
            target=sample,
            region_code=county.code,
            changes={
                "period": [f"{start:%Y-%m-%d}", f"{end:%Y-%m-%d}"],
                "townships": chosen,
                "payers": payers,
                "seed": seed,
            },
        )
    return sample


def revisit_record(
    *, item: RevisitItem, outcome: str, note: str = "", actor: User | None
) -> RevisitItem:
    """Record what the visit found; an amount that differs or a payer who did not pay raises
    a finding for the township, with the note."""
    refusal = revisit_refusal(actor=actor, county=item.sample.county)
    if refusal:
        raise RevisitRefused(refusal)
    if outcome not in RevisitItem.Outcome.values or outcome == RevisitItem.Outcome.PENDING:
        raise RevisitRefused(_("回访结果无效：%(outcome)s") % {"outcome": outcome})
    note = note.strip()
    if outcome in DIFFERENT and not note:
        raise RevisitRefused(_("回访情况不符时必须填写说明"))
    with transaction.atomic():
        item = RevisitItem.objects.select_for_update().select_related(
            "payment__resident", "sample"
        ).get(pk=item.pk)  # fmt: skip
        old = item.outcome
        item.outcome, item.note = outcome, note
        item.recorded_by = actor if actor is not None and actor.pk else None
        item.recorded_at = timezone.now()
        item.save(update_fields=["outcome", "note", "recorded_by", "recorded_at"])
        resident = item.payment.resident
        if outcome in DIFFERENT:
            Finding.objects.get_or_create(
                kind=Finding.Kind.REVISIT_DIFFERS,
                id_number=resident.id_number,
                status=Finding.Status.OPEN,
                defaults={
                    "name": resident.name,
                    "resident": resident,
                    "region_id": resident.village_id,
                    "detail": _("%(outcome)s：%(note)s（凭证号 %(voucher)s）")
                    % {
                        "outcome": item.get_outcome_display(),
                        "note": note,
                        "voucher": item.payment.voucher_no,
                    },
                    "source": _("回访抽样 #%(pk)s") % {"pk": item.sample_id},
                },
            )
        audit_record(
            actor=actor,
            action="revisit.record",
            target=item,
            region_code=resident.village_id,
            changes={"outcome": [old, outcome]},
            note=note,
        )
    return item


# --- the sheet taken on the visit ------------------------------------------------------------


@dataclass(frozen=True)
class RevisitSheetRow:
    """One payer's line of a sample's sheet: what the visitor reads out and what they found.

    Only the masked ID number is carried: the sheet is printed and taken into villages.
    """

    item_id: int
    township: str
    village: str
    group: str
    name: str
    masked_id: str
    tier: str
    amount: Decimal
    channel: str
    paid_on: datetime.date
    agent: str
    outcome: str
    outcome_label: str
    note: str
    recorded_by: str
    recorded_at: datetime.datetime | None

    @property
    def pending(self) -> bool:
        return self.outcome == RevisitItem.Outcome.PENDING


def _province_of(village_code: str) -> str:
    return village_code[: Region.CODE_LENGTH[Region.Level.PROVINCE]]


def _tier_labels(pairs: set[tuple[str, int]]) -> dict[tuple[str, int, Decimal], str]:
    """The label of every tier (第3档 300 元) of the schedules of (province, year) `pairs`, in
    one query; a tier's number is its place among its schedule's tiers ordered by amount."""
    if not pairs:
        return {}
    wanted = reduce(or_, (Q(schedule__province_id=p, schedule__year=y) for p, y in pairs))
    labels: dict[tuple[str, int, Decimal], str] = {}
    position: dict[int, int] = {}
    tiers = Tier.objects.filter(wanted).select_related("schedule").order_by("schedule_id", "amount")
    for tier in tiers:
        position[tier.schedule_id] = position.get(tier.schedule_id, 0) + 1
        key = (tier.schedule.province_id, tier.schedule.year, tier.amount)
        labels[key] = _("第%(position)s档 %(tier)s") % {
            "position": position[tier.schedule_id],
            "tier": tier,
        }
    return labels


def revisit_sheet_rows(*, sample: RevisitSample) -> list[RevisitSheetRow]:
    """The sample's payers by township, village and name, as the detail page and the workbook
    (collection.exporters.revisits) show them.

    Two queries whatever the sample's size: the items with their payment, resident, places,
    recorder and the agent whose cash receipt became the payment; then the tiers of the
    schedules the payments fall under. An amount that is no tier of its schedule (or of no
    schedule at all) is shown as 非标准档次 for the visitor to ask about.
    """
    items = list(
        sample.items.select_related(
            "township", "payment__resident__village", "payment__resident__group",
            "payment__cash_receipt__agent", "recorded_by",
        ).order_by(
            "township_id", "payment__resident__village_id", "payment__resident__name", "pk"
        )
    )  # fmt: skip
    tiers = _tier_labels(
        {
            (_province_of(item.payment.resident.village_id), item.payment.contribution_year)
            for item in items
        }
    )
    off_tier = _("非标准档次")
    rows = []
    for item in items:
        payment, resident = item.payment, item.payment.resident
        # Not an agent's cash (or cash not yet posted): the reverse one-to-one is cached empty.
        receipt = getattr(payment, "cash_receipt", None)
        key = (_province_of(resident.village_id), payment.contribution_year, payment.amount)
        rows.append(
            RevisitSheetRow(
                item_id=item.pk,
                township=item.township.name,
                village=resident.village.name,
                group=resident.group.name if resident.group_id else "",
                name=resident.name,
                masked_id=mask(resident.id_number),
                tier=tiers.get(key, off_tier),
                amount=payment.amount,
                channel=payment.get_channel_display(),
                paid_on=timezone.localdate(payment.paid_at),
                agent=receipt.agent.display_name if receipt is not None else "",
                outcome=item.outcome,
                outcome_label=item.get_outcome_display(),
                note=item.note,
                recorded_by=item.recorded_by.display_name if item.recorded_by_id else "",
                recorded_at=item.recorded_at,
            )
        )
    return rows
