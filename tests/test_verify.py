"""``archiver verify`` and ``archiver.verify.audit``: scopes, identities, the stored report, exit codes.

The fault matrix is in ``test_verify_faults.py``. Here a small archive (its own SeaweedFS, two
accounts, two simulated days) is verified by the command as the read-only auditor and as the
archiver, and the report's storage under ``audits/`` is checked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from archiver import pipeline
from archiver.cli import app
from archiver.stack import start_stack, stop_stack
from archiver.verify import AuditFailedError, Scope, Secret, audit
from archiver.verify.cli import scope_of
from archiver.verify.completeness import key_day
from archiver.verify.report import Report
from archiver.verify.secrets import SecretScanner, encodings

from archive_checks import FIRST_DAY, archive_env, nightly_run_after, write_accounts_file
from conftest import S3Stack, SandboxFactory

LATER_DAY = date(2026, 12, 1)


def test_a_scope_covers_its_days_and_the_whole_archive_covers_day_less_keys() -> None:
    assert Scope().covers(None) and Scope().describe() == "all"
    week = Scope(date(2026, 11, 1), date(2026, 11, 7))
    assert week.covers("2026-11-07") and not week.covers("2026-11-08") and not week.covers(None)
    assert Scope(FIRST_DAY, FIRST_DAY).describe() == "2026-11-01"


def test_each_kind_of_key_has_its_archive_day() -> None:
    assert key_day("raw/facebook/a-fb/2026/11/02/a-fb_1.warc.gz") == "2026-11-02"
    assert key_day("items/platform=facebook/account=a-fb/date=2026-11-03/r.parquet") == "2026-11-03"
    assert key_day("documents/a-fb/2026/11/a-fb_2026-11-04.pdf") == "2026-11-04"
    assert key_day("documents/a-fb/2026/11/a-fb_2026-11-04.en.pdf") == "2026-11-04"
    assert key_day("quarantine/facebook/a-fb/2026-11-05/r/0001.body") == "2026-11-05"
    assert key_day("manifests/2026/11/06/a-fb_1.json") == "2026-11-06"
    assert key_day("media/sha256/ab/abcdef") is None
    assert key_day("documents/a-fb/threads/t.pdf") is None


def test_secrets_are_searched_in_every_encoding_and_short_ones_are_skipped() -> None:
    forms = encodings("EAAB/x+y z")
    assert {"raw", "percent-encoded", "base64", "json-escaped"} <= set(forms)
    assert forms["percent-encoded"] == b"EAAB%2Fx%2By%20z"
    scanner = SecretScanner([Secret("token A", "EAAB/x+y z"), Secret("pin", "1234")])
    assert scanner.skipped == ["pin"]
    assert scanner.scan(b"?access_token=EAAB%2fx%2by%20z&") == [
        ("token A", "percent-encoded (lower-case hex)")
    ]
    assert scanner.scan(b"nothing here 1234") == []


def test_the_scope_options_exclude_each_other_and_name_bad_dates() -> None:
    assert scope_of("2026-11-02", None, None, False) == Scope(date(2026, 11, 2), date(2026, 11, 2))
    assert scope_of(None, "2026-11-01", None, False) == Scope(date(2026, 11, 1), None)
    assert scope_of(None, None, None, False) == Scope()
    with pytest.raises(typer.BadParameter, match="one of --date"):
        scope_of("2026-11-02", None, None, True)
    with pytest.raises(typer.BadParameter, match="YYYY-MM-DD"):
        scope_of("2 Nov", None, None, False)
    with pytest.raises(typer.BadParameter, match="after --to"):
        scope_of(None, "2026-11-03", "2026-11-01", False)


def test_the_report_reads_in_swedish_and_english() -> None:
    report = Report("b", Scope())
    report.add("deleted", "raw/x.warc.gz", "the current version is a delete marker")
    assert "raderingsmarkör" in report.text("sv") and "raw/x.warc.gz" in report.text("sv")
    assert "RESULT: 1 finding(s)" in report.text("en")
    with pytest.raises(ValueError, match="unknown check"):
        report.add("bogus", "k", "m")


@dataclass
class Archive:
    """A small archive in its own SeaweedFS, and the environment of each identity."""

    stack: S3Stack
    env: dict[str, dict[str, str]]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    directory = tmp_path_factory.mktemp("verify")
    start_stack(directory / "stack", retention_days=1, sandbox=False)
    sandboxes = SandboxFactory(directory)
    try:
        stack = S3Stack.open(directory / "stack")
        sandbox = sandboxes(seed=4, accounts=2, items_per_day=10)
        accounts = write_accounts_file(sandbox.world, sandbox.base_url, directory / "accounts.yaml")
        env = {
            identity: archive_env(stack.env(identity), sandbox.world, accounts)
            for identity in ("archiver", "auditor")
        }
        with pytest.MonkeyPatch.context() as patch:
            for name, value in env["archiver"].items():
                patch.setenv(name, value)
            for offset in range(2):
                day = FIRST_DAY + timedelta(days=offset)
                sandbox.set_clock(nightly_run_after(day))
                assert {o.status for o in pipeline.archive_day(day)} == {"complete"}
        yield Archive(stack, env)
    finally:
        sandboxes.stop_all()
        stop_stack(directory / "stack")


def _as(identity: str, archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in archive.env[identity].items():
        monkeypatch.setenv(name, value)


def _audits(archive: Archive) -> list[str]:
    listed = archive.stack.client("auditor").list_objects_v2(Bucket=archive.stack.bucket, Prefix="audits/")
    return [entry["Key"] for entry in listed.get("Contents", [])]


def test_the_auditor_verifies_read_only_and_keeps_the_report_locally(
    archive: Archive, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _as("auditor", archive, monkeypatch)
    out = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["verify", "--all", "--no-store", "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["ok"] is True and printed["findings"] == []
    assert printed["counts"]["objects_checked"] >= 8 and printed["counts"]["raw_refs_resolved"] > 0
    assert json.loads(out.read_text(encoding="utf-8"))["ok"] is True
    assert _audits(archive) == []


def test_the_auditor_cannot_store_a_report_and_is_told_what_to_do(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    _as("auditor", archive, monkeypatch)
    result = CliRunner().invoke(app, ["verify", "--date", FIRST_DAY.isoformat(), "--lang", "en"])
    assert result.exit_code == 2
    assert "RESULT: nothing found" in result.stdout
    assert "--no-store" in result.stderr
    assert _audits(archive) == []


def test_the_archiver_stores_the_report_under_audits(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    _as("archiver", archive, monkeypatch)
    result = CliRunner().invoke(app, ["verify", "--from", "2026-11-01", "--to", "2026-11-02"])
    assert result.exit_code == 0, result.output
    assert "RESULTAT: inga avvikelser" in result.stdout
    [key] = _audits(archive)
    assert key in result.stdout and key.startswith("audits/") and key.endswith(".json")
    stored = archive.stack.client("auditor").get_object(Bucket=archive.stack.bucket, Key=key)["Body"].read()
    assert json.loads(stored)["scope"] == "2026-11-01..2026-11-02"


def test_the_secrets_scan_knows_the_configured_tokens_and_never_prints_them(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    _as("auditor", archive, monkeypatch)
    result = CliRunner().invoke(
        app, ["verify", "--no-store", "--json", "--stack-dir", str(archive.stack.directory)]
    )
    assert result.exit_code == 0, result.output
    assert "No secrets were configured" not in result.stdout
    assert not any(token in result.stdout for token in archive.env["auditor"].values() if len(token) > 20)


def test_a_finding_outside_a_days_scope_is_only_seen_when_that_day_is_verified(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    stray = f"quarantine/facebook/stray-fb/{LATER_DAY}/run/0001.body"
    archive.stack.client("admin").put_object(Bucket=archive.stack.bucket, Key=stray, Body=b"{}")
    _as("auditor", archive, monkeypatch)
    clean = CliRunner().invoke(app, ["verify", "--date", FIRST_DAY.isoformat(), "--no-store"])
    assert clean.exit_code == 0, clean.output
    found = CliRunner().invoke(app, ["verify", "--date", LATER_DAY.isoformat(), "--no-store", "--json"])
    assert found.exit_code == 1
    assert [(f["check"], f["key"]) for f in json.loads(found.stdout)["findings"]] == [("unlisted", stray)]
    assert "1 finding(s)" in found.stderr


def test_the_weekly_audit_call_stores_its_report_and_fails_naming_it(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    _as("archiver", archive, monkeypatch)
    before = set(_audits(archive))
    with pytest.raises(AuditFailedError, match=r"unlisted 1.*audits/") as failure:
        audit()
    [key] = set(_audits(archive)) - before
    assert key in str(failure.value)
