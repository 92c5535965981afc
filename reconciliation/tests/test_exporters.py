import io
from decimal import Decimal

import openpyxl

from reconciliation import selectors
from reconciliation.exporters import (
    DISCREPANCY_HEADER,
    MONTH_HEADER,
    discrepancies_workbook,
    discrepancy_rows,
    month_sheet_rows,
    month_workbook,
)
from reconciliation.models import Discrepancy
from reconciliation.tests.factories_work import (
    MAY,
    make_discrepancy,
    make_run,
    make_total,
    tax_not_posted,
)


def sheet_rows(content: bytes) -> list[tuple]:
    return list(openpyxl.load_workbook(io.BytesIO(content)).active.values)


def test_the_month_sheet_lists_each_township_then_the_total(
    county, township, other_township, county_user
):
    run = make_run(county)
    make_total(run, township)
    make_total(run, other_township, bank_count=1, bank_sum=Decimal("300.00"))
    table = selectors.month_table(county=county, month=MAY, user=county_user)

    rows = list(month_sheet_rows(table=table))

    assert rows[0][:3] == ["糯良乡", 2, Decimal("600.00")]
    assert rows[0][-1] == "一致"
    assert (rows[1][0], rows[1][9], rows[1][-1]) == ("勐来乡", Decimal("-300.00"), "不一致")
    assert rows[2][:5] == ["合计", 4, Decimal("1200.00"), 3, Decimal("900.00")]


def test_the_month_workbook_has_a_title_a_header_and_the_rows(county, township, county_user):
    make_total(make_run(county), township)
    table = selectors.month_table(county=county, month=MAY, user=county_user)

    rows = sheet_rows(month_workbook(table=table))

    assert "沧源" in rows[0][0] and "2023年05月" in rows[0][0]
    assert list(rows[1]) == MONTH_HEADER
    assert [row[0] for row in rows[2:]] == ["糯良乡", "合计"]


def test_the_discrepancy_rows_name_the_place_and_the_resolution(
    county, resident, village, county_user
):
    case = tax_not_posted(county, resident, voucher_no="TX-E1")
    Discrepancy.objects.filter(pk=case.pk).update(
        status="resolved", resolution="accepted", resolution_note="已核实",
        resolved_by=county_user, resolved_at=case.found_at,
    )  # fmt: skip

    (row,) = discrepancy_rows(selectors.discrepancy_list(user=county_user))

    assert row[:8] == [
        "2023-05", "税务已征收、系统未入账", "糯良乡", village.name, "TX-E1", resident.name,
        resident.id_number, 2023,
    ]  # fmt: skip
    assert row[8] == Decimal("300.00") and row[9] is None
    assert (row[12], row[13], row[14], row[-1]) == ("已处理", "说明后确认", "已核实", "tax:TX-E1")


def test_a_name_that_looks_like_a_formula_is_written_as_text(county, county_user):
    make_discrepancy(county, "bank_no_tax", name='=HYPERLINK("x")')

    rows = sheet_rows(
        discrepancies_workbook(discrepancies=selectors.discrepancy_list(user=county_user))
    )

    assert list(rows[1]) == DISCREPANCY_HEADER
    assert rows[2][5] == '\'=HYPERLINK("x")'
