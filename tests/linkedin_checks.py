"""LinkedIn archive checks: the archive compared with the sandbox world's truth through the
sandbox's LinkedIn URNs (``archiver.sandbox.linkedin.ids``)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from archiver.itemstore import latest_versions, read_account_items
from archiver.sandbox.linkedin import ids
from archiver.sandbox.world import World
from archiver.storage import Bucket

from archive_checks import STOCKHOLM, nightly_run_after

ACCOUNT = "exempelby-li"
"""The world's LinkedIn Company Page, archived under the same name."""
PAGE = "90000001"
"""Its organization id."""


def linkedin_mismatches(bucket: Bucket, world: World, day: date) -> list[str]:
    """Return every difference between the archive as of ``day`` and what LinkedIn showed at
    the nightly run after it (items missing or different, items gone but not tombstoned)."""
    latest = latest_versions(read_account_items(bucket, "linkedin", ACCOUNT, until_day=day.isoformat()))
    shown = world.truth(ACCOUNT, nightly_run_after(day))
    midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=STOCKHOLM)
    next_day = {t.native_id for t in shown if t.kind == "post" and t.created_time >= midnight}

    def key(native_id: str, kind: str) -> str:
        return f"linkedin:{PAGE}:{ids.item_urn(native_id, kind)}"

    truth = {key(t.native_id, t.kind): t for t in shown if t.thread_id not in next_day}
    problems = []
    for item_key, expected in truth.items():
        row = latest.get(item_key)
        if row is None:
            problems.append(f"missing {expected.kind} {item_key}")
            continue
        parent_kind = "post" if expected.kind == "comment" else "comment"
        wanted = {
            "kind": expected.kind,
            "text": expected.text,
            "author_id": ids.author_urn(expected.author_id, PAGE),
            "parent_key": key(expected.parent_id, parent_kind) if expected.parent_id else None,
            "thread_key": key(expected.thread_id, "post"),
            "state": "present",
            "created_at": expected.created_time,
            "from_account": expected.author_id == PAGE,
        }
        got = {name: row[name] for name in wanted}
        if got != wanted:
            problems.append(f"{item_key}: archived {got} but LinkedIn shows {wanted}")
    for item_key, row in latest.items():
        if item_key not in truth and row["state"] != "deleted_at_source":
            created = row["created_at"]
            if row["kind"] == "post" and created and created >= midnight:
                continue
            problems.append(f"{item_key} ({row['kind']}) is gone from LinkedIn but not tombstoned")
    return problems
