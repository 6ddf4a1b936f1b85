"""Structural PDF/A-2b/3b checks the offline ``pikepdf.pdfa`` validator does not make.

``pikepdf.pdfa`` answers "not checked" rather than "fail" for several defects (unembedded
fonts, missing OutputIntent, JavaScript), misses ReportLab's tofu, and cannot look at signed
files at all. These checks, each tied to a veraPDF rule where there is one, close those gaps;
:func:`structural_problems` returns one line per problem, empty when the file is sound.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import BytesIO

import pikepdf
from lxml import etree
from pikepdf import Array, Dictionary, Name, Stream

_FORBIDDEN_ACTIONS = {
    "/Launch", "/Sound", "/Movie", "/ResetForm", "/ImportData", "/JavaScript", "/Hide",
    "/SetOCGState", "/Rendition", "/Trans", "/GoTo3DView",
}
_FONT_SUBTYPES = {"/Type1", "/MMType1", "/TrueType", "/Type0", "/CIDFontType0", "/CIDFontType2"}
_FONT_FILES = ("/FontFile", "/FontFile2", "/FontFile3")
_PREDEFINED_XMP = {
    "adobe:ns:meta/",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "http://www.w3.org/XML/1998/namespace",
    "http://purl.org/dc/elements/1.1/",
    "http://ns.adobe.com/xap/1.0/",
    "http://ns.adobe.com/xap/1.0/mm/",
    "http://ns.adobe.com/xap/1.0/rights/",
    "http://ns.adobe.com/xap/1.0/bj/",
    "http://ns.adobe.com/xap/1.0/t/pg/",
    "http://ns.adobe.com/xap/1.0/sType/ResourceRef#",
    "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#",
    "http://ns.adobe.com/xap/1.0/sType/Version#",
    "http://ns.adobe.com/xap/1.0/sType/Job#",
    "http://ns.adobe.com/xap/1.0/sType/Dimensions#",
    "http://ns.adobe.com/xap/1.0/sType/Font#",
    "http://ns.adobe.com/xap/1.0/g/",
    "http://ns.adobe.com/xap/1.0/g/img/",
    "http://ns.adobe.com/xmp/Identifier/qual/1.0/",
    "http://ns.adobe.com/pdf/1.3/",
    "http://ns.adobe.com/photoshop/1.0/",
    "http://ns.adobe.com/tiff/1.0/",
    "http://ns.adobe.com/exif/1.0/",
    "http://ns.adobe.com/exif/1.0/aux/",
    "http://www.aiim.org/pdfa/ns/id/",
    "http://www.aiim.org/pdfa/ns/extension/",
    "http://www.aiim.org/pdfa/ns/schema#",
    "http://www.aiim.org/pdfa/ns/property#",
    "http://www.aiim.org/pdfa/ns/type#",
    "http://www.aiim.org/pdfa/ns/field#",
}
_PDFAID = "http://www.aiim.org/pdfa/ns/id/"
_PDFA_SCHEMA = "http://www.aiim.org/pdfa/ns/schema#"
_DC = "http://purl.org/dc/elements/1.1/"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_XMP = "http://ns.adobe.com/xap/1.0/"
_PDF = "http://ns.adobe.com/pdf/1.3/"
_TEXT_SHOWING = {"Tj", "TJ", "'", '"'}


def structural_problems(pdf: bytes) -> list[str]:
    """Return a description of every structural PDF/A problem in ``pdf``; empty when none."""
    problems = _file_structure(pdf)
    try:
        document = pikepdf.open(BytesIO(pdf))
    except pikepdf.PasswordError:
        return [*problems, "6.1.3-2: the file is encrypted"]
    except pikepdf.PdfError as error:
        return [*problems, f"the file cannot be parsed: {error}"]
    with document:
        if document.is_encrypted or "/Encrypt" in document.trailer:
            problems.append("6.1.3-2: the file is encrypted")
        trailer_id = document.trailer.get("/ID")
        if not isinstance(trailer_id, Array) or len(trailer_id) != 2:
            problems.append("6.1.3-1: the trailer has no /ID with two elements")
        part, xmp_problems = _xmp_problems(document)
        problems += xmp_problems
        problems += _docinfo_problems(document)
        intent_space, intent_problems = _output_intent_problems(document)
        problems += intent_problems
        problems += _object_problems(document, intent_space)
        problems += _content_problems(document, intent_space)
        problems += _embedded_file_problems(document, part)
    return problems


def _file_structure(pdf: bytes) -> list[str]:
    problems = []
    if not re.match(rb"%PDF-1\.[0-7]\r?\n%[\x80-\xff]{4}", pdf[:32]):
        problems.append("6.1.2-1/2: the header is not %PDF-1.x followed by a comment of 4 binary bytes")
    end = pdf.rfind(b"%%EOF")
    if end < 0 or pdf[end + 5 :].strip(b"\r\n"):
        problems.append("6.1.3-3: data after the last %%EOF")
    return problems


def _xmp_problems(document: pikepdf.Pdf) -> tuple[int | None, list[str]]:
    """Return the declared pdfaid:part and the problems of the catalog's XMP."""
    metadata = document.Root.get("/Metadata")
    if not isinstance(metadata, Stream):
        return None, ["6.6.2.1-1: the catalog has no XMP /Metadata stream"]
    problems = []
    if metadata.get("/Type") != Name.Metadata or metadata.get("/Subtype") != Name.XML:
        problems.append("6.6.2.1-1: /Metadata is not /Type /Metadata /Subtype /XML")
    data = metadata.read_bytes()
    header = re.search(rb"<\?xpacket begin=[^>]*\?>", data)
    if header and (b"bytes=" in header.group(0) or b"encoding=" in header.group(0)):
        problems.append("6.6.2.1-2/3: the xpacket header has bytes or encoding attributes")
    try:
        data.decode("utf-8")
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        root = etree.fromstring(data, parser)
    except (UnicodeDecodeError, etree.XMLSyntaxError) as error:
        return None, [*problems, f"6.6.2.1-4/5: the XMP is not well-formed UTF-8 XML: {error}"]
    part = _xmp_value(root, _PDFAID, "part")
    conformance = _xmp_value(root, _PDFAID, "conformance")
    if part not in ("2", "3"):
        problems.append(f"6.6.4-2: pdfaid:part is {part!r}, expected 2 or 3")
    if conformance != "B":
        problems.append(f"6.6.4-3: pdfaid:conformance is {conformance!r}, expected B")
    declared = {
        element.text.strip()
        for element in root.iter(f"{{{_PDFA_SCHEMA}}}namespaceURI")
        if element.text
    } | {
        str(element.get(f"{{{_RDF}}}resource"))
        for element in root.iter(f"{{{_PDFA_SCHEMA}}}namespaceURI")
        if element.get(f"{{{_RDF}}}resource")
    }
    for namespace in sorted(_used_namespaces(root) - _PREDEFINED_XMP - declared):
        problems.append(f"6.6.2.3.1-1: XMP namespace {namespace} is neither predefined nor declared")
    return (int(part) if part in ("2", "3") else None), problems


def _used_namespaces(root: etree._Element) -> set[str]:
    used = set()
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith("{"):
            used.add(element.tag[1:].split("}")[0])
        for attribute in element.attrib:
            if attribute.startswith("{"):
                used.add(attribute[1:].split("}")[0])
    return used


def _xmp_value(root: etree._Element, namespace: str, name: str) -> str | None:
    """Return a simple XMP property in element or attribute form (first rdf:li for containers)."""
    tag = f"{{{namespace}}}{name}"
    for description in root.iter(f"{{{_RDF}}}Description"):
        if description.get(tag) is not None:
            return str(description.get(tag))
    for element in root.iter(tag):
        items = list(element.iter(f"{{{_RDF}}}li"))
        text = items[0].text if items else element.text
        return (text or "").strip()
    return None


def _docinfo_problems(document: pikepdf.Pdf) -> list[str]:
    """DocInfo must agree with the XMP (a PDF/A-1 rule, kept here because the issue asks for it)."""
    info = document.trailer.get("/Info")
    metadata = document.Root.get("/Metadata")
    if not isinstance(info, Dictionary) or not isinstance(metadata, Stream):
        return []
    try:
        root = etree.fromstring(metadata.read_bytes(), etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError:
        return []
    pairs = {"/Title": (_DC, "title"), "/Author": (_DC, "creator"), "/Subject": (_DC, "description"),
             "/Keywords": (_PDF, "Keywords"), "/Producer": (_PDF, "Producer"), "/Creator": (_XMP, "CreatorTool")}
    problems = []
    for key, (namespace, name) in pairs.items():
        if key not in info:
            continue
        expected = _xmp_value(root, namespace, name)
        actual = str(info[key])
        if expected is None and not actual:
            continue
        if expected != actual:
            problems.append(f"6.7.3: DocInfo {key} {actual!r} differs from XMP {name} {expected!r}")
    return problems


def _output_intent_problems(document: pikepdf.Pdf) -> tuple[str | None, list[str]]:
    """Return the OutputIntent colour space (``RGB``, ``CMYK``, ``GRAY``) and its problems."""
    intents = document.Root.get("/OutputIntents")
    pdfa = [intent for intent in intents or [] if intent.get("/S") == Name.GTS_PDFA1]
    if not pdfa:
        return None, ["6.2.3: no GTS_PDFA1 OutputIntent"]
    profiles = {intent.DestOutputProfile.objgen for intent in pdfa if "/DestOutputProfile" in intent}
    if len(profiles) != 1:
        return None, ["6.2.3-1: GTS_PDFA1 OutputIntents must share exactly one DestOutputProfile"]
    profile = pdfa[0].DestOutputProfile
    icc = profile.read_bytes()
    problems = []
    device_class, space, major = icc[12:16], icc[16:20].decode("latin-1").strip(), icc[8]
    if device_class not in (b"mntr", b"prtr"):
        problems.append(f"6.2.3-2: ICC profile class {device_class!r} is not mntr or prtr")
    if space not in ("RGB", "CMYK", "GRAY"):
        problems.append(f"6.2.3-2: ICC colour space {space!r} is not RGB, CMYK or GRAY")
    if major > 4:
        problems.append(f"6.2.3-2: ICC profile version {major} is newer than 4")
    components = {"RGB": 3, "CMYK": 4, "GRAY": 1}.get(space)
    if components is not None and int(profile.get("/N", 0)) != components:
        problems.append(f"6.2.3-2: ICC /N {profile.get('/N')} does not match colour space {space}")
    return space, problems


def _walk(document: pikepdf.Pdf) -> Iterator[Dictionary | Stream]:
    """Yield every dictionary and stream in the file, direct ones included, once each."""
    seen: set[tuple[int, int]] = set()
    stack: list[pikepdf.Object] = [*document.objects, document.trailer]
    while stack:
        obj = stack.pop()
        if isinstance(obj, Dictionary | Stream | Array) and obj.is_indirect:
            if obj.objgen in seen:
                continue
            seen.add(obj.objgen)
        if isinstance(obj, Dictionary | Stream):
            yield obj
            stack.extend(obj.values())
        elif isinstance(obj, Array):
            stack.extend(obj)


def _object_problems(document: pikepdf.Pdf, intent_space: str | None) -> list[str]:
    problems: list[str] = []
    root = document.Root
    if "/AA" in root:
        problems.append("6.5.2: the catalog has additional actions (/AA)")
    names = root.get("/Names")
    if isinstance(names, Dictionary) and "/JavaScript" in names:
        problems.append("6.5.1: the Names dictionary has /JavaScript")
    for number, page in enumerate(document.pages, start=1):
        if "/AA" in page.obj:
            problems.append(f"6.5.2: page {number} has additional actions (/AA)")
        if "/Trans" in page.obj:
            problems.append(f"6.5.1: page {number} has a /Trans transition")
        problems += _annotation_problems(page.obj, number)
    for obj in _walk(document):
        problems += _dictionary_problems(obj, intent_space)
    return sorted(set(problems), key=problems.index)


def _dictionary_problems(obj: Dictionary | Stream, intent_space: str | None) -> list[str]:
    problems = []
    kind, subtype = obj.get("/Type"), obj.get("/Subtype")
    action = obj.get("/S")
    if isinstance(action, Name) and str(action) in _FORBIDDEN_ACTIONS and (kind in (None, Name.Action)):
        problems.append(f"6.5.1: forbidden action {action}")
    if "/JS" in obj:
        problems.append("6.5.1: JavaScript (/JS)")
    if kind == Name.Font or (subtype is not None and str(subtype) in _FONT_SUBTYPES and "/BaseFont" in obj):
        problems += _font_problems(obj)
    if isinstance(obj, Stream):
        filters = obj.get("/Filter")
        names = [str(f) for f in (filters if isinstance(filters, Array) else [filters]) if f is not None]
        if "/LZWDecode" in names:
            problems.append("6.1.7: LZW-compressed stream")
        if "/F" in obj and kind != Name.Filespec:
            problems.append("6.1.7: stream with external data (/F)")
        if subtype == Name.Image:
            problems += _image_problems(obj, intent_space)
        if subtype == Name.PS or (subtype == Name.Form and "/Ref" in obj):
            problems.append(f"6.2.9: forbidden XObject {subtype}")
    if kind == Name.ExtGState or "/TR" in obj or "/HTP" in obj:
        if "/TR" in obj:
            problems.append("6.2.5: ExtGState with a transfer function /TR")
        if "/TR2" in obj and obj.get("/TR2") != Name.Default:
            problems.append("6.2.5: ExtGState with /TR2 other than /Default")
        if "/HTP" in obj:
            problems.append("6.2.5: ExtGState with /HTP")
    return problems


def _font_problems(font: Dictionary | Stream) -> list[str]:
    subtype = font.get("/Subtype")
    if subtype == Name.Type3:
        return []
    name = str(font.get("/BaseFont", "?"))
    if subtype == Name.Type0:
        descendants = font.get("/DescendantFonts")
        if not isinstance(descendants, Array):
            return [f"6.2.11.4.1: Type0 font {name} has no descendant font"]
        return [
            problem
            for descendant in descendants
            if isinstance(descendant, Dictionary)
            for problem in _font_problems(descendant)
        ]
    descriptor = font.get("/FontDescriptor")
    if not isinstance(descriptor, Dictionary) or not any(key in descriptor for key in _FONT_FILES):
        return [f"6.2.11.4.1: font {name} is not embedded"]
    return []


def _image_problems(image: Stream, intent_space: str | None) -> list[str]:
    problems = []
    if bool(image.get("/Interpolate", False)):
        problems.append("6.2.8-3: image with /Interpolate true")
    if "/Alternates" in image or "/OPI" in image:
        problems.append("6.2.8: image with /Alternates or /OPI")
    space = image.get("/ColorSpace")
    problems += _device_space_problems(str(space) if isinstance(space, Name) else "", intent_space, "image")
    return problems


def _device_space_problems(space: str, intent_space: str | None, where: str) -> list[str]:
    if space == "/DeviceRGB" and intent_space != "RGB":
        return [f"6.2.4.3: DeviceRGB {where} without an RGB OutputIntent"]
    if space == "/DeviceCMYK" and intent_space != "CMYK":
        return [f"6.2.4.3: DeviceCMYK {where} without a CMYK OutputIntent"]
    return []


def _annotation_problems(page: Dictionary, number: int) -> list[str]:
    problems = []
    for annotation in page.get("/Annots", []):
        subtype = annotation.get("/Subtype")
        if subtype == Name.Popup:
            continue
        flags = int(annotation.get("/F", 0))
        if not flags & 4 or flags & (1 | 2 | 32 | 256):
            problems.append(f"6.3.2: {subtype} annotation on page {number} is not set to print (/F {flags})")
        rect = [float(value) for value in annotation.get("/Rect", [0, 0, 0, 0])]
        zero_area = len(rect) == 4 and (rect[0] == rect[2] or rect[1] == rect[3])
        if subtype not in (Name.Link, Name.Popup) and not zero_area and "/AP" not in annotation:
            problems.append(f"6.3.3: {subtype} annotation on page {number} has no appearance (/AP)")
    return problems


def _content_problems(document: pikepdf.Pdf, intent_space: str | None) -> list[str]:
    """Device colour operators against the OutputIntent, and ReportLab tofu (code 0 shown)."""
    problems: list[str] = []
    for number, page in enumerate(document.pages, start=1):
        problems += _stream_problems(page, page.obj.get("/Resources"), intent_space, f"page {number}")
    for obj in document.objects:
        if isinstance(obj, Stream) and obj.get("/Subtype") == Name.Form:
            problems += _stream_problems(obj, obj.get("/Resources"), intent_space, f"form {obj.objgen[0]}")
    return sorted(set(problems), key=problems.index)


def _stream_problems(
    content: pikepdf.Page | Stream, resources: object, intent_space: str | None, where: str
) -> list[str]:
    problems: list[str] = []
    fonts = resources.get("/Font") if isinstance(resources, Dictionary) else None
    current_font: Dictionary | None = None
    try:
        instructions = pikepdf.parse_content_stream(content)
    except pikepdf.PdfError as error:
        return [f"content stream of {where} cannot be parsed: {error}"]
    for instruction in instructions:
        if not isinstance(instruction, pikepdf.ContentStreamInstruction):
            continue  # inline images carry their own colour space: checked as images elsewhere
        operands, op = list(instruction.operands), str(instruction.operator)
        if op in ("rg", "RG"):
            problems += _device_space_problems("/DeviceRGB", intent_space, f"colour in {where}")
        elif op in ("k", "K"):
            problems += _device_space_problems("/DeviceCMYK", intent_space, f"colour in {where}")
        elif op in ("cs", "CS") and operands:
            problems += _device_space_problems(str(operands[0]), intent_space, f"colour space in {where}")
        elif op == "Tf" and operands and isinstance(fonts, Dictionary):
            selected = fonts.get(str(operands[0]))
            current_font = selected if isinstance(selected, Dictionary) else None
        elif op in _TEXT_SHOWING and current_font is not None and _shows_notdef(current_font, operands):
            name = current_font.get("/BaseFont")
            problems.append(f"6.2.11.8: {where} shows .notdef (a missing glyph) in font {name}")
    return problems


def _shows_notdef(font: Dictionary, operands: list[pikepdf.Object]) -> bool:
    """ReportLab draws characters its TrueType subset lacks as code 0, which maps to .notdef."""
    if font.get("/Subtype") != Name.TrueType:
        return False
    strings: list[bytes] = []
    for operand in operands:
        if isinstance(operand, pikepdf.String):
            strings.append(bytes(operand))
        elif isinstance(operand, Array):
            strings += [bytes(item) for item in operand if isinstance(item, pikepdf.String)]
    if not any(b"\x00" in string for string in strings):
        return False
    cmap = font.get("/ToUnicode")
    mapping = cmap.read_bytes() if isinstance(cmap, Stream) else b""
    return re.search(rb"<00>\s*<0000>", mapping) is not None or not mapping


def _embedded_file_problems(document: pikepdf.Pdf, part: int | None) -> list[str]:
    attachments = dict(document.attachments.items())
    if not attachments:
        return []
    if part == 2:
        return [f"6.8: PDF/A-2 embeds {name}, which PDF/A-2 allows only for PDF/A files" for name in attachments]
    af = document.Root.get("/AF")
    listed = {obj.objgen for obj in af} if isinstance(af, Array) else set()
    problems = []
    for name, spec in attachments.items():
        obj = spec.obj
        if "/AFRelationship" not in obj:
            problems.append(f"6.8-3: embedded file {name} has no /AFRelationship")
        if "/F" not in obj or "/UF" not in obj:
            problems.append(f"6.8-2: embedded file {name} lacks /F or /UF")
        stream = obj.get("/EF", Dictionary()).get("/F")
        if not isinstance(stream, Stream) or "/Subtype" not in stream:
            problems.append(f"6.8-5: embedded file {name} has no stream with a /Subtype (MIME type)")
        if obj.objgen not in listed:
            problems.append(f"6.8-4: embedded file {name} is not listed in the catalog's /AF")
    return problems
