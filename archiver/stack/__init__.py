"""The embedded stack: SeaweedFS (``weed mini``) and the sandbox platform, on 127.0.0.1.

The demo, the tests and ``archiver stack`` use these functions:

- :func:`start_stack` starts whatever is not already running, creates the Object Lock bucket
  and writes the sandbox's accounts file; running it twice changes nothing.
- :func:`stop_stack` stops the processes by PID (SIGTERM, wait, SIGKILL).
- :func:`stack_status` says what runs, where, and whether it is healthy.
- :func:`identity_env` returns the environment a process needs to act as one identity.

Everything lives in one stack directory (see :mod:`archiver.stack.state`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from archiver.errors import StackError
from archiver.stack.processes import (
    LOOPBACK,
    port_is_free,
    read_number,
    running_pid,
    start_healthy,
    stop_pid,
    stop_pid_file,
    wait_until_healthy,
)
from archiver.stack.seaweed import (
    DEFAULT_BUCKET,
    DEFAULT_REGION,
    WEED_NAME,
    allocate_ports,
    ensure_bucket,
    s3_client,
    start_weed,
    weed_healthy,
)
from archiver.stack.state import (
    CLIENT_IDENTITIES,
    IDENTITIES,
    StackKeys,
    StackPaths,
    StackState,
    WeedPorts,
    WorldOptions,
    load_keys,
    load_or_create_keys,
    load_state,
    require_state,
    resolve_stack_dir,
    save_state,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from archiver.sandbox.world import World

SANDBOX_NAME = "sandbox"
SANDBOX_MODULE = "archiver.sandbox"
SANDBOX_API_PATH = "/v26.0"

__all__ = [
    "CLIENT_IDENTITIES",
    "DEFAULT_BUCKET",
    "DEFAULT_REGION",
    "IDENTITIES",
    "ComponentStatus",
    "StackStatus",
    "StartReport",
    "WorldOptions",
    "identity_env",
    "resolve_stack_dir",
    "sandbox_healthy",
    "sandbox_tokens",
    "sandbox_world",
    "stack_client",
    "stack_status",
    "start_sandbox",
    "start_stack",
    "stop_stack",
    "write_accounts_file",
]


@dataclass(frozen=True)
class ComponentStatus:
    """One process of the stack as found now."""

    name: str
    pid: int | None
    healthy: bool
    url: str | None
    ports: dict[str, int]
    log: Path

    @property
    def running(self) -> bool:
        """Return True if the recorded process is alive."""
        return self.pid is not None


@dataclass(frozen=True)
class StackStatus:
    """What runs in a stack directory, where, and whether it is healthy."""

    directory: Path
    state: StackState | None
    components: tuple[ComponentStatus, ...]
    accounts_file: Path | None

    @property
    def healthy(self) -> bool:
        """Return True if there is a stack and every component is running and healthy."""
        return self.state is not None and all(part.healthy for part in self.components)

    def lines(self) -> list[str]:
        """Return the status as human-readable lines."""
        lines = [f"stack directory: {self.directory}"]
        if self.state is None:
            return [*lines, "no stack here yet: run 'archiver stack up'"]
        lines += [
            f"S3 endpoint:     {self.state.endpoint_url}  bucket {self.state.bucket}  "
            f"(COMPLIANCE retention {self.state.retention_days} d, region {self.state.region})",
            f"data directory:  {StackPaths(self.directory).data_dir}",
        ]
        for part in self.components:
            state = "healthy" if part.healthy else ("running, NOT healthy" if part.running else "stopped")
            ports = " ".join(f"{name}={port}" for name, port in part.ports.items())
            lines.append(f"{part.name:<16} {state:<20} pid {part.pid or '-'}  {part.url or ''}")
            lines.append(f"{'':<16} ports {ports}  log {part.log}")
        if self.accounts_file is not None:
            lines.append(f"accounts file:   {self.accounts_file}")
        return lines


@dataclass(frozen=True)
class StartReport:
    """What :func:`start_stack` did: the components it started (empty if all ran) and the status after."""

    status: StackStatus
    started: tuple[str, ...] = field(default_factory=tuple)
    changes: tuple[str, ...] = field(default_factory=tuple)
    """What changed besides processes, e.g. the bucket created or its default retention set."""


def sandbox_healthy(root_url: str, timeout: float = 1.0) -> bool:
    """Return True if the sandbox at ``root_url`` answers ``GET /_sandbox/health`` with ``{"ok": true}``."""
    try:
        with httpx.Client(timeout=timeout, trust_env=False) as client:
            response = client.get(f"{root_url}/_sandbox/health")
        return response.status_code == 200 and response.json().get("ok") is True
    except (httpx.HTTPError, ValueError, AttributeError):
        return False


def sandbox_command(
    world: WorldOptions, port: int, port_file: Path, faults: Mapping[str, Any] | None = None
) -> list[str]:
    """Return the command line that serves the sandbox world on ``127.0.0.1:port`` (0: any free port)."""
    argv = [sys.executable, "-m", SANDBOX_MODULE, "serve", "--host", LOOPBACK, "--port", str(port)]
    argv += [*world.cli_args(), "--port-file", str(port_file)]
    if faults:
        argv += ["--faults", json.dumps(dict(faults))]
    return argv


def start_sandbox(
    world: WorldOptions,
    *,
    pid_file: Path,
    log_path: Path,
    port_file: Path,
    port: int = 0,
    faults: Mapping[str, Any] | None = None,
    timeout: float = 30.0,
) -> tuple[int, int]:
    """Start the sandbox on ``127.0.0.1:port`` (0: a free port), wait until healthy; return its PID and port."""
    port_file.unlink(missing_ok=True)

    def healthy() -> bool:
        bound = read_number(port_file)
        return bound is not None and sandbox_healthy(f"http://{LOOPBACK}:{bound}")

    pid = start_healthy(
        sandbox_command(world, port, port_file, faults),
        healthy,
        what="The sandbox",
        log_path=log_path,
        pid_file=pid_file,
        timeout=timeout,
    )
    bound = read_number(port_file)
    if bound is None:
        raise StackError(
            f"The sandbox (PID {pid}) lost its port file {port_file}; run 'archiver stack down'."
        )
    return pid, bound


def write_accounts_file(api_base_url: str, world: WorldOptions, out: Path) -> Path:
    """Write the sandbox world's accounts file to ``out`` (via ``archiver.sandbox accounts-file``); return ``out``."""
    argv = [
        sys.executable,
        "-m",
        SANDBOX_MODULE,
        "accounts-file",
        "--base-url",
        api_base_url,
        "--out",
        str(out),
        *world.cli_args(),
    ]
    result = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
    if result.returncode != 0 or not out.exists():
        raise StackError(
            f"Writing the accounts file {out} failed (exit {result.returncode}):\n"
            f"{(result.stderr or result.stdout).strip()}"
        )
    return out


def sandbox_world(options: WorldOptions) -> World:
    """Return the sandbox ``World`` these options define (the same world the server serves)."""
    from archiver.sandbox.world import World, WorldConfig

    config = WorldConfig(
        seed=options.seed,
        accounts=options.accounts,
        items_per_day=options.items_per_day,
        start_date=options.start_date,
        other_platforms=options.platforms,
    )
    return World(config)


def sandbox_tokens(options: WorldOptions) -> dict[str, str]:
    """Return the sandbox world's access tokens by environment variable name."""
    return dict(sandbox_world(options).tokens())


def _marker(paths: StackPaths, name: str) -> str:
    """Return a command-line fragment that only this stack's process called ``name`` has."""
    if name == WEED_NAME:
        return f"-dir={paths.data_dir}"
    return f"--port-file {paths.sandbox_port_file}"


def _running(paths: StackPaths, name: str) -> int | None:
    """Return the PID of this stack's process called ``name`` if it runs."""
    return running_pid(paths.pid_file(name), _marker(paths, name))


def _ensure_weed(
    paths: StackPaths, keys: StackKeys, previous: StackState | None, bucket: str
) -> tuple[WeedPorts, bool]:
    pid = _running(paths, WEED_NAME)
    if pid is not None and previous is not None and previous.bucket == bucket:
        ports = previous.weed_ports
        wait_until_healthy(
            lambda: weed_healthy(ports),
            pid=pid,
            what="SeaweedFS (weed mini)",
            log_path=paths.log_file(WEED_NAME),
        )
        return ports, False
    if pid is not None:
        stop_pid(pid)
    ports = allocate_ports(previous.weed_ports if previous else None)
    start_weed(paths, ports, keys, bucket)
    return ports, True


def _sandbox_port(previous: StackState | None) -> int:
    """Return the previous sandbox port if it is free (so URLs stay valid), else 0 for any free port."""
    if previous is not None and previous.sandbox_port is not None and port_is_free(previous.sandbox_port):
        return previous.sandbox_port
    return 0


def _ensure_sandbox(paths: StackPaths, state: StackState, previous: StackState | None) -> tuple[int, bool]:
    pid = _running(paths, SANDBOX_NAME)
    if (
        pid is not None
        and previous is not None
        and previous.sandbox_port is not None
        and previous.world == state.world
    ):
        root_url = f"http://{LOOPBACK}:{previous.sandbox_port}"
        wait_until_healthy(
            lambda: sandbox_healthy(root_url),
            pid=pid,
            what="The sandbox",
            log_path=paths.log_file(SANDBOX_NAME),
        )
        return previous.sandbox_port, False
    if pid is not None:
        stop_pid(pid)
    _, port = start_sandbox(
        state.world,
        port=_sandbox_port(previous),
        pid_file=paths.pid_file(SANDBOX_NAME),
        log_path=paths.log_file(SANDBOX_NAME),
        port_file=paths.sandbox_port_file,
    )
    return port, True


def start_stack(
    directory: Path | str | None = None,
    *,
    retention_days: int = 7,
    bucket: str = DEFAULT_BUCKET,
    region: str = DEFAULT_REGION,
    world: WorldOptions | None = None,
    sandbox: bool = True,
) -> StartReport:
    """Start what is not running (SeaweedFS, the sandbox), ensure the bucket and accounts file; return a report."""
    paths = StackPaths(resolve_stack_dir(directory))
    paths.create()
    keys = load_or_create_keys(paths)
    previous = load_state(paths)
    world = world or (previous.world if previous is not None else WorldOptions())
    ports, weed_started = _ensure_weed(paths, keys, previous, bucket)
    state = StackState(
        bucket=bucket,
        region=region,
        retention_days=retention_days,
        weed_ports=ports,
        sandbox_port=previous.sandbox_port if previous else None,
        world=world,
    )
    save_state(paths, state)
    changes = ensure_bucket(
        s3_client(state.endpoint_url, keys.identities["admin"], region), bucket, retention_days
    )
    started = [WEED_NAME] if weed_started else []
    if sandbox:
        port, sandbox_started = _ensure_sandbox(paths, state, previous)
        state = state.model_copy(update={"sandbox_port": port})
        save_state(paths, state)
        if sandbox_started or not paths.accounts_file.exists():
            write_accounts_file(f"http://{LOOPBACK}:{port}{SANDBOX_API_PATH}", world, paths.accounts_file)
        if sandbox_started:
            started.append(SANDBOX_NAME)
    return StartReport(status=stack_status(paths.root), started=tuple(started), changes=tuple(changes))


def stop_stack(directory: Path | str | None = None, *, timeout: float = 15.0) -> list[str]:
    """Stop the sandbox and SeaweedFS of a stack by PID and wait for them; return the names of those stopped."""
    paths = StackPaths(resolve_stack_dir(directory))
    stopped = []
    for name in (SANDBOX_NAME, WEED_NAME):
        if stop_pid_file(paths.pid_file(name), _marker(paths, name), timeout=timeout) is not None:
            stopped.append(name)
    return stopped


def _weed_status(paths: StackPaths, state: StackState) -> ComponentStatus:
    pid = _running(paths, WEED_NAME)
    ports = state.weed_ports
    return ComponentStatus(
        name=WEED_NAME,
        pid=pid,
        healthy=pid is not None and weed_healthy(ports),
        url=state.endpoint_url,
        ports=ports.model_dump(),
        log=paths.log_file(WEED_NAME),
    )


def _sandbox_status(paths: StackPaths, state: StackState) -> ComponentStatus:
    pid = _running(paths, SANDBOX_NAME)
    root_url = state.sandbox_root_url
    return ComponentStatus(
        name=SANDBOX_NAME,
        pid=pid,
        healthy=pid is not None and root_url is not None and sandbox_healthy(root_url),
        url=None if root_url is None else f"{root_url}{SANDBOX_API_PATH}",
        ports={} if state.sandbox_port is None else {"http": state.sandbox_port},
        log=paths.log_file(SANDBOX_NAME),
    )


def stack_status(directory: Path | str | None = None) -> StackStatus:
    """Return what runs in the stack directory, its ports, PIDs and health."""
    paths = StackPaths(resolve_stack_dir(directory))
    state = load_state(paths)
    if state is None:
        return StackStatus(directory=paths.root, state=None, components=(), accounts_file=None)
    components = [_weed_status(paths, state)]
    if state.sandbox_port is not None:
        components.append(_sandbox_status(paths, state))
    accounts = paths.accounts_file if paths.accounts_file.exists() else None
    return StackStatus(
        directory=paths.root, state=state, components=tuple(components), accounts_file=accounts
    )


def stack_client(identity: str = "admin", directory: Path | str | None = None) -> S3Client:
    """Return a boto3 S3 client for the stack's endpoint signed as ``identity``."""
    paths = StackPaths(resolve_stack_dir(directory))
    state = require_state(paths)
    keys = load_keys(paths)
    if identity not in keys.identities:
        raise StackError(f"Unknown identity '{identity}'; choose one of {', '.join(IDENTITIES)}.")
    return s3_client(state.endpoint_url, keys.identities[identity], state.region)


def identity_env(
    identity: str, directory: Path | str | None = None, *, sandbox: bool = False
) -> dict[str, str]:
    """Return the environment variables that make a process act as ``identity`` on this stack."""
    if identity not in CLIENT_IDENTITIES:
        raise StackError(f"Unknown identity '{identity}'; choose one of {', '.join(CLIENT_IDENTITIES)}.")
    paths = StackPaths(resolve_stack_dir(directory))
    state = require_state(paths)
    credential = load_keys(paths).identities[identity]
    env = {
        "AWS_ENDPOINT_URL": state.endpoint_url,
        "AWS_ACCESS_KEY_ID": credential.access_key,
        "AWS_SECRET_ACCESS_KEY": credential.secret_key,
        "AWS_DEFAULT_REGION": state.region,
        "ARCHIVER_BUCKET": state.bucket,
    }
    if sandbox:
        env.update(_sandbox_env(paths, state))
    return env


def _sandbox_env(paths: StackPaths, state: StackState) -> dict[str, str]:
    if state.sandbox_root_url is None:
        raise StackError(
            f"The stack in {paths.root} has no sandbox: run 'archiver stack up' with the sandbox."
        )
    return {
        "ARCHIVER_ACCOUNTS_FILE": str(paths.accounts_file),
        "ARCHIVER_API_BASE__FACEBOOK": f"{state.sandbox_root_url}{SANDBOX_API_PATH}",
        **sandbox_tokens(state.world),
    }
