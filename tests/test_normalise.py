"""The normalise stage on a real bucket: bad payloads are quarantined, the rest goes on."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from archiver.config import Settings
from archiver.itemstore import read_account_items
from archiver.normalise import normalise_run
from archiver.pipeline import renormalise
from archiver.runs import RunRecord, capture_window, window_to_dict
from archiver.storage import Bucket
from archiver.warc import Redactor, WarcRecorder

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


def captured_run(bucket: Bucket, account: str) -> RunRecord:
    """Store a WARC holding one good and one truncated response; return its run record."""
    started = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    run_id = f"{account}_{started:%Y%m%dT%H%M%S%fZ}"
    window = window_to_dict(capture_window(date(2026, 11, 1), Settings()))
    info = {"run_id": run_id, "account": account, "day": "2026-11-01", "window": window}
    recorder = WarcRecorder(Redactor([]), {**info, "started_at": started.isoformat()})
    recorder.record(
        "GET",
        "https://graph.test/v26.0/1/feed?limit=100",
        [],
        "200 OK",
        JSON,
        json.dumps(GOOD_PAGE).encode(),
        "api",
    )
    recorder.record(
        "GET", "https://graph.test/v26.0/1/conversations?limit=100", [], "200 OK", JSON, BROKEN_BODY, "api"
    )
    key = f"raw/facebook/{account}/2026/11/01/{run_id}.warc.gz"
    bucket.put(key, recorder.getvalue(), "application/warc")
    return RunRecord(
        run_id=run_id, account=account, platform="facebook", account_id="1", day="2026-11-01",
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


def test_normalising_the_same_run_again_writes_no_new_versions(s3_stack: S3Stack) -> None:
    bucket = Bucket(s3_stack.bucket, s3_stack.client("archiver"))
    run = captured_run(bucket, "renormalise-test")
    normalise_run(bucket, run)
    before = read_account_items(bucket, "facebook", "renormalise-test").num_rows

    again = normalise_run(bucket, run)

    assert read_account_items(bucket, "facebook", "renormalise-test").num_rows == before
    assert again["counts"]["versions"] == 0
    assert not [o for o in again["objects"] if o["key"].startswith("items/")]


def test_renormalise_turns_a_stored_warc_into_items_as_a_new_sealed_run(
    s3_stack: S3Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text(
        "organisation: O\naccounts:\n  - {name: renorm-test, platform: facebook, id: '1', token_env: T}\n",
        encoding="utf-8",
    )
    for name, value in {**s3_stack.env("archiver"), "ARCHIVER_ACCOUNTS_FILE": str(accounts)}.items():
        monkeypatch.setenv(name, value)
    bucket = Bucket(s3_stack.bucket, s3_stack.client("archiver"))
    stored = captured_run(bucket, "renorm-test")

    run = renormalise(str(stored["warc_key"]))

    assert run["status"] == "complete" and run["run_id"] != stored["run_id"]
    manifest = json.loads(bucket.get(run["manifest"]["key"]))
    assert manifest["warc_key"] == stored["warc_key"]
    assert any(
        o["key"].startswith("items/platform=facebook/account=renorm-test/") for o in manifest["objects"]
    )
    assert renormalise(str(stored["warc_key"]))["counts"]["versions"] == 0
