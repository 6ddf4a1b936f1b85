"""The normalise stage: a run's WARC file in, new item versions out (Parquet under ``items/``).

Normalising reads only the raw evidence, so any day can be normalised again from ``raw/``. A
response that cannot be parsed is quarantined (its raw bytes and the error go to
``quarantine/``) and the rest of the day goes on. Running it twice writes nothing the second
time: only content that differs from the item's latest version becomes a row.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import msgspec

from archiver.connectors import get_connector
from archiver.connectors.base import Connector, Observation
from archiver.items import check_observation, unsigned_url
from archiver.itemstore import latest_versions, read_account_items, write_items
from archiver.manifest import refuse_if_sealed, seal_run
from archiver.media import known_media, media_key
from archiver.memory import gc_paused
from archiver.runs import RENORMALISE, RunRecord, items_key, quarantine_key, window_from_dict
from archiver.storage import Bucket
from archiver.versions import RunContext, new_versions, tombstones
from archiver.warc import MEDIA, Exchange, read_exchanges, read_notes, read_warcinfo

log = logging.getLogger(__name__)

MediaInfo = dict[str, Any]


@dataclass
class ParsedRun:
    """What one WARC file holds, parsed: observations with provenance, media, problems."""

    observations: dict[str, tuple[Observation, dict[str, Any]]] = field(default_factory=dict)
    media: dict[str, MediaInfo] = field(default_factory=dict)
    problems: list[dict[str, Any]] = field(default_factory=list)
    withheld_tombstones: int = 0
    """Items not seen, but not tombstoned because a quarantined response may have held them."""


def normalise_run(bucket: Bucket, run: RunRecord) -> RunRecord:
    """Turn a captured run's WARC into new item versions; return the run with its new objects."""
    if run.get("status") != "captured":
        return run
    refuse_if_sealed(bucket, run)
    result = RunRecord(**run)
    result["objects"] = list(run.get("objects", []))
    try:
        latest = latest_versions(read_account_items(bucket, run["platform"], run["account"]))
        with gc_paused():
            parsed, rows = rows_from_warc(bucket.get(str(run["warc_key"])), run, latest)
        written = items_key(run["platform"], run["account"], run["day"], run["run_id"])
        if bucket.exists(written):  # an earlier attempt of this run wrote it: list it, once
            result["objects"].append(bucket.ref(written).to_dict())
        elif rows:
            stored = write_items(bucket, rows, run["platform"], run["account"], run["day"], run["run_id"])
            result["objects"].append(stored.to_dict())
        _quarantine(bucket, result, parsed.problems)
    except Exception as error:  # seal what was written, so no object is left out of a manifest
        result["status"], result["error"] = "failed", f"normalise failed: {type(error).__name__}: {error}"
        seal_run(bucket, result)
        raise
    result["counts"] = {**run.get("counts", {}), **_counts(rows, parsed)}
    result["status"] = "normalised"
    return result


def rows_from_warc(
    data: bytes, run: RunRecord, latest: dict[str, dict[str, Any]]
) -> tuple[ParsedRun, list[dict[str, Any]]]:
    """Return what a run's WARC file holds and the item rows it adds to the ``latest`` versions.

    Pure: reads only ``data``, so it can be benchmarked and re-run without a bucket.
    """
    warc_key = str(run["warc_key"])
    info = read_warcinfo(data)
    parsed = parse_exchanges(
        get_connector(run["platform"]), read_exchanges(data), run["account_id"], warc_key
    )
    _attach_media(parsed, latest)
    context = RunContext(
        run_id=run["run_id"],
        observed_at=datetime.fromisoformat(info.get("started_at") or run["started_at"]).astimezone(UTC),
        window=window_from_dict(info.get("window") or run["window"]),
        warc_key=warc_key,
    )
    if run.get("purpose") == RENORMALISE:  # only add what the archive never held
        never_seen = {key: seen for key, seen in parsed.observations.items() if key not in latest}
        return parsed, new_versions(never_seen.values(), latest, context)
    rows = new_versions(parsed.observations.values(), latest, context)
    gone = tombstones(latest, set(parsed.observations), context, unsure_keys(read_notes(data)))
    withheld = _withheld_kinds(parsed.problems)
    rows += [row for row in gone if row["kind"] not in withheld]
    parsed.withheld_tombstones = len(gone) - sum(1 for row in gone if row["kind"] not in withheld)
    return parsed, rows


UNSURE_NOTES = ("unconfirmed_roots", "unreadable_items", "threads_unlisted")
"""WARC notes naming what the platform would not tell about: roots whose lookup failed, items it
lists but does not show (Instagram's older messages), threads whose comments it would not list
(YouTube videos with comments turned off)."""


def unsure_keys(notes: dict[str, Any]) -> set[str]:
    """Return the item keys a run's notes say are neither seen nor gone (never tombstoned)."""
    return {str(key) for name in UNSURE_NOTES for key in notes.get(name, [])}


MESSAGE_KINDS = frozenset({"conversation", "message"})
POST_KINDS = frozenset({"post", "comment", "reply"})


def _withheld_kinds(problems: list[dict[str, Any]]) -> frozenset[str]:
    """Return the item kinds whose tombstones a quarantined response puts in doubt: the kinds
    the failed listing could have held (direct messages, or posts and comments), else all."""
    withheld: set[str] = set()
    for problem in problems:
        path = urlsplit(problem["url"]).path
        if "/conversations" in path or "/messages" in path or "/t_" in path:
            withheld |= MESSAGE_KINDS
        elif any(edge in path for edge in ("/feed", "/published_posts", "/posts", "/comments")):
            withheld |= POST_KINDS
        else:
            withheld |= MESSAGE_KINDS | POST_KINDS
    return frozenset(withheld)


def parse_exchanges(
    connector: Connector, exchanges: Iterator[Exchange], account_id: str, warc_key: str
) -> ParsedRun:
    """Return the observations (first sighting per item wins), media and problems of a WARC."""
    parsed = ParsedRun()
    redirected_from: str | None = None  # hops of one download are recorded in a row
    for exchange in exchanges:
        if exchange.kind == MEDIA:
            if 300 <= exchange.status < 400:
                redirected_from = redirected_from or exchange.url
                continue
            if 200 <= exchange.status < 300:
                media = {
                    "media_sha256": exchange.body_sha256,
                    "mime": exchange.content_type.split(";")[0],
                    "size": len(exchange.body),
                }
                parsed.media[exchange.url] = media
                if redirected_from:
                    parsed.media[redirected_from] = media
            redirected_from = None
            continue
        if exchange.status >= 300:  # redirect hops and error answers hold no items
            continue
        provenance = {
            "raw_ref": f"{warc_key}#{exchange.record_id}",
            "raw_sha256": exchange.body_sha256,
        }
        try:
            found = list(connector.parse(exchange.url, msgspec.json.decode(exchange.body), account_id))
            for observation in found:
                check_observation(dict(observation))
        except Exception as error:
            parsed.problems.append(_problem(exchange, error))
            continue
        for observation in found:
            parsed.observations.setdefault(observation["item_key"], (observation, provenance))
    return parsed


def _problem(exchange: Exchange, error: Exception) -> dict[str, Any]:
    log.error("quarantined response %s from %s: %s", exchange.record_id, exchange.url, error)
    return {
        "record_id": exchange.record_id,
        "url": exchange.url,
        "error": f"{type(error).__name__}: {error}",
        "body_sha256": exchange.body_sha256,
        "body": exchange.body,
        "what_to_do": "The raw bytes are kept here and in the run's WARC file; once the parser is "
        "fixed, run `archiver renormalise WARC_KEY` to turn them into items.",
    }


def _attach_media(parsed: ParsedRun, latest: dict[str, dict[str, Any]]) -> None:
    """Fill in each attachment's media fields: from this run's downloads, else from the
    earlier version that already has them (capture downloads each media only once)."""
    earlier = known_media(latest.values())
    for observation, _ in parsed.observations.values():
        for attachment in observation["attachments"]:
            url = attachment.get("source_url")
            fetched = parsed.media.get(str(url))
            if fetched:
                attachment.update(fetched)  # type: ignore[typeddict-item]
                attachment["media_key"] = media_key(fetched["media_sha256"])
            elif unsigned_url(url) in earlier:
                attachment.update(earlier[str(unsigned_url(url))])  # type: ignore[typeddict-item]


def _quarantine(bucket: Bucket, run: RunRecord, problems: list[dict[str, Any]]) -> None:
    """Store each problem body and a report under ``quarantine/``, adding them to the run's objects."""
    for number, problem in enumerate(problems, start=1):
        body = problem.pop("body")
        key = quarantine_key(run["platform"], run["account"], run["day"], run["run_id"], f"{number:04d}.body")
        run["objects"].append(bucket.put(key, body).to_dict())
        problem["body_key"] = key
    if problems:
        report = {"run_id": run["run_id"], "warc_key": run["warc_key"], "problems": problems}
        data = json.dumps(report, ensure_ascii=False, indent=1).encode("utf-8")
        key = quarantine_key(run["platform"], run["account"], run["day"], run["run_id"], "report.json")
        run["objects"].append(bucket.put(key, data, "application/json").to_dict())


def _counts(rows: list[dict[str, Any]], parsed: ParsedRun) -> dict[str, int]:
    counts = {
        "observed": len(parsed.observations),
        "versions": len(rows),
        "quarantined": len(parsed.problems),
        "tombstones_withheld": parsed.withheld_tombstones,
    }
    for row in rows:
        label = (
            "tombstones"
            if row["state"] == "deleted_at_source"
            else ("new" if row["version"] == 1 else "changed")
        )
        counts[label] = counts.get(label, 0) + 1
        counts[f"kind_{row['kind']}"] = counts.get(f"kind_{row['kind']}", 0) + 1
    return counts
