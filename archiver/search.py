"""Search the ``items`` table: which item versions a public-access request asks for.

A :class:`SearchQuery` names accounts, platforms, a range of archive days (the ``date=``
partition of ``items/``: the days versions were recorded, as in the diaries), kinds, record
classes, an author, free text, a thread or an item, and optionally ``as_of``: the archive's
state on that day (each item's latest version recorded on or before it; filters then apply to
that version). Without ``as_of`` the filters apply to every version and a hit is the item's
latest *matching* version.

It stays fast on a big archive by reading little: only the partitions of the accounts and days
asked are listed and fetched, a completed month's search index (:mod:`archiver.search_index`)
stands in for that month's items files when it is current, only the columns the filters need are
decoded first (never ``source_json``, the bulk of the bytes), the remaining columns only for
files (index row groups) with hits, files are fetched concurrently, and filters run vectorised in
Arrow; Python dicts are built for hits only.

Text and author match case- and accent-insensitively (:func:`fold`), Swedish aware: å, ä and ö
are letters of their own, so a query with them matches only them, while a query written
without them (``angelholm``) also matches them (``Ängelholm``).
"""

from __future__ import annotations

import io
import json
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache, lru_cache
from typing import Any, Final
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from archiver.config import PLATFORMS, Account, AccountsFile, find_account
from archiver.errors import SearchError
from archiver.items import ITEM_SCHEMA, KINDS, RECORD_CLASSES
from archiver.runs import items_day, items_prefix
from archiver.search_index import (
    DAY_COLUMN,
    Month,
    by_month,
    conform,
    index_prefix,
    index_sources,
    month_of,
    open_index,
)
from archiver.storage import Bucket

log = logging.getLogger(__name__)

SEARCH_COLUMNS: Final = tuple(name for name in ITEM_SCHEMA.names if name != "source_json")
"""Every field of the item schema except ``source_json``: what a hit holds."""

SEARCH_SCHEMA_NULLABLE: Final = pa.schema(
    [ITEM_SCHEMA.field(name).with_nullable(True) for name in SEARCH_COLUMNS]
)

FETCH_THREADS: Final = 8
"""Items files fetched and decoded at the same time."""

BATCH_FILES: Final = 128
"""Objects (items files, indexes) filtered together: bounds regex compilations and memory."""

BATCH_BYTES: Final = 64 * 1024 * 1024
"""A batch also ends when its objects hold this many bytes (their bytes are held while filtered)."""

MIN_INDEXED_FILES: Final = 2
"""A month's index is read instead of its items files when it replaces at least this many (one
file is as cheap to fetch as the index, and smaller to decode)."""

MAX_WORDS: Final = 500
"""Longest ``text`` or ``author`` query, in characters (its pattern grows with it)."""

_SWEDISH_MARKS: Final = {("a", "\u030a"): "å", ("a", "\u0308"): "ä", ("o", "\u0308"): "ö"}
_LETTERS: Final = str.maketrans(
    {"æ": "ä", "ø": "ö", "ł": "l", "đ": "d", "ð": "d", "ı": "i", "ħ": "h", "ŧ": "t", "œ": "oe", "þ": "th"}
)
_LOOSE: Final = str.maketrans({"å": "a", "ä": "a", "ö": "o"})
_STRICT_DECOMPOSED: Final = {"å": ("a", "\u030a"), "ä": ("a", "\u0308"), "ö": ("o", "\u0308")}


@dataclass(frozen=True)
class SearchQuery:
    """What to look for; every field left at its default matches everything."""

    accounts: tuple[str, ...] = ()
    """Account names (as in the accounts file); () = every account with items in the bucket."""
    platforms: tuple[str, ...] = ()
    day_from: str | None = None
    """First archive day, YYYY-MM-DD, inclusive."""
    day_to: str | None = None
    """Last archive day, YYYY-MM-DD, inclusive."""
    kinds: tuple[str, ...] = ()
    record_classes: tuple[str, ...] = ()
    """``upprättad`` and/or ``inkommen`` (also accepted without the ä)."""
    author: str | None = None
    """Folded substring of ``author_name``, or exactly the ``author_id``."""
    text: str | None = None
    """Folded substring of ``text``."""
    thread_key: str | None = None
    item_key: str | None = None
    as_of: str | None = None
    """The archive's state on this day, YYYY-MM-DD: each item's latest version up to it."""
    limit: int | None = None
    """At most this many hits (the first ones in time order); None = all."""


@dataclass
class SearchResult:
    """What a search found and what it cost."""

    rows: list[dict[str, Any]]
    """One row per item (``SEARCH_COLUMNS`` fields), sorted by (created_at or first_seen_at, item_key)."""
    files_read: int
    """Objects fetched from the bucket: items files and search indexes."""
    truncated: bool
    """True when there were more hits than ``limit``."""


def fold(text: str) -> str:
    """Return ``text`` case-folded with accents removed, keeping Swedish å, ä and ö
    (æ becomes ä, ø becomes ö, ß becomes ss): the form searches compare."""
    out: list[str] = []
    for char in unicodedata.normalize("NFD", text.casefold()):
        if unicodedata.category(char).startswith("M"):
            if out and (out[-1], char) in _SWEDISH_MARKS:
                out[-1] = _SWEDISH_MARKS[(out[-1], char)]
            continue
        out.append(char)
    return "".join(out).translate(_LETTERS)


def loose_fold(text: str) -> str:
    """Return :func:`fold` of ``text`` with å and ä as a and ö as o: how a query written
    without a Swedish keyboard reads."""
    return fold(text).translate(_LOOSE)


def folded_match(query: str, text: str) -> bool:
    """Return whether ``query`` occurs in ``text`` by the search's rules (reference
    implementation of :func:`text_pattern`, one string at a time)."""
    wanted, seen = fold(query), fold(text)
    for start in range(len(seen) - len(wanted) + 1):
        window = seen[start : start + len(wanted)]
        if all(
            q == t or (q not in "åäö" and q == t.translate(_LOOSE))
            for q, t in zip(wanted, window, strict=True)
        ):
            return True
    return False


@cache
def _latin_classes() -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """Return (letter -> precomposed letters that fold to it, two-letter fold -> letters), over
    the letters of the Basic Multilingual Plane up to CJK (Latin, Greek, Cyrillic, Arabic …)
    and the Latin/Hebrew/Arabic presentation forms."""
    single: dict[str, set[str]] = {}
    double: dict[str, set[str]] = {}
    for point in [*range(0x41, 0x3000), *range(0xFB00, 0xFE00)]:
        char = chr(point)
        if not unicodedata.category(char).startswith("L"):
            continue
        folded = fold(char)
        for key in (
            {folded, folded.translate(_LOOSE)} if folded in ("å", "ä", "ö") else {folded.translate(_LOOSE)}
        ):
            target = single if len(key) == 1 else double if len(key) == 2 else None
            if target is not None:
                target.setdefault(key, set()).add(char)
    return (
        {key: frozenset(chars) for key, chars in single.items()},
        {key: frozenset(chars) for key, chars in double.items()},
    )


def _literal(char: str) -> str:
    """Return ``char`` as an RE2 hex escape (safe for any metacharacter)."""
    return f"\\x{{{ord(char):x}}}"


def _letter_class(letter: str) -> str:
    """Return the RE2 pattern of one folded query letter, followed by any combining marks."""
    single, _ = _latin_classes()
    if letter in _STRICT_DECOMPOSED:
        chars = {c for c in single.get(letter, frozenset()) if fold(c) == letter}
        base, mark = _STRICT_DECOMPOSED[letter]
        choices = "".join(_literal(c) for c in sorted(chars))
        return f"(?:[{choices}]|[{_literal(base)}{_literal(base.upper())}]{_literal(mark)})\\p{{M}}*"
    chars = set(single.get(letter, frozenset())) | {letter}
    return "[" + "".join(_literal(c) for c in sorted(chars)) + "]\\p{M}*"


@lru_cache(maxsize=64)
def text_pattern(query: str) -> str:
    """Return an RE2 pattern (use with ``ignore_case``) that finds ``query`` by the search's
    rules in unfolded text: each letter becomes the class of every precomposed letter that
    folds to it (decomposed letters and ß/œ-style ligatures included), whitespace any run of
    whitespace."""
    _, double = _latin_classes()
    wanted = unicodedata.normalize("NFC", fold(query.strip()))  # Hangul syllables whole again
    parts: list[str] = []
    position = 0
    while position < len(wanted):
        char = wanted[position]
        pair = wanted[position : position + 2]
        if char.isspace():
            while position < len(wanted) and wanted[position].isspace():
                position += 1
            parts.append("\\s+")
            continue
        if len(pair) == 2 and pair in double:
            ligatures = "".join(_literal(c) for c in sorted(double[pair]))
            parts.append(f"(?:{_letter_class(pair[0])}{_letter_class(pair[1])}|[{ligatures}]\\p{{M}}*)")
            position += 2
            continue
        parts.append(_letter_class(char) if char.isalpha() else _literal(char) + "\\p{M}*")
        position += 1
    return "".join(parts)


@dataclass(frozen=True)
class _Plan:
    """A checked query: the values to compare and which files to read."""

    query: SearchQuery
    kinds: tuple[str, ...]
    record_classes: tuple[str, ...]
    platforms: tuple[str, ...]
    """The platforms asked, as spelled in ``items/`` (``Facebook`` -> ``facebook``)."""
    text: str | None
    author: str | None
    item_key: str | None
    thread_key: str | None
    first_day: str | None
    last_day: str | None
    """The last archive day read: the earlier of day_to and as_of."""
    filter_columns: tuple[str, ...]
    """Columns the filters need, decoded for every file read."""


def _day(value: str | None, flag: str) -> str | None:
    """Return ``value`` as a checked YYYY-MM-DD day (None stays None); SearchError naming ``flag``."""
    if value is None:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(value)
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise SearchError(
            f"{flag} {value!r} is not a day: write it as YYYY-MM-DD, e.g. 2026-11-01."
        ) from None


def _choices(values: Iterable[str], known: Iterable[str], what: str) -> tuple[str, ...]:
    """Return ``values`` spelled as in ``known`` (case, spaces and å/ä/ö forgiven), without
    repeats; SearchError listing ``known`` for one that is not there."""
    by_folded = {loose_fold(name): name for name in known}
    chosen = []
    for value in values:
        name = by_folded.get(loose_fold(value.strip()))
        if name is None:
            raise SearchError(f"Unknown {what} {value!r}: choose from {', '.join(by_folded.values())}.")
        chosen.append(name)
    return tuple(dict.fromkeys(chosen))


def _words(value: str | None, flag: str) -> str | None:
    """Return the stripped words to look for (None stays None); SearchError if empty or too long."""
    if value is None:
        return None
    if not value.strip():
        raise SearchError(f"{flag} is empty: give the words to look for, or leave {flag} out.")
    if len(value.strip()) > MAX_WORDS:
        raise SearchError(
            f"{flag} is {len(value.strip())} characters long; give at most {MAX_WORDS}: "
            "a distinctive part of the text is enough."
        )
    return value.strip()


def _key(value: str | None, flag: str) -> str | None:
    """Return ``value`` as a stripped item key (None stays None); SearchError if it is not one."""
    if value is None:
        return None
    value = value.strip()
    platform = value.split(":", 1)[0]
    if value.count(":") < 2 or platform not in PLATFORMS:
        raise SearchError(
            f"{flag} {value!r} is not an item key: write it as platform:account_id:native_id, "
            "e.g. facebook:1234567890:1234567890_42 (the thread key `archiver search` prints)."
        )
    return value


def _plan(query: SearchQuery) -> _Plan:
    day_from = _day(query.day_from, "--from")
    day_to = _day(query.day_to, "--to")
    as_of = _day(query.as_of, "--as-of")
    if day_from and day_to and day_from > day_to:
        raise SearchError(f"--from {day_from} is after --to {day_to}: swap them.")
    if day_from and as_of and as_of < day_from:
        raise SearchError(f"--as-of {as_of} is before --from {day_from}: nothing was recorded yet then.")
    if query.limit is not None and query.limit < 1:
        raise SearchError(f"limit {query.limit} must be at least 1 (or no limit at all).")
    ends = [day for day in (day_to, as_of) if day]
    columns = [
        name
        for name, wanted in (
            ("item_key", query.item_key or query.as_of),
            ("thread_key", query.thread_key),
            ("kind", query.kinds),
            ("record_class", query.record_classes),
            ("text", query.text),
            ("author_name", query.author),
            ("author_id", query.author),
            ("version", query.as_of),
        )
        if wanted
    ]
    return _Plan(
        query=query,
        kinds=_choices(query.kinds, KINDS, "kind"),
        record_classes=_choices(query.record_classes, RECORD_CLASSES, "record class"),
        platforms=_choices(query.platforms, PLATFORMS, "platform"),
        text=_words(query.text, "--text"),
        author=_words(query.author, "--author"),
        item_key=_key(query.item_key, "--item"),
        thread_key=_key(query.thread_key, "--thread"),
        first_day=day_from,
        last_day=min(ends) if ends else None,
        filter_columns=tuple(columns),
    )


def _owners(accounts: AccountsFile, key: str) -> list[Account]:
    """Return the configured accounts an item key belongs to (platform and account id)."""
    return [a for a in accounts.accounts if key.startswith(f"{a.platform}:{a.id}:")]


def _prefixes(accounts: AccountsFile, plan: _Plan) -> list[str]:
    """Return the ``items/`` prefixes to list: only the accounts and platforms asked."""
    query = plan.query
    platforms = set(plan.platforms)
    keys = [key for key in (plan.item_key, plan.thread_key) if key]
    for key in keys:
        key_platform = key.split(":", 1)[0]
        platforms = platforms & {key_platform} if platforms else {key_platform}
        if not platforms:
            return []
    chosen = [find_account(accounts, name.strip()) for name in query.accounts]
    for key in keys:
        owners = {a.name for a in _owners(accounts, key)}
        if owners:
            chosen = [a for a in chosen if a.name in owners] if query.accounts else _owned(accounts, owners)
            if not chosen:
                return []
    if chosen:
        return sorted(
            {items_prefix(a.platform, a.name) for a in chosen if a.platform in platforms or not platforms}
        )
    return [f"items/platform={p}/" for p in sorted(platforms)] if platforms else ["items/"]


def _owned(accounts: AccountsFile, names: set[str]) -> list[Account]:
    """Return the configured accounts called one of ``names``, in file order."""
    return [a for a in accounts.accounts if a.name in names]


@dataclass(frozen=True)
class _Source:
    """What one fetch reads: an items file, or a month's index standing in for ``files``."""

    files: tuple[str, ...]
    """The items files in the day range (one, or the month's files the index stands in for)."""
    size: int
    """Bytes of the object fetched (the items file, or the index)."""
    index: str | None = None
    expected: tuple[tuple[str, int], ...] = ()
    """The index's sources when it is current: every items file of its month, as listed."""


def _in_range(plan: _Plan, day: str) -> bool:
    """Return whether the archive day ``day`` is in [first_day, last_day]."""
    return not ((plan.first_day and day < plan.first_day) or (plan.last_day and day > plan.last_day))


def _is_items_file(key: str) -> bool:
    return key.endswith(".parquet") and "/date=" in key


def _prefix_sources(bucket: Bucket, prefix: str, plan: _Plan, indexes: bool) -> Iterator[_Source]:
    """Yield what to read under the ``items/`` prefix ``prefix``, in key order: each month's index
    where one exists and replaces enough files, the items files in the day range otherwise.
    The indexes are listed only when some month has enough files in the range."""
    entries = [entry for entry in bucket.list(prefix) if _is_items_file(entry.key)]
    months = by_month(entries) if indexes else {}
    in_range = {
        month: tuple(e.key for e in files if _in_range(plan, items_day(e.key)))
        for month, files in months.items()
    }
    worth = any(len(files) >= MIN_INDEXED_FILES for files in in_range.values())
    available = {entry.key: entry.size for entry in bucket.list(index_prefix(prefix))} if worth else {}
    used: set[Month] = set()
    for entry in entries:
        if not _in_range(plan, items_day(entry.key)):
            continue
        month = month_of(entry.key)
        if month is not None and month.key in available and len(in_range[month]) >= MIN_INDEXED_FILES:
            if month not in used:
                used.add(month)
                expected = tuple((s["key"], s["size"]) for s in index_sources(months[month]))
                yield _Source(in_range[month], available[month.key], month.key, expected)
            continue
        yield _Source((entry.key,), entry.size)


def _sources(bucket: Bucket, accounts: AccountsFile, plan: _Plan, indexes: bool) -> list[_Source]:
    """Return what the query reads, in key order (see :func:`_prefix_sources`)."""
    return [
        source
        for prefix in _prefixes(accounts, plan)
        for source in _prefix_sources(bucket, prefix, plan, indexes)
    ]


def candidate_keys(bucket: Bucket, accounts: AccountsFile, query: SearchQuery) -> list[str]:
    """Return the items files the query needs, in key order: the accounts and platforms asked,
    archive days in [day_from, min(day_to, as_of)]; nothing else is listed or read."""
    return [key for source in _sources(bucket, accounts, _plan(query), False) for key in source.files]


def _regex_match(column: pa.ChunkedArray | pa.Array, pattern: str) -> pa.ChunkedArray:
    """Return where ``column`` matches ``pattern`` ignoring case; null text never matches."""
    return pc.fill_null(pc.match_substring_regex(column, pattern, ignore_case=True), False)


def _identity_mask(table: pa.Table, plan: _Plan) -> pa.ChunkedArray:
    """Return rows matching the filters that are the same in every version of an item."""
    mask = pc.fill_null(pa.nulls(table.num_rows, pa.bool_()), True)
    if plan.item_key:
        mask = pc.and_(mask, pc.equal(table["item_key"], plan.item_key))
    if plan.thread_key:
        mask = pc.and_(mask, pc.equal(table["thread_key"], plan.thread_key))
    if plan.kinds:
        mask = pc.and_(mask, pc.is_in(table["kind"], value_set=pa.array(plan.kinds)))
    if plan.record_classes:
        mask = pc.and_(mask, pc.is_in(table["record_class"], value_set=pa.array(plan.record_classes)))
    return pc.fill_null(mask, False)


def _content_mask(table: pa.Table, plan: _Plan, mask: pa.ChunkedArray) -> pa.ChunkedArray:
    """Return ``mask`` narrowed by the text and author filters (which may differ between versions)."""
    if plan.text:
        mask = pc.and_(mask, _regex_match(table["text"], text_pattern(plan.text)))
    if plan.author:
        by_name = _regex_match(table["author_name"], text_pattern(plan.author))
        by_id = pc.fill_null(pc.equal(table["author_id"], plan.author), False)
        mask = pc.and_(mask, pc.or_(by_name, by_id))
    return mask


def _day_groups(parquet: pq.ParquetFile, first: str | None, last: str | None) -> list[int]:
    """Return the row groups of an index whose ``day`` statistics overlap [first, last] (all of
    them when a group has no statistics)."""
    metadata = parquet.metadata
    column = next(
        (n for n in range(metadata.num_columns) if metadata.schema.column(n).path == DAY_COLUMN), None
    )
    groups = []
    for group in range(metadata.num_row_groups):
        stats = metadata.row_group(group).column(column).statistics if column is not None else None
        outside = (
            stats is not None
            and stats.has_min_max
            and ((first and str(stats.max) < first) or (last and str(stats.min) > last))
        )
        if not outside:
            groups.append(group)
    return groups


class _File:
    """One fetched items file, or the row groups of an index in the day range, decoded column by
    column as needed."""

    def __init__(self, parquet: pq.ParquetFile, plan: _Plan | None = None) -> None:
        self.parquet = parquet
        self.present = set(parquet.schema_arrow.names)
        self.plan = plan
        """Set for an index: its rows are filtered by ``day``."""
        self.groups = _day_groups(parquet, plan.first_day, plan.last_day) if plan else []
        self.counts: list[int] = []
        """Rows of each group in ``groups`` after the day filter (known after the first read)."""

    @classmethod
    def of(cls, data: bytes) -> _File:
        """Return the items file in ``data``."""
        return cls(pq.ParquetFile(io.BytesIO(data)))

    def read(self, names: Iterable[str]) -> pa.Table:
        """Return the columns ``names`` in the item schema's types (of an index: the rows in the day range)."""
        names = list(names)
        if self.plan is None:
            return conform(self.parquet.read(columns=[n for n in names if n in self.present]), names)
        parts = self._groups(self.groups, names)
        self.counts = [part.num_rows for part in parts]
        return pa.concat_tables([conform(pa.table({}), names), *parts])

    def read_hits(self, names: Iterable[str], mask: pa.ChunkedArray | pa.Array) -> pa.Table:
        """Return the rows where ``mask`` (over what :meth:`read` returned) is true, decoding only
        the row groups that have some."""
        names = list(names)
        if self.plan is None:
            return self.read(names).filter(mask)
        groups, masks, offset = [], [], 0
        for group, count in zip(self.groups, self.counts, strict=True):
            part_mask = mask.slice(offset, count)
            offset += count
            if count and pc.any(part_mask).as_py():
                groups.append(group)
                masks.append(part_mask)
        parts = self._groups(groups, names)
        return pa.concat_tables(
            [conform(pa.table({}), names), *(part.filter(m) for part, m in zip(parts, masks, strict=True))]
        )

    def _groups(self, groups: list[int], names: list[str]) -> list[pa.Table]:
        """Return the row groups ``groups`` of an index, each with its rows in the day range, in one
        read (a table per group, sliced by the groups' row counts)."""
        if not groups:
            return []
        columns = [n for n in names if n in self.present]
        table = self.parquet.read_row_groups(groups, columns=[*columns, DAY_COLUMN])
        parts, offset = [], 0
        for group in groups:
            rows = self.parquet.metadata.row_group(group).num_rows
            parts.append(self._in_days(table.slice(offset, rows), names))
            offset += rows
        return parts

    def _in_days(self, table: pa.Table, names: list[str]) -> pa.Table:
        """Return the rows of ``table`` whose ``day`` is in the plan's range, columns ``names``."""
        assert self.plan is not None
        first, last = self.plan.first_day, self.plan.last_day
        if first or last:
            keep = pc.fill_null(pa.nulls(table.num_rows, pa.bool_()), True)
            if first:
                keep = pc.and_(keep, pc.greater_equal(table[DAY_COLUMN], first))
            if last:
                keep = pc.and_(keep, pc.less_equal(table[DAY_COLUMN], last))
            table = table.filter(keep)
        return conform(table, names)


def _load(bucket: Bucket, source: _Source, plan: _Plan) -> tuple[list[_File], int]:
    """Return the files ``source`` stands for, fetched, and how many objects were fetched: its
    index when current, else (stale or unreadable index) the month's items files."""
    if source.index is None:
        return [_File.of(bucket.get(source.files[0]))], 1
    expected = [{"key": key, "size": size} for key, size in source.expected]
    parquet = open_index(bucket.get(source.index), expected)
    if parquet is None:
        log.info("Search index %s is stale or unreadable; reading its month's items files.", source.index)
        return [_File.of(bucket.get(key)) for key in source.files], 1 + len(source.files)
    return [_File(parquet, plan)], 1


@dataclass
class _Found:
    rows: list[pa.Table] = field(default_factory=list)
    """Rows matching every filter (SEARCH_COLUMNS)."""
    versions: list[pa.Table] = field(default_factory=list)
    """With as_of: item_key and version of every row matching the identity filters."""


def _scan_batch(
    bucket: Bucket, sources: list[_Source], plan: _Plan, pool: ThreadPoolExecutor, found: _Found
) -> int:
    """Fetch ``sources`` concurrently, add their matching rows to ``found``; return the objects fetched.

    Only the filter columns are decoded for all files, and filtered together (one regex
    compilation per batch, which costs more than matching a file); the other columns are
    decoded only for files (index row groups) with hits.
    """
    loaded = list(pool.map(lambda source: _load(bucket, source, plan), sources))
    files = [file for part, _ in loaded for file in part]
    fetched = sum(count for _, count in loaded)
    if not plan.filter_columns:
        found.rows.extend(pool.map(lambda file: file.read(SEARCH_COLUMNS), files))
        return fetched
    tables = list(pool.map(lambda file: file.read(plan.filter_columns), files))
    table = pa.concat_tables(tables).combine_chunks()
    identity = _identity_mask(table, plan)
    matched = _content_mask(table, plan, identity)
    if plan.query.as_of:
        found.versions.append(table.select(["item_key", "version"]).filter(identity))
    offsets = [0]
    for part in tables:
        offsets.append(offsets[-1] + part.num_rows)
    hits = [
        (file, matched.slice(offsets[n], tables[n].num_rows))
        for n, file in enumerate(files)
        if pc.any(matched.slice(offsets[n], tables[n].num_rows)).as_py()
    ]
    found.rows.extend(pool.map(lambda hit: hit[0].read_hits(SEARCH_COLUMNS, hit[1]), hits))
    return fetched


def _batches(sources: list[_Source]) -> Iterator[list[_Source]]:
    """Yield ``sources`` in order, in batches of at most BATCH_FILES objects or about BATCH_BYTES bytes."""
    batch: list[_Source] = []
    size = 0
    for source in sources:
        batch.append(source)
        size += source.size
        if len(batch) >= BATCH_FILES or size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _latest_per_item(rows: pa.Table) -> pa.Table:
    """Return the row with the highest version of each item in ``rows``."""
    if rows.num_rows == 0:
        return rows
    order = pc.sort_indices(rows, [("item_key", "ascending"), ("version", "descending")])
    keys = pc.take(rows["item_key"], order).combine_chunks()
    first = pa.concat_arrays([pa.array([True]), pc.not_equal(keys[1:], keys[:-1])])
    return rows.take(pc.filter(order, first))


def _current(rows: pa.Table, versions: pa.Table) -> pa.Table:
    """Return the rows that are their item's latest version in ``versions`` (the state as of a day)."""
    if rows.num_rows == 0:
        return rows
    latest = versions.group_by("item_key").aggregate([("version", "max")])
    indexed = rows.select(["item_key", "version"]).append_column(
        "row", pa.array(range(rows.num_rows), pa.int64())
    )
    joined = indexed.join(latest, keys="item_key")
    keep = joined.filter(pc.equal(joined["version"], joined["version_max"]))["row"]
    return rows.take(keep)


def _in_time_order(rows: pa.Table) -> pa.Table:
    """Return ``rows`` sorted by (created_at or first_seen_at, item_key)."""
    when = pc.coalesce(rows["created_at"], rows["first_seen_at"])
    ordered = rows.append_column("_when", when).sort_by([("_when", "ascending"), ("item_key", "ascending")])
    return ordered.drop_columns(["_when"])


def search(
    bucket: Bucket, accounts: AccountsFile, query: SearchQuery, *, indexes: bool = True
) -> SearchResult:
    """Return the items ``query`` selects (one row per item, see :class:`SearchResult`).

    Completed months are read from their search index when it is current (``indexes=False``
    reads only items files; the result is the same). Raises SearchError saying what to fix for a
    bad query, ConfigError (listing the known names) for an account the accounts file does not have.
    """
    plan = _plan(query)
    sources = _sources(bucket, accounts, plan, indexes)
    found = _Found()
    fetched = 0
    with ThreadPoolExecutor(FETCH_THREADS) as pool:
        for batch in _batches(sources):
            fetched += _scan_batch(bucket, batch, plan, pool, found)
    rows = pa.concat_tables([SEARCH_SCHEMA_NULLABLE.empty_table(), *found.rows])
    if query.as_of and found.versions:
        rows = _current(rows, pa.concat_tables(found.versions))
    hits = _in_time_order(_latest_per_item(rows))
    truncated = query.limit is not None and hits.num_rows > query.limit
    if query.limit is not None:
        hits = hits.slice(0, query.limit)
    return SearchResult(rows=hits.to_pylist(), files_read=fetched, truncated=truncated)


def first_line(text: str | None, width: int = 60) -> str:
    """Return the first non-empty line of ``text``, cut to ``width`` characters with an ellipsis."""
    line = next((part.strip() for part in (text or "").splitlines() if part.strip()), "")
    return line if len(line) <= width else line[: width - 1].rstrip() + "…"


def table_lines(rows: list[dict[str, Any]], timezone: str) -> list[str]:
    """Return hits as an aligned table: thread key, local time, author, kind, first line of text."""
    zone = ZoneInfo(timezone)
    cells = []
    for row in rows:
        when = row.get("created_at") or row.get("first_seen_at")
        local = when.astimezone(zone).strftime("%Y-%m-%d %H:%M") if when else "-"
        author = first_line(row.get("author_name") or row.get("author_id") or "-", 24)
        text = first_line(row.get("text"))
        if row.get("state") == "deleted_at_source":
            text = f"(deleted) {text}".rstrip()
        cells.append((row["thread_key"], local, author, row["kind"], text))
    header = ("THREAD", f"TIME ({timezone})", "AUTHOR", "KIND", "TEXT")
    widths = [max(len(cell[column]) for cell in [header, *cells]) for column in range(4)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(line[:4], widths, strict=True)) + "  " + line[4]
        for line in [header, *cells]
    ]


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def json_line(row: dict[str, Any]) -> str:
    """Return one hit as a JSON line (times in ISO 8601, UTC)."""
    return json.dumps(row, default=_json_value, ensure_ascii=False)
