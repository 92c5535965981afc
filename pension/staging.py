"""Temporary staging tables: load a file's rows once, then compare them in SQL.

Imports and comparisons load the validated rows into a temporary table (PostgreSQL COPY, or a
plain multi-row INSERT on the SQLite demo) and work on them with a few set-based statements
(joins, INSERT ... SELECT, UPDATE ... FROM) instead of one query per row.

Rows are streamed: COPY asks for the next chunk only when it has stored the previous one, so an
importer that yields rows as it reads a file keeps no copy of the file in memory, and the
server parses and stores one chunk on the second CPU while Python reads and checks the next.
"""

from __future__ import annotations

import datetime
import gc
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection

from pension.bulk import copy_text

_CHUNK = 1 << 16


class _CopySource:
    """The file COPY reads from: rows become COPY text lines as the server asks for them.

    An error raised while producing rows (a broken cell on row 800,000) is kept, so that it can
    be raised again as itself once COPY has given up: psycopg2 reports it only as a cancelled
    COPY.
    """

    def __init__(self, rows: Iterable[Sequence[Any]], width: int) -> None:
        self._rows = iter(rows)
        self._tabs = width - 1
        self.error: BaseException | None = None

    def read(self, size: int = _CHUNK) -> str:
        lines: list[str] = []
        length = 0
        tabs = self._tabs
        try:
            for row in self._rows:
                try:
                    line = "\t".join(row)
                except TypeError:  # None or a value that is not text
                    line = "\t".join(copy_text(value) for value in row)
                else:
                    # Free text (names, household numbers) holds a tab, newline or backslash
                    # only in broken files; checking the joined line keeps the usual row cheap.
                    if "\\" in line or "\n" in line or "\r" in line or line.count("\t") != tabs:
                        line = "\t".join(copy_text(value) for value in row)
                lines.append(line)
                length += len(line)
                if length >= size:
                    break
        except BaseException as exc:
            self.error = exc
            raise
        if not lines:
            return ""
        lines.append("")
        return "\n".join(lines)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while rows stream into a table.

    A million rows allocate millions of short-lived tuples, and each few hundred allocations
    set off a collection that scans long-lived objects for cycles the loop never makes;
    reference counting frees the rows as they go. At a county's size the pause saves about a
    second per import (bench/registry.py). Resumed afterwards, error or not.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def staging_table(
    name: str,
    columns: Sequence[tuple[str, str]],
    rows: Iterable[Sequence[Any]],
) -> Iterator[str]:
    """Create TEMP table `name` with `columns` [(name, sql type)], load `rows`, drop it after.

    `rows` may be a generator that reads a file: it is consumed once, while the table loads,
    and an exception it raises comes out of here unchanged. Must run inside a transaction; the
    table is private to this connection, and a rollback removes it with everything else.
    """
    quoted = connection.ops.quote_name(name)
    column_sql = ", ".join(f"{connection.ops.quote_name(c)} {t}" for c, t in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {quoted}")
        cursor.execute(f"CREATE TEMPORARY TABLE {quoted} ({column_sql})")
        if connection.vendor == "postgresql":
            _copy(cursor, quoted, [c for c, _ in columns], rows)
            cursor.execute(f"ANALYZE {quoted}")
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            with _collector_paused():
                cursor.executemany(
                    f"INSERT INTO {quoted} VALUES ({placeholders})",  # noqa: S608 - names are ours
                    (tuple(adapt(value) for value in row) for row in rows),
                )
    yield quoted
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {quoted}")


def _copy(cursor, quoted: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """COPY `rows` into table `quoted` as they come; an error raised while producing them comes
    out as itself, a database error (a unique key already on file) as Django's."""
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    source = _CopySource(rows, len(columns))
    try:
        with _collector_paused(), connection.wrap_database_errors:
            cursor.cursor.copy_expert(f"COPY {quoted} ({names}) FROM STDIN", source, size=_CHUNK)
    except Exception:
        if source.error is not None:
            raise source.error from None
        raise


def copy_into(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """PostgreSQL: stream `rows` straight into an existing table with COPY, for a first load
    whose rows need no join on the way (a month's statement lines)."""
    with connection.cursor() as cursor:
        _copy(cursor, connection.ops.quote_name(table), columns, rows)


@contextmanager
def temporary_table_as(name: str, select_sql: str, params: Sequence[Any] = ()) -> Iterator[str]:
    """CREATE TEMPORARY TABLE `name` AS `select_sql`, analysed, dropped after the block.

    Like staging_table, it belongs to the caller's transaction: an error rolls it back.
    """
    quoted = connection.ops.quote_name(name)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {quoted}")
        cursor.execute(f"CREATE TEMPORARY TABLE {quoted} AS {select_sql}", params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {quoted}")
    yield quoted
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {quoted}")


def adapt(value: Any) -> Any:
    """Dates and times as the ORM stores them, so raw SQL and the ORM compare alike (SQLite)."""
    if isinstance(value, datetime.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, datetime.date):
        return connection.ops.adapt_datefield_value(value)
    return value


def tune_for_bulk_work() -> None:
    """Planner settings for set-based bulk work, for the current transaction only.

    A comparison joins a million staged rows with a million residents: with PostgreSQL's
    default 4 MB per sort or hash that spills to disk. Then it changes a few per cent of the
    residents by primary key, which the default random_page_cost (set for spinning disks)
    prices as dearer than reading the whole table; 1.1 is the usual figure for SSDs. And no
    JIT compilation: PostgreSQL starts it for any statement its planner prices high, and on
    these statements of a few hundred milliseconds compiling costs more than it saves (half of
    the proxy batch's selection of 100,000 residents, bench/collection.py).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute("SET LOCAL random_page_cost = 1.1")
            cursor.execute("SET LOCAL jit = off")


def insert_rows(
    table: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
    *,
    tail: str = "",
    chunk: int = 500,
) -> list[tuple]:
    """INSERT `rows` into `table` ([(column, SQL type)]) in one statement, `tail` appended
    (ON CONFLICT ..., RETURNING ...); returns what RETURNING gives, in no promised order.

    On PostgreSQL the rows travel as one array per column and come out of unnest(): a
    statement of a few parameters parses in a fraction of the time of a VALUES list of
    thousands of rows (the tax bureau's sync writes two such lists per batch). SQLite gets
    VALUES in chunks, within its limit on parameters.
    """
    if not rows:
        return []
    q = connection.ops.quote_name
    names = ", ".join(q(name) for name, _ in columns)
    returning = "RETURNING" in tail.upper()
    fetched: list[tuple] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{sql_type}[]" for _, sql_type in columns)
            cursor.execute(
                f"INSERT INTO {q(table)} ({names}) SELECT * FROM unnest({arrays}) {tail}",  # noqa: S608
                [list(values) for values in zip(*rows, strict=True)],
            )
            return cursor.fetchall() if returning else []
        row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            values = ", ".join([row_sql] * len(part))
            cursor.execute(
                f"INSERT INTO {q(table)} ({names}) VALUES {values} {tail}",  # noqa: S608
                [adapt(value) for row in part for value in row],
            )
            if returning:
                fetched += cursor.fetchall()
    return fetched


def analyze(*models) -> None:
    """Refresh the planner's statistics of tables just filled in bulk, inside the transaction
    that filled them (autovacuum sees nothing until it commits, and the planner then takes a
    million rows for a few)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


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
