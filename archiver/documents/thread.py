"""The thread document: one post or conversation with every version of every item, across all
days; the unit releases are built from.

:func:`thread_story` lays out only the rows it is given, so a release can pass rows whose text
has been masked: nothing else about the items is read (the media files the rows name are drawn
as images, and the WARC files the rows name are hashed).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from reportlab.platypus import Flowable, PageBreak, Spacer

from archiver.config import Account
from archiver.documents.diary import FrontMatter, closing
from archiver.documents.layout import (
    TEXT_WIDTH,
    Bookmark,
    ItemContext,
    para,
    plain,
    styles,
    table,
    thread_chunks,
)
from archiver.documents.model import (
    ItemsFile,
    Row,
    Thread,
    WarcHashes,
    build_threads,
    history_of,
    raw_sources,
    read_items_files,
    shown_row,
)
from archiver.errors import DocumentError
from archiver.storage import Bucket


def thread_name(item_key: str) -> str:
    """Return the key-safe form of a thread's item key, used in its document's bucket key
    (``facebook:123:123_456`` -> ``facebook-123-123_456``)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "-", item_key)


@dataclass
class ThreadData:
    """Everything a thread document shows: the rows given, arranged as one thread."""

    account: Account
    thread_key: str
    rows: list[Row]
    thread: Thread
    sources: list[dict[str, Any]]
    files: list[ItemsFile]

    def embedded_rows(self) -> list[dict[str, Any]]:
        """Return the rows the document shows, each with its role (``shown``)."""
        return [shown_row(row, "shown") for row in self.rows]


def load_thread_rows(bucket: Bucket, account: Account, item_key: str) -> tuple[str, list[Row], list[ItemsFile]]:
    """Return (thread key, every version of every item of the thread ``item_key`` belongs to,
    the items files read); raise DocumentError when the archive has no such item."""
    files = read_items_files(bucket, account.platform, account.name, "9999-12-31")
    rows = [row for file in files for row in file.rows]
    thread_key = next((row["thread_key"] for row in rows if row["item_key"] == item_key), None)
    if thread_key is None:
        raise DocumentError(
            f"No item {item_key!r} in the archive of account {account.name}; item keys look like "
            "'facebook:PAGE_ID:NATIVE_ID' (see the diaries or items/)."
        )
    return thread_key, [row for row in rows if row["thread_key"] == thread_key], files


REQUIRED_FIELDS = ("item_key", "thread_key", "kind", "version", "observed_at", "run_id")
"""Fields every row of a thread document must have (masking may change text, never these)."""


def thread_data(
    account: Account, thread_key: str, rows: list[Row], hashes: WarcHashes, files: list[ItemsFile] | None = None
) -> ThreadData:
    """Return the thread document's content from ``rows`` only (all versions of its items)."""
    if not rows:
        raise DocumentError(f"No rows for thread {thread_key!r}: nothing to render.")
    incomplete = sorted(
        {str(row.get("item_key")) for row in rows for name in REQUIRED_FIELDS if row.get(name) is None}
    )
    if incomplete:
        raise DocumentError(
            f"Rows for thread {thread_key!r} lack {', '.join(REQUIRED_FIELDS)} (give every field of the "
            f"item rows, masked or not): {', '.join(incomplete[:5])}"
        )
    foreign = sorted({row["thread_key"] for row in rows} - {thread_key})
    if foreign:
        raise DocumentError(f"Rows of other threads were given for thread {thread_key!r}: {', '.join(foreign)}")
    ordered = sorted(rows, key=lambda row: (row["item_key"], row["version"]))
    threads = build_threads(ordered, history_of(ordered), context=False)
    thread = threads[0]
    for extra in threads[1:]:  # cannot happen with one thread key; kept total for safety
        thread.orphans += extra.orphans
    return ThreadData(account, thread_key, ordered, thread, raw_sources(ordered, hashes), files or [])


def thread_story(data: ThreadData, front: FrontMatter, ctx: ItemContext) -> Iterator[list[Flowable]]:
    """Yield the thread document's flowables: a front block, then the thread (streamed)."""
    s, w, account = styles(), ctx.w, data.account
    root = data.thread.root
    kind = w.kinds.get(root.latest["kind"], root.latest["kind"]) if root else w.labels["thread"]
    observed = [row["observed_at"] for row in data.rows]
    period = w.period(ctx.when(min(observed)), ctx.when(max(observed)))
    items = {row["item_key"] for row in data.rows}
    front_rows = [
        [w.labels["organisation"], para(ctx.text(front.organisation), s.cell)],
        [w.labels["account"], para(ctx.text(account.display_name or account.name), s.cell)],
        [w.labels["account_name"], account.name],
        [w.labels["platform"], w.platforms.get(account.platform, account.platform)],
        [w.labels["account_id"], account.id],
        [w.labels["thread_key"], para(ctx.text(data.thread_key), s.code)],
        [w.labels["period"], para(period, s.cell)],
        [w.labels["items"], f"{len(items)} / {len(data.rows)}"],
        [w.labels["software"], front.software],
    ]
    first: list[Flowable] = [Bookmark("front", plain(w.thread_title(kind, data.thread_key)))]
    if front.logo is not None:
        first.append(front.logo)
    first += [
        para(w.thread_title(kind, ctx.text(data.thread_key)), s.title),
        para(w.thread_subject(ctx.text(front.organisation), account.name, w.platforms.get(account.platform, "")), s.body),
        para(w.thread_intro(), s.small),
        Spacer(0, 6),
        table([[plain(a), b] for a, b in front_rows], [45 * 2.83, TEXT_WIDTH - 45 * 2.83], header=False),
        para(w.labels["sources"], s.heading),
    ]
    sources = [
        [para(f"{source['warc_key']}<br/>{source['sha256']}", s.code), str(len(source["records"]))]
        for source in data.sources
    ]
    header = [plain(w.labels["warc_key"]) + " / " + plain(w.labels["sha256"]), plain(w.labels["records"])]
    first.append(table([header, *sources], [TEXT_WIDTH - 60, 60]) if sources else para(w.labels["none"], s.body))
    first.append(PageBreak())
    yield first
    yield from thread_chunks(data.thread, ctx, 1)
    yield closing(ctx)
