"""The release package: what a registrar hands out in answer to a public access request.

:func:`build_release` wires the steps, each in a module of its own: :mod:`.selection` (the
threads the scope touches), :mod:`.decisions` (proposal or the registrar's decisions),
:mod:`.masking` (rows with masked values replaced by markers), thread documents rendered from the
masked rows (PDF/A) and :mod:`.cover` (the cover letter); then ``decisions.json`` (the decisions
without the masked values), ``manifest.json``, ``SHA256SUMS`` and a zip; :mod:`.guard` checks
that no masked value is left anywhere in the package, and :mod:`.store` stores it under
``releases/{ref}/`` with the registrar's identity: a release is itself a record, never replaced.

On disk (``OUT``): ``OUT/decisions.yaml`` (the registrar's working paper, with the values; never
in the package or the bucket), ``OUT/{ref}/`` (the package) and ``OUT/{ref}.zip``.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from archiver import __version__
from archiver.config import AccountsFile, Settings, load_accounts
from archiver.documents.layout import LANGUAGES
from archiver.documents.model import Row
from archiver.documents.render import thread_pdf
from archiver.documents.thread import thread_name
from archiver.errors import ReleaseError
from archiver.release.cover import (
    CoverLetter,
    MaskedSummary,
    ReleasedDocument,
    cover_file_name,
    cover_letter_pdf,
)
from archiver.release.decisions import (
    Decisions,
    Mask,
    decisions_yaml,
    propose,
    public_record,
    read_decisions,
    undecided,
    write_decisions,
)
from archiver.release.grounds import GroundsConfig, load_grounds
from archiver.release.guard import check_no_leaks
from archiver.release.masking import AppliedMask, marker, mask_rows
from archiver.release.selection import Selection, select
from archiver.release.store import registrar_bucket, safe_reference, store_release
from archiver.search import SearchQuery
from archiver.storage import Bucket, sha256_hex
from archiver.templating import render_text

FORMAT = "social-archive-release/1"
DECISIONS_YAML = "decisions.yaml"
DECISIONS_JSON = "decisions.json"
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
SOFTWARE = "social-archiver"


@dataclass
class ReleaseRequest:
    """A public access request: its reference, the scope that selects items, where to write the
    package, and optionally the registrar's decisions file (without one, the proposal is used)."""

    reference: str
    scope: SearchQuery
    out: Path
    decisions_file: Path | None = None
    lang: str | None = None
    decided_on: date | None = None
    """Date of the decision printed in the package; default: today (in the archive's time zone)."""
    decided_by: str | None = None
    store: bool = True
    """False: build and check the package on disk only (a preview), store nothing."""


@dataclass
class Proposal:
    """The detectors' proposal for a request, written as a decisions file to review."""

    reference: str
    decisions_file: Path
    text: str
    """The decisions file's YAML (it holds the values to mask: the registrar's working paper)."""
    threads: int
    masks: dict[str, int]
    """Proposed masks per category."""


@dataclass
class ReleasePackage:
    """A built release: where it is on disk and what was stored in the bucket."""

    reference: str
    directory: Path
    zip_path: Path
    decisions_file: Path
    proposal_written: bool
    files: list[dict[str, Any]]
    """Every file of the package folder: name, sha256, size."""
    stored: list[dict[str, Any]]
    """Bucket objects written by this build (key, version_id, sha256, size); empty when the same
    release was stored already."""
    already_stored: list[dict[str, Any]] = field(default_factory=list)
    """Objects of this release that were in the bucket already with the same content."""
    masks_accepted: dict[str, int] = field(default_factory=dict)
    """Occurrences masked per category (accepted masks)."""
    threads: int = 0


def write_proposal(request: ReleaseRequest, settings: Settings | None = None) -> Proposal:
    """Select the threads of ``request``'s scope and write the detectors' proposal to
    ``OUT/decisions.yaml`` for the registrar to review; render and store nothing. Return it."""
    settings = settings or Settings()
    safe_reference(request.reference)
    selection = select(registrar_bucket(settings), load_accounts(settings=settings), request.scope)
    grounds = load_grounds(settings)
    proposal = propose(request.reference, selection.rows(), grounds)
    text = decisions_yaml(proposal, grounds)
    target = request.out / DECISIONS_YAML
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    masks: dict[str, int] = defaultdict(int)
    for mask in proposal.masks:
        masks[mask.category] += 1
    return Proposal(request.reference, target, text, len(selection.threads), dict(sorted(masks.items())))


def build_release(request: ReleaseRequest, settings: Settings | None = None) -> ReleasePackage:
    """Build, check and store the release package of ``request``; return what was written.

    Without a decisions file the proposal is written to ``OUT/decisions.yaml`` and used as is
    (every proposed mask accepted). Raises ReleaseError when the scope matches nothing, the
    decisions file lacks a decision the archive now needs, a masked value would be left in the
    package (nothing is stored then, and the folder is removed), or the reference is stored
    already with different content.
    """
    settings = settings or Settings()
    safe = safe_reference(request.reference)
    lang = request.lang or settings.document_language
    if lang not in LANGUAGES:
        raise ReleaseError(f"No release wording for language {lang!r}; use one of: {', '.join(LANGUAGES)}.")
    decided_on = request.decided_on or datetime.now(ZoneInfo(settings.timezone)).date()
    accounts = load_accounts(settings=settings)
    bucket = registrar_bucket(settings)
    grounds = load_grounds(settings)
    selection = select(bucket, accounts, request.scope)
    request.out.mkdir(parents=True, exist_ok=True)
    decisions, decisions_file, proposed = decide(request, selection.rows(), grounds)
    files, summary, masked = _package_files(
        request, settings, bucket, accounts, grounds, selection, decisions, lang, decided_on
    )
    directory, zip_path = request.out / safe, request.out / f"{safe}.zip"
    zipped = zip_folder(safe, files, decided_on)
    try:
        check_no_leaks(files, zip_path.name, zipped, selection.rows(), masked, decisions)
    except ReleaseError as error:
        shutil.rmtree(directory, ignore_errors=True)
        zip_path.unlink(missing_ok=True)
        raise ReleaseError(f"{error.message} The package folder {directory} was removed.") from None
    _write_folder(directory, files)
    zip_path.write_bytes(zipped)
    stored: list[dict[str, Any]] = []
    existing: list[dict[str, Any]] = []
    if request.store:
        stored, existing = store_release(bucket, request.reference, {**files, zip_path.name: zipped}, directory)
    return ReleasePackage(
        reference=request.reference,
        directory=directory,
        zip_path=zip_path,
        decisions_file=decisions_file,
        proposal_written=proposed,
        files=[
            {"name": name, "sha256": sha256_hex(data), "size": len(data)}
            for name, data in sorted(files.items())
        ],
        stored=stored,
        already_stored=existing,
        masks_accepted=summary,
        threads=len(selection.threads),
    )


# --- decide ------------------------------------------------------------------------------------


def decide(request: ReleaseRequest, rows: list[Row], grounds: GroundsConfig) -> tuple[Decisions, Path, bool]:
    """Return (the decisions to apply, ``OUT/decisions.yaml``, whether a proposal was written).

    Without a decisions file the proposal is written and used. With one, it must be for this
    reference and decide every mask the archive proposes now; an accepted proposed mask also
    covers the items recorded since that hold its value; the file is copied to
    ``OUT/decisions.yaml`` (unless it is that file). Error messages never show masked values
    (they may end up in logs): they name the category and the items.
    """
    target = request.out / DECISIONS_YAML
    proposal = propose(request.reference, rows, grounds)
    if request.decisions_file is None:
        write_decisions(proposal, target, grounds)
        return proposal, target, True
    decisions = read_decisions(request.decisions_file, grounds)
    if decisions.reference != request.reference:
        raise ReleaseError(
            f"{request.decisions_file} is for reference {decisions.reference!r}, not {request.reference!r}: "
            "give the decisions file of this request, or run without --decisions for a fresh proposal."
        )
    missing = undecided(decisions, proposal)
    if missing:
        listed = "\n".join(f"  - {_describe_mask(mask)}" for mask in missing[:20])
        more = f"\n  ... and {len(missing) - 20} more" if len(missing) > 20 else ""
        raise ReleaseError(
            f"{request.decisions_file} does not decide {len(missing)} mask(s) the archive proposes now "
            f"(new items or versions since the proposal):\n{listed}{more}\n"
            "Add them to the file (accept or reject), or run again without --decisions for a fresh "
            f"proposal in {target}."
        )
    _cover_new_items(decisions, proposal)
    if request.decisions_file.resolve() != target.resolve():
        shutil.copyfile(request.decisions_file, target)
    return decisions, target, False


def _cover_new_items(decisions: Decisions, proposal: Decisions) -> None:
    """Extend each accepted proposed mask of some items to every item the archive's proposal now
    finds its value in: an item recorded after the decisions file was written may repeat a value
    already decided (the same personnummer in a new comment), and must not be released unmasked."""
    fresh = {(mask.value, mask.category): mask.item_keys for mask in proposal.masks}
    for mask in decisions.accepted():
        if mask.origin == "proposed" and mask.item_keys:
            now = fresh.get((mask.value, mask.category), [])
            mask.item_keys += [key for key in now if key not in mask.item_keys]


def _describe_mask(mask: Mask) -> str:
    items = (
        ", ".join(mask.item_keys[:3]) + (" …" if len(mask.item_keys) > 3 else "")
        if mask.item_keys
        else "all items"
    )
    return f"{mask.category} in {items}"


# --- package -----------------------------------------------------------------------------------


def _package_files(
    request: ReleaseRequest,
    settings: Settings,
    bucket: Bucket,
    accounts: AccountsFile,
    grounds: GroundsConfig,
    selection: Selection,
    decisions: Decisions,
    lang: str,
    decided_on: date,
) -> tuple[dict[str, bytes], dict[str, int], list[Row]]:
    """Return the package's files by relative name, the occurrences masked per category and the
    masked rows."""
    masked = mask_rows(selection.rows(), decisions, grounds, lang)
    by_thread: dict[str, list[Row]] = defaultdict(list)
    for row in masked.rows:
        by_thread[row["thread_key"]].append(row)
    thread_of = {row["item_key"]: row["thread_key"] for row in masked.rows}
    files: dict[str, bytes] = {}
    documents: list[ReleasedDocument] = []
    for thread_key in sorted(by_thread):
        name = f"threads/{thread_name(thread_key)}.pdf"
        files[name] = thread_pdf(bucket, thread_key, settings, lang, rows=by_thread[thread_key]).pdf
        rows = by_thread[thread_key]
        count = sum(a.count for a in masked.applied if thread_of.get(a.item_key) == thread_key)
        documents.append(
            ReleasedDocument(name, thread_key, len({r["item_key"] for r in rows}), len(rows), count)
        )
    summaries = mask_summaries(decisions, masked.applied, grounds, thread_of)
    hidden_ids = {
        str(row["author_id"]): str(new["author_id"])
        for row, new in zip(selection.rows(), masked.rows, strict=True)
        if row.get("author_id") and new.get("author_id") != row.get("author_id")
    }
    scope = masked_scope(request.scope, decisions, grounds, lang, hidden_ids)
    letter = CoverLetter(
        reference=request.reference,
        organisation=accounts.organisation,
        decided_on=decided_on,
        decided_by=request.decided_by,
        scope=scope_lines(scope, lang),
        documents=documents,
        masked=summaries,
        lang=lang,
    )
    files[cover_file_name(lang)] = cover_letter_pdf(letter, settings)
    files[DECISIONS_JSON] = _json(
        {"reference": request.reference, "masks": public_record(decisions, masked.applied)}
    )
    files[MANIFEST] = _json(
        manifest(request, accounts, scope, lang, decided_on, files, documents, selection, summaries)
    )
    files[SUMS] = sha256sums(files)
    by_category: dict[str, int] = defaultdict(int)
    for summary in summaries:
        by_category[summary.category] += summary.occurrences
    return files, dict(sorted(by_category.items())), masked.rows


def mask_summaries(
    decisions: Decisions, applied: list[AppliedMask], grounds: GroundsConfig, thread_of: dict[str, str]
) -> list[MaskedSummary]:
    """Return the accepted masks that masked something, grouped by category and ground, with
    their occurrences and the thread documents they masked in."""
    groups: dict[tuple[str, str], list[Mask]] = defaultdict(list)
    for mask in decisions.accepted():
        groups[(mask.category, mask.ground)].append(mask)
    out = []
    for (category, ground_id), masks in sorted(groups.items()):
        ids = {mask.id for mask in masks}
        hits = [a for a in applied if a.mask_id in ids]
        if not hits:
            continue
        names = sorted(
            {f"threads/{thread_name(thread_of[a.item_key])}.pdf" for a in hits if a.item_key in thread_of}
        )
        out.append(MaskedSummary(category, grounds.ground(ground_id), sum(a.count for a in hits), names))
    return out


def masked_scope(
    scope: SearchQuery,
    decisions: Decisions,
    grounds: GroundsConfig,
    lang: str,
    hidden_ids: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Return the scope as given (without ``limit``), with any accepted masked value in its free
    text or author replaced by the mask's marker, and an author given as a platform id that
    masking replaced (``hidden_ids``: id -> marker) replaced by that marker: the package never
    repeats a masked value."""
    out = {name: list(value) if isinstance(value, tuple) else value for name, value in asdict(scope).items()}
    out.pop("limit", None)
    if isinstance(out.get("author"), str) and out["author"] in (hidden_ids or {}):
        out["author"] = (hidden_ids or {})[out["author"]]
    for name in ("text", "author"):
        value = out.get(name)
        if not isinstance(value, str):
            continue
        for mask in decisions.accepted():
            if mask.value and mask.value.casefold() in value.casefold():
                value = re.sub(
                    re.escape(mask.value), marker(grounds.ground(mask.ground), lang), value, flags=re.I
                )
        out[name] = value
    return out


def scope_lines(scope: dict[str, Any], lang: str) -> list[str]:
    """Return the human-readable lines describing ``scope`` (``templates/releases/scope.{lang}.j2``)."""
    text = render_text(f"releases/scope.{lang}.j2", scope)
    return [line.strip() for line in text.splitlines() if line.strip()]


def manifest(
    request: ReleaseRequest,
    accounts: AccountsFile,
    scope: dict[str, Any],
    lang: str,
    decided_on: date,
    files: dict[str, bytes],
    documents: list[ReleasedDocument],
    selection: Selection,
    summaries: list[MaskedSummary],
) -> dict[str, Any]:
    """Return ``manifest.json``'s content: what was released, from what, masked on which grounds
    (never the masked values), and every other file of the package with its sha256."""
    return {
        "format": FORMAT,
        "reference": request.reference,
        "decided_on": decided_on.isoformat(),
        "decided_by": request.decided_by,
        "organisation": accounts.organisation,
        "lang": lang,
        "scope": scope,
        "software": {"name": SOFTWARE, "version": __version__},
        "files": [
            {"name": name, "sha256": sha256_hex(data), "size": len(data), "kind": _kind(name)}
            for name, data in sorted(files.items())
        ],
        "threads": [
            {
                "file": document.file_name,
                "thread_key": document.thread_key,
                "account": selection.accounts[document.thread_key].name,
                "platform": selection.accounts[document.thread_key].platform,
                "items": document.items,
                "versions": document.versions,
                "masked": document.masks,
                "items_files": selection.files.get(document.thread_key, []),
            }
            for document in documents
        ],
        "masks": [
            {
                "category": summary.category,
                "ground": summary.ground.code,
                "occurrences": summary.occurrences,
                "documents": summary.documents,
            }
            for summary in summaries
        ],
    }


def _kind(name: str) -> str:
    if name in map(cover_file_name, LANGUAGES):
        return "cover"
    if name.startswith("threads/"):
        return "thread"
    return "decisions" if name == DECISIONS_JSON else "other"


def _json(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n").encode("utf-8")


def sha256sums(files: dict[str, bytes]) -> bytes:
    """Return ``SHA256SUMS`` for ``files`` in ``sha256sum -c`` format (two spaces, relative paths)."""
    return "".join(f"{sha256_hex(data)}  {name}\n" for name, data in sorted(files.items())).encode("utf-8")


def zip_folder(folder: str, files: dict[str, bytes], decided_on: date) -> bytes:
    """Return a deterministic zip of ``files`` under ``folder/``: sorted entries, every timestamp
    the decision date, fixed permissions."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(
                f"{folder}/{name}", date_time=(decided_on.year, decided_on.month, decided_on.day, 0, 0, 0)
            )
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name], compresslevel=9)
    return out.getvalue()


def _write_folder(directory: Path, files: dict[str, bytes]) -> None:
    if directory.exists():
        shutil.rmtree(directory)
    for name, data in sorted(files.items()):
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
