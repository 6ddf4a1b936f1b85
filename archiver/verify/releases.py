"""Releases: every package under ``releases/{ref}/`` is still what was handed out.

A release is not listed by the manifest chains: it carries its own ``SHA256SUMS`` (every file of
the package folder, ``manifest.json`` included, by sha256). Each file it names must be stored,
current and have that sha256, and be in the release's zip (what was handed out) with the same
bytes; a release without ``SHA256SUMS`` is incomplete.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field

from archiver.verify.inventory import Inventory, Read
from archiver.verify.report import Report

RELEASES_PREFIX = "releases/"
SUMS = "SHA256SUMS"
_SUM_LINE = re.compile(r"^([0-9a-f]{64})  (\S.*)$")


@dataclass
class ReleaseFiles:
    """What the reads of ``releases/`` showed: each release's sums and its current files' sha256."""

    sums: dict[str, str] = field(default_factory=dict)
    """Release prefix (``releases/{ref}/``) -> text of its ``SHA256SUMS``."""
    current: dict[str, str] = field(default_factory=dict)
    """Key -> sha256 of its current version (as read)."""
    zipped: dict[str, dict[str, str]] = field(default_factory=dict)
    """Release prefix -> sha256 of each file in its zip, by its name in the package folder."""

    def collect(self, read: Read, inventory: Inventory) -> None:
        """Remember ``read`` if it is the current version of a key under ``releases/``."""
        key = read.version.key
        if not key.startswith(RELEASES_PREFIX) or read.error or read.streamed:
            return
        current = inventory.current(key)
        if current is None or current.version_id != read.version.version_id:
            return
        self.current[key] = read.sha256
        prefix = "/".join(key.split("/", 2)[:2]) + "/"
        if key == prefix + SUMS:
            self.sums[prefix] = read.data.decode("utf-8", errors="replace")
        elif key.count("/") == 2 and key.endswith(".zip"):
            self.zipped[prefix] = _zip_members(read.data)

    def check(self, inventory: Inventory, report: Report) -> None:
        """Report each release whose ``SHA256SUMS`` is missing, unreadable or not matched by the
        stored files."""
        prefixes = {"/".join(key.split("/", 2)[:2]) + "/" for key in inventory.keys(RELEASES_PREFIX)}
        for prefix in sorted(prefixes):
            report.count("releases_checked")
            sums = self.sums.get(prefix)
            if sums is None:
                report.add(
                    "release", prefix + SUMS, "the release has no SHA256SUMS: it cannot be shown to be complete"
                )
                continue
            for number, line in enumerate(sums.splitlines(), start=1):
                self._check_line(prefix, number, line, report)

    def _check_line(self, prefix: str, number: int, line: str, report: Report) -> None:
        match = _SUM_LINE.match(line)
        if match is None:
            report.add("release", prefix + SUMS, f"line {number} is not 'SHA256  NAME': {line[:80]!r}")
            return
        expected, key = match[1], prefix + match[2]
        stored = self.current.get(key)
        if stored is None:
            report.add("release", key, f"listed in {prefix}{SUMS} but not stored (or not read)")
        elif stored != expected:
            report.add(
                "release", key, f"stored bytes have sha256 {stored}; {prefix}{SUMS} lists {expected}"
            )
        zipped = self.zipped.get(prefix)
        if zipped is not None and zipped.get(match[2]) != expected:
            report.add("release", key, f"the release's zip does not hold this file as {prefix}{SUMS} lists it")


def _zip_members(data: bytes) -> dict[str, str]:
    """Return the sha256 of each file in the zip ``data`` by its path below the top folder
    (an unreadable zip holds nothing)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return {
                info.filename.split("/", 1)[-1]: hashlib.sha256(archive.read(info)).hexdigest()
                for info in archive.infolist()
                if not info.is_dir()
            }
    except (zipfile.BadZipFile, OSError, ValueError):
        return {}
