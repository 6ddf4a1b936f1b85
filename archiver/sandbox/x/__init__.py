"""The X API v2 wire format of the sandbox (``/2/...``): see :mod:`archiver.sandbox.x.api`."""

from archiver.sandbox.x.api import XApi

__all__ = ["XApi"]
