"""The ``archiver`` command: a thin layer over the library, one sub-command per job.

Every command reports each account or file it handles, keeps going after a failure and exits
non-zero if anything failed.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from archiver.normalise_files import normalise_command
from archiver.pipeline import Outcome, archive_days
from archiver.pipeline import renormalise as pipeline_renormalise
from archiver.report import limit_lines, run_report
from archiver.sandbox.cli import app as sandbox_app
from archiver.stack.cli import app as stack_app
from archiver.verify.cli import verify_command

if TYPE_CHECKING:
    from archiver.search import SearchQuery

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


# options shared by search and request (a request's scope is a search)
AccountOption = Annotated[list[str] | None, typer.Option("--account", help="Account name (repeatable).")]
PlatformOption = Annotated[list[str] | None, typer.Option("--platform", help="Platform (repeatable).")]
FromOption = Annotated[str | None, typer.Option("--from", help="First archive day, YYYY-MM-DD.")]
ToOption = Annotated[str | None, typer.Option("--to", help="Last archive day, YYYY-MM-DD.")]
AsOfOption = Annotated[str | None, typer.Option("--as-of", help="The archive's state on this day: each item's latest version.")]
KindOption = Annotated[list[str] | None, typer.Option("--kind", help="post, comment, reply, conversation, message.")]
ClassOption = Annotated[list[str] | None, typer.Option("--class", help="upprättad (own) or inkommen (received).")]
AuthorOption = Annotated[str | None, typer.Option("--author", help="Part of the author's name, or the author id.")]
TextOption = Annotated[str | None, typer.Option("--text", help="Words in the text (any case and accents).")]
ThreadOption = Annotated[str | None, typer.Option("--thread", help="Thread key (item key of the post or conversation).")]
ItemOption = Annotated[str | None, typer.Option("--item", help="Item key.")]


def _query(
    account: list[str] | None,
    platform: list[str] | None,
    first: str | None,
    last: str | None,
    as_of: str | None,
    kind: list[str] | None,
    record_class: list[str] | None,
    author: str | None,
    text: str | None,
    thread: str | None,
    item: str | None,
    limit: int | None = None,
) -> SearchQuery:
    """Return the search query (or release scope) the shared options describe."""
    from archiver.search import SearchQuery

    return SearchQuery(
        accounts=tuple(account or ()),
        platforms=tuple(platform or ()),
        day_from=first,
        day_to=last,
        kinds=tuple(kind or ()),
        record_classes=tuple(record_class or ()),
        author=author,
        text=text,
        thread_key=thread,
        item_key=item,
        as_of=as_of,
        limit=limit,
    )


@app.command("search")
def search_command(
    account: AccountOption = None,
    platform: PlatformOption = None,
    first: FromOption = None,
    last: ToOption = None,
    as_of: AsOfOption = None,
    kind: KindOption = None,
    record_class: ClassOption = None,
    author: AuthorOption = None,
    text: TextOption = None,
    thread: ThreadOption = None,
    item: ItemOption = None,
    limit: Annotated[int, typer.Option("--limit", min=0, help="At most this many hits; 0 for all.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines (every field but source_json).")] = False,
) -> None:
    """Find items: by account, platform, archive day, kind, record class, author, text, thread or
    item key; --as-of shows the archive's state on a day. One line per item (its latest matching version)."""
    from archiver.config import Settings, load_accounts
    from archiver.errors import ArchiverError
    from archiver.search import json_line, search, table_lines
    from archiver.storage import Bucket

    query = _query(account, platform, first, last, as_of, kind, record_class, author, text, thread, item, limit or None)
    try:
        settings = Settings()
        result = search(Bucket(settings.bucket), load_accounts(settings=settings), query)
    except ArchiverError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    lines = [json_line(row) for row in result.rows] if as_json else table_lines(result.rows, settings.timezone)
    for line in lines if result.rows or as_json else []:
        typer.echo(line)
    more = " (limit reached: narrow the search or raise --limit)" if result.truncated else ""
    typer.echo(f"{len(result.rows)} hit(s){more}, {result.files_read} items file(s) read", err=True)


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


@app.command("request")
def request_command(
    ref: Annotated[str, typer.Option("--ref", help="The request's reference (diarienummer), e.g. 'KS 2026/123'.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for decisions.yaml, the package and its zip.")],
    account: AccountOption = None,
    platform: PlatformOption = None,
    first: FromOption = None,
    last: ToOption = None,
    as_of: AsOfOption = None,
    kind: KindOption = None,
    record_class: ClassOption = None,
    author: AuthorOption = None,
    text: TextOption = None,
    thread: ThreadOption = None,
    item: ItemOption = None,
    decisions: Annotated[
        Path | None, typer.Option("--decisions", help="The registrar's decisions file (default: propose and accept all).")
    ] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="sv (default) or en.")] = None,
    day: Annotated[str | None, typer.Option("--date", help="Date of the decision, YYYY-MM-DD (default: today).")] = None,
    decided_by: Annotated[str | None, typer.Option("--decided-by", help="Who decided (printed in the cover letter).")] = None,
    propose_only: Annotated[
        bool, typer.Option("--propose-only", help="Only write the proposal (OUT/decisions.yaml) to review; build nothing.")
    ] = False,
    no_store: Annotated[
        bool, typer.Option("--no-store", help="Build and check the package on disk only (a preview); store nothing.")
    ] = False,
) -> None:
    """Answer a public access request: select items (and what they answer), mask on the decisions, write and
    store the release package (thread documents, cover letter, decisions.json, manifest.json,
    SHA256SUMS, zip) under releases/REF/. Without --decisions the proposal is written to
    OUT/decisions.yaml and every proposed mask is accepted. To review first: --propose-only, edit
    OUT/decisions.yaml, then request again with --decisions OUT/decisions.yaml."""
    from archiver.errors import ArchiverError
    from archiver.release.package import ReleaseRequest, build_release, write_proposal

    scope = _query(account, platform, first, last, as_of, kind, record_class, author, text, thread, item)
    decided_on = _parse_day(day) if day else None
    request = ReleaseRequest(ref, scope, out, decisions, lang, decided_on, decided_by, store=not no_store)
    try:
        if propose_only:
            proposal = write_proposal(request)
            masks = ", ".join(f"{category} {count}" for category, count in proposal.masks.items())
            typer.echo(f"proposal {proposal.decisions_file} ({proposal.threads} thread(s); masks: {masks or 'none'})")
            typer.echo(f"review it (accept/reject, add masks), then: archiver request ... --decisions {proposal.decisions_file}")
            return
        package = build_release(request)
    except ArchiverError as error:
        typer.echo(f"FAILED   {error}", err=True)
        raise typer.Exit(1) from None
    if package.proposal_written:
        typer.echo(f"proposal {package.decisions_file} (every proposed mask accepted)")
    else:
        typer.echo(f"decided  {package.decisions_file}")
    typer.echo(f"package  {package.directory}/ ({package.threads} thread document(s), {len(package.files)} files)")
    typer.echo(f"zip      {package.zip_path}")
    if not request.store:
        typer.echo("not stored (--no-store): a preview; request again without --no-store to store it")
    for stored in package.stored:
        typer.echo(f"stored   {stored['key']} sha256 {stored['sha256']}")
    if package.already_stored and not package.stored:
        typer.echo(f"unchanged: the same release is stored already ({len(package.already_stored)} objects)")
    masked = ", ".join(f"{category} {count}" for category, count in package.masks_accepted.items())
    typer.echo(f"masked   {masked or 'nothing'}")


def main() -> None:
    """Run the ``archiver`` command; an archiver error ends it with its message (no traceback) and exit 1."""
    from archiver.errors import ArchiverError

    try:
        app()
    except ArchiverError as error:
        typer.echo(f"error: {error}", err=True)
        raise SystemExit(1) from None
