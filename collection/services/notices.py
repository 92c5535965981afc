"""Public notices (公示) per villager group: which are due, their rows, and marking them generated.

A monthly notice for month M lists the payments made in M and is due on the 20th of M+1; the
paid and unpaid lists of contribution year Y are due on the last day of February of Y+1
(DESIGN §6 rule 10). Rows carry a masked ID number only: never the full number, a phone number
or a special-group category, because the lists are posted on village notice boards.

Reading a notice (the printable page, the workbook download) writes nothing; generating one
(`notices_generate`, a POST on the page or the `generate_notices` command) marks it generated,
with an audit row, and the same role and region rule holds for page and command. Work over a
whole region is set-based: the rows of every group come from one query, the marks from a few
statements, whatever the number of groups or residents.
"""

from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import groupby

from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from collection.models import Notice, Payment
from enrollment.models import Resident
from pension.dates import start_of
from pension.idnumber import mask
from pension.models import Region, User
from pension.services import audit_record_bulk

# Residents still expected to pay this year; sealed, deceased, cancelled, excluded, too young and
# receiving residents never appear on an unpaid list.
EXPECTED_TO_PAY = (Resident.Status.ELIGIBLE, Resident.Status.ENROLLED)
MONTHLY_DUE_DAY = 20

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")


# Who may generate (mark as posted) a notice, inside their own region: county and township
# staff, and a village agent for their villages. Auditors and the tax bureau only read.
GENERATING_ROLES = (User.Role.COUNTY, User.Role.TOWNSHIP, User.Role.AGENT)
GENERATING_LEVELS = (
    Region.Level.COUNTY,
    Region.Level.TOWNSHIP,
    Region.Level.VILLAGE,
    Region.Level.GROUP,
)
ROWS_CHUNK = 5000


class NoticeRejected(Exception):
    """A notice asked for with a wrong group, kind or period; the message says which and why."""


class NoticeForbidden(NoticeRejected):
    """The user's role or region does not allow generating the notice."""


@dataclass(frozen=True)
class NoticeRow:
    """One line of a posted notice. `amount` and `paid_on` are None on unpaid lists."""

    village: str
    group: str
    name: str
    masked_id: str
    amount: Decimal | None = None
    paid_on: datetime.date | None = None


# --- due dates -------------------------------------------------------------------------------


def monthly_due_on(year: int, month: int) -> datetime.date:
    """The 20th of the month after `month`."""
    if month == 12:
        return datetime.date(year + 1, 1, MONTHLY_DUE_DAY)
    return datetime.date(year, month + 1, MONTHLY_DUE_DAY)


def annual_due_on(year: int) -> datetime.date:
    """The last day of February of the next year (29 February in leap years)."""
    return datetime.date(year + 1, 2, calendar.monthrange(year + 1, 2)[1])


def notice_period_parse(*, kind: str, period: str, today: datetime.date | None = None):
    """(year, month or None) of a valid period; raises NoticeRejected naming the reason."""
    today = today or timezone.localdate()
    if kind not in Notice.Kind.values:
        raise NoticeRejected(
            _("公示类型 %(kind)s 无效：应为 monthly、paid 或 unpaid") % {"kind": kind}
        )
    period = (period or "").strip()
    if kind == Notice.Kind.MONTHLY:
        found = _MONTH.fullmatch(period)
        if not found or not 1 <= int(found[2]) <= 12:
            raise NoticeRejected(
                _("公示月份 %(period)s 格式错误：应为 YYYY-MM，如 2023-05") % {"period": period}
            )
        year, month = int(found[1]), int(found[2])
        if (year, month) > (today.year, today.month):
            raise NoticeRejected(
                _("公示月份 %(period)s 是将来的月份，尚无缴费可公示") % {"period": period}
            )
        return year, month
    found = _YEAR.fullmatch(period)
    if not found:
        raise NoticeRejected(
            _("公示年度 %(period)s 格式错误：应为 YYYY，如 2023") % {"period": period}
        )
    year = int(found[1])
    if year > today.year:
        raise NoticeRejected(
            _("公示年度 %(period)s 是将来的年度，尚无名单可公示") % {"period": period}
        )
    return year, None


def notice_due_on(*, kind: str, period: str) -> datetime.date:
    year, month = notice_period_parse(kind=kind, period=period, today=datetime.date.max)
    return monthly_due_on(year, month) if month else annual_due_on(year)


def notices_due_around(day: datetime.date) -> list[tuple[str, str]]:
    """(kind, period) of the notices due on or shortly after `day`: last month's payments, and
    in January and February last year's paid and unpaid lists."""
    last_month = day.replace(day=1) - datetime.timedelta(days=1)
    due = [(Notice.Kind.MONTHLY.value, f"{last_month:%Y-%m}")]
    if day.month <= 2:
        year = str(day.year - 1)
        due += [(Notice.Kind.PAID.value, year), (Notice.Kind.UNPAID.value, year)]
    return due


# --- who may generate ------------------------------------------------------------------------


def notice_role_may_generate(user: User | None) -> bool:
    """The role half of `notice_may_generate`, for pages that list only visible villages."""
    if user is None:
        return True
    if not user.is_active:
        return False
    return user.is_superuser or user.role in GENERATING_ROLES


def notice_may_generate(*, user: User | None, region: Region | str) -> bool:
    """Whether `user` may generate the notices of `region`; `None` is the system (the command
    without --user, the daily task). The page's button and the services use this one rule."""
    code = region if isinstance(region, str) else region.code
    if user is None:
        return True
    return notice_role_may_generate(user) and user.can_see_region(code)


def notice_check(
    *, region: Region, kind: str, period: str, actor: User | None
) -> tuple[int, int | None]:
    """Refuse a generation before anything is read or written; returns (year, month)."""
    if region.level not in GENERATING_LEVELS:
        raise NoticeRejected(
            _("%(name)s 不是县、乡镇、村或村民小组：公示按村民小组编制") % {"name": region.name}
        )
    year, month = notice_period_parse(kind=kind, period=period)
    if not notice_may_generate(user=actor, region=region):
        if actor is not None and notice_role_may_generate(actor):
            raise NoticeForbidden(
                _("%(name)s 不在您的辖区内，不能生成其公示") % {"name": region.name}
            )
        raise NoticeForbidden(_("您的岗位无权生成公示（只能查看）"))
    return year, month


# --- scheduling and status -------------------------------------------------------------------


@transaction.atomic
def notices_schedule(*, region: Region, day: datetime.date) -> int:
    """Make sure every villager group of the region has its due notices; returns how many rows
    were new. Safe to run any number of times a day."""
    groups = list(
        Region.objects.filter(code__startswith=region.code, level=Region.Level.GROUP).values_list(
            "code", flat=True
        )
    )
    due = [
        (kind, period, notice_due_on(kind=kind, period=period))
        for kind, period in notices_due_around(day)
    ]
    existing = Notice.objects.filter(
        group_id__in=groups, period__in={period for _, period, _ in due}
    ).count()
    Notice.objects.bulk_create(
        [
            Notice(group_id=group, kind=kind, period=period, due_on=due_on)
            for group in groups
            for kind, period, due_on in due
        ],
        ignore_conflicts=True,
        batch_size=ROWS_CHUNK,
    )
    return (
        Notice.objects.filter(
            group_id__in=groups, period__in={period for _, period, _ in due}
        ).count()
        - existing
    )


@dataclass(frozen=True)
class NoticeState:
    notice: Notice
    overdue: bool

    @property
    def generated(self) -> bool:
        return self.notice.generated_at is not None

    @property
    def label(self) -> str:
        if self.generated:
            return _("已公示")
        return _("已逾期") if self.overdue else _("待公示")


@dataclass
class VillageNotices:
    code: str
    name: str
    township: str
    notices: list[NoticeState] = field(default_factory=list)

    @property
    def overdue(self) -> int:
        return sum(state.overdue for state in self.notices)

    @property
    def generated(self) -> int:
        return sum(state.generated for state in self.notices)

    @property
    def due(self) -> int:
        return len(self.notices) - self.overdue - self.generated

    @property
    def pending(self) -> list[tuple[str, str, str]]:
        """(kind, period, label) of the notices some group of the village has not generated:
        one button each on the status page generates them for every group of the village."""
        found: dict[tuple[str, str], str] = {}
        for state in self.notices:
            if not state.generated:
                notice = state.notice
                found[notice.kind, notice.period] = f"{notice.period} {notice.get_kind_display()}"
        return [(kind, period, label) for (kind, period), label in sorted(found.items())]


def notice_status(
    *, day: datetime.date, region: Region | str | None = None, user: User | None = None
) -> list[VillageNotices]:
    """Per village, its groups' notices: pending, generated, or overdue (due before `day` and
    not generated). Shows every notice not yet generated, the generated ones of the last year,
    and the notices due around `day` even where the daily task has not stored them yet. Reads
    only, in two queries; `region` and `user` (its visible groups) narrow the villages."""
    if region is None and user is None:
        raise ValueError("notice_status needs a region or a user")
    groups = Region.objects.filter(level=Region.Level.GROUP)
    if region is not None:
        groups = groups.filter(code__startswith=region if isinstance(region, str) else region.code)
    if user is not None:
        groups = groups.visible_to(user)
    rows = (
        Notice.objects.filter(group__in=groups.values("code"))
        .filter(Q(generated_at__isnull=True) | Q(due_on__gte=day - datetime.timedelta(days=366)))
        .select_related("generated_by")
    )
    stored: dict[str, list[Notice]] = {}
    for notice in rows.order_by("group_id", "-due_on", "kind"):
        stored.setdefault(notice.group_id, []).append(notice)
    due = [
        (kind, period, notice_due_on(kind=kind, period=period))
        for kind, period in notices_due_around(day)
    ]
    villages: dict[str, VillageNotices] = {}
    for group in groups.select_related("parent__parent").order_by("code"):
        notices = stored.get(group.code, [])
        for notice in notices:
            notice.group = group
        have = {(notice.kind, notice.period) for notice in notices}
        # Due now but not stored yet: shown as the task would store them, without writing.
        notices += [
            Notice(group=group, kind=kind, period=period, due_on=due_on)
            for kind, period, due_on in due
            if (kind, period) not in have
        ]
        if not notices:
            continue
        village = group.parent
        entry = villages.get(village.code)
        if entry is None:
            township = village.parent.name if village.parent else ""
            entry = villages[village.code] = VillageNotices(village.code, village.name, township)
        notices.sort(key=lambda notice: notice.kind)
        notices.sort(key=lambda notice: notice.due_on, reverse=True)
        entry.notices += [
            NoticeState(notice=n, overdue=n.generated_at is None and n.due_on < day)
            for n in notices
        ]
    return list(villages.values())


def notices_overdue(*, region_code: str, day: datetime.date) -> QuerySet[Notice]:
    """The region's notices overdue at the end of `day`: due before it and not generated by
    then (one generated later was overdue that day all the same). The dashboard and the weekly
    bulletin count these."""
    return Notice.objects.filter(group__code__startswith=region_code, due_on__lt=day).filter(
        Q(generated_at__isnull=True) | Q(generated_at__gte=start_of(day + datetime.timedelta(1)))
    )


# --- rows ------------------------------------------------------------------------------------


def _resident_scope(region: Region, prefix: str = "") -> Q:
    """Residents on a region's notices: a group's own, or those of every group of a village,
    township or county (by the village code, which the resident_village_idx index serves)."""
    if region.level == Region.Level.GROUP:
        return Q(**{f"{prefix}group_id": region.code})
    return Q(**{f"{prefix}village__code__startswith": region.code, f"{prefix}group__isnull": False})


def _month_bounds(year: int, month: int) -> tuple[datetime.datetime, datetime.datetime]:
    start = timezone.make_aware(datetime.datetime(year, month, 1))
    end = timezone.make_aware(datetime.datetime(year + (month == 12), month % 12 + 1, 1))
    return start, end


def _raw_rows(*, region: Region, kind: str, year: int, month: int | None) -> QuerySet:
    """One query for the lines of every group of the region, ordered by group and then as the
    notice lists them: (group code, name, ID number, amount, paid at)."""
    if kind == Notice.Kind.MONTHLY:
        start, end = _month_bounds(year, month)
        return (
            Payment.objects.counted()
            .filter(_resident_scope(region, "resident__"), paid_at__gte=start, paid_at__lt=end)
            .order_by("resident__group_id", "paid_at", "id")
            .values_list(
                "resident__group_id", "resident__name", "resident__id_number", "amount", "paid_at"
            )
        )
    if kind == Notice.Kind.PAID:
        return (
            Payment.objects.counted()
            .filter(_resident_scope(region, "resident__"), contribution_year=year)
            .values(
                "resident__group_id",
                "resident_id",
                "resident__name",
                "resident__id_number",
                "resident__household_no",
            )
            .annotate(total=Sum("amount"), last=Max("paid_at"))
            .order_by("resident__group_id", "resident__household_no", "resident__id_number")
            .values_list(
                "resident__group_id", "resident__name", "resident__id_number", "total", "last"
            )
        )
    counted = Payment.objects.counted().filter(resident_id=OuterRef("pk"), contribution_year=year)
    return (
        Resident.objects.filter(_resident_scope(region), status__in=EXPECTED_TO_PAY)
        .exclude(Exists(counted))
        .order_by("group_id", "household_no", "id_number")
        .values_list("group_id", "name", "id_number")
    )


def _row(village: str, group: str, raw: tuple) -> NoticeRow:
    if len(raw) == 3:  # unpaid: no amount, no date
        return NoticeRow(village, group, raw[1], mask(raw[2]))
    _, name, number, amount, paid_at = raw
    return NoticeRow(village, group, name, mask(number), amount, timezone.localtime(paid_at).date())


def notice_rows(*, group: Region, kind: str, period: str) -> list[NoticeRow]:
    """The lines of one group's notice, from one query whatever the number of residents."""
    if group.level != Region.Level.GROUP:
        raise NoticeRejected(_("%(name)s 不是村民小组：公示按村民小组编制") % {"name": group.name})
    year, month = notice_period_parse(kind=kind, period=period)
    village = group.parent.name if group.parent_id else ""
    return [
        _row(village, group.name, raw)
        for raw in _raw_rows(region=group, kind=kind, year=year, month=month)
    ]


def notices_by_group(
    *, region: Region, kind: str, period: str
) -> Iterator[tuple[Region, list[NoticeRow]]]:
    """Every villager group of the region (its village and township loaded), in code order,
    with its lines: two queries whatever the number of groups and residents, the lines
    streamed in chunks so that a county does not sit in memory at once."""
    year, month = notice_period_parse(kind=kind, period=period)
    groups = Region.objects.filter(
        code__startswith=region.code, level=Region.Level.GROUP
    ).select_related("parent__parent")
    raw = _raw_rows(region=region, kind=kind, year=year, month=month)
    lines = groupby(raw.iterator(chunk_size=ROWS_CHUNK), key=lambda line: line[0])
    pending = next(lines, None)
    for group in groups.order_by("code"):
        # Both sides are ordered by the 15-digit group code, so one pass matches them.
        while pending is not None and pending[0] < group.code:
            pending = next(lines, None)
        rows: list[NoticeRow] = []
        if pending is not None and pending[0] == group.code:
            village = group.parent.name if group.parent_id else ""
            rows = [_row(village, group.name, line) for line in pending[1]]
            pending = next(lines, None)
        yield group, rows


def _row_counts(*, region: Region, kind: str, year: int, month: int | None) -> dict[str, int]:
    """Lines per group of the region, in one GROUP BY query."""
    if kind == Notice.Kind.MONTHLY:
        start, end = _month_bounds(year, month)
        counts = (
            Payment.objects.counted()
            .filter(_resident_scope(region, "resident__"), paid_at__gte=start, paid_at__lt=end)
            .values("resident__group_id")
            .annotate(n=Count("id"))
        )
    elif kind == Notice.Kind.PAID:
        counts = (
            Payment.objects.counted()
            .filter(_resident_scope(region, "resident__"), contribution_year=year)
            .values("resident__group_id")
            .annotate(n=Count("resident_id", distinct=True))
        )
    else:
        counted = Payment.objects.counted().filter(
            resident_id=OuterRef("pk"), contribution_year=year
        )
        counts = (
            Resident.objects.filter(_resident_scope(region), status__in=EXPECTED_TO_PAY)
            .exclude(Exists(counted))
            .values("group_id")
            .annotate(n=Count("pk"))
            .values_list("group_id", "n")
        )
        return dict(counts.order_by())
    return dict(counts.order_by().values_list("resident__group_id", "n"))


# --- generation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeGeneration:
    """What one generation marked; `as_dict` is part of the command's `--json` summary."""

    region: str
    kind: str
    period: str
    groups: int
    rows: int
    first: int

    def as_dict(self) -> dict[str, object]:
        return {
            "region": self.region,
            "kind": self.kind,
            "period": self.period,
            "groups": self.groups,
            "rows": self.rows,
            "first_generated": self.first,
        }


def notices_generate(
    *,
    region: Region,
    kind: str,
    period: str,
    actor: User | None,
    counts: Mapping[str, int] | None = None,
) -> NoticeGeneration:
    """Mark the notice of every villager group of the region generated, in a few statements.

    The first generation's time and person stay; a later one only refreshes the row count, so
    a reprint is harmless. Every generation writes one audit row per group notice (who
    produced a list of people, and how many lines). `counts` are the lines per group the
    caller printed; without them they are counted in one query.
    """
    year, month = notice_check(region=region, kind=kind, period=period, actor=actor)
    period = period.strip()
    due_on = notice_due_on(kind=kind, period=period)
    with transaction.atomic():
        groups = list(
            Region.objects.filter(
                code__startswith=region.code, level=Region.Level.GROUP
            ).values_list("code", flat=True)
        )
        if counts is None:
            counts = _row_counts(region=region, kind=kind, year=year, month=month)
        # ON CONFLICT ... DO UPDATE also locks the existing notices, so a second generation
        # running at the same time waits here and then sees this one's marks.
        Notice.objects.bulk_create(
            [
                Notice(
                    group_id=code, kind=kind, period=period, due_on=due_on, rows=counts.get(code, 0)
                )
                for code in groups
            ],
            update_conflicts=True,
            unique_fields=["group", "kind", "period"],
            update_fields=["rows"],
            batch_size=ROWS_CHUNK,
        )
        # By the codes already read: the (group, kind, period) unique index serves this.
        notices = Notice.objects.filter(group_id__in=groups, kind=kind, period=period)
        stored = list(notices.values_list("pk", "group_id", "generated_at", "rows"))
        now = timezone.now()
        first = notices.filter(generated_at__isnull=True).update(
            generated_at=now, generated_by=actor
        )
        audit_record_bulk(
            actor=actor,
            action="notice.generate",
            target_type=Notice._meta.label_lower,
            rows=(
                (
                    str(pk),
                    group,
                    {"kind": kind, "period": period, "rows": rows, "first": generated is None},
                )
                for pk, group, generated, rows in stored
            ),
            note=_("生成公示"),
        )
    return NoticeGeneration(
        region=region.code,
        kind=kind,
        period=period,
        groups=len(stored),
        rows=sum(rows for _, _, _, rows in stored),
        first=first,
    )


@transaction.atomic
def notice_generate(
    *, group: Region, kind: str, period: str, actor: User | None
) -> list[NoticeRow]:
    """One group's notice: its rows, with the notice marked generated (see notices_generate)."""
    if group.level != Region.Level.GROUP:
        raise NoticeRejected(_("%(name)s 不是村民小组：公示按村民小组编制") % {"name": group.name})
    notice_check(region=group, kind=kind, period=period, actor=actor)
    rows = notice_rows(group=group, kind=kind, period=period)
    notices_generate(
        region=group, kind=kind, period=period, actor=actor, counts={group.code: len(rows)}
    )
    return rows
