"""Deterministic media bytes and expiring signed media URLs.

Every attachment in the sandbox world is a :class:`Media`: a photo (JPEG), a screenshot (PNG)
or a document (PDF). Its bytes are drawn with Pillow from the media id alone, so the same id
always gives the same bytes. URLs are fbcdn-style: ``/_media/{media_id}.{ext}?oe={hex expiry}
&oh={signature}``; they stop working when the sandbox clock passes the expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import random
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urlencode

if TYPE_CHECKING:
    from PIL import Image

URL_LIFETIME_SECONDS = 3600
"""How long a signed media URL stays valid, by the sandbox clock."""

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}


@dataclass(frozen=True, slots=True)
class Media:
    """One attachment file: its id, MIME type, pixel size and file name."""

    media_id: str
    mime: str
    width: int
    height: int
    name: str
    created: int
    """Unix time the media was uploaded (used as the PDF's creation date)."""

    @property
    def extension(self) -> str:
        """Return the file extension for the MIME type, without the dot."""
        return EXTENSIONS[self.mime]

    @property
    def is_image(self) -> bool:
        """Return True for photos and screenshots."""
        return self.mime.startswith("image/")


def media_bytes(media: Media) -> bytes:
    """Return the deterministic file bytes of ``media`` (cached)."""
    return _render(media)


@lru_cache(maxsize=4096)
def _render(media: Media) -> bytes:
    rng = random.Random(media.media_id)
    if media.mime == "image/png":
        return _encode(_screenshot(rng, media.width, media.height), "PNG")
    if media.mime == "application/pdf":
        return _pdf(rng, media)
    return _encode(_photo(rng, media.width, media.height), "JPEG")


def _colour(rng: random.Random, low: int = 0, high: int = 255) -> tuple[int, int, int]:
    return (rng.randint(low, high), rng.randint(low, high), rng.randint(low, high))


def _photo(rng: random.Random, width: int, height: int) -> Image.Image:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), _colour(rng, 60, 200))
    draw = ImageDraw.Draw(image)
    horizon = rng.randint(height // 3, 2 * height // 3)
    draw.rectangle((0, horizon, width, height), fill=_colour(rng, 30, 160))
    for _ in range(rng.randint(3, 7)):
        x, y = rng.randrange(width), rng.randrange(height)
        size = rng.randint(10, max(11, width // 4))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((x, y, x + size, y + size * rng.randint(1, 3) // 2), fill=_colour(rng))
    return image


def _screenshot(rng: random.Random, width: int, height: int) -> Image.Image:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 28), fill=_colour(rng, 0, 120))
    y = 40
    while y < height - 20:
        draw.rectangle((12, y, rng.randint(width // 3, width - 12), y + 8), fill=(90, 90, 90))
        y += rng.randint(16, 30)
    return image


def _pdf(rng: random.Random, media: Media) -> bytes:
    from PIL import Image, ImageDraw

    page = Image.new("RGB", (media.width, media.height), "white")
    draw = ImageDraw.Draw(page)
    draw.text((20, 20), media.name, fill="black")
    for index in range(rng.randint(6, 14)):
        draw.line((20, 50 + index * 14, rng.randint(80, media.width - 20), 50 + index * 14), fill="grey")
    stamp = time.gmtime(media.created)
    buffer = io.BytesIO()
    page.save(buffer, "PDF", title=media.name, creationDate=stamp, modDate=stamp)
    return buffer.getvalue()


def _encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        image.save(buffer, "JPEG", quality=70)
    else:
        image.save(buffer, fmt, optimize=True)
    return buffer.getvalue()


class MediaSigner:
    """Makes and checks fbcdn-style signed, expiring media URLs."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _signature(self, filename: str, expires_hex: str) -> str:
        digest = hmac.new(self._secret, f"{filename}:{expires_hex}".encode(), hashlib.sha256).digest()
        return "00_" + base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def url(self, base_url: str, media: Media, now: int) -> str:
        """Return the absolute signed URL of ``media``, valid until ``now`` + one hour."""
        filename = f"{media.media_id}.{media.extension}"
        expires = f"{now + URL_LIFETIME_SECONDS:x}".upper()
        query = urlencode({"_nc_cat": "1", "oh": self._signature(filename, expires), "oe": expires})
        return f"{base_url}/_media/{filename}?{query}"

    def valid(self, filename: str, expires_hex: str, signature: str, now: int) -> bool:
        """Return True if the signature matches and the expiry is not before ``now``."""
        expected = self._signature(filename, expires_hex)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            return False
        try:
            return int(expires_hex, 16) >= now
        except ValueError:
            return False
