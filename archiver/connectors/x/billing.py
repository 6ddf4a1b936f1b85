"""X pay-per-use: what a run read and what it is estimated to cost.

X bills reads per resource returned (posts $0.005, users $0.010, DM events $0.010, media
$0.005), deduplicated within a UTC day. A run counts each resource once (so re-reading a post
in the same run costs nothing more); runs on the same UTC day may overlap, so the estimate is
an upper bound. The figures go into the run report (``resources``, ``cost_usd``) after every
response, so a run that fails half-way still reports what it spent.
"""

from __future__ import annotations

from typing import Any, Final
from weakref import WeakKeyDictionary

from archiver.http import ApiClient, Response

PRICES_USD: Final = {"posts": 0.005, "users": 0.010, "dm_events": 0.010, "media": 0.005}
"""Price per resource read, by kind (X API pay-per-use, 2026)."""

_READ: WeakKeyDictionary[ApiClient, dict[str, set[str]]] = WeakKeyDictionary()


def bill(client: ApiClient, response: Response) -> Any:
    """Count the resources in one response towards the run's estimated cost; return its JSON body."""
    body = response.json()
    read = _READ.setdefault(client, {kind: set() for kind in PRICES_USD})
    for kind, ids in resources(body).items():
        read[kind] |= ids
    client.report.resources = {kind: len(ids) for kind, ids in read.items() if ids}
    client.report.cost_usd = round(sum(PRICES_USD[kind] * len(ids) for kind, ids in read.items()), 4)
    return body


def resources(body: Any) -> dict[str, set[str]]:
    """Return the ids of the billable resources a page returned, by kind."""
    found: dict[str, set[str]] = {kind: set() for kind in PRICES_USD}
    if not isinstance(body, dict):
        return found
    data = body.get("data")
    includes = body.get("includes") if isinstance(body.get("includes"), dict) else {}
    assert isinstance(includes, dict)
    for obj in _objects(data):
        if "event_type" in obj:
            found["dm_events"].add(str(obj.get("id")))
        elif "username" in obj:
            found["users"].add(str(obj.get("id")))
        elif "text" in obj:
            found["posts"].add(str(obj.get("id")))
    found["posts"] |= {str(obj.get("id")) for obj in _objects(includes.get("tweets"))}
    found["users"] |= {str(obj.get("id")) for obj in _objects(includes.get("users"))}
    found["media"] |= {str(obj.get("media_key")) for obj in _objects(includes.get("media"))}
    return found


def _objects(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    return [obj for obj in value or [] if isinstance(obj, dict)] if isinstance(value, list) else []
