"""YouTube (Data API v3): a channel's videos with their comment threads, replies and held comments.

``capture``/``confirm`` in :mod:`archiver.connectors.youtube.capture`, the parser in
:mod:`archiver.connectors.youtube.parse`, errors and quota in :mod:`archiver.connectors.youtube.dialect`.
"""

from archiver.connectors.youtube.parse import parse

__all__ = ["parse"]
