"""The X parser on real payloads (peer samples), the X dialect and the sandbox's X wire format."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import formatdate
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from archiver.cli import app
from archiver.config import Settings
from archiver.connectors import get_connector
from archiver.connectors.base import Observation
from archiver.connectors.x.billing import resources
from archiver.connectors.x.dialect import X_API, seconds_until_reset
from archiver.connectors.x.parse import parse
from archiver.dialect import ApiFailure
from archiver.errors import ParseError, PlatformError, ThrottledError, TokenError
from archiver.items import check_observation
from archiver.sandbox.application import SandboxApp
from archiver.sandbox.world import World, WorldConfig
from archiver.sandbox.x import ids

PEER = Path(__file__).parent / "fixtures" / "peer" / "twitter"
SAMPLES = sorted(p for p in PEER.rglob("*") if p.suffix in (".json", ".jsonl") and "models" not in p.parts)
"""Peer samples of API pages; ``testdata/models`` holds bare objects (a post, a user), not pages."""
MODELS = sorted((PEER / "sns-sdks__python-twitter/testdata/models").glob("*.json"))


def documents(path: Path) -> list[Any]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return [json.loads(text)]


def observations(name: str, account_id: str | None = None) -> list[Observation]:
    return [obs for doc in documents(PEER / name) for obs in parse(None, doc, account_id)]


def by_id(found: list[Observation], native_id: str) -> Observation:
    return next(obs for obs in found if obs["native_id"] == native_id)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: str(p.relative_to(PEER)))
def test_every_peer_sample_parses_into_valid_observations(path: Path) -> None:
    for document in documents(path):
        for obs in parse(None, document, None):
            check_observation(dict(obs))
            assert obs["platform"] == "x" and obs["kind"] in ("post", "comment", "reply", "message")


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.name)
def test_a_bare_object_is_not_a_page(path: Path) -> None:
    with pytest.raises(ParseError, match="not an X API v2 page"):
        list(parse(None, documents(path)[0], None))


def test_peer_samples_give_items_of_every_kind() -> None:
    kinds = {obs["kind"] for path in SAMPLES for doc in documents(path) for obs in parse(None, doc, None)}
    assert kinds == {"post", "comment", "reply", "message"}


@pytest.mark.parametrize("name", ["edited.jsonl", "edited_before.jsonl", "edited_after.jsonl"])
def test_an_edit_chain_is_one_item_named_by_its_first_id_with_the_newest_text(name: str) -> None:
    [post] = observations(f"DocNow__twarc-csv/{name}")
    assert post["native_id"] == "1576994746135764992" and post["kind"] == "post"
    assert post["text"] == "hey :) https://t.co/rnwEIoNuqd"
    assert post["author_id"] == "337119125" and post["author_name"] == "Jane Manchun Wong"
    assert post["permalink"] == "https://x.com/wongmjane/status/1576994789110992896"
    assert post["created_at"] == utc("2022-10-03T17:57:01")
    assert post["edited_at"] == utc("2022-10-03T17:57:11")
    assert json.loads(post["source_json"])["id"] == "1576994789110992896"


def test_an_outdated_version_alone_yields_nothing() -> None:
    [page] = documents(PEER / "DocNow__twarc-csv/edited_before.jsonl")
    page["includes"]["tweets"] = []
    assert list(parse(None, page, None)) == []


def test_replies_hang_on_their_parent_and_conversation() -> None:
    found = observations("DocNow__twarc-csv/noflat.jsonl")
    reply = by_id(found, "1380242586288328707")
    assert reply["kind"] == "reply" and reply["author_id"] == "1910479285" and reply["author_name"] == "Kaz"
    assert reply["parent_key"] == "x:unknown:1380229267770933248"
    assert reply["thread_key"] == "x:unknown:1380220754978086917"
    assert reply["created_at"] == utc("2021-04-08T19:34:10")
    assert reply["text"].startswith("@TalkToTheFoot @JackPosobiec None of whom had access")
    comment = by_id(found, "1380242521398202369")
    assert comment["kind"] == "comment"
    assert comment["parent_key"] == comment["thread_key"] == "x:unknown:1379782978432344067"


def test_a_video_is_its_highest_bit_rate_mp4() -> None:
    [post] = observations("DocNow__twarc-csv/media_tweet.jsonl")
    assert post["native_id"] == "1558553189766631429" and post["created_at"] == utc("2022-08-13T20:36:51")
    assert post["attachments"] == [
        {
            "type": "video",
            "source_url": "https://video.twimg.com/ext_tw_video/1558552952549277696/pu/vid/1280x720/"
            "WiZrNZKT2lMzK5zA.mp4?tag=12",
            "mime": "video/mp4",
            "title": None,
        }
    ]


def test_a_dm_event_is_a_private_message_in_its_conversation() -> None:
    [message] = observations(
        "sns-sdks__python-twitter/testdata/apis/dm_events/events.json", "906948460078698496"
    )
    assert message["kind"] == "message" and message["native_id"] == "1585321444547837956"
    assert message["thread_key"] == message["parent_key"] == "x:906948460078698496:1585094756761149440"
    assert message["author_id"] == "906948460078698496" and message["from_account"] is True
    assert message["record_class"] == "upprättad" and message["visibility"] == "private"
    assert message["text"] == "Another photo https://t.co/J5KotyeIyd"
    assert message["created_at"] == utc("2022-10-26T17:24:21")


def test_the_account_comes_from_a_timeline_url() -> None:
    page = documents(PEER / "sns-sdks__python-twitter/testdata/apis/timeline/timeline_tweets.json")[0]
    found = list(parse("https://api.x.com/2/users/2244994945/tweets?max_results=5", page, None))
    assert {obs["account_id"] for obs in found} == {"2244994945"} and len(found) == 5
    assert by_id(found, "1364275610764201984")["created_at"] == utc("2021-02-23T18:07:07")


def test_error_envelopes_raise_and_not_found_lookups_yield_nothing() -> None:
    with pytest.raises(ParseError, match="Too Many Requests"):
        list(
            parse(
                None,
                {"title": "Too Many Requests", "type": "https://api.x.com/2/problems/rate-limit-exceeded"},
                None,
            )
        )
    with pytest.raises(ParseError, match="Rate limit exceeded"):
        list(parse(None, {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}, None))
    gone = {
        "errors": [
            {
                "value": "1",
                "detail": "Could not find tweet with ids: [1].",
                "title": "Not Found Error",
                "resource_type": "tweet",
                "parameter": "ids",
                "resource_id": "1",
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            }
        ]
    }
    assert list(parse(None, gone, None)) == []
    with pytest.raises(ParseError, match="not an X API v2 page"):
        list(parse(None, [1, 2], None))


def test_billable_resources_are_counted_once_per_id() -> None:
    [page, _] = documents(PEER / "DocNow__twarc-csv/2sets.jsonl")
    found = resources(page)
    assert len(found["posts"]) >= 100 and len(found["users"]) > 0 and len(found["media"]) > 0


def test_the_cli_normalises_twarc_json_lines(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["normalise", "--platform", "x", str(PEER / "DocNow__twarc-csv/2sets.jsonl")]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 200 and lines[0]["created_at"].endswith("Z")


def failure(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> ApiFailure:
    return ApiFailure(
        status, json.dumps(body).encode(), httpx.Headers(headers or {}), "x account 'a': url", "TOKEN_ENV"
    )


def test_the_dialect_waits_until_the_reset_measured_by_the_servers_clock() -> None:
    now = 2_000_000_000.0
    headers = {"x-rate-limit-reset": str(int(now) + 30), "date": formatdate(now, usegmt=True)}
    wait = seconds_until_reset(httpx.Headers(headers))
    assert 30 <= wait <= 31
    error = X_API.error(
        failure(429, {"title": "Too Many Requests", "type": "x/rate-limit-exceeded"}, headers)
    )
    assert isinstance(error, ThrottledError) and 30 <= float(error.context["retry_after"] or 0) <= 31
    capped = X_API.error(failure(429, {"title": "Too Many Requests", "type": "x/usage-capped"}, headers))
    assert isinstance(capped, PlatformError) and capped.context["resumable"] == "yes"
    assert isinstance(X_API.error(failure(401, {"title": "Unauthorized"})), TokenError)
    assert "TOKEN_ENV" in str(X_API.error(failure(401, {"title": "Unauthorized"})))
    exhausted = httpx.Headers({"x-rate-limit-remaining": "0", **headers})
    assert X_API.pause(exhausted, Settings(pace_max_sleep=60)) >= 30
    assert X_API.pause(exhausted, Settings(pace_max_sleep=10)) == 0


def test_the_connector_is_registered() -> None:
    connector = get_connector("x")
    assert connector.platform == "x" and connector.dialect is X_API


@pytest.fixture(scope="module")
def sandbox() -> tuple[SandboxApp, str]:
    world = World(WorldConfig(seed=4, accounts=0, items_per_day=20, other_platforms=("x",)))
    now = datetime(2026, 11, 9, 1, 0, tzinfo=UTC)
    return SandboxApp(world, {"x_rate_limit": 2, "x_rate_window_seconds": 900}, now), world.accounts[0].token


def call(app: SandboxApp, token: str, path: str) -> tuple[int, dict[str, str], Any]:
    answer = app.handle("GET", path, {"Authorization": f"Bearer {token}"}, b"", "127.0.0.1:9")
    return answer.status, dict(answer.headers), json.loads(answer.body)


def test_the_sandbox_answers_in_xs_format_and_enforces_its_window(sandbox: tuple[SandboxApp, str]) -> None:
    app, token = sandbox
    account = app.world.accounts[0]
    path = f"/2/users/{account.page_id}/tweets?max_results=5&tweet.fields=created_at,conversation_id"
    status, headers, body = call(app, token, path)
    assert status == 200 and headers["x-rate-limit-limit"] == "2" and headers["x-rate-limit-remaining"] == "1"
    assert len(body["data"]) == 5 and body["meta"]["next_token"]
    assert body["data"][0]["created_at"].endswith(".000Z")
    call(app, token, path)
    status, headers, body = call(app, token, path)
    assert (
        status == 429 and headers["x-rate-limit-remaining"] == "0" and int(headers["x-rate-limit-reset"]) > 0
    )
    assert body["type"] == "https://api.x.com/2/problems/rate-limit-exceeded"
    assert call(app, "not-a-token", path)[0] == 401


def test_the_sandbox_renders_edit_chains_and_deleted_posts_as_not_found(
    sandbox: tuple[SandboxApp, str],
) -> None:
    app, token = sandbox
    state = app.world.account_state(app.world.accounts[0].name, int(app.clock.now().timestamp()))
    edited = next(item for item in state.items() if item.kind == "post" and len(item.texts) > 1)
    deleted = next(item for item in app.world._histories[app.world.accounts[0].name].posts if item.deleted)
    wanted = f"{ids.native_id(edited)},{ids.native_id(deleted)}"
    status, _, body = call(app, token, f"/2/tweets?ids={wanted}&expansions=edit_history_tweet_ids")
    assert status == 200
    [found] = body["data"]
    assert found["id"] == ids.native_id(edited) and found["edit_history_tweet_ids"][0] == found["id"]
    assert [t["text"] for t in body["includes"]["tweets"]][-1] == edited.texts[-1][1]
    assert body["errors"][0]["title"] == "Not Found Error" and body["errors"][0]["value"] == ids.native_id(
        deleted
    )
    [post] = parse(None, body, app.world.accounts[0].page_id)
    assert post["native_id"] == ids.native_id(edited) and post["text"] == edited.texts[-1][1]
