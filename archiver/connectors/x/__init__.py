"""X (API v2): capture (posts, mentions, replies by conversation search, DM events), the parser
and the dialect (bearer token, v2 problems, rate limits by reset time, pay-per-use estimate)."""

from archiver.connectors.x.parse import parse

__all__ = ["parse"]
