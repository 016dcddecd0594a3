"""Local development: SQLite, local media, the local token issuer.

DEBUG stays off unless DJANGO_DEBUG=true, so API clients see the same JSON errors they
would in production, never Django's HTML debug pages.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "insecure-local-development-key-not-for-production")
os.environ.setdefault("DATABASE_URL", "sqlite:///var/db.sqlite3")

from .base import *  # noqa: F403
from .base import BASE_DIR, DATABASES, STORAGES, env

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# A metrics document every minute would clutter the development console; METRICS=on shows them.
METRICS_ENABLED = env("METRICS", default="off").lower() in ("on", "true", "1", "yes")
ALLOWED_HOSTS = ["*"]
SERVE_MEDIA = True
# Serve the admin's static files straight from the apps, no collectstatic step needed.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = None  # nothing is collected locally; WhiteNoise would warn about a missing folder
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    name = str(DATABASES["default"]["NAME"])
    if not name.startswith("/") and name != ":memory:":
        DATABASES["default"]["NAME"] = str(BASE_DIR / name)
    (BASE_DIR / "var").mkdir(exist_ok=True)
# Offline sign-in to the storefront: `manage.py storefront_login_url` prints one-time links.
STOREFRONT_LOCAL_SIGN_IN = env.bool("STOREFRONT_LOCAL_SIGN_IN", default=True)
