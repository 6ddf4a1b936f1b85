"""The LinkedIn REST API's dialect: versioned headers, its error envelope, blind back-off.

Every request carries ``LinkedIn-Version: YYYYMM`` and ``X-Restli-Protocol-Version: 2.0.0``.
Errors come as ``{"status", "code", "serviceErrorCode", "message"}``. A retired version answers
HTTP 426; throttling is a bare 429 with no rate-limit headers and no ``Retry-After``, so the
HTTP layer backs off exponentially (a :class:`ThrottledError` without ``retry_after``).

A reply listing (``/socialActions/{commentUrn}/comments``) names only the comment, whose URN
holds the post's *activity* (``urn:li:comment:(urn:li:activity:N,M)``), and the replies'
``object`` is that activity too; nothing in the Posts API maps an activity to the post's
``urn:li:share:``/``urn:li:ugcPost:`` id. So the capture writes the post into the request
URL's fragment (``#thread=urn%3Ali%3Ashare%3A1``): a fragment is never sent (the request line in
the WARC is exactly what went out), but it is kept in the record's ``WARC-Target-URI``, so the
parser finds each reply's thread from the raw exchange alone.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import parse_qsl, quote, urlsplit

from archiver.config import Settings
from archiver.dialect import ApiDialect, ApiFailure, loads
from archiver.errors import ArchiverError, ObjectGoneError, PlatformError, ThrottledError

DEFAULT_VERSION: Final = str(Settings.model_fields["linkedin_version"].default)
RESTLI_PROTOCOL: Final = "2.0.0"
THREAD_MARK: Final = "thread"
"""Name of the URL fragment parameter that names the post a reply listing belongs to."""


def version_headers(settings: Settings) -> dict[str, str]:
    """Return the headers naming the configured API version and the Rest.li protocol."""
    return {"LinkedIn-Version": settings.linkedin_version, "X-Restli-Protocol-Version": RESTLI_PROTOCOL}


def with_thread(url: str, post_urn: str) -> str:
    """Return ``url`` with a fragment naming the post (``#thread=<encoded urn>``); the fragment
    is never sent to LinkedIn, only kept in the WARC's target URI."""
    return f"{url.split('#', 1)[0]}#{THREAD_MARK}={quote(post_urn, safe='')}"


def thread_of(url: str | None) -> str | None:
    """Return the post URN a request URL's fragment names (see :func:`with_thread`), or None."""
    if not url or "#" not in url:
        return None
    found = dict(parse_qsl(urlsplit(url).fragment)).get(THREAD_MARK)
    return found or None


class LinkedInDialect(ApiDialect):
    """LinkedIn's versioned REST API (Community Management API)."""

    name = "linkedin"

    def authorise(self, token: str, url: str, params: dict[str, str], headers: dict[str, str]) -> None:
        """Add the bearer token and the version headers (the capture passes the configured
        version; a request without one gets the default)."""
        headers["Authorization"] = f"Bearer {token}"
        headers.setdefault("LinkedIn-Version", DEFAULT_VERSION)
        headers.setdefault("X-Restli-Protocol-Version", RESTLI_PROTOCOL)

    def understands(self, failure: ApiFailure) -> bool:
        """Return True when the body is LinkedIn's error envelope (or the answer is a 426)."""
        return failure.status == 426 or bool(linkedin_error(failure.body))

    def error(self, failure: ApiFailure) -> ArchiverError:
        """Return the typed error for a LinkedIn error answer."""
        error = linkedin_error(failure.body)
        code = str(error.get("code") or error.get("serviceErrorCode") or "")
        message = str(error.get("message") or failure.body[:200].decode("utf-8", "replace"))
        where = f"{failure.where}: HTTP {failure.status}{f' {code}' if code else ''}: {message}"
        if failure.status == 401:
            return failure.token_rejected(f"HTTP 401 {code}: {message}")
        if failure.status == 426:
            return PlatformError(
                f"{where}. LinkedIn no longer serves this API version (each version is retired about "
                "12 months after its release): set ARCHIVER_LINKEDIN_VERSION to a current version "
                "(YYYYMM, see LinkedIn's API versioning page) and run again.",
                resumable="yes",
            )
        if failure.status == 429:
            return ThrottledError(
                f"{where} (throttled; LinkedIn sends no Retry-After, so the archiver backs off "
                "exponentially. LinkedIn's limits are per app and member per day and reset at midnight "
                "UTC: if this persists the day's budget is used up and the next run catches up)",
                retry_after=0.0,
            )
        if failure.status in (404, 410):
            return ObjectGoneError(f"{where} (not found)")
        return PlatformError(
            f"{where}. Check the token's scopes (r_organization_social) and the member's Page role "
            "(ADMINISTRATOR or CONTENT_ADMIN), and the request."
        )


LINKEDIN = LinkedInDialect()


def linkedin_error(body: bytes) -> dict[str, Any]:
    """Return a LinkedIn error envelope (``status`` and ``message``), or {} when it is not one."""
    decoded = loads(body)
    if isinstance(decoded, dict) and isinstance(decoded.get("status"), int) and "message" in decoded:
        return decoded
    return {}
