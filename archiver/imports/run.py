"""The import run: an export's files into the bucket, its items into ``items/``, one manifest.

Every file is kept before anything is parsed: JSON files under
``raw/{platform}/{account}/imports/{export id}/{path}`` (the export id is a hash of the export's
content), media files under ``media/`` by sha256 and linked from the items that show them. Items
the archive has never held are written as new versions with ``imported`` true, ``run_id`` the
import run's and ``raw_ref`` ``{raw key}#{JSON pointer}``; items already held (by an earlier
import) are left alone, so importing the same export again writes nothing and seals nothing.
A file that cannot be understood is kept and named in the run's report.
"""

from __future__ import annotations

import json
import logging
import mimetypes
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from archiver.config import Account, Settings
from archiver.connectors.base import Observation
from archiver.errors import ArchiverError, ConfigError
from archiver.imports import facebook, instagram
from archiver.imports.common import ExportContext, Found
from archiver.imports.export import ExportFile, export_id, read_export
from archiver.imports.mojibake import fix_text
from archiver.itemstore import latest_versions, read_account_items, write_items
from archiver.manifest import seal_run
from archiver.media import media_key, store_media
from archiver.runs import RunRecord, capture_window, run_id, window_to_dict
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
    when it wrote anything (status ``complete``), else with status ``unchanged``.

    Raises ConfigError for a platform without exports and ArchiverError for an unreadable export.
    """
    if account.platform not in READERS:
        raise ConfigError(
            f"Account '{account.name}' is on {account.platform}; imports read Facebook and Instagram "
            f"exports only ({', '.join(sorted(READERS))})."
        )
    files = read_export(location)
    started = datetime.now(UTC)
    run = _new_run(account, started, settings)
    prefix = f"raw/{account.platform}/{account.name}/imports/{export_id(files)}/"
    media = _store_files(bucket, files, prefix, run)
    ctx = ExportContext(account.platform, account.id, {fix_text(n).casefold() for n in _own_names(account)})
    found = _read_items(ctx, files, prefix, run)
    latest = latest_versions(read_account_items(bucket, account.platform, account.name))
    fresh = [(obs, provenance) for obs, provenance in found if obs["item_key"] not in latest]
    for observation, _ in fresh:
        _link_media(observation, media)
    context = RunContext(
        run["run_id"], started, capture_window(date.fromisoformat(run["day"]), settings), prefix
    )
    rows = new_versions(fresh, latest, context)
    for row in rows:
        row["imported"] = True
    if rows:
        stored = write_items(bucket, rows, account.platform, account.name, run["day"], run["run_id"])
        run["objects"].append(stored.to_dict())
    run["counts"].update(
        {
            "files": len(files),
            "observed": len(found),
            "versions": len(rows),
            "new": len(rows),
            **_by_kind(rows),
        }
    )
    if not run["objects"]:
        run["status"] = "unchanged"
        return run
    run["status"] = "complete"
    return seal_run(bucket, run)


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


def _store_files(
    bucket: Bucket, files: list[ExportFile], prefix: str, run: RunRecord
) -> dict[str, dict[str, Any]]:
    """Store every file (JSON as raw, the rest as media); return media fields by export path."""
    media: dict[str, dict[str, Any]] = {}
    for item in files:
        if item.is_json:
            written = bucket.put_if_absent(prefix + item.path, item.data, "application/json")
        else:
            mime = mimetypes.guess_type(item.path)[0] or "application/octet-stream"
            digest, written = store_media(bucket, item.data, mime)
            media[item.path] = {
                "media_sha256": digest,
                "media_key": media_key(digest),
                "mime": mime,
                "size": len(item.data),
            }
        if written:
            run["objects"].append(written.to_dict())
    return media


def _read_items(
    ctx: ExportContext, files: list[ExportFile], prefix: str, run: RunRecord
) -> list[tuple[Observation, dict[str, Any]]]:
    """Return every observation the export's known files show, with provenance; a file that
    cannot be understood is reported in the run's report (its bytes are kept already)."""
    role, parse_file = READERS[ctx.platform]
    found: list[tuple[Observation, dict[str, Any]]] = []
    unread = 0
    for item in files:
        if not item.is_json or role(item.path) is None:
            unread += item.is_json
            continue
        try:
            items = list(parse_file(ctx, item.path, json.loads(item.data)))
        except (ValueError, ArchiverError) as error:
            log.error("%s: %s could not be read: %s", run["account"], item.path, error)
            run["report"]["gaps"].append(
                {
                    "kind": "export_file_not_understood",
                    "detail": f"{item.path}: {error}. The file is kept under {prefix}; report it so the "
                    "import can learn its shape, then import the export again.",
                }
            )
            continue
        raw_sha256 = sha256_hex(item.data)
        found += [
            (one.observation, {"raw_ref": f"{prefix}{item.path}#{one.pointer}", "raw_sha256": raw_sha256})
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
