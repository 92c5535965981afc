import datetime
from decimal import Decimal

from conftest import make_user
from pension.models import Region, User
from reconciliation import selectors
from reconciliation.models import Discrepancy
from reconciliation.tests.factories_work import (
    MAY,
    make_bank_line,
    make_discrepancy,
    make_run,
    make_total,
    record_payment,
    tax_not_posted,
)

C = Discrepancy.Category


def test_last_month_is_the_first_day_of_the_month_before():
    assert selectors.last_month(datetime.date(2023, 1, 15)) == datetime.date(2022, 12, 1)
    assert selectors.last_month(datetime.date(2023, 3, 31)) == datetime.date(2023, 2, 1)


def test_each_user_opens_the_county_they_work_in(
    county, other_county, township_user, stranger, village
):
    agent = make_user("agent", User.Role.AGENT, village)
    agent.villages.add(village)
    admin = User.objects.create_superuser("root", password="x")

    assert list(selectors.reconciliation_counties(user=township_user)) == [county]
    assert list(selectors.reconciliation_counties(user=agent)) == [county]
    assert list(selectors.reconciliation_counties(user=stranger)) == [other_county]
    assert {county, other_county} <= set(selectors.reconciliation_counties(user=admin))


def test_the_month_table_shows_the_current_run_of_the_townships_the_user_sees(
    county, township, other_township, township_user, county_user
):
    old = make_run(county)
    make_total(old, township, tax_count=9)
    run = make_run(county, run_by=county_user)
    make_total(run, township)
    make_total(run, other_township, system_count=1, system_sum=Decimal("300.00"))

    mine = selectors.month_table(county=county, month=MAY, user=township_user)
    whole = selectors.month_table(county=county, month=MAY, user=county_user)

    assert mine.run == run
    assert [row.code for row in mine.rows] == [township.code]
    assert (mine.total.tax_count, mine.total.system_sum) == (2, Decimal("600.00"))
    assert [row.code for row in whole.rows] == [township.code, other_township.code]
    assert (whole.total.tax_count, whole.total.system_count) == (4, 3)
    assert [row.agrees for row in whole.rows] == [True, False]
    assert whole.disagreeing == 1 and not whole.total.agrees


def test_a_disagreeing_row_says_which_ledger_differs_and_by_how_much():
    row = selectors.MonthRow(
        code="530927203", name="糯良乡", tax_count=2, tax_sum=Decimal("600.00"), bank_count=2,
        bank_sum=Decimal("600.00"), system_count=1, system_sum=Decimal("300.00"),
    )  # fmt: skip

    assert (row.bank_differs, row.system_differs, row.agrees) == (False, True, False)
    assert row.system_gap == Decimal("-300.00")


def test_the_history_counts_only_the_townships_the_user_sees(
    county, township, other_township, township_user, county_user
):
    first = make_run(county, run_by=county_user)
    make_total(first, township, matched=1, discrepancies=1)
    make_total(first, other_township, matched=5, discrepancies=3)
    second = make_run(county, run_by=county_user)
    make_total(second, township, matched=2)

    mine = selectors.month_runs(county=county, month=MAY, user=township_user)
    whole = selectors.month_runs(county=county, month=MAY, user=county_user)

    assert [(r.pk, r.matched_total, r.found_total) for r in mine] == [
        (second.pk, 2, 0), (first.pk, 1, 1)
    ]  # fmt: skip
    assert [(r.matched_total, r.found_total) for r in whole] == [(2, 0), (6, 4)]


def test_a_month_without_a_run_has_no_rows(county, county_user):
    table = selectors.month_table(county=county, month=MAY, user=county_user)

    assert (table.run, table.rows, table.runs) == (None, [], [])
    assert table.total.tax_sum == Decimal("0.00")


def test_the_open_counts_are_per_category_and_in_scope(
    county, resident, other_village, township_user, county_user
):
    from enrollment.tests.factories import ResidentFactory

    tax_not_posted(county, resident)
    tax_not_posted(county, ResidentFactory(village=other_village))
    resolved_at = datetime.datetime.now(tz=datetime.UTC)
    make_discrepancy(
        county, C.DUPLICATE, resident=resident, status="resolved", resolution="accepted",
        resolved_at=resolved_at,
    )  # fmt: skip

    def counts(user):
        rows = selectors.open_discrepancy_counts(user=user, county=county, month=MAY)
        return {value: n for value, _, n in rows}

    mine, whole = counts(township_user), counts(county_user)

    assert (mine[C.TAX_NOT_POSTED], mine[C.DUPLICATE]) == (1, 0)
    assert whole[C.TAX_NOT_POSTED] == 2
    assert set(mine) == set(C.values)


def test_the_worklist_rows_carry_their_township_and_village_names(
    county, resident, village, county_user
):
    placed = tax_not_posted(county, resident)
    unplaced = make_discrepancy(county, C.BANK_NO_TAX)

    rows = {d.pk: d for d in selectors.discrepancy_list(user=county_user)}

    assert (rows[placed.pk].township_name, rows[placed.pk].region_name) == ("糯良乡", village.name)
    assert (rows[unplaced.pk].township_name, rows[unplaced.pk].region_name) == (
        None, Region.objects.get(code=county.code).name
    )  # fmt: skip


def test_the_ledgers_of_a_case_include_the_records_sharing_its_voucher(county, resident):
    case = tax_not_posted(county, resident, voucher_no="TX-SH", held=True)
    make_bank_line(county, serial_no="BK-1", voucher_no="TX-SH", resident=resident)
    make_bank_line(county, serial_no="BK-2", voucher_no="OTHER", resident=resident)
    payment = record_payment(resident, "TX-SH")

    ledgers = selectors.discrepancy_ledgers(discrepancy=case)

    assert ledgers.tax_line == case.tax_line
    assert ledgers.synced_record == case.synced_record
    assert [b.serial_no for b in ledgers.bank_lines] == ["BK-1"]
    assert ledgers.payments == [payment]
