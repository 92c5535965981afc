"""Statement imports: lines in their county, idempotency, refusals, the job."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from enrollment.tests.factories import make_id_number
from pension.models import AuditEntry, ImportJob, ImportRejection
from reconciliation.models import BankLine, Statement, TaxLine
from reconciliation.services.statements import (
    StatementRefused,
    statement_import,
    statement_job_create,
)
from reconciliation.tests.fixtures_recon import (
    BANK_HEADER,
    MONTH,
    TAX_HEADER,
    bank_row,
    csv_file,
    import_bank,
    import_tax,
    tax_row,
)


def nothing_written():
    return not (
        Statement.objects.exists() or TaxLine.objects.exists() or BankLine.objects.exists()
        or AuditEntry.objects.filter(action="statement.import").exists()
    )  # fmt: skip


def test_tax_lines_are_stored_in_their_statements_county(county, resident, far_resident):
    unknown = make_id_number("530927", datetime.date(1991, 1, 1))
    result = import_tax(
        county, tax_row(resident, "T1", tier="300"), tax_row(unknown, "T2", "500.00"),
        tax_row(far_resident, "T3"),
    )  # fmt: skip
    assert (result.rows, result.created, result.unchanged, result.rejected) == (3, 3, 0, [])
    assert result.applied and result.total == Decimal("1100.00")
    lines = {line.voucher_no: line for line in TaxLine.objects.all()}
    mine = lines["T1"]
    assert (mine.region_code, mine.month) == (county.code, MONTH)
    assert (mine.tier, mine.amount, mine.paid_on) == (
        Decimal("300.00"), Decimal("300.00"), datetime.date(2023, 7, 5)
    )  # fmt: skip
    # Unknown here, or a resident of another county: the line belongs to the county.
    assert lines["T2"].region_code == lines["T3"].region_code == county.code
    assert lines["T2"].tier is None
    statement = result.statement
    assert (statement.rows, statement.created, statement.total) == (3, 3, Decimal("1100.00"))
    assert statement.filename == "税务征收明细.csv" and len(statement.sha256) == 64


def test_bank_lines_are_stored_and_may_carry_no_voucher(county, resident):
    result = import_bank(county, bank_row(resident, "B1", "T1"), bank_row(resident, "B2"))
    assert result.created == 2
    lines = dict(BankLine.objects.values_list("serial_no", "voucher_no"))
    assert lines == {"B1": "T1", "B2": ""}
    assert set(BankLine.objects.values_list("region_code", flat=True)) == {county.code}


def test_the_same_file_again_answers_its_statement_and_writes_nothing(county, resident):
    first = import_tax(county, tax_row(resident, "T1"))
    again = import_tax(county, tax_row(resident, "T1"))
    assert again.same_file and again.statement == first.statement and again.created == 0
    assert Statement.objects.count() == TaxLine.objects.count() == 1
    assert AuditEntry.objects.filter(action="statement.import").count() == 1


def test_the_same_rows_in_another_file_are_unchanged_and_add_no_statement(county, resident):
    import_tax(county, tax_row(resident, "T1"), tax_row(resident, "T2", "500.00"))
    again = import_tax(county, tax_row(resident, "T2", "500.00"), tax_row(resident, "T1"))
    assert (again.created, again.unchanged, again.rejected) == (0, 2, [])
    assert again.statement is None and again.applied and not again.same_file
    assert Statement.objects.count() == 1 and TaxLine.objects.count() == 2


def test_a_file_with_some_new_rows_adds_only_those(county, resident):
    import_tax(county, tax_row(resident, "T1"))
    result = import_tax(county, tax_row(resident, "T1"), tax_row(resident, "T2", "500.00"))
    assert (result.created, result.unchanged) == (1, 1)
    assert result.total == Decimal("800.00") and result.statement.created == 1


def test_a_voucher_on_file_with_other_content_is_a_rejected_row(county, resident):
    june = datetime.date(2023, 6, 1)
    import_tax(county, tax_row(resident, "T1", day="2023-06-30"), month=june)
    result = import_tax(county, tax_row(resident, "T1", "500.00"), tax_row(resident, "T2"),
                        tax_row(resident, "T3"))  # fmt: skip
    (rejection,) = result.rejected
    assert (rejection.row, rejection.column) == (2, "电子税票号码")
    assert rejection.reason == "电子税票号码 T1 已在 2023-06 月税务征收明细中，内容不一致"
    assert result.created == 2 and result.total == Decimal("600.00")
    assert TaxLine.objects.get(voucher_no="T1").amount == Decimal("300.00")


def test_a_tier_given_once_and_left_blank_the_next_time_is_other_content(county, resident):
    import_tax(county, tax_row(resident, "T1", tier="300"))
    result = import_tax(county, tax_row(resident, "T1"), tax_row(resident, "T2"))
    assert [r.row for r in result.rejected] == [2] and result.unchanged == 0


def test_a_bank_serial_on_file_with_other_content_is_a_rejected_row(county, resident):
    import_bank(county, bank_row(resident, "B1", "T1"))
    result = import_bank(county, bank_row(resident, "B1", "T9"), bank_row(resident, "B2"),
                         bank_row(resident, "B3"))  # fmt: skip
    assert [r.reason for r in result.rejected] == [
        "银行流水号 B1 已在 2023-07 月银行流水中，内容不一致"
    ]


def test_a_voucher_repeated_in_the_file_rejects_the_later_row_naming_the_first(county, resident):
    result = import_tax(county, tax_row(resident, "T1"), tax_row(resident, "T2"),
                        tax_row(resident, "T1", "500.00"))  # fmt: skip
    (rejection,) = result.rejected
    assert rejection.row == 4
    assert rejection.reason == "电子税票号码 T1 在文件中重复出现（与第2行相同）"
    assert TaxLine.objects.get(voucher_no="T1").amount == Decimal("300.00")


def test_a_file_with_more_than_half_bad_rows_writes_nothing(county, resident):
    result = import_tax(county, tax_row(resident, "T1"), tax_row(resident, "T2", "0"),
                        tax_row(resident, "T3", day="2023-08-01"))  # fmt: skip
    assert not result.applied and "错误行超过一半" in result.refused_reason
    assert len(result.rejected) == 2 and result.statement is None
    assert nothing_written()


def test_strict_mode_writes_nothing_when_any_row_is_bad(county, resident):
    result = import_tax(county, tax_row(resident, "T1"), tax_row(resident, "T2"),
                        tax_row(resident, "T3", "abc"), strict=True)  # fmt: skip
    assert not result.applied and "全部正确才导入" in result.refused_reason
    assert nothing_written()


def test_a_file_that_is_not_a_statement_is_refused_and_writes_nothing(county):
    with pytest.raises(StatementRefused, match="缺少必需的列"):
        bank_file = csv_file(BANK_HEADER, [("B1", "", "x", "1", "2023-07-01")])
        statement_import(source="tax", county=county, month=MONTH, source_file=bank_file)
    with pytest.raises(StatementRefused, match="不是电子表格文件"):
        statement_import(source="bank", county=county, month=MONTH, source_file=b"%PDF-1.4")
    assert nothing_written()


def test_each_imported_file_writes_one_audit_entry(county, resident, county_user):
    result = import_tax(county, tax_row(resident, "T1"), tax_row(resident, "T2"),
                        actor=county_user)  # fmt: skip
    entry = AuditEntry.objects.get(action="statement.import")
    assert (entry.actor, entry.target_id, entry.region_code) == (
        county_user, str(result.statement.pk), county.code
    )  # fmt: skip
    assert entry.changes["created"] == 2 and entry.changes["total"] == "600.00"
    assert result.statement.imported_by == county_user


@pytest.mark.parametrize(
    ("who", "where", "reason"),
    [
        ("county_user", "township", "不是县"),
        ("township_user", "county", "只有县人社局"),
        ("stranger", "county", "不在您的辖区内"),
    ],
)
def test_only_the_county_bureau_imports_its_own_statements(request, resident, who, where, reason):
    user, region = request.getfixturevalue(who), request.getfixturevalue(where)
    with pytest.raises(StatementRefused, match=reason):
        import_tax(region, tax_row(resident, "T1"), actor=user)
    assert nothing_written()


def test_an_unknown_source_and_a_future_month_are_refused(county, resident):
    with pytest.raises(StatementRefused, match="未知的对账单来源"):
        statement_import(source="cash", county=county, month=MONTH,
                         source_file=csv_file(TAX_HEADER, [tax_row(resident, "T1")]))  # fmt: skip
    with pytest.raises(StatementRefused, match="晚于本月"):
        import_tax(county, tax_row(resident, "T1"), month=datetime.date(2999, 1, 1))
    assert nothing_written()


def test_an_uploaded_statement_runs_as_a_job_with_its_rejected_rows_kept(
    county, resident, county_user, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile(
        "7月征收明细.csv",
        csv_file(
            TAX_HEADER,
            [tax_row(resident, f"T{n}") for n in (1, 2)] + [tax_row(resident, "T3", "300.001")],
        ),
    )
    with django_capture_on_commit_callbacks(execute=True):
        job = statement_job_create(source="tax", county=county, month=MONTH, upload=upload,
                                   actor=county_user)  # fmt: skip
    job.refresh_from_db()  # the task ran, in process, once the job was committed
    assert (job.kind, job.status, job.progress) == (ImportJob.Kind.TAX_STATEMENT, "done", 100)
    assert job.params == {"month": "2023-07", "strict": False}
    summary = job.summary
    assert (summary["rows"], summary["accepted"], summary["created"]) == (3, 2, 2)
    assert summary["rejected_count"] == 1 and summary["count_labels"]["created"] == "新增记录"
    rejection = ImportRejection.objects.get(job=job)
    assert (rejection.row, rejection.column) == (4, "实缴金额")
    assert Statement.objects.get().job == job


def test_an_upload_the_import_would_refuse_is_refused_before_a_job_exists(
    county, township_user, resident
):
    upload = SimpleUploadedFile("x.csv", csv_file(TAX_HEADER, [tax_row(resident, "T1")]))
    with pytest.raises(StatementRefused, match="只有县人社局"):
        statement_job_create(source="tax", county=county, month=MONTH, upload=upload,
                             actor=township_user)  # fmt: skip
    assert not ImportJob.objects.exists()


def test_a_job_whose_file_is_refused_fails_with_the_reason(
    county, county_user, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("bank.pdf", b"%PDF-1.4 not a statement")
    with django_capture_on_commit_callbacks(execute=True):
        job = statement_job_create(source="bank", county=county, month=MONTH, upload=upload,
                                   actor=county_user)  # fmt: skip
    job.refresh_from_db()
    assert job.status == "failed" and "不是电子表格文件" in job.error
    assert nothing_written()
