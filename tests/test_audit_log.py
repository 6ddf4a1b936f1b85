"""The S3 audit log receiver over a real loopback TCP connection, as SeaweedFS's Fluentd logger
sends to it: characters split between two reads, and a broken message followed by good ones."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from archiver.stack.audit_log import AuditReceiver, decode_records
from archiver.stack.processes import LOOPBACK

TAG = "seaweedfs.s3.access"


@dataclass
class Receiver:
    port: int
    out: Path

    def records(self) -> list[dict[str, Any]]:
        if not self.out.exists():
            return []
        return [json.loads(line) for line in self.out.read_text(encoding="utf-8").splitlines()]

    def wait_for(self, count: int, seconds: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + seconds
        while len(found := self.records()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return found


def _start(out: Path, limit: int) -> tuple[Receiver, threading.Event]:
    receiver = AuditReceiver(0, out, limit)
    port = receiver._server.getsockname()[1]
    keep_running = threading.Event()
    keep_running.set()
    threading.Thread(target=receiver.serve, args=(keep_running,), daemon=True).start()
    return Receiver(port, out), keep_running


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    started, keep_running = _start(tmp_path / "s3-audit.jsonl", limit=4096)
    yield started
    keep_running.clear()


def _message(number: int, key: str) -> bytes:
    record = {"requester": "auditor", "operation": "REST.GET.OBJECT", "key": key, "status": 200}
    return json.dumps([TAG, 1_700_000_000 + number, record, None], ensure_ascii=False).encode("utf-8")


def test_a_character_split_between_two_reads_arrives_whole(receiver: Receiver) -> None:
    key = "items/Ängelholm/kommentar-😀.parquet"
    data = _message(1, key)
    cut = data.index("😀".encode()) + 2  # inside the four bytes of the emoji
    with socket.create_connection((LOOPBACK, receiver.port)) as connection:
        connection.sendall(data[:cut])
        time.sleep(0.3)  # the receiver reads the first part on its own
        connection.sendall(data[cut:])
        (record,) = receiver.wait_for(1)
    assert record["key"] == key and record["tag"] == TAG


def test_a_broken_message_is_skipped_and_the_records_after_it_are_kept(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    broken = b'["seaweedfs.s3.access",1,{"key":"never closed"'
    good = [_message(n, f"documents/{n}.pdf") for n in range(100)]  # about 10 KB, past the 4 KB limit
    with caplog.at_level(logging.WARNING), socket.create_connection((LOOPBACK, receiver.port)) as connection:
        connection.sendall(_message(0, "before.pdf") + broken)
        time.sleep(0.2)
        connection.sendall(b"".join(good))
        # still connected: the receiver gets past the broken message without waiting for the end
        found = receiver.wait_for(101)
    assert [r["key"] for r in found] == ["before.pdf"] + [f"documents/{n}.pdf" for n in range(100)]
    assert "skipped" in caplog.text


def test_what_is_kept_pending_is_bounded() -> None:
    garbage = '["x",{' + "a" * 5000
    records, rest = decode_records(garbage + _message(1, "k").decode() + '["t",2,{"incomplete', limit=4096)
    assert [r["key"] for r in records] == ["k"]
    assert rest == '["t",2,{"incomplete'

    records, rest = decode_records('["t",1,{"a":1}', limit=4096)
    assert (records, rest) == ([], '["t",1,{"a":1}'), "a short incomplete message waits for the rest"
    records, rest = decode_records('["t",1,{"a":1}', limit=4096, final=True)
    assert (records, rest) == ([], ""), "at the end of the connection it is dropped"
