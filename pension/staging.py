"""Temporary staging tables: load a file's rows once, then compare them in SQL.

Imports and comparisons load the validated rows into a temporary table (PostgreSQL COPY, or a
plain multi-row INSERT on the SQLite demo) and work on them with a few set-based statements
(joins, INSERT ... SELECT, UPDATE ... FROM) instead of one query per row.
"""

from __future__ import annotations

import datetime
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection

from pension.bulk import copy_text


@contextmanager
def staging_table(
    name: str, columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[Any]]
) -> Iterator[str]:
    """Create TEMP table `name` with `columns` [(name, sql type)], load `rows`, drop it after.

    Must run inside a transaction; the table is private to this connection.
    """
    quoted = connection.ops.quote_name(name)
    column_sql = ", ".join(f"{connection.ops.quote_name(c)} {t}" for c, t in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {quoted}")
        cursor.execute(f"CREATE TEMPORARY TABLE {quoted} ({column_sql})")
        if connection.vendor == "postgresql":
            buffer = io.StringIO()
            for row in rows:
                buffer.write("\t".join(copy_text(value) for value in row))
                buffer.write("\n")
            buffer.seek(0)
            names = ", ".join(connection.ops.quote_name(c) for c, _ in columns)
            cursor.cursor.copy_expert(f"COPY {quoted} ({names}) FROM STDIN", buffer)
            cursor.execute(f"ANALYZE {quoted}")
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO {quoted} VALUES ({placeholders})",  # noqa: S608 - names are ours
                [tuple(adapt(value) for value in row) for row in rows],
            )
    try:
        yield quoted
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {quoted}")


def adapt(value: Any) -> Any:
    """Dates and times as the ORM stores them, so raw SQL and the ORM compare alike (SQLite)."""
    if isinstance(value, datetime.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, datetime.date):
        return connection.ops.adapt_datefield_value(value)
    return value


def execute(sql: str, params: Sequence[Any] = ()) -> int:
    """Run one set-based statement and return the number of rows it touched."""
    with connection.cursor() as cursor:
        cursor.execute(sql, [adapt(p) for p in params])
        return max(cursor.rowcount, 0)


def fetch_all(sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, [adapt(p) for p in params])
        return cursor.fetchall()


def as_json(expression: str) -> str:
    """SQL that stores a text expression in a JSON column on either database."""
    return f"CAST({expression} AS jsonb)" if connection.vendor == "postgresql" else expression


def json_literal(value: Any) -> str:
    """A constant JSON document as an SQL string literal (for set-based audit rows)."""
    return "'" + json.dumps(value, ensure_ascii=False).replace("'", "''") + "'"
