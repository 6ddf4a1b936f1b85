"""The daily archive as plain calls: one function per stage, taking and returning small values.

These are what the Airflow tasks and the ``archiver`` command call. Each builds its settings
and bucket from the environment, so a task passes only an account name, a day and run records
(keys and counts, never item data).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from archiver.capture import capture_account
from archiver.config import Settings, find_account, load_accounts
from archiver.errors import ArchiverError
from archiver.manifest import manifest_of, seal_run
from archiver.normalise import normalise_run
from archiver.report import format_report, run_report
from archiver.runs import RENORMALISE, RunRecord, run_id
from archiver.storage import Bucket
from archiver.warc import read_warcinfo

log = logging.getLogger(__name__)


def account_names(settings: Settings | None = None) -> list[str]:
    """Return the names of the accounts in the accounts file, invalid entries included (so that
    each fails on its own with what is wrong, while the others are archived)."""
    accounts = load_accounts(settings=settings or Settings())
    return [account.name for account in accounts.accounts] + list(accounts.invalid)


def capture(account: str, day: str, *, force: bool = False, settings: Settings | None = None) -> RunRecord:
    """Capture one account's day; return its run record (raises when the platform cannot be read)."""
    settings = settings or Settings()
    found = find_account(load_accounts(settings=settings), account)
    return capture_account(Bucket(settings.bucket), found, date.fromisoformat(day), settings, force=force)


def normalise(run: RunRecord, *, settings: Settings | None = None) -> RunRecord:
    """Normalise a captured run into item versions; return the run with its new objects."""
    settings = settings or Settings()
    return normalise_run(Bucket(settings.bucket), run)


def render(run: RunRecord, *, settings: Settings | None = None) -> RunRecord:
    """Render the diary of a normalised run's day (PDF/A under ``documents/``); return the run
    with the diary among its objects if a new version was written. Skipped runs are unchanged."""
    from archiver.documents.render import render_run  # ReportLab and pikepdf only when rendering

    settings = settings or Settings()
    return render_run(Bucket(settings.bucket), run, settings)


def seal(run: RunRecord, *, settings: Settings | None = None) -> RunRecord:
    """Write the run's manifest (with the run's report, also logged); return the run with the
    manifest's key and version."""
    settings = settings or Settings()
    sealed = seal_run(Bucket(settings.bucket), run)
    if sealed.get("status") != "skipped":
        log.info("run report\n%s", format_report(run_report(dict(sealed))))
    return sealed


def renormalise(warc_key: str, *, settings: Settings | None = None) -> RunRecord:
    """Normalise a stored WARC file again, as a new run; return it (sealed if it wrote anything).

    For a day whose responses were quarantined: once the parser is fixed, this adds the items
    the archive has never held. It changes no existing item and tombstones nothing (later days
    may have seen more), and it does not count as archiving the day. A failed capture's WARC is
    refused: its listings are incomplete; capture the day again instead.
    """
    settings = settings or Settings()
    bucket = Bucket(settings.bucket)
    info = read_warcinfo(bucket.get(warc_key))
    account = find_account(load_accounts(settings=settings), str(info.get("account")))
    original = manifest_of(bucket, str(info["day"]), str(info["run_id"]))
    if original is None or original.get("status") != "complete":
        raise ArchiverError(
            f"{warc_key} is not from a complete capture run; capture the day again with "
            f"`archiver run --date {info['day']} --account {account.name} --force`."
        )
    run = RunRecord(
        run_id=run_id(account, datetime.now(UTC)),
        account=account.name,
        platform=account.platform,
        account_id=account.id,
        day=str(info["day"]),
        status="captured",
        purpose=RENORMALISE,
        error=None,
        warc_key=warc_key,
        window=info["window"],
        started_at=str(info["started_at"]),
        objects=[],
        counts={},
    )
    run = render(normalise_run(bucket, run), settings=settings)
    return seal_run(bucket, run) if run["objects"] else run


def publish_catalog(day: str | None = None, *, settings: Settings | None = None) -> list[dict[str, Any]]:
    """Write the bucket's READMEs and ``catalog/`` pages where they changed, sealed as a ``_catalog``
    run of ``day`` (default: today in the archive's time zone); return the objects written, the
    manifest last (empty when nothing changed). See :mod:`archiver.catalog`."""
    from archiver.catalog import publish

    settings = settings or Settings()
    try:
        organisation: str | None = load_accounts(settings=settings).organisation
    except ArchiverError:
        organisation = None
    day = day or datetime.now(ZoneInfo(settings.timezone)).date().isoformat()
    return publish(Bucket(settings.bucket), day, organisation)


def _publish_catalog_after(day: date, settings: Settings) -> None:
    """Publish the catalog after a day's accounts; a failure is logged, never fails the accounts."""
    try:
        written = publish_catalog(day.isoformat(), settings=settings)
    except Exception:  # the archive itself is complete; the catalog is rebuilt by the next run
        log.exception(
            "Publishing the catalog after %s failed; the archive is unaffected. Run `archiver catalog` "
            "once the cause is fixed.",
            day,
        )
        return
    log.info("catalog: %d object(s) written", len(written))


@dataclass(frozen=True)
class Outcome:
    """How one account's day went."""

    account: str
    day: str
    status: str
    error: str | None
    run: RunRecord | None


def archive_day(
    day: date, *, accounts: list[str] | None = None, force: bool = False, settings: Settings | None = None
) -> list[Outcome]:
    """Archive every (or the named) account for ``day``; one failing account never stops the others."""
    settings = settings or Settings()
    outcomes = []
    for name in accounts or account_names(settings):
        try:
            captured = capture(name, day.isoformat(), force=force, settings=settings)
            run = seal(render(normalise(captured, settings=settings), settings=settings), settings=settings)
            outcomes.append(Outcome(name, day.isoformat(), run["status"], None, run))
        except ArchiverError as error:
            log.error("%s", error)
            outcomes.append(Outcome(name, day.isoformat(), "failed", str(error), None))
        except Exception as error:  # a bug or an unforeseen answer: this account only
            log.exception("%s %s: unexpected error", name, day)
            message = (
                f"unexpected {type(error).__name__}: {error}. The raw responses are kept under raw/; "
                "report this with the run's manifest (manifests/) so the archiver can be fixed."
            )
            outcomes.append(Outcome(name, day.isoformat(), "failed", message, None))
    _publish_catalog_after(day, settings)
    return outcomes


def archive_days(
    first: date,
    days: int,
    *,
    accounts: list[str] | None = None,
    force: bool = False,
    settings: Settings | None = None,
) -> list[Outcome]:
    """Archive ``days`` consecutive days from ``first``; return every account's outcome per day."""
    outcomes: list[Outcome] = []
    for offset in range(days):
        outcomes += archive_day(
            first + timedelta(days=offset), accounts=accounts, force=force, settings=settings
        )
    return outcomes
