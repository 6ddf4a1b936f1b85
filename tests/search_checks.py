"""What the search tests share: an accounts file of three accounts and full item rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from archiver.items import content_sha256

FB, IG, X = "kommun-fb", "kommun-ig", "kommun-x"
ACCOUNTS = {
    "organisation": "Ängelholms kommun",
    "accounts": [
        {"name": FB, "platform": "facebook", "id": "111", "token_env": "FB_TOKEN"},
        {
            "name": IG,
            "platform": "instagram",
            "id": "222",
            "token_env": "IG_TOKEN",
            "api_base": "https://graph.instagram.com/v26.0",
        },
        {"name": X, "platform": "x", "id": "333", "token_env": "X_TOKEN"},
    ],
}
"""The accounts file's content: a Facebook Page, an Instagram and an X account."""


def at(day: str, hour: int) -> datetime:
    """Return ``hour`` o'clock UTC on ``day``."""
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00").astimezone(UTC)


def item_row(
    key: str, day: str, hour: int, text: str | None, *, created: str, version: int = 1, **fields: Any
) -> dict[str, Any]:
    """Return a full row of the item schema for ``key`` recorded on ``day``, created on
    ``created`` at ``hour``: a resident's root post unless ``fields`` say otherwise (``own=True``:
    written by the organisation)."""
    platform, account_id, native_id = key.split(":", 2)
    own = fields.pop("own", False)
    value: dict[str, Any] = {
        "item_key": key,
        "platform": platform,
        "account_id": account_id,
        "kind": "post",
        "native_id": native_id,
        "parent_key": None,
        "thread_key": key,
        "author_id": "org" if own else "someone",
        "author_name": "Ängelholms kommun" if own else "Någon",
        "from_account": own,
        "record_class": "upprättad" if own else "inkommen",
        "text": text,
        "attachments": [],
        "permalink": f"https://example.org/{native_id}",
        "created_at": at(created, hour),
        "edited_at": None,
        "visibility": "public",
        "state": "present",
        "version": version,
        "first_seen_at": at(created, 23),
        "observed_at": at(day, 23),
        "run_id": f"run-{day}",
        "raw_ref": f"raw/x.warc.gz#<urn:uuid:{native_id}>",
        "raw_sha256": "0" * 64,
        "source_json": json.dumps({"id": native_id, "message": text}),
        "imported": False,
        **fields,
    }
    value["content_sha256"] = content_sha256(value)
    return value
