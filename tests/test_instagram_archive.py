"""Instagram end to end: three simulated days of the sandbox's Instagram account into a real SeaweedFS.

The sandbox speaks the Instagram Graph wire format (IG ids, ``timestamp``, ``hidden``, carousels,
conversations with message details for only the newest few: ``instagram_readable_messages`` is
lowered to 3 so the small world meets the limit). The archive must hold what the platform
showed each night, keep messages it captured before they became unreadable, report the
unreadable ones as gaps, and survive throttling that exhausts a run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from archiver.itemstore import latest_versions, read_account_items
from archiver.manifest import chain_head
from archiver.pipeline import Outcome, archive_day
from archiver.report import format_report
from archiver.sandbox.world import SandboxAccount, World
from archiver.stack import start_stack, stop_stack
from archiver.storage import Bucket

from archive_checks import FIRST_DAY, archive_env, nightly_run_after, write_accounts_file
from conftest import S3Stack, SandboxFactory, SandboxServer
from instagram_checks import instagram_key
from instagram_checks import readable_messages as instagram_readable_messages
from instagram_checks import truth_mismatches as instagram_truth_mismatches

pytestmark = pytest.mark.slow
DAYS = 3
READABLE = 3
FAULTS: dict[str, Any] = {
    "throttle_every": 3,
    "server_error_every": 5,
    "instagram_readable_messages": READABLE,
}
ACCOUNT = "exempelby-ig"
GAP = "instagram_messages_beyond_newest_20"


@dataclass
class Archive:
    """A bucket filled by three simulated days of the Instagram account."""

    stack: S3Stack
    sandbox: SandboxServer
    bucket: Bucket
    env: dict[str, str]
    outcomes: list[Outcome]

    @property
    def account(self) -> SandboxAccount:
        return self.sandbox.world.account(ACCOUNT)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    directory = tmp_path_factory.mktemp("ig-e2e")
    start_stack(directory / "stack", retention_days=1, sandbox=False)
    sandboxes = SandboxFactory(directory)
    try:
        stack = S3Stack.open(directory / "stack")
        sandbox = sandboxes(seed=11, accounts=1, items_per_day=40, faults=FAULTS, platforms=("instagram",))
        accounts = write_accounts_file(sandbox.world, sandbox.base_url, directory / "accounts.yaml")
        env = archive_env(stack.env("archiver"), sandbox.world, accounts)
        with pytest.MonkeyPatch.context() as patch:
            for name, value in env.items():
                patch.setenv(name, value)
            outcomes = []
            for offset in range(DAYS):
                day = FIRST_DAY + timedelta(days=offset)
                sandbox.set_clock(nightly_run_after(day))
                outcomes += archive_day(day, accounts=[ACCOUNT])
        yield Archive(stack, sandbox, Bucket(stack.bucket, stack.client("archiver")), env, outcomes)
    finally:
        sandboxes.stop_all()
        stop_stack(directory / "stack")


def truth_mismatches(bucket: Bucket, world: World, account: SandboxAccount, day: date) -> list[str]:
    """Return the Instagram check's differences with this world's few readable messages."""
    return instagram_truth_mismatches(bucket, world, account, day, READABLE)


def readable_messages(world: World, account: SandboxAccount, at: datetime) -> set[str]:
    """Return the world ids of the messages whose details this sandbox serves at ``at``."""
    return instagram_readable_messages(world, account, at, READABLE)


def test_every_day_completes_despite_throttling_and_server_errors(archive: Archive) -> None:
    assert [(o.day, o.status, o.error) for o in archive.outcomes] == [
        ((FIRST_DAY + timedelta(days=n)).isoformat(), "complete", None) for n in range(DAYS)
    ]
    requests = [o.run["requests"] for o in archive.outcomes if o.run]
    assert sum(r["throttled"] for r in requests) > 0 and sum(r["server_errors"] for r in requests) > 0


@pytest.mark.parametrize("offset", range(DAYS))
def test_each_day_the_archive_holds_what_instagram_showed(archive: Archive, offset: int) -> None:
    day = FIRST_DAY + timedelta(days=offset)
    assert truth_mismatches(archive.bucket, archive.sandbox.world, archive.account, day) == []


def test_versions_hides_tombstones_and_direct_messages(archive: Archive) -> None:
    rows = read_account_items(archive.bucket, "instagram", ACCOUNT).to_pylist()
    kinds = {str(r["kind"]) for r in rows}
    assert {"post", "comment", "reply", "conversation", "message"} <= kinds
    assert any(r["state"] == "hidden" and r["visibility"] == "hidden" for r in rows)
    assert any(r["state"] == "deleted_at_source" and r["kind"] in ("comment", "reply") for r in rows)
    by_key: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_key.setdefault(str(row["item_key"]), []).append(row)
    captions = [v for v in by_key.values() if v[0]["kind"] == "post" and len({r["text"] for r in v}) > 1]
    assert captions, "an edited caption must be kept as a new version"
    media = [a for r in rows if r["kind"] == "post" for a in r["attachments"]]
    assert media and all(a["media_sha256"] and a["type"] == "photo" for a in media)
    assert {r["record_class"] for r in rows} == {"upprättad", "inkommen"}


def test_messages_that_became_unreadable_are_kept_and_reported(archive: Archive) -> None:
    world, account = archive.sandbox.world, archive.account
    last = FIRST_DAY + timedelta(days=DAYS - 1)
    latest = latest_versions(read_account_items(archive.bucket, "instagram", ACCOUNT))
    now_readable = readable_messages(world, account, nightly_run_after(last))
    state = world.account_state(ACCOUNT, int(nightly_run_after(last).timestamp()))
    kept = [
        m.native_id
        for thread in state.conversations
        for m in state.children(thread)
        if m.native_id not in now_readable and instagram_key(m.native_id, account) in latest
    ]
    assert kept, "a message captured while readable must stay in the archive once it is not"
    assert all(latest[instagram_key(m, account)]["state"] == "present" for m in kept)
    manifest = json.loads(archive.bucket.get(archive.outcomes[-1].run["manifest"]["key"]))  # type: ignore[index]
    gaps = [gap for gap in manifest["report"]["gaps"] if gap["kind"] == GAP]
    unreadable = sum(max(0, len(state.children(t)) - READABLE) for t in state.conversations)
    assert gaps and sum(gap["unreadable"] for gap in gaps) == unreadable
    assert all(gap["listed"] > READABLE and gap["conversation"].startswith("aWdf") for gap in gaps)
    text = format_report(manifest["report"])
    assert f"GAP {GAP}" in text and "older than the newest 20" in text


def test_throttling_past_the_retries_fails_resumably_and_the_next_run_completes(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {**archive.env, "ARCHIVER_HTTP_MAX_ATTEMPTS": "2"}.items():
        monkeypatch.setenv(name, value)
    day = FIRST_DAY + timedelta(days=DAYS)
    archive.sandbox.set_clock(nightly_run_after(day))
    archive.sandbox.set_faults({**FAULTS, "throttle_every": 1})
    try:
        [failed] = archive_day(day, accounts=[ACCOUNT])
    finally:
        archive.sandbox.set_faults({"instagram_readable_messages": READABLE})
    assert failed.status == "failed" and "throttled" in str(failed.error)
    head = chain_head(archive.bucket, ACCOUNT)
    assert head is not None
    manifest = json.loads(archive.bucket.get(head["ref"]["key"]))
    assert manifest["status"] == "failed" and manifest["report"]["requests"]["throttled"] >= 2
    assert [o["key"] for o in manifest["objects"] if o["key"].startswith("raw/")], "the partial WARC is kept"
    [again] = archive_day(day, accounts=[ACCOUNT])
    assert again.status == "complete"
    assert truth_mismatches(archive.bucket, archive.sandbox.world, archive.account, day) == []
