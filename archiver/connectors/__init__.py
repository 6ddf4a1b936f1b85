"""Platform connectors, found by name: one package per platform behind one small interface."""

from __future__ import annotations

from collections.abc import Callable

from archiver.connectors.base import Connector
from archiver.errors import ConfigError


def _facebook() -> Connector:
    from archiver.connectors.facebook.capture import capture, confirm
    from archiver.connectors.facebook.dialect import GRAPH
    from archiver.connectors.facebook.parse import parse

    return Connector("facebook", capture, confirm, parse, GRAPH)


_REGISTRY: dict[str, Callable[[], Connector]] = {"facebook": _facebook}


def get_connector(platform: str) -> Connector:
    """Return the connector for ``platform``, or raise ConfigError listing the supported ones."""
    try:
        factory = _REGISTRY[platform]
    except KeyError:
        supported = ", ".join(sorted(_REGISTRY))
        raise ConfigError(f"Platform {platform!r} is not supported yet; supported: {supported}.") from None
    return factory()


def supported_platforms() -> list[str]:
    """Return the names of the platforms that have a connector."""
    return sorted(_REGISTRY)
