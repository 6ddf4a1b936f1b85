"""``archiver verify`` after the second review: bounded and streamed reads, imported rows' raw
references, every prefix of the bucket, forged manifests and media stored twice at once.

One SeaweedFS for the module; each test gets its own bucket (Object Lock, a one-day COMPLIANCE
default retention, like the archive's), so one test's objects never reach another's verify.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest

import archiver.verify
from archiver.config import Account, Settings
from archiver.imports import import_export
from archiver.manifest import FORMAT, seal_run
from archiver.runs import RunRecord, manifest_key
from archiver.stack import start_stack, stop_stack
from archiver.stack.seaweed import ensure_bucket
from archiver.storage import Bucket, StoredObject
from archiver.verify import Scope, Secret, verify_archive
from archiver.verify import inventory as inventory_module
from archiver.verify.inventory import Read, Version, load_inventory, read_version, read_versions
from archiver.verify.secrets import SecretScanner

from conftest import S3Stack

EXPORTS = Path(__file__).parent / "fixtures" / "exports"
TOKEN = Secret("token of the test account ($TEST_TOKEN)", "EAAB-streamed-secret-0123456789")
_numbers = count()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Stack]:
    directory = tmp_path_factory.mktemp("verify-review")
    start_stack(directory, retention_days=1, sandbox=False)
    try:
        yield S3Stack.open(directory)
    finally:
        stop_stack(directory)


@pytest.fixture
def bucket(stack: S3Stack) -> Bucket:
    """A fresh, empty archive bucket of the module's stack (written and read as admin)."""
    name = f"review-{next(_numbers)}"
    ensure_bucket(stack.client("admin"), name, 1)
    return Bucket(name, stack.client("admin"))


def _seal(bucket: Bucket, account: str, objects: list[StoredObject]) -> str:
    """Seal ``objects`` as a run of ``account``; return the manifest's key."""
    started = datetime.now(UTC)
    run = f"{account}_{started:%Y%m%dT%H%M%S%fZ}"
    sealed = seal_run(
        bucket,
        RunRecord(
            run_id=run,
            account=account,
            platform="facebook",
            account_id="1",
            day="2026-11-01",
            status="complete",
            purpose="render",
            error=None,
            warc_key=None,
            started_at=started.isoformat(),
            objects=[o.to_dict() for o in objects],
            counts={},
        ),
    )
    return str((sealed.get("manifest") or {}).get("key") or manifest_key("2026-11-01", run))


def test_verify_keeps_a_bounded_window_of_reads_in_flight(
    bucket: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(40):
        bucket.put(f"quarantine/facebook/a/2026-11-01/run/{number:04}.body", b"x" * 1000)
    versions = list(load_inventory(bucket).stored())
    started: list[str] = []
    lock = threading.Lock()

    def counted_read(bucket: Bucket, version: Version, **options: Any) -> Read:
        with lock:
            started.append(version.key)
        return read_version(bucket, version, **options)

    monkeypatch.setattr(inventory_module, "read_version", counted_read)
    workers, outstanding = 2, []
    for consumed, read in enumerate(read_versions(bucket, versions, workers=workers)):
        if consumed == 0:  # give unbounded submission every chance to show: wait for a 5th read
            deadline = time.monotonic() + 2
            while len(started) <= 2 * workers and time.monotonic() < deadline:
                time.sleep(0.01)
        outstanding.append(len(started) - consumed)
        assert read.version == versions[consumed] and len(read.data) == 1000
    assert len(outstanding) == 40
    assert max(outstanding) <= 2 * workers, f"up to {max(outstanding)} reads were held at once"


def test_a_large_media_file_is_hashed_and_scanned_as_a_stream(
    bucket: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    chunk = 64 * 1024
    secret = TOKEN.value.encode()
    data = b"\x89PNG" + b"a" * (chunk - 10) + secret + b"b" * (3 * chunk)  # the token spans two chunks
    key = f"media/sha256/{hashlib.sha256(data).hexdigest()[:2]}/{hashlib.sha256(data).hexdigest()}"
    bucket.put(key, data)
    [version] = load_inventory(bucket).stored()
    scanner = SecretScanner([TOKEN])

    read = read_version(bucket, version, stream_over=chunk, scanner=scanner, chunk_size=chunk)
    assert read.streamed and read.data == b"" and read.size == len(data)
    assert read.sha256 == hashlib.sha256(data).hexdigest()
    assert (TOKEN.label, "raw") in read.found
    whole = read_version(bucket, version)
    assert not whole.streamed and whole.data == data and whole.sha256 == read.sha256

    monkeypatch.setattr(archiver.verify, "STREAM_OVER", chunk)
    report = verify_archive(bucket, Scope(), [TOKEN])
    assert report.counts["versions_streamed"] == 1 and report.counts["bytes_read"] == len(data)
    assert {(f.check, f.key) for f in report.findings} == {("secret", key), ("unlisted", key)}


def test_imported_rows_resolve_to_the_kept_export_files(bucket: Bucket) -> None:
    for platform in ("facebook", "instagram"):
        account = Account(
            name=f"review-{platform}",
            platform=platform,
            id=str(zlib.crc32(platform.encode())),
            display_name="Exempelby kommun",
            token_env="UNUSED",
        )
        run = import_export(bucket, account, EXPORTS / platform, Settings(bucket=bucket.name))
        assert run["status"] == "complete"
    report = verify_archive(bucket, Scope())
    assert report.findings == []
    assert report.counts["raw_refs_resolved"] == report.counts["items_rows"] > 0


def test_an_imported_rows_pointer_or_file_hash_that_does_not_match_is_found() -> None:
    from archiver.verify.rawrefs import FileIndex, _file_problem, resolves

    document = {"comments_v2": [{"a": 1}, {"b/c": {"~x": 2}}]}
    assert resolves(document, "/comments_v2/1") and resolves(document, "/comments_v2/1/b~1c/~0x")
    assert not resolves(document, "/comments_v2/2") and not resolves(document, "/comments_v2/01")
    assert not resolves(document, "/posts") and not resolves(document, "comments_v2")
    index = FileIndex("ab" * 32, frozenset({"/comments_v2/0"}))
    assert _file_problem(index, "/comments_v2/0", "ab" * 32) is None
    assert _file_problem(index, "/comments_v2/0", "cd" * 32) == "file sha256 differs"
    assert _file_problem(index, "/comments_v2/9", None) == "JSON pointer does not resolve"


def test_every_prefix_is_scanned_for_secrets_and_retention_and_strays_are_reported(bucket: Bucket) -> None:
    release = "releases/KS-2026-17/decisions.json"
    audit = "audits/2026/11/08/verify_20261108T030000000000Z.json"
    stray = "scratch/notes.txt"
    released = json.dumps({"note": f"token {TOKEN.value}"}).encode()
    bucket.put(release, released)
    bucket.put("releases/KS-2026-17/SHA256SUMS", f"{hashlib.sha256(released).hexdigest()}  decisions.json\n".encode())
    bucket.put(audit, b'{"ok": true}')
    bucket.put(stray, b"left here by hand")

    report = verify_archive(bucket, Scope(), [TOKEN])
    found = {(f.check, f.key) for f in report.findings}
    assert found == {("secret", release), ("unlisted", stray)}
    [unlisted] = [f for f in report.findings if f.check == "unlisted"]
    assert "scratch/ is not part of the bucket layout" in unlisted.message

    later = verify_archive(bucket, Scope(), [TOKEN], now=datetime.now(UTC) + timedelta(days=3))
    expired = {f.key for f in later.findings if f.check == "retention"}
    assert expired == {release, "releases/KS-2026-17/SHA256SUMS", audit, stray}

    bucket.client.delete_object(Bucket=bucket.name, Key=audit)
    assert ("deleted", audit) in {(f.check, f.key) for f in verify_archive(bucket, Scope()).findings}


def test_a_forged_manifest_of_the_wrong_shape_is_reported_and_the_audit_goes_on(bucket: Bucket) -> None:
    media = bucket.put("media/sha256/00/" + hashlib.sha256(b"m").hexdigest(), b"m")
    good = _seal(bucket, "good-fb", [media])
    forged = {}
    for name, previous in (("string", "manifests/2026/11/01/x.json"), ("list", ["k", "v", "s"])):
        key = f"manifests/2026/11/01/forged-{name}_20261101T000000000000Z.json"
        body = {
            "format": FORMAT,
            "account": f"forged-{name}",
            "sequence": 2,
            "previous": previous,
            "objects": [],
        }
        bucket.put(key, json.dumps(body).encode())
        forged[name] = key
    bad_sequence = "manifests/2026/11/01/forged-seq_20261101T000000000000Z.json"
    bucket.put(bad_sequence, json.dumps({"format": FORMAT, "sequence": "2", "objects": {}}).encode())

    report = verify_archive(bucket, Scope())
    unreadable = {f.key: f.message for f in report.findings if f.check == "manifest_unreadable"}
    assert set(unreadable) == {*forged.values(), bad_sequence}
    assert "'previous' is a str" in unreadable[forged["string"]]
    assert "'previous' is a list" in unreadable[forged["list"]]
    assert report.counts["chains"] == 1 and good not in {f.key for f in report.findings}
    assert report.counts["objects_checked"] >= 1


def test_media_stored_twice_at_once_is_no_finding_but_wrong_bytes_are(bucket: Bucket) -> None:
    data = b"the same photo, stored by two mapped branches at once"
    key = f"media/sha256/{hashlib.sha256(data).hexdigest()[:2]}/{hashlib.sha256(data).hexdigest()}"
    first, second = bucket.put(key, data), bucket.put(key, data)
    assert first.version_id != second.version_id
    _seal(bucket, "branch-a", [first])
    _seal(bucket, "branch-b", [second])
    assert verify_archive(bucket, Scope()).findings == []

    wrong = bucket.put(key, b"other bytes under the same address")
    _seal(bucket, "branch-c", [wrong])
    report = verify_archive(bucket, Scope())
    media = [f for f in report.findings if f.check == "media"]
    assert [(f.key, f.version_id) for f in media] == [(key, wrong.version_id)]
