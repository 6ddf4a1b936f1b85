"""Normalise throughput: items per second from a large sandbox day's raw pages to Parquet.

Captures one busy simulated day from the sandbox (over real HTTP on 127.0.0.1) into a WARC
file in memory, then measures, on the same pages and in the same run:

* archiver: WARC responses -> observations -> versioned rows -> Arrow table -> Parquet bytes;
* ceiling:  pyarrow's own JSON reader (pages as JSON lines) -> Parquet bytes.

Prints both rates and their ratio (archiver / ceiling). Nothing is asserted.

    .venv/bin/python bench/normalise.py [--items-per-day 5000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import statistics
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from archiver.config import Account, Settings
from archiver.connectors import get_connector
from archiver.http import ApiClient
from archiver.items import ITEM_SCHEMA
from archiver.itemstore import table_to_parquet
from archiver.normalise import parse_exchanges
from archiver.runs import capture_window
from archiver.sandbox.server import make_server
from archiver.sandbox.world import World, WorldConfig
from archiver.versions import RunContext, new_versions
from archiver.warc import Exchange, Redactor, WarcRecorder, read_exchanges


def capture_day(items_per_day: int, days: int) -> tuple[list[Exchange], str]:
    """Return the recorded API exchanges of one account's day after ``days`` simulated days."""
    world = World(WorldConfig(seed=11, accounts=1, items_per_day=items_per_day, start_date=date(2026, 11, 1)))
    server = make_server(world, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    day = date(2026, 11, 1) + timedelta(days=days - 1)
    clock = datetime(day.year, day.month, day.day, 23, 59, tzinfo=ZoneInfo("Europe/Stockholm"))
    import httpx

    httpx.post(f"http://127.0.0.1:{port}/_sandbox/clock", json={"now": clock.isoformat()}).raise_for_status()
    sandbox_account = world.accounts[0]
    account = Account(
        name=sandbox_account.name,
        platform="facebook",
        id=sandbox_account.page_id,
        token_env=sandbox_account.token_env,
        api_base=f"http://127.0.0.1:{port}/v26.0",
    )
    settings = Settings(full_sweep_weekday=-1, pace_threshold=100)
    recorder = WarcRecorder(Redactor([sandbox_account.token]), {"bench": True})
    client = ApiClient(settings, recorder, sandbox_account.token, account.token_env, account.name)
    get_connector("facebook").capture(client, account, capture_window(day, settings), settings)
    client.close()
    server.shutdown()
    exchanges = [
        e for e in read_exchanges(recorder.getvalue()) if e.content_type.startswith("application/json")
    ]
    return exchanges, sandbox_account.page_id


def archiver_normalise(exchanges: list[Exchange], account_id: str) -> int:
    """Normalise the exchanges to Parquet bytes as the pipeline does; return the row count."""
    parsed = parse_exchanges(get_connector("facebook"), iter(exchanges), account_id, "bench.warc.gz")
    now = datetime.now(UTC)
    context = RunContext("bench", now, capture_window(date(2026, 11, 1), Settings()), "bench.warc.gz")
    rows = new_versions(parsed.observations.values(), {}, context)
    table = pa.Table.from_pylist(rows, schema=ITEM_SCHEMA)
    table_to_parquet(table)
    return table.num_rows


def pyarrow_ceiling(exchanges: list[Exchange]) -> int:
    """Read the same pages with pyarrow's JSON reader and write Parquet; return the page count."""
    lines = b"\n".join(exchange.body for exchange in exchanges)
    table = pa_json.read_json(io.BytesIO(lines))
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return table.num_rows


def best_of(repeat: int, work: Callable[[], int]) -> float:
    """Return the median wall time in seconds of ``repeat`` calls of ``work``."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    """Print items per second for the archiver and for the pyarrow ceiling, and their ratio."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items-per-day", type=int, default=5000)
    parser.add_argument("--days", type=int, default=3, help="simulated days before the measured one")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    exchanges, account_id = capture_day(args.items_per_day, args.days)
    items = archiver_normalise(exchanges, account_id)
    size = sum(len(exchange.body) for exchange in exchanges)
    ours = best_of(args.repeat, lambda: archiver_normalise(exchanges, account_id))
    ceiling = best_of(args.repeat, lambda: pyarrow_ceiling(exchanges))
    print(f"pages: {len(exchanges)}  bytes: {size:,}  items: {items:,}")
    print(f"archiver normalise:          {ours:8.3f} s  {items / ours:12,.0f} items/s")
    print(f"pyarrow JSON reader+Parquet: {ceiling:8.3f} s  {items / ceiling:12,.0f} items/s")
    print(f"ratio archiver/ceiling:      {ceiling / ours:8.2f}")


if __name__ == "__main__":
    main()
