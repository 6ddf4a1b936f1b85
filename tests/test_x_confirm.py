"""X lookups of posts the listings left out (``confirm``): a post found only by lookup is seen in
its newest version and has its replies searched; only X's ``Not Found Error`` makes it gone; and
the parser refuses bodies that are not X API pages.

The sandbox tests run the real HTTP client against the in-process sandbox; the edit-chain tests
serve X's own bodies (twarc's peer samples of an edited post) over an httpx transport, because the
sandbox always expands the edit history and so never answers with an outdated version alone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from archiver.cli import app
from archiver.config import Account, Settings
from archiver.connectors.x.capture import confirm
from archiver.connectors.x.dialect import X_API
from archiver.connectors.x.parse import parse
from archiver.errors import ParseError, PlatformError
from archiver.http import ApiClient, Response
from archiver.sandbox.world import Item, to_unix
from archiver.sandbox.x import ids
from archiver.warc import Redactor, WarcRecorder

from archive_checks import FIRST_DAY, nightly_run_after
from x_checks import X_ACCOUNT, XSandbox, expected_row, x_sandbox

PEER = Path(__file__).parent / "fixtures" / "peer" / "twitter" / "DocNow__twarc-csv"
FIRST, NEWEST = "1576994746135764992", "1576994789110992896"
"""The edit chain of the twarc samples: the original post and its edited version."""
AUTHOR = "337119125"
TOKEN = "x-test-token-0123456789"


def seen_keys(responses: list[Response], account_id: str) -> set[str]:
    return {obs["item_key"] for r in responses for obs in parse(r.url, r.json(), account_id)}


def client_for(account: Account, token: str, transport: httpx.BaseTransport | None = None) -> ApiClient:
    recorder = WarcRecorder(Redactor([token]), {"run_id": "confirm-test"})
    return ApiClient(
        Settings(),
        recorder,
        token,
        account.token_env,
        f"x account '{account.name}'",
        transport,
        dialect=X_API,
    )


@pytest.fixture(scope="module")
def sandbox() -> Iterator[XSandbox]:
    with x_sandbox() as running:
        running.set_clock(nightly_run_after(FIRST_DAY + timedelta(days=4)))
        yield running


def sandbox_account(sandbox: XSandbox) -> tuple[Account, str]:
    entry = next(
        a for a in sandbox.world.accounts_file(sandbox.root_url)["accounts"] if a["name"] == X_ACCOUNT
    )
    return Account.model_validate(entry), sandbox.world.account(X_ACCOUNT).token


def test_a_post_found_only_by_lookup_has_its_edits_and_replies_seen(sandbox: XSandbox) -> None:
    account, token = sandbox_account(sandbox)
    at = nightly_run_after(FIRST_DAY + timedelta(days=4))
    state = sandbox.world.account_state(X_ACCOUNT, to_unix(at))
    posts = [item for item in state.items() if item.kind == "post" and state.stream(item)]
    edited = next(post for post in posts if len(ids.chain_ids(post, to_unix(at))) > 1)
    plain = next(post for post in posts if post is not edited)
    deleted = next(
        i for i in sandbox.world._histories[X_ACCOUNT].posts if i.deleted and not i.alive_at(to_unix(at))
    )
    asked = [(ids.native_id(post), "post") for post in (edited, plain, deleted)]

    client = client_for(account, token)
    responses, unknown = confirm(client, account, asked, Settings())

    assert unknown == []
    expected: list[Item] = [edited, plain, *state.stream(edited), *state.stream(plain)]
    wanted = {expected_row(sandbox.world, X_ACCOUNT, item)[0] for item in expected}
    seen = seen_keys(responses, account.id)
    assert wanted <= seen, f"replies of posts found by lookup were not searched: {sorted(wanted - seen)}"
    assert f"x:{account.id}:{ids.native_id(deleted)}" not in seen
    assert any("/2/tweets/search/" in r.url for r in responses)


def peer_page(name: str, without_edits: bool = False) -> dict[str, Any]:
    page: dict[str, Any] = json.loads((PEER / name).read_text(encoding="utf-8").splitlines()[0])
    page.pop("__twarc")
    if without_edits:
        page["includes"]["tweets"] = []
    return page


def x_transport(
    lookups: dict[str, dict[str, Any]], asked: list[str], search: httpx.Response | None = None
) -> httpx.MockTransport:
    """Answer ``/2/tweets?ids=`` from ``lookups`` (by the ids asked) and searches with ``search``
    (default: no posts)."""

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        if request.url.path.startswith("/2/tweets/search/"):
            return search or httpx.Response(200, json={"meta": {"result_count": 0}})
        return httpx.Response(200, json=lookups[request.url.params["ids"]])

    return httpx.MockTransport(handler)


def x_account() -> Account:
    return Account(
        name="peer-x", platform="x", id=AUTHOR, token_env="X_TOKEN", api_base="https://api.x.test/2"
    )


def confirm_peer(
    lookups: dict[str, dict[str, Any]], search: httpx.Response | None = None
) -> tuple[list[Response], list[str], list[str]]:
    account, asked = x_account(), []
    client = client_for(account, TOKEN, x_transport(lookups, asked, search))
    responses, unknown = confirm(client, account, [(FIRST, "post")], Settings())
    return responses, unknown, asked


def test_an_edited_post_answered_in_an_outdated_version_is_looked_up_by_its_newest_id() -> None:
    outdated = peer_page("edited_before.jsonl", without_edits=True)
    responses, unknown, asked = confirm_peer({FIRST: outdated, NEWEST: peer_page("edited_after.jsonl")})
    assert unknown == []
    assert f"x:{AUTHOR}:{FIRST}" in seen_keys(responses, AUTHOR), "the post would be tombstoned"
    assert [httpx.URL(url).params.get("ids") for url in asked if "search" not in url] == [FIRST, NEWEST]
    assert any("conversation_id%3A" + NEWEST in url or "conversation_id:" + NEWEST in url for url in asked)


def test_a_post_x_shows_only_in_an_outdated_version_stays_unknown() -> None:
    outdated = peer_page("edited_before.jsonl", without_edits=True)
    responses, unknown, _ = confirm_peer({FIRST: outdated, NEWEST: outdated})
    assert seen_keys(responses, AUTHOR) == set()
    assert unknown == [FIRST], "neither seen nor called Not Found: it must not be tombstoned"


def test_a_post_whose_replies_cannot_be_searched_fails_the_capture() -> None:
    """A post confirmed without its replies would have them tombstoned: there is no partial answer."""
    refused = httpx.Response(
        403,
        json={
            "title": "Client Forbidden",
            "detail": "This request must be made using an approved developer account.",
            "type": "https://api.twitter.com/2/problems/client-forbidden",
        },
    )
    with pytest.raises(PlatformError, match="approved developer"):
        confirm_peer({FIRST: peer_page("edited.jsonl")}, search=refused)


def not_found(value: str, parameter: str = "ids") -> dict[str, str]:
    return {
        "value": value,
        "detail": f"Could not find tweet with {parameter}: [{value}].",
        "title": "Not Found Error",
        "resource_type": "tweet",
        "parameter": parameter,
        "resource_id": value,
        "type": "https://api.twitter.com/2/problems/resource-not-found",
    }


def test_only_not_found_for_the_id_asked_makes_a_post_gone() -> None:
    _, unknown, asked = confirm_peer({FIRST: {"errors": [not_found(FIRST)]}})
    assert unknown == [] and len(asked) == 1, "a deleted post: no follow-up, no search"
    _, unknown, _ = confirm_peer({FIRST: {"errors": [not_found(FIRST, "referenced_tweets.id")]}})
    assert unknown == [FIRST], "Not Found for a referenced post says nothing about the post asked"
    forbidden = {
        **not_found(FIRST),
        "title": "Authorization Error",
        "type": "https://api.x.com/2/problems/not-authorized-for-resource",
    }
    _, unknown, _ = confirm_peer({FIRST: {"errors": [forbidden]}})
    assert unknown == [FIRST]


GRAPH_FEED = {
    "data": [{"id": "123_456", "message": "Välkommen!", "created_time": "2026-11-01T10:00:00+0000"}],
    "paging": {"cursors": {"before": "a", "after": "b"}},
}


@pytest.mark.parametrize(
    "body",
    [GRAPH_FEED, {"id": "123", "name": "Exempelby kommun"}, {"data": {"id": "1", "message": "x"}}, {}],
    ids=["graph-feed", "graph-object", "data-without-x-fields", "empty"],
)
def test_a_body_that_is_not_an_x_page_raises_saying_what_was_expected(body: dict[str, Any]) -> None:
    with pytest.raises(ParseError, match=r"not an X API v2 page.*expected"):
        list(parse(None, body, None))


@pytest.mark.parametrize(
    "body",
    [
        {"data": {"id": "2244994945", "name": "X Dev", "username": "XDevelopers"}},
        {
            "data": [
                {"end": "2021-05-27T00:00:00.000Z", "start": "2021-05-26T00:00:00.000Z", "tweet_count": 2}
            ]
        },
        {"data": {"dm_conversation_id": "1-2", "dm_event_id": "3"}},
        {"meta": {"result_count": 0}},
        {"data": []},
    ],
    ids=["user", "counts", "dm-created", "empty-listing", "empty-data"],
)
def test_x_pages_without_items_yield_nothing(body: dict[str, Any]) -> None:
    assert list(parse(None, body, None)) == []


def test_the_cli_refuses_a_facebook_body_for_x(tmp_path: Path) -> None:
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(GRAPH_FEED), encoding="utf-8")
    result = CliRunner().invoke(app, ["normalise", "--platform", "x", str(path)])
    assert result.exit_code == 1 and result.stdout == ""
    assert "not an X API v2 page" in result.stderr


def test_an_unreadable_timeline_page_is_kept_for_quarantine_and_the_capture_goes_on(
    sandbox: XSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    from archiver.connectors.x.capture import capture
    from archiver.runs import capture_window

    account, token = sandbox_account(sandbox)
    real = httpx.HTTPTransport()

    def handler(request: httpx.Request) -> httpx.Response:
        answer = real.handle_request(request)
        answer.read()
        if request.url.path.endswith("/tweets") and "/users/" in request.url.path:
            body = {"data": [{"unexpected": "shape"}], "meta": {"result_count": 1}}
            return httpx.Response(200, json=body, headers={"content-type": "application/json"})
        return answer

    client = client_for(account, token, httpx.MockTransport(handler))
    window = capture_window(FIRST_DAY + timedelta(days=3), Settings())
    with caplog.at_level("WARNING"):
        responses = capture(client, account, window, Settings())
    assert any(r.url.split("?")[0].endswith("/tweets") for r in responses)
    assert any("/mentions" in r.url for r in responses), "the rest of the day is still captured"
    assert any("normalise will quarantine it" in record.getMessage() for record in caplog.records)
