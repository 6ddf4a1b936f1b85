"""The ``items`` table in the bucket: Parquet files partitioned by platform, account and day."""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from archiver.items import ITEM_SCHEMA
from archiver.runs import items_day, items_key, items_prefix
from archiver.storage import Bucket, StoredObject


def write_items(
    bucket: Bucket, rows: list[dict[str, Any]], platform: str, account: str, day: str, run: str
) -> StoredObject:
    """Write ``rows`` as one Parquet file of the account's day; return what was stored."""
    key = items_key(platform, account, day, run)
    return bucket.put(key, rows_to_parquet(rows), "application/vnd.apache.parquet")


def rows_to_parquet(rows: list[dict[str, Any]]) -> bytes:
    """Return item rows as Parquet bytes in the item schema (zstd-compressed, field docs kept)."""
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=ITEM_SCHEMA), sink, compression="zstd")
    return sink.getvalue()


def read_account_items(bucket: Bucket, platform: str, account: str, until_day: str | None = None) -> pa.Table:
    """Return every version of every item of an account, up to and including ``until_day``."""
    tables = []
    for entry in bucket.list(items_prefix(platform, account)):
        day = items_day(entry.key)
        if until_day is not None and day > until_day:
            continue
        tables.append(pq.read_table(io.BytesIO(bucket.get(entry.key)), schema=ITEM_SCHEMA))
    if not tables:
        return ITEM_SCHEMA.empty_table()
    return pa.concat_tables(tables)


def latest_versions(table: pa.Table) -> dict[str, dict[str, Any]]:
    """Return the latest version of each item in ``table`` as a row dict, keyed by item_key."""
    latest: dict[str, dict[str, Any]] = {}
    for row in table.to_pylist():
        current = latest.get(row["item_key"])
        if current is None or row["version"] > current["version"]:
            latest[row["item_key"]] = row
    return latest
