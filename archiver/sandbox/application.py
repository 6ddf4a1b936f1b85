"""The sandbox application: everything the sandbox answers, independent of the HTTP plumbing.

:class:`SandboxApp` routes a request to the admin endpoints (``/_sandbox/...``), the signed
media (``/_media/...``) or the Graph API. For a Graph request it counts the request, applies
the fault set, authenticates the token and adds the usage headers; every answer is counted for
``/_sandbox/stats``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from archiver.sandbox import graph
from archiver.sandbox.clock import SandboxClock
from archiver.sandbox.faults import FaultSet
from archiver.sandbox.graph import VERSION_PREFIX, GraphApi, GraphError, GraphRequest
from archiver.sandbox.graph.responses import (
    _graph_error,
    _graph_headers,
    _server_error,
    _throttle,
    graph_json,
)
from archiver.sandbox.graph.usage import _Usage, usage_headers
from archiver.sandbox.media import MediaSigner, media_bytes
from archiver.sandbox.platform_api import ApiCall, PlatformApi, load_platform_apis, route
from archiver.sandbox.response import Response
from archiver.sandbox.world import SandboxAccount, World, to_unix


def _json_response(status: int, payload: object, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    """Return a plain JSON answer (admin endpoints: UTF-8, readable)."""
    body = json.dumps(payload, ensure_ascii=False, indent=1).encode()
    return Response(status, (("Content-Type", "application/json; charset=UTF-8"), *headers), body)


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
        self.platforms = load_platform_apis(world, self.signer)
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
        elif routed := route(self.platforms, parts.path):
            api, inner = routed
            params = dict(parse_qsl(parts.query, keep_blank_values=True))
            response = self._platform(api, method, inner, params, headers, host)
            self.stats.count(f"{api.platform}:{path_kind(inner)}", response.status)
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
                inner,
                params,
                token or "",
                f"http://{host}",
                version,
                to_unix(self.clock.now()),
                frozenset(faults.unlisted_ids),
                readable_messages=faults.instagram_readable_messages,
            )
            response = Response(
                200, _graph_headers(lifetime) + extra, graph_json(self.graph.handle(request, account))
            )
        except GraphError as error:
            response = _graph_error(error, lifetime, extra)
        self.stats.count(kind, response.status)
        return response

    def _platform(
        self,
        api: PlatformApi,
        method: str,
        path: str,
        params: dict[str, str],
        headers: Mapping[str, str],
        host: str,
    ) -> Response:
        """Count the request, decide which fault is due and let the platform answer it."""
        token = _bearer(headers) or params.get("access_token") or params.get("key")
        count, lifetime, faults = self._next_count()
        due, nth = None, 0
        if faults.throttle_every and count % faults.throttle_every == 0:
            due, nth = "throttle", count // faults.throttle_every - 1
        elif faults.server_error_every and count % faults.server_error_every == 0:
            due, nth = "server_error", count // faults.server_error_every - 1
        call = ApiCall(
            method=method,
            path=path,
            params=params,
            headers=headers,
            base_url=f"http://{host}",
            token=token,
            account=self.world.account_for_token(token) if token else None,
            now=to_unix(self.clock.now()),
            faults=faults,
            due=due,
            nth=nth,
            lifetime=lifetime,
        )
        return api.handle(call)

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
