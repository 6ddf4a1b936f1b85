"""Monthly search indexes (``catalog/search/``): which months are indexed, what an index holds,
staleness and rebuilding, identical search results with and without indexes (and fewer objects
read), and sealing by the ``_catalog`` run so ``archiver verify`` finds every index listed.

Against a real SeaweedFS of the module's own: indexes cover the whole bucket, so no other
module's items may be in the way (nor may these indexes be in theirs)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml

from archiver.catalog import CATALOG_ACCOUNT, publish
from archiver.config import AccountsFile, load_accounts
from archiver.items import item_key
from archiver.itemstore import write_items
from archiver.manifest import chain_head
from archiver.search import SEARCH_COLUMNS, SearchQuery, candidate_keys, search
from archiver.search_index import (
    DAY_COLUMN,
    INDEX_COLUMNS,
    INDEX_FORMAT,
    METADATA_KEY,
    index_key,
    index_prefix,
    index_sources,
    month_of,
    stored_sources,
    write_search_indexes,
)
from archiver.stack import stack_client, start_stack, stop_stack
from archiver.storage import Bucket
from archiver.verify import verify_archive

from search_checks import ACCOUNTS, FB, IG, X, at, item_row

PUBLISHED = "2026-03-10"
"""The publishing day: January and February are completed months, March is not."""
P1 = item_key("facebook", "111", "p1")
P2 = item_key("facebook", "111", "p2")
C1 = item_key("facebook", "111", "c1")
C2 = item_key("facebook", "111", "c2")
C3 = item_key("facebook", "111", "c3")
IG1 = item_key("instagram", "222", "ig1")
X1 = item_key("x", "333", "x1")


def row(key: str, day: str, hour: int, text: str | None, *, version: int = 1, **fields: Any) -> dict[str, Any]:
    """Return a full item row recorded on ``day`` (a comment on P1 unless told otherwise)."""
    created = fields.pop("created", day)
    fields = {"kind": "comment", "parent_key": P1, "thread_key": P1, "author_id": "u-7", "author_name": "Åsa Öberg"} | fields
    if fields.get("own"):
        fields.pop("author_id")
        fields.pop("author_name")
    return item_row(key, day, hour, text, created=created, version=version, **fields)


def post(key: str, day: str, hour: int, text: str, **fields: Any) -> dict[str, Any]:
    return row(key, day, hour, text, kind="post", parent_key=None, thread_key=key, own=True, **fields)


FILES: list[tuple[str, str, str, str, list[dict[str, Any]]]] = [
    ("facebook", FB, "2026-01-05", "a", [
        post(P1, "2026-01-05", 8, "Välkommen till Ängelholm!"),
        row(C1, "2026-01-05", 9, "Platsbrist på förskolan"),
    ]),
    ("facebook", FB, "2026-01-20", "a", [
        row(C1, "2026-01-20", 9, "Löst nu, tack!", version=2, created="2026-01-05", edited_at=at("2026-01-20", 7)),
    ]),
    ("facebook", FB, "2026-01-20", "b", [  # a second run that day
        row(C2, "2026-01-20", 10, "Café i parken", author_name="Müller, Jürgen", author_id="u-42"),
    ]),
    ("facebook", FB, "2026-01-31", "a", [
        row(C2, "2026-01-31", 10, "Café i parken på lördag", version=2, created="2026-01-20",
            author_name="Müller, Jürgen", author_id="u-42"),
    ]),
    ("facebook", FB, "2026-02-01", "a", [post(P2, "2026-02-01", 8, "Vattenledningen är avstängd")]),
    ("facebook", FB, "2026-02-14", "a", [
        row(C1, "2026-02-14", 9, "Löst nu, tack!", version=3, created="2026-01-05", state="deleted_at_source"),
    ]),
    ("facebook", FB, "2026-02-28", "a", [
        row(C3, "2026-02-28", 9, "Förskolan igen", author_name="Zoë Ekström", author_id="u-9"),
    ]),
    ("facebook", FB, "2026-03-02", "a", [
        post(P2, "2026-03-02", 8, "Vattenledningen är lagad", version=2, created="2026-02-01"),
    ]),
    ("facebook", FB, "2026-03-05", "a", [row(C3, "2026-03-05", 9, "Förskolan, igen!", version=2,
                                             created="2026-02-28", author_name="Zoë Ekström", author_id="u-9")]),
    ("instagram", IG, "2026-01-10", "a", [post(IG1, "2026-01-10", 6, "angelholm sunset 🌅")]),
    ("instagram", IG, "2026-01-11", "a", [post(IG1, "2026-01-11", 6, "angelholm sunrise", version=2,
                                               created="2026-01-10")]),
    ("instagram", IG, "2026-02-02", "a", [post(IG1, "2026-02-02", 6, "ANGELHOLM sunrise", version=3,
                                               created="2026-01-10")]),
    ("x", X, "2026-01-03", "a", [post(X1, "2026-01-03", 5, "ANGELHOLM i dag")]),
    ("x", X, "2026-01-04", "a", [row(item_key("x", "333", "x2"), "2026-01-04", 5, "svar", parent_key=X1,
                                     thread_key=X1)]),
]  # fmt: skip


@dataclass
class Stack:
    writer: Bucket
    reader: Bucket
    accounts: AccountsFile
    published: list[dict[str, Any]]

    def both(self, query: SearchQuery) -> tuple[Any, Any]:
        return (
            search(self.reader, self.accounts, query),
            search(self.reader, self.accounts, query, indexes=False),
        )


def run_id(account: str, day: str, suffix: str) -> str:
    return f"{account}_{day.replace('-', '')}T23000000000{suffix}Z"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    directory = tmp_path_factory.mktemp("search-index")
    accounts_file = directory / "accounts.yaml"
    accounts_file.write_text(yaml.safe_dump(ACCOUNTS, allow_unicode=True), encoding="utf-8")
    try:
        start_stack(directory / "stack", retention_days=1, sandbox=False)
        writer = Bucket("social-archive", stack_client("archiver", directory / "stack"))
        for platform, account, day, suffix, rows in FILES:
            write_items(writer, rows, platform, account, day, run_id(account, day, suffix))
        published = publish(writer, PUBLISHED)
        reader = Bucket("social-archive", stack_client("registrar", directory / "stack"))
        yield Stack(writer, reader, load_accounts(accounts_file), published)
    finally:
        stop_stack(Path(directory / "stack"))


def _indexes(bucket: Bucket) -> list[str]:
    return [entry.key for entry in bucket.list("catalog/search/")]


def test_keys_and_prefixes_mirror_the_items_layout() -> None:
    key = "items/platform=facebook/account=a-fb/date=2026-01-31/a-fb_1.parquet"
    month = month_of(key)
    assert month is not None and (month.partition, month.month) == (
        "platform=facebook/account=a-fb",
        "2026-01",
    )
    assert month.key == index_key(month.partition, "2026-01")
    assert month.key == "catalog/search/platform=facebook/account=a-fb/month=2026-01.parquet"
    assert month_of("items/platform=facebook/account=a-fb/odd.parquet") is None
    assert index_prefix("items/") == "catalog/search/"
    assert index_prefix("items/platform=x/account=b/") == "catalog/search/platform=x/account=b/"
    assert INDEX_COLUMNS == SEARCH_COLUMNS


def test_only_completed_months_are_indexed_and_again_changes_nothing(stack: Stack) -> None:
    expected = sorted(
        index_key(f"platform={p}/account={a}", m)
        for p, a, m in [
            ("facebook", FB, "2026-01"),
            ("facebook", FB, "2026-02"),
            ("instagram", IG, "2026-01"),
            ("instagram", IG, "2026-02"),
            ("x", X, "2026-01"),
        ]
    )
    assert _indexes(stack.writer) == expected
    assert write_search_indexes(stack.writer, PUBLISHED) == []
    assert publish(stack.writer, PUBLISHED) == []  # nothing changed: no new version, no manifest
    assert write_search_indexes(stack.writer, "2026-02-27") == []  # January only: current already


def test_an_index_holds_every_row_of_its_month_and_names_its_sources(stack: Stack) -> None:
    key = index_key(f"platform=facebook/account={FB}", "2026-01")
    parquet = pq.ParquetFile(io.BytesIO(stack.reader.get(key)))
    assert parquet.schema_arrow.names == [*SEARCH_COLUMNS, DAY_COLUMN]
    assert "source_json" not in parquet.schema_arrow.names
    listed = [
        e for e in stack.reader.list(f"items/platform=facebook/account={FB}/") if "date=2026-01" in e.key
    ]
    assert len(listed) == 4 and parquet.metadata.num_row_groups == 4  # one row group per items file
    recorded = json.loads(parquet.metadata.metadata[METADATA_KEY])
    assert recorded == {"format": INDEX_FORMAT, "sources": index_sources(listed)}
    assert stored_sources(stack.reader, key) == recorded["sources"]
    table = parquet.read()
    assert table[DAY_COLUMN].to_pylist() == [
        "2026-01-05",
        "2026-01-05",
        "2026-01-20",
        "2026-01-20",
        "2026-01-31",
    ]
    assert table["item_key"].to_pylist() == [P1, C1, C1, C2, C2]


def test_a_footer_larger_than_the_first_read_is_read_whole(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = index_key(f"platform=facebook/account={FB}", "2026-01")
    expected = stored_sources(stack.reader, key)
    monkeypatch.setattr("archiver.search_index.TAIL_BYTES", 64)
    assert stored_sources(stack.reader, key) == expected and expected
    assert stored_sources(stack.reader, f"items/platform=facebook/account={FB}/date=2026-01-05/"
                          f"{run_id(FB, '2026-01-05', 'a')}.parquet") is None  # not an index  # fmt: skip


QUERIES = [
    SearchQuery(),
    SearchQuery(text="forskolan"),
    SearchQuery(text="Ängelholm"),
    SearchQuery(text="angelholm"),
    SearchQuery(text="cafe"),
    SearchQuery(author="asa oberg"),
    SearchQuery(author="u-42"),
    SearchQuery(kinds=("post",)),
    SearchQuery(record_classes=("inkommen",)),
    SearchQuery(day_from="2026-01-10", day_to="2026-01-25"),  # part of one indexed month
    SearchQuery(day_from="2026-01-01", day_to="2026-02-28"),  # two whole indexed months
    SearchQuery(day_from="2026-02-10", day_to="2026-03-31"),  # part indexed, part not
    SearchQuery(day_from="2026-03-01"),  # no indexed month
    SearchQuery(day_from="2026-01-20", day_to="2026-01-20", text="parken"),
    SearchQuery(as_of="2026-01-25"),
    SearchQuery(as_of="2026-02-20", text="löst"),
    SearchQuery(as_of="2026-03-03", kinds=("post",)),
    SearchQuery(thread_key=P1),
    SearchQuery(item_key=C1),
    SearchQuery(item_key=C1, as_of="2026-02-01"),
    SearchQuery(accounts=(IG,), text="sunrise"),
    SearchQuery(platforms=("x",)),
    SearchQuery(limit=3),
]


@pytest.mark.parametrize("query", QUERIES, ids=[repr(q)[12:-1] or "all" for q in QUERIES])
def test_results_are_the_same_with_and_without_indexes(stack: Stack, query: SearchQuery) -> None:
    indexed, plain = stack.both(query)
    assert indexed.rows == plain.rows
    assert indexed.truncated == plain.truncated
    assert indexed.files_read <= plain.files_read


def test_indexes_replace_the_files_of_their_months(stack: Stack) -> None:
    everything = SearchQuery(accounts=(FB,))
    indexed, plain = stack.both(everything)
    assert plain.files_read == 9 and indexed.files_read == 2 + 2  # Jan and Feb indexes, March's 2 files
    assert plain.files_read == len(candidate_keys(stack.reader, stack.accounts, everything))
    january_part = SearchQuery(accounts=(FB,), day_from="2026-01-15", day_to="2026-01-31")
    assert stack.both(january_part)[0].files_read == 1  # 3 files of January: its index
    one_day = SearchQuery(accounts=(FB,), day_from="2026-01-05", day_to="2026-01-05")
    assert stack.both(one_day)[0].files_read == 1  # one file: read itself, not the index
    assert [hit["item_key"] for hit in stack.both(one_day)[0].rows] == [P1, C1]


def test_a_new_file_in_an_indexed_month_makes_its_index_stale_until_rebuilt(stack: Stack) -> None:
    late = row(item_key("x", "333", "late"), "2026-01-25", 5, "Ett sent fynd: snöskottningsavtal",
               parent_key=X1, thread_key=X1)  # fmt: skip
    write_items(stack.writer, [late], "x", X, "2026-01-25", run_id(X, "2026-01-25", "c"))
    query = SearchQuery(accounts=(X,), text="snoskottningsavtal")
    indexed, plain = stack.both(query)
    assert [hit["item_key"] for hit in indexed.rows] == [late["item_key"]] and indexed.rows == plain.rows
    assert indexed.files_read == 1 + 3  # the stale index, then its month's files
    assert stack.both(SearchQuery(accounts=(X,)))[0].rows == stack.both(SearchQuery(accounts=(X,)))[1].rows

    key = index_key(f"platform=x/account={X}", "2026-01")
    rebuilt = publish(stack.writer, PUBLISHED)  # the nightly catalog: write_search_indexes, sealed
    assert [obj["key"] for obj in rebuilt if obj["key"].startswith("catalog/search/")] == [key]
    assert write_search_indexes(stack.writer, PUBLISHED) == []
    indexed, plain = stack.both(query)
    assert indexed.rows == plain.rows and indexed.files_read == 1
    assert (
        len(list(stack.writer.client.list_object_versions(Bucket="social-archive", Prefix=key)["Versions"]))
        == 2
    )


def test_publish_seals_the_indexes_and_verify_finds_them_listed(stack: Stack) -> None:
    written = {entry["key"] for entry in stack.published}
    assert set(_indexes(stack.writer)) <= written
    head = chain_head(stack.writer, CATALOG_ACCOUNT)
    assert head is not None
    sealed = json.loads(stack.writer.get(head["ref"]["key"], head["ref"]["version_id"]))
    assert {obj["key"] for obj in sealed["objects"]} & set(_indexes(stack.writer))
    report = verify_archive(stack.writer)
    about_indexes = [f for f in report.findings if f.key.startswith("catalog/search/")]
    assert about_indexes == []
    assert any(f.check == "unlisted" and f.key.startswith("items/") for f in report.findings)  # the check ran
