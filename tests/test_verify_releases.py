"""Releases under audit: ``archiver verify --all`` checks each package under ``releases/``
against its own SHA256SUMS and validates its PDF/A documents, on a real SeaweedFS."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from archiver.config import Settings
from archiver.release.package import ReleaseRequest, build_release
from archiver.release.store import release_key_prefix
from archiver.search import SearchQuery
from archiver.storage import Bucket
from archiver.verify import verify_archive

from archive_checks import ArchivedSandbox, archived_sandbox

pytestmark = pytest.mark.slow
REFERENCE = "KS 2026/900"


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArchivedSandbox]:
    with archived_sandbox(tmp_path_factory.mktemp("verify-releases"), seed=5, items_per_day=10) as archived:
        registrar = archived.stack.keys["registrar"]
        with pytest.MonkeyPatch.context() as patch:
            for name, value in archived.env.items():
                patch.setenv(name, value)
            patch.setenv("ARCHIVER_REGISTRAR_ACCESS_KEY_ID", registrar[0])
            patch.setenv("ARCHIVER_REGISTRAR_SECRET_ACCESS_KEY", registrar[1])
            scope = SearchQuery(accounts=(archived.account,), kinds=("post",))
            out = archived.directory / "out"
            package = build_release(ReleaseRequest(REFERENCE, scope, out, decided_on=date(2026, 11, 3)), Settings())
        assert package.stored
        yield archived


def _release_findings(archived: ArchivedSandbox) -> list[tuple[str, str]]:
    bucket = Bucket(archived.stack.bucket, archived.stack.client("auditor"))
    report = verify_archive(bucket)
    assert report.counts.get("releases_checked") == len(
        {key.split("/")[1] for key in _release_keys(archived)}
    )
    return [(f.check, f.key) for f in report.findings if f.key.startswith("releases/")]


def _release_keys(archived: ArchivedSandbox) -> list[str]:
    listed = archived.stack.client("auditor").list_objects_v2(Bucket=archived.stack.bucket, Prefix="releases/")
    return [entry["Key"] for entry in listed.get("Contents", [])]


def test_a_stored_release_verifies_clean_and_an_altered_or_incomplete_one_is_named(
    released: ArchivedSandbox, tmp_path: Path
) -> None:
    assert _release_findings(released) == []
    registrar = released.stack.client("registrar")
    cover = release_key_prefix(REFERENCE) + "följebrev.pdf"
    registrar.put_object(Bucket=released.stack.bucket, Key=cover, Body=b"%PDF-1.7 not the letter that was sent")
    registrar.put_object(Bucket=released.stack.bucket, Key="releases/KS-2026-901/manifest.json", Body=b"{}")
    findings = _release_findings(released)
    assert ("release", cover) in findings  # altered: the SHA256SUMS no longer match
    assert ("release", release_key_prefix(REFERENCE) + "manifest.json") not in findings  # the rest holds
    assert ("pdfa", cover) in findings  # and the replacement is no PDF/A
    assert ("release", "releases/KS-2026-901/SHA256SUMS") in findings  # incomplete release


def test_a_zip_that_differs_from_the_folder_is_named(released: ArchivedSandbox) -> None:
    prefix = release_key_prefix(REFERENCE)
    zip_key = next(key for key in _release_keys(released) if key.startswith(prefix) and key.endswith(".zip"))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as handed_out:
        handed_out.writestr("KS-2026-900/manifest.json", b"{}")
    released.stack.client("registrar").put_object(Bucket=released.stack.bucket, Key=zip_key, Body=archive.getvalue())
    findings = _release_findings(released)
    assert ("release", prefix + "manifest.json") in findings
