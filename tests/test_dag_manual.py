"""Manual runs of the daily DAG: in Airflow 3 a manual run may have no logical date and no data
interval (AIP-83); the ``day`` param then names the day to archive, and without it the run fails
saying how to trigger it.

Airflow runs only in subprocesses (see ``tests/airflow_harness.py``): the first test imports the
DAG file there and asks ``_archive_day`` about run contexts; the second runs the DAG through
``dag.test(logical_date=None, run_conf={"day": ...})`` against SeaweedFS and the sandbox.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from archiver.stack import start_stack, stop_stack
from archiver.storage import Bucket

from airflow_harness import AirflowHome, prepare_airflow_home
from airflow_harness import airflow_home as airflow_home
from archive_checks import (
    DAILY_DAG_FILE,
    DAILY_DAG_ID,
    FIRST_DAY,
    archive_env,
    nightly_run_after,
    write_accounts_file,
)
from conftest import S3Stack, SandboxFactory

pytestmark = pytest.mark.airflow

ASK_ARCHIVE_DAY = """
import importlib.util, json, sys
import pendulum

spec = importlib.util.spec_from_file_location("daily_dag", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
interval_start = pendulum.datetime(2026, 11, 4, 1, 0, tz="UTC")  # 02:00 in Stockholm
contexts = {
    "manual without interval, with day": {"params": {"day": "2026-11-05"}},
    "manual without interval or day": {"params": {"day": None}},
    "manual without params at all": {},
    "scheduled": {"params": {"day": None}, "data_interval_start": interval_start, "logical_date": interval_start},
    "day overrides the interval": {"params": {"day": "2026-11-02"}, "data_interval_start": interval_start},
    "day not a date": {"params": {"day": "5 Nov"}},
}
answers = {}
for name, context in contexts.items():
    try:
        answers[name] = module._archive_day(context)
    except Exception as error:
        answers[name] = f"{type(error).__name__}: {error}"
print(json.dumps(answers))
"""

RUN_MANUALLY = """
import json, os, sys
from airflow.dag_processing.dagbag import DagBag
from airflow.models.taskinstance import TaskInstance
from airflow.utils.session import create_session
from sqlalchemy import select

dag = DagBag(dag_folder=sys.argv[1], safe_mode=False).dags[sys.argv[2]]
for task in dag.task_dict.values():
    task.retries = 0
runs = []
for conf in json.loads(sys.argv[3]):
    run = dag.test(logical_date=None, run_conf=conf or None)
    with create_session() as session:
        tis = session.scalars(
            select(TaskInstance).where(TaskInstance.dag_id == run.dag_id, TaskInstance.run_id == run.run_id)
        ).all()
        states = {f"{ti.task_id}[{ti.map_index}]": str(getattr(ti.state, "value", ti.state)) for ti in tis}
    runs.append({"state": str(getattr(run.state, "value", run.state)), "logical_date": run.logical_date and
                 run.logical_date.isoformat(), "data_interval_start": run.data_interval_start and
                 run.data_interval_start.isoformat(), "tasks": states})
with open(sys.argv[4], "w", encoding="utf-8") as out:
    json.dump(runs, out)
sys.stdout.flush()
os._exit(0)
"""


def test_the_archive_day_comes_from_the_day_param_when_a_manual_run_has_no_interval(tmp_path: Path) -> None:
    home = prepare_airflow_home(tmp_path / "airflow", dags_folder=DAILY_DAG_FILE.parent)
    done = subprocess.run(
        [sys.executable, "-P", "-c", ASK_ARCHIVE_DAY, str(DAILY_DAG_FILE)],
        env=home.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answers = json.loads(done.stdout.strip().splitlines()[-1])
    assert answers["manual without interval, with day"] == "2026-11-05"
    assert answers["scheduled"] == "2026-11-04"
    assert answers["day overrides the interval"] == "2026-11-02"
    for case in ("manual without interval or day", "manual without params at all"):
        assert answers[case].startswith("ValueError: This run has no logical date"), answers[case]
        assert "day" in answers[case] and "YYYY-MM-DD" in answers[case]
    assert answers["day not a date"].startswith("ValueError: The DAG param day='5 Nov' is not a date")


@pytest.mark.slow
def test_a_manual_run_without_logical_date_archives_the_day_it_names(
    airflow_home: AirflowHome, tmp_path: Path
) -> None:
    start_stack(tmp_path / "stack", retention_days=1, sandbox=False)
    sandboxes = SandboxFactory(tmp_path)
    try:
        stack = S3Stack.open(tmp_path / "stack")
        sandbox = sandboxes(seed=5, accounts=1, items_per_day=6)
        sandbox.set_clock(nightly_run_after(FIRST_DAY))
        accounts = write_accounts_file(sandbox.world, sandbox.base_url, tmp_path / "accounts.yaml")
        env = {
            **airflow_home.env,
            **archive_env(stack.env("archiver"), sandbox.world, accounts),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAILY_DAG_FILE.parent),
        }
        out = tmp_path / "runs.json"
        # the run without a day first: dag.test() runs tasks in this process, where a run's conf
        # stays in the DAG's params for the runs after it
        confs = json.dumps([{}, {"day": FIRST_DAY.isoformat()}])
        argv = [sys.executable, "-P", "-c", RUN_MANUALLY, str(DAILY_DAG_FILE), DAILY_DAG_ID, confs, str(out)]
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
        assert out.exists(), done.stderr[-4000:]
        unnamed, named = json.loads(out.read_text(encoding="utf-8"))

        assert named["logical_date"] is None and named["data_interval_start"] is None
        assert named["state"] == "success", named["tasks"]
        [account] = sandbox.world.accounts
        manifests = Bucket(stack.bucket, stack.client("auditor")).list(f"manifests/{FIRST_DAY:%Y/%m/%d}/")
        assert [m.key for m in manifests if f"/{account.name}_" in m.key], "no run sealed for the named day"

        assert unnamed["state"] == "failed"
        assert unnamed["tasks"]["archive_account.capture[0]"] == "failed"
        assert unnamed["tasks"]["archive_account.seal[0]"] == "upstream_failed"
    finally:
        sandboxes.stop_all()
        stop_stack(tmp_path / "stack")
