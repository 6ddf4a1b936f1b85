"""Retention: every stored version is under Object Lock retention that has not yet expired.

The mode and retain-until date come with each version's GET (``x-amz-object-lock-*`` headers),
so this check costs no extra request. It needs the Object Lock read rights, which every
identity of the embedded stack has.
"""

from __future__ import annotations

from datetime import datetime

from archiver.verify.inventory import Read
from archiver.verify.report import Report

LOCK_MODES = ("COMPLIANCE", "GOVERNANCE")


def check_retention(read: Read, report: Report, now: datetime) -> None:
    """Report ``read``'s version if it has no retention, or a retention that has expired by ``now``."""
    key, version_id = read.version.key, read.version.version_id
    if read.lock_mode not in LOCK_MODES or read.retain_until is None:
        report.add(
            "retention",
            key,
            f"version {version_id} has no Object Lock retention (mode {read.lock_mode!r}); it could be "
            "deleted. Set a default retention on the bucket (COMPLIANCE) and a retention on this version.",
            version_id=version_id,
        )
    elif read.retain_until <= now:
        report.add(
            "retention",
            key,
            f"the {read.lock_mode} retention of version {version_id} expired on "
            f"{read.retain_until.isoformat()}; extend it (PutObjectRetention) to keep the version locked",
            version_id=version_id,
        )
    else:
        report.count("versions_locked")
