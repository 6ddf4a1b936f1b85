"""The one HTTP layer every connector uses: recording, retries, pacing and error mapping.

Every exchange, failed ones included, is written to the run's WARC file with secrets removed.
Throttling and server errors are retried with exponential back-off (tenacity); requests are
slowed down as the platform's usage headers approach their limit; Graph API error envelopes
become typed errors (:mod:`archiver.errors`) whose messages say what to do.
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
from archiver.errors import (
    ObjectGoneError,
    PlatformError,
    ServerError,
    ThrottledError,
    TokenError,
    TransientError,
)
from archiver.warc import API, MEDIA, RecordedResponse, Redactor, WarcRecorder

log = logging.getLogger(__name__)
TOKEN_IN_URL = re.compile(r"((?:access_token|client_secret|appsecret_proof)=)[^&\s\"']+")


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
THROTTLE_CODES = frozenset({4, 17, 32, 341, 368, 613, 80001, 80002, 80006})
TRANSIENT_CODES = frozenset({1, 2})


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
    ) -> None:
        self.settings = settings
        self.recorder = recorder
        self.stats = RequestStats()
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

    def get_api(self, url: str, params: dict[str, str] | None = None) -> Response:
        """GET a platform API URL with the account's token; return the successful response.

        ``url`` may be a ``paging.next`` URL that already carries the token. Raises TokenError,
        ObjectGoneError or PlatformError at once, ThrottledError or ServerError once the
        retries are used up.
        """
        query = dict(params or {})
        if "access_token=" not in url:
            query["access_token"] = self._token
        return self._with_retries(lambda: self._api_once(url, query))

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

    def _send(self, url: str, params: dict[str, str], kind: str) -> tuple[httpx.Response, RecordedResponse]:
        self.stats.requests += 1
        try:
            answer = self._http.get(url, params=params or None)
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

    def _api_once(self, url: str, params: dict[str, str]) -> Response:
        answer, recorded = self._send(url, params, API)
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
        error = _graph_error(body)
        if not error and status not in (401, 429):
            raise PlatformError(
                f"{self._account_label}: {self._redact(url)} answered HTTP {status} without a platform "
                "error: check the account's API base URL (api_base in the accounts file, or "
                "ARCHIVER_API_BASE__<PLATFORM>)."
            )
        code = int(error.get("code") or 0)
        subcode = int(error.get("error_subcode") or 0)
        message = self._redact(str(error.get("message") or body[:200].decode("utf-8", "replace")))
        where = f"{self._account_label}: HTTP {status}, code {code}/{subcode}: {message}"
        if code == 190 or status == 401:
            raise TokenError(
                f"{where}. The access token was rejected; renew it and store the new token in the "
                f"environment variable {self._token_env} (no retry until then).",
                token_env=self._token_env,
            )
        if code in THROTTLE_CODES or status == 429:
            self.stats.throttled += 1
            regain = _regain_seconds(headers)
            if self.stats.throttle_seconds + regain > self.settings.throttle_max_wait:
                raise PlatformError(
                    f"{where}: throttled for {regain / 60:.0f} more minutes, past this run's "
                    f"ARCHIVER_THROTTLE_MAX_WAIT; the next run catches up."
                )
            raise ThrottledError(f"{where} (throttled)", retry_after=regain)
        if code in TRANSIENT_CODES or error.get("is_transient"):
            raise ServerError(f"{where} (transient)")
        if code == 100 and subcode == 33:
            raise ObjectGoneError(f"{where} (object deleted or not visible)")
        raise PlatformError(f"{where}. Check the account's permissions and the request.")

    def _pace(self, headers: httpx.Headers) -> None:
        usage = _max_usage(headers)
        threshold = self.settings.pace_threshold
        if usage <= threshold:
            return
        share = min(1.0, (usage - threshold) / max(1, 100 - threshold))
        pause = share * self.settings.pace_max_sleep
        self.stats.paced_seconds += pause
        self._sleep(pause)

    def _redact(self, text: str) -> str:
        """Return ``text`` (a URL or message) with the token, in any encoding, replaced."""
        return TOKEN_IN_URL.sub(r"\1REDACTED", self._redactor.text(text))


def _graph_error(body: bytes) -> dict[str, Any]:
    try:
        decoded = json.loads(body)
    except ValueError:
        return {}
    error = decoded.get("error") if isinstance(decoded, dict) else None
    return error if isinstance(error, dict) else {}


def _usage_values(headers: httpx.Headers) -> list[dict[str, Any]]:
    values: list[dict[str, Any]] = []
    for name in ("x-app-usage", "x-page-usage", "x-ad-account-usage"):
        if name in headers:
            decoded = _loads(headers[name])
            if isinstance(decoded, dict):
                values.append(decoded)
    business = _loads(headers.get("x-business-use-case-usage", ""))
    if isinstance(business, dict):
        for entries in business.values():
            values.extend(entry for entry in entries or [] if isinstance(entry, dict))
    return values


def _max_usage(headers: httpx.Headers) -> float:
    percents = [
        float(value)
        for usage in _usage_values(headers)
        for name, value in usage.items()
        if name in ("call_count", "total_time", "total_cputime") and isinstance(value, int | float)
    ]
    return max(percents, default=0.0)


def _regain_seconds(headers: httpx.Headers) -> float:
    minutes = [float(usage.get("estimated_time_to_regain_access") or 0) for usage in _usage_values(headers)]
    return max(minutes, default=0.0) * 60.0


def _loads(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None
