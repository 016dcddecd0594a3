"""gunicorn logging and worker-file settings, read by gunicorn.conf.py (the image's `--config`).

- One JSON object per request on stdout (the access log), next to the app's own JSON lines, so
  CloudWatch Logs Insights can filter on status, path and duration without parsing text. The
  line is built with json.dumps: a path or header holding quotes or backslashes stays valid
  JSON, which a JSON-looking `access_log_format` template would not guarantee.
- Worker heartbeat files in /dev/shm (memory), not /tmp: the task's root filesystem is
  read-only, and a heartbeat on disk-backed storage can stall workers (gunicorn's own advice
  for containers).
- Every response's bytes are counted, files included (post_worker_init below).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger


class JsonAccessLogger(Logger):
    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> None:
        if not self.access_log_enabled:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        headers = {name.lower(): value for name, value in resp.headers}
        entry = {
            "type": "access",
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "remote_addr": environ.get("REMOTE_ADDR"),
            "x_forwarded_for": environ.get("HTTP_X_FORWARDED_FOR"),
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "query": environ.get("QUERY_STRING") or None,
            "protocol": environ.get("SERVER_PROTOCOL"),
            "status": int(status),
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 2),
            "user_agent": environ.get("HTTP_USER_AGENT"),
            "referer": environ.get("HTTP_REFERER"),
            "request_id": headers.get("x-request-id"),
        }
        try:
            self.access_log.info(json.dumps(entry, separators=(",", ":")))
        except Exception:  # noqa: BLE001 - a log line must never fail a request
            self.exception("access log line failed")


def post_worker_init(worker: Any) -> None:
    """Serve every worker's application without `wsgi.file_wrapper`, so file bytes are counted.

    gunicorn sends a file response handed to the wrapper (Django's FileResponse for media,
    whitenoise for static files) with sendfile(), which never adds to the count the access log
    reads: every such line said `"bytes": 0`. Without the wrapper the same responses are
    iterated in chunks, each counted as it is written. The fronted worker builds its answers in
    full anyway (gunicorn_worker.py); this keeps the count true under any worker class.
    """
    application = worker.wsgi

    def without_file_wrapper(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        # A copy: gunicorn reads the wrapper from its own environ after the application returns.
        return application({k: v for k, v in environ.items() if k != "wsgi.file_wrapper"}, start_response)

    worker.wsgi = without_file_wrapper


logger_class = JsonAccessLogger
accesslog = "-"
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - memory, not a temp file path
