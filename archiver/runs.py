"""Runs: what one capture of one account for one archive day is called, covers and wrote.

A run record is a plain JSON-able dict passed between the stages (capture, normalise, seal) and
through Airflow's XCom; it holds keys and counts, never item data.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

from archiver.config import Account, Settings
from archiver.connectors.base import CaptureWindow

CAPTURE, RENORMALISE = "capture", "renormalise"


class RunRecord(TypedDict, total=False):
    """One run as passed between the stages."""

    run_id: str
    account: str
    platform: str
    account_id: str
    day: str
    status: str
    """``captured``, ``normalised``, ``complete``, ``failed`` or ``skipped`` (day already archived)."""
    error: str | None
    purpose: str
    """``capture`` (the default: a day's capture) or ``renormalise`` (a stored WARC again)."""
    warc_key: str | None
    window: dict[str, str | None]
    started_at: str
    objects: list[dict[str, Any]]
    counts: dict[str, int]
    requests: dict[str, Any]
    report: dict[str, Any]
    """What the platform could not deliver and what the run cost (:class:`archiver.report.CaptureReport`)."""
    manifest: dict[str, Any] | None


def run_id(account: Account, started: datetime) -> str:
    """Return a run id: ``{account}_{UTC start to the microsecond}``; ``_`` never occurs in account
    names, and the start time orders an account's runs (they never overlap)."""
    return f"{account.name}_{started.astimezone(UTC):%Y%m%dT%H%M%S%fZ}"


def account_of_run(run: str) -> str:
    """Return the account name a run id belongs to."""
    return run.rsplit("_", 1)[0]


def capture_window(day: date, settings: Settings) -> CaptureWindow:
    """Return what a run for ``day`` covers: the day plus the re-check window, or everything on
    the full-sweep weekday. Days are calendar days in the archive's time zone."""
    zone = ZoneInfo(settings.timezone)
    start = datetime.combine(day, time(0), tzinfo=zone)
    until = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    full_sweep = settings.full_sweep_weekday >= 0 and day.weekday() == settings.full_sweep_weekday
    since = None if full_sweep else (start - timedelta(days=settings.recheck_days)).astimezone(UTC)
    return CaptureWindow(day=day, since=since, until=until)


def window_to_dict(window: CaptureWindow) -> dict[str, str | None]:
    """Return a window as JSON-able strings."""
    since = window["since"]
    return {
        "day": window["day"].isoformat(),
        "since": since.isoformat() if since else None,
        "until": window["until"].isoformat(),
    }


def window_from_dict(value: dict[str, Any]) -> CaptureWindow:
    """Return the window a :func:`window_to_dict` dict describes."""
    since = value.get("since")
    return CaptureWindow(
        day=date.fromisoformat(value["day"]),
        since=datetime.fromisoformat(since) if since else None,
        until=datetime.fromisoformat(value["until"]),
    )


def warc_key(account: Account, day: date, run: str) -> str:
    """Return ``raw/{platform}/{account}/{yyyy}/{mm}/{dd}/{run}.warc.gz``."""
    return f"raw/{account.platform}/{account.name}/{day:%Y/%m/%d}/{run}.warc.gz"


def items_key(platform: str, account: str, day: str, run: str) -> str:
    """Return ``items/platform={p}/account={a}/date={yyyy-mm-dd}/{run}.parquet``."""
    return f"items/platform={platform}/account={account}/date={day}/{run}.parquet"


def items_prefix(platform: str, account: str) -> str:
    """Return the prefix under which all of an account's item files lie."""
    return f"items/platform={platform}/account={account}/"


def items_day(key: str) -> str:
    """Return the archive day (the ``date=`` partition, YYYY-MM-DD) of an items file's key."""
    return key.split("/date=", 1)[1][:10]


def quarantine_key(platform: str, account: str, day: str, run: str, name: str) -> str:
    """Return ``quarantine/{platform}/{account}/{yyyy-mm-dd}/{run}/{name}``."""
    return f"quarantine/{platform}/{account}/{day}/{run}/{name}"


def diary_key(account: str, day: str) -> str:
    """Return the key of an account's diary for ``day``: ``documents/{account}/{yyyy}/{mm}/{account}_{yyyy-mm-dd}.pdf``."""
    return f"documents/{account}/{day[:4]}/{day[5:7]}/{account}_{day}.pdf"


def manifest_key(day: str, run: str) -> str:
    """Return ``manifests/{yyyy}/{mm}/{dd}/{run}.json``."""
    return f"manifests/{day[:4]}/{day[5:7]}/{day[8:10]}/{run}.json"
