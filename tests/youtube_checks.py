"""YouTube archive checks: the archive compared with the sandbox world's truth through the
sandbox's YouTube ids (``archiver.sandbox.youtube.ids``)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from archiver.itemstore import latest_versions, read_account_items
from archiver.sandbox.world import TruthItem, World, to_unix
from archiver.sandbox.youtube import ids
from archiver.sandbox.youtube.resources import video_text
from archiver.storage import Bucket

from archive_checks import STOCKHOLM, nightly_run_after

WORLD_ACCOUNT = "exempelby-yt"
"""The world's YouTube account (it may be archived under another name)."""


def youtube_ids(shown: list[TruthItem]) -> dict[str, str]:
    """Return the YouTube id the sandbox gives each live world item (parents are live too)."""
    found = {}
    for item in shown:
        if item.kind == "post":
            found[item.native_id] = ids.video_id(item.native_id)
        else:
            found[item.native_id] = ids.comment_id(
                item.native_id, item.parent_id if item.kind == "reply" else None
            )
    return found


def truth_mismatches(bucket: Bucket, world: World, archived_as: str, day: date) -> list[str]:
    """Return every difference between the archive as of ``day`` and what YouTube showed at the
    nightly run after it (ids, kinds, texts, authors, parent links, hidden state, attachments),
    and items gone from YouTube but not tombstoned."""
    channel = world.account(WORLD_ACCOUNT).page_id
    latest = latest_versions(read_account_items(bucket, "youtube", archived_as, until_day=day.isoformat()))
    state = world.account_state(WORLD_ACCOUNT, to_unix(nightly_run_after(day)))
    shown = state.truth()
    midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=STOCKHOLM)
    next_day = {t.native_id for t in shown if t.kind == "post" and t.created_time >= midnight}

    youtube = youtube_ids(shown)

    def key(native_id: str) -> str:
        return f"youtube:{channel}:{youtube[native_id]}"

    truth = {key(t.native_id): t for t in shown if t.thread_id not in next_day}
    problems = []
    for item_key, expected in truth.items():
        row = latest.get(item_key)
        if row is None:
            problems.append(f"missing {expected.kind} {item_key}")
            continue
        is_post = expected.kind == "post"
        wanted = {
            "kind": expected.kind,
            "text": video_text(expected.text or "") if is_post else expected.text,
            "author_id": ids.channel_id(expected.author_id, channel),
            "author_name": expected.author_name,
            "parent_key": key(expected.parent_id) if expected.parent_id else None,
            "thread_key": key(expected.thread_id),
            "state": "hidden" if expected.hidden else "present",
            "attachments": min(1, expected.attachment_count) if is_post else expected.attachment_count,
        }
        got = {name: row[name] for name in wanted if name != "attachments"}
        got["attachments"] = len(row["attachments"] or [])
        if got != wanted:
            problems.append(f"{item_key}: archived {got} but YouTube shows {wanted}")
    for item_key, row in latest.items():
        if item_key not in truth and row["state"] != "deleted_at_source":
            problems.append(f"{item_key} ({row['kind']}) is gone from YouTube but not tombstoned")
    return problems
