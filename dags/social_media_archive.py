"""Daily archive of every configured social media account.

Runs at 02:00 Europe/Stockholm for the previous day, catching up missed days one at a time.
Each account is a mapped branch (capture -> normalise -> render -> seal), so one failing account (say, an
expired token) fails only its own branch; a day whose branch failed is captured afresh when the
branch is cleared. Every task is one call into ``archiver.pipeline`` and
passes run records (keys and counts), never item data. Nothing here reads files or the network
at parse time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date
from typing import Any

import pendulum
from airflow.sdk import CronDataIntervalTimetable, Param, dag, get_current_context, task, task_group

TIMEZONE = "Europe/Stockholm"
# the first archive day; days from it up to yesterday are caught up one by one
START_DATE = pendulum.parse(os.environ.get("ARCHIVER_START_DATE", "2026-11-01"), tz=TIMEZONE)


def _archive_day(context: Mapping[str, Any] | None = None) -> str:
    """Return the archive day (YYYY-MM-DD) of the running DAG run: the ``day`` param when given
    (a manual run), else the Stockholm date its data interval (or logical date) starts.

    A manual run in Airflow 3 may have neither a logical date nor a data interval; without the
    ``day`` param it fails with a message saying how to trigger it.
    """
    context = get_current_context() if context is None else context
    day = (context.get("params") or {}).get("day")
    if day:
        try:
            return date.fromisoformat(str(day)).isoformat()
        except ValueError:
            raise ValueError(
                f"The DAG param day={day!r} is not a date: trigger the run again with day as YYYY-MM-DD."
            ) from None
    start = context.get("data_interval_start") or context.get("logical_date")
    if start is None:
        raise ValueError(
            "This run has no logical date and no data interval (a manual run), so the day to archive "
            "is unknown: trigger it again with the param day set to YYYY-MM-DD, e.g. "
            """`airflow dags trigger social_media_archive --conf '{"day": "2026-11-01"}'`."""
        )
    return str(pendulum.instance(start).in_timezone(TIMEZONE).date().isoformat())


@dag(
    dag_id="social_media_archive",
    # a data interval per day, [D 02:00, D+1 02:00): the run after midnight archives day D
    schedule=CronDataIntervalTimetable("0 2 * * *", timezone=TIMEZONE),
    start_date=START_DATE,
    catchup=True,
    max_active_runs=1,
    tags=["archive", "daily"],
    # no task retries: each stage retries its own requests, and a failed stage seals what it
    # wrote as a failed run; clearing the branch (or the next night's re-check) starts afresh
    default_args={"retries": 0},
    # a manual run names the day it archives; scheduled runs leave it empty and use their interval
    params={
        "day": Param(
            None,
            type=["null", "string"],
            pattern=r"^\d{4}-\d{2}-\d{2}$",
            title="Day to archive (YYYY-MM-DD)",
            description="For a manual run: the day to archive. Empty: the run's data interval decides.",
        )
    },
    doc_md=__doc__,
)
def social_media_archive() -> None:
    """Wire the daily archive: list accounts, then capture, normalise, render and seal each one."""

    @task
    def list_accounts() -> list[str]:
        from archiver.pipeline import account_names

        return account_names()

    @task_group
    def archive_account(account: str) -> None:
        @task
        def capture(account: str) -> dict[str, Any]:
            from archiver.pipeline import capture as capture_day

            return dict(capture_day(account, _archive_day()))

        @task
        def normalise(run: dict[str, Any]) -> dict[str, Any]:
            from archiver.pipeline import normalise as normalise_run

            return dict(normalise_run(run))  # type: ignore[arg-type]

        @task
        def render(run: dict[str, Any]) -> dict[str, Any]:
            from archiver.pipeline import render as render_diary

            return dict(render_diary(run))  # type: ignore[arg-type]

        @task
        def seal(run: dict[str, Any]) -> dict[str, Any]:
            from archiver.pipeline import seal as seal_run

            return dict(seal_run(run))  # type: ignore[arg-type]

        seal(render(normalise(capture(account))))

    @task(trigger_rule="all_done")
    def publish_catalog() -> int:
        """Write the bucket's READMEs and catalog pages, also when an account failed."""
        from archiver.pipeline import publish_catalog as publish

        return len(publish(_archive_day()))

    archive_account.expand(account=list_accounts()) >> publish_catalog()


social_media_archive()
