"""Documents without a bucket: the model (threads, context, counts, changes), the wording
templates, the streamed layout with "sida X av Y", and PDF/A finishing of a diary's story."""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pypdf
import pytest
from PIL import Image
from reportlab.platypus import Flowable, Paragraph

from archiver.config import Account
from archiver.documents.diary import DiaryData, FrontMatter, RunInfo, diary_story
from archiver.documents.fonts import MissingGlyphs
from archiver.documents.layout import (
    ItemContext,
    PageText,
    StreamedStory,
    build_pdf,
    scaled_image,
    styles,
    words,
)
from archiver.documents.model import (
    build_threads,
    change_of,
    context_rows,
    counts,
    earlier_rows,
    history_of,
    run_started,
)
from archiver.documents.pdfa import DocumentMeta, EmbeddedFile, finish, validate
from archiver.documents.thread import thread_name
from archiver.errors import DocumentError

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
POST = "facebook:1:100"


def row(native: str, kind: str = "comment", parent: str | None = POST, version: int = 1, **extra: Any) -> dict[str, Any]:
    """Return an item row with sensible defaults (ITEM_SCHEMA fields)."""
    key = f"facebook:1:{native}"
    base: dict[str, Any] = {
        "item_key": key,
        "platform": "facebook",
        "account_id": "1",
        "kind": kind,
        "native_id": native,
        "parent_key": None if kind == "post" else parent,
        "thread_key": POST,
        "author_id": "42",
        "author_name": "Åsa Öberg",
        "from_account": kind == "post",
        "record_class": "upprättad" if kind == "post" else "inkommen",
        "text": f"text {native} v{version}",
        "attachments": [],
        "permalink": f"https://www.facebook.com/{native}",
        "created_at": T0 + timedelta(minutes=int(native)),
        "edited_at": None,
        "visibility": "public",
        "state": "present",
        "version": version,
        "content_sha256": "0" * 64,
        "first_seen_at": T0,
        "observed_at": T0 + timedelta(days=version - 1, hours=17),
        "run_id": "acct_20261102T010000000000Z",
        "raw_ref": "raw/facebook/acct/2026/11/02/acct_20261102T010000000000Z.warc.gz#<urn:uuid:1>",
        "raw_sha256": "1" * 64,
        "source_json": "{}",
        "imported": False,
    }
    return base | extra


def test_change_of_tells_new_edited_hidden_unhidden_deleted_and_other() -> None:
    first = row("101")
    assert change_of(first, None) == "new"
    assert change_of(row("101", version=2, text="ny text"), first) == "edited"
    hidden = row("101", version=2, state="hidden", visibility="hidden")
    assert change_of(hidden, first) == "hidden"
    assert change_of(row("101", version=3), hidden) == "unhidden"
    assert change_of(row("101", version=2, state="deleted_at_source"), first) == "deleted"
    assert change_of(row("101", version=2, text=first["text"]), first) == "other"


def test_a_reply_to_an_older_comment_gets_its_parent_and_post_as_context() -> None:
    post, comment = row("100", kind="post"), row("101")
    reply = row("102", kind="reply", parent=comment["item_key"], observed_at=T0 + timedelta(days=1))
    history = history_of([post, comment, reply])
    threads = build_threads([reply], history)
    assert len(threads) == 1
    root = threads[0].root
    assert root is not None and root.context and root.item_key == POST
    assert root.children[0].context and root.children[0].item_key == comment["item_key"]
    assert root.children[0].children[0].versions == [reply]
    assert {r["item_key"] for r in context_rows(threads)} == {POST, comment["item_key"]}


def test_an_item_whose_parent_is_unknown_is_shown_at_the_top_of_its_thread() -> None:
    orphan = row("103", kind="reply", parent="facebook:1:999")
    threads = build_threads([orphan], history_of([orphan]))
    assert threads[0].root is None and [n.item_key for n in threads[0].orphans] == [orphan["item_key"]]


def test_counts_and_earlier_rows_come_from_the_versions_before() -> None:
    v1, v2 = row("101"), row("101", version=2, text="rättad text")
    gone = row("104", version=2, state="deleted_at_source")
    history = history_of([v1, v2, row("104"), gone, row("100", kind="post")])
    assert counts([v2, gone, row("100", kind="post")], history) == {
        "post": {"new": 1, "edited": 0, "hidden": 0, "unhidden": 0, "deleted": 0, "other": 0},
        "comment": {"new": 0, "edited": 1, "hidden": 0, "unhidden": 0, "deleted": 1, "other": 0},
    }
    assert [(r["item_key"], r["version"]) for r in earlier_rows([v2], history)] == [(v1["item_key"], 1)]


def test_run_ids_give_their_start_time_and_thread_keys_a_key_safe_name() -> None:
    assert run_started("angelholm-fb_20261102T010203000004Z") == datetime(2026, 11, 2, 1, 2, 3, 4, tzinfo=UTC)
    assert run_started("no-time") is None
    assert thread_name("facebook:123:123_456") == "facebook-123-123_456"


def test_swedish_and_english_wording_define_the_same_names() -> None:
    sv, en = words("sv"), words("en")
    for name in ("kinds", "record_classes", "changes", "purposes", "labels", "platforms"):
        assert getattr(sv, name).keys() == getattr(en, name).keys(), name
    macros = {name for name in dir(sv) if not name.startswith("_")}
    assert macros == {name for name in dir(en) if not name.startswith("_")}
    assert str(sv.page_of(2, 9)) == "sida 2 av 9" and str(en.page_of(2, 9)) == "page 2 of 9"
    assert str(sv.author("<b>", None)) == "&lt;b&gt;"  # values are escaped into markup
    with pytest.raises(DocumentError, match="sv, en"):
        words("de")


def test_the_story_is_pulled_while_pages_are_drawn() -> None:
    drawn: list[int] = []
    pulled_after: list[int] = []

    class Mark(Flowable):  # type: ignore[misc]
        def wrap(self, width: float, height: float) -> tuple[float, float]:
            return (width, 40)

        def draw(self) -> None:
            drawn.append(1)

    def chunks() -> Any:
        for number in range(400):
            pulled_after.append(len(drawn))
            yield [Mark(), Paragraph(f"rad {number}", styles().body)]

    pdf = build_pdf(chunks(), PageText("huvud", "Dokument-id: test", "sv"), "test", "sv-SE")
    assert pulled_after[-1] > 300  # the last chunk was made after most had been drawn
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[-1].extract_text()
    pages = len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert re.search(rf"sida {pages} av\s*{pages}", text), text
    assert isinstance(StreamedStory([]), list)


def test_images_are_flattened_to_rgb_jpeg_and_unreadable_ones_are_none() -> None:
    buffer = io.BytesIO()
    Image.new("RGBA", (1600, 400), (200, 10, 10, 128)).save(buffer, "PNG")
    image = scaled_image(buffer.getvalue())
    assert image is not None and image.drawWidth <= 600 and image.drawHeight < image.drawWidth
    assert scaled_image(b"not an image") is None and scaled_image(None) is None


def _diary(rows: list[dict[str, Any]], shown: list[dict[str, Any]], lang: str = "sv") -> tuple[bytes, bytes]:
    history = history_of(rows)
    threads = build_threads(shown, history)
    account = Account(name="acct", platform="facebook", id="1", display_name="Exempelby", token_env="T")
    run = RunInfo("acct_20261102T010000000000Z", datetime(2026, 11, 2, 1, tzinfo=UTC), "capture", "raw/x", 3)
    sources = [{"warc_key": "raw/x", "sha256": "2" * 64, "records": []}]
    data = DiaryData(account, "2026-11-02", shown, history, threads, [run], sources, [])
    ctx = ItemContext(lang, ZoneInfo("Europe/Stockholm"), MissingGlyphs(), history, lambda key: None)
    front = FrontMatter("Exempelby kommun", {"diarienummer": "KS 2026/1", "registreringsdatum": None}, "sa 1", None)
    pages = build_pdf(diary_story(data, front, ctx), PageText("Exempelby", "Dokument-id: d", lang), "Dagbok", "sv-SE")
    meta = DocumentMeta(
        title="Dagbok acct 2026-11-02",
        creator="Exempelby kommun",
        description="test",
        identifier="diary/acct/2026-11-02",
        created=T0 + timedelta(days=1),
        missing_glyphs=ctx.missing.chars,
    )
    files = [EmbeddedFile("items.json", b"[]", "application/json", "items")]
    return pages, finish(pages, meta, files)


def test_a_diary_shows_edits_hides_deletions_and_context_and_is_valid_pdfa() -> None:
    post = row("100", kind="post", text="Snöröjning i dag ❄️")
    v1 = row("101", text="Hej, när plogas Storgatan?")
    v2 = row("101", version=2, text="Hej, när plogas Lillgatan? مرحبا بكم")
    hidden = row("105", version=2, state="hidden", visibility="hidden", text="dold kommentar")
    gone = row("106", version=2, state="deleted_at_source")
    rows = [post, v1, v2, row("105", text="dold kommentar"), hidden, row("106"), gone]
    pages, pdf = _diary(rows, [v2, hidden, gone])
    assert validate(pdf) == []
    text = unicodedata.normalize("NFKC", "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages))
    assert "Sammanhang" in text and "Snöröjning i dag" in text  # the post, as context
    assert "Redigerad. Tidigare text (version 1" in text and "Storgatan" in text and "Lillgatan" in text
    assert "Dold av kontot" in text and "Raderad hos plattformen" in text
    assert "KS 2026/1" in text and "sida 1 av" in text and "❄" in text
    assert _diary(rows, [v2, hidden, gone]) == (pages, pdf)  # byte-identical
    english = unicodedata.normalize("NFKC", pypdf.PdfReader(io.BytesIO(_diary(rows, [v2], "en")[1])).pages[1].extract_text())
    assert "Edited. Earlier text" in english and "page 2 of" in english


ARABIC = ["مرحبا", "بكم", "في", "مدينتنا", "الجميلة", "نحن", "نعمل", "على", "تحسين", "الطرق", "والمدارس"]


def _arabic(words: int) -> str:
    return " ".join(ARABIC[i % len(ARABIC)] for i in range(words))


def _pdf_text(pdf: bytes) -> str:
    return unicodedata.normalize("NFKC", "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages))


def test_an_indented_arabic_comment_spanning_pages_is_broken_at_the_indented_width() -> None:
    post = row("100", kind="post", text="Snöröjning i dag")
    long_comment = row("101", text=_arabic(1500))  # depth 1, over several pages
    replies = [row(str(102 + i), kind="reply", parent=long_comment["item_key"], text=_arabic(120)) for i in range(29)]
    rows = [post, long_comment, *replies]
    _pages, pdf = _diary(rows, rows)
    assert validate(pdf) == []
    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages) > 4


def test_a_long_chain_of_replies_stops_indenting_and_names_what_each_reply_answers() -> None:
    post = row("100", kind="post", text="Snöröjning i dag")
    chain, parent = [], POST
    for number in range(60):
        reply = row(str(101 + number), kind="reply" if number else "comment", parent=parent, text=f"svar {number} " * 12)
        chain.append(reply)
        parent = reply["item_key"]
    rows = [post, *chain]
    _pages, pdf = _diary(rows, rows)
    assert validate(pdf) == []
    text = _pdf_text(pdf)
    assert "svar 59" in text
    assert "Svar på svar av Åsa Öberg" in text and "(facebook:1:159)" in text  # the 60th answers the 59th
    assert "Svar på kommentar av Åsa Öberg" not in text  # depth 1 to 6 are shown by indentation
    english = _pdf_text(_diary(rows, rows, "en")[1])
    assert "Reply to the reply by Åsa Öberg" in english
