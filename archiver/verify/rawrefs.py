"""Raw references: every ``items`` row points at the bytes it was read from.

A row's ``raw_ref`` is ``{WARC key}#{WARC-Record-ID}`` (a tombstone's is the WARC key of the
run that found the item gone) and its ``raw_sha256`` the sha256 of that response body. Each is
resolved against the WARC file's *current* version, which is what a reader following the
reference gets. Attachments' ``media_key`` must name a stored media file. Problems are reported
once per items file and WARC file, with how many rows they concern.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field

from archiver.storage import Bucket
from archiver.verify.inventory import Inventory, Read, read_version
from archiver.verify.report import Report
from archiver.warc import read_exchanges

WarcIndex = dict[str, str]
"""WARC-Record-ID -> sha256 of the response body."""


@dataclass
class ItemsRefs:
    """What one items file refers to."""

    key: str
    account: str
    day: str
    rows: int
    raw: Counter[tuple[str, str | None, str | None]] = field(default_factory=Counter)
    """(WARC key, record id or None, raw_sha256 or None) -> number of rows."""
    media: set[str] = field(default_factory=set)


def items_refs(key: str, data: bytes) -> ItemsRefs:
    """Return the raw references and media keys of an items Parquet file (raises if unreadable)."""
    import pyarrow.parquet as pq

    parts = dict(part.split("=", 1) for part in key.split("/")[1:4] if "=" in part)
    table = pq.read_table(io.BytesIO(data), columns=["raw_ref", "raw_sha256", "attachments"])
    refs = ItemsRefs(key, parts.get("account", ""), parts.get("date", ""), table.num_rows)
    columns = table.to_pydict()
    for raw_ref, raw_sha256 in zip(columns["raw_ref"], columns["raw_sha256"], strict=True):
        warc, _, record = str(raw_ref or "").partition("#")
        refs.raw[(warc, record or None, raw_sha256)] += 1
    for attachments in columns["attachments"]:
        refs.media.update(a["media_key"] for a in attachments or [] if a.get("media_key"))
    return refs


def warc_index(data: bytes) -> WarcIndex:
    """Return the sha256 of every response body in a WARC file, by record id (raises if unreadable)."""
    return {exchange.record_id: exchange.body_sha256 for exchange in read_exchanges(data)}


class RawRefs:
    """Collects items files and WARC indexes during the read pass, then checks the references."""

    def __init__(self) -> None:
        self.items: list[ItemsRefs] = []
        self._indexes: dict[str, WarcIndex | str] = {}

    def collect(self, read: Read, inventory: Inventory, report: Report) -> None:
        """Keep what ``read`` contributes: a current WARC's index, a current items file's references."""
        key = read.version.key
        current = inventory.current(key)
        if read.error or current is None or current.version_id != read.version.version_id:
            return
        if key.startswith("raw/") and key.endswith(".warc.gz"):
            self._indexes[key] = _index_or_error(read.data)
        elif key.startswith("items/") and key.endswith(".parquet"):
            try:
                self.items.append(items_refs(key, read.data))
            except Exception as error:  # a damaged file is reported and the audit goes on
                report.add(
                    "unreadable",
                    key,
                    f"not a readable items file: {type(error).__name__}: {error}",
                    version_id=read.version.version_id,
                )

    def activity(self) -> set[tuple[str, str, str]]:
        """Return (items key, account, day) of every items file read: the days with activity."""
        return {(refs.key, refs.account, refs.day) for refs in self.items if refs.rows}

    def check(self, bucket: Bucket, inventory: Inventory, report: Report) -> None:
        """Resolve every collected reference; report those that do not resolve."""
        for refs in self.items:
            report.count("items_rows", refs.rows)
            self._check_raw(refs, bucket, inventory, report)
            for media in sorted(refs.media):
                current = inventory.current(media)
                if current is None or current.delete_marker:
                    report.add("media", refs.key, f"an attachment's media file {media} is not stored")

    def _check_raw(self, refs: ItemsRefs, bucket: Bucket, inventory: Inventory, report: Report) -> None:
        problems: dict[str, Counter[str]] = {}
        for (warc, record, sha256), rows in refs.raw.items():
            index = self._index(warc, bucket, inventory)
            if isinstance(index, str):
                problems.setdefault(warc, Counter())[index] += rows
            elif record is not None and record not in index:
                problems.setdefault(warc, Counter())["record not in the WARC file"] += rows
            elif record is not None and sha256 is not None and index[record] != sha256:
                problems.setdefault(warc, Counter())["response body sha256 differs"] += rows
            else:
                report.count("raw_refs_resolved", rows)
        for warc, counts in sorted(problems.items()):
            detail = "; ".join(f"{problem}: {rows} row(s)" for problem, rows in sorted(counts.items()))
            report.add("raw_ref", refs.key, f"raw references into {warc} do not resolve: {detail}")

    def _index(self, warc: str, bucket: Bucket, inventory: Inventory) -> WarcIndex | str:
        if warc in self._indexes:
            return self._indexes[warc]
        current = inventory.current(warc)
        if not warc.startswith("raw/") or current is None:
            index: WarcIndex | str = "WARC file not stored"
        elif current.delete_marker:
            index = "WARC file deleted (delete marker)"
        else:
            read = read_version(bucket, current)
            index = f"WARC file unreadable: {read.error}" if read.error else _index_or_error(read.data)
        self._indexes[warc] = index
        return index


def _index_or_error(data: bytes) -> WarcIndex | str:
    try:
        return warc_index(data)
    except Exception as error:  # a flipped byte breaks the gzip stream
        return f"WARC file unreadable ({type(error).__name__}: {error})"
