"""Diary rendering: pages per second for a busy day, with and without PDF/A finishing, and memory.

Captures busy simulated days from the sandbox (over real HTTP on 127.0.0.1, photos
downloaded as the capture stage does), normalises them with the stage's own functions, and then,
for each size and variant, renders the day's diary in a fresh subprocess (so peak memory,
``ru_maxrss``, is that variant's alone):

* render:   ReportLab only (the streamed story, header/footer, "sida X av Y");
* finish:   render + PDF/A-3b finishing (items.json and sources.json embedded, XMP, OutputIntent);
* validate: finish + the offline PDF/A validation the pipeline runs before storing.

Prints pages/s per variant, the finishing cost as a share of rendering, and peak memory minus
the memory held before rendering started (the rows themselves), at two sizes. Nothing is asserted.

    .venv/bin/python bench/render.py [--items-per-day 1200 2600] [--repeat 1]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pikepdf
import pyarrow.parquet as pq

from archiver.config import Account, Settings
from archiver.connectors import get_connector
from archiver.http import ApiClient
from archiver.itemstore import rows_to_parquet
from archiver.media import media_key
from archiver.normalise import rows_from_warc
from archiver.runs import RunRecord, capture_window, run_id, window_to_dict
from archiver.sandbox.server import make_server
from archiver.sandbox.world import World, WorldConfig
from archiver.warc import Redactor, WarcRecorder

FIRST_DAY = date(2026, 11, 1)
VARIANTS = ("render", "finish", "validate")


def prepare_day(items_per_day: int, folder: Path) -> dict[str, str]:
    """Capture and normalise one busy day into ``folder`` (rows.parquet, media/); return its facts."""
    world = World(WorldConfig(seed=11, accounts=1, items_per_day=items_per_day, start_date=FIRST_DAY))
    server = make_server(world, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    root = f"http://127.0.0.1:{server.server_address[1]}"
    day = FIRST_DAY
    night = datetime.combine(day + timedelta(days=1), time(2, 0), tzinfo=ZoneInfo("Europe/Stockholm"))
    httpx.post(f"{root}/_sandbox/clock", json={"now": night.isoformat()}).raise_for_status()
    sandbox_account = world.accounts[0]
    account = Account(
        name=sandbox_account.name, platform="facebook", id=sandbox_account.page_id,
        token_env=sandbox_account.token_env, api_base=f"{root}/v26.0",
    )  # fmt: skip
    settings = Settings(full_sweep_weekday=-1, pace_threshold=100)
    window = capture_window(day, settings)
    started = datetime.now(UTC)
    run = RunRecord(
        run_id=run_id(account, started), account=account.name, platform="facebook", account_id=account.id,
        day=day.isoformat(), status="captured", window=window_to_dict(window), started_at=started.isoformat(),
        warc_key=f"raw/facebook/{account.name}/{day:%Y/%m/%d}/{run_id(account, started)}.warc.gz",
    )  # fmt: skip
    info = {"run_id": run["run_id"], "window": run["window"], "started_at": run["started_at"]}
    recorder = WarcRecorder(Redactor([sandbox_account.token]), info)
    client = ApiClient(settings, recorder, sandbox_account.token, account.token_env, account.name)
    get_connector("facebook").capture(client, account, window, settings)
    client.close()
    _, rows = rows_from_warc(recorder.getvalue(), run, {})
    (folder / "media").mkdir(exist_ok=True)
    _download_photos(rows, folder / "media")
    server.shutdown()
    (folder / "rows.parquet").write_bytes(rows_to_parquet(rows))
    return {"account": account.name, "account_id": account.id, "day": day.isoformat(), "run_id": run["run_id"]}


def _download_photos(rows: list[dict[str, object]], folder: Path) -> None:
    """Fetch each image attachment once, as the capture stage does, and link it in the rows."""
    fetched: dict[str, tuple[str, str, int]] = {}
    with httpx.Client(timeout=30, trust_env=False) as http:
        for row in rows:
            for attachment in row.get("attachments") or []:  # type: ignore[union-attr]
                url = attachment.get("source_url")
                if not url or attachment.get("type") not in ("photo", "image"):
                    continue
                if url not in fetched:
                    answer = http.get(url)
                    if answer.status_code != 200:
                        continue
                    digest = hashlib.sha256(answer.content).hexdigest()
                    (folder / digest).write_bytes(answer.content)
                    mime = answer.headers.get("content-type", "image/jpeg").split(";")[0]
                    fetched[url] = (digest, mime, len(answer.content))
                digest, mime, size = fetched[url]
                attachment.update(media_sha256=digest, media_key=media_key(digest), mime=mime, size=size)


def measure(folder: Path, variant: str) -> dict[str, float]:
    """Render the day in ``folder`` (in this process) as ``variant``; return pages, seconds, memory."""
    from archiver.documents import render as documents
    from archiver.documents.diary import DiaryData, FrontMatter, RunInfo, diary_story
    from archiver.documents.fonts import MissingGlyphs, register_fonts
    from archiver.documents.layout import ItemContext, PageText, build_pdf
    from archiver.documents.model import build_threads, history_of, run_started
    from archiver.documents.pdfa import DocumentMeta, EmbeddedFile, finish, validate

    register_fonts()
    facts = json.loads((folder / "facts.json").read_text())
    rows = pq.read_table(folder / "rows.parquet").to_pylist()
    history = history_of(rows)
    account = Account(name=facts["account"], platform="facebook", id=facts["account_id"], token_env="UNUSED")
    runs = [RunInfo(facts["run_id"], run_started(facts["run_id"]), "capture", "raw/bench.warc.gz", len(rows))]
    sources = [{"warc_key": "raw/bench.warc.gz", "sha256": "0" * 64, "records": []}]
    data = DiaryData(account, facts["day"], rows, history, build_threads(rows, history), runs, sources, [])

    def media(key: str) -> bytes | None:
        path = folder / "media" / key.rsplit("/", 1)[-1]
        return path.read_bytes() if path.exists() else None

    ctx = ItemContext("sv", ZoneInfo("Europe/Stockholm"), MissingGlyphs(), history, media)
    front = FrontMatter("Exempelby kommun", {"diarienummer": None, "registreringsdatum": None}, "bench", None)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = clock.perf_counter()
    pages_pdf = build_pdf(diary_story(data, front, ctx), PageText("Exempelby", "Dokument-id: bench", "sv"), "bench", "sv-SE")
    rendered = clock.perf_counter()
    pdf = pages_pdf
    if variant in ("finish", "validate"):
        files = [
            EmbeddedFile("items.json", documents._json(data.embedded_rows()), "application/json", "items"),
            EmbeddedFile("sources.json", documents._json({"warc_files": sources}), "application/json", "sources"),
        ]
        meta = DocumentMeta("bench", "Exempelby kommun", "bench", "bench", max(r["observed_at"] for r in rows))
        pdf = finish(pages_pdf, meta, files)
    finished = clock.perf_counter()
    problems = validate(pdf) if variant == "validate" else []
    done = clock.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "items": len(rows),
        "pages": _pages(pdf),
        "render_s": rendered - started,
        "finish_s": finished - rendered,
        "validate_s": done - finished,
        "total_s": done - started,
        "rss_before_mb": before / 1024,
        "rss_peak_mb": peak / 1024,
        "problems": len(problems),
        "bytes": len(pdf),
    }


def _pages(pdf: bytes) -> int:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return len(document.pages)


def main() -> None:
    """Print pages/s per variant and size, finishing cost and memory."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items-per-day", type=int, nargs="+", default=[1200, 2600])
    parser.add_argument("--measure", nargs=2, metavar=("FOLDER", "VARIANT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(Path(args.measure[0]), args.measure[1])))
        return
    with tempfile.TemporaryDirectory(prefix="bench-render-") as temp:
        for size in args.items_per_day:
            folder = Path(temp) / str(size)
            folder.mkdir()
            (folder / "facts.json").write_text(json.dumps(prepare_day(size, folder)))
            results = {}
            for variant in VARIANTS:
                out = subprocess.run(
                    [sys.executable, __file__, "--measure", str(folder), variant],
                    check=True, capture_output=True, text=True,
                )  # fmt: skip
                results[variant] = json.loads(out.stdout.strip().splitlines()[-1])
            report(size, results)


def report(size: int, results: dict[str, dict[str, float]]) -> None:
    """Print one size's figures."""
    first = results["render"]
    print(f"\nitems_per_day={size}: {first['items']:.0f} item versions, {first['pages']:.0f} pages")
    for variant, r in results.items():
        print(
            f"  {variant:<8} {r['total_s']:7.2f} s  {r['pages'] / r['total_s']:7.1f} pages/s  "
            f"render {r['render_s']:.2f} s, finish {r['finish_s']:.2f} s, validate {r['validate_s']:.2f} s; "
            f"peak {r['rss_peak_mb']:.0f} MB (before rendering {r['rss_before_mb']:.0f} MB, "
            f"+{r['rss_peak_mb'] - r['rss_before_mb']:.0f} MB); {r['bytes'] / 1e6:.1f} MB file"
        )
    finishing = results["finish"]["finish_s"] / results["finish"]["render_s"]
    print(f"  finishing / rendering: {finishing:.1%}  (with validation: "
          f"{(results['validate']['finish_s'] + results['validate']['validate_s']) / results['validate']['render_s']:.1%})")


if __name__ == "__main__":
    main()
