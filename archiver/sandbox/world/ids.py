"""Native ids and access tokens: deterministic functions of the seed and the account.

Item ids follow the Graph API's formats (``{page_id}_{n}`` for posts, ``{post_n}_{c}`` for
comments, ``t_{digits}`` for conversations, ``m_{...}`` for messages, numeric media ids) and are
unique within one account.
"""

from __future__ import annotations

import base64
import hashlib

from archiver.sandbox.world.model import Item, SandboxAccount


def _digest(*parts: object) -> bytes:
    return hashlib.sha256(":".join(str(part) for part in parts).encode()).digest()


def _number(*parts: object) -> int:
    return int.from_bytes(_digest(*parts)[:8], "big")


def make_token(seed: int, name: str) -> str:
    """Return the deterministic access token of account ``name`` in the world with ``seed``."""
    raw = hashlib.sha512(f"token:{seed}:{name}".encode()).digest() + _digest("token", seed, name)
    letters = "".join(c for c in base64.b64encode(raw).decode() if c.isalnum())
    return "EAAG" + letters[:120]


class _IdMaker:
    """Native ids in the Graph API's formats, unique within one account."""

    def __init__(self, seed: int, account: SandboxAccount) -> None:
        self._seed = seed
        self._account = account
        salt = _number("ids", seed, account.name)
        self._post_base = 122_000_000_000_000_000 + (salt % 10**10) * 10**6
        self._comment_base = 10**15 + (salt % 10**8) * 10**7
        self._thread_base = 10**15 + ((salt >> 20) % 10**8) * 10**7
        self._media_base = 10**16 + ((salt >> 30) % 10**8) * 10**7
        self.counts = {"post": 0, "comment": 0, "conversation": 0, "message": 0, "media": 0}

    def _next(self, kind: str) -> int:
        self.counts[kind] += 1
        return self.counts[kind]

    def post(self) -> str:
        """Return a new page post id ``{page_id}_{n}``."""
        return f"{self._account.page_id}_{self._post_base + self._next('post')}"

    def comment(self, post: Item) -> str:
        """Return a new comment id ``{post_n}_{c}`` for a comment anywhere under ``post``."""
        post_n = post.native_id.split("_", 1)[1]
        return f"{post_n}_{self._comment_base + self._next('comment')}"

    def conversation(self) -> str:
        """Return a new Messenger conversation id ``t_{digits}``."""
        return f"t_{self._thread_base + self._next('conversation')}"

    def message(self) -> str:
        """Return a new message id ``m_{url-safe string}``."""
        digest = hashlib.sha512(
            f"message:{self._seed}:{self._account.name}:{self._next('message')}".encode()
        ).digest()
        return "m_" + base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def media(self) -> str:
        """Return a new numeric media id."""
        return str(self._media_base + self._next("media"))
