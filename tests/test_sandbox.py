"""The sandbox platform: the world, and the Graph API wire format served over real HTTP on loopback."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from typer.testing import CliRunner

from archiver.config import AccountsFile, load_accounts
from archiver.sandbox import World, WorldConfig, make_server
from archiver.sandbox.cli import app as cli_app
from archiver.sandbox.text import luhn_valid, personnummer, wrong_check_number
from archiver.sandbox.world import STOCKHOLM, TruthItem

AT = datetime(2026, 11, 3, 20, 0, tzinfo=STOCKHOLM)
"""The sandbox clock during the tests: evening of the third day of the default world."""

PERSONNUMMER = re.compile(r"(?<![\d+])(\d{6}[-+]\d{4}|(?:19|20)\d{6}-?\d{4})(?!\d)")
ARABIC = re.compile(r"[\u0600-\u06ff]")
ETHIOPIC = re.compile(r"[\u1200-\u137f]")
EMOJI = re.compile(r"[\U0001f300-\U0001faff\u2600-\u27bf]")


@dataclass
class Sandbox:
    """A running sandbox with an HTTP client and the world it serves."""

    base: str
    client: httpx.Client
    world: World

    def token(self, index: int = 0) -> str:
        """Return the token of the index-th account."""
        return self.world.accounts[index].token

    def page(self, index: int = 0) -> str:
        """Return the page id of the index-th account."""
        return self.world.accounts[index].page_id

    def get(self, path: str, token: str | None = None, **params: Any) -> httpx.Response:
        """GET a Graph path under /v26.0 with the first account's token unless another is given."""
        params.setdefault("access_token", token if token is not None else self.token())
        return self.client.get(f"/v26.0{path}", params=params)

    def ok(self, path: str, **params: Any) -> dict[str, Any]:
        """GET a Graph path and return its JSON body, failing unless it answered 200."""
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def collect(self, first: dict[str, Any]) -> list[dict[str, Any]]:
        """Return every element of a paged edge, following paging.next from the first page."""
        found = list(first["data"])
        page = first
        while "next" in page.get("paging", {}):
            response = self.client.get(page["paging"]["next"])
            assert response.status_code == 200, response.text
            page = response.json()
            found.extend(page["data"])
        return found

    def admin(self, name: str, payload: dict[str, Any] | None = None) -> httpx.Response:
        """GET (or POST ``payload`` to) an admin endpoint."""
        if payload is None:
            return self.client.get(f"/_sandbox/{name}")
        return self.client.post(f"/_sandbox/{name}", json=payload)


@pytest.fixture(scope="module")
def world() -> World:
    return World()


@pytest.fixture(scope="module")
def running(world: World) -> Iterator[Sandbox]:
    server = make_server(world, "127.0.0.1", 0, now=AT)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            yield Sandbox(base, client, world)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def sandbox(running: Sandbox) -> Iterator[Sandbox]:
    yield running
    running.admin("faults", {})
    running.admin("clock", {"now": AT.isoformat()})


def truth_of(world: World, kind: str, index: int = 0, at: datetime = AT) -> list[TruthItem]:
    return [item for item in world.truth(world.accounts[index].name, at) if item.kind == kind]


def test_same_seed_same_world_and_different_seed_different_world() -> None:
    first, second, other = World(), World(), World(WorldConfig(seed=2))
    for account in first.accounts:
        assert first.truth(account.name, AT) == second.truth(account.name, AT)
        assert first.truth(account.name, AT) != other.truth(account.name, AT)
    assert first.tokens() == second.tokens() != other.tokens()
    assert [p.name for p in first.residents] == [p.name for p in second.residents]


def test_world_evolves_day_by_day(world: World) -> None:
    name = world.accounts[0].name
    day1 = {item.native_id for item in world.truth(name, datetime(2026, 11, 1, 23, 59, tzinfo=STOCKHOLM))}
    day2 = {item.native_id for item in world.truth(name, datetime(2026, 11, 2, 23, 59, tzinfo=STOCKHOLM))}
    assert day1 and day2 - day1
    assert world.truth(name, datetime(2026, 10, 31, 23, 0, tzinfo=STOCKHOLM)) == []
    actions = {
        (event.action, event.kind) for account in world.accounts for event in world.events(account.name, AT)
    }
    for expected in [
        ("edit", "post"),
        ("edit", "comment"),
        ("hide", "comment"),
        ("delete", "comment"),
        ("create", "message"),
    ]:
        assert expected in actions
    assert any(action == "unhide" for action, _ in actions)


def test_state_follows_each_event_in_time(world: World) -> None:
    events = [e for a in world.accounts for e in world.events(a.name, AT)]
    account_of = {e.native_id: a.name for a in world.accounts for e in world.events(a.name, AT)}

    def item(native_id: str, at: datetime) -> TruthItem | None:
        return next((i for i in world.truth(account_of[native_id], at) if i.native_id == native_id), None)

    edit = next(e for e in events if e.action == "edit")
    before, after = item(edit.native_id, edit.time - timedelta(seconds=1)), item(edit.native_id, edit.time)
    assert before is not None and after is not None and before.text != after.text
    hide = next(e for e in events if e.action == "hide")
    hidden_before, hidden_after = (
        item(hide.native_id, hide.time - timedelta(seconds=1)),
        item(hide.native_id, hide.time),
    )
    assert hidden_before is not None and hidden_after is not None
    assert not hidden_before.hidden and hidden_after.hidden
    delete = next(e for e in events if e.action == "delete")
    assert item(delete.native_id, delete.time - timedelta(seconds=1)) is not None
    assert item(delete.native_id, delete.time) is None


def test_truth_ids_and_shapes(world: World) -> None:
    account = world.accounts[0]
    items = world.truth(account.name, AT)
    by_id = {item.native_id: item for item in items}
    for item in items:
        assert item.created_time.utcoffset() == timedelta(0)
        if item.kind == "post":
            assert re.fullmatch(rf"{account.page_id}_\d+", item.native_id) and item.parent_id is None
        elif item.kind in ("comment", "reply"):
            post_n = item.thread_id.split("_")[1]
            assert re.fullmatch(rf"{post_n}_\d+", item.native_id)
            assert by_id[item.parent_id or ""].kind == ("post" if item.kind == "comment" else "comment")
        elif item.kind == "conversation":
            assert re.fullmatch(r"t_\d+", item.native_id) and item.text is None
        else:
            assert re.fullmatch(r"m_[A-Za-z0-9_-]+", item.native_id) and item.parent_id == item.thread_id
        assert item.author_id.isdigit()


def test_text_is_multilingual_with_valid_personnummer() -> None:
    world = World(WorldConfig(items_per_day=60))
    texts = [
        item.text or ""
        for account in world.accounts
        for item in world.truth(account.name, datetime(2026, 11, 10, 23, 0, tzinfo=STOCKHOLM))
    ]
    joined = "\n".join(texts)
    assert (
        re.search("[åäö]", joined)
        and ARABIC.search(joined)
        and ETHIOPIC.search(joined)
        and EMOJI.search(joined)
    )
    found = PERSONNUMMER.findall(joined)
    assert found and all(luhn_valid(number) for number in found)
    assert re.search(r"\b[A-Z]{2,3} 20\d\d/\d+", joined)
    rng = random.Random(5)
    for _ in range(2000):
        assert luhn_valid(personnummer(rng))
        coordination = personnummer(rng, coordination=True)
        assert luhn_valid(coordination) and int(coordination.replace("-", "").replace("+", "")[-6:-4]) > 60
        assert not luhn_valid(wrong_check_number(rng))


def test_accounts_file_is_valid_for_the_archiver(world: World) -> None:
    data = world.accounts_file("http://127.0.0.1:8765/v26.0")
    parsed = AccountsFile.model_validate(data)
    assert parsed.organisation == "Exempelby kommun" and str(parsed.start_date) == "2026-11-01"
    assert [a.name for a in parsed.accounts] == ["exempelby-fb", "exempelby-kultur-fb"]
    assert all(a.api_base == "http://127.0.0.1:8765/v26.0" for a in parsed.accounts)
    tokens = world.tokens()
    assert set(tokens) == {"ARCHIVER_TOKEN_EXEMPELBY_FB", "ARCHIVER_TOKEN_EXEMPELBY_KULTUR_FB"}
    assert all(token.startswith("EAAG") and len(token) >= 40 for token in tokens.values())


def test_cli_writes_accounts_file_and_env(tmp_path: Path) -> None:
    out, env = tmp_path / "accounts.yaml", tmp_path / "sandbox.env"
    result = CliRunner().invoke(
        cli_app,
        [
            "accounts-file",
            "--base-url",
            "http://127.0.0.1:9/v26.0",
            "--out",
            str(out),
            "--accounts",
            "3",
            "--env-out",
            str(env),
        ],
    )
    assert result.exit_code == 0, result.output
    accounts = load_accounts(out)
    assert len(accounts.accounts) == 3 and accounts.accounts[2].name == "exempelby-skola-fb"
    assert env.read_text().count("=EAAG") == 3


def test_cli_serve_in_a_subprocess(tmp_path: Path) -> None:
    port_file = tmp_path / "port"
    command = [
        sys.executable,
        "-m",
        "archiver.sandbox",
        "serve",
        "--port",
        "0",
        "--port-file",
        str(port_file),
        "--items-per-day",
        "5",
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    try:
        deadline = time.monotonic() + 20
        while not port_file.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        port = int(port_file.read_text())
        assert httpx.get(f"http://127.0.0.1:{port}/_sandbox/health").json() == {"ok": True}
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert f"sandbox listening on http://127.0.0.1:{port}" in output
    refused = CliRunner().invoke(cli_app, ["serve", "--host", "0.0.0.0"])
    assert refused.exit_code != 0 and "loopback" in refused.output


def test_make_server_refuses_other_hosts(world: World) -> None:
    with pytest.raises(ValueError, match="loopback"):
        make_server(world, "0.0.0.0", 0)


def test_feed_paging_returns_exactly_the_truth(sandbox: Sandbox) -> None:
    world = sandbox.world
    for index, account in enumerate(world.accounts):
        first = sandbox.ok(
            f"/{account.page_id}/feed", token=account.token, limit=2, fields="id,message,from,created_time"
        )
        posts = sandbox.collect(first)
        ids = [post["id"] for post in posts]
        truth = {item.native_id: item for item in truth_of(world, "post", index)}
        assert len(ids) == len(set(ids)) and set(ids) == set(truth)
        assert [p["created_time"] for p in posts] == sorted((p["created_time"] for p in posts), reverse=True)
        for post in posts:
            assert post.get("message") == truth[post["id"]].text
            assert post["from"]["id"] == truth[post["id"]].author_id
    own = sandbox.collect(sandbox.ok(f"/{sandbox.page()}/published_posts", limit=3))
    assert {p["id"] for p in own} == {
        i.native_id for i in truth_of(world, "post") if i.author_id == sandbox.page()
    }
    first_page = sandbox.ok(f"/{sandbox.page()}/feed", limit=2)
    second_page = sandbox.client.get(first_page["paging"]["next"]).json()
    back = sandbox.client.get(second_page["paging"]["previous"]).json()
    assert [p["id"] for p in back["data"]] == [p["id"] for p in first_page["data"]]


def test_reverse_chronological_comments(sandbox: Sandbox) -> None:
    post = max(
        truth_of(sandbox.world, "post"),
        key=lambda p: sum(c.thread_id == p.native_id for c in truth_of(sandbox.world, "comment")),
    )
    forward = sandbox.collect(sandbox.ok(f"/{post.native_id}/comments", limit=1, fields="id"))
    backward = sandbox.collect(
        sandbox.ok(f"/{post.native_id}/comments", limit=1, fields="id", order="reverse_chronological")
    )
    assert len(forward) > 1 and [c["id"] for c in backward] == [c["id"] for c in reversed(forward)]


def test_stream_comments_paging_returns_exactly_the_truth(sandbox: Sandbox) -> None:
    world = sandbox.world
    comments = [item for item in world.truth(world.accounts[0].name, AT) if item.kind in ("comment", "reply")]
    fields = "id,message,from,parent{id},is_hidden,created_time,attachment,permalink_url"
    seen: dict[str, dict[str, Any]] = {}
    for post in truth_of(world, "post"):
        first = sandbox.ok(
            f"/{post.native_id}/comments", filter="stream", limit=2, summary="true", fields=fields
        )
        got = sandbox.collect(first)
        expected = [c for c in comments if c.thread_id == post.native_id]
        assert [c["id"] for c in got] == [c.native_id for c in expected]
        assert first["summary"]["total_count"] == len(expected)
        seen.update({c["id"]: c for c in got})
    assert set(seen) == {c.native_id for c in comments}
    for item in comments:
        served = seen[item.native_id]
        assert served["message"] == item.text and served["is_hidden"] == item.hidden
        assert served.get("parent", {}).get("id") == (item.parent_id if item.kind == "reply" else None)
        assert ("attachment" in served) == (item.attachment_count > 0)
    assert any(item.hidden for item in comments)


def test_nested_comment_paging_follows_next_links(sandbox: Sandbox) -> None:
    fields = "id,comments.filter(stream).limit(1).summary(true){id,message,parent{id},is_hidden}"
    posts = sandbox.collect(sandbox.ok(f"/{sandbox.page()}/feed", fields=fields, limit=100))
    collected: list[str] = []
    for post in posts:
        if "comments" in post:
            nested = post["comments"]
            assert nested["summary"]["order"] == "chronological"
            if "next" in nested.get("paging", {}):
                query = parse_qs(urlsplit(nested["paging"]["next"]).query)
                assert (
                    query["filter"] == ["stream"]
                    and query["limit"] == ["1"]
                    and query["access_token"] == [sandbox.token()]
                )
            collected.extend(c["id"] for c in sandbox.collect(nested))
    truth = truth_of(sandbox.world, "comment") + truth_of(sandbox.world, "reply")
    assert sorted(collected) == sorted(c.native_id for c in truth)


def test_toplevel_comments_with_nested_replies(sandbox: Sandbox) -> None:
    world = sandbox.world
    replies = truth_of(world, "reply")
    post_id = next(r.thread_id for r in replies)
    data = sandbox.collect(
        sandbox.ok(f"/{post_id}/comments", fields="id,comment_count,comments{id,parent{id}}")
    )
    toplevel = [c.native_id for c in truth_of(world, "comment") if c.thread_id == post_id]
    assert [c["id"] for c in data] == toplevel
    nested = {r["id"] for c in data for r in c.get("comments", {}).get("data", [])}
    assert nested == {r.native_id for r in replies if r.thread_id == post_id}
    assert sum(c["comment_count"] for c in data) == len(nested)


def test_conversations_and_messages_paging_return_exactly_the_truth(sandbox: Sandbox) -> None:
    world = sandbox.world
    fields = (
        "id,updated_time,link,message_count,participants,"
        "messages.limit(2){id,created_time,from,to,message,attachments{id,mime_type,name,size,image_data,file_url}}"
    )
    first = sandbox.ok(f"/{sandbox.page()}/conversations", platform="messenger", fields=fields, limit=1)
    threads = sandbox.collect(first)
    truth_threads = truth_of(world, "conversation")
    assert sorted(t["id"] for t in threads) == sorted(t.native_id for t in truth_threads)
    messages = truth_of(world, "message")
    for thread in threads:
        got = sandbox.collect(thread["messages"])
        expected = [m for m in messages if m.thread_id == thread["id"]]
        assert [m["id"] for m in got] == [m.native_id for m in reversed(expected)]
        assert [m["message"] for m in got] == [m.text for m in reversed(expected)]
        assert thread["message_count"] == len(expected)
        participant = thread["participants"]["data"][0]
        assert (
            set(participant) == {"name", "email", "id"}
            and participant["email"] == f"{participant['id']}@facebook.com"
        )
        direct = sandbox.collect(sandbox.ok(f"/{thread['id']}/messages", fields="id,message", limit=1))
        assert [m["id"] for m in direct] == [m.native_id for m in reversed(expected)]


def test_limit_over_100_is_refused(sandbox: Sandbox) -> None:
    cases: list[dict[str, Any]] = [{"limit": 101}, {"fields": "comments.limit(500){id}"}]
    for params in cases:
        response = sandbox.get(f"/{sandbox.page()}/feed", **params)
        assert response.status_code == 400 and response.json()["error"]["code"] == 100
    assert sandbox.get(f"/{sandbox.page()}/feed", limit=100).status_code == 200


def test_field_selection(sandbox: Sandbox) -> None:
    post = truth_of(sandbox.world, "post")[0]
    assert list(sandbox.ok(f"/{post.native_id}", fields="id,message")) == ["id", "message"]
    assert list(sandbox.ok(f"/{post.native_id}", fields="from{name}")) == ["from", "id"]
    assert set(sandbox.ok(f"/{post.native_id}")) == {"created_time", "message", "id"}
    comment = truth_of(sandbox.world, "comment")[0]
    assert set(sandbox.ok(f"/{comment.native_id}")) == {"created_time", "from", "message", "id"}
    unknown = sandbox.get(f"/{post.native_id}", fields="id,bogus").json()["error"]
    assert unknown["code"] == 100 and "bogus" in unknown["message"]
    assert sandbox.get(f"/{post.native_id}", fields="type").json()["error"]["code"] == 12
    assert sandbox.get(f"/{post.native_id}", fields="id,comments{id").json()["error"]["code"] == 2500
    page = sandbox.ok(f"/{sandbox.page()}", fields="id,name")
    assert page == {"id": sandbox.page(), "name": "Exempelby kommun"}
    assert sandbox.ok("/me", fields="id")["id"] == sandbox.page()


def test_since_and_until_filter_on_created_time(sandbox: Sandbox) -> None:
    since = datetime(2026, 11, 2, 0, 0, tzinfo=STOCKHOLM)
    until = datetime(2026, 11, 3, 0, 0, tzinfo=STOCKHOLM)
    expected = {p.native_id for p in truth_of(sandbox.world, "post") if since <= p.created_time <= until}
    assert expected
    by_unix = sandbox.collect(
        sandbox.ok(
            f"/{sandbox.page()}/feed", since=int(since.timestamp()), until=int(until.timestamp()), limit=1
        )
    )
    by_iso = sandbox.collect(
        sandbox.ok(f"/{sandbox.page()}/feed", since=since.isoformat(), until=until.isoformat())
    )
    assert {p["id"] for p in by_unix} == {p["id"] for p in by_iso} == expected


def test_token_errors(sandbox: Sandbox) -> None:
    unknown = sandbox.get(f"/{sandbox.page()}", token="EAAGnotatoken")
    assert unknown.status_code == 400
    assert unknown.json()["error"] | {"fbtrace_id": ""} == {
        "message": "Invalid OAuth access token.",
        "type": "OAuthException",
        "code": 190,
        "error_subcode": 467,
        "fbtrace_id": "",
    }
    bearer = sandbox.client.get(
        f"/v26.0/{sandbox.page()}", headers={"Authorization": f"Bearer {sandbox.token()}"}
    )
    assert bearer.status_code == 200
    assert sandbox.client.get(f"/v26.0/{sandbox.page()}").json()["error"]["code"] == 104
    sandbox.admin("faults", {"expired_tokens": [sandbox.token()]})
    expired = sandbox.get(f"/{sandbox.page()}").json()["error"]
    assert (expired["code"], expired["error_subcode"], expired["type"]) == (190, 463, "OAuthException")
    assert expired["message"].startswith("Error validating access token: Session has expired on")
    assert sandbox.get(f"/{sandbox.page(1)}", token=sandbox.token(1)).status_code == 200
    other_page = sandbox.get(f"/{sandbox.page(1)}/feed", token=sandbox.token(1), limit=1)
    assert other_page.status_code == 200


def test_deleted_and_unknown_objects_answer_100_33(sandbox: Sandbox) -> None:
    name = sandbox.world.accounts[0].name
    deleted = next(e for e in sandbox.world.events(name, AT) if e.action == "delete")
    for object_id in (deleted.native_id, "1000000000000001_999", sandbox.page(1)):
        response = sandbox.get(f"/{object_id}")
        error = response.json()["error"]
        assert response.status_code == 400 and (error["code"], error["error_subcode"]) == (100, 33)
        assert error["type"] == "GraphMethodException" and error["message"].startswith(
            "(#100) Object does not exist"
        )
    sandbox.admin("clock", {"now": (deleted.time - timedelta(seconds=1)).isoformat()})
    assert sandbox.get(f"/{deleted.native_id}").status_code == 200


def test_faults_happen_at_the_configured_counts(sandbox: Sandbox) -> None:
    sandbox.admin("faults", {"throttle_every": 3, "server_error_every": 5})
    answers = [sandbox.get(f"/{sandbox.page()}") for _ in range(16)]
    statuses = [a.status_code for a in answers]
    assert statuses == [200, 200, 400, 200, 500, 400, 200, 200, 400, 502, 200, 400, 200, 200, 403, 200]
    codes = {n + 1: answers[n].json()["error"]["code"] for n in (2, 5, 8, 11, 14)}
    assert codes == {3: 4, 6: 17, 9: 32, 12: 613, 15: 4}
    assert json.loads(answers[2].headers["X-App-Usage"])["call_count"] == 100
    buc = json.loads(answers[2].headers["X-Business-Use-Case-Usage"])[sandbox.page()][0]
    assert buc["call_count"] == 100 and buc["estimated_time_to_regain_access"] == 0
    transient = answers[4].json()["error"]
    assert (transient["code"], transient["is_transient"], transient["message"]) == (
        1,
        True,
        "An unknown error has occurred.",
    )
    assert "text/html" in answers[9].headers["Content-Type"]
    assert sandbox.admin("faults").json()["graph_requests"] == 16


def test_usage_headers_rise_with_the_request_rate(sandbox: Sandbox) -> None:
    sandbox.admin("faults", {"usage_capacity": 10, "usage_window_seconds": 30})
    answers = [sandbox.get(f"/{sandbox.page()}") for _ in range(6)]
    usage = [json.loads(a.headers["X-App-Usage"])["call_count"] for a in answers]
    assert usage == sorted(usage) and usage[-1] >= 60
    buc = json.loads(answers[-1].headers["X-Business-Use-Case-Usage"])
    assert set(buc) == {sandbox.page()} and buc[sandbox.page()][0]["type"] == "pages"
    assert answers[-1].headers["Content-Type"] == "application/json; charset=UTF-8"


def test_media_urls_work_until_the_clock_passes_their_expiry(sandbox: Sandbox) -> None:
    post = next(p for p in truth_of(sandbox.world, "post") if p.attachment_count)
    body = sandbox.ok(f"/{post.native_id}", fields="full_picture,attachments{media,subattachments}")
    url = body["full_picture"]
    assert url.startswith(sandbox.base + "/_media/") and "oe=" in url and "oh=" in url
    first, second = httpx.get(url), httpx.get(url)
    assert first.status_code == 200 and first.headers["Content-Type"] == "image/jpeg"
    assert (
        first.content[:3] == b"\xff\xd8\xff"
        and first.content == second.content
        and 1000 < len(first.content) < 40000
    )
    assert httpx.get(url.replace("oh=00_", "oh=00_x")).status_code == 403
    sandbox.admin("clock", {"now": (AT + timedelta(minutes=59)).isoformat()})
    assert httpx.get(url).status_code == 200
    sandbox.admin("clock", {"now": (AT + timedelta(hours=2)).isoformat()})
    expired = httpx.get(url)
    assert expired.status_code == 403 and expired.text == "URL signature expiration"
    sandbox.admin("clock", {"now": AT.isoformat()})
    sandbox.admin("faults", {"media_expired": True})
    assert httpx.get(url).status_code == 403


def test_message_attachments_have_size_and_signed_urls(sandbox: Sandbox) -> None:
    account = next(
        (i, m)
        for i, _ in enumerate(sandbox.world.accounts)
        for m in truth_of(sandbox.world, "message", i)
        if m.attachment_count
    )
    index, message = account
    body = sandbox.ok(f"/{message.native_id}", token=sandbox.token(index), fields="id,message,attachments")
    attachment = body["attachments"]["data"][0]
    url = attachment.get("image_data", {}).get("url") or attachment["file_url"]
    media = httpx.get(url)
    assert media.status_code == 200 and media.headers["Content-Type"] == attachment["mime_type"]
    assert len(media.content) == attachment["size"]


def test_next_urls_carry_the_access_token_even_with_bearer_auth(sandbox: Sandbox) -> None:
    response = sandbox.client.get(
        f"/v26.0/{sandbox.page()}/feed",
        params={"limit": 1},
        headers={"Authorization": f"Bearer {sandbox.token()}"},
    )
    next_url = response.json()["paging"]["next"]
    assert parse_qs(urlsplit(next_url).query)["access_token"] == [sandbox.token()]
    assert next_url.startswith(sandbox.base + "/v26.0/")


def test_graph_bodies_escape_like_graph_facebook_com(sandbox: Sandbox) -> None:
    raw = sandbox.get(f"/{sandbox.page()}/feed", fields="message,permalink_url", limit=5).content
    assert raw.isascii() and b"\\u00" in raw and b"https:\\/\\/www.facebook.com" in raw
    assert (
        sandbox.client.get(f"/v25.0/{sandbox.page()}", params={"access_token": sandbox.token()}).status_code
        == 200
    )
    assert (
        sandbox.client.get(f"/{sandbox.page()}", params={"access_token": sandbox.token()}).status_code == 200
    )


def test_admin_endpoints(sandbox: Sandbox) -> None:
    assert sandbox.admin("health").json() == {"ok": True}
    assert sandbox.admin("clock").json() == {"now": AT.astimezone(UTC).isoformat(), "frozen": True}
    assert sandbox.admin("clock", {"now": "2026-11-02T10:00:00"}).status_code == 400
    assert sandbox.admin("faults", {"throttle_evry": 3}).status_code == 400
    accounts = sandbox.admin("accounts").json()["accounts"]
    assert [a["token"] for a in accounts] == [a.token for a in sandbox.world.accounts]
    before = sandbox.admin("stats").json()
    sandbox.get(f"/{sandbox.page()}/feed", limit=1)
    after = sandbox.admin("stats").json()
    assert after["by_kind"]["feed"] == before["by_kind"].get("feed", 0) + 1
    assert after["by_status"]["200"] > before["by_status"]["200"]
