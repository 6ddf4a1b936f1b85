"""Messenger: the conversation (UnifiedThread) and Message nodes and their edges.

A page's conversations list latest activity first (``platform`` must be messenger or
instagram, and the sandbox has no Instagram threads); a conversation's messages list newest
first. People in Messenger carry an ``{id}@facebook.com`` e-mail.
"""

from __future__ import annotations

from typing import Any, Final

from archiver.sandbox.graph.attachments import _attachments_field
from archiver.sandbox.graph.context import _Ctx
from archiver.sandbox.graph.errors import GraphError
from archiver.sandbox.graph.fields import FieldSpec
from archiver.sandbox.graph.links import _page_username
from archiver.sandbox.graph.nodes import ABSENT, FieldFunction, NodeType, _project, _serialize
from archiver.sandbox.graph.paging import _Edge, _seq_key
from archiver.sandbox.world import Item, SandboxAccount

_PLATFORMS: Final = ("messenger", "instagram")
"""The values a ``conversations`` edge's ``platform`` option may take."""


def platform_threads(ctx: _Ctx, edge: _Edge, served: str, default: str) -> list[Item]:
    """Return the conversations a ``conversations`` edge lists: the account's when its
    ``platform`` option (``default`` when absent) is ``served``, none for the other platform.

    Raises GraphError (#100) for any other platform.
    """
    platform = (edge.option("platform") or default).lower()
    if platform not in _PLATFORMS:
        raise GraphError(400, 100, "(#100) Param platform must be one of {MESSENGER, INSTAGRAM}")
    return ctx.state.conversations if platform == served else []


def threads_page(ctx: _Ctx, edge: _Edge, threads: list[Item], node: NodeType) -> dict[str, Any]:
    """Return a page of ``threads`` rendered as ``node``, latest activity first."""
    state = ctx.state
    return edge.respond(
        threads,
        lambda thread: _serialize(ctx, node, thread, edge.children),
        lambda thread: (state.updated(thread), thread.seq),
        True,
    )


def _conversations_edge(ctx: _Ctx, account: SandboxAccount, edge: _Edge) -> dict[str, Any]:
    threads = platform_threads(ctx, edge, "messenger", "messenger")
    threads = [thread for thread in threads if thread.native_id not in ctx.request.unlisted]
    user_id = edge.option("user_id")
    if user_id:
        threads = [thread for thread in threads if thread.author.id == user_id]
    return threads_page(ctx, edge, threads, CONVERSATION)


def _messages_edge(ctx: _Ctx, thread: Item, edge: _Edge) -> dict[str, Any]:
    messages = ctx.state.children(thread)[::-1]
    return edge.respond(
        messages, lambda message: _serialize(ctx, MESSAGE, message, edge.children), _seq_key, True
    )


def _messages_field(ctx: _Ctx, thread: Item, spec: FieldSpec) -> object:
    result = _messages_edge(ctx, thread, _Edge(ctx, thread.native_id, "messages", spec))
    return result if result["data"] else ABSENT


def _participants(ctx: _Ctx, thread: Item, spec: FieldSpec) -> object:
    people = [
        ctx.person(thread.author.id, thread.author.name, with_email=True),
        ctx.person(ctx.account.page_id, ctx.account.display_name, with_email=True),
    ]
    return _project({"data": people}, spec.children)


def _snippet(ctx: _Ctx, thread: Item) -> str:
    messages = ctx.state.children(thread)
    return (ctx.state.text(messages[-1]) or "")[:100] if messages else ""


CONVERSATION_FIELDS: dict[str, FieldFunction] = {
    "id": lambda ctx, item, spec: item.native_id,
    "updated_time": lambda ctx, item, spec: ctx.time(ctx.state.updated(item)),
    "link": lambda ctx, item, spec: (
        f"/{_page_username(ctx.account)}/inbox/{item.native_id[2:]}/?section=messages"
    ),
    "message_count": lambda ctx, item, spec: len(ctx.state.children(item)),
    "unread_count": lambda ctx, item, spec: 0,
    "participants": _participants,
    "senders": _participants,
    "snippet": lambda ctx, item, spec: _snippet(ctx, item),
    "can_reply": lambda ctx, item, spec: True,
    "is_subscribed": lambda ctx, item, spec: True,
    "messages": _messages_field,
}


def _message_to(ctx: _Ctx, message: Item, spec: FieldSpec) -> object:
    resident = message.thread.author
    if message.by_page:
        person = ctx.person(resident.id, resident.name, with_email=True)
    else:
        person = ctx.person(ctx.account.page_id, ctx.account.display_name, with_email=True)
    return _project({"data": [person]}, spec.children)


MESSAGE_FIELDS: dict[str, FieldFunction] = {
    "id": lambda ctx, item, spec: item.native_id,
    "created_time": lambda ctx, item, spec: ctx.time(item.created),
    "from": lambda ctx, item, spec: _project(
        ctx.person(item.author.id, item.author.name, with_email=True), spec.children
    ),
    "to": _message_to,
    "message": lambda ctx, item, spec: ctx.state.text(item) or "",
    "attachments": _attachments_field,
    "is_unsupported": lambda ctx, item, spec: False,
    "tags": lambda ctx, item, spec: {"data": [{"name": "inbox"}, {"name": "read"}, {"name": "source:chat"}]},
}


CONVERSATION = NodeType(
    "UnifiedThread",
    CONVERSATION_FIELDS,
    ("updated_time", "id"),
    edges={"messages": "Message"},
    silent=frozenset({"former_participants", "name", "scoped_thread_key", "wallpaper"}),
)


MESSAGE = NodeType(
    "Message",
    MESSAGE_FIELDS,
    ("created_time", "id"),
    edges={"attachments": "MessageAttachment"},
    silent=frozenset({"sticker", "shares", "reactions", "story"}),
)
