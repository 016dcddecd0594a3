"""Production: everything from the environment, secure cookies, no defaults for secrets.

It fails closed: `shop.auth.checks` turns a missing Cognito pool or host name into a system check
error, which `manage.py check` reports and the WSGI entry point refuses to serve with.
"""

from .base import *  # noqa: F403
from .base import ADMIN_OIDC_ENABLED, HEALTH_CHECK_PATHS, env

DEBUG = False
SERVE_MEDIA = False
# Tokens come from Cognito only (COGNITO_USER_POOL_ID, COGNITO_CLIENT_ID); no variable turns the
# development issuer back on.
LOCAL_ISSUER_ENABLED = False
# The ALB terminates TLS and sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# The ALB checks health over plain HTTP by task IP; shop.http.health_middleware answers those paths
# before this redirect (and host validation), and they are exempt here too.
SECURE_REDIRECT_EXEMPT = [f"^{path.lstrip('/')}$" for path in HEALTH_CHECK_PATHS]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
# Only the configured host names; never "*". The ALB's health checks by task IP do not need one.
APP_DOMAIN = env("APP_DOMAIN", default="").strip()
SITE_URL = env("SITE_URL", default=f"https://{APP_DOMAIN}" if APP_DOMAIN else "")
ALLOWED_HOSTS = [h for h in [APP_DOMAIN, *env.list("ALLOWED_HOSTS", default=[])] if h]
CSRF_TRUSTED_ORIGINS = [
    o
    for o in [f"https://{APP_DOMAIN}" if APP_DOMAIN else "", *env.list("CSRF_TRUSTED_ORIGINS", default=[])]
    if o
]
# One ALB in front of the containers appends the client's address to X-Forwarded-For.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)
# With company sign-in configured, HR signs in through Cognito only; a password opens the
# admin only for the break-glass superusers named in ADMIN_BREAK_GLASS_EMAILS.
ADMIN_PASSWORD_LOGIN = not ADMIN_OIDC_ENABLED
# Employees sign in to the storefront through Cognito only: no variable turns the offline
# one-time links (manage.py storefront_login_url, /signin/link/) back on.
STOREFRONT_LOCAL_SIGN_IN = False
# MySQL/MariaDB and PostgreSQL run through the project's engines, set in settings/base.py for
# every environment: a request whose database stops answering fails after DB_READ_TIMEOUT
# instead of also waiting out a reconnect (shop.db.backends.NoReconnectAfterStall; docs/faults.md).
