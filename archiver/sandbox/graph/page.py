"""The Page node: the municipality's account, from which every other node is reached."""

from __future__ import annotations

from archiver.sandbox.graph.links import _page_username
from archiver.sandbox.graph.messenger import _conversations_edge
from archiver.sandbox.graph.nodes import FieldFunction, NodeType
from archiver.sandbox.graph.paging import _Edge
from archiver.sandbox.graph.posts import _posts_edge

PAGE_FIELDS: dict[str, FieldFunction] = {
    "id": lambda ctx, a, spec: a.page_id,
    "name": lambda ctx, a, spec: a.display_name,
    "username": lambda ctx, a, spec: _page_username(a),
    "link": lambda ctx, a, spec: f"https://www.facebook.com/{_page_username(a)}",
    "category": lambda ctx, a, spec: "Government organization",
    "category_list": lambda ctx, a, spec: [{"id": "2235", "name": "Government organization"}],
    "about": lambda ctx, a, spec: f"Officiell sida för {a.display_name}. Vi svarar vardagar 8–16.",
    "website": lambda ctx, a, spec: "https://www.exempelby.se",
    "emails": lambda ctx, a, spec: ["kontaktcenter@exempelby.se"],
    "phone": lambda ctx, a, spec: "042-10 50 00",
    "fan_count": lambda ctx, a, spec: 4000 + int(a.page_id) % 1000 * 7,
    "followers_count": lambda ctx, a, spec: 4200 + int(a.page_id) % 1000 * 8,
    "access_token": lambda ctx, a, spec: a.token,
    "feed": lambda ctx, a, spec: _posts_edge(ctx, a, _Edge(ctx, a.page_id, "feed", spec)),
    "published_posts": lambda ctx, a, spec: _posts_edge(
        ctx, a, _Edge(ctx, a.page_id, "published_posts", spec)
    ),
    "posts": lambda ctx, a, spec: _posts_edge(ctx, a, _Edge(ctx, a.page_id, "posts", spec)),
    "conversations": lambda ctx, a, spec: _conversations_edge(
        ctx, a, _Edge(ctx, a.page_id, "conversations", spec)
    ),
}


PAGE = NodeType(
    "Page",
    PAGE_FIELDS,
    ("name", "id"),
    edges={"feed": "Post", "published_posts": "Post", "posts": "Post", "conversations": "UnifiedThread"},
    silent=frozenset(
        {"cover", "picture", "location", "verification_status", "instagram_business_account", "tasks"}
    ),
)
