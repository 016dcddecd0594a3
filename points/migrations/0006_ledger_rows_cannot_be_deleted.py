"""The database refuses to delete a ledger entry, as it refuses to change one (0005).

A deleted entry would make a balance disagree with its ledger (which `check_ledger` detects) or,
worse, hide a grant together with the balance it paid. With this trigger a raw DELETE fails for
every client, the owner included; the app's own database user additionally holds neither the
UPDATE nor the DELETE privilege on this table (`manage.py db_grant_app_user`).

TRUNCATE fires no row trigger on any engine. It needs the DROP privilege on MySQL and the
TRUNCATE privilege on PostgreSQL, which only the owner has, so emptying the table stays what it
is: a schema operation by the owner. The test suite's flush relies on exactly that
(`tests/support/ledger_flush.py`).
"""

from django.db import migrations

TABLE = "points_pointstransaction"
TRIGGER = "ledger_entries_cannot_be_deleted"
MESSAGE = "ledger entries are append-only: they cannot be deleted"

SQL = {
    "mysql": (
        [
            f"CREATE TRIGGER {TRIGGER} BEFORE DELETE ON {TABLE} FOR EACH ROW "
            f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{MESSAGE}'"
        ],
        [f"DROP TRIGGER IF EXISTS {TRIGGER}"],
    ),
    "postgresql": (
        [
            f"CREATE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation'; END $$",
            f"CREATE TRIGGER {TRIGGER} BEFORE DELETE ON {TABLE} FOR EACH ROW EXECUTE FUNCTION {TRIGGER}()",
        ],
        [f"DROP TRIGGER IF EXISTS {TRIGGER} ON {TABLE}", f"DROP FUNCTION IF EXISTS {TRIGGER}()"],
    ),
    "sqlite": (
        [f"CREATE TRIGGER {TRIGGER} BEFORE DELETE ON {TABLE} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"],
        [f"DROP TRIGGER IF EXISTS {TRIGGER}"],
    ),
}


def _run(schema_editor, statements):
    # A cursor rather than schema_editor.execute(), for the reason given in 0005.
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def create_trigger(apps, schema_editor):
    _run(schema_editor, SQL[schema_editor.connection.vendor][0])


def drop_trigger(apps, schema_editor):
    _run(schema_editor, SQL[schema_editor.connection.vendor][1])


class Migration(migrations.Migration):
    dependencies = [("points", "0005_ledger_rows_cannot_be_updated")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
