"""The backup and restore procedure of the README, tried: the database dumped with pg_dump,
restored with pg_restore into a fresh database, holds every row of every table."""

from __future__ import annotations

import shutil
import subprocess

import psycopg2
import pytest
from django.apps import apps
from django.db import connection

from enrollment.tests.factories import ResidentFactory
from reconciliation.tests.fixtures_recon import pay

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(shutil.which("pg_dump") is None, reason="needs PostgreSQL's client tools"),
]


def connection_options(name: str) -> list[str]:
    db = connection.settings_dict
    return ["-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432),
            "-U", db["USER"], "-d", name]  # fmt: skip


def run(*command: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True)  # noqa: S603 - PostgreSQL's tools
    assert done.returncode == 0, done.stderr


def row_counts(name: str) -> dict[str, int]:
    db = connection.settings_dict
    tables = sorted(model._meta.db_table for model in apps.get_models())
    with psycopg2.connect(
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
        password=db["PASSWORD"] or None, dbname=name,
    ) as restored, restored.cursor() as cursor:  # fmt: skip
        counts = {}
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            counts[table] = cursor.fetchone()[0]
    restored.close()
    return counts


@pytest.fixture
def fresh_database():
    name = f"{connection.settings_dict['NAME']}_restored"
    options = connection_options("postgres")
    run("dropdb", "--if-exists", *options[:-2], name)
    run("createdb", *options[:-2], name)
    yield name
    run("dropdb", "--if-exists", *options[:-2], name)


def test_a_dump_restored_into_a_fresh_database_holds_every_row(fresh_database, village, tmp_path):
    for number in range(3):
        pay(ResidentFactory(village=village), f"BACKUP{number}")
    dump = tmp_path / "pension.dump"
    name = connection.settings_dict["NAME"]

    run("pg_dump", "--format=custom", f"--file={dump}", *connection_options(name))
    run("pg_restore", "--no-owner", "--exit-on-error", *connection_options(fresh_database),
        str(dump))  # fmt: skip

    restored, original = row_counts(fresh_database), row_counts(name)
    assert restored == original
    assert restored["enrollment_resident"] == 3 and restored["collection_payment"] == 3
    assert restored["pension_region"] > 0  # and the regions the migrations ship
