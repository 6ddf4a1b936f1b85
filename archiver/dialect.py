"""How one platform's API authenticates, signals errors and asks to slow down.

The HTTP layer (:mod:`archiver.http`) is the same for every platform; what differs is small and
lives in an :class:`ApiDialect`, one per platform (each connector package has a ``dialect``
module). The base class is a sensible default for bearer-token JSON APIs: the token goes in an
``Authorization`` header, 401 means the token is bad, 429 means slow down (honouring
``Retry-After``), other 4xx are errors retrying will not fix.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from archiver.config import Settings
from archiver.errors import ArchiverError, ObjectGoneError, PlatformError, ThrottledError, TokenError


@dataclass(frozen=True)
class ApiFailure:
    """A 4xx answer from a platform API, with what the dialect needs to explain it."""

    status: int
    body: bytes
    headers: httpx.Headers
    where: str
    """Account label and request URL (token removed), to start the error message with."""
    token_env: str
    """The environment variable holding the account's token, for "renew it" messages."""

    def json(self) -> Any:
        """Return the body decoded as JSON, or None when it is not JSON."""
        return loads(self.body)

    def token_rejected(self, detail: str) -> TokenError:
        """Return the error saying the token must be renewed (never retried)."""
        return TokenError(
            f"{self.where}: {detail}. The access token was rejected; renew it and store the new token "
            f"in the environment variable {self.token_env} (no retry until then).",
            token_env=self.token_env,
        )


class ApiDialect:
    """A bearer-token JSON API; subclasses override what their platform does differently."""

    name = "generic"
    token_parameter: str | None = None
    """Query parameter that carries the token (Graph: ``access_token``); None: a bearer header."""

    def authorise(self, token: str, url: str, params: dict[str, str], headers: dict[str, str]) -> None:
        """Add the token (and any headers the API requires) to an outgoing request."""
        if self.token_parameter is None:
            headers["Authorization"] = f"Bearer {token}"
        elif f"{self.token_parameter}=" not in url:  # a paging URL may carry it already
            params[self.token_parameter] = token

    def error(self, failure: ApiFailure) -> ArchiverError:
        """Return the typed error for a 4xx answer; ThrottledError carries ``retry_after`` seconds."""
        if failure.status == 401:
            return failure.token_rejected(f"HTTP 401 {_message(failure)}")
        if failure.status == 429:
            return ThrottledError(
                f"{failure.where}: HTTP 429 {_message(failure)} (throttled)",
                retry_after=retry_after_seconds(failure.headers),
            )
        if failure.status in (404, 410):
            return ObjectGoneError(f"{failure.where}: HTTP {failure.status} {_message(failure)} (not found)")
        return PlatformError(
            f"{failure.where}: HTTP {failure.status} {_message(failure)}. "
            "Check the account's permissions and the request."
        )

    def pause(self, headers: httpx.Headers, settings: Settings) -> float:
        """Return how many seconds to wait before the next request (0 when there is room)."""
        return 0.0

    def understands(self, failure: ApiFailure) -> bool:
        """Return True when a 4xx body is this platform's error envelope (else: wrong base URL?)."""
        return isinstance(failure.json(), dict)


def retry_after_seconds(headers: httpx.Headers) -> float:
    """Return the ``Retry-After`` header's seconds, or 0 when absent or not a number."""
    try:
        return max(0.0, float(headers.get("retry-after", "0")))
    except ValueError:
        return 0.0


def loads(data: bytes | str) -> Any:
    """Return ``data`` decoded as JSON, or None when it is empty or not JSON."""
    try:
        return json.loads(data) if data else None
    except ValueError:
        return None


def _message(failure: ApiFailure) -> str:
    decoded = failure.json()
    if isinstance(decoded, dict):
        for key in ("message", "detail", "title", "error_description"):
            if isinstance(decoded.get(key), str):
                return str(decoded[key])
    return failure.body[:200].decode("utf-8", "replace")
