"""Test settings: the database comes from DATABASE_URL (SQLite by default), fast hashing."""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key")
os.environ.setdefault("DATABASE_URL", "sqlite:///:memory:")
if "LOCAL_ISSUER_KEY_PATH" not in os.environ:
    # The local issuer's signing key, one per test run as the media folder below: in a folder
    # the process that makes it removes at exit (a fixed name in the temporary directory stayed
    # there after every run), found by the servers the tests start through the environment, so
    # their tokens and the tests' are signed with the same key.
    _issuer_dir = tempfile.mkdtemp(prefix="awsomeshop-test-issuer-")
    os.environ["LOCAL_ISSUER_KEY_PATH"] = os.path.join(_issuer_dir, "issuer.pem")
    atexit.register(shutil.rmtree, _issuer_dir, ignore_errors=True)
if "MEDIA_ROOT" not in os.environ:
    # One media folder per test run: the process that makes it removes it at exit, and the
    # servers the tests start inherit it through the environment instead of making their own.
    os.environ["MEDIA_ROOT"] = tempfile.mkdtemp(prefix="awsomeshop-media-")
    atexit.register(shutil.rmtree, os.environ["MEDIA_ROOT"], ignore_errors=True)

from .base import *  # noqa: F403
from .base import DATABASES, STORAGES, TEMPLATE_FRAGMENTS_CACHE

DEBUG = False
ALLOWED_HOSTS = ["*"]
SERVE_MEDIA = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
# Tests hold connections open across threads; never reuse one between tests.
DATABASES["default"]["CONN_MAX_AGE"] = 0
if DATABASES["default"]["ENGINE"] == "shop.db.backends.mysql":
    DATABASES["default"]["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
# The process-local cache keeps tests apart and adds no queries to pinned query counts; the
# throttle tests switch to the database cache and Redis themselves. The order limit is high
# so that tests placing many orders are not throttled; tests that need it lower set it.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "template_fragments": TEMPLATE_FRAGMENTS_CACHE,
}
ORDER_RATE_LIMIT = "100000/min"
# Metrics stay off whatever the environment says; the metrics tests install their own recorder.
METRICS_ENABLED = False
# The storefront's one-time sign-in links (tests of production settings see them refused).
STOREFRONT_LOCAL_SIGN_IN = True
