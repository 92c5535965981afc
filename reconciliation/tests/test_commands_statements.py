"""The command-line entry points: import_statement and reconcile, their summaries and refusals."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from reconciliation.models import ReconciliationRun, Statement, TaxLine
from reconciliation.services.reconcile import CATEGORIES
from reconciliation.tests.fixtures_recon import (
    BANK_HEADER,
    TAX_HEADER,
    bank_row,
    csv_file,
    pay,
    tax_row,
)


def write(tmp_path, name, header, rows):
    path = tmp_path / name
    path.write_bytes(csv_file(header, rows))
    return path


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_import_statement_prints_the_summary_as_json(tmp_path, county, resident):
    path = write(tmp_path, "税务.csv", TAX_HEADER,
                 [tax_row(resident, "T1"), tax_row(resident, "T2", "0")])  # fmt: skip
    printed = run("import_statement", str(path), "--source", "tax", "--county", "530927",
                  "--month", "2023-07", "--json")  # fmt: skip
    summary = json.loads(printed)
    assert (summary["rows"], summary["created"], summary["total"]) == (2, 1, "300.00")
    assert summary["rejected"] == [
        {"row": 3, "column": "实缴金额", "reason": "实缴金额必须大于零：0"}
    ]
    assert summary["statement"] == Statement.objects.get().pk and summary["month"] == "2023-07"


def test_import_statement_says_so_when_the_file_was_imported_before(tmp_path, county, resident):
    path = write(tmp_path, "银行.csv", BANK_HEADER, [bank_row(resident, "B1")])
    args = ("import_statement", str(path), "--source", "bank", "--county", "530927",
            "--month", "2023-07")  # fmt: skip
    assert "新增 1 行" in run(*args)
    assert "该文件已导入过" in run(*args)


def test_a_refused_file_exits_non_zero_with_the_reason_and_writes_nothing(
    tmp_path, county, resident
):
    path = write(tmp_path, "税务.csv", TAX_HEADER,
                 [tax_row(resident, "T1"), tax_row(resident, "T2", "abc")])  # fmt: skip
    with pytest.raises(CommandError, match="全部正确才导入"):
        run("import_statement", str(path), "--source", "tax", "--county", "530927",
            "--month", "2023-07", "--strict", "--json")  # fmt: skip
    assert not TaxLine.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--county", "999999", "--month", "2023-07"], "没有区划代码为 999999 的县"),
        (["--county", "530927", "--month", "2023/07"], "月份格式应为 YYYY-MM"),
        (["--county", "530927203", "--month", "2023-07"], "不是县"),
    ],
)
def test_import_statement_refuses_a_wrong_county_or_month(tmp_path, county, args, message):
    path = write(tmp_path, "x.csv", TAX_HEADER, [])
    with pytest.raises(CommandError, match=message):
        run("import_statement", str(path), "--source", "tax", *args)
    assert not Statement.objects.exists()


def test_import_statement_refuses_a_missing_file(tmp_path, county):
    with pytest.raises(CommandError, match="文件不存在"):
        run("import_statement", str(tmp_path / "nope.csv"), "--source", "tax", "--county",
            "530927", "--month", "2023-07")  # fmt: skip


def test_reconcile_prints_counts_sums_matches_and_every_category_as_json(county, resident):
    pay(resident, "T1")
    run_args = ("reconcile", "--county", "530927", "--month", "2023-07", "--json")
    summary = json.loads(run(*run_args))
    assert summary["system"] == {"count": 1, "sum": "300.00"}
    assert summary["tax"] == {"count": 0, "sum": "0.00"} and summary["matched"] == 0
    assert list(summary["categories"]) == CATEGORIES
    assert summary["categories"]["posted_no_tax"] == 1
    again = json.loads(run(*run_args))
    assert again["categories"] == summary["categories"] and again["run"] != summary["run"]
    assert ReconciliationRun.objects.filter(is_current=True).get().pk == again["run"]


def test_reconcile_prints_a_readable_summary(county, resident):
    pay(resident, "T1")
    printed = run("reconcile", "--county", "530927", "--month", "2023-07")
    assert "系统：1 笔，300.00 元" in printed and "系统已入账、税务无记录：1 笔" in printed


def test_reconcile_refuses_a_region_that_is_not_a_county(township):
    with pytest.raises(CommandError, match="不是县"):
        run("reconcile", "--county", township.code, "--month", "2023-07")
    assert not ReconciliationRun.objects.exists()
