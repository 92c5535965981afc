"""Set-based inserts: PostgreSQL COPY where available, bulk INSERT elsewhere.

Django's bulk_create spends most of its time preparing each value in Python; at a county's
size (hundreds of thousands of rows) COPY of plain text is an order of magnitude faster. The
SQLite demo path keeps bulk_create, which is fast enough at demo sizes.
"""

from __future__ import annotations

import datetime
import io
import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db import connection, models
from django.utils import timezone

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value: Any) -> str:
    """One value in COPY's text format; the hot loop of every bulk load, so types go first."""
    kind = type(value)
    if kind is str:
        return value.translate(_ESCAPES)
    if value is None:
        return r"\N"
    if kind is int or kind is Decimal:
        return str(value)
    if kind is bool:
        return "t" if value else "f"
    if kind is datetime.date or kind is datetime.datetime:
        return value.isoformat()
    if kind is dict or kind is list:
        return json.dumps(value, ensure_ascii=False).translate(_ESCAPES)
    return str(value).translate(_ESCAPES)


def _complete(model: type[models.Model], fields: Sequence[str]) -> tuple[list[models.Field], list]:
    """The given fields plus every concrete field with a default or auto_now value."""
    given = [model._meta.get_field(name) for name in fields]
    extra: list[models.Field] = []
    extra_values: list[Any] = []
    now = timezone.now()
    for field in model._meta.concrete_fields:
        if field.primary_key or field in given:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            extra.append(field)
            extra_values.append(now)
        elif field.has_default() or not field.null:
            # Django's own default for a NOT NULL field without one is "" for text columns.
            extra.append(field)
            extra_values.append(field.get_default())
    return given + extra, extra_values


def bulk_insert(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    batch_size: int = 5000,
) -> int:
    """Insert `rows` (tuples in the order of `fields`, attnames such as "village_id" allowed).

    Fields that are left out get their default or, for auto_now fields, the current time. Runs
    inside the caller's transaction; the database's constraints and triggers still apply.
    """
    names = [model._meta.get_field(name).name for name in fields]
    all_fields, extra_values = _complete(model, names)
    if connection.vendor == "postgresql":
        buffer = io.StringIO()
        count = 0
        for row in rows:
            buffer.write("\t".join(copy_text(v) for v in (*row, *extra_values)))
            buffer.write("\n")
            count += 1
        buffer.seek(0)
        columns = ", ".join(connection.ops.quote_name(f.column) for f in all_fields)
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)
        return count
    attnames = [f.attname for f in all_fields]
    objects = [model(**dict(zip(attnames, (*row, *extra_values), strict=True))) for row in rows]
    model.objects.bulk_create(objects, batch_size=batch_size)
    return len(objects)
