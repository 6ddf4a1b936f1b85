"""Verify throughput: objects and bytes per second for a full ``archiver verify``, against just
reading the same object versions without checking anything.

Starts its own SeaweedFS (in a temporary directory, on 127.0.0.1) and an in-process sandbox,
archives a few simulated days of several accounts with the pipeline, then measures, as the
read-only auditor:

* verify:   :func:`archiver.verify.verify_archive` over the whole archive (every check, the
  secrets scan with the accounts' tokens);
* reading:  the same listing plus a GET of every version it read, with the same concurrency,
  discarding the bytes.

Prints both rates and the ratio verify/reading (1.0 would mean checking is free). Nothing is
asserted.

    .venv/bin/python bench/verify.py [--accounts 3] [--days 5] [--items-per-day 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time as clock
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import yaml

from archiver.pipeline import archive_day
from archiver.sandbox.server import make_server
from archiver.sandbox.world import World, WorldConfig
from archiver.stack import identity_env, stack_client, start_stack, stop_stack
from archiver.storage import Bucket
from archiver.verify import Report, Scope, Secret, verify_archive
from archiver.verify.inventory import load_inventory, read_versions

FIRST_DAY = date(2026, 11, 1)
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def fill_archive(stack_dir: Path, accounts: int, days: int, items_per_day: int) -> World:
    """Archive ``days`` simulated days of ``accounts`` accounts into the stack; return the world."""
    world = World(WorldConfig(seed=17, accounts=accounts, items_per_day=items_per_day, start_date=FIRST_DAY))
    server = make_server(world, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    root = f"http://127.0.0.1:{server.server_address[1]}"
    accounts_file = stack_dir / "bench-accounts.yaml"
    accounts_file.write_text(yaml.safe_dump(world.accounts_file(f"{root}/v26.0")), encoding="utf-8")
    os.environ.update(identity_env("archiver", stack_dir))
    os.environ.update(world.tokens())
    os.environ.update(
        ARCHIVER_ACCOUNTS_FILE=str(accounts_file),
        ARCHIVER_PACE_MAX_SLEEP="0",
        ARCHIVER_FULL_SWEEP_WEEKDAY="-1",
    )
    for offset in range(days):
        day = FIRST_DAY + timedelta(days=offset)
        night = datetime.combine(day + timedelta(days=1), time(2, 0), tzinfo=STOCKHOLM)
        httpx.post(f"{root}/_sandbox/clock", json={"now": night.isoformat()}).raise_for_status()
        failed = [o for o in archive_day(day) if o.status != "complete"]
        if failed:
            raise SystemExit(f"archiving {day} failed: {failed}")
    server.shutdown()
    return world


def read_only(bucket: Bucket) -> tuple[int, int]:
    """List every version and GET each stored one under the archive prefixes; return (versions, bytes)."""
    inventory = load_inventory(bucket)
    versions = [
        version
        for key, listed in inventory.versions.items()
        if not key.startswith("audits/")
        for version in listed
        if not version.delete_marker
    ]
    size = sum(len(read.data) for read in read_versions(bucket, versions))
    return len(versions), size


def timed(repeat: int, work: Callable[[], object]) -> tuple[float, object]:
    """Return the median wall time of ``repeat`` calls of ``work`` and the last result."""
    times, result = [], None
    for _ in range(repeat):
        started = clock.perf_counter()
        result = work()
        times.append(clock.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    """Print objects/s and bytes/s of a full verify and of reading alone, and their ratio."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=3)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--items-per-day", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as directory:
        stack_dir = Path(directory) / "stack"
        start_stack(stack_dir, retention_days=1, sandbox=False)
        try:
            started = clock.perf_counter()
            world = fill_archive(stack_dir, args.accounts, args.days, args.items_per_day)
            filled = clock.perf_counter() - started
            bucket = Bucket("social-archive", stack_client("auditor", stack_dir))
            secrets = [Secret(f"token of {a.name}", a.token) for a in world.accounts]
            verify_s, report = timed(args.repeat, lambda: verify_archive(bucket, Scope(), secrets))
            read_s, (versions, size) = timed(args.repeat, lambda: read_only(bucket))  # type: ignore[misc]
        finally:
            stop_stack(stack_dir)
    assert isinstance(report, Report)
    checked, read_bytes = report.counts["versions_read"], report.counts["bytes_read"]
    print(
        f"archive: {args.accounts} accounts x {args.days} days, {args.items_per_day} items/day "
        f"(filled in {filled:.1f} s); {report.counts.get('manifests', 0)} manifests, "
        f"{report.counts.get('items_rows', 0):,} items rows, findings: {len(report.findings)}"
    )
    print(
        f"full verify:        {verify_s:7.3f} s  {checked / verify_s:9,.0f} objects/s  "
        f"{read_bytes / verify_s / 1e6:8.1f} MB/s  ({checked} versions, {read_bytes:,} bytes)"
    )
    print(
        f"reading only:       {read_s:7.3f} s  {versions / read_s:9,.0f} objects/s  "
        f"{size / read_s / 1e6:8.1f} MB/s  ({versions} versions, {size:,} bytes)"
    )
    print(f"ratio verify/read:  {verify_s / read_s:7.2f} x the time of reading alone")


if __name__ == "__main__":
    main()
