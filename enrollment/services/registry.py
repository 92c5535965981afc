"""The quarterly comparison of the police household registry with the residents on file.

The rows stream into a temporary table while the importer reads the file (COPY on PostgreSQL,
so the server stores them on the second CPU). One full join of that table with the residents
keeps only the rows that differ (a few percent) and the residents the file leaves out, and
every outcome is then one set-based statement over that small table; each statement's row
count is one figure of the summary. Running the same file twice finds nothing new the second time:
every statement touches only rows that still differ, and findings are unique while open.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from enrollment.models import ENROLMENT_AGE, Finding, Resident
from enrollment.services.findings import findings_raise, sql_message
from enrollment.services.imports import ImportOutcome, Rejection, job_progress
from pension.bulk import bulk_insert
from pension.dates import first_of_next_month, years_before
from pension.idnumber import mask
from pension.models import AuditEntry, ImportJob, Region, User
from pension.staging import (
    as_json,
    execute,
    fetch_all,
    staging_table,
    temporary_table_as,
    tune_for_bulk_work,
)

# One staged row: (row number, ID, name, sex, ISO birth date, village, group or "", household,
# status, conflict). Status is "normal", "deceased", "moved_out" or "held": a rejected row
# whose ID is known, kept only so that the person is not reported absent from the registry.
STAGE_COLUMNS = [
    ("row_no", "integer"),
    ("id_number", "varchar(18)"),
    ("name", "varchar(50)"),
    ("sex", "varchar(1)"),
    ("birth_date", "date"),
    ("village_id", "varchar(15)"),
    ("group_id", "varchar(15)"),
    ("household_no", "varchar(30)"),
    ("status", "varchar(10)"),
    ("conflict", "varchar(200)"),
]

# The header of the ID number's column, as the importer names it in a rejection.
ID_HEADER = "公民身份号码"

COUNT_KEYS = [
    "new",
    "turned_16",
    "deceased",
    "moved_out",
    "absent",
    "name_mismatch",
    "moved_village",
    "transfer_in",
    "conflicting_columns",
]


def registry_compare(
    *,
    region: Region,
    as_of: datetime.date,
    rows: Iterable[tuple],
    outcome: ImportOutcome,
    actor: User | None = None,
    dry_run: bool = False,
    strict: bool = False,
    job: ImportJob | None = None,
) -> ImportOutcome:
    """Stage `rows` (STAGE_COLUMNS) of one registry snapshot, apply them, fill `outcome.counts`.

    `rows` may be the importer's lazy iterator: it is read while the staging table loads, and
    `outcome` (rows, accepted, rejected) is complete once it is. Nothing is written when the
    half-the-rows rule or strict mode refuses the file, or on a dry run (the same statements run
    and are rolled back, so the dry run reports exactly what would change).
    """
    outcome.dry_run = dry_run
    outcome.counts.update(dict.fromkeys(COUNT_KEYS, 0))
    job_progress(job, progress=10, stage=_("读取并载入户籍数据"))
    repeated: set[str] = set()
    with transaction.atomic():
        tune_for_bulk_work()
        with staging_table(
            "registry_stage", STAGE_COLUMNS, _noting_repeats(rows, repeated)
        ) as stage:
            _reject_duplicates(stage, repeated, outcome)
            refused = outcome.refused(strict=strict)
            if not refused:
                outcome.counts.update(
                    _compare(stage, region=region, as_of=as_of, actor=actor, job=job)
                )
        if refused or dry_run:
            transaction.set_rollback(True)
    if not refused:
        outcome.applied = not dry_run
    return outcome


def _noting_repeats(rows: Iterable[tuple], repeated: set[str]) -> Iterator[tuple]:
    """Pass the rows on, adding to `repeated` every ID number seen more than once."""
    seen: set[str] = set()
    note = seen.add
    for row in rows:
        number = row[1]
        if number in seen:
            repeated.add(number)
        else:
            note(number)
        yield row


def _reject_duplicates(stage: str, repeated: set[str], outcome: ImportOutcome) -> None:
    """An ID that appears twice in the file is rejected on every row it appears in."""
    if not repeated:
        return
    rejected_already = {rejection.row for rejection in outcome.rejected}
    with staging_table(
        "registry_repeated", [("id_number", "varchar(18)")], [(n,) for n in repeated]
    ) as dups:
        rows = fetch_all(
            f"""UPDATE {stage} SET status = 'held'
                WHERE id_number IN (SELECT id_number FROM {dups}) RETURNING id_number, row_no"""
        )
    by_number: dict[str, list[int]] = {}
    for number, row_no in sorted(rows):
        by_number.setdefault(number, []).append(row_no)
    for number, row_numbers in by_number.items():
        listed = pgettext("list separator", "、").join(str(n) for n in row_numbers[:10])
        reason = _("身份证号码在文件中重复出现（第%(rows)s行）") % {"rows": listed}
        for row_no in row_numbers:
            if row_no not in rejected_already:  # already rejected for another cell
                outcome.rejected.append(Rejection(row_no, ID_HEADER, reason, mask(number)))
                outcome.accepted -= 1
    outcome.rejected.sort(key=lambda r: r.row)


_ABSENT_STATUSES = "('deceased', 'cancelled', 'sealed')"  # no longer expected in the registry


@contextmanager
def _differing(stage: str, prefix: str) -> Iterator[str]:
    """A temporary table of the staged rows that differ from the resident on file, plus the
    region's residents (`prefix`, the region's code and a %) whom the file does not mention
    (status left NULL).

    PostgreSQL reads the region's own residents only, in one full join on their village index,
    and then looks up by ID number, on the unique index, the few staged people not found among
    them: they may be on file in another county. The whole province's residents are never read,
    so a county's comparison takes as long with a hundred counties on file as alone. The SQLite
    demo, whose older releases have no FULL JOIN, adds the absent residents with a second query.
    """
    columns = """s.name, s.sex, s.birth_date, s.village_id, NULLIF(s.group_id, '') AS group_id,
                 s.household_no, s.status, s.conflict, r.id AS rid, r.name AS rname,
                 r.village_id AS rvillage, r.group_id AS rgroup, r.status AS rstatus"""
    differs = """s.status <> 'held'
                 AND (r.id IS NULL OR s.status <> 'normal' OR s.conflict <> ''
                      OR r.name <> s.name OR r.village_id <> s.village_id
                      OR (s.group_id <> '' AND COALESCE(r.group_id, '') <> s.group_id))"""
    absent = f"r.status NOT IN {_ABSENT_STATUSES}"
    if connection.vendor != "postgresql":
        sql = f"""
            SELECT s.id_number, {columns}
            FROM {stage} s LEFT JOIN enrollment_resident r ON r.id_number = s.id_number
            WHERE {differs}
            UNION ALL
            SELECT r.id_number, {columns}
            FROM enrollment_resident r LEFT JOIN {stage} s ON 1 = 0
            WHERE r.village_id LIKE %s AND {absent}
              AND NOT EXISTS (SELECT 1 FROM {stage} x WHERE x.id_number = r.id_number)"""
        with temporary_table_as("registry_diff", sql, [prefix]) as diff:
            yield diff
        return
    sql = f"""
        SELECT COALESCE(s.id_number, r.id_number) AS id_number, {columns}
        FROM {stage} s
        FULL JOIN (SELECT * FROM enrollment_resident WHERE village_id LIKE %s) r
               ON r.id_number = s.id_number
        WHERE CASE WHEN s.id_number IS NULL THEN {absent} ELSE {differs} END"""
    with temporary_table_as("registry_diff", sql, [prefix]) as diff:
        # Not a resident of the region: on file elsewhere in the province, or new.
        execute(
            f"""
            UPDATE {diff} d SET rid = r.id, rname = r.name, rvillage = r.village_id,
                   rgroup = r.group_id, rstatus = r.status
            FROM enrollment_resident r
            WHERE d.rid IS NULL AND d.status IS NOT NULL AND r.id_number = d.id_number
            """,
            [],
        )
        yield diff


def _compare(
    stage: str, *, region: Region, as_of: datetime.date, actor: User | None, job: ImportJob | None
) -> dict[str, int]:
    now = timezone.now()
    actor_id = actor.pk if actor is not None else None
    prefix = f"{region.code}%"
    source = _("户籍比对 %(date)s") % {"date": f"{as_of:%Y-%m-%d}"}
    counts: dict[str, int] = {}

    def finding(kind: str, select_sql: str, params: list) -> int:
        return findings_raise(kind=kind, source=source, select_sql=select_sql, params=params)

    def audit(action: str, select_sql: str, params: list, note: str) -> int:
        """Audit rows from `select_sql` (target_id, region_code, changes as JSON text)."""
        return execute(
            f"""
            INSERT INTO pension_auditentry
                (at, actor_id, action, target_type, target_id, region_code, changes, note)
            SELECT %s, %s, %s, 'enrollment.resident', c.target_id, c.region_code,
                   {as_json("c.changes")}, %s
            FROM ({select_sql}) c
            """,
            [now, actor_id, action, note, *params],
        )

    # The one big join: only rows that differ from what is on file go on (a few percent), and
    # the residents of the region the file does not mention at all (status left NULL).
    job_progress(job, progress=60, stage=_("比对户籍数据"))
    with _differing(stage, prefix) as diff:
        on_file = "d.rid IS NOT NULL AND d.rvillage LIKE %s"

        # Same ID, another name: a finding; the name on file is not overwritten.
        detail, detail_params = sql_message(
            _("户籍姓名：%(registry_name)s；在册姓名：%(name_on_file)s"),
            registry_name="d.name",
            name_on_file="d.rname",
        )
        counts["name_mismatch"] = finding(
            Finding.Kind.ID_NAME_MISMATCH,
            f"""SELECT d.id_number, d.name, d.rid AS resident_id, d.rvillage AS region_id,
                       {detail} AS detail
                FROM {diff} d WHERE {on_file} AND d.rname <> d.name""",
            [*detail_params, prefix],
        )
        # A 性别 or 出生日期 column that disagrees with the ID number: a finding, not an overwrite.
        counts["conflicting_columns"] = finding(
            Finding.Kind.UNVERIFIABLE,
            f"""SELECT d.id_number, d.name, d.rid AS resident_id, d.village_id AS region_id,
                       d.conflict AS detail
                FROM {diff} d WHERE d.conflict <> ''""",
            [],
        )
        job_progress(job, progress=65, stage=_("处理迁移人员"))

        # Moved to another village of the county: follow the registry, keep the history.
        counts["moved_village"] = audit(
            "resident.move",
            f"""SELECT CAST(d.rid AS varchar(20)) AS target_id, d.village_id AS region_code,
                       '{{"village": ["' || d.rvillage || '", "' || d.village_id || '"]}}'
                       AS changes
                FROM {diff} d
                WHERE d.status = 'normal' AND {on_file} AND d.rvillage <> d.village_id""",
            [prefix],
            source,
        )
        execute(
            f"""
            UPDATE enrollment_resident SET village_id = d.village_id, group_id = d.group_id,
                   updated_at = %s
            FROM {diff} d
            WHERE enrollment_resident.id = d.rid AND d.status = 'normal' AND d.rvillage LIKE %s
              AND (d.rvillage <> d.village_id
                   OR (d.group_id IS NOT NULL AND COALESCE(d.rgroup, '') <> d.group_id))
            """,
            [now, prefix],
        )

        # Deceased: status becomes deceased-pending-cancellation; benefits stop next month.
        stop = first_of_next_month(as_of)
        dead = f"""FROM {diff} d WHERE d.status = 'deceased' AND {on_file}
                     AND d.rstatus NOT IN ('deceased', 'cancelled')"""
        finding(
            Finding.Kind.DECEASED,
            f"""SELECT d.id_number, d.rname AS name, d.rid AS resident_id,
                       d.rvillage AS region_id, %s AS detail
                {dead}""",
            [
                _("公安户籍登记为死亡，待遇自 %(date)s 起停发，待注销")
                % {"date": f"{stop:%Y-%m-%d}"},
                prefix,
            ],
        )
        counts["deceased"] = audit(
            "resident.status",
            f"""SELECT CAST(d.rid AS varchar(20)) AS target_id, d.rvillage AS region_code,
                       '{{"status": ["' || d.rstatus || '", "deceased"]}}' AS changes {dead}""",
            [prefix],
            _("%(source)s：死亡，待遇自 %(date)s 起停发")
            % {"source": source, "date": f"{stop:%Y-%m-%d}"},
        )
        execute(
            f"""
            UPDATE enrollment_resident SET status = 'deceased', status_date = %s,
                   status_reason = %s, exclusion = '', updated_at = %s
            WHERE id IN (SELECT d.rid {dead})
            """,
            [
                as_of,
                _("公安户籍比对：死亡，待遇自 %(date)s 起停发") % {"date": f"{stop:%Y-%m-%d}"},
                now,
                prefix,
            ],
        )

        # Moved out of the county: a finding for the township to follow up.
        counts["moved_out"] = finding(
            Finding.Kind.MOVED_OUT,
            f"""SELECT d.id_number, d.rname AS name, d.rid AS resident_id,
                       d.rvillage AS region_id, %s AS detail
                FROM {diff} d
                WHERE d.status = 'moved_out' AND {on_file}
                  AND d.rstatus NOT IN ('deceased', 'cancelled')""",
            [_("公安户籍登记为迁出"), prefix],
        )
        # On file in another county: the registry has them here now, and their insurance is to
        # be transferred (转移接续) before they pay here. A finding for the township of the
        # village the registry names; nothing of the other county's file changes, and its own
        # comparison finds them absent from its registry.
        elsewhere, elsewhere_params = sql_message(
            _("户籍已在本县，参保登记在%(county)s，需办理参保关系转移接续"),
            county="COALESCE((SELECT x.name FROM pension_region x"
            " WHERE x.code = SUBSTR(d.rvillage, 1, 6)), SUBSTR(d.rvillage, 1, 6))",
        )
        counts["transfer_in"] = finding(
            Finding.Kind.TRANSFER_IN,
            f"""SELECT d.id_number, d.name, CAST(NULL AS bigint) AS resident_id,
                       d.village_id AS region_id,
                       {elsewhere} AS detail
                FROM {diff} d
                WHERE d.status = 'normal' AND d.rid IS NOT NULL AND d.rvillage NOT LIKE %s
                  AND d.rstatus NOT IN ('deceased', 'cancelled')""",
            [*elsewhere_params, f"{region.code[: Region.CODE_LENGTH[Region.Level.COUNTY]]}%"],
        )
        job_progress(job, progress=85, stage=_("登记新增人员"))

        # New people: on file from today, eligible when 16 or older on the snapshot date.
        cutoff = years_before(as_of, ENROLMENT_AGE)
        registered = fetch_all(
            f"""
            INSERT INTO enrollment_resident
                (id_number, name, sex, birth_date, village_id, group_id, household_no, phone,
                 status, status_reason, status_date, exclusion, created_at, updated_at)
            SELECT d.id_number, d.name, d.sex, d.birth_date, d.village_id, d.group_id,
                   d.household_no, '',
                   CASE WHEN d.birth_date <= %s THEN 'eligible' ELSE 'not_eligible' END,
                   %s, %s, '', %s, %s
            FROM {diff} d
            WHERE d.rid IS NULL AND d.status = 'normal'
            RETURNING id, village_id, status
            """,
            [cutoff, source, as_of, now, now],
        )
        counts["new"] = bulk_insert(
            AuditEntry,
            ["at", "actor_id", "action", "target_type", "target_id", "region_code", "changes",
             "note"],
            ((now, actor_id, "resident.register", "enrollment.resident", str(pk), village,
              {"status": [None, status]}, source) for pk, village, status in registered),
        )  # fmt: skip

        # On file but absent from the registry: no registration in the area.
        job_progress(job, progress=90, stage=_("核查无户籍人员"))
        counts["absent"] = finding(
            Finding.Kind.NO_REGISTRATION,
            f"""SELECT d.id_number, d.rname AS name, d.rid AS resident_id, d.rvillage AS region_id,
                       %s AS detail
                FROM {diff} d WHERE d.status IS NULL""",
            [_("在册但本次公安户籍数据中无此人")],
        )

    # Turned 16: not yet eligible until now.
    turned = """FROM enrollment_resident r
                WHERE r.village_id LIKE %s AND r.status = 'not_eligible' AND r.birth_date <= %s"""
    counts["turned_16"] = audit(
        "resident.status",
        f"""SELECT CAST(r.id AS varchar(20)) AS target_id, r.village_id AS region_code,
                   '{{"status": ["not_eligible", "eligible"]}}' AS changes {turned}""",
        [prefix, cutoff],
        _("%(source)s：年满16周岁") % {"source": source},
    )
    execute(
        """
        UPDATE enrollment_resident SET status = 'eligible', status_date = %s,
               status_reason = %s, updated_at = %s
        WHERE village_id LIKE %s AND status = 'not_eligible' AND birth_date <= %s
        """,
        [as_of, _("年满16周岁"), now, prefix, cutoff],
    )
    return {key: counts.get(key, 0) for key in COUNT_KEYS}


__all__ = ["Resident", "registry_compare"]
