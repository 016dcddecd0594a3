"""ASGI entry point (gunicorn with uvicorn workers in production)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "awsomeshop.settings.local")
application = get_asgi_application()
