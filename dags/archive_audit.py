"""Weekly audit of the whole archive: fixity, manifest chains, completeness, documents, retention
and secrets (``archiver verify --all``).

Runs on Sundays at 04:00 Europe/Stockholm, after the night's archive run. The one task calls
``archiver.verify.audit``, which stores the report under ``audits/`` as the ``archiver``
identity, logs the report's key and fails the task when anything was found, so the failure is
loud and the report names every object concerned. Nothing here reads files or the network at
parse time.
"""

from __future__ import annotations

import os
from typing import Any

import pendulum
from airflow.sdk import CronTriggerTimetable, dag, task

TIMEZONE = "Europe/Stockholm"
START_DATE = pendulum.parse(os.environ.get("ARCHIVER_START_DATE", "2026-11-01"), tz=TIMEZONE)


@dag(
    dag_id="archive_audit",
    schedule=CronTriggerTimetable("0 4 * * 0", timezone=TIMEZONE),
    start_date=START_DATE,
    catchup=False,  # each audit covers the whole archive: missed weeks need no catching up
    max_active_runs=1,
    tags=["archive", "audit", "weekly"],
    # no retries: a finding does not go away by retrying; the report is stored either way
    default_args={"retries": 0},
    doc_md=__doc__,
)
def archive_audit() -> None:
    """Wire the weekly audit: one task that verifies the whole archive."""

    @task
    def verify() -> dict[str, Any]:
        from archiver.verify import audit

        return audit()

    verify()


archive_audit()
