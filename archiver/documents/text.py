"""Arbitrary user text as ReportLab flowables and markup, in every script residents write.

ReportLab draws one font per text run and neither shapes Arabic nor reorders right-to-left
text, so this module does both itself:

* per-character font fallback: runs of characters the body font lacks are wrapped in
  ``<font face=...>`` for the first archive font that covers them; spaces stay in the body font
  (Noto Emoji's space is wide); emoji variation selectors, ZWJ and other invisible format
  characters are dropped (ReportLab cannot form emoji ligatures, so a ZWJ family shows as its
  members and a flag as two letters);
* a character no font covers is drawn as a visible, extractable placeholder ``[U+XXXX]`` and
  recorded in :class:`~archiver.documents.fonts.MissingGlyphs`;
* Arabic and Persian are shaped with arabic_reshaper (presentation forms, harakat kept) and
  every wrapped line is reordered with python-bidi, so right-to-left paragraphs are right
  aligned with digits and embedded Latin words in reading order.

No HarfBuzz shaping: Ethiopic, Hebrew, Chinese and Latin need none, Arabic is handled by the
reshaper, and shaping emoji sequences breaks PDF/A glyph widths.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from xml.sax.saxutils import escape

import arabic_reshaper
from arabic_reshaper.ligatures import LIGATURES
from bidi import get_display
from reportlab.lib.enums import TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.fonts import ps2tt
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, Paragraph

from archiver.documents.fonts import FontSet, MissingGlyphs, codepoint_label, register_fonts

# Invisible characters that only steer shaping, emoji presentation or bidi: dropped after
# reshaping and reordering have used them.
_DROPPED = frozenset(
    [
        *(0x00AD, 0x061C, 0x180E, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0xFEFF),
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
        *range(0xFE00, 0xFE10),
        *range(0xE0020, 0xE0080),
        *range(0xE0100, 0xE01F0),
    ]
)
_RTL_CLASSES = frozenset({"R", "AL"})
_PLACEHOLDER_COLOR = "#B00020"


@dataclass(frozen=True)
class _Run:
    face: str | None
    """Face name for a fallback run; None for the body (style) font."""
    text: str
    """Characters to draw, not yet XML-escaped."""
    placeholder: bool = False


def paragraphs(text: str, style: ParagraphStyle, missing: MissingGlyphs) -> list[Flowable]:
    """Return flowables for ``text``: one per blank-line separated paragraph, line breaks kept.

    ``style.fontName`` should be one of the archive faces (``FONT_BODY`` etc.); its bold flag
    picks the bold face of each fallback font. Paragraphs whose strong characters are mostly
    Arabic, Persian or Hebrew are shaped, reordered per line and right aligned; uncovered
    characters become ``[U+XXXX]`` and are added to ``missing``.
    """
    fonts = register_fonts()
    bold = _is_bold(style.fontName)
    blocks = re.split(r"\n[ \t]*\n", _normalise_newlines(text).strip("\n"))
    flowables: list[Flowable] = []
    for block in blocks:
        if not block.strip():
            continue
        if _has_rtl(block):
            flowables.append(BidiParagraph(block, style, missing))
        else:
            lines = [_markup(_runs(line, fonts, missing), bold) for line in block.split("\n")]
            flowables.append(Paragraph("<br/>".join(lines), style))
    return flowables


def inline(text: str, missing: MissingGlyphs, *, bold: bool = False) -> str:
    """Return safe single-line ReportLab markup for ``text`` (names, titles) with font fallback.

    Line breaks become spaces; right-to-left text is shaped and put in visual order. Pass
    ``bold=True`` when the markup is placed in bold text, so fallback runs use bold faces.
    """
    fonts = register_fonts()
    line = " ".join(_normalise_newlines(text).split("\n"))
    if _has_rtl(line):
        line = _visual(_shape(line), rtl=_is_rtl(line))
    return _markup(_runs(line, fonts, missing), bold)


def is_rtl(text: str) -> bool:
    """Return True when most strong characters of ``text`` are right-to-left (Arabic, Hebrew)."""
    return _is_rtl(text)


class BidiParagraph(Flowable):  # type: ignore[misc]
    """A paragraph containing right-to-left text, wrapped in logical order and drawn per line.

    Lines are broken on the shaped text in logical order at the width the frame offers, then
    each line is reordered with the bidi algorithm and the lines are drawn as one ReportLab
    paragraph (right aligned when the paragraph is mostly right-to-left).
    """

    def __init__(self, text: str, style: ParagraphStyle, missing: MissingGlyphs) -> None:
        super().__init__()
        self.text = text
        self.style = style
        self.missing = missing
        self.rtl = _is_rtl(text)
        self._shaped = [_shape(line) for line in text.split("\n")]
        self._para: Paragraph | None = None
        self._width: float | None = None

    def _paragraph(self, avail_width: float) -> Paragraph:
        if self._para is None or self._width != avail_width:
            fonts = register_fonts()
            bold = _is_bold(self.style.fontName)
            width = avail_width - self.style.leftIndent - self.style.rightIndent - 0.5
            lines: list[str] = []
            for logical in self._shaped:
                for piece in _wrap(logical, width, self.style, fonts, self.missing, bold):
                    visual = _visual(piece, rtl=self.rtl)
                    lines.append(_markup(_runs(visual, fonts, self.missing), bold))
            alignment = TA_RIGHT if self.rtl else self.style.alignment
            if alignment == TA_JUSTIFY:
                alignment = TA_RIGHT if self.rtl else TA_LEFT
            line_style = ParagraphStyle(
                f"{self.style.name}-bidi", parent=self.style, alignment=alignment, firstLineIndent=0
            )
            self._para = Paragraph("<br/>".join(lines), line_style)
            self._width = avail_width
        return self._para

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        """Return the (width, height) this paragraph needs in the given frame space."""
        size: tuple[float, float] = self._paragraph(availWidth).wrap(availWidth, availHeight)
        self.width, self.height = size
        return size

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        """Return the parts of this paragraph that fit (ReportLab's page-break protocol).

        A frame passes its full width to ``split`` even inside an ``Indenter``, but draws the
        parts at the indented width, so the lines are broken at the width really available.
        """
        width = _usable_width(self, availWidth)
        parts: list[Flowable] = self._paragraph(width).split(width, availHeight)
        return parts

    def getSpaceBefore(self) -> float:
        """Return the style's space before the paragraph."""
        return float(self.style.spaceBefore)

    def getSpaceAfter(self) -> float:
        """Return the style's space after the paragraph."""
        return float(self.style.spaceAfter)

    def draw(self) -> None:
        """Draw the wrapped lines on the canvas."""
        assert self._para is not None, "wrap() must be called before draw()"
        self._para.drawOn(self.canv, 0, 0)


def _usable_width(flowable: Flowable, avail_width: float) -> float:
    """Return ``avail_width`` less the indents of the frame the flowable is being split in."""
    frame = getattr(flowable, "_frame", None)
    if frame is None:
        return avail_width
    indents = float(getattr(frame, "_leftExtraIndent", 0.0)) + float(getattr(frame, "_rightExtraIndent", 0.0))
    return avail_width - indents


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")


def _is_bold(font_name: str) -> bool:
    try:
        return bool(ps2tt(font_name)[1])
    except ValueError:
        return False


def _has_rtl(text: str) -> bool:
    return any(unicodedata.bidirectional(char) in _RTL_CLASSES for char in text)


def _is_rtl(text: str) -> bool:
    rtl = ltr = 0
    for char in text:
        direction = unicodedata.bidirectional(char)
        if direction in _RTL_CLASSES:
            rtl += 1
        elif direction == "L":
            ltr += 1
    return rtl > ltr


@cache
def _reshaper() -> arabic_reshaper.ArabicReshaper:
    """Return the reshaper: contextual forms and the mandatory lam-alef ligatures, harakat kept.

    Optional ligatures are off: word ligatures such as ARABIC LIGATURE MOHAMMAD draw diacritics
    the writer did not type, and letter ligatures make extracted text harder to search.
    """
    configuration: dict[str, object] = {
        name: name.startswith("ARABIC LIGATURE LAM WITH ALEF") for name, _forms in LIGATURES
    }
    configuration["delete_harakat"] = False
    return arabic_reshaper.ArabicReshaper(configuration=configuration)


def _shape(text: str) -> str:
    """Return ``text`` with Arabic letters replaced by their contextual presentation forms."""
    if not any(unicodedata.bidirectional(char) == "AL" for char in text):
        return text
    shaped: str = _reshaper().reshape(text)
    return shaped


def _visual(line: str, *, rtl: bool) -> str:
    """Return one line in visual (left-to-right drawing) order."""
    visual: str = get_display(line, base_dir="R" if rtl else "L")
    return visual


def _wrap(
    logical: str,
    width: float,
    style: ParagraphStyle,
    fonts: FontSet,
    missing: MissingGlyphs,
    bold: bool,
) -> list[str]:
    """Return ``logical`` broken into lines no wider than ``width``, still in logical order."""
    words = logical.split()
    if not words:
        return [""]
    space = stringWidth(" ", style.fontName, style.fontSize)
    lines: list[str] = []
    current: list[str] = []
    used = 0.0
    for word in words:
        size = _width(word, style, fonts, missing, bold)
        if size > width:
            if current:
                lines.append(" ".join(current))
                current, used = [], 0.0
            pieces = _break_word(word, width, style, fonts, missing, bold)
            lines.extend(pieces[:-1])
            word = pieces[-1]
            size = _width(word, style, fonts, missing, bold)
        needed = size if not current else used + space + size
        if current and needed > width:
            lines.append(" ".join(current))
            current, used = [word], size
        else:
            current.append(word)
            used = needed
    lines.append(" ".join(current))
    return lines


def _break_word(
    word: str, width: float, style: ParagraphStyle, fonts: FontSet, missing: MissingGlyphs, bold: bool
) -> list[str]:
    pieces: list[str] = []
    current = ""
    for char in word:
        if current and _width(current + char, style, fonts, missing, bold) > width:
            pieces.append(current)
            current = char
        else:
            current += char
    pieces.append(current)
    return pieces


def _width(text: str, style: ParagraphStyle, fonts: FontSet, missing: MissingGlyphs, bold: bool) -> float:
    total = 0.0
    for run in _runs(text, fonts, missing):
        face = run.face or style.fontName
        if run.placeholder:
            face = fonts.body.bold if bold else fonts.body.name
        total += stringWidth(run.text, face, style.fontSize)
    return total


def _runs(text: str, fonts: FontSet, missing: MissingGlyphs) -> list[_Run]:
    """Return ``text`` as runs of one font each; uncovered characters become placeholder runs."""
    runs: list[_Run] = []
    face: str | None = None
    buffer: list[str] = []

    def flush() -> None:
        if buffer:
            runs.append(_Run(face, "".join(buffer)))
            buffer.clear()

    for char in text:
        code = ord(char)
        if code in _DROPPED:
            continue
        if char == "\t":
            char = " "
        covered, chosen = _face_for(char, face, fonts)
        if not covered:
            flush()
            missing.add(char)  # never the surrounding text: it is residents' writing, not for logs
            runs.append(_Run(None, f"[{codepoint_label(char)}]", placeholder=True))
            continue
        if chosen != face:
            flush()
            face = chosen
        buffer.append(char)
    flush()
    return runs


def _face_for(char: str, current: str | None, fonts: FontSet) -> tuple[bool, str | None]:
    """Return (covered, face): face None means the body (style) font."""
    category = unicodedata.category(char)
    if category == "Cc":
        return False, None
    if char == " ":
        return True, None
    if category in ("Mn", "Me") and _fallback_covers(current, char, fonts):
        return True, current  # a combining mark stays in its base character's font
    found = fonts.font_for(char)
    if found is None:
        return False, None
    return True, None if found is fonts.body else found.name


def _fallback_covers(face: str | None, char: str, fonts: FontSet) -> bool:
    return any(font.name == face and font.covers(char) for font in fonts.fallbacks)


def _markup(runs: list[_Run], bold: bool) -> str:
    """Return ReportLab paragraph markup for ``runs``; ``bold`` selects fallback bold faces."""
    fonts = register_fonts()
    parts: list[str] = []
    for run in runs:
        text = escape(run.text)
        if run.placeholder:
            face = fonts.body.bold if bold else fonts.body.name
            parts.append(f'<font face="{face}" color="{_PLACEHOLDER_COLOR}">{text}</font>')
        elif run.face is None:
            parts.append(text)
        else:
            font = next(font for font in fonts.fallbacks if font.name == run.face)
            parts.append(f'<font face="{font.bold if bold else font.name}">{text}</font>')
    return "".join(parts)
