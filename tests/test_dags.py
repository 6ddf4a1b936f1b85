"""DAG policy: every DAG file parses without errors and imports nothing heavy at parse time."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_harness import AirflowHome, inspect_dag_file
from airflow_harness import airflow_home as airflow_home

pytestmark = pytest.mark.airflow
DAGS = sorted((Path(__file__).resolve().parent.parent / "dags").glob("*.py"))
HEAVY = {"archiver", "boto3", "botocore", "pyarrow", "httpx", "warcio"}


@pytest.mark.parametrize("dag_file", DAGS, ids=lambda path: path.name)
def test_dag_file_parses_quickly_without_touching_the_archive(
    airflow_home: AirflowHome, dag_file: Path
) -> None:
    report = inspect_dag_file(
        airflow_home, dag_file, extra_env={"ARCHIVER_ACCOUNTS_FILE": "/nonexistent.yaml"}
    )
    assert report["import_errors"] == {}
    assert report["dag_ids"]
    assert HEAVY.isdisjoint(report["new_top_level_modules"])
