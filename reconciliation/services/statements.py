"""Importing a county's monthly statements: the tax collection detail and the bank flow.

The rows stream from the importer into a staging table (COPY on PostgreSQL) and reach their
table in one INSERT ... SELECT, which skips every voucher (or bank serial) already on file.
Only when it skipped some does a second statement compare them with what is stored: the same
content is "unchanged", other content a rejected row. A file imported twice changes nothing:
the same file is recognised by its digest and answered with its statement; the same rows in
another file add no statement.
"""

from __future__ import annotations

import datetime
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from enrollment.services.imports import (
    job_claim,
    job_fail,
    job_progress,
    job_record_rejections,
)
from pension.imports import Rejection, refusal_reason
from pension.jobs import is_transient, lease
from pension.models import ImportJob, Region, User
from pension.services import audit_record
from pension.spreadsheets import SpreadsheetError
from pension.staging import (
    copy_into,
    execute,
    fetch_all,
    staging_table,
    tune_for_bulk_work,
)
from reconciliation.importers import (
    BANK_STAGE_COLUMNS,
    SERIAL_COLUMN,
    TAX_STAGE_COLUMNS,
    VOUCHER_COLUMN,
    StatementRead,
    read_bank_statement,
    read_tax_statement,
)
from reconciliation.models import BankLine, Statement, TaxLine
from reconciliation.services.reconcile import IMPORT_STATEMENTS, county_staff_refusal

ZERO = Decimal("0.00")
SOURCES = dict(Statement.Source.choices)
JOB_KINDS = {
    Statement.Source.TAX: ImportJob.Kind.TAX_STATEMENT,
    Statement.Source.BANK: ImportJob.Kind.BANK_STATEMENT,
}
COUNT_LABELS = {"created": gettext_lazy("新增记录"), "unchanged": gettext_lazy("已导入过（未变）")}


class StatementRefused(ValueError):
    """The statement cannot be imported at all; the message says why in Chinese."""


@dataclass
class StatementImportResult:
    """What a statement import found and did; `as_dict` is the `--json` shape."""

    source: str
    county: str
    month: datetime.date
    statement: Statement | None = None
    rows: int = 0
    created: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    applied: bool = False
    refused_reason: str = ""
    total: Decimal = ZERO
    same_file: bool = False

    @property
    def accepted(self) -> int:
        return self.rows - len(self.rejected)

    def as_dict(self, *, rejected_limit: int | None = None) -> dict[str, Any]:
        rejected = self.rejected if rejected_limit is None else self.rejected[:rejected_limit]
        return {
            "source": self.source,
            "county": self.county,
            "month": f"{self.month:%Y-%m}",
            "statement": self.statement.pk if self.statement is not None else None,
            "same_file": self.same_file,
            "rows": self.rows,
            "accepted": self.accepted,
            "created": self.created,
            "unchanged": self.unchanged,
            "rejected": [r.as_dict() for r in rejected],
            "rejected_count": len(self.rejected),
            "applied": self.applied,
            "refused_reason": self.refused_reason,
            "total": f"{self.total:.2f}",
        }


def statement_import_refusal(*, user: User | None, county: Region) -> str:
    """Why `user` may not import statements for `county`, or "" (the upload page offers the
    counties this allows, and the import refuses by it)."""
    return county_staff_refusal(user=user, county=county, doing=IMPORT_STATEMENTS)


def _check(*, source: str, county: Region, month: datetime.date, actor: User | None) -> None:
    if source not in SOURCES:
        raise StatementRefused(
            _("未知的对账单来源：%(source)s（应为 tax 或 bank）") % {"source": source}
        )
    refusal = statement_import_refusal(user=actor, county=county)
    if refusal:
        raise StatementRefused(refusal)
    if month.replace(day=1) > timezone.localdate().replace(day=1):
        raise StatementRefused(
            _("所属月份 %(month)s 晚于本月，对账单只能在月份开始后导入")
            % {"month": f"{month:%Y-%m}"}
        )


def _name_of(source_file) -> str:
    if isinstance(source_file, (str, os.PathLike)):
        return os.path.basename(source_file)[:255]
    return os.path.basename(str(getattr(source_file, "name", "") or ""))[:255]


def _sha256(source) -> str:
    """The digest of a path, a bytes value or a binary file (left at its start)."""
    digest = hashlib.sha256()
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    elif isinstance(source, (bytes, bytearray, memoryview)):
        digest.update(source)
    else:
        source.seek(0)
        while chunk := source.read(1 << 20):
            digest.update(chunk)
        source.seek(0)
    return digest.hexdigest()


def statement_import(
    *,
    source: str,
    county: Region,
    month: datetime.date,
    source_file,
    filename: str | None = None,
    actor: User | None = None,
    strict: bool = False,
    job: ImportJob | None = None,
) -> StatementImportResult:
    """Import one month's statement of a county (`source` "tax" or "bank").

    Refuses (StatementRefused) a region that is not a county, an actor who is not county staff
    or a superuser, a county outside the actor's scope, and a structurally broken file.
    Rejected rows are reported one by one; the valid rows are applied in one transaction, or
    none when more than half fail or `strict` is asked and any fails.
    """
    _check(source=source, county=county, month=month, actor=actor)
    month = month.replace(day=1)
    if filename is None:
        filename = _name_of(source_file)
    result = StatementImportResult(source=source, county=county.code, month=month)
    job_progress(job, progress=5, stage=_("核对文件"))
    digest = _sha256(source_file)
    known = Statement.objects.filter(source=source, county=county, sha256=digest).first()
    if known is not None:
        # The same file again: its statement answers, and nothing is read or written.
        result.statement, result.same_file, result.applied = known, True, True
        result.rows, result.unchanged, result.total = known.rows, known.rows, known.total
        return result

    reader = read_tax_statement if source == Statement.Source.TAX else read_bank_statement

    try:
        # The header and structure are checked here, before anything is written.
        readings = [reader(source_file, month=month, filename=filename)]
    except SpreadsheetError as exc:
        raise StatementRefused(exc.message) from None

    def reading():
        """The file's rows: first those opened above, then afresh for a second pass."""
        if readings:
            return readings.pop()
        if hasattr(source_file, "seek"):
            source_file.seek(0)
        return reader(source_file, month=month, filename=filename)

    job_progress(job, progress=10, stage=_("读取并载入对账单"))
    try:
        with transaction.atomic():
            tune_for_bulk_work()
            statement = _statement_create(
                source=source, county=county, month=month, filename=filename, digest=digest,
                job=job, actor=actor,
            )  # fmt: skip
            _apply(_TAX if source == Statement.Source.TAX else _BANK, statement, reading, result)
            result.refused_reason = refusal_reason(
                rows=result.rows, rejected=len(result.rejected), strict=strict
            )
            if result.refused_reason or not result.created:
                # Refused, or nothing new (the same rows in another file): no trace at all.
                transaction.set_rollback(True)
            else:
                job_progress(job, progress=95, stage=pgettext("import stage", "保存"))
                _record(statement, result, actor)
    except SpreadsheetError as exc:
        raise StatementRefused(exc.message) from None
    result.applied = not result.refused_reason
    return result


def _statement_create(
    *, source, county, month, filename, digest, job, actor: User | None
) -> Statement:
    try:
        with transaction.atomic():
            return Statement.objects.create(
                source=source, county=county, month=month, filename=filename, sha256=digest,
                job=job, imported_by=actor if actor is not None and actor.pk else None,
            )  # fmt: skip
    except IntegrityError:
        # The same file, imported by someone else a moment ago (the digest is unique).
        raise StatementRefused(_("该文件刚刚由他人导入，请在导入记录中查看结果")) from None


@dataclass(frozen=True)
class _Kind:
    """How one statement kind is staged, inserted and compared with what is on file."""

    stage: list[tuple[str, str]]
    table: str
    key: str  # the column unique across the table
    key_label: str
    insert_columns: str  # the columns taken from the staged row
    select_columns: str  # SQL: their values from the staged row s
    same_content: str  # SQL: stored line t has the staged row s's content
    copy_columns: tuple[str, ...]  # the table's columns a first load fills by COPY
    lines: Callable[[Statement, Iterable[tuple]], Iterator[tuple]]  # staged rows -> lines


def _tax_lines(statement: Statement, rows: Iterable[tuple]) -> Iterator[tuple]:
    head, county = (str(statement.pk), statement.month.isoformat()), statement.county_id
    for _row_no, voucher, number, name, year, tier, amount, paid_on in rows:
        yield (*head, voucher, number, name, year, tier or None, amount, paid_on, county)


def _bank_lines(statement: Statement, rows: Iterable[tuple]) -> Iterator[tuple]:
    head, county = (str(statement.pk), statement.month.isoformat()), statement.county_id
    for _row_no, serial, voucher, number, amount, traded_on in rows:
        yield (*head, serial, voucher, number, amount, traded_on, county)


_TIER = "CAST(NULLIF(s.tier, '') AS numeric(12, 2))"  # staged as text, blank for none
_TAX = _Kind(
    stage=TAX_STAGE_COLUMNS,
    table=TaxLine._meta.db_table,
    key="voucher_no",
    key_label=VOUCHER_COLUMN.label,
    insert_columns="voucher_no, id_number, name, contribution_year, tier, amount, paid_on",
    select_columns=f"""s.voucher_no, s.id_number, s.name, s.contribution_year, {_TIER},
        s.amount, s.paid_on""",
    same_content=f"""t.id_number = s.id_number AND t.name = s.name
        AND t.contribution_year = s.contribution_year AND t.amount = s.amount
        AND t.paid_on = s.paid_on AND (t.tier = {_TIER} OR (t.tier IS NULL AND s.tier = ''))""",
    copy_columns=(
        "statement_id",
        "month",
        "voucher_no",
        "id_number",
        "name",
        "contribution_year",
        "tier",
        "amount",
        "paid_on",
        "region_code",
    ),
    lines=_tax_lines,
)
_BANK = _Kind(
    stage=BANK_STAGE_COLUMNS,
    table=BankLine._meta.db_table,
    key="serial_no",
    key_label=SERIAL_COLUMN.label,
    insert_columns="serial_no, voucher_no, id_number, amount, traded_on",
    select_columns="s.serial_no, s.voucher_no, s.id_number, s.amount, s.traded_on",
    same_content="""t.voucher_no = s.voucher_no AND t.id_number = s.id_number
        AND t.amount = s.amount AND t.traded_on = s.traded_on""",
    copy_columns=(
        "statement_id",
        "month",
        "serial_no",
        "voucher_no",
        "id_number",
        "amount",
        "traded_on",
        "region_code",
    ),
    lines=_bank_lines,
)


def _apply(kind: _Kind, statement: Statement, reading, result) -> None:
    """Store the new lines, sort the rest into unchanged and rejected. `reading()` reads the
    file (again) and returns (StatementRead, rows)."""
    read, rows = reading()
    if connection.vendor == "postgresql":
        try:
            with transaction.atomic():
                copy_into(kind.table, kind.copy_columns, kind.lines(statement, rows))
        except IntegrityError:
            # A key of the file is on file already (the month came before in another file):
            # the staged way below sorts the rows into new, unchanged and rejected.
            read, rows = reading()
        else:
            _copied(kind, statement, read, result)
            return
    _staged(kind, statement, rows, read, result)


def _copied(kind: _Kind, statement: Statement, read: StatementRead, result) -> None:
    """A month's first file went straight into its table; count what it brought."""
    created, total = fetch_all(
        f"SELECT COUNT(*), SUM(amount) FROM {kind.table} WHERE statement_id = %s", [statement.pk]
    )[0]
    if created:
        _analyse(kind)
    result.rows, result.created = read.rows, created
    result.rejected = sorted([*read.rejected, *_repeats(kind, read.repeated)], key=lambda r: r.row)
    result.total = Decimal(str(total or 0)).quantize(ZERO)


def _analyse(kind: _Kind) -> None:
    if connection.vendor == "postgresql":
        # A month's statement can double the table: without fresh statistics the next
        # reconciliation's planner takes the new lines for a handful and joins them row by row.
        execute(f"ANALYZE {kind.table}")


def _staged(kind: _Kind, statement: Statement, rows, read: StatementRead, result) -> None:
    """Stage the rows, insert the new ones, sort the rest into unchanged and rejected."""
    with staging_table(f"{kind.table}_stage", kind.stage, rows) as stage:
        result.rows = read.rows
        rejected = list(read.rejected)
        rejected.extend(_repeats(kind, read.repeated))
        staged, staged_total = fetch_all(f"SELECT COUNT(*), SUM(amount) FROM {stage}")[0]
        created = _insert(stage, kind, statement)
        if created:
            _analyse(kind)
        differing_total = ZERO
        if created < staged:
            unchanged, differing = _compare(stage, kind, statement)
            result.unchanged = unchanged
            for row_no, key, month, amount in differing:
                rejected.append(
                    Rejection(
                        row_no, kind.key_label,
                        _("%(label)s %(key)s 已在 %(month)s 月%(statement)s中，内容不一致")
                        % {"label": kind.key_label, "key": key, "month": str(month)[:7],
                           "statement": SOURCES[statement.source]},
                        key,
                    )
                )  # fmt: skip
                differing_total += Decimal(str(amount))
    result.created = created
    result.rejected = sorted(rejected, key=lambda r: r.row)
    result.total = (Decimal(str(staged_total or 0)) - differing_total).quantize(ZERO)


def _insert(stage: str, kind: _Kind, statement: Statement) -> int:
    """Insert the staged rows whose key is not on file yet; returns how many. (On PostgreSQL
    only a file that repeats stored lines comes this way; a month's first file is copied.)"""
    # A line's region is its statement's county: the reconciliation finds each line's resident
    # by ID number itself, and a join here would cost a month's import a second or two.
    return execute(
        f"""INSERT INTO {kind.table} (statement_id, month, {kind.insert_columns}, region_code)
        SELECT %s, %s, {kind.select_columns}, %s FROM {stage} s WHERE 1 = 1
        ON CONFLICT ({kind.key}) DO NOTHING""",
        [statement.pk, statement.month, statement.county_id],
    )


def _repeats(kind: _Kind, repeated: list[tuple[int, str, int]]) -> list[Rejection]:
    """Rows whose key an earlier row of the file had, worded with that earlier row."""
    return [
        Rejection(
            row_no,
            kind.key_label,
            _("%(label)s %(key)s 在文件中重复出现（与第%(first)s行相同）")
            % {"label": kind.key_label, "key": key, "first": first},
            key,
        )
        for row_no, key, first in repeated
    ]


def _compare(stage: str, kind: _Kind, statement: Statement) -> tuple[int, list[tuple]]:
    """(rows already on file with the same content, [(row, key, month, amount)] of the rows
    whose key is on file with other content). Lines of another county never count as the same."""
    joined = f"""FROM {stage} s JOIN {kind.table} t ON t.{kind.key} = s.{kind.key}
                 WHERE t.statement_id <> %s"""
    # A CASE, so that a NULL on either side (a tier given once and not the other time) counts
    # as a difference instead of dropping the row from both answers.
    same = f"CASE WHEN {kind.same_content} AND t.region_code LIKE %s THEN 1 ELSE 0 END"
    params = [statement.pk, f"{statement.county_id}%"]
    unchanged = fetch_all(f"SELECT COUNT(*) {joined} AND {same} = 1", params)[0][0]
    differing = fetch_all(
        f"SELECT s.row_no, s.{kind.key}, t.month, s.amount {joined} AND {same} = 0"
        " ORDER BY s.row_no",
        params,
    )
    return unchanged, differing


def _record(statement: Statement, result: StatementImportResult, actor: User | None) -> None:
    Statement.objects.filter(pk=statement.pk).update(
        rows=result.rows, created=result.created, total=result.total
    )
    statement.rows, statement.created, statement.total = result.rows, result.created, result.total
    result.statement = statement
    audit_record(
        actor=actor,
        action="statement.import",
        target=statement,
        region_code=statement.county_id,
        changes={
            "source": statement.source,
            "month": f"{statement.month:%Y-%m}",
            "filename": statement.filename,
            "rows": result.rows,
            "created": result.created,
            "unchanged": result.unchanged,
            "rejected": len(result.rejected),
            "total": f"{result.total:.2f}",
        },
        note=f"{SOURCES[statement.source]} {statement.month:%Y-%m}",
    )


# --- the upload page: a job the worker runs ------------------------------------------------


def statement_job_create(
    *,
    source: str,
    county: Region,
    month: datetime.date,
    upload: UploadedFile,
    actor: User | None,
    strict: bool = False,
) -> ImportJob:
    """Keep an uploaded statement and queue its import; the task runs it after the commit.

    Refuses at once (StatementRefused) what the import would refuse before reading the file,
    so the page can say so instead of queueing a job bound to fail.
    """
    from reconciliation.tasks import run_statement_job

    _check(source=source, county=county, month=month, actor=actor)
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=JOB_KINDS[source],
            region=county,
            filename=(upload.name or "")[:255],
            file=upload,
            sha256=_sha256(upload),
            params={"month": f"{month:%Y-%m}", "strict": strict},
            created_by=actor if actor is not None and actor.pk else None,
        )
        transaction.on_commit(lambda: run_statement_job.delay(job.pk))
    return job


def statement_job_run(*, job_id: int) -> ImportJob:
    """Run a queued statement job once. A delivery of a job another worker is running, or of a
    finished one, does nothing; a job left half-done by a worker that died is run again."""
    with lease("import", job_id) as held:
        if not held:
            return ImportJob.objects.get(pk=job_id)
        job, claimed = job_claim(job_id=job_id)
        if not claimed:
            return job
        _statement_job_do(job)
    job.refresh_from_db()
    return job


def _statement_job_do(job: ImportJob) -> None:
    params = job.params or {}
    source = {kind: source for source, kind in JOB_KINDS.items()}.get(job.kind, "")
    try:
        month = datetime.date.fromisoformat(f"{params.get('month', '')}-01")
        with job.file.open("rb") as handle:
            result = statement_import(
                source=source, county=job.region, month=month, source_file=handle,
                filename=job.filename, actor=job.created_by,
                strict=bool(params.get("strict")), job=job,
            )  # fmt: skip
    except (StatementRefused, ValueError) as exc:
        job_fail(job=job, message=str(exc))
    except Exception as exc:
        if not is_transient(exc):  # a transient error leaves the job to the task's retry
            job_fail(
                job=job,
                message=_("导入时发生系统错误：%(error)s") % {"error": type(exc).__name__},
            )
        raise
    else:
        _job_finish(job, result)


def _job_finish(job: ImportJob, result: StatementImportResult) -> None:
    summary = result.as_dict(rejected_limit=200)
    summary["count_labels"] = {key: str(label) for key, label in COUNT_LABELS.items()}
    with transaction.atomic():
        job_record_rejections(job=job, rejections=result.rejected)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.DONE,
            progress=100,
            stage=_("完成"),
            summary=summary,
            finished_at=timezone.now(),
        )


__all__ = [
    "StatementImportResult",
    "StatementRefused",
    "statement_import",
    "statement_job_create",
    "statement_job_run",
]
