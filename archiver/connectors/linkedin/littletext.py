"""LinkedIn's "little text" format (a post's ``commentary``) turned into the text a person reads.

Reserved characters ``| { } @ [ ] ( ) < > # \\ * _ ~`` are escaped with a backslash; a hashtag
is the template ``{hashtag|\\#|Tag}`` (read ``#Tag``); a mention is ``@[Name](urn:li:...)``
(read ``Name``). Anything else is literal.
"""

from __future__ import annotations

import re
from typing import Final

_TEMPLATE: Final = re.compile(r"\{hashtag\|\\?#\|((?:\\.|[^\\}])*)\}")
_MENTION: Final = re.compile(r"@\[((?:\\.|[^\\\]])*)\]\((urn:li:[^)]*)\)")
_ESCAPED: Final = re.compile(r"\\(.)", re.DOTALL)


def unescape(text: str) -> str:
    """Return the plain text of a little-text string: hashtags as ``#Tag``, mentions as the name."""
    parts: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char == "\\" and position + 1 < len(text):
            parts.append(text[position + 1])
            position += 2
            continue
        template = _TEMPLATE.match(text, position) if char == "{" else None
        mention = _MENTION.match(text, position) if char == "@" else None
        if template:
            parts.append("#" + _literal(template.group(1)))
            position = template.end()
        elif mention:
            parts.append(_literal(mention.group(1)))
            position = mention.end()
        else:
            parts.append(char)
            position += 1
    return "".join(parts)


def _literal(text: str) -> str:
    return _ESCAPED.sub(r"\1", text)
