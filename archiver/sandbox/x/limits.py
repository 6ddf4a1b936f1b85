"""X's per-endpoint rate limits: fixed 15-minute windows per user, signalled on every answer.

Every answer carries ``x-rate-limit-limit``, ``x-rate-limit-remaining`` and
``x-rate-limit-reset`` (unix seconds when the window ends). Windows run on real time, not the
sandbox clock (which tests freeze), so a client that sleeps until the reset gets a new window.
The ``x_rate_limit`` and ``x_rate_window_seconds`` faults shrink them so tests exhaust them fast.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from archiver.sandbox.faults import FaultSet

ENDPOINT_LIMITS = {
    "users": 900,
    "tweets": 900,
    "mentions": 300,
    "search_recent": 300,
    "search_all": 300,
    "lookup": 900,
    "dm_events": 300,
}
"""Requests per user and 15-minute window, by endpoint (the X API's published figures)."""


@dataclass(frozen=True)
class Allowance:
    """What one request may do in its window, and the headers that say so."""

    allowed: bool
    limit: int
    remaining: int
    reset: int

    def headers(self) -> tuple[tuple[str, str], ...]:
        """Return the ``x-rate-limit-*`` headers."""
        return (
            ("x-rate-limit-limit", str(self.limit)),
            ("x-rate-limit-remaining", str(self.remaining)),
            ("x-rate-limit-reset", str(self.reset)),
        )


class RateLimits:
    """Counts requests per (user, endpoint, window) and says whether one more is allowed."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str, float, int], int] = {}
        self._lock = threading.Lock()

    def take(self, user: str, endpoint: str, faults: FaultSet) -> Allowance:
        """Count one request of ``user`` to ``endpoint``; return whether it is within the limit."""
        limit = faults.x_rate_limit or ENDPOINT_LIMITS[endpoint]
        window = max(1.0, faults.x_rate_window_seconds)
        now = time.time()
        number = int(now // window)
        reset = int((number + 1) * window) + (1 if ((number + 1) * window) % 1 else 0)
        key = (user, endpoint, window, number)
        with self._lock:
            used = self._counts.get(key, 0)
            allowed = used < limit
            if allowed:
                used += 1
                self._counts[key] = used
            if len(self._counts) > 10_000:
                self._counts = {k: v for k, v in self._counts.items() if k[3] >= number - 1}
        return Allowance(allowed, limit, max(0, limit - used), reset)

    @staticmethod
    def throttled_now(faults: FaultSet) -> Allowance:
        """Return the allowance of an injected throttle: nothing left, reset one second from now."""
        return Allowance(False, faults.x_rate_limit or 300, 0, int(time.time()) + 1)
