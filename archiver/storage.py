"""The archive bucket: every read and write of the archive goes through :class:`Bucket`.

Every PUT sends a SHA-256 checksum, which the server checks against the bytes it received, and
returns a :class:`StoredObject` (key, version id, sha256, size) for the run's manifest. The
endpoint and keys come from the standard ``AWS_*`` environment variables, so the same code runs
against the embedded SeaweedFS, AWS S3 or any other S3 server.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from archiver.errors import StorageError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@dataclass(frozen=True)
class StoredObject:
    """One object version written to the bucket, as a manifest lists it."""

    key: str
    version_id: str | None
    sha256: str
    size: int

    def to_dict(self) -> dict[str, Any]:
        """Return the object as a JSON-able dict."""
        return asdict(self)


@dataclass(frozen=True)
class ListedObject:
    """One key as listed in the bucket (its current version)."""

    key: str
    size: int
    last_modified: datetime


def sha256_hex(data: bytes) -> str:
    """Return the lower-case hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def s3_client(access_key_id: str | None = None, secret_access_key: str | None = None) -> S3Client:
    """Return a boto3 S3 client for the endpoint in ``AWS_ENDPOINT_URL`` (or AWS), with the given
    keys or, without them, the ``AWS_*`` environment's; path-style, retrying, checksums on PUT."""
    config = Config(
        retries={"max_attempts": 5, "mode": "standard"},
        s3={"addressing_style": "path"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    # a session of its own: boto3's default session caches the first credentials it saw
    session = boto3.session.Session(aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key)
    return session.client("s3", config=config)


class Bucket:
    """The archive bucket, opened with the identity in the environment."""

    def __init__(self, name: str, client: S3Client | None = None) -> None:
        self.name = name
        self._client = client

    @cached_property
    def client(self) -> S3Client:
        """Return the boto3 S3 client, created on first use from the ``AWS_*`` environment."""
        return self._client if self._client is not None else s3_client()

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> StoredObject:
        """Write ``data`` at ``key`` with a SHA-256 checksum; return what was stored."""
        return self.put_stream(key, data, len(data), hashlib.sha256(data).digest(), content_type)

    def put_stream(
        self,
        key: str,
        body: bytes | IO[bytes],
        size: int,
        sha256: bytes,
        content_type: str = "application/octet-stream",
        *,
        only_new: bool = False,
    ) -> StoredObject:
        """Write ``size`` bytes from ``body`` (bytes or a file positioned at its start) with their
        SHA-256 checksum ``sha256`` (the store refuses a body that does not match); return what was
        stored. ``only_new`` makes the write fail (StorageError, code PreconditionFailed) if ``key`` exists."""
        condition: dict[str, str] = {"IfNoneMatch": "*"} if only_new else {}
        try:
            answer = self.client.put_object(
                Bucket=self.name,
                Key=key,
                Body=body,
                ContentLength=size,
                ContentType=content_type,
                ChecksumSHA256=base64.b64encode(sha256).decode("ascii"),
                **condition,  # type: ignore[arg-type]
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            raise StorageError(f"Could not write s3://{self.name}/{key}: {error}", key=key, code=code) from error
        except BotoCoreError as error:
            raise StorageError(f"Could not write s3://{self.name}/{key}: {explain_storage_error(error)}", key=key) from error
        return StoredObject(key, answer.get("VersionId"), sha256.hex(), size)

    def put_if_absent(
        self, key: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> StoredObject | None:
        """Write ``data`` unless ``key`` already exists; return what was written, or None if it existed.

        The write is conditional (``If-None-Match: *``), so two runs storing the same key at the
        same moment make one version, not two.
        """
        if self.exists(key):
            return None
        try:
            return self.put_stream(key, data, len(data), hashlib.sha256(data).digest(), content_type, only_new=True)
        except StorageError as error:
            if error.context.get("code") == "PreconditionFailed":
                return None
            raise

    def get(self, key: str, version_id: str | None = None) -> bytes:
        """Return the bytes at ``key`` (the given version, or the current one)."""
        extra: dict[str, str] = {"VersionId": version_id} if version_id else {}
        try:
            answer = self.client.get_object(Bucket=self.name, Key=key, **extra)  # type: ignore[arg-type]
            return answer["Body"].read()
        except (ClientError, BotoCoreError) as error:
            raise StorageError(f"Could not read s3://{self.name}/{key}: {explain_storage_error(error)}", key=key) from error

    def ref(self, key: str) -> StoredObject:
        """Return the current version of ``key`` as a manifest lists it (reads it to hash it)."""
        return self.read_current(key)[0]

    def read_current(self, key: str) -> tuple[StoredObject, bytes]:
        """Return the current version of ``key`` as a manifest lists it, and its bytes (read once)."""
        try:
            head = self.client.head_object(Bucket=self.name, Key=key)
        except (ClientError, BotoCoreError) as error:
            raise StorageError(f"Could not read s3://{self.name}/{key}: {explain_storage_error(error)}", key=key) from error
        data = self.get(key, head.get("VersionId"))
        return StoredObject(key, head.get("VersionId"), sha256_hex(data), len(data)), data

    def exists(self, key: str) -> bool:
        """Return whether ``key`` has a current version."""
        try:
            self.client.head_object(Bucket=self.name, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise StorageError(f"Could not check s3://{self.name}/{key}: {error}", key=key) from error
        except BotoCoreError as error:
            raise StorageError(f"Could not check s3://{self.name}/{key}: {explain_storage_error(error)}", key=key) from error
        return True

    def list(self, prefix: str) -> Iterator[ListedObject]:
        """Yield every key under ``prefix`` in key order."""
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.name, Prefix=prefix):
                for entry in page.get("Contents", []):
                    yield ListedObject(entry["Key"], entry["Size"], entry["LastModified"])
        except (ClientError, BotoCoreError) as error:
            raise StorageError(f"Could not list s3://{self.name}/{prefix}: {explain_storage_error(error)}") from error


def explain_storage_error(error: Exception) -> str:
    """Return the error's text, with what to do when the S3 endpoint cannot be reached at all."""
    if isinstance(error, EndpointConnectionError):
        return (
            f"{error}. Nothing answers there: check AWS_ENDPOINT_URL, or start the embedded stack "
            "(`archiver stack up`, or `make demo`)."
        )
    return str(error)
