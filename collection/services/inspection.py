"""The inspection worksheet (检查工作底稿, attachment 3 of the Cangyuan notice) of a township or a
village: what the joint inspections of the tax bureau, the social-security bureau and the
discipline commission look at, filled from the data, for the inspector to annotate.

The checks are the notice's: the public notices posted by their due dates (公示告知书按时张贴),
the agents' signed safety commitments (承诺书), the agents within the cash limits (双限),
progress against the plan's milestones (征缴进度与计划), and the share of the money taken in
cash (现金征收占比), whose high-share units are inspected first. Every rule is the one the
notices, agents and progress services apply; this module only reads, in a fixed number of
queries whatever the number of villages, groups, notices or agents.

`collection.exporters.inspection` renders the result; the download view calls both.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Exists, OuterRef, TextChoices
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collection.models import CashLimitBreach, ContributionSchedule, Notice
from collection.services.agents import (
    CashPosition,
    Limits,
    agents_cash_overview,
    agents_in_region_ids,
    default_limits,
)
from collection.services.notices import notice_due_on, notices_due_around, notices_overdue
from collection.services.progress import (
    ProgressUnit,
    cash_share_ranking,
    progress_rank,
    progress_report,
)
from pension.dates import start_of
from pension.models import Region, User

INSPECTION_LEVELS = (Region.Level.TOWNSHIP, Region.Level.VILLAGE)
# Who takes the worksheet: the joint inspection (the county bureau, the tax bureau, auditors)
# and the township for its self-inspection; a village agent is the one inspected.
INSPECTING_ROLES = (User.Role.COUNTY, User.Role.TOWNSHIP, User.Role.TAX, User.Role.AUDITOR)


def inspection_may_download(user: User) -> bool:
    """Whether `user`'s role takes inspection worksheets (their region is the view's to check)."""
    return user.is_superuser or user.role in INSPECTING_ROLES


# "Whether the daily check found a breach lately": the month before the worksheet's day.
BREACH_WINDOW_DAYS = 30


class NoticeVerdict(TextChoices):
    """How a notice due on or before the worksheet's day stood on that day."""

    ON_TIME = "on_time", gettext_lazy("按时公示")
    LATE = "late", gettext_lazy("逾期公示")
    OVERDUE = "overdue", gettext_lazy("逾期未公示")
    DUE_TODAY = "due_today", gettext_lazy("当日到期，尚未公示")


@dataclass(frozen=True)
class NoticeLine:
    """One villager group's notice due on or before the day. `posted_on` is the day it was
    generated (printed for the notice board), left empty when that was after the day."""

    village: str
    group: str
    group_code: str
    kind: str
    kind_label: str
    period: str
    due_on: datetime.date
    posted_on: datetime.date | None
    verdict: str

    @property
    def days_late(self) -> int:
        if self.posted_on is None or self.posted_on <= self.due_on:
            return 0
        return (self.posted_on - self.due_on).days

    @property
    def on_time(self) -> bool:
        return self.verdict == NoticeVerdict.ON_TIME

    @property
    def verdict_label(self) -> str:
        if self.verdict == NoticeVerdict.LATE:
            return _("逾期%(days)s天公示") % {"days": self.days_late}
        return str(NoticeVerdict(self.verdict).label)


@dataclass(frozen=True)
class AgentLine:
    """One village agent of the unit: their commitment and the cash they hold on the day,
    judged by the same `CashPosition` as the daily 双限 check, and that check's records of the
    last `BREACH_WINDOW_DAYS` days."""

    name: str
    username: str
    villages: list[str]
    commitment_signed_on: datetime.date | None
    position: CashPosition
    breach_days: int = 0  # days the daily check recorded a breach within the window
    last_breach_on: datetime.date | None = None
    breach_kinds: list[str] = field(default_factory=list)  # labels of the limits broken

    @property
    def commitment_signed(self) -> bool:
        """Signed on or before the worksheet's day; no profile or no date is not signed."""
        signed_on = self.commitment_signed_on
        return signed_on is not None and signed_on <= self.position.day

    @property
    def in_breach(self) -> bool:
        return self.position.in_breach


@dataclass
class InspectionWorksheet:
    """Everything the worksheet of one township or village shows, as plain values.

    `units` are the villages of the township (a village's worksheet: that village only), read
    from the township's progress report; `total` is the township's total, None for a village.
    """

    region: Region
    township: Region
    unit_name: str  # county, township (and village) names, as the title prints them
    year: int
    day: datetime.date
    snapshot_day: datetime.date | None
    limits: Limits
    notices: list[NoticeLine]
    agents: list[AgentLine]
    units: list[ProgressUnit]
    total: ProgressUnit | None
    ranked: int  # villages of the township with a rate, for "rank of N"
    cash_ranks: dict[str, int]  # village code -> place by cash share, highest first

    @property
    def is_village(self) -> bool:
        return self.region.level == Region.Level.VILLAGE

    @property
    def unit(self) -> ProgressUnit | None:
        """The line progress and cash share are judged on: the township's total or the village."""
        if self.total is not None:
            return self.total
        return self.units[0] if self.units else None

    def notices_counted(self, verdict: str) -> int:
        return sum(1 for line in self.notices if line.verdict == verdict)

    @property
    def agents_unsigned(self) -> int:
        return sum(1 for line in self.agents if not line.commitment_signed)

    @property
    def agents_in_breach(self) -> int:
        return sum(1 for line in self.agents if line.in_breach)

    @property
    def agents_breached_lately(self) -> int:
        return sum(1 for line in self.agents if line.breach_days)

    @property
    def flagged_units(self) -> int:
        return sum(1 for unit in self.units if unit.flagged)


def inspection_worksheet(*, region: Region, year: int, day: datetime.date) -> InspectionWorksheet:
    """The worksheet of a township or a village for a campaign year, as it stood on `day`.

    Notices are the campaign year's (monthly periods of the year and the year's annual lists)
    due on or before the day, with those the daily task has not stored yet; agents are the
    active agents with a village in the unit; progress and cash share come from the nightly
    progress rows only (`progress_report` of the township). Sixteen queries at most, however
    many villages, groups, notices and agents there are.
    """
    if region.level not in INSPECTION_LEVELS:
        raise ValueError(
            _("检查工作底稿按乡镇或村(社区)编制：%(name)s不是乡镇或村") % {"name": region.name}
        )
    township_code = region.code[: Region.CODE_LENGTH[Region.Level.TOWNSHIP]]
    county_code = region.code[: Region.CODE_LENGTH[Region.Level.COUNTY]]
    above = {r.code: r for r in Region.objects.filter(code__in=[county_code, township_code])}
    township = above[township_code]
    names = [above[code].name for code in (county_code, township_code) if code in above]
    if region.level == Region.Level.VILLAGE:
        names.append(region.name)

    report = progress_report(region=township, year=year, day=day)
    progress_rank(report.units)  # sets each village's rank among the township's in place
    cash_ranks = {unit.code: n for n, unit in enumerate(cash_share_ranking(report.units), 1)}
    if region.level == Region.Level.VILLAGE:
        units, total = [unit for unit in report.units if unit.code == region.code], None
    else:
        units, total = report.units, report.total

    return InspectionWorksheet(
        region=region,
        township=township,
        unit_name="".join(name for name in names if name),
        year=year,
        day=day,
        snapshot_day=report.snapshot_day,
        limits=_limits(province_code=region.code[:2], year=year),
        notices=inspection_notices(region=region, year=year, day=day),
        agents=inspection_agents(region=region, day=day),
        units=units,
        total=total,
        ranked=sum(1 for unit in report.units if unit.rank is not None),
        cash_ranks=cash_ranks,
    )


def _limits(*, province_code: str, year: int) -> Limits:
    """The 双限 the worksheet quotes: the year's schedule's (*config*), else the default."""
    schedule = (
        ContributionSchedule.objects.for_province_year(province_code, year)
        .only("cash_limit_days", "cash_limit_amount")
        .first()
    )
    if schedule is None:
        return default_limits()
    return Limits(schedule.cash_limit_days, schedule.cash_limit_amount)


# --- 公示告知书按时张贴 ----------------------------------------------------------------------


def _posted_on(notice: Notice, day: datetime.date) -> datetime.date | None:
    """The local day a notice was generated, if that was by the end of `day` (the same bound
    `notices_overdue` uses: generated before the start of the next day)."""
    generated = notice.generated_at
    if generated is None or generated >= start_of(day + datetime.timedelta(days=1)):
        return None
    return timezone.localtime(generated).date()


def _verdict(*, due_on: datetime.date, posted_on: datetime.date | None, overdue: bool) -> str:
    if overdue:
        return NoticeVerdict.OVERDUE
    if posted_on is None:
        return NoticeVerdict.DUE_TODAY  # due on the day itself: not overdue before it ends
    return NoticeVerdict.ON_TIME if posted_on <= due_on else NoticeVerdict.LATE


def inspection_notices(*, region: Region, year: int, day: datetime.date) -> list[NoticeLine]:
    """Each villager group's notices of the campaign year due on or before `day`, in group
    order and then by due date. Overdue is `notices_overdue`'s answer for the day; a notice
    the daily task has not stored yet (`notices_due_around`) is listed as it would be stored,
    unposted. Two queries."""
    period_of_year = str(year)
    groups = list(
        Region.objects.filter(code__startswith=region.code, level=Region.Level.GROUP)
        .select_related("parent")
        .order_by("code")
    )
    overdue = notices_overdue(region_code=region.code, day=day).filter(pk=OuterRef("pk"))
    stored: dict[str, list[Notice]] = {}
    for notice in (
        Notice.objects.filter(
            group__code__startswith=region.code,
            period__startswith=period_of_year,
            due_on__lte=day,
        )
        .annotate(overdue=Exists(overdue))
        .order_by("group_id", "due_on", "kind")
    ):
        stored.setdefault(notice.group_id, []).append(notice)
    due = [
        (kind, period, due_on)
        for kind, period in notices_due_around(day)
        if period.startswith(period_of_year)
        and (due_on := notice_due_on(kind=kind, period=period)) <= day
    ]

    lines: list[NoticeLine] = []
    for group in groups:
        notices = stored.get(group.code, [])
        have = {(notice.kind, notice.period) for notice in notices}
        unstored = [
            Notice(group_id=group.code, kind=kind, period=period, due_on=due_on)
            for kind, period, due_on in due
            if (kind, period) not in have
        ]
        for notice in unstored:
            notice.overdue = notice.due_on < day
        village = group.parent.name if group.parent_id else ""
        for notice in sorted([*notices, *unstored], key=lambda n: (n.due_on, n.kind)):
            posted_on = _posted_on(notice, day)
            lines.append(
                NoticeLine(
                    village=village,
                    group=group.name,
                    group_code=group.code,
                    kind=notice.kind,
                    kind_label=str(notice.get_kind_display()),
                    period=notice.period,
                    due_on=notice.due_on,
                    posted_on=posted_on,
                    verdict=_verdict(
                        due_on=notice.due_on, posted_on=posted_on, overdue=notice.overdue
                    ),
                )
            )
    return lines


# --- 承诺书 and 双限 ------------------------------------------------------------------------


def inspection_agents(*, region: Region, day: datetime.date) -> list[AgentLine]:
    """The active agents with a village in the unit, with their commitment, the cash they held
    on `day` against the 双限 limits (`agents_cash_overview`, the daily check's rule) and the
    daily check's records of the last `BREACH_WINDOW_DAYS` days. Five queries."""
    agents = User.objects.filter(
        role=User.Role.AGENT, is_active=True, pk__in=agents_in_region_ids([region.code])
    ).select_related("agent_profile")
    overview = agents_cash_overview(agents=agents, day=day)
    since = day - datetime.timedelta(days=BREACH_WINDOW_DAYS)
    breaches: dict[int, list[tuple[datetime.date, str]]] = {}
    found = (
        CashLimitBreach.objects.filter(agent__in=agents.values("pk"), day__gt=since, day__lte=day)
        .order_by("agent_id", "day", "kind")
        .values_list("agent_id", "day", "kind")
    )
    for agent_id, breach_day, kind in found:
        breaches.setdefault(agent_id, []).append((breach_day, kind))

    lines = []
    for row in overview:
        agent = row.agent
        try:
            signed_on = agent.agent_profile.commitment_signed_on
        except ObjectDoesNotExist:
            signed_on = None
        records = breaches.get(agent.pk, [])
        broken = {kind for _day, kind in records}
        lines.append(
            AgentLine(
                name=agent.display_name,
                username=agent.username,
                villages=[v.name for v in agent.villages.all() if v.code.startswith(region.code)],
                commitment_signed_on=signed_on,
                position=row.position,
                breach_days=len({breach_day for breach_day, _kind in records}),
                last_breach_on=max((breach_day for breach_day, _kind in records), default=None),
                breach_kinds=[str(kind.label) for kind in CashLimitBreach.Kind if kind in broken],
            )
        )
    return lines


__all__ = [
    "BREACH_WINDOW_DAYS",
    "INSPECTING_ROLES",
    "INSPECTION_LEVELS",
    "AgentLine",
    "InspectionWorksheet",
    "NoticeLine",
    "NoticeVerdict",
    "inspection_agents",
    "inspection_may_download",
    "inspection_notices",
    "inspection_worksheet",
]
