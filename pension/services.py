"""Writes of the shared kernel: the audit trail."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models

from pension.models import AuditEntry, User


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
