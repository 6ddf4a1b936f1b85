"""Raw evidence: every HTTP exchange of a capture run, kept in one gzipped WARC file.

The recorder writes a ``warcinfo`` record describing the run, then a ``request`` and a
``response`` record for each exchange, byte for byte as sent and received except that secrets
(access tokens in URLs, headers and bodies) are replaced by ``REDACTED``; such records carry a
``WARC-Archiver-Redacted`` header saying so. :func:`read_exchanges` reads them back.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import quote, quote_plus

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

REDACTED = "REDACTED"
KIND_HEADER = "WARC-Archiver-Kind"
API, MEDIA = "api", "media"
SECRET_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "proxy-authorization"})


@dataclass(frozen=True)
class RecordedResponse:
    """Where one response landed in the WARC and the sha256 of its (redacted) body."""

    record_id: str
    body_sha256: str


@dataclass(frozen=True)
class Exchange:
    """One response read back from a WARC file."""

    url: str
    status: int
    content_type: str
    body: bytes
    record_id: str
    body_sha256: str
    kind: str
    """``api`` (a platform API response) or ``media`` (an attachment download)."""


class Redactor:
    """Replaces every known secret in a text or byte string with ``REDACTED``."""

    def __init__(self, secrets: list[str]) -> None:
        variants: set[str] = set()
        for secret in secrets:
            if secret:
                variants.update(_encodings(secret))
        self._secrets = sorted(variants, key=len, reverse=True)
        self._secret_bytes = [s.encode("utf-8") for s in self._secrets]

    def text(self, value: str) -> str:
        """Return ``value`` with every secret replaced."""
        for secret in self._secrets:
            value = value.replace(secret, REDACTED)
        return value

    def data(self, value: bytes) -> tuple[bytes, bool]:
        """Return ``value`` with every secret replaced, and whether anything was replaced."""
        changed = False
        for secret in self._secret_bytes:
            if secret in value:
                value = value.replace(secret, REDACTED.encode("ascii"))
                changed = True
        return value, changed

    def headers(self, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Return ``headers`` with secret headers and secret values replaced."""
        return [
            (name, REDACTED if name.lower() in SECRET_HEADERS else self.text(value))
            for name, value in headers
        ]


def _encodings(secret: str) -> set[str]:
    """Return the ways ``secret`` can appear in a URL or body: raw, percent-encoded (upper and
    lower-case hex, ``%20`` or ``+`` for spaces) and JSON-escaped (``\\/``)."""
    quoted = {quote(secret, safe=""), quote_plus(secret, safe="")}
    lower = {re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), q) for q in quoted}
    return {secret, secret.replace("/", "\\/"), *quoted, *lower}


class WarcRecorder:
    """Writes one run's exchanges to a temporary gzipped WARC file."""

    def __init__(self, redactor: Redactor, info: dict[str, Any]) -> None:
        self._redactor = redactor
        self._file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024)  # noqa: SIM115
        self._writer = WARCWriter(self._file, gzip=True)
        self.responses = 0
        payload = json.dumps(info, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")
        record = self._writer.create_warc_record(
            "archiver-run.json",
            "warcinfo",
            payload=io.BytesIO(payload),
            warc_content_type="application/json",
        )
        self._writer.write_record(record)

    def record(
        self,
        method: str,
        url: str,
        request_headers: list[tuple[str, str]],
        status_line: str,
        response_headers: list[tuple[str, str]],
        body: bytes,
        kind: str,
    ) -> RecordedResponse:
        """Write a request and its response (secrets removed); return where the response is.

        ``kind`` (``api`` or ``media``) is kept in a ``WARC-Archiver-Kind`` header, so reading
        back never has to guess from the content type.
        """
        url = self._redactor.text(url)
        body, body_redacted = self._redactor.data(body)
        extra = {KIND_HEADER: kind}
        if body_redacted:
            extra["WARC-Archiver-Redacted"] = "access_token"
        response = self._writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            http_headers=StatusAndHeaders(
                status_line, self._redactor.headers(response_headers), protocol="HTTP/1.1"
            ),
            warc_headers_dict=extra,
        )
        request = self._writer.create_warc_record(
            url,
            "request",
            payload=io.BytesIO(b""),
            http_headers=StatusAndHeaders(
                f"{method} {_path_and_query(url)} HTTP/1.1",
                self._redactor.headers(request_headers),
                is_http_request=True,
            ),
        )
        record_id = str(response.rec_headers.get_header("WARC-Record-ID"))
        request.rec_headers.add_header("WARC-Concurrent-To", record_id)
        self._writer.write_record(response)
        self._writer.write_record(request)
        self.responses += 1
        return RecordedResponse(record_id, hashlib.sha256(body).hexdigest())

    def note(self, payload: dict[str, Any]) -> None:
        """Write a ``metadata`` record: what the capture concluded (e.g. roots it could not confirm)."""
        data = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
        record = self._writer.create_warc_record(
            "archiver-notes.json", "metadata", payload=io.BytesIO(data), warc_content_type="application/json"
        )
        self._writer.write_record(record)

    def getvalue(self) -> bytes:
        """Return the whole gzipped WARC file written so far."""
        self._file.flush()
        self._file.seek(0)
        data = self._file.read()
        self._file.seek(0, io.SEEK_END)
        return data

    def close(self) -> None:
        """Discard the temporary file."""
        self._file.close()


def _path_and_query(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def read_warcinfo(data: bytes) -> dict[str, Any]:
    """Return the run description stored in a WARC file's ``warcinfo`` record."""
    for record in ArchiveIterator(io.BytesIO(data)):
        if record.rec_type == "warcinfo":
            info: dict[str, Any] = json.loads(record.content_stream().read())
            return info
    return {}


def read_notes(data: bytes) -> dict[str, Any]:
    """Return the capture's notes (its ``metadata`` records), merged into one dict: lists under the
    same name from several notes are joined, other values are the last one written."""
    notes: dict[str, Any] = {}
    for record in ArchiveIterator(io.BytesIO(data)):
        if record.rec_type == "metadata":
            for name, value in json.loads(record.content_stream().read()).items():
                earlier = notes.get(name)
                notes[name] = earlier + value if isinstance(earlier, list) and isinstance(value, list) else value
    return notes


def read_exchanges(data: bytes) -> Iterator[Exchange]:
    """Yield every response recorded in a WARC file, in the order they were written."""
    for record in ArchiveIterator(io.BytesIO(data)):
        if record.rec_type != "response":
            continue
        body = record.content_stream().read()
        headers = record.http_headers
        content_type = str(headers.get_header("Content-Type") or "")
        kind = record.rec_headers.get_header(KIND_HEADER) or (API if "json" in content_type else MEDIA)
        yield Exchange(
            url=str(record.rec_headers.get_header("WARC-Target-URI")),
            status=int(headers.get_statuscode() or 0),
            content_type=content_type,
            body=body,
            record_id=str(record.rec_headers.get_header("WARC-Record-ID")),
            body_sha256=hashlib.sha256(body).hexdigest(),
            kind=str(kind),
        )
