"""The diary (*dagbok*): one document per account and day with every version recorded that day.

:func:`load_diary` gathers what the diary shows from the bucket (the day's items files, the
versions before them, the day's runs and WARC files); :func:`diary_story` lays it out: a front
page (organisation, account, day, runs, counts, sources, software, registration) and then every
thread with its items.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup
from reportlab.platypus import Flowable, PageBreak, Spacer

from archiver.config import Account
from archiver.documents.layout import (
    TEXT_WIDTH,
    Bookmark,
    ItemContext,
    para,
    plain,
    styles,
    table,
    thread_chunks,
)
from archiver.documents.model import (
    CHANGES,
    ItemsFile,
    Row,
    Thread,
    WarcHashes,
    build_threads,
    context_rows,
    counts,
    earlier_rows,
    history_of,
    raw_sources,
    read_items_files,
    run_of_warc,
    run_started,
    shown_row,
    warc_of,
)
from archiver.runs import CAPTURE, RENORMALISE
from archiver.storage import Bucket


@dataclass
class RunInfo:
    """One run of the day as the front page lists it."""

    run_id: str
    started: datetime | None
    purpose: str
    warc_key: str | None
    versions: int


@dataclass
class DiaryData:
    """Everything a diary shows."""

    account: Account
    day: str
    shown: list[Row]
    """Every version recorded on the day, in item and version order."""
    history: dict[str, list[Row]]
    """Every version of every item up to the day (for earlier texts and context)."""
    threads: list[Thread]
    runs: list[RunInfo]
    sources: list[dict[str, Any]]
    files: list[ItemsFile]

    def embedded_rows(self) -> list[dict[str, Any]]:
        """Return the rows a diary shows or quotes, each with its role."""
        rows = [shown_row(row, "shown") for row in self.shown]
        rows += [shown_row(row, "context") for row in context_rows(self.threads)]
        rows += [shown_row(row, "earlier") for row in earlier_rows(self.shown, self.history)]
        return rows


def day_warcs(bucket: Bucket, account: Account, day: str) -> list[str]:
    """Return the keys of the WARC files captured for ``account`` on ``day``."""
    prefix = f"raw/{account.platform}/{account.name}/{day[:4]}/{day[5:7]}/{day[8:10]}/"
    return [entry.key for entry in bucket.list(prefix) if entry.key.endswith(".warc.gz")]


def load_diary(bucket: Bucket, account: Account, day: str, hashes: WarcHashes) -> DiaryData:
    """Return what the diary of ``account`` and ``day`` shows, read from the bucket."""
    files = read_items_files(bucket, account.platform, account.name, day)
    history = history_of(row for file in files for row in file.rows)
    today = [file for file in files if file.day == day]
    shown = sorted(
        (row for file in today for row in file.rows), key=lambda row: (row["item_key"], row["version"])
    )
    threads = build_threads(shown, history, context=True)
    warcs = day_warcs(bucket, account, day)
    runs = _runs(today, warcs)
    quoted = shown + context_rows(threads) + earlier_rows(shown, history)
    return DiaryData(account, day, shown, history, threads, runs, raw_sources(quoted, hashes, warcs), files)


def _runs(today: list[ItemsFile], warcs: list[str]) -> list[RunInfo]:
    runs: dict[str, RunInfo] = {}
    for key in warcs:
        found = run_of_warc(key)
        if found:
            runs[found[1]] = RunInfo(found[1], run_started(found[1]), CAPTURE, key, 0)
    for file in today:
        info = runs.get(file.run_id)
        if info is None:  # no WARC of its own: a renormalisation of an earlier WARC
            source = next((warc_of(row.get("raw_ref")) for row in file.rows if row.get("raw_ref")), None)
            info = RunInfo(file.run_id, run_started(file.run_id), RENORMALISE, source[0] if source else None, 0)
            runs[file.run_id] = info
        info.versions += len(file.rows)
    return sorted(runs.values(), key=lambda run: run.run_id)


@dataclass(frozen=True)
class FrontMatter:
    """Front-page values that come from configuration."""

    organisation: str
    registration: dict[str, str | None]
    """``diarienummer`` and ``registreringsdatum``: the value, or None for a labelled blank."""
    software: str
    logo: Flowable | None


def diary_story(data: DiaryData, front: FrontMatter, ctx: ItemContext) -> Iterator[list[Flowable]]:
    """Yield the diary's flowables: the front page, then each thread (streamed)."""
    yield list(_front_page(data, front, ctx))
    if not data.threads:
        yield [para(ctx.w.empty_day(), styles().body)]
    for number, thread in enumerate(data.threads, start=1):
        yield from thread_chunks(thread, ctx, number)
    yield closing(ctx)


def closing(ctx: ItemContext) -> list[Flowable]:
    """Return the document's last flowables: the characters no font covered, if any."""
    if not ctx.missing:
        return []
    return [Spacer(0, 10), para(ctx.w.missing_glyphs(", ".join(ctx.missing.chars)), styles().small)]


def _front_page(data: DiaryData, front: FrontMatter, ctx: ItemContext) -> Iterator[Flowable]:
    s, w, account = styles(), ctx.w, data.account
    cell = s.cell
    yield Bookmark("front", plain(w.diary_title(account.name, data.day)))
    if front.logo is not None:
        yield front.logo
    yield para(w.diary_title(account.name, data.day), s.title)
    yield para(w.diary_subject(ctx.text(front.organisation), account.name, w.platforms.get(account.platform, account.platform), data.day), s.body)
    yield para(w.diary_intro(data.day), s.small)
    rows = [
        [w.labels["organisation"], para(ctx.text(front.organisation), cell)],
        [w.labels["account"], para(ctx.text(account.display_name or account.name), cell)],
        [w.labels["account_name"], account.name],
        [w.labels["platform"], w.platforms.get(account.platform, account.platform)],
        [w.labels["account_id"], account.id],
        [w.labels["day"], data.day],
        [w.labels["software"], front.software],
    ]
    yield Spacer(0, 6)
    yield table([[plain(a), b] for a, b in rows], [45 * 2.83, TEXT_WIDTH - 45 * 2.83], header=False)
    yield para(w.labels["registration"], s.heading)
    registration = [
        [plain(w.labels[name]), front.registration.get(name) or plain(w.blank())]
        for name in ("diarienummer", "registreringsdatum")
    ]
    yield table(registration, [70 * 2.83, TEXT_WIDTH - 70 * 2.83], header=False)
    yield para(w.labels["runs"], s.heading)
    if data.runs:
        header = [plain(w.labels[n]) for n in ("run", "started_local", "started_utc", "purpose", "versions")]
        body = [
            [
                para(ctx.text(run.run_id), s.code),
                run.started.astimezone(ctx.zone).strftime("%Y-%m-%d %H:%M:%S") if run.started else "–",
                run.started.strftime("%Y-%m-%d %H:%M:%S") if run.started else "–",
                plain(w.purposes.get(run.purpose, run.purpose)),
                str(run.versions),
            ]
            for run in data.runs
        ]
        yield table([header, *body], [150, 95, 95, 90, TEXT_WIDTH - 430])
    else:
        yield para(w.no_runs(), s.body)
    yield para(w.labels["counts"], s.heading)
    table_counts = counts(data.shown, data.history)
    header = [plain(w.labels["kind"]), *(plain(w.changes[c]) for c in CHANGES), plain(w.labels["total"])]
    body = [
        [plain(w.kinds.get(kind, kind)), *(str(per[c]) for c in CHANGES), str(sum(per.values()))]
        for kind, per in table_counts.items()
    ]
    totals = [plain(w.labels["total"]), *(str(sum(per[c] for per in table_counts.values())) for c in CHANGES)]
    totals.append(str(len(data.shown)))
    width = (TEXT_WIDTH - 90) / (len(CHANGES) + 1)
    yield table([header, *body, totals], [90] + [width] * (len(CHANGES) + 1))
    yield para(w.labels["sources"], s.heading)
    if data.sources:
        header = [plain(w.labels["warc_key"]) + " / " + plain(w.labels["sha256"]), plain(w.labels["records"])]
        body = [
            [para(Markup("%s<br/>%s") % (source["warc_key"], source["sha256"]), s.code), str(len(source["records"]))]
            for source in data.sources
        ]
        yield table([header, *body], [TEXT_WIDTH - 60, 60])
    else:
        yield para(w.labels["none"], s.body)
    yield PageBreak()
