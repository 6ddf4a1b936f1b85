"""The sandbox's YouTube Data API v3 (``/youtube/v3``): videos, comment threads, replies, quota.

See :mod:`archiver.sandbox.youtube.api` for what it answers and how it limits, and
:mod:`archiver.sandbox.youtube.ids` for how the world's ids become YouTube ids.
"""

from archiver.sandbox.youtube.api import YouTubeApi

__all__ = ["YouTubeApi"]
