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


def _linkedin() -> Connector:
    from archiver.connectors.linkedin.capture import capture, confirm
    from archiver.connectors.linkedin.dialect import LINKEDIN
    from archiver.connectors.linkedin.parse import parse

    return Connector("linkedin", capture, confirm, parse, LINKEDIN)


def _instagram() -> Connector:
    from archiver.connectors.instagram.capture import capture, confirm
    from archiver.connectors.instagram.dialect import INSTAGRAM_GRAPH
    from archiver.connectors.instagram.parse import parse

    return Connector("instagram", capture, confirm, parse, INSTAGRAM_GRAPH)


def _youtube() -> Connector:
    from archiver.connectors.youtube.capture import capture, confirm
    from archiver.connectors.youtube.dialect import YOUTUBE
    from archiver.connectors.youtube.parse import parse

    return Connector("youtube", capture, confirm, parse, YOUTUBE)


def _x() -> Connector:
    from archiver.connectors.x.capture import capture, confirm
    from archiver.connectors.x.dialect import X_API
    from archiver.connectors.x.parse import parse

    return Connector("x", capture, confirm, parse, X_API)


_REGISTRY: dict[str, Callable[[], Connector]] = {
    "facebook": _facebook,
    "linkedin": _linkedin,
    "instagram": _instagram,
    "youtube": _youtube,
    "x": _x,
}


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
