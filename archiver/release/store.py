"""Where releases are kept: ``releases/{safe ref}/`` in the archive bucket, written with the
registrar's identity. A release is a record: it is stored once and never replaced."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from archiver.config import Settings
from archiver.errors import ArchiverError, ReleaseError, StorageError
from archiver.storage import Bucket, s3_client, sha256_hex

RELEASES_PREFIX = "releases/"
REGISTRAR_KEY_ENV = "ARCHIVER_REGISTRAR_ACCESS_KEY_ID"
REGISTRAR_SECRET_ENV = "ARCHIVER_REGISTRAR_SECRET_ACCESS_KEY"
CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".json": "application/json",
    ".zip": "application/zip",
}


def safe_reference(reference: str) -> str:
    """Return ``reference`` with every character outside ``[A-Za-z0-9_.-]`` replaced by ``-``
    ("KS 2026/123" -> "KS-2026-123"); raise ReleaseError for an empty reference."""
    cleaned = reference.strip()
    if not cleaned:
        raise ReleaseError("A release needs a reference (the request's diarienummer, e.g. 'KS 2026/123').")
    safe = re.sub(r"[^A-Za-z0-9_.-]", "-", cleaned)
    if set(safe) <= {".", "-"}:
        raise ReleaseError(
            f"Reference {reference!r} has no letters or digits; use the request's diarienummer."
        )
    return safe


def release_key_prefix(reference: str) -> str:
    """Return the bucket prefix of a release: ``releases/{safe ref}/``."""
    return f"{RELEASES_PREFIX}{safe_reference(reference)}/"


def registrar_bucket(settings: Settings) -> Bucket:
    """Return the archive bucket opened with the registrar's identity: the keys in
    ``ARCHIVER_REGISTRAR_ACCESS_KEY_ID`` and ``ARCHIVER_REGISTRAR_SECRET_ACCESS_KEY`` when both
    are set (endpoint from ``AWS_ENDPOINT_URL``), else the standard ``AWS_*`` environment."""
    key, secret = os.environ.get(REGISTRAR_KEY_ENV, ""), os.environ.get(REGISTRAR_SECRET_ENV, "")
    if bool(key) != bool(secret):
        raise ReleaseError(
            f"Set both {REGISTRAR_KEY_ENV} and {REGISTRAR_SECRET_ENV} (the registrar's keys), or neither "
            "to use the AWS_* environment."
        )
    if not key:
        return Bucket(settings.bucket)
    return Bucket(settings.bucket, s3_client(key, secret))


def store_release(
    bucket: Bucket, reference: str, files: dict[str, bytes], directory: Path
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Store ``files`` under ``releases/{safe ref}/``; return (objects written, objects that were
    there already with the same content). A release is a record: if the reference holds other
    content, raise ReleaseError and write nothing."""
    prefix = release_key_prefix(reference)
    planned = {f"{prefix}{name}": data for name, data in files.items()}
    existing: list[dict[str, Any]] = []
    differing = sorted(entry.key for entry in bucket.list(prefix) if entry.key not in planned)
    for key in sorted(planned):
        if bucket.exists(key):
            current = bucket.ref(key)
            if current.sha256 == sha256_hex(planned[key]):
                existing.append(current.to_dict())
            else:
                differing.append(key)
    if differing:
        raise ReleaseError(
            f"Release {reference!r} is stored already under {prefix} with other content "
            f"({len(differing)} object(s) differ, e.g. {', '.join(sorted(differing)[:3])}). A release is a "
            f"record and is never replaced: use a new reference, e.g. '{reference}-2'. (To finish storing "
            f"an interrupted release, request again with --date set to the decided_on of "
            f"{prefix}manifest.json.) The new package is in {directory}; nothing was stored.",
            reference=reference,
        )
    done = {entry["key"] for entry in existing}
    stored: list[dict[str, Any]] = []
    for key in sorted(planned.keys() - done):
        data = planned[key]
        suffix = Path(key).suffix
        content_type = CONTENT_TYPES.get(suffix, "text/plain; charset=utf-8")
        try:
            written = bucket.put_stream(
                key, data, len(data), bytes.fromhex(sha256_hex(data)), content_type, only_new=True
            )
        except StorageError as error:
            raise _store_error(error, bucket, key, directory, stored) from None
        stored.append(written.to_dict())
    return stored, existing


def _store_error(
    error: ArchiverError, bucket: Bucket, key: str, directory: Path, stored: list[dict[str, Any]]
) -> ReleaseError:
    code = error.context.get("code")
    partial = f" {len(stored)} object(s) were stored before it." if stored else " Nothing was stored."
    if code in ("AccessDenied", "Forbidden", "403"):
        return ReleaseError(
            f"The identity in use may not write s3://{bucket.name}/{key} ({code}): releases are stored by "
            f"the registrar. Set {REGISTRAR_KEY_ENV} and {REGISTRAR_SECRET_ENV}, or run "
            f'`eval "$(archiver stack env --identity registrar)"`, and request again.{partial}'
            f"The package is in {directory}."
        )
    return ReleaseError(
        f"Could not store the release: {error.message}{partial} The package is in {directory}."
    )
