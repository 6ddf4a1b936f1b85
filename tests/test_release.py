"""Release packages end to end: two sandbox days archived into a real SeaweedFS, then
``archiver request`` as the registrar: the proposal, the package (PDF/A thread documents, cover
letter, decisions.json, manifest.json, SHA256SUMS, zip), what is stored under ``releases/``, and
that no masked personal data of the sandbox's residents is anywhere in it."""

from __future__ import annotations

import hashlib
import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pikepdf
import pypdf
import pytest
import yaml
from typer.testing import CliRunner

from archiver.cli import app
from archiver.config import Settings
from archiver.documents.pdfa import validate
from archiver.documents.render import embedded_files
from archiver.documents.thread import thread_name
from archiver.errors import ReleaseError
from archiver.release.decisions import Mask, read_decisions, write_decisions
from archiver.release.grounds import load_grounds
from archiver.release.package import ReleaseRequest, build_release, write_proposal
from archiver.release.store import release_key_prefix, safe_reference
from archiver.sandbox.world import personal_data
from archiver.search import SearchQuery
from archiver.stack import start_stack, stop_stack
from archiver.storage import Bucket

from archive_checks import FIRST_DAY, archived_sandbox, nightly_run_after, object_versions
from conftest import S3Stack, SandboxServer

pytestmark = pytest.mark.slow
DAYS = 2
REF = "KS 2026/123"
DECIDED_ON = date(2026, 11, 10)
IDENTIFIERS = ("personnummer", "samordningsnummer", "phone", "email", "address")
TEMPLATE_WORDS = (Path(__file__).resolve().parent.parent / "templates" / "documents" / "sv.j2").read_text("utf-8")


@dataclass
class Archive:
    """Two archived days of one sandbox account."""

    stack: S3Stack
    sandbox: SandboxServer
    accounts_file: Path
    directory: Path

    def env(self, identity: str) -> dict[str, str]:
        """Return the environment of ``identity`` working on this archive."""
        return {**self.stack.env(identity), "ARCHIVER_ACCOUNTS_FILE": str(self.accounts_file)}

    @property
    def account(self) -> str:
        """Return the archived account's name."""
        return self.sandbox.world.accounts[0].name

    def bucket(self, identity: str = "auditor") -> Bucket:
        """Return the bucket as ``identity`` sees it."""
        return Bucket(self.stack.bucket, self.stack.client(identity))


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    directory = tmp_path_factory.mktemp("release")
    with archived_sandbox(directory, seed=11, items_per_day=60, days=DAYS) as archived:
        yield Archive(archived.stack, archived.sandbox, archived.accounts_file, directory)


def _identity(patch: pytest.MonkeyPatch, archive: Archive, identity: str) -> None:
    for name in ("ARCHIVER_REGISTRAR_ACCESS_KEY_ID", "ARCHIVER_REGISTRAR_SECRET_ACCESS_KEY"):
        patch.delenv(name, raising=False)
    for name, value in archive.env(identity).items():
        patch.setenv(name, value)


@dataclass
class Released:
    """The package ``archiver request`` wrote for the whole archive."""

    out: Path
    output: str
    folder: Path
    zip_path: Path


@pytest.fixture(scope="module")
def released(archive: Archive) -> Released:
    out = archive.directory / "out"
    days = [(FIRST_DAY + timedelta(days=offset)).isoformat() for offset in range(DAYS)]
    with pytest.MonkeyPatch.context() as patch:
        _identity(patch, archive, "registrar")
        result = CliRunner().invoke(
            app,
            ["request", "--ref", REF, "--account", archive.account, "--from", days[0], "--to", days[-1],
             "--out", str(out), "--date", DECIDED_ON.isoformat(), "--decided-by", "Registrator Test"],
        )
    assert result.exit_code == 0, result.output
    return Released(out, result.output, out / safe_reference(REF), out / f"{safe_reference(REF)}.zip")


def _manifest(released: Released) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((released.folder / "manifest.json").read_text("utf-8"))
    return data


def _released_rows(released: Released) -> list[dict[str, Any]]:
    rows = []
    for pdf in sorted((released.folder / "threads").glob("*.pdf")):
        rows += json.loads(embedded_files(pdf.read_bytes())["items.json"])
    return rows


def _pdf_text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return unicodedata.normalize("NFKC", "\n".join(page.extract_text() or "" for page in reader.pages))


def _pdf_views(pdf: bytes) -> dict[str, str]:
    """Return everything a reader can see in ``pdf``, as text by view."""
    text = _pdf_text(pdf)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    views = {"text": text, "text joined": re.sub(r"\s+", " ", text)}
    views["bookmarks"] = json.dumps([str(o) for o in _flatten(reader.outline)], ensure_ascii=False)
    with pikepdf.open(io.BytesIO(pdf)) as document:
        views["docinfo"] = json.dumps({str(k): str(v) for k, v in document.docinfo.items()}, ensure_ascii=False)
        views["xmp"] = document.Root.Metadata.read_bytes().decode("utf-8")
        for name, spec in document.attachments.items():
            data = spec.get_file().read_bytes().decode("utf-8")
            views[f"embedded {name}"] = name + "\n" + data + json.dumps(json.loads(data), ensure_ascii=False)
    return views


def _flatten(outline: Any) -> Iterator[Any]:
    for entry in outline:
        if isinstance(entry, list):
            yield from _flatten(entry)
        else:
            yield getattr(entry, "title", entry)


def _truth_values(archive: Archive, item_keys: set[str]) -> dict[str, set[str]]:
    """Return the residents' identifiers (personnummer, samordningsnummer, phone, e-mail) the
    sandbox wrote into the released items, by category."""
    values: dict[str, set[str]] = {category: set() for category in IDENTIFIERS}
    native_ids = {key.split(":", 2)[2] for key in item_keys}
    last_day = FIRST_DAY + timedelta(days=DAYS - 1)
    for native_id, entries in personal_data(archive.sandbox.world, nightly_run_after(last_day)).items():
        for category, value in entries:
            if native_id in native_ids and category in values:
                values[category].add(value)
    return values


def _found(data: str, values: set[str]) -> set[str]:
    folded = data.casefold()
    return {value for value in values if value.casefold() in folded or json.dumps(value)[1:-1] in data}


def test_safe_reference() -> None:
    assert safe_reference("KS 2026/123") == "KS-2026-123"
    assert release_key_prefix(" KS 2026/123 ") == "releases/KS-2026-123/"
    for bad in ("", "  ", "//"):
        with pytest.raises(ReleaseError, match=r"(?i)reference"):
            safe_reference(bad)


def test_request_writes_proposal_package_and_zip_and_stores_them(archive: Archive, released: Released) -> None:
    safe = safe_reference(REF)
    assert (released.out / "decisions.yaml").is_file()
    assert "proposal" in released.output and "stored" in released.output
    names = sorted(str(p.relative_to(released.folder)) for p in released.folder.rglob("*") if p.is_file())
    assert {"följebrev.pdf", "decisions.json", "manifest.json", "SHA256SUMS"} <= set(names)
    threads = [name for name in names if name.startswith("threads/")]
    assert threads and all(name.endswith(".pdf") for name in threads)
    manifest = _manifest(released)
    assert manifest["format"] == "social-archive-release/1"
    assert manifest["reference"] == REF and manifest["decided_on"] == DECIDED_ON.isoformat()
    assert {f["name"] for f in manifest["files"]} == set(names) - {"manifest.json", "SHA256SUMS"}
    assert [t["file"] for t in manifest["threads"]] == threads
    assert all(t["items_files"] for t in manifest["threads"])
    # SHA256SUMS in sha256sum -c format over every other file
    sums = (released.folder / "SHA256SUMS").read_text("utf-8").splitlines()
    listed = {}
    for line in sums:
        digest, name = line.split("  ", 1)
        listed[name] = digest
    assert set(listed) == set(names) - {"SHA256SUMS"}
    for name, digest in listed.items():
        assert hashlib.sha256((released.folder / name).read_bytes()).hexdigest() == digest
    # the zip holds the folder, byte for byte, with the decision date as every timestamp
    with zipfile.ZipFile(released.zip_path) as archive_zip:
        infos = archive_zip.infolist()
        assert [i.filename for i in infos] == sorted(f"{safe}/{name}" for name in names)
        assert {i.date_time for i in infos} == {(2026, 11, 10, 0, 0, 0)}
        for info in infos:
            assert archive_zip.read(info) == (released.out / info.filename).read_bytes()
    # stored under releases/{safe ref}/ (the zip too), as the folder holds them
    bucket = archive.bucket()
    stored = {entry.key for entry in bucket.list(release_key_prefix(REF))}
    assert stored == {f"releases/{safe}/{name}" for name in names} | {f"releases/{safe}/{safe}.zip"}
    for key in stored:
        local = released.out / f"{safe}.zip" if key.endswith(".zip") else released.folder / key.split("/", 2)[2]
        assert bucket.get(key) == local.read_bytes()
    assert bucket.client.head_object(Bucket=bucket.name, Key=f"releases/{safe}/manifest.json")["ContentType"] == (
        "application/json"
    )
    # the working paper (with the values) is never stored
    assert not any(key.endswith(".yaml") for key in stored)


def test_every_pdf_is_valid_pdfa_and_shows_markers_naming_the_ground(released: Released) -> None:
    pdfs = sorted(released.folder.rglob("*.pdf"))
    for pdf in pdfs:
        assert validate(pdf.read_bytes()) == [], pdf.name
    texts = "\n".join(_pdf_text(p.read_bytes()) for p in (released.folder / "threads").glob("*.pdf"))
    assert re.search(r"\[MASKERAT: OSL \d+ kap\. \d+ §\]", re.sub(r"\s+", " ", texts))
    decisions = json.loads((released.folder / "decisions.json").read_text("utf-8"))
    assert decisions["reference"] == REF and decisions["masks"]
    assert all("value" not in mask for mask in decisions["masks"])


def test_no_masked_personal_data_anywhere_in_the_package(archive: Archive, released: Released) -> None:
    item_keys = {row["item_key"] for row in _released_rows(released)}
    truth = _truth_values(archive, item_keys)
    values = set().union(*truth.values())
    assert len(truth["personnummer"]) >= 2 and truth["phone"] and truth["email"], truth
    places: dict[str, str] = {}
    for path in sorted(released.out.rglob("*")):
        if not path.is_file() or path.name == "decisions.yaml":
            continue
        places[f"name {path.relative_to(released.out)}"] = str(path.relative_to(released.out))
        data = path.read_bytes()
        places[f"bytes {path.name}"] = data.decode("latin-1")
        if path.suffix == ".pdf":
            places |= {f"{path.name} {view}": text for view, text in _pdf_views(data).items()}
        elif path.suffix != ".zip":
            places[f"text {path.name}"] = data.decode("utf-8")
    with zipfile.ZipFile(released.zip_path) as archive_zip:
        places["zip names"] = "\n".join(archive_zip.namelist())
    bucket = archive.bucket()
    for entry in bucket.list(release_key_prefix(REF)):
        places[f"stored {entry.key}"] = entry.key + bucket.get(entry.key).decode("latin-1")
    leaks = {where: _found(data, values) for where, data in places.items()}
    assert {where: found for where, found in leaks.items() if found} == {}
    # and the values were there to mask: the archive holds them in these items
    archived = json.dumps(_unmasked_texts(archive, item_keys), ensure_ascii=False)
    assert _found(archived, values) == values


def _unmasked_texts(archive: Archive, item_keys: set[str]) -> list[str]:
    from archiver.itemstore import read_account_items

    table = read_account_items(archive.bucket(), "facebook", archive.account)
    return [row["text"] or "" for row in table.to_pylist() if row["item_key"] in item_keys]


def _thread_with_masks(released: Released) -> dict[str, Any]:
    """Return the manifest entry of the thread with the most masked identifiers (at least two)."""
    masks = json.loads((released.folder / "decisions.json").read_text("utf-8"))["masks"]
    identifiers = [m for m in masks if m["category"] in IDENTIFIERS and m["occurrences"] and m["item_keys"]]

    def count(entry: dict[str, Any]) -> int:
        items = json.loads(embedded_files((released.folder / entry["file"]).read_bytes())["items.json"])
        keys = {row["item_key"] for row in items}
        return sum(1 for mask in identifiers if keys & set(mask["item_keys"]))

    threads = sorted(((count(t), t["file"], t) for t in _manifest(released)["threads"]), key=lambda c: (-c[0], c[1]))
    assert threads[0][0] >= 2
    return threads[0][2]


def _request(archive: Archive, out: Path, ref: str, thread_key: str, decisions: Path | None = None) -> ReleaseRequest:
    scope = SearchQuery(accounts=(archive.account,), thread_key=thread_key)
    return ReleaseRequest(ref, scope, out, decisions, "sv", DECIDED_ON, "Registrator Test")


def _word_to_add(rows: list[dict[str, Any]]) -> str:
    """Return a word of a resident's text that is not part of the documents' own wording."""
    for row in rows:
        for word in re.findall(r"[A-Za-zÅÄÖåäö]{8,}", row["text"] or ""):
            if row["record_class"] == "inkommen" and word.casefold() not in TEMPLATE_WORDS.casefold():
                return word
    raise AssertionError("no resident word to mask")


def test_decisions_round_trip_idempotence_and_refusals(
    archive: Archive, released: Released, monkeypatch: pytest.MonkeyPatch
) -> None:
    _identity(monkeypatch, archive, "registrar")
    settings = Settings()
    grounds = load_grounds(settings)
    thread = _thread_with_masks(released)
    out = archive.directory / "round-trip"
    ref = "KS 2026/200"
    first = build_release(_request(archive, out, ref + "-proposal", thread["thread_key"]), settings)
    assert first.proposal_written and first.stored
    proposal = read_decisions(first.decisions_file, grounds)
    identifiers = [m for m in proposal.masks if m.category in IDENTIFIERS and m.decision == "accept"]
    assert len(identifiers) >= 2
    rejected = identifiers[0]
    thread_pdf_name = thread["file"]
    before = _pdf_text((first.directory / thread_pdf_name).read_bytes())
    added_value = _word_to_add(json.loads(embedded_files((first.directory / thread_pdf_name).read_bytes())["items.json"]))
    assert added_value.casefold() in before.casefold()
    # the registrar rejects one mask and adds one by value
    proposal.reference = ref
    rejected.decision = "reject"
    proposal.masks.append(
        Mask(id="m900", value=added_value.upper(), category="other", ground=grounds.categories["other"],
             decision="accept", origin="added", item_keys=[])
    )
    edited = archive.directory / "edited.yaml"
    write_decisions(proposal, edited, grounds)
    package = build_release(_request(archive, out, ref, thread["thread_key"], edited), settings)
    assert not package.proposal_written and package.stored
    text = re.sub(r"\s+", " ", _pdf_text((package.directory / thread_pdf_name).read_bytes()))
    assert rejected.value in text or rejected.value in _pdf_text((package.directory / thread_pdf_name).read_bytes())
    assert added_value.casefold() not in text.casefold()
    for mask in identifiers[1:]:
        assert mask.value not in text
    # the same inputs again: the same bytes, nothing new stored
    versions = object_versions(archive.stack.client("admin"), archive.stack.bucket)
    again = build_release(_request(archive, out, ref, thread["thread_key"], edited), settings)
    assert again.stored == [] and len(again.already_stored) == len(package.stored)
    assert again.files == package.files
    # different content under the same reference is refused, nothing written
    proposal.masks[-1].decision = "reject"
    write_decisions(proposal, edited, grounds)
    with pytest.raises(ReleaseError, match=r"stored already.*new reference"):
        build_release(_request(archive, out, ref, thread["thread_key"], edited), settings)
    assert object_versions(archive.stack.client("admin"), archive.stack.bucket) == versions
    # a decisions file that lacks a mask the archive proposes is refused, naming its category
    proposal.masks = [m for m in proposal.masks if m.id != identifiers[1].id]
    proposal.reference = "KS 2026/201"
    write_decisions(proposal, edited, grounds)
    with pytest.raises(ReleaseError, match=rf"(?s)does not decide 1 mask.*{identifiers[1].category}") as error:
        build_release(_request(archive, out, "KS 2026/201", thread["thread_key"], edited), settings)
    assert identifiers[1].value not in str(error.value)


def test_wrong_reference_in_decisions_and_empty_scope_are_refused(
    archive: Archive, released: Released, monkeypatch: pytest.MonkeyPatch
) -> None:
    _identity(monkeypatch, archive, "registrar")
    out = archive.directory / "refused"
    thread = _thread_with_masks(released)
    with pytest.raises(ReleaseError, match="is for reference"):
        build_release(_request(archive, out, "KS 2026/999", thread["thread_key"], released.out / "decisions.yaml"))
    scope = SearchQuery(accounts=(archive.account,), text="no resident ever writes this qzxw")
    with pytest.raises(ReleaseError, match="matched nothing"):
        build_release(ReleaseRequest("KS 2026/998", scope, out))
    result = CliRunner().invoke(
        app, ["request", "--ref", "KS 2026/998", "--account", archive.account, "--text", "qzxw", "--out", str(out)]
    )
    assert result.exit_code == 1 and "matched nothing" in result.output


def test_the_archiver_identity_cannot_store_a_release(
    archive: Archive, released: Released, monkeypatch: pytest.MonkeyPatch
) -> None:
    _identity(monkeypatch, archive, "archiver")
    thread = _thread_with_masks(released)
    out = archive.directory / "as-archiver"
    with pytest.raises(ReleaseError, match="registrar"):
        build_release(_request(archive, out, "KS 2026/300", thread["thread_key"]))
    assert list(archive.bucket().list(release_key_prefix("KS 2026/300"))) == []
    # with the registrar's keys in ARCHIVER_REGISTRAR_* (as in the Airflow worker) it can
    registrar = archive.stack.env("registrar")
    monkeypatch.setenv("ARCHIVER_REGISTRAR_ACCESS_KEY_ID", registrar["AWS_ACCESS_KEY_ID"])
    monkeypatch.setenv("ARCHIVER_REGISTRAR_SECRET_ACCESS_KEY", registrar["AWS_SECRET_ACCESS_KEY"])
    package = build_release(_request(archive, out, "KS 2026/300", thread["thread_key"]))
    assert package.stored


def test_english_package_names_its_cover_letter_in_english(
    archive: Archive, released: Released, monkeypatch: pytest.MonkeyPatch
) -> None:
    _identity(monkeypatch, archive, "registrar")
    thread = _thread_with_masks(released)
    request = replace(_request(archive, archive.directory / "en", "KS 2026/400", thread["thread_key"]), lang="en")
    package = build_release(request)
    assert (package.directory / "cover-letter.pdf").is_file()
    text = "\n".join(_pdf_text(p.read_bytes()) for p in (package.directory / "threads").glob("*.pdf"))
    assert "[MASKED: OSL" in re.sub(r"\s+", " ", text)


def test_a_masked_value_left_in_the_package_stops_it_before_storing(
    archive: Archive, released: Released, monkeypatch: pytest.MonkeyPatch
) -> None:
    _identity(monkeypatch, archive, "registrar")
    settings = Settings()
    grounds = load_grounds(settings)
    thread = _thread_with_masks(released)
    out = archive.directory / "guard"
    ref = "KS 2026/500"
    proposal = write_proposal(_request(archive, out, ref, thread["thread_key"]), settings)
    decisions = read_decisions(proposal.decisions_file, grounds)
    # "Organisation" is also the documents' own wording: masking it in the items cannot remove it
    decisions.masks.append(
        Mask(id="m901", value="organisation", category="other", ground=grounds.categories["other"],
             decision="accept", origin="added", item_keys=[])
    )
    edited = archive.directory / "guard.yaml"
    write_decisions(decisions, edited, grounds)
    with pytest.raises(ReleaseError, match=r"(?s)still in the package.*other \(m901\).*Nothing was stored") as error:
        build_release(_request(archive, out, ref, thread["thread_key"], edited), settings)
    assert "organisation" not in str(error.value).casefold()  # never the value
    assert not (out / safe_reference(ref)).exists() and not (out / f"{safe_reference(ref)}.zip").exists()
    assert list(archive.bucket().list(release_key_prefix(ref))) == []


def test_a_registrar_reviews_the_proposal_first_then_previews_and_releases_under_one_reference(
    archive: Archive, released: Released, monkeypatch: pytest.MonkeyPatch
) -> None:
    _identity(monkeypatch, archive, "registrar")
    thread = _thread_with_masks(released)
    out, ref = archive.directory / "reviewed", "KS 2026/410"
    common = ["request", "--ref", ref, "--account", archive.account, "--thread", thread["thread_key"], "--out", str(out)]
    proposed = CliRunner().invoke(app, [*common, "--propose-only"])
    assert proposed.exit_code == 0, proposed.output
    decisions_file = out / "decisions.yaml"
    assert "proposal" in proposed.output and decisions_file.is_file()
    assert not (out / safe_reference(ref)).exists() and list(archive.bucket().list(release_key_prefix(ref))) == []
    edited = yaml.safe_load(decisions_file.read_text("utf-8"))
    edited["masks"][0]["decision"] = "reject"
    decisions_file.write_text(yaml.safe_dump(edited, allow_unicode=True), encoding="utf-8")
    preview = CliRunner().invoke(app, [*common, "--decisions", str(decisions_file), "--no-store"])
    assert preview.exit_code == 0, preview.output
    assert (out / safe_reference(ref) / "manifest.json").is_file() and "not stored" in preview.output
    assert list(archive.bucket().list(release_key_prefix(ref))) == []
    final = CliRunner().invoke(app, [*common, "--decisions", str(decisions_file)])
    assert final.exit_code == 0, final.output
    stored = json.loads(archive.bucket().get(release_key_prefix(ref) + "decisions.json"))
    assert "reject" in {mask["decision"] for mask in stored["masks"]}


# --- review fixes, on an archive of crafted X rows (its own SeaweedFS) --------------------------

X_ACCOUNTS = {
    "organisation": "Exempelby kommun",
    "accounts": [{"name": "kommun-x", "platform": "x", "id": "333", "token_env": "X_TOKEN"}],
}
X_DAY = "2026-11-01"


def _x_row(native_id: str, hour: int, text: str, **fields: Any) -> dict[str, Any]:
    from datetime import UTC, datetime

    from archiver.items import content_sha256

    at = datetime(2026, 11, 1, hour, tzinfo=UTC)
    row: dict[str, Any] = {
        "item_key": f"x:333:{native_id}", "platform": "x", "account_id": "333", "kind": "comment",
        "native_id": native_id, "parent_key": "x:333:1", "thread_key": "x:333:1", "author_id": "333",
        "author_name": "Exempelby kommun", "from_account": False, "record_class": "inkommen", "text": text,
        "attachments": [], "permalink": None, "created_at": at, "edited_at": None, "visibility": "public",
        "state": "present", "version": 1, "first_seen_at": at, "observed_at": at, "run_id": "kommun-x_run",
        "raw_ref": None, "raw_sha256": None, "source_json": "{}", "imported": False, **fields,
    }  # fmt: skip
    row["content_sha256"] = content_sha256(row)
    return row


X_ROWS = [
    _x_row("1", 8, "Välkommen på öppet hus!", kind="post", parent_key=None, from_account=True,
           record_class="upprättad", permalink="https://x.com/exempelby/status/1"),
    _x_row("2", 9, "Hej, jag heter Per Ekström och bor vid torget", author_id="987654",
           author_name="Per Ekström", permalink="https://x.com/perekstrom82/status/2"),
    _x_row("3", 10, "@perekstrom82 Vi svarar på Per Ekströms fråga i morgon", kind="reply", parent_key="x:333:2",
           from_account=True, record_class="upprättad", permalink="https://x.com/exempelby/status/3"),
]  # fmt: skip


@pytest.fixture(scope="module")
def x_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    from archiver.itemstore import write_items
    from archiver.stack import identity_env, stack_client

    directory = tmp_path_factory.mktemp("release-x")
    (directory / "accounts.yaml").write_text(yaml.safe_dump(X_ACCOUNTS, allow_unicode=True), encoding="utf-8")
    start_stack(directory / "stack", retention_days=1, sandbox=False)
    try:
        writer = Bucket("social-archive", stack_client("archiver", directory / "stack"))
        write_items(writer, X_ROWS, "x", "kommun-x", X_DAY, "kommun-x_20261101T230000000000Z")
        env = identity_env("registrar", directory / "stack") | {"ARCHIVER_ACCOUNTS_FILE": str(directory / "accounts.yaml")}
        (directory / "env.json").write_text(json.dumps(env), encoding="utf-8")
        yield directory
    finally:
        stop_stack(directory / "stack")


def _package_places(folder: Path) -> dict[str, str]:
    """Return every view of every file of a package folder (and its zip), by place."""
    places: dict[str, str] = {}
    for path in sorted(folder.parent.rglob("*")):
        if not path.is_file() or path.name == "decisions.yaml":
            continue
        places[f"name {path.relative_to(folder.parent)}"] = str(path.relative_to(folder.parent))
        data = path.read_bytes()
        if path.suffix == ".pdf":
            places |= {f"{path.name} {view}": text for view, text in _pdf_views(data).items()}
        elif path.suffix != ".zip":
            places[f"text {path.name}"] = data.decode("utf-8")
    return places


def test_x_handles_genitive_surnames_and_author_ids_never_reach_the_package(
    x_archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The review's leaks: an X permalink's @handle, a name in the genitive where the detector
    finds only its first name, an author searched by platform id; and the guard must not stop a
    release on a short name ("Per") that is only part of the documents' own words ("Period")."""
    for name, value in json.loads((x_archive / "env.json").read_text("utf-8")).items():
        monkeypatch.setenv(name, value)
    for name in ("ARCHIVER_REGISTRAR_ACCESS_KEY_ID", "ARCHIVER_REGISTRAR_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    secret = {"perekstrom82", "Ekström", "Ekstrom", "987654"}
    for ref, scope in (
        ("KS 2026/700", SearchQuery(accounts=("kommun-x",))),
        ("KS 2026/701", SearchQuery(accounts=("kommun-x",), author="987654")),
    ):
        package = build_release(ReleaseRequest(ref, scope, x_archive / ref.replace("/", "-"), None, "sv", DECIDED_ON))
        assert package.stored
        proposal = yaml.safe_load(package.decisions_file.read_text("utf-8"))
        assert scope.author or "Per" in {mask["value"] for mask in proposal["masks"]}  # guarded, no false alarm
        places = _package_places(package.directory)
        assert "Period" in places["x-333-1.pdf text"]
        found = {where: _found(text, secret) for where, text in places.items()}
        assert {where: values for where, values in found.items() if values} == {}
    rows = _released_rows(Released(package.directory.parent, "", package.directory, package.zip_path))
    assert [row["permalink"] for row in rows][:2] == [
        "https://x.com/exempelby/status/1",
        "https://x.com/[MASKERAT: OSL 21 kap. 7 §]/status/2",
    ]


def test_a_decided_value_repeated_in_an_item_recorded_after_the_proposal_is_masked_there_too(tmp_path: Path) -> None:
    """The decisions file was written before a new comment repeated a decided personnummer: the
    accepted mask must cover the new item (undecided() sees nothing new: the value is decided)."""
    from archiver.release.decisions import propose
    from archiver.release.grounds import default_grounds
    from archiver.release.package import decide

    grounds = default_grounds()
    first = [_x_row("2", 9, "Mitt personnummer är 811218-9876", author_name="Per Ekström", author_id="9")]
    later = [*first, _x_row("4", 11, "Du skrev 811218-9876: ta bort det", from_account=True)]
    proposal = propose(REF, first, grounds)
    path = tmp_path / "mine.yaml"
    write_decisions(proposal, path, grounds)
    request = ReleaseRequest(REF, SearchQuery(), tmp_path / "out", path)
    request.out.mkdir()
    decisions, _, proposed = decide(request, later, grounds)
    number = next(mask for mask in decisions.masks if mask.value == "811218-9876")
    assert not proposed and number.item_keys == ["x:333:2", "x:333:4"]


def test_an_image_withheld_by_its_sha256_is_nowhere_in_the_preview(
    archive: Archive, released: Released, monkeypatch: pytest.MonkeyPatch
) -> None:
    _identity(monkeypatch, archive, "registrar")
    pictured = [
        (row["thread_key"], attachment["media_sha256"])
        for row in _released_rows(released)
        for attachment in row["attachments"] or []
        if (attachment.get("mime") or "").startswith("image/") and attachment.get("media_sha256")
    ]
    assert pictured, "the sandbox archive has no stored image to withhold"
    thread_key, sha = pictured[0]
    out, ref = archive.directory / "withheld", "KS 2026/600"
    proposal = build_release(replace(_request(archive, out, ref, thread_key), store=False))
    decisions = read_decisions(proposal.decisions_file, load_grounds(Settings()))
    decisions.masks.append(Mask("", sha, "attachment", "osl-21-7", "accept", "added", []))
    write_decisions(decisions, out / "edited.yaml", load_grounds(Settings()))
    package = build_release(replace(_request(archive, out, ref, thread_key, out / "edited.yaml"), store=False))
    assert package.stored == [] and list(archive.bucket().list(release_key_prefix(ref))) == []
    for path in [*package.directory.rglob("*"), package.zip_path]:
        if path.is_file():
            assert sha.encode() not in path.read_bytes(), path
    rows = json.loads(embedded_files((package.directory / f"threads/{thread_name(thread_key)}.pdf").read_bytes())["items.json"])
    assert sha not in json.dumps(rows) and "[MASKERAT: OSL 21 kap. 7 §]" in json.dumps(rows, ensure_ascii=False)
