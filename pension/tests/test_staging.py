"""Staging tables: rows stream in from a generator, text arrives intact, errors come out whole."""

import pytest
from django.db import transaction

from pension.staging import fetch_all, staging_table

COLUMNS = [("n", "integer"), ("name", "varchar(50)"), ("born", "date")]


class BrokenFile(Exception):
    pass


def test_awkward_text_and_missing_values_are_staged_intact(db):
    awkward = ["tab\there", "new\nline", "back\\slash", "cr\rhere", "引号\"和'", "", "岩块"]
    rows = [(str(n), name, None if n % 2 else "2023-03-31") for n, name in enumerate(awkward)]
    with transaction.atomic(), staging_table("test_stage", COLUMNS, iter(rows)) as stage:
        stored = fetch_all(f"SELECT n, name, born FROM {stage} ORDER BY n")
    assert [name for _, name, _ in stored] == awkward
    assert [born is None for _, _, born in stored] == [n % 2 == 1 for n in range(len(awkward))]


def test_a_large_generator_is_consumed_once_in_order(db):
    consumed = []

    def rows():
        for n in range(50_000):
            consumed.append(n)
            yield (str(n), f"第{n}行", "2000-01-01")

    with transaction.atomic(), staging_table("test_stage", COLUMNS, rows()) as stage:
        count, first, last = fetch_all(f"SELECT COUNT(*), MIN(n), MAX(n) FROM {stage}")[0]
    assert (count, first, last) == (50_000, 0, 49_999)
    assert consumed == list(range(50_000))


def test_an_error_raised_while_reading_comes_out_as_itself_and_leaves_no_table(db):
    def rows():
        for n in range(30_000):
            yield (str(n), "岩块", "2000-01-01")
        raise BrokenFile("第30001行附近的引号不成对")

    with (
        pytest.raises(BrokenFile, match="第30001行"),
        transaction.atomic(),
        staging_table("test_stage", COLUMNS, rows()),
    ):
        pass  # pragma: no cover - the load fails first
    with transaction.atomic():
        assert fetch_all("SELECT to_regclass('pg_temp.test_stage')") == [(None,)]
