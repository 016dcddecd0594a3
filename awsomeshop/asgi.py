"""ASGI entry point, for ASGI servers such as uvicorn; production does not run it.

The image runs the WSGI application (awsomeshop.wsgi) under gunicorn's synchronous workers
(gunicorn.conf.py), two per 0.5 vCPU task. Every view is synchronous, so the ASGI path runs each
request in a thread anyway and, as Django requires under ASGI, gives up persistent database
connections (DB_CONN_MAX_AGE=0: a new connection, and behind RDS Proxy a TLS handshake, per
request). bench/RESULTS.md ("Worker model", "Read endpoints and the worker model") has the
figures behind that choice.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "awsomeshop.settings.local")
application = get_asgi_application()

# As in wsgi.py: a production configuration the system checks call an error must not serve.
from shop.auth.checks import refuse_to_serve_if_misconfigured  # noqa: E402

refuse_to_serve_if_misconfigured()
