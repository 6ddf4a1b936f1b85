"""The capture stage: fetch one account's day from its platform into a WARC file and media/.

A run first checks whether the day is already archived (a complete manifest exists); if so it
writes nothing. Otherwise every exchange is recorded, tokens removed, and the WARC file is
stored under ``raw/`` even when the capture fails half-way, so nothing that was received is
lost; a failed run is sealed with its error before the error is raised again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime

from archiver import __version__
from archiver.config import Account, Settings
from archiver.connectors import get_connector
from archiver.connectors.base import Connector
from archiver.errors import ArchiverError, PlatformError
from archiver.http import ApiClient, Response
from archiver.manifest import completed_run, seal_run
from archiver.media import store_media
from archiver.runs import RunRecord, capture_window, run_id, warc_key, window_to_dict
from archiver.storage import Bucket
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
    started = datetime.now(UTC)
    run = _new_run(account, day, started, settings)
    try:
        token = account.token()
    except ArchiverError as error:
        run["status"], run["error"] = "failed", str(error)
        seal_run(bucket, run)
        raise
    recorder = WarcRecorder(Redactor([token]), _warcinfo(run))
    client = ApiClient(
        settings, recorder, token, account.token_env, f"{account.platform} account '{account.name}'"
    )
    failure: Exception | None = None
    try:
        _fetch(bucket, client, get_connector(account.platform), account, run, settings)
    except Exception as error:  # whatever went wrong, the WARC is kept and the failure sealed
        failure = error
        run["status"], run["error"] = "failed", str(error)
    finally:
        client.close()
        _store_warc(bucket, recorder, run)
        run["requests"] = dict(vars(client.stats))
    if failure is not None:
        seal_run(bucket, run)
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
    window = capture_window(date.fromisoformat(run["day"]), settings)
    responses = connector.capture(client, account, window, settings)
    urls = _attachment_urls(connector, responses, account)
    run["counts"] = {"api_responses": len(responses), "media_urls": len(urls)}
    _download_media(bucket, client, urls, run)


def _attachment_urls(connector: Connector, responses: Iterable[Response], account: Account) -> list[str]:
    """Return every distinct attachment URL the responses show, in order of appearance."""
    urls: dict[str, None] = {}
    for response in responses:
        try:
            for observation in connector.parse(response.url, response.json(), account.id):
                for attachment in observation["attachments"]:
                    if attachment.get("source_url"):
                        urls[str(attachment["source_url"])] = None
        except Exception as error:
            log.warning(
                "%s: a response was not understood (%s); normalise will quarantine it",
                account.name,
                error,
            )
    return list(urls)


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
    try:
        stored = bucket.put(str(run["warc_key"]), recorder.getvalue(), "application/warc")
    finally:
        recorder.close()
    run["objects"].append(stored.to_dict())
    run["counts"]["responses_recorded"] = recorder.responses
