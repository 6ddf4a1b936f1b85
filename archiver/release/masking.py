"""Masking: rows with every accepted mask's value replaced by a marker naming its legal ground.

A mask replaces every occurrence of its value (proposed masks exactly, added masks regardless
of case) in the shown string fields (``text``, ``author_name``, ``permalink``, each attachment's
``title`` and ``source_url``) of the rows of the items it names (all rows if it names none): in
NFC or NFD, across soft hyphens and zero-width characters, with any whitespace for a space; a
name only as a whole word or its genitive (see :func:`~archiver.release.decisions.value_pattern`).
A row whose ``author_name`` was masked also has its ``author_id`` replaced (the platform id
identifies the person too). A masked row loses ``content_sha256`` and ``raw_sha256`` (a hash of
a short personnummer can be brute-forced), and so does every row from the same raw response;
``source_json`` (the platform's raw object) is never released. An ``attachment`` mask withholds
a whole image or file, named by its sha256 (shown in the documents): only its type and the
marker remain.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from archiver.release.decisions import (
    SHOWN_ATTACHMENT_FIELDS,
    SHOWN_FIELDS,
    Decisions,
    Mask,
    value_pattern,
)
from archiver.release.grounds import Ground, GroundsConfig

MARKERS = {"sv": "[MASKERAT: {code}]", "en": "[MASKED: {code}]"}


@dataclass(frozen=True)
class AppliedMask:
    """How often one mask replaced its value in one field of one version of one item."""

    mask_id: str
    item_key: str
    version: int
    field: str
    count: int


@dataclass
class MaskedRows:
    """Masked copies of the rows, and every replacement made."""

    rows: list[dict[str, Any]]
    applied: list[AppliedMask]


def marker(ground: Ground, lang: str) -> str:
    """Return the visible marker for ``ground`` in ``lang``, e.g. ``[MASKERAT: OSL 21 kap. 7 §]``."""
    return MARKERS.get(lang, MARKERS["sv"]).format(code=ground.code)


def mask_rows(
    rows: list[dict[str, Any]], decisions: Decisions, grounds: GroundsConfig, lang: str
) -> MaskedRows:
    """Return masked copies of ``rows`` (the input is not changed) and the replacements made."""
    accepted = sorted(decisions.accepted(), key=lambda mask: (-len(mask.value), mask.id))
    markers = {mask.id: marker(grounds.ground(mask.ground), lang) for mask in accepted}
    masked, applied = [], []
    masked_refs: set[str] = set()
    for row in rows:
        item_key = str(row.get("item_key"))
        masks = [mask for mask in accepted if not mask.item_keys or item_key in mask.item_keys]
        new_row, row_applied = _mask_row(row, masks, markers)
        masked.append(new_row)
        applied += row_applied
        if row_applied and row.get("raw_ref"):
            masked_refs.add(str(row["raw_ref"]))
    for new_row in masked:  # the raw hash is over the whole response, masked values included
        if new_row.get("raw_ref") in masked_refs:
            new_row["raw_sha256"] = None
    return MaskedRows(rows=masked, applied=applied)


def _mask_row(
    row: dict[str, Any], masks: list[Mask], markers: dict[str, str]
) -> tuple[dict[str, Any], list[AppliedMask]]:
    new_row = copy.deepcopy(row)
    if "source_json" in new_row:
        new_row["source_json"] = None
    if not masks:
        return new_row, []
    counts: dict[tuple[str, str], int] = {}
    _withhold_attachments(new_row, masks, markers, counts)
    masks = [mask for mask in masks if mask.category != "attachment"]
    pattern = _pattern(tuple((mask.value, mask.category, mask.origin) for mask in masks))

    def replace(text: str, field: str) -> str:
        def substitute(match: re.Match[str]) -> str:
            mask = masks[int(str(match.lastgroup)[1:])]
            counts[(mask.id, field)] = counts.get((mask.id, field), 0) + 1
            return markers[mask.id]

        return pattern.sub(substitute, text)

    for name in SHOWN_FIELDS:
        if isinstance(new_row.get(name), str):
            new_row[name] = replace(new_row[name], name)
    for index, attachment in enumerate(new_row.get("attachments") or []):
        for name in SHOWN_ATTACHMENT_FIELDS:
            if isinstance(attachment, dict) and isinstance(attachment.get(name), str):
                attachment[name] = replace(attachment[name], f"attachments[{index}].{name}")
    author = next((mask_id for mask_id, field in counts if field == "author_name"), None)
    if author is not None and new_row.get("author_id"):
        new_row["author_id"] = markers[author]
        counts[(author, "author_id")] = 1
    if counts:
        new_row["content_sha256"] = None
        new_row["raw_sha256"] = None
    version = int(row.get("version") or 0)
    applied = [
        AppliedMask(mask_id, str(row.get("item_key")), version, field, count)
        for (mask_id, field), count in counts.items()
    ]
    return new_row, applied


def _withhold_attachments(
    row: dict[str, Any], masks: list[Mask], markers: dict[str, str], counts: dict[tuple[str, str], int]
) -> None:
    """Replace each attachment of ``row`` that an ``attachment`` mask names (by the sha256 of its
    file, or its bucket key) with its type and the marker only: no file, URL, size or title."""
    withheld = {mask.value.strip().lower(): mask for mask in masks if mask.category == "attachment"}
    if not withheld:
        return
    attachments = row.get("attachments") or []
    for index, attachment in enumerate(attachments):
        names = {str(attachment.get(field) or "").lower() for field in ("media_sha256", "media_key")}
        mask = next((withheld[name] for name in names if name in withheld), None)
        if mask is not None:
            attachments[index] = {**dict.fromkeys(attachment), "type": attachment.get("type"), "title": markers[mask.id]}
            counts[(mask.id, f"attachments[{index}]")] = 1


@cache
def _pattern(masks: tuple[tuple[str, str, str], ...]) -> re.Pattern[str]:
    """Return one regex matching any of ``masks`` (value, category, origin), longest first,
    each in a group ``g{index}``."""
    parts = [
        f"(?P<g{index}>{value_pattern(value, category, origin == 'added')})"
        for index, (value, category, origin) in enumerate(masks)
    ]
    return re.compile("|".join(parts) or r"(?!)")  # no masks: a pattern that never matches
