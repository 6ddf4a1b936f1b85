"""The YouTube Data API v3 dialect: OAuth bearer token, Google's error envelope, the daily quota.

Errors come as ``{"error": {"code", "message", "errors": [{"domain", "reason", "message"}]}}``;
the ``reason`` decides: ``quotaExceeded`` (the project's daily quota is used up until midnight
Pacific: the run fails, resumable, no retry today), ``rateLimitExceeded`` (back off),
``commentsDisabled`` (a gap for that video, not a failure), ``videoNotFound``/``commentNotFound``
(gone), ``authError`` or HTTP 401 (renew the token).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from archiver.dialect import ApiDialect, ApiFailure, loads, retry_after_seconds
from archiver.errors import ArchiverError, ObjectGoneError, PlatformError, ServerError, ThrottledError

PACIFIC = ZoneInfo("America/Los_Angeles")
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
THROTTLE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
GONE_REASONS = frozenset({"videoNotFound", "commentNotFound", "channelNotFound", "playlistNotFound"})
TRANSIENT_REASONS = frozenset({"backendError", "internalError"})


class QuotaExceededError(PlatformError):
    """The Google Cloud project's daily YouTube quota is used up; it resets at midnight Pacific."""


class CommentsDisabledError(PlatformError):
    """Comments are turned off on a video: its comments cannot be listed (a gap, not a failure)."""


class YouTubeDialect(ApiDialect):
    """Google's YouTube Data API v3."""

    name = "youtube"

    def understands(self, failure: ApiFailure) -> bool:
        """Return True when the body is Google's error envelope."""
        return bool(google_error(failure.body))

    def error(self, failure: ApiFailure) -> ArchiverError:
        """Return the typed error for a Google error envelope (or a bare 401/429)."""
        error = google_error(failure.body)
        reasons = error_reasons(error)
        message = str(error.get("message") or failure.body[:200].decode("utf-8", "replace"))
        where = f"{failure.where}: HTTP {failure.status} {'/'.join(sorted(reasons)) or 'error'}: {message}"
        if failure.status == 401 or "authError" in reasons:
            return failure.token_rejected(f"HTTP {failure.status}: {message}")
        if reasons & QUOTA_REASONS:
            return QuotaExceededError(
                f"{where}. The Google Cloud project's daily YouTube Data API quota is used up; it resets "
                f"at midnight Pacific time ({quota_reset_text(datetime.now(UTC))}). Not retried today: "
                "this run fails and the next run (or `archiver run --date DAY --account NAME` after the "
                "reset) captures the day in full. If it recurs, ask Google for a higher quota.",
                resumable="yes",
            )
        if reasons & THROTTLE_REASONS or failure.status == 429:
            return ThrottledError(f"{where} (throttled)", retry_after=retry_after_seconds(failure.headers))
        if reasons & TRANSIENT_REASONS:
            return ServerError(f"{where} (transient)")
        if "commentsDisabled" in reasons:
            return CommentsDisabledError(f"{where} (comments are turned off on this video)")
        if reasons & GONE_REASONS or failure.status == 404:
            return ObjectGoneError(f"{where} (not found)")
        if failure.status == 403:
            return PlatformError(
                f"{where}. Check that the token was granted the youtube.force-ssl scope by the channel's "
                "owner (held and spam comments are listed only to the owner)."
            )
        return PlatformError(f"{where}. Check the account's channel id and the request.")


YOUTUBE = YouTubeDialect()


def google_error(body: bytes) -> dict[str, Any]:
    """Return the ``error`` object of a Google error body, or {} when there is none."""
    decoded = loads(body)
    error = decoded.get("error") if isinstance(decoded, dict) else None
    return error if isinstance(error, dict) else {}


def error_reasons(error: dict[str, Any]) -> set[str]:
    """Return the ``reason`` values of a Google error object's ``errors`` list."""
    details = error.get("errors")
    listed = details if isinstance(details, list) else []
    return {str(detail["reason"]) for detail in listed if isinstance(detail, dict) and detail.get("reason")}


def next_quota_reset(now: datetime) -> datetime:
    """Return the next midnight Pacific after ``now`` (aware), when the daily quota resets."""
    local = now.astimezone(PACIFIC)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=PACIFIC)
    return midnight.astimezone(UTC)


def quota_reset_text(now: datetime) -> str:
    """Return when the quota resets, e.g. ``2026-11-04 08:00 UTC, in 5.2 hours``."""
    reset = next_quota_reset(now)
    hours = (reset - now).total_seconds() / 3600
    return f"{reset:%Y-%m-%d %H:%M} UTC, in {hours:.1f} hours"
