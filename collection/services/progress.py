"""Targets (参保任务数) and progress (征缴进度): setting and importing targets, the nightly
snapshot of every village's progress, and the reads behind the progress pages and sheets.

DESIGN §6 rule 9: progress is the number of distinct residents with a counted personal or proxy
payment for the year over the residents expected to pay (the target, or the enrolled and not
sealed residents when no target is set), per township and village, compared with the dated
milestones of the contribution schedule. `progress_rebuild` keeps one small row per village and
day in VillageProgress; pages, sheets and charts read those rows and never scan the payments.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal, InvalidOperation

from django.db import connection, transaction
from django.db.models import Case, Count, Exists, F, Max, OuterRef, Q, Sum, When
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from collection.models import Milestone, Payment, Target, VillageProgress
from collection.services.proxy import proxy_qualifying
from collection.services.schedules import schedule_for
from enrollment.importers import place_key
from enrollment.models import Resident
from pension import staging
from pension.dates import start_of
from pension.imports import FILE_MAX_BYTES, Rejection, UpsertResult
from pension.models import Region, User
from pension.money import ZERO
from pension.services import audit_record, audit_record_bulk
from pension.spreadsheets import CellError, Column, read_table, text

FIRST_YEAR = 2009  # the rural pension pilot (新农保) began collecting in 2009
TARGET_LEVELS = (Region.Level.TOWNSHIP, Region.Level.VILLAGE)
# Payments that make a resident "paid" for the campaign year; a back payment (补缴) is for a
# past year and does not.
PROGRESS_KINDS = (Payment.Kind.PERSONAL, Payment.Kind.PROXY)
# The county marks this many townships at the bottom of its ranking (DESIGN §6 rule 9).
BOTTOM_COUNT = 3
PERCENT = Decimal("0.01")
# Progress and targets are read a level down: a county's townships, a township's villages.
CHILD_LEVEL = {
    Region.Level.COUNTY: Region.Level.TOWNSHIP,
    Region.Level.TOWNSHIP: Region.Level.VILLAGE,
}


class TargetRefused(Exception):
    """A target that breaks a rule or is not the actor's to set; the message is in Chinese."""


class ProgressRefused(Exception):
    """A progress recount the actor may not start; the message is in Chinese."""


# --- who may set a target ------------------------------------------------------------------


def _check_year(year: int) -> None:
    last = timezone.localdate().year + 1
    if not FIRST_YEAR <= year <= last:
        raise TargetRefused(
            _("缴费年度应在 %(first)s 至 %(last)s 年之间：%(year)s")
            % {"first": FIRST_YEAR, "last": last, "year": year}
        )


def target_refusal(*, actor: User | None, region: Region) -> str:
    """Why `actor` may not set `region`'s target, or "" when they may.

    The county bureau sets targets for its townships and villages; township staff break their
    township's target down to its villages, but the township's own target comes from the county.
    A command or task (no actor) may set any target.
    """
    if region.level not in TARGET_LEVELS:
        return _("任务数按乡镇或村(社区)下达：%(name)s不是乡镇或村") % {"name": region.name}
    if actor is None or actor.is_superuser:
        return ""
    if actor.role not in (User.Role.COUNTY, User.Role.TOWNSHIP):
        return _("只有县人社局和乡镇社保所经办人员可以设定参保任务数")
    if not actor.can_see_region(region.code):
        return _("%(name)s不在您的辖区内") % {"name": region.name}
    if actor.role == User.Role.TOWNSHIP and region.level == Region.Level.TOWNSHIP:
        return _("%(name)s的任务数由县人社局下达，乡镇只能将任务数分解到村") % {"name": region.name}
    return ""


# Far above any county's residents (DESIGN §4: up to a million), far below what the column holds.
TARGET_MAX = 10_000_000
TOO_LARGE = gettext_lazy("任务数过大：%(count)s，一个单位的任务数不超过 1000 万")


def _check_count(count: object) -> int:
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise TargetRefused(_("任务数应为不小于 0 的整数：%(count)s") % {"count": count})
    if count > TARGET_MAX:
        raise TargetRefused(
            _("任务数过大：%(count)s，一个单位的任务数不超过 1000 万") % {"count": count}
        )
    return count


# --- setting targets -----------------------------------------------------------------------


def target_set(*, region: Region, year: int, count: int, actor: User | None) -> Target:
    """Set one township's or village's target for a year, creating or replacing it.

    Setting the same number again writes nothing and records nothing.
    """
    _check_year(year)
    refusal = target_refusal(actor=actor, region=region)
    if refusal:
        raise TargetRefused(refusal)
    count = _check_count(count)
    with transaction.atomic():
        target = Target.objects.select_for_update().filter(region=region, year=year).first()
        old = target.count if target is not None else None
        if old == count:
            return target
        if target is None:
            target = Target(region=region, year=year)
        target.count, target.set_by = count, _actor_or_none(actor)
        target.save()
        audit_record(
            actor=actor,
            action="target.set",
            target=target,
            region_code=region.code,
            changes={"year": year, "count": [old, count]},
        )
    return target


@dataclass
class TargetWriteResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def targets_set(
    *, year: int, counts: Mapping[Region, int], actor: User | None, note: str = ""
) -> TargetWriteResult:
    """Set several targets of a year at once (the targets page); all of them or none.

    Every unit is checked before anything is written, so a refused unit leaves the others as
    they were.
    """
    _check_year(year)
    for region, count in counts.items():
        refusal = target_refusal(actor=actor, region=region)
        if refusal:
            raise TargetRefused(refusal)
        try:
            _check_count(count)
        except TargetRefused as exc:
            raise TargetRefused(
                _("%(name)s：%(error)s") % {"name": region.name, "error": exc}
            ) from None
    return _targets_write(
        year=year, counts={region.code: count for region, count in counts.items()},
        actor=actor, note=note,
    )  # fmt: skip


def _actor_or_none(actor: User | None) -> User | None:
    return actor if actor is not None and actor.pk else None


def _targets_write(
    *, year: int, counts: Mapping[str, int], actor: User | None, note: str
) -> TargetWriteResult:
    """Upsert targets by region code in one statement; audit each one that changed."""
    result = TargetWriteResult()
    with transaction.atomic():
        existing = dict(
            Target.objects.select_for_update()
            .filter(year=year, region_id__in=list(counts))
            .values_list("region_id", "count")
        )
        changed = {code: n for code, n in counts.items() if existing.get(code) != n}
        result.unchanged = len(counts) - len(changed)
        result.created = sum(1 for code in changed if code not in existing)
        result.updated = len(changed) - result.created
        if not changed:
            return result
        set_by = _actor_or_none(actor)
        Target.objects.bulk_create(
            [
                Target(region_id=code, year=year, count=n, set_by=set_by)
                for code, n in changed.items()
            ],
            update_conflicts=True,
            unique_fields=["region", "year"],
            update_fields=["count", "set_by", "set_at"],
        )
        ids = Target.objects.filter(year=year, region_id__in=list(changed)).values_list(
            "region_id", "pk"
        )
        audit_record_bulk(
            actor=actor,
            action="target.set",
            target_type=Target._meta.label_lower,
            rows=(
                (str(pk), code, {"year": year, "count": [existing.get(code), changed[code]]})
                for code, pk in ids
            ),
            note=note,
        )
    return result


# --- reading targets -----------------------------------------------------------------------


@dataclass
class TargetLine:
    """A township's or village's target of a year as the targets page and sheet show it."""

    region: Region
    target: int | None = None
    village_targets: int | None = None  # a township's villages' targets added up, if any
    enrolled: int = 0  # enrolled and not sealed today: the denominator when no target is set

    @property
    def code(self) -> str:
        return self.region.code

    @property
    def name(self) -> str:
        return self.region.name

    @property
    def count(self) -> int | None:
        """The number a target sheet lists: the unit's own target, else its villages' total."""
        return self.target if self.target is not None else self.village_targets


def target_lines(*, region: Region, year: int, with_enrolled: bool = False) -> list[TargetLine]:
    """A county's townships or a township's villages with their targets, in code order.

    `with_enrolled` adds each unit's enrolled residents, counted from the residents table in
    one grouped query (the targets page shows it beside the input).
    """
    child_level = CHILD_LEVEL.get(region.level)
    if child_level is None:
        raise ValueError(_("任务数按县或乡镇查看：%(name)s不是县或乡镇") % {"name": region.name})
    length = Region.CODE_LENGTH[child_level]
    children = Region.objects.in_region(region).filter(level=child_level).order_by("code")
    lines = {child.code: TargetLine(region=child) for child in children}
    targets = Target.objects.in_region(region).filter(year=year).values_list("region_id", "count")
    for code, count in targets:
        if code in lines:
            lines[code].target = count
        elif len(code) > length and code[:length] in lines:
            line = lines[code[:length]]
            line.village_targets = (line.village_targets or 0) + count
    if with_enrolled:
        enrolled = (
            Resident.objects.in_region(region)
            .filter(status=Resident.Status.ENROLLED)
            .annotate(unit=Substr("village_id", 1, length))
            .values("unit")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for row in enrolled:
            if row["unit"] in lines:
                lines[row["unit"]].enrolled = row["n"]
    return list(lines.values())


# --- importing a target sheet --------------------------------------------------------------

TOWNSHIP_COLUMN = Column("township", "乡镇", ("乡镇(街道)", "乡(镇)", "乡镇名称", "街道"))
VILLAGE_COLUMN = Column(
    "village", "村", ("村(社区)", "社区", "村(居)委会", "村(居)", "村名称"), required=False
)
COUNT_COLUMN = Column("count", "任务数", ("参保任务数", "任务数(人)", "参保任务数(人)"))
TARGET_COLUMNS = (TOWNSHIP_COLUMN, VILLAGE_COLUMN, COUNT_COLUMN)
# The total row of a target sheet (our own 参保任务数 export has one) is not a township.
TOTAL_WORDS = frozenset({"合计", "总计", "全县合计", "小计"})
_TOWNSHIP_SUFFIXES = ("街道办事处", "街道", "农场", "乡", "镇")
_INTEGER = re.compile(r"[+-]?\d+(?:\.0*)?")
# What a 任务数 cell may hold around its number: thousands separators and the unit 人.
COUNT_SEPARATORS = (",", "，")
COUNT_UNIT = "人"


class TargetImportResult(UpsertResult):
    """What a target import found and did; `as_dict` is the `--json` shape of the command."""


def _township_key(name: str) -> str:
    """勐董镇 and 勐董 are one township; the full name is tried first, so 勐省镇 and 勐省农场
    stay apart when written in full."""
    key = "".join(name.split())
    for suffix in _TOWNSHIP_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)]
    return key


@dataclass
class _CountyUnits:
    """The county's townships and villages, fetched in one query, for resolving names."""

    county: Region
    regions: dict[str, Region]
    townships: dict[str, list[str]]  # full name or key -> codes
    villages: dict[tuple[str, str], list[str]]  # (township code, name or key) -> codes

    @classmethod
    def load(cls, county: Region) -> _CountyUnits:
        found = Region.objects.in_region(county).filter(level__in=TARGET_LEVELS)
        regions = {region.code: region for region in found.order_by("code")}
        townships: dict[str, list[str]] = defaultdict(list)
        villages: dict[tuple[str, str], list[str]] = defaultdict(list)
        for code, region in regions.items():
            if region.level == Region.Level.TOWNSHIP:
                for key in dict.fromkeys((region.name, _township_key(region.name))):
                    townships[key].append(code)
            else:
                for key in dict.fromkeys((region.name, place_key(region.name))):
                    villages[(code[:9], key)].append(code)
        return cls(county, regions, dict(townships), dict(villages))

    def township(self, name: str) -> Region:
        if not name:
            raise CellError(_("乡镇不能为空"))
        codes = self.townships.get(name) or self.townships.get(_township_key(name), [])
        if len(codes) > 1:
            listed = pgettext("list separator", "、").join(self.regions[c].name for c in codes)
            raise CellError(
                _("“%(name)s”可能是%(listed)s，请填写乡镇全称") % {"name": name, "listed": listed}
            )
        if not codes:
            raise CellError(
                _("%(county)s没有名为“%(name)s”的乡镇") % {"county": self.county.name, "name": name}
            )
        return self.regions[codes[0]]

    def village(self, township: Region, name: str) -> Region:
        codes = self.villages.get((township.code, name)) or self.villages.get(
            (township.code, place_key(name)), []
        )
        if len(codes) > 1:
            listed = pgettext("list separator", "、").join(self.regions[c].name for c in codes)
            raise CellError(
                _("“%(name)s”可能是%(township)s的%(listed)s，请填写村(社区)全称")
                % {"name": name, "township": township.name, "listed": listed}
            )
        if not codes:
            raise CellError(
                _("%(township)s没有名为“%(name)s”的村(社区)")
                % {"township": township.name, "name": name}
            )
        return self.regions[codes[0]]


def _count_cell(value: object) -> int:
    """A 任务数 cell: a whole number of residents, never negative."""
    if isinstance(value, bool):
        raise CellError(_("任务数应为整数：%(value)s") % {"value": value})
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise CellError(_("任务数应为整数：%(value)s") % {"value": f"{value:g}"})
        number = int(value)
    elif isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value():
            raise CellError(_("任务数应为整数：%(value)s") % {"value": value})
        number = int(value)
    else:
        raw = text(value)
        if not raw:
            raise CellError(_("任务数不能为空"))
        cleaned = raw
        for separator in COUNT_SEPARATORS:
            cleaned = cleaned.replace(separator, "")
        cleaned = cleaned.removesuffix(COUNT_UNIT).strip()
        if not _INTEGER.fullmatch(cleaned):
            raise CellError(_("任务数应为整数：%(value)s") % {"value": raw})
        try:
            number = int(Decimal(cleaned))
        except InvalidOperation:
            raise CellError(_("任务数应为整数：%(value)s") % {"value": raw}) from None
    if number < 0:
        raise CellError(_("任务数不能为负数：%(count)s") % {"count": number})
    if number > TARGET_MAX:
        raise CellError(
            _("任务数过大：%(count)s，一个单位的任务数不超过 1000 万") % {"count": number}
        )
    return number


def _check_importer(actor: User | None, county: Region) -> None:
    if county.level != Region.Level.COUNTY:
        raise TargetRefused(
            _("任务数表按县导入：%(name)s（%(code)s）不是县级区划")
            % {"name": county.name, "code": county.code}
        )
    if actor is None or actor.is_superuser:
        return
    if actor.role not in (User.Role.COUNTY, User.Role.TOWNSHIP) or not (
        actor.region_id or ""
    ).startswith(county.code):
        raise TargetRefused(
            _("只有%(county)s的县、乡镇经办人员可以导入参保任务数") % {"county": county.name}
        )


def targets_import(
    *,
    source,
    county: Region,
    year: int,
    actor: User | None,
    filename: str | None = None,
    max_bytes: int = FILE_MAX_BYTES,
) -> TargetImportResult:
    """Read a sheet of 乡镇, 村, 任务数 and set those targets for the year: all rows or none.

    Names resolve against the county's regions; a blank 村 sets the township's target. Any bad
    row (unknown township or village, a count that is not a whole number or is negative, a unit
    given twice, a unit the actor may not set) is reported with its row number, column and
    reason, and then nothing is written. A structural fault of the file raises
    ``SpreadsheetError`` before anything is read. Importing the same sheet twice changes nothing
    the second time.
    """
    _check_year(year)
    _check_importer(actor, county)
    table = read_table(source, columns=TARGET_COLUMNS, filename=filename, max_bytes=max_bytes)
    units = _CountyUnits.load(county)
    result = TargetImportResult()
    counts: dict[str, int] = {}
    first_row: dict[str, int] = {}
    for number, (raw_township, raw_village, raw_count) in table.rows():
        township_name, village_name = text(raw_township), text(raw_village)
        if township_name in TOTAL_WORDS and not village_name:
            continue
        result.rows += 1
        column, value = TOWNSHIP_COLUMN.label, township_name
        try:
            region = units.township(township_name)
            if village_name:
                column, value = VILLAGE_COLUMN.label, village_name
                region = units.village(region, village_name)
            refusal = target_refusal(actor=actor, region=region)
            if refusal:
                raise CellError(refusal)
            if region.code in first_row:
                raise CellError(
                    _("%(unit)s在第%(row)s行已填写任务数，同一乡镇或村只能填写一行")
                    % {"unit": _unit_name(region, units), "row": first_row[region.code]}
                )
            first_row[region.code] = number
            column, value = COUNT_COLUMN.label, text(raw_count)
            count = _count_cell(raw_count)
        except CellError as exc:
            result.rejected.append(Rejection(number, column, exc.message, value[:100]))
            continue
        counts[region.code] = count
    if not result.rows:
        result.refused_reason = _("文件中没有数据行，未写入任何数据")
    elif result.rejected:
        result.refused_reason = ngettext(
            "共有 %(count)s 行错误，任务数表须全部正确才导入，未写入任何数据",
            "共有 %(count)s 行错误，任务数表须全部正确才导入，未写入任何数据",
            len(result.rejected),
        ) % {"count": len(result.rejected)}
    if result.refused_reason:
        return result
    written = _targets_write(
        year=year,
        counts=counts,
        actor=actor,
        note=(_("导入任务数表 %(file)s") % {"file": table.filename}).strip(),
    )
    result.created, result.updated, result.unchanged = (
        written.created, written.updated, written.unchanged,
    )  # fmt: skip
    result.applied = True
    return result


def _unit_name(region: Region, units: _CountyUnits) -> str:
    if region.level == Region.Level.VILLAGE:
        township = units.regions.get(region.code[:9])
        return f"{township.name if township else ''}{region.name}"
    return region.name


# --- the nightly snapshot ------------------------------------------------------------------


def _end_of(day: datetime.date) -> datetime.datetime:
    """The first instant after `day` in the county's time zone: "paid on or before the day"."""
    return start_of(day + datetime.timedelta(days=1))


def progress_recount_refusal(*, actor: User | None, county: Region) -> str:
    """Why `actor` may not rebuild the county's progress, or "" (None: the nightly task)."""
    if county.level != Region.Level.COUNTY:
        return _("征缴进度按县统计：%(name)s（%(code)s）不是县级区划") % {
            "name": county.name,
            "code": county.code,
        }
    if actor is None or actor.is_superuser:
        return ""
    if actor.role != User.Role.COUNTY or not actor.can_see_region(county.code):
        return _("只有%(county)s的县级经办人员可以重新统计征缴进度") % {"county": county.name}
    return ""


def progress_rebuild(
    *, county: Region, year: int, day: datetime.date, actor: User | None = None
) -> int:
    """Write every village's progress row of the county for `day`; returns the rows written.

    One INSERT ... SELECT ... GROUP BY with ON CONFLICT DO UPDATE (PostgreSQL, and SQLite for
    the demo): expected is the village's target, or its enrolled residents (sealed residents
    have their own status and so drop out); paid counts distinct residents with a counted
    personal or proxy payment for the year paid on or before the day. Beside them, what the
    dashboards read without scanning residents: who qualifies for the year's proxy payment and
    how many of them have it (应代尽代), and who is due a pension and not receiving it (应发尽发).
    Running it again for the same day rewrites the same rows.
    """
    refusal = progress_recount_refusal(actor=actor, county=county)
    if refusal:
        raise ProgressRefused(refusal)
    enrolled = (
        Resident.objects.in_region(county.code)
        .filter(status=Resident.Status.ENROLLED)
        .annotate(unit=F("village_id"))
        .values("unit")
        .annotate(n=Count("pk"))
        .order_by()
    )
    # Each paying resident once (a resident may have both a personal and a proxy payment),
    # then per village: a hash aggregate over the year's payments, where COUNT(DISTINCT)
    # would sort them all. Both the payment's county and its resident's village are named, so
    # that each side is read for the county alone (payment_county_year_idx and
    # resident_village_idx), not for the province.
    per_resident = (
        Payment.objects.counted()
        .in_region(county.code)
        .filter(
            county_code=county.code,
            contribution_year=year,
            kind__in=PROGRESS_KINDS,
            paid_at__lt=_end_of(day),
        )
        .annotate(unit=F("resident__village_id"))
        .values("unit", "resident_id")
        .annotate(
            proxy=Max(Case(When(kind=Payment.Kind.PROXY, then=1), default=0)),
            personal_amount=Sum(
                Case(When(kind=Payment.Kind.PERSONAL, then=F("amount")), default=ZERO)
            ),
            cash_amount=Sum(
                Case(
                    When(
                        kind=Payment.Kind.PERSONAL,
                        channel__in=Payment.CASH_CHANNELS,
                        then=F("amount"),
                    ),
                    default=ZERO,
                )
            ),
        )
        .order_by()
    )
    enrolled_sql, enrolled_params = enrolled.query.sql_with_params()
    resident_sql, paid_params = per_resident.query.sql_with_params()
    qualifying_sql, qualifying_params = _qualifying_sql(county=county, year=year, day=day)
    due = (
        Resident.objects.in_region(county.code)
        .benefits_due(day)
        .annotate(unit=F("village_id"))
        .values("unit")
        .annotate(n=Count("pk"))
        .order_by()
    )
    due_sql, due_params = due.query.sql_with_params()
    paid_sql = (
        "SELECT x.unit, COUNT(*) AS paid, SUM(x.proxy) AS proxy_paid,"  # noqa: S608
        " SUM(x.personal_amount) AS amount, SUM(x.cash_amount) AS cash_amount,"
        " SUM(CASE WHEN x.cash_amount > 0 THEN 1 ELSE 0 END) AS cash_paid"
        f" FROM ({resident_sql}) x GROUP BY x.unit"
    )
    q = connection.ops.quote_name
    progress, region, target = (
        q(VillageProgress._meta.db_table), q(Region._meta.db_table), q(Target._meta.db_table),
    )  # fmt: skip
    # SQLite reads "ON CONFLICT" after a join as the join's ON unless the SELECT has a WHERE.
    sql = (
        f"INSERT INTO {progress} (village_id, year, day, expected, paid, proxy_paid, amount,"  # noqa: S608
        " proxy_qualifying, proxy_qualifying_paid, benefits_due, cash_paid, cash_amount)"
        f" SELECT v.code, %s, %s, COALESCE(t.{q('count')}, e.n, 0), COALESCE(p.paid, 0),"
        " COALESCE(p.proxy_paid, 0), COALESCE(p.amount, 0), COALESCE(g.n, 0),"
        " COALESCE(g.done, 0), COALESCE(b.n, 0), COALESCE(p.cash_paid, 0),"
        " COALESCE(p.cash_amount, 0)"
        f" FROM {region} v"
        f" LEFT JOIN {target} t ON t.region_id = v.code AND t.year = %s"
        f" LEFT JOIN ({enrolled_sql}) e ON e.unit = v.code"
        f" LEFT JOIN ({paid_sql}) p ON p.unit = v.code"
        f" LEFT JOIN ({qualifying_sql}) g ON g.unit = v.code"
        f" LEFT JOIN ({due_sql}) b ON b.unit = v.code"
        " WHERE v.level = %s AND v.code LIKE %s"
        " ON CONFLICT (village_id, year, day) DO UPDATE SET expected = excluded.expected,"
        " paid = excluded.paid, proxy_paid = excluded.proxy_paid, amount = excluded.amount,"
        " proxy_qualifying = excluded.proxy_qualifying,"
        " proxy_qualifying_paid = excluded.proxy_qualifying_paid,"
        " benefits_due = excluded.benefits_due, cash_paid = excluded.cash_paid,"
        " cash_amount = excluded.cash_amount"
    )
    params = [
        year, day, year, *enrolled_params, *paid_params, *qualifying_params, *due_params,
        Region.Level.VILLAGE, f"{county.code}%",
    ]  # fmt: skip
    with transaction.atomic():
        staging.tune_for_bulk_work()
        return staging.execute(sql, params)


def _qualifying_sql(*, county: Region, year: int, day: datetime.date) -> tuple[str, tuple]:
    """SQL of (unit, n, done) per village: the residents who qualify for the year's proxy
    payment (应代尽代) and how many of them have it, paid on or before the day."""
    schedule = schedule_for(province_code=county.code[:2], year=year)
    if schedule is None:  # no schedule, no proxy payment: nobody qualifies
        return "SELECT NULL AS unit, 0 AS n, 0 AS done WHERE 1 = 0", ()
    paid = Payment.objects.counted().filter(
        resident_id=OuterRef("pk"),
        contribution_year=year,
        kind=Payment.Kind.PROXY,
        paid_at__lt=_end_of(day),
    )
    qualifying = (
        proxy_qualifying(region_code=county.code, schedule=schedule)
        .annotate(unit=F("village_id"), has_paid=Exists(paid))
        .values("unit")
        .annotate(n=Count("pk"), done=Count("pk", filter=Q(has_paid=True)))
        .order_by()
    )
    return qualifying.query.sql_with_params()


# --- reading progress ----------------------------------------------------------------------


def _rate(paid: int, expected: int) -> Decimal | None:
    # Rounded down, so that a unit shown at 60.00% has really reached a 60% milestone.
    if expected <= 0:
        return None
    return (Decimal(paid) * 100 / Decimal(expected)).quantize(PERCENT, rounding=ROUND_DOWN)


def _needed(expected: int, rate: Decimal) -> int:
    return int((Decimal(expected) * rate / 100).to_integral_value(rounding=ROUND_CEILING))


@dataclass
class ProgressUnit:
    """One township, village or county on one snapshot day, against the schedule's milestones.

    `milestone` is the milestone in force (the latest due on or before the day), `next_milestone`
    the first one after it; `goal` is the one the gap is counted to: the milestone in force, or
    before the first date the first milestone.
    """

    code: str
    name: str
    level: str
    expected: int = 0
    paid: int = 0
    proxy_paid: int = 0
    proxy_qualifying: int = 0  # 应代尽代: residents who qualify for the proxy payment
    proxy_qualifying_paid: int = 0  # of whom have it
    benefits_due: int = 0  # 应发尽发: residents due a pension and not receiving it
    amount: Decimal = ZERO
    cash_paid: int = 0  # residents whose personal payment was collected in cash
    cash_amount: Decimal = ZERO
    has_target: bool = False
    milestone: Milestone | None = None
    next_milestone: Milestone | None = None
    rank: int | None = None
    bottom: bool = False

    @property
    def rate(self) -> Decimal | None:
        """Paid over expected in percent, two places; None when nobody is expected to pay."""
        return _rate(self.paid, self.expected)

    @property
    def cash_share(self) -> Decimal | None:
        """The share of the personal payments' money collected in cash, in percent."""
        if self.amount <= 0:
            return None
        return (self.cash_amount * 100 / self.amount).quantize(PERCENT, rounding=ROUND_DOWN)

    @property
    def goal(self) -> Milestone | None:
        return self.milestone or self.next_milestone

    @property
    def gap(self) -> int:
        """Residents still to pay to reach the goal's rate; 0 when it is reached."""
        if self.goal is None:
            return 0
        return max(_needed(self.expected, self.goal.rate) - self.paid, 0)

    @property
    def goal_text(self) -> str:
        """The goal as the county's sheets write it: 6月30日前60%."""
        goal = self.goal
        if goal is None:
            return ""
        return _("%(month)s月%(day)s日前%(rate)s%%") % {
            "month": goal.due_on.month,
            "day": goal.due_on.day,
            "rate": f"{goal.rate.normalize():f}",
        }

    @property
    def flagged(self) -> bool:
        """Below the milestone whose date has passed (on the due date itself too)."""
        return self.milestone is not None and self.expected > 0 and self.gap > 0


@dataclass
class ProgressReport:
    """A county's townships (ranked) or a township's villages on a day, with their total."""

    region: Region
    year: int
    day: datetime.date
    snapshot_day: datetime.date | None
    milestones: list[Milestone]
    total: ProgressUnit
    units: list[ProgressUnit]

    @property
    def milestone(self) -> Milestone | None:
        return self.total.milestone

    @property
    def next_milestone(self) -> Milestone | None:
        return self.total.next_milestone

    @property
    def flagged_count(self) -> int:
        return sum(1 for unit in self.units if unit.flagged)


def progress_milestones(*, region: Region, year: int) -> list[Milestone]:
    """The dated milestones of the region's province for the year, earliest first."""
    schedule = schedule_for(province_code=region.code[:2], year=year)
    if schedule is None:
        return []
    return sorted(schedule.milestones.all(), key=lambda m: m.due_on)


def _around(
    milestones: list[Milestone], day: datetime.date
) -> tuple[Milestone | None, Milestone | None]:
    passed = [m for m in milestones if m.due_on <= day]
    coming = [m for m in milestones if m.due_on > day]
    return (passed[-1] if passed else None), (coming[0] if coming else None)


def progress_snapshot_day(*, region: Region, year: int, day: datetime.date) -> datetime.date | None:
    """The latest day on or before `day` with progress rows for the region, or None."""
    return (
        VillageProgress.objects.in_region(region)
        .filter(year=year, day__lte=day)
        .aggregate(latest=Max("day"))["latest"]
    )


def _sums(queryset, length: int, *by: str):
    """Progress rows summed per unit (the first `length` characters of the village code)."""
    return (
        queryset.annotate(unit=Substr("village_id", 1, length))
        .values(*by, "unit")
        .annotate(
            expected=Sum("expected"),
            paid=Sum("paid"),
            proxy_paid=Sum("proxy_paid"),
            proxy_qualifying=Sum("proxy_qualifying"),
            proxy_qualifying_paid=Sum("proxy_qualifying_paid"),
            benefits_due=Sum("benefits_due"),
            amount=Sum("amount"),
            cash_paid=Sum("cash_paid"),
            cash_amount=Sum("cash_amount"),
        )
        .order_by(*by, "unit")
    )


def progress_report(*, region: Region, year: int, day: datetime.date) -> ProgressReport:
    """A county's townships or a township's villages on the latest snapshot day on or before
    `day`, read from the progress rows only.

    A unit's expected is its target if one is set (a township's from the county, a village's
    from its township), else what the snapshot counted: for a township the sum of its villages.
    A county ranks its townships by rate and marks the bottom three.
    """
    child_level = CHILD_LEVEL.get(region.level)
    if child_level is None:
        raise ValueError(_("征缴进度按县或乡镇查看：%(name)s不是县或乡镇") % {"name": region.name})
    report = _progress_units(region=region, year=year, day=day, child_level=child_level)
    if region.level == Region.Level.COUNTY:
        report.units = progress_rank(report.units)
    return report


def progress_village_report(*, county: Region, year: int, day: datetime.date) -> ProgressReport:
    """Every village of a county on the latest snapshot day on or before `day`, ranked across
    the county with its bottom three marked (the weekly bulletin names them). Each village's
    figures are the ones its township's `progress_report` shows."""
    if county.level != Region.Level.COUNTY:
        raise ValueError(_("村级排名按县查看：%(name)s不是县") % {"name": county.name})
    report = _progress_units(region=county, year=year, day=day, child_level=Region.Level.VILLAGE)
    report.units = progress_rank(report.units)
    return report


def _progress_units(
    *, region: Region, year: int, day: datetime.date, child_level: str
) -> ProgressReport:
    """The units of `child_level` under `region`, unranked, with their total."""
    length = Region.CODE_LENGTH[child_level]
    snapshot = progress_snapshot_day(region=region, year=year, day=day)
    milestones = progress_milestones(region=region, year=year)
    in_force, upcoming = _around(milestones, day)
    children = list(
        Region.objects.in_region(region).filter(level=child_level).order_by("code")
        .values_list("code", "name")
    )  # fmt: skip
    targets = dict(
        Target.objects.filter(year=year, region_id__in=[region.code, *(c for c, _ in children)])
        .values_list("region_id", "count")
    )  # fmt: skip
    sums = {}
    if snapshot is not None:
        rows = VillageProgress.objects.in_region(region).filter(year=year, day=snapshot)
        sums = {row["unit"]: row for row in _sums(rows, length)}
    units = []
    for code, name in children:
        row = sums.get(code, {})
        units.append(
            ProgressUnit(
                code=code,
                name=name,
                level=child_level,
                expected=targets.get(code, row.get("expected") or 0),
                paid=row.get("paid") or 0,
                proxy_paid=row.get("proxy_paid") or 0,
                proxy_qualifying=row.get("proxy_qualifying") or 0,
                proxy_qualifying_paid=row.get("proxy_qualifying_paid") or 0,
                benefits_due=row.get("benefits_due") or 0,
                amount=row.get("amount") or ZERO,
                cash_paid=row.get("cash_paid") or 0,
                cash_amount=row.get("cash_amount") or ZERO,
                has_target=code in targets,
                milestone=in_force,
                next_milestone=upcoming,
            )
        )
    total = ProgressUnit(
        code=region.code,
        name=region.name,
        level=region.level,
        expected=targets.get(region.code, sum(u.expected for u in units)),
        paid=sum(u.paid for u in units),
        proxy_paid=sum(u.proxy_paid for u in units),
        proxy_qualifying=sum(u.proxy_qualifying for u in units),
        proxy_qualifying_paid=sum(u.proxy_qualifying_paid for u in units),
        benefits_due=sum(u.benefits_due for u in units),
        amount=sum((u.amount for u in units), ZERO),
        cash_paid=sum(u.cash_paid for u in units),
        cash_amount=sum((u.cash_amount for u in units), ZERO),
        has_target=region.code in targets,
        milestone=in_force,
        next_milestone=upcoming,
    )
    return ProgressReport(
        region=region, year=year, day=day, snapshot_day=snapshot, milestones=milestones,
        total=total, units=units,
    )  # fmt: skip


def cash_share_ranking(units: list[ProgressUnit]) -> list[ProgressUnit]:
    """Units with cash collected, highest cash share first: the Cangyuan notice has the units
    where cash is a large share inspected first (现金征收占比较高的乡镇、行政村)."""
    return sorted(
        (unit for unit in units if unit.cash_share),
        key=lambda unit: (-unit.cash_share, unit.code),
    )


def progress_rank(units: list[ProgressUnit]) -> list[ProgressUnit]:
    """Rank units by rate, best first (equal rates share a rank), and mark the bottom three.

    A unit is in the bottom three when its rank is among the last three places; units tied
    across that line all stay above it, and with three units or fewer nobody is marked. Units
    with nobody expected to pay have no rate, no rank, and come last.
    """
    ranked = sorted((u for u in units if u.rate is not None), key=lambda u: (-u.rate, u.code))
    for unit in ranked:
        unit.rank = 1 + sum(1 for other in ranked if other.rate > unit.rate)
        unit.bottom = len(ranked) > BOTTOM_COUNT and unit.rank > len(ranked) - BOTTOM_COUNT
    return [*ranked, *(u for u in units if u.rate is None)]


@dataclass(frozen=True)
class ProgressPoint:
    """One snapshot day of a unit's progress, for charts."""

    day: datetime.date
    expected: int
    paid: int
    proxy_paid: int
    amount: Decimal

    @property
    def rate(self) -> Decimal | None:
        return _rate(self.paid, self.expected)


def progress_series(
    *, region: Region, year: int, until: datetime.date | None = None
) -> list[ProgressPoint]:
    """A county's, township's or village's progress on every snapshot day of the year.

    Expected follows the same rule as `progress_report`, with today's targets: the township
    target where one is set (for a county, township by township), else the snapshot's count.
    """
    if region.level not in (Region.Level.COUNTY, *TARGET_LEVELS):
        raise ValueError(
            _("征缴进度按县、乡镇或村查看：%(name)s不是县、乡镇或村") % {"name": region.name}
        )
    length = 12 if region.level == Region.Level.VILLAGE else 9
    rows = VillageProgress.objects.in_region(region).filter(year=year)
    if until is not None:
        rows = rows.filter(day__lte=until)
    unit_level = Region.Level.VILLAGE if length == 12 else Region.Level.TOWNSHIP
    targets = dict(
        Target.objects.in_region(region)
        .filter(year=year, region__level=unit_level)
        .values_list("region_id", "count")
    )
    points: dict[datetime.date, list[int | Decimal]] = {}
    for row in _sums(rows, length, "day"):
        point = points.setdefault(row["day"], [0, 0, 0, ZERO])
        point[0] += targets.get(row["unit"], row["expected"] or 0)
        point[1] += row["paid"] or 0
        point[2] += row["proxy_paid"] or 0
        point[3] += row["amount"] or ZERO
    return [ProgressPoint(day, *values) for day, values in sorted(points.items())]


def progress_default_day(*, year: int, today: datetime.date | None = None) -> datetime.date:
    """The day a page shows by default: today, or the last day of a past year."""
    today = today or timezone.localdate()
    return min(today, datetime.date(year, 12, 31))
