"""The small interface every platform connector implements.

A connector has two halves:

* ``capture``: talk to the platform for one account and one day through the shared HTTP layer,
  which records every exchange in the run's WARC file. It returns nothing but raises typed
  errors; what was fetched is in the WARC.
* ``parse``: a pure function from one raw response body (and the URL it came from, if known) to
  *observations*: the items the body shows, in the item model's shape but without the
  versioning and provenance fields, which the normalise stage adds.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

if TYPE_CHECKING:
    from archiver.config import Account, Settings
    from archiver.http import ApiClient


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


class Connector(Protocol):
    """What the pipeline needs from a platform module."""

    platform: str

    def capture(self, client: ApiClient, account: Account, window: CaptureWindow, settings: Settings) -> None:
        """Fetch everything in ``window`` for ``account``; every exchange lands in the client's WARC."""

    def parse(self, url: str | None, body: Any, account_id: str | None) -> Iterator[Observation]:
        """Yield the observations in one decoded JSON body; raise ParseError if it is not understood."""
