"""One Graph request: what the server hands over, and the context every field function gets.

:class:`GraphRequest` is an authenticated GET as the server received it. ``_Ctx`` adds the
account's state as of the sandbox clock, the media signer and the world, and writes times,
absolute URLs and ``from``-style people the way Graph does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from archiver.sandbox.media import Media, MediaSigner
from archiver.sandbox.world import AccountState, SandboxAccount, World


@dataclass(frozen=True)
class GraphRequest:
    """One Graph API GET as the server received it, already authenticated."""

    path: str
    """Path without the version prefix, e.g. ``/1000000000000001/feed``."""
    params: Mapping[str, str]
    token: str
    base_url: str
    """Scheme and host the client used, e.g. ``http://127.0.0.1:8765``."""
    version: str
    now: int
    """The sandbox clock, unix seconds: the instant the world is served as of."""
    unlisted: frozenset[str] = frozenset()
    """Ids the listings leave out (the ``unlisted_ids`` fault); lookups by id still work."""
    readable_messages: int = 20
    """Newest messages per Instagram conversation served with details (``instagram_readable_messages``)."""


@dataclass
class _Ctx:
    """What every field function needs: the account's state, the request and the media signer."""

    state: AccountState
    account: SandboxAccount
    request: GraphRequest
    signer: MediaSigner
    world: World

    def time(self, stamp: int) -> str | int:
        """Return ``stamp`` as Graph formats times (``2026-11-01T10:15:00+0000``, or unix with date_format=U)."""
        if self.request.params.get("date_format") == "U":
            return stamp
        return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")

    def media_url(self, media: Media) -> str:
        """Return a signed media URL valid for one hour of sandbox time."""
        return self.signer.url(self.request.base_url, media, self.request.now)

    def url(self, path: str, params: Mapping[str, str]) -> str:
        """Return an absolute Graph URL for ``path`` whose query carries the caller's access token first."""
        query = urlencode({"access_token": self.request.token, **params})
        return f"{self.request.base_url}/{self.request.version}{path}?{query}"

    def person(self, author_id: str, name: str, with_email: bool = False) -> dict[str, str]:
        """Return a ``from``-style object; Messenger adds the ``{id}@facebook.com`` e-mail."""
        if with_email:
            return {"name": name, "email": f"{author_id}@facebook.com", "id": author_id}
        return {"name": name, "id": author_id}
