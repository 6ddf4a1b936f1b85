"""The Instagram Graph API's dialect: Meta's Graph conventions, Instagram's usage type.

Instagram with Facebook Login is served by graph.facebook.com with a Page token: the token is
the ``access_token`` parameter, errors come in the Graph envelope (code 190 renew the token, 100
with subcode 33 a deleted or unreadable media, comment or conversation, 4/17/32/613/80002
throttling) and ``X-Business-Use-Case-Usage`` reports the ``instagram`` usage type with
``estimated_time_to_regain_access``. All of that is :class:`GraphDialect`'s.
"""

from __future__ import annotations

from archiver.connectors.facebook.dialect import GraphDialect


class InstagramGraphDialect(GraphDialect):
    """Instagram professional accounts through the Graph API."""

    name = "instagram-graph"


INSTAGRAM_GRAPH = InstagramGraphDialect()
