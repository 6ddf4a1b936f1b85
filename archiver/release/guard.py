"""The last guard before a release is stored: no accepted masked value may be left in any file
of the package, in any view of a PDF (text, metadata, bookmarks, embedded files) or in a name."""

from __future__ import annotations

import io
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import pikepdf
import pypdf

from archiver.documents.model import Row, shown_row
from archiver.errors import ReleaseError
from archiver.release.decisions import Decisions, Mask, covers
from archiver.release.leaks import leaks


def check_no_leaks(
    files: dict[str, bytes],
    zip_name: str,
    zipped: bytes,
    rows: list[Row],
    masked_rows: list[Row],
    decisions: Decisions,
) -> None:
    """Raise ReleaseError naming each accepted mask (category and id, never its value) whose value
    is left in any of ``files``, in any view of a PDF (text, metadata, bookmarks, embedded files),
    in a file name or in the zip; or, for a mask of some items, in the masked rows of those items.
    ``rows`` are the unmasked rows (to tell which values other items may legitimately hold)."""
    masks = guarded_masks(decisions, rows)
    found: dict[str, set[str]] = defaultdict(set)
    for mask in decisions.accepted():
        named = set(mask.item_keys)
        for row in masked_rows:
            if mask.value and row["item_key"] in named and _leaking(_row_text(row), [mask]):
                found[mask.id].add(f"item {row['item_key']} v{row['version']}")
    views: list[tuple[str, bytes | str]] = [("file names", "\n".join(sorted(files))), (zip_name, zipped)]
    for name, data in sorted(files.items()):
        views.append((name, data))
        if name.endswith(".pdf"):
            views += [(f"{name} ({what})", view) for what, view in pdf_views(data)]
    for where, view in views:
        for mask in _leaking(view, masks):
            found[mask.id].add(where)
    if found:
        by_id = {mask.id: mask for mask in decisions.masks}
        listed = "\n".join(
            f"  - {by_id[mask_id].category} ({mask_id}) in {', '.join(sorted(places)[:5])}"
            for mask_id, places in sorted(found.items())
        )
        raise ReleaseError(
            f"Stopped before storing: accepted masked values are still in the package:\n{listed}\n"
            "Nothing was stored. If such a value is also part of the "
            "documents' own wording or of the scope, reject that mask or narrow it to its items; "
            "otherwise report this as a bug."
        )


def guarded_masks(decisions: Decisions, rows: list[Row]) -> list[Mask]:
    """Return the accepted masks whose value must appear nowhere in the package: those for every
    item, and those for some items whose value (as masking matches it: see
    :func:`~archiver.release.decisions.covers`) appears in no other item of the release (a mask
    for some items leaves the value in the others, by design)."""
    out = []
    for mask in decisions.accepted():
        if not mask.value:
            continue
        if mask.item_keys:
            named = set(mask.item_keys)
            if any(covers(mask, _row_text(row)) for row in rows if row["item_key"] not in named):
                continue
        out.append(mask)
    return out


def _row_text(row: Row) -> str:
    """Return every string a document shows of ``row``, one a line."""
    return "\n".join(_strings(shown_row(row, "shown")))


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _leaking(view: bytes | str, masks: list[Mask]) -> list[Mask]:
    """Return the masks whose value ``leaks`` finds in ``view``: an added mask in any case, a
    proposed one (matched case-sensitively when masking) only in its own case."""
    added = set(leaks(view, [mask.value for mask in masks if mask.origin == "added"]))
    proposed = set(leaks(view, [mask.value for mask in masks if mask.origin != "added"], exact_case=True))
    return [mask for mask in masks if mask.value in (added if mask.origin == "added" else proposed)]


def pdf_views(pdf: bytes) -> list[tuple[str, bytes | str]]:
    """Return what a reader of ``pdf`` can see, by name: the extracted text of its pages, its
    bookmarks, DocInfo, XMP metadata and every embedded file."""
    views: list[tuple[str, bytes | str]] = []
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = unicodedata.normalize("NFKC", "\n".join(page.extract_text() or "" for page in reader.pages))
    views.append(("text", text))
    views.append(("text, lines joined", re.sub(r"\s+", " ", text)))
    views.append(("bookmarks", "\n".join(_outline_titles(reader.outline))))
    with pikepdf.open(io.BytesIO(pdf)) as document:
        views.append(("DocInfo", "\n".join(f"{key} {value}" for key, value in document.docinfo.items())))
        if "/Metadata" in document.Root:
            views.append(("XMP", document.Root.Metadata.read_bytes()))
        for name, spec in document.attachments.items():
            views.append((f"embedded {name}", name))
            views.append((f"embedded {name}", spec.get_file().read_bytes()))
    return views


def _outline_titles(outline: Any) -> Iterable[str]:
    for entry in outline:
        if isinstance(entry, list):
            yield from _outline_titles(entry)
        else:
            yield str(getattr(entry, "title", "") or "")
