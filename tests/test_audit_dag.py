"""The weekly ``archive_audit`` DAG through ``dag.test()``: a clean archive passes, a stray object fails
the task with a message naming the stored report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest

from airflow_harness import AirflowHome, DagTestSummary, run_dag_test
from airflow_harness import airflow_home as airflow_home
from archive_checks import FIRST_DAY, STOCKHOLM, archived_sandbox
from conftest import S3Stack

pytestmark = [pytest.mark.slow, pytest.mark.airflow]
DAG_FILE = Path(__file__).resolve().parent.parent / "dags" / "archive_audit.py"
SUNDAY_0400 = datetime.combine(FIRST_DAY + timedelta(days=7), time(4, 0), tzinfo=STOCKHOLM)


@dataclass
class AuditWorld:
    """A small archive and what the DAG needs to audit it as the archiver identity."""

    home: AirflowHome
    stack: S3Stack
    env: dict[str, str]

    def run(self) -> DagTestSummary:
        """Run the scheduled audit of the Sunday after the archived day."""
        return run_dag_test(
            self.home,
            DAG_FILE,
            "archive_audit",
            SUNDAY_0400,
            extra_env=self.env,
            interval="scheduled",
            retries=0,
        )

    def audits(self) -> list[str]:
        """Return the keys of the stored audit reports."""
        listed = self.stack.client("auditor").list_objects_v2(Bucket=self.stack.bucket, Prefix="audits/")
        return sorted(entry["Key"] for entry in listed.get("Contents", []))


@pytest.fixture(scope="module")
def audit_world(airflow_home: AirflowHome, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuditWorld]:
    with archived_sandbox(tmp_path_factory.mktemp("audit-dag"), seed=8, items_per_day=8) as archived:
        yield AuditWorld(airflow_home, archived.stack, archived.env)


def test_a_clean_archive_passes_and_its_report_is_stored(audit_world: AuditWorld) -> None:
    summary = audit_world.run()
    assert summary["state"] == "success", summary["errors"]
    assert summary["task_states"]["verify"] == {"-1": "success"}
    [key] = audit_world.audits()
    report = audit_world.stack.client("auditor").get_object(Bucket=audit_world.stack.bucket, Key=key)
    assert json.loads(report["Body"].read())["ok"] is True


def test_a_finding_fails_the_task_naming_the_object_in_the_stored_report(audit_world: AuditWorld) -> None:
    stray = f"raw/facebook/stray-fb/{FIRST_DAY:%Y/%m/%d}/stray-fb_20261101T000000000000Z.warc.gz"
    audit_world.stack.client("admin").put_object(Bucket=audit_world.stack.bucket, Key=stray, Body=b"x")
    before = set(audit_world.audits())
    summary = audit_world.run()
    assert summary["task_states"]["verify"] == {"-1": "failed"}
    [key] = set(audit_world.audits()) - before
    error = summary["errors"]["verify"]["-1"]
    assert error["type"] == "AuditFailedError" and key in error["message"]
    report = json.loads(
        audit_world.stack.client("auditor")
        .get_object(Bucket=audit_world.stack.bucket, Key=key)["Body"]
        .read()
    )
    assert {(f["check"], f["key"]) for f in report["findings"]} == {
        ("unlisted", stray),
        ("unsealed_run", stray),
    }
