"""The files of one stack directory: its state file, its secrets and where everything lives.

A stack directory (``var/stack`` by default) holds everything the embedded stack needs::

    state.json        ports, bucket and world options of the last ``up`` (no secrets)
    keys.json         S3 keys per identity and the internal JWT keys (mode 0600)
    s3.json           the identities file given to ``weed mini -s3.config`` (mode 0600)
    seaweedfs/        SeaweedFS data
    run/              PID of each process the stack started, the sandbox's port, sockets
    logs/*.log        output of each process
    accounts.yaml     the accounts file for the sandbox world

Keys are generated once per directory and kept, so an ``env`` printed earlier stays valid.
Process ids live only in the PID files; ``state.json`` records what does not change while the
stack runs.
"""

from __future__ import annotations

import json
import os
import secrets
import string
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from archiver.errors import StackError

STACK_DIR_ENV = "ARCHIVER_STACK_DIR"
DEFAULT_STACK_DIR = Path("var/stack")
IDENTITIES = ("admin", "archiver", "registrar", "auditor")
"""Every S3 identity of the stack; ``admin`` is used only by the stack itself."""
CLIENT_IDENTITIES = ("archiver", "registrar", "auditor")
"""The identities whose environment ``env`` prints."""


def resolve_stack_dir(directory: Path | str | None = None) -> Path:
    """Return the absolute stack directory: the argument, else ``$ARCHIVER_STACK_DIR``, else ``var/stack``."""
    chosen = directory or os.environ.get(STACK_DIR_ENV) or DEFAULT_STACK_DIR
    return Path(chosen).expanduser().resolve()


@dataclass(frozen=True)
class StackPaths:
    """Where each file of a stack directory lives."""

    root: Path

    @property
    def state_file(self) -> Path:
        """Return the path of the state file (ports, bucket, world options)."""
        return self.root / "state.json"

    @property
    def keys_file(self) -> Path:
        """Return the path of the secrets file (mode 0600)."""
        return self.root / "keys.json"

    @property
    def s3_config(self) -> Path:
        """Return the path of the identities file given to ``weed mini -s3.config``."""
        return self.root / "s3.json"

    @property
    def data_dir(self) -> Path:
        """Return the SeaweedFS data directory."""
        return self.root / "seaweedfs"

    @property
    def run_dir(self) -> Path:
        """Return the directory of PID files, port files and sockets."""
        return self.root / "run"

    @property
    def accounts_file(self) -> Path:
        """Return the path of the accounts file written for the sandbox world."""
        return self.root / "accounts.yaml"

    @property
    def sandbox_port_file(self) -> Path:
        """Return the file in which the sandbox writes the port it listens on."""
        return self.run_dir / "sandbox.port"

    def pid_file(self, name: str) -> Path:
        """Return the PID file of the process called ``name``."""
        return self.run_dir / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        """Return the log file of the process called ``name``."""
        return self.root / "logs" / f"{name}.log"

    def create(self) -> None:
        """Create the directory and its subdirectories; raise StackError if that is impossible."""
        try:
            for directory in (self.root, self.data_dir, self.run_dir, self.root / "logs"):
                directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StackError(
                f"Cannot create the stack directory {self.root}: {error}. "
                f"Choose a writable directory with --dir or {STACK_DIR_ENV}."
            ) from None


class WeedPorts(BaseModel):
    """The loopback ports of one ``weed mini``: every listener is pinned, none left to defaults."""

    master: int
    master_grpc: int
    volume: int
    volume_grpc: int
    filer: int
    filer_grpc: int
    s3: int
    s3_grpc: int
    admin: int
    admin_grpc: int

    def all(self) -> list[int]:
        """Return every port, in field order."""
        return [int(value) for value in self.model_dump().values()]


class WorldOptions(BaseModel):
    """The options that define the sandbox's world; the same options give the same world."""

    seed: int = 1
    accounts: int = 2
    items_per_day: int = 30
    start_date: date = date(2026, 11, 1)
    platforms: tuple[str, ...] = ("instagram", "x", "youtube", "linkedin")
    """One more account on each of these platforms besides the ``accounts`` Facebook Pages."""

    def cli_args(self) -> list[str]:
        """Return the options as ``python -m archiver.sandbox`` arguments."""
        return [
            "--seed",
            str(self.seed),
            "--accounts",
            str(self.accounts),
            "--items-per-day",
            str(self.items_per_day),
            "--start-date",
            self.start_date.isoformat(),
            "--platforms",
            ",".join(self.platforms),
        ]


class StackState(BaseModel):
    """What ``up`` decided for a stack directory: ports, bucket, retention and world."""

    bucket: str
    region: str
    retention_days: int
    weed_ports: WeedPorts
    sandbox_port: int | None = None
    world: WorldOptions = Field(default_factory=WorldOptions)

    @property
    def endpoint_url(self) -> str:
        """Return the S3 endpoint URL."""
        return f"http://127.0.0.1:{self.weed_ports.s3}"

    @property
    def sandbox_root_url(self) -> str | None:
        """Return the sandbox's root URL, or None if the stack has no sandbox port."""
        return None if self.sandbox_port is None else f"http://127.0.0.1:{self.sandbox_port}"


class Credential(BaseModel):
    """One S3 access key pair."""

    access_key: str
    secret_key: str


class StackKeys(BaseModel):
    """The secrets of a stack directory: S3 keys per identity and SeaweedFS's internal JWT keys."""

    identities: dict[str, Credential]
    jwt: dict[str, str]


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically with mode 0600; return nothing."""
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def load_state(paths: StackPaths) -> StackState | None:
    """Return the stack's recorded state, or None when there is none yet."""
    try:
        return StackState.model_validate_json(paths.state_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (ValidationError, ValueError) as error:
        raise StackError(
            f"The stack state file {paths.state_file} is unreadable ({error}). "
            "Stop the stack, delete that file and run 'archiver stack up' again."
        ) from None


def save_state(paths: StackPaths, state: StackState) -> None:
    """Write the stack's state file; return nothing."""
    temporary = paths.state_file.with_name(".state.json.tmp")
    temporary.write_text(state.model_dump_json(indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, paths.state_file)


def _random_token(length: int, alphabet: str) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _new_keys() -> StackKeys:
    upper = string.ascii_uppercase + string.digits
    mixed = string.ascii_letters + string.digits
    identities = {
        name: Credential(
            access_key=f"AK{name.upper()[:4]}{_random_token(14, upper)}", secret_key=_random_token(40, mixed)
        )
        for name in IDENTITIES
    }
    jwt = {name: _random_token(48, mixed) for name in ("signing", "signing_read", "filer", "filer_read")}
    return StackKeys(identities=identities, jwt=jwt)


def load_or_create_keys(paths: StackPaths) -> StackKeys:
    """Return the stack's keys, generating and saving them (mode 0600) on first use."""
    try:
        keys = StackKeys.model_validate_json(paths.keys_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        keys = _new_keys()
        write_private(paths.keys_file, keys.model_dump_json(indent=2) + "\n")
        return keys
    except (ValidationError, ValueError) as error:
        raise StackError(
            f"The keys file {paths.keys_file} is unreadable ({error}). Restore it from a backup, "
            "or stop the stack and start afresh in an empty directory."
        ) from None
    missing = [name for name in IDENTITIES if name not in keys.identities]
    if missing:
        raise StackError(
            f"The keys file {paths.keys_file} lacks the identities {', '.join(missing)}: "
            "start afresh in an empty stack directory."
        )
    return keys


def load_keys(paths: StackPaths) -> StackKeys:
    """Return the stack's keys, or raise StackError saying to run ``up`` when there are none."""
    if not paths.keys_file.exists():
        raise StackError(f"No stack in {paths.root}: run 'archiver stack up --dir {paths.root}' first.")
    return load_or_create_keys(paths)


def require_state(paths: StackPaths) -> StackState:
    """Return the stack's state, or raise StackError saying to run ``up`` when there is none."""
    state = load_state(paths)
    if state is None:
        raise StackError(f"No stack in {paths.root}: run 'archiver stack up --dir {paths.root}' first.")
    return state


def dump_json(value: object) -> str:
    """Return ``value`` as indented JSON text ending in a newline."""
    return json.dumps(value, indent=2, sort_keys=True) + "\n"
