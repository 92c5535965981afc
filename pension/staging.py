"""Temporary staging tables: load a file's rows once, then compare them in SQL.

Imports and comparisons load the validated rows into a temporary table (PostgreSQL COPY, or a
plain multi-row INSERT on the SQLite demo) and work on them with a few set-based statements
(joins, INSERT ... SELECT, UPDATE ... FROM) instead of one query per row.
"""

from __future__ import annotations

import datetime
import io
import json
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection

from pension.bulk import copy_text

_NEEDS_ESCAPE = re.compile(r"[\\\n\r]")


class StagedRows:
    """Rows of text collected for a staging table while a file is read.

    On PostgreSQL each row goes straight into a temporary file in COPY's text format, so a
    million-row registry never sits in memory as Python objects; on the SQLite demo the rows
    are kept as tuples. Values are text or None; the caller escapes nothing.
    """

    def __init__(self, width: int) -> None:
        self.width = width
        self.count = 0
        self._copy = connection.vendor == "postgresql"
        # Closed by close(), after the staging table has been loaded from it.
        self._file = (
            tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115
            if self._copy
            else None
        )
        self._rows: list[tuple] = []
        self._lines: list[str] = []

    def add(self, values: tuple[str | None, ...]) -> None:
        self.count += 1
        if not self._copy:
            self._rows.append(values)
            return
        line = (
            "\t".join(values)
            if None not in values
            else "\t".join(r"\N" if v is None else v for v in values)
        )
        # Free text (names, household numbers) may hold a tab, newline or backslash only in
        # broken files; checking the joined line once keeps the common row cheap.
        if _NEEDS_ESCAPE.search(line) or line.count("\t") != self.width - 1:
            line = "\t".join(copy_text(v) for v in values)
        self._lines.append(line)
        if len(self._lines) >= 10_000:
            self._flush()

    def _flush(self) -> None:
        self._lines.append("")
        self._file.write("\n".join(self._lines))
        self._lines.clear()

    def source(self):
        if self._copy:
            if self._lines:
                self._flush()
            self._file.seek(0)
            return self._file
        return self._rows

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


@contextmanager
def staging_table(
    name: str,
    columns: Sequence[tuple[str, str]],
    rows: Iterable[Sequence[Any]] | StagedRows,
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
            if isinstance(rows, StagedRows):
                buffer = rows.source()
            else:
                buffer = io.StringIO()
                for row in rows:
                    buffer.write("\t".join(copy_text(value) for value in row))
                    buffer.write("\n")
                buffer.seek(0)
            names = ", ".join(connection.ops.quote_name(c) for c, _ in columns)
            cursor.cursor.copy_expert(f"COPY {quoted} ({names}) FROM STDIN", buffer, size=1 << 20)
            cursor.execute(f"ANALYZE {quoted}")
        else:
            if isinstance(rows, StagedRows):
                rows = rows.source()
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


@contextmanager
def temporary_table_as(name: str, select_sql: str, params: Sequence[Any] = ()) -> Iterator[str]:
    """CREATE TEMPORARY TABLE `name` AS `select_sql`, analysed, dropped after the block."""
    quoted = connection.ops.quote_name(name)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {quoted}")
        cursor.execute(f"CREATE TEMPORARY TABLE {quoted} AS {select_sql}", params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {quoted}")
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


def raise_work_memory() -> None:
    """Comparisons join a million staged rows with a million residents; with PostgreSQL's
    default 4 MB per sort or hash they spill to disk. Only for the current transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '256MB'")


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
