"""Raw references: every ``items`` row points at the bytes it was read from.

A captured row's ``raw_ref`` is ``{WARC key}#{WARC-Record-ID}`` (a tombstone's is the WARC key of
the run that found the item gone) and its ``raw_sha256`` the sha256 of that response body. An
imported row's is ``{kept export file}#{JSON pointer}`` (``raw/{p}/{a}/imports/{export}/{path}``)
and its ``raw_sha256`` the sha256 of that whole file; the pointer must name a value in it. Each
is resolved against the file's *current* version, which is what a reader following the
reference gets. Attachments' ``media_key`` must name a stored media file. Problems are reported
once per items file and WARC file, with how many rows they concern.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from archiver.storage import Bucket
from archiver.verify.inventory import Inventory, Read, read_version
from archiver.verify.report import Report
from archiver.warc import read_exchanges

WarcIndex = dict[str, str]
"""WARC-Record-ID -> sha256 of the response body."""


@dataclass(frozen=True)
class FileIndex:
    """A kept export file: its sha256, and which of the JSON pointers asked about resolve in it."""

    sha256: str
    resolved: frozenset[str]


Index = WarcIndex | FileIndex | str
"""What a raw reference is resolved against; a str says why the file cannot be used."""


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
        self._indexes: dict[str, Index] = {}
        self._pointers: dict[str, set[str]] = {}

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
        self._pointers = {}
        for refs in self.items:
            for raw, record, _ in refs.raw:
                if not _is_warc(raw) and record is not None:
                    self._pointers.setdefault(raw, set()).add(record)
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
            elif isinstance(index, FileIndex):
                problem = _file_problem(index, record, sha256)
                if problem:
                    problems.setdefault(warc, Counter())[problem] += rows
                else:
                    report.count("raw_refs_resolved", rows)
            elif record is not None and record not in index:
                problems.setdefault(warc, Counter())["record not in the WARC file"] += rows
            elif record is not None and sha256 is not None and index[record] != sha256:
                problems.setdefault(warc, Counter())["response body sha256 differs"] += rows
            else:
                report.count("raw_refs_resolved", rows)
        for warc, counts in sorted(problems.items()):
            detail = "; ".join(f"{problem}: {rows} row(s)" for problem, rows in sorted(counts.items()))
            report.add("raw_ref", refs.key, f"raw references into {warc} do not resolve: {detail}")

    def _index(self, raw: str, bucket: Bucket, inventory: Inventory) -> Index:
        if raw in self._indexes:
            return self._indexes[raw]
        current = inventory.current(raw)
        what = "WARC file" if _is_warc(raw) else "raw file"
        if not raw.startswith("raw/") or current is None:
            index: Index = f"{what} not stored"
        elif current.delete_marker:
            index = f"{what} deleted (delete marker)"
        else:
            read = read_version(bucket, current)
            if read.error:
                index = f"{what} unreadable: {read.error}"
            elif _is_warc(raw):
                index = _index_or_error(read.data)
            else:
                index = _file_index(read.data, read.sha256, self._pointers.get(raw, set()))
        self._indexes[raw] = index
        return index


def _is_warc(key: str) -> bool:
    return key.endswith(".warc.gz")


def _file_index(data: bytes, sha256: str, pointers: set[str]) -> FileIndex | str:
    """Return the sha256 of a kept export file and which of ``pointers`` resolve in it."""
    if not pointers:
        return FileIndex(sha256, frozenset())
    try:
        document = json.loads(data)
    except ValueError as error:
        return f"raw file is not JSON ({error})"
    return FileIndex(sha256, frozenset(p for p in pointers if resolves(document, p)))


def resolves(document: Any, pointer: str) -> bool:
    """Return whether the JSON pointer (RFC 6901) ``pointer`` names a value in ``document``."""
    if pointer == "":
        return True
    if not pointer.startswith("/"):
        return False
    node = document
    for token in pointer[1:].split("/"):
        name = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and name in node:
            node = node[name]
        elif isinstance(node, list) and name.isdigit() and (name == "0" or not name.startswith("0")):
            if int(name) >= len(node):
                return False
            node = node[int(name)]
        else:
            return False
    return True


def _file_problem(index: FileIndex, pointer: str | None, sha256: str | None) -> str | None:
    if sha256 is not None and sha256 != index.sha256:
        return "file sha256 differs"
    if pointer is not None and pointer not in index.resolved:
        return "JSON pointer does not resolve"
    return None


def _index_or_error(data: bytes) -> WarcIndex | str:
    try:
        return warc_index(data)
    except Exception as error:  # a flipped byte breaks the gzip stream
        return f"WARC file unreadable ({type(error).__name__}: {error})"
