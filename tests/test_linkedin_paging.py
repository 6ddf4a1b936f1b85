"""LinkedIn paging without paging data: a full page means "maybe more", never "the end".

LinkedIn often answers a collection with ``paging`` holding neither ``total`` nor a ``next`` link.
Stopping there would leave every comment past the first page unlisted, and those of a post the
run saw would be tombstoned. The real sandbox serves the pages; a transport in between removes
the paging data (and, in one test, makes the API ignore ``start``, so paging can never end).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import httpx
import pytest

from archiver.config import Account, Settings
from archiver.connectors import get_connector
from archiver.connectors.linkedin import capture
from archiver.connectors.linkedin.dialect import thread_of
from archiver.http import ApiClient, Response
from archiver.items import item_key
from archiver.normalise import unsure_keys
from archiver.runs import capture_window
from archiver.warc import Redactor, WarcRecorder, read_notes

from archive_checks import FIRST_DAY, nightly_run_after
from conftest import SandboxFactory, SandboxServer

DAY = FIRST_DAY + timedelta(days=2)
PAGE = 2
"""Comments per page in these tests, so that the sandbox's posts have comments past the first page."""


class Rewriting(httpx.HTTPTransport):
    """Passes requests to the sandbox; strips ``total`` and ``links`` from every comment page's
    ``paging``, and with ``ignore_start`` asks for ``start=0`` whatever the client asked for."""

    def __init__(self, ignore_start: bool = False) -> None:
        super().__init__()
        self.ignore_start = ignore_start

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        comments = request.url.path.endswith("/comments")
        if comments and self.ignore_start:
            query = {**dict(parse_qsl(request.url.query.decode())), "start": "0"}
            request = httpx.Request(
                request.method,
                request.url.copy_with(query=urlencode(query).encode()),
                headers=request.headers,
            )
        response = super().handle_request(request)
        if not comments or response.status_code != 200:
            return response
        body = json.loads(response.read())
        body["paging"] = {
            key: value for key, value in body["paging"].items() if key not in ("total", "links")
        }
        return httpx.Response(
            200, headers={"Content-Type": "application/json"}, content=json.dumps(body).encode()
        )


@dataclass
class Run:
    responses: list[Response]
    unsure: set[str]


def _capture(sandbox: SandboxServer, transport: httpx.BaseTransport | None = None) -> Run:
    entry = next(
        a for a in sandbox.world.accounts_file(sandbox.root_url)["accounts"] if a["platform"] == "linkedin"
    )
    account = Account.model_validate(entry)
    token = sandbox.world.tokens()[account.token_env]
    recorder = WarcRecorder(Redactor([token]), {"run_id": "paging"})
    settings = Settings()
    client = ApiClient(
        settings,
        recorder,
        token,
        account.token_env,
        "linkedin test",
        transport=transport,
        dialect=get_connector("linkedin").dialect,
    )
    try:
        responses = capture.capture(client, account, capture_window(DAY, settings), settings)
        return Run(responses, unsure_keys(read_notes(recorder.getvalue())))
    finally:
        client.close()
        recorder.close()


def _comments(run: Run) -> set[str]:
    return {
        str(element["commentUrn"])
        for response in run.responses
        for element in response.json().get("elements") or []
        if "commentUrn" in element
    }


@pytest.fixture
def sandbox(sandbox_factory: SandboxFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxServer]:
    monkeypatch.setattr(capture, "COMMENT_PAGE_SIZE", PAGE)
    server = sandbox_factory(seed=31, accounts=1, items_per_day=16, platforms=("linkedin",))
    server.set_clock(nightly_run_after(DAY))
    yield server


def test_pages_without_total_or_next_link_are_followed_to_an_empty_page(sandbox: SandboxServer) -> None:
    complete = _capture(sandbox)
    pages = [r for r in complete.responses if r.json().get("paging", {}).get("total", 0) > PAGE]
    assert pages, "the sandbox world should have a post or comment with more than one page of comments"

    stripped = _capture(sandbox, Rewriting())

    assert _comments(stripped) == _comments(complete)
    assert stripped.unsure == set()


def test_a_listing_that_ignores_start_is_noted_unlisted_not_guessed(sandbox: SandboxServer) -> None:
    complete = _capture(sandbox)
    paged = {  # the posts with a comment page (theirs or a reply's) that is not the last one
        thread_of(r.url) or unquote(urlsplit(r.url).path.split("/")[-2])
        for r in complete.responses
        if "/comments" in r.url and r.json().get("paging", {}).get("total", 0) > PAGE
    }

    looping = _capture(sandbox, Rewriting(ignore_start=True))

    account_id = next(a.page_id for a in sandbox.world.accounts if a.platform == "linkedin")
    assert paged and {item_key("linkedin", account_id, post) for post in paged} == looping.unsure


def test_replies_name_the_activity_and_the_capture_marks_their_post_unsent(sandbox: SandboxServer) -> None:
    """As on LinkedIn, a comment's ``object`` and URN name the post's activity, not its share;
    the reply listings' URLs carry the post in a fragment the WARC keeps but the request line
    (what was sent) does not."""
    recorded: list[httpx.Request] = []

    class Watching(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            recorded.append(request)
            return super().handle_request(request)

    run = _capture(sandbox, Watching())
    replies = [r for r in run.responses if "urn%3Ali%3Acomment" in r.url]
    assert replies, "the sandbox world should have comments with replies"
    for response in run.responses:
        if "/socialActions/" not in response.url:
            continue
        target = unquote(urlsplit(response.url).path.split("/")[-2])
        for element in response.json()["elements"]:
            assert str(element["object"]).startswith("urn:li:activity:")
            assert element["object"].removeprefix("urn:li:activity:") != (
                (thread_of(response.url) or target).rsplit(":", 1)[-1]
            ), "the activity has a number of its own"
    assert all(thread_of(r.url) for r in replies)
    assert all(b"#" not in request.url.raw_path for request in recorded)


@pytest.mark.parametrize(
    ("body", "elements", "start", "expected"),
    [
        ({"paging": {"start": 0, "count": 2}}, 2, 2, True),  # full page, no data: ask again
        ({"paging": {"start": 2, "count": 2}}, 1, 3, False),  # short page ends it
        ({"paging": {"start": 4, "count": 2}}, 0, 4, False),  # empty page ends it
        ({"paging": {"start": 0, "count": 2, "total": 2}}, 2, 2, False),  # total says it all
        ({"paging": {"start": 0, "count": 2, "total": 3}}, 2, 2, True),
        ({}, 2, 2, True),  # no paging object at all
        ({"paging": {"start": 0, "count": 1}}, 1, 1, True),  # LinkedIn served fewer than asked
    ],
)
def test_has_more(body: dict[str, object], elements: int, start: int, expected: bool) -> None:
    page = [{"id": str(n)} for n in range(elements)]
    assert capture._has_more(body, page, start, 2) is expected
