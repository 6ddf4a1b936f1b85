"""Enforced access against the real SeaweedFS: each identity's forbidden actions, and the S3 audit log.

``tests/test_stack.py`` already covers: auditor PUT, registrar PUT outside ``releases/``, deleting
a locked version (every identity and admin), shortening retention as admin, lock configuration
and bucket deletion by the archiver, anonymous GET/LIST/PUT and unknown keys. This file adds the
rest of each identity's forbidden actions and checks that reads reach the audit log.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import botocore
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from archiver.stack.seaweed import audit_log_path, identity_actions
from archiver.stack.state import StackPaths

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from conftest import S3Stack

PUBLIC_READ_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::*"}
    ],
}


def _key(prefix: str) -> str:
    return f"{prefix}/{uuid.uuid4().hex}.txt"


def _locked(s3_stack: S3Stack) -> tuple[str, str]:
    key = _key("raw/access")
    answer = s3_stack.client("archiver").put_object(
        Bucket=s3_stack.bucket, Key=key, Body=b"record", ChecksumAlgorithm="SHA256"
    )
    return key, answer["VersionId"]


def _refused(calls: dict[str, Callable[[], object]], codes: tuple[str, ...] = ("AccessDenied",)) -> None:
    """Assert every call is refused with one of ``codes``."""
    allowed = []
    for name, call in calls.items():
        try:
            call()
        except ClientError as error:
            code = str(error.response["Error"]["Code"])
            assert code in codes, f"{name}: {code}"
            continue
        allowed.append(name)
    assert allowed == [], f"allowed but must be refused: {allowed}"


def _batch_delete_refused(client: S3Client, bucket: str, key: str, version: str) -> None:
    answer = client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key, "VersionId": version}]})
    assert [entry["Code"] for entry in answer.get("Errors", [])] == ["AccessDenied"]
    assert answer.get("Deleted", []) == []


def _bucket_settings(client: S3Client, bucket: str) -> dict[str, Callable[[], object]]:
    """Calls that would weaken the bucket: lifecycle expiry, versioning, policy, ACL, lock."""
    return {
        "put lifecycle": lambda: client.put_bucket_lifecycle_configuration(
            Bucket=bucket,
            LifecycleConfiguration={
                "Rules": [
                    {
                        "ID": "expire",
                        "Status": "Enabled",
                        "Filter": {"Prefix": ""},
                        "Expiration": {"Days": 1},
                        "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
                    }
                ]
            },
        ),
        "delete lifecycle": lambda: client.delete_bucket_lifecycle(Bucket=bucket),
        "suspend versioning": lambda: client.put_bucket_versioning(
            Bucket=bucket, VersioningConfiguration={"Status": "Suspended"}
        ),
        "put policy": lambda: client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(PUBLIC_READ_POLICY)),
        "delete policy": lambda: client.delete_bucket_policy(Bucket=bucket),
        "public acl": lambda: client.put_bucket_acl(Bucket=bucket, ACL="public-read"),
        "weaker lock": lambda: client.put_object_lock_configuration(
            Bucket=bucket,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
            },
        ),
    }


def _retention_changes(
    client: S3Client, bucket: str, key: str, version: str
) -> dict[str, Callable[[], object]]:
    soon = datetime.now(UTC) + timedelta(minutes=5)
    later = datetime.now(UTC) + timedelta(days=30)
    return {
        "shorten retention": lambda: client.put_object_retention(
            Bucket=bucket,
            Key=key,
            VersionId=version,
            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": soon},
        ),
        "governance with bypass": lambda: client.put_object_retention(
            Bucket=bucket,
            Key=key,
            VersionId=version,
            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": later},
            BypassGovernanceRetention=True,
        ),
        "delete version with bypass": lambda: client.delete_object(
            Bucket=bucket, Key=key, VersionId=version, BypassGovernanceRetention=True
        ),
        "legal hold off": lambda: client.put_object_legal_hold(
            Bucket=bucket, Key=key, VersionId=version, LegalHold={"Status": "OFF"}
        ),
    }


def test_archiver_grant_is_on_its_prefixes_not_on_the_bucket_or_releases() -> None:
    writes = [action for action in identity_actions("archiver", "b") if action.startswith("Write")]
    assert "Write:b" not in writes and "Write:b/*" not in writes
    assert {"Write:b/raw/*", "Write:b/manifests/*", "Write:b/README*"} <= set(writes)
    assert not [action for action in writes if "releases" in action]


def test_archiver_cannot_write_releases_but_writes_its_own_prefixes(s3_stack: S3Stack) -> None:
    archiver, bucket = s3_stack.client("archiver"), s3_stack.bucket
    with pytest.raises(ClientError) as refused:
        archiver.put_object(Bucket=bucket, Key=_key("releases/forged"), Body=b"not a release")
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    for prefix in ("raw/access", "catalog/access", "audits/access"):
        archiver.put_object(Bucket=bucket, Key=_key(prefix), Body=b"ok")


def test_auditor_cannot_write_delete_copy_tag_or_change_retention(s3_stack: S3Stack) -> None:
    key, version = _locked(s3_stack)
    auditor, bucket = s3_stack.client("auditor"), s3_stack.bucket
    _refused(
        {
            "delete (marker)": lambda: auditor.delete_object(Bucket=bucket, Key=key),
            "delete version": lambda: auditor.delete_object(Bucket=bucket, Key=key, VersionId=version),
            "copy": lambda: auditor.copy_object(
                Bucket=bucket, Key=_key("raw/copy"), CopySource=f"{bucket}/{key}"
            ),
            "tag": lambda: auditor.put_object_tagging(
                Bucket=bucket, Key=key, Tagging={"TagSet": [{"Key": "a", "Value": "b"}]}
            ),
            "multipart": lambda: auditor.create_multipart_upload(Bucket=bucket, Key=_key("raw/multipart")),
            **_retention_changes(auditor, bucket, key, version),
            **_bucket_settings(auditor, bucket),
        }
    )
    _batch_delete_refused(auditor, bucket, key, version)
    assert auditor.get_object(Bucket=bucket, Key=key, VersionId=version)["Body"].read() == b"record"


def test_registrar_writes_only_releases_and_cannot_touch_retention_or_the_bucket(s3_stack: S3Stack) -> None:
    key, version = _locked(s3_stack)
    registrar, bucket = s3_stack.client("registrar"), s3_stack.bucket
    released = _key("releases/req-access")
    registrar.copy_object(
        Bucket=bucket, Key=released, CopySource=f"{bucket}/{key}"
    )  # reads all, writes releases/
    _refused(
        {
            "delete outside releases": lambda: registrar.delete_object(Bucket=bucket, Key=key),
            "copy into documents": lambda: registrar.copy_object(
                Bucket=bucket, Key=_key("documents/registrar"), CopySource=f"{bucket}/{key}"
            ),
            "multipart outside releases": lambda: registrar.create_multipart_upload(
                Bucket=bucket, Key=_key("catalog/registrar")
            ),
            **_retention_changes(registrar, bucket, key, version),
            **_bucket_settings(registrar, bucket),
        }
    )
    _batch_delete_refused(registrar, bucket, key, version)


def test_archiver_cannot_delete_versions_shorten_retention_or_weaken_the_bucket(s3_stack: S3Stack) -> None:
    key, version = _locked(s3_stack)
    archiver, bucket = s3_stack.client("archiver"), s3_stack.bucket
    # suspending versioning on a locked bucket is refused as InvalidBucketState by the lock itself
    _refused(
        {**_retention_changes(archiver, bucket, key, version), **_bucket_settings(archiver, bucket)},
        codes=("AccessDenied", "InvalidBucketState"),
    )
    _batch_delete_refused(archiver, bucket, key, version)
    admin = s3_stack.client("admin")
    with pytest.raises(ClientError) as missing:
        admin.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert missing.value.response["Error"]["Code"] == "NoSuchLifecycleConfiguration"
    assert admin.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    retention = admin.get_object_retention(Bucket=bucket, Key=key, VersionId=version)["Retention"]
    assert retention["Mode"] == "COMPLIANCE"
    assert retention["RetainUntilDate"] > datetime.now(UTC) + timedelta(hours=23)


def test_anonymous_head_versions_delete_and_catalog_are_refused(s3_stack: S3Stack) -> None:
    key, version = _locked(s3_stack)
    anonymous = boto3.client(
        "s3",
        endpoint_url=s3_stack.endpoint_url,
        region_name=s3_stack.region,
        config=Config(signature_version=botocore.UNSIGNED, retries={"max_attempts": 1}),
    )
    bucket = s3_stack.bucket
    _refused(
        {
            "head": lambda: anonymous.head_object(Bucket=bucket, Key=key),
            "list versions": lambda: anonymous.list_object_versions(Bucket=bucket),
            "delete": lambda: anonymous.delete_object(Bucket=bucket, Key=key),
            "delete version": lambda: anonymous.delete_object(Bucket=bucket, Key=key, VersionId=version),
            "catalog": lambda: anonymous.get_object(Bucket=bucket, Key="catalog/index.html"),
            "readme": lambda: anonymous.get_object(Bucket=bucket, Key="README.md"),
        },
        codes=("AccessDenied", "403"),
    )


def _audit_records(
    s3_stack: S3Stack, match: Callable[[dict[str, Any]], bool], timeout: float = 10.0
) -> list[Any]:
    """Return the audit log records ``match`` accepts, waiting for SeaweedFS's asynchronous sender."""
    path = audit_log_path(StackPaths(s3_stack.directory))
    deadline = time.monotonic() + timeout
    while True:
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        found = [record for record in map(json.loads, lines) if match(record)]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_reads_and_refusals_are_in_the_audit_log_with_the_identity(s3_stack: S3Stack) -> None:
    key, _ = _locked(s3_stack)
    auditor = s3_stack.client("auditor")
    auditor.get_object(Bucket=s3_stack.bucket, Key=key)["Body"].read()
    refused = _key("raw/audit-refused")
    with pytest.raises(ClientError):
        auditor.put_object(Bucket=s3_stack.bucket, Key=refused, Body=b"x")
    reads = _audit_records(s3_stack, lambda r: r.get("key") == key and r.get("requester") == "auditor")
    assert [(r["operation"], r["status"], r["bucket"]) for r in reads] == [
        ("REST.GET.OBJECT", 200, s3_stack.bucket)
    ]
    denied = _audit_records(s3_stack, lambda r: r.get("key") == refused)
    assert [(r["requester"], r["status"], r["error_code"]) for r in denied] == [
        ("auditor", 403, "AccessDenied")
    ]
    text = audit_log_path(StackPaths(s3_stack.directory)).read_text(encoding="utf-8")
    assert all(secret not in text for _, secret in s3_stack.keys.values())


ARCHIVE_PREFIXES = ("items", "documents", "raw", "manifests", "audits", "catalog", "media")


def test_registrar_cannot_put_copy_or_upload_outside_releases(s3_stack: S3Stack) -> None:
    key, _ = _locked(s3_stack)
    registrar, bucket = s3_stack.client("registrar"), s3_stack.bucket
    calls: dict[str, Callable[[], object]] = {
        "put top-level": lambda: registrar.put_object(Bucket=bucket, Key=f"README-{uuid.uuid4().hex}.md", Body=b"x")
    }
    for prefix in ARCHIVE_PREFIXES:
        target = _key(f"{prefix}/registrar")
        calls[f"put {prefix}/"] = lambda target=target: registrar.put_object(
            Bucket=bucket, Key=target, Body=b"x"
        )
        calls[f"copy into {prefix}/"] = lambda target=target: registrar.copy_object(
            Bucket=bucket, Key=target, CopySource=f"{bucket}/{key}"
        )
        calls[f"multipart in {prefix}/"] = lambda target=target: registrar.create_multipart_upload(
            Bucket=bucket, Key=target
        )
    _refused(calls)
    upload = registrar.create_multipart_upload(Bucket=bucket, Key=_key("releases/req-multipart"))
    registrar.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])


def test_registrar_cannot_delete_a_locked_version_of_its_own_release(s3_stack: S3Stack) -> None:
    registrar, bucket = s3_stack.client("registrar"), s3_stack.bucket
    key = _key("releases/req-locked")
    answer = registrar.put_object(Bucket=bucket, Key=key, Body=b"released", ChecksumAlgorithm="SHA256")
    version = answer["VersionId"]
    _refused(
        {
            "delete version": lambda: registrar.delete_object(Bucket=bucket, Key=key, VersionId=version),
            **_retention_changes(registrar, bucket, key, version),
        }
    )
    _batch_delete_refused(registrar, bucket, key, version)
    assert registrar.get_object(Bucket=bucket, Key=key, VersionId=version)["Body"].read() == b"released"


def test_archiver_cannot_copy_or_upload_into_releases(s3_stack: S3Stack) -> None:
    key, _ = _locked(s3_stack)
    archiver, bucket = s3_stack.client("archiver"), s3_stack.bucket
    _refused(
        {
            "copy": lambda: archiver.copy_object(
                Bucket=bucket, Key=_key("releases/forged"), CopySource=f"{bucket}/{key}"
            ),
            "multipart": lambda: archiver.create_multipart_upload(Bucket=bucket, Key=_key("releases/forged")),
        }
    )
