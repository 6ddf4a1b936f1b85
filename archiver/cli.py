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
from archiver.report import limit_lines, run_report
from archiver.sandbox.cli import app as sandbox_app
from archiver.stack.cli import app as stack_app
from archiver.verify.cli import verify_command

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
app.command("verify")(verify_command)


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


@app.command("import")
def import_command(
    export: Annotated[Path, typer.Argument(help="The export: its folder or its .zip file.")],
    platform: Annotated[str, typer.Option("--platform", help="facebook or instagram.")],
    account: Annotated[
        str | None, typer.Option("--account", help="Account it belongs to (needed if several).")
    ] = None,
) -> None:
    """Import a "download your information" export (JSON) as items marked imported."""
    from archiver.imports.run import import_for_platform

    run = import_for_platform(platform, export, account)
    counts = ", ".join(f"{key} {value}" for key, value in sorted(run.get("counts", {}).items()) if value)
    manifest = (run.get("manifest") or {}).get("key", "nothing new, no manifest")
    typer.echo(f"{run['account']} import: {counts} ({manifest})")
    for gap in (run.get("report") or {}).get("gaps", []):
        typer.echo(f"NOT READ {gap['detail']}", err=True)


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
        if outcome.run and outcome.status != "skipped":
            for line in limit_lines(run_report(dict(outcome.run))):
                typer.echo(line)


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


@app.command("render")
def render_command(
    account: Annotated[str | None, typer.Option("--account", help="Account of the diary.")] = None,
    day: Annotated[str | None, typer.Option("--date", help="Day of the diary, YYYY-MM-DD.")] = None,
    thread: Annotated[
        str | None, typer.Option("--thread", help="Item key of a post or conversation (or any item in it).")
    ] = None,
    check: Annotated[
        str | None, typer.Option("--check", help="A stored document (local file or documents/... key) to check.")
    ] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="sv (default) or en.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Also write a copy into this folder.")] = None,
) -> None:
    """Render and store a diary (--account and --date) or a thread document (--thread), or
    check that a stored document matches its items (--check; exits 1 and says what differs)."""
    from archiver.config import Settings
    from archiver.documents import render as documents
    from archiver.errors import ArchiverError
    from archiver.storage import Bucket

    modes = [bool(account or day), bool(thread), bool(check)]
    if sum(modes) != 1 or (modes[0] and not (account and day)):
        raise typer.BadParameter("Give --account and --date, or --thread ITEM_KEY, or --check FILE.")
    settings = Settings()
    bucket = Bucket(settings.bucket)
    try:
        if check:
            result = documents.check_document(bucket, check, settings)
            if result.matches:
                sealed = " (plus its seal)" if result.sealed else ""
                typer.echo(f"OK       {check} matches a fresh render of its items{sealed}")
                return
            typer.echo(f"MISMATCH {check}:", err=True)
            for difference in result.differences:
                typer.echo(f"  - {difference}", err=True)
            raise typer.Exit(1)
        if thread:
            rendered = documents.thread_pdf(bucket, thread, settings, lang)
        else:
            rendered = documents.diary_pdf(bucket, str(account), _parse_day(str(day)).isoformat(), settings, lang)
        stored = documents.store_and_seal(bucket, rendered, settings)
    except ArchiverError as error:
        typer.echo(f"FAILED   {error}", err=True)
        raise typer.Exit(1) from None
    state = "written" if stored["written"] else "unchanged"
    typer.echo(f"{state:<8} s3://{bucket.name}/{stored['key']} sha256 {stored['sha256']}")
    if stored["manifest"]:
        typer.echo(f"sealed   s3://{bucket.name}/{stored['manifest']['key']}")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        copy = out / Path(rendered.key).name
        copy.write_bytes(rendered.pdf)
        typer.echo(f"copy     {copy}")


@app.command()
def catalog(
    day: Annotated[
        str | None,
        typer.Option("--date", help="Archive day the catalog run is filed under (default: today)."),
    ] = None,
) -> None:
    """Write the bucket's README.md/README.sv.md and catalog/ pages where they changed."""
    from archiver.pipeline import publish_catalog

    written = publish_catalog(_parse_day(day).isoformat() if day else None)
    for entry in written:
        typer.echo(f"wrote {entry['key']}")
    typer.echo(f"catalog: {len(written)} object(s) written" if written else "catalog: nothing changed")


def main() -> None:
    """Run the ``archiver`` command; an archiver error ends it with its message (no traceback) and exit 1."""
    from archiver.errors import ArchiverError

    try:
        app()
    except ArchiverError as error:
        typer.echo(f"error: {error}", err=True)
        raise SystemExit(1) from None
