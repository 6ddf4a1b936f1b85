"""``archiver search``: every filter, day range and as-of semantics, Swedish-aware folding,
partition pruning (``files_read``), the CLI table and JSON, and bad input, against item rows
written into a real SeaweedFS of the module's own (so no other test's items are in the way)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from archiver.cli import app
from archiver.config import AccountsFile, load_accounts
from archiver.errors import ConfigError, SearchError
from archiver.items import item_key
from archiver.itemstore import write_items
from archiver.search import SEARCH_COLUMNS, SearchQuery, fold, folded_match, search, text_pattern
from archiver.stack import identity_env, stack_client, start_stack, stop_stack
from archiver.storage import Bucket

from search_checks import ACCOUNTS, FB, IG, X, at, item_row

D1, D2, D3 = "2026-11-01", "2026-11-02", "2026-11-03"
P1 = item_key("facebook", "111", "111_1")
P2 = item_key("facebook", "111", "111_2")
C1 = item_key("facebook", "111", "111_1_c1")
C2 = item_key("facebook", "111", "111_1_c2")
R1 = item_key("facebook", "111", "111_1_c1_r1")
IG1 = item_key("instagram", "222", "ig1")
X1 = item_key("x", "333", "x1")


def row(key: str, day: str, hour: int, text: str | None, *, version: int = 1, **fields: Any) -> dict[str, Any]:
    """Return a full item row recorded on ``day`` (a root post created on D1 unless told otherwise)."""
    return item_row(key, day, hour, text, created=D1, version=version, **fields)


def comment(key: str, parent: str, day: str, hour: int, text: str, **fields: Any) -> dict[str, Any]:
    return row(key, day, hour, text, kind="comment", parent_key=parent, thread_key=P1, **fields)


FILES: dict[tuple[str, str, str], list[dict[str, Any]]] = {
    ("facebook", FB, D1): [
        row(P1, D1, 8, "Välkommen till Ängelholm!\nCafé i parken på lördag.", own=True),
        comment(
            C1,
            P1,
            D1,
            9,
            "Platsbrist på förskolan, jag får ingen plats",
            author_name="Åsa Öberg",
            author_id="u-7",
        ),
        comment(C2, P1, D1, 10, "Far och mor kommer också", author_name="Müller, Jürgen", author_id="u-42"),
        row(P2, D1, 11, "Vattenledningen är avstängd i Strandbaden", own=True),
    ],
    ("facebook", FB, D2): [
        comment(
            C1,
            P1,
            D2,
            9,
            "Löst nu, tack!",
            version=2,
            author_name="Åsa Öberg",
            author_id="u-7",
            edited_at=at(D2, 7),
        ),
        row(
            R1,
            D2,
            12,
            "Vad bra att det löste sig",
            kind="reply",
            parent_key=C1,
            thread_key=P1,
            own=True,
            created_at=at(D2, 12),
            first_seen_at=at(D2, 23),
        ),
    ],
    ("facebook", FB, D3): [
        comment(
            C2,
            P1,
            D3,
            10,
            "Far och mor kommer också",
            version=2,
            author_name="Müller, Jürgen",
            author_id="u-42",
            state="deleted_at_source",
        ),
    ],
    ("instagram", IG, D2): [
        row(IG1, D2, 6, "angelholm sunset 🌅", own=True, created_at=at(D2, 6), first_seen_at=at(D2, 23)),
    ],
    ("x", X, D3): [
        row(X1, D3, 5, "ANGELHOLM i dag", created_at=None, first_seen_at=at(D3, 5)),
    ],
}


@dataclass
class Archive:
    bucket: Bucket
    accounts: AccountsFile
    accounts_file: Path
    env: dict[str, str]

    def find(self, **query: Any) -> list[dict[str, Any]]:
        return search(self.bucket, self.accounts, SearchQuery(**query)).rows

    def keys(self, **query: Any) -> list[tuple[str, int]]:
        return [(hit["item_key"], hit["version"]) for hit in self.find(**query)]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    directory = tmp_path_factory.mktemp("search")
    accounts_file = directory / "accounts.yaml"
    accounts_file.write_text(yaml.safe_dump(ACCOUNTS, allow_unicode=True), encoding="utf-8")
    try:
        start_stack(directory / "stack", retention_days=1, sandbox=False)
        writer = Bucket("social-archive", stack_client("archiver", directory / "stack"))
        for (platform, account, day), rows in FILES.items():
            write_items(
                writer, rows, platform, account, day, f"{account}_{day.replace('-', '')}T230000000000Z"
            )
        reader = Bucket("social-archive", stack_client("registrar", directory / "stack"))
        env = identity_env("registrar", directory / "stack") | {"ARCHIVER_ACCOUNTS_FILE": str(accounts_file)}
        yield Archive(reader, load_accounts(accounts_file), accounts_file, env)
    finally:
        stop_stack(directory / "stack")


# --- folding -----------------------------------------------------------------------------


def test_fold_keeps_swedish_letters_and_folds_other_accents() -> None:
    assert fold("Ängelholm Café Straße") == "ängelholm cafe strasse"
    assert fold("Øresund Æble Citroën ÅSA") == "öresund äble citroen åsa"
    assert fold("a\u030angelholm") == "ångelholm"  # decomposed å, as macOS writes it


@pytest.mark.parametrize(
    ("query", "text", "found"),
    [
        ("angelholm", "Ängelholm", True),
        ("ANGELHOLM", "Ängelholm", True),
        ("Ängelholm", "angelholm", False),
        ("far", "får", True),
        ("får", "far", False),
        ("får", "fär", False),
        ("cafe", "Café", True),
        ("café", "cafe", True),
        ("helsingör", "Helsingør", True),
        ("strasse", "Straße", True),
        ("muller", "Müller", True),
        ("å", "a\u030a", True),
        ("ä", "a\u030a", False),
    ],
)
def test_the_regex_finds_exactly_what_the_folding_rules_say(query: str, text: str, found: bool) -> None:
    matched = pc.match_substring_regex(pa.array([text]), text_pattern(query), ignore_case=True)[0].as_py()
    assert matched is found
    assert folded_match(query, text) is found


def test_regex_and_reference_agree_on_mixed_words() -> None:
    words = [
        "Ängelholm",
        "ångest",
        "Åsa Öberg",
        "Müller",
        "naïve",
        "façade",
        "Øresund",
        "Straße",
        "Œuvre",
        "Zoë",
        "São Paulo",
        "ÄNGEL",
        "angel",
        "Ærø",
        "İstanbul",
        "Łódź",
        "مرحبا",
        "Ελλάδα",
    ]
    queries = [
        "angel",
        "ANG",
        "ång",
        "äng",
        "asa",
        "Åsa",
        "oberg",
        "öberg",
        "muller",
        "naive",
        "facade",
        "oresund",
        "öresund",
        "strasse",
        "oeuvre",
        "zoe",
        "sao",
        "ar",
        "är",
        "istanbul",
        "lodz",
        "مرح",
        "ελλ",
    ]
    array = pa.array(words)
    for query in queries:
        found = pc.match_substring_regex(array, text_pattern(query), ignore_case=True).to_pylist()
        assert found == [folded_match(query, word) for word in words], query


# --- filters and pruning -------------------------------------------------------------------


def test_no_filter_gives_one_row_per_item_its_latest_version_in_time_order(archive: Archive) -> None:
    result = search(archive.bucket, archive.accounts, SearchQuery())
    assert [(hit["item_key"], hit["version"]) for hit in result.rows] == [
        (P1, 1),
        (C1, 2),
        (C2, 2),
        (P2, 1),
        (IG1, 1),
        (R1, 1),
        (X1, 1),
    ]
    assert result.files_read == len(FILES) and not result.truncated
    assert set(result.rows[0]) == set(SEARCH_COLUMNS) and "source_json" not in result.rows[0]


def test_accounts_and_platforms_read_only_their_partitions(archive: Archive) -> None:
    only_ig = search(archive.bucket, archive.accounts, SearchQuery(accounts=(IG,)))
    assert [hit["item_key"] for hit in only_ig.rows] == [IG1] and only_ig.files_read == 1
    only_x = search(archive.bucket, archive.accounts, SearchQuery(platforms=("x",)))
    assert [hit["item_key"] for hit in only_x.rows] == [X1] and only_x.files_read == 1
    both = search(archive.bucket, archive.accounts, SearchQuery(accounts=(FB, IG), platforms=("instagram",)))
    assert both.files_read == 1


def test_day_range_reads_only_those_days_and_filters_versions_recorded_then(archive: Archive) -> None:
    result = search(archive.bucket, archive.accounts, SearchQuery(day_from=D2, day_to=D2))
    assert result.files_read == 2
    assert [(hit["item_key"], hit["version"]) for hit in result.rows] == [(C1, 2), (IG1, 1), (R1, 1)]
    assert archive.keys(day_from=D3) == [(C2, 2), (X1, 1)]


def test_as_of_shows_each_items_latest_version_up_to_that_day(archive: Archive) -> None:
    first = search(archive.bucket, archive.accounts, SearchQuery(accounts=(FB,), as_of=D1))
    assert first.files_read == 1
    texts = {hit["item_key"]: hit["text"] for hit in first.rows}
    assert texts[C1].startswith("Platsbrist") and R1 not in texts
    second = {hit["item_key"]: hit for hit in archive.find(accounts=(FB,), as_of=D2)}
    assert second[C1]["text"] == "Löst nu, tack!" and second[C2]["state"] == "present"
    third = {hit["item_key"]: hit for hit in archive.find(accounts=(FB,), as_of=D3)}
    assert third[C2]["state"] == "deleted_at_source"


def test_text_filters_every_version_but_as_of_only_the_current_one(archive: Archive) -> None:
    assert archive.keys(text="platsbrist") == [(C1, 1)]  # the word is only in version 1
    assert archive.keys(text="platsbrist", as_of=D1) == [(C1, 1)]
    assert archive.keys(text="platsbrist", as_of=D2) == []
    assert archive.keys(text="löst", as_of=D2) == [(C1, 2), (R1, 1)]  # "löste" too
    assert archive.keys(text="löst nu", as_of=D1) == []
    assert archive.keys(text="LOST NU") == [(C1, 2)]


def test_text_folding_against_the_archive(archive: Archive) -> None:
    assert archive.keys(text="Ängelholm") == [(P1, 1)]
    assert archive.keys(text="angelholm") == [(P1, 1), (IG1, 1), (X1, 1)]
    assert archive.keys(text="ANGELHOLM") == archive.keys(text="angelholm")
    assert archive.keys(text="cafe i") == [(P1, 1)] == archive.keys(text="CAFÉ")
    assert archive.keys(text="får") == [(C1, 1)]  # not "Far och mor"
    assert archive.keys(text="far") == [(C1, 1), (C2, 2)]  # "får" too
    assert archive.keys(text="sunset 🌅") == [(IG1, 1)]


def test_kind_record_class_and_author(archive: Archive) -> None:
    assert archive.keys(kinds=("reply",)) == [(R1, 1)]
    assert archive.keys(kinds=("post",), record_classes=("inkommen",)) == [(X1, 1)]
    assert archive.keys(record_classes=("upprattad",)) == [(P1, 1), (P2, 1), (IG1, 1), (R1, 1)]
    assert archive.keys(author="asa oberg") == [(C1, 2)]
    assert archive.keys(author="ÅSA") == [(C1, 2)]
    assert archive.keys(author="muller") == [(C2, 2)]
    assert archive.keys(author="u-42") == [(C2, 2)]  # the exact author id


def test_thread_and_item_keys_read_only_their_account(archive: Archive) -> None:
    thread = search(archive.bucket, archive.accounts, SearchQuery(thread_key=P1))
    assert [hit["item_key"] for hit in thread.rows] == [P1, C1, C2, R1] and thread.files_read == 3
    item = search(archive.bucket, archive.accounts, SearchQuery(item_key=C1, as_of=D1))
    assert [(hit["item_key"], hit["version"]) for hit in item.rows] == [(C1, 1)] and item.files_read == 1
    unknown = search(archive.bucket, archive.accounts, SearchQuery(item_key="facebook:999:1"))
    assert unknown.rows == [] and unknown.files_read == 3  # not configured: every facebook file
    assert search(archive.bucket, archive.accounts, SearchQuery(item_key=C1, accounts=(IG,))).files_read == 0


def test_limit_keeps_the_first_hits_and_says_so(archive: Archive) -> None:
    result = search(archive.bucket, archive.accounts, SearchQuery(limit=2))
    assert [hit["item_key"] for hit in result.rows] == [P1, C1] and result.truncated
    assert not search(archive.bucket, archive.accounts, SearchQuery(limit=7)).truncated


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (SearchQuery(day_from="1/11/2026"), "write it as YYYY-MM-DD"),
        (SearchQuery(day_to="2026-02-30"), "'2026-02-30' is not a day"),
        (SearchQuery(day_from=D3, day_to=D1), "swap them"),
        (SearchQuery(day_from=D2, as_of=D1), "before --from"),
        (SearchQuery(kinds=("tweet",)), "choose from post, comment"),
        (SearchQuery(platforms=("myspace",)), "choose from facebook"),
        (SearchQuery(record_classes=("mottagen",)), "upprättad, inkommen"),
        (SearchQuery(item_key="111_1"), "platform:account_id:native_id"),
        (SearchQuery(text="  "), "--text is empty"),
        (SearchQuery(limit=0), "at least 1"),
    ],
)
def test_bad_queries_say_what_to_fix(archive: Archive, query: SearchQuery, message: str) -> None:
    with pytest.raises(SearchError, match=message.replace("(", r"\(")):
        search(archive.bucket, archive.accounts, query)


def test_an_unknown_account_lists_the_known_ones(archive: Archive) -> None:
    with pytest.raises(ConfigError, match=f"known: {FB}, {IG}, {X}"):
        search(archive.bucket, archive.accounts, SearchQuery(accounts=("helsingborg-fb",)))


# --- the command --------------------------------------------------------------------------


def test_cli_prints_a_table_in_the_archives_time_zone(archive: Archive) -> None:
    result = CliRunner().invoke(app, ["search", "--account", FB, "--text", "angelholm"], env=archive.env)
    assert result.exit_code == 0, result.output
    header, line = result.stdout.splitlines()
    assert header.split()[:3] == ["THREAD", "TIME", "(Europe/Stockholm)"]
    assert line.split("  ")[0] == P1
    assert "2026-11-01 09:00" in line and "Ängelholms kommun" in line and "post" in line
    assert line.endswith("Välkommen till Ängelholm!")
    assert "1 hit(s), 3 items file(s) read" in result.stderr


def test_cli_json_lines_with_iso_times_and_the_limit_note(archive: Archive) -> None:
    result = CliRunner().invoke(app, ["search", "--thread", P1, "--json", "--limit", "2"], env=archive.env)
    assert result.exit_code == 0, result.output
    hits = [json.loads(line) for line in result.stdout.splitlines()]
    assert [hit["item_key"] for hit in hits] == [P1, C1]
    assert hits[0]["created_at"] == "2026-11-01T08:00:00+00:00" and "source_json" not in hits[0]
    assert "limit reached" in result.stderr


def test_cli_bad_input_is_a_message_not_a_traceback(archive: Archive) -> None:
    result = CliRunner().invoke(app, ["search", "--from", "igår"], env=archive.env)
    assert result.exit_code == 1 and "write it as YYYY-MM-DD" in result.stderr
    result = CliRunner().invoke(app, ["search", "--account", "nope"], env=archive.env)
    assert result.exit_code == 1 and "known: kommun-fb" in result.stderr


def test_small_batches_find_the_same(archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    queries = [
        {"text": "angelholm"},
        {"text": "platsbrist", "as_of": D1},
        {"text": "löst", "as_of": D2},
        {"author": "muller"},
        {},
    ]
    expected = [archive.find(**query) for query in queries]
    monkeypatch.setattr("archiver.search.BATCH_FILES", 2)
    assert [archive.find(**query) for query in queries] == expected


# --- review V2: spelling of platforms, long queries, other scripts, odd archives -------------


def test_platforms_are_matched_as_the_bucket_spells_them(archive: Archive) -> None:
    for spelled in ("Instagram", " INSTAGRAM "):
        result = search(archive.bucket, archive.accounts, SearchQuery(platforms=(spelled,)))
        assert [hit["item_key"] for hit in result.rows] == [IG1] and result.files_read == 1
    both = search(archive.bucket, archive.accounts, SearchQuery(accounts=(FB, IG), platforms=("Instagram",)))
    assert [hit["item_key"] for hit in both.rows] == [IG1]


@pytest.mark.parametrize(
    ("query", "text", "found"),
    [
        ("c++", "Jag kan C++", True),
        ("c++", "cc", False),
        ("(hej)", "sa (Hej) du", True),
        ("(hej)", "hej", False),
        ("a.b", "axb", False),
        ("a*", "b", False),
        ("[a]", "[A]", True),
        ("\\d", "5", False),
        ("أحمد", "قال أحمد", True),  # hamza above: a combining mark under NFD
        ("احمد", "قال أحمد", True),
        ("ελλαδα", "Ελλάδα", True),
        ("Дмитрий", "ДМИТРИЙ", True),
        ("한국", "한국어", True),  # Hangul syllables, which NFD splits into jamo
        ("İstanbul", "istanbul", True),
        ("👍🏽", "bra 👍🏽", True),
    ],
)
def test_metacharacters_and_other_scripts(query: str, text: str, found: bool) -> None:
    matched = pc.match_substring_regex(pa.array([text]), text_pattern(query), ignore_case=True)[0].as_py()
    assert matched is found
    assert folded_match(query, text) is found


def test_a_long_query_is_a_clear_error_and_one_within_the_limit_works(archive: Archive) -> None:
    with pytest.raises(SearchError, match="at most 500: a distinctive part"):
        archive.find(text="förskola " * 200)
    with pytest.raises(SearchError, match="--author is 600 characters long"):
        archive.find(author="a" * 600)
    assert archive.keys(text=("Välkommen till Ängelholm " * 20)[:500]) == []


@pytest.fixture(scope="module")
def odd_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Bucket, Bucket, AccountsFile]]:
    """A stack of its own: (writer, reader, accounts), the bucket empty at first."""
    directory = tmp_path_factory.mktemp("search-odd")
    accounts_file = directory / "accounts.yaml"
    accounts_file.write_text(yaml.safe_dump(ACCOUNTS, allow_unicode=True), encoding="utf-8")
    try:
        start_stack(directory / "stack", retention_days=1, sandbox=False)
        writer = Bucket("social-archive", stack_client("archiver", directory / "stack"))
        reader = Bucket("social-archive", stack_client("registrar", directory / "stack"))
        yield writer, reader, load_accounts(accounts_file)
    finally:
        stop_stack(directory / "stack")


def test_an_empty_archive_and_an_older_schema(odd_archive: tuple[Bucket, Bucket, AccountsFile]) -> None:
    writer, reader, accounts = odd_archive
    for query in (SearchQuery(), SearchQuery(text="x", as_of=D1), SearchQuery(thread_key=P1)):
        empty = search(reader, accounts, query)
        assert (empty.rows, empty.files_read, empty.truncated) == ([], 0, False)
    # An items file written before record_class, edited_at and imported existed.
    old = [row(P1, D1, 8, "Gammal text om förskolan", own=True), row(P2, D1, 9, None, own=True)]
    table = pa.Table.from_pylist(old).drop_columns(["record_class", "edited_at", "imported"])
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    writer.put(f"items/platform=facebook/account={FB}/date={D1}/old.parquet", sink.getvalue().to_pybytes())
    hits = search(reader, accounts, SearchQuery(text="forskolan")).rows
    assert [(hit["item_key"], hit["record_class"], hit["imported"]) for hit in hits] == [(P1, None, None)]
    assert set(hits[0]) == set(SEARCH_COLUMNS)
    assert search(reader, accounts, SearchQuery(record_classes=("upprättad",))).rows == []
    assert [hit["item_key"] for hit in search(reader, accounts, SearchQuery(as_of=D1)).rows] == [P1, P2]


def test_without_search_indexes_the_same_files_are_read(archive: Archive) -> None:
    """This archive has no ``catalog/search/`` indexes (never published): both ways read items files."""
    for query in (SearchQuery(), SearchQuery(text="angelholm"), SearchQuery(accounts=(FB,), as_of=D2)):
        indexed = search(archive.bucket, archive.accounts, query)
        plain = search(archive.bucket, archive.accounts, query, indexes=False)
        assert (indexed.rows, indexed.files_read) == (plain.rows, plain.files_read)
