"""LinkedIn's Community Management API (``/rest``) over the sandbox world.

``api`` routes and answers requests (versions, limits, errors); ``render`` writes posts and
comments as LinkedIn does; ``ids`` maps the world's ids to LinkedIn URNs and back.
"""

from archiver.sandbox.linkedin.api import LinkedInApi

__all__ = ["LinkedInApi"]
