"""LinkedIn end to end: several simulated days of a Company Page from the sandbox's
Community Management API into a real SeaweedFS, compared with the world's truth.

The sandbox throttles (bare 429) and fails now and then; the archive must still hold exactly
what LinkedIn showed each night: posts, comments and replies with their edits, and tombstones
for deleted ones (a post looked up by URN answers 404). Every run reports LinkedIn's gaps (no
DM API). A used-up daily limit and a retired API version end the run with a clear, resumable
error and a failed manifest that keeps what was received.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from archiver.itemstore import read_account_items
from archiver.manifest import chain_head
from archiver.pipeline import Outcome, archive_day
from archiver.report import format_report
from archiver.sandbox import platform_api
from archiver.sandbox.faults import FaultSet
from archiver.sandbox.linkedin import ids
from archiver.sandbox.server import SandboxServer, make_server
from archiver.sandbox.world import World, WorldConfig
from archiver.stack import start_stack, stop_stack
from archiver.storage import Bucket
from archiver.warc import read_exchanges

from archive_checks import archive_env, nightly_run_after, write_accounts_file
from conftest import S3Stack
from linkedin_checks import ACCOUNT, PAGE, linkedin_mismatches

pytestmark = pytest.mark.slow
FIRST_DAY = date(2026, 11, 1)
DAYS = 3
FAULTS: dict[str, Any] = {"throttle_every": 7, "server_error_every": 10}


@dataclass
class Archive:
    """A bucket filled by several simulated LinkedIn days, and the sandbox that served them."""

    stack: S3Stack
    server: SandboxServer
    world: World
    bucket: Bucket
    accounts_file: Path
    unlisted: str
    """World id of a live post the listings leave out."""
    outcomes: list[Outcome]

    def set_clock(self, now: datetime) -> None:
        self.server.app.clock.set(now)

    def set_faults(self, faults: dict[str, Any]) -> None:
        self.server.app.set_faults(FaultSet.from_dict(faults))


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    directory = tmp_path_factory.mktemp("linkedin")
    world = World(WorldConfig(seed=13, accounts=0, items_per_day=30, other_platforms=("linkedin",)))
    with pytest.MonkeyPatch.context() as patch:  # this world has only LinkedIn: load only its API
        patch.setattr(platform_api, "PLATFORM_APIS", {"linkedin": platform_api.PLATFORM_APIS["linkedin"]})
        unlisted = _kept_post(world)
        server = make_server(world, faults=FAULTS)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    start_stack(directory / "stack", retention_days=1, sandbox=False)
    try:
        stack = S3Stack.open(directory / "stack")
        root = f"http://127.0.0.1:{server.server_address[1]}"
        accounts = write_accounts_file(world, root, directory / "accounts.yaml")
        archived = Archive(
            stack, server, world, Bucket(stack.bucket, stack.client("archiver")), accounts, unlisted, []
        )
        with pytest.MonkeyPatch.context() as patch:
            for name, value in archive_env(stack.env("archiver"), world, accounts).items():
                patch.setenv(name, value)
            for offset in range(DAYS):
                day = FIRST_DAY + timedelta(days=offset)
                archived.set_clock(nightly_run_after(day))
                if offset == 2:
                    archived.set_faults({**FAULTS, "unlisted_ids": [unlisted]})
                archived.outcomes += archive_day(day)
            yield archived
    finally:
        server.shutdown()
        server.server_close()
        stop_stack(directory / "stack")


def _kept_post(world: World) -> str:
    """Return the world id of a post shown after the second day that lives through every
    archived day: from the third day on the listing leaves it out (fault ``unlisted_ids``), so
    only the lookup by URN finds it."""
    last = nightly_run_after(FIRST_DAY + timedelta(days=DAYS))
    alive = {t.native_id for t in world.truth(ACCOUNT, last) if t.kind == "post"}
    second = world.truth(ACCOUNT, nightly_run_after(FIRST_DAY + timedelta(days=1)))
    return next(t.native_id for t in second if t.kind == "post" and t.native_id in alive)


def _use_env(archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in archive_env(
        archive.stack.env("archiver"), archive.world, archive.accounts_file
    ).items():
        monkeypatch.setenv(name, value)


def test_every_day_completes_despite_throttling_and_server_errors(archive: Archive) -> None:
    assert [(o.day, o.status, o.error) for o in archive.outcomes if o.status != "complete"] == []
    requests = [o.run["requests"] for o in archive.outcomes if o.run]
    assert sum(r["throttled"] for r in requests) > 0
    assert sum(r["server_errors"] for r in requests) > 0
    assert sum(r["throttle_seconds"] for r in requests) == 0, "LinkedIn gives no Retry-After to honour"


@pytest.mark.parametrize("offset", range(DAYS))
def test_each_day_the_archive_holds_what_linkedin_showed(archive: Archive, offset: int) -> None:
    day = FIRST_DAY + timedelta(days=offset)
    assert linkedin_mismatches(archive.bucket, archive.world, day) == []


def test_edits_replies_and_deletions_are_kept_as_versions(archive: Archive) -> None:
    rows = read_account_items(archive.bucket, "linkedin", ACCOUNT).to_pylist()
    kinds = Counter(str(r["kind"]) for r in rows)
    assert kinds["post"] and kinds["comment"] and kinds["reply"]
    by_key: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_key.setdefault(row["item_key"], []).append(row)
    edited = [v for v in by_key.values() if len({r["text"] for r in v}) > 1]
    assert edited, "no edit was kept as a version"
    assert all(max(v, key=lambda r: r["version"])["edited_at"] is not None for v in edited)
    tombstones = [r for r in rows if r["state"] == "deleted_at_source"]
    assert {"post", "comment", "reply"} <= {r["kind"] for r in tombstones}
    assert all(r["text"] is not None for r in tombstones)
    assert {r["record_class"] for r in rows} == {"upprättad", "inkommen"}
    assert all(r["record_class"] == ("upprättad" if r["from_account"] else "inkommen") for r in rows)
    for versions in by_key.values():
        assert sorted(r["version"] for r in versions) == list(range(1, len(versions) + 1))


def test_a_post_left_out_of_the_listing_is_looked_up_and_kept(archive: Archive) -> None:
    key = f"linkedin:{PAGE}:{ids.post_urn(archive.unlisted)}"
    rows = [
        r for r in read_account_items(archive.bucket, "linkedin", ACCOUNT).to_pylist() if r["item_key"] == key
    ]
    assert rows and all(r["state"] != "deleted_at_source" for r in rows)
    assert sum(o.run["counts"].get("roots_unlisted", 0) for o in archive.outcomes if o.run) >= 1


def test_a_deleted_post_is_tombstoned_only_on_a_404_kept_in_the_warc(archive: Archive) -> None:
    gone = sum(o.run["counts"].get("roots_gone", 0) for o in archive.outcomes if o.run)
    assert gone > 0
    lookups = []
    for outcome in archive.outcomes:
        assert outcome.run is not None
        for exchange in read_exchanges(archive.bucket.get(str(outcome.run["warc_key"]))):
            if "/rest/posts/urn" in exchange.url:
                lookups.append(exchange.status)
    assert 404 in lookups


def test_requests_carry_the_version_headers_and_no_token_is_stored(archive: Archive) -> None:
    outcome = archive.outcomes[0]
    assert outcome.run is not None
    data = archive.bucket.get(str(outcome.run["warc_key"]))
    exchanges = list(read_exchanges(data))
    assert exchanges and all("/rest/" in e.url for e in exchanges if e.kind == "api")
    text = gzip.decompress(data)
    requests = text.lower().count(b"\r\nlinkedin-version: 202607\r\n")
    assert requests == len(exchanges)  # every request, answered or not
    assert text.lower().count(b"\r\nx-restli-protocol-version: 2.0.0\r\n") >= requests
    assert archive.world.accounts[0].token.encode() not in text


def test_each_manifest_reports_the_missing_dm_api(archive: Archive) -> None:
    for outcome in archive.outcomes:
        assert outcome.run is not None and outcome.run["manifest"] is not None
        manifest = json.loads(archive.bucket.get(outcome.run["manifest"]["key"]))
        report = manifest["report"]
        assert report["platform"] == "linkedin" and report["status"] == "complete"
        assert "direct_messages" in {gap["kind"] for gap in report["gaps"]}
        assert set(report["items_by_kind"]) <= {"post", "comment", "reply"}
        assert "GAP direct_messages" in format_report(report)


def test_a_used_up_daily_limit_fails_resumably_and_the_next_run_completes(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use_env(archive, monkeypatch)
    monkeypatch.setenv("ARCHIVER_HTTP_MAX_ATTEMPTS", "4")
    day = FIRST_DAY + timedelta(days=DAYS)
    archive.set_clock(nightly_run_after(day))
    archive.set_faults({**FAULTS, "linkedin_daily_limit": 3})
    try:
        [failed] = archive_day(day)
        assert failed.status == "failed" and failed.error is not None
        assert "429" in failed.error and "midnight UTC" in failed.error
        head = chain_head(archive.bucket, ACCOUNT)
        assert head is not None
        manifest = json.loads(archive.bucket.get(head["ref"]["key"]))
        assert manifest["status"] == "failed" and manifest["day"] == day.isoformat()
        assert "rate_limit" in {gap["kind"] for gap in manifest["report"]["gaps"]}
        assert manifest["requests"]["throttled"] >= 4
        assert [o for o in manifest["objects"] if o["key"].startswith("raw/")], "the partial WARC is kept"
    finally:
        archive.set_faults(FAULTS)
    [resumed] = archive_day(day)
    assert resumed.status == "complete"
    assert linkedin_mismatches(archive.bucket, archive.world, day) == []


def test_a_retired_api_version_fails_with_the_setting_to_change(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use_env(archive, monkeypatch)
    monkeypatch.setenv("ARCHIVER_LINKEDIN_VERSION", "202508")
    day = FIRST_DAY + timedelta(days=DAYS + 1)
    archive.set_clock(nightly_run_after(day))
    [outcome] = archive_day(day)
    assert outcome.status == "failed" and outcome.error is not None
    assert "426" in outcome.error and "ARCHIVER_LINKEDIN_VERSION" in outcome.error
    monkeypatch.setenv("ARCHIVER_LINKEDIN_VERSION", "202607")
    [resumed] = archive_day(day)
    assert resumed.status == "complete"
