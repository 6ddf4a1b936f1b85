"""Raw evidence: exchanges round-trip through the WARC file with every secret removed."""

from __future__ import annotations

import gzip
import json

from archiver.warc import Redactor, WarcRecorder, read_exchanges, read_warcinfo

TOKEN = "EAAGsecret+token/with=odd&chars1234567890"


def test_exchanges_round_trip_without_the_token_anywhere() -> None:
    recorder = WarcRecorder(Redactor([TOKEN]), {"run_id": "acct_1", "account": "acct"})
    body = json.dumps(
        {"data": [{"id": "1_2", "message": "Hej 👋"}], "paging": {"next": f"https://x/?access_token={TOKEN}"}}
    )
    recorded = recorder.record(
        "GET",
        f"https://graph.example/v26.0/1/feed?access_token={TOKEN}&limit=100",
        [("Authorization", f"Bearer {TOKEN}"), ("User-Agent", "t")],
        "200 OK",
        [("Content-Type", "application/json"), ("X-Debug", TOKEN)],
        body.encode("utf-8"),
        "api",
    )
    data = recorder.getvalue()
    recorder.close()

    assert TOKEN.encode() not in gzip.decompress(data)
    assert read_warcinfo(data) == {"run_id": "acct_1", "account": "acct"}
    [exchange] = list(read_exchanges(data))
    assert exchange.record_id == recorded.record_id
    assert exchange.status == 200
    assert "access_token=REDACTED" in exchange.url
    decoded = json.loads(exchange.body)
    assert decoded["data"][0]["message"] == "Hej 👋"
    assert decoded["paging"]["next"] == "https://x/?access_token=REDACTED"
    assert exchange.body_sha256 == recorded.body_sha256
    assert exchange.kind == "api"


def test_every_encoding_of_the_token_is_redacted() -> None:
    redactor = Redactor([TOKEN + " x"])
    for encoded in (
        "EAAGsecret%2Btoken%2Fwith%3Dodd%26chars1234567890%20x",
        "EAAGsecret%2btoken%2fwith%3dodd%26chars1234567890+x",
        "EAAGsecret+token\\/with=odd&chars1234567890 x",
    ):
        assert redactor.text(f"a={encoded}&b=1") == "a=REDACTED&b=1", encoded
