"""YouTube end to end: three simulated days from the sandbox's Data API into a real SeaweedFS,
compared with the world's truth; and the daily quota running out mid-run.

The YouTube account is archived under its own names (``yt-e2e``, ``yt-quota``) so its objects
never mix with other tests' in the session bucket.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from archiver.itemstore import read_account_items
from archiver.pipeline import Outcome, archive_day
from archiver.report import format_report
from archiver.sandbox.application import SandboxApp
from archiver.sandbox.world import World, WorldConfig, to_unix
from archiver.storage import Bucket

from archive_checks import FIRST_DAY, STOCKHOLM, archive_env, nightly_run_after
from conftest import S3Stack, SandboxFactory, SandboxServer
from youtube_checks import WORLD_ACCOUNT, truth_mismatches

pytestmark = pytest.mark.slow
DAYS = 3
FAULTS = {"throttle_every": 11, "server_error_every": 17}


def write_youtube_accounts(server: SandboxServer, name: str, path: Path) -> Path:
    """Write an accounts file with only the world's YouTube account, archived as ``name``."""
    accounts = server.world.accounts_file(server.root_url)
    accounts["accounts"] = [{**a, "name": name} for a in accounts["accounts"] if a["platform"] == "youtube"]
    path.write_text(yaml.safe_dump(accounts, allow_unicode=True), encoding="utf-8")
    return path


@dataclass
class Archive:
    sandbox: SandboxServer
    bucket: Bucket
    outcomes: list[Outcome]


@pytest.fixture(scope="module")
def archive(s3_stack: S3Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    directory = tmp_path_factory.mktemp("youtube")
    sandboxes = SandboxFactory(directory)
    try:
        sandbox = sandboxes(seed=11, accounts=1, items_per_day=24, faults=FAULTS, platforms=("youtube",))
        accounts = write_youtube_accounts(sandbox, "yt-e2e", directory / "accounts.yaml")
        with pytest.MonkeyPatch.context() as patch:
            for name, value in archive_env(s3_stack.env("archiver"), sandbox.world, accounts).items():
                patch.setenv(name, value)
            outcomes = []
            for offset in range(DAYS):
                day = FIRST_DAY + timedelta(days=offset)
                sandbox.set_clock(nightly_run_after(day))
                outcomes += archive_day(day, accounts=["yt-e2e"])
            yield Archive(sandbox, Bucket(s3_stack.bucket, s3_stack.client("archiver")), outcomes)
    finally:
        sandboxes.stop_all()


def test_every_day_completes_despite_rate_limits_and_server_errors(archive: Archive) -> None:
    assert [(o.day, o.status, o.error) for o in archive.outcomes if o.status != "complete"] == []
    requests = [o.run["requests"] for o in archive.outcomes if o.run]
    assert sum(r["throttled"] for r in requests) > 0 and sum(r["server_errors"] for r in requests) > 0


@pytest.mark.parametrize("offset", range(DAYS))
def test_each_day_the_archive_holds_what_youtube_showed(archive: Archive, offset: int) -> None:
    day = FIRST_DAY + timedelta(days=offset)
    assert truth_mismatches(archive.bucket, archive.sandbox.world, "yt-e2e", day) == []


def test_edits_hides_held_comments_replies_and_deletions_are_versions(archive: Archive) -> None:
    rows: list[dict[str, Any]] = read_account_items(archive.bucket, "youtube", "yt-e2e").to_pylist()
    kinds = {row["kind"] for row in rows}
    assert {"post", "comment", "reply"} <= kinds
    assert any(row["state"] == "hidden" for row in rows), "held comments (heldForReview/likelySpam)"
    assert any(row["state"] == "deleted_at_source" for row in rows), "deleted comments are tombstoned"
    assert any(row["version"] > 1 and row["edited_at"] for row in rows), "edits (updatedAt) are versions"
    assert any(row["attachments"] and row["attachments"][0]["media_sha256"] for row in rows)
    assert all(row["platform"] == "youtube" for row in rows)


def test_each_manifest_reports_quota_units_and_the_missing_direct_messages(archive: Archive) -> None:
    for outcome in archive.outcomes:
        assert outcome.run is not None
        manifest = json.loads(archive.bucket.get(outcome.run["manifest"]["key"]))
        report = manifest["report"]
        requests = manifest["requests"]
        # every API request costs a unit; media downloads and refused requests do not
        assert 0 < report["quota_units"] <= requests["requests"]
        assert {gap["kind"] for gap in report["gaps"]} >= {"direct_messages", "video_files"}
        assert "quota units used" in format_report(report) and "GAP direct_messages" in format_report(report)


def test_the_daily_quota_runs_out_resumably_and_the_next_run_completes(
    s3_stack: S3Stack, tmp_path: Path
) -> None:
    sandboxes = SandboxFactory(tmp_path)
    try:
        sandbox = sandboxes(
            seed=12, accounts=1, items_per_day=12, faults={"youtube_daily_quota": 4}, platforms=("youtube",)
        )
        accounts = write_youtube_accounts(sandbox, "yt-quota", tmp_path / "accounts.yaml")
        bucket = Bucket(s3_stack.bucket, s3_stack.client("archiver"))
        with pytest.MonkeyPatch.context() as patch:
            for name, value in archive_env(s3_stack.env("archiver"), sandbox.world, accounts).items():
                patch.setenv(name, value)
            sandbox.set_clock(nightly_run_after(FIRST_DAY))
            (failed,) = archive_day(FIRST_DAY, accounts=["yt-quota"])
            assert failed.status == "failed" and failed.error is not None
            assert "quota" in failed.error and "midnight Pacific" in failed.error
            manifest = failed_manifest(bucket, "yt-quota", FIRST_DAY)
            assert manifest["status"] == "failed"
            assert manifest["report"]["quota_units"] == 4
            assert "quota_exhausted" in {gap["kind"] for gap in manifest["report"]["gaps"]}
            warcs = [o["key"] for o in manifest["objects"] if o["key"].startswith("raw/youtube/yt-quota/")]
            assert warcs and bucket.exists(warcs[0]), "the partial WARC is kept"

            first_video = sandbox.world.account_state(WORLD_ACCOUNT, to_unix(nightly_run_after(FIRST_DAY))).posts
            disabled = [first_video[-1].native_id] if first_video else []
            sandbox.set_faults({"youtube_comments_disabled": disabled})  # the quota was raised
            (done,) = archive_day(FIRST_DAY, accounts=["yt-quota"])
            assert done.status == "complete", done.error
            assert done.run is not None
            gaps = {gap["kind"] for gap in done.run["report"]["gaps"]}
            assert not disabled or "comments_disabled" in gaps
    finally:
        sandboxes.stop_all()


def failed_manifest(bucket: Bucket, account: str, day: date) -> dict[str, Any]:
    """Return the manifest of the account's run for ``day`` (the only one)."""
    prefix = f"manifests/{day:%Y/%m/%d}/"
    for listed in bucket.list(prefix):
        manifest: dict[str, Any] = json.loads(bucket.get(listed.key))
        if manifest.get("account") == account:
            return manifest
    raise AssertionError(f"no manifest for {account} under {prefix}")


def test_quota_resets_at_midnight_pacific() -> None:
    world = World(WorldConfig(seed=3, accounts=1, items_per_day=5, other_platforms=("youtube",)))
    evening = datetime(2026, 11, 2, 23, 30, tzinfo=STOCKHOLM)  # 14:30 Pacific
    app = SandboxApp(world, {"youtube_daily_quota": 2}, now=evening)
    account = world.account(WORLD_ACCOUNT)
    headers = {"Authorization": f"Bearer {account.token}"}
    target = f"/youtube/v3/channels?part=contentDetails&id={account.page_id}"

    def status() -> tuple[int, str]:
        answer = app.handle("GET", target, headers, b"", "127.0.0.1:9")
        reasons = [e["reason"] for e in json.loads(answer.body).get("error", {}).get("errors", [])]
        return answer.status, ",".join(reasons)

    assert [status(), status()] == [(200, ""), (200, "")]
    assert status() == (403, "quotaExceeded")
    app.clock.set(datetime(2026, 11, 3, 8, 59, tzinfo=STOCKHOLM))  # 23:59 Pacific: same day
    assert status() == (403, "quotaExceeded")
    app.clock.set(datetime(2026, 11, 3, 9, 1, tzinfo=STOCKHOLM))  # 00:01 Pacific: a new day
    assert status() == (200, "")
    assert status()[0] == 200 and status() == (403, "quotaExceeded")
