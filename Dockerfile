# The production image: gunicorn serving the Django app on port 8000, configured entirely from
# the environment (see README "Configuration"). Build: docker build -t awsomeshop .
# The base image is pinned by digest, so a rebuild of the same commit gets the same base and a
# changed base is a reviewed commit. Updating it (docs/deploy.md, "The base image"):
#   docker buildx imagetools inspect python:3.11-slim-bookworm   # "Digest:" of the index
# then set PYTHON_IMAGE to python:<its 3.11.x version>-slim-bookworm@sha256:<that digest>.
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm@sha256:86adf8dbadc3d6e82ee5dd2c74bec2e1c2467cdad47886280501df722372d2e1
# Build stage: compilers and headers for mysqlclient stay out of the final image.
FROM ${PYTHON_IMAGE} AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc pkg-config libmariadb-dev \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt requirements/constraints.txt /tmp/requirements/
RUN python -m venv /venv \
    && /venv/bin/pip install --no-cache-dir -r /tmp/requirements/requirements.txt -c /tmp/requirements/constraints.txt

FROM ${PYTHON_IMAGE}
# libmariadb3: mysqlclient's runtime library. ca-certificates: the CA bundle that verifies the
# RDS Proxy's certificate (DB_SSL_MODE=REQUIRED uses it by default).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libmariadb3 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin app
COPY --from=build /venv /venv
WORKDIR /app
COPY --chown=app:app . .
ENV PATH=/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=awsomeshop.settings.production \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    WEB_CONCURRENCY=2
# Static files (admin, API docs) are collected at build time and served by WhiteNoise. The
# placeholder secret and database are only for this step; nothing connects to them.
RUN DJANGO_SECRET_KEY=collectstatic-only DATABASE_URL=sqlite:///:memory: \
    python manage.py collectstatic --noinput -v0
USER app
EXPOSE 8000
# ECS runs its own health check (GET /healthz, liveness); this one serves plain `docker run`.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)" || exit 1
# Workers: WEB_CONCURRENCY (2 for a 0.5 vCPU Fargate task) synchronous workers; the worker model
# is set in gunicorn.conf.py (bench/RESULTS.md, "Read endpoints and the worker model").
# The one-off tasks override this command: `python manage.py migrate --noinput`,
# `python manage.py create_hr_user ...`.
# gunicorn.conf.py: timeouts and request limits (aligned with ECS and the ALB), JSON errors
# before Django, the JSON access log on stdout and worker heartbeats in /dev/shm (ECS runs this
# image with a read-only root filesystem; /tmp is a writable task volume).
CMD ["gunicorn", "awsomeshop.wsgi:application", "--config", "gunicorn.conf.py", "--bind", "0.0.0.0:8000", "--log-level", "info"]
