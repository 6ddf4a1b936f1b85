"""``archiver normalise``: raw platform bodies in files, observations out as JSON lines.

Each file holds either one JSON document or JSON lines (one document per line), UTF-8 with or
without a byte-order mark. A file that cannot be read or understood gives a problem that names
the file, the line and what is wrong; the other files (and the other lines of a JSON-lines file)
are still normalised.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Final

import typer

from archiver.connectors import get_connector, supported_platforms
from archiver.connectors.base import Observation
from archiver.errors import ArchiverError, ParseError

Parser = Callable[[str | None, Any, str | None], Iterator[Observation]]

_MAX_LINE_PROBLEMS: Final = 5
"""Bad lines reported one by one per file; the rest are counted in one more problem."""


@dataclass
class FileResult:
    """What one file gave: its observations and the problems met (none when it went well)."""

    path: Path
    observations: list[Observation] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Return True when the whole file was read and understood."""
        return not self.problems


def parser_for(platform: str) -> Parser:
    """Return the body parser of ``platform``'s connector; raise ArchiverError naming the supported ones."""
    supported = supported_platforms()
    if platform not in supported:
        raise ArchiverError(f"platform {platform} is not supported yet; supported: {', '.join(supported)}")
    return get_connector(platform).parse


def normalise_files(platform: str, paths: list[Path], account_id: str | None = None) -> Iterator[FileResult]:
    """Return an iterator of one FileResult per path, in order, with its bodies' observations.

    Raises ArchiverError at once (before reading anything) if ``platform`` has no parser.
    """
    parse = parser_for(platform)
    return (_normalise_file(parse, path, account_id) for path in paths)


def _normalise_file(parse: Parser, path: Path, account_id: str | None) -> FileResult:
    result = FileResult(path)
    text = _read_text(path, result)
    if text is None:
        return result
    line = 0
    try:
        for line, document in _documents(path, text, result):
            _parse_document(
                parse, document, account_id, result, f"{path}: line {line}" if line else str(path)
            )
    except Exception as error:  # one broken file must not stop the others
        result.problems.append(
            f"{path}{f': line {line}' if line else ''}: the parser failed unexpectedly "
            f"({type(error).__name__}: {error}); this is a bug in the archiver: report it with this file."
        )
    return result


def _parse_document(
    parse: Parser, document: Any, account_id: str | None, result: FileResult, where: str
) -> None:
    try:
        result.observations.extend(parse(None, document, account_id))
    except ParseError as error:
        result.problems.append(f"{where}: {error}")


def _read_text(path: Path, result: FileResult) -> str | None:
    """Return the file's text, or None after noting why it cannot be read."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        result.problems.append(f"{path}: cannot be read ({error.strerror or error}); check the path.")
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        result.problems.append(
            f"{path}: byte {error.start} is not UTF-8 ({error.reason}); the platform APIs send "
            "UTF-8 JSON, so this file is not a raw body: save the response body as it came."
        )
        return None


def _documents(path: Path, text: str, result: FileResult) -> Iterator[tuple[int, Any]]:
    """Yield (line number or 0 for a whole-file document, decoded JSON) of a file's text."""
    if not text.strip():
        result.problems.append(f"{path}: is empty; expected one JSON document or JSON lines.")
        return
    try:
        yield 0, json.loads(text)
        return
    except json.JSONDecodeError as whole:
        if not _first_line_is_json(text):
            result.problems.append(
                f"{path}: line {whole.lineno} column {whole.colno}: {whole.msg}; the file is "
                "neither one JSON document nor JSON lines: check that it holds the body as received."
            )
            return
    yield from _json_lines(path, text, result)


def _first_line_is_json(text: str) -> bool:
    for line in text.splitlines():
        if line.strip():
            try:
                json.loads(line)
            except json.JSONDecodeError:
                return False
            return True
    return False


def _json_lines(path: Path, text: str, result: FileResult) -> Iterator[tuple[int, Any]]:
    bad = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            document = json.loads(line)
        except json.JSONDecodeError as error:
            bad += 1
            if bad <= _MAX_LINE_PROBLEMS:
                result.problems.append(
                    f"{path}: line {number} column {error.colno}: {error.msg}; each line of a "
                    "JSON-lines file must be one whole JSON document: fix or remove this line."
                )
            continue
        yield number, document
    if bad > _MAX_LINE_PROBLEMS:
        result.problems.append(f"{path}: {bad - _MAX_LINE_PROBLEMS} more lines are not JSON.")


def observation_to_json(obs: Observation) -> str:
    """Return one observation as a JSON line (no newline); times as ISO 8601 UTC with ``Z``."""
    row = dict(obs)
    for name in ("created_at", "edited_at"):
        value = row.get(name)
        if isinstance(value, datetime):
            row[name] = _iso_utc(value)
    return json.dumps(row, ensure_ascii=False)


def _iso_utc(value: datetime) -> str:
    moment = value.astimezone(UTC) if value.tzinfo is not None else value
    return moment.replace(tzinfo=None).isoformat() + "Z"


def normalise_command(
    platform: Annotated[str, typer.Option("--platform", help="Platform the bodies come from.")],
    files: Annotated[list[Path], typer.Argument(help="Files with one JSON body or JSON lines.")],
    account_id: Annotated[
        str | None,
        typer.Option("--account-id", help="Account the bodies belong to; inferred when omitted."),
    ] = None,
) -> None:
    """Print the observations in raw platform bodies as JSON lines; problems go to stderr.

    Exits 1 if any file could not be read or understood, 2 for an unsupported platform, 0 otherwise.
    """
    try:
        results = normalise_files(platform, files, account_id)
    except ArchiverError as error:
        print(error, file=sys.stderr)
        raise typer.Exit(code=2) from None
    if _print_results(results):
        raise typer.Exit(code=1)


def _print_results(results: Iterator[FileResult]) -> int:
    """Write observations to stdout and problems to stderr; return how many files failed."""
    failed = 0
    out = sys.stdout
    for result in results:
        out.writelines(observation_to_json(obs) + "\n" for obs in result.observations)
        for problem in result.problems:
            print(problem, file=sys.stderr)
        failed += not result.ok
    out.flush()
    return failed
