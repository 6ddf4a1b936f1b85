"""The X API v2 dialect: bearer token, v2 problem envelope, rate limits by reset time.

Every answer carries ``x-rate-limit-limit``, ``x-rate-limit-remaining`` and
``x-rate-limit-reset`` (unix seconds). There is no ``Retry-After``: a 429 is waited out until
the reset time plus a little jitter (the HTTP layer fails the run as resumable when that is
past ``ARCHIVER_THROTTLE_MAX_WAIT``), and when a window is used up the next request waits for
its reset if that is within ``ARCHIVER_PACE_MAX_SLEEP``. The server's ``Date`` header is the
clock the reset is measured against, so a skewed local clock does not matter.
"""

from __future__ import annotations

import contextlib
import random
import time
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from archiver.config import Settings
from archiver.dialect import ApiDialect, ApiFailure
from archiver.errors import ArchiverError, PlatformError, ThrottledError

JITTER_SECONDS = 1.0
"""Up to this much is added to a wait until the reset, so parallel clients do not all return at once."""


class XDialect(ApiDialect):
    """X API v2 (OAuth 2.0 user-context bearer token)."""

    name = "x"

    def understands(self, failure: ApiFailure) -> bool:
        """Return True when the body is a v2 problem or a legacy ``errors`` list."""
        body = failure.json()
        return isinstance(body, dict) and bool({"errors", "title", "detail", "type"} & set(body))

    def error(self, failure: ApiFailure) -> ArchiverError:
        """Return the typed error for an X error answer."""
        body = failure.json() if isinstance(failure.json(), dict) else {}
        problem = str(body.get("type") or "")
        message = (
            f"HTTP {failure.status} {problem_text(body) or failure.body[:200].decode('utf-8', 'replace')}"
        )
        if failure.status == 401:
            return failure.token_rejected(
                f"{message}; X OAuth 2.0 user tokens last 2 hours: refresh it (scope offline.access) "
                "with the scopes tweet.read users.read dm.read"
            )
        if failure.status == 429 and problem.endswith("usage-capped"):
            return PlatformError(
                f"{failure.where}: {message}: the project's monthly X usage cap is reached; the next "
                "run after the cap resets (or is raised in the X developer console) catches up.",
                resumable="yes",
            )
        if failure.status == 429:
            wait = seconds_until_reset(failure.headers)
            return ThrottledError(f"{failure.where}: {message} (throttled)", retry_after=wait)
        if failure.status == 403:
            return PlatformError(
                f"{failure.where}: {message}. The token or the app's X API access does not include "
                "this endpoint: grant the scopes tweet.read users.read dm.read, and for replies "
                "older than 7 days full-archive search (/2/tweets/search/all)."
            )
        if failure.status == 404:
            return PlatformError(
                f"{failure.where}: {message}: no such X API endpoint; check the account's API base "
                "URL (api_base, or ARCHIVER_API_BASE__X; X answers missing posts with HTTP 200)."
            )
        return PlatformError(f"{failure.where}: {message}. Check the account's permissions and the request.")

    def pause(self, headers: httpx.Headers, settings: Settings) -> float:
        """Return the wait until the window resets when it is used up and the wait is short enough."""
        if headers.get("x-rate-limit-remaining") != "0":
            return 0.0
        wait = seconds_until_reset(headers)
        return wait if 0 < wait <= settings.pace_max_sleep else 0.0


X_API = XDialect()


def problem_text(body: dict[str, Any]) -> str:
    """Return the readable part of an X error body: title, detail and the first error's message."""
    parts = [str(body[key]) for key in ("title", "detail") if isinstance(body.get(key), str)]
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        parts.append(str(first.get("message") or first.get("detail") or ""))
    return ": ".join(part for part in parts if part)


def seconds_until_reset(headers: httpx.Headers) -> float:
    """Return the seconds from the server's ``Date`` (else the local clock) to
    ``x-rate-limit-reset``, plus jitter; 0 when the header is missing or past."""
    try:
        reset = float(headers.get("x-rate-limit-reset", ""))
    except ValueError:
        return 0.0
    now = time.time()
    date = headers.get("date")
    if date:
        with contextlib.suppress(TypeError, ValueError):
            now = parsedate_to_datetime(date).timestamp()
    if reset <= now:
        return 0.0
    return reset - now + random.uniform(0.0, JITTER_SECONDS)
