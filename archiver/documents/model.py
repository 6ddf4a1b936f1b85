"""What a document shows: item rows for a day or a thread, arranged as thread trees, and counts.

A *diary* shows every version recorded on one archive day (the rows of the items files under
``date=D``, from every run of that day), grouped by thread. Items not recorded that day but
needed to understand a thread (the post a new comment answers, the comment a reply answers) are
shown as *context*: their latest version up to that day. An edited item shows its earlier
text, taken from its previous version (possibly from an earlier day).

A *thread document* shows every version of every item of one post or conversation.

Everything here works on plain row dicts (``ITEM_SCHEMA`` fields), so a caller (a release that
masks text) can hand in rows of its own instead of rows read from the bucket.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow.parquet as pq

from archiver.items import ITEM_SCHEMA, KINDS
from archiver.manifest import manifest_of
from archiver.runs import items_day, items_prefix
from archiver.storage import Bucket, StoredObject

Row = dict[str, Any]

CHANGES = ("new", "edited", "hidden", "unhidden", "deleted", "other")
"""How a version differs from the item's previous one (the columns of the counts table)."""

SHOWN_FIELDS = (
    "item_key",
    "platform",
    "account_id",
    "kind",
    "native_id",
    "parent_key",
    "thread_key",
    "author_id",
    "author_name",
    "from_account",
    "record_class",
    "text",
    "attachments",
    "permalink",
    "created_at",
    "edited_at",
    "visibility",
    "state",
    "version",
    "content_sha256",
    "first_seen_at",
    "observed_at",
    "run_id",
    "raw_ref",
    "raw_sha256",
)
"""The fields a document shows and embeds; ``source_json`` is never embedded, so what a
document holds is exactly what its rows say (a masker controls every value)."""


@dataclass
class Node:
    """One item in a thread tree: the versions shown, and the items answering it."""

    item_key: str
    versions: list[Row]
    context: bool = False
    """True when the item was not recorded on the document's day and is shown for context."""
    children: list[Node] = field(default_factory=list)

    @property
    def latest(self) -> Row:
        """Return the newest version shown."""
        return self.versions[-1]


@dataclass
class Thread:
    """One post or conversation with the items under it."""

    thread_key: str
    root: Node | None
    """The thread's root; None when the archive holds no version of it."""
    orphans: list[Node] = field(default_factory=list)
    """Items whose parent is not in the archive, shown at the thread's top level."""

    def nodes(self) -> list[Node]:
        """Return every node, depth first, in display order."""
        out: list[Node] = []
        stack = list(reversed(([self.root] if self.root else []) + self.orphans))
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(reversed(node.children))
        return out


@dataclass
class ItemsFile:
    """One items file read for a document: its stored identity and its rows."""

    ref: StoredObject
    day: str
    run_id: str
    rows: list[Row]


READ_COLUMNS = [name for name in ITEM_SCHEMA.names if name != "source_json"]
"""What documents and releases read of the items files: every column but the platform's raw
object (the bulk of the bytes, never shown)."""


def read_items_files(
    bucket: Bucket, platform: str, account: str, until_day: str, thread_keys: Iterable[str] | None = None
) -> list[ItemsFile]:
    """Return every items file of the account up to and including ``until_day``, in key order,
    each with the version id and sha256 of the bytes read and its rows (:data:`READ_COLUMNS`);
    with ``thread_keys``, only those threads' rows and only the files holding any."""
    wanted = None if thread_keys is None else sorted(set(thread_keys))
    files = []
    for entry in bucket.list(items_prefix(platform, account)):
        day = items_day(entry.key)
        if day > until_day or not entry.key.endswith(".parquet"):
            continue
        ref, data = bucket.read_current(entry.key)
        filters = None if wanted is None else [("thread_key", "in", wanted)]
        rows = pq.read_table(io.BytesIO(data), schema=ITEM_SCHEMA, columns=READ_COLUMNS, filters=filters).to_pylist()
        if rows or wanted is None:
            run = entry.key.rsplit("/", 1)[-1].removesuffix(".parquet")
            files.append(ItemsFile(ref, day, run, rows))
    return files


def history_of(rows: Iterable[Row]) -> dict[str, list[Row]]:
    """Return every version per item_key, oldest first."""
    history: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        history[row["item_key"]].append(row)
    for versions in history.values():
        versions.sort(key=lambda row: row["version"])
    return dict(history)


def previous_version(row: Row, history: dict[str, list[Row]]) -> Row | None:
    """Return the version of the same item just before ``row``, or None for a first version."""
    earlier = [v for v in history.get(row["item_key"], []) if v["version"] < row["version"]]
    return earlier[-1] if earlier else None


def change_of(row: Row, previous: Row | None) -> str:
    """Return what ``row`` changed against ``previous``: one of :data:`CHANGES`."""
    if row["state"] == "deleted_at_source":
        return "deleted"
    if previous is None:
        return "new"
    if row["state"] == "hidden" and previous["state"] != "hidden":
        return "hidden"
    if previous["state"] == "hidden" and row["state"] != "hidden":
        return "unhidden"
    if (row.get("text") or "") != (previous.get("text") or ""):
        return "edited"
    return "other"


def counts(rows: Iterable[Row], history: dict[str, list[Row]]) -> dict[str, dict[str, int]]:
    """Return the number of versions per kind and change (kinds in :data:`KINDS` order, only
    kinds that occur), e.g. ``{"comment": {"new": 3, "edited": 1, ...}}``."""
    table: dict[str, dict[str, int]] = {}
    for row in rows:
        per_kind = table.setdefault(row["kind"], dict.fromkeys(CHANGES, 0))
        per_kind[change_of(row, previous_version(row, history))] += 1
    return {kind: table[kind] for kind in sorted(table, key=_kind_order)}


def _kind_order(kind: str) -> tuple[int, str]:
    return (KINDS.index(kind) if kind in KINDS else len(KINDS), kind)


def _sort_key(row: Row) -> tuple[datetime, str]:
    created = row.get("created_at") or row.get("first_seen_at") or datetime.min.replace(tzinfo=UTC)
    return (created, row["item_key"])


def build_threads(shown: list[Row], history: dict[str, list[Row]], context: bool = True) -> list[Thread]:
    """Return the threads of ``shown`` rows as trees, in order of their roots' creation.

    With ``context``, ancestors (root, parent comments) that are not among ``shown`` are added
    as context nodes, each with its latest version in ``history``.
    """
    by_item: dict[str, list[Row]] = defaultdict(list)
    for row in shown:
        by_item[row["item_key"]].append(row)
    nodes = {key: Node(key, sorted(rows, key=lambda r: r["version"])) for key, rows in by_item.items()}
    if context:
        for key in list(nodes):
            _add_context_ancestors(nodes[key], nodes, history)
    threads: dict[str, Thread] = {}
    for node in sorted(nodes.values(), key=lambda n: _sort_key(n.versions[0])):
        row = node.latest
        thread = threads.setdefault(row["thread_key"], Thread(row["thread_key"], None))
        parent_key = row.get("parent_key")
        if row["item_key"] == row["thread_key"] or not parent_key:
            if thread.root is None and row["item_key"] == row["thread_key"]:
                thread.root = node
            else:
                thread.orphans.append(node)
        elif parent_key in nodes:
            nodes[parent_key].children.append(node)
        else:
            thread.orphans.append(node)
    return sorted(threads.values(), key=_thread_order)


def _add_context_ancestors(node: Node, nodes: dict[str, Node], history: dict[str, list[Row]]) -> None:
    row = node.latest
    keys = [row.get("parent_key"), row["thread_key"]]
    for key in keys:
        if key and key not in nodes and history.get(key):
            nodes[key] = Node(key, [history[key][-1]], context=True)
            _add_context_ancestors(nodes[key], nodes, history)


def _thread_order(thread: Thread) -> tuple[datetime, str]:
    first = thread.root or (thread.orphans[0] if thread.orphans else None)
    if first is None:
        return (datetime.min.replace(tzinfo=UTC), thread.thread_key)
    return (_sort_key(first.versions[0])[0], thread.thread_key)


def context_rows(threads: list[Thread]) -> list[Row]:
    """Return the rows shown as context in ``threads``."""
    return [node.latest for thread in threads for node in thread.nodes() if node.context]


def earlier_rows(shown: list[Row], history: dict[str, list[Row]]) -> list[Row]:
    """Return the previous versions of edited ``shown`` rows that are not shown themselves
    (their text is printed as the earlier text)."""
    shown_ids = {(row["item_key"], row["version"]) for row in shown}
    out = {}
    for row in shown:
        previous = previous_version(row, history)
        if previous is not None and (previous["item_key"], previous["version"]) not in shown_ids:
            out[(previous["item_key"], previous["version"])] = previous
    return [out[key] for key in sorted(out)]


def shown_row(row: Row, role: str) -> dict[str, Any]:
    """Return ``row`` as embedded in a document: the shown fields (JSON-able) and its ``role``
    (``shown``, ``context`` or ``earlier``)."""
    out: dict[str, Any] = {"role": role}
    for name in SHOWN_FIELDS:
        value = row.get(name)
        out[name] = value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value
    return out


def warc_of(raw_ref: str | None) -> tuple[str, str] | None:
    """Return (WARC key, record id) of a row's ``raw_ref``, or None."""
    if not raw_ref or "#" not in raw_ref:
        return None
    key, record = raw_ref.split("#", 1)
    return key, record


def run_of_warc(warc_key: str) -> tuple[str, str] | None:
    """Return (day, run id) of a WARC key ``raw/{p}/{a}/{yyyy}/{mm}/{dd}/{run}.warc.gz``."""
    parts = warc_key.split("/")
    if len(parts) != 7 or not parts[6].endswith(".warc.gz"):
        return None
    return f"{parts[3]}-{parts[4]}-{parts[5]}", parts[6].removesuffix(".warc.gz")


class WarcHashes:
    """The sha256 of stored WARC files: from the objects a run has written, else its manifest,
    else by reading the file (the same answer from any source, so documents stay reproducible)."""

    def __init__(self, bucket: Bucket, known: Iterable[dict[str, Any]] = ()) -> None:
        self.bucket = bucket
        self.known = {o["key"]: str(o["sha256"]) for o in known if str(o.get("key", "")).startswith("raw/")}

    def sha256(self, warc_key: str) -> str:
        """Return the hex sha256 of the WARC at ``warc_key`` (raises StorageError when unreadable)."""
        if warc_key not in self.known:
            self.known[warc_key] = self._look_up(warc_key)
        return self.known[warc_key]

    def _look_up(self, warc_key: str) -> str:
        run = run_of_warc(warc_key)
        manifest = manifest_of(self.bucket, *run) if run else None
        for obj in (manifest or {}).get("objects", []):
            if obj.get("key") == warc_key:
                return str(obj["sha256"])
        return self.bucket.ref(warc_key).sha256


def raw_sources(rows: Iterable[Row], hashes: WarcHashes, extra_warcs: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Return the raw sources of ``rows``: per WARC file its key, sha256 and the records (id and
    body sha256) the rows came from, in key order; ``extra_warcs`` are listed even if no row
    came from them."""
    records: dict[str, dict[str, str | None]] = {key: {} for key in extra_warcs}
    for row in rows:
        found = warc_of(row.get("raw_ref"))
        if found:
            records.setdefault(found[0], {})[found[1]] = row.get("raw_sha256")
        elif row.get("raw_ref"):  # a tombstone: the whole WARC of the run that found it gone
            records.setdefault(str(row["raw_ref"]), {})
    return [
        {
            "warc_key": key,
            "sha256": hashes.sha256(key),
            "records": [{"record_id": rid, "body_sha256": body} for rid, body in sorted(records[key].items())],
        }
        for key in sorted(records)
    ]


def run_started(run_id: str) -> datetime | None:
    """Return the UTC start time encoded in a run id (``{account}_{%Y%m%dT%H%M%S%fZ}``), or None."""
    try:
        return datetime.strptime(run_id.rsplit("_", 1)[1], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
    except (IndexError, ValueError):
        return None


def latest_observed(rows: Iterable[Row]) -> datetime | None:
    """Return the latest ``observed_at`` of ``rows`` (the documents' creation date), or None."""
    times = [row["observed_at"] for row in rows if row.get("observed_at")]
    return max(times) if times else None
