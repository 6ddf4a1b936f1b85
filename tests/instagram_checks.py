"""Instagram archive checks: the archive compared with the sandbox world's truth through the
sandbox's Instagram ids (``archiver.sandbox.instagram.ids``).

Instagram serves message details for only the newest ``readable`` messages of a conversation
(20 on the platform; the sandbox fault ``instagram_readable_messages`` lowers it), so a message
beyond them may be missing from the archive only if no nightly run could read it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from archiver.itemstore import latest_versions, read_account_items
from archiver.sandbox.instagram import ids
from archiver.sandbox.text import Person
from archiver.sandbox.world import SandboxAccount, World
from archiver.storage import Bucket

from archive_checks import STOCKHOLM, nightly_run_after

PLATFORM_READABLE = 20
"""How many of a conversation's newest messages Instagram serves details for."""


def instagram_key(world_id: str, account: SandboxAccount) -> str:
    """Return the archive's item key of a world item, through the sandbox's Instagram ids."""
    if world_id.startswith("t_"):
        native = ids.conversation_id(world_id)
    elif world_id.startswith("m_"):
        native = ids.message_id(world_id)
    elif world_id.startswith(account.page_id + "_"):
        native = ids.media_id(world_id)
    else:
        native = ids.comment_id(world_id)
    return f"instagram:{account.page_id}:{native}"


def readable_messages(
    world: World, account: SandboxAccount, at: datetime, readable: int = PLATFORM_READABLE
) -> set[str]:
    """Return the world ids of the messages whose details the platform serves at ``at``."""
    state = world.account_state(account.name, int(at.timestamp()))
    return {m.native_id for thread in state.conversations for m in state.children(thread)[-readable:]}


def ever_readable(
    world: World, account: SandboxAccount, through: date, readable: int = PLATFORM_READABLE
) -> set[str]:
    """Return the messages readable at some nightly run from the world's first day through ``through``."""
    found: set[str] = set()
    day = world.config.start_date
    while day <= through:
        found |= readable_messages(world, account, nightly_run_after(day), readable)
        day += timedelta(days=1)
    return found


def truth_mismatches(
    bucket: Bucket, world: World, account: SandboxAccount, day: date, readable: int = PLATFORM_READABLE
) -> list[str]:
    """Return every difference between the archive as of ``day`` and what Instagram showed then.

    A message beyond the ``readable`` newest may be missing only if no nightly run could read it.
    """
    latest = latest_versions(read_account_items(bucket, "instagram", account.name, until_day=day.isoformat()))
    shown = world.truth(account.name, nightly_run_after(day))
    midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=STOCKHOLM)
    next_day = {t.native_id for t in shown if t.kind == "post" and t.created_time >= midnight}
    readable_once = ever_readable(world, account, day, readable)
    problems = []
    truth = {}
    for expected in shown:
        if expected.thread_id in next_day:
            continue
        key = instagram_key(expected.native_id, account)
        truth[key] = expected
        row = latest.get(key)
        if row is None:
            if expected.kind != "message" or expected.native_id in readable_once:
                problems.append(f"missing {expected.kind} {key}")
            continue
        author = Person(expected.author_id, expected.author_name, "sv")
        wanted = {
            "kind": expected.kind,
            "text": expected.text,
            "author_id": ids.user_id(author, account),
            "author_name": ids.username(author, account),
            "parent_key": instagram_key(expected.parent_id, account) if expected.parent_id else None,
            "thread_key": instagram_key(expected.thread_id, account),
            "state": "hidden" if expected.hidden else "present",
        }
        got = {name: row[name] for name in wanted}
        if expected.kind == "conversation":
            wanted.pop("text"), got.pop("text")
        if got != wanted:
            problems.append(f"{key}: archived {got} but Instagram shows {wanted}")
    for key, row in latest.items():
        if key not in truth and row["state"] != "deleted_at_source":
            problems.append(f"{key} ({row['kind']}) is gone from Instagram but not tombstoned")
    return problems
