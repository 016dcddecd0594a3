"""gunicorn settings for the image and `make run` (gunicorn reads this file from the working
directory; command-line flags override it).

Two groups are deliberate and tested: the timeouts, aligned with the deployment's shutdown
(infra_cdktf: ECS stopTimeout, ALB deregistration delay; tests/infra/test_shutdown.py), and the
request limits, which answer before Django does, in the API's JSON error shape. The access
log and the worker heartbeat directory come from awsomeshop/gunicorn_config.py (a JSON line per
request on stdout; heartbeats in /dev/shm, as the container's root filesystem is read-only).
"""

from __future__ import annotations

import json
from typing import Any

from awsomeshop.gunicorn_config import JsonAccessLogger, accesslog, worker_tmp_dir  # noqa: F401

logger_class = JsonAccessLogger

# --- Worker model -----------------------------------------------------------------------------
# Synchronous workers, WEB_CONCURRENCY of them (2 in the image, for a 0.5 vCPU task): one request
# at a time per worker, one database connection each. Measured against gthread (4 threads) and
# uvicorn, sync served the catalog and /me faster and with a lower p99 on a quiet machine, and
# spends no CPU on thread hand-offs, which a half-vCPU task is short of (bench/RESULTS.md, "Read
# endpoints and the worker model"). Set here rather than in the image's command so every
# gunicorn started with this file (the image, `make run`, the fault drills) runs the same model.
# A request waiting on a stalled dependency holds its worker; the database (DB_CONNECT_TIMEOUT +
# DB_READ_TIMEOUT) and Cognito (AUTH_NETWORK_BUDGET_SECONDS) bound that wait.
worker_class = "sync"

# --- Timeouts -------------------------------------------------------------------------------
# A worker silent for this long is killed. No request should get near it: the database answers
# or fails within DB_CONNECT_TIMEOUT + DB_READ_TIMEOUT (8 s), Cognito within
# AUTH_NETWORK_BUDGET_SECONDS (5 s).
timeout = 30
# On SIGTERM a worker stops accepting and finishes what it is serving for up to this long.
# ECS sends SIGTERM only after the ALB has drained the task (deregistration delay) and kills it
# STOP_TIMEOUT_SECONDS later, so this stays below that.
graceful_timeout = 25
# Idle keep-alive (threaded and async workers only, should the model change): longer than the ALB's 60 s idle timeout, so the
# ALB closes idle connections first and never sends a request on one gunicorn just closed.
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
