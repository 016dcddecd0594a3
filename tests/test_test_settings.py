"""The test settings leave nothing behind: one media folder and one signing key per run, removed
at exit."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_importing_the_test_settings_leaves_no_media_folder_behind(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MEDIA_ROOT"}
    env["TMPDIR"] = str(tmp_path)
    code = (
        "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'awsomeshop.settings.test'; "
        "django.setup(); from django.conf import settings; "
        "assert os.path.isdir(settings.MEDIA_ROOT); print(settings.MEDIA_ROOT)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    made = Path(out.stdout.strip())
    assert made.parent == tmp_path
    assert not made.exists()
    assert not list(tmp_path.glob("awsomeshop-media-*"))
    assert tempfile.gettempdir() != str(tmp_path)  # this process's own folder is untouched


def test_the_local_issuers_test_key_is_removed_at_exit(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("MEDIA_ROOT", "LOCAL_ISSUER_KEY_PATH")}
    env["TMPDIR"] = str(tmp_path)
    code = (
        "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'awsomeshop.settings.test'; "
        "django.setup(); from django.conf import settings; "
        "from shop.auth.local_issuer import get_local_issuer; get_local_issuer().issue(email='a@example.com'); "
        "assert os.path.isfile(settings.LOCAL_ISSUER_KEY_PATH); print(settings.LOCAL_ISSUER_KEY_PATH)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    key = Path(out.stdout.strip())
    assert key.parent.parent == tmp_path
    assert not key.exists()
    assert list(tmp_path.iterdir()) == []
