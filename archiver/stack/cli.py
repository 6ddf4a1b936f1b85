"""``archiver stack``: start, stop and inspect the embedded stack, and print an identity's environment.

Every command takes ``--dir`` (default ``$ARCHIVER_STACK_DIR``, else ``var/stack`` under the
current directory). ``eval "$(archiver stack env --identity archiver --sandbox)"`` prepares a
shell to run the archiver against the embedded stack.
"""

from __future__ import annotations

import shlex
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from archiver.errors import StackError
from archiver.stack import (
    CLIENT_IDENTITIES,
    DEFAULT_BUCKET,
    WorldOptions,
    identity_env,
    resolve_stack_dir,
    stack_status,
    start_stack,
    stop_stack,
)

app = typer.Typer(help="The embedded stack: SeaweedFS and the sandbox on 127.0.0.1.", no_args_is_help=True)

DirOption = Annotated[
    Path | None,
    typer.Option("--dir", help="Stack directory [default: $ARCHIVER_STACK_DIR, else var/stack]."),
]


def _fail(error: StackError) -> typer.Exit:
    typer.echo(f"error: {error}", err=True)
    return typer.Exit(1)


def _parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date; write it as YYYY-MM-DD.") from None


@app.command()
def up(
    directory: DirOption = None,
    retention_days: Annotated[
        int, typer.Option(min=1, help="Default COMPLIANCE retention of the bucket, in days.")
    ] = 7,
    bucket: Annotated[str, typer.Option(help="Bucket name.")] = DEFAULT_BUCKET,
    seed: Annotated[int, typer.Option(help="Seed of the sandbox world.")] = 1,
    accounts: Annotated[int, typer.Option(min=1, help="Accounts in the sandbox world.")] = 2,
    items_per_day: Annotated[int, typer.Option(min=0, help="New items per account and day.")] = 30,
    start_date: Annotated[
        str, typer.Option(help="First day of the sandbox world, YYYY-MM-DD.")
    ] = "2026-11-01",
    sandbox: Annotated[bool, typer.Option(help="Also start the sandbox platform.")] = True,
    platforms: Annotated[
        str, typer.Option(help="Platforms with one sandbox account each besides the Facebook Pages.")
    ] = "instagram,x,youtube,linkedin",
) -> None:
    """Start SeaweedFS and the sandbox unless they run, create the bucket and write the accounts file."""
    world = WorldOptions(
        seed=seed,
        accounts=accounts,
        items_per_day=items_per_day,
        start_date=_parse_date(start_date),
        platforms=tuple(name.strip() for name in platforms.split(",") if name.strip()),
    )
    try:
        report = start_stack(
            directory, retention_days=retention_days, bucket=bucket, world=world, sandbox=sandbox
        )
    except StackError as error:
        raise _fail(error) from None
    if report.started:
        typer.echo(f"started: {', '.join(report.started)}")
    for change in report.changes:
        typer.echo(change)
    if not report.started and not report.changes:
        typer.echo("already running and healthy; nothing to do")
    for line in report.status.lines():
        typer.echo(line)
    flag = " --sandbox" if sandbox else ""
    typer.echo(
        f'\nprepare a shell: eval "$(archiver stack env --dir {shlex.quote(str(report.status.directory))} '
        f'--identity archiver{flag})"'
    )


@app.command()
def down(directory: DirOption = None) -> None:
    """Stop the stack's processes by PID and wait until they are gone."""
    try:
        stopped = stop_stack(directory)
    except StackError as error:
        raise _fail(error) from None
    where = resolve_stack_dir(directory)
    typer.echo(f"stopped: {', '.join(stopped)}" if stopped else f"nothing was running in {where}")


@app.command()
def status(directory: DirOption = None) -> None:
    """Show what runs, on which ports and PIDs, where the data is, and whether it is healthy."""
    report = stack_status(directory)
    for line in report.lines():
        typer.echo(line)
    if not report.healthy:
        raise typer.Exit(1)


@app.command()
def env(
    identity: Annotated[str, typer.Option(help=f"One of {', '.join(CLIENT_IDENTITIES)}.")] = "archiver",
    directory: DirOption = None,
    sandbox: Annotated[
        bool, typer.Option("--sandbox", help="Also the accounts file, API base and tokens.")
    ] = False,
) -> None:
    """Print shell export lines that make a process act as --identity on the stack."""
    if identity not in CLIENT_IDENTITIES:
        raise typer.BadParameter(f"choose one of {', '.join(CLIENT_IDENTITIES)}", param_hint="--identity")
    try:
        variables = identity_env(identity, directory, sandbox=sandbox)
    except StackError as error:
        raise _fail(error) from None
    for name, value in variables.items():
        typer.echo(f"export {name}={shlex.quote(value)}")
