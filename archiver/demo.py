"""The demo: the daily archive of the sandbox's example accounts over several simulated days.

It starts the embedded stack (idempotent), then for each simulated day moves the sandbox's
clock to just after that day's midnight, as the nightly run would see the world, and archives
the day exactly as ``archiver run`` does. Data stays on disk; ``archiver stack down`` stops it.
"""

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import typer

from archiver.config import Settings, load_accounts
from archiver.pipeline import Outcome, archive_day
from archiver.report import limit_lines, run_report
from archiver.summary import print_summary

NIGHTLY_RUN = time(2, 0)
REPORTED_COUNTS = ("new", "changed", "tombstones", "quarantined", "tombstones_withheld")


def run_demo(stack_dir: Path, days: int) -> int:
    """Archive ``days`` simulated days on the embedded stack; return the exit code (1 if any failed)."""
    from archiver.stack import identity_env, start_stack

    start_stack(stack_dir)
    os.environ.update(identity_env("archiver", stack_dir, sandbox=True))
    settings = Settings()
    first = load_accounts(settings=settings).start_date or date.today() - timedelta(days=days)
    failed = False
    for offset in range(days):
        day = first + timedelta(days=offset)
        set_sandbox_clock(settings, _nightly_run_after(day, settings.timezone))
        outcomes = archive_day(day, settings=settings)
        _report(outcomes)
        failed = failed or any(outcome.status == "failed" for outcome in outcomes)
    typer.echo("")
    print_summary(stack_dir)
    return 1 if failed else 0


def _nightly_run_after(day: date, timezone: str) -> datetime:
    return datetime.combine(day + timedelta(days=1), NIGHTLY_RUN, tzinfo=ZoneInfo(timezone))


def set_sandbox_clock(settings: Settings, now: datetime) -> None:
    """Move the sandbox's clock to ``now`` (the sandbox serves its world as of that instant)."""
    root = settings.api_base["facebook"].rsplit("/v", 1)[0]
    httpx.post(f"{root}/_sandbox/clock", json={"now": now.isoformat()}, timeout=10).raise_for_status()


def _report(outcomes: list[Outcome]) -> None:
    for outcome in outcomes:
        counts = (outcome.run or {}).get("counts", {})
        detail = (
            outcome.error
            or ("already archived" if outcome.status == "skipped" else "")
            or ", ".join(f"{counts[key]} {key}" for key in REPORTED_COUNTS if counts.get(key))
        )
        typer.echo(f"  {outcome.day}  {outcome.account:<24} {outcome.status:<9} {detail or 'nothing new'}")
        if outcome.run and outcome.status != "skipped":
            for line in limit_lines(run_report(dict(outcome.run))):
                typer.echo(f"  {'':<10}  {'':<24} {line.strip()}")
