"""The public facebook.com URLs of pages, posts, comments and photos, as Graph writes them."""

from __future__ import annotations

from archiver.sandbox.graph.context import _Ctx
from archiver.sandbox.media import Media
from archiver.sandbox.world import Item, SandboxAccount


def _page_username(account: SandboxAccount) -> str:
    return account.name.removesuffix("-fb").replace("-", "")


def _post_n(item: Item) -> str:
    return item.thread.native_id.split("_", 1)[1]


def _permalink(ctx: _Ctx, item: Item) -> str:
    base = f"https://www.facebook.com/{ctx.account.page_id}/posts/{_post_n(item)}"
    if item.kind == "post":
        return base
    comment_n = item.native_id.split("_", 1)[1]
    if item.parent is not None and item.parent.kind == "comment":
        parent_n = item.parent.native_id.split("_", 1)[1]
        return f"{base}?comment_id={parent_n}&reply_comment_id={comment_n}"
    return f"{base}?comment_id={comment_n}"


def _photo_link(media: Media) -> str:
    return f"https://www.facebook.com/photo.php?fbid={media.media_id}&type=3"
