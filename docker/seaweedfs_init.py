"""Create the archive bucket in SeaweedFS with Object Lock, and check the S3 identities.

Run once by the ``seaweedfs-init`` service of ``docker-compose.yml``, after SeaweedFS is up and
before Airflow starts; safe to run again (it only creates or raises what is missing).

1. Reads the identities file that SeaweedFS was started with (``-s3.config``) and refuses it if a
   key is still a placeholder, if the ``admin``, ``archiver``, ``registrar`` or ``auditor``
   identity is missing, or if the ``archiver`` key differs from ``AWS_ACCESS_KEY_ID`` in ``.env``.
2. As ``admin``: creates the bucket with Object Lock (which turns versioning on) and sets the
   default retention to COMPLIANCE for ``ARCHIVER_RETENTION_DAYS`` days. It never shortens an
   existing default retention: that has to be done deliberately by hand.
3. As each other identity: checks that it can reach the bucket with its own keys.

Secrets are never printed. Exit status 0 when the bucket is ready, 1 with a message otherwise.

Environment: ``S3_CONFIG`` (identities file, default ``/etc/seaweedfs/s3.json``),
``AWS_ENDPOINT_URL`` (default ``http://seaweedfs:8333``), ``AWS_DEFAULT_REGION`` (default
``us-east-1``), ``ARCHIVER_BUCKET`` (default ``social-archive``), ``ARCHIVER_RETENTION_DAYS``
(default 3650), ``AWS_ACCESS_KEY_ID`` (optional: the archiver's key, checked against the file),
``S3_WAIT_SECONDS`` (how long to wait for SeaweedFS, default 120).
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

REQUIRED_IDENTITIES = ("admin", "archiver", "registrar", "auditor")
PLACEHOLDER_MARK = "CHANGE-ME"
DEFAULT_RETENTION_DAYS = 3650


class InitError(Exception):
    """The bucket or the identities are not as they must be; the message says what to do."""


@dataclass(frozen=True)
class Identity:
    """One S3 identity from the SeaweedFS ``-s3.config`` file."""

    name: str
    access_key: str
    secret_key: str
    actions: tuple[str, ...]


def load_identities(path: Path) -> dict[str, Identity]:
    """Return the identities of the SeaweedFS identities file by name, or raise InitError."""
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InitError(
            f"Identities file {path} not found: copy docker/seaweedfs/s3.example.json to "
            "docker/seaweedfs/s3.json and replace every CHANGE-ME key."
        ) from None
    except json.JSONDecodeError as error:
        raise InitError(f"Identities file {path} is not valid JSON: {error}") from None
    identities: dict[str, Identity] = {}
    for entry in raw.get("identities", []) if isinstance(raw, dict) else []:
        name = str(entry.get("name", ""))
        credentials = entry.get("credentials") or []
        if not name or not credentials:
            raise InitError(f"Identities file {path}: every identity needs a name and credentials.")
        first = credentials[0]
        access_key, secret_key = str(first.get("accessKey", "")), str(first.get("secretKey", ""))
        for credential in credentials:
            values = (str(credential.get("accessKey", "")), str(credential.get("secretKey", "")))
            if not all(values) or any(PLACEHOLDER_MARK in value for value in values):
                raise InitError(
                    f"Identities file {path}: identity '{name}' still has an empty or CHANGE-ME "
                    "key; generate one (e.g. `openssl rand -hex 20`) and restart seaweedfs."
                )
        actions = tuple(str(action) for action in entry.get("actions", []))
        identities[name] = Identity(name, access_key, secret_key, actions)
    missing = [name for name in REQUIRED_IDENTITIES if name not in identities]
    if missing:
        raise InitError(f"Identities file {path} lacks the identities: {', '.join(missing)}")
    keys = [identity.access_key for identity in identities.values()]
    if len(set(keys)) != len(keys):
        raise InitError(f"Identities file {path}: two identities share an access key.")
    return identities


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
"""Where the archiver may write (as archiver.stack.seaweed.ARCHIVER_PREFIXES): not releases/."""


def check_grants(identities: dict[str, Identity], bucket: str, archiver_key: str | None) -> list[str]:
    """Raise InitError if a documented grant is missing; return warnings about extra grants."""
    if archiver_key and identities["archiver"].access_key != archiver_key:
        raise InitError(
            "AWS_ACCESS_KEY_ID in .env is not the access key of the 'archiver' identity in "
            "docker/seaweedfs/s3.json: make them the same and run `docker compose up -d` again."
        )
    lock_reads = {
        f"GetObjectRetention:{bucket}",
        f"GetObjectLegalHold:{bucket}",
        f"GetBucketObjectLockConfiguration:{bucket}",
    }
    archiver_writes = {f"Write:{bucket}/{prefix}" for prefix in ARCHIVER_PREFIXES}
    expected = {
        "archiver": {f"Read:{bucket}", f"List:{bucket}"} | archiver_writes | lock_reads,
        "registrar": {f"Read:{bucket}", f"List:{bucket}", f"Write:{bucket}/releases/*"} | lock_reads,
        "auditor": {f"Read:{bucket}", f"List:{bucket}"} | lock_reads,
    }
    allowed_writes = {"archiver": archiver_writes, "registrar": {f"Write:{bucket}/releases/*"}}
    missing = [
        f"'{name}' lacks {', '.join(sorted(grants - set(identities[name].actions)))}"
        for name, grants in expected.items()
        if grants - set(identities[name].actions)
    ]
    if missing:
        raise InitError(
            f"The identities in docker/seaweedfs/s3.json do not grant what bucket '{bucket}' "
            f"needs: {'; '.join(missing)}. Compare with docker/seaweedfs/s3.example.json."
        )
    warnings = []
    for name in expected:
        actions = identities[name].actions
        broad = [
            action
            for action in actions
            if action.split(":")[0] in ("Admin", "Write", "WriteAcp", "Tagging", "DeleteBucket")
            and action not in allowed_writes.get(name, set())
        ]
        broad += [action for action in actions if action.split(":")[0].startswith("Put")]
        if broad:
            warnings.append(f"identity '{name}' has more grants than documented: {', '.join(broad)}")
    return warnings


def client_for(identity: Identity, endpoint: str, region: str) -> S3Client:
    """Return an S3 client that signs with ``identity``'s keys (never the ambient AWS_* ones)."""
    config = Config(
        retries={"max_attempts": 3, "mode": "standard"},
        s3={"addressing_style": "path"},
        connect_timeout=5,
        read_timeout=30,
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=identity.access_key,
        aws_secret_access_key=identity.secret_key,
        config=config,
    )


def wait_for_s3(client: S3Client, seconds: float) -> None:
    """Return when the S3 endpoint answers an authenticated request; raise InitError on timeout."""
    deadline = time.monotonic() + seconds
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            client.list_buckets()
            return
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied"):
                raise InitError(
                    f"SeaweedFS refused the 'admin' identity ({code}): restart the seaweedfs "
                    "service after editing docker/seaweedfs/s3.json."
                ) from None
            last = error
        except BotoCoreError as error:
            last = error
        time.sleep(2)
    raise InitError(f"SeaweedFS S3 did not answer within {seconds:.0f} s: {last}")


def error_code(error: ClientError) -> str:
    """Return the S3 error code of ``error``."""
    return str(error.response.get("Error", {}).get("Code", ""))


def retention_days(rule: dict[str, Any]) -> int:
    """Return a default retention rule's length in days (years count as 365 days)."""
    retention = rule.get("DefaultRetention", {})
    return int(retention.get("Days") or 0) or int(retention.get("Years") or 0) * 365


def ensure_bucket(admin: S3Client, bucket: str, days: int) -> list[str]:
    """Create ``bucket`` with Object Lock and a COMPLIANCE default retention; return what was done."""
    done = []
    try:
        admin.head_bucket(Bucket=bucket)
    except ClientError as error:
        if error_code(error) not in ("404", "NoSuchBucket", "NotFound"):
            raise InitError(f"Could not check bucket '{bucket}': {error}") from None
        admin.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
        done.append(f"created bucket '{bucket}' with Object Lock")

    try:
        lock = admin.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    except ClientError as error:
        if error_code(error) != "ObjectLockConfigurationNotFoundError":
            raise InitError(f"Could not read the Object Lock of '{bucket}': {error}") from None
        lock = {}
    if lock.get("ObjectLockEnabled") != "Enabled":
        raise InitError(
            f"Bucket '{bucket}' exists without Object Lock, so its objects are not protected. "
            "Object Lock can only be set when a bucket is created: choose another ARCHIVER_BUCKET "
            "or move the objects to a new bucket created by this script."
        )

    versioning = admin.get_bucket_versioning(Bucket=bucket).get("Status")
    if versioning != "Enabled":
        admin.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        done.append("turned versioning on")

    rule: dict[str, Any] = dict(lock.get("Rule", {}))
    mode = rule.get("DefaultRetention", {}).get("Mode")
    current = retention_days(rule)
    if mode == "COMPLIANCE" and current == days:
        return done
    if mode == "COMPLIANCE" and current > days:
        raise InitError(
            f"Bucket '{bucket}' keeps new objects for {current} days (COMPLIANCE); "
            f"ARCHIVER_RETENTION_DAYS={days} would shorten that. This script never shortens "
            "retention: set ARCHIVER_RETENTION_DAYS back, or change the default rule by hand "
            "as 'admin' after a documented decision."
        )
    admin.put_object_lock_configuration(
        Bucket=bucket,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": days}},
        },
    )
    done.append(f"default retention set to COMPLIANCE, {days} days (was {mode or 'none'}, {current})")
    return done


def check_access(identity: Identity, endpoint: str, region: str, bucket: str) -> None:
    """Raise InitError unless ``identity`` can list ``bucket`` with its own keys."""
    try:
        client_for(identity, endpoint, region).list_objects_v2(Bucket=bucket, MaxKeys=1)
    except (ClientError, BotoCoreError) as error:
        raise InitError(f"Identity '{identity.name}' cannot list bucket '{bucket}': {error}") from None


def positive_int(name: str, default: int) -> int:
    """Return the environment variable ``name`` as a positive int, or raise InitError."""
    text = os.environ.get(name, "").strip() or str(default)
    if not text.isdigit() or int(text) < 1:
        raise InitError(f"{name} must be a whole number of days above 0, not '{text}'.")
    return int(text)


def main() -> int:
    """Prepare the bucket; return the process exit status."""
    config = Path(os.environ.get("S3_CONFIG", "/etc/seaweedfs/s3.json"))
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "").strip() or "http://seaweedfs:8333"
    region = os.environ.get("AWS_DEFAULT_REGION", "").strip() or "us-east-1"
    bucket = os.environ.get("ARCHIVER_BUCKET", "").strip() or "social-archive"
    try:
        days = positive_int("ARCHIVER_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)
        wait = positive_int("S3_WAIT_SECONDS", 120)
        identities = load_identities(config)
        for warning in check_grants(identities, bucket, os.environ.get("AWS_ACCESS_KEY_ID")):
            print(f"warning: {warning}", flush=True)
        admin = client_for(identities["admin"], endpoint, region)
        wait_for_s3(admin, wait)
        for step in ensure_bucket(admin, bucket, days):
            print(step, flush=True)
        for name in ("archiver", "registrar", "auditor"):
            check_access(identities[name], endpoint, region, bucket)
    except InitError as error:
        print(f"seaweedfs-init: {error}", file=sys.stderr, flush=True)
        return 1
    except (ClientError, BotoCoreError) as error:
        print(f"seaweedfs-init: S3 request failed: {error}", file=sys.stderr, flush=True)
        return 1
    print(
        f"seaweedfs-init: bucket '{bucket}' at {endpoint} is ready: versioned, Object Lock "
        f"COMPLIANCE {days} days; archiver, registrar and auditor can reach it.",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
