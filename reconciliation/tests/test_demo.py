"""The demo's month of statements: each kind of difference planted is found, once."""

import json

from django.core.management import call_command

from reconciliation.models import ApiKey, Discrepancy, ReconciliationRun


def seed(capsys, *args):
    call_command("seed_demo", "--residents", "1500", *args)
    return capsys.readouterr().out


def test_the_demo_month_shows_every_kind_of_difference_once_or_twice(db, capsys):
    summary = json.loads(seed(capsys, "--json"))["reconciliation"]

    run = ReconciliationRun.objects.get(is_current=True)
    found = {c: n for c, n in run.summary["categories"].items() if n}
    assert set(found) == set(Discrepancy.Category.values)
    assert all(n in (1, 2) for n in found.values())
    assert summary["categories"] == found
    assert Discrepancy.objects.count() == sum(found.values())


def test_the_demo_prints_the_tax_bureaus_key_once_and_keeps_only_its_digest(db, capsys):
    out = seed(capsys)
    key = out.split("Bearer ", 1)[1].split()[0]

    stored = ApiKey.objects.get()
    assert key.startswith("rpk_") and stored.prefix in key and key not in stored.digest
    assert "Bearer" not in seed(capsys)  # a second seed issues no second key
