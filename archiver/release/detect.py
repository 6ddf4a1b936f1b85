"""Detectors of personal data in text: what a release proposes to mask.

Each detector finds one category (see ``grounds.CATEGORIES``):

* ``personnummer`` and ``samordningsnummer`` (day + 60): ``YYMMDD-NNNN``, ``YYMMDD+NNNN``
  (100 years or older), ``YYMMDDNNNN``, ``YYYYMMDDNNNN``, ``YYYYMMDD-NNNN`` (also with ``–``),
  only with a valid date (not in the future, not before 1870) and Luhn check digit
  (python-stdnum). Organisationsnummer (``212000-1355``, a municipality's) pass Luhn too, but
  their third digit is 2 or more, so their "month" is 20 or more and they are never taken for
  a person's number, nor in the ``16``-prefixed twelve-digit form (born "1621");
* ``email``;
* ``phone``: Swedish numbers written with their leading 0 (valid to phonenumbers), and
  international ones written with ``+`` or ``00`` and a real country code (valid, or possible
  with at least eight digits); a number written without either (order numbers, ``KS 2026/123``,
  dates, bank giro numbers) is never a phone, nor are opening hours (``0800-1630``), dates
  (``01-12-2026``) or digit groups after ``00`` + ``0`` (account numbers in an IBAN);
* ``address``: a Swedish street name (``…vägen``, ``…gatan``, ``… väg``, ``Stora torget`` …)
  with a house number, an optional letter and an optional ``, 262 31 Town``; an apartment
  (``lgh 1102``) or floor (``nb``) after it is not part of the value, so the value also
  masks the street address written without it;
* ``name``: the private persons' names given (the full name, case-insensitive, and each part of
  at least three letters where it occurs as a capitalised word), and ``@handles``.

Digits of other scripts (Arabic-Indic, Persian, full-width) are read as ASCII digits; a
finding's value is always the text exactly as written. Work is linear in the text (100,000
characters of digits and spaces take well under a second).

A number right after a label that says it is something else (``OCR-nummer``, ``Fakturanr:``,
``Kundnummer``, ``Dnr``, ``Org.nr`` …) is not a personnummer, even with a valid date and check
digit. A house letter is written against the number (``12B``) or, in capitals, after a space
(``12 B``), so ``Drottninggatan 5 i stan`` ends at the number.

Overlapping findings are resolved by priority: personnummer > samordningsnummer > email > phone
> address > name. The organisation's own public numbers (its switchboard) are phone numbers
like any other: the detectors cannot tell them apart, so the proposal notes where a value only
occurs in the organisation's own posts and the registrar rejects it.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from itertools import accumulate
from typing import Any

import phonenumbers
from stdnum import luhn
from stdnum.exceptions import ValidationError
from stdnum.se import personnummer

PRIORITY = ("personnummer", "samordningsnummer", "email", "phone", "address", "name")
"""Categories in the order that wins when findings overlap."""


@dataclass(frozen=True)
class Finding:
    """One piece of personal data in a text: its category, where it is and the exact text."""

    category: str
    start: int
    end: int
    value: str


_ID_NUMBER = re.compile(r"(?<![\w+\-–/.,])(\d{8}|\d{6})([-–+]?)(\d{4})(?![\w/]|[.,]\d|[-–]\d)")
"""Ten or twelve digits, with ``-``, ``+`` or ``–`` (a dash as word processors and phones
autocorrect it) before the last four."""
_PNR_CONTEXT = re.compile(r"(?i)(person|pnr|p-?nr|samordn|född|personal identity)")
_OTHER_NUMBER_LABEL = re.compile(
    r"(?i)\b(?:ocr|faktura|fakturan|order|kund|kundnr|referens|ref|avtal|konto|bankgiro|plusgiro|bg|pg|"
    r"ärende|dnr|diarie|organisations|org|invoice|account|customer|reference)"
    r"(?:-?(?:nummer|numret|nr|nr\.|no\.?|number))?\s*[:#.]?\s*$"
)
"""A label just before a number that says it is something else (``OCR-nummer``, ``Fakturanr:``)."""

_PHONE_START = re.compile(r"(?<![\w+\-/.,(])\(?(?:\+|00|0)\d")

_PHONE_RUN = re.compile(r"\(?(?:\+|00|0)\d+\)?(?:[ \u00a0]?[-–/.]?[ \u00a0]?\(?\d+\)?)*")
"""Digit groups and the separators people write between them, from where a number starts."""
_PHONE_ALTERNATIVE = re.compile(r" ?[/,] ?(?=\(?(?:\+|0)\d)")
"""What may join two numbers written one after the other (``070-123 45 67/070-765 43 21``)."""
_DIGIT_GROUP = re.compile(r"\d+")
_WORD_CHAR = re.compile(r"\w")
_CLOCK = re.compile(r"\d{1,2}[.:]\d{2}(?!\d)")
_CLOCK_RANGE = re.compile(r"[01]\d[0-5]\d ?[-–] ?(?:[01]\d|2[0-4])[0-5]\d")
"""Opening hours written 0800-1630 (valid Stockholm numbers to phonenumbers)."""
_DATE = re.compile(r"\(?\d{1,2}[-/.]\d{1,2}[-/.](?:\d{2}|\d{4})")

_EMAIL = re.compile(
    r"(?<![\w.+\-@'])[^\W_](?:[\w.+\-']*[^\W_])?@(?:[^\W_](?:[\w\-]*[^\W_])?\.)+[^\W\d_]{2,24}(?![\w@])"
)

_STREET_SUFFIX = (
    r"vägen|gatan|gränd|gränden|stigen|backen|backe|allén|allé|torget|torg|plan|planen|leden|"
    r"stråket|stråk|gången|väg|gata|kajen|esplanaden|promenaden|platsen|slingan|bryggan"
)
_STREET_PREFIX = r"(?:Norra|Södra|Östra|Västra|Stora|Lilla|Gamla|Nya|S:t|Sankt)"
_ADDRESS = re.compile(
    r"(?<![\w-])"
    r"(?P<street>"
    rf"(?:{_STREET_PREFIX} )?"
    rf"(?:[A-ZÅÄÖÉÜa-zåäöéü][a-zåäöéü]*(?:{_STREET_SUFFIX})"
    rf"|(?:[A-ZÅÄÖÉÜ][a-zåäöéü]+s? ){{1,3}}(?:väg|gata|allé|gränd|torg|plan|backe|stig|stråk|gång))"
    rf"|{_STREET_PREFIX} (?:[Vv]ägen|[Gg]atan|[Gg]ränd|[Aa]llén|[Tt]orget|[Bb]acken|[Ss]tigen|[Ll]eden|[Ss]tråket)"
    r")"
    r" (?P<number>[1-9]\d{0,2})(?:(?P<letter>[A-Za-z]| [A-Z])(?![\w]))?(?![\d\w:.,]\d|[\w%])"
    r"(?P<postal>,? \d{3} ?\d{2} [A-ZÅÄÖ][\wåäö]+(?:[- ][A-ZÅÄÖ][\wåäö]+)?)?"
)
_NOT_STREETS = frozenset(
    {
        "plan",
        "detaljplan",
        "översiktsplan",
        "handlingsplan",
        "budgetplan",
        "planen",
        "vägen",
        "gatan",
        "torget",
        "backen",
        "stigen",
        "leden",
        "gången",
        "platsen",
        "kajen",
        "bryggan",
    }
)
_NOT_AFTER_ADDRESS = re.compile(r"(?i)\s*(?:kr|st|år|dagar|gånger|minuter|min|km|meter|m|procent|timmar)\b")

COMMON_WORDS = frozenset(
    {
        *("Min", "Mina", "Per", "Hans", "Stig", "Bo", "Sten", "Dag", "Vid", "Ek", "Tom"),
        *("Liv", "Mark", "Maj", "Sol", "Saga", "Axel", "Edit", "Love", "Vide", "Tor"),
        *("Will", "Hope", "Grace", "May", "Rose", "Said"),
    }
)
"""Name parts that are also everyday words: not a name where they start a sentence ("Min mamma …")."""

_HANDLE = re.compile(r"(?<![\w@.+\-])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?(?![\w@])")


def detect(text: str, names: Iterable[str] = ()) -> list[Finding]:
    """Return the personal data in ``text``: sorted by position, not overlapping.

    ``names`` are the full names of private persons to look for (see :func:`private_names`).
    """
    if not text:
        return []
    seen = text if text.isascii() else text.translate(_ascii_digits())
    candidates = [
        *_id_numbers(seen),
        *_emails(text),
        *_phones(seen),
        *_addresses(seen),
        *_names(text, names),
        *_handles(text),
    ]
    return [replace(f, value=text[f.start : f.end]) for f in _resolve(candidates)]


@lru_cache(maxsize=1)
def _ascii_digits() -> dict[int, str]:
    """Return a str.translate table from every other script's decimal digit (Arabic-Indic ٠-٩,
    Persian ۰-۹, full-width ０-９ …) to its ASCII digit: numbers are checked in ASCII, while
    a finding's value stays the text as written (one character for one, so positions hold)."""
    return {
        point: str(unicodedata.decimal(chr(point)))
        for point in range(0x80, 0x20000)
        if unicodedata.category(chr(point)) == "Nd"
    }


def private_names(rows: Iterable[dict[str, Any]], organisation: str | None = None) -> list[str]:
    """Return the author names of ``rows`` not written by the archived account (nor named like
    ``organisation``), de-duplicated in order of first appearance."""
    seen: dict[str, None] = {}
    for row in rows:
        name = (row.get("author_name") or "").strip()
        if not name or row.get("from_account") or (organisation and name == organisation):
            continue
        seen.setdefault(name, None)
    return list(seen)


def _resolve(candidates: list[Finding]) -> list[Finding]:
    """Return the findings that win by priority (then earlier, then longer), sorted by position."""
    ranked = sorted(candidates, key=lambda f: (PRIORITY.index(f.category), f.start, -(f.end - f.start)))
    kept: list[Finding] = []
    starts: list[int] = []
    for finding in ranked:
        index = bisect_right(starts, finding.start)
        clear_before = index == 0 or kept[index - 1].end <= finding.start
        clear_after = index == len(kept) or finding.end <= kept[index].start
        if clear_before and clear_after:
            kept.insert(index, finding)
            starts.insert(index, finding.start)
    return kept


def id_number_category(value: str) -> str | None:
    """Return ``personnummer`` or ``samordningsnummer`` if ``value`` is a valid one (Luhn check
    digit over the last ten digits, a real date not in the future), else None."""
    digits = value.replace("-", "").replace("–", "").replace("+", "")
    if len(digits) not in (10, 12) or not digits.isdigit() or not luhn.is_valid(digits[-10:]):
        return None
    day = int(digits[-6:-4])
    category = "samordningsnummer" if day > 60 else "personnummer"
    if day > 60:
        digits = f"{digits[:-6]}{day - 60:02d}{digits[-4:]}"
    return category if _valid_birth_date(digits, "+" if "+" in value else "-") else None


def _valid_birth_date(digits: str, separator: str) -> bool:
    """Return True if ``digits`` (a personnummer, day not shifted) hold a real birth date that is
    not in the future (python-stdnum picks the century of a short number)."""
    number = f"{digits[:-4]}{separator}{digits[-4:]}"
    try:
        born = personnummer.get_birth_date(number)
    except ValidationError:
        return False
    return date(1870, 1, 1) <= born <= date.today()


def _id_numbers(text: str) -> list[Finding]:
    """Return the personnummer and samordningsnummer in ``text`` (checked, see
    :func:`id_number_category`); ten bare digits that are a valid phone number count as a phone
    unless words before say personnummer."""
    found = []
    for match in _ID_NUMBER.finditer(text):
        head, separator, _ = match.groups()
        if separator == "+" and len(head) == 8:
            continue
        category = id_number_category(match.group())
        if category is None:
            continue
        if not separator and len(head) == 6 and _reads_as_phone(text, match):
            continue
        if _OTHER_NUMBER_LABEL.search(text[max(0, match.start() - 30) : match.start()]):
            continue
        found.append(Finding(category, match.start(), match.end(), match.group()))
    return found


def _reads_as_phone(text: str, match: re.Match[str]) -> bool:
    """Return True for ten bare digits that are also a Swedish phone number, unless the words
    just before say it is a personnummer."""
    value = match.group()
    if not value.startswith("0") or _PNR_CONTEXT.search(text[max(0, match.start() - 40) : match.start()]):
        return False
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(value, "SE"))
    except phonenumbers.NumberParseException:
        return False


def _emails(text: str) -> list[Finding]:
    """Return the e-mail addresses in ``text``."""
    return [Finding("email", m.start(), m.end(), m.group()) for m in _EMAIL.finditer(text)]


def _phones(text: str) -> list[Finding]:
    """Return the phone numbers in ``text``: each tried from where one can start (a leading 0,
    + or 00 not inside a word or another number), and right after a ``/`` that follows a found
    number (``070-123 45 67/070-765 43 21``)."""
    found: list[Finding] = []
    for match in _PHONE_START.finditer(text):
        start: int | None = match.start()
        while start is not None and not (found and start < found[-1].end):
            phone = _phone_at(text, start)
            if phone is None:
                break
            found.append(phone)
            after = _PHONE_ALTERNATIVE.match(text, phone.end)
            start = after.end() if after else None
    return found


def _phone_at(text: str, start: int) -> Finding | None:
    """Return the longest phone number written at ``start`` of ``text`` (without an opening
    parenthesis it does not close), or None.

    The phone-shaped run there (digit groups and separators, at most 40 characters) is cut
    after each digit group, longest first; a cut with a plausible number of digits that is not
    followed by a letter or digit is checked with phonenumbers. Bounded work per start, so long
    runs of digits and spaces stay linear."""
    run = _PHONE_RUN.match(text, start, min(len(text), start + 40))
    if run is None:
        return None
    written = run.group()
    groups = list(_DIGIT_GROUP.finditer(written))
    international = written.lstrip("(").startswith(("+", "00"))
    if international and "".join(g.group() for g in groups[:3]).removeprefix("00").startswith("0"):
        return None  # no country code starts with 0: an account or meter number
    low, high = (9, 18) if international else (7, 10)
    digits = list(accumulate(len(group.group()) for group in groups))
    for group, count in zip(reversed(groups), reversed(digits), strict=True):
        if count < low:
            break
        cut = written[: group.end()]
        if count <= high and not _WORD_CHAR.match(text, start + group.end()) and _is_phone(cut):
            opened = cut.startswith("(") and cut.count("(") > cut.count(")")
            return Finding("phone", start + opened, start + group.end(), cut[opened:])
    return None


@lru_cache(maxsize=4096)
def _is_phone(written: str) -> bool:
    """Return True if ``written`` is a phone number: a valid Swedish one written with its
    leading 0, or an international one written with + or 00 and a real country code that is
    valid, or possible with at least eight digits. Clock times and dates are not."""
    if _CLOCK.match(written.lstrip("(")) or _CLOCK_RANGE.fullmatch(written) or _DATE.fullmatch(written):
        return False
    try:
        number = phonenumbers.parse(written, "SE", keep_raw_input=True)
    except phonenumbers.NumberParseException:
        return False
    source = number.country_code_source
    international = source in (
        phonenumbers.CountryCodeSource.FROM_NUMBER_WITH_PLUS_SIGN,
        phonenumbers.CountryCodeSource.FROM_NUMBER_WITH_IDD,
    )
    if written.lstrip("(").startswith(("+", "00")) != international:
        return False
    if phonenumbers.is_valid_number(number):
        return True
    possible = phonenumbers.is_possible_number_with_reason(number)
    return international and possible == phonenumbers.ValidationResult.IS_POSSIBLE


def _addresses(text: str) -> list[Finding]:
    """Return the street addresses in ``text`` (not a bare street word, nor "Storgatan 5 gånger")."""
    found = []
    for match in _ADDRESS.finditer(text):
        street = match.group("street")
        if street.split(" ")[-1].lower() in _NOT_STREETS and " " not in street:
            continue
        if not match.group("postal") and _NOT_AFTER_ADDRESS.match(text, match.end()):
            continue
        found.append(Finding("address", match.start(), match.end(), match.group()))
    return found


def _names(text: str, names: Iterable[str]) -> list[Finding]:
    """Return where ``names`` (full, or a part) occur in ``text``; a part that is an everyday
    word (:data:`COMMON_WORDS`) does not count at a sentence start."""
    pattern = _name_pattern(tuple(sorted({n.strip() for n in names if n and n.strip()})))
    if pattern is None:
        return []
    return [
        Finding("name", m.start(), m.end(), m.group())
        for m in pattern.finditer(text)
        if not (m.group() in COMMON_WORDS and _starts_sentence(text, m.start()))
    ]


@lru_cache(maxsize=16)
def _name_pattern(names: tuple[str, ...]) -> re.Pattern[str] | None:
    """Return one regex for the full names (any case) and their parts of three letters or more
    (capitalised as in the name, or in a script without case), longest first; None if no names."""
    parts = set()
    for name in names:
        for part in name.split():
            capitalised = part[0].isupper() or part.lower() == part.upper()
            if len(part) >= 3 and capitalised and (part.isalpha() or "-" in part):
                parts.add(part)
    if not names:
        return None
    full = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    alternatives = [f"(?i:{full})", *(re.escape(part) for part in sorted(parts, key=len, reverse=True))]
    return re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)")


def _starts_sentence(text: str, start: int) -> bool:
    """Return True if ``start`` begins the text, a line, or a sentence (after . ! ? or : and
    whitespace). Looks back a bounded stretch, so many names in a long text stay linear."""
    before = text[max(0, start - 100) : start]
    stripped = before.rstrip()
    gap = before[len(stripped) :]
    return not stripped or "\n" in gap or (bool(gap) and stripped[-1] in ".!?:")


def _handles(text: str) -> list[Finding]:
    """Return the @handles in ``text`` (category ``name``)."""
    return [Finding("name", m.start(), m.end(), m.group()) for m in _HANDLE.finditer(text)]
