"""One exception tree for the whole archiver.

Every error the archiver raises on purpose derives from :class:`ArchiverError`. Errors that
may go away on a retry derive from :class:`TransientError`; the rest are terminal. Each error
carries a message that says what to do, and is picklable so it crosses process boundaries
(Airflow task runners, multiprocessing).
"""

from __future__ import annotations


class ArchiverError(Exception):
    """Root of all archiver errors; ``str(error)`` is a message an operator can act on."""

    def __init__(self, message: str, **context: str | int | float | None) -> None:
        super().__init__(message)
        self.message = message
        self.context = context

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (type(self), self.message, self.context))


def _rebuild(
    cls: type[ArchiverError], message: str, context: dict[str, str | int | float | None]
) -> ArchiverError:
    return cls(message, **context)


class TransientError(ArchiverError):
    """A failure that may succeed when retried later (throttling, 5xx, network)."""


class ConfigError(ArchiverError):
    """The configuration or accounts file is missing, unreadable or invalid."""


class PlatformError(ArchiverError):
    """A platform API answered with an error that retrying will not fix."""


class TokenError(PlatformError):
    """The platform rejected the access token: an operator must renew it."""


class ThrottledError(TransientError):
    """The platform throttled us and the retry budget ran out."""


class ServerError(TransientError):
    """The platform answered 5xx (or the connection failed) and the retry budget ran out."""


class ObjectGoneError(PlatformError):
    """The platform says an object does not exist (Graph code 100, subcode 33): deleted."""


class ParseError(ArchiverError):
    """A raw payload could not be understood; its bytes are kept in quarantine."""


class StorageError(ArchiverError):
    """The object store refused or failed an operation."""


class StackError(ArchiverError):
    """The embedded stack (SeaweedFS, sandbox) could not be started or reached."""


class DocumentError(ArchiverError):
    """A document could not be rendered, finished, validated or signed as PDF/A."""


class ReleaseError(ArchiverError):
    """A release (public access request) could not be selected, decided, built or stored."""


class SearchError(ArchiverError):
    """A search query cannot be run as given (bad day, unknown kind, empty text…)."""
