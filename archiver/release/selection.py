"""What a release covers: the threads a scope touches, with every version (up to the scope's
last day) of the items it selects and of their ancestors, read from the items files."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any

import pyarrow.parquet as pq

from archiver.config import Account, AccountsFile
from archiver.documents.model import ItemsFile, Row
from archiver.documents.render import account_of_item
from archiver.errors import ReleaseError
from archiver.runs import items_prefix
from archiver.search import SEARCH_COLUMNS, SearchQuery, search
from archiver.storage import Bucket

LAST_DAY = "9999-12-31"


@dataclass
class Selection:
    """What a scope selects: rows to show per thread (unmasked) and the items files read."""

    hits: int
    threads: dict[str, list[Row]]
    files: dict[str, list[dict[str, Any]]]
    accounts: dict[str, Account]
    """Thread key -> account it belongs to."""

    def rows(self) -> list[Row]:
        """Return every row of every thread, in thread order."""
        return [row for key in sorted(self.threads) for row in self.threads[key]]


def last_day(scope: SearchQuery) -> str:
    """Return the last archive day a release of ``scope`` shows versions of (``as_of`` or
    ``day_to``, the earlier if both; no limit when neither is set)."""
    days = [day for day in (scope.as_of, scope.day_to) if day]
    return min(days) if days else LAST_DAY


def select(bucket: Bucket, accounts: AccountsFile, scope: SearchQuery) -> Selection:
    """Return the threads ``scope`` touches: every version (up to the scope's last day) of the
    items it selects and of their ancestors; raise ReleaseError when it selects nothing."""
    hits = search(bucket, accounts, replace(scope, limit=None)).rows
    if not hits:
        raise ReleaseError(
            f"The scope matched nothing ({describe_scope(scope)}): check the accounts, days and "
            "filters with `archiver search`, then request again."
        )
    by_account: dict[str, tuple[Account, set[str], set[str]]] = {}
    for hit in hits:
        account = account_of_item(accounts, str(hit["item_key"]))
        entry = by_account.setdefault(account.name, (account, set(), set()))
        entry[1].add(str(hit["item_key"]))
        entry[2].add(str(hit["thread_key"]))
    selection = Selection(len(hits), {}, {}, {})
    until = last_day(scope)
    for name in sorted(by_account):
        account, items, threads = by_account[name]
        _select_account(bucket, account, items, threads, until, selection)
    return selection


def _select_account(
    bucket: Bucket, account: Account, items: set[str], threads: set[str], until: str, selection: Selection
) -> None:
    files = read_thread_files(bucket, account, until, threads)
    rows = [row for file in files for row in file.rows]
    parents = {row["item_key"]: row.get("parent_key") for row in rows}
    keep: set[str] = set()
    for key in sorted(items) + sorted(threads):  # the thread roots too: what everything answers
        while key and key not in keep and (key in parents or key in items):
            keep.add(key)
            key = parents.get(key) or ""
    for file in files:
        touched = sorted({row["thread_key"] for row in file.rows if row["item_key"] in keep})
        for thread in touched:
            selection.files.setdefault(thread, []).append({**file.ref.to_dict(), "day": file.day})
    for row in sorted(rows, key=lambda r: (r["thread_key"], r["item_key"], r["version"])):
        if row["item_key"] in keep:
            selection.threads.setdefault(row["thread_key"], []).append(row)
            selection.accounts[row["thread_key"]] = account


def read_thread_files(
    bucket: Bucket, account: Account, until: str, threads: Iterable[str]
) -> list[ItemsFile]:
    """Return the account's items files up to and including day ``until``, each with only the
    rows of ``threads`` (every column but ``source_json``), with the version id and sha256 read."""
    wanted = sorted(set(threads))
    files = []
    for entry in bucket.list(items_prefix(account.platform, account.name)):
        day = entry.key.split("/date=", 1)[1][:10]
        if day > until or not entry.key.endswith(".parquet"):
            continue
        stored, data = bucket.read_current(entry.key)
        table = pq.read_table(
            io.BytesIO(data), columns=list(SEARCH_COLUMNS), filters=[("thread_key", "in", wanted)]
        )
        rows = table.to_pylist()
        if rows:
            files.append(ItemsFile(stored, day, entry.key.rsplit("/", 1)[-1].removesuffix(".parquet"), rows))
    return files


def describe_scope(scope: SearchQuery) -> str:
    """Return the scope's set criteria as ``name=value`` text (for messages)."""
    parts = []
    for name, value in asdict(scope).items():
        if value not in (None, (), []) and name != "limit":
            shown = ",".join(value) if isinstance(value, tuple | list) else value
            parts.append(f"{name}={shown}")
    return " ".join(parts) or "no criteria"
