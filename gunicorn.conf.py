"""gunicorn settings for the image and `make run` (gunicorn reads this file from the working
directory; command-line flags override it).

Two groups are deliberate and tested: the timeouts, aligned with the deployment's shutdown
(infra_cdktf: ECS stopTimeout, ALB deregistration delay; tests/infra/test_shutdown.py), and the
request limits, which answer before Django does, in the API's JSON error shape. The access
log, the worker heartbeat directory and the hook that keeps file responses' bytes counted come
from awsomeshop/gunicorn_config.py (a JSON line per request on stdout; heartbeats in /dev/shm,
as the container's root filesystem is read-only).
"""

from __future__ import annotations

import json
from typing import Any

from awsomeshop.gunicorn_config import (  # noqa: F401 - gunicorn reads these names here
    JsonAccessLogger,
    accesslog,
    post_worker_init,
    worker_tmp_dir,
)

logger_class = JsonAccessLogger

# --- Worker model -----------------------------------------------------------------------------
# WEB_CONCURRENCY workers (2 in the image, for a 0.5 vCPU task), each running Django in ONE
# application thread: one request at a time per worker and one database connection each, as
# the synchronous workers measured fastest (bench/RESULTS.md, "Worker model: sync"). In front of
# it, `threads` front threads per worker read requests from clients and write answers back,
# answer the liveness checks themselves, refuse slow or lying clients (408/400) and shed what
# cannot start within a second (503 with Retry-After), so that neither a stalled database nor
# a slow client keeps a client or the load balancer's check waiting (awsomeshop/gunicorn_worker.py;
# docs/faults.md has the measurements). Front threads hold no database connection.
# Set here rather than in the image's command so every gunicorn started with this file (the
# image, `make run`, the fault drills) runs the same model.
worker_class = "awsomeshop.gunicorn_worker.FrontedWorker"
# Connections a worker serves at once; more wait in its queue (bounded by the shedding above).
# A waiting front thread costs a thread stack and nothing else.
threads = 64

# --- Timeouts -------------------------------------------------------------------------------
# A worker whose application thread is on one request for this long is killed. No request should
# get near it: the database answers or fails within DB_CONNECT_TIMEOUT + DB_READ_TIMEOUT (8 s),
# Cognito within AUTH_NETWORK_BUDGET_SECONDS (5 s).
timeout = 30
# On SIGTERM a worker stops accepting and finishes what it is serving for up to this long.
# ECS sends SIGTERM only after the ALB has drained the task (deregistration delay) and kills it
# STOP_TIMEOUT_SECONDS later, so this stays below that.
graceful_timeout = 25
# Idle keep-alive: longer than the ALB's 60 s idle timeout, so the ALB closes idle connections
# first and never sends a request on one gunicorn just closed.
keepalive = 75

# --- Request limits ---------------------------------------------------------------------------
# The ALB in front refuses, with its own HTML page, a request line or a header over 16 KB and
# headers over 64 KB in total; nothing can make those JSON. Below that, gunicorn's limits apply
# and its answers (414, 431, 400) are JSON like every other error (see on_starting).
limit_request_line = 8190  # gunicorn's maximum; URLs here are far shorter
limit_request_fields = 100
limit_request_field_size = 8190  # a Cognito JWT is 1-2 KB

# What gunicorn's own refusals say, as {"code", "detail"}.
_CODES = {
    400: ("validation_error", "The request is malformed."),
    403: ("permission_denied", "The request is forbidden."),
    414: ("uri_too_long", "The request line is too long."),
    408: (
        "request_timeout",
        "The request was sent too slowly or stopped before its end; nothing was changed.",
    ),
    417: ("expectation_failed", "The Expect header cannot be met."),
    431: ("headers_too_large", "The request headers are too large or too many."),
    500: ("server_error", "Something went wrong on our side; nothing was changed."),
    501: ("not_implemented", "This transfer coding is not supported."),
}


def json_error_response(status_int: int, reason: str) -> bytes:
    """The raw HTTP response for one of gunicorn's own errors, as JSON."""
    code, detail = _CODES.get(status_int, ("error", reason))
    body = json.dumps({"code": code, "detail": detail}).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


def on_starting(server: Any) -> None:
    # gunicorn writes its errors (before a request reaches Django) as HTML pages through
    # util.write_error; workers look it up at call time, so replacing it here, in the master
    # before any worker forks, makes every worker answer JSON. The message gunicorn passes is
    # not echoed: it repeats the client's input.
    from gunicorn import util

    def write_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
        util.write_nonblock(sock, json_error_response(status_int, reason))

    util.write_error = write_error
