"""The monthly comparison of department lists with the residents on file (应代尽代).

Civil affairs, rural revitalisation, the disabled persons' federation and the health commission
send the full current list of a special group; the exclusion lists (students, civil servants,
employee pension, land-lost farmers' pension) come the same way. A person on the list gains the
category from the list date, a person on the previous list but not this one loses it from this
list date, and history is kept.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.apps import apps
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from enrollment.models import ENROLMENT_AGE, Finding, Resident, SpecialGroupMembership
from enrollment.services.findings import findings_raise
from enrollment.services.imports import ImportOutcome, job_progress
from pension.dates import years_before
from pension.models import ImportJob, Region, User
from pension.staging import as_json, execute, fetch_all, json_literal, staging_table

MEMBERSHIP_CATEGORIES = SpecialGroupMembership.Category.values
EXCLUSION_CATEGORIES = Resident.Exclusion.values
ALL_CATEGORIES = [*MEMBERSHIP_CATEGORIES, *EXCLUSION_CATEGORIES]

CATEGORY_LABELS = {
    **dict(SpecialGroupMembership.Category.choices),
    **dict(Resident.Exclusion.choices),
}

STATUS_TO_EXCLUDED = """'{"status": ["' || r.status || '", "excluded"]}'"""

COUNT_KEYS = ["added", "removed", "unknown_person", "now_qualifying", "no_longer_qualifying"]


@dataclass(frozen=True)
class DepartmentRow:
    id_number: str
    name: str


STAGE_COLUMNS = [("id_number", "varchar(18)"), ("name", "varchar(50)")]


def _list_name(category: str, list_date: datetime.date) -> str:
    """The list a change came from, as findings and the audit trail name it."""
    return _("%(category)s名单 %(date)s") % {
        "category": CATEGORY_LABELS[category],
        "date": f"{list_date:%Y-%m-%d}",
    }


def qualifying_categories(*, province_code: str, year: int) -> list[str]:
    """The schedule's proxy categories for the province and year; none without a schedule.

    The schedule belongs to the collection app; enrollment reads it through the app registry so
    that it never imports collection code.
    """
    schedule_model = apps.get_model("collection", "ContributionSchedule")
    schedule = schedule_model.objects.filter(province_id=province_code, year=year).first()
    return list(schedule.qualifying_categories or []) if schedule else []


def department_compare(
    *,
    region: Region,
    category: str,
    list_date: datetime.date,
    rows: list[DepartmentRow],
    outcome: ImportOutcome,
    actor: User | None = None,
    dry_run: bool = False,
    strict: bool = False,
    job: ImportJob | None = None,
) -> ImportOutcome:
    if category not in ALL_CATEGORIES:
        raise ValueError(_("未知的名单类别：%(category)s") % {"category": category})
    outcome.dry_run = dry_run
    outcome.counts.update(dict.fromkeys(COUNT_KEYS, 0))
    if outcome.refused(strict=strict):
        return outcome
    job_progress(job, progress=60, stage=_("比对部门名单"))
    with transaction.atomic():
        stage_rows = ((r.id_number, r.name) for r in rows)
        with staging_table("department_stage", STAGE_COLUMNS, stage_rows) as stage:
            if category in MEMBERSHIP_CATEGORIES:
                counts = _memberships(stage, region, category, list_date, actor)
            else:
                counts = _exclusions(stage, region, category, list_date, actor)
            counts["unknown_person"] = _unknown_people(stage, region, category, list_date)
        outcome.counts.update({key: counts.get(key, 0) for key in COUNT_KEYS})
        if dry_run:
            transaction.set_rollback(True)
    outcome.applied = not dry_run
    return outcome


def _unknown_people(stage: str, region: Region, category: str, list_date) -> int:
    label = CATEGORY_LABELS[category]
    return findings_raise(
        kind=Finding.Kind.UNKNOWN_PERSON,
        source=_list_name(category, list_date),
        select_sql=f"""
            SELECT s.id_number, s.name, CAST(NULL AS bigint) AS resident_id, %s AS region_id,
                   %s AS detail
            FROM {stage} s
            WHERE NOT EXISTS (
                SELECT 1 FROM enrollment_resident r
                WHERE r.id_number = s.id_number AND r.village_id LIKE %s)""",
        params=[
            region.code,
            _("在%(category)s名单中，但本县无此参保人") % {"category": label},
            f"{region.code}%",
        ],
    )


def _qualifying_ids(stage: str, region: Region, categories: list[str], year: int) -> set[int]:
    """Residents of the county, on the list or holding a listing, who qualify for the year."""
    if not categories:
        return set()
    marks = ", ".join(["%s"] * len(categories))
    rows = fetch_all(
        f"""
        SELECT DISTINCT m.resident_id
        FROM enrollment_specialgroupmembership m
        JOIN enrollment_resident r ON r.id = m.resident_id
        WHERE r.village_id LIKE %s AND m.valid_to IS NULL AND m.category IN ({marks})
          AND m.list_date >= %s AND m.list_date <= %s
        """,
        [f"{region.code}%", *categories, datetime.date(year, 1, 1), datetime.date(year, 12, 31)],
    )
    return {row[0] for row in rows}


def _memberships(stage: str, region: Region, category: str, list_date, actor) -> dict:
    now = timezone.now()
    prefix = f"{region.code}%"
    actor_id = actor.pk if actor is not None else None
    department = SpecialGroupMembership.DEPARTMENT_OF[category]
    qualifying = qualifying_categories(province_code=region.code[:2], year=list_date.year)
    before = _qualifying_ids(stage, region, qualifying, list_date.year)

    on_list = f"""FROM {stage} s JOIN enrollment_resident r ON r.id_number = s.id_number
                  WHERE r.village_id LIKE %s
                    AND NOT EXISTS (
                        SELECT 1 FROM enrollment_specialgroupmembership m
                        WHERE m.resident_id = r.id AND m.category = %s
                          AND (m.valid_to IS NULL OR m.valid_from = %s))"""
    execute(
        f"""
        INSERT INTO pension_auditentry
            (at, actor_id, action, target_type, target_id, region_code, changes, note)
        SELECT %s, %s, 'membership.add', 'enrollment.resident', CAST(r.id AS varchar(20)),
               r.village_id, {as_json(json_literal({"category": [None, category]}))}, %s
        {on_list}
        """,
        [now, actor_id, _list_name(category, list_date), prefix, category, list_date],
    )
    added = execute(
        f"""
        INSERT INTO enrollment_specialgroupmembership
            (resident_id, category, department, list_date, valid_from, valid_to, created_at)
        SELECT r.id, %s, %s, %s, %s, NULL, %s
        {on_list}
        """,
        [category, department, list_date, list_date, now, prefix, category, list_date],
    )
    # Still listed: the latest list dated this year is what backs a proxy payment.
    execute(
        f"""
        UPDATE enrollment_specialgroupmembership SET list_date = %s
        WHERE category = %s AND valid_to IS NULL AND list_date < %s
          AND resident_id IN (
              SELECT r.id FROM {stage} s JOIN enrollment_resident r
                ON r.id_number = s.id_number WHERE r.village_id LIKE %s)
        """,
        [list_date, category, list_date, prefix],
    )
    # On an earlier list but not this one: the listing ends on this list's date.
    off_list = f"""FROM enrollment_specialgroupmembership m
                   JOIN enrollment_resident r ON r.id = m.resident_id
                   WHERE m.category = %s AND m.valid_to IS NULL AND m.list_date < %s
                     AND m.valid_from < %s AND r.village_id LIKE %s
                     AND NOT EXISTS (SELECT 1 FROM {stage} s WHERE s.id_number = r.id_number)"""
    execute(
        f"""
        INSERT INTO pension_auditentry
            (at, actor_id, action, target_type, target_id, region_code, changes, note)
        SELECT %s, %s, 'membership.remove', 'enrollment.resident', CAST(r.id AS varchar(20)),
               r.village_id, {as_json(json_literal({"category": [category, None]}))}, %s
        {off_list}
        """,
        [
            now,
            actor_id,
            _list_name(category, list_date),
            category,
            list_date,
            list_date,
            prefix,
        ],
    )
    removed = execute(
        f"""
        UPDATE enrollment_specialgroupmembership SET valid_to = %s
        WHERE id IN (SELECT m.id {off_list})
        """,
        [list_date, category, list_date, list_date, prefix],
    )
    after = _qualifying_ids(stage, region, qualifying, list_date.year)
    return {
        "added": added,
        "removed": removed,
        "now_qualifying": len(after - before),
        "no_longer_qualifying": len(before - after),
    }


def _exclusions(stage: str, region: Region, category: str, list_date, actor) -> dict:
    """Exclusion lists move people out of the scheme and, when they drop off, back in."""
    now = timezone.now()
    prefix = f"{region.code}%"
    actor_id = actor.pk if actor is not None else None
    note = _list_name(category, list_date)
    off_list_note = _("%(list)s：已不在名单中") % {"list": note}
    joining = f"""FROM {stage} s JOIN enrollment_resident r ON r.id_number = s.id_number
                  WHERE r.village_id LIKE %s
                    AND r.status IN ('not_eligible', 'eligible', 'enrolled')"""
    execute(
        f"""
        INSERT INTO pension_auditentry
            (at, actor_id, action, target_type, target_id, region_code, changes, note)
        SELECT %s, %s, 'resident.status', 'enrollment.resident', CAST(r.id AS varchar(20)),
               r.village_id, {as_json(STATUS_TO_EXCLUDED)}, %s
        {joining}
        """,
        [now, actor_id, note, prefix],
    )
    added = execute(
        f"""
        UPDATE enrollment_resident SET status = 'excluded', exclusion = %s, status_date = %s,
               status_reason = %s, updated_at = %s
        WHERE id IN (SELECT r.id {joining})
        """,
        [category, list_date, note, now, prefix],
    )
    cutoff = years_before(list_date, ENROLMENT_AGE)
    leaving = f"""FROM enrollment_resident r
                  WHERE r.village_id LIKE %s AND r.status = 'excluded' AND r.exclusion = %s
                    AND r.status_date < %s
                    AND NOT EXISTS (SELECT 1 FROM {stage} s WHERE s.id_number = r.id_number)"""
    back_in = (
        """'{"status": ["excluded", "' || """
        """CASE WHEN r.birth_date <= %s THEN 'eligible' ELSE 'not_eligible' END || '"]}'"""
    )
    execute(
        f"""
        INSERT INTO pension_auditentry
            (at, actor_id, action, target_type, target_id, region_code, changes, note)
        SELECT %s, %s, 'resident.status', 'enrollment.resident', CAST(r.id AS varchar(20)),
               r.village_id,
               {as_json(back_in)}, %s
        {leaving}
        """,
        [now, actor_id, cutoff, off_list_note, prefix, category, list_date],
    )
    removed = execute(
        f"""
        UPDATE enrollment_resident
        SET status = CASE WHEN birth_date <= %s THEN 'eligible' ELSE 'not_eligible' END,
            exclusion = '', status_date = %s, status_reason = %s, updated_at = %s
        WHERE id IN (SELECT r.id {leaving})
        """,
        [cutoff, list_date, off_list_note, now, prefix, category, list_date],
    )
    return {"added": added, "removed": removed}


__all__ = ["DepartmentRow", "Finding", "department_compare"]
