"""Run Airflow DAGs with ``dag.test()`` against an isolated SQLite metadata DB.

Every Airflow call happens in a **subprocess** (``python -P this_file.py <command>``): the
pytest process never imports Airflow, so no Airflow configuration, ORM session or logging
setup leaks into it, and each subprocess sees exactly the environment built here (inherited
``AIRFLOW*`` variables are dropped).

Typical use::

    home = prepare_airflow_home(tmp_path / "airflow")
    migrate_db(home)                                   # once; dag.test() needs the tables
    summary = run_dag_test(home, dag_file, "my_dag", pendulum.datetime(2024, 3, 30, 2))
    assert summary["task_states"]["group.capture"]["1"] == "failed"
    assert "RENEW_ME" in summary["errors"]["group.capture"]["1"]["message"]

or, in a test, the session fixture :func:`airflow_home` (already migrated).

Error capture: ``dag.test()`` never raises for a failed task; it logs the traceback and
drops the exception.  The child process registers an Airflow *listener*
(``on_task_instance_failed``, which receives the exception object) so each failed task's
exception type and text come back in the summary, keyed like the states.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypedDict

import pytest

#: ``"manual"``: the data interval ``dag.test()`` itself gives (what a manual trigger gets).
#: ``"scheduled"``: the data interval the scheduler gives the run with that logical date.
IntervalMode = Literal["manual", "scheduled"]

HARNESS_FILE = Path(__file__).resolve()
DEFAULT_TIMEOUT_S = 300.0
_TAIL_CHARS = 4000


class TaskError(TypedDict):
    """The exception a failed task instance raised (last try)."""

    type: str | None
    message: str
    try_number: int | None


class DagTestSummary(TypedDict):
    """JSON-able result of one ``dag.test()`` run."""

    dag_id: str
    run_id: str
    state: str | None
    logical_date: str | None
    data_interval_start: str | None
    data_interval_end: str | None
    conf: dict[str, Any]
    # task_id -> str(map_index) -> state ("-1" for an unmapped task; None = never scheduled)
    task_states: dict[str, dict[str, str | None]]
    # task_id -> str(map_index) -> exception, for every task instance that failed
    errors: dict[str, dict[str, TaskError]]
    # task_id -> what the (unmapped) task returned (its ``return_value`` XCom), JSON-decoded
    returns: dict[str, Any]
    seconds: float


class DagFileReport(TypedDict):
    """JSON-able result of parsing one DAG file with a ``DagBag``."""

    dag_ids: list[str]
    import_errors: dict[str, str]
    parse_seconds: float
    # Top-level packages first imported by the DAG file (not already loaded by Airflow).
    new_top_level_modules: list[str]


@dataclass(frozen=True)
class AirflowHome:
    """An isolated Airflow home: its directory and the environment subprocesses run with."""

    path: Path
    env: dict[str, str] = field(repr=False)
    timings: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def db_path(self) -> Path:
        """The SQLite metadata database file."""
        return self.path / "airflow.db"

    @property
    def log_dir(self) -> Path:
        """Where the harness keeps each subprocess's stdout+stderr."""
        return self.path / "harness-logs"


class HarnessError(RuntimeError):
    """An Airflow subprocess failed (not a task: the harness or Airflow itself)."""


def airflow_env(
    home: Path,
    *,
    dags_folder: Path | None = None,
    extra_env: Mapping[str, str] | None = None,
    base_env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Build the environment for an Airflow subprocess rooted at ``home``.

    Starts from ``base_env`` (default ``os.environ``) minus every variable whose name
    contains ``AIRFLOW`` (a developer's own config must not leak in), then sets: the home,
    a SQLite DB inside it, the DAGs folder, no example DAGs, Stockholm as default timezone,
    quiet logging, no colours.  ``unit_test_mode`` is deliberately *not* set: it loads
    ``unit_tests.cfg``, which flips ``create_cron_data_intervals`` to True (a different
    timetable for cron strings than production) and turns example DAGs back on.
    ``extra_env`` is applied last and may override anything.
    """
    base = dict(os.environ if base_env is None else base_env)
    env = {k: v for k, v in base.items() if "AIRFLOW" not in k.upper()}
    home = home.resolve()
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__DAGS_FOLDER": str((dags_folder or home / "dags").resolve()),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(home / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Europe/Stockholm",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            "AIRFLOW__LOGGING__COLORED_CONSOLE_LOG": "False",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            "PYTHONUNBUFFERED": "1",
            "NO_COLOR": "1",
        }
    )
    if extra_env:
        env.update(extra_env)
    return env


def prepare_airflow_home(
    path: Path,
    *,
    dags_folder: Path | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> AirflowHome:
    """Create ``path`` as an isolated Airflow home and return it (the DB is not migrated).

    ``dags_folder`` is only a default: :func:`run_dag_test` points the DAGs folder at the
    directory of the DAG file it runs, because ``dag.test()`` re-parses that whole folder
    (the ``dags-folder`` bundle) and must find the DAG there.
    """
    path = path.resolve()
    for sub in ("dags", "plugins", "logs", "harness-logs"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    return AirflowHome(path=path, env=airflow_env(path, dags_folder=dags_folder, extra_env=extra_env))


def _run_subprocess(
    home: AirflowHome,
    argv: Sequence[str],
    *,
    label: str,
    env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> tuple[float, Path]:
    """Run ``argv`` with the home's env, output to a log file; raise :class:`HarnessError`."""
    home.log_dir.mkdir(parents=True, exist_ok=True)
    log_path = home.log_dir / f"{time.strftime('%H%M%S')}-{label}-{os.getpid()}-{time.monotonic_ns()}.log"
    start = time.monotonic()
    with log_path.open("wb") as log:
        try:
            proc = subprocess.run(
                list(argv),
                env=dict(env if env is not None else home.env),
                cwd=home.path,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise HarnessError(
                f"{label} timed out after {timeout:.0f}s; output: {log_path}\n{_tail(log_path)}"
            ) from exc
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        raise HarnessError(
            f"{label} exited {proc.returncode} after {seconds:.1f}s; output: {log_path}\n{_tail(log_path)}"
        )
    return seconds, log_path


def _tail(path: Path) -> str:
    text = path.read_text(encoding="utf-8", errors="replace")
    return text[-_TAIL_CHARS:]


def migrate_db(home: AirflowHome, *, timeout: float = DEFAULT_TIMEOUT_S) -> float:
    """Run ``airflow db migrate`` for ``home`` in a subprocess; return the seconds it took.

    ``dag.test()`` needs this first: on an empty DB it fails with ``no such table: dag``.
    """
    seconds, _ = _run_subprocess(
        home, [sys.executable, "-m", "airflow", "db", "migrate"], label="db-migrate", timeout=timeout
    )
    home.timings["db_migrate_s"] = seconds
    return seconds


def _iso(value: datetime | str) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"logical dates must be timezone-aware, got {value!r}")
    return value.isoformat()


def _call_child(
    home: AirflowHome,
    command: str,
    request: dict[str, Any],
    *,
    label: str,
    dags_folder: Path,
    extra_env: Mapping[str, str] | None,
    timeout: float,
) -> Any:
    env = dict(home.env)
    env["AIRFLOW__CORE__DAGS_FOLDER"] = str(dags_folder)
    if extra_env:
        env.update(extra_env)
    with tempfile.TemporaryDirectory(prefix="harness-", dir=home.path) as tmp:
        req_path, out_path = Path(tmp) / "request.json", Path(tmp) / "result.json"
        req_path.write_text(json.dumps(request), encoding="utf-8")
        # -P: do not put tests/ (this file's directory) on the child's sys.path.
        argv = [sys.executable, "-P", str(HARNESS_FILE), command, str(req_path), str(out_path)]
        _run_subprocess(home, argv, label=label, env=env, timeout=timeout)
        return json.loads(out_path.read_text(encoding="utf-8"))


def run_dag_tests(
    home: AirflowHome,
    dag_file: Path,
    dag_id: str,
    logical_dates: Sequence[datetime | str],
    *,
    run_conf: Mapping[str, Any] | None = None,
    extra_env: Mapping[str, str] | None = None,
    interval: IntervalMode = "manual",
    retries: int | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> list[DagTestSummary]:
    """Run ``dag.test()`` once per logical date, sequentially, in **one** subprocess.

    Cheaper than one :func:`run_dag_test` per date: the first ``dag.test()`` in a process
    pays ~5 s to start the in-process Execution API, later ones ~1 s.  Each run sees the
    same ``run_conf`` and ``extra_env`` (environment for the child: DAG/task config).
    Re-running a logical date replaces the earlier run of that date (``dag.test`` deletes
    it).  ``retries`` (e.g. 0) overrides every task's retries: ``dag.test()`` honours
    retries and sleeps out ``retry_delay`` (default 300 s) before each retry.  ``home``
    must be migrated.  Raises :class:`HarnessError` if the subprocess fails; a failed
    *task* or run is reported in the summary, never raised.
    """
    dag_file = Path(dag_file).resolve()
    request = {
        "dag_file": str(dag_file),
        "dag_id": dag_id,
        "logical_dates": [_iso(d) for d in logical_dates],
        "run_conf": dict(run_conf or {}),
        "interval": interval,
        "retries": retries,
    }
    start = time.monotonic()
    result: list[DagTestSummary] = _call_child(
        home,
        "run",
        request,
        label=f"dag-test-{dag_id}",
        dags_folder=dag_file.parent,
        extra_env=extra_env,
        timeout=timeout,
    )
    home.timings["last_dag_test_subprocess_s"] = time.monotonic() - start
    return result


def run_dag_test(
    home: AirflowHome,
    dag_file: Path,
    dag_id: str,
    logical_date: datetime | str,
    *,
    run_conf: Mapping[str, Any] | None = None,
    extra_env: Mapping[str, str] | None = None,
    interval: IntervalMode = "manual",
    retries: int | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> DagTestSummary:
    """Run ``dag.test(logical_date=..., run_conf=...)`` for one date in a subprocess.

    ``logical_date`` must be timezone-aware (``pendulum.datetime(..., tz=...)``).
    ``interval="manual"`` keeps ``dag.test()``'s own data interval, which is
    ``timetable.infer_manual_data_interval(run_after=logical_date)``: it *ends* at the
    logical date for data-interval timetables.  ``interval="scheduled"`` gives the run
    the data interval the scheduler would give the scheduled run with that logical date
    (the logical date must then be a schedule tick).  See :func:`run_dag_tests`.
    """
    return run_dag_tests(
        home,
        dag_file,
        dag_id,
        [logical_date],
        run_conf=run_conf,
        extra_env=extra_env,
        interval=interval,
        retries=retries,
        timeout=timeout,
    )[0]


def inspect_dag_file(
    home: AirflowHome,
    dag_file: Path,
    *,
    extra_env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> DagFileReport:
    """Parse ``dag_file`` with a ``DagBag`` in a subprocess, as the DAG processor would.

    Reports the DAG ids, import errors, parse time and which top-level packages the file
    pulled in beyond Airflow's own (to catch heavy imports at DAG-file top level).  Needs
    no migrated DB.
    """
    dag_file = Path(dag_file).resolve()
    report: DagFileReport = _call_child(
        home,
        "inspect",
        {"dag_file": str(dag_file)},
        label=f"inspect-{dag_file.stem}",
        dags_folder=dag_file.parent,
        extra_env=extra_env,
        timeout=timeout,
    )
    return report


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> AirflowHome:
    """Session-wide isolated Airflow home with a migrated SQLite DB (migrated once).

    Returns the :class:`AirflowHome` that :func:`run_dag_test` and friends take; the
    migrate time is in ``airflow_home.timings["db_migrate_s"]``.
    """
    home = prepare_airflow_home(tmp_path_factory.mktemp("airflow-home"))
    migrate_db(home)
    return home


# --------------------------------------------------------------------------------------
# Child side: everything below runs only inside the Airflow subprocess.
# --------------------------------------------------------------------------------------


def _scheduled_interval_patch() -> None:
    """Make ``dag.test()`` use the scheduler's data interval for its logical date.

    ``dag.test()`` asks ``coerce_to_core_timetable(dag.timetable)`` (imported inside the
    method, so patching the module attribute is seen) for ``infer_manual_data_interval``;
    we answer with the interval of the scheduled run whose logical date is the requested one.
    """
    from datetime import timedelta

    import airflow.serialization.encoders as encoders
    from airflow.timetables.base import DataInterval, TimeRestriction

    original = encoders.coerce_to_core_timetable

    def patched(timetable: Any) -> Any:
        core = original(timetable)

        def infer_scheduled(*, run_after: Any) -> DataInterval:
            restriction = TimeRestriction(earliest=run_after - timedelta(days=7), latest=None, catchup=True)
            last = None
            for _ in range(10_000):
                info = core.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
                if info is None or info.logical_date is None or info.logical_date > run_after:
                    break
                if info.logical_date == run_after:
                    return info.data_interval
                last = info.data_interval
            raise ValueError(f"{run_after} is not a scheduled logical date of {timetable!r}")

        core.infer_manual_data_interval = infer_scheduled
        return core

    encoders.coerce_to_core_timetable = patched


def _load_dag(dag_file: str, dag_id: str) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=dag_file, safe_mode=False)
    if bag.import_errors:
        raise HarnessError(f"import errors in {dag_file}: {bag.import_errors}")
    dag = bag.dags.get(dag_id)
    if dag is None:
        raise HarnessError(f"DAG {dag_id!r} not found in {dag_file}; found {sorted(bag.dags)}")
    return dag


def _child_run(request: dict[str, Any]) -> list[dict[str, Any]]:
    import pendulum
    from airflow.listeners import hookimpl
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.sdk.listener import get_listener_manager
    from airflow.utils.session import create_session
    from sqlalchemy import select

    errors: dict[tuple[str, str, int], TaskError] = {}

    class FailureRecorder:
        """Listener: keeps the exception of every failed (or up-for-retry) task try."""

        @hookimpl
        def on_task_instance_failed(
            self, previous_state: Any, task_instance: Any, error: BaseException | str | None
        ) -> None:
            key = (task_instance.run_id, task_instance.task_id, task_instance.map_index)
            errors[key] = {
                "type": type(error).__qualname__ if isinstance(error, BaseException) else None,
                "message": str(error) if error is not None else "",
                "try_number": getattr(task_instance, "try_number", None),
            }

    get_listener_manager().add_listener(FailureRecorder())
    if request["interval"] == "scheduled":
        _scheduled_interval_patch()

    dag = _load_dag(request["dag_file"], request["dag_id"])
    if request.get("retries") is not None:
        for task in dag.task_dict.values():
            task.retries = request["retries"]
    summaries: list[dict[str, Any]] = []
    for iso in request["logical_dates"]:
        start = time.monotonic()
        dr = dag.test(logical_date=pendulum.parse(iso), run_conf=request["run_conf"] or None)
        seconds = time.monotonic() - start
        task_states: dict[str, dict[str, str | None]] = {}
        run_errors: dict[str, dict[str, TaskError]] = {}
        with create_session() as session:
            tis = session.scalars(
                select(TaskInstance).where(TaskInstance.dag_id == dr.dag_id, TaskInstance.run_id == dr.run_id)
            ).all()
            for ti in sorted(tis, key=lambda t: (t.task_id, t.map_index)):
                state = None if ti.state is None else str(getattr(ti.state, "value", ti.state))
                task_states.setdefault(ti.task_id, {})[str(ti.map_index)] = state
                if state == "failed":
                    run_errors.setdefault(ti.task_id, {})[str(ti.map_index)] = errors.get(
                        (dr.run_id, ti.task_id, ti.map_index),
                        # Failed outside the task body (e.g. the runner itself): see the log.
                        {"type": None, "message": "", "try_number": ti.try_number},
                    )

            returns = {
                xcom.task_id: XComModel.deserialize_value(xcom)
                for xcom in session.scalars(
                    select(XComModel).where(
                        XComModel.dag_id == dr.dag_id,
                        XComModel.run_id == dr.run_id,
                        XComModel.key == "return_value",
                        XComModel.map_index == -1,
                    )
                )
            }

        def iso_or_none(value: Any) -> str | None:
            return value.isoformat() if value is not None else None

        summaries.append(
            {
                "dag_id": dr.dag_id,
                "run_id": dr.run_id,
                "state": None if dr.state is None else str(getattr(dr.state, "value", dr.state)),
                "logical_date": iso_or_none(dr.logical_date),
                "data_interval_start": iso_or_none(dr.data_interval_start),
                "data_interval_end": iso_or_none(dr.data_interval_end),
                "conf": dict(dr.conf or {}),
                "task_states": task_states,
                "errors": run_errors,
                "returns": returns,
                "seconds": round(seconds, 3),
            }
        )
    return summaries


def _child_inspect(request: dict[str, Any]) -> dict[str, Any]:
    from airflow.dag_processing.dagbag import DagBag

    def top_level() -> set[str]:
        return {name.partition(".")[0] for name in sys.modules}

    before = top_level()
    start = time.monotonic()
    bag = DagBag(dag_folder=request["dag_file"], safe_mode=False)
    seconds = time.monotonic() - start
    # The DagBag loads the file itself under a mangled module name; leave that out.
    new = sorted(m for m in top_level() - before if not m.startswith("unusual_prefix_"))
    return {
        "dag_ids": sorted(bag.dag_ids),
        "import_errors": dict(bag.import_errors),
        "parse_seconds": round(seconds, 3),
        "new_top_level_modules": new,
    }


def _child_main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="airflow_harness child process")
    parser.add_argument("command", choices=["run", "inspect"])
    parser.add_argument("request", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    request = json.loads(args.request.read_text(encoding="utf-8"))
    result = _child_run(request) if args.command == "run" else _child_inspect(request)
    args.out.write_text(json.dumps(result, indent=2, sort_keys=True), encoding="utf-8")
    sys.stdout.flush()
    sys.stderr.flush()
    # Interpreter teardown after dag.test() takes ~2 s (in-process API threads, ORM);
    # the result is written and flushed, so skip it.
    os._exit(0)


if __name__ == "__main__":
    _child_main()
