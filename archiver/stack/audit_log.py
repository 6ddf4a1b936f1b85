"""The S3 audit log of the embedded stack: a tiny loopback receiver for SeaweedFS's access records.

SeaweedFS writes its S3 audit log (one record per request, reads included: requester identity,
operation, bucket, key, HTTP status, error code, remote address) only to a Fluentd "forward"
endpoint named by ``-s3.auditLogConfig``; it has no file option. This module is that endpoint
for the embedded stack: ``python -m archiver.stack.audit_log`` listens on 127.0.0.1, takes the
records SeaweedFS sends (as JSON, ``marshal_as_json``) and appends each as one JSON line to
``logs/s3-audit.jsonl`` in the stack directory. It exits when the SeaweedFS process it watches is
gone, so stopping SeaweedFS stops it too. In production point the same config at Fluentd or
Fluent Bit (``in_forward``) instead; see ``docs/access.md``.
"""

from __future__ import annotations

import argparse
import codecs
import json
import logging
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from archiver.stack.processes import LOOPBACK, pid_alive, read_pid

AUDIT_TAG_PREFIX = "seaweedfs"
"""Prefix of the Fluentd tag SeaweedFS gives its records (``seaweedfs.s3.access``)."""
START_GRACE_SECONDS = 60.0
"""How long the receiver waits for the watched process to appear before it gives up."""
POLL_SECONDS = 0.2
MAX_PENDING_CHARS = 1024 * 1024
"""Longest incomplete message kept (an audit record is about 1 KB): past it the message is
taken for broken, a warning is logged and reading resumes at the next message."""
MESSAGE_START = '["'
"""How every forward message (``[tag, time, record, ...]``) starts; inside a JSON string the
quote would be escaped, so this is where the next message after a broken one can begin."""

log = logging.getLogger(__name__)


def audit_log_config(port: int) -> dict[str, object]:
    """Return the ``-s3.auditLogConfig`` document that sends the records to ``127.0.0.1:port`` as JSON."""
    return {
        "fluent_host": LOOPBACK,
        "fluent_port": port,
        "fluent_network": "tcp",
        "marshal_as_json": True,
        "tag_prefix": AUDIT_TAG_PREFIX,
        "max_retry": 1000,
        "retry_wait": 200,
    }


def decode_records(
    buffer: str, limit: int = MAX_PENDING_CHARS, final: bool = False
) -> tuple[list[dict[str, Any]], str]:
    """Return the complete forward-protocol messages at the start of ``buffer`` as flat records
    (``tag`` plus the record's fields), and the incomplete rest of the buffer.

    A rest of ``limit`` characters or more (or any rest when ``final``: the sender is done) cannot
    be a message still arriving: it is skipped, with a warning, up to the next message start,
    so one broken message never holds back the records after it.
    """
    decoder = json.JSONDecoder()
    records: list[dict[str, Any]] = []
    position = 0
    while True:
        while position < len(buffer) and buffer[position].isspace():
            position += 1
        if position >= len(buffer):
            return records, ""
        try:
            message, end = decoder.raw_decode(buffer, position)
        except json.JSONDecodeError as error:
            if len(buffer) - position < limit and not final:
                return records, buffer[position:]
            position = _skip_broken(buffer, position, error)
            continue
        records.extend(_flatten(message))
        position = end


def _skip_broken(buffer: str, position: int, error: json.JSONDecodeError) -> int:
    """Log the unreadable data at ``position`` and return where the next message starts (or the end)."""
    following = buffer.find(MESSAGE_START, position + 1)
    end = following if following >= 0 else len(buffer)
    log.warning(
        "audit log: skipped %d characters that are no forward message (%s): %r...",
        end - position,
        error.msg,
        buffer[position : position + 80],
    )
    return end


def _flatten(message: object) -> Iterator[dict[str, Any]]:
    """Yield the records of one forward message: ``[tag, time, record, options?]`` (message mode)."""
    if isinstance(message, list) and len(message) >= 3 and isinstance(message[2], dict):
        yield {"tag": message[0], **message[2]}


class AuditReceiver:
    """Accepts forward connections on 127.0.0.1 and appends every record to a JSON-lines file."""

    def __init__(self, port: int, out: Path, limit: int = MAX_PENDING_CHARS) -> None:
        self.out = out
        self.limit = limit
        self._lock = threading.Lock()
        self._server = socket.create_server((LOOPBACK, port))
        self._server.settimeout(POLL_SECONDS)

    def write(self, records: list[dict[str, Any]]) -> None:
        """Append ``records`` to the log file, one JSON object per line, flushed at once."""
        if not records:
            return
        lines = "".join(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n" for record in records)
        with self._lock, self.out.open("a", encoding="utf-8") as log:
            log.write(lines)

    def _handle(self, connection: socket.socket) -> None:
        pending = ""
        utf8 = codecs.getincrementaldecoder("utf-8")("replace")  # a character may span two chunks
        with connection:
            while chunk := connection.recv(65536):
                records, pending = decode_records(pending + utf8.decode(chunk), self.limit)
                self.write(records)
            records, _ = decode_records(pending + utf8.decode(b"", final=True), self.limit, final=True)
            self.write(records)

    def serve(self, keep_running: threading.Event) -> None:
        """Accept connections until ``keep_running`` is cleared."""
        with self._server:
            while keep_running.is_set():
                try:
                    connection, _ = self._server.accept()
                except TimeoutError:
                    continue
                threading.Thread(target=self._handle, args=(connection,), daemon=True).start()


def watch(pid_file: Path, keep_running: threading.Event) -> None:
    """Clear ``keep_running`` once the process in ``pid_file`` has run and is gone (or never came)."""
    started = time.monotonic()
    watched: int | None = None
    while keep_running.is_set():
        if watched is None:  # the first live PID in the file is the one watched from then on
            pid = read_pid(pid_file)
            watched = pid if pid is not None and pid_alive(pid) else None
            if watched is None and time.monotonic() - started > START_GRACE_SECONDS:
                keep_running.clear()
        elif not pid_alive(watched):
            keep_running.clear()
        time.sleep(POLL_SECONDS)


def main(argv: list[str] | None = None) -> None:
    """Run the receiver: ``--port``, ``--out`` (JSON lines), ``--watch-pid-file`` (SeaweedFS's PID file)."""
    parser = argparse.ArgumentParser(description="Receive SeaweedFS S3 audit records into a JSON-lines file.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--watch-pid-file", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    receiver = AuditReceiver(args.port, args.out)
    keep_running = threading.Event()
    keep_running.set()

    def stop(signum: int, frame: FrameType | None) -> None:
        keep_running.clear()

    signal.signal(signal.SIGTERM, stop)
    threading.Thread(target=watch, args=(args.watch_pid_file, keep_running), daemon=True).start()
    print(f"audit log receiver on {LOOPBACK}:{args.port} -> {args.out}", flush=True)
    receiver.serve(keep_running)


if __name__ == "__main__":
    main()
