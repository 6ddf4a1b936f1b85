"""Versioning: which observations of a run become new item versions, and which items are gone.

Pure functions over plain dicts (rows in the shape of ``archiver.items.ITEM_SCHEMA``). A new
version is made when an item is first seen or its content hash changes (text, attachments,
visibility, state, so also hide and unhide); a tombstone when an item the archive holds, and
which this run re-checked, is no longer on the platform.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from archiver.connectors.base import CaptureWindow, Observation
from archiver.items import content_sha256

THREAD_ROOTS = frozenset({"post", "conversation"})


@dataclass(frozen=True)
class RunContext:
    """What every row written by one run shares."""

    run_id: str
    observed_at: datetime
    window: CaptureWindow
    warc_key: str
    """The run's WARC file: for a tombstone, the evidence that the item was no longer listed."""


def new_versions(
    observations: Iterable[tuple[Observation, dict[str, Any]]],
    latest: dict[str, dict[str, Any]],
    context: RunContext,
) -> list[dict[str, Any]]:
    """Return the rows for observations whose content differs from the item's latest version.

    Each observation comes with its provenance (``raw_ref``, ``raw_sha256``).
    """
    rows = []
    for observation, provenance in observations:
        row: dict[str, Any] = {**observation, **provenance, "imported": False}
        row["content_sha256"] = content_sha256(row)
        previous = latest.get(row["item_key"])
        if previous is not None and previous["content_sha256"] == row["content_sha256"]:
            continue
        rows.append(_versioned(row, previous, context))
    return rows


def tombstones(
    latest: dict[str, dict[str, Any]],
    seen: set[str],
    context: RunContext,
    unsure: frozenset[str] | set[str] = frozenset(),
) -> list[dict[str, Any]]:
    """Return a tombstone row for each item the run re-checked and did not see.

    Re-checked means: a post created inside the run's window; any conversation (conversations
    are always listed in full); a comment or message whose thread root was seen or is itself
    gone now. ``unsure`` holds keys the platform would not tell about (a root whose lookup
    failed, a thread whose comments could not be listed, a message the platform lists but does
    not show): neither they nor the comments and messages of such a thread are tombstoned.
    """
    gone_roots = unseen_roots(latest, seen | set(unsure), context.window)
    rows = []
    for key, row in latest.items():
        if key in seen or key in unsure or row["state"] == "deleted_at_source":
            continue
        if key in gone_roots or (
            row["kind"] not in THREAD_ROOTS
            and row["thread_key"] not in unsure
            and (row["thread_key"] in seen or row["thread_key"] in gone_roots)
        ):
            rows.append(_tombstone(row, context))
    return rows


def unseen_roots(latest: dict[str, dict[str, Any]], seen: set[str], window: CaptureWindow) -> set[str]:
    """Return the keys of live thread roots that a run with ``window`` re-checks but did not see:
    capture looks each of them up, normalise tombstones those still unseen."""
    return {
        key
        for key, row in latest.items()
        if row["kind"] in THREAD_ROOTS
        and key not in seen
        and row["state"] != "deleted_at_source"
        and _root_rechecked(row, window)
    }


def _root_rechecked(row: dict[str, Any], window: CaptureWindow) -> bool:
    """Return whether a run with ``window`` re-checks this thread root (post or conversation)."""
    if row["kind"] == "conversation":
        return True
    created = row.get("created_at")
    if created is None:
        return False
    since = window["since"]
    return bool((since is None or created >= since) and created < window["until"])


def _versioned(row: dict[str, Any], previous: dict[str, Any] | None, context: RunContext) -> dict[str, Any]:
    row["version"] = previous["version"] + 1 if previous else 1
    row["first_seen_at"] = previous["first_seen_at"] if previous else context.observed_at
    row["observed_at"] = context.observed_at
    row["run_id"] = context.run_id
    return row


def _tombstone(previous: dict[str, Any], context: RunContext) -> dict[str, Any]:
    row = dict(previous)
    row["state"] = "deleted_at_source"
    row["content_sha256"] = content_sha256(row)
    row["raw_ref"] = context.warc_key
    row["raw_sha256"] = None
    return _versioned(row, previous, context)
