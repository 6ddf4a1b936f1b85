"""The ``archiver`` command as a user types it."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from archiver.cli import app

PEER = Path(__file__).resolve().parent / "fixtures" / "peer" / "meta"
FEED = PEER / "sns-sdks__python-facebook/testdata/facebook/apidata/posts/feed_fields_p1.json"
REMOVE = PEER / "restfb__restfb/webhooks/feed-comment-remove-25.json"


def test_normalise_prints_one_json_line_per_item_from_real_graph_payloads() -> None:
    result = CliRunner().invoke(app, ["normalise", "--platform", "facebook", str(FEED), str(REMOVE)])
    assert result.exit_code == 0, result.output
    items = [json.loads(line) for line in result.stdout.splitlines()]
    assert items[0]["item_key"] == "facebook:4:4_10113477241177441"
    assert items[0]["text"] == "Happy July 4th! 🇺🇸"
    assert items[0]["created_at"] == "2021-07-04T19:50:58Z"
    assert items[-1]["state"] == "deleted_at_source"


def test_normalise_keeps_going_after_a_bad_file_and_exits_non_zero(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"data": [', encoding="utf-8")
    result = CliRunner().invoke(app, ["normalise", "--platform", "facebook", str(broken), str(FEED)])
    assert result.exit_code == 1
    assert "broken.json" in result.stderr
    assert len(result.stdout.splitlines()) == 5


def test_an_unsupported_platform_is_named_with_the_supported_ones() -> None:
    result = CliRunner().invoke(app, ["normalise", "--platform", "myspace", str(FEED)])
    assert result.exit_code != 0
    assert "facebook" in result.stderr


def test_run_rejects_a_malformed_date_with_the_expected_format() -> None:
    result = CliRunner().invoke(app, ["run", "--date", "22/11/2026"])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.stderr


def test_an_unreachable_bucket_ends_the_command_with_what_to_do_not_a_traceback() -> None:
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "k",
        "AWS_SECRET_ACCESS_KEY": "s",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_MAX_ATTEMPTS": "1",
    }
    script = "from archiver.cli import main; main()"
    result = subprocess.run(
        [sys.executable, "-c", script, "summary"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert "Nothing answers there" in result.stderr and "archiver stack up" in result.stderr
    assert "Traceback" not in result.stderr
