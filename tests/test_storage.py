"""The bucket wrapper against the real SeaweedFS: checksummed writes and writes that never race."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from archiver.errors import StorageError
from archiver.storage import Bucket

from conftest import S3Stack


@pytest.fixture
def bucket(s3_stack: S3Stack) -> Bucket:
    return Bucket(s3_stack.bucket, s3_stack.client("archiver"))


def test_a_write_only_if_new_is_refused_when_the_key_exists(bucket: Bucket) -> None:
    key, data = f"media/sha256/test/{uuid.uuid4().hex}", b"same bytes"
    digest = hashlib.sha256(data).digest()
    first = bucket.put_stream(key, data, len(data), digest, only_new=True)
    with pytest.raises(StorageError) as refused:
        bucket.put_stream(key, data, len(data), digest, only_new=True)
    assert refused.value.context["code"] == "PreconditionFailed"
    assert bucket.ref(key).version_id == first.version_id


def test_two_runs_storing_the_same_media_at_once_make_one_version(
    bucket: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, data = f"media/sha256/test/{uuid.uuid4().hex}", b"photo bytes"
    monkeypatch.setattr(Bucket, "exists", lambda self, key: False)  # both runs checked before either wrote
    assert bucket.put_if_absent(key, data) is not None
    assert bucket.put_if_absent(key, data) is None
    versions = bucket.client.list_object_versions(Bucket=bucket.name, Prefix=key).get("Versions", [])
    assert len(versions) == 1


def test_a_body_that_does_not_match_its_checksum_is_refused(bucket: Bucket) -> None:
    key = f"raw/test/{uuid.uuid4().hex}"
    with pytest.raises(StorageError):
        bucket.put_stream(key, b"what was sent", 13, hashlib.sha256(b"something else").digest())
    assert not bucket.exists(key)
