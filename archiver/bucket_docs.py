"""The bucket explains itself: ``README.md`` and ``README.sv.md`` at the bucket's root.

The READMEs say what lies where, what one row of ``items/`` means (the table is generated from
:data:`archiver.items.ITEM_SCHEMA`'s field documentation, so it never drifts from the code), how
to verify an object with plain tools, and which identity may do what. They hold no timestamps,
so they change only when the software, the schema, the bucket or its retention change; each is
written only when its bytes differ from the stored version (compared by sha256), so a re-run
writes nothing. :mod:`archiver.catalog` calls :func:`write_bucket_readmes` and seals what it wrote.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from botocore.exceptions import BotoCoreError, ClientError

from archiver import __version__
from archiver.items import ITEM_SCHEMA, KINDS
from archiver.storage import Bucket, StoredObject, sha256_hex
from archiver.templating import render_text

README_KEYS = {"README.md": "bucket/README.md.j2", "README.sv.md": "bucket/README.sv.md.j2"}
MARKDOWN = "text/markdown; charset=utf-8"


@dataclass(frozen=True)
class FieldDoc:
    """One row of the item-model table: a column (or a nested attachment field) of ``items``."""

    name: str
    type: str
    required: bool
    doc: str


def item_model_rows(schema: pa.Schema = ITEM_SCHEMA) -> list[FieldDoc]:
    """Return the item-model table rows from the schema's field docs, attachment fields as ``attachments[].x``."""
    rows: list[FieldDoc] = []
    for field in schema:
        rows.append(_field_doc(field.name, field))
        value_type = field.type.value_type if pa.types.is_list(field.type) else None
        if value_type is not None and pa.types.is_struct(value_type):
            rows += [_field_doc(f"{field.name}[].{child.name}", child) for child in value_type]
    return rows


def _field_doc(name: str, field: pa.Field) -> FieldDoc:
    metadata = field.metadata or {}
    doc = metadata.get(b"doc", b"").decode("utf-8").replace("|", "\\|")
    kind = "list<struct>" if pa.types.is_list(field.type) else str(field.type)
    return FieldDoc(name, kind, not field.nullable, doc)


def default_retention(bucket: Bucket) -> dict[str, Any] | None:
    """Return the bucket's Object Lock default retention as ``{"mode", "days"|"years"}``, or None if unreadable."""
    try:
        config = bucket.client.get_object_lock_configuration(Bucket=bucket.name)["ObjectLockConfiguration"]
    except (ClientError, BotoCoreError):
        return None
    retention = config.get("Rule", {}).get("DefaultRetention", {})
    if not retention:
        return None
    return {"mode": retention.get("Mode"), "days": retention.get("Days"), "years": retention.get("Years")}


def readme_context(bucket: Bucket, organisation: str | None = None) -> dict[str, Any]:
    """Return what the README templates need: bucket, organisation, retention, item model, kinds, version."""
    return {
        "bucket": bucket.name,
        "organisation": organisation,
        "retention": default_retention(bucket),
        "fields": item_model_rows(),
        "kinds": KINDS,
        "version": __version__,
    }


def current_sha256(bucket: Bucket, key: str) -> str | None:
    """Return the hex sha256 of the current version of ``key`` (from its stored SHA-256 checksum
    when the server keeps one, else by reading it), or None if the key has no current version."""
    try:
        head = bucket.client.head_object(Bucket=bucket.name, Key=key, ChecksumMode="ENABLED")
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    checksum = head.get("ChecksumSHA256")
    if checksum and "-" not in checksum:
        return base64.b64decode(checksum).hex()
    return sha256_hex(bucket.get(key, head.get("VersionId")))


def put_if_changed(bucket: Bucket, key: str, data: bytes, content_type: str) -> StoredObject | None:
    """Write ``data`` at ``key`` unless the current version has the same sha256; return what was written or None."""
    if current_sha256(bucket, key) == sha256_hex(data):
        return None
    return bucket.put(key, data, content_type)


def render_readmes(bucket: Bucket, organisation: str | None = None) -> dict[str, bytes]:
    """Return the README files' bytes by key (``README.md`` English, ``README.sv.md`` Swedish)."""
    context = readme_context(bucket, organisation)
    return {key: render_text(template, context).encode("utf-8") for key, template in README_KEYS.items()}


def write_bucket_readmes(bucket: Bucket, organisation: str | None = None) -> list[StoredObject]:
    """Write README.md and README.sv.md at the bucket's root where they changed; return what was written."""
    written = []
    for key, data in render_readmes(bucket, organisation).items():
        stored = put_if_changed(bucket, key, data, MARKDOWN)
        if stored is not None:
            written.append(stored)
    return written
