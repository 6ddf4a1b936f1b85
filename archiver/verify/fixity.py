"""Fixity: the bytes of each stored version are what its manifest says (sha256 and size), and a
media file's bytes hash to the address it is stored under."""

from __future__ import annotations

from archiver.verify.completeness import MEDIA_PREFIX, Listed
from archiver.verify.inventory import Read
from archiver.verify.report import Report


def check_fixity(read: Read, listed: Listed, report: Report) -> None:
    """Compare one read version with every manifest entry listing it; report each mismatch."""
    key, version_id = read.version.key, read.version.version_id
    for manifest, entry in listed.get((key, version_id), []):
        report.count("objects_checked")
        expected_sha, expected_size = entry.get("sha256"), entry.get("size")
        if expected_sha != read.sha256 or expected_size != read.size:
            report.add(
                "altered",
                key,
                f"stored bytes have sha256 {read.sha256} and {read.size} bytes; the manifest lists "
                f"sha256 {expected_sha} and {expected_size} bytes",
                version_id=version_id,
                manifest=manifest.key,
            )
    if key.startswith(MEDIA_PREFIX):
        address = key.rsplit("/", 1)[-1]
        if address != read.sha256:
            report.add(
                "media",
                key,
                f"the bytes of version {version_id} hash to {read.sha256}, not to the address {address}",
                version_id=version_id,
            )
