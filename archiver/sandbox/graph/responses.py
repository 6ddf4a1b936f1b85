"""Graph answers on the wire: JSON bytes, response headers, and the error, throttle and 5xx answers.

Bodies are encoded as graph.facebook.com encodes them (ASCII with ``\\uXXXX`` escapes and
``\\/``), and every answer carries a deterministic trace id. Throttles rotate codes 4, 17, 32
and 613; server errors rotate a Graph 500, a proxy's 502 page and a 503 page.
"""

from __future__ import annotations

import base64
import hashlib
import json

from archiver.sandbox.graph.errors import GraphError
from archiver.sandbox.graph.usage import usage_headers
from archiver.sandbox.response import Response

THROTTLE_CODES = (4, 17, 32, 613)


THROTTLE_MESSAGES = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
}


def graph_json(payload: object) -> bytes:
    """Return ``payload`` serialised as graph.facebook.com does: compact, ``\\uXXXX`` escapes, ``\\/``."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode()


def fbtrace_id(count: int) -> str:
    """Return a deterministic, real-looking fbtrace id for the ``count``-th Graph request."""
    digest = hashlib.sha256(f"fbtrace:{count}".encode()).digest()
    return "A" + base64.urlsafe_b64encode(digest).decode()[:10]


def _graph_headers(count: int) -> tuple[tuple[str, str], ...]:
    return (
        ("Content-Type", "application/json; charset=UTF-8"),
        ("x-fb-trace-id", fbtrace_id(count)),
        ("Cache-Control", "private, no-cache, no-store, must-revalidate"),
        ("Pragma", "no-cache"),
        ("Expires", "Sat, 01 Jan 2000 00:00:00 GMT"),
        ("Access-Control-Allow-Origin", "*"),
    )


def _graph_error(error: GraphError, count: int, extra: tuple[tuple[str, str], ...]) -> Response:
    headers = _graph_headers(count) + extra
    if error.code == 190:
        headers += (("WWW-Authenticate", f'OAuth "Facebook Platform" "invalid_token" "{error.message}"'),)
    return Response(error.status, headers, graph_json(error.body(fbtrace_id(count))))


def _throttle(nth: int, count: int, page_id: str | None, usage: tuple[tuple[str, str], ...]) -> Response:
    """Return the ``nth`` throttle answer: codes 4, 17, 32, 613 in turn; HTTP 400, or 403 every other round."""
    code = THROTTLE_CODES[(nth - 1) % len(THROTTLE_CODES)]
    status = 400 if code == 613 or (nth - 1) // len(THROTTLE_CODES) % 2 == 0 else 403
    error = GraphError(status, code, THROTTLE_MESSAGES[code], is_transient=True)
    return _graph_error(
        error, count, usage if code == 613 else usage_headers(page_id, 100, 100, saturated=True)
    )


def _server_error(nth: int, count: int, usage: tuple[tuple[str, str], ...]) -> Response:
    """Return the ``nth`` server error: a Graph 500 (code 1), a proxy's 502 page or 503 page in turn."""
    variant = (nth - 1) % 3
    if variant == 0:
        error = GraphError(500, 1, "An unknown error has occurred.", is_transient=True)
        return _graph_error(error, count, usage)
    status, reason = (502, "Bad Gateway") if variant == 1 else (503, "Service Unavailable")
    html = (
        f"<html><head><title>{status} {reason}</title></head><body><h1>{status} {reason}</h1></body></html>"
    )
    return Response(status, (("Content-Type", "text/html; charset=utf-8"),), html.encode())
