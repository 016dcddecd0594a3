"""Production: everything from the environment, secure cookies, no defaults for secrets."""

from .base import *  # noqa: F403
from .base import ADMIN_OIDC_ENABLED, env

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
# With company sign-in configured, HR signs in through Cognito only; a password opens the
# admin only for the break-glass superusers named in ADMIN_BREAK_GLASS_EMAILS.
ADMIN_PASSWORD_LOGIN = not ADMIN_OIDC_ENABLED
