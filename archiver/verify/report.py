"""The verify report: every finding with the object it concerns, counts, and where it is kept.

A finding names one object (its key and, where it matters, its version id), the check that
found it and what is wrong, in English; the human summary (``templates/verify/``) adds the
check's name in Swedish or English. A report never holds a secret's value, only which secret
was found where.

Reports are stored under ``audits/{yyyy}/{mm}/{dd}/verify_{UTC time}.json``. They are not listed
in a manifest: an audit is not part of the archive it proves, and the next audit starts afresh.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from archiver import __version__
from archiver.storage import Bucket, StoredObject
from archiver.templating import render_text

FORMAT = "social-archive-audit/1"
AUDIT_PREFIX = "audits/"
LANGUAGES = ("sv", "en")

CHECKS = {
    "missing": "a version a manifest lists is not stored",
    "altered": "stored bytes differ from the manifest (sha256 or size)",
    "not_current": "the current version is not the one the manifest lists",
    "deleted": "the key's current version is a delete marker",
    "unlisted": "a stored version no manifest lists (orphan)",
    "unsealed_run": "a run's objects have no manifest",
    "manifest_unreadable": "a manifest is not valid JSON of the manifest format",
    "chain_broken": "a manifest's link to the previous one does not resolve or does not match",
    "chain_gap": "an account's manifest sequence numbers have a gap",
    "off_chain": "a manifest is not on its account's chain",
    "raw_ref": "an items row's raw reference does not resolve to the bytes it names",
    "media": "a media file's content does not match its address, or an attachment's media is missing",
    "diary_missing": "an account with activity on a day has no diary",
    "retention": "a version is not under Object Lock retention",
    "pdfa": "a document fails PDF/A validation",
    "release": "a release's files do not match its SHA256SUMS, or it has none",
    "secret": "a configured token or key appears in a stored object",
    "unreadable": "an object could not be read",
}
"""Every check code a finding can carry, with what it means."""


@dataclass(frozen=True)
class Finding:
    """One problem found, naming the object it concerns."""

    check: str
    key: str
    message: str
    version_id: str | None = None
    manifest: str | None = None
    """The manifest that lists (or should list) the object, when one is concerned."""

    def to_dict(self) -> dict[str, Any]:
        """Return the finding as a JSON-able dict."""
        return asdict(self)


@dataclass(frozen=True)
class Scope:
    """Which archive days a verify covers; both None means the whole archive."""

    first: date | None = None
    last: date | None = None

    @property
    def everything(self) -> bool:
        """Return True when the whole archive is in scope."""
        return self.first is None and self.last is None

    def covers(self, day: str | None) -> bool:
        """Return whether archive day ``day`` (YYYY-MM-DD) is in scope; an unknown day only for --all."""
        if self.everything:
            return True
        if not day:
            return False
        try:
            value = date.fromisoformat(day)
        except ValueError:
            return False
        return (self.first is None or value >= self.first) and (self.last is None or value <= self.last)

    def describe(self) -> str:
        """Return the scope as text: ``all``, a day, or ``FIRST..LAST``."""
        if self.everything:
            return "all"
        if self.first == self.last:
            return str(self.first)
        return f"{self.first or ''}..{self.last or ''}"


@dataclass
class Report:
    """What a verify found and how much it read."""

    bucket: str
    scope: Scope
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    findings: list[Finding] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    """What was not checked and why (e.g. no documents stage yet)."""
    stored: StoredObject | None = None

    @property
    def ok(self) -> bool:
        """Return True when nothing was found."""
        return not self.findings

    def add(self, check: str, key: str, message: str, **extra: str | None) -> None:
        """Record a finding (``check`` is one of :data:`CHECKS`)."""
        if check not in CHECKS:
            raise ValueError(f"unknown check {check!r}")
        self.findings.append(Finding(check, key, message, **extra))

    def count(self, name: str, amount: int = 1) -> None:
        """Add ``amount`` to the counter ``name``."""
        self.counts[name] = self.counts.get(name, 0) + amount

    def by_check(self) -> dict[str, int]:
        """Return the number of findings per check code."""
        result: dict[str, int] = {}
        for finding in self.findings:
            result[finding.check] = result.get(finding.check, 0) + 1
        return dict(sorted(result.items()))

    def to_dict(self) -> dict[str, Any]:
        """Return the whole report as a JSON-able dict."""
        return {
            "format": FORMAT,
            "software": {"name": "social-archiver", "version": __version__},
            "bucket": self.bucket,
            "scope": self.scope.describe(),
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "ok": self.ok,
            "counts": dict(sorted(self.counts.items())),
            "findings_by_check": self.by_check(),
            "findings": [f.to_dict() for f in sorted(self.findings, key=_order)],
            "notes": self.notes,
            "checks": CHECKS,
        }

    def to_json(self) -> bytes:
        """Return the report as indented UTF-8 JSON."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1).encode("utf-8")

    def text(self, lang: str = "sv") -> str:
        """Return the report as text for a person, in Swedish (default) or English."""
        if lang not in LANGUAGES:
            raise ValueError(f"Unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}.")
        return render_text(f"verify/report.{lang}.txt.j2", self.to_dict(), stored=self.stored)


def _order(finding: Finding) -> tuple[str, str, str]:
    return (finding.key, finding.check, finding.version_id or "")


def audit_key(report: Report) -> str:
    """Return where ``report`` is stored: ``audits/{yyyy}/{mm}/{dd}/verify_{UTC time}.json``."""
    started = report.started_at.astimezone(UTC)
    return f"{AUDIT_PREFIX}{started:%Y/%m/%d}/verify_{started:%Y%m%dT%H%M%S%fZ}.json"


def store_report(bucket: Bucket, report: Report) -> StoredObject:
    """Store ``report`` under ``audits/``; return what was stored (raises StorageError when the
    identity may not write there, e.g. the read-only auditor)."""
    report.stored = bucket.put(audit_key(report), report.to_json(), "application/json")
    return report.stored
