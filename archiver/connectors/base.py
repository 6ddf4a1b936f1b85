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

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

from archiver.dialect import ApiDialect

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
