"""The registrar's masking decisions: proposed by the detectors, edited in a YAML file, validated.

The decisions file holds the masked values themselves: it is the registrar's working paper and
never leaves their machine (it is neither in the package nor in the bucket). The package gets
:func:`public_record`, the same decisions without any value.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import yaml

from archiver.errors import ReleaseError
from archiver.release.detect import Finding, detect, private_names
from archiver.release.grounds import CATEGORIES, GroundsConfig

if TYPE_CHECKING:
    from archiver.release.masking import AppliedMask

DECISIONS = ("accept", "reject")
ORIGINS = ("proposed", "added")
SHOWN_FIELDS = ("text", "author_name", "permalink")
"""Top-level string fields of a row that a released document shows."""
SHOWN_ATTACHMENT_FIELDS = ("title", "source_url")
"""String fields of each attachment that a released document shows."""

OWN_ACCOUNT_NOTE = (
    "only in the organisation's own posts: if this is its public contact (e.g. the switchboard), "
    "reject / bara i organisationens egna inlägg: är det dess officiella kontaktuppgift, avslå"
)


@dataclass
class Mask:
    """One masking decision: every occurrence of ``value`` in the items named (all if none)."""

    id: str
    value: str
    category: str
    ground: str
    decision: str
    origin: str
    item_keys: list[str]
    note: str = ""


@dataclass
class Decisions:
    """All masking decisions of one release (``reference`` is the request's reference)."""

    reference: str
    masks: list[Mask] = field(default_factory=list)

    def accepted(self) -> list[Mask]:
        """Return the masks the registrar accepted."""
        return [mask for mask in self.masks if mask.decision == "accept"]


def shown_strings(row: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Yield (field name, value) for every shown string field of ``row`` that has a value;
    attachment fields are named ``attachments[i].title`` and ``attachments[i].source_url``."""
    for name in SHOWN_FIELDS:
        value = row.get(name)
        if isinstance(value, str) and value:
            yield name, value
    for index, attachment in enumerate(row.get("attachments") or []):
        for name in SHOWN_ATTACHMENT_FIELDS:
            value = attachment.get(name) if isinstance(attachment, dict) else None
            if isinstance(value, str) and value:
                yield f"attachments[{index}].{name}", value


INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
"""Characters a text may hold inside a value without showing them (soft hyphen, zero-width
characters): a mask matches its value with any of them in between."""


def blocks_word(char: str) -> bool:
    """Return True if ``char`` next to a name makes it part of a longer word: a digit or a letter
    of a script with case (Latin, Greek, Cyrillic, …). Letters of scripts without case (Arabic,
    Persian, Ge'ez …) never block, since there a name is often written joined to a particle."""
    return char.isdigit() or (char.isalpha() and char.lower() != char.upper())


@cache
def word_class() -> str:
    """Return a regex character class of the characters :func:`blocks_word` is True for."""
    ranges: list[list[int]] = []
    for code in range(0x20000):
        if blocks_word(chr(code)):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    body = "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges
    )
    return f"[{body}]"


def value_pattern(value: str, category: str, ignore_case: bool) -> str:
    """Return the regex source matching every occurrence of ``value`` a mask of ``category``
    covers: the value in NFC or NFD, with any whitespace for a space and invisible characters
    (:data:`INVISIBLE`) anywhere inside. A name only as a whole word (not inside a longer word
    such as "Per" in "Persson"), its genitive included ("Perssons" masks "Persson")."""
    forms = dict.fromkeys(unicodedata.normalize(form, value) for form in ("NFC", "NFD"))
    body = "|".join(_tolerant(form) for form in forms)
    if category == "name":
        plain = unicodedata.normalize("NFC", value)
        word = word_class()
        before = f"(?<!{word})" if blocks_word(plain[0]) else ""
        after = f"(?=s?(?!{word}))" if blocks_word(plain[-1]) else ""
        body = f"{before}(?:{body}){after}"
    return f"(?i:{body})" if ignore_case else f"(?:{body})"


def _tolerant(value: str) -> str:
    parts = []
    for index, char in enumerate(value):
        if char.isspace():
            parts.append(r"\s+")
        else:
            parts.append(re.escape(char))
            if index < len(value) - 1:
                parts.append(f"[{INVISIBLE}]*")
    return "".join(parts)


@cache
def mask_regex(value: str, category: str, ignore_case: bool) -> re.Pattern[str]:
    """Return :func:`value_pattern` compiled."""
    return re.compile(value_pattern(value, category, ignore_case))


def covers(mask: Mask, text: str) -> bool:
    """Return True if ``mask``'s value occurs in ``text`` as masking would replace it."""
    return mask_regex(mask.value, mask.category, mask.origin == "added").search(text) is not None


_X_HOSTS = ("x.com", "twitter.com", "mobile.twitter.com", "www.x.com", "www.twitter.com")


def x_handle(permalink: str | None) -> str | None:
    """Return the @handle (without ``@``) in an X permalink ``https://x.com/{handle}/status/{id}``,
    or None: a handle names its author as much as the display name does."""
    if not permalink:
        return None
    parts = urlsplit(permalink)
    segments = parts.path.strip("/").split("/")
    if parts.hostname not in _X_HOSTS or len(segments) < 3 or segments[1] != "status":
        return None
    return segments[0] if segments[0] and segments[0] != "i" else None


def propose(reference: str, rows: list[dict[str, Any]], grounds: GroundsConfig) -> Decisions:
    """Return the detectors' proposal for ``rows``: one accepted mask per (value, category), with
    the category's default ground and the item keys where it occurs (every item whose shown
    fields hold the value as masking would replace it, found by the detectors there or not),
    ids in order of first occurrence. The @handle in a private person's X permalink is proposed
    as a name too."""
    names = private_names(rows)
    masks: dict[tuple[str, str], Mask] = {}
    by_resident: set[tuple[str, str]] = set()
    for row in rows:
        for finding in _findings(row, names):
            key = (finding.value, finding.category)
            if key not in masks:
                masks[key] = Mask(
                    id=f"m{len(masks) + 1:03d}",
                    value=finding.value,
                    category=finding.category,
                    ground=grounds.default_ground(finding.category),
                    decision="accept",
                    origin="proposed",
                    item_keys=[],
                )
            if not row.get("from_account"):
                by_resident.add(key)
    for key, mask in masks.items():
        mask.item_keys = _items_holding(mask, rows)
        if key not in by_resident and mask.category in ("phone", "email", "address"):
            mask.note = OWN_ACCOUNT_NOTE
    return Decisions(reference=reference, masks=list(masks.values()))


def _findings(row: dict[str, Any], names: list[str]) -> Iterator[Finding]:
    """Yield the detectors' findings in ``row``'s shown fields, then the X handle of a private
    author."""
    for _, text in shown_strings(row):
        yield from detect(text, names)
    handle = None if row.get("from_account") else x_handle(row.get("permalink"))
    if handle:
        yield Finding("name", 0, len(handle), handle)


def _items_holding(mask: Mask, rows: list[dict[str, Any]]) -> list[str]:
    """Return the item keys of ``rows`` whose shown fields hold ``mask``'s value, in order."""
    found: dict[str, None] = {}
    for row in rows:
        key = str(row.get("item_key"))
        if key not in found and any(covers(mask, text) for _, text in shown_strings(row)):
            found[key] = None
    return list(found)


HEADER_SV = """\
# Maskeringsbeslut (arbetspapper) / Masking decisions (working paper)
#
# Den här filen innehåller de maskerade uppgifterna i klartext. Den ingår INTE i det som lämnas
# ut och ska inte sparas i arkivet: förvara den som annat arbetsmaterial med sekretess.
# This file holds the masked values in clear text. It is NOT part of what is released and must
# not be stored in the archive: keep it like other confidential working papers.
#
# Så redigerar du / How to edit:
# - decision: accept (maskera / mask) eller/or reject (lämna ut / release).
# - ground: lagrummet som motiverar maskeringen (id nedan) / the legal ground (ids below).
# - Lägg till en maskering / add a mask (maskeras oavsett versaler/gemener / case-insensitive):
#     - value: "Text som ska bort"
#       category: other        # {categories}
#       ground: osl-21-7
#       item_keys: []          # tom lista = alla poster i utlämnandet / empty = every item
#       note: "varför / why"
# - Undanta en bild eller fil / withhold an image or file: category: attachment, value: its sha256
#   (står vid bilagan i handlingen / printed by the attachment in the document).
# - id, origin och item_keys för föreslagna maskeringar ska inte ändras.
#   Keep id, origin and item_keys of proposed masks as they are.
# - Kör sedan samma kommando igen med --decisions <den här filen>.
#   Then run the same command again with --decisions <this file>.
#
# Lagrum / Legal grounds:
{grounds}
"""


def write_decisions(decisions: Decisions, path: Path, grounds: GroundsConfig) -> None:
    """Write ``decisions`` to ``path`` as commented YAML the registrar edits (see HEADER_SV)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(decisions_yaml(decisions, grounds), encoding="utf-8")


def decisions_yaml(decisions: Decisions, grounds: GroundsConfig) -> str:
    """Return ``decisions`` as the commented YAML text of a decisions file."""
    ground_lines = "\n".join(
        f"#   {ground_id}: {ground.code} ({_shorten(ground.sv, 80)})"
        for ground_id, ground in sorted(grounds.grounds.items())
    )
    lines = [
        HEADER_SV.format(categories=", ".join(CATEGORIES), grounds=ground_lines),
        f"reference: {_scalar(decisions.reference)}",
        "masks:" if decisions.masks else "masks: []",
    ]
    for mask in decisions.masks:
        code = grounds.grounds[mask.ground].code if mask.ground in grounds.grounds else "?"
        lines += [
            f"  - id: {mask.id}",
            f"    value: {_scalar(mask.value)}",
            f"    category: {mask.category}",
            f"    ground: {mask.ground}  # {code}",
            f"    decision: {mask.decision}",
            f"    origin: {mask.origin}",
            f"    item_keys: [{', '.join(_scalar(key) for key in mask.item_keys)}]",
        ]
        if mask.note:
            lines.append(f"    note: {_scalar(mask.note)}")
    return "\n".join(lines) + "\n"


def _shorten(text: str, width: int) -> str:
    """Return ``text`` cut at a word to at most ``width`` characters, with an ellipsis if cut."""
    text = text.rstrip(".")
    return text if len(text) <= width else text[: text.rfind(" ", 0, width - 1)] + " …"


def _scalar(value: str) -> str:
    """Return ``value`` as one double-quoted YAML scalar on one line (special characters escaped)."""
    dumped = yaml.safe_dump(value, allow_unicode=True, default_style='"', width=float("inf"))
    return str(dumped).rstrip("\n")


def read_decisions(path: Path, grounds: GroundsConfig, reference: str | None = None) -> Decisions:
    """Return the decisions in ``path``; raise ReleaseError listing every problem and how to fix it.

    Masks added without ``id`` get the next free id and ``origin: added``; when ``reference`` is
    given the file must be for that request.
    """
    raw = _load(path)
    problems: list[str] = []
    file_reference = raw.get("reference")
    if file_reference is not None and not isinstance(file_reference, str):
        problems.append("'reference:' was not read as text: write the request's reference in double quotes")
        file_reference = ""
    elif not isinstance(file_reference, str) or not file_reference.strip():
        problems.append("'reference:' is missing: write the request's reference there")
        file_reference = ""
    elif reference is not None and file_reference != reference:
        problems.append(
            f"the file is for request '{file_reference}', not '{reference}': use that request's "
            "decisions file, or delete this one to get a new proposal"
        )
    entries = raw.get("masks") or []
    if not isinstance(entries, list):
        problems.append("'masks:' must be a list of masks (each starting with '- ')")
        entries = []
    masks = [_mask(entry, number, grounds, problems) for number, entry in enumerate(entries, start=1)]
    kept = [mask for mask in masks if mask is not None]
    _check_unique(kept, problems)
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        raise ReleaseError(f"Decisions file {path} needs fixing:\n{listed}")
    _number_added(kept)
    return Decisions(reference=file_reference, masks=kept)


def _load(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReleaseError(
            f"Decisions file {path} not found: run without --decisions to get a proposal to edit."
        ) from None
    except yaml.YAMLError as error:
        raise ReleaseError(
            f"Decisions file {path} is not valid YAML (check indentation and quotes): {_yaml_problem(error)}"
        ) from None
    if not isinstance(raw, dict):
        raise ReleaseError(f"Decisions file {path} must have 'reference:' and 'masks:' at the top.")
    return raw


def _yaml_problem(error: yaml.YAMLError) -> str:
    """Return what is wrong and where (line, column), without PyYAML's quote of the line: the
    line may hold a value to mask, and the message may end up in a log."""
    if not isinstance(error, yaml.MarkedYAMLError):
        return type(error).__name__
    mark = error.problem_mark or error.context_mark
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    what = " ".join(part for part in (error.context, error.problem) if part)
    return f"{what or 'syntax error'}{where}"


def _mask(entry: object, number: int, grounds: GroundsConfig, problems: list[str]) -> Mask | None:
    """Return the mask in ``entry`` (the ``number``-th), or None after adding its problems."""
    if not isinstance(entry, dict):
        problems.append(f"mask {number} is not a mapping: write 'value:', 'category:', 'ground:' under '- '")
        return None
    label = f"mask {entry.get('id') or number}"
    before = len(problems)
    unknown = sorted(
        set(map(str, entry))
        - {"id", "value", "category", "ground", "decision", "origin", "item_keys", "note"}
    )
    if unknown:
        problems.append(f"{label}: unknown keys {', '.join(unknown)}; remove them")
    value = entry.get("value")
    if value is not None and not isinstance(value, str):
        problems.append(
            f"{label}: 'value' was not read as text (YAML reads unquoted numbers, dates and words "
            "such as no, yes, 0701234567 or 1e5 as something else): write it in double quotes, "
            'e.g. value: "0701234567"'
        )
    elif not isinstance(value, str) or not value.strip():
        problems.append(f"{label}: 'value' is empty: write the exact text to mask, in quotes")
    category = entry.get("category", "other")
    if category not in CATEGORIES:
        problems.append(f"{label}: unknown category '{category}': use one of {', '.join(CATEGORIES)}")
    ground = entry.get("ground") or (
        grounds.default_ground(str(category)) if category in CATEGORIES else None
    )
    if ground not in grounds.grounds:
        problems.append(
            f"{label}: unknown ground '{ground}': use one of {', '.join(sorted(grounds.grounds))}"
        )
    decision = entry.get("decision", "accept")
    if decision not in DECISIONS:
        problems.append(f"{label}: decision '{decision}' must be 'accept' (mask) or 'reject' (release)")
    origin = entry.get("origin") or ("added" if not entry.get("id") else "proposed")
    if origin not in ORIGINS:
        problems.append(f"{label}: origin '{origin}' must be 'proposed' or 'added'")
    item_keys = entry.get("item_keys") or []
    if not isinstance(item_keys, list) or not all(isinstance(key, str) for key in item_keys):
        problems.append(f"{label}: 'item_keys' must be a list of item keys, or [] for every item")
    note = entry.get("note") or ""
    if len(problems) > before:
        return None
    return Mask(
        id=str(entry.get("id") or ""),
        value=str(value),
        category=str(category),
        ground=str(ground),
        decision=str(decision),
        origin=str(origin),
        item_keys=list(item_keys),
        note=str(note),
    )


def _check_unique(masks: list[Mask], problems: list[str]) -> None:
    seen_ids: set[str] = set()
    seen_values: dict[tuple[str, str], str] = {}
    for number, mask in enumerate(masks, start=1):
        if mask.id and mask.id in seen_ids:
            problems.append(f"id {mask.id} is used twice: give the added mask another id or none")
        seen_ids.add(mask.id)
        key = (mask.value if mask.origin == "proposed" else mask.value.casefold(), mask.category)
        if key in seen_values:
            problems.append(
                f"mask {mask.id or number} repeats the value of {seen_values[key]} "
                "in the same category: keep one of them"
            )
        seen_values[key] = mask.id or "another mask"


def _number_added(masks: list[Mask]) -> None:
    """Give masks without an id the next free ids (m001, m002, … after the highest)."""
    numbers = [int(mask.id[1:]) for mask in masks if mask.id[:1] == "m" and mask.id[1:].isdigit()]
    next_number = max(numbers, default=0) + 1
    for mask in masks:
        if not mask.id:
            mask.id = f"m{next_number:03d}"
            next_number += 1


def undecided(decisions: Decisions, proposal: Decisions) -> list[Mask]:
    """Return the proposal's masks whose (value, category) the decisions do not mention (an
    added mask covers a proposed value regardless of case)."""
    exact = {(mask.value, mask.category) for mask in decisions.masks}
    folded = {(mask.value.casefold(), mask.category) for mask in decisions.masks if mask.origin == "added"}
    return [
        mask
        for mask in proposal.masks
        if (mask.value, mask.category) not in exact and (mask.value.casefold(), mask.category) not in folded
    ]


def public_record(decisions: Decisions, applied: list[AppliedMask]) -> list[dict[str, Any]]:
    """Return the decisions as they go into the package (``decisions.json``): id, category,
    ground, decision, origin, item keys and occurrences masked, never the value or the note."""
    occurrences: dict[str, int] = {}
    for entry in applied:
        occurrences[entry.mask_id] = occurrences.get(entry.mask_id, 0) + entry.count
    return [
        {
            "id": mask.id,
            "category": mask.category,
            "ground": mask.ground,
            "decision": mask.decision,
            "origin": mask.origin,
            "item_keys": list(mask.item_keys),
            "occurrences": occurrences.get(mask.id, 0),
        }
        for mask in decisions.masks
    ]
