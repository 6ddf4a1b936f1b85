"""The release cover letter (följebrev): valid PDF/A-3b, what it says in Swedish and English,
reproducible bytes, the organisation's own appeal text and clear errors for a bad one."""

from __future__ import annotations

import io
import json
import re
import unicodedata
from datetime import date
from pathlib import Path

import pikepdf
import pypdf
import pytest

from archiver.config import Settings
from archiver.documents.pdfa import validate
from archiver.documents.render import embedded_files
from archiver.errors import ConfigError, ReleaseError
from archiver.release.cover import (
    CoverLetter,
    MaskedSummary,
    ReleasedDocument,
    cover_file_name,
    cover_letter_pdf,
    cover_metadata,
    cover_words,
)
from archiver.release.grounds import Ground
from archiver.templating import TEMPLATES

PERSONAL = Ground(
    code="OSL 21 kap. 7 §",
    sv="Personuppgift som kan antas komma att behandlas i strid med dataskyddsförordningen.",
    en="Personal data that can be assumed to be processed in breach of the GDPR.",
)
PROTECTED = Ground(
    code="OSL 21 kap. 3 §",
    sv="Skyddade personuppgifter.",
    en="Protected personal data.",
)
FIRST = "threads/facebook_1001_2002.pdf"
SECOND = "threads/instagram_3003_4004.pdf"


def _letter(lang: str = "sv", masked: bool = True, decided_by: str | None = "Anna Registrator") -> CoverLetter:
    return CoverLetter(
        reference="KS 2026/123",
        organisation="Ängelholms kommun",
        decided_on=date(2026, 11, 5),
        decided_by=decided_by,
        scope=["Konton: angelholm-fb, angelholm-ig", "Dagar: 2026-11-01 – 2026-11-03", 'Fritext: "bygglov"'],
        documents=[
            ReleasedDocument(FIRST, "facebook:1001:2002", 5, 7, 3 if masked else 0),
            ReleasedDocument(SECOND, "instagram:3003:4004", 2, 2, 1 if masked else 0),
        ],
        masked=[
            MaskedSummary("personnummer", PERSONAL, 2, [FIRST]),
            MaskedSummary("phone", PROTECTED, 2, [FIRST, SECOND]),
        ]
        if masked
        else [],
        lang=lang,
    )


def _text(pdf: bytes) -> str:
    """Return the letter's text, NFKC-normalised, with every run of whitespace as one space."""
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", "\n".join(page.extract_text() for page in pages)))


@pytest.fixture(scope="module")
def swedish() -> bytes:
    return cover_letter_pdf(_letter("sv"), Settings())


@pytest.fixture(scope="module")
def english() -> bytes:
    return cover_letter_pdf(_letter("en"), Settings())


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_letter_is_valid_pdfa(swedish: bytes, english: bytes, lang: str) -> None:
    assert validate(swedish if lang == "sv" else english) == []


def test_the_swedish_letter_says_what_was_decided_released_masked_and_how_to_appeal(swedish: bytes) -> None:
    text = _text(swedish)
    for expected in (
        "Beslut om utlämnande av allmänna handlingar",
        "Ängelholms kommun",
        "KS 2026/123",
        "2026-11-05",
        "Anna Registrator",
        'Fritext: "bygglov"',
        FIRST,
        SECOND,
        "facebook:1001:2002",
        "Personnummer",
        "Telefonnummer",
        "OSL 21 kap. 7 §",
        "OSL 21 kap. 3 §",
        "Skyddade personuppgifter",
        "[MASKERAT: grund]",
        "delvis avslås",
        "6 kap. 7 § offentlighets- och sekretesslagen",
        "kammarrätten",
        "inom tre veckor",
        "diarienummer KS 2026/123",
    ):
        assert expected in text, expected
    assert "Inga uppgifter har maskerats." not in text


def test_the_english_letter_without_masks_says_nothing_was_masked(english: bytes) -> None:
    letter = _letter("en", masked=False, decided_by=None)
    text = _text(cover_letter_pdf(letter, Settings()))
    for expected in (
        "Decision on release of official documents",
        "Nothing was masked.",
        "released in full",
        "Administrative Court of Appeal",
        "within three weeks",
        "reference KS 2026/123",
        "Decided by ________________________",
    ):
        assert expected in text, expected
    assert "[MASKED: ground]" not in text
    masked = _text(english)
    assert "[MASKED: ground]" in masked and "Protected personal data" in masked and "Phone number" in masked


def test_same_letter_same_bytes_dated_on_the_decision_day(swedish: bytes) -> None:
    assert cover_letter_pdf(_letter("sv"), Settings()) == swedish
    with pikepdf.open(io.BytesIO(swedish)) as pdf:
        info = pdf.trailer.Info
        assert str(info.CreationDate).startswith("D:20261104230000")  # midnight in Stockholm (CET)
        assert str(info.Title) == "Beslut om utlämnande av allmänna handlingar"
        with pdf.open_metadata() as xmp:
            assert xmp["dc:identifier"] == cover_metadata(_letter("sv"))["identifier"]
    assert cover_metadata(_letter("sv"))["identifier"].startswith("release/")
    assert cover_metadata(_letter("sv"))["identifier"].endswith("/cover")


def test_release_json_states_the_release_without_values(swedish: bytes) -> None:
    release = json.loads(embedded_files(swedish)["release.json"])
    assert release["reference"] == "KS 2026/123"
    assert [d["file_name"] for d in release["documents"]] == [FIRST, SECOND]
    assert [(m["category"], m["ground"]["code"], m["occurrences"]) for m in release["masked"]] == [
        ("personnummer", "OSL 21 kap. 7 §", 2),
        ("phone", "OSL 21 kap. 3 §", 2),
    ]


def test_the_organisations_own_appeal_template_is_used(tmp_path: Path) -> None:
    (tmp_path / "appeal-sv.txt").write_text(
        "Överklaga hos Förvaltningsrätten i Malmö senast tre veckor efter beslutet {{ decided_on }} "
        "om ärende {{ reference }}{% if masked %} (maskering){% endif %}.\n\nRing {{ organisation }}s registratur.\n",
        encoding="utf-8",
    )
    settings = Settings(release_appeal_template=tmp_path / "appeal-{lang}.txt")
    text = _text(cover_letter_pdf(_letter("sv"), settings))
    assert "Överklaga hos Förvaltningsrätten i Malmö senast tre veckor efter beslutet 2026-11-05" in text
    assert "om ärende KS 2026/123 (maskering)." in text and "Ring Ängelholms kommuns registratur." in text
    assert "kammarrätten" not in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "names no readable file"),
        ("{% if masked %}unclosed", "not a valid Jinja2 template"),
        ("{{ requester }}", "use only these variables"),
    ],
    ids=["missing", "syntax", "unknown-variable"],
)
def test_a_bad_appeal_template_is_a_clear_config_error(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "appeal.j2"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as error:
        cover_letter_pdf(_letter("sv"), Settings(release_appeal_template=path))
    assert "ARCHIVER_RELEASE_APPEAL_TEMPLATE" in str(error.value) and str(path) in str(error.value)


def test_unknown_language_is_refused_and_file_names_follow_the_language() -> None:
    with pytest.raises(ReleaseError, match="sv, en"):
        cover_letter_pdf(_letter("fi"), Settings())
    assert (cover_file_name("sv"), cover_file_name("en")) == ("följebrev.pdf", "cover-letter.pdf")


def test_swedish_and_english_wording_define_the_same_names() -> None:
    def names(lang: str) -> set[str]:
        source = (TEMPLATES / "releases" / f"cover.{lang}.j2").read_text(encoding="utf-8")
        return set(re.findall(r"{% (?:set|macro) (\w+)", source))

    assert names("sv") == names("en")
    assert cover_words("sv").labels.keys() == cover_words("en").labels.keys()
    assert cover_words("sv").categories.keys() == cover_words("en").categories.keys()
