"""Fonts for archival documents, all from pip packages, registered with ReportLab once per process.

The body font is static Noto Sans (regular, bold, italic, bold italic) from ``pymupdf-fonts``.
Scripts Noto Sans lacks fall back, character by character, to Noto Sans Arabic, Hebrew and
Ethiopic, Noto Emoji (monochrome) and Noto Sans Symbols from ``manimgx-fonts``, Noto Sans SC
from ``textflowkit-fonts`` and Noto Sans Symbols 2 from ``pymupdf-fonts``. All are OFL-1.1.

The fallback fonts are variable fonts; ReportLab would use their default instance (Thin for
Noto Sans SC), so static instances are made with the fontTools instancer. That takes about
20 s in all, so the instances are cached as TTF files under ``ARCHIVER_FONT_CACHE`` (default
``~/.cache/social-archiver/fonts``), keyed by the package version and written atomically.

A character no font covers is never dropped silently: :class:`MissingGlyphs` records it, logs
it once and the document lists it in its metadata.
"""

from __future__ import annotations

import importlib
import logging
import os
import tempfile
import threading
import unicodedata
from dataclasses import dataclass
from importlib import metadata, resources
from io import BytesIO
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from archiver.errors import DocumentError

log = logging.getLogger(__name__)

FONT_BODY = "ArchiverSans"
FONT_BOLD = "ArchiverSans-Bold"
FONT_ITALIC = "ArchiverSans-Italic"
FONT_BOLD_ITALIC = "ArchiverSans-BoldItalic"

CACHE_ENV = "ARCHIVER_FONT_CACHE"
DEFAULT_CACHE = Path("~/.cache/social-archiver/fonts")


@dataclass(frozen=True)
class _Face:
    """Where one ReportLab face comes from: a pymupdf-fonts module or a (variable) TTF in a package."""

    name: str
    package: str
    source: str
    """Module name in ``pymupdf_fonts``, or a file path inside the package's import directory."""
    weight: int | None = None
    """Instance weight for a variable font; None when the font is static."""


@dataclass(frozen=True)
class _Family:
    """A font family: a regular face and optionally bold, italic and bold-italic faces."""

    regular: _Face
    bold: _Face | None = None
    italic: _Face | None = None
    bold_italic: _Face | None = None


def _pymupdf(name: str, module: str) -> _Face:
    return _Face(name, "pymupdf-fonts", module)


def _variable(name: str, package: str, path: str, weight: int) -> _Face:
    return _Face(name, package, path, weight)


def _manim(family: str, file: str, bold: bool = True) -> _Family:
    path = f"manimgx_fonts/{file}"
    return _Family(
        _variable(family, "manimgx-fonts", path, 400),
        _variable(f"{family}-Bold", "manimgx-fonts", path, 700) if bold else None,
    )


# Body font first, then fallbacks in the order they are tried.
_FAMILIES: tuple[_Family, ...] = (
    _Family(
        _pymupdf(FONT_BODY, "NotoSans_Regular"),
        _pymupdf(FONT_BOLD, "NotoSans_Bold"),
        _pymupdf(FONT_ITALIC, "NotoSans_Italic"),
        _pymupdf(FONT_BOLD_ITALIC, "NotoSans_BoldItalic"),
    ),
    _manim("ArchiverArabic", "NotoSansArabic[wght].ttf"),
    _manim("ArchiverHebrew", "NotoSansHebrew[wght].ttf"),
    _manim("ArchiverEthiopic", "NotoSansEthiopic[wght].ttf"),
    # Bold CJK would cost another 15 s of instancing; bold Chinese uses the regular face.
    _Family(_variable("ArchiverSC", "textflowkit-fonts", "textflowkit_fonts/fonts/NotoSansSC.ttf", 400)),
    _manim("ArchiverEmoji", "NotoEmoji[wght].ttf"),
    _manim("ArchiverSymbols", "NotoSansSymbols[wght].ttf"),
)


@dataclass(frozen=True)
class Font:
    """One registered family: the face names to use and the code points it covers."""

    name: str
    """Regular face name, usable in ``<font face=...>`` markup and styles."""
    bold: str
    """Bold face name (the regular face when the family has no bold)."""
    codepoints: frozenset[int]
    path: str | None = None
    """File of the regular face when it is a cached instance (used to tune the Arabic reshaper)."""

    def covers(self, char: str) -> bool:
        """Return True when this font has a glyph for ``char`` (one code point)."""
        return ord(char) in self.codepoints


@dataclass(frozen=True)
class FontSet:
    """The registered fonts: the body font and the fallbacks tried in order."""

    body: Font
    fallbacks: tuple[Font, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Return every registered regular face name, body first."""
        return (self.body.name, *(font.name for font in self.fallbacks))

    def font_for(self, char: str) -> Font | None:
        """Return the first font (body, then fallbacks) covering ``char``, or None if none does."""
        if self.body.covers(char):
            return self.body
        for font in self.fallbacks:
            if font.covers(char):
                return font
        return None


class MissingGlyphs:
    """Characters no font covers, collected per document and logged once each."""

    def __init__(self) -> None:
        self._contexts: dict[str, str] = {}

    def add(self, char: str, context: str = "") -> None:
        """Record ``char`` as uncovered; the first time, log a warning naming it and ``context``
        (where it was met, e.g. an item key; never the text around it, which may be personal data)."""
        code = codepoint_label(char)
        if code in self._contexts:
            return
        self._contexts[code] = context
        name = unicodedata.name(char, "unnamed")
        log.warning("No font covers %s (%s); drawn as a placeholder%s", code, name,
                    f" in {context}" if context else "")

    @property
    def chars(self) -> list[str]:
        """Return the uncovered characters as sorted unique labels like ``'U+AC00'``."""
        return sorted(self._contexts, key=lambda label: int(label[2:], 16))

    def __bool__(self) -> bool:
        return bool(self._contexts)

    def __len__(self) -> int:
        return len(self._contexts)


def codepoint_label(char: str) -> str:
    """Return the ``U+XXXX`` label of one character (at least four hex digits)."""
    return f"U+{ord(char):04X}"


def cache_dir() -> Path:
    """Return the font cache directory (``ARCHIVER_FONT_CACHE`` or ``~/.cache/social-archiver/fonts``)."""
    configured = os.environ.get(CACHE_ENV, "").strip()
    return Path(configured).expanduser() if configured else DEFAULT_CACHE.expanduser()


_lock = threading.Lock()
_fontset: FontSet | None = None


def register_fonts() -> FontSet:
    """Register every archive font with ReportLab (once per process) and return the FontSet."""
    global _fontset
    with _lock:
        if _fontset is None:
            fonts = [_register_family(family) for family in _FAMILIES]
            _fontset = FontSet(body=fonts[0], fallbacks=tuple(fonts[1:]))
        return _fontset


def _register_family(family: _Family) -> Font:
    regular = _register_face(family.regular)
    bold = _register_face(family.bold) if family.bold else regular
    italic = _register_face(family.italic) if family.italic else regular
    bold_italic = _register_face(family.bold_italic) if family.bold_italic else bold
    # Tell ReportLab's <b>/<i> handling which faces belong together. When faces are shared (no
    # bold or italic face), the mapping written last wins for the reverse lookup, so the plain
    # combination comes last: the regular face then reads as not bold, not italic.
    family_name = regular.fontName
    addMapping(family_name, 1, 1, bold_italic.fontName)
    addMapping(family_name, 0, 1, italic.fontName)
    addMapping(family_name, 1, 0, bold.fontName)
    addMapping(family_name, 0, 0, regular.fontName)
    codepoints = frozenset(regular.face.charToGlyph)
    path = regular.face.filename if family.regular.weight is not None else None
    return Font(name=regular.fontName, bold=bold.fontName, codepoints=codepoints, path=path)


def _register_face(face: _Face) -> TTFont:
    try:
        existing: TTFont = pdfmetrics.getFont(face.name)
        return existing
    except KeyError:
        pass
    static = face.weight is None
    source = BytesIO(_pymupdf_buffer(face.source)) if static else str(_static_instance(face))
    font = TTFont(face.name, source)
    pdfmetrics.registerFont(font)
    return font


def _pymupdf_buffer(module: str) -> bytes:
    try:
        loaded = importlib.import_module(f"pymupdf_fonts.{module}")
    except ImportError as error:
        raise DocumentError(
            f"Font module pymupdf_fonts.{module} is missing: run `.venv/bin/pip install -r requirements.txt`."
        ) from error
    return bytes(loaded.fontbuffer)


def _package_file(face: _Face) -> Path:
    top, _, rest = face.source.partition("/")
    try:
        path = Path(str(resources.files(top).joinpath(rest)))
    except ModuleNotFoundError as error:
        raise DocumentError(
            f"Font package {face.package} is not installed: run `.venv/bin/pip install -r requirements.txt`."
        ) from error
    if not path.is_file():
        raise DocumentError(f"Font file {face.source} is missing from {face.package}: reinstall it.")
    return path


def _static_instance(face: _Face) -> Path:
    """Return the cached static instance of a variable font, building it on first use."""
    version = metadata.version(face.package)
    stem = Path(face.source).name.split("[")[0].removesuffix(".ttf")
    target = cache_dir() / f"{face.package}-{version}" / f"{stem}-{face.weight}.ttf"
    if target.is_file():
        return target
    source = _package_file(face)
    log.info("Building static font %s (weight %s) into %s; this happens once", stem, face.weight, target)
    data = _instantiate(source, face.weight or 400)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{stem}-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def _instantiate(path: Path, weight: int) -> bytes:
    from fontTools.ttLib import TTFont as ToolsFont
    from fontTools.varLib.instancer import instantiateVariableFont

    font = ToolsFont(str(path))
    if "fvar" in font:
        axis = next(axis for axis in font["fvar"].axes if axis.axisTag == "wght")
        clamped = max(axis.minValue, min(axis.maxValue, float(weight)))
        font = instantiateVariableFont(font, {"wght": clamped}, updateFontNames=True)
    out = BytesIO()
    font.save(out)
    return out.getvalue()
