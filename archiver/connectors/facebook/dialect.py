"""The Graph API's dialect (Facebook Pages, Messenger, Instagram via Graph).

The token travels as the ``access_token`` query parameter (``paging.next`` URLs carry it);
errors come in the ``{"error": {"code", "error_subcode", "message"}}`` envelope; the usage
headers (``X-App-Usage``, ``X-Business-Use-Case-Usage``) say how close the app is to its limit
and how long until access is regained.
"""

from __future__ import annotations

from typing import Any

import httpx

from archiver.config import Settings
from archiver.dialect import ApiDialect, ApiFailure, loads
from archiver.errors import ArchiverError, ObjectGoneError, PlatformError, ServerError, ThrottledError

THROTTLE_CODES = frozenset({4, 17, 32, 341, 368, 613, 80001, 80002, 80006})
TRANSIENT_CODES = frozenset({1, 2})


class GraphDialect(ApiDialect):
    """Meta's Graph API."""

    name = "graph"
    token_parameter = "access_token"

    def understands(self, failure: ApiFailure) -> bool:
        """Return True when the body is a Graph error envelope."""
        return bool(graph_error(failure.body))

    def error(self, failure: ApiFailure) -> ArchiverError:
        """Return the typed error for a Graph error envelope (or a bare 401/429)."""
        error = graph_error(failure.body)
        code = int(error.get("code") or 0)
        subcode = int(error.get("error_subcode") or 0)
        message = str(error.get("message") or failure.body[:200].decode("utf-8", "replace"))
        where = f"{failure.where}: HTTP {failure.status}, code {code}/{subcode}: {message}"
        if code == 190 or failure.status == 401:
            return failure.token_rejected(f"HTTP {failure.status}, code {code}/{subcode}: {message}")
        if code in THROTTLE_CODES or failure.status == 429:
            return ThrottledError(f"{where} (throttled)", retry_after=_regain_seconds(failure.headers))
        if code in TRANSIENT_CODES or error.get("is_transient"):
            return ServerError(f"{where} (transient)")
        if code == 100 and subcode == 33:
            return ObjectGoneError(f"{where} (object deleted or not visible)")
        return PlatformError(f"{where}. Check the account's permissions and the request.")

    def pause(self, headers: httpx.Headers, settings: Settings) -> float:
        """Return a pause growing from 0 at the pacing threshold to the maximum at 100 % usage."""
        usage = _max_usage(headers)
        threshold = settings.pace_threshold
        if usage <= threshold:
            return 0.0
        share = min(1.0, (usage - threshold) / max(1, 100 - threshold))
        return share * settings.pace_max_sleep


GRAPH = GraphDialect()


def graph_error(body: bytes) -> dict[str, Any]:
    """Return the ``error`` object of a Graph error body, or {} when there is none."""
    decoded = loads(body)
    error = decoded.get("error") if isinstance(decoded, dict) else None
    return error if isinstance(error, dict) else {}


def _usage_values(headers: httpx.Headers) -> list[dict[str, Any]]:
    values: list[dict[str, Any]] = []
    for name in ("x-app-usage", "x-page-usage", "x-ad-account-usage"):
        if name in headers:
            decoded = loads(headers[name])
            if isinstance(decoded, dict):
                values.append(decoded)
    business = loads(headers.get("x-business-use-case-usage", ""))
    if isinstance(business, dict):
        for entries in business.values():
            values.extend(entry for entry in entries or [] if isinstance(entry, dict))
    return values


def _max_usage(headers: httpx.Headers) -> float:
    percents = [
        float(value)
        for usage in _usage_values(headers)
        for name, value in usage.items()
        if name in ("call_count", "total_time", "total_cputime") and isinstance(value, int | float)
    ]
    return max(percents, default=0.0)


def _regain_seconds(headers: httpx.Headers) -> float:
    minutes = [float(usage.get("estimated_time_to_regain_access") or 0) for usage in _usage_values(headers)]
    return max(minutes, default=0.0) * 60.0
