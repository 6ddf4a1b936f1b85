"""The PDF/A engine: fonts for every script, RTL text, PDF/A-3b finishing, checks and the seal.

A small multilingual document is drawn with ReportLab through the engine's API, finished and
checked with the real offline validator (``pikepdf.pdfa``) and the project's structural
checks; deliberately broken variants must fail; sealing uses a self-signed RSA certificate and
a timestamp service on 127.0.0.1.
"""

from __future__ import annotations

import json
import logging
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pikepdf
import pikepdf.pdfa
import pypdf
import pytest
from fontTools.ttLib import TTFont
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate

from archiver.config import Settings
from archiver.documents import fonts as fonts_module
from archiver.documents.checks import structural_problems
from archiver.documents.fonts import FONT_BODY, FONT_BOLD, MissingGlyphs, register_fonts
from archiver.documents.pdfa import DocumentMeta, EmbeddedFile, finish, require_valid, validate
from archiver.documents.signing import SigningSettings, increment_problems, sign, verify_signature
from archiver.documents.text import BidiParagraph, inline, paragraphs
from archiver.errors import DocumentError

from tsa import make_identity, running_tsa

SWEDISH = "Hej! Åsa och Örjan äter smörgås på Ängelholms torg – 12 000 kr.\nNy rad: ”citat” …"
ARABIC = "مرحبا بكم في بلدية هلسينغبورغ، الاجتماع في الساعة 10:30 يوم ١٢٣ شكراً"
PERSIAN = "سلام، جلسه ساعت ۱۴:۰۰ در کتابخانه برگزار می‌شود. ممنون"
SOMALI = "Soomaali: Waan ku salaamayaa, magaalada waa qurux badan."
TIGRINYA = "ትግርኛ: ሰላም ከመይ ኣለኹም"
AMHARIC = "አማርኛ: ሰላም እንዴት ናችሁ"
CHINESE = "中文：你好，欢迎来到赫尔辛堡。"
EMOJI = "Emoji 😀 👍🏽 🇸🇪 👨\u200d👩\u200d👧 ❤\ufe0f"
KOREAN = "Koreanska: 가"
LONG_ARABIC = " ".join([ARABIC] * 4)

META = DocumentMeta(
    title="Dagbok angelholm-fb 2026-11-01",
    creator="Ängelholms kommun",
    description="Allmänna handlingar från kommunens Facebooksida, 1 november 2026",
    identifier="documents/angelholm-fb/2026/11/angelholm-fb_2026-11-01.pdf",
    created=datetime(2026, 11, 2, 1, 0, tzinfo=UTC),
    source="facebook:angelholm-fb",
    keywords=["dagbok", "facebook"],
)
ITEMS = json.dumps([{"item_key": "facebook:1:2", "text": ARABIC}], ensure_ascii=False).encode()


def render(missing: MissingGlyphs) -> bytes:
    """Return the multilingual fixture drawn by ReportLab through the engine's text API."""
    register_fonts()
    body = ParagraphStyle("body", fontName=FONT_BODY, fontSize=10, leading=14, spaceAfter=4)
    heading = ParagraphStyle("heading", fontName=FONT_BOLD, fontSize=13, leading=18)
    story = [Paragraph(inline("Författare: محمد 李华 😀 ሰላም", missing, bold=True), heading)]
    for text in (SWEDISH, ARABIC, PERSIAN, SOMALI, TIGRINYA, AMHARIC, CHINESE, EMOJI, KOREAN, LONG_ARABIC):
        story += paragraphs(text, body, missing)
    out = BytesIO()
    SimpleDocTemplate(out, invariant=1, initialFontName=FONT_BODY, title=META.title).build(story)
    return out.getvalue()


def build() -> tuple[bytes, MissingGlyphs]:
    """Return the finished fixture document and the characters no font covered."""
    missing = MissingGlyphs()
    raw = render(missing)
    meta = DocumentMeta(**{**META.__dict__, "missing_glyphs": missing.chars})
    files = [EmbeddedFile("items.json", ITEMS, "application/json", "Posterna i dokumentet")]
    return finish(raw, meta, files), missing


@pytest.fixture(scope="module")
def document() -> tuple[bytes, MissingGlyphs]:
    return build()


def extracted_text(pdf: bytes) -> str:
    """Return the text pypdf extracts, NFKC-normalised (Arabic presentation forms -> letters)."""
    reader = pypdf.PdfReader(BytesIO(pdf))
    return unicodedata.normalize("NFKC", "\n".join(page.extract_text() for page in reader.pages))


def mutate(pdf: bytes, change: Callable[[pikepdf.Pdf], None]) -> bytes:
    """Return ``pdf`` after ``change`` was applied with pikepdf."""
    with pikepdf.open(BytesIO(pdf)) as document:
        change(document)
        out = BytesIO()
        document.save(out, deterministic_id=True)
    return out.getvalue()


# --- fonts and text ---------------------------------------------------------------------------


def test_fonts_are_registered_once_and_cached_as_static_instances() -> None:
    fontset = register_fonts()
    assert register_fonts() is fontset
    assert fontset.body.name == FONT_BODY
    assert {"ArchiverArabic", "ArchiverEthiopic", "ArchiverSC", "ArchiverEmoji"} <= set(fontset.names)
    sc = next(font for font in fontset.fallbacks if font.name == "ArchiverSC")
    assert sc.path and "textflowkit-fonts-" in sc.path
    static = TTFont(sc.path)
    assert "fvar" not in static and static["OS/2"].usWeightClass == 400  # not the Thin default
    for char, family in [("å", FONT_BODY), ("ب", "ArchiverArabic"), ("ሰ", "ArchiverEthiopic"),
                         ("欢", "ArchiverSC"), ("😀", "ArchiverEmoji")]:
        font = fontset.font_for(char)
        assert font is not None and font.name == family
    assert fontset.font_for("가") is None


def test_missing_glyphs_are_visible_reported_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    missing = MissingGlyphs()
    with caplog.at_level(logging.WARNING, logger=fonts_module.__name__):
        markup = inline("가 och 가 och 각", missing)
    assert missing.chars == ["U+AC00", "U+AC01"]
    assert markup.count("[U+AC00]") == 2 and "[U+AC01]" in markup
    assert len([r for r in caplog.records if "U+AC00" in r.getMessage()]) == 1
    assert not [r for r in caplog.records if "och" in r.getMessage()], "residents' text must not reach logs"


def test_inline_escapes_markup_and_drops_emoji_joiners() -> None:
    missing = MissingGlyphs()
    markup = inline("<b>Anna & Co</b> 👨\u200d👩\u200d👧 ❤\ufe0f", missing)
    assert "&lt;b&gt;Anna &amp; Co&lt;/b&gt;" in markup
    assert "\u200d" not in markup and "\ufe0f" not in markup
    assert 'face="ArchiverEmoji"' in markup and not missing


def test_rtl_text_is_shaped_reordered_and_keeps_digits() -> None:
    missing = MissingGlyphs()
    markup = inline("سلام 2026", missing)
    assert "2026" in markup  # digits stay in reading order
    assert "\ufedf" not in markup and "\ufee1" in markup  # presentation forms, final meem last in logic
    flowables = paragraphs(LONG_ARABIC, ParagraphStyle("b", fontName=FONT_BODY, fontSize=10, leading=14), missing)
    assert len(flowables) == 1 and isinstance(flowables[0], BidiParagraph)
    _, height = flowables[0].wrap(200, 1000)
    assert height >= 14 * 4  # wrapped into several right-aligned lines


# --- the finished document --------------------------------------------------------------------


def test_multilingual_document_passes_pdfa_3b_and_structural_checks(document: tuple[bytes, MissingGlyphs]) -> None:
    pdf, _ = document
    report = pikepdf.pdfa.validate_written(BytesIO(pdf), "3b")
    assert report.verdict == "pass", [str(finding) for finding in report.findings]
    assert structural_problems(pdf) == []
    assert validate(pdf) == []
    require_valid(pdf, "fixture")


def test_text_extracts_in_every_script(document: tuple[bytes, MissingGlyphs]) -> None:
    text = extracted_text(document[0])
    for expected in ["Åsa och Örjan äter smörgås på Ängelholms torg", "Ny rad", SOMALI, TIGRINYA, AMHARIC,
                     "欢迎来到赫尔辛堡", "😀", "👍", "❤", "[U+AC00]", "Författare"]:
        assert expected in text, expected
    for word in ["مرحبا", "بلدية", "هلسينغبورغ", "الاجتماع", "کتابخانه", "جلسه", "10:30"]:
        assert word in text, word


def test_uncovered_character_is_reported_in_metadata(document: tuple[bytes, MissingGlyphs]) -> None:
    pdf, missing = document
    assert missing.chars == ["U+AC00"]
    with pikepdf.open(BytesIO(pdf)) as opened:
        xmp = opened.open_metadata()
        assert "missing-glyph:U+AC00" in xmp["dc:subject"]
        assert "missing-glyph:U+AC00" in str(opened.docinfo["/Keywords"])


def test_metadata_docinfo_and_attachment_agree(document: tuple[bytes, MissingGlyphs]) -> None:
    with pikepdf.open(BytesIO(document[0])) as opened:
        xmp = opened.open_metadata()
        assert xmp["dc:title"] == META.title == str(opened.docinfo["/Title"])
        assert xmp["dc:creator"] == [META.creator] and str(opened.docinfo["/Author"]) == META.creator
        assert xmp["dc:description"] == META.description == str(opened.docinfo["/Subject"])
        assert xmp["dc:identifier"] == META.identifier and xmp["dc:language"] == {"sv-SE"}
        assert xmp["pdfaid:part"] == "3" and xmp["pdfaid:conformance"] == "B"
        assert xmp["xmp:CreateDate"].startswith("2026-11-02T01:00:00")
        assert xmp["xmpMM:DocumentID"].startswith("uuid:")
        assert str(opened.Root.Lang) == "sv-SE"
        spec = opened.attachments["items.json"]
        assert spec.obj.AFRelationship == pikepdf.Name.Source
        assert spec.get_file().read_bytes() == ITEMS
        assert opened.Root.AF[0].objgen == spec.obj.objgen


def test_same_input_gives_byte_identical_pdf(document: tuple[bytes, MissingGlyphs]) -> None:
    again, _ = build()
    assert again == document[0]


def test_naive_creation_time_is_refused() -> None:
    with pytest.raises(DocumentError, match="time zone"):
        finish(render(MissingGlyphs()), DocumentMeta(**{**META.__dict__, "created": datetime(2026, 11, 2)}), [])


# --- negative samples -------------------------------------------------------------------------


def _canvas_pdf(draw: Callable[[canvas.Canvas], None]) -> bytes:
    register_fonts()
    out = BytesIO()
    pdf = canvas.Canvas(out, invariant=1, initialFontName=FONT_BODY)
    draw(pdf)
    pdf.save()
    return finish(out.getvalue(), META, [])


def _add_link_without_flags(document: pikepdf.Pdf) -> None:
    link = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[10, 10, 100, 30],
                              A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("https://example.org")))
    document.pages[0].obj.Annots = pikepdf.Array([document.make_indirect(link)])


def _add_javascript(document: pikepdf.Pdf) -> None:
    document.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))


def _drop_af_relationship(document: pikepdf.Pdf) -> None:
    del document.attachments["items.json"].obj["/AFRelationship"]


def _drop_output_intent(document: pikepdf.Pdf) -> None:
    del document.Root["/OutputIntents"]


@pytest.mark.parametrize(
    ("defect", "change", "expected"),
    [
        ("missing OutputIntent", _drop_output_intent, "OutputIntent"),
        ("JavaScript OpenAction", _add_javascript, "JavaScript"),
        ("link annotation without /F", _add_link_without_flags, "6.3.2"),
        ("AF without AFRelationship", _drop_af_relationship, "AFRelationship"),
    ],
)
def test_broken_documents_fail_the_checks(
    document: tuple[bytes, MissingGlyphs], defect: str, change: Callable[[pikepdf.Pdf], None], expected: str
) -> None:
    broken = mutate(document[0], change)
    assert any(expected in problem for problem in structural_problems(broken)), defect
    with pytest.raises(DocumentError, match="not valid PDF/A-3b"):
        require_valid(broken, defect)


def test_unembedded_helvetica_fails() -> None:
    def draw(pdf: canvas.Canvas) -> None:
        pdf.setFont("Helvetica", 12)
        pdf.drawString(72, 720, "Hej")

    problems = validate(_canvas_pdf(draw))
    assert any("Helvetica is not embedded" in problem for problem in problems), problems


def test_tofu_in_body_font_fails() -> None:
    def draw(pdf: canvas.Canvas) -> None:
        pdf.setFont(FONT_BODY, 12)
        pdf.drawString(72, 720, "Hej 가")  # bypasses the fallback: ReportLab draws .notdef

    pdf = _canvas_pdf(draw)
    assert pikepdf.pdfa.validate_written(BytesIO(pdf), "3b").verdict == "pass"  # the validator misses it
    assert any(".notdef" in problem for problem in structural_problems(pdf))


# --- the seal ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seal_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("seal")
    identity = make_identity("Ängelholms kommun arkivsigill")
    files = {
        "cert": folder / "seal.pem",
        "key": folder / "seal-key.pem",
        "p12": folder / "seal.p12",
        "ec_cert": folder / "ec.pem",
        "ec_key": folder / "ec-key.pem",
    }
    files["cert"].write_bytes(identity.cert_pem())
    files["key"].write_bytes(identity.key_pem(b"hemligt"))
    files["p12"].write_bytes(identity.pkcs12(b"hemligt"))
    ec_identity = make_identity("EC seal", ecdsa=True)
    files["ec_cert"].write_bytes(ec_identity.cert_pem())
    files["ec_key"].write_bytes(ec_identity.key_pem())
    return files


def test_seal_with_timestamp_keeps_the_document_sound(
    document: tuple[bytes, MissingGlyphs], seal_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SEAL_PASSWORD", "hemligt")
    monkeypatch.setenv("ARCHIVER_SIGNING_CERT", str(seal_files["p12"]))
    monkeypatch.setenv("ARCHIVER_SIGNING_KEY_PASSWORD_ENV", "TEST_SEAL_PASSWORD")
    tsa_identity = make_identity("Test TSA", timestamping=True)
    with running_tsa(tsa_identity) as url:
        monkeypatch.setenv("ARCHIVER_TIMESTAMP_URL", url)
        settings = SigningSettings.from_settings(Settings())
        assert settings is not None and settings.timestamp_url == url
        signed = sign(document[0], settings)
    summary = verify_signature(signed, trust_roots=[seal_files["cert"].read_bytes(), tsa_identity.cert_pem()])
    assert summary["signed"] and summary["count"] == 1
    seal = summary["seals"][0]  # type: ignore[index]
    assert seal["intact"] and seal["valid"] and seal["trusted"] and seal["covers_whole_file"]
    assert seal["timestamp"] and seal["timestamp_valid"]
    assert structural_problems(signed) == []
    assert increment_problems(document[0], signed) == []
    with pikepdf.open(BytesIO(document[0])) as before, pikepdf.open(BytesIO(signed)) as after:
        assert before.Root.Metadata.read_bytes() == after.Root.Metadata.read_bytes()
        assert str(after.docinfo["/Producer"]) == str(before.docinfo["/Producer"])
        assert after.pdf_version == "1.7"


def test_seal_without_timestamp_from_pem_key(
    document: tuple[bytes, MissingGlyphs], seal_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SEAL_PASSWORD", "hemligt")
    settings = SigningSettings(seal_files["cert"], seal_files["key"], "TEST_SEAL_PASSWORD")
    signed = sign(document[0], settings)
    seal = verify_signature(signed)["seals"][0]  # type: ignore[index]
    assert seal["intact"] and seal["valid"] and not seal["trusted"] and not seal["timestamp"]
    assert structural_problems(signed) == []
    tampered = signed[:11] + bytes([signed[11] ^ 1]) + signed[12:]  # a byte of the header comment
    assert not verify_signature(tampered)["seals"][0]["intact"]  # type: ignore[index]
    assert verify_signature(document[0]) == {"signed": False, "count": 0, "seals": []}


def test_seal_refuses_ecdsa_and_a_missing_passphrase(
    document: tuple[bytes, MissingGlyphs], seal_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(DocumentError, match="RSA"):
        sign(document[0], SigningSettings(seal_files["ec_cert"], seal_files["ec_key"]))
    monkeypatch.delenv("TEST_SEAL_PASSWORD", raising=False)
    with pytest.raises(DocumentError, match="TEST_SEAL_PASSWORD"):
        sign(document[0], SigningSettings(seal_files["p12"], None, "TEST_SEAL_PASSWORD"))


def test_an_unreachable_timestamp_service_fails_without_showing_its_credentials(
    document: tuple[bytes, MissingGlyphs], seal_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SEAL_PASSWORD", "hemligt")
    url = f"http://tsa-user:tsa-secret@127.0.0.1:{free_port()}/tsa"
    settings = SigningSettings(seal_files["cert"], seal_files["key"], "TEST_SEAL_PASSWORD", url)
    with pytest.raises(DocumentError, match="timestamp service") as raised:
        sign(document[0], settings)
    assert "tsa-secret" not in str(raised.value) and "127.0.0.1" in str(raised.value)


def free_port() -> int:
    """Return a loopback port nothing listens on (just closed)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
