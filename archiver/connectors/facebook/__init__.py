"""Facebook Pages and Messenger (and Instagram read through the same Graph host): the parser.

``parse`` turns one decoded Graph API response body, webhook delivery or batch response into
observations; see :mod:`archiver.connectors.facebook.parse` for the shapes it understands.
"""

from archiver.connectors.facebook.parse import parse

__all__ = ["parse"]
