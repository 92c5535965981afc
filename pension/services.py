"""Writes of the shared kernel: the audit trail and the regions import."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from pension.importers import CODE_COLUMN, RegionRow, read_regions
from pension.imports import Rejection, UpsertResult, refusal_reason
from pension.models import AuditEntry, Region, User


def region_holding(codes: Iterable[str]) -> str:
    """The narrowest region holding every code, for the audit row of work that spans places:
    a remittance of two villages belongs to their township, a sync batch to its county."""
    codes = list(codes)
    if not codes:
        return ""
    first, last = min(codes), max(codes)
    size = 0
    while size < len(first) and first[size] == last[size]:
        size += 1
    return next((first[:n] for n in (15, 12, 9, 6, 4, 2) if n <= size), "")


def audit_record(
    *,
    actor: User | None,
    action: str,
    target: models.Model,
    region_code: str = "",
    changes: dict[str, Any] | None = None,
    note: str = "",
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        region_code=region_code,
        changes=changes or {},
        note=note,
    )


def audit_record_bulk(
    *,
    actor: User | None,
    action: str,
    target_type: str,
    rows: Iterable[tuple[str, str, dict[str, Any]]],
    note: str = "",
    batch_size: int = 5000,
) -> int:
    """Record one entry per (target_id, region_code, changes) in bulk statements."""
    actor_id = actor.pk if actor is not None and actor.pk else None
    entries = [
        AuditEntry(
            actor_id=actor_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            region_code=region_code,
            changes=changes,
            note=note,
        )
        for target_id, region_code, changes in rows
    ]
    AuditEntry.objects.bulk_create(entries, batch_size=batch_size)
    return len(entries)


def audit_record_select(
    *,
    actor: User | None,
    action: str,
    target_type: str,
    select_sql: str,
    params: Sequence[Any] = (),
    note: str = "",
) -> int:
    """One entry per row of `select_sql`, in one INSERT ... SELECT that never passes through
    Python: the query yields `target_id`, `region_code` and `changes` (JSON text) columns."""
    from pension.staging import as_json, execute

    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    return execute(
        f"INSERT INTO {table}"  # noqa: S608
        " (at, actor_id, action, target_type, target_id, region_code, changes, note)"
        f" SELECT %s, %s, %s, %s, c.target_id, c.region_code, {as_json('c.changes')}, %s"
        f" FROM ({select_sql}) c",
        [timezone.now(), actor.pk if actor is not None and actor.pk else None, action,
         target_type, note, *params],
    )  # fmt: skip


@dataclass
class RegionImportResult(UpsertResult):
    """What a regions import did, or would do on a dry run; `as_dict` is the `--json` shape."""

    dry_run: bool = False


@dataclass
class _RegionPlan:
    new: list[Region] = field(default_factory=list)
    renamed: list[tuple[Region, str]] = field(default_factory=list)  # (region, old name)
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)


_IN_CHUNK = 5000


def _regions_by_code(codes: set[str]) -> dict[str, Region]:
    ordered = sorted(codes)
    found: dict[str, Region] = {}
    for start in range(0, len(ordered), _IN_CHUNK):
        chunk = ordered[start : start + _IN_CHUNK]
        found.update((r.code, r) for r in Region.objects.filter(code__in=chunk))
    return found


def _missing_parent_reason(row: RegionRow) -> str:
    if row.level == Region.Level.VILLAGE:
        return _("所属乡镇（街道）%(code)s 不存在：乡镇随系统提供，请核对代码的前9位") % {
            "code": row.parent_code
        }
    return _("所属村（社区）%(code)s 不存在：系统中没有，文件中也没有这个村的有效行") % {
        "code": row.parent_code
    }


def _regions_plan(rows: list[RegionRow]) -> _RegionPlan:
    """Sort accepted rows into new, renamed and unchanged regions with one query."""
    wanted = {row.code for row in rows} | {row.parent_code for row in rows if row.parent_code}
    known = _regions_by_code(wanted)
    plan = _RegionPlan()
    # Shorter codes first, so a group finds its village wherever the village's row is.
    for row in sorted(rows, key=lambda r: (len(r.code), r.row)):
        current = known.get(row.code)
        if current is not None:
            if current.name == row.name:
                plan.unchanged += 1
            elif len(row.code) < 9:
                plan.rejected.append(_shipped(row, renaming=True))
            else:
                plan.renamed.append((current, current.name))
                current.name = row.name
            continue
        if len(row.code) < 9:
            plan.rejected.append(_shipped(row, renaming=False))
        elif len(row.code) == 9:
            plan.rejected.append(
                Rejection(
                    row.row,
                    CODE_COLUMN.label,
                    _(
                        "没有区划代码为 %(code)s 的乡镇（街道）：乡镇随系统提供，"
                        "导入只能修改已有乡镇的名称，不能新增"
                    )
                    % {"code": row.code},
                    row.code,
                )
            )
        elif row.parent_code not in known:
            plan.rejected.append(
                Rejection(row.row, CODE_COLUMN.label, _missing_parent_reason(row), row.code)
            )
        else:
            region = Region(
                code=row.code, name=row.name, level=row.level, parent_id=row.parent_code
            )
            known[row.code] = region
            plan.new.append(region)
    return plan


def _shipped(row: RegionRow, *, renaming: bool) -> Rejection:
    """A county or higher region in the file: those ship with the system."""
    level = Region.Level(row.level).label if row.level else pgettext("region level", "上级")
    if renaming:
        reason = _("%(code)s 是%(level)s级区划：县级及以上区划随系统提供，不能通过导入改名")
    else:
        reason = _("%(code)s 是%(level)s级区划：县级及以上区划随系统提供，不能通过导入新增")
    return Rejection(
        row.row, CODE_COLUMN.label, reason % {"code": row.code, "level": level}, row.code
    )


def _audit_target(touched: list[Region]) -> Region:
    counties = {region.code[:6] for region in touched}
    if len(counties) == 1:
        county = Region.objects.filter(code=counties.pop()).first()
        if county is not None:
            return county
    return touched[0]


def regions_import(
    *,
    source,
    filename: str | None = None,
    actor: User | None = None,
    dry_run: bool = False,
) -> RegionImportResult:
    """Add a county's villages and groups and rename existing ones; nothing is ever deleted.

    A structural fault raises ``SpreadsheetError`` before anything is written. If more than
    half the rows are rejected nothing is written either and ``refused_reason`` says why.
    """
    sheet = read_regions(source, filename=filename)
    result = RegionImportResult(rows=sheet.rows, dry_run=dry_run)
    with transaction.atomic():
        plan = _regions_plan(sheet.accepted)
        result.rejected = sorted([*sheet.rejected, *plan.rejected], key=lambda r: r.row)
        result.refused_reason = refusal_reason(rows=sheet.rows, rejected=len(result.rejected))
        if result.refused_reason:
            return result
        result.created, result.updated = len(plan.new), len(plan.renamed)
        result.unchanged = plan.unchanged
        if dry_run:
            return result
        # Villages in one statement before groups, so every group's parent is already there.
        for level in (Region.Level.VILLAGE, Region.Level.GROUP):
            Region.objects.bulk_create(
                [r for r in plan.new if r.level == level], batch_size=_IN_CHUNK
            )
        Region.objects.bulk_update([r for r, _ in plan.renamed], ["name"], batch_size=_IN_CHUNK)
        result.applied = True
        touched = [*plan.new, *(r for r, _ in plan.renamed)]
        if touched:
            target = _audit_target(touched)
            audit_record(
                actor=actor,
                action="regions.import",
                target=target,
                region_code=target.code,
                changes={
                    "filename": filename or "",
                    "rows": result.rows,
                    "created": result.created,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                    "rejected": len(result.rejected),
                    # Names are overwritten in place; the old ones survive only here.
                    "renamed": {r.code: [old, r.name] for r, old in plan.renamed},
                },
            )
    return result
