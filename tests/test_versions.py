"""Versioning rules: what becomes a new version, and what becomes a tombstone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from archiver.connectors.base import CaptureWindow, Observation
from archiver.items import item_key
from archiver.versions import RunContext, new_versions, tombstones

NOW = datetime(2026, 11, 3, 1, 0, tzinfo=UTC)
WINDOW = CaptureWindow(day=date(2026, 11, 2), since=NOW - timedelta(days=30), until=NOW)


def observation(native_id: str, kind: str = "comment", text: str = "Hej", **extra: Any) -> Observation:
    thread = "1_1" if kind != "post" else native_id
    obs: dict[str, Any] = {
        "item_key": item_key("facebook", "1", native_id),
        "platform": "facebook",
        "account_id": "1",
        "kind": kind,
        "native_id": native_id,
        "parent_key": None if kind == "post" else item_key("facebook", "1", thread),
        "thread_key": item_key("facebook", "1", thread),
        "author_id": "42",
        "author_name": "Anna Andersson",
        "from_account": False,
        "record_class": "inkommen",
        "text": text,
        "attachments": [],
        "permalink": None,
        "created_at": NOW - timedelta(days=1),
        "edited_at": None,
        "visibility": "public",
        "state": "present",
        "source_json": "{}",
    }
    obs.update(extra)
    return obs  # type: ignore[return-value]


def context(run: str = "acct_20261103T010000Z") -> RunContext:
    return RunContext(run_id=run, observed_at=NOW, window=WINDOW, warc_key=f"raw/{run}.warc.gz")


def first_run(*observations: Observation) -> dict[str, dict[str, Any]]:
    rows = new_versions([(o, {"raw_ref": "r#1", "raw_sha256": "x"}) for o in observations], {}, context())
    return {row["item_key"]: row for row in rows}


def test_first_sighting_is_version_one_and_unchanged_content_writes_nothing() -> None:
    latest = first_run(observation("1_10"))
    assert [row["version"] for row in latest.values()] == [1]
    again = new_versions([(observation("1_10"), {"raw_ref": "r#2", "raw_sha256": "y"})], latest, context("b"))
    assert again == []


def test_edit_hide_and_unhide_each_make_a_new_version_keeping_first_seen() -> None:
    latest = first_run(observation("1_10"))
    edited = new_versions([(observation("1_10", text="Hej igen"), {})], latest, context("b"))
    assert [(r["version"], r["text"]) for r in edited] == [(2, "Hej igen")]
    assert edited[0]["first_seen_at"] == latest[edited[0]["item_key"]]["first_seen_at"]
    latest = {edited[0]["item_key"]: edited[0]}
    hidden = new_versions(
        [(observation("1_10", text="Hej igen", visibility="hidden", state="hidden"), {})],
        latest,
        context("c"),
    )
    assert [(r["version"], r["state"]) for r in hidden] == [(3, "hidden")]
    latest = {hidden[0]["item_key"]: hidden[0]}
    unhidden = new_versions([(observation("1_10", text="Hej igen"), {})], latest, context("d"))
    assert [(r["version"], r["state"]) for r in unhidden] == [(4, "present")]


def test_a_comment_missing_from_a_rechecked_thread_gets_a_tombstone_with_its_last_text() -> None:
    latest = first_run(
        observation("1_1", kind="post"), observation("1_10"), observation("1_11", text="Borta")
    )
    seen = {item_key("facebook", "1", "1_1"), item_key("facebook", "1", "1_10")}
    rows = tombstones(latest, seen, context("b"))
    assert [(r["native_id"], r["state"], r["version"], r["text"]) for r in rows] == [
        ("1_11", "deleted_at_source", 2, "Borta")
    ]
    assert rows[0]["raw_ref"] == "raw/b.warc.gz"


def test_a_deleted_post_takes_its_comments_but_old_posts_outside_the_window_are_not_judged() -> None:
    old = observation("1_2", kind="post", created_at=NOW - timedelta(days=90))
    old_comment = observation("1_20", thread_key=item_key("facebook", "1", "1_2"))
    latest = first_run(observation("1_1", kind="post"), observation("1_10"), old, old_comment)
    rows = tombstones(latest, set(), context("b"))
    assert sorted(r["native_id"] for r in rows) == ["1_1", "1_10"]
    assert tombstones({**latest, **{r["item_key"]: r for r in rows}}, set(), context("c")) == []


def test_a_root_or_thread_the_platform_would_not_tell_about_keeps_its_comments() -> None:
    latest = first_run(observation("1_1", kind="post"), observation("1_10"), observation("1_11"))
    post, comment = item_key("facebook", "1", "1_1"), item_key("facebook", "1", "1_10")
    # the post's lookup failed (or its comments could not be listed): nothing in it is judged
    assert tombstones(latest, set(), context(), unsure={post}) == []
    # the post was listed but one comment is listed without its content: only the other goes
    gone = tombstones(latest, {post}, context(), unsure={comment})
    assert [row["native_id"] for row in gone] == ["1_11"]
