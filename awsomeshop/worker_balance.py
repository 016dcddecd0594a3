"""How many connections each web worker holds, shared between a server's workers, so that a
new connection goes to the worker holding fewest (awsomeshop/gunicorn_worker.py, FrontedWorker.accept)."""

from __future__ import annotations

import ctypes
import mmap
import time

# A worker holding more connections than another leaves a new one to it for up to this long
# (longer than the 5 ms a busy worker's main thread may wait for the interpreter lock), checking
# again every ACCEPT_RECHECK_SECONDS.
ACCEPT_DEFER_MAX_SECONDS = 0.010
ACCEPT_RECHECK_SECONDS = 0.0005


class ConnectionTable:
    """How many connections each worker of the server holds, in memory its workers share.

    Created when the arbiter imports this module, before it forks the workers, so every worker
    writes and reads the same pages. A slot is (pid, connections, last update in monotonic ns);
    a worker's slot is its age modulo SLOTS. Slots not updated for STALE_NS (a dead worker, or
    one whose main loop is stuck) are ignored. Single 64-bit writes and no lock: a reader may see
    a count one update old, which only makes the balance approximate for a moment.
    """

    SLOTS = 64
    STALE_NS = 2_000_000_000

    def __init__(self) -> None:
        self._memory = mmap.mmap(-1, self.SLOTS * 3 * 8)  # shared and anonymous
        self._cells = (ctypes.c_int64 * (self.SLOTS * 3)).from_buffer(self._memory)

    def publish(self, slot: int, pid: int, connections: int) -> None:
        base = (slot % self.SLOTS) * 3
        self._cells[base + 1] = connections
        self._cells[base + 2] = time.monotonic_ns()
        self._cells[base] = pid

    def fewest_elsewhere(self, slot: int) -> int | None:
        """The fewest connections a live worker other than ``slot``'s holds; None: no other."""
        mine = slot % self.SLOTS
        now = time.monotonic_ns()
        cells = self._cells
        fewest = None
        for other in range(self.SLOTS):
            base = other * 3
            if other == mine or not cells[base] or now - cells[base + 2] > self.STALE_NS:
                continue
            count = cells[base + 1]
            if fewest is None or count < fewest:
                fewest = count
        return fewest


CONNECTIONS = ConnectionTable()
