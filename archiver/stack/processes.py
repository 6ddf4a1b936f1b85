"""Background processes of the stack: free ports, spawning, PID files, health waits, stopping.

Every process is started in a session of its own (so a Ctrl-C in the terminal that ran
``archiver stack up`` does not reach it), with its output in a log file and its PID in a PID
file. A PID is trusted only while the process is alive and its command line still contains a
marker unique to it (such as its data directory), so a recycled PID is never signalled. Stopping sends
SIGTERM to the process group, waits, then sends SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from archiver.errors import StackError

LOOPBACK = "127.0.0.1"

_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}
"""Processes this interpreter started, kept so their exit status is collected without warnings."""


def free_ports(count: int, host: str = LOOPBACK) -> list[int]:
    """Return ``count`` distinct ports on ``host`` that were free a moment ago."""
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            sockets.append(sock)
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """Return True if a listener could bind ``host:port`` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def spawn(
    argv: Sequence[str],
    *,
    log_path: Path,
    pid_file: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    """Start ``argv`` in its own session with output to ``log_path``; return its PID (also written to ``pid_file``)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        try:
            process = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                start_new_session=True,
            )
        except OSError as error:
            raise StackError(f"Cannot start {argv[0]}: {error}. Check that it is installed.") from None
    _CHILDREN[process.pid] = process
    pid_file.write_text(f"{process.pid}\n", encoding="utf-8")
    return process.pid


def read_number(path: Path) -> int | None:
    """Return the whole number written in ``path`` (a PID or port file), or None if there is none."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else None


def read_pid(pid_file: Path) -> int | None:
    """Return the PID recorded in ``pid_file``, or None if there is no usable one."""
    return read_number(pid_file)


def _reap(pid: int) -> None:
    """Collect ``pid``'s exit status if it is our own child that has exited."""
    child = _CHILDREN.get(pid)
    if child is not None:
        if child.poll() is not None:
            del _CHILDREN[pid]
        return
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _proc_state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[0]


def pid_alive(pid: int) -> bool:
    """Return True if ``pid`` is a running process (a zombie counts as gone)."""
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _proc_state(pid) != "Z"


def command_line(pid: int) -> str | None:
    """Return the command line of ``pid`` with spaces between arguments, or None where unknown."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return raw.replace(b"\0", b" ").decode("utf-8", "replace").strip()


def running_pid(pid_file: Path, marker: str) -> int | None:
    """Return the PID from ``pid_file`` if that process runs and its command line contains ``marker``."""
    pid = read_pid(pid_file)
    if pid is None or not pid_alive(pid):
        return None
    cmdline = command_line(pid)
    if cmdline is not None and marker not in cmdline:
        return None
    return pid


def log_tail(path: Path, lines: int = 25) -> str:
    """Return the last ``lines`` lines of the log at ``path`` (empty if there is none)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def wait_until_healthy(
    check: Callable[[], bool],
    *,
    pid: int,
    what: str,
    log_path: Path,
    timeout: float = 30.0,
) -> None:
    """Return once ``check()`` is true; raise StackError if ``pid`` dies or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if not pid_alive(pid):
            raise StackError(
                f"{what} exited during start-up. Its log {log_path} ends with:\n{log_tail(log_path)}"
            )
        time.sleep(0.1)
    raise StackError(
        f"{what} (PID {pid}) was not healthy after {timeout:.0f} s. Stop it with 'archiver stack down' "
        f"and read its log {log_path}, which ends with:\n{log_tail(log_path)}"
    )


def start_healthy(
    argv: Sequence[str],
    check: Callable[[], bool],
    *,
    what: str,
    log_path: Path,
    pid_file: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 30.0,
) -> int:
    """Spawn ``argv`` and return its PID once ``check()`` holds; if it never does, stop it and raise StackError."""
    pid = spawn(argv, log_path=log_path, pid_file=pid_file, env=env, cwd=cwd)
    try:
        wait_until_healthy(check, pid=pid, what=what, log_path=log_path, timeout=timeout)
    except BaseException:
        stop_pid(pid)
        pid_file.unlink(missing_ok=True)
        raise
    return pid


def _signal(pid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        try:
            group_leader = os.getpgid(pid) == pid
        except ProcessLookupError:
            return
        if group_leader:
            os.killpg(pid, signum)
        else:
            os.kill(pid, signum)


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return not pid_alive(pid)


def stop_pid(pid: int, *, timeout: float = 15.0, kill_timeout: float = 5.0) -> None:
    """Stop ``pid`` and its process group: SIGTERM, wait ``timeout`` s, then SIGKILL; return once it is gone."""
    if not pid_alive(pid):
        return
    _signal(pid, signal.SIGTERM)
    if _wait_gone(pid, timeout):
        return
    _signal(pid, signal.SIGKILL)
    if not _wait_gone(pid, kill_timeout):
        raise StackError(f"Process {pid} survived SIGKILL; stop it by hand (kill -9 {pid}).")


def stop_pid_file(pid_file: Path, marker: str, *, timeout: float = 15.0) -> int | None:
    """Stop the process recorded in ``pid_file`` (if it still runs) and remove the file; return its PID or None."""
    pid = running_pid(pid_file, marker)
    if pid is not None:
        stop_pid(pid, timeout=timeout)
    pid_file.unlink(missing_ok=True)
    return pid
