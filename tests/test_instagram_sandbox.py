"""The sandbox's Instagram wire format, in process: ids, the 20-message limit, errors."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest

from archiver.sandbox.application import SandboxApp
from archiver.sandbox.instagram import ids
from archiver.sandbox.world import World, WorldConfig

NOW = datetime(2026, 11, 6, 2, 0, tzinfo=ZoneInfo("Europe/Stockholm"))


@pytest.fixture(scope="module")
def app() -> SandboxApp:
    world = World(WorldConfig(seed=4, accounts=1, items_per_day=40, other_platforms=("instagram",)))
    return SandboxApp(world, faults={"instagram_readable_messages": 2}, now=NOW)


def get(app: SandboxApp, path: str, **params: str) -> tuple[int, Any]:
    params["access_token"] = app.world.account("exempelby-ig").token
    response = app.handle("GET", f"/v26.0{path}?{urlencode(params)}", {}, b"", "127.0.0.1:1")
    return response.status, json.loads(response.body)


def test_instagram_ids_are_invertible_and_shaped_like_instagrams(app: SandboxApp) -> None:
    account = app.world.account("exempelby-ig")
    state = app.world.account_state(account.name, int(NOW.timestamp()))
    for item in state.items():
        native = ids.ig_id(item)
        assert ids.world_id(native, account.page_id, state) == item.native_id
        shape = {"post": (18, "1"), "comment": (17, "17")}.get(item.kind)
        if shape:
            assert native.isdigit() and len(native) == shape[0] and native.startswith(shape[1])
        else:
            assert native.startswith("aWdfZAG" if item.kind == "message" else "aWdf")
    assert ids.fold_name("Göran Ängström-Åberg") == "goran.angstrom.aberg"


def test_messages_beyond_the_newest_are_listed_by_id_and_answer_deleted(app: SandboxApp) -> None:
    account = app.world.account("exempelby-ig")
    status, body = get(app, f"/{ids.linked_page_id(account)}/conversations", platform="instagram",
                       fields="id,messages.limit(100){id,from,message}")  # fmt: skip
    assert status == 200
    long = next(c for c in body["data"] if len(c["messages"]["data"]) > 2)
    listed = long["messages"]["data"]
    assert all("message" in m for m in listed[:2]) and all(set(m) == {"id"} for m in listed[2:])
    assert get(app, f"/{listed[0]['id']}", fields="id,message")[0] == 200
    status, error = get(app, f"/{listed[2]['id']}", fields="id,message")
    assert (status, error["error"]["code"], error["error"]["message"]) == (
        400,
        100,
        "(#100) This message has been deleted",
    )


def test_unknown_media_answers_100_33_and_bad_fields_are_refused(app: SandboxApp) -> None:
    status, body = get(app, "/178000000000000001", fields="id,caption")
    assert (status, body["error"]["code"], body["error"]["error_subcode"]) == (400, 100, 33)
    account = app.world.account("exempelby-ig")
    status, body = get(app, f"/{account.page_id}/media", fields="id,message")
    assert status == 400 and "nonexisting field (message)" in body["error"]["message"]
    status, body = get(app, f"/{ids.linked_page_id(account)}/conversations")
    assert status == 400 and "platform" in body["error"]["message"]


def test_conversations_are_on_the_linked_page_or_me_never_on_the_ig_user(app: SandboxApp) -> None:
    """Facebook Login reads Instagram DMs on the Page (``platform=instagram``), Instagram Login
    on ``me``; the IG user node has no conversations edge (error 100), as on Graph."""
    account = app.world.account("exempelby-ig")
    page = ids.linked_page_id(account)
    status, body = get(app, f"/{account.page_id}/conversations", platform="instagram", fields="id")
    assert (status, body["error"]["code"]) == (400, 100)
    assert "nonexisting field (conversations) on node type (IGUser)" in body["error"]["message"]
    on_page = get(app, f"/{page}/conversations", platform="instagram", fields="id", limit="2")[1]
    on_me = get(app, "/me/conversations", platform="instagram", fields="id", limit="2")[1]
    assert on_page["data"] and on_page["data"] == on_me["data"]
    assert f"/{page}/conversations?" in on_page["paging"]["next"]
    assert "/me/conversations?" in on_me["paging"]["next"]
    assert get(app, f"/{page}/conversations", platform="messenger", fields="id")[1]["data"] == []
    assert get(app, f"/{page}", fields="id,instagram_business_account")[1] == {
        "id": page,
        "instagram_business_account": {"id": account.page_id},
    }
    status, body = get(app, f"/{page}/feed")
    assert (status, body["error"]["code"]) == (400, 100)
    entry = next(a for a in app.world.accounts_file("http://127.0.0.1:1")["accounts"] if a["name"] == account.name)
    assert entry["page_id"] == page
