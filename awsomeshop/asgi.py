"""ASGI entry point (gunicorn with uvicorn workers in production)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "awsomeshop.settings.local")
application = get_asgi_application()

# As in wsgi.py: a production configuration the system checks call an error must not serve.
from shop.checks import refuse_to_serve_if_misconfigured  # noqa: E402

refuse_to_serve_if_misconfigured()
