"""The shared spreadsheet reader: formats, header finding, structural refusals, cell helpers.

No database: the reader is a pure helper. Files are built in each test; xlsx with openpyxl.
"""

import datetime
import io
import random
from decimal import Decimal

import openpyxl
import pytest

from pension import idnumber
from pension.spreadsheets import (
    CellError,
    Column,
    SpreadsheetError,
    parse_code,
    parse_date,
    parse_decimal,
    parse_id_number,
    read_table,
    text,
)

ID_1 = "622901197001011233"
ID_2 = "530927198506150022"
COLUMNS = (
    Column("id_number", "公民身份号码", aliases=("身份证号", "证件号码", "身份证号码")),
    Column("name", "姓名"),
    Column("township", "乡镇（街道）", required=False),
    Column("birth", "出生日期", required=False),
)
HEADER = ["公民身份号码", "姓名", "乡镇（街道）", "出生日期"]
TITLE = ["沧源县2023年城乡居民养老保险参保名单"]


def csv_bytes(rows, encoding="utf-8", delimiter=","):
    return "".join(delimiter.join(row) + "\r\n" for row in rows).encode(encoding)


def xlsx_bytes(rows, first_row=1, first_col=1):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "名单"
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value not in ("", None):
                sheet.cell(row=first_row + r, column=first_col + c, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def refusal(content, **kwargs):
    with pytest.raises(SpreadsheetError) as caught:
        read_table(io.BytesIO(content), columns=COLUMNS, **kwargs)
    assert str(caught.value) == caught.value.message
    return caught.value.message


# --- Finding the header ----------------------------------------------------------------------

ROW_1, ROW_2 = (ID_1, "张三", "糯良乡", "1970-01-01"), (ID_2, "李四", "勐来乡", "1985-06-15")
REGISTER = [TITLE, [], HEADER, ROW_1, [], ["　", " ", "", ""], ROW_2]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_it_finds_the_header_under_a_title_row_and_a_blank_row(tmp_path, kind):
    content = csv_bytes(REGISTER) if kind == "csv" else xlsx_bytes(REGISTER)
    table = read_table(write(tmp_path, f"名单.{kind}", content), columns=COLUMNS)
    assert table.header_row == 3
    assert table.filename == f"名单.{kind}"
    assert table.sheet_name == (None if kind == "csv" else "名单")
    assert table.present == {"id_number", "name", "township", "birth"}
    assert list(table.rows()) == [(4, ROW_1), (7, ROW_2)]
    assert list(table.rows()) == list(table.rows())  # every call starts again


def test_row_numbers_match_excel_when_the_sheet_starts_below_and_right_of_a1():
    # Rows 1-2 and columns A-B are empty: calamine's data area starts at C3.
    content = xlsx_bytes([TITLE, [], [], HEADER, ROW_1, [], ROW_2], first_row=3, first_col=3)
    table = read_table(io.BytesIO(content), columns=COLUMNS)
    assert table.header_row == 6
    assert list(table.rows()) == [(7, ROW_1), (9, ROW_2)]
    assert [table.letter(key) for key in ("id_number", "name", "birth")] == ["C", "D", "F"]


@pytest.mark.parametrize(
    "header",
    [
        ("身份证号", "　姓 名　", "乡镇（街道）"),
        ("证件号码", "姓名*", "乡镇(街道)"),
        ("身份证号码", '"姓\n名"', " 乡镇 （ 街道 ） "),
        ("　公民身份号码　*", "姓名：", "乡镇（街道）"),
    ],
)
def test_it_accepts_aliases_and_untidy_headers(header):
    content = csv_bytes([header, [ID_1, "张三", "糯良乡"]])
    table = read_table(io.BytesIO(content), columns=COLUMNS)
    assert table.present == {"id_number", "name", "township"}
    assert list(table.rows()) == [(2, (ID_1, "张三", "糯良乡", None))]


def test_column_order_is_free_and_extra_columns_are_ignored():
    rows = [["序号", "姓名", "备注", "身份证号", "电话"], ["1", "张三", "", ID_1, "13800000000"]]
    table = read_table(io.BytesIO(xlsx_bytes(rows)), columns=COLUMNS)
    assert list(table.rows()) == [(2, (ID_1, "张三", None, None))]
    assert [table.letter(key) for key in ("id_number", "name", "birth")] == ["D", "B", None]
    assert [column.key for column in table.columns] == ["id_number", "name", "township", "birth"]


@pytest.mark.parametrize(
    ("header", "missing"),
    [(["序号", "姓名", "性别"], "公民身份号码"), (["序号", "乡镇（街道）"], "公民身份号码、姓名")],
)
def test_a_missing_required_column_is_named_in_the_error(header, missing):
    message = refusal(csv_bytes([TITLE, header, ["1", "张三", "男"]]))
    assert message == f"缺少必需的列：{missing}（表头应在前10行内）"


def test_a_file_without_a_header_is_refused():
    message = refusal(csv_bytes([[ID_1, "张三"], [ID_2, "李四"]]))
    assert message == "未找到表头：前10行中没有可识别的列名（需要：公民身份号码、姓名）"


def test_a_header_below_the_scanned_rows_is_not_found():
    rows = [TITLE] * 3 + [HEADER, [ID_1, "张三"]]
    assert refusal(csv_bytes(rows), header_scan_rows=3).startswith("未找到表头：前3行中")
    assert read_table(io.BytesIO(csv_bytes(rows)), columns=COLUMNS).header_row == 4


def test_a_header_naming_a_column_twice_is_refused():
    message = refusal(xlsx_bytes([["身份证号", "姓名", "公民身份号码"], [ID_1, "张三", ID_1]]))
    assert "“公民身份号码”列出现了多次" in message
    assert "A列“身份证号”" in message and "C列“公民身份号码”" in message


# --- Formats and encodings ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8", ","), ("utf-8-sig", ","), ("gb18030", ","), ("utf-8", "\t"), ("utf-16", "\t")],
)
def test_it_reads_csv_in_every_encoding_excel_writes(encoding, delimiter):
    # 䶮 is in GB18030 but not in GBK: a GBK reader would fail on it.
    rows = [TITLE, HEADER, [ID_1, "王䶮", "糯良乡", "1970年1月1日"]]
    table = read_table(io.BytesIO(csv_bytes(rows, encoding, delimiter)), columns=COLUMNS)
    assert list(table.rows()) == [(3, (ID_1, "王䶮", "糯良乡", "1970年1月1日"))]


def test_a_quoted_field_spanning_lines_is_one_row():
    content = csv_bytes([HEADER, [ID_1, '"张\r\n三"', '"糯良乡,糯良村"'], [ID_2, "李四"]])
    rows = list(read_table(io.BytesIO(content), columns=COLUMNS).rows())
    assert rows == [(2, (ID_1, "张\r\n三", "糯良乡,糯良村", "")), (3, (ID_2, "李四", "", ""))]


def test_an_unclosed_quote_is_a_structural_error_even_far_below_the_header():
    rows = [HEADER, *[ROW_1] * 10, [ID_2, '"李四' + "x" * 200_000]]
    table = read_table(io.BytesIO(csv_bytes(rows)), columns=COLUMNS)
    with pytest.raises(SpreadsheetError, match="第12行附近的引号不成对"):
        list(table.rows())


def test_text_that_is_neither_utf8_nor_gb18030_is_refused():
    content = "公民身份号码,姓名\r\n".encode("gb18030") + b"\xff\x80\xff,\x80\r\n"
    assert refusal(content).startswith("无法识别文件编码")


def test_a_gbk_name_pasted_deep_into_a_utf8_file_is_refused_with_its_row():
    content = csv_bytes([HEADER] + [[ID_1, "张三"]] * 20000) + "李四".encode("gb18030")
    assert refusal(content).startswith("文件编码混杂：开头是 UTF-8 编码，但第20002行")


OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
PK_HEADER = b"PK\x03\x04"


NOT_A_SPREADSHEET = "不是电子表格文件（支持 xlsx、xls、csv）"
ENCRYPTED_OLE = OLE_SIGNATURE + bytes(1016) + "EncryptedPackage".encode("utf-16-le") + bytes(64)
REFUSALS = {
    "empty": (b"", "文件为空"),
    "blank-lines": (b"\xef\xbb\xbf\r\n  \r\n,,,\r\n\t\r\n", "文件为空"),
    "empty-sheet": (xlsx_bytes([]), "文件为空：第一个工作表“名单”中没有数据"),
    "png": (b"\x89PNG\r\n\x1a\n" + bytes(200), NOT_A_SPREADSHEET),
    "pdf": (b"%PDF-1.7\n" + bytes(200), NOT_A_SPREADSHEET),
    "random": (random.Random(7).randbytes(4096), NOT_A_SPREADSHEET),
    "html": (b"<html><body><table><tr><td>x</td></tr></table>", NOT_A_SPREADSHEET + "："),
    "garbage-zip": (PK_HEADER + random.Random(8).randbytes(2000), "文件已损坏，无法读取"),
    "truncated-xlsx": (xlsx_bytes([HEADER])[:3000], "文件已损坏，无法读取"),
    "ole-unreadable": (OLE_SIGNATURE + bytes(4088), "文件无法读取：已加密或不是有效的 xls 文件"),
    "ole-encrypted": (
        ENCRYPTED_OLE,
        "文件已加密（设置了打开密码），请取消密码后另存为 xlsx 再上传",
    ),
}


@pytest.mark.parametrize(("content", "message"), REFUSALS.values(), ids=REFUSALS.keys())
def test_structural_problems_are_refused_with_a_chinese_reason(content, message):
    assert refusal(content).startswith(message)


def test_a_file_over_max_bytes_is_refused_before_it_is_read(tmp_path):
    path = write(tmp_path, "big.csv", csv_bytes([HEADER]) + b"x\r\n" * (1 << 20))
    with pytest.raises(SpreadsheetError, match=r"^文件过大：3.1 MB，上限 2 MB$"):
        read_table(path, columns=COLUMNS, max_bytes=2 << 20)

    class Upload(io.BytesIO):
        size = 50 << 20

    with pytest.raises(SpreadsheetError, match=r"^文件过大：50 MB，上限 10 MB$"):
        read_table(Upload(b""), columns=COLUMNS, max_bytes=10 << 20)
    assert read_table(path, columns=COLUMNS, max_bytes=4 << 20).header_row == 1


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_it_reads_a_django_style_uploaded_file_and_leaves_it_open(kind):
    rows = [HEADER, [ID_1, "张三", "糯良乡"]]
    upload = io.BytesIO(csv_bytes(rows) if kind == "csv" else xlsx_bytes(rows))
    upload.name = f"uploads/参保名单.{kind}"
    upload.read(10)  # a form validator has already peeked at it
    table = read_table(upload, columns=COLUMNS)
    assert table.filename == f"参保名单.{kind}"
    assert [values[:3] for _, values in table.rows()] == [(ID_1, "张三", "糯良乡")]
    assert not upload.closed


def test_the_format_comes_from_the_content_not_the_name(tmp_path):
    path = write(tmp_path, "名单.csv", xlsx_bytes([HEADER, [ID_1, "张三"]]))
    assert read_table(path, columns=COLUMNS).sheet_name == "名单"


def test_xlsx_cells_come_back_raw():
    rows = [HEADER, [ID_1, "张三", 530927203200, datetime.date(1970, 1, 1)]]
    ((_, values),) = read_table(io.BytesIO(xlsx_bytes(rows)), columns=COLUMNS).rows()
    assert values == (ID_1, "张三", 530927203200.0, datetime.date(1970, 1, 1))
    assert parse_date(values[3]) == datetime.date(1970, 1, 1)
    assert parse_code(values[2]) == "530927203200"


# --- Cell helpers ---------------------------------------------------------------------------


def test_cell_errors_read_as_their_chinese_message():
    with pytest.raises(CellError) as caught:
        parse_id_number("  ")
    assert str(caught.value) == caught.value.message == "身份证号码为空"
    assert isinstance(caught.value, ValueError)


MARCH_31 = datetime.date(2023, 3, 31)
ID_X = "53092719850610005X"
# fmt: off
TEXTS = [(None, ""), (12.0, "12"), (12.5, "12.5"), (7, "7"), ("　张三 ", "张三"), ("１２３", "123")]
DATE_SPELLINGS = [
    MARCH_31, datetime.datetime(2023, 3, 31, 8, 30), 45016, 45016.25, 20230331, "2023-03-31",
    "2023/3/31", "2023.3.31", "20230331", "2023年3月31日", " 2023-03-31 ", "2023-03-31 00:00:00",
    "２０２３－０３－３１", "２０２３年３月３１日",
]
BAD_DATES = [
    ("2023-02-30", "日期无效：2023-02-30"), ("20231301", "日期无效：20231301"),
    (60, "日期无效：1900-02-29"), ("31/03/2023", "日期格式无法识别：31/03/2023"),
    ("2023-3/31", "日期格式无法识别：2023-3/31"), ("", "日期为空"),
    (True, "日期格式无法识别：True"),
]
RECOVERABLE_IDS = [
    (622901197001011233, ID_1), (622901700101123, "622901700101123"),
    (622901700101123.0, "622901700101123"), (Decimal("622901197001011233"), ID_1),
    ("622901197001011233.0", ID_1), (" ６２２９０１１９７００１０１１２３３　", ID_1),
    ('="622901197001011233"', ID_1), ("'622901197001011233", ID_1),
    ("6229 0119 7001 0112 33", ID_1), (ID_X.lower(), ID_X),
]
CUT_SHORT_IDS = [
    6.229011970010112e17, 1e17, "6.22901197001E+17", "6.22901E+17", "6.22901e17", Decimal("6E+17"),
]
CODES = [
    "530927203200", 530927203200, 530927203200.0, "530927203200.0", "　５３０９２７２０３２００",
]
BAD_CODES = [
    ("5309272032001", (12, 15), "代码应为12位或15位数字：5309272032001"),
    ("53092720320A", (12, 15), "代码应为12位或15位数字：53092720320A"),
    (530927.5, (6,), "代码应为6位数字：530927.5"),
    ("5.30927E+11", (12, 15), "代码被Excel转换为科学计数法"), ("", (12, 15), "代码为空"),
]
AMOUNTS = [
    ("300", "300.00"), ("300.00", "300.00"), (300, "300.00"), ("1,500.00", "1500.00"),
    ("300元", "300.00"), ("￥1，500.5", "1500.50"), (300.5, "300.50"), (0.1, "0.10"),
    (Decimal("300.5"), "300.50"), ("-200", "-200.00"),
]
BAD_AMOUNTS = [
    (300.125, "金额最多两位小数：300.125"), ("300.125", "金额最多两位小数：300.125"),
    (0.1 + 0.2, "金额最多两位小数：0.30000000000000004"), ("三百元", "金额格式错误：三百元"),
    ("1e3", "金额格式错误：1e3"), (float("nan"), "金额格式错误：nan"), ("", "金额为空"),
]
# fmt: on


@pytest.mark.parametrize(("value", "expected"), TEXTS)
def test_text_tidies_a_cell(value, expected):
    assert text(value) == expected


@pytest.mark.parametrize("value", DATE_SPELLINGS)
def test_parse_date_reads_every_usual_spelling(value):
    assert parse_date(value) == MARCH_31


def test_parse_date_counts_excel_serials_across_the_1900_leap_bug():
    assert parse_date(1) == datetime.date(1900, 1, 1)
    assert parse_date(59) == datetime.date(1900, 2, 28)
    assert parse_date(61) == datetime.date(1900, 3, 1)


@pytest.mark.parametrize(("value", "message"), BAD_DATES)
def test_parse_date_rejects_impossible_and_unknown_dates(value, message):
    with pytest.raises(CellError) as caught:
        parse_date(value)
    assert caught.value.message.startswith(message)


@pytest.mark.parametrize(("value", "expected"), RECOVERABLE_IDS)
def test_parse_id_number_recovers_numbers_that_lost_no_digit(value, expected):
    assert parse_id_number(value) == expected
    assert idnumber.parse(parse_id_number(value)).number in (ID_1, ID_X)


@pytest.mark.parametrize("value", CUT_SHORT_IDS)
def test_parse_id_number_refuses_numbers_excel_has_cut_short(value):
    with pytest.raises(CellError, match="科学计数法，后几位已丢失，请将该列设置为文本后重新导出"):
        parse_id_number(value)


@pytest.mark.parametrize("value", CODES)
def test_parse_code_recovers_region_codes_stored_as_numbers(value):
    assert parse_code(value) == "530927203200"


@pytest.mark.parametrize(("value", "lengths", "message"), BAD_CODES)
def test_parse_code_names_the_expected_lengths(value, lengths, message):
    with pytest.raises(CellError) as caught:
        parse_code(value, lengths=lengths)
    assert caught.value.message.startswith(message)
    assert parse_code("530927203200001", lengths=(*lengths, 15)) == "530927203200001"


@pytest.mark.parametrize(("value", "expected"), AMOUNTS)
def test_parse_decimal_reads_money_cells(value, expected):
    assert parse_decimal(value) == Decimal(expected)
    assert str(parse_decimal(value)) == expected


@pytest.mark.parametrize(("value", "message"), BAD_AMOUNTS)
def test_parse_decimal_refuses_what_is_not_yuan_and_fen(value, message):
    with pytest.raises(CellError, match=f"^{message}$"):
        parse_decimal(value)
