"""Public notices (公示) per villager group: which are due, their rows, and marking them generated.

A monthly notice for month M lists the payments made in M and is due on the 20th of M+1; the
paid and unpaid lists of contribution year Y are due on the last day of February of Y+1
(DESIGN §6 rule 10). Rows carry a masked ID number only: never the full number, a phone number
or a special-group category, because the lists are posted on village notice boards.
"""

from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q, Sum
from django.utils import timezone

from collection.models import Notice, Payment
from enrollment.models import Resident
from pension.idnumber import mask
from pension.models import Region, User

# Residents still expected to pay this year; sealed, deceased, cancelled, excluded, too young and
# receiving residents never appear on an unpaid list.
EXPECTED_TO_PAY = (Resident.Status.ELIGIBLE, Resident.Status.ENROLLED)
MONTHLY_DUE_DAY = 20

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")


class NoticeRejected(Exception):
    """A notice asked for with a wrong group, kind or period; the message says which and why."""


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
        raise NoticeRejected(f"公示类型 {kind} 无效：应为 monthly、paid 或 unpaid")
    period = (period or "").strip()
    if kind == Notice.Kind.MONTHLY:
        found = _MONTH.fullmatch(period)
        if not found or not 1 <= int(found[2]) <= 12:
            raise NoticeRejected(f"公示月份 {period} 格式错误：应为 YYYY-MM，如 2023-05")
        year, month = int(found[1]), int(found[2])
        if (year, month) > (today.year, today.month):
            raise NoticeRejected(f"公示月份 {period} 是将来的月份，尚无缴费可公示")
        return year, month
    found = _YEAR.fullmatch(period)
    if not found:
        raise NoticeRejected(f"公示年度 {period} 格式错误：应为 YYYY，如 2023")
    year = int(found[1])
    if year > today.year:
        raise NoticeRejected(f"公示年度 {period} 是将来的年度，尚无名单可公示")
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
            return "已公示"
        return "已逾期" if self.overdue else "待公示"


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


def notice_status(
    *, region: Region | str, day: datetime.date, notices=None
) -> list[VillageNotices]:
    """Per village, its groups' notices: pending, generated, or overdue (due before `day` and
    not generated). Shows every notice not yet generated, and the generated ones of the last
    year. `notices` narrows the rows further (a page passes the user's visible notices)."""
    code = region if isinstance(region, str) else region.code
    # By the group's code: Notice's own region filter names `group_id`, which a prefix match
    # cannot go through.
    rows = (notices if notices is not None else Notice.objects.all()).filter(
        group__code__startswith=code
    )
    rows = rows.filter(
        Q(generated_at__isnull=True) | Q(due_on__gte=day - datetime.timedelta(days=366))
    ).select_related("group__parent__parent", "generated_by")
    villages: dict[str, VillageNotices] = {}
    for notice in rows.order_by("group_id", "-due_on", "kind"):
        village = notice.group.parent
        entry = villages.get(village.code)
        if entry is None:
            township = village.parent.name if village.parent else ""
            entry = villages[village.code] = VillageNotices(village.code, village.name, township)
        overdue = notice.generated_at is None and notice.due_on < day
        entry.notices.append(NoticeState(notice=notice, overdue=overdue))
    return list(villages.values())


# --- rows and generation ---------------------------------------------------------------------


def notice_rows(*, group: Region, kind: str, period: str) -> list[NoticeRow]:
    """The lines of one group's notice, from one query whatever the number of residents."""
    if group.level != Region.Level.GROUP:
        raise NoticeRejected(f"{group.name} 不是村民小组：公示按村民小组编制")
    year, month = notice_period_parse(kind=kind, period=period)
    village = group.parent.name if group.parent_id else ""
    if kind == Notice.Kind.MONTHLY:
        start = timezone.make_aware(datetime.datetime(year, month, 1))
        end = timezone.make_aware(datetime.datetime(year + (month == 12), month % 12 + 1, 1))
        payments = (
            Payment.objects.counted()
            .filter(resident__group_id=group.code, paid_at__gte=start, paid_at__lt=end)
            .order_by("paid_at", "id")
            .values_list("resident__name", "resident__id_number", "amount", "paid_at")
        )
        return [
            NoticeRow(
                village, group.name, name, mask(number), amount, timezone.localtime(paid_at).date()
            )
            for name, number, amount, paid_at in payments
        ]
    if kind == Notice.Kind.PAID:
        paid = (
            Payment.objects.counted()
            .filter(resident__group_id=group.code, contribution_year=year)
            .values(
                "resident_id", "resident__name", "resident__id_number", "resident__household_no"
            )
            .annotate(total=Sum("amount"), last=Max("paid_at"))
            .order_by("resident__household_no", "resident__id_number")
        )
        return [
            NoticeRow(
                village,
                group.name,
                row["resident__name"],
                mask(row["resident__id_number"]),
                row["total"],
                timezone.localtime(row["last"]).date(),
            )
            for row in paid
        ]
    counted = Payment.objects.counted().filter(resident_id=OuterRef("pk"), contribution_year=year)
    unpaid = (
        Resident.objects.filter(group_id=group.code, status__in=EXPECTED_TO_PAY)
        .exclude(Exists(counted))
        .order_by("household_no", "id_number")
        .values_list("name", "id_number")
    )
    return [NoticeRow(village, group.name, name, mask(number)) for name, number in unpaid]


@transaction.atomic
def notice_generate(
    *, group: Region, kind: str, period: str, actor: User | None
) -> list[NoticeRow]:
    """The notice's rows, with the notice marked generated. The first generation's time and
    person stay; a later one only refreshes the row count, so a reprint is harmless."""
    rows = notice_rows(group=group, kind=kind, period=period)
    notice, _ = Notice.objects.get_or_create(
        group=group,
        kind=kind,
        period=period.strip(),
        defaults={"due_on": notice_due_on(kind=kind, period=period)},
    )
    Notice.objects.filter(pk=notice.pk, generated_at__isnull=True).update(
        generated_at=timezone.now(), generated_by=actor
    )
    Notice.objects.filter(pk=notice.pk).exclude(rows=len(rows)).update(rows=len(rows))
    return rows
