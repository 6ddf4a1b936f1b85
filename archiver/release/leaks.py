"""Finding masked values in released files: the last guard's search (:func:`leaks`).

A value is looked for in every form a file may hold it: as written, in NFC, NFD and NFKC,
escaped for JSON, XML/HTML and PDF strings, hex-encoded, in UTF-8 and UTF-16; inside zip
members, PDF objects and streams that may hold text, and JSON strings.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable
from typing import Any

import pikepdf

from archiver.release.decisions import INVISIBLE, blocks_word


def leaks(data: bytes | str, values: Iterable[str], *, exact_case: bool = False) -> list[str]:
    """Return the ``values`` found in ``data`` (a released file), in their given order.

    Looks for each value (case-insensitively unless ``exact_case``) as written, in NFC, NFD and
    NFKC, JSON-escaped, XML/HTML-escaped, PDF-string-escaped and hex-encoded, in UTF-8 and UTF-16
    (big and little endian); inside a ZIP file in each member and its name, inside a PDF in every
    object and every stream but images, fonts, colour profiles and page content (whose text
    :func:`archiver.release.guard.pdf_views` extracts), inside JSON in every string too. A value
    that starts or ends with a letter or digit counts only where it is not part of a longer word
    (see :func:`~archiver.release.decisions.blocks_word`; a genitive "s" may follow), so a short
    name such as "Per" is not found in "Period" nor in the bytes of a font.
    """
    haystacks = _haystacks(data)
    if not exact_case:
        haystacks = [haystack.casefold() for haystack in haystacks]
    found = []
    for value in dict.fromkeys(v for v in values if v and v.strip()):
        needles = _needles(value, exact_case)
        if any(_occurs(haystack, needle, bounded) for haystack in haystacks for needle, bounded in needles):
            found.append(value)
    return found


def _occurs(haystack: str, needle: str, bounded: bool) -> bool:
    """Return True if ``needle`` is in ``haystack`` (``bounded``: not inside a longer word)."""
    start = haystack.find(needle)
    while start >= 0:
        end = start + len(needle)
        alone_before = start == 0 or not blocks_word(needle[0]) or not blocks_word(haystack[start - 1])
        alone_after = (
            end == len(haystack)
            or not blocks_word(needle[-1])
            or not blocks_word(haystack[end])
            or (haystack[end] in "sS" and (end + 1 == len(haystack) or not blocks_word(haystack[end + 1])))
        )
        if not bounded or (alone_before and alone_after):
            return True
        start = haystack.find(needle, start + 1)
    return False


_INVISIBLE = re.compile(f"[{INVISIBLE}]")
_XML_NAMES = re.compile(r"(?<=<)/?[\w:.-]+|[\w:.-]+(?=\s*=\s*[\"'])")


def _haystacks(data: bytes | str) -> list[str]:
    """Return text views of ``data`` (and of what it contains) to search in."""
    if isinstance(data, str):
        return _text_views(data)
    if data.startswith(b"PK\x03\x04"):
        views = _zip_views(data)
        if views is not None:
            return views
    if data.startswith(b"%PDF"):
        views = _pdf_views(data)
        if views is not None:
            return views
    return _byte_views(data) + [
        view for stream in _zlib_streams(data) if b"FlateDecode" in data for view in _byte_views(stream)
    ]


def _byte_views(data: bytes) -> list[str]:
    views = [
        data.decode("utf-8", errors="ignore"),
        data.decode("latin-1"),
        data.decode("utf-16-be", errors="ignore"),
        data[1:].decode("utf-16-be", errors="ignore"),
    ]
    return [text for view in views for text in _text_views(view)]


def _text_views(text: str) -> list[str]:
    """Return ``text`` as is (XML without its element and attribute names), in NFKC without
    invisible characters, and, when it is JSON, the strings it holds (so an escape such as
    ``\\n`` before a value does not hide it)."""
    if "<x:xmpmeta" in text or text.lstrip("\ufeff \r\n").startswith(("<?xml", "<?xpacket")):
        text = _XML_NAMES.sub("", text)  # element and attribute names (rdf:li) are no one's data
    views = [text, _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))]
    if text[:1] in ("{", "["):
        with contextlib.suppress(ValueError):
            views.append("\n".join(_json_strings(json.loads(text))))
    return views


def _json_strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item)


def _zip_views(data: bytes) -> list[str] | None:
    views: list[str] = []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                views += _text_views(info.filename)
                views += _haystacks(archive.read(info))
    except (zipfile.BadZipFile, OSError):
        return None
    return views


_STREAM_BODY = re.compile(rb"(stream\r?\n).*?(endstream)", re.S)


def _pdf_views(data: bytes) -> list[str] | None:
    """Return the views of a PDF: its bytes with every stream's content left out (dictionaries,
    strings, names: every revision) and the decoded content of each stream that may hold text,
    or None when pikepdf cannot read it."""
    views = _byte_views(_STREAM_BODY.sub(rb"\1\2", data))
    try:
        with pikepdf.open(io.BytesIO(data)) as document:
            binary = _binary_streams(document)
            for obj in document.objects:
                if not isinstance(obj, pikepdf.Stream) or obj.objgen in binary:
                    continue
                try:
                    content = obj.read_bytes()
                except pikepdf.PdfError:
                    content = obj.read_raw_bytes()
                views += (
                    _haystacks(content)
                    if content.startswith((b"%PDF", b"PK\x03\x04"))
                    else _byte_views(content)
                )
    except pikepdf.PdfError:
        return None
    return views


def _binary_streams(document: Any) -> set[tuple[int, int]]:
    """Return the object ids of the streams holding no text: images, font programs, colour
    profiles, CID maps, and page and form content (its text is extracted by the guard)."""
    out: set[tuple[int, int]] = set()

    def add(value: Any) -> None:
        if isinstance(value, pikepdf.Stream) and value.is_indirect:
            out.add(value.objgen)

    for obj in document.objects:
        if not isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            continue
        if obj.get("/Subtype") in ("/Image", "/Form"):
            add(obj)
        for name in (
            "/FontFile",
            "/FontFile2",
            "/FontFile3",
            "/CIDSet",
            "/CIDToGIDMap",
            "/DestOutputProfile",
        ):
            add(obj.get(name))
    for page in document.pages:
        contents = page.obj.get("/Contents")
        for item in contents if isinstance(contents, pikepdf.Array) else [contents]:
            add(item)
    return out


_STREAM = re.compile(rb"stream\r?\n")


def _zlib_streams(data: bytes) -> list[bytes]:
    """Return the inflated contents of every zlib stream in a PDF (unreadable ones skipped)."""
    streams = []
    for match in _STREAM.finditer(data):
        end = data.find(b"endstream", match.end())
        try:
            streams.append(zlib.decompressobj().decompress(data[match.end() : end if end > 0 else None]))
        except zlib.error:
            continue
    return streams


def _needles(value: str, exact_case: bool) -> set[tuple[str, bool]]:
    """Return the forms ``value`` may take in a file, each with whether it must stand alone."""
    forms = {
        text
        for normal in ("NFC", "NFD", "NFKC")
        for form in [unicodedata.normalize(normal, value)]
        for text in (
            form,
            json.dumps(form)[1:-1],
            json.dumps(form, ensure_ascii=False)[1:-1],
            html.escape(form, quote=True),
            html.escape(form, quote=False),
            "".join(f"&#{ord(c)};" if ord(c) > 127 else c for c in form),
            "".join(f"&#x{ord(c):x};" if ord(c) > 127 else c for c in form),
            form.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)"),
        )
    }
    encoded = {
        hexed
        for data in (value.encode("utf-16-be"), value.encode("utf-8"))
        for hexed in (data.hex(), data.hex().upper())
    }
    needles = {(form, True) for form in forms if form} | {(form, False) for form in encoded}
    return needles if exact_case else {(form.casefold(), bounded) for form, bounded in needles}
