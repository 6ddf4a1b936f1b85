"""Monthly search indexes: one Parquet file per account and completed month, so a search over
the whole archive reads one object per account and month instead of one per account and day.

An index lies at ``catalog/search/platform={p}/account={a}/month={yyyy-mm}.parquet`` (the
partition of ``items/`` it covers, under ``catalog/``: a finding aid, regenerated and sealed by
the ``_catalog`` runs like the catalog pages). It holds every row of every items file of that
month (``date=`` in the month), in key order, one row group per items file, with the columns
:data:`INDEX_COLUMNS` (never ``source_json``) plus ``day``: the items file's ``date=`` partition.
Its Parquet key-value metadata ``social-archive-search-index`` is JSON
``{"format": "social-archive-search-index/1", "sources": [{"key": ..., "size": ...}, ...]}``:
the items files it was built from, as listed.

Only completed months (before the month of the publishing day) are indexed, so a daily run never
rewrites an index. A month whose items files change later (re-normalise, import, a late run)
makes its index *stale*: its sources differ from the month's current listing. A search then
reads that month's items files instead (never a wrong answer), and the next publication
rebuilds the index.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq
from botocore.exceptions import BotoCoreError, ClientError

from archiver.errors import ArchiverError, StorageError
from archiver.items import ITEM_SCHEMA
from archiver.runs import items_day
from archiver.storage import Bucket, ListedObject, StoredObject

log = logging.getLogger(__name__)

ITEMS_PREFIX: Final = "items/"
INDEX_PREFIX: Final = "catalog/search/"
INDEX_FORMAT: Final = "social-archive-search-index/1"
METADATA_KEY: Final = b"social-archive-search-index"
DAY_COLUMN: Final = "day"
PARQUET: Final = "application/vnd.apache.parquet"
INDEX_COLUMNS: Final = tuple(name for name in ITEM_SCHEMA.names if name != "source_json")
"""The item fields an index keeps: all but ``source_json`` (the same as ``search.SEARCH_COLUMNS``)."""
INDEX_SCHEMA: Final = pa.schema(
    [ITEM_SCHEMA.field(name).with_nullable(True) for name in INDEX_COLUMNS]
    + [
        pa.field(
            DAY_COLUMN, pa.string(), nullable=False, metadata={"doc": "the items file's date= partition"}
        )
    ]
)
BUILD_THREADS: Final = 8
"""Items files fetched at the same time while building an index."""
TAIL_BYTES: Final = 64 * 1024
"""Bytes read from the end of an index to find its sources (the whole footer when it is larger)."""

_ITEMS_KEY: Final = re.compile(
    r"^items/(platform=[^/]+/account=[^/]+)/date=(\d{4}-\d{2})-\d{2}/[^/]+\.parquet$"
)


@dataclass(frozen=True)
class Month:
    """One account's items files of one month: what one index covers."""

    partition: str
    """``platform={p}/account={a}``, as in ``items/``."""
    month: str
    """YYYY-MM."""

    @property
    def key(self) -> str:
        """Return the index's key, ``catalog/search/platform={p}/account={a}/month={yyyy-mm}.parquet``."""
        return index_key(self.partition, self.month)


def index_key(partition: str, month: str) -> str:
    """Return ``catalog/search/{partition}/month={month}.parquet`` (``partition``: ``platform=p/account=a``)."""
    return f"{INDEX_PREFIX}{partition}/month={month}.parquet"


def index_prefix(items_prefix: str) -> str:
    """Return the ``catalog/search/`` prefix holding the indexes of the items under ``items_prefix``
    (``items/`` -> ``catalog/search/``, ``items/platform=x/`` -> ``catalog/search/platform=x/``)."""
    if not items_prefix.startswith(ITEMS_PREFIX):
        raise ValueError(f"{items_prefix!r} is not a prefix under {ITEMS_PREFIX}")
    return INDEX_PREFIX + items_prefix.removeprefix(ITEMS_PREFIX)


def month_of(key: str) -> Month | None:
    """Return the index month an items file belongs to, or None for a key outside the items layout."""
    match = _ITEMS_KEY.match(key)
    return Month(match[1], match[2]) if match else None


def by_month(entries: Iterable[ListedObject]) -> dict[Month, list[ListedObject]]:
    """Return the items files among ``entries`` grouped by index month, each list in key order
    (keys outside the items layout are left out)."""
    groups: dict[Month, list[ListedObject]] = defaultdict(list)
    for entry in entries:
        month = month_of(entry.key)
        if month is not None:
            groups[month].append(entry)
    return {month: sorted(files, key=lambda e: e.key) for month, files in groups.items()}


def index_sources(entries: Iterable[ListedObject]) -> list[dict[str, Any]]:
    """Return the sources an index of ``entries`` records: ``[{"key", "size"}]`` in key order."""
    return [{"key": e.key, "size": e.size} for e in sorted(entries, key=lambda e: e.key)]


def conform(table: pa.Table, names: Iterable[str]) -> pa.Table:
    """Return ``table`` with exactly the columns ``names`` in the item schema's types, all nullable
    (a column an older file lacks is null)."""
    columns = []
    names = list(names)
    for name in names:
        wanted = ITEM_SCHEMA.field(name)
        if name in table.column_names:
            columns.append(table[name].cast(wanted.type))
        else:
            columns.append(pa.nulls(table.num_rows, wanted.type))
    fields = [ITEM_SCHEMA.field(name).with_nullable(True) for name in names]
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def _index_part(data: bytes, day: str) -> pa.Table:
    """Return the rows of one items file as index rows (``INDEX_COLUMNS`` and ``day``)."""
    parquet = pq.ParquetFile(io.BytesIO(data))
    present = set(parquet.schema_arrow.names)
    table = conform(parquet.read(columns=[n for n in INDEX_COLUMNS if n in present]), INDEX_COLUMNS)
    days = pa.array([day] * table.num_rows, pa.string())
    return pa.Table.from_arrays([*table.columns, days], schema=INDEX_SCHEMA)


def build_month_index(bucket: Bucket, entries: list[ListedObject]) -> bytes:
    """Return the index (Parquet bytes, zstd) of the items files ``entries`` (one account's month):
    their rows in key order, one row group per file, sources in the metadata.

    Raises StorageError when a file cannot be read and pyarrow's ArrowException when one is not Parquet.
    """
    ordered = sorted(entries, key=lambda e: e.key)
    metadata = {"format": INDEX_FORMAT, "sources": index_sources(ordered)}
    schema = INDEX_SCHEMA.with_metadata({METADATA_KEY: json.dumps(metadata, sort_keys=True).encode("utf-8")})
    sink = io.BytesIO()
    with (
        ThreadPoolExecutor(BUILD_THREADS) as pool,
        pq.ParquetWriter(sink, schema, compression="zstd") as writer,
    ):
        for part in pool.map(lambda e: _index_part(bucket.get(e.key), items_day(e.key)), ordered):
            writer.write_table(part)
    return sink.getvalue()


def sources_of(metadata: pq.FileMetaData | None) -> list[dict[str, Any]] | None:
    """Return the sources an index's footer records, or None when it is not a search index of
    this format (a missing or unreadable entry)."""
    raw = (metadata.metadata or {}).get(METADATA_KEY) if metadata is not None else None
    try:
        value = json.loads(raw) if raw else None
    except ValueError:
        return None
    if not isinstance(value, dict) or value.get("format") != INDEX_FORMAT:
        return None
    sources = value.get("sources")
    return sources if isinstance(sources, list) else None


def open_index(data: bytes, expected: list[dict[str, Any]]) -> pq.ParquetFile | None:
    """Return the index in ``data`` opened, or None when it is stale (its sources differ from
    ``expected``, the month's items files as now listed) or not a readable index of this format."""
    try:
        parquet = pq.ParquetFile(io.BytesIO(data))
    except pa.ArrowException:
        return None
    if sources_of(parquet.metadata) != expected or DAY_COLUMN not in parquet.schema_arrow.names:
        return None
    return parquet


def _tail(bucket: Bucket, key: str, length: int) -> bytes:
    """Return the last ``length`` bytes of ``key`` (fewer when it is shorter)."""
    try:
        answer = bucket.client.get_object(Bucket=bucket.name, Key=key, Range=f"bytes=-{length}")
        return answer["Body"].read()
    except (ClientError, BotoCoreError) as error:
        raise StorageError(f"Could not read the end of s3://{bucket.name}/{key}: {error}", key=key) from error


def stored_sources(bucket: Bucket, key: str) -> list[dict[str, Any]] | None:
    """Return the sources recorded in the index at ``key``, reading only its footer (one ranged
    GET, two when the footer is larger than 64 KB); None when it is not a readable index."""
    tail = _tail(bucket, key, TAIL_BYTES)
    if len(tail) < 12 or tail[-4:] != b"PAR1":
        return None
    length = int.from_bytes(tail[-8:-4], "little")
    if length + 8 > len(tail):
        tail = _tail(bucket, key, length + 8)
        if len(tail) < length + 8:
            return None
    footer = b"PAR1" + tail[-(length + 8) :]  # the footer alone parses as a file without data
    try:
        return sources_of(pq.read_metadata(io.BytesIO(footer)))
    except pa.ArrowException:
        return None


def write_search_indexes(
    bucket: Bucket, day: str, written: list[StoredObject] | None = None
) -> list[StoredObject]:
    """Build the missing or stale indexes of the months completed before ``day`` (YYYY-MM-DD)'s
    month and store them; return what was written (empty when every index is current).

    ``written`` (optional) gets each object as soon as it is stored, so a caller that seals what
    was written keeps the list even if this raises. A month whose items files cannot be read is
    logged and left without an index (searches read its files; ``archiver verify`` names them).
    """
    current_month = day[:7]
    if not re.fullmatch(r"\d{4}-\d{2}", current_month):
        raise ArchiverError(f"day {day!r} is not a day: write it as YYYY-MM-DD, e.g. 2026-11-01.")
    existing = {entry.key for entry in bucket.list(INDEX_PREFIX)}
    stored: list[StoredObject] = []
    for month, entries in sorted(by_month(bucket.list(ITEMS_PREFIX)).items(), key=lambda m: m[0].key):
        if month.month >= current_month:
            continue
        if month.key in existing and stored_sources(bucket, month.key) == index_sources(entries):
            continue
        try:
            data = build_month_index(bucket, entries)
        except (StorageError, pa.ArrowException) as error:
            log.warning(
                "No search index for %s: %s. Searches read its items files instead.", month.key, error
            )
            continue
        obj = bucket.put(month.key, data, PARQUET)
        stored.append(obj)
        if written is not None:
            written.append(obj)
    return stored
