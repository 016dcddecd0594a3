"""Expand, release, contract: find migrations the release still serving cannot live with.

During a rolling deployment the previous release keeps serving on the new schema (ECS keeps old
tasks until the new ones are healthy, and a rollback puts them back). So a release's migrations
may only *expand* the schema: add tables, nullable columns or columns with a database default,
indexes and constraints the old code satisfies. Dropping or renaming a column or table, making a
column non-null, or adding a non-null column the old code's INSERTs do not fill, is a *contract*
step: it ships in a later release, once no serving release reads or writes that column, and its
migration says so with ``contract = True`` on the ``Migration`` class (docs/deploy.md).

The check looks at the database side only: ``SeparateDatabaseAndState`` state operations change
Django's model state without touching a table, which is how a release stops using a column
before a later one drops it.
"""

from __future__ import annotations

import inspect
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.db import migrations
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState
from django.db.models import NOT_PROVIDED, Field


@dataclass(frozen=True)
class Finding:
    migration: str  # "app_label.name"
    problem: str
    # True where the migration is marked as a contract step: reported, not a failure.
    allowed: bool = False


def _database_operations(operations: Iterable[Operation]) -> Iterable[Operation]:
    for operation in operations:
        if isinstance(operation, migrations.SeparateDatabaseAndState):
            yield from _database_operations(operation.database_operations)
        else:
            yield operation


def _fills_itself(field: Field) -> bool:
    """Whether the database fills this column when an INSERT leaves it out."""
    return bool(field.null) or field.db_default is not NOT_PROVIDED


def _problems(app_label: str, operation: Operation, state: ProjectState) -> list[str]:
    if isinstance(operation, migrations.RemoveField):
        return [f"drops column {app_label}.{operation.model_name}.{operation.name}"]
    if isinstance(operation, migrations.RenameField):
        return [
            f"renames column {app_label}.{operation.model_name}.{operation.old_name} to {operation.new_name}"
        ]
    if isinstance(operation, migrations.DeleteModel):
        return [f"drops table of {app_label}.{operation.name}"]
    if isinstance(operation, migrations.RenameModel):
        return [f"renames table of {app_label}.{operation.old_name} to {operation.new_name}"]
    if isinstance(operation, migrations.AlterModelTable):
        return [f"renames table of {app_label}.{operation.name} to {operation.table}"]
    if isinstance(operation, migrations.AddField):
        field = operation.field
        if not field.many_to_many and not _fills_itself(field):
            return [
                f"adds NOT NULL column {app_label}.{operation.model_name}.{operation.name} without a "
                "database default (db_default), which the previous release's INSERTs leave out"
            ]
        return []
    if isinstance(operation, migrations.AlterField):
        model = state.models.get((app_label, operation.model_name_lower))
        old = model.fields.get(operation.name) if model else None
        new = operation.field
        problems = []
        if old is None:
            problems.append(f"alters {app_label}.{operation.model_name}.{operation.name}, unknown before")
        else:
            if old.null and not new.null:
                problems.append(
                    f"makes column {app_label}.{operation.model_name}.{operation.name} NOT NULL, which "
                    "the previous release may still write as NULL"
                )
            if (old.db_column or operation.name) != (new.db_column or operation.name):
                problems.append(f"renames column {app_label}.{operation.model_name}.{operation.name}")
        return problems
    return []


def check_migration(migration: migrations.Migration, state: ProjectState) -> list[Finding]:
    """The contract steps in one migration, given the project state just before it."""
    label = f"{migration.app_label}.{migration.name}"
    allowed = bool(getattr(migration, "contract", False))
    state = state.clone()
    findings: list[Finding] = []
    for operation in migration.operations:
        for database_operation in _database_operations([operation]):
            for problem in _problems(migration.app_label, database_operation, state):
                findings.append(Finding(migration=label, problem=problem, allowed=allowed))
        operation.state_forwards(migration.app_label, state)
    return findings


def added_migration_files(since: str, repo: Path) -> list[Path]:
    """Migration files added between `since` (the previous release's commit) and the work tree."""
    # git from PATH with fixed arguments; `since` is a revision the operator names.
    command = ["git", "diff", "--name-only", "--diff-filter=AR", since, "--", "*/migrations/[0-9]*.py"]
    done = subprocess.run(  # noqa: S603
        command,
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"git diff against {since!r} failed: {done.stderr.strip()}")
    return [repo / line for line in done.stdout.splitlines() if line.strip()]


def check_files(files: Sequence[Path], loader: MigrationLoader | None = None) -> list[Finding]:
    """Check the given migration files, each with the project state its dependencies leave."""
    loader = loader or MigrationLoader(None, ignore_no_migrations=True)
    by_file: dict[Path, tuple[str, str]] = {}
    for key, migration in loader.disk_migrations.items():
        source = inspect.getsourcefile(type(migration))
        if source:
            by_file[Path(source).resolve()] = key
    findings: list[Finding] = []
    for path in files:
        node = by_file.get(path.resolve())
        if node is None:
            findings.append(Finding(migration=str(path), problem="is not a migration of an installed app"))
            continue
        state = loader.project_state(node, at_end=False)
        findings.extend(check_migration(loader.graph.nodes[node], state))
    return findings
