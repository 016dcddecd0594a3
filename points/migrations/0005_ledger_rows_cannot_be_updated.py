"""The database refuses to change a ledger entry once written, whatever the client.

The ORM and the admin already never update ledger rows; this makes a raw UPDATE, a bug or a
console session fail too. Deletes are not blocked here: Django's test flush deletes rows on
MySQL and SQLite, and a deleted entry is caught by `check_ledger` (the balance no longer equals
the sum of the entries). The database user in production has no reason to DELETE either.
"""

from django.db import migrations

TABLE = "points_pointstransaction"
TRIGGER = "ledger_entries_are_append_only"
MESSAGE = "ledger entries are append-only: write a new entry instead of changing one"

SQL = {
    "mysql": (
        [
            f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE ON {TABLE} FOR EACH ROW "
            f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{MESSAGE}'"
        ],
        [f"DROP TRIGGER IF EXISTS {TRIGGER}"],
    ),
    "postgresql": (
        [
            f"CREATE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation'; END $$",
            f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE ON {TABLE} FOR EACH ROW EXECUTE FUNCTION {TRIGGER}()",
        ],
        [f"DROP TRIGGER IF EXISTS {TRIGGER} ON {TABLE}", f"DROP FUNCTION IF EXISTS {TRIGGER}()"],
    ),
    "sqlite": (
        [f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE ON {TABLE} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"],
        [f"DROP TRIGGER IF EXISTS {TRIGGER}"],
    ),
}


def _run(schema_editor, statements):
    # A cursor rather than schema_editor.execute(): on MySQL that refuses any DDL inside the
    # RunPython's transaction, and a trigger is a single statement that needs no rollback.
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def create_trigger(apps, schema_editor):
    _run(schema_editor, SQL[schema_editor.connection.vendor][0])


def drop_trigger(apps, schema_editor):
    _run(schema_editor, SQL[schema_editor.connection.vendor][1])


class Migration(migrations.Migration):
    dependencies = [("points", "0004_hr_group")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
