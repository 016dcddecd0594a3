"""The table behind the database cache (settings.CACHE_TABLE_NAME), so `migrate` alone sets it up.

The cache holds rate-limit counters shared by every server process. This is the table
`createcachetable` would make; the name is fixed here because a migration must not change
with settings. With REDIS_URL set the table simply stays empty.
"""

from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

TABLE = "awsomeshop_cache"


def create(apps, schema_editor):
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, TABLE, dry_run=False)


def drop(apps, schema_editor):
    connection = schema_editor.connection
    if TABLE in connection.introspection.table_names():
        schema_editor.execute(f"DROP TABLE {connection.ops.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
