"""``archiver verify``: prove that nothing in the archive is missing or altered.

:func:`verify_archive` checks a bucket and returns a :class:`Report` of findings, each naming
the object it concerns; it keeps going after any failure. What it checks:

- fixity: every version a manifest lists is stored, current, and has the listed sha256 and
  size (:mod:`.fixity`, :mod:`.completeness`);
- the manifest chain of every account is unbroken, without gaps or forks (:mod:`.chain`);
- completeness: every stored version under ``raw/``, ``media/``, ``items/``, ``documents/``,
  ``quarantine/`` and ``catalog/`` is listed by a manifest, no key has a delete marker or a
  second version, every run's WARC file has its manifest, and nothing is stored outside the
  bucket layout (``audits/`` and ``releases/`` are never listed by design) (:mod:`.completeness`);
- every ``items`` row's raw reference resolves to the response it was read from (:mod:`.rawrefs`);
- every account with activity on a day has its diary, and every document passes PDF/A
  validation (:mod:`.documents`, once the documents stage exists);
- every release under ``releases/`` matches its own ``SHA256SUMS`` (:mod:`.releases`), and its
  PDF documents pass PDF/A validation;
- every version, under any prefix, is under an unexpired Object Lock retention (:mod:`.retention`);
- no configured token or key appears in any stored object (:mod:`.secrets`).

Versions are read a few at a time (:func:`.inventory.read_versions`), large media files as a
stream, so memory holds a handful of objects, never the bucket.

Everything is read-only and works with the ``auditor`` identity. Only storing the report under
``audits/`` writes: :func:`run_audit` does that with the identity in the environment (the
weekly DAG runs as ``archiver``); an auditor passes ``store=False`` (``--no-store``) and keeps
the report locally (``--out FILE``) or reads it on stdout (``--json``).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path

from archiver.config import Settings
from archiver.errors import ArchiverError, StorageError
from archiver.storage import Bucket, StoredObject
from archiver.verify.chain import check_chains, listed_versions, load_manifests
from archiver.verify.completeness import Listed, check_keys, check_runs_sealed, keys_in_scope
from archiver.verify.documents import Validator, check_diaries, check_pdfa, pdfa_validator
from archiver.verify.fixity import check_fixity
from archiver.verify.inventory import STREAM_OVER, Inventory, Read, load_inventory, read_versions
from archiver.verify.rawrefs import RawRefs
from archiver.verify.releases import ReleaseFiles
from archiver.verify.report import CHECKS, Finding, Report, Scope, audit_key, store_report
from archiver.verify.retention import check_retention
from archiver.verify.secrets import (
    Secret,
    SecretScanner,
    check_secrets,
    configured_secrets,
    report_secrets,
)

__all__ = [
    "CHECKS",
    "AuditFailedError",
    "Finding",
    "Report",
    "Scope",
    "Secret",
    "audit",
    "audit_key",
    "configured_secrets",
    "run_audit",
    "store_audit",
    "verify_archive",
]

log = logging.getLogger(__name__)


def verify_archive(
    bucket: Bucket,
    scope: Scope | None = None,
    secrets: list[Secret] | None = None,
    *,
    now: datetime | None = None,
) -> Report:
    """Check the archive in ``bucket`` (the days of ``scope``, default all); return the report."""
    scope = scope or Scope()
    report = Report(bucket.name, scope)
    now = now or report.started_at
    clock = time.monotonic()
    inventory = load_inventory(bucket)
    manifests = load_manifests(bucket, inventory, report)
    check_chains(manifests, report, scope)
    listed = listed_versions(manifests)
    keys = keys_in_scope(inventory, manifests, scope)
    check_keys(keys, inventory, listed, report)
    check_runs_sealed(keys, inventory, report)
    scanner = SecretScanner(secrets or [])
    if not scanner:
        report.notes.append("No secrets were configured, so the secrets scan searched for nothing.")
    report.notes += [f"Secret too short to search for: {label}" for label in scanner.skipped]
    validator = pdfa_validator()
    refs = RawRefs()
    releases = ReleaseFiles()
    versions = [
        version for key in keys for version in inventory.versions.get(key, []) if not version.delete_marker
    ]
    for read in read_versions(bucket, versions, stream_over=STREAM_OVER, scanner=scanner or None):
        _check_read(read, inventory, listed, report, now, scanner, validator, refs)
        releases.collect(read, inventory)
    refs.check(bucket, inventory, report)
    if scope.everything:
        releases.check(inventory, report)
    check_diaries({a for a in refs.activity() if scope.covers(a[2])}, inventory, report)
    report.finished_at = datetime.now(UTC)
    report.counts["seconds_ms"] = round((time.monotonic() - clock) * 1000)
    return report


def _check_read(
    read: Read,
    inventory: Inventory,
    listed: Listed,
    report: Report,
    now: datetime,
    scanner: SecretScanner,
    validator: Validator | str,
    refs: RawRefs,
) -> None:
    version = read.version
    report.count("versions_read")
    if read.error:
        report.add(
            "unreadable", version.key, f"could not be read: {read.error}", version_id=version.version_id
        )
        return
    report.count("bytes_read", read.size)
    report.count("versions_streamed", int(read.streamed))
    check_fixity(read, listed, report)
    check_retention(read, report, now)
    if read.streamed:
        report_secrets(version.key, version.version_id, read.found, report)
    elif scanner:
        check_secrets(version.key, version.version_id, read.data, scanner, report)
    check_pdfa(read, validator, report)
    refs.collect(read, inventory, report)


def run_audit(
    scope: Scope | None = None,
    *,
    store: bool = True,
    out: Path | None = None,
    settings: Settings | None = None,
    stack_dir: Path | None = None,
) -> Report:
    """Verify the configured bucket, write the report to ``out`` if given and store it under
    ``audits/`` unless ``store`` is False; return the report (the caller decides how to fail).

    Raises StorageError when the report cannot be stored (for example as the read-only auditor).
    """
    settings = settings or Settings()
    report = verify_archive(Bucket(settings.bucket), scope, configured_secrets(settings, stack_dir))
    for finding in report.findings:
        log.warning("%s %s: %s", finding.check, finding.key, finding.message)
    if out is not None:
        out.write_bytes(report.to_json())
    if store:
        store_audit(report, settings)
    return report


def store_audit(report: Report, settings: Settings | None = None) -> StoredObject:
    """Store ``report`` under ``audits/`` in the configured bucket; return what was stored."""
    settings = settings or Settings()
    bucket = Bucket(settings.bucket)
    try:
        stored = store_report(bucket, report)
    except StorageError as error:
        raise StorageError(
            f"The audit report could not be stored under audits/ ({error}). The auditor identity reads "
            "only: run `archiver verify --no-store --out FILE` to keep the report locally instead.",
            key=audit_key(report),
        ) from error
    log.info("audit report stored at s3://%s/%s (version %s)", bucket.name, stored.key, stored.version_id)
    return stored


class AuditFailedError(ArchiverError):
    """The audit found problems; the message says how many, of which kinds, and where the report is."""


def audit(*, settings: Settings | None = None) -> dict[str, object]:
    """Verify the whole archive and store the report (what the weekly DAG calls); return a summary
    with the report's key, or raise AuditFailedError naming the findings and the report's key."""
    settings = settings or Settings()
    report = run_audit(Scope(), store=True, settings=settings)
    stored = report.stored
    where = f"s3://{settings.bucket}/{stored.key}" if stored else "(not stored)"
    log.info(
        "audit report: %s; %s", where, "nothing found" if report.ok else f"{len(report.findings)} finding(s)"
    )
    summary: dict[str, object] = {
        "report_key": stored.key if stored else None,
        "report_version_id": stored.version_id if stored else None,
        "ok": report.ok,
        "findings": len(report.findings),
        "findings_by_check": report.by_check(),
        "counts": report.counts,
    }
    if not report.ok:
        kinds = ", ".join(f"{check} {number}" for check, number in report.by_check().items())
        raise AuditFailedError(
            f"The archive audit found {len(report.findings)} problem(s) ({kinds}); each names its object "
            f"in the report {where}. Read it with `archiver verify --json` or any S3 tool."
        )
    return summary
