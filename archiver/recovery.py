"""Runs that stopped before they were sealed (a killed task, a failed manifest PUT).

Such a run left a WARC file, perhaps media, an items file, quarantine objects and the day's
diary, but no manifest. Before an account's day is captured again, each of its unsealed runs is
sealed as failed with everything it wrote, so no object is ever outside a manifest.
"""

from __future__ import annotations

import logging
from datetime import date

from archiver.config import Account
from archiver.manifest import MANIFEST_PREFIX, lists_version, seal_run
from archiver.media import media_key
from archiver.runs import RunRecord, diary_key, items_key, manifest_key, quarantine_key
from archiver.storage import Bucket, StoredObject
from archiver.warc import MEDIA, read_exchanges, read_warcinfo

log = logging.getLogger(__name__)


def seal_interrupted_runs(bucket: Bucket, account: Account, day: date) -> list[str]:
    """Seal, as failed, every run of ``account`` for ``day`` that has a WARC but no manifest;
    return their run ids."""
    sealed = []
    for entry in bucket.list(f"raw/{account.platform}/{account.name}/{day:%Y/%m/%d}/"):
        run = entry.key.rsplit("/", 1)[1].removesuffix(".warc.gz")
        if bucket.exists(manifest_key(day.isoformat(), run)):
            continue
        log.warning("%s %s: run %s was never sealed; sealing it as failed", account.name, day, run)
        seal_run(bucket, _interrupted_record(bucket, account, day.isoformat(), run, entry.key))
        sealed.append(run)
    return sealed


def _interrupted_record(bucket: Bucket, account: Account, day: str, run: str, warc: str) -> RunRecord:
    data = bucket.get(warc)
    info = read_warcinfo(data)
    written = [bucket.ref(warc)]
    items = items_key(account.platform, account.name, day, run)
    if bucket.exists(items):
        written.append(bucket.ref(items))
    quarantine = quarantine_key(account.platform, account.name, day, run, "")
    written += [bucket.ref(entry.key) for entry in bucket.list(quarantine)]
    written += _media_of(bucket, data)
    written += _unlisted_diary(bucket, account.name, day)
    return RunRecord(
        run_id=run,
        account=account.name,
        platform=account.platform,
        account_id=account.id,
        day=day,
        status="failed",
        error="interrupted before it was sealed (task killed or manifest not written); sealed by a later run",
        warc_key=warc,
        window=info.get("window") or {},
        started_at=str(info.get("started_at", "")),
        objects=[stored.to_dict() for stored in written],
        counts={},
    )


def _unlisted_diary(bucket: Bucket, account: str, day: str) -> list[StoredObject]:
    """Return the current version of the account's diary of ``day`` when no manifest of that day
    lists it (the interrupted run rendered it), else nothing."""
    diary = diary_key(account, day)
    if not bucket.exists(diary):
        return []
    current = bucket.ref(diary)
    day_runs = (entry.key for entry in bucket.list(f"{MANIFEST_PREFIX}{day[:4]}/{day[5:7]}/{day[8:10]}/{account}_"))
    return [] if lists_version(bucket, diary, current.version_id, day_runs) else [current]


def _media_of(bucket: Bucket, warc: bytes) -> list[StoredObject]:
    """Return the stored media files that the WARC's downloads hold."""
    keys = {
        media_key(exchange.body_sha256)
        for exchange in read_exchanges(warc)
        if exchange.kind == MEDIA and 200 <= exchange.status < 300
    }
    return [bucket.ref(key) for key in sorted(keys) if bucket.exists(key)]
