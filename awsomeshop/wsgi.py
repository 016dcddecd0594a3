"""WSGI entry point."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "awsomeshop.settings.local")
application = get_wsgi_application()

# Gunicorn runs no system checks; a production configuration they call an error (no Cognito
# pool, no host name) must not serve at all.
from shop.auth.checks import refuse_to_serve_if_misconfigured  # noqa: E402

refuse_to_serve_if_misconfigured()
