"""Page layout of the documents: A4 pages with a header, a footer "sida X av Y", bookmarks per
thread, and a story that is generated while pages are drawn.

The story is streamed: :class:`StreamedStory` pulls flowables from a generator only as the page
builder consumes them, so a busy day's items are laid out and dropped one thread at a time
instead of all being held as flowables at once. "Page X of Y" needs the total before it is
known; every page draws a form XObject for the total, and the form is defined once, after the
last page (so a single pass suffices).

All wording comes from ``templates/documents/{lang}.j2`` (see :func:`words`).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from io import BytesIO
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup
from PIL import Image as PILImage
from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Image, Paragraph, Table, TableStyle
from reportlab.platypus.doctemplate import BaseDocTemplate, Indenter, PageTemplate
from reportlab.platypus.frames import Frame

from archiver.documents.fonts import FONT_BODY, FONT_BOLD, FONT_ITALIC, MissingGlyphs, register_fonts
from archiver.documents.model import Node, Row, Thread, change_of, previous_version
from archiver.documents.text import inline, paragraphs
from archiver.errors import DocumentError
from archiver.items import unsigned_url
from archiver.templating import TEMPLATES

LANGUAGES = ("sv", "en")
PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 18 * mm
TOP = 22 * mm
BOTTOM = 20 * mm
TOTAL_FORM = "pagetotal"
GREY = Color(0.38, 0.38, 0.38)
TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN


@cache
def _environment() -> jinja2.Environment:
    """Return the Jinja2 environment for document wording: autoescaped, since its output is
    ReportLab paragraph markup (values passed in as ``Markup`` are already markup)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
    )


@cache
def words(lang: str) -> Any:
    """Return the wording module of ``templates/documents/{lang}.j2`` (its ``set`` values and
    macros as attributes); raise DocumentError for an unknown language."""
    if lang not in LANGUAGES:
        raise DocumentError(f"No document wording for language {lang!r}; use one of: {', '.join(LANGUAGES)}.")
    return _environment().get_template(f"documents/{lang}.j2").module


def plain(markup: object) -> str:
    """Return template output as plain text (for bookmarks and metadata): entities resolved."""
    return html.unescape(str(markup))


@dataclass(frozen=True)
class Styles:
    """The paragraph styles of the documents."""

    title: ParagraphStyle
    heading: ParagraphStyle
    body: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle
    code: ParagraphStyle
    item_head: ParagraphStyle
    meta: ParagraphStyle
    earlier: ParagraphStyle
    thread: ParagraphStyle


@cache
def styles() -> Styles:
    """Return the paragraph styles (fonts registered first)."""
    register_fonts()
    body = ParagraphStyle("body", fontName=FONT_BODY, fontSize=9.5, leading=12.5, spaceAfter=2)
    return Styles(
        title=ParagraphStyle("title", parent=body, fontName=FONT_BOLD, fontSize=17, leading=21, spaceAfter=8),
        heading=ParagraphStyle(
            "heading", parent=body, fontName=FONT_BOLD, fontSize=11.5, leading=14, spaceBefore=8, spaceAfter=4
        ),
        body=body,
        small=ParagraphStyle("small", parent=body, fontSize=8, leading=10),
        cell=ParagraphStyle("cell", parent=body, fontSize=8, leading=10, spaceAfter=0),
        code=ParagraphStyle("code", parent=body, fontSize=7, leading=9, spaceAfter=0, wordWrap="CJK"),
        item_head=ParagraphStyle(
            "item_head", parent=body, fontName=FONT_BOLD, fontSize=9, leading=11.5, spaceBefore=5, keepWithNext=1
        ),
        meta=ParagraphStyle("meta", parent=body, fontSize=7.5, leading=9.5, textColor=GREY, wordWrap="CJK"),
        earlier=ParagraphStyle("earlier", parent=body, fontName=FONT_ITALIC, leftIndent=10, textColor=GREY),
        thread=ParagraphStyle(
            "thread",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=12,
            leading=15,
            spaceBefore=12,
            spaceAfter=2,
            keepWithNext=1,
        ),
    )


def table(rows: list[list[Any]], widths: list[float], header: bool = True) -> Table:
    """Return a table with the document font set in its style (ReportLab's default cell font
    would otherwise be an unembedded Helvetica)."""
    style = [
        ("FONT", (0, 0), (-1, -1), FONT_BODY, 8),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, GREY),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if header:
        style.append(("FONT", (0, 0), (-1, 0), FONT_BOLD, 8))
    return Table(rows, colWidths=widths, style=TableStyle(style), repeatRows=1 if header else 0, hAlign="LEFT")


class Bookmark(Flowable):  # type: ignore[misc]
    """A zero-size flowable that puts a bookmark (outline entry) where it is drawn."""

    def __init__(self, key: str, title: str, level: int = 0) -> None:
        super().__init__()
        self.key, self.title, self.level = key, title, level
        self.width = self.height = 0

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        """Return the size: none."""
        return (0, 0)

    def draw(self) -> None:
        """Register the bookmark at the current page."""
        self.canv.bookmarkHorizontal(self.key, 0, 0)
        self.canv.addOutlineEntry(self.title, self.key, level=self.level, closed=True)


class StreamedStory(list[Flowable]):
    """A story list that fills itself from ``chunks`` as the page builder consumes it.

    ReportLab's builder pops flowables from the front of the list and asks for ``len()`` before
    each one; this list keeps at least ``ahead`` flowables buffered, so at most a few threads'
    flowables exist at any time.
    """

    def __init__(self, chunks: Iterable[list[Flowable]], ahead: int = 24) -> None:
        super().__init__()
        self._chunks: Iterator[list[Flowable]] | None = iter(chunks)
        self._ahead = ahead

    def __len__(self) -> int:
        while self._chunks is not None and list.__len__(self) < self._ahead:
            chunk = next(self._chunks, None)
            if chunk is None:
                self._chunks = None
            else:
                self.extend(chunk)
        return list.__len__(self)

    def __bool__(self) -> bool:
        return len(self) > 0


@dataclass(frozen=True)
class PageText:
    """What every page shows besides the story: header line, document id, and the wording."""

    header: str
    """Header line (markup-free text)."""
    footer: str
    """Footer text on the left, e.g. "Dokument-id: ..." (markup-free)."""
    lang: str


class _PagedCanvas(Canvas):  # type: ignore[misc]
    """A canvas that defines the "total pages" form once all pages are drawn."""

    def save(self) -> None:
        total = self.getPageNumber() - 1
        self.beginForm(TOTAL_FORM)
        self.setFont(FONT_BODY, 7.5)
        self.setFillColor(GREY)
        self.drawString(0, 0, str(total))
        self.endForm()
        super().save()


def _draw_page(page: PageText) -> Callable[[Canvas, BaseDocTemplate], None]:
    def draw(canvas: Canvas, doc: BaseDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(FONT_BODY, 7.5)
        canvas.setFillColor(GREY)
        canvas.drawString(MARGIN, PAGE_HEIGHT - 12 * mm, page.header)
        canvas.setStrokeColor(GREY)
        canvas.setLineWidth(0.3)
        canvas.line(MARGIN, PAGE_HEIGHT - 13.5 * mm, PAGE_WIDTH - MARGIN, PAGE_HEIGHT - 13.5 * mm)
        canvas.line(MARGIN, 13.5 * mm, PAGE_WIDTH - MARGIN, 13.5 * mm)
        canvas.drawString(MARGIN, 10 * mm, page.footer)
        # "sida X av " + the total (a form defined after the last page) + the rest
        marker = "\u0000"
        text = plain(words(page.lang).page_of(doc.page, marker))
        before, _, after = text.partition(marker)
        reserve = stringWidth("0000", FONT_BODY, 7.5)
        x = PAGE_WIDTH - MARGIN - stringWidth(before + after, FONT_BODY, 7.5) - reserve
        canvas.drawString(x, 10 * mm, before)
        x += stringWidth(before, FONT_BODY, 7.5)
        canvas.saveState()
        canvas.translate(x, 10 * mm)
        canvas.doForm(TOTAL_FORM)
        canvas.restoreState()
        if after:
            canvas.drawString(x + reserve, 10 * mm, after)
        canvas.restoreState()

    return draw


def build_pdf(chunks: Iterable[list[Flowable]], page: PageText, title: str, lang_tag: str) -> bytes:
    """Return the plain PDF (not yet PDF/A) of the story ``chunks`` on A4 pages with header,
    footer and page numbers; reproducible (ReportLab's invariant mode, no clock in it)."""
    styles()
    out = BytesIO()
    doc = BaseDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=TOP,
        bottomMargin=BOTTOM,
        title=title,
        author="",
        subject="",
        creator="social-archiver",
        invariant=1,
        initialFontName=FONT_BODY,
        initialFontSize=9.5,
        enforceColorSpace="rgb",
        lang=lang_tag,
        pageCompression=1,
    )
    frame = Frame(MARGIN, BOTTOM, TEXT_WIDTH, PAGE_HEIGHT - TOP - BOTTOM, id="body", leftPadding=0, rightPadding=0)
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=_draw_page(page))])
    doc.build(StreamedStory(chunks), canvasmaker=_PagedCanvas)
    return out.getvalue()


def para(markup: object, style: ParagraphStyle) -> Paragraph:
    """Return a paragraph of template output (already markup)."""
    return Paragraph(str(markup), style)


# --- items ---------------------------------------------------------------------------------

INDENT = 14.0
"""Points each level of a thread (comment, reply) is indented."""
MAX_INDENT_DEPTH = 6
"""Deepest level that is indented further; deeper replies stay at this indent and name the
item they answer, so a long chain of replies keeps a readable width."""
IMAGE_MAX_PX = 800
IMAGE_MAX_HEIGHT = 80 * mm


@dataclass
class ItemContext:
    """What drawing items needs besides the rows: wording, time zone, earlier versions, media."""

    lang: str
    zone: ZoneInfo
    missing: MissingGlyphs
    history: dict[str, list[Row]]
    media: Callable[[str], bytes | None]
    """Returns the bytes of a ``media/`` key, or None when it cannot be read."""

    @property
    def w(self) -> Any:
        """Return the wording module."""
        return words(self.lang)

    def text(self, value: str | None) -> Markup:
        """Return ``value`` as markup for a short string (fonts chosen per character)."""
        return Markup(inline(value or "", self.missing))

    def when(self, value: datetime | None) -> Markup:
        """Return a time in the archive's zone and UTC, as the template writes it."""
        if value is None:
            return Markup("–")
        local = value.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S")
        utc = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        return Markup(self.w.time(local, utc))


def thread_chunks(thread: Thread, ctx: ItemContext, number: int) -> Iterator[list[Flowable]]:
    """Yield the flowables of one thread: a heading with a bookmark, then each item version,
    indented by depth (one chunk per version, so the story streams)."""
    s = styles()
    root = thread.root
    heading_row = root.latest if root else None
    kind = ctx.w.kinds.get(heading_row["kind"], heading_row["kind"]) if heading_row else ctx.w.labels["thread"]
    author = _author_plain(heading_row, ctx) if heading_row else ""
    when = _time_plain(heading_row, ctx) if heading_row else ""
    title = plain(ctx.w.bookmark(kind, author, when)) if heading_row else thread.thread_key
    yield [
        Bookmark(f"thread-{number}", title),
        para(Markup(f"{number}. ") + ctx.text(title), s.thread),
        para(ctx.text(thread.thread_key), s.meta),
    ]
    if root is None:
        yield [para(ctx.w.root_missing(ctx.text(thread.thread_key)), s.meta)]
    places = _places(thread)
    for node in thread.nodes():
        depth, parent = places[node.item_key]
        for row in node.versions:
            flowables = version_flowables(row, node.context, ctx)
            if depth > MAX_INDENT_DEPTH and parent is not None:
                flowables.insert(1, _reply_to(parent.latest, ctx))
            yield _indented(flowables, min(depth, MAX_INDENT_DEPTH) * INDENT)


def _places(thread: Thread) -> dict[str, tuple[int, Node | None]]:
    """Return each node's depth in the tree and the node it answers (None at the top)."""
    places: dict[str, tuple[int, Node | None]] = {}
    stack: list[tuple[Node, int, Node | None]] = [(node, 0, None) for node in ([thread.root] if thread.root else [])]
    stack += [(node, 1 if thread.root else 0, None) for node in thread.orphans]
    while stack:
        node, depth, parent = stack.pop()
        places[node.item_key] = (depth, parent)
        stack.extend((child, depth + 1, node) for child in node.children)
    return places


def _reply_to(parent: Row, ctx: ItemContext) -> Paragraph:
    """Return the line naming the item a deeply nested reply answers."""
    kind = ctx.w.kinds.get(parent["kind"], parent["kind"])
    author, when = ctx.text(_author_plain(parent, ctx)), _time_plain(parent, ctx)
    return para(ctx.w.reply_to(kind, author, when, ctx.text(parent["item_key"])), styles().meta)


def _indented(flowables: list[Flowable], indent: float) -> list[Flowable]:
    if not indent:
        return flowables
    return [Indenter(left=indent), *flowables, Indenter(left=-indent)]


def _author_plain(row: Row, ctx: ItemContext) -> str:
    return row.get("author_name") or row.get("author_id") or plain(ctx.w.unknown_author())


def _time_plain(row: Row, ctx: ItemContext) -> str:
    value = row.get("created_at") or row.get("first_seen_at")
    return value.astimezone(ctx.zone).strftime("%Y-%m-%d %H:%M") if value else ""


def version_flowables(row: Row, context: bool, ctx: ItemContext) -> list[Flowable]:
    """Return the flowables of one item version: heading (kind, author, time), record class and
    version, state (edited with the earlier text, hidden, deleted), text, attachments, permalink."""
    s, w = styles(), ctx.w
    name = row.get("author_name")
    author = w.author(ctx.text(name), row.get("author_id")) if name or row.get("author_id") else w.unknown_author()
    head = Markup(" · ").join([Markup(w.kinds.get(row["kind"], row["kind"])), author, ctx.when(row.get("created_at"))])
    meta = Markup(" · ").join(
        [
            Markup(w.record_classes.get(row["record_class"], row["record_class"])),
            Markup(w.version(row["version"])),
            ctx.text(row["item_key"]),
        ]
    )
    out: list[Flowable] = [para(head, s.item_head), para(meta, s.meta)]
    if context:
        out.append(para(w.context(), s.meta))
    previous = previous_version(row, ctx.history)
    change = change_of(row, previous)
    observed = ctx.when(row.get("observed_at"))
    if change == "deleted":
        out.append(para(Markup("<b>%s</b>") % w.deleted(observed), s.body))
    elif change == "hidden" or (change == "new" and row["state"] == "hidden"):
        out.append(para(Markup("<b>%s</b>") % w.hidden(observed), s.body))
    elif change == "unhidden":
        out.append(para(w.unhidden(observed), s.body))
    elif change == "other" and not context:
        out.append(para(w.other_change(observed), s.meta))
    text = row.get("text")
    out += paragraphs(text, s.body, ctx.missing) if text else [para(w.empty_text(), s.meta)]
    if change == "edited" and previous is not None:
        out.append(para(w.edited(previous["version"], ctx.when(previous.get("observed_at"))), s.meta))
        earlier = previous.get("text")
        out += paragraphs(earlier, s.earlier, ctx.missing) if earlier else [para(w.empty_text(), s.earlier)]
    for attachment in row.get("attachments") or []:
        out += attachment_flowables(attachment, ctx)
    if row.get("permalink"):
        out.append(para(Markup("%s: ") % w.labels["permalink"] + ctx.text(row["permalink"]), s.meta))
    return out


def attachment_flowables(attachment: dict[str, Any], ctx: ItemContext) -> list[Flowable]:
    """Return an attachment: its type and title, an embedded image (scaled) when it is a
    readable image, else the stored file's MIME type, size, sha256 and bucket key."""
    s, w = styles(), ctx.w
    label = w.attachment(ctx.text(attachment.get("type") or ""), ctx.text(attachment.get("title")) if attachment.get("title") else "")
    out: list[Flowable] = [para(Markup("%s: ") % w.labels["attachments"] + label, s.meta)]
    key, sha = attachment.get("media_key"), attachment.get("media_sha256")
    if not key or not sha:
        if attachment.get("source_url"):
            out.append(para(w.not_fetched(ctx.text(unsigned_url(attachment["source_url"]))), s.meta))
        return out
    mime = attachment.get("mime") or "application/octet-stream"
    out.append(para(w.media_file(mime, attachment.get("size") or 0, sha, ctx.text(key)), s.meta))
    if mime.startswith("image/"):
        image = scaled_image(ctx.media(key))
        out.append(image if image is not None else para(w.image_unreadable(), s.meta))
    return out


def scaled_image(data: bytes | None) -> Flowable | None:
    """Return an image flowable of ``data`` as an RGB JPEG of at most ``IMAGE_MAX_PX`` pixels a
    side, scaled to fit the text width; None when Pillow cannot read it. One image is decoded at
    a time and only its small JPEG is kept."""
    if not data:
        return None
    try:
        with PILImage.open(BytesIO(data)) as source:
            source.draft("RGB", (IMAGE_MAX_PX, IMAGE_MAX_PX))
            image = source.convert("RGBA") if source.mode in ("P", "LA", "RGBA", "PA") else source.convert("RGB")
            if image.mode == "RGBA":  # flatten transparency on white: PDF/A without soft masks
                flat = PILImage.new("RGB", image.size, (255, 255, 255))
                flat.paste(image, mask=image.getchannel("A"))
                image = flat
            image.thumbnail((IMAGE_MAX_PX, IMAGE_MAX_PX))
            out = BytesIO()
            image.save(out, "JPEG", quality=80)
    except (OSError, ValueError, PILImage.DecompressionBombError):
        return None
    width, height = image.size
    scale = min((TEXT_WIDTH - MAX_INDENT_DEPTH * INDENT) / width, IMAGE_MAX_HEIGHT / height, 1.0)
    flowable = Image(BytesIO(out.getvalue()), width=width * scale, height=height * scale)
    flowable.hAlign = "LEFT"
    return flowable
