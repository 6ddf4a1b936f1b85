"""The normalise stage on a real bucket: bad payloads are quarantined, the rest goes on."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from archiver.config import Settings
from archiver.connectors import get_connector
from archiver.errors import ArchiverError
from archiver.itemstore import read_account_items
from archiver.manifest import completed_run, seal_run
from archiver.normalise import normalise_run, parse_exchanges
from archiver.pipeline import renormalise
from archiver.runs import RunRecord, capture_window, window_to_dict
from archiver.storage import Bucket
from archiver.warc import Redactor, WarcRecorder, read_exchanges

from conftest import S3Stack

JSON = [("Content-Type", "application/json; charset=UTF-8")]
GOOD_PAGE = {
    "data": [
        {
            "id": "1_2",
            "created_time": "2026-11-01T10:00:00+0000",
            "message": "Välkommen till biblioteket! 📚",
            "from": {"id": "1", "name": "Exempelby kommun"},
        }
    ]
}
BROKEN_BODY = b'{"data": [{"id": "t_1", "updated_time": '
GRAPH = "https://graph.test/v26.0/1"


def captured_run(
    bucket: Bucket,
    account: str,
    *,
    broken: str | None = "conversations",
    with_post: bool = True,
    second: bool = False,
) -> RunRecord:
    """Store a WARC holding a feed page (with or without its post) and a truncated page of the
    ``broken`` listing (if any); return its run record (``second``: the next night's run)."""
    day = date(2026, 11, 2 if second else 1)
    started = datetime.combine(day + timedelta(days=1), time(1, 0), tzinfo=UTC)
    run_id = f"{account}_{started:%Y%m%dT%H%M%S%fZ}"
    window = window_to_dict(capture_window(day, Settings(full_sweep_weekday=-1)))
    info = {"run_id": run_id, "account": account, "day": day.isoformat(), "window": window}
    recorder = WarcRecorder(Redactor([]), {**info, "started_at": started.isoformat()})
    page = GOOD_PAGE if with_post else {"data": []}
    if broken != "feed":
        recorder.record(
            "GET", f"{GRAPH}/feed?limit=100", [], "200 OK", JSON, json.dumps(page).encode(), "api"
        )
    if broken:
        recorder.record("GET", f"{GRAPH}/{broken}?limit=100", [], "200 OK", JSON, BROKEN_BODY, "api")
    key = f"raw/facebook/{account}/{day:%Y/%m/%d}/{run_id}.warc.gz"
    bucket.put(key, recorder.getvalue(), "application/warc")
    return RunRecord(
        run_id=run_id, account=account, platform="facebook", account_id="1", day=day.isoformat(),
        status="captured", error=None, warc_key=key, window=window, started_at=started.isoformat(),
        objects=[], counts={},
    )  # fmt: skip


def test_a_malformed_response_is_quarantined_with_its_bytes_and_the_rest_is_normalised(
    s3_stack: S3Stack,
) -> None:
    bucket = Bucket(s3_stack.bucket, s3_stack.client("archiver"))
    run = captured_run(bucket, "quarantine-test")

    result = normalise_run(bucket, run)

    rows = read_account_items(bucket, "facebook", "quarantine-test").to_pylist()
    assert [(r["native_id"], r["text"]) for r in rows] == [("1_2", "Välkommen till biblioteket! 📚")]
    assert rows[0]["raw_ref"].startswith(f"{run['warc_key']}#<urn:uuid:")
    assert result["counts"]["quarantined"] == 1
    report_key = next(o["key"] for o in result["objects"] if o["key"].endswith("report.json"))
    [problem] = json.loads(bucket.get(report_key))["problems"]
    assert "conversations" in problem["url"] and "DecodeError" in problem["error"]
    assert "archiver renormalise" in problem["what_to_do"]
    assert bucket.get(problem["body_key"]) == BROKEN_BODY


def test_normalising_the_same_run_again_writes_nothing_but_still_lists_its_items_file(
    s3_stack: S3Stack,
) -> None:
    bucket = Bucket(s3_stack.bucket, s3_stack.client("archiver"))
    run = captured_run(bucket, "renormalise-test")
    first = normalise_run(bucket, run)
    before = read_account_items(bucket, "facebook", "renormalise-test").num_rows

    again = normalise_run(bucket, run)

    assert read_account_items(bucket, "facebook", "renormalise-test").num_rows == before
    assert again["counts"]["versions"] == 0
    items = [o for o in first["objects"] if o["key"].startswith("items/")]
    assert items and [o for o in again["objects"] if o["key"].startswith("items/")] == items


def use_accounts(s3_stack: S3Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, account: str) -> Bucket:
    """Point the environment at the test bucket and an accounts file listing ``account``."""
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text(
        f"organisation: O\naccounts:\n  - {{name: {account}, platform: facebook, id: '1', token_env: T}}\n",
        encoding="utf-8",
    )
    for name, value in {**s3_stack.env("archiver"), "ARCHIVER_ACCOUNTS_FILE": str(accounts)}.items():
        monkeypatch.setenv(name, value)
    return Bucket(s3_stack.bucket, s3_stack.client("archiver"))


def test_renormalise_adds_only_items_never_held_as_a_new_sealed_run(
    s3_stack: S3Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = use_accounts(s3_stack, tmp_path, monkeypatch, "renorm-test")
    stored = seal_run(bucket, captured_run(bucket, "renorm-test"))  # sealed, never normalised

    run = renormalise(str(stored["warc_key"]))

    assert run["status"] == "complete" and run["run_id"] != stored["run_id"]
    manifest = json.loads(bucket.get(run["manifest"]["key"]))
    assert (manifest["warc_key"], manifest["purpose"]) == (stored["warc_key"], "renormalise")
    rows = read_account_items(bucket, "facebook", "renorm-test").to_pylist()
    assert [(r["native_id"], r["version"]) for r in rows] == [("1_2", 1)]
    assert renormalise(str(stored["warc_key"]))["counts"]["versions"] == 0
    assert completed_run(bucket, "renorm-test", "2026-11-01") == stored["manifest"]["key"]


def test_renormalise_refuses_the_warc_of_a_failed_capture(
    s3_stack: S3Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = use_accounts(s3_stack, tmp_path, monkeypatch, "renorm-failed")
    failed = captured_run(bucket, "renorm-failed")
    failed["status"], failed["error"] = "failed", "HTTP 500"
    seal_run(bucket, failed)

    with pytest.raises(ArchiverError, match="--force"):
        renormalise(str(failed["warc_key"]))
    assert read_account_items(bucket, "facebook", "renorm-failed").num_rows == 0


@pytest.mark.parametrize(("broken", "tombstoned", "withheld"), [("conversations", 1, 0), ("feed", 0, 1)])
def test_a_quarantined_listing_withholds_only_the_tombstones_it_puts_in_doubt(
    s3_stack: S3Stack, broken: str, tombstoned: int, withheld: int
) -> None:
    account = f"withhold-{broken}"
    bucket = Bucket(s3_stack.bucket, s3_stack.client("archiver"))
    assert normalise_run(bucket, captured_run(bucket, account, broken=None))["counts"]["new"] == 1
    later = captured_run(bucket, account, broken=broken, with_post=False, second=True)

    counts = normalise_run(bucket, later)["counts"]

    assert (counts.get("tombstones", 0), counts["tombstones_withheld"]) == (tombstoned, withheld)


def test_sealing_twice_keeps_the_first_manifest(s3_stack: S3Stack) -> None:
    bucket = Bucket(s3_stack.bucket, s3_stack.client("archiver"))
    run = normalise_run(bucket, captured_run(bucket, "seal-twice"))
    first = seal_run(bucket, run)
    again = seal_run(bucket, run)
    assert again["manifest"]["version_id"] == first["manifest"]["version_id"]
    versions = bucket.client.list_object_versions(Bucket=bucket.name, Prefix=first["manifest"]["key"])
    assert len(versions["Versions"]) == 1


def test_media_reached_through_a_redirect_is_linked_to_the_attachment() -> None:
    recorder = WarcRecorder(Redactor([]), {})
    photo = "https://cdn.test/p.jpg?oe=1"
    page = {"data": [{"id": "1_3", "created_time": "2026-11-01T10:00:00+0000", "message": "Bild",
                      "attachments": {"data": [{"media_type": "photo", "media": {"image": {"src": photo}}}]}}]}  # fmt: skip
    recorder.record("GET", f"{GRAPH}/feed", [], "200 OK", JSON, json.dumps(page).encode(), "api")
    recorder.record("GET", photo, [], "302 Found", [("Location", "https://cdn2.test/p.jpg")], b"", "media")
    recorder.record(
        "GET", "https://cdn2.test/p.jpg", [], "200 OK", [("Content-Type", "image/jpeg")], b"jpeg", "media"
    )

    parsed = parse_exchanges(get_connector("facebook"), read_exchanges(recorder.getvalue()), "1", "k")

    assert parsed.media[photo]["size"] == 4


def test_a_run_sealed_as_failed_is_not_normalised_again(s3_stack: S3Stack) -> None:
    bucket = Bucket(s3_stack.bucket, s3_stack.client("archiver"))
    run = captured_run(bucket, "sealed-failed")
    failed = RunRecord(**run)
    failed["status"], failed["error"] = "failed", "normalise failed: S3 was down"
    seal_run(bucket, failed)

    with pytest.raises(ArchiverError, match="capture the day afresh"):
        normalise_run(bucket, run)
    assert read_account_items(bucket, "facebook", "sealed-failed").num_rows == 0
