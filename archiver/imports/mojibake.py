"""The broken text encoding of Meta's data exports.

Meta writes each UTF-8 byte of a string as its own ``\\u00XX`` escape, so a decoded string holds
the UTF-8 bytes read as Latin-1 ("GÃ¶teborg" for "Göteborg", "ð\\x9f\\x98\\x8a" for "😊").
Encoding such a string as Latin-1 gives the UTF-8 bytes back; a string that does not round-trip
(already correct text) is left as it is.
"""

from __future__ import annotations

from typing import Any


def fix_text(text: str) -> str:
    """Return ``text`` with export mojibake undone, or unchanged when it is not mojibake."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def fix_strings(value: Any) -> Any:
    """Return a decoded JSON value with every string (keys included) passed through :func:`fix_text`."""
    if isinstance(value, str):
        return fix_text(value)
    if isinstance(value, list):
        return [fix_strings(item) for item in value]
    if isinstance(value, dict):
        return {fix_text(key): fix_strings(item) for key, item in value.items()}
    return value
