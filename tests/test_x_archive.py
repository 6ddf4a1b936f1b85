"""X end to end without Airflow: several simulated days of the X account from the sandbox into a
real SeaweedFS, compared with the world's truth; rate-limit exhaustion and a late catch-up run."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
import yaml

from archiver.itemstore import read_account_items
from archiver.pipeline import Outcome, archive_days
from archiver.report import format_report
from archiver.stack import start_stack, stop_stack
from archiver.storage import Bucket
from archiver.warc import read_exchanges

from archive_checks import FIRST_DAY, STOCKHOLM, archive_env, nightly_run_after
from conftest import S3Stack
from x_checks import X_ACCOUNT, XSandbox, truth_mismatches, x_sandbox

pytestmark = pytest.mark.slow
DAYS = 4
FAULTS = {"throttle_every": 7, "server_error_every": 11}
LATE = "exempelby-x-late"
"""A second archive of the same X account, captured late and under tight rate limits."""


@dataclass
class Archive:
    stack: S3Stack
    sandbox: XSandbox
    bucket: Bucket
    outcomes: list[Outcome]


def _accounts_file(sandbox: XSandbox, path: Path) -> Path:
    data = sandbox.world.accounts_file(sandbox.root_url)
    x_entry = data["accounts"][0]
    data["accounts"].append({**x_entry, "name": LATE})
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    directory = tmp_path_factory.mktemp("x-archive")
    start_stack(directory / "stack", retention_days=1, sandbox=False)
    try:
        stack = S3Stack.open(directory / "stack")
        with x_sandbox(faults=FAULTS) as sandbox, pytest.MonkeyPatch.context() as patch:
            accounts = _accounts_file(sandbox, directory / "accounts.yaml")
            for name, value in archive_env(stack.env("archiver"), sandbox.world, accounts).items():
                patch.setenv(name, value)
            outcomes = []
            for offset in range(DAYS):
                day = FIRST_DAY + timedelta(days=offset)
                sandbox.set_clock(nightly_run_after(day))
                outcomes += archive_days(day, 1, accounts=[X_ACCOUNT])
            yield Archive(stack, sandbox, Bucket(stack.bucket, stack.client("archiver")), outcomes)
    finally:
        stop_stack(directory / "stack")


def test_every_day_completes_despite_throttling_and_server_errors(archive: Archive) -> None:
    assert [(o.day, o.status, o.error) for o in archive.outcomes if o.status != "complete"] == []
    requests = [o.run["requests"] for o in archive.outcomes if o.run]
    assert sum(r["throttled"] for r in requests) > 0 and sum(r["server_errors"] for r in requests) > 0
    assert sum(o.run["counts"].get("roots_gone", 0) for o in archive.outcomes if o.run) > 0


@pytest.mark.parametrize("offset", range(DAYS))
def test_each_day_the_archive_holds_what_x_showed(archive: Archive, offset: int) -> None:
    day = FIRST_DAY + timedelta(days=offset)
    assert truth_mismatches(archive.bucket, archive.sandbox.world, X_ACCOUNT, day) == []


def test_edit_chains_are_versions_of_one_item_and_deletions_tombstones(archive: Archive) -> None:
    rows = all_rows_x(archive.bucket, X_ACCOUNT)
    by_key: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        by_key.setdefault(str(row["item_key"]), []).append(row)
    edited = [v for v in by_key.values() if len({r["text"] for r in v if r["state"] == "present"}) > 1]
    assert edited, "no edit was kept as a version"
    for versions in edited:
        chain = [
            json.loads(str(r["source_json"]))["edit_history_tweet_ids"] for r in versions if r["source_json"]
        ]
        assert all(ids[0] == versions[0]["native_id"] for ids in chain)
        assert len(chain[-1]) > 1 and str(versions[-1]["permalink"]).endswith("/status/" + chain[-1][-1])
        assert (
            versions[-1]["edited_at"] is not None and versions[-1]["edited_at"] > versions[-1]["created_at"]
        )
    tombstones = [r for r in rows if r["state"] == "deleted_at_source"]
    assert {"post", "comment"} <= {str(r["kind"]) for r in tombstones}
    kinds = Counter(str(r["kind"]) for r in rows)
    assert kinds["message"] > 0 and kinds["reply"] > 0 and kinds["conversation"] == 0
    assert kinds["post"] >= 4 and kinds["comment"] >= 10 and kinds["message"] >= 5
    assert {r["record_class"] for r in rows} == {"upprättad", "inkommen"}
    photos = [a for r in rows for a in r["attachments"] or [] if a["type"] == "photo"]
    assert photos and all(a["media_sha256"] for a in photos)


def test_each_manifest_reports_requests_cost_and_the_dm_window(archive: Archive) -> None:
    for outcome in archive.outcomes:
        assert outcome.run is not None and outcome.run["manifest"] is not None
        report = json.loads(archive.bucket.get(outcome.run["manifest"]["key"]))["report"]
        assert report["platform"] == "x" and report["requests"]["requests"] > 0
        assert report["resources"]["posts"] > 0 and report["resources"]["users"] > 0
        assert report["cost_usd"] == pytest.approx(
            0.005 * report["resources"]["posts"]
            + 0.010 * (report["resources"]["users"] + report["resources"].get("dm_events", 0))
            + 0.005 * report["resources"].get("media", 0),
            abs=1e-4,
        )
        text = format_report(report)
        assert "estimated cost: $" in text
    sunday = next(o for o in archive.outcomes if date.fromisoformat(o.day).weekday() == 6)
    assert sunday.run is not None
    gaps = json.loads(archive.bucket.get(sunday.run["manifest"]["key"]))["report"]["gaps"]
    assert [gap["kind"] for gap in gaps] == ["dm_history"], "the full sweep reaches past X's 30 days of DMs"


def test_exhausted_rate_limit_fails_resumably_and_a_late_run_searches_the_full_archive(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox, bucket = archive.sandbox, archive.bucket
    day = FIRST_DAY + timedelta(days=1)  # a Monday, captured 10 days late
    late = datetime.combine(day + timedelta(days=11), time(2, 0), tzinfo=STOCKHOLM)
    sandbox.set_clock(late)
    sandbox.set_faults({"throttle_every": 3})  # the third request: 429 until the reset
    monkeypatch.setenv("ARCHIVER_THROTTLE_MAX_WAIT", "0")
    [failed] = archive_days(day, 1, accounts=[LATE])
    assert failed.status == "failed" and "ARCHIVER_THROTTLE_MAX_WAIT" in str(failed.error)
    assert "next run catches up" in str(failed.error)
    listed = bucket.list(f"manifests/{day:%Y/%m/%d}/{LATE}_")
    manifests = [json.loads(bucket.get(obj.key)) for obj in listed]
    [manifest] = manifests
    assert manifest["status"] == "failed" and manifest["report"]["requests"]["throttled"] >= 1
    assert manifest["report"]["cost_usd"] > 0, "what the failed run read is still reported"
    warc = next(o["key"] for o in manifest["objects"] if o["key"].endswith(".warc.gz"))
    assert bucket.get(warc), "the partial WARC is kept"

    sandbox.set_faults({})
    [done] = archive_days(day, 1, accounts=[LATE])
    assert done.status == "complete", done.error
    assert done.run is not None
    urls = [exchange.url for exchange in read_exchanges(bucket.get(str(done.run["warc_key"])))]
    assert any("/2/tweets/search/all" in url for url in urls), "recent search covers 7 days only"
    assert truth_mismatches(bucket, sandbox.world, LATE, day, at=late) == []


def all_rows_x(bucket: Bucket, account: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = read_account_items(bucket, "x", account).to_pylist()
    return rows


def test_warcs_hold_no_token(archive: Archive) -> None:
    token = archive.sandbox.world.account(X_ACCOUNT).token
    for outcome in archive.outcomes:
        assert outcome.run is not None
        data = gzip.decompress(archive.bucket.get(str(outcome.run["warc_key"])))
        assert token.encode() not in data and b"REDACTED" in data
