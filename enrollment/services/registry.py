"""The quarterly comparison of the police household registry with the residents on file.

The validated registry rows are loaded into a staging table and compared with a handful of
set-based statements; each statement's row count is one figure of the summary. Running the
same file twice finds nothing new the second time, because every statement only touches rows
that still differ (and findings are unique while open).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from enrollment.models import ENROLMENT_AGE, Finding, Resident
from enrollment.services.imports import ImportOutcome, job_progress
from pension.dates import first_of_next_month, years_before
from pension.models import ImportJob, Region, User
from pension.staging import as_json, execute, staging_table


@dataclass(frozen=True)
class RegistryRow:
    """One accepted registry row, already normalised and resolved to a village of the county."""

    id_number: str
    name: str
    sex: str
    birth_date: datetime.date
    village_id: str
    group_id: str | None
    household_no: str
    status: str  # "normal", "deceased", "moved_out", or "held" (see held_row)
    conflict: str = ""  # a differing 性别/出生日期 column, kept as a finding


def held_row(id_number: str) -> RegistryRow:
    """A rejected row whose ID number is known: it takes part in nothing, but the person is not
    reported absent from the registry because one of their other cells was wrong."""
    return RegistryRow(id_number, "", "", None, "", None, "", "held")


STAGE_COLUMNS = [
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

COUNT_KEYS = [
    "new",
    "turned_16",
    "deceased",
    "moved_out",
    "absent",
    "name_mismatch",
    "moved_village",
    "conflicting_columns",
]


def registry_compare(
    *,
    region: Region,
    as_of: datetime.date,
    rows: list[RegistryRow],
    outcome: ImportOutcome,
    actor: User | None = None,
    dry_run: bool = False,
    strict: bool = False,
    job: ImportJob | None = None,
) -> ImportOutcome:
    """Apply the accepted rows of one registry snapshot and fill `outcome.counts`.

    `outcome` arrives with rows, accepted and rejected filled by the importer. Nothing is written
    when the half-the-rows rule or strict mode refuses the file, or on a dry run (the same
    statements run and are rolled back, so the dry run reports exactly what would change).
    """
    outcome.dry_run = dry_run
    outcome.counts.update(dict.fromkeys(COUNT_KEYS, 0))
    if outcome.refused(strict=strict):
        return outcome

    job_progress(job, progress=60, stage="比对户籍数据")
    with transaction.atomic():
        stage_rows = (
            (r.id_number, r.name, r.sex, r.birth_date, r.village_id, r.group_id,
             r.household_no, r.status, r.conflict)
            for r in rows
        )  # fmt: skip
        with staging_table("registry_stage", STAGE_COLUMNS, stage_rows) as stage:
            outcome.counts.update(_compare(stage, region=region, as_of=as_of, actor=actor, job=job))
        if dry_run:
            transaction.set_rollback(True)
    outcome.applied = not dry_run
    return outcome


def _compare(
    stage: str, *, region: Region, as_of: datetime.date, actor: User | None, job: ImportJob | None
) -> dict[str, int]:
    now = timezone.now()
    actor_id = actor.pk if actor is not None else None
    prefix = f"{region.code}%"
    source = f"户籍比对 {as_of:%Y-%m-%d}"
    in_county = "r.village_id LIKE %s"
    counts: dict[str, int] = {}

    def finding(kind: str, select_sql: str, params: list) -> int:
        """Insert findings from `select_sql` (id_number, name, resident_id, region_id, detail)
        unless the same kind is already open for that ID number."""
        return execute(
            f"""
            INSERT INTO enrollment_finding
                (kind, status, id_number, name, resident_id, region_id, detail, source,
                 resolution_note, created_at)
            SELECT %s, 'open', c.id_number, c.name, c.resident_id, c.region_id, c.detail, %s,
                   '', %s
            FROM ({select_sql}) c
            WHERE NOT EXISTS (
                SELECT 1 FROM enrollment_finding f
                WHERE f.kind = %s AND f.id_number = c.id_number AND f.status = 'open'
            )
            """,
            [kind, source, now, *params, kind],
        )

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

    # Same ID, another name: a finding; the name on file is not overwritten.
    counts["name_mismatch"] = finding(
        Finding.Kind.ID_NAME_MISMATCH,
        f"""SELECT s.id_number, s.name, r.id AS resident_id, r.village_id AS region_id,
                   '户籍姓名：' || s.name || '；在册姓名：' || r.name AS detail
            FROM {stage} s JOIN enrollment_resident r ON r.id_number = s.id_number
            WHERE s.status <> 'held' AND r.name <> s.name AND {in_county}""",
        [prefix],
    )
    # A 性别 or 出生日期 column that disagrees with the ID number: a finding, not an overwrite.
    counts["conflicting_columns"] = finding(
        Finding.Kind.UNVERIFIABLE,
        f"""SELECT s.id_number, s.name, r.id AS resident_id, s.village_id AS region_id,
                   s.conflict AS detail
            FROM {stage} s LEFT JOIN enrollment_resident r ON r.id_number = s.id_number
            WHERE s.status <> 'held' AND s.conflict <> ''""",
        [],
    )
    job_progress(job, progress=65, stage="处理迁移人员")

    # Moved to another village of the county: follow the registry, keep the history.
    moved = f"""FROM {stage} s JOIN enrollment_resident r ON r.id_number = s.id_number
                WHERE s.status = 'normal' AND {in_county} AND r.village_id <> s.village_id"""
    counts["moved_village"] = audit(
        "resident.move",
        f"""SELECT CAST(r.id AS varchar(20)) AS target_id, s.village_id AS region_code,
                   '{{"village": ["' || r.village_id || '", "' || s.village_id || '"]}}'
                   AS changes {moved}""",
        [prefix],
        source,
    )
    execute(
        f"""
        UPDATE enrollment_resident SET village_id = s.village_id, group_id = s.group_id,
               updated_at = %s
        FROM {stage} s
        WHERE enrollment_resident.id_number = s.id_number AND s.status = 'normal'
          AND enrollment_resident.village_id LIKE %s
          AND (enrollment_resident.village_id <> s.village_id
               OR (s.group_id IS NOT NULL
                   AND COALESCE(enrollment_resident.group_id, '') <> s.group_id))
        """,
        [now, prefix],
    )

    # Deceased: status becomes deceased-pending-cancellation; benefits stop next month.
    stop = first_of_next_month(as_of)
    dead = f"""FROM {stage} s JOIN enrollment_resident r ON r.id_number = s.id_number
               WHERE s.status = 'deceased' AND {in_county}
                 AND r.status NOT IN ('deceased', 'cancelled')"""
    finding(
        Finding.Kind.DECEASED,
        f"""SELECT s.id_number, r.name, r.id AS resident_id, r.village_id AS region_id,
                   '公安户籍登记为死亡，待遇自 {stop:%Y-%m-%d} 起停发，待注销' AS detail {dead}""",
        [prefix],
    )
    counts["deceased"] = audit(
        "resident.status",
        f"""SELECT CAST(r.id AS varchar(20)) AS target_id, r.village_id AS region_code,
                   '{{"status": ["' || r.status || '", "deceased"]}}' AS changes {dead}""",
        [prefix],
        f"{source}：死亡，待遇自 {stop:%Y-%m-%d} 起停发",
    )
    execute(
        f"""
        UPDATE enrollment_resident SET status = 'deceased', status_date = %s,
               status_reason = %s, exclusion = '', updated_at = %s
        FROM {stage} s
        WHERE enrollment_resident.id_number = s.id_number AND s.status = 'deceased'
          AND enrollment_resident.village_id LIKE %s
          AND enrollment_resident.status NOT IN ('deceased', 'cancelled')
        """,
        [as_of, f"公安户籍比对：死亡，待遇自 {stop:%Y-%m-%d} 起停发", now, prefix],
    )

    # Moved out of the county: a finding for the township to follow up.
    counts["moved_out"] = finding(
        Finding.Kind.MOVED_OUT,
        f"""SELECT s.id_number, r.name, r.id AS resident_id, r.village_id AS region_id,
                   '公安户籍登记为迁出' AS detail
            FROM {stage} s JOIN enrollment_resident r ON r.id_number = s.id_number
            WHERE s.status = 'moved_out' AND {in_county}
              AND r.status NOT IN ('deceased', 'cancelled')""",
        [prefix],
    )
    job_progress(job, progress=75, stage="核查无户籍人员")

    # On file but absent from the registry: no registration in the area.
    counts["absent"] = finding(
        Finding.Kind.NO_REGISTRATION,
        f"""SELECT r.id_number, r.name, r.id AS resident_id, r.village_id AS region_id,
                   '在册但本次公安户籍数据中无此人' AS detail
            FROM enrollment_resident r
            WHERE {in_county} AND r.status NOT IN ('deceased', 'cancelled', 'sealed')
              AND NOT EXISTS (SELECT 1 FROM {stage} s WHERE s.id_number = r.id_number)""",
        [prefix],
    )
    job_progress(job, progress=85, stage="登记新增人员")

    # New people: on file from today, eligible when 16 or older on the snapshot date.
    cutoff = years_before(as_of, ENROLMENT_AGE)
    counts["new"] = execute(
        f"""
        INSERT INTO enrollment_resident
            (id_number, name, sex, birth_date, village_id, group_id, household_no, phone,
             status, status_reason, status_date, exclusion, created_at, updated_at)
        SELECT s.id_number, s.name, s.sex, s.birth_date, s.village_id, s.group_id,
               s.household_no, '',
               CASE WHEN s.birth_date <= %s THEN 'eligible' ELSE 'not_eligible' END,
               %s, %s, '', %s, %s
        FROM {stage} s
        WHERE s.status = 'normal'
          AND NOT EXISTS (SELECT 1 FROM enrollment_resident r WHERE r.id_number = s.id_number)
        """,
        [cutoff, source, as_of, now, now],
    )
    audit(
        "resident.register",
        f"""SELECT CAST(r.id AS varchar(20)) AS target_id, r.village_id AS region_code,
                   '{{"status": [null, "' || r.status || '"]}}' AS changes
            FROM enrollment_resident r JOIN {stage} s ON s.id_number = r.id_number
            WHERE r.created_at = %s""",
        [now],
        source,
    )

    # Turned 16: not yet eligible until now.
    turned = f"""FROM enrollment_resident r
                 WHERE {in_county} AND r.status = 'not_eligible' AND r.birth_date <= %s"""
    counts["turned_16"] = audit(
        "resident.status",
        f"""SELECT CAST(r.id AS varchar(20)) AS target_id, r.village_id AS region_code,
                   '{{"status": ["not_eligible", "eligible"]}}' AS changes {turned}""",
        [prefix, cutoff],
        f"{source}：年满16周岁",
    )
    execute(
        """
        UPDATE enrollment_resident SET status = 'eligible', status_date = %s,
               status_reason = '年满16周岁', updated_at = %s
        WHERE village_id LIKE %s AND status = 'not_eligible' AND birth_date <= %s
        """,
        [as_of, now, prefix, cutoff],
    )
    return {key: counts.get(key, 0) for key in COUNT_KEYS}


def last_registry_comparison(*, region: Region) -> ImportJob | None:
    return (
        ImportJob.objects.filter(
            kind=ImportJob.Kind.REGISTRY,
            # A county-wide comparison covers each of its townships too.
            region_id__in=[*region.ancestor_codes(), region.code],
            status=ImportJob.Status.DONE,
            dry_run=False,
        )
        .order_by("-finished_at")
        .first()
    )


__all__ = ["RegistryRow", "Resident", "last_registry_comparison", "registry_compare"]
