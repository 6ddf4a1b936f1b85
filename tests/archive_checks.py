"""Checks shared by the end-to-end tests: the archive against the sandbox world's ground truth."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import yaml
from pytest import MonkeyPatch

from archiver.itemstore import latest_versions, read_account_items
from archiver.pipeline import archive_days
from archiver.stack import start_stack, stop_stack
from archiver.storage import Bucket

from airflow_harness import AirflowHome, DagTestSummary, run_dag_test
from conftest import S3Stack, SandboxFactory, SandboxServer

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from archiver.sandbox.world import World

STOCKHOLM = ZoneInfo("Europe/Stockholm")
FIRST_DAY = date(2026, 11, 1)
DAILY_DAG_FILE = Path(__file__).resolve().parent.parent / "dags" / "social_media_archive.py"
DAILY_DAG_ID = "social_media_archive"


def nightly_run_after(day: date) -> datetime:
    """Return 02:00 Stockholm time the night after ``day``: when the daily run sees the world."""
    return datetime.combine(day + timedelta(days=1), time(2, 0), tzinfo=STOCKHOLM)


def write_accounts_file(world: World, base_url: str, path: Path) -> Path:
    """Write the sandbox world's accounts file pointing at ``base_url``; return its path."""
    path.write_text(yaml.safe_dump(world.accounts_file(base_url), allow_unicode=True), encoding="utf-8")
    return path


def archive_env(s3_env: dict[str, str], world: World, accounts_file: Path) -> dict[str, str]:
    """Return the environment a capture needs: S3 identity, tokens, accounts file, quick retries."""
    return {
        **s3_env,
        **world.tokens(),
        "ARCHIVER_ACCOUNTS_FILE": str(accounts_file),
        "ARCHIVER_HTTP_BACKOFF_INITIAL": "0.01",
        "ARCHIVER_HTTP_BACKOFF_MAX": "0.05",
        "ARCHIVER_PACE_MAX_SLEEP": "0",
        "ARCHIVER_FULL_SWEEP_WEEKDAY": "6",  # Sundays: 2026-11-01 and 2026-11-08
    }


@dataclass
class ArchivedSandbox:
    """A sandbox world of one Facebook account archived into a real SeaweedFS for some days."""

    stack: S3Stack
    sandbox: SandboxServer
    accounts_file: Path
    env: dict[str, str]
    """The archiver's environment for this archive (S3 identity, tokens, accounts file)."""
    directory: Path

    @property
    def account(self) -> str:
        """Return the archived account's name."""
        return self.sandbox.world.accounts[0].name


@contextmanager
def archived_sandbox(directory: Path, *, seed: int, items_per_day: int, days: int = 1) -> Iterator[ArchivedSandbox]:
    """Start a stack and a sandbox of one Facebook account in ``directory``, archive ``days`` days
    from FIRST_DAY one night at a time (as the daily run does), and yield them; both are stopped
    by PID afterwards."""
    start_stack(directory / "stack", retention_days=1, sandbox=False)
    sandboxes = SandboxFactory(directory)
    try:
        stack = S3Stack.open(directory / "stack")
        sandbox = sandboxes(seed=seed, accounts=1, items_per_day=items_per_day)
        accounts = write_accounts_file(sandbox.world, sandbox.base_url, directory / "accounts.yaml")
        env = archive_env(stack.env("archiver"), sandbox.world, accounts)
        with MonkeyPatch.context() as patch:
            for name, value in env.items():
                patch.setenv(name, value)
            for offset in range(days):
                day = FIRST_DAY + timedelta(days=offset)
                sandbox.set_clock(nightly_run_after(day))
                outcomes = archive_days(day, 1)
                assert [outcome.status for outcome in outcomes] == ["complete"], outcomes
        yield ArchivedSandbox(stack, sandbox, accounts, env, directory)
    finally:
        sandboxes.stop_all()
        stop_stack(directory / "stack")


def truth_mismatches(bucket: Bucket, world: World, account: str, day: date) -> list[str]:
    """Return every difference between the archive as of ``day`` and what the platform showed
    at the nightly run after it: missing or wrong items, and items gone but not tombstoned."""
    sandbox_account = next(a for a in world.accounts if a.name == account)
    page = sandbox_account.page_id
    latest = latest_versions(read_account_items(bucket, "facebook", account, until_day=day.isoformat()))
    shown = world.truth(account, nightly_run_after(day))
    # posts made after midnight (before the nightly run) belong to the next day's window
    midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=STOCKHOLM)
    next_day = {t.native_id for t in shown if t.kind == "post" and t.created_time >= midnight}
    truth = {f"facebook:{page}:{t.native_id}": t for t in shown if t.thread_id not in next_day}
    problems = []
    for key, expected in truth.items():
        row = latest.get(key)
        if row is None:
            problems.append(f"missing {expected.kind} {key}")
            continue
        wanted = {
            "kind": expected.kind,
            "text": expected.text,
            "author_id": expected.author_id,
            "author_name": expected.author_name,
            "parent_key": f"facebook:{page}:{expected.parent_id}" if expected.parent_id else None,
            "thread_key": f"facebook:{page}:{expected.thread_id}",
            "state": "hidden" if expected.hidden else "present",
        }
        got = {name: row[name] for name in wanted}
        if expected.kind == "conversation":
            wanted.pop("text"), got.pop("text")
        if got != wanted:
            problems.append(f"{key}: archived {got} but the platform shows {wanted}")
    for key, row in latest.items():
        if key not in truth and row["state"] != "deleted_at_source":
            problems.append(f"{key} ({row['kind']}) is gone from the platform but not tombstoned")
    return problems


def all_rows(bucket: Bucket, account: str) -> list[dict[str, Any]]:
    """Return every version row of an account."""
    rows: list[dict[str, Any]] = read_account_items(bucket, "facebook", account).to_pylist()
    return rows


def object_versions(client: S3Client, bucket: str) -> list[tuple[str, str]]:
    """Return (key, version id) of every object version in the bucket."""
    versions = []
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket):
        versions += [(v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
    return sorted(versions)


def readable_contents(client: S3Client, bucket: str) -> Iterator[tuple[str, bytes]]:
    """Yield (key, bytes) of every object version, decompressed where stored compressed
    (WARC files) or encoded (Parquet, read back as JSON), so a search sees what a reader sees."""
    for key, version in object_versions(client, bucket):
        data = client.get_object(Bucket=bucket, Key=key, VersionId=version)["Body"].read()
        if key.endswith(".gz"):
            data = gzip.decompress(data)
        elif key.endswith(".parquet"):
            rows = pq.read_table(io.BytesIO(data)).to_pylist()
            data = json.dumps(rows, default=str, ensure_ascii=False).encode("utf-8")
        yield key, data


@dataclass
class DagWorld:
    """What the daily DAG runs against, and the summaries of the nights run so far."""

    home: AirflowHome
    stack: S3Stack
    sandbox: SandboxServer
    env: dict[str, str]
    runs: list[DagTestSummary]

    @property
    def bucket(self) -> Bucket:
        """The archive bucket, read as the auditor."""
        return Bucket(self.stack.bucket, self.stack.client("auditor"))

    def run_night(self, day: date) -> DagTestSummary:
        """Run the scheduled DAG run that archives ``day``, as the scheduler would at 02:00."""
        self.sandbox.set_clock(nightly_run_after(day))
        logical_date = datetime.combine(day, time(2, 0), tzinfo=STOCKHOLM)
        return run_dag_test(
            self.home,
            DAILY_DAG_FILE,
            DAILY_DAG_ID,
            logical_date,
            extra_env=self.env,
            interval="scheduled",
            retries=0,
        )


@contextmanager
def daily_dag_world(
    home: AirflowHome, directory: Path, nights: int, **sandbox_options: Any
) -> Iterator[DagWorld]:
    """Yield a stack and a sandbox (made with ``sandbox_options``) in ``directory`` after the
    daily DAG archived ``nights`` days from FIRST_DAY on; stop both afterwards."""
    start_stack(directory / "stack", retention_days=1, sandbox=False)
    sandboxes = SandboxFactory(directory)
    try:
        stack = S3Stack.open(directory / "stack")
        sandbox = sandboxes(**sandbox_options)
        accounts = write_accounts_file(sandbox.world, sandbox.base_url, directory / "accounts.yaml")
        env = archive_env(stack.env("archiver"), sandbox.world, accounts)
        world = DagWorld(home, stack, sandbox, env, [])
        for offset in range(nights):
            world.runs.append(world.run_night(FIRST_DAY + timedelta(days=offset)))
        yield world
    finally:
        sandboxes.stop_all()
        stop_stack(directory / "stack")
