"""Contribution schedules: checking a tier list, finding a province's schedule for a year, and
whether a resident qualifies for the government's proxy payment under it."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from collection.models import ContributionSchedule, Tier
from enrollment.models import Resident, SpecialGroupMembership

LOWEST_TIER_MIN_SUBSIDY = Decimal("30.00")
HIGH_TIER_THRESHOLD = Decimal("500.00")
HIGH_TIER_MIN_SUBSIDY = Decimal("60.00")


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
        return [_("缴费方案至少需要一个缴费档次")]
    amounts = [tier.amount for tier in ordered]
    for amount in sorted({a for a in amounts if amounts.count(a) > 1}):
        errors.append(_("缴费档次 %(amount)s 元重复") % {"amount": f"{amount:.0f}"})
    lowest = ordered[0]
    if lowest.subsidy < LOWEST_TIER_MIN_SUBSIDY:
        errors.append(
            _("最低档次 %(amount)s 元的政府补贴为 %(subsidy)s 元，不得低于 %(minimum)s 元")
            % {
                "amount": f"{lowest.amount:.0f}",
                "subsidy": lowest.subsidy,
                "minimum": f"{LOWEST_TIER_MIN_SUBSIDY:.0f}",
            }
        )
    for tier in ordered:
        if tier.amount >= HIGH_TIER_THRESHOLD and tier.subsidy < HIGH_TIER_MIN_SUBSIDY:
            errors.append(
                _(
                    "%(amount)s 元档次的政府补贴为 %(subsidy)s 元，"
                    "%(threshold)s 元及以上档次不得低于 %(minimum)s 元"
                )
                % {
                    "amount": f"{tier.amount:.0f}",
                    "subsidy": tier.subsidy,
                    "threshold": f"{HIGH_TIER_THRESHOLD:.0f}",
                    "minimum": f"{HIGH_TIER_MIN_SUBSIDY:.0f}",
                }
            )
    for lower, higher in pairwise(ordered):
        if higher.subsidy < lower.subsidy:
            errors.append(
                _(
                    "%(higher)s 元档次的补贴（%(higher_subsidy)s 元）低于 "
                    "%(lower)s 元档次（%(lower_subsidy)s 元），补贴不得随档次提高而降低"
                )
                % {
                    "higher": f"{higher.amount:.0f}",
                    "higher_subsidy": higher.subsidy,
                    "lower": f"{lower.amount:.0f}",
                    "lower_subsidy": lower.subsidy,
                }
            )
    return errors


def schedule_for(*, province_code: str, year: int) -> ContributionSchedule | None:
    return (
        ContributionSchedule.objects.for_province_year(province_code, year)
        .prefetch_related("tiers", "milestones")
        .first()
    )


def schedule_years(*, province_code: str) -> list[int]:
    """The years the province has a contribution schedule for, latest first."""
    return list(
        ContributionSchedule.objects.filter(province_id=province_code)
        .order_by("-year")
        .values_list("year", flat=True)
        .distinct()
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


class TierRefused(ValueError):
    """An amount that is not a tier the resident may choose; the message is in Chinese."""


def tier_for(
    *, resident: Resident, year: int, amount: Decimal
) -> tuple[ContributionSchedule, Tier]:
    """DESIGN §6 rule 2: the schedule of the resident's province and the tier of `amount`.

    The government-only tier (Yunnan's 100) is open only to a resident in a qualifying group.
    Every interface that takes money (counter, agents' cash, imports) checks through here.
    """
    schedule = schedule_for(province_code=resident.village_id[:2], year=year)
    tier = tier_check(
        schedule=schedule,
        year=year,
        amount=amount,
        qualifies=lambda: resident_qualifies_for_proxy(resident=resident, schedule=schedule),
    )
    return schedule, tier


def tier_check(
    *,
    schedule: ContributionSchedule | None,
    year: int,
    amount: Decimal,
    qualifies: Callable[[], bool],
) -> Tier:
    """The rule of `tier_for` on a schedule already loaded with its tiers, for callers that
    check many payments at once; `qualifies` is asked only for a government-only tier."""
    if schedule is None:
        raise TierRefused(_("%(year)s 年度尚未配置该省的缴费方案") % {"year": year})
    tier = next((t for t in schedule.tiers.all() if t.amount == amount), None)
    if tier is None:
        listed = pgettext("list separator", "、").join(
            f"{t.amount:.0f}" for t in schedule.tiers.all()
        )
        raise TierRefused(
            _("%(amount)s 元不是 %(year)s 年度的缴费档次（可选：%(listed)s）")
            % {"amount": amount, "year": year, "listed": listed}
        )
    if tier.government_only and not qualifies():
        raise TierRefused(_("%(amount)s 元档次仅限政府代缴对象选择") % {"amount": f"{amount:.0f}"})
    return tier


def tiers_open_to(*, resident: Resident, year: int) -> list[Tier]:
    """The tiers a resident may choose in a year (the government-only one if they qualify)."""
    schedule = schedule_for(province_code=resident.village_id[:2], year=year)
    if schedule is None:
        return []
    qualifies = resident_qualifies_for_proxy(resident=resident, schedule=schedule)
    return [t for t in schedule.tiers.all() if qualifies or not t.government_only]


def residents_qualifying_for_proxy(
    *, resident_ids: Iterable[int], schedule: ContributionSchedule
) -> set[int]:
    """`resident_qualifies_for_proxy` for many residents in one query."""
    year_end = datetime.date(schedule.year, 12, 31)
    return set(
        SpecialGroupMembership.objects.filter(
            resident_id__in=list(resident_ids),
            category__in=schedule.qualifying_categories or [],
        )
        .backed_in_year(schedule.year)
        .filter(valid_from__lte=year_end)
        .values_list("resident_id", flat=True)
    )
