"""The world's items as YouTube Data API v3 resources: channel, playlist item, video, comment, thread.

A world post is a video of the account: its first line is the title (at most 100 characters),
its whole text the description, its first photo the thumbnail; its other photos have no place on
YouTube. A comment or reply keeps its text and, since the API's ``imageUrl`` field (30 Sep 2026),
its photo. A comment the page hid is held for review, or (for about a third of them, by id)
likely spam; a held comment is listed only by the owner's ``moderationStatus`` passes.
``textOriginal`` is served only for the account's own comments (Google guarantees it only to
the author); ``textDisplay`` is HTML unless ``textFormat=plainText``.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from archiver.sandbox.media import MediaSigner
from archiver.sandbox.world import AccountState, Item, SandboxAccount
from archiver.sandbox.youtube import ids

TITLE_LIMIT = 100
INLINE_REPLIES = 5
"""A thread carries at most this many of its published replies; ``comments.list`` has them all."""


def video_title(body: str) -> str:
    """Return the title a post's text gives its video: the first line, cut to 100 characters."""
    first = body.strip().split("\n", 1)[0].strip()
    return first if len(first) <= TITLE_LIMIT else first[: TITLE_LIMIT - 1] + "…"


def video_text(body: str) -> str:
    """Return what an archive reads for a video of this text: title, blank line, description."""
    return f"{video_title(body)}\n\n{body}" if body else video_title(body)


def moderation_status(item: Item, hidden: bool) -> str:
    """Return ``published``, or for a hidden comment ``heldForReview`` or (by id) ``likelySpam``."""
    if not hidden:
        return "published"
    return "likelySpam" if hashlib.sha256(item.native_id.encode()).digest()[0] % 3 == 0 else "heldForReview"


def youtube_time(stamp: int) -> str:
    """Return unix time ``stamp`` as the API writes times: ``2026-11-01T10:15:00Z``."""
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def etag(*parts: object) -> str:
    """Return a deterministic etag for a resource's content."""
    digest = hashlib.sha256(":".join(str(part) for part in parts).encode()).digest()
    return hashlib.sha1(digest).hexdigest()[:27]


@dataclass
class Renderer:
    """Renders one account's state as of one instant, with signed media URLs."""

    state: AccountState
    account: SandboxAccount
    signer: MediaSigner
    base_url: str
    now: int
    plain_text: bool = False

    @property
    def channel(self) -> str:
        """Return the account's channel id."""
        return self.account.page_id

    def channel_resource(self, parts: set[str]) -> dict[str, Any]:
        """Return the account's channel resource with the requested parts."""
        resource: dict[str, Any] = {"kind": "youtube#channel", "etag": etag("channel", self.channel)}
        resource["id"] = self.channel
        if "snippet" in parts:
            resource["snippet"] = {
                "title": self.account.display_name,
                "description": f"{self.account.display_name}: nyheter och information.",
                "customUrl": "@" + self.account.name,
                "publishedAt": "2012-04-01T08:00:00Z",
                "localized": {"title": self.account.display_name, "description": ""},
                "country": "SE",
            }
        if "contentDetails" in parts:
            resource["contentDetails"] = {
                "relatedPlaylists": {"likes": "", "uploads": ids.uploads_playlist(self.channel)}
            }
        if "statistics" in parts:
            resource["statistics"] = {
                "viewCount": str(1000 * len(self.state.posts)),
                "subscriberCount": "1200",
                "hiddenSubscriberCount": False,
                "videoCount": str(len(self.state.posts)),
            }
        return resource

    def playlist_item(self, post: Item, position: int, parts: set[str]) -> dict[str, Any]:
        """Return the uploads-playlist entry of a video."""
        video = ids.video_id(post.native_id)
        playlist = ids.uploads_playlist(self.channel)
        resource: dict[str, Any] = {"kind": "youtube#playlistItem", "etag": etag("pl", video, position)}
        resource["id"] = ids._encode(f"{playlist}.{video}".encode())
        if "snippet" in parts:
            body = self.state.text(post) or ""
            resource["snippet"] = {
                "publishedAt": youtube_time(post.created),
                "channelId": self.channel,
                "title": video_title(body),
                "description": body,
                "thumbnails": self.thumbnails(post),
                "channelTitle": self.account.display_name,
                "playlistId": playlist,
                "position": position,
                "resourceId": {"kind": "youtube#video", "videoId": video},
                "videoOwnerChannelTitle": self.account.display_name,
                "videoOwnerChannelId": self.channel,
            }
        if "contentDetails" in parts:
            resource["contentDetails"] = {"videoId": video, "videoPublishedAt": youtube_time(post.created)}
        if "status" in parts:
            resource["status"] = {"privacyStatus": "public"}
        return resource

    def thumbnails(self, post: Item) -> dict[str, Any]:
        """Return the video's thumbnails: its first photo at three sizes (one signed file)."""
        if not post.media:
            return {}
        media = post.media[0]
        url = self.signer.url(self.base_url, media, self.now)
        return {
            size: {"url": url, "width": media.width, "height": media.height}
            for size in ("default", "medium", "high")
        }

    def video(self, post: Item, parts: set[str]) -> dict[str, Any]:
        """Return a video resource with the requested parts."""
        video = ids.video_id(post.native_id)
        body = self.state.text(post) or ""
        stream = self.state.stream(post)
        resource: dict[str, Any] = {"kind": "youtube#video", "etag": etag("video", video, body)}
        resource["id"] = video
        if "snippet" in parts:
            title = video_title(body)
            resource["snippet"] = {
                "publishedAt": youtube_time(post.created),
                "channelId": self.channel,
                "title": title,
                "description": body,
                "thumbnails": self.thumbnails(post),
                "channelTitle": self.account.display_name,
                "categoryId": "25",
                "liveBroadcastContent": "none",
                "defaultLanguage": "sv",
                "localized": {"title": title, "description": body},
                "defaultAudioLanguage": "sv",
            }
        if "contentDetails" in parts:
            seconds = 45 + int(etag(video)[:4], 16) % 600
            resource["contentDetails"] = {
                "duration": f"PT{seconds // 60}M{seconds % 60}S",
                "dimension": "2d",
                "definition": "hd",
                "caption": "false",
                "licensedContent": False,
                "contentRating": {},
                "projection": "rectangular",
            }
        if "status" in parts:
            resource["status"] = {
                "uploadStatus": "processed",
                "privacyStatus": "public",
                "license": "youtube",
                "embeddable": True,
                "publicStatsViewable": True,
                "madeForKids": False,
            }
        if "statistics" in parts:
            resource["statistics"] = {
                "viewCount": str(40 + 7 * len(stream) + int(etag(video)[:3], 16) % 900),
                "likeCount": str(len(stream) // 2),
                "favoriteCount": "0",
                "commentCount": str(sum(1 for item in stream if not self.state.hidden(item))),
            }
        return resource

    def comment(self, item: Item, with_video: bool = True) -> dict[str, Any]:
        """Return a comment resource (top-level comment or reply) as the channel owner sees it."""
        state, author = self.state, item.author
        reply = item.is_reply
        parent = item.parent
        own_id = ids.comment_id(item.native_id, parent.native_id if reply and parent else None)
        text = state.text(item) or ""
        author_channel = ids.channel_id(author.id, self.channel)
        edited = item.edited_at(state.at)
        snippet: dict[str, Any] = {
            "channelId": self.channel,
            "authorDisplayName": author.name,
            "authorProfileImageUrl": f"https://yt3.ggpht.com/ytc/{author_channel[2:14]}=s48-c-k-c0x00ffffff-no-rj",
            "authorChannelUrl": f"http://www.youtube.com/channel/{author_channel}",
            "authorChannelId": {"value": author_channel},
            "textDisplay": text if self.plain_text else html.escape(text).replace("\n", "<br>"),
        }
        if with_video:
            snippet["videoId"] = ids.video_id(item.thread.native_id)
        if item.by_page:  # textOriginal only reaches the comment's author
            snippet["textOriginal"] = text
        if reply and parent is not None:
            snippet["parentId"] = ids.comment_id(parent.native_id)
        snippet.update(
            canRate=True,
            viewerRating="none",
            likeCount=int(etag(own_id)[:2], 16) % 7,
            moderationStatus=moderation_status(item, state.hidden(item)),
            publishedAt=youtube_time(item.created),
            updatedAt=youtube_time(edited or item.created),
        )
        if item.media:
            snippet["imageUrl"] = self.signer.url(self.base_url, item.media[0], self.now)
        return {"kind": "youtube#comment", "etag": etag("comment", own_id, text), "id": own_id, "snippet": snippet}

    def thread(self, top: Item, with_replies: bool) -> dict[str, Any]:
        """Return the comment thread of a top-level comment, with up to five published replies."""
        replies = self.state.children(top)
        comment = self.comment(top)
        resource: dict[str, Any] = {"kind": "youtube#commentThread", "etag": etag("thread", comment["etag"])}
        resource["id"] = comment["id"]
        resource["snippet"] = {
            "channelId": self.channel,
            "videoId": comment["snippet"]["videoId"],
            "topLevelComment": comment,
            "canReply": True,
            "totalReplyCount": len(replies),
            "isPublic": True,
        }
        shown = [item for item in replies if not self.state.hidden(item)][-INLINE_REPLIES:]
        if with_replies and shown:
            resource["replies"] = {"comments": [self.comment(item) for item in shown]}
        return resource
