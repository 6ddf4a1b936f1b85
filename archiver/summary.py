"""What the archive holds, counted from the ``items`` table and the manifests."""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import typer

from archiver.config import Settings
from archiver.storage import Bucket
from archiver.templating import render_text


@dataclass
class AccountSummary:
    """Counts for one archived account."""

    platform: str
    account: str
    days: set[str] = field(default_factory=set)
    rows: int = 0
    items: set[str] = field(default_factory=set)
    by_kind: Counter[str] = field(default_factory=Counter)
    changed: int = 0
    hidden: int = 0
    tombstones: int = 0


def summarise(bucket: Bucket) -> dict[str, Any]:
    """Return counts per account (items by kind, versions, tombstones) and per top-level prefix."""
    accounts: dict[str, AccountSummary] = {}
    for entry in bucket.list("items/"):
        parts = dict(part.split("=", 1) for part in entry.key.split("/")[1:4])
        summary = accounts.setdefault(
            parts["account"], AccountSummary(platform=parts["platform"], account=parts["account"])
        )
        summary.days.add(parts["date"])
        _count(summary, pq.read_table(io.BytesIO(bucket.get(entry.key))).to_pylist())
    prefixes = Counter(entry.key.split("/", 1)[0] for entry in bucket.list(""))
    return {
        "bucket": bucket.name,
        "accounts": list(accounts.values()),
        "prefixes": dict(sorted(prefixes.items())),
    }


def _count(summary: AccountSummary, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        summary.rows += 1
        if row["item_key"] not in summary.items:
            summary.items.add(row["item_key"])
            summary.by_kind[row["kind"]] += 1
        if row["state"] == "deleted_at_source":
            summary.tombstones += 1
        elif row["state"] == "hidden":
            summary.hidden += 1
        elif row["version"] > 1:
            summary.changed += 1


def print_summary(stack_dir: Path | None = None, settings: Settings | None = None) -> None:
    """Print the archive summary for the bucket in the environment (or the given embedded stack)."""
    if stack_dir is not None:
        import os

        from archiver.stack import identity_env

        os.environ.update(identity_env("auditor", stack_dir))
    settings = settings or Settings()
    typer.echo(render_text("cli/summary.txt.j2", summarise(Bucket(settings.bucket)), stack_dir=stack_dir))
