"""X archive checks: an in-process sandbox serving a world with the X account, and the archive
compared with the world's truth through the sandbox's id mapping (``archiver.sandbox.x.ids``)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from archiver.itemstore import latest_versions, read_account_items
from archiver.sandbox.faults import FaultSet
from archiver.sandbox.server import SandboxServer, make_server
from archiver.sandbox.world import Item, World, WorldConfig, to_unix
from archiver.sandbox.x import ids
from archiver.storage import Bucket

from archive_checks import STOCKHOLM, nightly_run_after

X_ACCOUNT = "exempelby-x"


@dataclass
class XSandbox:
    """A sandbox HTTP server on 127.0.0.1 (in this process) whose world has the X account."""

    world: World
    server: SandboxServer

    @property
    def root_url(self) -> str:
        """Return ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def set_clock(self, now: datetime | None) -> None:
        """Serve the world as of ``now`` (None: real time)."""
        self.server.app.clock.set(now)

    def set_faults(self, faults: dict[str, Any]) -> None:
        """Replace the injected faults."""
        self.server.app.set_faults(FaultSet.from_dict(faults))


@contextmanager
def x_sandbox(
    seed: int = 7, items_per_day: int = 25, faults: dict[str, Any] | None = None
) -> Iterator[XSandbox]:
    """Run a sandbox whose world is only the X account until the block ends."""
    world = World(WorldConfig(seed=seed, accounts=0, items_per_day=items_per_day, other_platforms=("x",)))
    server = make_server(world, "127.0.0.1", 0, faults)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield XSandbox(world, server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def expected_row(world: World, account_name: str, item: Item) -> tuple[str, dict[str, Any]]:
    """Return (item key, expected fields) of a live world item as the X archive should hold it."""
    account = world.account(account_name)
    page = account.page_id

    def key(native: str) -> str:
        return f"x:{page}:{native}"

    if item.kind == "message":
        assert item.parent is not None
        thread = key(ids.conversation_id(item.parent.author.id, page))
        native, parent, thread_key = ids.dm_event_id(item), thread, thread
    else:
        native = ids.native_id(item)
        parent = key(ids.native_id(item.parent)) if item.parent is not None else None
        thread_key = key(ids.native_id(item.thread))
    return key(native), {
        "kind": item.truth_kind,
        "author_id": item.author.id,
        "author_name": item.author.name,
        "parent_key": parent,
        "thread_key": thread_key,
        "state": "present",
    }


def truth_mismatches(
    bucket: Bucket, world: World, archived_as: str, day: date, at: datetime | None = None
) -> list[str]:
    """Return every difference between the archive of ``archived_as`` as of ``day`` and what X
    showed at ``at`` (default: the nightly run after ``day``): missing or wrong items, and items
    gone but not tombstoned. Conversations are not items on X; messages hang on the conversation id."""
    at = at or nightly_run_after(day)
    state = world.account_state(X_ACCOUNT, to_unix(at))
    latest = latest_versions(read_account_items(bucket, "x", archived_as, until_day=day.isoformat()))
    midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=STOCKHOLM)
    items = [
        item
        for item in state.items()
        if item.kind == "message" or (item.kind != "conversation" and item.thread.created < to_unix(midnight))
    ]
    problems = []
    truth = {}
    for item in items:
        key, wanted = expected_row(world, X_ACCOUNT, item)
        wanted["text"] = state.text(item) or ""
        truth[key] = wanted
        row = latest.get(key)
        if row is None:
            problems.append(f"missing {item.truth_kind} {key} ({item.native_id})")
            continue
        got = {name: row[name] for name in wanted}
        got["text"] = got["text"] or ""
        if got != wanted:
            problems.append(f"{key}: archived {got} but X shows {wanted}")
    for key, row in latest.items():
        if key not in truth and row["state"] != "deleted_at_source":
            problems.append(f"{key} ({row['kind']}) is gone from X but not tombstoned")
    return problems
