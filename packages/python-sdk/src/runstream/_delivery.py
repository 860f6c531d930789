"""The bounded buffer between the training thread and a transport, and the thread that drains it.

The training thread only appends to an in-memory list (no I/O, no encoding); a background thread takes what is
queued every `linger_ms` (sooner when one entity has a full message's worth), hands it to the transport and counts
points until the transport reports them delivered or failed. Nothing is dropped without being counted.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Protocol

log = logging.getLogger("runstream")

EntityKey = tuple[str, str]  # (entity kind, entity id)
Point = dict[str, Any]  # key, value, step, timestampMs — the Avro record, built once in the training thread
Done = Callable[[int, "str | None"], None]  # (points, error or None)


class Transport(Protocol):
    name: str

    def send(self, entity: EntityKey, points: list[Point], done: Done) -> None:
        """Takes ownership of points; calls done(len(points), error) once for them, from any thread."""

    def poll(self, timeout: float) -> None:
        """Serves delivery reports (and waits up to timeout for them)."""

    def close(self, timeout: float) -> None: ...


@dataclass
class DeliveryReport:
    """What happened to the points logged so far. `ok` is False when any point failed or was dropped."""

    transport: str
    logged: int = 0
    delivered: int = 0
    failed: int = 0
    dropped: int = 0
    pending: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.dropped == 0 and self.pending == 0


class BufferFullError(RuntimeError):
    """The buffer stayed full for longer than max_block_s (policy 'block')."""


class DeliveryBuffer:
    def __init__(
        self,
        transport: Transport,
        *,
        max_buffered_points: int,
        when_full: Literal["block", "drop"],
        max_block_s: float | None,
        max_points_per_message: int,
        linger_ms: float,
    ) -> None:
        if when_full not in ("block", "drop"):
            raise ValueError("when_full must be 'block' or 'drop'")
        self.transport = transport
        self._max = max_buffered_points
        self._when_full = when_full
        self._max_block_s = max_block_s
        self._per_message = max_points_per_message
        self._linger_s = linger_ms / 1000
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)
        self._settled = threading.Condition(self._lock)
        self._pending: dict[EntityKey, list[Point]] = {}
        self._outstanding = 0  # queued here or handed to the transport, not yet delivered or failed
        self._logged = 0
        self._delivered = 0
        self._failed = 0
        self._dropped = 0
        self._errors: list[str] = []
        self._logged_errors: set[str] = set()
        self._wake = threading.Event()
        self._flush_requested = False
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="runstream-delivery", daemon=True)
        self._thread.start()

    def add(self, entity: EntityKey, points: list[Point]) -> None:
        """Queues points of one entity; the only work done in the caller's thread."""
        n = len(points)
        with self._lock:
            if self._stopping:
                self._count_drop(n, "points logged after close() were dropped")
                return
            if self._outstanding + n > self._max and not self._make_room(n):
                return
            lst = self._pending.get(entity)
            if lst is None:
                self._pending[entity] = points
                lst = points
            else:
                lst.extend(points)
            self._outstanding += n
            self._logged += n
            if len(lst) >= self._per_message:
                self._wake.set()

    def add_one(self, entity: EntityKey, point: Point) -> None:
        """add() for a single point, without building a list (the common call in a training loop)."""
        with self._lock:
            if self._stopping:
                self._count_drop(1, "points logged after close() were dropped")
                return
            if self._outstanding >= self._max and not self._make_room(1):
                return
            lst = self._pending.get(entity)
            if lst is None:
                lst = self._pending[entity] = []
            lst.append(point)
            self._outstanding += 1
            self._logged += 1
            if len(lst) >= self._per_message:
                self._wake.set()

    def _make_room(self, n: int) -> bool:
        """Called with the lock held and the buffer full: waits (block) or counts the points as dropped (drop)."""
        if n > self._max:
            self._count_drop(n, f"{n} points in one call exceed max_buffered_points ({self._max})")
            return False
        if self._when_full == "drop":
            self._count_drop(n, f"buffer full ({self._max} points waiting for {self.transport.name}): points dropped")
            return False
        self._wake.set()
        # Without a limit the wait is still bounded: the transport settles every point by its delivery timeout.
        deadline = None if self._max_block_s is None else time.monotonic() + self._max_block_s
        while self._outstanding + n > self._max:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise BufferFullError(f"buffer still full after {self._max_block_s} s: {self.transport.name} is not accepting points fast enough")
            self._room.wait(left)
        return True

    def _count_drop(self, n: int, why: str) -> None:
        self._dropped += n
        self._error_once(why)

    def _error_once(self, message: str) -> None:
        if message not in self._logged_errors:
            self._logged_errors.add(message)
            self._errors.append(message)
            log.error("runstream: %s", message)

    def _settle(self, n: int, error: str | None) -> None:
        with self._lock:
            self._outstanding -= n
            if error is None:
                self._delivered += n
            else:
                self._failed += n
                self._error_once(f"failed to deliver metric points via {self.transport.name}: {error}")
            self._room.notify_all()
            self._settled.notify_all()

    def report(self) -> DeliveryReport:
        with self._lock:
            return DeliveryReport(
                transport=self.transport.name,
                logged=self._logged,
                delivered=self._delivered,
                failed=self._failed,
                dropped=self._dropped,
                pending=self._outstanding,
                errors=list(self._errors),
            )

    def flush(self, timeout: float | None) -> DeliveryReport:
        """Sends everything queued and waits until the transport settled it (or timeout seconds passed)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            self._flush_requested = True
        self._wake.set()
        with self._lock:
            while self._outstanding > 0:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                self._settled.wait(0.1 if left is None else min(left, 0.1))
                self._wake.set()
        return self.report()

    def close(self, timeout: float | None) -> DeliveryReport:
        report = self.flush(timeout)
        with self._lock:
            self._stopping = True
        self._wake.set()
        self._thread.join(5)
        self.transport.close(1.0)
        return report

    def _take(self, everything: bool) -> list[tuple[EntityKey, list[Point]]]:
        with self._lock:
            if everything:
                taken = list(self._pending.items())
                self._pending = {}
            else:
                full = [k for k, v in self._pending.items() if len(v) >= self._per_message]
                taken = [(k, self._pending.pop(k)) for k in full]
        return taken

    def _run(self) -> None:
        next_linger = time.monotonic() + self._linger_s
        while True:
            self._wake.wait(min(self._linger_s, 0.05))
            self._wake.clear()
            now = time.monotonic()
            with self._lock:
                everything = now >= next_linger or self._stopping or self._flush_requested
                self._flush_requested = False
            if everything:
                next_linger = now + self._linger_s
            for entity, points in self._take(everything):
                for i in range(0, len(points), self._per_message):
                    chunk = points[i : i + self._per_message]
                    try:
                        self.transport.send(entity, chunk, self._settle)
                    except Exception as err:  # a transport bug must not kill the thread and lose what is queued
                        self._settle(len(chunk), f"{type(err).__name__}: {err}")
            try:
                self.transport.poll(0)
            except Exception as err:
                log.debug("runstream: transport poll failed: %s", err)
            with self._lock:
                if self._stopping and not self._pending:
                    return
