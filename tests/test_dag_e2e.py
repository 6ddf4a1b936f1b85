"""The daily DAG through ``dag.test()``: three simulated nights against the sandbox and SeaweedFS.

Each night the sandbox's clock is moved to 02:00 Stockholm after the archived day and the
scheduled run for that day runs on a SQLite metadata DB (see ``tests/airflow_harness.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from archiver.storage import Bucket

from airflow_harness import AirflowHome
from airflow_harness import airflow_home as airflow_home
from archive_checks import (
    FIRST_DAY,
    DagWorld,
    daily_dag_world,
    object_versions,
    readable_contents,
    truth_mismatches,
)

pytestmark = [pytest.mark.slow, pytest.mark.airflow]
DAYS = 3


@pytest.fixture(scope="module")
def dag_world(airflow_home: AirflowHome, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagWorld]:
    with daily_dag_world(
        airflow_home,
        tmp_path_factory.mktemp("dag-e2e"),
        DAYS,
        seed=9,
        accounts=2,
        items_per_day=20,
        faults={"throttle_every": 11, "server_error_every": 17},
    ) as world:
        yield world


def test_three_nights_run_every_task_of_every_account(dag_world: DagWorld) -> None:
    for offset, summary in enumerate(dag_world.runs):
        assert summary["state"] == "success", summary["errors"]
        assert summary["data_interval_start"] is not None
        assert summary["data_interval_start"].startswith((FIRST_DAY + timedelta(days=offset)).isoformat())
        for task in ("archive_account.capture", "archive_account.normalise", "archive_account.seal"):
            assert summary["task_states"][task] == {"0": "success", "1": "success"}


def test_the_archive_holds_what_the_platform_showed_each_night(dag_world: DagWorld) -> None:
    bucket = Bucket(dag_world.stack.bucket, dag_world.stack.client("auditor"))
    for offset in range(DAYS):
        day = FIRST_DAY + timedelta(days=offset)
        for account in dag_world.sandbox.world.accounts:
            assert truth_mismatches(bucket, dag_world.sandbox.world, account.name, day) == []


def test_no_token_is_stored(dag_world: DagWorld) -> None:
    tokens = [a.token.encode() for a in dag_world.sandbox.world.accounts]
    contents = readable_contents(dag_world.stack.client("auditor"), dag_world.stack.bucket)
    assert [key for key, data in contents if any(token in data for token in tokens)] == []


def test_every_diary_the_dag_rendered_is_valid_pdfa(dag_world: DagWorld) -> None:
    from archiver.documents.pdfa import validate
    from archiver.runs import diary_key

    bucket = Bucket(dag_world.stack.bucket, dag_world.stack.client("auditor"))
    for summary in dag_world.runs:
        assert summary["task_states"]["archive_account.render"] == {"0": "success", "1": "success"}
    for offset in range(DAYS):
        day = (FIRST_DAY + timedelta(days=offset)).isoformat()
        for account in dag_world.sandbox.world.accounts:
            assert validate(bucket.get(diary_key(account.name, day))) == [], (account.name, day)


def test_running_a_night_again_writes_nothing(dag_world: DagWorld) -> None:
    client = dag_world.stack.client("auditor")
    before = object_versions(client, dag_world.stack.bucket)
    summary = dag_world.run_night(FIRST_DAY + timedelta(days=DAYS - 1))
    assert summary["state"] == "success"
    assert object_versions(client, dag_world.stack.bucket) == before


def test_an_expired_token_fails_only_its_account_with_a_message_naming_the_token(dag_world: DagWorld) -> None:
    good, expired = dag_world.sandbox.world.accounts
    dag_world.sandbox.set_faults({"expired_tokens": [expired.token]})
    try:
        summary = dag_world.run_night(FIRST_DAY + timedelta(days=DAYS))
    finally:
        dag_world.sandbox.set_faults({})
    assert summary["task_states"]["archive_account.capture"] == {"0": "success", "1": "failed"}
    assert summary["task_states"]["archive_account.seal"] == {"0": "success", "1": "upstream_failed"}
    message = summary["errors"]["archive_account.capture"]["1"]["message"]
    assert expired.token_env in message and "renew" in message
    assert expired.token not in message
    assert good.token_env not in message
