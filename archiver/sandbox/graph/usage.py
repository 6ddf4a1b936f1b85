"""Meta's usage headers: ``X-App-Usage`` and ``X-Business-Use-Case-Usage``.

Graph requests are counted in a sliding window of real time, per app and per page; the
percentages are those counts against the fault set's ``usage_capacity``, so a client sees
itself approach the rate limit as it would against graph.facebook.com.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque

from archiver.sandbox.faults import FaultSet


class _Usage:
    """Sliding-window request counts behind the X-App-Usage and X-Business-Use-Case-Usage headers."""

    def __init__(self) -> None:
        self._app: deque[float] = deque()
        self._pages: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def record(self, page_id: str | None, faults: FaultSet) -> tuple[int, int]:
        """Count one request now; return (app percent, page percent)."""
        now = time.monotonic()
        with self._lock:
            windows = [self._app] + ([self._pages.setdefault(page_id, deque())] if page_id else [])
            for window in windows:
                window.append(now)
                while window and window[0] < now - faults.usage_window_seconds:
                    window.popleft()
            capacity = max(1, faults.usage_capacity)
            app = min(100, math.ceil(len(self._app) * 100 / capacity))
            page = min(100, math.ceil(len(windows[-1]) * 100 / capacity)) if page_id else 0
        return app, page


def usage_headers(
    page_id: str | None, app: int, page: int, saturated: bool = False
) -> tuple[tuple[str, str], ...]:
    """Return the usage headers for the given percentages (page header only with a known page).

    Time and CPU shares are lower than the call count, as in real traffic, except when
    ``saturated`` (a throttle answer), where every value reads 100.
    """
    if saturated:
        app = page = 100

    def share(value: int, numerator: int, denominator: int) -> int:
        return value if saturated else value * numerator // denominator

    app_usage = {"call_count": app, "total_time": share(app, 3, 4), "total_cputime": share(app, 1, 2)}
    headers = [("X-App-Usage", json.dumps(app_usage, separators=(",", ":")))]
    if page_id:
        buc = {
            page_id: [
                {
                    "type": "pages",
                    "call_count": page,
                    "total_cputime": share(page, 1, 2),
                    "total_time": share(page, 3, 4),
                    "estimated_time_to_regain_access": 0,
                }
            ]
        }
        headers.append(("X-Business-Use-Case-Usage", json.dumps(buc, separators=(",", ":"))))
    return tuple(headers)
