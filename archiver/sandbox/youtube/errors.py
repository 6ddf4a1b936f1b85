"""YouTube Data API errors on the wire: Google's ``{"error": {"code", "message", "errors": [...]}}``.

Each error names a ``domain`` and a ``reason`` (``youtube.quota``/``quotaExceeded``,
``usageLimits``/``rateLimitExceeded``, ``youtube.commentThread``/``commentsDisabled``,
``youtube.video``/``videoNotFound``, ``global``/``authError`` …), as googleapis.com answers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from archiver.sandbox.response import Response

JSON_HEADERS = (
    ("Content-Type", "application/json; charset=UTF-8"),
    ("Vary", "Origin, X-Origin, Referer"),
    ("Server", "scaffolding on HTTPServer2"),
    ("Cache-Control", "private"),
)


def youtube_json(payload: object) -> bytes:
    """Return ``payload`` as googleapis.com writes it: indented by two spaces, UTF-8."""
    return json.dumps(payload, ensure_ascii=False, indent=2).encode("utf-8")


@dataclass
class YouTubeError(Exception):
    """An error answer: HTTP status, Google status name, domain, reason and message."""

    status: int
    reason: str
    message: str
    domain: str = "global"
    status_name: str | None = None
    location: str | None = None

    def response(self, extra: tuple[tuple[str, str], ...] = ()) -> Response:
        """Return the error as an HTTP answer in Google's error envelope."""
        detail: dict[str, str] = {"message": self.message, "domain": self.domain, "reason": self.reason}
        if self.location:
            detail.update(location=self.location, locationType="parameter")
        error: dict[str, object] = {"code": self.status, "message": self.message, "errors": [detail]}
        if self.status_name:
            error["status"] = self.status_name
        headers = JSON_HEADERS + extra
        if self.status == 401:
            headers += (("WWW-Authenticate", 'Bearer realm="https://accounts.google.com/"'),)
        return Response(self.status, headers, youtube_json({"error": error}))


def missing_token() -> YouTubeError:
    """Return the 401 for a request without credentials."""
    return YouTubeError(
        401,
        "required",
        "Request is missing required authentication credential. Expected OAuth 2 access token, login "
        "cookie or other valid authentication credential.",
        status_name="UNAUTHENTICATED",
    )


def invalid_token() -> YouTubeError:
    """Return the 401 for an unknown, expired or revoked access token."""
    return YouTubeError(
        401,
        "authError",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
        "other valid authentication credential.",
        status_name="UNAUTHENTICATED",
    )


def quota_exceeded() -> YouTubeError:
    """Return the 403 for a project whose daily quota is used up (until midnight Pacific)."""
    return YouTubeError(
        403,
        "quotaExceeded",
        'The request cannot be completed because you have exceeded your <a href="/youtube/v3/'
        'getting-started#quota">quota</a>.',
        domain="youtube.quota",
    )


def rate_limited(nth: int) -> YouTubeError:
    """Return the ``nth`` rate-limit answer: ``rateLimitExceeded`` and ``userRateLimitExceeded`` in turn."""
    reason = "rateLimitExceeded" if nth % 2 == 0 else "userRateLimitExceeded"
    message = "Rate Limit Exceeded" if nth % 2 == 0 else "User Rate Limit Exceeded"
    return YouTubeError(403, reason, message, domain="usageLimits")


def server_error(nth: int) -> YouTubeError:
    """Return the ``nth`` server error: a 500 and a 503 ``backendError`` in turn."""
    if nth % 2 == 0:
        return YouTubeError(500, "backendError", "Internal error encountered.", status_name="INTERNAL")
    return YouTubeError(
        503, "backendError", "The service is currently unavailable.", status_name="UNAVAILABLE"
    )


def bad_parameter(name: str, message: str, reason: str = "invalidParameter") -> YouTubeError:
    """Return a 400 naming the offending parameter."""
    return YouTubeError(400, reason, message, domain="youtube.parameter", location=name)


def not_found(resource: str, parameter: str) -> YouTubeError:
    """Return the 404 for a video, comment or playlist that does not exist (``videoNotFound`` …)."""
    return YouTubeError(
        404,
        f"{resource}NotFound",
        f"The {resource} identified by the <code>{parameter}</code> parameter could not be found.",
        domain=f"youtube.{resource}",
        location=parameter,
    )


def comments_disabled() -> YouTubeError:
    """Return the 403 for a video whose comments are turned off."""
    return YouTubeError(
        403,
        "commentsDisabled",
        "The video identified by the <code><a href=\"/youtube/v3/docs/commentThreads/list#videoId\">"
        "videoId</a></code> parameter has disabled comments.",
        domain="youtube.commentThread",
        location="videoId",
    )
