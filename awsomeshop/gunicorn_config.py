"""gunicorn logging and worker-file settings, read by gunicorn.conf.py (the image's `--config`).

- One JSON object per request on stdout (the access log), next to the app's own JSON lines, so
  CloudWatch Logs Insights can filter on status, path and duration without parsing text. The
  line is built with json.dumps: a path or header holding quotes or backslashes stays valid
  JSON, which a JSON-looking `access_log_format` template would not guarantee.
- Worker heartbeat files in /dev/shm (memory), not /tmp: the task's root filesystem is
  read-only, and a heartbeat on disk-backed storage can stall workers (gunicorn's own advice
  for containers).
"""

from __future__ import annotations

import json
import os
import time
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


logger_class = JsonAccessLogger
accesslog = "-"
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - memory, not a temp file path
