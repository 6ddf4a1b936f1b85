"""The daily DAG archives all five platforms: three simulated nights through ``dag.test()``
against one sandbox serving a Facebook Page and the municipality's Instagram, X, YouTube and
LinkedIn accounts (throttling and server errors injected), into a real SeaweedFS.

Each night the archive of every account must hold what its platform showed (the completeness
check of its platform, ``platform_checks.archive_mismatches``), with the kinds, edits, hides,
tombstones and direct messages the platform has, the platform's known gaps and costs in every
manifest, a valid PDF/A diary per account and day, and no token anywhere in the bucket.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest

from archiver.itemstore import read_account_items
from archiver.sandbox.world import World
from archiver.storage import Bucket

from airflow_harness import AirflowHome, run_dag_test
from airflow_harness import airflow_home as airflow_home
from archive_checks import (
    DAILY_DAG_FILE,
    DAILY_DAG_ID,
    FIRST_DAY,
    STOCKHOLM,
    DagWorld,
    daily_dag_world,
    nightly_run_after,
    readable_contents,
)
from platform_checks import archive_mismatches

pytestmark = [pytest.mark.slow, pytest.mark.airflow]
DAYS = 3
STAGES = ("capture", "normalise", "render", "seal")
SEED = 7
"""A world whose three nights hold edits, deletions and (where the platform has them) hides on
every platform; the kinds test names what a seed lacks."""
FAULTS = {"throttle_every": 13, "server_error_every": 19}


@dataclass(frozen=True)
class Expected:
    """What the archive of an account on one platform holds after a few nights."""

    kinds: frozenset[str]
    """Every item kind, and only these (direct messages only where the platform gives them)."""
    hides: bool
    """Whether the platform lets the account hide comments (kept as hidden versions)."""
    gaps: frozenset[str]
    """Gaps every run of the platform reports."""


CONVERSATIONS = frozenset({"post", "comment", "reply", "conversation", "message"})
PUBLIC_ONLY = frozenset({"post", "comment", "reply"})
EXPECTED = {
    "facebook": Expected(CONVERSATIONS, hides=True, gaps=frozenset()),
    "instagram": Expected(CONVERSATIONS, hides=True, gaps=frozenset()),
    # X has no conversation items: its direct messages hang on the conversation id
    "x": Expected(PUBLIC_ONLY | {"message"}, hides=False, gaps=frozenset()),
    "youtube": Expected(PUBLIC_ONLY, hides=True, gaps=frozenset({"direct_messages", "video_files"})),
    "linkedin": Expected(PUBLIC_ONLY, hides=False, gaps=frozenset({"direct_messages"})),
}


@pytest.fixture(scope="module")
def dag_world(airflow_home: AirflowHome, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagWorld]:
    with daily_dag_world(
        airflow_home,
        tmp_path_factory.mktemp("dag-platforms"),
        DAYS,
        seed=SEED,
        accounts=1,
        items_per_day=20,
        faults=FAULTS,
        platforms=("instagram", "x", "youtube", "linkedin"),
    ) as world:
        yield world


def nights() -> list[date]:
    """Return the archived days."""
    return [FIRST_DAY + timedelta(days=offset) for offset in range(DAYS)]


def manifests(bucket: Bucket, day: date) -> dict[str, dict[str, Any]]:
    """Return account name -> manifest of the runs that archived ``day`` (the catalog's left out)."""
    found: dict[str, dict[str, Any]] = {}
    for listed in bucket.list(f"manifests/{day:%Y/%m/%d}/"):
        manifest: dict[str, Any] = json.loads(bucket.get(listed.key))
        if manifest["account"] != "_catalog":
            assert manifest["account"] not in found, f"two runs of {manifest['account']} for {day}"
            found[manifest["account"]] = manifest
    return found


def test_the_world_has_one_account_on_each_platform(dag_world: DagWorld) -> None:
    assert sorted(a.platform for a in dag_world.sandbox.world.accounts) == sorted(EXPECTED)


def test_every_task_of_every_account_succeeds_each_night(dag_world: DagWorld) -> None:
    mapped = {str(index): "success" for index in range(len(dag_world.sandbox.world.accounts))}
    for day, summary in zip(nights(), dag_world.runs, strict=True):
        assert summary["errors"] == {}, day
        assert summary["state"] == "success", day
        assert summary["data_interval_start"] is not None
        assert summary["data_interval_start"].startswith(day.isoformat())
        for stage in STAGES:
            assert summary["task_states"][f"archive_account.{stage}"] == mapped, (day, stage)
        assert summary["task_states"]["list_accounts"] == {"-1": "success"}
        assert summary["task_states"]["publish_catalog"] == {"-1": "success"}


@pytest.mark.parametrize("offset", range(DAYS))
def test_each_night_every_archive_holds_what_its_platform_showed(dag_world: DagWorld, offset: int) -> None:
    day = FIRST_DAY + timedelta(days=offset)
    mismatches = {
        account.name: archive_mismatches(dag_world.bucket, dag_world.sandbox.world, account.name, day)
        for account in dag_world.sandbox.world.accounts
    }
    assert mismatches == {account: [] for account in mismatches}


def shown_changes(world: World, account: str) -> set[str]:
    """Return which changes the platform showed over the nights: ``edited`` (an item's text
    changed), ``hidden`` (an item shown hidden) and ``deleted`` (an item shown, later gone)."""
    truths = [world.truth(account, nightly_run_after(day)) for day in nights()]
    texts: dict[str, set[str | None]] = {}
    for truth in truths:
        for item in truth:
            texts.setdefault(item.native_id, set()).add(item.text)
    shown = [{item.native_id for item in truth} for truth in truths]
    changes = {"edited"} if any(len(versions) > 1 for versions in texts.values()) else set()
    if any(item.hidden for truth in truths for item in truth):
        changes.add("hidden")
    if any(earlier - later for n, earlier in enumerate(shown) for later in shown[n + 1 :]):
        changes.add("deleted")
    return changes


def archived_changes(rows: list[dict[str, Any]]) -> set[str]:
    """Return which changes the archive kept as versions: ``edited`` (an item with more than one
    text), ``hidden`` (a hidden version) and ``deleted`` (a tombstone)."""
    texts: dict[str, set[str | None]] = {}
    for row in rows:
        if row["state"] != "deleted_at_source":
            texts.setdefault(str(row["item_key"]), set()).add(row["text"])
    changes = {"edited"} if any(len(versions) > 1 for versions in texts.values()) else set()
    if any(r["state"] == "hidden" and r["visibility"] == "hidden" for r in rows):
        changes.add("hidden")
    if any(r["state"] == "deleted_at_source" for r in rows):
        changes.add("deleted")
    return changes


@pytest.mark.parametrize("platform", sorted(EXPECTED))
def test_kinds_edits_hides_tombstones_and_messages_where_the_platform_has_them(
    dag_world: DagWorld, platform: str
) -> None:
    expected, world = EXPECTED[platform], dag_world.sandbox.world
    account = next(a for a in world.accounts if a.platform == platform)
    wanted = {"edited", "deleted"} | ({"hidden"} if expected.hides else set())
    assert shown_changes(world, account.name) == wanted, f"seed {SEED} does not show {platform}'s changes"
    rows: list[dict[str, Any]] = read_account_items(dag_world.bucket, platform, account.name).to_pylist()
    assert {str(r["kind"]) for r in rows} == expected.kinds
    assert archived_changes(rows) == wanted
    assert {r["record_class"] for r in rows} == {"upprättad", "inkommen"}
    versions: dict[str, list[int]] = {}
    for row in rows:
        versions.setdefault(str(row["item_key"]), []).append(int(row["version"]))
    assert all(sorted(numbers) == list(range(1, len(numbers) + 1)) for numbers in versions.values())


def test_every_manifest_reports_the_platforms_gaps_and_costs(dag_world: DagWorld) -> None:
    platforms = {a.name: a.platform for a in dag_world.sandbox.world.accounts}
    for day in nights():
        found = manifests(dag_world.bucket, day)
        assert sorted(found) == sorted(platforms), day
        for name, manifest in found.items():
            report, platform = manifest["report"], platforms[name]
            assert manifest["status"] == "complete" and report["platform"] == platform, (name, day)
            assert report["requests"]["requests"] > 0
            gaps = {gap["kind"] for gap in report["gaps"]}
            assert EXPECTED[platform].gaps <= gaps, (name, day, gaps)
            assert ("direct_messages" in gaps) == ("message" not in EXPECTED[platform].kinds)
            assert (report["cost_usd"] > 0) == (platform == "x"), (name, day)
            assert (report["quota_units"] > 0) == (platform == "youtube"), (name, day)


def test_throttling_and_server_errors_were_met_and_survived(dag_world: DagWorld) -> None:
    requests = [m["requests"] for day in nights() for m in manifests(dag_world.bucket, day).values()]
    assert sum(r["throttled"] for r in requests) > 0 and sum(r["server_errors"] for r in requests) > 0


def test_every_diary_the_dag_rendered_is_valid_pdfa(dag_world: DagWorld) -> None:
    from archiver.documents.pdfa import validate
    from archiver.runs import diary_key

    for day in nights():
        for account in dag_world.sandbox.world.accounts:
            pdf = dag_world.bucket.get(diary_key(account.name, day.isoformat()))
            assert validate(pdf) == [], (account.name, day)


def test_no_token_of_any_account_is_stored(dag_world: DagWorld) -> None:
    tokens = [a.token.encode() for a in dag_world.sandbox.world.accounts]
    contents = readable_contents(dag_world.stack.client("auditor"), dag_world.stack.bucket)
    assert [key for key, data in contents if any(token in data for token in tokens)] == []


def test_the_run_reports_are_in_the_airflow_task_logs(dag_world: DagWorld) -> None:
    # one more night, logged at INFO as a deployed Airflow logs its tasks (the harness is quiet)
    day = FIRST_DAY + timedelta(days=DAYS)
    dag_world.sandbox.set_clock(nightly_run_after(day))
    before = set(dag_world.home.log_dir.glob("*.log"))
    summary = run_dag_test(
        dag_world.home,
        DAILY_DAG_FILE,
        DAILY_DAG_ID,
        datetime.combine(day, time(2, 0), tzinfo=STOCKHOLM),
        extra_env={**dag_world.env, "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO"},
        interval="scheduled",
        retries=0,
    )
    assert summary["state"] == "success", summary["errors"]
    logged = "\n".join(
        path.read_text(encoding="utf-8", errors="replace") for path in set(dag_world.home.log_dir.glob("*.log")) - before
    )
    for account in dag_world.sandbox.world.accounts:
        assert f"{account.name} ({account.platform}) {day.isoformat()}: complete" in logged, account.name
    assert "GAP direct_messages: YouTube has no direct messages" in logged
    assert "estimated cost: $" in logged and "quota units used:" in logged
