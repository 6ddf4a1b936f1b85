"""The self-explaining bucket against a real SeaweedFS: READMEs, catalog pages, their manifest."""

from __future__ import annotations

import json
import posixpath
import uuid
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import pytest
from typer.testing import CliRunner

from archiver.bucket_docs import item_model_rows, render_readmes
from archiver.catalog import CATALOG_ACCOUNT, ROOT_INDEX, day_page_key, month_key, publish
from archiver.cli import app
from archiver.items import ITEM_SCHEMA
from archiver.manifest import chain_head, seal_run
from archiver.pipeline import publish_catalog
from archiver.runs import RunRecord
from archiver.storage import Bucket, StoredObject

if TYPE_CHECKING:
    from conftest import S3Stack

DAY = "2031-03-14"


class Links(HTMLParser):
    """Collects every ``href`` of a page, with the class of the link."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.links.append((str(values["href"]), str(values.get("class") or "")))


def links_of(page: bytes) -> list[tuple[str, str]]:
    """Return the (href, class) pairs of an HTML page."""
    parser = Links()
    parser.feed(page.decode("utf-8"))
    return parser.links


def resolve(page_key: str, href: str) -> str:
    """Return the bucket key a relative link on ``page_key`` points to."""
    return posixpath.normpath(posixpath.join(posixpath.dirname(page_key), unquote(href)))


def _sealed_day(bucket: Bucket, account: str, day: str, *, diary: bool) -> dict[str, Any]:
    """Write a small capture run's objects (and a diary) with the real storage and seal it."""
    started = datetime.now(UTC)
    run_id = f"{account}_{started:%Y%m%dT%H%M%S%fZ}"
    objects: list[StoredObject] = [
        bucket.put(f"raw/facebook/{account}/{day[:4]}/{day[5:7]}/{day[8:]}/{run_id}.warc.gz", b"warc"),
        bucket.put(f"items/platform=facebook/account={account}/date={day}/{run_id}.parquet", b"parquet"),
    ]
    if diary:
        key = f"documents/{account}/{day[:4]}/{day[5:7]}/{account}_{day}.pdf"
        objects.append(bucket.put(key, b"%PDF-1.7 diary", "application/pdf"))
    run = RunRecord(
        run_id=run_id,
        account=account,
        platform="facebook",
        account_id="1234",
        day=day,
        status="normalised",
        error=None,
        warc_key=objects[0].key,
        started_at=started.isoformat(),
        objects=[obj.to_dict() for obj in objects],
        counts={"kind_post": 2, "kind_comment": 5, "new": 7},
    )
    return dict(seal_run(bucket, run))


@pytest.fixture
def bucket(s3_stack: S3Stack) -> Bucket:
    """The session bucket, written as the archiver identity."""
    return Bucket(s3_stack.bucket, s3_stack.client("archiver"))


@pytest.fixture
def account() -> str:
    """A fresh account name, so this test's pages are its own in the shared bucket."""
    return f"cat-{uuid.uuid4().hex[:10]}"


def test_item_model_table_comes_from_the_schema() -> None:
    rows = {row.name: row for row in item_model_rows()}
    assert set(ITEM_SCHEMA.names) <= set(rows)
    assert rows["item_key"].required and not rows["parent_key"].required
    assert rows["attachments[].media_sha256"].doc.startswith("sha256")
    assert all(row.doc for row in rows.values())


def test_readmes_describe_layout_items_verification_and_identities(bucket: Bucket) -> None:
    readmes = {key: data.decode("utf-8") for key, data in render_readmes(bucket, "Exempels kommun").items()}
    english, swedish = readmes["README.md"], readmes["README.sv.md"]
    for text in (english, swedish):
        assert "Exempels kommun" in text
        assert "COMPLIANCE 1 " in text  # the bucket's real default retention
        for field in ITEM_SCHEMA:
            assert f"| `{field.name}` |" in text
        for needle in (
            "sha256sum",
            "previous.sha256",
            "archiver verify",
            "`auditor`",
            "`registrar`",
            "releases/",
        ):
            assert needle in text
    assert "Who may do what" in english and "Vem får göra vad" in swedish


def test_catalog_is_written_sealed_linked_and_idempotent(
    s3_stack: S3Stack, bucket: Bucket, account: str
) -> None:
    _sealed_day(bucket, account, DAY, diary=True)
    _sealed_day(bucket, account, "2031-03-15", diary=False)
    written = publish(bucket, DAY)
    keys = {entry["key"] for entry in written}
    page = day_page_key(account, DAY)
    assert {page, month_key(account, DAY[:7], "html"), ROOT_INDEX} <= keys
    manifest = written[-1]
    assert manifest["key"].startswith(f"manifests/2031/03/14/{CATALOG_ACCOUNT}_")
    sealed = json.loads(bucket.get(manifest["key"], manifest["version_id"]))
    assert sealed["account"] == CATALOG_ACCOUNT and sealed["status"] == "complete"
    assert {obj["key"] for obj in sealed["objects"]} == keys - {manifest["key"]}

    auditor = s3_stack.client("auditor")
    for key in (
        "README.md",
        "README.sv.md",
        ROOT_INDEX,
        f"catalog/{account}/index.html",
        month_key(account, DAY[:7], "html"),
        page,
    ):
        body = auditor.get_object(Bucket=s3_stack.bucket, Key=key)["Body"].read()
        for href, _ in links_of(body) if key.endswith(".html") else []:
            assert "://" not in href, (key, href)
            assert bucket.exists(resolve(key, href)), (key, href)

    head = chain_head(bucket, CATALOG_ACCOUNT)
    assert publish(bucket, DAY) == []  # nothing changed: no new version, no manifest
    assert chain_head(bucket, CATALOG_ACCOUNT) == head


def test_day_page_links_the_diary_and_lists_objects_with_checksums(bucket: Bucket, account: str) -> None:
    run = _sealed_day(bucket, account, DAY, diary=True)
    publish(bucket, DAY)
    page_key = day_page_key(account, DAY)
    page = bucket.get(page_key)
    diaries = [resolve(page_key, href) for href, css in links_of(page) if css == "diary"]
    assert diaries == [f"documents/{account}/2031/03/{account}_{DAY}.pdf"]
    text = page.decode("utf-8")
    for obj in run["objects"]:
        assert obj["sha256"] in text and obj["version_id"] in text
    month = json.loads(bucket.get(month_key(account, DAY[:7], "json")))
    entry = month["days"][DAY]
    assert entry["status"] == "complete" and entry["kinds"] == {"comment": 5, "post": 2}
    assert entry["documents"][0]["sha256"] == run["objects"][-1]["sha256"]
    month_page = bucket.get(month_key(account, DAY[:7], "html"))
    assert f"documents/{account}/2031/03/{account}_{DAY}.pdf" in [
        resolve(month_key(account, DAY[:7], "html"), href)
        for href, css in links_of(month_page)
        if css == "diary"
    ]


def test_a_diary_in_another_language_is_listed_but_the_registered_one_stays_the_diary(
    bucket: Bucket, account: str
) -> None:
    day = "2031-03-09"
    _sealed_day(bucket, account, day, diary=True)
    registered = f"documents/{account}/2031/03/{account}_{day}.pdf"
    english = bucket.put(registered.removesuffix(".pdf") + ".en.pdf", b"%PDF-1.7 translation", "application/pdf")
    publish(bucket, day)
    page_key = day_page_key(account, day)
    page = bucket.get(page_key)
    assert [resolve(page_key, href) for href, css in links_of(page) if css == "diary"] == [registered]
    assert english.key in page.decode("utf-8")  # listed (unsealed here: no sha256 from a manifest)


def test_a_new_run_rewrites_only_its_day_month_and_indexes(bucket: Bucket, account: str) -> None:
    _sealed_day(bucket, account, DAY, diary=True)
    _sealed_day(bucket, account, "2031-03-15", diary=False)
    publish(bucket, DAY)
    _sealed_day(bucket, account, "2031-03-15", diary=True)
    written = {entry["key"] for entry in publish(bucket, "2031-03-15")}
    assert day_page_key(account, "2031-03-15") in written
    assert day_page_key(account, DAY) not in written
    assert {month_key(account, "2031-03", "json"), f"catalog/{account}/index.html", ROOT_INDEX} <= written


def test_publish_catalog_and_the_catalog_command_use_the_environment(
    s3_stack: S3Stack, bucket: Bucket, account: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in s3_stack.env("archiver").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ARCHIVER_ACCOUNTS_FILE", str(tmp_path / "none.yaml"))
    _sealed_day(bucket, account, "2031-04-01", diary=True)
    result = CliRunner().invoke(app, ["catalog", "--date", "2031-04-01"])
    assert result.exit_code == 0, result.output
    assert f"wrote {day_page_key(account, '2031-04-01')}" in result.stdout
    assert publish_catalog("2031-04-01") == []
    assert "nothing changed" in CliRunner().invoke(app, ["catalog"]).stdout


def test_a_publication_that_fails_half_way_seals_what_it_wrote_as_failed(
    bucket: Bucket, account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import archiver.catalog as catalog

    _sealed_day(bucket, account, DAY, diary=True)
    original = catalog.render_page

    def broken(template: str, **values: Any) -> bytes:
        if template == "index.html.j2":  # the root index is written last
            raise RuntimeError("disk full")
        return original(template, **values)

    monkeypatch.setattr(catalog, "render_page", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        publish(bucket, DAY)
    head = chain_head(bucket, CATALOG_ACCOUNT)
    assert head is not None
    sealed = json.loads(bucket.get(head["ref"]["key"], head["ref"]["version_id"]))
    assert sealed["status"] == "failed" and "disk full" in sealed["error"]
    assert day_page_key(account, DAY) in {obj["key"] for obj in sealed["objects"]}
