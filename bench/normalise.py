"""Normalise throughput: items per second from a large sandbox day's raw pages to Parquet.

Captures one busy simulated day from the sandbox (over real HTTP on 127.0.0.1) into a WARC
file in memory, then measures, on the same pages and in the same run:

* archiver: the WARC file -> observations -> versioned rows -> Parquet bytes, with the very
  functions the normalise stage uses (minus the bucket);
* ceiling:  pyarrow's own JSON reader (pages as JSON lines) -> Parquet bytes.

Prints both rates and their ratio (archiver / ceiling). Nothing is asserted.

    .venv/bin/python bench/normalise.py [--items-per-day 5000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import statistics
import threading
import time as clock
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from archiver.config import Account, Settings
from archiver.connectors import get_connector
from archiver.http import ApiClient
from archiver.itemstore import rows_to_parquet
from archiver.memory import gc_paused
from archiver.normalise import rows_from_warc
from archiver.runs import RunRecord, capture_window, run_id, window_to_dict
from archiver.sandbox.server import make_server
from archiver.sandbox.world import World, WorldConfig
from archiver.warc import Redactor, WarcRecorder, read_exchanges

FIRST_DAY = date(2026, 11, 1)


def capture_day(items_per_day: int, days: int) -> tuple[bytes, RunRecord]:
    """Capture one account's busiest simulated day over HTTP; return its WARC bytes and run record."""
    world = World(WorldConfig(seed=11, accounts=1, items_per_day=items_per_day, start_date=FIRST_DAY))
    server = make_server(world, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    root = f"http://127.0.0.1:{server.server_address[1]}"
    day = FIRST_DAY + timedelta(days=days - 1)
    clock = datetime.combine(day + timedelta(days=1), time(2, 0), tzinfo=ZoneInfo("Europe/Stockholm"))
    httpx.post(f"{root}/_sandbox/clock", json={"now": clock.isoformat()}).raise_for_status()
    sandbox_account = world.accounts[0]
    account = Account(
        name=sandbox_account.name,
        platform="facebook",
        id=sandbox_account.page_id,
        token_env=sandbox_account.token_env,
        api_base=f"{root}/v26.0",
    )
    settings = Settings(full_sweep_weekday=-1, pace_threshold=100)
    window = capture_window(day, settings)
    started = datetime.now(UTC)
    run = RunRecord(
        run_id=run_id(account, started), account=account.name, platform="facebook", account_id=account.id,
        day=day.isoformat(), status="captured", warc_key="bench.warc.gz", window=window_to_dict(window),
        started_at=started.isoformat(),
    )  # fmt: skip
    info = {"run_id": run["run_id"], "window": run["window"], "started_at": run["started_at"]}
    recorder = WarcRecorder(Redactor([sandbox_account.token]), info)
    client = ApiClient(settings, recorder, sandbox_account.token, account.token_env, account.name)
    get_connector("facebook").capture(client, account, window, settings)
    client.close()
    server.shutdown()
    return recorder.getvalue(), run


def archiver_normalise(warc: bytes, run: RunRecord) -> int:
    """Normalise a WARC to Parquet bytes with the pipeline's own functions; return the row count."""
    with gc_paused():
        _, rows = rows_from_warc(warc, run, {})
    rows_to_parquet(rows)
    return len(rows)


def api_pages(warc: bytes) -> list[bytes]:
    """Return the JSON bodies of the API responses in a WARC file."""
    return [e.body for e in read_exchanges(warc) if e.kind == "api"]


def pyarrow_ceiling(pages: list[bytes]) -> int:
    """Read the same pages with pyarrow's JSON reader and write Parquet; return the page count."""
    lines = b"\n".join(pages)
    table = pa_json.read_json(io.BytesIO(lines))
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return table.num_rows


def median_time(repeat: int, work: Callable[[], int]) -> float:
    """Return the median wall time in seconds of ``repeat`` calls of ``work``."""
    times = []
    for _ in range(repeat):
        started = clock.perf_counter()
        work()
        times.append(clock.perf_counter() - started)
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
    warc, run = capture_day(args.items_per_day, args.days)
    pages = api_pages(warc)
    items = archiver_normalise(warc, run)
    ours = median_time(args.repeat, lambda: archiver_normalise(warc, run))
    ceiling = median_time(args.repeat, lambda: pyarrow_ceiling(pages))
    print(f"pages: {len(pages)}  bytes: {sum(map(len, pages)):,}  items: {items:,}  day: {run['day']}")
    print(f"archiver normalise:          {ours:8.3f} s  {items / ours:12,.0f} items/s")
    print(f"pyarrow JSON reader+Parquet: {ceiling:8.3f} s  {items / ceiling:12,.0f} items/s")
    print(f"ratio archiver/ceiling:      {ceiling / ours:8.2f}")


if __name__ == "__main__":
    main()
