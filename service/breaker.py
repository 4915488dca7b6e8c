"""A circuit breaker, so that a dead Redis is not waited for on every request.

    breaker = CircuitBreaker(failures=3, reset_seconds=5.0)
    if breaker.allow():
        try:
            call_redis()
            breaker.success()
        except ConnectionError:
            breaker.failure()

Closed: calls go through. After `failures` consecutive failures it opens and
refuses calls for `reset_seconds`; then it lets one trial call through
(half-open): success closes it, failure opens it again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


class CircuitBreaker:
    def __init__(
        self,
        failures: int = 3,
        reset_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[str], None] | None = None,
    ) -> None:
        self.failures = failures
        self.reset_seconds = reset_seconds
        self.clock = clock
        self.on_change = on_change
        self.state = CLOSED
        self._count = 0
        self._opened_at = 0.0
        self._trial = False
        self._lock = threading.Lock()

    def _set(self, state: str) -> None:
        if state != self.state:
            self.state = state
            if self.on_change is not None:
                self.on_change(state)

    def allow(self) -> bool:
        """Whether a call may go to Redis now."""
        if self.state == CLOSED:
            return True
        with self._lock:
            if self.state == OPEN and self.clock() - self._opened_at >= self.reset_seconds:
                self._set(HALF_OPEN)
                self._trial = False
            if self.state == HALF_OPEN and not self._trial:
                self._trial = True
                return True
            return False

    def success(self) -> None:
        if self.state == CLOSED and self._count == 0:
            return
        with self._lock:
            self._count = 0
            self._set(CLOSED)

    def failure(self) -> None:
        with self._lock:
            self._count += 1
            if self.state == HALF_OPEN or self._count >= self.failures:
                self._opened_at = self.clock()
                self._set(OPEN)
