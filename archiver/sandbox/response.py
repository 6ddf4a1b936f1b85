"""One HTTP answer (status, headers, body), as the sandbox application and each wire format build it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Response:
    """One HTTP answer: status, headers and body bytes."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
