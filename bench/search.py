"""Search latency on a big archive, against a full scan of the same data.

Starts its own SeaweedFS on 127.0.0.1 (``archiver.stack.start_stack``, stopped by PID at the
end) and fills it, as the ``archiver`` identity, with an archive of ``--rows`` item rows
(default 1,000,000: 10 accounts x 200 days x 500 rows) written with ``rows_to_parquet`` under
``items/platform=…/account=…/date=…/``: posts, comments and replies with Swedish text, about one
in ten rows a later version (edit) of an earlier item, and a Graph-API-like ``source_json`` of
about 1.5 KB per row. With ``--dir`` the stack and its data stay there and a later run with the
same size reuses them (filling 1M rows takes a few minutes on 2 cores).

Then it builds the monthly search indexes as the nightly catalog would
(:func:`archiver.search_index.write_search_indexes` with the day after the last filled day as
publishing day, so every month but the last is indexed; idempotent on a reused ``--dir``), and,
as the ``registrar`` identity, measures the median latency of :func:`archiver.search.search`
over 5 queries of each kind, with the indexes and without them (``indexes=False``):

* account+day:   one account's items on one archive day;
* account+month: one account's items in one calendar month (a completed one);
* text:          a rare word (a handful of rows), whole archive;
* author:        an author's name written without å/ä/ö, whole archive;

and, in the same run, a full-scan baseline doing what the library did before search existed:
per account :func:`archiver.itemstore.read_account_items` (every file, every column, one after
the other), ``to_pylist`` and a Python filter (``word in text.casefold()``, cheaper than the
search's folding, so the ratio is conservative) plus :func:`archiver.itemstore.latest_versions`
style one-row-per-item. It also times reading every file whole with the search's concurrency,
to show how much comes from reading less. Prints the figures, files read and the ratios; nothing
is asserted.

    .venv/bin/python bench/search.py [--rows 1000000] [--dir DIR] [--quick] [--repeat 1]

``--quick`` fills 10 accounts x 45 days (50,000 rows), so January is a completed month.
"""

from __future__ import annotations

import argparse
import calendar
import io
import json
import random
import statistics
import tempfile
import time as clock
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import yaml

from archiver.config import AccountsFile, load_accounts
from archiver.errors import StorageError
from archiver.items import content_sha256, item_key
from archiver.itemstore import read_account_items, rows_to_parquet
from archiver.runs import items_key
from archiver.search import FETCH_THREADS, SearchQuery, search
from archiver.search_index import INDEX_PREFIX, write_search_indexes
from archiver.stack import stack_client, start_stack, stop_stack
from archiver.storage import Bucket

FIRST_DAY = date(2026, 1, 1)
PLATFORMS = (
    "facebook",
    "facebook",
    "facebook",
    "facebook",
    "instagram",
    "instagram",
    "x",
    "x",
    "youtube",
    "linkedin",
)
FIRST_NAMES = [
    "Åsa",
    "Anna",
    "Björn",
    "Eva",
    "Göran",
    "Håkan",
    "Ingrid",
    "Jörgen",
    "Karin",
    "Lars",
    "Märta",
    "Nils",
    "Örjan",
    "Per",
    "Sören",
    "Ulla",
    "Åke",
    "Agnes",
    "Ali",
    "Fatima",
    "Hassan",
    "Leyla",
    "Mohammed",
    "Amina",
    "Sara",
    "Jonas",
    "Linnéa",
    "Zoë",
    "Emil",
    "Frida",
    "Maja",
    "Oskar",
]
LAST_NAMES = [
    "Andersson",
    "Öberg",
    "Ståhl",
    "Lindqvist",
    "Sjögren",
    "Nyström",
    "Åberg",
    "Hägg",
    "Ekström",
    "Björklund",
    "Mårtensson",
    "Johansson",
    "Karlsson",
    "Persson",
    "Jönsson",
    "Bäckström",
    "Holm",
    "Wiklund",
    "Ahmed",
    "Hussein",
    "Yilmaz",
    "Nguyen",
    "Müller",
]
WORDS = [
    "kommunen",
    "parken",
    "skolan",
    "förskolan",
    "vägen",
    "bussen",
    "biblioteket",
    "badet",
    "stranden",
    "hamnen",
    "centrum",
    "fråga",
    "svar",
    "tack",
    "hej",
    "varför",
    "när",
    "hur",
    "kan",
    "ni",
    "snälla",
    "hjälp",
    "behöver",
    "öppet",
    "stängt",
    "idag",
    "imorgon",
    "helgen",
    "sommar",
    "vinter",
    "snö",
    "regn",
    "trafik",
    "parkering",
    "avgift",
    "soptunna",
    "återvinning",
    "cykel",
    "gata",
    "belysning",
    "lekplats",
    "fotboll",
    "konsert",
    "marknad",
    "torget",
    "ängelholm",
    "helsingborg",
    "kommunfullmäktige",
    "beslut",
    "budget",
    "skatt",
    "bygglov",
    "detaljplan",
    "äldreboende",
    "hemtjänst",
    "vården",
    "skolmat",
    "lärare",
    "elever",
    "barn",
    "föräldrar",
    "bra",
    "dåligt",
    "fantastiskt",
    "synd",
    "äntligen",
    "tyvärr",
    "verkligen",
    "mycket",
    "lite",
    "alla",
    "ingen",
    "och",
    "att",
    "det",
    "som",
    "en",
    "på",
    "är",
    "för",
    "med",
    "till",
    "av",
    "inte",
    "har",
    "jag",
    "om",
    "men",
    "ett",
    "så",
    "vi",
    "de",
    "kan",
]
RARE_WORDS = ("vattenmätarbrunn", "rondellhund", "snöskottningsavtal", "fågelholksbygge", "kvarterskrog")
RARE_COPIES = 3


@dataclass(frozen=True)
class Shape:
    """The archive's size: accounts x days x rows per day file."""

    accounts: int
    days: int
    rows_per_file: int

    @property
    def rows(self) -> int:
        """Return the number of item rows."""
        return self.accounts * self.days * self.rows_per_file


def shape_for(rows: int, quick: bool) -> Shape:
    """Return 10 accounts x 200 days (45 days with --quick) with rows spread evenly."""
    days = 45 if quick else 200
    return Shape(10, days, max(1, rows // (10 * days)))


def accounts_config(shape: Shape) -> dict[str, Any]:
    """Return the accounts file of the bench archive."""
    entries = []
    for number in range(shape.accounts):
        platform = PLATFORMS[number % len(PLATFORMS)]
        entry = {
            "name": f"bench-{number:02d}-{platform}",
            "platform": platform,
            "id": f"{100000 + number}",
            "token_env": f"BENCH_TOKEN_{number}",
        }
        if platform == "instagram":
            entry["api_base"] = "https://graph.instagram.com/v26.0"
        entries.append(entry)
    return {"organisation": "Bänkträsk kommun", "accounts": entries}


def author_names(count: int, rng: random.Random) -> list[str]:
    """Return ``count`` distinct author names."""
    names: set[str] = set()
    while len(names) < count:
        names.add(f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {rng.randrange(1000)}")
    return sorted(names)


def source_json(row: dict[str, Any], rng: random.Random) -> str:
    """Return a Graph-API-like object of about 1.5 KB for ``row``."""
    return json.dumps(
        {
            "id": row["native_id"],
            "message": row["text"],
            "created_time": row["created_at"].isoformat(),
            "from": {"id": row["author_id"], "name": row["author_name"]},
            "permalink_url": row["permalink"],
            "parent": {"id": row["parent_key"]} if row["parent_key"] else None,
            "like_count": rng.randrange(500),
            "comment_count": rng.randrange(50),
            "is_hidden": False,
            "can_hide": True,
            "message_tags": [{"id": str(rng.randrange(10**15)), "offset": 0, "length": 5} for _ in range(3)],
            "reactions": {
                "data": [
                    {"id": str(rng.randrange(10**15)), "type": "LIKE"} for _ in range(rng.randrange(4, 12))
                ],
                "paging": {
                    "cursors": {
                        "before": f"{rng.getrandbits(256):064x}",
                        "after": f"{rng.getrandbits(256):064x}",
                    }
                },
            },
            "attachment": {
                "type": "photo",
                "media": {
                    "image": {
                        "height": 720,
                        "width": 960,
                        "src": f"https://scontent.example/{rng.getrandbits(160):040x}.jpg?oh={rng.getrandbits(128):032x}",
                    }
                },
            },
        },
        ensure_ascii=False,
    )


def day_rows(
    account: dict[str, Any],
    day: date,
    shape: Shape,
    authors: list[str],
    rare: dict[tuple[int, int, int], str],
    previous: list[dict[str, Any]],
    rng: random.Random,
    account_number: int,
    day_number: int,
) -> list[dict[str, Any]]:
    """Return one account's rows recorded on ``day``: new posts, comments, replies and ~10% edits."""
    platform, account_id = account["platform"], account["id"]
    observed = datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC)
    rows: list[dict[str, Any]] = []
    posts: list[str] = []
    for index in range(shape.rows_per_file):
        edit = previous and index % 10 == 9
        if edit:
            base = rng.choice(previous)
            row = dict(base, version=base["version"] + 1, text=base["text"] + " (redigerad)")
        else:
            native = f"{account_id}_{day_number}_{index}"
            key = item_key(platform, account_id, native)
            kind = "post" if not posts or index % 25 == 0 else rng.choice(("comment", "comment", "reply"))
            own = kind == "post" or rng.random() < 0.1
            thread = key if kind == "post" else rng.choice(posts)
            author = account["name"] if own else rng.choice(authors)
            words = rng.choices(WORDS, k=rng.randrange(6, 40))
            word = rare.get((account_number, day_number, index))
            if word:
                words.insert(rng.randrange(len(words)), word)
            row = {
                "item_key": key,
                "platform": platform,
                "account_id": account_id,
                "kind": kind,
                "native_id": native,
                "parent_key": None if kind == "post" else thread,
                "thread_key": thread,
                "author_id": account_id if own else f"u{zlib.crc32(author.encode()) % 10**9}",
                "author_name": author,
                "from_account": own,
                "record_class": "upprättad" if own else "inkommen",
                "text": " ".join(words).capitalize(),
                "attachments": [],
                "permalink": f"https://www.example.com/{native}",
                "created_at": observed - timedelta(hours=rng.randrange(1, 24), minutes=rng.randrange(60)),
                "edited_at": None,
                "visibility": "public",
                "state": "present",
                "version": 1,
                "first_seen_at": observed,
                "imported": False,
            }
            if kind == "post":
                posts.append(key)
        row.update(
            observed_at=observed,
            run_id=f"{account['name']}_{day:%Y%m%d}T010000000000Z",
            raw_ref=f"raw/{platform}/{account['name']}/{day:%Y/%m/%d}/run.warc.gz#<urn:uuid:{rng.getrandbits(128):032x}>",
            raw_sha256=f"{rng.getrandbits(256):064x}",
        )
        row["content_sha256"] = content_sha256(row)
        row["source_json"] = source_json(row, rng)
        rows.append(row)
    return rows


def fill(bucket: Bucket, accounts: dict[str, Any], shape: Shape, authors: list[str]) -> None:
    """Write the bench archive into ``bucket``, one Parquet file per account and day."""
    rng = random.Random(5)
    rare = {}
    for word in RARE_WORDS:
        for _ in range(RARE_COPIES):
            rare[
                (rng.randrange(shape.accounts), rng.randrange(shape.days), rng.randrange(shape.rows_per_file))
            ] = word

    def files() -> Iterator[tuple[str, bytes]]:
        for number, account in enumerate(accounts["accounts"]):
            recent: list[dict[str, Any]] = []
            for day_number in range(shape.days):
                day = FIRST_DAY + timedelta(days=day_number)
                rows = day_rows(account, day, shape, authors, rare, recent, rng, number, day_number)
                recent = [row for row in rows if row["version"] == 1][-200:]
                run = f"{account['name']}_{day:%Y%m%d}T010000000000Z"
                yield (
                    items_key(account["platform"], account["name"], day.isoformat(), run),
                    rows_to_parquet(rows),
                )

    started = clock.perf_counter()
    pending = files()
    written = 0
    with ThreadPoolExecutor(4) as pool:
        while chunk := list(islice(pending, 40)):  # a few at a time: Executor.map submits all at once
            written += len(list(pool.map(lambda item: bucket.put(item[0], item[1]), chunk)))
            if written % 200 == 0:
                print(f"  filled {written} files, {clock.perf_counter() - started:.0f} s", flush=True)


def wait_until_readable(bucket: Bucket, seconds: float = 60) -> None:
    """Wait until an items file can be read: a restarted SeaweedFS answers S3 before its volumes
    are loaded (InternalError on GET for a few seconds)."""
    first = next(iter(bucket.list("items/")), None)
    deadline = clock.monotonic() + seconds
    while first is not None:
        try:
            bucket.get(first.key)
            return
        except StorageError:
            if clock.monotonic() > deadline:
                raise
            clock.sleep(0.5)


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    """Return the wall time of ``work()`` and its result."""
    started = clock.perf_counter()
    result = work()
    return clock.perf_counter() - started, result


def full_scan_text(bucket: Bucket, accounts: AccountsFile, word: str) -> int:
    """Return hits of ``word`` found the old way: read every file whole, filter rows in Python."""
    hits: dict[str, dict[str, Any]] = {}
    for account in accounts.accounts:
        for row in read_account_items(bucket, account.platform, account.name).to_pylist():
            if word in (row["text"] or "").casefold():
                current = hits.get(row["item_key"])
                if current is None or row["version"] > current["version"]:
                    hits[row["item_key"]] = row
    return len(hits)


def read_everything(bucket: Bucket) -> int:
    """Read every items file whole (every column) with the search's concurrency; return the rows."""
    keys = [entry.key for entry in bucket.list("items/")]
    with ThreadPoolExecutor(FETCH_THREADS) as pool:
        return sum(pool.map(lambda key: pq.read_table(io.BytesIO(bucket.get(key))).num_rows, keys))


def build_indexes(bucket: Bucket, shape: Shape) -> None:
    """Build the search indexes as the nightly catalog the day after the last filled day would;
    print the time, the indexes and their size."""
    publishing = FIRST_DAY + timedelta(days=shape.days)
    seconds, written = timed(lambda: write_search_indexes(bucket, publishing.isoformat()))
    indexes = list(bucket.list(INDEX_PREFIX))
    print(
        f"search indexes (publishing day {publishing}): {len(written)} built in {seconds:.1f} s; "
        f"{len(indexes)} in the bucket, {sum(e.size for e in indexes) / 1e6:,.0f} MB"
    )


def measure(
    bucket: Bucket,
    accounts: AccountsFile,
    name: str,
    queries: list[SearchQuery],
    repeat: int,
    indexes: bool = True,
) -> tuple[float, list[list[dict[str, Any]]]]:
    """Run each query ``repeat`` times; print and return the median latency and each query's hits."""
    times, files, hits, found = [], [], [], []
    for query in queries:
        for number in range(repeat):
            seconds, result = timed(lambda query=query: search(bucket, accounts, query, indexes=indexes))
            times.append(seconds)
            files.append(result.files_read)
            hits.append(len(result.rows))
            if number == 0:
                found.append(result.rows)
    median = statistics.median(times)
    label = f"{name} ({'indexes' if indexes else 'no index'})"
    print(
        f"{label:<26} median {median * 1000:8.1f} ms  (min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f}; "
        f"{len(times)} runs)  files read {statistics.median(files):.0f}  hits {min(hits)}-{max(hits)}"
    )
    return median, found


def main() -> None:
    """Build or reuse the archive, then print search latencies, the full scan and their ratios."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows", type=int, default=None, help="item rows (default 1,000,000; 50,000 with --quick)"
    )
    parser.add_argument("--dir", type=Path, default=None, help="keep and reuse the stack and archive here")
    parser.add_argument("--quick", action="store_true", help="a small archive for a smoke run")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each of the 5 queries per kind")
    args = parser.parse_args()
    shape = shape_for(args.rows or (50_000 if args.quick else 1_000_000), args.quick)
    with tempfile.TemporaryDirectory(prefix="bench-search-") as scratch:
        directory = args.dir or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        run(directory, shape, args.repeat)


def run(directory: Path, shape: Shape, repeat: int) -> None:
    """Start the stack in ``directory``, fill it unless it holds this shape already, measure, stop."""
    stack_dir = directory / "stack"
    marker = directory / "bench-archive.json"
    config = accounts_config(shape)
    accounts_file = directory / "accounts.yaml"
    accounts_file.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    authors = author_names(5000, random.Random(3))
    start_stack(stack_dir, retention_days=1, sandbox=False)
    try:
        if not marker.exists() or json.loads(marker.read_text()) != shape.__dict__:
            print(
                f"filling {shape.rows:,} rows ({shape.accounts} accounts x {shape.days} days x {shape.rows_per_file})"
            )
            seconds, _ = timed(
                lambda: fill(
                    Bucket("social-archive", stack_client("archiver", stack_dir)), config, shape, authors
                )
            )
            marker.write_text(json.dumps(shape.__dict__))
            print(f"filled in {seconds:.0f} s")
        wait_until_readable(Bucket("social-archive", stack_client("archiver", stack_dir)))
        build_indexes(Bucket("social-archive", stack_client("archiver", stack_dir)), shape)
        bucket = Bucket("social-archive", stack_client("registrar", stack_dir))
        accounts = load_accounts(accounts_file)
        report(bucket, accounts, shape, authors, repeat)
    finally:
        stop_stack(stack_dir)


def report(bucket: Bucket, accounts: AccountsFile, shape: Shape, authors: list[str], repeat: int) -> None:
    """Print the latencies of each kind of search with and without indexes, of the full scans,
    and the ratios."""
    rng = random.Random(9)
    size = sum(entry.size for entry in bucket.list("items/"))
    print(f"archive: {shape.rows:,} item rows in {shape.accounts * shape.days:,} files, {size / 1e6:,.0f} MB")
    names = [account.name for account in accounts.accounts]
    by_day = [
        SearchQuery(
            accounts=(rng.choice(names),),
            day_from=(day := (FIRST_DAY + timedelta(days=rng.randrange(shape.days))).isoformat()),
            day_to=day,
        )
        for _ in range(5)
    ]
    completed = sorted({(FIRST_DAY + timedelta(days=n)).isoformat()[:7] for n in range(shape.days)})[:-1]
    by_month = [
        SearchQuery(
            accounts=(rng.choice(names),),
            day_from=f"{(month := rng.choice(completed or ['2026-01']))}-01",
            day_to=f"{month}-{calendar.monthrange(int(month[:4]), int(month[5:]))[1]}",
        )
        for _ in range(5)
    ]
    by_text = [SearchQuery(text=word) for word in RARE_WORDS]
    by_author = [
        SearchQuery(author=name.translate(str.maketrans("åäöÅÄÖ", "aaoAAO")))
        for name in rng.sample(authors, 5)
    ]
    medians: dict[str, tuple[float, float]] = {}
    for name, queries in (
        ("account+day", by_day),
        ("account+month", by_month),
        ("text", by_text),
        ("author", by_author),
    ):
        with_index, hits = measure(bucket, accounts, name, queries, repeat, indexes=True)
        without, plain = measure(bucket, accounts, name, queries, repeat, indexes=False)
        medians[name] = (with_index, without)
        if hits != plain:
            print(f"  MISMATCH: {name} finds different rows with and without indexes")
    read_s, rows = timed(lambda: read_everything(bucket))
    print(
        f"{'read all':<26} {read_s * 1000:15.1f} ms  every items file whole, {FETCH_THREADS} threads ({rows:,} rows)"
    )
    scan_s, hits = timed(lambda: full_scan_text(bucket, accounts, RARE_WORDS[0]))
    found = len(search(bucket, accounts, SearchQuery(text=RARE_WORDS[0])).rows)
    print(
        f"{'full scan':<26} {scan_s * 1000:15.1f} ms  read_account_items + Python filter ({hits} hits for "
        f"{RARE_WORDS[0]!r}; search finds {found}{'' if found == hits else ': MISMATCH'})"
    )
    for name, (with_index, without) in medians.items():
        print(
            f"ratio full scan / search, {name:<13}: with indexes {scan_s / with_index:8,.1f} x, "
            f"without {scan_s / without:8,.1f} x  (indexes {without / with_index:.1f} x faster)"
        )


if __name__ == "__main__":
    main()
