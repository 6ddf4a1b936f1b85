"""The import run: an export's files into the bucket, its items into ``items/``, one manifest.

Every file is kept before anything is parsed: JSON files under
``raw/{platform}/{account}/imports/{export id}/{path}`` (the export id is a hash of the export's
content), media files under ``media/`` by sha256 and linked from the items that show them. Items
the archive has never held are written as new versions with ``imported`` true, ``run_id`` the
import run's and ``raw_ref`` ``{raw key}#{JSON pointer}``; items already held (by an earlier
import) are left alone, so importing the same export again writes nothing and seals nothing.
An item the export shows twice (a conversation in each of its files) is written once.
A file that cannot be understood is kept and named in the run's report. Files are read one at a
time (media streamed, see ``store``); a failing import is sealed as failed with what it wrote,
and one that was killed is completed by the next import of the export.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

from archiver.config import Account, Settings
from archiver.connectors.base import Observation
from archiver.errors import ConfigError
from archiver.imports import facebook, instagram
from archiver.imports.common import ExportContext, Found
from archiver.imports.export import ExportFile, export_id, open_export
from archiver.imports.mojibake import fix_text
from archiver.imports.store import Kept, media_ref, store_json_files, store_media_files, unlisted
from archiver.itemstore import latest_versions, read_account_items, write_items
from archiver.manifest import seal_run
from archiver.runs import RunRecord, capture_window, items_prefix, run_id, window_to_dict
from archiver.storage import Bucket, sha256_hex
from archiver.versions import RunContext, new_versions

log = logging.getLogger(__name__)

IMPORT = "import"
"""Run purpose of an import (``capture`` and ``renormalise`` are the others)."""

ParseFile = Callable[[ExportContext, str, Any], Iterator[Found]]
READERS: dict[str, tuple[Callable[[str], str | None], ParseFile]] = {
    "facebook": (facebook.role, facebook.parse_file),
    "instagram": (instagram.role, instagram.parse_file),
}


def import_export(bucket: Bucket, account: Account, location: Path, settings: Settings) -> RunRecord:
    """Import the export at ``location`` (folder or .zip) for ``account``; return the run, sealed
    when it wrote or found anything to list (status ``complete``), else with status ``unchanged``.

    Objects an earlier import of the same export stored but never listed in a manifest (it was
    killed) are listed by this one. On any error the run is sealed as failed with what it wrote,
    and the error is raised again. Raises ConfigError for a platform without exports and
    ArchiverError for an unreadable export.
    """
    if account.platform not in READERS:
        raise ConfigError(
            f"Account '{account.name}' is on {account.platform}; imports read Facebook and Instagram "
            f"exports only ({', '.join(sorted(READERS))})."
        )
    with open_export(location) as files:
        started = datetime.now(UTC)
        run = _new_run(account, started, settings)
        try:
            _import_files(bucket, account, files, settings, run)
        except Exception as error:  # seal what was written, so no object is left out of a manifest
            run["status"], run["error"] = "failed", f"import failed: {type(error).__name__}: {error}"
            seal_run(bucket, run)
            raise
    if not run["objects"]:
        run["status"] = "unchanged"
        return run
    run["status"] = "complete"
    return seal_run(bucket, run)


def _import_files(
    bucket: Bucket, account: Account, files: list[ExportFile], settings: Settings, run: RunRecord
) -> None:
    """Store the export's files, write its new items and list what an interrupted import left."""
    kept = store_media_files(bucket, files, run)
    prefix = f"raw/{account.platform}/{account.name}/imports/{export_id(kept.digests)}/"
    store_json_files(bucket, kept, prefix, run)
    ctx = ExportContext(account.platform, account.id, {fix_text(n).casefold() for n in _own_names(account)})
    found, duplicates = unique_items(_read_items(ctx, kept.json, prefix, run))
    table = read_account_items(bucket, account.platform, account.name)
    latest = latest_versions(table)
    fresh = [(obs, provenance) for obs, provenance in found if obs["item_key"] not in latest]
    for observation, _ in fresh:
        _link_media(observation, kept.media)
    started = datetime.fromisoformat(run["started_at"])
    context = RunContext(
        run["run_id"], started, capture_window(date.fromisoformat(run["day"]), settings), prefix
    )
    rows = new_versions(fresh, latest, context)
    for row in rows:
        row["imported"] = True
    relisted = _relist(bucket, account, prefix, kept, table, run)
    if rows:
        stored = write_items(bucket, rows, account.platform, account.name, run["day"], run["run_id"])
        run["objects"].append(stored.to_dict())
    run["counts"].update(
        {
            "files": len(files),
            "observed": len(found),
            "duplicates": duplicates,
            "relisted": relisted,
            "versions": len(rows),
            "new": len(rows),
            **_by_kind(rows),
        }
    )


def unique_items(
    found: list[tuple[Observation, dict[str, Any]]],
) -> tuple[list[tuple[Observation, dict[str, Any]]], int]:
    """Return the observations with one per item key, and how many were dropped.

    An export shows some items more than once (a conversation in each of its ``message_N.json``
    files); the one kept is the earliest created (a conversation's oldest file holds its start).
    """
    by_key: dict[str, tuple[Observation, dict[str, Any]]] = {}
    for observation, provenance in found:
        held = by_key.get(observation["item_key"])
        if held is None or _earlier(observation["created_at"], held[0]["created_at"]):
            by_key[observation["item_key"]] = (observation, provenance)
    return list(by_key.values()), len(found) - len(by_key)


def _earlier(created: datetime | None, than: datetime | None) -> bool:
    return created is not None and (than is None or created < than)


def _relist(
    bucket: Bucket, account: Account, prefix: str, kept: Kept, table: pa.Table, run: RunRecord
) -> int:
    """List in this run what an earlier import stored but no manifest lists (it was killed before
    its seal): this export's raw files and media, and items files of import runs; return how many."""
    written = {obj["key"] for obj in run["objects"]}
    imports = set(pc.filter(table, table["imported"]).column("run_id").unique().to_pylist())
    items = {
        entry.key
        for entry in bucket.list(items_prefix(account.platform, account.name))
        if entry.key.rsplit("/", 1)[1].removesuffix(".parquet") in imports
    }
    raw = {entry.key for entry in bucket.list(prefix)}
    missing = unlisted(bucket, account.name, (raw | items | kept.media_there) - written)
    for key in sorted(missing):
        log.warning("%s: %s was stored by an interrupted import; listing it now", account.name, key)
        stored = media_ref(bucket, key) if key in kept.media_there else bucket.ref(key)
        run["objects"].append(stored.to_dict())
    return len(missing)


def _new_run(account: Account, started: datetime, settings: Settings) -> RunRecord:
    day = started.astimezone(ZoneInfo(settings.timezone)).date()
    return RunRecord(
        run_id=run_id(account, started),
        account=account.name,
        platform=account.platform,
        account_id=account.id,
        day=day.isoformat(),
        status="captured",
        purpose=IMPORT,
        error=None,
        warc_key=None,
        window=window_to_dict(capture_window(day, settings)),
        started_at=started.isoformat(),
        objects=[],
        counts={},
        report={"gaps": []},
    )


def _own_names(account: Account) -> list[str]:
    return [name for name in (account.display_name, account.name) if name]


def _read_items(
    ctx: ExportContext, files: dict[str, bytes], prefix: str, run: RunRecord
) -> list[tuple[Observation, dict[str, Any]]]:
    """Return every observation the export's known files show, with provenance; a file that
    cannot be understood is reported in the run's report (its bytes are kept already)."""
    role, parse_file = READERS[ctx.platform]
    found: list[tuple[Observation, dict[str, Any]]] = []
    unread = 0
    for path, data in sorted(files.items()):
        if role(path) is None:
            unread += 1
            continue
        try:
            items = list(parse_file(ctx, path, json.loads(data)))
        except Exception as error:  # any shape the parser did not expect: keep going, report it
            log.error("%s: %s could not be read: %s", run["account"], path, error)
            run["report"]["gaps"].append(
                {
                    "kind": "export_file_not_understood",
                    "detail": f"{path}: {error}. The file is kept under {prefix}; report it so the "
                    "import can learn its shape, then import the export again.",
                }
            )
            continue
        raw_sha256 = sha256_hex(data)
        found += [
            (one.observation, {"raw_ref": f"{prefix}{path}#{one.pointer}", "raw_sha256": raw_sha256})
            for one in items
        ]
    run["counts"]["json_files_not_read"] = unread
    return found


def _link_media(observation: Observation, media: dict[str, dict[str, Any]]) -> None:
    """Fill in each attachment's stored file (found by the uri the export names)."""
    for attachment in observation["attachments"]:
        uri = attachment.get("title")
        if attachment.get("source_url") is not None or not uri:
            continue
        path = uri if uri in media else next((p for p in media if p.endswith("/" + uri)), None)
        if path is not None:
            attachment.update(media[path])  # type: ignore[typeddict-item]


def _by_kind(rows: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[f"kind_{row['kind']}"] = counts.get(f"kind_{row['kind']}", 0) + 1
    return counts


def import_for_platform(
    platform: str, location: Path, account_name: str | None = None, settings: Settings | None = None
) -> RunRecord:
    """Import an export for the named account (or the only account on ``platform``) into the
    configured bucket; return the run. Raises ConfigError when the account is not clear."""
    from archiver.config import find_account, load_accounts

    settings = settings or Settings()
    accounts = load_accounts(settings=settings)
    if account_name:
        account = find_account(accounts, account_name)
        if account.platform != platform:
            raise ConfigError(f"Account '{account_name}' is on {account.platform}, not {platform}.")
    else:
        matching = [a for a in accounts.accounts if a.platform == platform]
        if len(matching) != 1:
            names = ", ".join(a.name for a in matching) or "none"
            raise ConfigError(
                f"Say which {platform} account the export belongs to with --account NAME (accounts: {names})."
            )
        account = matching[0]
    return import_export(Bucket(settings.bucket), account, location, settings)
