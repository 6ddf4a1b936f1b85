"""Instagram professional accounts through the Graph API (Instagram API with Facebook Login).

``capture`` reads the account's media with comments and replies and its direct-message
conversations; ``parse`` turns one raw response body into observations (see
:mod:`archiver.connectors.instagram.parse`). What the platform withholds (the details of all but
the 20 newest messages of a conversation) is reported per run as a gap, never tombstoned.
"""

from archiver.connectors.instagram.parse import parse

__all__ = ["parse"]
