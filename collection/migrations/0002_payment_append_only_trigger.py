"""The database itself refuses to change or remove a recorded payment.

The model and queryset refuse too, but raw SQL, bulk tools and future code go around Python;
money records must stay append-only whatever touches the table.
"""

from django.db import migrations

POSTGRES_FORWARD = """
CREATE OR REPLACE FUNCTION collection_payment_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'collection_payment is append-only: % refused (缴费记录只能追加)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER collection_payment_no_update
    BEFORE UPDATE ON collection_payment
    FOR EACH ROW EXECUTE FUNCTION collection_payment_append_only();
CREATE TRIGGER collection_payment_no_delete
    BEFORE DELETE ON collection_payment
    FOR EACH ROW EXECUTE FUNCTION collection_payment_append_only();
"""

POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS collection_payment_no_update ON collection_payment;
DROP TRIGGER IF EXISTS collection_payment_no_delete ON collection_payment;
DROP FUNCTION IF EXISTS collection_payment_append_only();
"""

SQLITE_FORWARD = [
    """
    CREATE TRIGGER collection_payment_no_update BEFORE UPDATE ON collection_payment
    BEGIN SELECT RAISE(ABORT, 'collection_payment is append-only: UPDATE refused'); END;
    """,
    """
    CREATE TRIGGER collection_payment_no_delete BEFORE DELETE ON collection_payment
    BEGIN SELECT RAISE(ABORT, 'collection_payment is append-only: DELETE refused'); END;
    """,
]

SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS collection_payment_no_update;",
    "DROP TRIGGER IF EXISTS collection_payment_no_delete;",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARD, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("collection", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
