"""Shared fixtures: a real SeaweedFS (``s3_stack``) and real sandbox servers (``sandbox_factory``).

Both listen only on 127.0.0.1, on ports chosen free at start, in temporary directories, so they
run beside a demo stack. Every process is stopped by PID at teardown, also when a test fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from archiver.stack import identity_env, sandbox_world, stack_client, start_sandbox, start_stack, stop_stack
from archiver.stack.processes import LOOPBACK, stop_pid
from archiver.stack.state import StackPaths, WorldOptions, load_keys, require_state

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from archiver.sandbox.world import World

TEST_RETENTION_DAYS = 1


@dataclass(frozen=True)
class S3Stack:
    """A running SeaweedFS with the archive bucket, as the tests see it."""

    directory: Path
    endpoint_url: str
    bucket: str
    region: str
    retention_days: int
    keys: dict[str, tuple[str, str]]
    """Access key and secret key per identity: admin, archiver, registrar, auditor."""
    _clients: dict[str, S3Client] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def open(cls, directory: Path) -> S3Stack:
        """Return the stack recorded in ``directory``."""
        paths = StackPaths(directory)
        state = require_state(paths)
        keys = {
            name: (cred.access_key, cred.secret_key) for name, cred in load_keys(paths).identities.items()
        }
        return cls(directory, state.endpoint_url, state.bucket, state.region, state.retention_days, keys)

    def client(self, identity: str) -> S3Client:
        """Return a boto3 S3 client signed as ``identity`` (one per identity, reused)."""
        if identity not in self._clients:
            self._clients[identity] = stack_client(identity, self.directory)
        return self._clients[identity]

    def env(self, identity: str) -> dict[str, str]:
        """Return the environment ``archiver stack env --identity IDENTITY`` prints."""
        return identity_env(identity, self.directory)


@pytest.fixture(scope="session")
def s3_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Stack]:
    """Start SeaweedFS for the session with the bucket under a 1-day COMPLIANCE default retention."""
    directory = tmp_path_factory.mktemp("s3-stack")
    try:
        start_stack(directory, retention_days=TEST_RETENTION_DAYS, sandbox=False)
        yield S3Stack.open(directory)
    finally:
        stop_stack(directory)


@dataclass
class SandboxServer:
    """One sandbox server process and the world it serves."""

    port: int
    pid: int
    options: WorldOptions
    world: World
    log: Path

    @property
    def root_url(self) -> str:
        """Return the server's root URL (where ``/_sandbox/...`` lives)."""
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def base_url(self) -> str:
        """Return the Graph API base URL, ``http://127.0.0.1:PORT/v26.0``."""
        return f"{self.root_url}/v26.0"

    def _call(self, method: str, path: str, body: object = None) -> Any:
        response = httpx.request(
            method, f"{self.root_url}/_sandbox/{path}", json=body, timeout=10, trust_env=False
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def set_clock(self, now: datetime | None) -> None:
        """Freeze the sandbox's clock at ``now`` (the world is served as of that instant); None: real time."""
        self._call("POST", "clock", {"now": None if now is None else now.isoformat()})

    def set_faults(self, faults: dict[str, Any]) -> None:
        """Replace the faults the sandbox injects."""
        self._call("POST", "faults", faults)

    def stats(self) -> dict[str, Any]:
        """Return the sandbox's request statistics."""
        result: dict[str, Any] = self._call("GET", "stats")
        return result


@dataclass
class SandboxFactory:
    """Starts sandbox servers whose files live in ``directory``; :meth:`stop_all` stops every one."""

    directory: Path
    started: list[SandboxServer] = field(default_factory=list)

    def __call__(
        self,
        *,
        seed: int = 1,
        accounts: int = 2,
        items_per_day: int = 30,
        start_date: date = date(2026, 11, 1),
        faults: dict[str, Any] | None = None,
        platforms: tuple[str, ...] = (),
    ) -> SandboxServer:
        """Start a sandbox serving the world these options define, with ``faults`` from its first request.

        The world has ``accounts`` Facebook Pages and one account on each of ``platforms``.
        """
        options = WorldOptions(
            seed=seed,
            accounts=accounts,
            items_per_day=items_per_day,
            start_date=start_date,
            platforms=platforms,
        )
        name = f"sandbox-{len(self.started)}"
        log = self.directory / f"{name}.log"
        pid, port = start_sandbox(
            options,
            faults=faults,
            pid_file=self.directory / f"{name}.pid",
            log_path=log,
            port_file=self.directory / f"{name}.port",
        )
        server = SandboxServer(port=port, pid=pid, options=options, world=sandbox_world(options), log=log)
        self.started.append(server)
        return server

    def stop_all(self) -> None:
        """Stop every sandbox this factory started, by PID."""
        for server in self.started:
            stop_pid(server.pid)


@pytest.fixture
def sandbox_factory(tmp_path: Path) -> Iterator[Callable[..., SandboxServer]]:
    """Return a function that starts a sandbox server with world options and faults; all stop at teardown."""
    factory = SandboxFactory(tmp_path / "sandboxes")
    try:
        yield factory
    finally:
        factory.stop_all()


"""Former name, still imported by module-scoped fixtures elsewhere."""
