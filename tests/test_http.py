"""The HTTP layer: Graph errors become typed errors, throttling and 5xx are retried, all is recorded."""

from __future__ import annotations

import gzip
import json
import logging

import httpx
import pytest

from archiver.config import Settings
from archiver.connectors.facebook.dialect import GRAPH
from archiver.errors import ObjectGoneError, PlatformError, ServerError, TokenError
from archiver.http import ApiClient
from archiver.warc import Redactor, WarcRecorder, read_exchanges

TOKEN = "EAAGtesttoken0123456789abcdef0123456789"
USAGE = {"X-App-Usage": json.dumps({"call_count": 10, "total_time": 5, "total_cputime": 5})}


def graph_error(
    status: int, code: int, subcode: int | None = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    error = {"message": f"error {code}", "type": "OAuthException", "code": code, "fbtrace_id": "A"}
    if subcode:
        error["error_subcode"] = subcode
    return httpx.Response(status, json={"error": error}, headers={**USAGE, **(headers or {})})


def client_for(
    answers: list[httpx.Response], **settings: object
) -> tuple[ApiClient, WarcRecorder, list[float]]:
    queue = list(answers)
    sleeps: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        return queue.pop(0)

    recorder = WarcRecorder(Redactor([TOKEN]), {"run_id": "t"})
    client = ApiClient(
        Settings(http_backoff_initial=1.0, http_max_attempts=4, **settings),  # type: ignore[arg-type]
        recorder,
        TOKEN,
        "ARCHIVER_TOKEN_TEST",
        "facebook account 'test'",
        transport=httpx.MockTransport(handler),
        sleep=sleeps.append,
        dialect=GRAPH,
    )
    return client, recorder, sleeps


def test_expired_token_fails_at_once_naming_the_variable_to_renew() -> None:
    client, _, sleeps = client_for([graph_error(400, 190, 463)])
    with pytest.raises(TokenError, match="ARCHIVER_TOKEN_TEST") as raised:
        client.get_api("https://graph.test/v26.0/1/feed")
    assert TOKEN not in str(raised.value)
    assert sleeps == []


def test_throttling_and_server_errors_are_retried_with_backoff_and_recorded() -> None:
    ok = httpx.Response(200, json={"data": []}, headers=USAGE)
    client, recorder, sleeps = client_for(
        [graph_error(403, 32), httpx.Response(502, text="<html>bad gateway</html>"), ok]
    )
    response = client.get_api("https://graph.test/v26.0/1/feed")
    assert response.json() == {"data": []}
    assert sleeps == [1.0, 2.0]
    assert (client.stats.requests, client.stats.throttled, client.stats.server_errors) == (3, 1, 1)
    statuses = [exchange.status for exchange in read_exchanges(recorder.getvalue())]
    assert statuses == [403, 502, 200]
    assert TOKEN.encode() not in gzip.decompress(recorder.getvalue())


def test_throttle_waits_as_long_as_the_platform_says() -> None:
    usage = json.dumps({"1": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 2}]})
    ok = httpx.Response(200, json={"data": []})
    client, _, sleeps = client_for(
        [graph_error(400, 80001, headers={"X-Business-Use-Case-Usage": usage}), ok]
    )
    client.get_api("https://graph.test/v26.0/1/feed")
    assert sleeps[0] == 120.0


def test_retries_give_up_with_a_transient_error() -> None:
    client, _, _ = client_for([httpx.Response(500, json={"error": {"code": 1, "message": "x"}})] * 4)
    with pytest.raises(ServerError):
        client.get_api("https://graph.test/v26.0/1/feed")


def test_deleted_object_is_its_own_error() -> None:
    client, _, _ = client_for([graph_error(400, 100, 33)])
    with pytest.raises(ObjectGoneError):
        client.get_api("https://graph.test/v26.0/1_2")


def test_high_usage_slows_requests_down() -> None:
    busy = {"X-App-Usage": json.dumps({"call_count": 95, "total_time": 10, "total_cputime": 10})}
    client, _, sleeps = client_for(
        [httpx.Response(200, json={}, headers=busy)], pace_threshold=75, pace_max_sleep=10.0
    )
    client.get_api("https://graph.test/v26.0/1")
    assert sleeps == [pytest.approx(8.0)]


def test_request_logs_never_show_the_token(caplog: pytest.LogCaptureFixture) -> None:
    client, _, _ = client_for([httpx.Response(200, json={"data": []}, headers=USAGE)])
    with caplog.at_level(logging.DEBUG, logger="httpx"):
        client.get_api(f"https://graph.test/v26.0/1/feed?access_token={TOKEN}&after=x")
    assert "graph.test" in caplog.text
    assert TOKEN not in caplog.text
    assert "access_token=REDACTED" in caplog.text


def test_every_redirect_hop_is_recorded() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "cdn.test":
            return httpx.Response(302, headers={"Location": "https://cdn2.test/photo.jpg"})
        return httpx.Response(200, content=b"\xff\xd8jpeg", headers={"Content-Type": "image/jpeg"})

    recorder = WarcRecorder(Redactor([TOKEN]), {"run_id": "t"})
    client = ApiClient(Settings(), recorder, TOKEN, "T", "x", transport=httpx.MockTransport(handler))
    assert client.get_media("https://cdn.test/photo.jpg?oe=1").body == b"\xff\xd8jpeg"
    hops = [(e.status, e.url) for e in read_exchanges(recorder.getvalue())]
    assert hops == [(302, "https://cdn.test/photo.jpg?oe=1"), (200, "https://cdn2.test/photo.jpg")]


def test_an_encoded_token_in_a_paging_url_never_reaches_an_error_message() -> None:
    token = "123456789|AbC/dEf+gh ij"
    queue = [httpx.Response(500, text="down")] * 4

    recorder = WarcRecorder(Redactor([token]), {"run_id": "t"})
    client = ApiClient(
        Settings(http_max_attempts=2, http_backoff_initial=0.0),
        recorder,
        token,
        "T",
        "x",
        transport=httpx.MockTransport(lambda request: queue.pop()),
        sleep=lambda _: None,
        dialect=GRAPH,
    )
    encoded = "123456789%7cAbC%2fdEf%2bgh+ij"
    with pytest.raises(ServerError) as raised:
        client.get_api(f"https://graph.test/v26.0/1/feed?after=x&access_token={encoded}")
    assert "access_token=REDACTED" in str(raised.value)
    assert encoded not in str(raised.value) and "AbC" not in str(raised.value)
    assert b"AbC" not in gzip.decompress(recorder.getvalue())


def test_an_html_page_where_the_api_should_be_says_to_check_the_base_url() -> None:
    client, _, _ = client_for(
        [httpx.Response(200, text="<html>login</html>", headers={"Content-Type": "text/html"})]
    )
    with pytest.raises(PlatformError, match="API base URL"):
        client.get_api("https://intranet.test/v26.0/1/feed")


def test_a_throttle_longer_than_the_budget_fails_the_run_without_calling_again() -> None:
    usage = json.dumps({"1": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 120}]})
    client, _, sleeps = client_for([graph_error(400, 80001, headers={"X-Business-Use-Case-Usage": usage})])
    with pytest.raises(PlatformError, match="120 more minutes"):
        client.get_api("https://graph.test/v26.0/1/feed")
    assert sleeps == [] and client.stats.requests == 1


def test_a_4xx_page_that_is_not_a_platform_error_points_at_the_base_url() -> None:
    client, _, _ = client_for(
        [httpx.Response(404, text="<html>Not Found</html>", headers={"Content-Type": "text/html"})]
    )
    with pytest.raises(PlatformError, match="API base URL") as raised:
        client.get_api("https://intranet.test/v26.0/1/feed")
    assert "intranet.test" in str(raised.value)


def test_throttle_waits_add_up_against_one_budget_per_run() -> None:
    usage = json.dumps({"1": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 40}]})
    throttled = graph_error(400, 80001, headers={"X-Business-Use-Case-Usage": usage})
    client, _, sleeps = client_for([throttled, throttled, throttled])
    with pytest.raises(PlatformError, match="ARCHIVER_THROTTLE_MAX_WAIT"):
        client.get_api("https://graph.test/v26.0/1/feed")
    assert sleeps == [2400.0] and client.stats.requests == 2
