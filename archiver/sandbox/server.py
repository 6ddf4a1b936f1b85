"""The sandbox HTTP server: Graph API, signed media, admin endpoints, faults and the clock.

``make_server`` returns a ``ThreadingHTTPServer`` bound to a loopback address. Paths:

* ``/_sandbox/...``: admin (no auth, JSON): ``health``, ``clock`` (GET, POST ``{"now": ISO}``
  or ``{"now": null}`` for real time), ``faults`` (GET, POST replaces the set and restarts the
  request counter), ``accounts`` (with tokens) and ``stats``.
* ``/_media/{media_id}.{ext}?oe=&oh=``: media bytes; no token; 403 once the sandbox clock is
  past ``oe`` or the signature is wrong.
* anything else: the Graph API (``/v26.0/...``, any ``/vNN.N/`` or none), see ``graph/``.

Faults are counter-based, never random (see ``faults.py``). This module is only the HTTP
plumbing; :class:`~archiver.sandbox.application.SandboxApp` decides every answer.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from archiver.sandbox.application import SandboxApp
from archiver.sandbox.world import World


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
