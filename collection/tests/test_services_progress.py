import datetime
import io
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from collection.models import Payment, Target, VillageProgress
from collection.services import payment_record, payment_reverse
from collection.services.progress import (
    ProgressRefused,
    ProgressUnit,
    TargetRefused,
    progress_rank,
    progress_rebuild,
    progress_report,
    progress_series,
    target_set,
    targets_import,
    targets_set,
)
from collection.tasks import snapshot_progress
from conftest import make_user, make_village
from enrollment.models import Resident, SpecialGroupMembership
from enrollment.services.residents import resident_change_status
from enrollment.tests.factories import ResidentFactory
from pension.imports import Rejection
from pension.models import AuditEntry, Region, User
from pension.spreadsheets import SpreadsheetError

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = datetime.date(2023, 7, 1)
_vouchers = iter(range(1, 100_000))


def pay(resident, on=datetime.date(2023, 5, 10), amount="300", kind=Payment.Kind.PERSONAL,
        year=2023, at=datetime.time(10)):  # fmt: skip
    paid_at = timezone.make_aware(datetime.datetime.combine(on, at))
    channel = Payment.Channel.GOVERNMENT if kind == Payment.Kind.PROXY else Payment.Channel.WECHAT
    payment, _ = payment_record(
        resident=resident, contribution_year=year, amount=amount, kind=kind, channel=channel,
        source=Payment.Source.COUNTER, voucher_no=f"P-{next(_vouchers)}", paid_at=paid_at,
    )  # fmt: skip
    return payment


def proxy_pay(resident, on=datetime.date(2023, 5, 10)):
    SpecialGroupMembership.objects.get_or_create(
        resident=resident, category="dibao", department="civil_affairs",
        list_date=datetime.date(2023, 3, 15), valid_from=datetime.date(2023, 3, 15),
    )  # fmt: skip
    return pay(resident, on, amount="100", kind=Payment.Kind.PROXY)


def residents(village, n, **fields):
    return [ResidentFactory(village=village, **fields) for _ in range(n)]


def row(village, day=DAY, year=2023):
    return VillageProgress.objects.get(village=village, year=year, day=day)


def snapshot(village, expected, paid, day=DAY, **fields):
    """A progress row as the nightly rebuild writes it: the reads never look at payments."""
    return VillageProgress.objects.create(
        village=village, year=2023, day=day, expected=expected, paid=paid, **fields
    )


def csv(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode("utf-8-sig"))


@pytest.fixture
def auditor(county):
    return make_user("jiwei", User.Role.AUDITOR, county)


# --- setting one target --------------------------------------------------------------------


def test_county_staff_set_a_township_target_and_the_change_is_audited(county_user, township):
    target = target_set(region=township, year=2023, count=1200, actor=county_user)

    assert (target.region_id, target.year, target.count, target.set_by) == (
        township.code, 2023, 1200, county_user,
    )  # fmt: skip
    entry = AuditEntry.objects.for_object(target).get()
    assert (entry.action, entry.actor, entry.region_code) == (
        "target.set",
        county_user,
        "530927203",
    )
    assert entry.changes == {"year": 2023, "count": [None, 1200]}


def test_setting_a_target_again_replaces_it_and_the_same_number_records_nothing(
    county_user, township
):
    target_set(region=township, year=2023, count=1200, actor=county_user)
    target_set(region=township, year=2023, count=1300, actor=county_user)
    target_set(region=township, year=2023, count=1300, actor=county_user)

    assert list(Target.objects.values_list("count", flat=True)) == [1300]
    changes = AuditEntry.objects.filter(action="target.set").order_by("id")
    assert [e.changes["count"] for e in changes] == [[None, 1200], [1200, 1300]]


def test_township_staff_break_their_target_down_to_their_villages(township_user, village):
    target = target_set(region=village, year=2023, count=300, actor=township_user)

    assert target.count == 300


def test_township_staff_may_not_set_their_own_townships_target(township_user, township):
    with pytest.raises(TargetRefused, match="由县人社局下达"):
        target_set(region=township, year=2023, count=2000, actor=township_user)

    assert not Target.objects.exists()


@pytest.mark.parametrize("who", ["neighbour_user", "stranger", "auditor"])
def test_nobody_outside_the_region_or_without_the_role_sets_a_target(request, village, who):
    with pytest.raises(TargetRefused):
        target_set(region=village, year=2023, count=300, actor=request.getfixturevalue(who))

    assert not Target.objects.exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    ("count", "year", "message"),
    [
        (-1, 2023, "不小于 0 的整数"),
        (12.5, 2023, "不小于 0 的整数"),
        (10, 2001, "缴费年度"),
        (10_000_001, 2023, "任务数过大"),
    ],
)
def test_a_negative_count_or_an_impossible_year_is_refused(
    county_user, township, count, year, message
):
    with pytest.raises(TargetRefused, match=message):
        target_set(region=township, year=year, count=count, actor=county_user)

    assert not Target.objects.exists()


def test_a_target_is_set_for_a_township_or_village_only(county_user, county):
    with pytest.raises(TargetRefused, match="不是乡镇或村"):
        target_set(region=county, year=2023, count=10000, actor=county_user)


def test_the_targets_page_sets_all_of_its_units_or_none(township_user, village, other_village):
    with pytest.raises(TargetRefused, match="不在您的辖区内"):
        targets_set(year=2023, counts={village: 300, other_village: 200}, actor=township_user)

    assert not Target.objects.exists()


# --- importing a target sheet --------------------------------------------------------------

SHEET = "乡镇,村,任务数\n糯良乡,,1200\n糯良乡,糯良村,300\n勐来,,800\n合计,,2300\n"


def test_an_import_sets_township_and_village_targets_by_name(county, county_user, village):
    result = targets_import(source=csv(SHEET), county=county, year=2023, actor=county_user)

    assert (result.applied, result.rows, result.created, result.updated) == (True, 3, 3, 0)
    assert dict(Target.objects.values_list("region_id", "count")) == {
        "530927203": 1200, "530927203200": 300, "530927204": 800,
    }  # fmt: skip
    assert AuditEntry.objects.filter(action="target.set").count() == 3


def test_importing_the_same_sheet_twice_changes_nothing_and_a_new_count_updates(
    county, county_user, village
):
    targets_import(source=csv(SHEET), county=county, year=2023, actor=county_user)
    again = targets_import(source=csv(SHEET), county=county, year=2023, actor=county_user)
    changed = targets_import(
        source=csv("乡镇,任务数\n糯良乡,1250\n"), county=county, year=2023, actor=county_user
    )

    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert (changed.created, changed.updated) == (0, 1)
    assert Target.objects.get(region_id="530927203").count == 1250
    assert AuditEntry.objects.filter(action="target.set").count() == 4


@pytest.mark.parametrize(
    ("line", "column", "reason"),
    [
        ("糯良镇镇,,100", "乡镇", "沧源佤族自治县没有名为“糯良镇镇”的乡镇"),
        (",糯良村,100", "乡镇", "乡镇不能为空"),
        ("糯良乡,芒回村,100", "村", "糯良乡没有名为“芒回村”的村(社区)"),
        ("糯良乡,班考村,12.5", "任务数", "任务数应为整数：12.5"),
        ("糯良乡,班考村,很多", "任务数", "任务数应为整数：很多"),
        ("糯良乡,班考村,-5", "任务数", "任务数不能为负数：-5"),
        ("糯良乡,班考村,", "任务数", "任务数不能为空"),
        (
            "糯良乡,糯良村委会,100",
            "村",
            "糯良乡糯良村在第2行已填写任务数，同一乡镇或村只能填写一行",
        ),
        ("糯良乡,,1200", "乡镇", "糯良乡在第3行已填写任务数，同一乡镇或村只能填写一行"),
    ],
)
def test_one_bad_row_is_reported_with_row_column_and_reason_and_nothing_is_written(
    county, township, county_user, village, line, column, reason
):
    make_village(township, 201, "班考村")
    Target.objects.create(region=village, year=2023, count=250)
    sheet = f"乡镇,村,任务数\n糯良乡,糯良村,300\n糯良乡,,1200\n{line}\n"

    result = targets_import(source=csv(sheet), county=county, year=2023, actor=county_user)

    assert not result.applied
    assert result.rejected == [Rejection(4, column, reason, result.rejected[0].value)]
    assert str(result.rejected[0]) == f"第4行 〈{column}〉: {reason}"
    assert "未写入任何数据" in result.refused_reason
    assert dict(Target.objects.values_list("region_id", "count")) == {village.code: 250}
    assert not AuditEntry.objects.exists()


def test_township_staff_importing_rows_outside_their_village_breakdown_are_refused_by_row(
    county, township_user, village, other_village
):
    sheet = "乡镇,村,任务数\n糯良乡,糯良村,300\n糯良乡,,1200\n勐来乡,民良村,200\n"

    result = targets_import(source=csv(sheet), county=county, year=2023, actor=township_user)

    assert [(r.row, r.column) for r in result.rejected] == [(3, "乡镇"), (4, "村")]
    assert "由县人社局下达" in result.rejected[0].reason
    assert result.rejected[1].reason == "民良村不在您的辖区内"
    assert not Target.objects.exists()


def test_a_sheet_without_the_count_column_writes_nothing(county, county_user):
    with pytest.raises(SpreadsheetError, match="任务数"):
        targets_import(
            source=csv("乡镇,村\n糯良乡,\n"), county=county, year=2023, actor=county_user
        )

    assert not Target.objects.exists()


def test_an_empty_sheet_is_refused(county, county_user):
    result = targets_import(
        source=csv("乡镇,任务数\n合计,0\n"), county=county, year=2023, actor=None
    )

    assert not result.applied and "没有数据行" in result.refused_reason


def test_a_township_written_without_its_suffix_must_be_unambiguous(county, county_user):
    # 勐省镇 and 勐省农场 are both “勐省”.
    result = targets_import(
        source=csv("乡镇,任务数\n勐省,100\n"), county=county, year=2023, actor=county_user
    )

    assert "请填写乡镇全称" in result.rejected[0].reason


def test_staff_of_another_county_cannot_import_this_countys_targets(county, stranger):
    with pytest.raises(TargetRefused):
        targets_import(source=csv(SHEET), county=county, year=2023, actor=stranger)


def test_the_command_prints_rows_created_updated_and_rejected_as_json(tmp_path, county, village):
    path = tmp_path / "任务数.csv"
    path.write_bytes(SHEET.encode("utf-8-sig"))
    out = io.StringIO()

    call_command("import_targets", str(path), "--county", "530927", "--year", "2023", "--json",
                 stdout=out)  # fmt: skip

    assert json.loads(out.getvalue()) == {"rows": 3, "created": 3, "updated": 0, "rejected": []}


def test_the_command_fails_on_a_bad_row_after_printing_it_and_writes_nothing(tmp_path, county):
    path = tmp_path / "任务数.csv"
    path.write_bytes("乡镇,任务数\n糯良乡,1200\n勐来乡,八百\n".encode("utf-8-sig"))
    out = io.StringIO()

    with pytest.raises(CommandError, match="未写入任何数据"):
        call_command("import_targets", str(path), "--county", "530927", "--year", "2023",
                     "--json", stdout=out)  # fmt: skip

    assert json.loads(out.getvalue())["rejected"] == [
        {"row": 3, "column": "任务数", "reason": "任务数应为整数：八百"}
    ]
    assert not Target.objects.exists()


def test_the_command_names_an_unknown_county(tmp_path, db):
    path = tmp_path / "任务数.csv"
    path.write_bytes(SHEET.encode("utf-8-sig"))

    with pytest.raises(CommandError, match="没有区划代码为 999999 的县"):
        call_command("import_targets", str(path), "--county", "999999", "--year", "2023")


# --- the nightly snapshot: expected --------------------------------------------------------


def test_expected_is_the_enrolled_residents_when_no_target_is_set(county, village):
    residents(village, 3)
    for status in ("sealed", "eligible", "deceased", "cancelled", "receiving", "not_eligible"):
        ResidentFactory(village=village, status=status)

    progress_rebuild(county=county, year=2023, day=DAY)

    assert row(village).expected == 3


def test_sealing_a_resident_takes_them_out_of_the_denominator(county, village, township_user):
    first, _ = residents(village, 2)
    progress_rebuild(county=county, year=2023, day=DAY)
    resident_change_status(
        resident=first,
        new_status=Resident.Status.SEALED,
        reason="外嫁未迁户口",
        actor=township_user,
    )

    progress_rebuild(county=county, year=2023, day=DAY)

    assert row(village).expected == 1


def test_expected_is_the_village_target_when_one_is_set(county, village):
    residents(village, 3)
    Target.objects.create(region=village, year=2023, count=10)
    Target.objects.create(region=village, year=2022, count=99)

    progress_rebuild(county=county, year=2023, day=DAY)

    assert row(village).expected == 10


# --- the nightly snapshot: paid ------------------------------------------------------------


def test_paid_counts_each_resident_with_a_personal_or_proxy_payment_once(county, village):
    both, personal, proxy, _unpaid = residents(village, 4)
    proxy_pay(both)
    pay(both, amount="200")
    pay(personal, amount="500")
    proxy_pay(proxy)

    progress_rebuild(county=county, year=2023, day=DAY)

    counted = row(village)
    assert (counted.expected, counted.paid, counted.proxy_paid) == (4, 3, 2)
    assert counted.amount == Decimal("700.00")


def test_duplicates_reversed_and_back_payments_and_other_years_do_not_count(
    county, village, time_machine
):
    twice, reversed_, back = residents(village, 3)
    pay(twice, amount="300")
    duplicate = pay(twice, amount="300")
    assert duplicate.duplicate_of_id is not None
    reversed_payment = pay(reversed_)
    payment_reverse(payment=reversed_payment, voucher_no="R-1", reason="录错人")
    # A back payment for 2023 is made in 2024 and is not progress of the 2023 campaign.
    time_machine.move_to(datetime.datetime(2024, 2, 10, 10, tzinfo=SHANGHAI))
    pay(back, on=datetime.date(2024, 2, 10), kind=Payment.Kind.BACK)

    progress_rebuild(county=county, year=2023, day=datetime.date(2024, 2, 20))
    progress_rebuild(county=county, year=2022, day=datetime.date(2024, 2, 20))

    counted = row(village, day=datetime.date(2024, 2, 20))
    assert (counted.paid, counted.proxy_paid, counted.amount) == (1, 0, Decimal("300.00"))
    assert row(village, day=datetime.date(2024, 2, 20), year=2022).paid == 0


def test_a_days_row_counts_payments_up_to_midnight_of_that_day_in_the_county(county, village):
    late, next_morning = residents(village, 2)
    pay(late, on=datetime.date(2023, 6, 30), at=datetime.time(23, 59))
    pay(next_morning, on=datetime.date(2023, 7, 1), at=datetime.time(0, 1))

    progress_rebuild(county=county, year=2023, day=datetime.date(2023, 6, 30))
    progress_rebuild(county=county, year=2023, day=datetime.date(2023, 7, 1))

    assert row(village, day=datetime.date(2023, 6, 30)).paid == 1
    assert row(village, day=datetime.date(2023, 7, 1)).paid == 2


def test_every_village_of_the_county_gets_a_row_and_no_other_county_does(
    county, village, other_village, far_village
):
    residents(village, 1)
    ResidentFactory(village=far_village, area="622901")

    written = progress_rebuild(county=county, year=2023, day=DAY)

    villages = Region.objects.filter(code__startswith="530927", level="village").count()
    assert written == villages == 2
    assert set(VillageProgress.objects.values_list("village_id", flat=True)) == {
        village.code, other_village.code,
    }  # fmt: skip
    assert row(other_village).expected == 0


def test_rebuilding_twice_gives_the_same_rows_and_a_new_payment_updates_them(county, village):
    first, second = residents(village, 2)
    pay(first)
    progress_rebuild(county=county, year=2023, day=DAY)
    before = list(VillageProgress.objects.values())

    progress_rebuild(county=county, year=2023, day=DAY)

    assert list(VillageProgress.objects.values()) == before
    pay(second, on=DAY)
    progress_rebuild(county=county, year=2023, day=DAY)
    assert VillageProgress.objects.count() == 1
    assert row(village).paid == 2


def test_the_rebuild_is_one_statement_whatever_the_number_of_villages(county, township):
    def statements():
        with CaptureQueriesContext(connection) as captured:
            progress_rebuild(county=county, year=2023, day=DAY)
        return len(captured.captured_queries)

    residents(make_village(township, 201, "班考村"), 2)
    few = statements()
    for number in range(202, 212):
        residents(make_village(township, number, f"村{number}"), 2)

    assert statements() == few


def test_only_the_county_bureau_starts_a_rebuild(county, township_user):
    with pytest.raises(ProgressRefused):
        progress_rebuild(county=county, year=2023, day=DAY, actor=township_user)


def test_a_rebuild_is_for_a_county(township):
    with pytest.raises(ProgressRefused, match="不是县级区划"):
        progress_rebuild(county=township, year=2023, day=DAY)


def test_the_nightly_task_writes_todays_rows_for_counties_with_residents(county, village):
    payer, _ = residents(village, 2)
    pay(payer)

    with time_machine.travel(datetime.datetime(2023, 7, 1, 23, 45, tzinfo=SHANGHAI)):
        written = snapshot_progress()
        again = snapshot_progress()

    assert written == again == 1
    assert list(VillageProgress.objects.values_list("village_id", "year", "day", "paid")) == [
        (village.code, 2023, DAY, 1)
    ]


# --- reading progress ----------------------------------------------------------------------


def test_a_township_lists_its_villages_and_its_expected_adds_them_up(township, village):
    other = make_village(township, 201, "班考村")
    snapshot(village, 200, 150, proxy_paid=20, amount=Decimal("45000.00"))
    snapshot(other, 100, 40)

    report = progress_report(region=township, year=2023, day=DAY)

    assert [(u.name, u.expected, u.paid, u.rate) for u in report.units] == [
        ("糯良村", 200, 150, Decimal("75.00")), ("班考村", 100, 40, Decimal("40.00")),
    ]  # fmt: skip
    total = report.total
    assert (total.expected, total.paid, total.proxy_paid, total.amount) == (
        300, 190, 20, Decimal("45000.00"),
    )  # fmt: skip
    assert total.rate == Decimal("63.33")


def test_a_township_target_replaces_the_sum_of_its_villages(township, village):
    snapshot(village, 200, 150)
    Target.objects.create(region=township, year=2023, count=250)

    total = progress_report(region=township, year=2023, day=DAY).total

    assert (total.expected, total.has_target, total.rate) == (250, True, Decimal("60.00"))


def test_a_county_uses_each_townships_target_or_its_villages(county, village, other_village):
    snapshot(village, 200, 100)
    snapshot(other_village, 100, 90)
    Target.objects.create(region_id="530927204", year=2023, count=150)

    report = progress_report(region=county, year=2023, day=DAY)

    units = {u.code: (u.expected, u.paid) for u in report.units}
    assert units["530927203"] == (200, 100) and units["530927204"] == (150, 90)
    assert units["530927101"] == (0, 0)
    assert (report.total.expected, report.total.paid) == (350, 190)


def test_the_latest_snapshot_on_or_before_the_day_is_read(township, village):
    snapshot(village, 100, 10, day=datetime.date(2023, 6, 28))
    snapshot(village, 100, 30, day=datetime.date(2023, 7, 2))

    report = progress_report(region=township, year=2023, day=DAY)

    assert report.snapshot_day == datetime.date(2023, 6, 28)
    assert report.total.paid == 10


def test_before_any_snapshot_a_unit_shows_its_target_and_nobody_paid(township, village):
    Target.objects.create(region=village, year=2023, count=80)

    report = progress_report(region=township, year=2023, day=DAY)

    assert report.snapshot_day is None
    assert [(u.expected, u.paid, u.rate) for u in report.units] == [(80, 0, Decimal("0.00"))]


def test_the_rate_is_rounded_down_so_that_a_unit_shown_at_the_milestone_has_reached_it(
    township, village
):
    snapshot(village, 3, 2)  # 66.666…%

    assert progress_report(region=township, year=2023, day=DAY).total.rate == Decimal("66.66")


# --- milestones, gap and flags (Yunnan 2023: 60% 30 Jun, 90% 31 Aug, 95% 30 Sep, 98% 31 Oct)


def today_report(township):
    return progress_report(region=township, year=2023, day=timezone.localdate())


@pytest.mark.parametrize(
    ("due", "rate", "previous"),
    [
        (datetime.date(2023, 6, 30), 60, None),
        (datetime.date(2023, 8, 31), 90, 60),
        (datetime.date(2023, 9, 30), 95, 90),
        (datetime.date(2023, 10, 31), 98, 95),
    ],
)
@pytest.mark.parametrize("clock", [datetime.time(0, 0), datetime.time(23, 59, 59)])
def test_a_unit_below_the_milestone_is_flagged_on_its_date_and_not_the_day_before(
    township, village, due, rate, previous, clock
):
    day_before = due - datetime.timedelta(days=1)
    snapshot(village, 1000, rate * 10 - 1, day=day_before)
    snapshot(village, 1000, rate * 10 - 1, day=due)

    with time_machine.travel(datetime.datetime.combine(day_before, clock, tzinfo=SHANGHAI)):
        before = today_report(township).units[0]
    with time_machine.travel(datetime.datetime.combine(due, clock, tzinfo=SHANGHAI)):
        on_the_day = today_report(township).units[0]

    assert not before.flagged
    assert before.milestone is None or before.milestone.rate == previous
    assert on_the_day.flagged
    assert (on_the_day.milestone.due_on, on_the_day.milestone.rate) == (due, rate)
    assert on_the_day.gap == 1


def test_a_unit_exactly_at_the_milestone_rate_on_its_date_is_not_flagged(township, village):
    snapshot(village, 1000, 600, day=datetime.date(2023, 6, 30))

    with time_machine.travel(datetime.datetime(2023, 6, 30, 12, tzinfo=SHANGHAI)):
        unit = today_report(township).units[0]

    assert (unit.rate, unit.gap, unit.flagged) == (Decimal("60.00"), 0, False)


def test_before_the_first_milestone_the_gap_is_counted_to_it_without_a_flag(township, village):
    snapshot(village, 1000, 450, day=datetime.date(2023, 5, 31))

    unit = progress_report(region=township, year=2023, day=datetime.date(2023, 5, 31)).units[0]

    assert unit.milestone is None and unit.next_milestone.rate == Decimal("60.00")
    assert (unit.gap, unit.flagged, unit.goal_text) == (150, False, "6月30日前60%")


def test_between_milestones_the_gap_is_to_the_one_in_force_and_the_next_is_named(township, village):
    snapshot(village, 1000, 550, day=DAY)

    unit = progress_report(region=township, year=2023, day=DAY).units[0]

    assert unit.milestone.due_on == datetime.date(2023, 6, 30)
    assert unit.next_milestone.due_on == datetime.date(2023, 8, 31)
    assert (unit.gap, unit.flagged) == (50, True)


def test_a_unit_with_nobody_expected_to_pay_has_no_rate_and_no_flag(township, village):
    snapshot(village, 0, 0)

    unit = progress_report(region=township, year=2023, day=DAY).units[0]

    assert (unit.rate, unit.gap, unit.flagged) == (None, 0, False)


def test_a_year_without_a_schedule_has_no_milestones_and_no_flags(township, village):
    VillageProgress.objects.create(village=village, year=2030, day=DAY, expected=10, paid=1)

    report = progress_report(region=township, year=2030, day=DAY)

    assert report.milestones == [] and not report.units[0].flagged


# --- ranking -------------------------------------------------------------------------------


def unit(code, expected, paid):
    return ProgressUnit(code=code, name=code, level="township", expected=expected, paid=paid)


def test_the_county_ranks_its_townships_by_rate_and_marks_the_bottom_three(county, township):
    villages = {
        t.code: make_village(t, 200, f"{t.name}村")
        for t in Region.objects.filter(level="township", code__startswith="530927")
    }
    for n, code in enumerate(sorted(villages)):
        snapshot(villages[code], 100, 90 - n * 5)

    report = progress_report(region=county, year=2023, day=DAY)

    assert [u.rank for u in report.units] == list(range(1, 12))
    assert [u.code for u in report.units if u.bottom] == sorted(villages)[-3:]
    assert report.units[0].rate == Decimal("90.00")


def test_townships_tied_across_the_line_stay_above_it():
    units = progress_rank(
        [unit("a", 100, 90), unit("b", 100, 80), unit("c", 100, 70), unit("d", 100, 70),
         unit("e", 100, 60), unit("f", 100, 50)]
    )  # fmt: skip

    assert [(u.code, u.rank, u.bottom) for u in units] == [
        ("a", 1, False), ("b", 2, False), ("c", 3, False), ("d", 3, False), ("e", 5, True),
        ("f", 6, True),
    ]  # fmt: skip


def test_with_three_townships_or_fewer_nobody_is_marked_and_units_without_a_rate_come_last():
    units = progress_rank([unit("a", 0, 0), unit("b", 100, 10), unit("c", 100, 20)])

    assert [(u.code, u.rank, u.bottom) for u in units] == [
        ("c", 1, False), ("b", 2, False), ("a", None, False),
    ]  # fmt: skip


# --- the per-day series --------------------------------------------------------------------


def test_the_series_gives_every_snapshot_day_of_a_township_with_its_target(township, village):
    other = make_village(township, 201, "班考村")
    for day, paid in ((datetime.date(2023, 6, 1), 10), (datetime.date(2023, 6, 2), 25)):
        snapshot(village, 100, paid, day=day)
        snapshot(other, 50, 5, day=day)

    plain = progress_series(region=township, year=2023)
    Target.objects.create(region=township, year=2023, count=200)
    targeted = progress_series(region=township, year=2023, until=datetime.date(2023, 6, 1))

    assert [(p.day, p.expected, p.paid, p.rate) for p in plain] == [
        (datetime.date(2023, 6, 1), 150, 15, Decimal("10.00")),
        (datetime.date(2023, 6, 2), 150, 30, Decimal("20.00")),
    ]
    assert [(p.expected, p.paid) for p in targeted] == [(200, 15)]


def test_the_series_of_a_village_reads_its_own_rows(township, village, other_village):
    snapshot(village, 100, 10)
    snapshot(other_village, 100, 99)

    assert [(p.expected, p.paid) for p in progress_series(region=village, year=2023)] == [(100, 10)]
