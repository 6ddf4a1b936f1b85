"""The interface each non-Graph wire format implements (X, YouTube, LinkedIn), and their registry.

The sandbox application routes a request whose path starts with a platform's prefix (``/2`` for
X, ``/youtube/v3`` for YouTube, ``/rest`` for LinkedIn) to that platform's :class:`PlatformApi`.
It has already counted the request and decided whether an injected fault is due; the platform
answers in its own wire format: its JSON, its paging, its error envelope and its rate-limit
headers. Facebook and Instagram share the Graph API (``archiver.sandbox.graph``).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from archiver.sandbox.faults import FaultSet
from archiver.sandbox.response import Response

if TYPE_CHECKING:
    from archiver.sandbox.media import MediaSigner
    from archiver.sandbox.world import SandboxAccount, World


@dataclass(frozen=True)
class ApiCall:
    """One request to a platform API, as the application hands it over."""

    method: str
    path: str
    """The path after the platform's prefix, e.g. ``/users/123/tweets``."""
    params: dict[str, str]
    headers: Mapping[str, str]
    base_url: str
    """``http://host:port`` as the client called it, for absolute links and media URLs."""
    token: str | None
    """The bearer token (``Authorization: Bearer ...``) or the ``access_token``/``key`` parameter."""
    account: SandboxAccount | None
    """The world's account that owns ``token``, None for an unknown or missing token."""
    now: int
    """The sandbox clock, unix seconds."""
    faults: FaultSet
    due: str | None
    """``throttle`` or ``server_error`` when this request must answer with that fault, else None."""
    nth: int
    """How many faults of the due kind were answered before (0 for the first)."""
    lifetime: int
    """Requests answered since the sandbox started (for request ids)."""


class PlatformApi(Protocol):
    """One platform's wire format over the sandbox world."""

    platform: str
    prefix: str

    def handle(self, call: ApiCall) -> Response:
        """Return the answer to one request, faults and authentication included."""
        ...


class PlatformFactory(Protocol):
    """Builds a platform's API over a world, signing media URLs with ``signer``."""

    def __call__(self, world: World, signer: MediaSigner) -> PlatformApi: ...


PLATFORM_APIS: dict[str, str] = {
    "x": "archiver.sandbox.x:XApi",
    "youtube": "archiver.sandbox.youtube:YouTubeApi",
    "linkedin": "archiver.sandbox.linkedin:LinkedInApi",
}
"""Platform -> ``module:factory`` of its wire format; imported when a sandbox starts."""


def load_platform_apis(world: World, signer: MediaSigner) -> list[PlatformApi]:
    """Return every platform's API over ``world``, longest prefix first."""
    apis: list[PlatformApi] = []
    for target in PLATFORM_APIS.values():
        module_name, _, factory_name = target.partition(":")
        factory: PlatformFactory = getattr(importlib.import_module(module_name), factory_name)
        apis.append(factory(world, signer))
    return sorted(apis, key=lambda api: len(api.prefix), reverse=True)


def route(apis: list[PlatformApi], path: str) -> tuple[PlatformApi, str] | None:
    """Return the API whose prefix ``path`` starts with and the rest of the path, or None."""
    for api in apis:
        if path == api.prefix or path.startswith(api.prefix + "/"):
            return api, path[len(api.prefix) :] or "/"
    return None
