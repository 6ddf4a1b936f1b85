"""The Graph error envelope and the errors any Graph request can get.

Graph answers a failed request with ``{"error": {"message", "type", "code", "error_subcode",
"fbtrace_id"}}``; :class:`GraphError` carries those parts until the answer is written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

OBJECT_MISSING = (
    "(#100) Object does not exist, cannot be loaded due to missing permission or reviewable feature, "
    "or does not support this operation."
)


class GraphError(Exception):
    """An answer in the Graph error envelope: HTTP status, code, subcode, type and message."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        error_type: str = "OAuthException",
        subcode: int | None = None,
        **extra: object,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.error_type = error_type
        self.subcode = subcode
        self.extra = extra

    def body(self, fbtrace_id: str) -> dict[str, Any]:
        """Return the JSON error envelope with ``fbtrace_id``."""
        error: dict[str, Any] = {"message": self.message, "type": self.error_type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error.update(self.extra)
        error["fbtrace_id"] = fbtrace_id
        return {"error": error}


def object_missing() -> GraphError:
    """Return the error for a deleted, unknown or inaccessible object (code 100, subcode 33)."""
    return GraphError(400, 100, OBJECT_MISSING, "GraphMethodException", 33)


def invalid_token() -> GraphError:
    """Return the error for an access token the sandbox does not know (code 190, subcode 467)."""
    return GraphError(400, 190, "Invalid OAuth access token.", subcode=467)


def missing_token() -> GraphError:
    """Return the error for a request without an access token (code 104)."""
    return GraphError(400, 104, "An access token is required to request this resource.")


def expired_token(now: datetime) -> GraphError:
    """Return the error for an expired session (code 190, subcode 463), phrased as Meta does."""
    from zoneinfo import ZoneInfo

    pacific = ZoneInfo("America/Los_Angeles")
    fmt = "%A, %d-%b-%y %H:%M:%S %Z"
    expired = datetime.fromtimestamp(now.timestamp() - 86400, pacific)
    message = (
        f"Error validating access token: Session has expired on {expired.strftime(fmt)}. "
        f"The current time is {now.astimezone(pacific).strftime(fmt)}."
    )
    return GraphError(400, 190, message, subcode=463)
