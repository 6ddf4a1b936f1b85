"""The sandbox clock: the instant the world is served as of.

It follows real time, or stands at an instant a test or demo sets (``POST /_sandbox/clock``).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from archiver.sandbox.world import to_unix


class SandboxClock:
    """The instant the world is served as of: real time, or a fixed instant set by a test or demo."""

    def __init__(self, fixed: datetime | None = None) -> None:
        self._fixed = fixed
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Return the sandbox time as an aware UTC datetime."""
        with self._lock:
            fixed = self._fixed
        return fixed.astimezone(UTC) if fixed is not None else datetime.now(UTC)

    @property
    def frozen(self) -> bool:
        """Return True when the clock is fixed rather than following real time."""
        return self._fixed is not None

    def set(self, value: datetime | None) -> None:
        """Fix the clock at ``value`` (aware), or follow real time again when None."""
        if value is not None:
            to_unix(value)
        with self._lock:
            self._fixed = value
