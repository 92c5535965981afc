"""Reading statements: aliases, every cell check with its row and column, the file's own repeats."""

import datetime
import io

import openpyxl
import pytest

from enrollment.tests.factories import make_id_number
from pension import idnumber
from pension.spreadsheets import SpreadsheetError
from reconciliation.importers import read_bank_statement, read_tax_statement
from reconciliation.tests.fixtures_recon import BANK_HEADER, MONTH, TAX_HEADER, csv_file

PERSON = make_id_number("530927", datetime.date(1980, 3, 1))


def read_tax(rows, header=TAX_HEADER):
    read, staged = read_tax_statement(csv_file(header, rows), month=MONTH)
    return read, list(staged)


def read_bank(rows, header=BANK_HEADER):
    read, staged = read_bank_statement(csv_file(header, rows), month=MONTH)
    return read, list(staged)


def good(voucher="T1", **cells):
    row = {"voucher": voucher, "id": PERSON, "name": "岩块", "year": "2023", "tier": "300",
           "amount": "300.00", "day": "2023-07-05"}  # fmt: skip
    row.update(cells)
    return tuple(row.values())


def test_a_tax_row_is_staged_as_text_in_the_staging_columns():
    # Amounts go on as the file spells them when that is plain: the numeric column reads them.
    read, staged = read_tax([good()])
    assert staged == [("2", "T1", PERSON, "岩块", "2023", "300", "300.00", "2023-07-05")]
    assert (read.rows, read.rejected, read.repeated) == (1, [], [])


def test_the_tax_columns_are_found_under_their_usual_other_names():
    header = ("税票号码", "身份证号码", "缴费人姓名", "所属年度", "缴费金额", "缴款日期")
    _, staged = read_tax([("T1", PERSON, "岩块", "2023年", "300", "2023/7/5")], header)
    assert staged == [("2", "T1", PERSON, "岩块", "2023", "", "300", "2023-07-05")]


def test_spellings_the_quick_path_does_not_know_go_through_the_full_rules():
    short = make_id_number("530927", datetime.date(1965, 4, 9))
    old = short[:6] + short[8:17]  # the same person's first-generation 15-digit number
    read, staged = read_tax(
        [good("T1", id=old.lower(), name=" 岩 块 ", year="2023.0", amount="1,500元",
              day="2023年7月31日", tier="")],
    )  # fmt: skip
    assert not read.rejected
    assert staged == [("2", "T1", idnumber.upgrade_15(old), "岩 块", "2023", "", "1500.00",
                       "2023-07-31")]  # fmt: skip


@pytest.mark.parametrize(
    ("cells", "column", "reason"),
    [
        ({"voucher": ""}, "电子税票号码", "电子税票号码不能为空"),
        ({"voucher": "T" * 41}, "电子税票号码", "电子税票号码超过40个字符"),
        ({"id": PERSON[:17] + ("0" if PERSON[17] != "0" else "1")}, "证件号码", "校验位错误"),
        ({"id": "53092719800301"}, "证件号码", "身份证号码格式错误"),
        ({"name": " "}, "姓名", "姓名不能为空"),
        ({"year": "23"}, "缴费年度", "缴费年度应为四位年份"),
        ({"year": "2031"}, "缴费年度", "缴费年度 2031 不合理"),
        ({"tier": "abc"}, "缴费档次", "金额格式错误"),
        ({"amount": "0"}, "实缴金额", "实缴金额必须大于零"),
        ({"amount": "-300"}, "实缴金额", "实缴金额必须大于零"),
        ({"amount": "300.001"}, "实缴金额", "金额最多两位小数"),
        ({"day": "2023-08-01"}, "入库日期", "入库日期 2023-08-01 不在 2023-07 月内"),
        ({"day": "2023-07-32"}, "入库日期", "日期无效"),
    ],
)
def test_a_bad_tax_cell_rejects_its_row_with_row_column_and_reason(cells, column, reason):
    read, staged = read_tax([good("T0"), good(**{"voucher": "T1", **cells})])
    assert [row[1] for row in staged] == ["T0"]
    (rejection,) = read.rejected
    assert (rejection.row, rejection.column) == (3, column)
    assert reason in rejection.reason
    assert read.rows == 2


def test_the_same_voucher_twice_in_a_file_is_noted_for_the_second_row():
    read, staged = read_tax([good("T1"), good("T2"), good("T1", amount="500")])
    assert [row[1] for row in staged] == ["T1", "T2"]
    assert read.repeated == [(4, "T1", 2)]


def test_a_voucher_turned_into_a_number_by_excel_is_refused():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(TAX_HEADER))
    sheet.append([3.2011230700001e19, PERSON, "岩块", 2023, 300, 300.0, datetime.date(2023, 7, 5)])
    sheet.append(["T2", PERSON, "岩块", 2023, None, 300.5, datetime.datetime(2023, 7, 6, 9, 30)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    read, staged = read_tax_statement(buffer.getvalue(), month=MONTH)
    staged = list(staged)
    assert staged == [("3", "T2", PERSON, "岩块", "2023", "", "300.50", "2023-07-06")]
    (rejection,) = read.rejected
    assert rejection.column == "电子税票号码" and "后几位已丢失" in rejection.reason


def test_a_file_without_a_required_column_is_refused_before_any_row():
    header = ("电子税票号码", "证件号码", "姓名", "缴费年度", "入库日期")
    with pytest.raises(SpreadsheetError, match="缺少必需的列：实缴金额"):
        read_tax_statement(csv_file(header, [("T1", PERSON, "岩块", "2023", "2023-07-05")]),
                           month=MONTH)  # fmt: skip


def test_a_bank_row_may_have_no_voucher_and_the_column_may_be_absent():
    read, staged = read_bank([("B1", "", PERSON, "300", "2023-07-06")])
    assert staged == [("2", "B1", "", PERSON, "300", "2023-07-06")]
    header = ("流水号", "身份证号", "金额", "记账日期")
    read, staged = read_bank([("B2", PERSON, "500.00", "20230707")], header)
    assert staged == [("2", "B2", "", PERSON, "500.00", "2023-07-07")]
    assert not read.rejected


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        (("", "T1", PERSON, "300", "2023-07-06"), "银行流水号", "银行流水号不能为空"),
        (("B 1", "T1", PERSON, "300", "2023-07-06"), "银行流水号", "不能有空格"),
        (("B1", "T1", "abc", "300", "2023-07-06"), "证件号码", "身份证号码格式错误"),
        (("B1", "T1", PERSON, "0.00", "2023-07-06"), "交易金额", "交易金额必须大于零"),
        (
            ("B1", "T1", PERSON, "300", "2023-06-30"),
            "交易日期",
            "交易日期 2023-06-30 不在 2023-07 月内",
        ),
    ],
)
def test_a_bad_bank_cell_rejects_its_row_with_row_column_and_reason(row, column, reason):
    read, staged = read_bank([row])
    assert staged == []
    (rejection,) = read.rejected
    assert (rejection.row, rejection.column) == (2, column) and reason in rejection.reason


def test_the_same_bank_serial_twice_is_noted_for_the_second_row():
    read, staged = read_bank([("B1", "", PERSON, "300", "2023-07-06")] * 2)
    assert len(staged) == 1 and read.repeated == [(3, "B1", 2)]
