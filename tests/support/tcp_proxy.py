"""A TCP proxy the tests can cut, to take a real database away and bring it back.

Three faults, as a network or a database shows them:

- **refuse** (`stop()`, then `start()`): the listener closes and every connection is cut; new
  connections are refused. A database that is down.
- **stall** (`stall()`, then `resume()`): connections stay open, bytes are held in both
  directions, nothing is reset; new connections are accepted and then hear nothing. A database
  (or a network path) that silently stops answering.
- **cut after commit** (`cut_after_commit(marker)`): on the first connection that sends a
  statement containing every byte string in `marker`, the next COMMIT is passed to the server,
  its answer is awaited and thrown away, and the client's connection is reset. The write is
  committed; the client never hears so. Once only.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading
from collections.abc import Iterator


class TcpProxy:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = self._free_port()
        self._server: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._running = threading.Event()  # cleared while stalled
        self._running.set()
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._cut_marker: tuple[bytes, ...] | None = None
        self.cut_done = threading.Event()
        self.accepted = 0  # connections accepted so far, stalled ones included

    @staticmethod
    def _free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])

    def start(self) -> None:
        self._stop.clear()
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        server.settimeout(0.1)
        self._server = server
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Close the listener and every open connection: the database is 'down'."""
        self._stop.set()
        self._running.set()  # wake stalled pipes so that they end
        if self._thread:
            self._thread.join(timeout=5)
        if self._server:
            self._server.close()
        self._close_all()

    def stall(self) -> None:
        """Hold every byte from now on, without closing anything."""
        self._running.clear()

    def resume(self) -> None:
        """Forward again. Connections held during the stall are reset: their clients gave up on
        them (a database recovering from a hang drops them too)."""
        self._close_all()
        self._running.set()

    def cut_after_commit(self, *marker: bytes) -> None:
        self.cut_done.clear()
        self._cut_marker = marker

    def _close_all(self) -> None:
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.close()

    def _accept_loop(self) -> None:
        assert self._server is not None
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except (TimeoutError, OSError):
                continue
            with self._lock:
                self._conns.append(client)
                self.accepted += 1
            if not self._running.is_set():
                continue  # stalled: accepted, and then nothing
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns.append(upstream)
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    def _pipe(self, client: socket.socket, upstream: socket.socket) -> None:
        sel = selectors.DefaultSelector()
        try:
            sel.register(client, selectors.EVENT_READ, upstream)
            sel.register(upstream, selectors.EVENT_READ, client)
        except (ValueError, OSError):
            # The proxy cut or refused its connections between accepting this pair and this
            # thread starting: a closed socket has no descriptor left to watch.
            sel.close()
            for s in (client, upstream):
                with contextlib.suppress(OSError):
                    s.close()
            return
        armed = False
        try:
            while not self._stop.is_set():
                if not self._running.is_set():
                    # Stalled: read nothing, so bytes wait in the kernel's buffers.
                    self._running.wait(timeout=0.2)
                    continue
                for key, _ in sel.select(timeout=0.2):
                    source = key.fileobj
                    data = source.recv(65536)  # type: ignore[union-attr]
                    if not data:
                        return
                    marker = self._cut_marker
                    if source is client and marker is not None and not self.cut_done.is_set():
                        if all(part in data for part in marker):
                            armed = True
                        elif armed and b"COMMIT" in data.upper():
                            self._commit_then_reset(client, upstream, data)
                            return
                    key.data.sendall(data)
        except OSError:
            return
        finally:
            sel.close()
            for s in (client, upstream):
                with contextlib.suppress(OSError):
                    s.close()

    def _commit_then_reset(self, client: socket.socket, upstream: socket.socket, commit: bytes) -> None:
        upstream.sendall(commit)
        upstream.settimeout(5)
        with contextlib.suppress(OSError):
            upstream.recv(65536)  # the server's "committed", which the client never gets
        self._cut_marker = None
        self.cut_done.set()
        # SO_LINGER 0: close with a reset, as a dropped network path looks to the client.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def proxy_to_test_database() -> TcpProxy:
    """A started proxy in front of the test database's server (MariaDB or PostgreSQL)."""
    from django.db import connection

    settings = connection.settings_dict
    default_port = 3306 if connection.vendor == "mysql" else 5432
    proxy = TcpProxy(settings["HOST"] or "127.0.0.1", int(settings["PORT"] or default_port))
    proxy.start()
    return proxy


@contextlib.contextmanager
def database_behind_proxy() -> Iterator[TcpProxy]:
    """This process's default connection goes through a proxy the test can cut; restored after."""
    from django.db import connection

    settings = connection.settings_dict
    proxy = proxy_to_test_database()
    original = (settings["HOST"], settings["PORT"])
    connection.close()
    settings["HOST"], settings["PORT"] = "127.0.0.1", str(proxy.port)
    try:
        yield proxy
    finally:
        proxy.stop()
        connection.close()
        settings["HOST"], settings["PORT"] = original
