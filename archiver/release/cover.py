"""The cover letter (*följebrev*) of a release: the decision on a public access request as PDF/A-3b.

The letter names the organisation, the reference, the date and who decided, what was asked (the
scope), what is released (one thread document per row), what was masked (by category and legal
ground, with occurrences and documents, never the values) and how to appeal. It is drawn with the
documents' engine (fonts, page layout, :func:`~archiver.documents.pdfa.finish`) and validated
before it is returned; the same letter gives the same bytes. The facts it states are embedded as
``release.json`` (a PDF/A-3 associated file).

Wording: ``templates/releases/cover.{lang}.j2``; the appeal text (*överklagandehänvisning*):
``templates/releases/appeal.{lang}.j2``, or the organisation's own template named by
``ARCHIVER_RELEASE_APPEAL_TEMPLATE``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup, escape
from reportlab.platypus import Flowable, Spacer

from archiver import __version__
from archiver.config import Settings
from archiver.documents.fonts import MissingGlyphs
from archiver.documents.layout import LANGUAGES, TEXT_WIDTH, PageText, build_pdf, para, plain, styles, table
from archiver.documents.pdfa import DocumentMeta, EmbeddedFile, finish, require_valid
from archiver.documents.text import inline
from archiver.errors import ConfigError, ReleaseError
from archiver.release.grounds import Ground
from archiver.release.store import release_key_prefix
from archiver.templating import TEMPLATES

FORMAT = "social-archive-release-cover/1"
RELEASE_FILE = "release.json"
APPEAL_TEMPLATE_SETTING = "ARCHIVER_RELEASE_APPEAL_TEMPLATE"


@dataclass
class ReleasedDocument:
    """One thread document of a release, as the cover letter lists it."""

    file_name: str
    thread_key: str
    items: int
    versions: int
    masks: int
    """Masked occurrences in this document."""


@dataclass
class MaskedSummary:
    """What was masked of one category on one ground: how often and in which documents."""

    category: str
    ground: Ground
    occurrences: int
    documents: list[str]
    """File names of the documents concerned."""


@dataclass
class CoverLetter:
    """Everything the cover letter says; it holds no masked value."""

    reference: str
    organisation: str
    decided_on: date
    decided_by: str | None
    scope: list[str]
    """Human-readable lines describing the scope (no masked values)."""
    documents: list[ReleasedDocument]
    masked: list[MaskedSummary]
    """Accepted masks only, grouped by category and ground."""
    lang: str
    """``sv`` or ``en``."""


@cache
def _environment() -> jinja2.Environment:
    """Return the environment of the letter's wording: autoescaped, its output is paragraph markup."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined, autoescape=True
    )


@cache
def cover_words(lang: str) -> Any:
    """Return the wording module of ``templates/releases/cover.{lang}.j2`` (its ``set`` values and
    macros as attributes); raise ReleaseError for an unknown language."""
    if lang not in LANGUAGES:
        raise ReleaseError(
            f"No cover letter wording for language {lang!r}; use one of: {', '.join(LANGUAGES)}."
        )
    return _environment().get_template(f"releases/cover.{lang}.j2").module


def cover_file_name(lang: str) -> str:
    """Return the cover letter's file name in a package: ``följebrev.pdf`` (sv), ``cover-letter.pdf`` (en)."""
    return str(cover_words(lang).file_name)


def cover_identifier(reference: str) -> str:
    """Return the letter's identifier, ``release/{safe ref}/cover`` (safe ref as in the bucket keys)."""
    safe = release_key_prefix(reference).removeprefix("releases/").strip("/")
    return f"release/{safe}/cover"


def cover_metadata(letter: CoverLetter, settings: Settings | None = None) -> dict[str, Any]:
    """Return what the letter says about itself (for ``manifest.json``): title, identifier,
    language, created (ISO, UTC) and keywords."""
    w = cover_words(letter.lang)
    return {
        "title": plain(w.title()),
        "identifier": cover_identifier(letter.reference),
        "language": w.language,
        "created": _created(letter, settings or Settings()).isoformat().replace("+00:00", "Z"),
        "keywords": _keywords(letter),
    }


def release_summary(letter: CoverLetter) -> dict[str, Any]:
    """Return the facts of the release embedded as ``release.json``: reference, decision, scope,
    documents and masks by category and ground (no values)."""
    return {
        "format": FORMAT,
        "reference": letter.reference,
        "organisation": letter.organisation,
        "decided_on": letter.decided_on.isoformat(),
        "decided_by": letter.decided_by,
        "lang": letter.lang,
        "scope": list(letter.scope),
        "documents": [
            {
                "file_name": d.file_name,
                "thread_key": d.thread_key,
                "items": d.items,
                "versions": d.versions,
                "masks": d.masks,
            }
            for d in letter.documents
        ],
        "masked": [
            {
                "category": m.category,
                "ground": {"code": m.ground.code, "sv": m.ground.sv, "en": m.ground.en},
                "occurrences": m.occurrences,
                "documents": list(m.documents),
            }
            for m in letter.masked
        ],
        "software": {"name": "social-archiver", "version": __version__},
    }


def cover_letter_pdf(letter: CoverLetter, settings: Settings) -> bytes:
    """Return the cover letter as PDF/A-3b bytes, validated (DocumentError listing the problems
    otherwise); the same letter and settings give the same bytes."""
    w = cover_words(letter.lang)
    appeal = appeal_text(letter, settings)
    missing = MissingGlyphs()
    identifier = cover_identifier(letter.reference)
    title = plain(w.title())
    pages = build_pdf(
        [list(_story(letter, appeal, missing))],
        PageText(
            plain(w.header(letter.organisation, letter.reference)),
            plain(w.footer(letter.reference)),
            letter.lang,
        ),
        title,
        w.language,
    )
    meta = DocumentMeta(
        title=title,
        creator=letter.organisation,
        description=plain(w.subject(letter.organisation, letter.reference)),
        identifier=identifier,
        created=_created(letter, settings),
        language=w.language,
        source=letter.reference,
        keywords=_keywords(letter),
        missing_glyphs=missing.chars,
    )
    summary = json.dumps(release_summary(letter), ensure_ascii=False, indent=1, sort_keys=True).encode(
        "utf-8"
    )
    files = [
        EmbeddedFile(
            RELEASE_FILE,
            summary,
            "application/json",
            "The release: reference, documents, masks (no values)",
            "Data",
        )
    ]
    pdf = finish(pages, meta, files)
    require_valid(pdf, identifier)
    return pdf


def _created(letter: CoverLetter, settings: Settings) -> datetime:
    """Return the start of the decision day in the archive's time zone, in UTC."""
    return datetime.combine(letter.decided_on, time(0), tzinfo=ZoneInfo(settings.timezone)).astimezone(UTC)


def _keywords(letter: CoverLetter) -> list[str]:
    return [letter.reference, "release", "cover-letter" if letter.lang == "en" else "följebrev"]


# --- the appeal text -------------------------------------------------------------------------


def appeal_text(letter: CoverLetter, settings: Settings) -> list[str]:
    """Return the appeal text's paragraphs (plain text) for ``letter``: the organisation's own
    template (``ARCHIVER_RELEASE_APPEAL_TEMPLATE``) when set, else the built-in one; raise
    ConfigError naming the file and what to fix when the organisation's template is unusable."""
    values = {
        "organisation": letter.organisation,
        "reference": letter.reference,
        "decided_on": letter.decided_on.isoformat(),
        "masked": any(m.occurrences for m in letter.masked),
        "lang": letter.lang,
    }
    if settings.release_appeal_template is None:
        template = _appeal_environment(TEMPLATES).get_template(f"releases/appeal.{letter.lang}.j2")
        text = template.render(values)
    else:
        text = _own_appeal(settings.release_appeal_template, letter.lang, values)
    paragraphs = [" ".join(block.split()) for block in text.split("\n\n")]
    return [p for p in paragraphs if p]


@cache
def _appeal_environment(folder: Path) -> jinja2.Environment:
    """Return a plain-text environment over ``folder`` (the output is escaped when drawn)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder), undefined=jinja2.StrictUndefined, autoescape=False
    )


def _own_appeal(configured: Path, lang: str, values: dict[str, Any]) -> str:
    path = Path(str(configured).replace("{lang}", lang)).expanduser()
    where = f"{APPEAL_TEMPLATE_SETTING}={configured}" + (f" ({path})" if str(path) != str(configured) else "")
    if not path.is_file():
        raise ConfigError(
            f"{where} names no readable file: write the appeal text as a Jinja2 file there, "
            f"or unset {APPEAL_TEMPLATE_SETTING} to use the built-in text."
        )
    try:
        source = path.read_text(encoding="utf-8")
        return _appeal_environment(path.parent).from_string(source).render(values)
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{where} cannot be read as UTF-8 text: {error}") from None
    except jinja2.TemplateSyntaxError as error:
        raise ConfigError(
            f"{where} is not a valid Jinja2 template (line {error.lineno}: {error.message})."
        ) from None
    except jinja2.TemplateError as error:
        raise ConfigError(
            f"{where} cannot be filled in ({error}); use only these variables: {', '.join(sorted(values))}."
        ) from None


# --- layout ----------------------------------------------------------------------------------


def _story(letter: CoverLetter, appeal: list[str], missing: MissingGlyphs) -> Iterator[Flowable]:
    s, w = styles(), cover_words(letter.lang)

    def text(value: str) -> Markup:
        return Markup(inline(value, missing))

    yield para(w.title(), s.title)
    yield para(w.subject(text(letter.organisation), text(letter.reference)), s.body)
    yield Spacer(0, 6)
    facts = [
        [plain(w.labels["organisation"]), para(text(letter.organisation), s.cell)],
        [plain(w.labels["reference"]), para(text(letter.reference), s.cell)],
        [plain(w.labels["decided_on"]), letter.decided_on.isoformat()],
        [
            plain(w.labels["decided_by"]),
            para(text(letter.decided_by) if letter.decided_by else w.blank(), s.cell),
        ],
    ]
    yield table(facts, [45 * 2.83, TEXT_WIDTH - 45 * 2.83], header=False)
    yield para(w.labels["request"], s.heading)
    yield para(w.request_intro(), s.body)
    for line in letter.scope or [plain(w.no_scope())]:
        yield para(Markup("• ") + text(line), s.body)
    yield para(w.labels["decision"], s.heading)
    masked = any(m.occurrences for m in letter.masked)
    yield para(w.decision(text(letter.organisation), len(letter.documents), masked), s.body)
    yield para(w.labels["documents"], s.heading)
    yield from _documents_table(letter, text)
    yield para(w.labels["masked"], s.heading)
    yield from _masked_table(letter, text)
    if masked:
        yield para(w.marker_note(w.marker_example()), s.body)
    yield para(w.labels["appeal"], s.heading)
    for paragraph in appeal:
        yield para(text(paragraph), s.body)
    yield Spacer(0, 8)
    yield para(w.attachments(), s.small)
    if missing:
        yield para(w.missing_glyphs(", ".join(missing.chars)), s.small)


def _documents_table(letter: CoverLetter, text: Any) -> Iterator[Flowable]:
    s, w = styles(), cover_words(letter.lang)
    if not letter.documents:
        yield para(w.no_documents(), s.body)
        return
    header = [plain(w.labels[n]) for n in ("file", "thread", "items", "versions", "masks")]
    rows: list[list[Any]] = [
        [
            para(text(d.file_name), s.code),
            para(text(d.thread_key), s.code),
            str(d.items),
            str(d.versions),
            str(d.masks),
        ]
        for d in letter.documents
    ]
    totals = [
        plain(w.labels["total"]),
        "",
        str(sum(d.items for d in letter.documents)),
        str(sum(d.versions for d in letter.documents)),
        str(sum(d.masks for d in letter.documents)),
    ]
    numbers = 52.0
    width = (TEXT_WIDTH - 3 * numbers) / 2
    yield table([header, *rows, totals], [width, width, numbers, numbers, numbers])


def _masked_table(letter: CoverLetter, text: Any) -> Iterator[Flowable]:
    s, w = styles(), cover_words(letter.lang)
    shown = [m for m in letter.masked if m.occurrences]
    if not shown:
        yield para(w.nothing_masked(), s.body)
        return
    header = [plain(w.labels[n]) for n in ("category", "ground", "occurrences", "in_documents")]
    rows: list[list[Any]] = []
    for m in shown:
        explanation = m.ground.text(letter.lang)
        rows.append(
            [
                para(escape(w.categories.get(m.category, m.category)), s.cell),
                para(w.ground(text(m.ground.code), text(explanation)), s.cell),
                str(m.occurrences),
                para(Markup("<br/>").join(text(name) for name in m.documents), s.code),
            ]
        )
    yield table([header, *rows], [95, TEXT_WIDTH - 95 - 60 - 130, 60, 130])
