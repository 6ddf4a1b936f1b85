"""Render, store and check documents: diaries per account and day, thread documents on demand.

A document is rendered by ReportLab (:mod:`archiver.documents.layout`), finished as PDF/A-3b
with the items it shows embedded as ``items.json`` and its raw sources and identification as
``sources.json`` (:mod:`archiver.documents.pdfa`), and validated before it is stored. The same
items give the same bytes, so :func:`check_document` re-renders a stored document from the
bucket, using the identification embedded in it, and compares the bytes.

Keys: ``documents/{account}/{yyyy}/{mm}/{account}_{yyyy-mm-dd}.pdf`` (diary) and
``documents/{account}/threads/{thread}.pdf`` (thread). Storing an identical document again
writes nothing.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pikepdf
from reportlab.platypus import Flowable, Image

from archiver import __version__
from archiver.config import Account, AccountsFile, Settings, find_account, load_accounts
from archiver.documents.diary import FrontMatter, diary_story, load_diary
from archiver.documents.fonts import MissingGlyphs
from archiver.documents.layout import ItemContext, PageText, build_pdf, plain, scaled_image, words
from archiver.documents.model import ItemsFile, Row, WarcHashes, history_of, latest_observed
from archiver.documents.pdfa import DocumentMeta, EmbeddedFile, finish, require_valid
from archiver.documents.signing import SigningSettings, increment_problems, sign
from archiver.documents.thread import load_thread_rows, thread_data, thread_name, thread_story
from archiver.errors import ConfigError, DocumentError, StorageError
from archiver.manifest import MANIFEST_PREFIX, lists_version, refuse_if_sealed, seal_run
from archiver.runs import RunRecord, diary_key, manifest_key
from archiver.storage import Bucket, sha256_hex

FORMAT = "social-archive-document/1"
ITEMS_FILE = "items.json"
SOURCES_FILE = "sources.json"
SOFTWARE = "social-archiver"
RENDER = "render"
"""Purpose of the run that seals a document rendered on demand (``archiver render``)."""


@dataclass
class Rendered:
    """A rendered document: its bytes, where it belongs and what it was rendered from."""

    pdf: bytes
    key: str
    identification: dict[str, Any]
    items: list[dict[str, Any]]
    pages_pdf: bytes = field(default=b"", repr=False)
    """The plain ReportLab output before finishing (kept only when asked, for the benchmark)."""


def thread_document_key(account: str, item_key: str) -> str:
    """Return ``documents/{account}/threads/{thread}.pdf`` for a thread's root item key."""
    return f"documents/{account}/threads/{thread_name(item_key)}.pdf"


def language_key(key: str, lang: str, settings: Settings) -> str:
    """Return where a document in ``lang`` is stored: ``key`` in the archive's own language
    (``ARCHIVER_DOCUMENT_LANGUAGE``), ``….{lang}.pdf`` in another, so a translation never replaces
    the document a registrar registered."""
    return key if lang == settings.document_language else f"{key.removesuffix('.pdf')}.{lang}.pdf"


def _language(settings: Settings, lang: str | None) -> str:
    chosen = lang or settings.document_language
    words(chosen)  # raises DocumentError naming the languages for an unknown one
    return chosen


def _front(accounts: AccountsFile, account: Account, day: str | None) -> FrontMatter:
    registration: dict[str, str | None] = {}
    fields = {"account": account.name, "platform": account.platform}
    if day:
        fields |= {"date": day, "yyyy": day[:4], "mm": day[5:7], "dd": day[8:10]}
    for name in ("diarienummer", "registreringsdatum"):
        pattern = getattr(accounts.registration, name)
        try:
            registration[name] = pattern.format_map(fields) if pattern and day else None
        except (KeyError, ValueError, IndexError) as error:
            raise ConfigError(
                f"registration.{name} {pattern!r} in the accounts file cannot be filled in ({error}); "
                f"use only these placeholders: {', '.join('{' + f + '}' for f in fields)}."
            ) from None
    return FrontMatter(accounts.organisation, registration, f"{SOFTWARE} {__version__}", _logo(accounts.logo))


def _logo(path: Path | None) -> Flowable | None:
    if path is None:
        return None
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"The logo {path} named in the accounts file cannot be read: {error}") from None
    image = scaled_image(data)
    if not isinstance(image, Image):
        raise ConfigError(f"The logo {path} is not an image Pillow can read; use a PNG or JPEG file.")
    height = 14.0 * 2.8346
    image.drawWidth, image.drawHeight = image.drawWidth * height / image.drawHeight, height
    return image


def _media(bucket: Bucket) -> Any:
    def read(key: str) -> bytes | None:
        try:
            return bucket.get(key)
        except StorageError:
            return None

    return read


def _file_identity(ref: dict[str, Any]) -> dict[str, Any]:
    """Return what identifies a source file anywhere (key, sha256, size): no version id, which
    belongs to one storage system and changes when the bucket is copied or migrated."""
    return {name: ref[name] for name in ("key", "sha256", "size")}


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")


def _finish(
    chunks_for: Any,
    ctx: ItemContext,
    identification: dict[str, Any],
    items: list[dict[str, Any]],
    sources: list[dict[str, Any]],
    meta: dict[str, Any],
    keep_pages: bool,
) -> tuple[bytes, bytes]:
    """Return (PDF/A bytes, plain ReportLab bytes if ``keep_pages``)."""
    w = words(ctx.lang)
    pages = build_pdf(
        chunks_for(ctx),
        PageText(meta["header"], f"{plain(w.labels['document_id'])}: {identification['id']}", ctx.lang),
        meta["title"],
        w.language,
    )
    files = [
        EmbeddedFile(ITEMS_FILE, _json(items), "application/json", "Item versions shown in this document", "Source"),
        EmbeddedFile(
            SOURCES_FILE,
            _json({"document": identification, "warc_files": sources}),
            "application/json",
            "Raw sources (WARC files, records, sha256) and what this document was rendered from",
            "Source",
        ),
    ]
    document = DocumentMeta(
        title=meta["title"],
        creator=meta["organisation"],
        description=meta["subject"],
        identifier=identification["id"],
        language=w.language,
        created=meta["created"],
        source=meta["source"],
        keywords=meta["keywords"],
        missing_glyphs=ctx.missing.chars,
    )
    pdf = finish(pages, document, files)
    require_valid(pdf, identification["id"])
    return pdf, pages if keep_pages else b""


def diary_pdf(
    bucket: Bucket,
    account_name: str,
    day: str,
    settings: Settings | None = None,
    lang: str | None = None,
    known_objects: Iterable[dict[str, Any]] = (),
    keep_pages: bool = False,
) -> Rendered:
    """Return the diary of ``account_name`` for ``day`` (YYYY-MM-DD), rendered from the bucket.

    ``known_objects`` are objects a run has written but not yet sealed (their sha256 is taken
    from there rather than from a manifest).
    """
    settings = settings or Settings()
    lang = _language(settings, lang)
    try:
        date.fromisoformat(day)
    except ValueError:
        raise DocumentError(f"{day!r} is not a day; write it as YYYY-MM-DD.") from None
    accounts = load_accounts(settings=settings)
    account = find_account(accounts, account_name)
    data = load_diary(bucket, account, day, WarcHashes(bucket, known_objects))
    items = data.embedded_rows()
    zone = ZoneInfo(settings.timezone)
    ctx = ItemContext(lang, zone, MissingGlyphs(), data.history, _media(bucket))
    front = _front(accounts, account, day)
    identification = {
        "format": FORMAT,
        "kind": "diary",
        "id": f"diary/{account.name}/{day}/{hashlib.sha256(_json(items)).hexdigest()[:16]}",
        "account": account.name,
        "platform": account.platform,
        "account_id": account.id,
        "day": day,
        "lang": lang,
        "software": {"name": SOFTWARE, "version": __version__},
        "organisation": accounts.organisation,
        "registration": front.registration,
        "items_files": [_file_identity(file.ref.to_dict()) for file in data.files],
    }
    w = words(lang)
    end_of_day = datetime.combine(date.fromisoformat(day) + timedelta(days=1), time(0), tzinfo=zone)
    created = latest_observed(data.shown) or end_of_day.astimezone(UTC)
    title = plain(w.diary_title(account.name, day))
    subject = plain(w.diary_subject(accounts.organisation, account.name, account.platform, day))
    meta = {
        "title": title,
        "header": plain(w.header(accounts.organisation, title)),
        "organisation": accounts.organisation,
        "subject": subject,
        "created": created,
        "keywords": [account.name, account.platform, day],
        "source": f"{account.platform}:{account.name}",
    }
    pdf, pages = _finish(
        lambda c: diary_story(data, front, c), ctx, identification, items, data.sources, meta, keep_pages
    )
    return Rendered(pdf, language_key(diary_key(account.name, day), lang, settings), identification, items, pages)


def account_of_item(accounts: AccountsFile, item_key: str) -> Account:
    """Return the configured account an item key (``platform:account_id:native_id``) belongs to."""
    parts = item_key.split(":", 2)
    if len(parts) != 3:
        raise DocumentError(f"{item_key!r} is not an item key; item keys look like 'facebook:PAGE_ID:NATIVE_ID'.")
    for account in accounts.accounts:
        if account.platform == parts[0] and account.id == parts[1]:
            return account
    raise DocumentError(f"No account in the accounts file has platform {parts[0]} and id {parts[1]}.")


def thread_pdf(
    bucket: Bucket,
    item_key: str,
    settings: Settings | None = None,
    lang: str | None = None,
    rows: list[Row] | None = None,
    keep_pages: bool = False,
) -> Rendered:
    """Return the thread document of the post or conversation ``item_key`` belongs to.

    With ``rows`` (e.g. masked for a release), exactly those rows are shown and embedded; they
    must be every version to show of the thread's items, and only they are read for content
    (the bucket is read only for the media files and WARC hashes they name).
    """
    settings = settings or Settings()
    lang = _language(settings, lang)
    accounts = load_accounts(settings=settings)
    account = account_of_item(accounts, item_key)
    files: list[ItemsFile] = []
    if rows is None:
        thread_key, rows, files = load_thread_rows(bucket, account, item_key)
    else:
        thread_key = next((r["thread_key"] for r in rows if r["item_key"] == item_key), item_key)
    data = thread_data(account, thread_key, rows, WarcHashes(bucket), files)
    items = data.embedded_rows()
    zone = ZoneInfo(settings.timezone)
    ctx = ItemContext(lang, zone, MissingGlyphs(), history_of(data.rows), _media(bucket))
    front = _front(accounts, account, None)
    identification = {
        "format": FORMAT,
        "kind": "thread",
        "id": f"thread/{account.name}/{thread_name(thread_key)}/{hashlib.sha256(_json(items)).hexdigest()[:16]}",
        "account": account.name,
        "platform": account.platform,
        "account_id": account.id,
        "thread_key": thread_key,
        "lang": lang,
        "software": {"name": SOFTWARE, "version": __version__},
        "organisation": accounts.organisation,
        "items_files": [_file_identity(file.ref.to_dict()) for file in data.files],
    }
    w = words(lang)
    root = data.thread.root
    kind = w.kinds.get(root.latest["kind"], root.latest["kind"]) if root else w.labels["thread"]
    title = plain(w.thread_title(kind, thread_key))
    meta = {
        "title": title,
        "header": plain(w.header(accounts.organisation, title)),
        "organisation": accounts.organisation,
        "subject": plain(w.thread_subject(accounts.organisation, account.name, account.platform)),
        "created": latest_observed(data.rows),
        "keywords": [account.name, account.platform, thread_key],
        "source": f"{account.platform}:{account.name}",
    }
    pdf, pages = _finish(
        lambda c: thread_story(data, front, c), ctx, identification, items, data.sources, meta, keep_pages
    )
    key = language_key(thread_document_key(account.name, thread_key), lang, settings)
    return Rendered(pdf, key, identification, items, pages)


def store_document(bucket: Bucket, rendered: Rendered, settings: Settings | None = None) -> dict[str, Any]:
    """Store ``rendered`` at its key, sealed when a signing certificate is configured, unless the
    current version holds the same document; return the object (key, version_id, sha256, size)
    and ``written`` (False when it was already there)."""
    signing = SigningSettings.from_settings(settings or Settings())
    if bucket.exists(rendered.key):
        current = bucket.ref(rendered.key)
        if current.sha256 == sha256_hex(rendered.pdf) or (
            signing is not None
            and current.size > len(rendered.pdf)
            and same_document(bucket.get(rendered.key, current.version_id), rendered.pdf)
        ):
            return {**current.to_dict(), "written": False}
    data = sign(rendered.pdf, signing) if signing is not None else rendered.pdf
    stored = bucket.put(rendered.key, data, "application/pdf")
    return {**stored.to_dict(), "written": True}


def same_document(stored: bytes, rendered: bytes) -> bool:
    """Return True when ``stored`` is ``rendered``, or ``rendered`` with only a seal appended
    (a signature is an incremental update: the signed bytes start with the unsigned file)."""
    if stored == rendered:
        return True
    return stored.startswith(rendered) and not increment_problems(rendered, stored)


def render_diary(
    bucket: Bucket,
    account: str,
    day: str,
    settings: Settings | None = None,
    lang: str | None = None,
    known_objects: Iterable[dict[str, Any]] = (),
) -> dict[str, Any]:
    """Render and store the diary of ``account`` for ``day``; return the stored object as a dict
    (key, version_id, sha256, size, written)."""
    return store_document(bucket, diary_pdf(bucket, account, day, settings, lang, known_objects), settings)


def render_thread(
    bucket: Bucket, item_key: str, settings: Settings | None = None, lang: str | None = None
) -> dict[str, Any]:
    """Render and store the thread document of ``item_key``; return the stored object as a dict
    (key, version_id, sha256, size, written)."""
    return store_document(bucket, thread_pdf(bucket, item_key, settings, lang), settings)


DOCUMENTS_ACCOUNT = "_documents"
"""The pseudo-account whose chain seals documents rendered on demand (``archiver render``): a
chain of their own, so a render during the nightly run never forks an account's chain. Account
names cannot start with ``_``."""


def store_and_seal(bucket: Bucket, rendered: Rendered, settings: Settings | None = None) -> dict[str, Any]:
    """Store a document rendered on demand and seal it as a run of its own.

    The run has purpose ``render``, the id ``_documents_{UTC start to the microsecond}Z`` and is
    filed under the diary's day, or today's (in the archive's time zone) for a thread document,
    so ``archiver verify`` finds the document listed. An identical document is not stored again,
    and sealed only if no manifest lists it yet (an earlier render stored it, then failed to
    seal). Return the stored object (key, version_id, sha256, size, written) with ``manifest``:
    the manifest's key, version id, sha256 and size, or None when nothing needed sealing.
    """
    settings = settings or Settings()
    started = datetime.now(UTC)
    stored = store_document(bucket, rendered, settings)
    day = str(rendered.identification.get("day") or started.astimezone(ZoneInfo(settings.timezone)).date())
    if not stored["written"] and _listed(bucket, stored, day):
        return {**stored, "manifest": None}
    run = RunRecord(
        run_id=f"{DOCUMENTS_ACCOUNT}_{started:%Y%m%dT%H%M%S%f}Z",
        account=DOCUMENTS_ACCOUNT,
        platform=str(rendered.identification["platform"]),
        account_id=DOCUMENTS_ACCOUNT,
        day=day,
        status="complete",
        purpose=RENDER,
        error=None,
        warc_key=None,
        started_at=started.isoformat(),
        objects=[{name: stored[name] for name in ("key", "version_id", "sha256", "size")}],
        counts={"documents": 1},
    )
    return {**stored, "manifest": seal_run(bucket, run).get("manifest")}


def _listed(bucket: Bucket, stored: dict[str, Any], day: str) -> bool:
    """Return whether a manifest lists this version: one of the day's runs (a diary is sealed by
    its day's run) or any on-demand render (few: the ``_documents`` chain)."""
    day_prefix = manifest_key(day, "").rsplit("/", 1)[0] + "/"
    candidates = (
        entry.key
        for entry in bucket.list(MANIFEST_PREFIX)
        if entry.key.startswith(day_prefix) or entry.key.rsplit("/", 1)[-1].startswith(f"{DOCUMENTS_ACCOUNT}_")
    )
    return lists_version(bucket, stored["key"], stored["version_id"], candidates)


@dataclass
class CheckResult:
    """Whether a stored document matches a fresh render from the bucket's items."""

    source: str
    matches: bool
    differences: list[str]
    identification: dict[str, Any]
    sealed: bool = False
    """True when the stored document carries a seal (signature) over the re-rendered bytes."""


def embedded_files(pdf: bytes) -> dict[str, bytes]:
    """Return the files embedded in a PDF by name; raise DocumentError if it cannot be read."""
    try:
        with pikepdf.open(io.BytesIO(pdf)) as document:
            return {name: spec.get_file().read_bytes() for name, spec in document.attachments.items()}
    except pikepdf.PdfError as error:
        raise DocumentError(f"Not a readable PDF: {error}") from None


def read_document(bucket: Bucket, source: str) -> bytes:
    """Return the bytes of ``source``: a local file if one exists at that path, else a bucket key."""
    path = Path(source)
    if path.is_file():
        return path.read_bytes()
    if source.startswith("documents/"):
        return bucket.get(source)
    raise DocumentError(f"{source} is neither a local file nor a bucket key under documents/.")


def check_document(bucket: Bucket, source: str, settings: Settings | None = None) -> CheckResult:
    """Re-render the document at ``source`` (local file or bucket key) from the bucket's items
    and compare the bytes; return whether they match and, if not, what differs."""
    stored = read_document(bucket, source)
    embedded = embedded_files(stored)
    if SOURCES_FILE not in embedded:
        raise DocumentError(f"{source} holds no {SOURCES_FILE}: it is not a document of this archive.")
    identification = json.loads(embedded[SOURCES_FILE])["document"]
    if identification.get("kind") == "diary":
        fresh = diary_pdf(bucket, identification["account"], identification["day"], settings, identification["lang"])
    elif identification.get("kind") == "thread":
        fresh = thread_pdf(bucket, identification["thread_key"], settings, identification["lang"])
    else:
        raise DocumentError(f"{source}: unknown document kind {identification.get('kind')!r}.")
    if same_document(stored, fresh.pdf):
        return CheckResult(source, True, [], identification, sealed=stored != fresh.pdf)
    return CheckResult(source, False, _differences(stored, embedded, identification, fresh), identification)


def _differences(
    stored: bytes, embedded: dict[str, bytes], identification: dict[str, Any], fresh: Rendered
) -> list[str]:
    out = []
    then = {f["key"]: f for f in identification.get("items_files", [])}
    now = {f["key"]: f for f in fresh.identification.get("items_files", [])}
    out += [f"items file {key} is new since the document was rendered" for key in sorted(now.keys() - then.keys())]
    out += [f"items file {key} is gone from the bucket" for key in sorted(then.keys() - now.keys())]
    out += [
        f"items file {key} changed (sha256 {then[key]['sha256'][:12]}… then, {now[key]['sha256'][:12]}… now)"
        for key in sorted(then.keys() & now.keys())
        if then[key]["sha256"] != now[key]["sha256"]
    ]
    shown_then = _versions(json.loads(embedded.get(ITEMS_FILE, b"[]")))
    shown_now = _versions(fresh.items)
    changed = sorted(k for k in shown_then.keys() & shown_now.keys() if shown_then[k] != shown_now[k])
    for label, keys in (
        ("item versions shown now but not in the document", sorted(shown_now.keys() - shown_then.keys())),
        ("item versions in the document but not shown now", sorted(shown_then.keys() - shown_now.keys())),
        ("item versions whose embedded content differs from the bucket", changed),
    ):
        if keys:
            out.append(f"{label}: {', '.join(f'{k[1]} v{k[2]}' for k in keys[:10])}{' …' if len(keys) > 10 else ''}")
    for name in ("software", "organisation", "registration", "lang"):
        if identification.get(name) != fresh.identification.get(name):
            out.append(f"{name}: {identification.get(name)!r} in the document, {fresh.identification.get(name)!r} now")
    compared = {"items_files", "software", "organisation", "registration", "lang"}
    for name in sorted((identification.keys() | fresh.identification.keys()) - compared):
        if identification.get(name) != fresh.identification.get(name):
            out.append(f"{name} differs between the document and a fresh render (inputs changed, not the file)")
    if not out:
        offset = next(
            (i for i, (a, b) in enumerate(zip(stored, fresh.pdf, strict=False)) if a != b), min(len(stored), len(fresh.pdf))
        )
        out.append(
            f"the items are unchanged but the bytes differ from offset {offset} "
            f"(sha256 {sha256_hex(stored)[:16]}… stored, {sha256_hex(fresh.pdf)[:16]}… re-rendered; "
            f"sizes {len(stored)} and {len(fresh.pdf)}): the file was altered after it was rendered"
        )
    return out


def _versions(items: list[dict[str, Any]]) -> dict[tuple[str, str, int], str]:
    return {
        (row.get("role", ""), str(row.get("item_key")), int(row.get("version") or 0)): json.dumps(row, sort_keys=True)
        for row in items
    }


def render_run(bucket: Bucket, run: RunRecord, settings: Settings | None = None) -> RunRecord:
    """Render the diary of a normalised run's account and day; return the run with the diary
    among its objects when a new version was written (an identical diary is not written again).

    Runs that are not normalised (skipped: the day was archived already; failed) are returned
    unchanged; a run that is sealed already (it failed, and its task is run again) is refused
    with an ArchiverError saying to capture the day afresh. If rendering fails, what the run wrote is sealed as a failed run and the error
    is raised, so no object is left out of a manifest.
    """
    if run.get("status") != "normalised":
        return run
    refuse_if_sealed(bucket, run)
    result = RunRecord(**run)
    result["objects"] = list(run.get("objects", []))
    try:
        stored = render_diary(bucket, run["account"], run["day"], settings, known_objects=result["objects"])
    except Exception as error:
        result["status"], result["error"] = "failed", f"render failed: {type(error).__name__}: {error}"
        seal_run(bucket, result)
        raise
    if stored["written"]:
        result["objects"].append({name: stored[name] for name in ("key", "version_id", "sha256", "size")})
    result["counts"] = {**run.get("counts", {}), "documents": 1 if stored["written"] else 0}
    return result
