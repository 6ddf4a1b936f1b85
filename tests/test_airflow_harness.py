"""The dag.test() harness, exercised on a toy DAG shaped like ``social_media_archive``.

The toy DAG maps a task group over three accounts; ``bravo``'s first task raises.  It is
run for three consecutive logical dates (across the 2024 Stockholm switch to summer time:
02:00 on 31 March does not exist locally, so that day's tick is 03:00 CEST).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pendulum
import pytest
import yaml

import airflow_harness as harness

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

# The session fixture lives in the harness module; bind it here so pytest finds it.
airflow_home = harness.airflow_home

TOY_DAG = Path(__file__).resolve().parent / "fixtures" / "dags" / "toy_mapped.py"
DAG_ID = "toy_mapped"
STOCKHOLM = pendulum.timezone("Europe/Stockholm")
ACCOUNTS = ["alpha", "bravo", "charlie"]
GOOD = {"alpha": "0", "charlie": "2"}  # account -> map_index
BAD, BAD_INDEX = "bravo", "1"
BAD_MESSAGE = "token expired for bravo: renew it and set TOY_BRAVO_TOKEN"
DAYS = [date(2024, 3, 30), date(2024, 3, 31), date(2024, 4, 1)]
CAPTURE, NORMALISE, SEAL = "per_account.capture", "per_account.normalise", "per_account.seal"


def _tick(day: date) -> pendulum.DateTime:
    """The 02:00 Stockholm schedule tick of ``day`` (pendulum moves 02:00 out of a DST gap)."""
    return pendulum.datetime(day.year, day.month, day.day, 2, tz=STOCKHOLM)


def _toy_env(directory: Path) -> dict[str, str]:
    accounts = directory / "accounts.yaml"
    accounts.write_text(yaml.safe_dump({"accounts": ACCOUNTS, "fail": {BAD: BAD_MESSAGE}}), encoding="utf-8")
    return {
        "TOY_ACCOUNTS_FILE": str(accounts),
        "TOY_MARKER_FILE": str(directory / "markers.jsonl"),
    }


def _markers(env: dict[str, str]) -> list[dict[str, Any]]:
    path = Path(env["TOY_MARKER_FILE"])
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def toy_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return _toy_env(tmp_path_factory.mktemp("toy"))


@pytest.fixture(scope="module")
def toy_runs(airflow_home: harness.AirflowHome, toy_env: dict[str, str]) -> list[harness.DagTestSummary]:
    summaries = harness.run_dag_tests(
        airflow_home,
        TOY_DAG,
        DAG_ID,
        [_tick(day) for day in DAYS],
        run_conf={"tag": "harness-test"},
        extra_env=toy_env,
    )
    print(
        f"\nairflow db migrate: {airflow_home.timings['db_migrate_s']:.1f}s; "
        f"dag.test per date: {[s['seconds'] for s in summaries]}s; "
        f"subprocess for {len(DAYS)} dates: "
        f"{airflow_home.timings['last_dag_test_subprocess_s']:.1f}s"
    )
    return summaries


def test_dag_file_parses_without_import_errors_or_heavy_imports(
    airflow_home: harness.AirflowHome, toy_env: dict[str, str]
) -> None:
    report = harness.inspect_dag_file(airflow_home, TOY_DAG, extra_env=toy_env)
    assert report["import_errors"] == {}
    assert report["dag_ids"] == [DAG_ID]
    # Only the Task SDK, pendulum and PyYAML (all already loaded by Airflow) at top level.
    assert set(report["new_top_level_modules"]) <= {"yaml"}, report["new_top_level_modules"]
    assert report["parse_seconds"] < 5


def test_one_run_per_logical_date_with_conf(toy_runs: list[harness.DagTestSummary]) -> None:
    assert len(toy_runs) == len(DAYS)
    for summary, day in zip(toy_runs, DAYS, strict=True):
        assert summary["dag_id"] == DAG_ID
        assert pendulum.parse(summary["logical_date"] or "") == _tick(day)
        assert summary["conf"] == {"tag": "harness-test"}
        # Airflow's default cron timetable (CronTriggerTimetable): dag.test() gives a
        # zero-length data interval at the logical date.
        assert summary["data_interval_start"] == summary["logical_date"]
        assert summary["data_interval_end"] == summary["logical_date"]


def test_good_branches_succeed_with_the_archived_date(
    toy_runs: list[harness.DagTestSummary], toy_env: dict[str, str]
) -> None:
    for summary in toy_runs:
        for task_id in (CAPTURE, NORMALISE, SEAL):
            for index in GOOD.values():
                assert summary["task_states"][task_id][index] == "success", (task_id, index)
            assert set(summary["task_states"][task_id]) == {"0", "1", "2"}

    markers = _markers(toy_env)
    for day in DAYS:
        for account, index in GOOD.items():
            lines = [m for m in markers if m["account"] == account and m["archived_date"] == str(day)]
            assert [m["task"] for m in lines] == ["capture", "normalise", "seal"], (day, account)
            for line in lines:
                assert line["map_index"] == int(index)
                assert line["tag"] == "harness-test"
                start = pendulum.parse(line["data_interval_start"])
                assert start == _tick(day)
                assert start.in_timezone(STOCKHOLM).date() == day


def test_bad_branch_fails_in_first_task_with_message_and_stops(
    toy_runs: list[harness.DagTestSummary], toy_env: dict[str, str]
) -> None:
    for summary in toy_runs:
        states = summary["task_states"]
        assert states[CAPTURE][BAD_INDEX] == "failed"
        assert states[NORMALISE][BAD_INDEX] == "upstream_failed"
        assert states[SEAL][BAD_INDEX] == "upstream_failed"
        # Only the failed task instance has an error, and it is the exception as raised.
        assert summary["errors"] == {
            CAPTURE: {BAD_INDEX: {"type": "RuntimeError", "message": BAD_MESSAGE, "try_number": 1}}
        }
        assert "TOY_BRAVO_TOKEN" in summary["errors"][CAPTURE][BAD_INDEX]["message"]

    bad_lines = [m for m in _markers(toy_env) if m["account"] == BAD]
    assert [(m["task"], m["archived_date"]) for m in bad_lines] == [("capture", str(day)) for day in DAYS]


def test_run_state_is_failed_when_one_branch_fails(
    toy_runs: list[harness.DagTestSummary],
) -> None:
    # dag.test() does not raise: it runs every runnable task instance, then the run is
    # "failed" because some leaf (seal[1]) ended upstream_failed.
    assert [s["state"] for s in toy_runs] == ["failed"] * len(DAYS)


def test_scheduled_interval_mode_with_data_interval_timetable(
    airflow_home: harness.AirflowHome, tmp_path: Path
) -> None:
    env = _toy_env(tmp_path)
    # Make the toy's cron string a CronDataIntervalTimetable, as unit_test_mode would.
    env["AIRFLOW__SCHEDULER__CREATE_CRON_DATA_INTERVALS"] = "True"
    day = DAYS[-1]
    summary = harness.run_dag_test(
        airflow_home, TOY_DAG, DAG_ID, _tick(day), extra_env=env, interval="scheduled"
    )
    assert pendulum.parse(summary["data_interval_start"] or "") == _tick(day)
    assert pendulum.parse(summary["data_interval_end"] or "") == _tick(date(2024, 4, 2))
    sealed = [m for m in _markers(env) if m["task"] == "seal"]
    assert {m["archived_date"] for m in sealed} == {str(day)}
    assert sorted(m["account"] for m in sealed) == ["alpha", "charlie"]


def test_harness_errors_are_raised_not_reported(airflow_home: harness.AirflowHome) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        harness.run_dag_test(airflow_home, TOY_DAG, DAG_ID, "2024-03-30T02:00:00")
    with pytest.raises(harness.HarnessError, match="'no_such_dag' not found"):
        harness.run_dag_test(airflow_home, TOY_DAG, "no_such_dag", _tick(DAYS[0]))
