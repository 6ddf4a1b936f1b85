"""The Facebook Graph API wire format (v26.0) over the sandbox world.

Routing (``/{id}`` and ``/{id}/{edge}``), the field-expansion syntax with nested braces and
modifiers (``comments.filter(stream).limit(100).summary(true){id,parent{id}}``), cursor paging
with absolute ``next`` URLs that carry the caller's ``access_token``, the error envelope, and
how Graph answers look on the wire. :class:`GraphApi` turns one authenticated request into one
JSON body or a :class:`GraphError`; the sandbox application (``application.py``) adds faults,
authentication, usage headers and the clock.

Modules, from the request in to the answer out:

* ``errors``: the error envelope (:class:`GraphError`) and the errors any request can get.
* ``fields``: the ``fields=`` expansion syntax, parsed into :class:`FieldSpec` trees.
* ``context``: one request (:class:`GraphRequest`) and what every field function gets.
* ``nodes``: node types and serialising a node with the requested fields.
* ``paging``: edge requests: ``limit``, ``since``/``until``, cursors and ``next`` links.
* ``links``: the public facebook.com URLs of pages, posts, comments and photos.
* ``page``, ``posts``, ``comments``, ``reactions``, ``messenger``, ``attachments``: the node
  types, each with its fields and the edge that lists it.
* ``api``: routing a path to a node or an edge, and validating the requested fields.
* ``usage``: the ``X-App-Usage`` and ``X-Business-Use-Case-Usage`` headers.
* ``responses``: JSON bytes, response headers, and the error, throttle and 5xx answers.
"""

from archiver.sandbox.graph.api import DEFAULT_VERSION, VERSION_PREFIX, GraphApi
from archiver.sandbox.graph.context import GraphRequest
from archiver.sandbox.graph.errors import (
    GraphError,
    expired_token,
    invalid_token,
    missing_token,
    object_missing,
)
from archiver.sandbox.graph.fields import FieldSpec, format_fields, parse_fields

__all__ = [
    "DEFAULT_VERSION",
    "VERSION_PREFIX",
    "FieldSpec",
    "GraphApi",
    "GraphError",
    "GraphRequest",
    "expired_token",
    "format_fields",
    "invalid_token",
    "missing_token",
    "object_missing",
    "parse_fields",
]
