"""The one HTTP layer every connector uses: recording, retries, pacing and error mapping.

Every exchange, failed ones included, is written to the run's WARC file with secrets removed.
Throttling and server errors are retried with exponential back-off (tenacity); requests are
slowed down as the platform's usage headers approach their limit; the platform's error
envelopes become typed errors (:mod:`archiver.errors`) whose messages say what to do. What
differs between platforms (where the token goes, the error envelope, the usage headers) is the
platform's :class:`archiver.dialect.ApiDialect`.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from archiver import __version__
from archiver.config import Settings
from archiver.dialect import ApiDialect, ApiFailure
from archiver.errors import PlatformError, ServerError, ThrottledError, TransientError
from archiver.report import CaptureReport
from archiver.warc import API, MEDIA, RecordedResponse, Redactor, WarcRecorder

log = logging.getLogger(__name__)
TOKEN_IN_URL = re.compile(r"(?<![\w-])((?:access_token|client_secret|appsecret_proof|key)=)[^&\s\"']+")


class RedactTokens(logging.Filter):
    """Rewrites log records so that token query parameters never reach a log.

    httpx logs every request URL at INFO (Airflow's task logs show INFO), and the platforms'
    ``paging.next`` URLs carry the access token.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the record's message with its redacted text; keep every record."""
        message = record.getMessage()
        if "=" in message:
            record.msg, record.args = TOKEN_IN_URL.sub(r"\1REDACTED", message), None
        return True


for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).addFilter(RedactTokens())

USER_AGENT = f"social-archiver/{__version__} (+public records archive)"


@dataclass(frozen=True)
class Response:
    """A successful response: decoded JSON (or raw bytes) and where it is in the WARC."""

    url: str
    status: int
    content_type: str
    body: bytes
    recorded: RecordedResponse

    def json(self) -> Any:
        """Return the body decoded as JSON."""
        return json.loads(self.body)


@dataclass
class RequestStats:
    """What a client did during a run: for the manifest and the operator."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    server_errors: int = 0
    paced_seconds: float = 0.0
    throttle_seconds: float = 0.0
    by_status: dict[str, int] = field(default_factory=dict)


class ApiClient:
    """HTTP client for one account's capture run; all exchanges go to ``recorder``."""

    def __init__(
        self,
        settings: Settings,
        recorder: WarcRecorder,
        token: str,
        token_env: str,
        account_label: str,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        dialect: ApiDialect | None = None,
    ) -> None:
        self.settings = settings
        self.recorder = recorder
        self.dialect = dialect or ApiDialect()
        self.stats = RequestStats()
        self.report = CaptureReport()
        """What the platform could not deliver and what the run cost; connectors add to it."""
        self._token = token
        self._redactor = Redactor([token])
        self._token_env = token_env
        self._account_label = account_label
        self._sleep = sleep
        self._http = httpx.Client(
            timeout=settings.http_timeout,
            transport=transport,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
            follow_redirects=True,
        )

    def close(self) -> None:
        """Close the underlying connection pool."""
        self._http.close()

    def get_api(
        self, url: str, params: dict[str, str] | None = None, headers: dict[str, str] | None = None
    ) -> Response:
        """GET a platform API URL with the account's token; return the successful response.

        ``url`` may be a paging URL that already carries the token. Raises TokenError,
        ObjectGoneError or PlatformError at once, ThrottledError or ServerError once the
        retries are used up.
        """
        query, extra = dict(params or {}), dict(headers or {})
        self.dialect.authorise(self._token, url, query, extra)
        return self._with_retries(lambda: self._api_once(url, query, extra))

    def get_media(self, url: str) -> Response:
        """GET a media URL (no token); return the response, raising PlatformError on 4xx."""
        return self._with_retries(lambda: self._media_once(url))

    def _with_retries(self, attempt: Callable[[], Response]) -> Response:
        retrying = Retrying(
            stop=stop_after_attempt(self.settings.http_max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(TransientError),
            sleep=self._sleep,
            reraise=True,
            before_sleep=self._count_retry,
        )
        return retrying(attempt)

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        hinted = float(getattr(error, "context", {}).get("retry_after") or 0.0)
        if hinted:  # the platform said how long; calling earlier would extend the throttle
            self.stats.throttle_seconds += hinted
            return hinted
        backoff = self.settings.http_backoff_initial * 2 ** (state.attempt_number - 1)
        return float(min(backoff, self.settings.http_backoff_max))

    def _count_retry(self, state: RetryCallState) -> None:
        self.stats.retries += 1
        error = state.outcome.exception() if state.outcome else None
        log.warning("%s: retrying after %s", self._account_label, error)

    def _send(
        self, url: str, params: dict[str, str], kind: str, headers: dict[str, str] | None = None
    ) -> tuple[httpx.Response, RecordedResponse]:
        self.stats.requests += 1
        try:
            answer = self._http.get(url, params=params or None, headers=headers or None)
        except httpx.TransportError as error:
            self.stats.server_errors += 1
            raise ServerError(
                f"{self._account_label}: could not reach {self._redact(url)}: {type(error).__name__}"
            ) from None
        for hop in answer.history:
            self._record(hop, kind)
        return answer, self._record(answer, kind)

    def _record(self, answer: httpx.Response, kind: str) -> RecordedResponse:
        """Write one exchange (a redirect hop or the final answer) to the WARC file."""
        key = str(answer.status_code)
        self.stats.by_status[key] = self.stats.by_status.get(key, 0) + 1
        return self.recorder.record(
            "GET",
            str(answer.request.url),
            list(answer.request.headers.multi_items()),
            f"{answer.status_code} {answer.reason_phrase}",
            list(answer.headers.multi_items()),
            answer.content,
            kind,
        )

    def _api_once(self, url: str, params: dict[str, str], headers: dict[str, str]) -> Response:
        answer, recorded = self._send(url, params, API, headers)
        if answer.status_code >= 500:
            self.stats.server_errors += 1
            raise ServerError(
                f"{self._account_label}: server error {answer.status_code} from {self._redact(url)}"
            )
        body = answer.content
        if answer.status_code >= 400:
            self._raise_api_error(url, answer.status_code, body, answer.headers)
        content_type = answer.headers.get("content-type", "")
        if "json" not in content_type and "javascript" not in content_type:
            raise PlatformError(
                f"{self._account_label}: {self._redact(url)} answered {answer.status_code} with "
                f"{content_type or 'no content type'}, not JSON: check the account's API base URL "
                "(api_base in the accounts file, or ARCHIVER_API_BASE__<PLATFORM>)."
            )
        self._pace(answer.headers)
        return self._response(answer, recorded)

    def _media_once(self, url: str) -> Response:
        answer, recorded = self._send(url, {}, MEDIA)
        if answer.status_code >= 500:
            self.stats.server_errors += 1
            raise ServerError(
                f"{self._account_label}: server error {answer.status_code} for media {self._redact(url)}"
            )
        if answer.status_code >= 400:
            raise PlatformError(
                f"{self._account_label}: media {self._redact(url)} answered {answer.status_code}"
            )
        return self._response(answer, recorded)

    def _response(self, answer: httpx.Response, recorded: RecordedResponse) -> Response:
        return Response(
            url=self._redact(str(answer.request.url)),
            status=answer.status_code,
            content_type=answer.headers.get("content-type", ""),
            body=answer.content,
            recorded=recorded,
        )

    def _raise_api_error(self, url: str, status: int, body: bytes, headers: httpx.Headers) -> None:
        failure = ApiFailure(status, body, headers, f"{self._account_label}: {self._redact(url)}", self._token_env)
        if status not in (401, 429) and not self.dialect.understands(failure):
            raise PlatformError(
                f"{self._account_label}: {self._redact(url)} answered HTTP {status} without a platform "
                "error: check the account's API base URL (api_base in the accounts file, or "
                "ARCHIVER_API_BASE__<PLATFORM>)."
            )
        error = self.dialect.error(failure)
        error.message = self._redact(error.message)
        error.args = (error.message,)
        if isinstance(error, ThrottledError):
            self.stats.throttled += 1
            regain = float(error.context.get("retry_after") or 0.0)
            if self.stats.throttle_seconds + regain > self.settings.throttle_max_wait:
                raise PlatformError(
                    f"{error.message.removesuffix(' (throttled)')}: throttled for {regain / 60:.0f} more "
                    "minutes, past this run's ARCHIVER_THROTTLE_MAX_WAIT; the next run catches up.",
                    resumable="yes",
                )
        raise error

    def _pace(self, headers: httpx.Headers) -> None:
        pause = self.dialect.pause(headers, self.settings)
        if pause > 0:
            self.stats.paced_seconds += pause
            self._sleep(pause)

    def _redact(self, text: str) -> str:
        """Return ``text`` (a URL or message) with the token, in any encoding, replaced."""
        return TOKEN_IN_URL.sub(r"\1REDACTED", self._redactor.text(text))
