"""Media on the Graph: the attachments of posts and messages, and the Photo node.

A post's photos are one ``photo`` attachment or an ``album`` with subattachments; a message's
files are message attachments with ``image_data`` or a ``file_url``. Every URL is a signed
media URL. A photo of a post or comment can also be read as a Photo node by its media id.
"""

from __future__ import annotations

from typing import Any

from archiver.sandbox.graph.context import _Ctx
from archiver.sandbox.graph.fields import FieldSpec
from archiver.sandbox.graph.links import _photo_link
from archiver.sandbox.graph.nodes import ABSENT, FieldFunction, NodeType, _project
from archiver.sandbox.graph.paging import _Edge
from archiver.sandbox.media import Media
from archiver.sandbox.world import Item


def _image(ctx: _Ctx, media: Media) -> dict[str, Any]:
    return {"image": {"height": media.height, "src": ctx.media_url(media), "width": media.width}}


def _photo_attachment(ctx: _Ctx, media: Media) -> dict[str, Any]:
    link = _photo_link(media)
    return {
        "media": _image(ctx, media),
        "media_type": "photo",
        "target": {"id": media.media_id, "url": link},
        "type": "photo",
        "url": link,
    }


def _post_attachments(ctx: _Ctx, item: Item) -> list[dict[str, Any]]:
    if not item.media:
        return []
    if len(item.media) == 1:
        return [_photo_attachment(ctx, item.media[0])]
    album_id = str(10**15 + int(item.media[0].media_id) % 10**15)
    link = f"https://www.facebook.com/media/set/?set=a.{album_id}&type=3"
    return [
        {
            "media": _image(ctx, item.media[0]),
            "media_type": "album",
            "subattachments": {"data": [_photo_attachment(ctx, media) for media in item.media]},
            "target": {"id": album_id, "url": link},
            "title": "Photos from " + ctx.account.display_name + "'s post",
            "type": "album",
            "url": link,
        }
    ]


def _attachments_field(ctx: _Ctx, item: Item, spec: FieldSpec) -> object:
    data = _post_attachments(ctx, item) if item.kind == "post" else _message_attachments(ctx, item)
    return _project({"data": data}, spec.children) if data else ABSENT


def _attachments_edge(ctx: _Ctx, item: Item, edge: _Edge) -> dict[str, Any]:
    data = _post_attachments(ctx, item) if item.kind == "post" else _message_attachments(ctx, item)
    return {"data": _project(data, edge.children)}


def _message_attachments(ctx: _Ctx, message: Item) -> list[dict[str, Any]]:
    from archiver.sandbox.media import media_bytes

    found = []
    for media in message.media:
        entry: dict[str, Any] = {
            "id": media.media_id,
            "mime_type": media.mime,
            "name": media.name,
            "size": len(media_bytes(media)),
        }
        url = ctx.media_url(media)
        if media.is_image:
            entry["image_data"] = {
                "width": media.width,
                "height": media.height,
                "max_width": media.width,
                "max_height": media.height,
                "url": url,
                "preview_url": url,
                "image_type": 1,
                "render_as_sticker": False,
            }
        else:
            entry["file_url"] = url
        found.append(entry)
    return found


def _photo_field(name: str) -> FieldFunction:
    def value(ctx: _Ctx, target: tuple[Item, Media], spec: FieldSpec) -> object:
        owner, media = target
        url = ctx.media_url(media)
        values: dict[str, object] = {
            "id": media.media_id,
            "created_time": ctx.time(media.created),
            "from": _project(ctx.person(owner.author.id, owner.author.name), spec.children),
            "images": [{"height": media.height, "width": media.width, "source": url}],
            "width": media.width,
            "height": media.height,
            "link": _photo_link(media),
            "picture": url,
            "name": ctx.state.text(owner) or ABSENT,
        }
        return values[name]

    return value


PHOTO_FIELDS: dict[str, FieldFunction] = {
    name: _photo_field(name)
    for name in ("id", "created_time", "from", "images", "width", "height", "link", "picture", "name")
}


PHOTO = NodeType(
    "Photo",
    PHOTO_FIELDS,
    ("created_time", "name", "id"),
    silent=frozenset({"alt_text", "album", "webp_images"}),
)
