"""The Facebook Graph API parser and ``archiver normalise``, on real recorded payloads.

The peer samples under ``tests/fixtures/peer/meta`` were recorded from the real platforms by
other projects (see ``tests/fixtures/peer/NOTICE``); the few synthetic bodies below cover shapes
the samples lack (Graph v2 posts with ``story``/``type``/``link``, capture-shaped pages with
``filter(stream)`` comments and conversations with nested messages).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_type_hints

import pyarrow as pa
import pytest
import typer
from typer.testing import CliRunner

from archiver.connectors.base import Observation
from archiver.connectors.facebook import parse
from archiver.errors import ArchiverError, ParseError
from archiver.items import ITEM_SCHEMA, KINDS, STATES, VISIBILITIES, record_class
from archiver.normalise_files import normalise_command, normalise_files, observation_to_json

PEER = Path(__file__).parent / "fixtures" / "peer" / "meta"
SDK = PEER / "sns-sdks__python-facebook"
WEBHOOKS = PEER / "restfb__restfb" / "webhooks"
ALL_SAMPLES = sorted(PEER.rglob("*.json"))
INSTAGRAM_SAMPLES = [path for path in ALL_SAMPLES if "instagram" in str(path.relative_to(PEER))]
"""Instagram payloads: parsed by the instagram connector (tests/test_instagram_parse.py)."""
SAMPLES = [path for path in ALL_SAMPLES if path not in INSTAGRAM_SAMPLES]
ERROR_SAMPLES = {"error_data.json"}
GRAPH = "https://graph.facebook.com/v26.0"

OBSERVATION_FIELDS = list(get_type_hints(Observation))
OBSERVATION_SCHEMA = pa.schema([ITEM_SCHEMA.field(name) for name in OBSERVATION_FIELDS])


def load(path: Path) -> Any:
    """Return the decoded JSON of a fixture file."""
    return json.loads(path.read_text(encoding="utf-8"))


def observations(path: Path, url: str | None = None, account_id: str | None = None) -> list[Observation]:
    """Return every observation of one fixture file."""
    return list(parse(url, load(path), account_id))


def by_id(found: list[Observation]) -> dict[str, Observation]:
    """Return observations keyed by native id."""
    return {obs["native_id"]: obs for obs in found}


def at(text: str) -> datetime:
    """Return an aware UTC datetime from ``YYYY-MM-DD HH:MM:SS``."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def check_observation(obs: Observation) -> None:
    """Assert the invariants every observation keeps, whatever body it came from."""
    assert list(obs) == OBSERVATION_FIELDS
    assert obs["platform"] == "facebook"
    assert obs["item_key"] == f"{obs['platform']}:{obs['account_id']}:{obs['native_id']}"
    assert obs["kind"] in KINDS
    assert obs["visibility"] in VISIBILITIES
    assert obs["state"] in STATES
    assert obs["thread_key"].startswith(f"{obs['platform']}:{obs['account_id']}:")
    assert obs["from_account"] == (obs["author_id"] is not None and obs["author_id"] == obs["account_id"])
    assert obs["record_class"] == record_class(obs["from_account"])
    for moment in (obs["created_at"], obs["edited_at"]):
        assert moment is None or (moment.utcoffset() is not None and not moment.utcoffset())
    source = json.loads(obs["source_json"])
    assert obs["source_json"] == json.dumps(source, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert "access_token" not in obs["source_json"] or "REDACTED" in obs["source_json"]
    if obs["state"] == "deleted_at_source":
        assert obs["text"] is None and obs["attachments"] == []
    if obs["kind"] in ("conversation", "message"):
        assert obs["visibility"] == "private"


@pytest.mark.parametrize("path", SAMPLES, ids=[str(path.relative_to(PEER)) for path in SAMPLES])
def test_every_peer_sample_is_accepted(path: Path) -> None:
    body = load(path)
    if path.name in ERROR_SAMPLES:
        with pytest.raises(ParseError) as raised:
            list(parse(None, body, None))
        assert raised.value.context["code"] == body["error"]["code"]
        return
    found = list(parse(None, body, None))
    for obs in found:
        check_observation(obs)
    assert len({obs["item_key"] for obs in found}) == len(found)
    pa.Table.from_pylist(list(found), schema=OBSERVATION_SCHEMA)


def test_the_peer_samples_are_all_copied() -> None:
    assert (len(ALL_SAMPLES), len(INSTAGRAM_SAMPLES)) == (131, 47)
    assert {path.name for path in (PEER.parent / "LICENSES").iterdir()} >= {
        "restfb__restfb.txt",
        "sns-sdks__python-facebook.txt",
    }


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("testdata/facebook/apidata/posts/multi_posts_data.json", {("facebook", "post"): 2, ("facebook", "comment"): 16}),
        ("testdata/facebook/apidata/comments/comments_p1.json", {("facebook", "comment"): 6, ("facebook", "reply"): 4}),
        ("testdata/facebook/apidata/conversations/cvses_info.json", {("facebook", "conversation"): 2}),
        ("testdata/facebook/apidata/videos/videos_p1.json", {("facebook", "post"): 3}),
        ("testdata/facebook/models/page.json", {}),
        ("testdata/instagram/apidata/medias/insights.json", {}),
        ("testdata/instagram/apidata/medias/product_tags.json", {}),
        ("testdata/instagram_basic/models/user_info.json", {}),
        ("testdata/instagram/apidata/discovery/medias_p1.json", {}),
    ],
)  # fmt: skip
def test_sample_item_counts(relative: str, expected: dict[tuple[str, str], int]) -> None:
    counts: dict[tuple[str, str], int] = {}
    for obs in observations(SDK / relative):
        counts[obs["platform"], obs["kind"]] = counts.get((obs["platform"], obs["kind"]), 0) + 1
    assert counts == expected


def test_ids_map_of_posts_with_nested_comments() -> None:
    found = by_id(observations(SDK / "testdata/facebook/apidata/posts/multi_posts_data.json"))
    post = found["19292868552_10158347294088553"]
    assert post["item_key"] == "facebook:19292868552:19292868552_10158347294088553"
    assert post["kind"] == "post" and post["thread_key"] == post["item_key"] and post["parent_key"] is None
    assert post["created_at"] == at("2021-07-08 15:30:19")
    assert post["edited_at"] == at("2021-07-09 09:29:06")
    assert str(post["text"]).startswith("Despite reliable peering")
    assert post["permalink"] == "https://www.facebook.com/19292868552/posts/10158347294088553/"
    assert [(a["type"], a["title"]) for a in post["attachments"]] == [
        ("link", "Peering automation at Facebook - Facebook Engineering")
    ]
    assert str(post["attachments"][0]["source_url"]).startswith("https://engineering.fb.com/2021/05/20/")
    source = json.loads(post["source_json"])
    assert source["comments"] == {"count": 12}
    assert source["reactions"] == {"data": [], "summary": {"total_count": 82, "viewer_reaction": "NONE"}}
    comment = found["19292868552_10158347294088553_10158347433613553"]
    assert comment["kind"] == "comment"
    assert comment["parent_key"] == comment["thread_key"] == post["item_key"]
    assert (comment["author_id"], comment["author_name"]) == ("100018676760657", "Misheck Simfukwe")
    assert comment["text"] == "Help me 😢"
    assert comment["created_at"] == at("2021-07-08 17:05:53")
    assert not comment["from_account"] and comment["record_class"] == "inkommen"


def test_stream_comments_without_ids_take_them_from_the_permalink() -> None:
    url = f"{GRAPH}/19292868552_10158407654328553/comments?filter=stream&summary=1"
    found = by_id(observations(SDK / "testdata/facebook/apidata/comments/comments_p1.json", url))
    post_key = "facebook:19292868552:19292868552_10158407654328553"
    first = found["10158407654328553_10158407903973553"]
    assert (first["kind"], first["parent_key"], first["thread_key"]) == ("comment", post_key, post_key)
    reply = found["10158407654328553_10158409983033553"]
    assert reply["kind"] == "reply"
    assert reply["parent_key"] == "facebook:19292868552:10158407654328553_10158407903973553"
    assert reply["thread_key"] == post_key
    assert reply["created_at"] == at("2021-08-11 23:22:14")


def test_old_toplevel_comments_with_attachment() -> None:
    path = SDK / "_old_82ba0424_parent/testdata/facebook/apidata/comments/comment_by_parent_p1.json"
    found = by_id(observations(path))
    comment = found["2498598377021978_2498617433686739"]
    assert comment["account_id"] == "2121008874780932"
    assert comment["thread_key"] == "facebook:2121008874780932:2121008874780932_2498598377021978"
    assert (comment["author_name"], comment["text"]) == ("Kun Liu", "Good job!😏")
    [photo] = comment["attachments"]
    assert photo["type"] == "photo"
    assert str(photo["source_url"]).startswith("https://scontent.xx.fbcdn.net/v/t1.0-9/80295560_")
    assert photo["media_sha256"] is None and photo["mime"] is None
    assert str(comment["permalink"]).endswith("?comment_id=2498617433686739")


def test_comments_of_a_comment_from_the_url_are_replies() -> None:
    body = {"data": [{"id": "1_30", "message": "svar", "created_time": "2024-03-28T11:00:00+0000"}]}
    [reply] = parse(f"{GRAPH}/1_10/comments", body, "111")
    assert reply["kind"] == "reply"
    assert reply["parent_key"] == "facebook:111:1_10"
    assert reply["thread_key"] == "facebook:111:111_1"


def capture_page() -> dict[str, Any]:
    """Return a ``published_posts`` page shaped as the capture requests it."""
    comments = [
        {"id": "1_10", "created_time": "2024-03-27T11:00:00+0000", "message": "Fråga",
         "from": {"id": "5", "name": "Anna"}, "is_hidden": True},
        {"id": "1_11", "created_time": "2024-03-27T11:05:00+0000", "message": "Svar",
         "from": {"id": "111", "name": "Kommunen"}, "parent": {"id": "1_10"}},
        {"id": "1_12", "created_time": "2024-03-27T11:06:00+0000", "message": "",
         "from": {"id": "6", "name": "Bo"},
         "attachment": {"type": "sticker", "media": {"image": {"src": "https://s/st.png"}}, "url": "https://s"}},
    ]  # fmt: skip
    post = {
        "id": "111_1", "created_time": "2024-03-27T10:15:00+0000", "updated_time": "2024-03-27T10:15:00+0000",
        "message": "Hej", "from": {"id": "111", "name": "Kommunen"}, "is_hidden": False,
        "permalink_url": "https://www.facebook.com/111/posts/1",
        "attachments": {"data": [{"media_type": "album", "type": "album", "url": "https://www.facebook.com/a",
                                  "subattachments": {"data": [
                                      {"media": {"image": {"src": "https://scontent/x.jpg?oe=1"}}, "type": "photo"},
                                      {"media": {"image": {"src": "https://scontent/v.jpg"}, "source": "https://video/v.mp4"},
                                       "type": "video_autoplay"}]}}]},
        "comments": {"data": comments, "summary": {"total_count": 40},
                     "paging": {"next": f"{GRAPH}/111_1/comments?access_token=SECRET&after=x"}},
    }  # fmt: skip
    return {"data": [post], "paging": {"next": f"{GRAPH}/111/published_posts?access_token=SECRET"}}


def test_capture_shaped_posts_with_stream_comments() -> None:
    found = by_id(list(parse(f"{GRAPH}/111/published_posts?limit=100", capture_page(), None)))
    post, question, answer, sticker = found["111_1"], found["1_10"], found["1_11"], found["1_12"]
    assert post["account_id"] == "111" and post["from_account"] and post["record_class"] == "upprättad"
    assert post["edited_at"] is None
    assert [(a["type"], a["source_url"]) for a in post["attachments"]] == [
        ("photo", "https://scontent/x.jpg?oe=1"),
        ("video", "https://video/v.mp4"),
    ]
    source = json.loads(post["source_json"])
    assert source["comments"] == {"summary": {"total_count": 40}}
    assert "SECRET" not in post["source_json"]
    assert (question["visibility"], question["state"], question["kind"]) == ("hidden", "hidden", "comment")
    assert (answer["kind"], answer["parent_key"], answer["thread_key"]) == (
        "reply",
        question["item_key"],
        post["item_key"],
    )
    assert answer["from_account"]
    assert [(a["type"], a["source_url"]) for a in sticker["attachments"]] == [("sticker", "https://s/st.png")]


def test_conversations_with_nested_messages() -> None:
    message_one = {
        "id": "m_1", "created_time": "2024-03-28T10:00:00+0000", "from": {"id": "77", "name": "Eva"},
        "to": {"data": [{"id": "111"}]}, "message": "Hej",
        "attachments": {"data": [
            {"id": "a", "mime_type": "application/pdf", "name": "x.pdf", "file_url": "https://cdn/x.pdf"},
            {"id": "b", "image_data": {"url": "https://cdn/i.jpg"}, "name": "i.jpg"},
            {"id": "c", "video_data": {"url": "https://cdn/v.mp4"}, "name": "v.mp4"}],
            "paging": {"next": f"{GRAPH}/m_1/attachments?access_token=SECRET"}},
        "sticker": "https://st/1.png", "shares": {"data": [{"link": "https://example.org", "name": "Ex"}]},
    }  # fmt: skip
    message_two = {
        "id": "m_2",
        "created_time": "2024-03-28T10:05:00+0000",
        "from": {"id": "111"},
        "message": "Svar",
    }
    body = {"data": [{
        "id": "t_9", "updated_time": "2024-03-28T11:00:00+0000", "link": "/111/inbox/9/", "message_count": 2,
        "participants": {"data": [{"id": "111", "name": "Kommunen"}, {"id": "77", "name": "Eva"}]},
        "messages": {"data": [message_one, message_two], "paging": {"next": f"{GRAPH}/t_9/messages?access_token=S"}},
    }]}  # fmt: skip
    found = by_id(list(parse(f"{GRAPH}/111/conversations?platform=messenger", body, None)))
    thread = found["t_9"]
    assert (thread["kind"], thread["text"], thread["author_id"], thread["author_name"]) == (
        "conversation",
        None,
        "77",
        "Eva",
    )
    assert thread["permalink"] == "https://www.facebook.com/111/inbox/9/"
    assert json.loads(thread["source_json"])["messages"] == {}
    first, second = found["m_1"], found["m_2"]
    assert first["parent_key"] == first["thread_key"] == thread["item_key"]
    assert [(a["type"], a["source_url"], a["title"]) for a in first["attachments"]] == [
        ("file", "https://cdn/x.pdf", "x.pdf"),
        ("photo", "https://cdn/i.jpg", "i.jpg"),
        ("video", "https://cdn/v.mp4", "v.mp4"),
        ("sticker", "https://st/1.png", None),
        ("share", "https://example.org", "Ex"),
    ]
    assert "SECRET" not in first["source_json"]
    assert not first["from_account"] and second["from_account"]


def test_messages_page_from_the_url_hangs_on_its_conversation() -> None:
    body = {"data": [{"id": "m_3", "created_time": "2024-03-28T10:00:00+0000", "message": "x"}]}
    [message] = parse(f"{GRAPH}/t_9/messages?after=z", body, "111")
    assert message["parent_key"] == message["thread_key"] == "facebook:111:t_9"


def test_sample_conversation_and_message() -> None:
    [thread] = observations(SDK / "testdata/facebook/models/conversation.json")
    assert thread["item_key"] == "facebook:2121008874780932:t_587956915396498"
    assert (thread["author_id"], thread["author_name"]) == ("2711636948859886", "Kun Liu")
    assert (thread["visibility"], thread["state"], thread["record_class"]) == (
        "private",
        "present",
        "inkommen",
    )
    [message] = observations(SDK / "testdata/facebook/models/message.json", None, "2121008874780932")
    assert message["text"] == "Love is peace!😏"
    assert message["created_at"] == at("2021-07-23 09:50:48")
    assert [a["type"] for a in message["attachments"]] == ["photo"]
    assert message["thread_key"] == "facebook:2121008874780932:dm_2711636948859886"
    assert "paging" not in json.loads(message["source_json"])["attachments"]


def test_ids_map_of_comments_and_conversations() -> None:
    comments = observations(SDK / "testdata/facebook/apidata/comments/comments_info.json")
    assert [obs["native_id"] for obs in comments] == [
        "10158371815748553_10158371930463553",
        "10158371815748553_10158372268858553",
    ]
    assert {obs["thread_key"] for obs in comments} == {"facebook:19292868552:19292868552_10158371815748553"}
    conversations = observations(SDK / "testdata/facebook/apidata/conversations/cvses_info.json")
    assert [obs["native_id"] for obs in conversations] == ["t_587956915396498", "t_233782918546745"]


def test_old_graph_versions() -> None:
    groups = observations(SDK / "_old_82ba0424_parent/testdata/facebook/apidata/groups/feed_p1.json")
    no_message = by_id(groups)["2260975870792283_3038566336366562"]
    assert no_message["text"] is None and no_message["attachments"] == []
    assert no_message["created_at"] == at("2021-07-01 23:58:09")
    v10 = observations(SDK / "testdata/facebook/apidata/posts/feed_fields_p1.json")
    assert v10[0]["item_key"] == "facebook:4:4_10113477241177441"
    assert v10[0]["text"] == "Happy July 4th! 🇺🇸"
    body = {"data": [  # Graph v2.x post fields, removed in v3.3: story, type, link, name, source
        {"id": "111_1", "from": {"id": "111", "name": "Kommunen"}, "story": "Kommunen updated their cover photo.",
         "type": "photo", "link": "https://www.facebook.com/photo.php?fbid=1", "picture": "https://scontent/p.jpg",
         "created_time": "2015-03-01T08:00:00+0000", "updated_time": "2015-03-01T09:30:00+0000",
         "comments": {"data": [{"id": "111_1_5", "from": {"id": "9", "name": "X"}, "message": "Fin!",
                                "created_time": "2015-03-01T09:00:00+0000"}]}},
        {"id": "111_2", "message": "Läs mer", "type": "link", "link": "https://example.org/a", "name": "Artikel",
         "caption": "example.org", "created_time": "2015-03-02T08:00:00+0000"},
        {"id": "111_3", "message": "Film", "type": "video", "source": "https://video/x.mp4", "name": "Film",
         "created_time": "2015-03-03T08:00:00+0000"},
    ]}  # fmt: skip
    found = by_id(list(parse(f"{GRAPH.replace('v26.0', 'v2.3')}/111/feed", body, None)))
    story = found["111_1"]
    assert story["text"] == "Kommunen updated their cover photo."
    assert story["edited_at"] == at("2015-03-01 09:30:00")
    assert [(a["type"], a["source_url"]) for a in story["attachments"]] == [
        ("photo", "https://scontent/p.jpg")
    ]
    assert found["111_1_5"]["parent_key"] == story["item_key"]
    link = found["111_2"]["attachments"]
    assert [(a["type"], a["source_url"], a["title"]) for a in link] == [
        ("link", "https://example.org/a", "Artikel")
    ]
    assert found["111_2"]["permalink"] is None
    assert [a["source_url"] for a in found["111_3"]["attachments"]] == ["https://video/x.mp4"]


def test_videos_are_posts_with_their_description() -> None:
    [video] = observations(SDK / "testdata/facebook/apidata/videos/video_info_default.json")
    assert (video["kind"], video["native_id"]) == ("post", "1192957457884299")
    assert str(video["text"]).startswith("After giving users the ability")
    assert video["permalink"] == "https://www.facebook.com/FacebookforDevelopers/videos/1192957457884299/"
    assert [(a["type"], a["title"]) for a in video["attachments"]] == [("video", "iCook Success Story")]


@pytest.mark.parametrize(
    "path", [*INSTAGRAM_SAMPLES[:3], PEER / "restfb__restfb/instagram/wh-comments.json"], ids=lambda p: p.name
)
def test_instagram_bodies_are_left_to_the_instagram_connector(path: Path) -> None:
    body = load(path)
    with pytest.raises(ParseError, match="--platform instagram"):
        list(parse(None, body, None))


def test_an_instagram_request_url_is_refused() -> None:
    body = {"data": [{"id": "t_1", "updated_time": "2024-01-01T00:00:00+0000"}]}
    with pytest.raises(ParseError, match="instagram connector"):
        list(parse(f"{GRAPH}/111/conversations?platform=instagram", body, "111"))


def test_photos_edge_objects_are_posts() -> None:
    photo = {
        "id": "555",
        "created_time": "2024-01-01T10:00:00+0000",
        "name": "Invigningen",
        "link": "https://www.facebook.com/photo.php?fbid=555",
        "from": {"id": "111", "name": "K"},
        "images": [
            {"source": "https://scontent/big.jpg", "height": 2048},
            {"source": "https://scontent/s.jpg"},
        ],
    }
    [post] = parse(f"{GRAPH}/111/photos?type=uploaded", {"data": [photo]}, None)
    assert (post["kind"], post["text"], post["permalink"]) == (
        "post",
        "Invigningen",
        "https://www.facebook.com/photo.php?fbid=555",
    )
    assert [(a["type"], a["source_url"]) for a in post["attachments"]] == [
        ("photo", "https://scontent/big.jpg")
    ]


def test_error_envelope_raises_with_graph_code() -> None:
    with pytest.raises(ParseError) as raised:
        list(parse(None, load(SDK / "testdata/base/error_data.json"), None))
    assert raised.value.context["code"] == 100
    assert "code 100" in str(raised.value)
    body = {"error": {"message": "Error validating access token", "type": "OAuthException", "code": 190,
                      "error_subcode": 460, "fbtrace_id": "Ab1"}}  # fmt: skip
    with pytest.raises(ParseError) as raised:
        list(parse(f"{GRAPH}/111/feed", body, "111"))
    assert (raised.value.context["code"], raised.value.context["subcode"]) == (190, 460)
    assert "token must be renewed" in str(raised.value)


@pytest.mark.parametrize(
    "body",
    [{"id": "111_2"}, {"success": True}, {"data": []}, {"data": {"url": "x"}},
     {"id": "111", "name": "Kommunen", "link": "https://www.facebook.com/kommunen"}],
)  # fmt: skip
def test_bodies_that_are_not_items_yield_nothing(body: dict[str, Any]) -> None:
    assert list(parse(None, body, None)) == []


def test_edges_that_list_no_items_yield_nothing() -> None:
    children = load(SDK / "testdata/instagram/apidata/medias/children.json")
    assert list(parse(f"{GRAPH}/17896129349106152/children", children, "1")) == []
    insights = load(SDK / "testdata/instagram/apidata/medias/insights.json")
    assert list(parse(f"{GRAPH}/17846368219941692/insights", insights, "1")) == []


@pytest.mark.parametrize("body", ["text", 3, [1, 2], {"data": [1]}])
def test_bodies_that_cannot_be_understood_raise(body: Any) -> None:
    with pytest.raises(ParseError):
        list(parse(None, body, None))


def test_bad_time_raises_with_field_name() -> None:
    with pytest.raises(ParseError, match="created_time"):
        list(parse(None, {"id": "1_2", "message": "x", "created_time": "yesterday"}, "1"))


def test_each_item_once_per_body() -> None:
    post = {"id": "111_1", "message": "a", "created_time": "2024-01-01T00:00:00+0000"}
    assert len(list(parse(f"{GRAPH}/111/feed", {"data": [post, dict(post)]}, "111"))) == 1


def test_batch_response() -> None:
    inner = {"id": "111_9", "message": "hej", "created_time": "2024-01-01T00:00:00+0000"}
    body = [{"code": 200, "headers": [], "body": json.dumps(inner)}, None]
    assert [obs["item_key"] for obs in parse(None, body, "111")] == ["facebook:111:111_9"]


def webhook(name: str) -> Observation:
    """Return the single observation of a webhook sample."""
    [obs] = observations(WEBHOOKS / name)
    return obs


def test_webhook_remove_is_a_tombstone() -> None:
    removed = webhook("feed-comment-remove-25.json")
    assert removed["item_key"] == "facebook:1234567890321:905578656204626_905579239537901"
    assert (removed["kind"], removed["state"], removed["text"], removed["created_at"]) == (
        "comment",
        "deleted_at_source",
        None,
        None,
    )
    assert removed["parent_key"] == "facebook:1234567890321:1234567890321_905578656204626"
    post = webhook("feed-post-remove-25.json")
    assert (post["kind"], post["state"], post["author_id"]) == ("post", "deleted_at_source", "1234567890321")


def test_webhook_edits_hides_and_adds() -> None:
    edited = webhook("feed-status-edited-25.json")
    assert edited["text"] == "This is an edited test message"
    assert (edited["created_at"], edited["edited_at"]) == (
        at("2016-01-04 23:16:55"),
        at("2016-01-04 23:17:20"),
    )
    visitor_edit = webhook("feed-post-edit.json")
    assert (visitor_edit["author_id"], visitor_edit["edited_at"]) == (
        "8423678347823",
        at("2016-07-07 11:20:09"),
    )
    hidden = webhook("feed-comment-hide.json")
    assert (hidden["visibility"], hidden["state"], hidden["text"]) == ("hidden", "hidden", "and the next one")
    unhidden = webhook("feed-post-unhide.json")
    assert (unhidden["visibility"], unhidden["state"]) == ("public", "present")
    added = webhook("feed-comment-add-25.json")
    assert (added["author_id"], added["author_name"], added["from_account"]) == (
        "1234567890321",
        "Tester",
        True,
    )
    assert [
        (a["type"], a["source_url"]) for a in webhook("feed-comment-add-with-video.json")["attachments"]
    ] == [("video", "https://example.fbcdn.net/video.mp4")]
    assert len(webhook("feed-status-add-photos.json")["attachments"]) == 3
    assert observations(WEBHOOKS / "feed-two-entries-25.json") == []


def test_messenger_webhooks() -> None:
    thread = "facebook:12345654332:dm_987654321432"
    basic = webhook("messaging-message-basic.json")
    assert (basic["kind"], basic["text"], basic["thread_key"], basic["author_id"]) == (
        "message",
        "hello, world!",
        thread,
        "987654321432",
    )
    assert basic["created_at"] == datetime(2016, 3, 12, 6, 29, 57, 627000, tzinfo=UTC)
    edit = webhook("messaging-message-edits.json")
    assert (edit["text"], edit["created_at"], edit["edited_at"]) == (
        "hello, world!",
        None,
        basic["created_at"],
    )
    deleted = webhook("messaging-message-isdeleted.json")
    assert (deleted["native_id"], deleted["state"], deleted["text"]) == (
        "message_id",
        "deleted_at_source",
        None,
    )
    echo = webhook("messaging-message-basic-echo.json")
    assert echo["from_account"] and echo["thread_key"] == thread
    reply = webhook("messaging-message-reply-1.json")
    assert reply["parent_key"] == "facebook:12345654332:very_long_id_representing_the_original_message"
    sticker = webhook("messaging-message-sticker.json")
    assert [(a["type"], a["source_url"]) for a in sticker["attachments"]] == [
        ("sticker", "https://scontent.xx.fbcdn.net/sticker.png")
    ]
    location = webhook("messaging-message-location-attachment.json")
    assert [(a["type"], a["title"]) for a in location["attachments"]] == [("location", "12.34,43.21")]


def test_observation_to_json() -> None:
    [obs] = parse(None, {"id": "1_2", "message": "Hallå", "created_time": "2024-03-27T12:15:00+0200"}, "1")
    row = json.loads(observation_to_json(obs))
    assert row["created_at"] == "2024-03-27T10:15:00Z" and row["edited_at"] is None
    assert "Hallå" in observation_to_json(obs)


def write_inputs(folder: Path) -> list[Path]:
    """Write a pretty document, JSON lines with a BOM, a malformed file and a half-bad JSON-lines file."""
    good = folder / "post.json"
    good.write_text(
        json.dumps({"id": "1_1", "message": "ett", "created_time": "2024-01-01T00:00:00+0000"}, indent=2)
    )
    lines = folder / "pages.jsonl"
    pages = [
        {"data": [{"id": f"1_{n}", "message": "x", "created_time": "2024-01-01T00:00:00+0000"}]}
        for n in (2, 3)
    ]
    lines.write_bytes(b"\xef\xbb\xbf" + "\n".join(json.dumps(page) for page in pages).encode())
    broken = folder / "broken.json"
    broken.write_text('{"data": [{"id": "1_4",\n  "message": }')
    mixed = folder / "mixed.jsonl"
    mixed.write_text('{"id": "1_5", "message": "y", "created_time": "2024-01-01T00:00:00+0000"}\n{"id": \n')
    return [good, lines, broken, mixed]


def test_normalise_files_keeps_going_after_a_bad_file(tmp_path: Path) -> None:
    good, lines, broken, mixed = write_inputs(tmp_path)
    error = tmp_path / "error.json"
    error.write_text(json.dumps({"error": {"code": 190, "message": "expired"}}))
    results = list(
        normalise_files("facebook", [good, broken, lines, mixed, error, tmp_path / "missing.json"])
    )
    assert [result.ok for result in results] == [True, False, True, False, False, False]
    assert [obs["native_id"] for obs in results[0].observations] == ["1_1"]
    assert [obs["native_id"] for obs in results[2].observations] == ["1_2", "1_3"]
    assert [obs["native_id"] for obs in results[3].observations] == ["1_5"]
    [broken_problem] = results[1].problems
    assert str(broken) in broken_problem and "line 2" in broken_problem
    assert "line 2" in results[3].problems[0] and str(mixed) in results[3].problems[0]
    assert "code 190" in results[4].problems[0]
    assert "cannot be read" in results[5].problems[0]


def test_normalise_files_rejects_unknown_platforms() -> None:
    with pytest.raises(ArchiverError, match="platform tiktok is not supported yet; supported: facebook"):
        normalise_files("tiktok", [])


def cli() -> typer.Typer:
    """Return a one-command app the way the lead registers ``normalise``."""
    app = typer.Typer()
    app.command("normalise")(normalise_command)
    return app


def test_command_prints_json_lines_and_exit_codes(tmp_path: Path) -> None:
    good, lines, broken, _ = write_inputs(tmp_path)
    runner = CliRunner()
    ok = runner.invoke(cli(), ["--platform", "facebook", str(good), str(lines), "--account-id", "1"])
    assert ok.exit_code == 0, ok.output
    rows = [json.loads(line) for line in ok.stdout.splitlines()]
    assert [row["item_key"] for row in rows] == ["facebook:1:1_1", "facebook:1:1_2", "facebook:1:1_3"]
    assert rows[0]["created_at"] == "2024-01-01T00:00:00Z"
    failed = runner.invoke(cli(), ["--platform", "facebook", str(broken), str(good)])
    assert failed.exit_code == 1
    assert str(broken) in failed.stderr
    assert [json.loads(line)["native_id"] for line in failed.stdout.splitlines()] == ["1_1"]
    unsupported = runner.invoke(cli(), ["--platform", "tiktok", str(good)])
    assert unsupported.exit_code == 2
    assert (
        "platform tiktok is not supported yet; supported: facebook, instagram, linkedin, x, youtube"
        in unsupported.stderr
    )
