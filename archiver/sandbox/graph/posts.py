"""The Post node and a page's feed, posts and published_posts edges.

``feed`` lists every post on the page, residents' visitor posts included; ``posts`` and
``published_posts`` only the page's own. All list newest first and honour ``since``/``until``.
"""

from __future__ import annotations

from typing import Any

from archiver.sandbox.graph.attachments import _attachments_field
from archiver.sandbox.graph.comments import _comments_field
from archiver.sandbox.graph.context import _Ctx
from archiver.sandbox.graph.links import _permalink
from archiver.sandbox.graph.nodes import ABSENT, FieldFunction, NodeType, _from, _serialize
from archiver.sandbox.graph.paging import _Edge
from archiver.sandbox.graph.reactions import _reactions_field
from archiver.sandbox.world import Item, SandboxAccount


def _posts_edge(ctx: _Ctx, account: SandboxAccount, edge: _Edge) -> dict[str, Any]:
    posts = ctx.state.posts
    if edge.name != "feed":
        posts = [post for post in posts if post.by_page]
    posts = edge.window([post for post in posts if post.native_id not in ctx.request.unlisted])
    return edge.respond(
        posts, lambda post: _serialize(ctx, POST, post, edge.children), lambda p: (p.created, p.seq), True
    )


def _status_type(item: Item) -> str:
    if not item.by_page:
        return "wall_post"
    return "added_photos" if item.media else "mobile_status_update"


POST_FIELDS: dict[str, FieldFunction] = {
    "id": lambda ctx, item, spec: item.native_id,
    "created_time": lambda ctx, item, spec: ctx.time(item.created),
    "updated_time": lambda ctx, item, spec: ctx.time(ctx.state.updated(item)),
    "message": lambda ctx, item, spec: ctx.state.text(item) or ABSENT,
    "from": _from,
    "permalink_url": lambda ctx, item, spec: _permalink(ctx, item),
    "status_type": lambda ctx, item, spec: _status_type(item),
    "is_hidden": lambda ctx, item, spec: False,
    "is_published": lambda ctx, item, spec: True,
    "is_expired": lambda ctx, item, spec: False,
    "attachments": _attachments_field,
    "full_picture": lambda ctx, item, spec: ctx.media_url(item.media[0]) if item.media else ABSENT,
    "picture": lambda ctx, item, spec: ctx.media_url(item.media[0]) if item.media else ABSENT,
    "comments": _comments_field,
    "reactions": _reactions_field,
}


POST = NodeType(
    "Post",
    POST_FIELDS,
    ("created_time", "message", "id"),
    edges={"comments": "Comment", "reactions": "Reaction", "attachments": "StoryAttachment"},
    silent=frozenset(
        {
            "story",
            "message_tags",
            "place",
            "shares",
            "privacy",
            "scheduled_publish_time",
            "parent_id",
            "story_tags",
            "with_tags",
            "properties",
            "call_to_action",
            "coordinates",
            "event",
            "feed_targeting",
            "targeting",
            "actions",
            "icon",
            "instagram_eligibility",
            "promotable_id",
            "subscribed",
            "timeline_visibility",
            "to",
            "via",
            "backdated_time",
            "admin_creator",
            "application",
            "sharedposts",
            "insights",
            "likes",
            "is_popular",
            "is_spherical",
            "is_instagram_eligible",
            "is_eligible_for_promotion",
            "is_inline_created",
            "multi_share_end_card",
            "sponsor_tags",
        }
    ),
    deprecated=frozenset({"caption", "description", "link", "name", "object_id", "source", "type"}),
)
