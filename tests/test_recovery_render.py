"""Every document written is sealed: a render on demand (``archiver render``) as a run of its
own, a cleared render task of a failed run is refused, and a run killed after rendering its
diary is sealed with the diary by the next run. Real SeaweedFS and sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from archiver.cli import app
from archiver.documents.render import DOCUMENTS_ACCOUNT, RENDER, render_run, thread_document_key
from archiver.errors import ArchiverError, StorageError
from archiver.itemstore import read_account_items
from archiver.manifest import seal_run
from archiver.pipeline import archive_day, capture, normalise, render
from archiver.runs import diary_key, manifest_key
from archiver.storage import Bucket
from archiver.verify import Scope, verify_archive

from archive_checks import FIRST_DAY, archived_sandbox, nightly_run_after
from conftest import S3Stack, SandboxServer

pytestmark = pytest.mark.slow


@dataclass
class Archived:
    """One archived day of one account."""

    stack: S3Stack
    sandbox: SandboxServer
    bucket: Bucket
    env: dict[str, str]

    @property
    def account(self) -> str:
        """Return the account's name."""
        return self.sandbox.world.accounts[0].name


@pytest.fixture(scope="module")
def archived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archived]:
    with archived_sandbox(tmp_path_factory.mktemp("recovery-render"), seed=11, items_per_day=12) as world:
        yield Archived(world.stack, world.sandbox, Bucket(world.stack.bucket, world.stack.client("archiver")), world.env)


@pytest.fixture
def env(archived: Archived, monkeypatch: pytest.MonkeyPatch) -> Archived:
    for name, value in archived.env.items():
        monkeypatch.setenv(name, value)
    return archived


def _manifests(bucket: Bucket) -> set[str]:
    return {entry.key for entry in bucket.list("manifests/")}


def _unlisted(bucket: Bucket) -> list[str]:
    report = verify_archive(bucket, Scope())
    return [f"{finding.key}: {finding.message}" for finding in report.findings if finding.check == "unlisted"]


def test_documents_rendered_on_the_command_line_are_sealed_as_render_runs(env: Archived) -> None:
    bucket, account, day = env.bucket, env.account, FIRST_DAY.isoformat()
    thread = read_account_items(bucket, "facebook", account).to_pylist()[0]["thread_key"]
    before = _manifests(bucket)
    started = datetime.now(UTC)

    first = CliRunner().invoke(app, ["render", "--thread", thread])
    second = CliRunner().invoke(app, ["render", "--account", account, "--date", day, "--lang", "en"])

    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    new = sorted(_manifests(bucket) - before)
    assert len(new) == 2 and "sealed" in first.output and "sealed" in second.output
    manifests = [json.loads(bucket.get(key)) for key in new]
    today = started.astimezone(ZoneInfo("Europe/Stockholm")).date().isoformat()
    by_key = {m["objects"][0]["key"]: m for m in manifests}
    thread_manifest = by_key[thread_document_key(account, thread)]
    english_diary = diary_key(account, day).removesuffix(".pdf") + ".en.pdf"  # beside the Swedish one
    diary_manifest = by_key[english_diary]
    assert thread_manifest["day"] == today and diary_manifest["day"] == day
    for manifest, document in ((thread_manifest, thread_document_key(account, thread)), (diary_manifest, english_diary)):
        assert manifest["purpose"] == RENDER and manifest["status"] == "complete"
        # on-demand renders have a chain of their own: never a fork of the account's nightly chain
        assert manifest["run_id"].startswith(f"{DOCUMENTS_ACCOUNT}_") and manifest["run_id"].endswith("Z")
        assert manifest["account"] == DOCUMENTS_ACCOUNT
        assert manifest_key(manifest["day"], manifest["run_id"]) in new
        assert [o["version_id"] for o in manifest["objects"]] == [bucket.ref(document).version_id]
    assert _unlisted(bucket) == []

    again = CliRunner().invoke(app, ["render", "--thread", thread])
    assert again.exit_code == 0 and again.output.startswith("unchanged") and "sealed" not in again.output
    assert len(_manifests(bucket) - before) == 2  # nothing written, nothing sealed


def test_a_render_whose_seal_failed_is_sealed_by_the_next_render(
    env: Archived, monkeypatch: pytest.MonkeyPatch
) -> None:
    import archiver.documents.render as render_module

    bucket, account = env.bucket, env.account
    thread = read_account_items(bucket, "facebook", account).to_pylist()[-1]["thread_key"]
    with pytest.MonkeyPatch.context() as broken:

        def no_seal(*_: object, **__: object) -> None:
            raise StorageError("the store went away while sealing")

        broken.setattr(render_module, "seal_run", no_seal)
        failed = CliRunner().invoke(app, ["render", "--thread", thread, "--lang", "en"])  # a new document
        assert failed.exit_code == 1
    english = thread_document_key(account, thread).removesuffix(".pdf") + ".en.pdf"
    assert any(line.startswith(english) for line in _unlisted(bucket))
    again = CliRunner().invoke(app, ["render", "--thread", thread, "--lang", "en"])
    assert again.exit_code == 0 and "sealed" in again.output, again.output
    assert _unlisted(bucket) == []


def test_clearing_the_render_task_of_a_failed_run_is_refused(env: Archived) -> None:
    bucket, day = env.bucket, FIRST_DAY + timedelta(days=1)
    env.sandbox.set_clock(nightly_run_after(day))
    run = normalise(capture(env.account, day.isoformat()))
    failed = seal_run(bucket, {**run, "status": "failed", "error": "render failed: the task was killed"})
    assert failed["status"] == "failed"

    with pytest.raises(ArchiverError, match=r"sealed already.*--force"):
        render_run(bucket, run)
    manifest = json.loads(bucket.get(manifest_key(day.isoformat(), run["run_id"])))
    assert manifest["status"] == "failed"


def test_a_run_killed_after_rendering_is_sealed_with_its_diary_by_the_next_run(env: Archived) -> None:
    bucket, day = env.bucket, FIRST_DAY + timedelta(days=2)
    env.sandbox.set_clock(nightly_run_after(day))
    killed = render(normalise(capture(env.account, day.isoformat())))  # then the task died: no seal
    [diary] = [o for o in killed["objects"] if o["key"] == diary_key(env.account, day.isoformat())]

    [outcome] = archive_day(day, accounts=[env.account])

    assert outcome.status == "complete"
    sealed = json.loads(bucket.get(manifest_key(day.isoformat(), killed["run_id"])))
    assert sealed["status"] == "failed" and "interrupted" in sealed["error"]
    listed = {(o["key"], o["version_id"]) for o in sealed["objects"]}
    assert (diary["key"], diary["version_id"]) in listed
    assert {(o["key"], o["version_id"]) for o in killed["objects"]} <= listed
    assert _unlisted(bucket) == []


def test_a_diary_already_listed_is_not_added_to_an_interrupted_run(env: Archived, tmp_path: Path) -> None:
    bucket, day = env.bucket, FIRST_DAY + timedelta(days=3)
    env.sandbox.set_clock(nightly_run_after(day))
    [outcome] = archive_day(day, accounts=[env.account])  # a complete run lists the diary
    killed = capture(env.account, day.isoformat(), force=True)  # then a forced run dies after capture

    [again] = archive_day(day, accounts=[env.account], force=True)

    assert outcome.status == again.status == "complete"
    sealed = json.loads(bucket.get(manifest_key(day.isoformat(), killed["run_id"])))
    assert diary_key(env.account, day.isoformat()) not in {o["key"] for o in sealed["objects"]}
