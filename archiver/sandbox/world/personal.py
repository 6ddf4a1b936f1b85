"""The sandbox's truth of personal data: what its residents wrote into which item's text.

Text generation records every personnummer, samordningsnummer, phone number, e-mail address,
street address and first name it writes (``text.recording_personal_data``), and each day's
generator attributes them to the items whose text holds them. Release tests check that none of
these values survives masking.
"""

from __future__ import annotations

from datetime import datetime

from archiver.sandbox.world.days import to_unix
from archiver.sandbox.world.world import World


def personal_data(world: World, until: datetime | None = None) -> dict[str, list[tuple[str, str]]]:
    """Return native id -> [(category, value)] for the personal data in every text version of
    every item up to ``until`` (timezone-aware; None: every day generated so far).

    Categories: ``personnummer``, ``samordningsnummer``, ``phone``, ``email``, ``address`` and
    ``name`` (a resident's first name as the page greets them, which can be as short as "Li").
    """
    if until is not None:
        world.generate_through(until)
    limit = to_unix(until) if until is not None else None
    result: dict[str, list[tuple[str, str]]] = {}
    for history in world._histories.values():
        for native_id, recorded in history.personal.items():
            item = history.by_id[native_id]
            texts = [body for stamp, body in item.texts if limit is None or stamp <= limit]
            values = [entry for entry in recorded if any(entry[1] in body for body in texts)]
            if values:
                result[native_id] = values
    return result
