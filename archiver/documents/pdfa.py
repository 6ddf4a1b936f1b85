"""PDF/A-3b finishing of ReportLab output, reproducibly, and validation of the result.

ReportLab draws; :func:`finish` turns its bytes into PDF/A-3b with plain pikepdf (not
``pikepdf.pdfa.save``, which stamps the current time into the XMP and so is not
reproducible): it removes the empty ``/Trans`` ReportLab puts on every page, repairs
ToUnicode maps for characters beyond U+FFFF (emoji), writes XMP and DocInfo from one
:class:`DocumentMeta`, sets the document language, installs the sRGB OutputIntent, embeds the
associated files with their ``/AFRelationship``, sets the Print flag on annotations and saves
with a deterministic ``/ID``. The same input gives byte-identical output.

:func:`validate` combines the offline ``pikepdf.pdfa`` validator with the project's own
structural checks (:mod:`archiver.documents.checks`); :func:`require_valid` raises
:class:`~archiver.errors.DocumentError` listing the problems.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from io import BytesIO

import pikepdf
import pikepdf.pdfa
from lxml import etree
from pikepdf import Array, Dictionary, Name, String

from archiver import __version__
from archiver.errors import DocumentError

PDFA_PART = 3
PDFA_CONFORMANCE = "B"
PRODUCER = f"social-archiver {__version__} (ReportLab, pikepdf)"

_NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
    "xmpMM": "http://ns.adobe.com/xap/1.0/mm/",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
}
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_MISSING_GLYPH_KEYWORD = "missing-glyph:"
# Annotation flags: Invisible 1, Hidden 2, Print 4, NoView 32, ToggleNoView 256.
_FLAG_PRINT = 4
_FLAGS_FORBIDDEN = 1 | 2 | 32 | 256


@dataclass(frozen=True)
class DocumentMeta:
    """What a document says about itself, written identically to XMP and DocInfo."""

    title: str
    creator: str
    """The organisation the record belongs to (dc:creator, DocInfo /Author)."""
    description: str
    identifier: str
    """Stable identifier, e.g. the bucket key or registration number; seeds xmpMM:DocumentID."""
    created: datetime
    """When the document's content was fixed; must carry a time zone. Used for every date."""
    language: str = "sv-SE"
    source: str = ""
    """Where the content comes from (dc:source), e.g. ``facebook:angelholm-fb``."""
    keywords: list[str] = field(default_factory=list)
    missing_glyphs: list[str] = field(default_factory=list)
    """Characters drawn as placeholders (``U+XXXX``); listed as ``missing-glyph:U+XXXX`` keywords."""


@dataclass(frozen=True)
class EmbeddedFile:
    """A file embedded as a PDF/A-3 associated file."""

    name: str
    data: bytes
    mime: str
    description: str
    relationship: str = "Source"
    """``/AFRelationship``: Source, Data, Alternative, Supplement or Unspecified."""


def finish(pdf: bytes, meta: DocumentMeta, files: list[EmbeddedFile]) -> bytes:
    """Return ``pdf`` (ReportLab output) finished as PDF/A-3b with ``meta`` and ``files`` embedded."""
    _check_meta(meta)
    with pikepdf.open(BytesIO(pdf)) as document:
        _remove_transitions(document)
        _fix_tounicode(document)
        _set_annotation_flags(document)
        _set_metadata(document, meta, hashlib.sha256(pdf).hexdigest())
        _set_output_intent(document)
        _embed_files(document, files, meta.created)
        out = BytesIO()
        document.save(
            out,
            deterministic_id=True,
            min_version="1.7",
            object_stream_mode=pikepdf.ObjectStreamMode.generate,
            compress_streams=True,
        )
    return out.getvalue()


def validate(pdf: bytes) -> list[str]:
    """Return every problem found: ``pikepdf.pdfa`` findings (3b) plus the structural checks.

    An empty list means the offline validator's verdict is pass and no structural check failed.
    Signed files cannot pass ``pikepdf.pdfa`` (signatures are unsupported): validate before
    signing, and check signed files with :func:`archiver.documents.checks.structural_problems`.
    """
    from archiver.documents.checks import structural_problems

    problems = [f"{finding.rule}: {finding.message} ({finding.where})" for finding in _pdfa_findings(pdf)]
    return problems + structural_problems(pdf)


def require_valid(pdf: bytes, what: str) -> None:
    """Return None when ``pdf`` passes :func:`validate`; raise DocumentError listing the problems."""
    problems = validate(pdf)
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems[:30])
        more = f"\n  ... and {len(problems) - 30} more" if len(problems) > 30 else ""
        raise DocumentError(
            f"{what} is not valid PDF/A-3b ({len(problems)} problems); it was not stored. "
            f"Fix the renderer or report the problems:\n{listed}{more}",
            document=what,
        )


def _pdfa_findings(pdf: bytes) -> list[pikepdf.pdfa.Finding]:
    report = pikepdf.pdfa.validate_written(BytesIO(pdf), f"{PDFA_PART}{PDFA_CONFORMANCE.lower()}")
    if report.passed:
        return []
    findings = list(report.findings)
    if not findings:
        raise DocumentError(f"pikepdf.pdfa did not approve the document (verdict {report.verdict}).")
    return findings


def _check_meta(meta: DocumentMeta) -> None:
    if meta.created.tzinfo is None or meta.created.utcoffset() is None:
        raise DocumentError(
            f"DocumentMeta.created for {meta.identifier!r} has no time zone: pass an aware datetime (UTC)."
        )
    for name in ("title", "creator", "identifier"):
        if not getattr(meta, name).strip():
            raise DocumentError(f"DocumentMeta.{name} is empty for {meta.identifier!r}: every document needs one.")


def _remove_transitions(document: pikepdf.Pdf) -> None:
    for page in document.pages:
        if Name.Trans in page.obj:
            del page.obj[Name.Trans]


_LONG_DESTINATION = re.compile(rb"(?<=> )<([0-9A-Fa-f]{5,6})>")


def _surrogates(match: re.Match[bytes]) -> bytes:
    code = int(match.group(1), 16)
    return b"<" + chr(code).encode("utf-16-be").hex().upper().encode("ascii") + b">"


def _fix_tounicode(document: pikepdf.Pdf) -> None:
    """Rewrite 5/6-hex-digit ToUnicode destinations (ReportLab's emoji) as UTF-16 surrogate pairs."""
    seen: set[tuple[int, int]] = set()
    for obj in document.objects:
        if not isinstance(obj, Dictionary) or Name.ToUnicode not in obj:
            continue
        cmap = obj[Name.ToUnicode]
        if not isinstance(cmap, pikepdf.Stream) or cmap.objgen in seen:
            continue
        seen.add(cmap.objgen)
        data = cmap.read_bytes()
        fixed = _LONG_DESTINATION.sub(_surrogates, data)
        if fixed != data:
            cmap.write(fixed)


def _set_annotation_flags(document: pikepdf.Pdf) -> None:
    """Give every annotation the Print flag and clear the hiding flags (PDF/A 6.3.2)."""
    for page in document.pages:
        for annotation in page.obj.get(Name.Annots, Array()):
            if annotation.get(Name.Subtype) == Name.Popup:
                continue
            flags = int(annotation.get(Name.F, 0))
            annotation[Name.F] = (flags | _FLAG_PRINT) & ~_FLAGS_FORBIDDEN


def _set_metadata(document: pikepdf.Pdf, meta: DocumentMeta, content_sha256: str) -> None:
    keywords = [*meta.keywords, *(f"{_MISSING_GLYPH_KEYWORD}{code}" for code in meta.missing_glyphs)]
    created = meta.created.astimezone(UTC).replace(microsecond=0)
    document_id = uuid.uuid5(uuid.NAMESPACE_URL, meta.identifier)
    instance_id = uuid.uuid5(document_id, content_sha256)
    xmp = _xmp(meta, keywords, created, document_id, instance_id)
    document.Root.Metadata = document.make_stream(xmp, Type=Name.Metadata, Subtype=Name.XML)
    document.Root.Lang = String(meta.language)
    pdf_date = _pdf_date(created)
    info = Dictionary(
        Title=String(meta.title),
        Author=String(meta.creator),
        Subject=String(meta.description),
        Keywords=String(", ".join(keywords)),
        Creator=String(PRODUCER),
        Producer=String(PRODUCER),
        CreationDate=String(pdf_date),
        ModDate=String(pdf_date),
    )
    document.trailer.Info = document.make_indirect(info)


def _xmp(
    meta: DocumentMeta, keywords: list[str], created: datetime, document_id: uuid.UUID, instance_id: uuid.UUID
) -> bytes:
    """Return the XMP packet (UTF-8) for ``meta``: Dublin Core, xmp, pdf, xmpMM and pdfaid."""
    rdf = f"{{{_NS['rdf']}}}"
    root = etree.Element(f"{{{_NS['x']}}}xmpmeta", nsmap={"x": _NS["x"]})
    rdf_root = etree.SubElement(root, f"{rdf}RDF", nsmap={"rdf": _NS["rdf"]})
    date = created.isoformat().replace("+00:00", "Z")

    def description(prefix: str) -> etree._Element:
        element = etree.SubElement(rdf_root, f"{rdf}Description", nsmap={prefix: _NS[prefix]})
        element.set(f"{rdf}about", "")
        return element

    def simple(parent: etree._Element, prefix: str, name: str, value: str) -> None:
        etree.SubElement(parent, f"{{{_NS[prefix]}}}{name}").text = value

    def container(parent: etree._Element, name: str, kind: str, values: list[str], alt: bool = False) -> None:
        holder = etree.SubElement(etree.SubElement(parent, f"{{{_NS['dc']}}}{name}"), f"{rdf}{kind}")
        for value in values:
            item = etree.SubElement(holder, f"{rdf}li")
            if alt:
                item.set(_XML_LANG, "x-default")
            item.text = value

    dc = description("dc")
    simple(dc, "dc", "format", "application/pdf")
    simple(dc, "dc", "identifier", meta.identifier)
    container(dc, "title", "Alt", [meta.title], alt=True)
    container(dc, "creator", "Seq", [meta.creator])
    container(dc, "description", "Alt", [meta.description], alt=True)
    container(dc, "language", "Bag", [meta.language])
    container(dc, "date", "Seq", [date])
    if meta.source:
        simple(dc, "dc", "source", meta.source)
    if keywords:
        container(dc, "subject", "Bag", keywords)
    xmp = description("xmp")
    for name in ("CreateDate", "ModifyDate", "MetadataDate"):
        simple(xmp, "xmp", name, date)
    simple(xmp, "xmp", "CreatorTool", PRODUCER)
    pdf = description("pdf")
    simple(pdf, "pdf", "Producer", PRODUCER)
    if keywords:
        simple(pdf, "pdf", "Keywords", ", ".join(keywords))
    mm = description("xmpMM")
    simple(mm, "xmpMM", "DocumentID", f"uuid:{document_id}")
    simple(mm, "xmpMM", "InstanceID", f"uuid:{instance_id}")
    pdfaid = description("pdfaid")
    simple(pdfaid, "pdfaid", "part", str(PDFA_PART))
    simple(pdfaid, "pdfaid", "conformance", PDFA_CONFORMANCE)
    body: bytes = etree.tostring(root, encoding="utf-8")
    return (
        b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        + body
        + b'\n<?xpacket end="w"?>'
    )


def _pdf_date(moment: datetime) -> str:
    return moment.strftime("D:%Y%m%d%H%M%S+00'00'")


def srgb_profile() -> bytes:
    """Return the sRGB ICC profile (v2, zlib licence) shipped in the pikepdf wheel."""
    return resources.files("pikepdf").joinpath("pdfa/data/sRGB.icc").read_bytes()


def _set_output_intent(document: pikepdf.Pdf) -> None:
    profile = document.make_stream(srgb_profile(), N=3)
    intent = Dictionary(
        Type=Name.OutputIntent,
        S=Name.GTS_PDFA1,
        OutputConditionIdentifier=String("sRGB"),
        Info=String("sRGB IEC61966-2.1"),
        DestOutputProfile=profile,
    )
    document.Root.OutputIntents = Array([document.make_indirect(intent)])


def _embed_files(document: pikepdf.Pdf, files: list[EmbeddedFile], created: datetime) -> None:
    names = [embedded.name for embedded in files]
    if len(set(names)) != len(names):
        raise DocumentError(f"Embedded file names must be unique, got {names}.")
    date = _pdf_date(created.astimezone(UTC).replace(microsecond=0))
    specs = []
    for embedded in files:
        spec = pikepdf.AttachedFileSpec(
            document,
            embedded.data,
            description=embedded.description,
            filename=embedded.name,
            mime_type=embedded.mime,
            creation_date=date,
            mod_date=date,
            relationship=Name("/" + embedded.relationship),  # type: ignore[call-arg]
        )
        document.attachments[embedded.name] = spec
    for embedded in files:
        specs.append(document.attachments[embedded.name].obj)
    if specs:
        document.Root.AF = Array(specs)
