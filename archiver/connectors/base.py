"""The small interface every platform connector implements.

A connector has two halves:

* ``capture``: talk to the platform for one account and one day through the shared HTTP layer,
  which records every exchange in the run's WARC file; it returns the successful responses
  and raises typed errors.
* ``parse``: a pure function from one raw response body (and the URL it came from, if known) to
  *observations*: the items the body shows, in the item model's shape but without the
  versioning and provenance fields, which the normalise stage adds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

import msgspec

from archiver.dialect import ApiDialect
from archiver.items import item_key, record_class

if TYPE_CHECKING:
    from archiver.config import Account, Settings
    from archiver.http import ApiClient, Response


class Attachment(TypedDict, total=False):
    """One attachment as the platform describes it (media fields filled in after download)."""

    type: str
    source_url: str | None
    media_sha256: str | None
    media_key: str | None
    mime: str | None
    size: int | None
    title: str | None


class Observation(TypedDict):
    """One item as seen in one raw response; field meanings as in ``archiver.items.ITEM_SCHEMA``."""

    item_key: str
    platform: str
    account_id: str
    kind: str
    native_id: str
    parent_key: str | None
    thread_key: str
    author_id: str | None
    author_name: str | None
    from_account: bool
    record_class: str
    text: str | None
    attachments: list[Attachment]
    permalink: str | None
    created_at: datetime | None
    edited_at: datetime | None
    visibility: str
    state: str
    source_json: str


def first_of_each_item(found: Iterable[Observation]) -> Iterator[Observation]:
    """Return the observations in order, each item key once (the first sighting in a body)."""
    seen: set[str] = set()
    for item in found:
        if item["item_key"] not in seen:
            seen.add(item["item_key"])
            yield item


def attachment(kind: str, source_url: str | None, title: str | None) -> Attachment:
    """Return an attachment as the platform names it, its media fields not filled in yet."""
    return {
        "type": kind,
        "source_url": source_url,
        "media_sha256": None,
        "media_key": None,
        "mime": None,
        "size": None,
        "title": title,
    }


def make_observation(
    platform: str,
    account_id: str,
    kind: str,
    native_id: str,
    *,
    parent_key: str | None,
    thread_key: str | None,
    author: tuple[str | None, str | None],
    from_account: bool,
    text: str | None,
    attachments: list[Attachment],
    permalink: str | None,
    created_at: datetime | None,
    edited_at: datetime | None,
    visibility: str,
    state: str,
    source: Any,
) -> Observation:
    """Return the observation of ``native_id`` on the account, with its item key, its record
    class (from ``from_account``) and ``source_json`` (the canonical JSON of ``source``: sorted
    keys, no spaces, UTF-8); ``thread_key`` None means the item is its own thread root."""
    key = item_key(platform, account_id, native_id)
    return {
        "item_key": key,
        "platform": platform,
        "account_id": account_id,
        "kind": kind,
        "native_id": native_id,
        "parent_key": parent_key,
        "thread_key": thread_key or key,
        "author_id": author[0],
        "author_name": author[1],
        "from_account": from_account,
        "record_class": record_class(from_account),
        "text": text,
        "attachments": attachments,
        "permalink": permalink,
        "created_at": created_at,
        "edited_at": edited_at,
        "visibility": visibility,
        "state": state,
        "source_json": msgspec.json.encode(source, order="sorted").decode("utf-8"),
    }


class CaptureWindow(TypedDict):
    """What one capture run covers: the archive day and how far back to re-check."""

    day: date
    since: datetime | None
    """Earliest creation time re-checked; None for a full sweep."""
    until: datetime
    """End of the archive day (exclusive), UTC."""


class CaptureFunction(Protocol):
    """Fetches everything in a window for one account; every exchange lands in the client's WARC."""

    def __call__(
        self, client: ApiClient, account: Account, window: CaptureWindow, settings: Settings
    ) -> list[Response]: ...


class ConfirmFunction(Protocol):
    """Looks up thread roots (native id, kind) the listings left out; returns the answers and
    the ids whose state the platform would not tell (any error but "does not exist").

    Roots still on the platform come back as items; gone ones answer with the platform's
    "does not exist" error, which stays in the WARC as the evidence for their tombstone.
    """

    def __call__(
        self, client: ApiClient, account: Account, roots: list[tuple[str, str]], settings: Settings
    ) -> tuple[list[Response], list[str]]: ...


class ParseFunction(Protocol):
    """Yields the observations in one decoded JSON body; raises ParseError if it is not understood."""

    def __call__(self, url: str | None, body: Any, account_id: str | None) -> Iterator[Observation]: ...


@dataclass(frozen=True)
class Connector:
    """What the pipeline needs from a platform: its name, capture, lookups, parser and API dialect."""

    platform: str
    capture: CaptureFunction
    confirm: ConfirmFunction
    parse: ParseFunction
    dialect: ApiDialect = field(default_factory=ApiDialect)
