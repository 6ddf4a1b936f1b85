"""LinkedIn Pages through the Community Management API: capture, parser and dialect.

``capture`` fetches an organization's posts with their comments and replies; ``parse`` turns a
raw response body into observations; ``dialect`` sends the versioned headers and maps LinkedIn's
errors (426 for a retired version, a bare 429 for throttling).
"""

from archiver.connectors.linkedin.parse import parse

__all__ = ["parse"]
