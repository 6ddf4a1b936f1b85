"""The capture stage: fetch one account's day from its platform into a WARC file and media/.

A run first checks whether the day is already archived (a complete manifest exists); if so it
writes nothing. Otherwise every exchange is recorded, tokens removed, and the WARC file is
stored under ``raw/`` even when the capture fails half-way, so nothing that was received is
lost; a failed run is sealed with its error before the error is raised again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from archiver import __version__
from archiver.config import Account, Settings
from archiver.connectors import get_connector
from archiver.connectors.base import Connector
from archiver.errors import ArchiverError, PlatformError, StorageError
from archiver.http import ApiClient, Response
from archiver.items import item_key, unsigned_url
from archiver.itemstore import latest_versions, read_account_items
from archiver.manifest import completed_run, seal_run
from archiver.media import downloadable, known_media, store_media
from archiver.recovery import seal_interrupted_runs
from archiver.report import format_report, run_report
from archiver.runs import RunRecord, capture_window, run_id, warc_key, window_to_dict
from archiver.storage import Bucket
from archiver.versions import unseen_roots
from archiver.warc import Redactor, WarcRecorder

log = logging.getLogger(__name__)


def capture_account(
    bucket: Bucket, account: Account, day: date, settings: Settings, *, force: bool = False
) -> RunRecord:
    """Capture ``account`` for ``day``; return the run record (status ``captured`` or ``skipped``).

    Raises the capture's error (after storing the partial WARC and a failed manifest) when the
    platform cannot be read, e.g. TokenError naming the variable to renew.
    """
    day_text = day.isoformat()
    done = None if force else completed_run(bucket, account.name, day_text)
    if done:
        log.info("%s %s already archived (%s); nothing to do", account.name, day_text, done)
        return _skipped(account, day_text, done)
    seal_interrupted_runs(bucket, account, day)
    started = datetime.now(UTC)
    run = _new_run(account, day, started, settings)
    try:
        token = account.token()
    except ArchiverError as error:
        run["status"], run["error"] = "failed", str(error)
        seal_run(bucket, run)
        raise
    recorder = WarcRecorder(Redactor([token]), _warcinfo(run))
    connector = get_connector(account.platform)
    client = ApiClient(
        settings,
        recorder,
        token,
        account.token_env,
        f"{account.platform} account '{account.name}'",
        dialect=connector.dialect,
    )
    failure: BaseException | None = None
    try:
        _fetch(bucket, client, connector, account, run, settings)
    except BaseException as error:  # a task timeout too: keep what was received, seal the failure
        failure = error
        run["status"], run["error"] = "failed", str(error) or type(error).__name__
    client.close()
    run["requests"] = dict(vars(client.stats))
    run["report"] = client.report.to_dict()
    try:
        _store_warc(bucket, recorder, run)
    except StorageError as error:
        run["status"], run["error"] = "failed", "; ".join(filter(None, [run.get("error"), str(error)]))
        failure = failure or error
    if failure is not None:
        try:
            sealed = seal_run(bucket, run)
            log.error("run report\n%s", format_report(run_report({**sealed, "status": "failed"})))
        except StorageError:
            log.exception("%s %s: could not seal the failed run; the next run seals it", account.name, day)
        raise failure
    return run


def _new_run(account: Account, day: date, started: datetime, settings: Settings) -> RunRecord:
    name = run_id(account, started)
    return RunRecord(
        run_id=name,
        account=account.name,
        platform=account.platform,
        account_id=account.id,
        day=day.isoformat(),
        status="captured",
        error=None,
        warc_key=warc_key(account, day, name),
        window=window_to_dict(capture_window(day, settings)),
        started_at=started.isoformat(),
        objects=[],
        counts={},
    )


def _skipped(account: Account, day: str, manifest: str) -> RunRecord:
    return RunRecord(
        run_id="",
        account=account.name,
        platform=account.platform,
        account_id=account.id,
        day=day,
        status="skipped",
        error=None,
        warc_key=None,
        objects=[],
        counts={},
        manifest={"key": manifest},
    )


def _warcinfo(run: RunRecord) -> dict[str, object]:
    return {
        "software": f"social-archiver/{__version__}",
        "format": "WARC/1.1 with HTTP request/response records; access tokens replaced by REDACTED",
        **{
            key: run[key]
            for key in (
                "run_id",
                "account",
                "platform",
                "account_id",
                "day",
                "window",
                "started_at",
            )
        },
    }


def _fetch(
    bucket: Bucket,
    client: ApiClient,
    connector: Connector,
    account: Account,
    run: RunRecord,
    settings: Settings,
) -> None:
    """Fetch the window, confirm by lookup every re-checked root the listings left out, and
    download the media not archived before."""
    window = capture_window(date.fromisoformat(run["day"]), settings)
    latest = latest_versions(read_account_items(bucket, account.platform, account.name))
    responses = connector.capture(client, account, window, settings)
    seen = _observed(connector, responses, account)
    unlisted = [
        (latest[key]["native_id"], latest[key]["kind"])
        for key in sorted(unseen_roots(latest, seen.items, window))
    ]
    lookups, unknown = connector.confirm(client, account, unlisted, settings)
    seen.merge(_observed(connector, lookups, account))
    unknown_keys = [item_key(account.platform, account.id, native_id) for native_id in unknown]
    client.recorder.note({"unconfirmed_roots": unknown_keys})
    alive = sum(
        1 for native_id, _ in unlisted if item_key(account.platform, account.id, native_id) in seen.items
    )
    known = known_media(latest.values())
    urls = [url for url in seen.media_urls if unsigned_url(url) not in known]
    run["counts"] = {
        "api_responses": len(responses) + len(lookups),
        "roots_unlisted": len(unlisted),
        "roots_gone": len(unlisted) - alive - len(unknown),
        "roots_unconfirmed": len(unknown),
        "media_downloads": len(urls),
    }
    _download_media(bucket, client, urls, run)


@dataclass
class _Seen:
    """What a set of responses shows: item keys, and media URLs in order of appearance."""

    items: set[str] = field(default_factory=set)
    media_urls: dict[str, None] = field(default_factory=dict)

    def merge(self, other: _Seen) -> None:
        self.items |= other.items
        self.media_urls.update(other.media_urls)


def _observed(connector: Connector, responses: Iterable[Response], account: Account) -> _Seen:
    """Return the item keys and downloadable media URLs the responses show."""
    seen = _Seen()
    for response in responses:
        try:
            for observation in connector.parse(response.url, response.json(), account.id):
                seen.items.add(observation["item_key"])
                for attachment in observation["attachments"]:
                    if downloadable(attachment):
                        seen.media_urls[str(attachment["source_url"])] = None
        except Exception as error:  # normalise quarantines what cannot be parsed
            log.warning(
                "%s: a response was not understood (%s); normalise will quarantine it", account.name, error
            )
    return seen


def _download_media(bucket: Bucket, client: ApiClient, urls: list[str], run: RunRecord) -> None:
    failed = 0
    for url in urls:
        try:
            response = client.get_media(url)
        except PlatformError as error:
            failed += 1
            log.warning("%s", error)
            continue
        _, written = store_media(bucket, response.body, response.content_type.split(";")[0])
        if written:
            run["objects"].append(written.to_dict())
    run["counts"]["media_failed"] = failed


def _store_warc(bucket: Bucket, recorder: WarcRecorder, run: RunRecord) -> None:
    """Store the run's WARC file and add it to the run's objects."""
    try:
        stored = bucket.put(str(run["warc_key"]), recorder.getvalue(), "application/warc")
    finally:
        recorder.close()
    run["objects"].append(stored.to_dict())
    run["counts"]["responses_recorded"] = recorder.responses
