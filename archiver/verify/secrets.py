"""The secrets scan: no configured token or key may appear in any stored object.

Every stored version is searched as a reader would see it: WARC files decompressed (every gzip
member), Parquet files decoded (the bytes of every string value, nested ones too), PDF files with
every stream decoded, everything else as stored (large media files chunk by chunk as they are
streamed, see :mod:`.inventory`). Each secret is looked for raw, percent-encoded (upper and
lower-case hex, ``+`` or ``%20`` for spaces), JSON-escaped and base64-encoded. Findings name the secret by its label
(for example the environment variable that holds it), never by its value.
"""

from __future__ import annotations

import base64
import gzip
import io
import os
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

from archiver.config import Settings, load_accounts
from archiver.errors import ArchiverError
from archiver.verify.report import Report

MIN_SECRET_LENGTH = 8
"""Shorter values are not searched: they would match by chance and are no real secrets."""


@dataclass(frozen=True)
class Secret:
    """A value that must never be stored, and a label that names it without revealing it."""

    label: str
    value: str


def encodings(value: str) -> dict[str, bytes]:
    """Return the forms ``value`` can take in stored bytes, by name (raw, percent-encoded, …)."""
    forms: dict[str, str] = {"raw": value, "json-escaped": value.replace("/", "\\/")}
    for name, quoted in (("percent-encoded", quote(value, safe="")), ("form-encoded", quote_plus(value))):
        forms[name] = quoted
        forms[f"{name} (lower-case hex)"] = re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quoted)
    raw = value.encode("utf-8")
    for name, encoded in (("base64", base64.b64encode(raw)), ("base64url", base64.urlsafe_b64encode(raw))):
        forms[name] = encoded.decode("ascii")
        forms[f"{name} (unpadded)"] = encoded.decode("ascii").rstrip("=")
    unique: dict[bytes, str] = {}
    for name, form in forms.items():
        unique.setdefault(form.encode("utf-8"), name)
    return {name: form for form, name in unique.items()}


class SecretScanner:
    """Finds the given secrets, in any of their encodings, in bytes."""

    def __init__(self, secrets: list[Secret]) -> None:
        self.skipped = [s.label for s in secrets if len(s.value) < MIN_SECRET_LENGTH]
        self._patterns = [
            (secret.label, name, form)
            for secret in secrets
            if len(secret.value) >= MIN_SECRET_LENGTH
            for name, form in encodings(secret.value).items()
        ]

    def __bool__(self) -> bool:
        return bool(self._patterns)

    @property
    def overlap(self) -> int:
        """Return how many bytes a match can reach back into the previous chunk of a stream."""
        return max((len(form) for _, _, form in self._patterns), default=1) - 1

    def scan(self, data: bytes) -> list[tuple[str, str]]:
        """Return (secret label, encoding) for every secret found in ``data``."""
        return [(label, name) for label, name, form in self._patterns if form in data]


def readable_forms(key: str, data: bytes) -> Iterator[bytes]:
    """Yield ``data`` as stored, then as a reader sees it: decompressed, decoded rows or streams."""
    yield data
    try:
        if key.endswith(".gz"):
            yield _gunzip(data)
        elif key.endswith(".parquet"):
            yield from _parquet_text(data)
        elif key.endswith(".pdf"):
            yield from _pdf_parts(data)
    except Exception:  # damaged bytes: the fixity checks report them; scan what could be read
        return


def _gunzip(data: bytes) -> bytes:
    """Return every gzip member of ``data`` decompressed, or as much as could be read."""
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error):
        decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
        return decompressor.decompress(data)


def _parquet_text(data: bytes) -> Iterator[bytes]:
    """Yield the value bytes of every string column (nested ones too), straight from Arrow's buffers."""
    import pyarrow.parquet as pq

    for column in pq.read_table(io.BytesIO(data)).columns:
        for chunk in column.chunks:
            yield from _arrow_strings(chunk)


def _arrow_strings(array: Any) -> Iterator[bytes]:
    import pyarrow as pa

    kind = array.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_binary(kind):
        buffer = array.buffers()[2]
        if buffer is not None:
            yield buffer.to_pybytes()
    elif pa.types.is_list(kind) or pa.types.is_large_list(kind):
        yield from _arrow_strings(array.flatten())
    elif pa.types.is_struct(kind):
        for index in range(kind.num_fields):
            yield from _arrow_strings(array.field(index))


def _pdf_parts(data: bytes) -> Iterator[bytes]:
    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as pdf:
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Stream):
                yield obj.read_bytes()
                yield obj.stream_dict.unparse()
            elif isinstance(obj, pikepdf.Object):
                yield obj.unparse()


def configured_secrets(settings: Settings | None = None, stack_dir: Path | None = None) -> list[Secret]:
    """Return the secrets this process knows: each account's token (from its environment variable),
    this identity's S3 secret key, and, given an embedded stack's directory, every identity's keys."""
    settings = settings or Settings()
    secrets = []
    try:
        accounts = load_accounts(settings=settings).accounts
    except ArchiverError:
        accounts = []
    for account in accounts:
        value = os.environ.get(account.token_env, "").strip()
        if value:
            secrets.append(Secret(f"token of account {account.name} (${account.token_env})", value))
    secret_key = os.environ.get("AWS_SECRET_ACCESS_KEY", "").strip()
    if secret_key:
        secrets.append(Secret("S3 secret key of this identity ($AWS_SECRET_ACCESS_KEY)", secret_key))
    if stack_dir is not None:
        secrets += stack_secrets(stack_dir)
    return secrets


def stack_secrets(stack_dir: Path) -> list[Secret]:
    """Return the S3 secret keys and signing keys of an embedded stack's identities."""
    from archiver.stack.state import StackPaths, load_keys

    keys = load_keys(StackPaths(stack_dir))
    secrets = [
        Secret(f"S3 secret key of the stack identity {name}", credential.secret_key)
        for name, credential in keys.identities.items()
    ]
    secrets += [Secret(f"SeaweedFS JWT key {name}", value) for name, value in keys.jwt.items()]
    return secrets


def check_secrets(key: str, version_id: str, data: bytes, scanner: SecretScanner, report: Report) -> None:
    """Report every configured secret found in one stored version (by label and encoding only)."""
    found = [match for form in readable_forms(key, data) for match in scanner.scan(form)]
    report_secrets(key, version_id, found, report)


def report_secrets(key: str, version_id: str, found: Iterable[tuple[str, str]], report: Report) -> None:
    """Report each secret of ``found`` ((label, encoding) pairs, e.g. from a streamed read) once."""
    hows: dict[str, set[str]] = {}
    for label, how in found:
        hows.setdefault(label, set()).add(how)
    for label, names in sorted(hows.items()):
        report.add(
            "secret",
            key,
            f"the {label} appears in version {version_id} ({', '.join(sorted(names))}); revoke and "
            "renew that secret now, then record the exposure",
            version_id=version_id,
        )
