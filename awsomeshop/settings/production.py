"""Production: everything from the environment, secure cookies, no defaults for secrets."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SERVE_MEDIA = False
# The ALB terminates TLS and sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
# The ALB health check calls /health by IP address; it is not a real host name.
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"])
# One ALB in front of the containers appends the client's address to X-Forwarded-For.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)
