import datetime

from pension.bulk import bulk_insert
from pension.models import AuditEntry, Region


def test_it_inserts_rows_with_awkward_text_intact(township):
    awkward = ["tab\there", "new\nline", "back\\slash", "引号\"和'", ""]
    rows = [
        (f"{township.code}{300 + n:03d}", name, Region.Level.VILLAGE, township.code)
        for n, name in enumerate(awkward)
    ]
    assert bulk_insert(Region, ["code", "name", "level", "parent_id"], rows) == len(awkward)
    stored = dict(Region.objects.filter(code__in=[r[0] for r in rows]).values_list("code", "name"))
    assert [stored[r[0]] for r in rows] == awkward


def test_it_fills_defaults_and_auto_now_fields(db):
    before = datetime.datetime.now(datetime.UTC)
    bulk_insert(
        AuditEntry,
        ["action", "target_type", "target_id"],
        [("demo.seed", "pension.region", "530927"), ("demo.seed", "pension.region", "622901")],
    )
    entries = list(AuditEntry.objects.order_by("target_id"))
    assert [e.target_id for e in entries] == ["530927", "622901"]
    assert all(e.changes == {} and e.note == "" and e.region_code == "" for e in entries)
    assert all(e.at >= before - datetime.timedelta(seconds=1) for e in entries)
    assert all(e.actor_id is None for e in entries)
