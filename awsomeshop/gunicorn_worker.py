"""The web worker: gunicorn's threaded worker in front of one application thread.

Each worker process keeps the synchronous model where it matters (one request at a time in
Django, so one database connection per worker and no lock contention between requests of a
worker) but moves everything that waits on a client, or that must not wait, to front threads:

- **Front threads** (gunicorn's ``threads`` setting) read the request head and body from the
  client, write the answer back, and answer the liveness paths themselves. A client that sends
  slower than ``BODY_FLOOR_BYTES_PER_SECOND`` after ``CLIENT_GRACE_SECONDS``, or a body shorter
  than its Content-Length, gets ``408 request_timeout`` or ``400 validation_error`` and holds
  only a front thread, for seconds; the application thread never reads a socket. A malformed
  chunked body is a ``400`` here too. Bodies over ``MAX_BODY_BYTES`` (chunked ones over
  ``MAX_CHUNKED_BYTES``) are ``413`` unread, and large bodies held at once are capped per
  worker (``BODY_BUDGET_BYTES``; beyond it, ``503``).
- **The application thread** runs Django, one request after another, with the body already in
  memory; the response is built there in full (streamed responses included, so that their
  database reads stay on this thread's connection) and written by the front thread.
- **Shedding**: a request that cannot start in the application thread within
  ``QUEUE_TIMEOUT_SECONDS`` is answered ``503 service_unavailable`` with ``Retry-After`` and
  nothing was changed. While the database stalls, the request in the application thread holds
  it for up to DB_CONNECT_TIMEOUT + DB_READ_TIMEOUT (8 s); everyone queued behind it is told
  so after a second instead of waiting 8 s per request ahead of them.
- **Liveness** (``/healthz``, ``/health/live``) runs in the front thread (Django's own view, no
  database), so the load balancer's and the container's checks are answered at once even while
  the application thread waits on a stalled database.

gunicorn's worker timeout still applies to the application thread: a worker whose
application thread has been on one request for longer than ``timeout`` stops reporting to the
arbiter, which kills it, as it would kill a stuck synchronous worker.

docs/faults.md gives the measurements behind the numbers.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from gunicorn.http.errors import NoMoreData, ParseException
from gunicorn.workers.gthread import ThreadWorker

from awsomeshop.worker_balance import ACCEPT_DEFER_MAX_SECONDS, ACCEPT_RECHECK_SECONDS, CONNECTIONS

logger = logging.getLogger("shop.request")

# A client has this long for its request head and for its body to start arriving, then must keep
# up this rate on average (bytes since the request began). API bodies are a few hundred bytes;
# an HR upload of the largest CSV (5 MB) at this rate takes under 3 minutes.
CLIENT_GRACE_SECONDS = 3.0
BODY_FLOOR_BYTES_PER_SECOND = 32 * 1024
# Writing the answer to a client that does not read it.
WRITE_TIMEOUT_SECONDS = 10.0
# Above the largest body any endpoint takes (the CSV import's 5 MB file in its multipart form);
# Django's own limits (DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB outside file fields) still apply.
MAX_BODY_BYTES = 8 * 1024 * 1024
# A chunked body announces no size: held to Django's limit for non-file data, as before.
MAX_CHUNKED_BYTES = 2_621_440
# Bodies are held in memory while their request is served: a worker holds at most this much of
# large ones (64 KB and up) at once; a request that would exceed it is shed (503) unread.
LARGE_BODY_BYTES = 64 * 1024
BODY_BUDGET_BYTES = 32 * 1024 * 1024
# How long a request may wait for the application thread before it is answered 503
# (WEB_QUEUE_TIMEOUT overrides it, e.g. for a test that must never see a shed request).
QUEUE_TIMEOUT_SECONDS = 1.0
LIVENESS_PATHS = frozenset({"/healthz", "/health/live"})
RETRY_AFTER_SECONDS = 5  # as shop.http.errors.RETRY_AFTER_SECONDS
# What a worker holds once it has loaded and served its first requests is moved out of the
# collector's sight (gc.freeze) when it has loaded and after these many requests (run_job).
GC_FREEZE_AFTER_REQUESTS = frozenset({100, 1000})


class SlowClient(Exception):
    """The client did not send its request at the floor rate. Not an OSError: gunicorn logs
    those as socket failures; this one is answered 408."""


class FrontSocket(socket.socket):
    """A client socket whose reads, while metered, are bounded by the floor rate."""

    metered = False
    abandoned = False  # answered without reading the rest: closed by the front thread
    _started: float | None = None
    _received = 0

    @classmethod
    def adopt(cls, sock: socket.socket) -> FrontSocket:
        front = cls(sock.family, sock.type, sock.proto, fileno=sock.detach())
        front.setblocking(False)
        return front

    def begin_request(self) -> None:
        self.metered, self.abandoned, self._started, self._received = True, False, None, 0

    def end_reading(self) -> None:
        self.metered = False
        self.settimeout(WRITE_TIMEOUT_SECONDS)

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        if not self.metered:
            return super().recv(bufsize, flags)
        now = time.monotonic()
        if self._started is None:
            self._started = now
        due = self._started + CLIENT_GRACE_SECONDS + self._received / BODY_FLOOR_BYTES_PER_SECOND
        if due <= now:
            self.abandoned = True
            raise SlowClient()
        self.settimeout(due - now)
        try:
            data = super().recv(bufsize, flags)
        except TimeoutError as exc:
            self.abandoned = True
            raise SlowClient() from exc
        self._received += len(data)
        return data


class BodyTooShort(Exception):
    pass


def _json(
    status: str, code: str, detail: str, extra: Iterable[tuple[str, str]] = ()
) -> tuple[str, list[tuple[str, str]], bytes]:
    body = json.dumps({"code": code, "detail": detail}).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *extra]
    return status, headers, body


TIMEOUT = _json(
    "408 Request Timeout",
    "request_timeout",
    "The request was sent too slowly or stopped before its end; nothing was changed.",
)
SHORT_BODY = _json(
    "400 Bad Request", "validation_error", "The body is shorter than its Content-Length; nothing was changed."
)
MALFORMED_BODY = _json(
    "400 Bad Request", "validation_error", "The request body is malformed; nothing was changed."
)
TOO_LARGE = _json(
    "413 Request Entity Too Large", "payload_too_large", f"The body is larger than {MAX_BODY_BYTES} bytes."
)
BUSY = _json(
    "503 Service Unavailable",
    "service_unavailable",
    "The server is busy; nothing was changed. Retry later.",
    [("Retry-After", str(RETRY_AFTER_SECONDS))],
)

# A person's browser on a storefront page is told the same in a page rather than JSON; the
# paths are the storefront's (everything but the API, the back office, health and files:
# storefront.middleware.NOT_STOREFRONT).
_NOT_PAGES = ("/api/", "/admin/", "/oidc/", "/health", "/static/", "/media/")
_BUSY_PAGE_BODY = (
    b'<!doctype html><html lang="en"><head><meta charset="utf-8">'
    b'<meta name="viewport" content="width=device-width, initial-scale=1">'
    b"<title>Try again in a minute \xc2\xb7 AWSomeShop</title></head><body><main>"
    b"<h1>Try again in a minute</h1><p>The shop is very busy just now. Nothing was changed; "
    b'reload this page in a few seconds.</p><p><a href="/">AWSomeShop</a></p></main></body></html>'
)
BUSY_PAGE = (
    BUSY[0],
    [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Length", str(len(_BUSY_PAGE_BODY))),
        ("Retry-After", str(RETRY_AFTER_SECONDS)),
    ],
    _BUSY_PAGE_BODY,
)


def _busy(environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    return BUSY if str(environ.get("PATH_INFO", "")).startswith(_NOT_PAGES) else BUSY_PAGE


class _Job:
    """One request for the application thread; its answer is built there in full."""

    def __init__(self, app: Callable[..., Any], environ: dict[str, Any]):
        self.app = app
        self.environ = environ
        self.started = threading.Event()
        self.answered = threading.Event()
        self.answer: tuple[str, list[tuple[str, str]], bytes] | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        self.started.set()
        result: Any = None
        try:
            head: list[Any] = []
            chunks: list[bytes] = []

            def start_response(
                status: str, headers: list[tuple[str, str]], exc_info: Any = None
            ) -> Callable[[bytes], None]:
                head[:] = [status, headers]
                return chunks.append

            result = self.app(self.environ, start_response)
            chunks.extend(result)
            self.answer = (head[0], head[1], b"".join(chunks))
        except BaseException as exc:  # noqa: BLE001 - handed to the front thread, which raises it
            self.error = exc
        finally:
            # The front thread writes the answer while this thread tidies up: Django's
            # request_finished (closing or checking this thread's database connection) runs in
            # close(), and can itself wait on a stalled database; the client should not.
            self.answered.set()
            close = getattr(result, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    close()


class FrontApp:
    """The WSGI callable gunicorn's front threads call."""

    def __init__(self, app: Callable[..., Any], worker: FrontedWorker):
        self.app = app
        self.worker = worker

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        sock = environ.get("gunicorn.socket")
        front = sock if isinstance(sock, FrontSocket) else None
        if environ.get("PATH_INFO") in LIVENESS_PATHS and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            if front is not None:
                front.end_reading()
            return self.app(environ, start_response)  # touches no database; see the module doc
        reserved = _body_size_to_reserve(environ)
        if not self.worker.reserve_body(reserved):
            self.worker.shed()
            return _answer(start_response, _busy(environ), close=True, front=front)
        try:
            return self._serve(environ, start_response, front)
        finally:
            self.worker.release_body(reserved)

    def _serve(
        self, environ: dict[str, Any], start_response: Callable[..., Any], front: FrontSocket | None
    ) -> Iterable[bytes]:
        try:
            body = _read_body(environ)
        except SlowClient:
            return _answer(start_response, TIMEOUT, close=True, front=front)
        except BodyTooShort:
            return _answer(start_response, SHORT_BODY, close=True, front=front)
        except (ParseException, NoMoreData, ValueError):
            return _answer(start_response, MALFORMED_BODY, close=True, front=front)
        finally:
            if front is not None:
                front.end_reading()
        if body is _TOO_LARGE:
            return _answer(start_response, TOO_LARGE, close=True, front=front)
        app_environ = dict(environ)
        # The answer is built in full in the application thread: no file handed to the server.
        app_environ.pop("wsgi.file_wrapper", None)
        if body is not None:
            app_environ["wsgi.input"] = io.BytesIO(body)
            app_environ["CONTENT_LENGTH"] = str(len(body))
            app_environ["wsgi.input_terminated"] = True
        job = _Job(self.app, app_environ)
        future = self.worker.app_thread.submit(self.worker.run_job, job)
        if not job.started.wait(self.worker.queue_timeout) and future.cancel():
            self.worker.shed()
            return _answer(start_response, _busy(environ))
        job.answered.wait()
        if job.error is not None:
            raise job.error
        assert job.answer is not None
        status, headers, payload = job.answer
        if not any(name.lower() == "content-length" for name, _ in headers) and status[:3] not in (
            "204",
            "304",
        ):
            headers = [*headers, ("Content-Length", str(len(payload)))]  # known: no chunked framing
        start_response(status, headers)
        return [payload]


_TOO_LARGE = b"\x00too large"


def _read_body(environ: dict[str, Any]) -> bytes | None:
    """The whole body, read here under the floor rate; None when there is none."""
    stream = environ["wsgi.input"]
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    length = environ.get("CONTENT_LENGTH") or ""
    if chunked:
        data = stream.read(MAX_CHUNKED_BYTES + 1)
        return _TOO_LARGE if len(data) > MAX_CHUNKED_BYTES else data
    if not length:
        return None
    expected = int(length)  # gunicorn accepts digits only
    if expected > MAX_BODY_BYTES:
        return _TOO_LARGE
    data = stream.read(expected)
    if len(data) < expected:
        raise BodyTooShort()
    return bytes(data)


def _body_size_to_reserve(environ: dict[str, Any]) -> int:
    """What this request's body may take in memory, if it counts against the budget."""
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return MAX_CHUNKED_BYTES
    length = environ.get("CONTENT_LENGTH") or "0"
    size = int(length) if length.isdigit() else 0
    return size if LARGE_BODY_BYTES <= size <= MAX_BODY_BYTES else 0


def _answer(
    start_response: Callable[..., Any],
    answer: tuple[str, list[tuple[str, str]], bytes],
    *,
    close: bool = False,
    front: FrontSocket | None = None,
) -> list[bytes]:
    status, headers, body = answer
    if close:
        # The rest of the request is unknown: answer and close instead of reading on. The
        # start_response gunicorn passes is its response's own method.
        if front is not None:
            front.abandoned = True
        response = getattr(start_response, "__self__", None)
        force_close = getattr(response, "force_close", None)
        if callable(force_close):
            force_close()
    start_response(status, headers)
    return [body]


class FrontedWorker(ThreadWorker):
    """gunicorn's gthread worker with front threads and one application thread (see above)."""

    app_thread: ThreadPoolExecutor
    wsgi: Any
    busy_since: float | None = None  # when the application thread began its current request
    _deferring_since: float | None = None  # leaving a new connection to a less busy worker
    served = 0  # requests the application thread has run
    queue_timeout = QUEUE_TIMEOUT_SECONDS

    def init_process(self) -> None:
        self.queue_timeout = float(os.environ.get("WEB_QUEUE_TIMEOUT", "") or QUEUE_TIMEOUT_SECONDS)
        self.app_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="app")
        self._body_lock = threading.Lock()
        self._body_bytes = 0
        super().init_process()

    def load_wsgi(self) -> None:
        super().load_wsgi()
        self.wsgi = FrontApp(self.wsgi, self)
        gc.freeze()  # see run_job

    def accept(self, listener: Any) -> None:
        """Accept a connection unless another worker holds fewer and may take it.

        Every worker waits on the one listening socket and the kernel wakes them all; whoever
        calls accept() first gets the connection, and the one whose application thread is idle
        usually wins. Keep-alive connections (the load balancer's, a client's) then stay with
        that worker for their life, so an uneven split lasts: 32 connections were measured
        split 20 to 12 and 24 to 8, and the busier worker's clients, waiting for as many
        requests ahead of theirs, set the p99 (bench/RESULTS.md, "Balancing connections").
        So a worker that holds more connections than another live worker leaves the new one
        to it, for up to ACCEPT_DEFER_MAX_SECONDS, then takes it anyway. If the other took
        it meanwhile, the listener is no longer readable and this is not called again for it.
        """
        now = time.monotonic()
        fewest = CONNECTIONS.fewest_elsewhere(self.age)
        if fewest is not None and self.nr_conns > fewest:
            if self._deferring_since is None or now - self._deferring_since > 5 * ACCEPT_DEFER_MAX_SECONDS:
                self._deferring_since = now  # a new connection to leave to the others
            if now - self._deferring_since < ACCEPT_DEFER_MAX_SECONDS:
                time.sleep(ACCEPT_RECHECK_SECONDS)  # the main loop comes back if it is still there
                return
        self._deferring_since = None
        super().accept(listener)
        CONNECTIONS.publish(self.age, os.getpid(), self.nr_conns)

    def enqueue_req(self, conn: Any) -> None:
        if not isinstance(conn.sock, FrontSocket):
            conn.sock = FrontSocket.adopt(conn.sock)
        super().enqueue_req(conn)

    def handle(self, conn: Any) -> Any:
        sock = conn.sock
        sock.begin_request()
        try:
            result = super().handle(conn)
        finally:
            sock.metered = False
        if sock.abandoned:
            # Answered (408, 400, 413, 503) without reading the rest of the request. Half-close
            # and drain briefly here, in the front thread: gunicorn's own graceful close runs in
            # the main loop, where a client that keeps the connection open would hold every
            # other connection of the worker for up to 2 s.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_WR)
                sock.settimeout(1.0)
                while sock.recv(65536):
                    pass
            sock.closed_in_front = True
            return False
        return result

    def finish_request(self, conn: Any, fs: Any) -> None:
        if getattr(conn.sock, "closed_in_front", False):
            self.nr_conns -= 1
            with contextlib.suppress(OSError):
                conn.sock.close()
            return
        super().finish_request(conn, fs)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        if isinstance(exc, SlowClient):
            from gunicorn import util

            util.write_error(client, 408, "Request Timeout", "")
            return
        super().handle_error(req, client, addr, exc)

    def notify(self) -> None:
        # The heartbeat the arbiter watches; it kills a worker silent for `timeout`. The main loop
        # beats every second however long the application thread takes, so it stops beating
        # while that thread has been on one request for over a second: a request that runs past
        # `timeout` gets the worker killed, as a stuck synchronous worker would be (whose
        # heartbeat stops for every request).
        busy_since = self.busy_since
        if busy_since is not None and time.monotonic() - busy_since > 1.0:
            return
        # Called on every turn of the main loop: the connection count others balance against.
        CONNECTIONS.publish(self.age, os.getpid(), self.nr_conns)
        super().notify()

    def reserve_body(self, size: int) -> bool:
        if not size:
            return True
        with self._body_lock:
            if self._body_bytes + size > BODY_BUDGET_BYTES:
                return False
            self._body_bytes += size
            return True

    def release_body(self, size: int) -> None:
        if size:
            with self._body_lock:
                self._body_bytes -= size

    def run_job(self, job: _Job) -> None:
        """Run one request in the application thread.

        Between requests, after the 100th and the 1,000th, everything the worker holds is
        frozen (gc.freeze): the loaded application and what its first requests built (compiled
        templates, the kept pages, connections) are not scanned again by the collector. Without
        it, each full collection scanned 150,000 to 235,000 long-lived objects and stopped the
        worker for 55 to 95 ms, once every 1,000 to 3,000 requests; every request queued behind
        it waited as long, which is what set the p99. With it, those collections took 4 to 10 ms
        (`BENCH_GC=1 BENCH_GC_FREEZE=1 bench/bench_cpu.py`; bench/RESULTS.md, "Garbage
        collection"). Frozen objects are still freed when nothing refers to them; only garbage
        cycles alive at a freeze are kept, once.
        """
        self.busy_since = time.monotonic()
        try:
            job.run()
        finally:
            self.busy_since = None
            self.served += 1
            if self.served in GC_FREEZE_AFTER_REQUESTS:
                gc.freeze()

    def shed(self) -> None:
        logger.warning("request shed: the application thread was busy for %.1f s", self.queue_timeout)
        with contextlib.suppress(Exception):
            from shop.observability import metrics

            metrics.count("RequestsShed")
