"""The ``archiver sandbox`` command: serve the sandbox, or write an accounts file for it."""

from __future__ import annotations

import json
import os
import signal
import tempfile
from datetime import date, datetime
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
import yaml

from archiver.sandbox.server import is_loopback, make_server
from archiver.sandbox.world import World, WorldConfig

app = typer.Typer(
    help="A local stand-in for the platforms' APIs over a seeded, evolving municipality.",
    no_args_is_help=True,
)

Seed = Annotated[int, typer.Option(help="Seed of the world; the same seed gives the same world.")]
AccountCount = Annotated[int, typer.Option("--accounts", help="How many accounts the municipality has.")]
ItemsPerDay = Annotated[int, typer.Option(help="Roughly how many new items each account gets per day.")]
StartDate = Annotated[str, typer.Option(help="First day of the world (YYYY-MM-DD, Europe/Stockholm).")]
Platforms = Annotated[
    str,
    typer.Option(
        help="Comma-separated platforms with one more account each besides the Facebook Pages "
        "(instagram, x, youtube, linkedin); empty for Facebook only."
    ),
]
ALL_OTHER_PLATFORMS = "instagram,x,youtube,linkedin"


def _config(
    seed: int, accounts: int, items_per_day: int, start_date: str, platforms: str = ""
) -> WorldConfig:
    """Return the world configuration, or exit with a message naming the bad option."""
    try:
        start = date.fromisoformat(start_date)
    except ValueError:
        raise typer.BadParameter(
            f"{start_date!r} is not a date; write YYYY-MM-DD", param_hint="--start-date"
        ) from None
    if accounts < 1 or items_per_day < 1:
        raise typer.BadParameter("--accounts and --items-per-day must be at least 1")
    others = tuple(name.strip() for name in platforms.split(",") if name.strip())
    unknown = sorted(set(others) - set(ALL_OTHER_PLATFORMS.split(",")))
    if unknown:
        raise typer.BadParameter(
            f"unknown platform(s) {', '.join(unknown)}; choose from {ALL_OTHER_PLATFORMS}",
            param_hint="--platforms",
        )
    return WorldConfig(
        seed=seed, accounts=accounts, items_per_day=items_per_day, start_date=start, other_platforms=others
    )


def _faults(raw: str | None) -> dict[str, Any] | None:
    """Return the parsed ``--faults`` JSON object, or exit with a message."""
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as error:
        raise typer.BadParameter(f"not valid JSON: {error}", param_hint="--faults") from None
    if not isinstance(value, dict):
        raise typer.BadParameter('write a JSON object, e.g. {"throttle_every": 7}', param_hint="--faults")
    return value


def _now(raw: str | None) -> datetime | None:
    """Return the parsed ``--now`` instant (with a UTC offset), or exit with a message."""
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise typer.BadParameter(f"{raw!r} is not an ISO 8601 time", param_hint="--now") from None
    if value.tzinfo is None:
        raise typer.BadParameter("give a UTC offset, e.g. 2026-11-03T20:00:00+01:00", param_hint="--now")
    return value


def _write_atomically(path: Path, content: str) -> None:
    """Write ``content`` to ``path`` so a reader never sees a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(content)
    os.replace(temporary, path)


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Loopback address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind; 0 picks a free one (see --port-file).")] = 8765,
    seed: Seed = 1,
    accounts: AccountCount = 2,
    items_per_day: ItemsPerDay = 30,
    start_date: StartDate = "2026-11-01",
    platforms: Platforms = "",
    faults: Annotated[str | None, typer.Option(help='Faults as JSON, e.g. {"throttle_every": 7}.')] = None,
    port_file: Annotated[Path | None, typer.Option(help="Write the bound port here once listening.")] = None,
    now: Annotated[str | None, typer.Option(help="Fix the sandbox clock at this ISO 8601 instant.")] = None,
) -> None:
    """Serve the sandbox until interrupted."""
    if not is_loopback(host):
        typer.echo(
            f"Refusing to bind {host}: the sandbox serves only loopback addresses (127.0.0.1, ::1).", err=True
        )
        raise typer.Exit(2)
    world = World(_config(seed, accounts, items_per_day, start_date, platforms))
    try:
        server = make_server(world, host, port, _faults(faults), _now(now))
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--faults") from None
    bound_host, bound_port = server.server_address[:2]
    if port_file is not None:
        _write_atomically(port_file, f"{bound_port}\n")
    shown = f"[{bound_host!s}]" if ":" in str(bound_host) else str(bound_host)
    typer.echo(f"sandbox listening on http://{shown}:{bound_port}")
    signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@app.command("accounts-file")
def accounts_file(
    base_url: Annotated[str, typer.Option(help="API base of the sandbox, e.g. http://127.0.0.1:8765/v26.0.")],
    out: Annotated[Path, typer.Option(help="Where to write the YAML accounts file.")],
    seed: Seed = 1,
    accounts: AccountCount = 2,
    items_per_day: ItemsPerDay = 30,
    start_date: StartDate = "2026-11-01",
    platforms: Platforms = "",
    env_out: Annotated[
        Path | None, typer.Option(help="Also write the sandbox tokens here as NAME=token lines.")
    ] = None,
) -> None:
    """Write the accounts file for the sandbox world (and, if asked, an env file with its tokens)."""
    world = World(_config(seed, accounts, items_per_day, start_date, platforms))
    body = yaml.safe_dump(world.accounts_file(base_url.rstrip("/")), allow_unicode=True, sort_keys=False)
    _write_atomically(out, body)
    typer.echo(f"wrote {out}")
    if env_out is not None:
        _write_atomically(env_out, "".join(f"{name}={token}\n" for name, token in world.tokens().items()))
        typer.echo(f"wrote {env_out}")
