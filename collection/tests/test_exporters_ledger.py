import datetime
import io
import json
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from collection.exporters import ledger as exporters
from collection.exporters.ledger import LEDGER_HEADER, ledger_rows, sheet_title, write_ledger
from collection.models import Payment
from collection.services import payment_record, payment_reverse
from conftest import make_group, make_village
from enrollment.models import Resident
from enrollment.tests.factories import ResidentFactory, list_as

TITLE = "糯良乡糯良村 2023年度城乡居民基本养老保险台账"
COLUMN = {label: position for position, label in enumerate(LEDGER_HEADER)}


def pay(resident, voucher_no, amount="300", kind=Payment.Kind.PERSONAL, **extra):
    values = {
        "resident": resident,
        "contribution_year": 2023,
        "amount": amount,
        "kind": kind,
        "channel": Payment.Channel.TOWNSHIP_OFFICE,
        "source": Payment.Source.COUNTER,
        "voucher_no": voucher_no,
    }
    values.update(extra)
    payment, _ = payment_record(**values)
    return payment


def export(region, tmp_path, year=2023):
    path = tmp_path / "台账.xlsx"
    written = write_ledger(region_code=region.code, year=year, out=path)
    return written, openpyxl.load_workbook(path)


def values(sheet):
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def row_of(sheet, resident):
    for row in sheet.iter_rows(min_row=3):
        if row[COLUMN["公民身份号码"]].value == resident.id_number:
            return {label: row[position].value for label, position in COLUMN.items()}
    raise AssertionError(f"{resident.id_number} is not in the sheet")


@pytest.fixture
def second_village(township):
    return make_village(township, 201, "芒回村")


def test_it_writes_one_sheet_per_village_with_title_header_and_rows(
    tmp_path, township, village, second_village
):
    group = make_group(village, 2)
    first = ResidentFactory(
        village=village, group=group, household_no="0007", name="岩块",
        birth_date=datetime.date(1970, 5, 17),
    )  # fmt: skip
    second = ResidentFactory(village=second_village, name="叶嘎", sex="F")

    written, workbook = export(township, tmp_path)

    assert written == 2
    assert workbook.sheetnames == ["糯良乡-糯良村", "糯良乡-芒回村"]
    sheet = workbook["糯良乡-糯良村"]
    rows = values(sheet)
    assert rows[0][0] == TITLE
    assert tuple(rows[1]) == LEDGER_HEADER
    assert rows[2][:8] == [
        1, "岩块", first.id_number, "男", datetime.datetime(1970, 5, 17), "2组", "0007", "已参保",
    ]  # fmt: skip
    assert row_of(workbook["糯良乡-芒回村"], second)["性别"] == "女"
    assert workbook["糯良乡-芒回村"]["A1"].value == "糯良乡芒回村 2023年度城乡居民基本养老保险台账"


def test_rows_are_ordered_by_group_household_and_id_and_numbered_per_village(
    township, village, second_village
):
    group_1, group_2 = make_group(village, 1), make_group(village, 2)
    late = ResidentFactory(village=village, group=group_2, household_no="0001")
    early = ResidentFactory(village=village, group=group_1, household_no="0002")
    earliest = ResidentFactory(village=village, group=group_1, household_no="0001")
    ungrouped = ResidentFactory(village=village)
    elsewhere = ResidentFactory(village=second_village)

    rows = list(ledger_rows(region_code=township.code, year=2023))

    assert [(code, row.number, row.id_number) for code, _, _, row in rows] == [
        (village.code, 1, earliest.id_number),
        (village.code, 2, early.id_number),
        (village.code, 3, late.id_number),
        (village.code, 4, ungrouped.id_number),
        (second_village.code, 1, elsewhere.id_number),
    ]
    assert rows[0][1:3] == ("糯良村", "糯良乡")


def test_a_township_ledger_leaves_out_other_townships_and_counties(
    tmp_path, township, resident, other_village, far_resident
):
    ResidentFactory(village=other_village)

    written, workbook = export(township, tmp_path)

    assert written == 1
    assert workbook.sheetnames == ["糯良乡-糯良村"]


def test_it_lists_current_special_groups_and_not_ended_ones(tmp_path, township, resident):
    list_as(resident, "tekun")
    list_as(resident, "dibao")
    list_as(resident, "dibao", on=datetime.date(2022, 3, 1), valid_to=datetime.date(2023, 2, 28))
    list_as(resident, "tuopin", on=datetime.date(2021, 3, 1), valid_to=datetime.date(2022, 12, 31))

    _, workbook = export(township, tmp_path)

    assert row_of(workbook.active, resident)["特殊群体"] == "低保对象、特困人员"


def test_it_sums_personal_proxy_and_back_payments_net_of_reversals(tmp_path, township, resident):
    list_as(resident, "dibao")
    wrong = pay(resident, "GR-1", amount="300")
    payment_reverse(payment=wrong, voucher_no="CZ-1", reason="档次选错")
    pay(
        resident, "GR-2", amount="500", channel=Payment.Channel.WECHAT,
        paid_at=datetime.datetime(2023, 4, 2, 23, 30, tzinfo=datetime.UTC),
    )  # fmt: skip
    pay(resident, "DJ-1", amount="100", kind=Payment.Kind.PROXY)
    back = pay(resident, "BJ-1", amount="300", kind=Payment.Kind.BACK)
    payment_reverse(payment=back, voucher_no="CZ-2", reason="重复补缴")
    pay(resident, "BJ-2", amount="200", kind=Payment.Kind.BACK)
    # Another year's money is not this year's; 2022 has no schedule, so it is stored directly.
    Payment.objects.create(
        resident=resident, contribution_year=2022, amount=Decimal("200.00"),
        kind=Payment.Kind.PERSONAL, channel=Payment.Channel.WECHAT,
        source=Payment.Source.COUNTER, voucher_no="GR-2022",
        paid_at=datetime.datetime(2022, 6, 1, tzinfo=datetime.UTC),
    )  # fmt: skip

    _, workbook = export(township, tmp_path)
    row = row_of(workbook.active, resident)

    assert row["个人缴费(元)"] == 500
    assert row["缴费档次"] == 500
    assert row["缴费渠道"] == "微信"
    assert row["缴费日期"] == datetime.datetime(2023, 4, 3)  # 23:30 UTC is the next day in Beijing
    assert row["政府代缴(元)"] == 100
    assert row["补缴(元)"] == 200
    assert "冲正2笔" in row["备注"]


def test_money_is_written_as_numbers_with_two_decimals(tmp_path, township, resident):
    pay(resident, "GR-1", amount="300")

    _, workbook = export(township, tmp_path)
    cell = workbook.active.cell(row=3, column=COLUMN["个人缴费(元)"] + 1)

    assert cell.data_type == "n"
    assert cell.number_format == "0.00"


def test_the_generator_yields_decimals_not_floats(township, resident):
    pay(resident, "GR-1", amount="300")

    [(_, _, _, row)] = ledger_rows(region_code=township.code, year=2023)

    assert row.personal == Decimal("300.00") and isinstance(row.personal, Decimal)


def test_a_fully_reversed_payment_shows_zero_and_no_tier(township, resident):
    payment = pay(resident, "GR-1", amount="300")
    payment_reverse(payment=payment, voucher_no="CZ-1", reason="退费")

    [(_, _, _, row)] = ledger_rows(region_code=township.code, year=2023)

    assert row.personal == Decimal("0.00")
    assert (row.tier, row.channel, row.paid_on) == (None, "", None)


def test_residents_without_payments_are_still_listed_with_empty_money(tmp_path, township, resident):
    unpaid = ResidentFactory(village=resident.village, status=Resident.Status.ELIGIBLE)
    pay(resident, "GR-1")

    written, workbook = export(township, tmp_path)
    row = row_of(workbook.active, unpaid)

    assert written == 2
    assert row["参保状态"] == "应参保未参保"
    assert row["个人缴费(元)"] is None and row["政府代缴(元)"] is None and row["补缴(元)"] is None


def test_each_sheet_ends_with_a_summary_row_of_counts_and_sums(tmp_path, township, resident):
    other = ResidentFactory(village=resident.village)
    ResidentFactory(village=resident.village)
    list_as(resident, "dibao")
    pay(resident, "GR-1", amount="300")
    pay(resident, "DJ-1", amount="100", kind=Payment.Kind.PROXY)
    pay(other, "GR-2", amount="500")

    _, workbook = export(township, tmp_path)
    last = values(workbook.active)[-1]

    assert last[0] == "合计" and last[1] == "3人"
    assert last[COLUMN["个人缴费(元)"]] == 800
    assert last[COLUMN["政府代缴(元)"]] == 100
    assert last[COLUMN["补缴(元)"]] == 0
    assert last[COLUMN["备注"]] == "个人缴费2人，政府代缴1人，补缴0人"
    assert workbook.active.max_row == 2 + 3 + 1


def test_text_that_starts_like_a_formula_is_written_as_text(tmp_path, township, village):
    resident = ResidentFactory(village=village, name="=1+1", household_no="@SUM(A1)")

    _, workbook = export(township, tmp_path)
    row = next(workbook.active.iter_rows(min_row=3, max_row=3))

    name, household = row[COLUMN["姓名"]], row[COLUMN["户号"]]
    assert (name.value, name.data_type) == ("'=1+1", "s")
    assert (household.value, household.data_type) == ("'@SUM(A1)", "s")
    assert row[COLUMN["公民身份号码"]].value == resident.id_number


def test_the_workbook_is_written_in_write_only_mode(tmp_path, monkeypatch, township, resident):
    made = []

    def workbook(**options):
        made.append(openpyxl.Workbook(**options))
        return made[-1]

    monkeypatch.setattr(exporters, "Workbook", workbook)

    written, book = export(township, tmp_path)

    assert [wb.write_only for wb in made] == [True]
    assert written == 1 and row_of(book.active, resident)["姓名"] == resident.name


@pytest.mark.parametrize("per_village", [30, 60])
def test_the_generator_runs_the_same_few_queries_however_many_residents(
    django_assert_max_num_queries, township, village, second_village, per_village
):
    for place in (village, second_village):
        for resident in ResidentFactory.create_batch(per_village, village=place):
            list_as(resident, "dibao")
            pay(resident, f"GR-{resident.id_number}")

    with django_assert_max_num_queries(4):
        rows = list(ledger_rows(region_code=township.code, year=2023))

    assert len(rows) == 2 * per_village
    assert all(row.personal == Decimal("300.00") for *_, row in rows)
    assert all(row.special_groups == "低保对象" for *_, row in rows)


def test_small_chunks_give_the_same_rows_with_two_queries_per_chunk(
    django_assert_num_queries, township, village, second_village
):
    for place in (village, second_village):
        for resident in ResidentFactory.create_batch(30, village=place):
            pay(resident, f"GR-{resident.id_number}")
    whole = list(ledger_rows(region_code=township.code, year=2023))

    with django_assert_num_queries(2 + 2 * 3):
        chunked = list(ledger_rows(region_code=township.code, year=2023, chunk_size=25))

    assert chunked == whole
    assert [row.number for *_, row in chunked] == [*range(1, 31), *range(1, 31)]


def test_a_region_without_residents_gets_one_sheet_with_a_zero_summary(tmp_path, other_township):
    written, workbook = export(other_township, tmp_path)

    assert written == 0
    assert workbook.sheetnames == ["勐来乡"]
    rows = values(workbook.active)
    assert rows[0][0] == "勐来乡 2023年度城乡居民基本养老保险台账"
    assert rows[-1][:2] == ["合计", "0人"]


def test_sheet_titles_are_cleaned_shortened_and_unique():
    taken = set()
    long_name = "糯良乡-" + "很长的社区名称" * 6

    assert sheet_title("班老乡-[新]村/社区*?", taken) == "班老乡-_新_村_社区__"
    assert len(sheet_title(long_name, taken)) == 31
    assert sheet_title(long_name, taken) == long_name[:28] + "(2)"
    assert sheet_title("ABC", taken) == "ABC"
    assert sheet_title("abc", taken) == "abc(2)"
    assert sheet_title("''", taken) == "Sheet"


def test_the_command_writes_the_file_and_prints_a_json_summary(tmp_path, township, resident):
    ResidentFactory(village=make_village(township, 201, "芒回村"))
    out = tmp_path / "ledger.xlsx"
    stdout = io.StringIO()

    call_command(
        "export_ledger", "--region", township.code, "--year", "2023", "--out", str(out),
        "--json", stdout=stdout,
    )  # fmt: skip

    assert json.loads(stdout.getvalue()) == {
        "region": township.code,
        "year": 2023,
        "villages": 2,
        "residents": 2,
        "out": str(out),
    }
    assert openpyxl.load_workbook(out).sheetnames == ["糯良乡-糯良村", "糯良乡-芒回村"]
    assert not (tmp_path / "ledger.xlsx.part").exists()


def test_the_command_reports_in_chinese_without_json(tmp_path, village, resident):
    stdout = io.StringIO()

    call_command(
        "export_ledger", "--region", village.code, "--year", "2023",
        "--out", str(tmp_path / "v.xlsx"), stdout=stdout,
    )  # fmt: skip

    assert "1 个村，1 人" in stdout.getvalue()


def test_the_command_refuses_an_unknown_region_and_writes_nothing(tmp_path, db):
    out = tmp_path / "ledger.xlsx"

    with pytest.raises(CommandError, match="没有区划代码为 999999 的区划"):
        call_command("export_ledger", "--region", "999999", "--year", "2023", "--out", str(out))

    assert list(tmp_path.iterdir()) == []


def test_the_command_refuses_a_folder_that_does_not_exist(tmp_path, township):
    with pytest.raises(CommandError, match="无法写入文件"):
        call_command(
            "export_ledger", "--region", township.code, "--year", "2023",
            "--out", str(tmp_path / "missing" / "ledger.xlsx"),
        )  # fmt: skip
