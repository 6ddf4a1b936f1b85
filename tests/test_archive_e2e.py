"""End to end without Airflow: three simulated days of two Facebook Pages into a real SeaweedFS.

The sandbox throttles and fails now and then (deterministic faults); the archive must still
hold exactly what the platform showed each night, with versions, hides and tombstones.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from archiver.catalog import CATALOG_ACCOUNT
from archiver.cli import app
from archiver.manifest import chain_head
from archiver.pipeline import Outcome, archive_day, capture
from archiver.report import format_report
from archiver.runs import manifest_key
from archiver.stack import start_stack, stop_stack
from archiver.storage import Bucket
from archiver.warc import read_exchanges

from archive_checks import (
    FIRST_DAY,
    all_rows,
    archive_env,
    nightly_run_after,
    object_versions,
    readable_contents,
    truth_mismatches,
    write_accounts_file,
)
from conftest import S3Stack, SandboxFactory, SandboxServer

pytestmark = pytest.mark.slow
DAYS = 3
FAULTS = {"throttle_every": 9, "server_error_every": 13}


@dataclass
class Archive:
    """A bucket filled by three simulated days, and what was used to fill it."""

    stack: S3Stack
    sandbox: SandboxServer
    bucket: Bucket
    accounts_file: Path
    outcomes: list[Outcome]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    directory = tmp_path_factory.mktemp("e2e")
    start_stack(directory / "stack", retention_days=1, sandbox=False)
    sandboxes = SandboxFactory(directory)
    try:
        stack = S3Stack.open(directory / "stack")
        sandbox = sandboxes(seed=5, accounts=2, items_per_day=25, faults=FAULTS)
        accounts = write_accounts_file(sandbox.world, sandbox.base_url, directory / "accounts.yaml")
        with pytest.MonkeyPatch.context() as patch:
            for name, value in archive_env(stack.env("archiver"), sandbox.world, accounts).items():
                patch.setenv(name, value)
            outcomes = []
            for offset in range(DAYS):
                day = FIRST_DAY + timedelta(days=offset)
                sandbox.set_clock(nightly_run_after(day))
                outcomes += archive_day(day)
            yield Archive(stack, sandbox, Bucket(stack.bucket, stack.client("archiver")), accounts, outcomes)
    finally:
        sandboxes.stop_all()
        stop_stack(directory / "stack")


def test_every_account_and_day_completes_despite_throttling_and_server_errors(archive: Archive) -> None:
    assert [(o.account, o.day, o.status, o.error) for o in archive.outcomes if o.status != "complete"] == []
    assert len(archive.outcomes) == 2 * DAYS
    requests = [o.run["requests"] for o in archive.outcomes if o.run]
    assert sum(r["throttled"] for r in requests) > 0
    assert sum(r["server_errors"] for r in requests) > 0
    gone = sum(o.run["counts"].get("roots_gone", 0) for o in archive.outcomes if o.run)
    assert gone > 0, "a deleted post must be confirmed gone by lookup before its tombstone"


def test_each_manifest_carries_the_runs_report_with_requests_and_items_by_kind(archive: Archive) -> None:
    for outcome in archive.outcomes:
        assert outcome.run is not None and outcome.run["manifest"] is not None
        manifest = json.loads(archive.bucket.get(outcome.run["manifest"]["key"]))
        report = manifest["report"]
        assert report["requests"]["requests"] == manifest["requests"]["requests"] > 0
        assert report["items_by_kind"] and set(report["items_by_kind"]) <= {
            "post",
            "comment",
            "reply",
            "conversation",
            "message",
        }
        assert report["status"] == "complete" and report["gaps"] == []
        text = format_report(report)
        assert outcome.account in text and f"requests: {report['requests']['requests']}" in text


@pytest.mark.parametrize("offset", range(DAYS))
def test_each_day_the_archive_holds_what_the_platform_showed(archive: Archive, offset: int) -> None:
    day = FIRST_DAY + timedelta(days=offset)
    for account in archive.sandbox.world.accounts:
        assert truth_mismatches(archive.bucket, archive.sandbox.world, account.name, day) == []


def test_edits_hides_deletions_and_direct_messages_are_kept(archive: Archive) -> None:
    rows = [
        row for account in archive.sandbox.world.accounts for row in all_rows(archive.bucket, account.name)
    ]
    by_key: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        by_key.setdefault(str(row["item_key"]), []).append(row)
    edited = [
        v for v in by_key.values() if len({r["text"] for r in v if r["state"] != "deleted_at_source"}) > 1
    ]
    assert edited, "no edit was kept as a version"
    assert any(r["state"] == "hidden" for r in rows)
    tombstones = [r for r in rows if r["state"] == "deleted_at_source"]
    assert {"post", "comment"} <= {str(r["kind"]) for r in tombstones}
    assert tombstones and all(r["text"] is not None or r["kind"] == "conversation" for r in tombstones)
    kinds = Counter(str(r["kind"]) for r in rows)
    assert kinds["message"] > 0 and kinds["conversation"] > 0 and kinds["reply"] > 0
    assert {r["record_class"] for r in rows} == {"upprättad", "inkommen"}
    assert all(r["record_class"] == ("upprättad" if r["from_account"] else "inkommen") for r in rows)
    for versions in by_key.values():
        numbers = sorted(int(str(r["version"])) for r in versions)
        assert numbers == list(range(1, len(numbers) + 1))


def test_attachments_are_downloaded_and_stored_by_sha256(archive: Archive) -> None:
    rows = [
        row for account in archive.sandbox.world.accounts for row in all_rows(archive.bucket, account.name)
    ]
    attachments = [a for r in rows for a in r["attachments"] or []]
    assert attachments
    for attachment in attachments:
        assert (
            attachment["media_key"]
            == f"media/sha256/{attachment['media_sha256'][:2]}/{attachment['media_sha256']}"
        )
        assert archive.bucket.exists(attachment["media_key"])


def test_no_token_reaches_any_stored_object(archive: Archive) -> None:
    tokens = [account.token.encode() for account in archive.sandbox.world.accounts]
    leaks = [
        key
        for key, data in readable_contents(archive.stack.client("admin"), archive.stack.bucket)
        if any(t in data for t in tokens)
    ]
    assert leaks == []


def test_manifests_list_every_object_with_its_checksum_and_chain(archive: Archive) -> None:
    client = archive.stack.client("auditor")
    listed = set()
    for account in archive.sandbox.world.accounts:
        head = chain_head(archive.bucket, account.name)
        assert head is not None and head["sequence"] == DAYS
        ref = head["ref"]
        while ref:
            data = archive.bucket.get(ref["key"], ref["version_id"])
            manifest = json.loads(data)
            assert manifest["status"] == "complete"
            for obj in manifest["objects"]:
                listed.add(obj["key"])
                head_object = client.head_object(
                    Bucket=archive.stack.bucket,
                    Key=obj["key"],
                    VersionId=obj["version_id"],
                    ChecksumMode="ENABLED",
                )
                assert head_object["ContentLength"] == obj["size"]
                assert base64.b64decode(head_object["ChecksumSHA256"]).hex() == obj["sha256"]
            ref = manifest["previous"]
    ref = (chain_head(archive.bucket, CATALOG_ACCOUNT) or {}).get("ref")
    while ref:  # the bucket's READMEs and catalog pages, sealed on a chain of their own
        manifest = json.loads(archive.bucket.get(ref["key"], ref["version_id"]))
        listed |= {obj["key"] for obj in manifest["objects"]}
        ref = manifest["previous"]
    stored = {
        key for key, _ in object_versions(client, archive.stack.bucket) if not key.startswith("manifests/")
    }
    assert stored <= listed | {k for k in stored if k.startswith("media/")}
    assert "catalog/index.html" in listed and "README.sv.md" in listed


def test_a_second_run_of_a_day_writes_nothing(archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    last = FIRST_DAY + timedelta(days=DAYS - 1)
    _use_archive_env(archive, monkeypatch)
    before = object_versions(archive.stack.client("admin"), archive.stack.bucket)
    outcomes = archive_day(last)
    assert {o.status for o in outcomes} == {"skipped"}
    assert object_versions(archive.stack.client("admin"), archive.stack.bucket) == before


def test_an_expired_token_fails_only_that_account_and_says_which_token_to_renew(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use_archive_env(archive, monkeypatch)
    good, expired = archive.sandbox.world.accounts
    day = FIRST_DAY + timedelta(days=DAYS)
    archive.sandbox.set_clock(nightly_run_after(day))
    archive.sandbox.set_faults({"expired_tokens": [expired.token]})
    try:
        outcomes = {o.account: o for o in archive_day(day)}
    finally:
        archive.sandbox.set_faults(FAULTS)
    assert outcomes[good.name].status == "complete"
    assert outcomes[expired.name].status == "failed"
    assert expired.token_env in str(outcomes[expired.name].error)
    assert expired.token not in str(outcomes[expired.name].error)
    head = chain_head(archive.bucket, expired.name)
    assert head is not None
    failed = json.loads(archive.bucket.get(head["ref"]["key"]))
    assert failed["status"] == "failed" and expired.token_env in failed["error"]
    assert [o["key"] for o in failed["objects"] if o["key"].startswith("raw/")], "the partial WARC is kept"


def test_a_failed_capture_resumes_without_duplicate_versions(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use_archive_env(archive, monkeypatch)
    monkeypatch.setenv("ARCHIVER_HTTP_MAX_ATTEMPTS", "1")
    day = FIRST_DAY + timedelta(days=DAYS + 1)
    archive.sandbox.set_clock(nightly_run_after(day))
    archive.sandbox.set_faults({"server_error_every": 4})
    try:
        first = archive_day(day)
    finally:
        archive.sandbox.set_faults({})
    assert {o.status for o in first} == {"failed"}
    again = archive_day(day)
    assert {o.status for o in again} == {"complete"}
    for account in archive.sandbox.world.accounts:
        rows = all_rows(archive.bucket, account.name)
        assert len({(r["item_key"], r["version"]) for r in rows}) == len(rows)
        assert truth_mismatches(archive.bucket, archive.sandbox.world, account.name, day) == []


def _use_archive_env(archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    env = archive_env(archive.stack.env("archiver"), archive.sandbox.world, archive.accounts_file)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def test_the_run_command_reports_each_account_and_exits_non_zero_when_one_fails(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use_archive_env(archive, monkeypatch)
    good, expired = archive.sandbox.world.accounts
    day = FIRST_DAY + timedelta(days=DAYS + 2)
    archive.sandbox.set_clock(nightly_run_after(day))
    archive.sandbox.set_faults({"expired_tokens": [expired.token]})
    try:
        result = CliRunner().invoke(app, ["run", "--date", day.isoformat()])
    finally:
        archive.sandbox.set_faults({})
    assert result.exit_code == 1
    assert f"complete {day} {good.name}" in " ".join(result.stdout.split())
    assert f"FAILED {day} {expired.name}" in " ".join(result.stderr.split())
    assert expired.token_env in result.stderr


def test_a_broken_account_entry_and_an_unreachable_account_fail_alone(
    archive: Archive, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _use_archive_env(archive, monkeypatch)
    listed = yaml.safe_load(archive.accounts_file.read_text(encoding="utf-8"))
    listed["accounts"] += [
        {"name": "Ny Sida", "platform": "facebook", "id": "9", "token_env": "X"},
        {**listed["accounts"][0], "name": "nowhere-fb", "api_base": "http://127.0.0.1:9/v26.0"},
    ]
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text(yaml.safe_dump(listed, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("ARCHIVER_ACCOUNTS_FILE", str(accounts))
    monkeypatch.setenv("ARCHIVER_HTTP_MAX_ATTEMPTS", "2")
    day = FIRST_DAY + timedelta(days=DAYS + 3)
    archive.sandbox.set_clock(nightly_run_after(day))

    outcomes = {o.account: o for o in archive_day(day)}

    assert {name: o.status for name, o in outcomes.items()} == {
        **{a.name: "complete" for a in archive.sandbox.world.accounts},
        "Ny Sida": "failed",
        "nowhere-fb": "failed",
    }
    assert "lower-case letters" in str(outcomes["Ny Sida"].error)
    assert "could not reach" in str(outcomes["nowhere-fb"].error)


def test_a_post_or_conversation_missing_from_the_listings_but_alive_is_not_tombstoned(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use_archive_env(archive, monkeypatch)
    account = archive.sandbox.world.accounts[0]
    day = FIRST_DAY + timedelta(days=DAYS + 4)
    shown = archive.sandbox.world.truth(account.name, nightly_run_after(day))
    post = next(t.native_id for t in shown if t.kind == "post")
    conversation = next(t.native_id for t in shown if t.kind == "conversation")
    archive.sandbox.set_clock(nightly_run_after(day))
    archive.sandbox.set_faults({"unlisted_ids": [post, conversation]})
    try:
        [outcome] = archive_day(day, accounts=[account.name])
    finally:
        archive.sandbox.set_faults({})
    assert outcome.status == "complete" and outcome.run is not None
    counts = outcome.run["counts"]
    assert (counts["roots_unlisted"], counts["roots_gone"], counts["roots_unconfirmed"]) == (2, 0, 0)
    assert truth_mismatches(archive.bucket, archive.sandbox.world, account.name, day) == []


def test_each_tombstoned_post_has_the_platforms_does_not_exist_answer_in_its_warc(archive: Archive) -> None:
    rows = [
        row for account in archive.sandbox.world.accounts for row in all_rows(archive.bucket, account.name)
    ]
    gone_posts = [r for r in rows if r["kind"] == "post" and r["state"] == "deleted_at_source"]
    assert gone_posts
    for row in gone_posts:
        answers = [
            json.loads(exchange.body)["error"]
            for exchange in read_exchanges(archive.bucket.get(row["raw_ref"]))
            if exchange.status == 400 and f"/{row['native_id']}?" in exchange.url
        ]
        assert [(a["code"], a["error_subcode"]) for a in answers] == [(100, 33)]


def test_a_run_killed_before_its_seal_is_sealed_as_failed_by_the_next_run(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use_archive_env(archive, monkeypatch)
    account = archive.sandbox.world.accounts[1]
    day = FIRST_DAY + timedelta(days=DAYS + 5)
    archive.sandbox.set_clock(nightly_run_after(day))
    killed = capture(account.name, day.isoformat())  # then the task died: no normalise, no seal

    [outcome] = archive_day(day, accounts=[account.name])

    assert outcome.status == "complete"
    sealed = json.loads(archive.bucket.get(manifest_key(day.isoformat(), killed["run_id"])))
    assert sealed["status"] == "failed" and "interrupted" in sealed["error"]
    assert killed["warc_key"] in {o["key"] for o in sealed["objects"]}
    sequences = []
    ref = chain_head(archive.bucket, account.name)["ref"]  # type: ignore[index]
    while ref:
        manifest = json.loads(archive.bucket.get(ref["key"], ref["version_id"]))
        sequences.append(manifest["sequence"])
        ref = manifest["previous"]
    assert sequences == list(range(len(sequences), 0, -1)), "the account's chain is unbroken"
