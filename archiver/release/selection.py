"""What a release covers: the threads a scope touches, with every version (up to the scope's
last day) of the items it selects and of their ancestors, read from the items files."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from archiver.config import Account, AccountsFile
from archiver.documents.model import Row, read_items_files
from archiver.documents.render import account_of_item
from archiver.errors import ReleaseError
from archiver.search import SearchQuery, search
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
    files = read_items_files(bucket, account.platform, account.name, until, threads)
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


def describe_scope(scope: SearchQuery) -> str:
    """Return the scope's set criteria as ``name=value`` text (for messages)."""
    parts = []
    for name, value in asdict(scope).items():
        if value not in (None, (), []) and name != "limit":
            shown = ",".join(value) if isinstance(value, tuple | list) else value
            parts.append(f"{name}={shown}")
    return " ".join(parts) or "no criteria"
