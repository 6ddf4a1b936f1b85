"""Injected faults and the usage scale: set at start, replaced at run time (``POST /_sandbox/faults``).

Faults are counter-based, never random: with ``throttle_every: N`` every N-th Graph request
(counted since the fault set was last replaced) answers a throttle error, rotating codes 4, 17,
32 and 613; with ``server_error_every: M`` every M-th answers a 500 JSON, 502 HTML or 503 HTML
error in turn. A throttle wins when both fall on the same request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class FaultSet:
    """Injected faults and the usage scale; every field can be set at start and replaced at run time."""

    throttle_every: int = 0
    """Every N-th Graph request answers a throttle error (0: never)."""
    server_error_every: int = 0
    """Every M-th Graph request answers a 5xx error (0: never)."""
    expired_tokens: tuple[str, ...] = ()
    """Tokens (or account names) that get the expired-session error 190/463."""
    media_expired: bool = False
    """When True every media URL answers 403."""
    unlisted_ids: tuple[str, ...] = ()
    """Post and conversation ids the listings (feed, published_posts, conversations) leave out
    while lookups by id still find them, as Meta's ranked and capped feed does."""
    usage_capacity: int = 1000
    """Graph requests within the usage window that read as 100 percent in the usage headers."""
    usage_window_seconds: float = 60.0
    """Length of the sliding window (real time) the usage headers are computed over."""
    instagram_readable_messages: int = 20
    """How many of the newest messages of an Instagram conversation the platform serves details
    for (Instagram: 20); lower it to meet the limit in a small world."""
    linkedin_daily_limit: int = 0
    """LinkedIn: requests per member and UTC day (sandbox clock) before every further request
    answers 429 without rate-limit headers until midnight UTC (0: no limit)."""
    linkedin_retired_before: str = ""
    """LinkedIn: versions (``YYYYMM``) older than this answer 426; empty: older than 12 months
    before the sandbox clock's month."""
    youtube_daily_quota: int = 10_000
    """YouTube: quota units per Pacific day (sandbox clock) before every further request answers
    403 ``quotaExceeded`` until midnight Pacific (each list request costs 1 unit)."""
    youtube_comments_disabled: tuple[str, ...] = ()
    """YouTube: video ids (or world post ids) whose comment threads answer 403 ``commentsDisabled``."""
    x_rate_limit: int = 0
    """X: requests per user, endpoint and window before 429 until the window resets (0: X's own
    per-endpoint limits, e.g. 900 for timelines, 300 for mentions, search and DM events)."""
    x_rate_window_seconds: float = 900.0
    """X: length of the rate-limit window in real seconds (X: 15 minutes)."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> FaultSet:
        """Return the fault set described by ``data``; raise ValueError naming a bad key or value."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown fault(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        values: dict[str, Any] = {}
        for name in ("throttle_every", "server_error_every", "usage_capacity", "instagram_readable_messages"):
            if name in data:
                values[name] = _non_negative_int(name, data[name])
        if "usage_window_seconds" in data:
            values["usage_window_seconds"] = float(data["usage_window_seconds"])
        if "media_expired" in data:
            if not isinstance(data["media_expired"], bool):
                raise ValueError("media_expired must be true or false")
            values["media_expired"] = data["media_expired"]
        for name in ("expired_tokens", "unlisted_ids"):
            if name in data:
                values[name] = _strings(name, data[name])
        if "linkedin_daily_limit" in data:
            values["linkedin_daily_limit"] = _non_negative_int(
                "linkedin_daily_limit", data["linkedin_daily_limit"]
            )
        if "linkedin_retired_before" in data:
            values["linkedin_retired_before"] = _yyyymm(
                "linkedin_retired_before", data["linkedin_retired_before"]
            )
        if "youtube_daily_quota" in data:
            values["youtube_daily_quota"] = _non_negative_int("youtube_daily_quota", data["youtube_daily_quota"])
        if "youtube_comments_disabled" in data:
            values["youtube_comments_disabled"] = _strings(
                "youtube_comments_disabled", data["youtube_comments_disabled"]
            )
        if "x_rate_limit" in data:
            values["x_rate_limit"] = _non_negative_int("x_rate_limit", data["x_rate_limit"])
        if "x_rate_window_seconds" in data:
            values["x_rate_window_seconds"] = float(data["x_rate_window_seconds"])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Return the fault set as JSON-ready data."""
        data = asdict(self)
        data["expired_tokens"] = list(self.expired_tokens)
        data["unlisted_ids"] = list(self.unlisted_ids)
        data["youtube_comments_disabled"] = list(self.youtube_comments_disabled)
        return data


def _non_negative_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, not {value!r}")
    return value


def _strings(name: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{name} must be a list of strings")
    return tuple(value)


def _yyyymm(name: str, value: object) -> str:
    if not isinstance(value, str) or (value and not (len(value) == 6 and value.isdigit())):
        raise ValueError(f"{name} must be a version YYYYMM (e.g. 202510) or empty, not {value!r}")
    return value
