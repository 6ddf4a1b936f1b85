"""The ``archiver`` command: a thin layer over the library, one sub-command per job.

Every command reports each account or file it handles, keeps going after a failure and exits
non-zero if anything failed.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from archiver.normalise_files import normalise_command
from archiver.pipeline import Outcome, archive_days
from archiver.pipeline import renormalise as pipeline_renormalise
from archiver.sandbox.cli import app as sandbox_app
from archiver.stack.cli import app as stack_app

app = typer.Typer(help="Archive of public records from social media.", no_args_is_help=True)
app.add_typer(
    stack_app, name="stack", help="Start, stop and inspect the embedded stack (SeaweedFS + sandbox)."
)
app.add_typer(
    sandbox_app, name="sandbox", help="The sandbox platform that speaks the platforms' wire formats."
)
app.command("normalise", help="Print normalised items, as JSON lines, from raw API response files.")(
    normalise_command
)


@app.callback()
def _logging(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug detail.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("botocore").setLevel(logging.WARNING)


@app.command()
def run(
    day: Annotated[str, typer.Option("--date", help="First archive day, YYYY-MM-DD.")],
    days: Annotated[int, typer.Option("--days", min=1, help="How many consecutive days.")] = 1,
    account: Annotated[
        list[str] | None, typer.Option("--account", help="Only this account (repeatable).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Capture again even if the day is archived.")
    ] = False,
) -> None:
    """Archive the accounts for one or more days, as the daily DAG does, without Airflow."""
    outcomes = archive_days(_parse_day(day), days, accounts=account, force=force)
    _print_outcomes(outcomes)
    if any(outcome.status == "failed" for outcome in outcomes):
        raise typer.Exit(1)


@app.command()
def renormalise(
    warc_key: Annotated[str, typer.Argument(help="Bucket key of a run's WARC file (raw/...warc.gz).")],
) -> None:
    """Normalise a stored WARC file again, e.g. after a parser fix for quarantined responses."""
    run = pipeline_renormalise(warc_key)
    counts = ", ".join(f"{key} {value}" for key, value in sorted(run.get("counts", {}).items()) if value)
    manifest = (run.get("manifest") or {}).get("key", "nothing new, no manifest")
    typer.echo(f"{run['account']} {run['day']}: {counts or 'nothing new'} ({manifest})")


def _parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date; write it as YYYY-MM-DD.") from None


def _print_outcomes(outcomes: list[Outcome]) -> None:
    for outcome in outcomes:
        if outcome.status == "failed":
            typer.echo(f"FAILED   {outcome.day} {outcome.account}: {outcome.error}", err=True)
            continue
        counts = (outcome.run or {}).get("counts", {})
        summary = ", ".join(f"{key} {value}" for key, value in sorted(counts.items()) if value)
        typer.echo(f"{outcome.status:<8} {outcome.day} {outcome.account}: {summary or 'nothing new'}")


@app.command()
def demo(
    days: Annotated[int, typer.Option("--days", min=1, help="How many simulated days to archive.")] = 3,
    stack_dir: Annotated[Path, typer.Option("--dir", help="Where the embedded stack keeps its data.")] = Path(
        "var/stack"
    ),
) -> None:
    """Start the embedded stack and archive the example accounts for several simulated days."""
    from archiver.demo import run_demo

    raise typer.Exit(run_demo(stack_dir, days))


@app.command()
def summary(
    stack_dir: Annotated[Path | None, typer.Option("--dir", help="Embedded stack to read from.")] = None,
) -> None:
    """Print what the archive holds: accounts, items by kind, versions, tombstones."""
    from archiver.summary import print_summary

    print_summary(stack_dir)


def main() -> None:
    """Run the ``archiver`` command."""
    app()
