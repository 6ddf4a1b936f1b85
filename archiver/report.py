"""The run report: what a run asked the platform, what it found, what it could not get and what it cost.

Connectors fill a :class:`CaptureReport` while they capture (gaps the platform imposes, such
as X's 30 days of DMs or Instagram's 20 newest messages; money or quota spent). The capture
stage copies it into the run record, the seal stage writes it into the run's manifest (so the
operator reads it in the bucket) and :func:`format_report` prints it into the task log.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class CaptureReport:
    """Limits met and resources spent during one capture."""

    gaps: list[dict[str, Any]] = field(default_factory=list)
    cost_usd: float = 0.0
    """Estimated money spent (X pay-per-use reads)."""
    quota_units: int = 0
    """Quota units spent (YouTube Data API)."""
    resources: dict[str, int] = field(default_factory=dict)
    """Billable resources read, by kind (X: posts, users, dm_events)."""

    def gap(self, kind: str, detail: str, **context: Any) -> None:
        """Record something the platform could not deliver, with what it concerns."""
        entry = {"kind": kind, "detail": detail, **context}
        if entry not in self.gaps:
            self.gaps.append(entry)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        return asdict(self)


def run_report(run: dict[str, Any]) -> dict[str, Any]:
    """Return the report of a run record: requests, items by kind, gaps, cost and quota."""
    counts = run.get("counts", {})
    captured = run.get("report") or {}
    return {
        "account": run.get("account"),
        "platform": run.get("platform"),
        "day": run.get("day"),
        "status": run.get("status"),
        "requests": run.get("requests", {}),
        "items_by_kind": {key[5:]: value for key, value in sorted(counts.items()) if key.startswith("kind_")},
        "versions": {key: counts.get(key, 0) for key in ("new", "changed", "tombstones")},
        "gaps": captured.get("gaps", []),
        "cost_usd": round(float(captured.get("cost_usd", 0.0)), 4),
        "quota_units": int(captured.get("quota_units", 0)),
        "resources": captured.get("resources", {}),
        "error": run.get("error"),
    }


def limit_lines(report: dict[str, Any]) -> list[str]:
    """Return the report's lines on platform limits: cost, quota and each gap (none when unlimited)."""
    lines = []
    if report["cost_usd"] or report["resources"]:
        resources = ", ".join(f"{count} {kind}" for kind, count in report["resources"].items())
        lines.append(f"  estimated cost: ${report['cost_usd']:.4f} ({resources or 'no billable reads'})")
    if report["quota_units"]:
        lines.append(f"  quota units used: {report['quota_units']}")
    lines += [f"  GAP {gap['kind']}: {gap['detail']}" for gap in report["gaps"]]
    return lines


def format_report(report: dict[str, Any]) -> str:
    """Return the report as a few readable lines for a task log or a terminal."""
    requests = report.get("requests") or {}
    kinds = ", ".join(f"{count} {kind}" for kind, count in report["items_by_kind"].items()) or "none"
    versions = report["versions"]
    lines = [
        f"{report['account']} ({report['platform']}) {report['day']}: {report['status']}",
        f"  requests: {requests.get('requests', 0)} ({requests.get('retries', 0)} retried, "
        f"{requests.get('throttled', 0)} throttled)",
        f"  versions written by kind: {kinds}; {versions['new']} new, {versions['changed']} changed, "
        f"{versions['tombstones']} deleted",
    ]
    lines += limit_lines(report)
    if report.get("error"):
        lines.append(f"  error: {report['error']}")
    return "\n".join(lines)
