"""CSV imports: all rows or none, per-row errors with line numbers, duplicates flagged."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from points.models import GrantBatch, PointsAccount, PointsTransaction


def _write(tmp_path, text: str):
    path = tmp_path / "grants.csv"
    path.write_text(text)
    return path


def test_import_applies_every_row(make_user, tmp_path, capsys):
    a, b = make_user(), make_user()
    path = _write(
        tmp_path, f"email,amount,reason\n{a.email},100,Award\n{b.email.upper()},50,Award\n{a.email},5,Bonus\n"
    )
    call_command("import_points", str(path))
    assert PointsAccount.objects.get(user=a).balance == 105
    assert PointsAccount.objects.get(user=b).balance == 50
    assert GrantBatch.objects.get().total_points == 155
    assert "Imported 3 rows" in capsys.readouterr().out
    call_command("check_ledger")


def test_import_with_one_bad_row_imports_nothing(make_user, tmp_path, capsys):
    a = make_user()
    path = _write(
        tmp_path, f"{a.email},100,Award\nghost@example.com,10,Award\n{a.email},abc,Award\n{a.email},5\n"
    )
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_points", str(path))
    err = capsys.readouterr().err
    assert "line 2: no active employee has the email ghost@example.com" in err
    assert "line 3: amount 'abc'" in err
    assert "line 4: expected 3 columns" in err
    assert PointsTransaction.objects.count() == 0


def test_importing_the_same_file_twice_is_refused(make_user, tmp_path):
    a = make_user()
    path = _write(tmp_path, f"{a.email},100,Award\n")
    call_command("import_points", str(path))
    with pytest.raises(CommandError, match="already imported"):
        call_command("import_points", str(path))
    assert PointsAccount.objects.get(user=a).balance == 100
    call_command("import_points", str(path), "--allow-duplicate")
    assert PointsAccount.objects.get(user=a).balance == 200


def test_import_missing_file_is_a_clear_error(db, tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_points", str(tmp_path / "missing.csv"))
