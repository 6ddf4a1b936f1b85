"""Documents end to end: two simulated days archived into a real SeaweedFS (capture, normalise,
render, seal), then diaries and a thread document checked as PDF/A, as text, for
reproducibility, and through ``archiver render --check`` (a tampered file fails)."""

from __future__ import annotations

import io
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pikepdf
import pyarrow.parquet as pq
import pypdf
import pytest
import yaml
from PIL import Image
from typer.testing import CliRunner

from archiver.cli import app
from archiver.config import Settings
from archiver.documents.pdfa import validate
from archiver.documents.render import (
    check_document,
    diary_pdf,
    embedded_files,
    render_diary,
    thread_pdf,
)
from archiver.documents.signing import verify_signature
from archiver.errors import DocumentError
from archiver.itemstore import read_account_items
from archiver.pipeline import Outcome, archive_day, archive_days
from archiver.runs import diary_key, manifest_key
from archiver.stack import start_stack, stop_stack
from archiver.storage import Bucket

from archive_checks import FIRST_DAY, archive_env, nightly_run_after, object_versions, write_accounts_file
from conftest import S3Stack, SandboxFactory, SandboxServer
from tsa import make_identity

pytestmark = pytest.mark.slow
DAYS = 2


@dataclass
class Archived:
    """Two archived days and what was used to archive them."""

    stack: S3Stack
    sandbox: SandboxServer
    bucket: Bucket
    outcomes: list[Outcome]
    directory: Path


@pytest.fixture(scope="module")
def archived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archived]:
    directory = tmp_path_factory.mktemp("render-e2e")
    start_stack(directory / "stack", retention_days=1, sandbox=False)
    sandboxes = SandboxFactory(directory)
    try:
        stack = S3Stack.open(directory / "stack")
        sandbox = sandboxes(seed=3, accounts=1, items_per_day=40)
        accounts = write_accounts_file(sandbox.world, sandbox.base_url, directory / "accounts.yaml")
        config = yaml.safe_load(accounts.read_text(encoding="utf-8"))
        Image.new("RGB", (120, 40), (20, 90, 160)).save(directory / "logo.png")
        config |= {"logo": "logo.png", "registration": {"diarienummer": "KS {yyyy}/{account}-{mm}{dd}"}}
        accounts.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        with pytest.MonkeyPatch.context() as patch:
            for name, value in archive_env(stack.env("archiver"), sandbox.world, accounts).items():
                patch.setenv(name, value)
            outcomes = []
            for offset in range(DAYS):  # one day at a time: the sandbox's clock moves each night
                day = FIRST_DAY + timedelta(days=offset)
                sandbox.set_clock(nightly_run_after(day))
                outcomes += archive_days(day, 1)
            yield Archived(stack, sandbox, Bucket(stack.bucket, stack.client("archiver")), outcomes, directory)
    finally:
        sandboxes.stop_all()
        stop_stack(directory / "stack")


def _days() -> list[str]:
    return [(FIRST_DAY + timedelta(days=offset)).isoformat() for offset in range(DAYS)]


def _text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return unicodedata.normalize("NFKC", "\n".join(page.extract_text() for page in reader.pages))


def _account(archived: Archived) -> str:
    return archived.sandbox.world.accounts[0].name


def test_each_run_renders_its_diary_and_its_manifest_lists_it(archived: Archived) -> None:
    assert [outcome.status for outcome in archived.outcomes] == ["complete"] * DAYS
    for outcome in archived.outcomes:
        run = outcome.run or {}
        key = diary_key(outcome.account, outcome.day)
        manifest = json.loads(archived.bucket.get(manifest_key(outcome.day, run["run_id"])))
        listed = [obj for obj in manifest["objects"] if obj["key"] == key]
        assert len(listed) == 1
        assert listed[0]["sha256"] == archived.bucket.ref(key).sha256


def test_every_diary_is_valid_pdfa_with_items_and_sources_embedded(archived: Archived) -> None:
    account = _account(archived)
    for day in _days():
        pdf = archived.bucket.get(diary_key(account, day))
        assert validate(pdf) == []
        files = embedded_files(pdf)
        items = json.loads(files["items.json"])
        sources = json.loads(files["sources.json"])
        assert sources["document"]["kind"] == "diary" and sources["document"]["day"] == day
        shown = [row for row in items if row["role"] == "shown"]
        assert sorted((r["item_key"], r["version"]) for r in shown) == sorted(
            (r["item_key"], r["version"]) for r in _rows_of_day(archived.bucket, account, day)
        )
        assert all("source_json" not in row for row in items)
        warcs = {source["warc_key"] for source in sources["warc_files"]}
        assert any(key.startswith(f"raw/facebook/{account}/{day[:4]}/{day[5:7]}/{day[8:10]}/") for key in warcs)
        assert all(re.fullmatch(r"[0-9a-f]{64}", source["sha256"]) for source in sources["warc_files"])
        with pikepdf.open(io.BytesIO(pdf)) as document:
            outline = [item.title for item in document.open_outline().root]
            assert len(outline) >= 2  # the front page and one bookmark per thread
            images = sum(
                1
                for page in document.pages
                for _, xobject in (page.Resources.get("/XObject") or {}).items()
                if xobject.get("/Subtype") == "/Image"
            )
        photos = [
            a for row in shown for a in row["attachments"] or [] if a["type"] == "photo" and a["media_key"]
        ]
        assert images >= (1 if photos else 0)


def _rows_of_day(bucket: Bucket, account: str, day: str) -> list[dict[str, Any]]:
    """The rows of the items files of ``day`` (every run of that day)."""
    rows: list[dict[str, Any]] = []
    for entry in bucket.list(f"items/platform=facebook/account={account}/date={day}/"):
        rows += pq.read_table(io.BytesIO(bucket.get(entry.key))).to_pylist()
    return rows


def test_diary_text_has_the_front_page_and_swedish_arabic_and_emoji_from_the_sandbox(archived: Archived) -> None:
    account = _account(archived)
    rows = [(day, row) for day in _days() for row in _rows_of_day(archived.bucket, account, day)]
    texts = {day: _text(archived.bucket.get(diary_key(account, day))) for day in _days()}
    first = texts[_days()[0]]
    assert "Dagbok" in first and "sida 1 av" in first and "Diarienummer" in first
    assert f"KS {_days()[0][:4]}/{account}-{_days()[0][5:7]}{_days()[0][8:10]}" in first
    found = {"swedish": False, "arabic": False, "emoji": False}
    for day, row in rows:
        text = row.get("text") or ""
        extracted = texts[day]
        swedish = re.findall(r"\w*[åäöÅÄÖ]\w*", text)
        if swedish and not found["swedish"]:
            assert swedish[0] in extracted
            found["swedish"] = True
        arabic = [word for word in re.findall(r"[\u0600-\u06ff]{4,}", text) if not re.search(r"[\u064b-\u065f]", word)]
        if arabic and not found["arabic"]:
            word = unicodedata.normalize("NFKC", arabic[0])
            assert word in extracted or word[::-1] in extracted
            found["arabic"] = True
        emoji = [char for char in text if unicodedata.category(char) == "So" and ord(char) > 0x1F000]
        if emoji and not found["emoji"]:
            assert emoji[0] in extracted
            found["emoji"] = True
    assert found == {"swedish": True, "arabic": True, "emoji": True}


def test_rendering_again_gives_the_same_bytes_and_writes_nothing(archived: Archived) -> None:
    account, day = _account(archived), _days()[-1]
    with pytest.MonkeyPatch.context() as patch:
        for name, value in _env(archived).items():
            patch.setenv(name, value)
        one = diary_pdf(archived.bucket, account, day)
        two = diary_pdf(archived.bucket, account, day)
        assert one.pdf == two.pdf == archived.bucket.get(diary_key(account, day))
        assert render_diary(archived.bucket, account, day)["written"] is False


def test_a_skipped_day_writes_no_new_diary(archived: Archived) -> None:
    client = archived.stack.client("auditor")
    before = object_versions(client, archived.stack.bucket)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in _env(archived).items():
            patch.setenv(name, value)
        outcomes = archive_day(FIRST_DAY)
    assert [outcome.status for outcome in outcomes] == ["skipped"]
    assert object_versions(client, archived.stack.bucket) == before


def _env(archived: Archived) -> dict[str, str]:
    return archive_env(archived.stack.env("archiver"), archived.sandbox.world, archived.directory / "accounts.yaml")


def _busiest_thread(archived: Archived) -> tuple[str, list[dict[str, Any]]]:
    rows = read_account_items(archived.bucket, "facebook", _account(archived)).to_pylist()
    threads: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        threads.setdefault(row["thread_key"], []).append(row)
    key = max(threads, key=lambda k: (len({r["item_key"] for r in threads[k]}), k))
    return key, threads[key]


def test_a_thread_document_shows_every_version_and_checks(archived: Archived, tmp_path: Path) -> None:
    key, rows = _busiest_thread(archived)
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in _env(archived).items():
            patch.setenv(name, value)
        result = runner.invoke(app, ["render", "--thread", key, "--lang", "en", "--out", str(tmp_path)])
        assert result.exit_code == 0, result.output
        # English is not the archive's language (sv): stored beside the Swedish key, never over it
        stored_key = f"documents/{_account(archived)}/threads/{re.sub(r'[^A-Za-z0-9_.-]', '-', key)}.en.pdf"
        pdf = archived.bucket.get(stored_key)
        assert (tmp_path / Path(stored_key).name).read_bytes() == pdf
        assert validate(pdf) == []
        items = json.loads(embedded_files(pdf)["items.json"])
        assert sorted((r["item_key"], r["version"]) for r in items) == sorted((r["item_key"], r["version"]) for r in rows)
        text = _text(pdf)
        assert "page 1 of" in text and "Thread" in text
        again = runner.invoke(app, ["render", "--thread", key, "--lang", "en"])
        assert again.exit_code == 0 and again.output.startswith("unchanged"), again.output
        checked = runner.invoke(app, ["render", "--check", stored_key])
        assert checked.exit_code == 0, checked.output


def test_a_thread_from_masked_rows_holds_no_masked_value(archived: Archived) -> None:
    key, rows = _busiest_thread(archived)
    originals = [row["text"] for row in rows if row.get("text") and len(row["text"]) > 12]
    masked = [{**row, "text": "[maskerat]" if row.get("text") else row.get("text"), "source_json": "{}"} for row in rows]
    with pytest.MonkeyPatch.context() as patch:
        for name, value in _env(archived).items():
            patch.setenv(name, value)
        rendered = thread_pdf(archived.bucket, key, rows=masked)
    assert validate(rendered.pdf) == []
    everything = _text(rendered.pdf) + embedded_files(rendered.pdf)["items.json"].decode("utf-8")
    assert originals and not [text for text in originals if text in everything]
    assert "[maskerat]" in everything


def test_check_passes_a_stored_diary_and_fails_a_tampered_copy(archived: Archived, tmp_path: Path) -> None:
    account, day = _account(archived), _days()[0]
    key = diary_key(account, day)
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in _env(archived).items():
            patch.setenv(name, value)
        assert check_document(archived.bucket, key, Settings()).matches
        good = tmp_path / "good.pdf"
        good.write_bytes(archived.bucket.get(key))
        result = runner.invoke(app, ["render", "--check", str(good)])
        assert result.exit_code == 0 and result.output.startswith("OK"), result.output
        tampered = tmp_path / "tampered.pdf"
        with pikepdf.open(good) as document:
            document.docinfo["/Title"] = "Något annat"
            document.save(tampered, deterministic_id=True)
        result = runner.invoke(app, ["render", "--check", str(tampered)])
        assert result.exit_code == 1
        assert "MISMATCH" in result.output and "altered" in result.output


def test_a_configured_seal_signs_the_stored_document_and_check_still_matches(
    archived: Archived, tmp_path: Path
) -> None:
    identity = make_identity("Exempelby kommun arkiv")
    cert, key_file = tmp_path / "seal.pem", tmp_path / "seal.key"
    cert.write_bytes(identity.cert_pem())
    key_file.write_bytes(identity.key_pem())
    thread, _ = _busiest_thread(archived)
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in _env(archived).items():
            patch.setenv(name, value)
        patch.setenv("ARCHIVER_SIGNING_CERT", str(cert))
        patch.setenv("ARCHIVER_SIGNING_KEY", str(key_file))
        rendered = thread_pdf(archived.bucket, thread, lang="sv")
        first = runner.invoke(app, ["render", "--thread", thread, "--lang", "sv"])
        assert first.exit_code == 0, first.output
        stored = archived.bucket.get(rendered.key)
        assert stored.startswith(rendered.pdf) and len(stored) > len(rendered.pdf)
        seal = verify_signature(stored, trust_roots=[identity.cert_pem()])
        assert seal["signed"] and seal["count"] == 1
        again = runner.invoke(app, ["render", "--thread", thread, "--lang", "sv"])
        assert again.exit_code == 0 and again.output.startswith("unchanged"), again.output
        checked = runner.invoke(app, ["render", "--check", rendered.key])
        assert checked.exit_code == 0 and "plus its seal" in checked.output, checked.output


def test_a_diary_names_its_sources_by_key_and_sha256_only_so_a_copied_bucket_checks_too(
    archived: Archived,
) -> None:
    pdf = archived.bucket.get(diary_key(_account(archived), _days()[0]))
    sources = json.loads(embedded_files(pdf)["sources.json"])
    files = sources["document"]["items_files"]
    assert files and all(set(entry) == {"key", "sha256", "size"} for entry in files)
    assert "version_id" not in json.dumps(sources)


def test_masked_rows_without_their_observation_time_are_refused_with_a_clear_error(archived: Archived) -> None:
    key, rows = _busiest_thread(archived)
    broken = [{**row, "observed_at": None} for row in rows]
    with pytest.MonkeyPatch.context() as patch:
        for name, value in _env(archived).items():
            patch.setenv(name, value)
        with pytest.raises(DocumentError, match="observed_at"):
            thread_pdf(archived.bucket, key, rows=broken)


def test_a_thread_document_lists_the_warc_that_evidences_a_deletion(archived: Archived) -> None:
    rows = read_account_items(archived.bucket, "facebook", _account(archived)).to_pylist()
    tombstone = next(row for row in rows if row["state"] == "deleted_at_source")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in _env(archived).items():
            patch.setenv(name, value)
        rendered = thread_pdf(archived.bucket, tombstone["thread_key"])
    sources = json.loads(embedded_files(rendered.pdf)["sources.json"])
    assert tombstone["raw_ref"] in {entry["warc_key"] for entry in sources["warc_files"]}


def test_the_front_page_names_runs_counts_sources_and_software_and_items_their_class_and_utc_time(
    archived: Archived,
) -> None:
    from archiver import __version__

    account, day = _account(archived), _days()[1]
    pdf = archived.bucket.get(diary_key(account, day))
    text = _text(pdf)
    compact = "".join(text.split())
    sources = json.loads(embedded_files(pdf)["sources.json"])
    assert sources["warc_files"]
    for warc in sources["warc_files"]:  # each source WARC with its sha256
        assert warc["sha256"] in compact and warc["warc_key"].rsplit("/", 1)[-1] in compact
    runs = {row["run_id"] for row in _rows_of_day(archived.bucket, account, day)}
    assert runs and all(run in compact for run in runs)
    assert "Start(UTC)" in compact and f"social-archiver{__version__}" in compact
    assert "Nya" in text and ("Inkommen" in text or "Upprättad" in text) and "UTC)" in text
    kinds = {row["kind"] for row in _rows_of_day(archived.bucket, account, day)}
    labels = {"post": "Inlägg", "comment": "Kommentar", "reply": "Svar", "message": "Meddelande"}
    assert any(labels[kind] in text for kind in kinds if kind in labels)


def test_the_organisations_logo_is_drawn_on_the_front_page(archived: Archived) -> None:
    pdf = archived.bucket.get(diary_key(_account(archived), _days()[0]))
    with pikepdf.open(io.BytesIO(pdf)) as document:
        resources = document.pages[0].obj.get("/Resources", {})
        sizes = [
            (int(obj.get("/Width")), int(obj.get("/Height")))
            for obj in dict(resources.get("/XObject", {})).values()
            if obj.get("/Subtype") == "/Image"
        ]
    assert (120, 40) in sizes, f"the 120×40 logo from the accounts file is not on the first page: {sizes}"


def test_a_diary_in_another_language_never_replaces_the_registered_one(archived: Archived) -> None:
    account, day = _account(archived), _days()[0]
    swedish = archived.bucket.ref(diary_key(account, day))
    with pytest.MonkeyPatch.context() as patch:
        for name, value in _env(archived).items():
            patch.setenv(name, value)
        result = CliRunner().invoke(app, ["render", "--account", account, "--date", day, "--lang", "en"])
    assert result.exit_code == 0, result.output
    english = archived.bucket.get(diary_key(account, day).removesuffix(".pdf") + ".en.pdf")
    assert "page 1 of" in _text(english)
    assert archived.bucket.ref(diary_key(account, day)).version_id == swedish.version_id
