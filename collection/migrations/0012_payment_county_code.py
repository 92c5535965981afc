"""A county code on every payment, copied from its resident, and an index by county and year.

The progress rebuild of one county read the year's payments of the whole province before
keeping the county's; with the county on the payment it reads only its own. Existing payments
get their resident's county here. The append-only trigger refuses every UPDATE, so on
PostgreSQL it is switched off for this one statement inside the migration's transaction; on
SQLite (the demo) adding the column rebuilds the table, which drops the triggers of 0002, and
they are put back afterwards.
"""

import importlib

from django.db import migrations, models

FILL_POSTGRES = """
ALTER TABLE collection_payment DISABLE TRIGGER collection_payment_no_update;
UPDATE collection_payment p SET county_code = substr(r.village_id, 1, 6)
  FROM enrollment_resident r WHERE r.id = p.resident_id;
ALTER TABLE collection_payment ENABLE TRIGGER collection_payment_no_update;
"""

FILL_SQLITE = """
UPDATE collection_payment SET county_code = (
    SELECT substr(r.village_id, 1, 6) FROM enrollment_resident r
    WHERE r.id = collection_payment.resident_id)
"""


def fill_county_codes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FILL_POSTGRES, params=None)
        return
    for trigger in ("collection_payment_no_update", "collection_payment_no_delete"):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    schema_editor.execute(FILL_SQLITE)


# Puts the SQLite triggers back after a table rebuild, as 0006 does.
append_only_triggers = importlib.import_module(
    "collection.migrations.0006_lean_payment_indexes"
).append_only_triggers


class Migration(migrations.Migration):
    dependencies = [("collection", "0011_payment_paid_at_index")]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, append_only_triggers),
        migrations.AddField(
            model_name="payment",
            name="county_code",
            field=models.CharField(
                default="", editable=False, max_length=6, verbose_name="县区代码"
            ),
            preserve_default=False,
        ),
        migrations.RunPython(fill_county_codes, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.CheckConstraint(
                condition=models.Q(("county_code__length", 6)), name="payment_county_code_length"
            ),
        ),
        migrations.AddIndex(
            model_name="payment",
            index=models.Index(
                fields=["county_code", "contribution_year", "paid_at"],
                name="payment_county_year_idx",
            ),
        ),
        migrations.RunPython(append_only_triggers, migrations.RunPython.noop),
    ]
