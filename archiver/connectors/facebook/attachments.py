"""Attachments as the Graph API and its webhooks describe them, in the item model's shape.

Only what the platform says is filled in (type, source URL, title); the capture fills media
hash, key, MIME type and size after it has downloaded the bytes.
"""

from __future__ import annotations

from typing import Any, Final

from archiver.connectors.base import Attachment
from archiver.connectors.facebook.common import edge_data

_TYPES: Final = {
    "photo": "photo",
    "image": "photo",
    "profile_media": "photo",
    "cover_photo": "photo",
    "animated_image_share": "photo",
    "animated_image_autoplay": "photo",
    "album": "album",
    "carousel_album": "album",
    "video": "video",
    "share": "link",
    "link": "link",
    "fallback": "link",
    "sticker": "sticker",
    "file": "file",
    "audio": "audio",
}
"""Platform attachment and media types mapped onto the item model's vocabulary."""

_LINK_TYPES: Final = frozenset({"link", "event", "note", "native_templates", "music"})
"""Types whose content is where the link points, not a picture of it."""


def attachment(type_: str, source_url: Any, title: Any = None) -> Attachment:
    """Return an attachment with only the platform's facts filled in."""
    return {
        "type": type_,
        "source_url": source_url if isinstance(source_url, str) and source_url else None,
        "media_sha256": None,
        "media_key": None,
        "mime": None,
        "size": None,
        "title": title if isinstance(title, str) and title else None,
    }


def kind_of(raw: Any) -> str:
    """Return the item model's attachment type for a platform type such as ``video_inline``."""
    if not isinstance(raw, str) or not raw:
        return "unknown"
    lowered = raw.lower()
    mapped = _TYPES.get(lowered)
    if mapped is not None:
        return mapped
    return "video" if lowered.startswith("video") else lowered


def graph_attachments(edge: Any) -> list[Attachment]:
    """Return a post's ``attachments`` edge, an album given as its subattachments."""
    found: list[Attachment] = []
    for item in edge_data(edge):
        if not isinstance(item, dict):
            continue
        subs = edge_data(item.get("subattachments"))
        if subs:
            found.extend(graph_attachment(sub) for sub in subs if isinstance(sub, dict))
        else:
            found.append(graph_attachment(item))
    return found


def graph_attachment(item: dict[str, Any]) -> Attachment:
    """Return one Graph story attachment (a post's or a comment's ``attachment``)."""
    type_ = kind_of(item.get("media_type") or item.get("type"))
    target = item.get("target")
    link = item.get("unshimmed_url") or item.get("url")
    if not link and isinstance(target, dict):
        link = target.get("url")
    media = item.get("media")
    source = None
    if isinstance(media, dict):
        image = media.get("image")
        source = media.get("source") or (image.get("src") if isinstance(image, dict) else None)
    if type_ in _LINK_TYPES or not source:
        source = link or source
    return attachment(type_, source, item.get("title"))


def legacy_post_attachments(post: dict[str, Any]) -> list[Attachment]:
    """Return the attachment of a post without ``attachments`` (Graph v2 fields or a picture)."""
    legacy = post.get("type")
    if legacy in ("photo", "video", "link", "event", "offer", "music"):
        type_ = kind_of(legacy)
        if type_ == "video":
            source = post.get("source") or post.get("link")
        elif type_ == "photo":
            source = post.get("full_picture") or post.get("picture") or post.get("link")
        else:
            source = post.get("link")
        return [attachment(type_, source, post.get("name"))]
    picture = post.get("full_picture")
    if picture and legacy is None:
        return [attachment("photo", picture)]
    return []


def video_attachments(video: dict[str, Any]) -> list[Attachment]:
    """Return a video object (from ``/videos`` or ``/live_videos``) as its own attachment."""
    return [attachment("video", video.get("source"), video.get("title"))]


def photo_attachments(photo: dict[str, Any]) -> list[Attachment]:
    """Return a photo object (from ``/photos``): its largest image."""
    images = photo.get("images")
    best = images[0] if isinstance(images, list) and images and isinstance(images[0], dict) else {}
    return [attachment("photo", best.get("source") or photo.get("picture"))]


def message_attachments(message: dict[str, Any]) -> list[Attachment]:
    """Return a Graph message's files, images, videos, sticker and shares."""
    found = [_message_file(item) for item in edge_data(message.get("attachments")) if isinstance(item, dict)]
    sticker = message.get("sticker")
    if isinstance(sticker, str) and sticker:
        found.append(attachment("sticker", sticker))
    for share in edge_data(message.get("shares")):
        if isinstance(share, dict):
            found.append(attachment("share", share.get("link"), share.get("name")))
    return found


def _message_file(item: dict[str, Any]) -> Attachment:
    image = item.get("image_data")
    if isinstance(image, dict):
        type_ = "sticker" if image.get("render_as_sticker") else "photo"
        return attachment(type_, image.get("url"), item.get("name"))
    video = item.get("video_data")
    if isinstance(video, dict):
        return attachment("video", video.get("url"), item.get("name"))
    mime = item.get("mime_type")
    type_ = "audio" if isinstance(mime, str) and mime.startswith("audio/") else "file"
    return attachment(type_, item.get("file_url"), item.get("name"))


def ig_media_attachments(media: dict[str, Any]) -> list[Attachment]:
    """Return an Instagram media's pictures or videos (each child of a carousel)."""
    children = [child for child in edge_data(media.get("children")) if isinstance(child, dict)]
    if children:
        return [_ig_file(child) for child in children]
    if media.get("media_url") or media.get("media_type"):
        return [_ig_file(media)]
    return []


def _ig_file(media: dict[str, Any]) -> Attachment:
    return attachment(kind_of(media.get("media_type") or "photo"), media.get("media_url"))


def messaging_attachments(message: dict[str, Any]) -> list[Attachment]:
    """Return the attachments of a Messenger or Instagram messaging webhook message."""
    found: list[Attachment] = []
    items = message.get("attachments")
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            found.append(_messaging_attachment(item))
    return found


def _messaging_attachment(item: dict[str, Any]) -> Attachment:
    payload = item.get("payload")
    payload = payload if isinstance(payload, dict) else {}
    type_ = "sticker" if payload.get("sticker_id") else kind_of(item.get("type"))
    title = item.get("title") or payload.get("title")
    coordinates = payload.get("coordinates")
    if type_ == "location" and isinstance(coordinates, dict):
        title = f"{coordinates.get('lat')},{coordinates.get('long')}"
    return attachment(type_, payload.get("url") or item.get("url"), title)


def feed_change_attachments(value: dict[str, Any]) -> list[Attachment]:
    """Return the media a Page ``feed`` webhook change names (photo, photos, video, link)."""
    found: list[Attachment] = []
    photo = value.get("photo")
    if isinstance(photo, str):
        found.append(attachment("photo", photo))
    photos = value.get("photos")
    for url in photos if isinstance(photos, list) else []:
        found.append(attachment("photo", url))
    video = value.get("video")
    if isinstance(video, str):
        found.append(attachment("video", video))
    link = value.get("link")
    if isinstance(link, str) and link:
        item = value.get("item")
        type_ = "photo" if item == "photo" else "video" if item == "video" else "link"
        found.append(attachment(type_, link))
    return found
