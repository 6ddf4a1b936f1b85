"""Fault injection against the real SeaweedFS: each kind of damage is found and names its object.

One module-scoped archive (its own SeaweedFS, so the injected versions, which Object Lock keeps
for good, never reach another test's bucket): two accounts, three simulated days, plus a
``render`` run that sealed three PDF documents into one account's chain. It is verified clean
first (as the read-only auditor); then the admin identity damages distinct objects of every
kind (WARC, media, Parquet, PDF, manifest) in three ways each (a new version with one byte
flipped, a replacement version, a delete marker), breaks one account's chain with a gap, plants
a token and lets retention expire. One verify then has to report every fault by its key.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from reportlab.pdfgen import canvas

from archiver import pipeline
from archiver.manifest import FORMAT, chain_head, seal_run
from archiver.runs import RunRecord, manifest_key
from archiver.stack import start_stack, stop_stack
from archiver.storage import Bucket
from archiver.verify import Report, Scope, Secret, verify_archive

from archive_checks import FIRST_DAY, archive_env, nightly_run_after, write_accounts_file
from conftest import S3Stack, SandboxFactory, SandboxServer

pytestmark = pytest.mark.slow
DAYS = 3
FAULTS = ("flipped", "replaced", "deleted")
KINDS = ("warc", "media", "parquet", "pdf", "manifest")
SPECIAL_SECRET = Secret("client secret of the test app", "s3cr/t+key with=signs")


@dataclass
class FaultyArchive:
    """The archive, its clean report, the objects damaged per (kind, fault) and the report after."""

    stack: S3Stack
    sandbox: SandboxServer
    clean: Report
    damaged: dict[tuple[str, str], str]
    gap_manifest: str
    leaked: dict[str, str]
    diary: str
    report: Report


def _pdf(text: str) -> bytes:
    sink = io.BytesIO()
    page = canvas.Canvas(sink, invariant=True)
    page.drawString(72, 720, text)
    page.save()
    return sink.getvalue()


def _render_run(bucket: Bucket, account: str, platform: str, account_id: str) -> list[str]:
    """Seal three small PDF documents as a ``render`` run of ``account`` (as the documents stage would)."""
    started = datetime.now(UTC)
    run_id = f"{account}_{started:%Y%m%dT%H%M%S%fZ}"
    keys = [f"documents/{account}/threads/fault-{n}.pdf" for n in range(3)]
    objects = [bucket.put(key, _pdf(key), "application/pdf").to_dict() for key in keys]
    seal_run(
        bucket,
        RunRecord(
            run_id=run_id,
            account=account,
            platform=platform,
            account_id=account_id,
            day=FIRST_DAY.isoformat(),
            status="complete",
            purpose="render",
            error=None,
            warc_key=None,
            started_at=started.isoformat(),
            objects=objects,
            counts={},
        ),
    )
    return keys


def _keys_by_kind(bucket: Bucket, stack: S3Stack) -> dict[str, list[str]]:
    keys = [o["Key"] for o in stack.client("auditor").list_objects_v2(Bucket=stack.bucket)["Contents"]]
    kinds = {
        "warc": [k for k in keys if k.endswith(".warc.gz")],
        "media": [k for k in keys if k.startswith("media/")],
        "parquet": [k for k in keys if k.endswith(".parquet")],
        "pdf": [k for k in keys if "/threads/fault-" in k],  # the hand-made ones, not the diaries
        "manifest": [k for k in keys if k.startswith("manifests/")],
    }
    for kind, found in kinds.items():
        assert len(found) >= len(FAULTS), f"the archive has too few {kind} objects to damage"
    return kinds


def _inject(stack: S3Stack, key: str, fault: str) -> None:
    admin = stack.client("admin")
    if fault == "deleted":
        admin.delete_object(Bucket=stack.bucket, Key=key)
        return
    data = admin.get_object(Bucket=stack.bucket, Key=key)["Body"].read()
    if fault == "flipped":
        middle = len(data) // 2
        data = data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]
    elif key.startswith("manifests/"):
        manifest = json.loads(data)
        manifest["objects"] = manifest["objects"][1:]  # an object quietly dropped from the record
        data = json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8")
    else:
        data = b"replacement content, not what was archived\n" + data[:64]
    admin.put_object(Bucket=stack.bucket, Key=key, Body=data)


def _chain_gap(stack: S3Stack, bucket: Bucket, account: str) -> str:
    """Write a manifest that continues ``account``'s chain two numbers on: a gap of one."""
    head = chain_head(bucket, account)
    assert head is not None
    day = (FIRST_DAY + timedelta(days=DAYS)).isoformat()
    run = f"{account}_{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}"
    forged = {
        "format": FORMAT,
        "run_id": run,
        "account": account,
        "day": day,
        "status": "complete",
        "sequence": head["sequence"] + 2,
        "previous": head["ref"],
        "objects": [],
    }
    key = manifest_key(day, run)
    stack.client("admin").put_object(Bucket=stack.bucket, Key=key, Body=json.dumps(forged).encode())
    return key


def _leaks(stack: S3Stack, token: str) -> dict[str, str]:
    """Store a secret percent-encoded in a JSON body, and a token base64-encoded in a second gzip member."""
    admin = stack.client("admin")
    encoded = quote(SPECIAL_SECRET.value, safe="").encode()
    in_json = f"quarantine/facebook/leak/{FIRST_DAY}/run/0001.body"
    admin.put_object(Bucket=stack.bucket, Key=in_json, Body=b'{"next": "https://x/?q=' + encoded + b'"}')
    members = gzip.compress(b"first member\n") + gzip.compress(b"auth " + base64.b64encode(token.encode()))
    in_gzip = f"raw/facebook/leak/{FIRST_DAY:%Y/%m/%d}/leak_20261101T000000000000Z.warc.gz"
    admin.put_object(Bucket=stack.bucket, Key=in_gzip, Body=members)
    return {"percent-encoded": in_json, "base64": in_gzip}


def _remove_a_diary(stack: S3Stack, account: str) -> str:
    """Return the diary key of ``account``'s first day, with a delete marker on it if it was rendered."""
    key = f"documents/{account}/{FIRST_DAY:%Y/%m}/{account}_{FIRST_DAY}.pdf"
    versions = stack.client("auditor").list_object_versions(Bucket=stack.bucket, Prefix=key)
    if versions.get("Versions"):
        stack.client("admin").delete_object(Bucket=stack.bucket, Key=key)
    return key


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultyArchive]:
    directory = tmp_path_factory.mktemp("verify-faults")
    start_stack(directory / "stack", retention_days=1, sandbox=False)
    sandboxes = SandboxFactory(directory)
    try:
        stack = S3Stack.open(directory / "stack")
        sandbox = sandboxes(seed=21, accounts=2, items_per_day=20)
        accounts = write_accounts_file(sandbox.world, sandbox.base_url, directory / "accounts.yaml")
        with pytest.MonkeyPatch.context() as patch:
            for name, value in archive_env(stack.env("archiver"), sandbox.world, accounts).items():
                patch.setenv(name, value)
            for offset in range(DAYS):
                day = FIRST_DAY + timedelta(days=offset)
                sandbox.set_clock(nightly_run_after(day))
                assert {o.status for o in pipeline.archive_day(day)} == {"complete"}
        writer = Bucket(stack.bucket, stack.client("archiver"))
        first, second = sandbox.world.accounts
        _render_run(writer, first.name, "facebook", first.page_id)
        secrets = [Secret(f"token of {a.name}", a.token) for a in sandbox.world.accounts] + [SPECIAL_SECRET]
        auditor = Bucket(stack.bucket, stack.client("auditor"))
        clean = verify_archive(auditor, Scope(), secrets)

        kinds = _keys_by_kind(auditor, stack)
        damaged = {}
        for kind, keys in kinds.items():
            # manifests: leave the first account's chain to the gap test
            candidates = [k for k in keys if second.name in k] if kind == "manifest" else keys
            if kind == "parquet":  # other runs than the damaged WARC files' (sorted first)
                candidates = list(reversed(keys))
            for fault, key in zip(FAULTS, candidates, strict=False):
                _inject(stack, key, fault)
                damaged[(kind, fault)] = key
        diary = _remove_a_diary(stack, first.name)
        gap = _chain_gap(stack, auditor, first.name)
        leaked = _leaks(stack, first.token)
        report = verify_archive(auditor, Scope(), secrets)
        yield FaultyArchive(stack, sandbox, clean, damaged, gap, leaked, diary, report)
    finally:
        sandboxes.stop_all()
        stop_stack(directory / "stack")


def _checks(report: Report, key: str) -> set[str]:
    return {finding.check for finding in report.findings if finding.key == key}


def test_the_clean_archive_verifies_clean_as_the_auditor(faulty: FaultyArchive) -> None:
    clean = faulty.clean
    test_pdfs = {key for (kind, _), key in faulty.damaged.items() if kind == "pdf"}
    rendered = any(f.check == "diary_missing" for f in clean.findings) is False
    # the three hand-made PDFs are no PDF/A, and without the render stage no day has its diary
    expected = [f for f in clean.findings if (f.check == "pdfa" and f.key in test_pdfs)]
    expected += [f for f in clean.findings if f.check == "diary_missing" and not rendered]
    assert [f for f in clean.findings if f not in expected] == []
    assert clean.counts["objects_checked"] >= 3 * 2 * 2 + 3
    assert clean.counts["raw_refs_resolved"] == clean.counts["items_rows"] > 0
    assert clean.counts["versions_locked"] == clean.counts["versions_read"]


EXPECTED = {
    "flipped": {"not_current", "unlisted"},
    "replaced": {"not_current", "unlisted"},
    "deleted": {"deleted"},
}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("kind", KINDS)
def test_each_fault_is_found_and_names_its_object(faulty: FaultyArchive, kind: str, fault: str) -> None:
    key = faulty.damaged[(kind, fault)]
    found = _checks(faulty.report, key)
    if kind == "manifest":
        expected = {"deleted"} if fault == "deleted" else {"altered"}
    else:
        expected = EXPECTED[fault] | ({"media"} if kind == "media" and fault != "deleted" else set())
    assert expected <= found, f"{kind} {fault} {key}: found only {found}"
    assert key not in {f.key for f in faulty.clean.findings if f.check != "pdfa"}


def test_a_damaged_warc_breaks_the_raw_references_of_its_items(faulty: FaultyArchive) -> None:
    for fault in FAULTS:
        warc = faulty.damaged[("warc", fault)]
        items = [f for f in faulty.report.findings if f.check == "raw_ref" and warc in f.message]
        assert items, f"no items row's raw reference into the {fault} WARC {warc} was reported"
        assert all(f.key.startswith("items/") for f in items)


def test_a_removed_manifest_leaves_its_run_unsealed(faulty: FaultyArchive) -> None:
    removed = faulty.damaged[("manifest", "deleted")]
    unsealed = [f for f in faulty.report.findings if f.check == "unsealed_run" and f.manifest == removed]
    assert len(unsealed) == 1 and unsealed[0].key.endswith(".warc.gz")


def test_an_edited_manifest_is_found_even_though_the_chain_keeps_the_sealed_version(
    faulty: FaultyArchive,
) -> None:
    for fault in ("flipped", "replaced"):
        key = faulty.damaged[("manifest", fault)]
        [rewritten] = [f for f in faulty.report.findings if f.key == key and f.check == "altered"]
        assert "rewritten" in rewritten.message


def test_a_gap_in_the_chain_names_the_manifest_after_it(faulty: FaultyArchive) -> None:
    gaps = [f for f in faulty.report.findings if f.check == "chain_gap"]
    assert [f.key for f in gaps] == [faulty.gap_manifest]


def test_a_stored_token_is_found_in_any_encoding_without_the_report_revealing_it(
    faulty: FaultyArchive,
) -> None:
    token = faulty.sandbox.world.accounts[0].token
    for encoding, key in faulty.leaked.items():
        [secret] = [f for f in faulty.report.findings if f.key == key and f.check == "secret"]
        assert encoding in secret.message
        assert "unlisted" in _checks(faulty.report, key)
    assert token not in faulty.report.to_json().decode()
    assert SPECIAL_SECRET.value not in faulty.report.to_json().decode()
    assert "unsealed_run" in _checks(faulty.report, faulty.leaked["base64"])


def test_expired_retention_is_found_for_every_version(faulty: FaultyArchive) -> None:
    later = datetime.now(UTC) + timedelta(days=3)
    bucket = Bucket(faulty.stack.bucket, faulty.stack.client("auditor"))
    report = verify_archive(bucket, Scope(FIRST_DAY, FIRST_DAY), now=later)
    expired = {(f.key, f.version_id) for f in report.findings if f.check == "retention"}
    assert len(expired) == report.counts["versions_read"] > 0
    assert all("expired" in f.message for f in report.findings if f.check == "retention")


def test_a_report_keeps_going_and_lists_every_finding_with_its_object(faulty: FaultyArchive) -> None:
    report = faulty.report
    assert not report.ok
    assert all(f.key for f in report.findings)
    text = report.text("en")
    for key in faulty.damaged.values():
        assert key in text
    assert json.loads(report.to_json())["findings_by_check"] == report.by_check()


def test_the_pdf_documents_are_validated(faulty: FaultyArchive) -> None:
    pdfs = [key for (kind, _), key in faulty.damaged.items() if kind == "pdf"]
    validated = {f.key for f in faulty.clean.findings if f.check == "pdfa"}
    assert set(pdfs) <= validated, "a plain ReportLab PDF is no PDF/A: each must fail validation"


def test_days_with_activity_need_their_diary_once_documents_exist(faulty: FaultyArchive) -> None:
    missing = {f.key for f in faulty.report.findings if f.check == "diary_missing"}
    assert faulty.diary in missing
