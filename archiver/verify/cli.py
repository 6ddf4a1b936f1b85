"""The ``archiver verify`` command: check the archive, print the report, exit non-zero on findings.

Exit codes: 0 nothing found; 1 findings (listed in the report); 2 the report could not be
stored under ``audits/`` (the auditor identity reads only: use ``--no-store``).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from archiver.errors import StorageError
from archiver.verify import Scope, run_audit, store_audit
from archiver.verify.report import LANGUAGES


def verify_command(
    day: Annotated[str | None, typer.Option("--date", help="Only this archive day, YYYY-MM-DD.")] = None,
    first: Annotated[str | None, typer.Option("--from", help="First archive day, YYYY-MM-DD.")] = None,
    last: Annotated[str | None, typer.Option("--to", help="Last archive day, YYYY-MM-DD.")] = None,
    everything: Annotated[bool, typer.Option("--all", help="The whole archive (the default).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    store: Annotated[
        bool,
        typer.Option("--store/--no-store", help="Store the report under audits/ (needs write access)."),
    ] = True,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write the JSON report to this file.")
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language of the printed report: sv or en.")] = "sv",
    stack_dir: Annotated[
        Path | None,
        typer.Option("--stack-dir", help="Embedded stack whose identities' keys the secrets scan looks for."),
    ] = None,
) -> None:
    """Verify the archive: fixity, manifest chains, completeness, raw references, diaries, PDF/A,
    Object Lock retention and secrets. Exits 1 if anything was found."""
    if lang not in LANGUAGES:
        raise typer.BadParameter(
            f"{lang!r} is not a language of the report; choose one of {', '.join(LANGUAGES)}."
        )
    report = run_audit(scope_of(day, first, last, everything), store=False, out=out, stack_dir=stack_dir)
    failure = None
    if store:
        try:
            store_audit(report)
        except StorageError as error:
            failure = str(error)
    typer.echo(report.to_json().decode("utf-8") if as_json else report.text(lang))
    if failure:
        typer.echo(failure, err=True)
        raise typer.Exit(2)
    if not report.ok:
        typer.echo(f"{len(report.findings)} finding(s); see the report above.", err=True)
        raise typer.Exit(1)


def scope_of(day: str | None, first: str | None, last: str | None, everything: bool) -> Scope:
    """Return the scope the options name (``--date``, ``--from``/``--to`` or ``--all``, the default)."""
    if sum([day is not None, first is not None or last is not None, everything]) > 1:
        raise typer.BadParameter("Give one of --date, --from/--to or --all.")
    if day is not None:
        return Scope(_day(day), _day(day))
    if first is not None or last is not None:
        scope = Scope(_day(first) if first else None, _day(last) if last else None)
        if scope.first and scope.last and scope.first > scope.last:
            raise typer.BadParameter(f"--from {first} is after --to {last}.")
        return scope
    return Scope()


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date; write it as YYYY-MM-DD.") from None
