"""The embedded stack against a real SeaweedFS: identities, Object Lock, checksums, the CLI."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import botocore
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from typer.testing import CliRunner

from archiver.stack import resolve_stack_dir, sandbox_tokens, stack_status
from archiver.stack.cli import app
from archiver.stack.processes import pid_alive, read_pid
from archiver.stack.state import IDENTITIES, StackPaths, WorldOptions, require_state

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_s3.type_defs import ObjectLockRetentionTypeDef

    from conftest import S3Stack, SandboxServer

runner = CliRunner()


def _key(prefix: str) -> str:
    return f"{prefix}/{uuid.uuid4().hex}.txt"


def _error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def _put_locked(s3_stack: S3Stack, body: bytes = b"record") -> tuple[str, str]:
    key = _key("raw/locked")
    response = s3_stack.client("archiver").put_object(
        Bucket=s3_stack.bucket, Key=key, Body=body, ChecksumAlgorithm="SHA256"
    )
    return key, response["VersionId"]


def test_bucket_has_versioning_and_compliance_default(s3_stack: S3Stack) -> None:
    admin = s3_stack.client("admin")
    assert admin.get_bucket_versioning(Bucket=s3_stack.bucket)["Status"] == "Enabled"
    config = admin.get_object_lock_configuration(Bucket=s3_stack.bucket)["ObjectLockConfiguration"]
    assert config["ObjectLockEnabled"] == "Enabled"
    assert config["Rule"]["DefaultRetention"] == {"Mode": "COMPLIANCE", "Days": s3_stack.retention_days}


def test_archiver_writes_with_sha256_and_head_returns_it(s3_stack: S3Stack) -> None:
    body = b"en kommentar fr\xc3\xa5n en inv\xc3\xa5nare"
    key = _key("raw/checksum")
    archiver = s3_stack.client("archiver")
    archiver.put_object(Bucket=s3_stack.bucket, Key=key, Body=body, ChecksumAlgorithm="SHA256")
    head = archiver.head_object(Bucket=s3_stack.bucket, Key=key, ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert head["ObjectLockMode"] == "COMPLIANCE"
    until = head["ObjectLockRetainUntilDate"]
    assert timedelta(hours=23) < until - datetime.now(UTC) <= timedelta(days=s3_stack.retention_days)


def test_wrong_sha256_checksum_is_refused(s3_stack: S3Stack) -> None:
    key = _key("raw/bad-checksum")
    wrong = base64.b64encode(hashlib.sha256(b"other bytes").digest()).decode()
    archiver = s3_stack.client("archiver")
    with pytest.raises(ClientError) as error:
        archiver.put_object(Bucket=s3_stack.bucket, Key=key, Body=b"these bytes", ChecksumSHA256=wrong)
    assert _error_code(error) == "BadDigest"
    with pytest.raises(ClientError):
        archiver.head_object(Bucket=s3_stack.bucket, Key=key)


def test_auditor_reads_lists_and_sees_retention_but_cannot_write(s3_stack: S3Stack) -> None:
    key, version = _put_locked(s3_stack)
    auditor = s3_stack.client("auditor")
    assert auditor.get_object(Bucket=s3_stack.bucket, Key=key)["Body"].read() == b"record"
    assert auditor.list_objects_v2(Bucket=s3_stack.bucket, Prefix=key)["KeyCount"] == 1
    retention = auditor.get_object_retention(Bucket=s3_stack.bucket, Key=key, VersionId=version)["Retention"]
    assert retention["Mode"] == "COMPLIANCE"
    for target in (_key("raw/auditor"), _key("releases/auditor")):
        with pytest.raises(ClientError) as error:
            auditor.put_object(Bucket=s3_stack.bucket, Key=target, Body=b"x")
        assert _error_code(error) == "AccessDenied"


def test_registrar_writes_only_under_releases(s3_stack: S3Stack) -> None:
    registrar = s3_stack.client("registrar")
    registrar.put_object(
        Bucket=s3_stack.bucket, Key=_key("releases/req-1"), Body=b"released", ChecksumAlgorithm="SHA256"
    )
    for key in (_key("raw/registrar"), _key("documents/registrar"), _key("releasesX"), "releases"):
        with pytest.raises(ClientError) as error:
            registrar.put_object(Bucket=s3_stack.bucket, Key=key, Body=b"x")
        assert _error_code(error) == "AccessDenied", key


def test_no_identity_can_delete_a_locked_version(s3_stack: S3Stack) -> None:
    key, version = _put_locked(s3_stack)
    for identity in IDENTITIES:
        with pytest.raises(ClientError) as error:
            s3_stack.client(identity).delete_object(Bucket=s3_stack.bucket, Key=key, VersionId=version)
        assert _error_code(error) == "AccessDenied", identity
    admin = s3_stack.client("admin")
    with pytest.raises(ClientError):
        admin.delete_object(
            Bucket=s3_stack.bucket, Key=key, VersionId=version, BypassGovernanceRetention=True
        )
    batch = admin.delete_objects(
        Bucket=s3_stack.bucket, Delete={"Objects": [{"Key": key, "VersionId": version}]}
    )
    assert [entry["Code"] for entry in batch.get("Errors", [])] == ["AccessDenied"]
    assert admin.get_object(Bucket=s3_stack.bucket, Key=key, VersionId=version)["Body"].read() == b"record"


def test_retention_cannot_be_shortened_or_weakened_even_by_admin(s3_stack: S3Stack) -> None:
    key, version = _put_locked(s3_stack)
    admin = s3_stack.client("admin")
    soon = datetime.now(UTC) + timedelta(minutes=5)
    later = datetime.now(UTC) + timedelta(days=s3_stack.retention_days + 2)
    weaker: list[ObjectLockRetentionTypeDef] = [
        {"Mode": "COMPLIANCE", "RetainUntilDate": soon},
        {"Mode": "GOVERNANCE", "RetainUntilDate": later},
    ]
    for retention in weaker:
        with pytest.raises(ClientError) as error:
            admin.put_object_retention(
                Bucket=s3_stack.bucket,
                Key=key,
                VersionId=version,
                Retention=retention,
                BypassGovernanceRetention=True,
            )
        assert _error_code(error) == "AccessDenied", retention
    admin.put_object_retention(
        Bucket=s3_stack.bucket,
        Key=key,
        VersionId=version,
        Retention={"Mode": "COMPLIANCE", "RetainUntilDate": later},
    )
    kept = admin.get_object_retention(Bucket=s3_stack.bucket, Key=key, VersionId=version)["Retention"]
    assert kept["RetainUntilDate"] >= later - timedelta(seconds=1)


def test_delete_without_version_only_adds_a_marker(s3_stack: S3Stack) -> None:
    key, version = _put_locked(s3_stack)
    archiver = s3_stack.client("archiver")
    assert archiver.delete_object(Bucket=s3_stack.bucket, Key=key)["DeleteMarker"] is True
    versions = archiver.list_object_versions(Bucket=s3_stack.bucket, Prefix=key)["Versions"]
    assert [entry["VersionId"] for entry in versions] == [version]


def test_identities_cannot_touch_lock_settings_or_the_bucket(s3_stack: S3Stack) -> None:
    archiver = s3_stack.client("archiver")
    calls: dict[str, Callable[[], object]] = {
        "put_object_lock_configuration": lambda: archiver.put_object_lock_configuration(
            Bucket=s3_stack.bucket,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
            },
        ),
        "delete_bucket": lambda: archiver.delete_bucket(Bucket=s3_stack.bucket),
        "create_bucket": lambda: archiver.create_bucket(Bucket=f"other-{uuid.uuid4().hex[:8]}"),
    }
    for name, call in calls.items():
        with pytest.raises(ClientError) as error:
            call()
        assert _error_code(error) == "AccessDenied", name
    with pytest.raises(ClientError) as error:
        s3_stack.client("admin").delete_bucket(Bucket=s3_stack.bucket)
    assert _error_code(error) == "BucketNotEmpty"


def test_anonymous_and_unknown_keys_are_refused(s3_stack: S3Stack) -> None:
    key, _ = _put_locked(s3_stack)
    anonymous = boto3.client(
        "s3",
        endpoint_url=s3_stack.endpoint_url,
        region_name=s3_stack.region,
        config=Config(signature_version=botocore.UNSIGNED, retries={"max_attempts": 1}),
    )
    for call in (
        lambda: anonymous.list_objects_v2(Bucket=s3_stack.bucket),
        lambda: anonymous.get_object(Bucket=s3_stack.bucket, Key=key),
        lambda: anonymous.put_object(Bucket=s3_stack.bucket, Key=_key("raw/anon"), Body=b"x"),
    ):
        with pytest.raises(ClientError) as error:
            call()
        assert _error_code(error) == "AccessDenied"
    stranger = boto3.client(
        "s3",
        endpoint_url=s3_stack.endpoint_url,
        region_name=s3_stack.region,
        aws_access_key_id="AKNOBODY",
        aws_secret_access_key="nothing",
    )
    with pytest.raises(ClientError) as error:
        stranger.list_objects_v2(Bucket=s3_stack.bucket)
    assert _error_code(error) == "InvalidAccessKeyId"


def test_filer_and_volume_http_refuse_unsigned_requests(s3_stack: S3Stack) -> None:
    key, _ = _put_locked(s3_stack)
    ports = require_state(StackPaths(s3_stack.directory)).weed_ports
    filer = f"http://127.0.0.1:{ports.filer}/buckets/{s3_stack.bucket}/{key}.versions"
    with httpx.Client(timeout=5, trust_env=False) as client:
        assert client.delete(filer, params={"recursive": "true"}).status_code == 401
        assert client.get(filer).status_code == 401
        assert client.post(f"http://127.0.0.1:{ports.volume}/1,01", content=b"x").status_code == 401
    assert s3_stack.client("auditor").head_object(Bucket=s3_stack.bucket, Key=key)["ContentLength"] == 6


def _listening_addresses(pid: int) -> set[tuple[str, int]]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd) if fd.is_symlink() else ""
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:
                address, port = fields[1].split(":")
                found.add((address, int(port, 16)))
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")
def test_every_seaweedfs_listener_is_loopback_on_a_chosen_port(s3_stack: S3Stack) -> None:
    paths = StackPaths(s3_stack.directory)
    pid = read_pid(paths.pid_file("seaweedfs"))
    assert pid is not None
    listening = _listening_addresses(pid)
    assert listening, "no listening sockets found"
    assert {address for address, _ in listening} == {"0100007F"}
    assert {port for _, port in listening} <= set(require_state(paths).weed_ports.all())


LIST_BUCKET = """
import boto3, os
response = boto3.client("s3").list_objects_v2(Bucket=os.environ["ARCHIVER_BUCKET"])
print(response["ResponseMetadata"]["HTTPStatusCode"])
"""

USE_SANDBOX = """
import httpx
from archiver.config import Settings, load_accounts
settings = Settings()
accounts = load_accounts(settings=settings).accounts
tokens = [account.token() for account in accounts]
root = settings.api_base["facebook"].rsplit("/v", 1)[0]
print(len(tokens), httpx.get(root + "/_sandbox/health", trust_env=False).json()["ok"])
"""


def _eval_and_run(exports: str, script: str, cwd: Path) -> str:
    """Run ``eval "$exports"`` in bash, then ``script`` in Python configured only by that environment."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "ARCHIVER_"))}
    result = subprocess.run(
        ["bash", "-c", 'eval "$EXPORTS" && exec "$PYTHON" -c "$SCRIPT"'],
        env={**clean, "EXPORTS": exports, "PYTHON": sys.executable, "SCRIPT": script},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize("identity", ["archiver", "registrar", "auditor"])
def test_env_output_evaluates_in_bash_and_lists_the_bucket(s3_stack: S3Stack, identity: str) -> None:
    result = runner.invoke(app, ["env", "--dir", str(s3_stack.directory), "--identity", identity])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split("=", 1)[0] for line in lines] == [
        f"export {name}"
        for name in (
            "AWS_ENDPOINT_URL",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_DEFAULT_REGION",
            "ARCHIVER_BUCKET",
        )
    ]
    assert _eval_and_run(result.stdout, LIST_BUCKET, s3_stack.directory) == "200"
    assert s3_stack.env(identity)["AWS_ACCESS_KEY_ID"] == s3_stack.keys[identity][0]


def test_env_refuses_admin_and_unknown_identities(s3_stack: S3Stack) -> None:
    for identity in ("admin", "nobody"):
        result = runner.invoke(app, ["env", "--dir", str(s3_stack.directory), "--identity", identity])
        assert result.exit_code != 0
        assert "AWS_SECRET_ACCESS_KEY" not in result.stdout


def test_keys_file_is_private(s3_stack: S3Stack) -> None:
    paths = StackPaths(s3_stack.directory)
    for secret in (paths.keys_file, paths.s3_config):
        assert secret.stat().st_mode & 0o077 == 0, secret


def _processes(directory: Path) -> dict[str, int | None]:
    paths = StackPaths(directory)
    return {name: read_pid(paths.pid_file(name)) for name in ("seaweedfs", "sandbox")}


def test_cli_up_twice_is_idempotent_env_works_and_down_stops(tmp_path: Path) -> None:
    directory = tmp_path / "stack"
    base = ["--dir", str(directory)]
    up = ["up", *base, "--seed", "2", "--accounts", "1", "--items-per-day", "5", "--retention-days"]
    try:
        first = runner.invoke(app, [*up, "1"])
        assert first.exit_code == 0, first.output
        assert "started: seaweedfs, sandbox" in first.stdout
        pids = _processes(directory)
        assert all(pid is not None and pid_alive(pid) for pid in pids.values())
        second = runner.invoke(app, [*up, "1"])
        assert second.exit_code == 0, second.output
        assert "nothing to do" in second.stdout
        third = runner.invoke(app, [*up, "2"])
        assert third.exit_code == 0, third.output
        assert "set to COMPLIANCE 2 days" in third.stdout
        assert "started" not in third.stdout
        assert _processes(directory) == pids
        status = runner.invoke(app, ["status", *base])
        assert status.exit_code == 0, status.output
        env = runner.invoke(app, ["env", *base, "--identity", "archiver", "--sandbox"])
        assert env.exit_code == 0, env.output
        names = {line.split("=", 1)[0].removeprefix("export ") for line in env.stdout.splitlines()}
        world = WorldOptions(seed=2, accounts=1, items_per_day=5)
        assert {"ARCHIVER_ACCOUNTS_FILE", "ARCHIVER_API_BASE__FACEBOOK", *sandbox_tokens(world)} <= names
        assert _eval_and_run(env.stdout, LIST_BUCKET, tmp_path) == "200"
        # one Facebook Page and one account on each other platform
        assert _eval_and_run(env.stdout, USE_SANDBOX, tmp_path) == "5 True"
    finally:
        down = runner.invoke(app, ["down", *base])
    assert down.exit_code == 0, down.output
    assert "stopped: sandbox, seaweedfs" in down.stdout
    assert not any(pid is not None and pid_alive(pid) for pid in pids.values())
    assert not stack_status(directory).healthy
    assert runner.invoke(app, ["status", *base]).exit_code == 1
    assert "nothing was running" in runner.invoke(app, ["down", *base]).stdout


def test_sandbox_factory_serves_the_world_it_reports(sandbox_factory: Callable[..., SandboxServer]) -> None:
    server = sandbox_factory(seed=3, accounts=1, items_per_day=5, faults={"throttle_every": 1000})
    assert server.base_url == f"http://127.0.0.1:{server.port}/v26.0"
    with httpx.Client(timeout=5, trust_env=False) as client:
        assert client.get(f"{server.root_url}/_sandbox/health").json()["ok"] is True
        served = client.get(f"{server.root_url}/_sandbox/accounts").json()["accounts"]
        faults = client.get(f"{server.root_url}/_sandbox/faults").json()["faults"]
    assert len(served) == 1 == len(server.world.tokens())
    assert faults["throttle_every"] == 1000
    server.set_clock(datetime(2026, 11, 2, 12, tzinfo=UTC))
    server.set_faults({"server_error_every": 3})
    assert server.stats()["by_kind"]["admin"] >= 3


def test_stack_dir_comes_from_argument_then_environment_then_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ARCHIVER_STACK_DIR", raising=False)
    assert resolve_stack_dir() == tmp_path / "var" / "stack"
    monkeypatch.setenv("ARCHIVER_STACK_DIR", str(tmp_path / "from-env"))
    assert resolve_stack_dir() == tmp_path / "from-env"
    assert resolve_stack_dir(tmp_path / "explicit") == tmp_path / "explicit"
