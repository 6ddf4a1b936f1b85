"""The sandbox HTTP server: Graph API, signed media, admin endpoints, faults and the clock.

``make_server`` returns a ``ThreadingHTTPServer`` bound to a loopback address. Paths:

* ``/_sandbox/...``: admin (no auth, JSON): ``health``, ``clock`` (GET, POST ``{"now": ISO}``
  or ``{"now": null}`` for real time), ``faults`` (GET, POST replaces the set and restarts the
  request counter), ``accounts`` (with tokens) and ``stats``.
* ``/_media/{media_id}.{ext}?oe=&oh=``: media bytes; no token; 403 once the sandbox clock is
  past ``oe`` or the signature is wrong.
* anything else: the Graph API (``/v26.0/...``, any ``/vNN.N/`` or none), see ``graph.py``.

Faults are counter-based, never random: with ``throttle_every: N`` every N-th Graph request
(counted since the fault set was last replaced) answers a throttle error, rotating codes 4, 17,
32 and 613; with ``server_error_every: M`` every M-th answers a 500 JSON, 502 HTML or 503 HTML
error in turn. A throttle wins when both fall on the same request.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import math
import re
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from archiver.sandbox import graph
from archiver.sandbox.graph import GraphApi, GraphError, GraphRequest
from archiver.sandbox.media import MediaSigner, media_bytes
from archiver.sandbox.world import SandboxAccount, World, to_unix

VERSION_PREFIX = re.compile(r"^/(v\d+\.\d+)(?=/|$)")
THROTTLE_CODES = (4, 17, 32, 613)
THROTTLE_MESSAGES = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
}


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
    usage_capacity: int = 1000
    """Graph requests within the usage window that read as 100 percent in the usage headers."""
    usage_window_seconds: float = 60.0
    """Length of the sliding window (real time) the usage headers are computed over."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> FaultSet:
        """Return the fault set described by ``data``; raise ValueError naming a bad key or value."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown fault(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        values: dict[str, Any] = {}
        for name in ("throttle_every", "server_error_every", "usage_capacity"):
            if name in data:
                values[name] = _non_negative_int(name, data[name])
        if "usage_window_seconds" in data:
            values["usage_window_seconds"] = float(data["usage_window_seconds"])
        if "media_expired" in data:
            if not isinstance(data["media_expired"], bool):
                raise ValueError("media_expired must be true or false")
            values["media_expired"] = data["media_expired"]
        if "expired_tokens" in data:
            tokens = data["expired_tokens"]
            if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
                raise ValueError("expired_tokens must be a list of strings")
            values["expired_tokens"] = tuple(tokens)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Return the fault set as JSON-ready data."""
        data = asdict(self)
        data["expired_tokens"] = list(self.expired_tokens)
        return data


def _non_negative_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, not {value!r}")
    return value


@dataclass(frozen=True)
class Response:
    """One HTTP answer: status, headers and body bytes."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


def _json_response(status: int, payload: object, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    """Return a plain JSON answer (admin endpoints: UTF-8, readable)."""
    body = json.dumps(payload, ensure_ascii=False, indent=1).encode()
    return Response(status, (("Content-Type", "application/json; charset=UTF-8"), *headers), body)


def graph_json(payload: object) -> bytes:
    """Return ``payload`` serialised as graph.facebook.com does: compact, ``\\uXXXX`` escapes, ``\\/``."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode()


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


class _Stats:
    """Request counts by path kind and by HTTP status."""

    def __init__(self) -> None:
        self.by_kind: Counter[str] = Counter()
        self.by_status: Counter[str] = Counter()
        self._lock = threading.Lock()

    def count(self, kind: str, status: int) -> None:
        """Count one answered request."""
        with self._lock:
            self.by_kind[kind] += 1
            self.by_status[str(status)] += 1

    def snapshot(self) -> dict[str, Any]:
        """Return the counts as JSON-ready data."""
        with self._lock:
            return {
                "total": sum(self.by_status.values()),
                "by_kind": dict(self.by_kind),
                "by_status": dict(self.by_status),
            }


def path_kind(path: str) -> str:
    """Return a short name for the kind of Graph path: the edge name, ``object`` or ``root``."""
    segments = [part for part in path.split("/") if part]
    if not segments:
        return "root"
    return segments[1] if len(segments) == 2 else "object"


class SandboxApp:
    """Everything the sandbox answers, independent of the HTTP plumbing."""

    def __init__(
        self, world: World, faults: Mapping[str, Any] | None = None, now: datetime | None = None
    ) -> None:
        self.world = world
        self.clock = SandboxClock(now)
        self.signer = MediaSigner(hashlib.sha256(f"media-secret:{world.config.seed}".encode()).digest())
        self.graph = GraphApi(world, self.signer)
        self.stats = _Stats()
        self._usage = _Usage()
        self._faults = FaultSet.from_dict(faults)
        self._counter = 0
        self._lifetime = 0
        self._counter_lock = threading.Lock()

    @property
    def faults(self) -> FaultSet:
        """Return the current fault set."""
        return self._faults

    def set_faults(self, faults: FaultSet) -> None:
        """Replace the fault set and restart the Graph request counter."""
        with self._counter_lock:
            self._faults = faults
            self._counter = 0

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes, host: str
    ) -> Response:
        """Return the answer to one HTTP request."""
        parts = urlsplit(target)
        if parts.path.startswith("/_sandbox/"):
            response = self._admin(method, parts.path, body)
            self.stats.count("admin", response.status)
        elif parts.path.startswith("/_media/"):
            response = self._media(parts.path, dict(parse_qsl(parts.query)))
            self.stats.count("media", response.status)
        else:
            response = self._graph(
                method, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)), headers, host
            )
        return response

    def _admin(self, method: str, path: str, body: bytes) -> Response:
        name = path.removeprefix("/_sandbox/").strip("/")
        try:
            payload = json.loads(body or b"{}") if method == "POST" else None
            if method == "POST" and not isinstance(payload, dict):
                raise ValueError("send a JSON object")
            return self._admin_route(method, name, payload)
        except ValueError as error:
            return _json_response(400, {"error": str(error)})

    def _admin_route(self, method: str, name: str, payload: dict[str, Any] | None) -> Response:
        if (method, name) == ("GET", "health"):
            return _json_response(200, {"ok": True})
        if name == "clock" and method in ("GET", "POST"):
            if payload is not None:
                raw = payload.get("now")
                self.clock.set(None if raw is None else _aware(raw))
            return _json_response(200, {"now": self.clock.now().isoformat(), "frozen": self.clock.frozen})
        if name == "faults" and method in ("GET", "POST"):
            if payload is not None:
                self.set_faults(FaultSet.from_dict(payload))
            return _json_response(200, {"faults": self.faults.to_dict(), "graph_requests": self._counter})
        if (method, name) == ("GET", "accounts"):
            return _json_response(
                200,
                {
                    "organisation": "Exempelby kommun",
                    "accounts": [_account_json(a) for a in self.world.accounts],
                },
            )
        if (method, name) == ("GET", "stats"):
            return _json_response(200, self.stats.snapshot())
        return _json_response(404, {"error": f"no admin endpoint {method} /_sandbox/{name}"})

    def _media(self, path: str, query: Mapping[str, str]) -> Response:
        filename = path.removeprefix("/_media/")
        now = to_unix(self.clock.now())
        valid = self.signer.valid(filename, query.get("oe", ""), query.get("oh", ""), now)
        if self.faults.media_expired or not valid:
            return Response(
                403, (("Content-Type", "text/plain; charset=utf-8"),), b"URL signature expiration"
            )
        media_id, _, extension = filename.partition(".")
        media = self.world.media(media_id)
        if media is None:
            self.world.generate_through(self.clock.now())
            media = self.world.media(media_id)
        if media is None or media.extension != extension:
            return Response(404, (("Content-Type", "text/plain; charset=utf-8"),), b"Not Found")
        headers = (("Content-Type", media.mime), ("Cache-Control", "max-age=1209600, no-transform"))
        return Response(200, headers, media_bytes(media))

    def _next_count(self) -> tuple[int, int, FaultSet]:
        """Count one Graph request; return (count since the faults were set, lifetime count, faults)."""
        with self._counter_lock:
            self._counter += 1
            self._lifetime += 1
            return self._counter, self._lifetime, self._faults

    def _graph(
        self, method: str, path: str, params: dict[str, str], headers: Mapping[str, str], host: str
    ) -> Response:
        match = VERSION_PREFIX.match(path)
        version = match.group(1) if match else graph.DEFAULT_VERSION
        inner = path[match.end() :] if match else path
        token = params.get("access_token") or _bearer(headers)
        account = self.world.account_for_token(token) if token else None
        count, lifetime, faults = self._next_count()
        page_id = account.page_id if account else None
        usage = usage_headers(page_id, *self._usage.record(page_id, faults))
        kind = path_kind(inner)
        fault = self._fault(count, lifetime, faults, page_id, usage)
        if fault is not None:
            self.stats.count(kind, fault.status)
            return fault
        extra = (*usage, ("facebook-api-version", version))
        try:
            if method != "GET":
                raise GraphError(
                    400, 100, f"(#100) Unsupported {method.lower()} request.", "GraphMethodException"
                )
            account = self._authenticate(token, account, faults)
            request = GraphRequest(
                inner, params, token or "", f"http://{host}", version, to_unix(self.clock.now())
            )
            response = Response(
                200, _graph_headers(lifetime) + extra, graph_json(self.graph.handle(request, account))
            )
        except GraphError as error:
            response = _graph_error(error, lifetime, extra)
        self.stats.count(kind, response.status)
        return response

    def _authenticate(
        self, token: str | None, account: SandboxAccount | None, faults: FaultSet
    ) -> SandboxAccount:
        if not token:
            raise graph.missing_token()
        if account is None:
            raise graph.invalid_token()
        if token in faults.expired_tokens or account.name in faults.expired_tokens:
            raise graph.expired_token(self.clock.now())
        return account

    def _fault(
        self,
        count: int,
        lifetime: int,
        faults: FaultSet,
        page_id: str | None,
        usage: tuple[tuple[str, str], ...],
    ) -> Response | None:
        """Return the fault answer due at the ``count``-th request, or None when none is due."""
        if faults.throttle_every and count % faults.throttle_every == 0:
            return _throttle(count // faults.throttle_every, lifetime, page_id, usage)
        if faults.server_error_every and count % faults.server_error_every == 0:
            return _server_error(count // faults.server_error_every, lifetime, usage)
        return None


def _aware(raw: object) -> datetime:
    if not isinstance(raw, str):
        raise ValueError("now must be an ISO 8601 string with a UTC offset, or null")
    value = datetime.fromisoformat(raw)
    if value.tzinfo is None:
        raise ValueError(f"now {raw!r} has no UTC offset; write e.g. 2026-11-03T20:00:00+01:00")
    return value


def _bearer(headers: Mapping[str, str]) -> str | None:
    value = headers.get("Authorization") or headers.get("authorization") or ""
    scheme, _, token = value.partition(" ")
    if scheme.lower() not in ("bearer", "oauth"):
        return None
    return token.strip() or None


def _account_json(account: SandboxAccount) -> dict[str, str]:
    return {
        "name": account.name,
        "platform": account.platform,
        "id": account.page_id,
        "display_name": account.display_name,
        "token_env": account.token_env,
        "token": account.token,
    }


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


class _Handler(BaseHTTPRequestHandler):
    """Adapts http.server to SandboxApp."""

    protocol_version = "HTTP/1.1"
    server_version = "sandbox"
    wbufsize = -1
    disable_nagle_algorithm = True
    server: SandboxServer

    def do_GET(self) -> None:
        """Answer a GET request."""
        self._serve("GET")

    def do_POST(self) -> None:
        """Answer a POST request."""
        self._serve("POST")

    def do_DELETE(self) -> None:
        """Answer a DELETE request."""
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        response = self.server.app.handle(method, self.path, dict(self.headers.items()), body, self._host())
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def _host(self) -> str:
        host = self.headers.get("Host")
        if host:
            return host
        address, port = self.server.server_address[:2]
        return f"[{address!s}]:{port}" if ":" in str(address) else f"{address!s}:{port}"

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the sandbox counts requests in /_sandbox/stats instead of logging them."""


class SandboxServer(ThreadingHTTPServer):
    """A threading HTTP server that carries the SandboxApp it serves."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], app: SandboxApp) -> None:
        self.app = app
        super().__init__(address, _Handler)


class _SandboxServer6(SandboxServer):
    address_family = socket.AF_INET6


def is_loopback(host: str) -> bool:
    """Return True if ``host`` is ``localhost`` or a loopback IP address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_server(
    world: World,
    host: str = "127.0.0.1",
    port: int = 0,
    faults: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> SandboxServer:
    """Return a bound (not yet serving) sandbox server; port 0 picks a free port (see ``server_address``).

    Raises ValueError for a host that is not a loopback address or for bad ``faults``.
    """
    if not is_loopback(host):
        raise ValueError(
            f"the sandbox binds only to loopback addresses (127.0.0.1, ::1, localhost), not {host!r}"
        )
    app = SandboxApp(world, faults, now)
    bind_host = "127.0.0.1" if host == "localhost" else host
    server_class = _SandboxServer6 if ":" in bind_host else SandboxServer
    return server_class((bind_host, port), app)
