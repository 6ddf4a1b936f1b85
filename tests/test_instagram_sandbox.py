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
    status, body = get(app, f"/{account.page_id}/conversations", platform="instagram",
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
    status, body = get(app, f"/{account.page_id}/conversations")
    assert status == 400 and "platform" in body["error"]["message"]
