"""The expand/release/contract check: what it refuses, what it lets through, and the command."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import migrations, models
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState

from shop.db.migration_safety import added_migration_files, check_migration

REPO = Path(settings.BASE_DIR)


@pytest.fixture(scope="module")
def state() -> ProjectState:
    """The project's current model state: the state a new migration would start from."""
    return MigrationLoader(None, ignore_no_migrations=True).project_state()


def _migration(
    *operations: migrations.operations.base.Operation, contract: bool = False
) -> migrations.Migration:
    migration = migrations.Migration("0999_under_test", "catalog")
    migration.operations = list(operations)
    if contract:
        migration.contract = True  # type: ignore[attr-defined]
    return migration


def _problems(state: ProjectState, *operations: migrations.operations.base.Operation) -> list[str]:
    return [f.problem for f in check_migration(_migration(*operations), state) if not f.allowed]


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        (migrations.RemoveField("product", "description"), "drops column catalog.product.description"),
        (
            migrations.RenameField("product", "description", "summary"),
            "renames column catalog.product.description",
        ),
        (migrations.DeleteModel("Category"), "drops table of catalog.Category"),
        (migrations.RenameModel("Category", "Section"), "renames table of catalog.Category to Section"),
        (migrations.AlterModelTable("product", "catalog_item"), "renames table of catalog.product"),
        (
            migrations.AddField("product", "sku", models.CharField(max_length=20, default="")),
            "adds NOT NULL column catalog.product.sku without a database default",
        ),
        (
            migrations.AlterField(
                "product", "description", models.TextField(blank=True, db_column="summary")
            ),
            "renames column catalog.product.description",
        ),
    ],
)
def test_contracting_operations_are_refused(state: ProjectState, operation, expected: str) -> None:
    (problem,) = _problems(state, operation)
    assert problem.startswith(expected), problem


def test_expanding_operations_pass(state: ProjectState) -> None:
    assert not _problems(
        state,
        migrations.AddField("product", "sku", models.CharField(max_length=20, null=True)),
        migrations.AddField("product", "weight", models.IntegerField(db_default=0)),
        migrations.CreateModel("Tag", [("id", models.BigAutoField(primary_key=True))]),
        migrations.AddIndex("product", models.Index(fields=["name"], name="product_name_idx")),
        migrations.AlterField("product", "name", models.CharField(max_length=300)),
        migrations.RunSQL("SELECT 1", migrations.RunSQL.noop),
    )


def test_making_a_nullable_column_not_null_is_refused(state: ProjectState) -> None:
    # The operation before it makes the column nullable, as an earlier release would have.
    problems = _problems(
        state,
        migrations.AddField("product", "sku", models.CharField(max_length=20, null=True)),
        migrations.AlterField("product", "sku", models.CharField(max_length=20, default="")),
    )
    assert problems == [
        "makes column catalog.product.sku NOT NULL, which the previous release may still write as NULL"
    ]


def test_state_only_removal_is_the_expand_half(state: ProjectState) -> None:
    # Release N stops using the column: the model loses it, the table keeps it.
    stop_using = migrations.SeparateDatabaseAndState(
        state_operations=[migrations.RemoveField("product", "description")]
    )
    assert not _problems(state, stop_using)
    # Inside database_operations the same removal is a drop.
    drop = migrations.SeparateDatabaseAndState(
        database_operations=[migrations.RemoveField("product", "description")]
    )
    assert _problems(state, drop) == ["drops column catalog.product.description"]


def test_a_migration_marked_as_contract_step_is_reported_not_refused(state: ProjectState) -> None:
    (finding,) = check_migration(
        _migration(migrations.RemoveField("product", "description"), contract=True), state
    )
    assert finding.allowed and finding.problem == "drops column catalog.product.description"


def test_added_files_come_from_git(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
            cwd=tmp_path, check=True, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip

    git("init", "-q")
    (tmp_path / "app" / "migrations").mkdir(parents=True)
    (tmp_path / "app" / "migrations" / "0001_initial.py").write_text("")
    git("add", "-A")
    git("commit", "-qm", "first release")
    first = git("rev-parse", "HEAD")
    (tmp_path / "app" / "migrations" / "0002_more.py").write_text("")
    (tmp_path / "app" / "migrations" / "__init__.py").write_text("")
    (tmp_path / "app" / "models.py").write_text("")
    git("add", "-A")
    git("commit", "-qm", "second release")
    assert added_migration_files(first, tmp_path) == [tmp_path / "app" / "migrations" / "0002_more.py"]
    assert added_migration_files("HEAD", tmp_path) == []
    with pytest.raises(RuntimeError, match="no-such-commit"):
        added_migration_files("no-such-commit", tmp_path)


def _commit_that_added(path: str) -> str | None:
    done = subprocess.run(
        ["git", "log", "--diff-filter=A", "--format=%H", "--", path], cwd=REPO, capture_output=True, text=True
    )
    return done.stdout.split()[-1] if done.returncode == 0 and done.stdout.split() else None


def test_the_command_on_this_repository(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("check_release_migrations", "--since", "HEAD")
    assert "0 migration(s) since HEAD: expand-only" in capsys.readouterr().out

    # A real case from this project's history: the roster fields were added NOT NULL with only a
    # Python-side default, so the release before them could no longer create users mid-rollout.
    added = _commit_that_added("shop/migrations/0003_user_is_employee_department.py")
    if added is None:
        pytest.skip("the repository's git history is not available (a shallow or exported copy)")
    with pytest.raises(CommandError) as refused:
        call_command("check_release_migrations", "--since", f"{added}~1")
    message = str(refused.value)
    assert "shop.0003_user_is_employee_department adds NOT NULL column shop.user.department" in message
    assert "shop.user.is_employee" in message
