"""The catalog: static HTML pages under ``catalog/`` to browse the archive by account, month and day.

Pages (Swedish with English subtitles on the same page, so one set of pages serves both)::

    catalog/index.html                  accounts: days archived, first and last day, totals
    catalog/{account}/index.html        months with totals
    catalog/{account}/{yyyy-mm}.html    days: counts by kind, runs, status, link to the diary
    catalog/{account}/{yyyy-mm}.json    the same month as data (also what the next run compares with)
    catalog/{account}/{yyyy-mm-dd}.html runs and every object the day's manifests list (key, size,
                                        sha256, version id), links to the diary, WARCs and items

Every link is relative, so the pages work from any S3 browser or static web hosting. The pages
are built from the manifests (never by reading items) and carry no timestamps, so each is
written only when its bytes change. Incremental: one listing of ``manifests/`` and one of
``documents/`` give each account's days and a fingerprint of each day's sources (manifest keys,
diary keys and sizes); the month JSON of the previous run keeps those fingerprints, so only the
days whose sources changed have their manifests read and their page rendered. A daily run reads
one JSON per account and month, plus the new day's manifests.

Sealing: the catalog and the READMEs are not an account's objects, yet every object needs a
manifest. Each publication that wrote anything is sealed as a run of the pseudo-account
``_catalog`` (run id ``_catalog_{UTC start}``, purpose ``catalog``), with its own hash chain, by
:func:`archiver.manifest.seal_run`. Account names cannot start with ``_``, so the pseudo-account
never collides with a real one, and the catalog never lists its own runs (it would change itself
on every run). A publication that changed nothing writes no manifest.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import quote

import jinja2

from archiver.bucket_docs import put_if_changed, write_bucket_readmes
from archiver.errors import StorageError
from archiver.manifest import MANIFEST_PREFIX, seal_run
from archiver.runs import CAPTURE, RunRecord, account_of_run
from archiver.search_index import write_search_indexes
from archiver.storage import Bucket, StoredObject, sha256_hex
from archiver.templating import environment

CATALOG_ACCOUNT = "_catalog"
"""Pseudo-account whose runs write the catalog and the READMEs."""
CATALOG_PURPOSE = "catalog"
CATALOG_PREFIX = "catalog/"
MONTH_FORMAT = "social-archive-catalog-month/1"
HTML = "text/html; charset=utf-8"
JSON = "application/json"
DOCUMENTS_PREFIX = "documents/"
_MANIFEST_KEY = re.compile(r"^manifests/(\d{4})/(\d{2})/(\d{2})/([^/]+)\.json$")
_DIARY_KEY = re.compile(r"^documents/([^/]+)/\d{4}/\d{2}/\1_(\d{4}-\d{2}-\d{2})(\.[a-z]{2})?\.pdf$")
"""A diary's key; group 3 is the language suffix of a diary in another language (``….en.pdf``)."""


@cache
def _html_environment() -> jinja2.Environment:
    """Return the templates environment with HTML autoescaping on for ``*.html.j2``."""
    return environment().overlay(autoescape=True)


def render_page(template: str, **context: Any) -> bytes:
    """Return the catalog template ``template`` rendered with ``context`` as UTF-8 bytes."""
    return _html_environment().get_template(f"catalog/{template}").render(**context).encode("utf-8")


def href(page_key: str, target_key: str) -> str:
    """Return the relative, URL-quoted link from the page at ``page_key`` to the object ``target_key``."""
    return quote(posixpath.relpath(target_key, posixpath.dirname(page_key)), safe="/=")


def day_page_key(account: str, day: str) -> str:
    """Return ``catalog/{account}/{yyyy-mm-dd}.html``."""
    return f"{CATALOG_PREFIX}{account}/{day}.html"


def month_key(account: str, month: str, extension: str) -> str:
    """Return ``catalog/{account}/{yyyy-mm}.{extension}``."""
    return f"{CATALOG_PREFIX}{account}/{month}.{extension}"


def account_index_key(account: str) -> str:
    """Return ``catalog/{account}/index.html``."""
    return f"{CATALOG_PREFIX}{account}/index.html"


ROOT_INDEX = f"{CATALOG_PREFIX}index.html"


def day_sources(bucket: Bucket) -> dict[str, dict[str, dict[str, Any]]]:
    """Return ``{account: {day: {"manifests": [keys], "documents": {key: size}}}}`` from two listings
    (``manifests/`` and ``documents/``), leaving out the runs of pseudo-accounts (``_catalog``,
    ``_documents``: account names never start with ``_``)."""
    sources: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)

    def slot(account: str, day: str) -> dict[str, Any]:
        return sources[account].setdefault(day, {"manifests": [], "documents": {}})

    for entry in bucket.list(MANIFEST_PREFIX):
        match = _MANIFEST_KEY.match(entry.key)
        if match is None or match[4].startswith("_"):  # the catalog's and on-demand renders' own chains
            continue
        slot(account_of_run(match[4]), f"{match[1]}-{match[2]}-{match[3]}")["manifests"].append(entry.key)
    for entry in bucket.list(DOCUMENTS_PREFIX):
        diary = _DIARY_KEY.match(entry.key)
        if diary is not None:
            slot(diary[1], diary[2])["documents"][entry.key] = entry.size
    return dict(sources)


def fingerprint(sources: dict[str, Any]) -> str:
    """Return the sha256 of a day's sources: what a day page is built from."""
    canonical = json.dumps(
        {"manifests": sorted(sources["manifests"]), "documents": sources["documents"]}, sort_keys=True
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _read_manifests(bucket: Bucket, keys: Iterable[str]) -> list[dict[str, Any]]:
    manifests = []
    for key in sorted(keys):
        data = bucket.get(key)
        try:
            manifest = json.loads(data)
        except ValueError:  # shown, not hidden: `archiver verify` reports what is wrong with it
            manifest = {"run_id": key.rsplit("/", 1)[-1].removesuffix(".json"), "status": "unreadable"}
        if not isinstance(manifest, dict):
            manifest = {"run_id": key, "status": "unreadable"}
        manifest["_ref"] = {"key": key, "sha256": sha256_hex(data), "size": len(data)}
        manifests.append(manifest)
    return sorted(manifests, key=lambda m: (str(m.get("started_at") or ""), str(m.get("run_id"))))


def _day_status(runs: list[dict[str, Any]]) -> str:
    captures = [run for run in runs if run["purpose"] == CAPTURE]
    if any(run["status"] == "complete" for run in captures):
        return "complete"
    return "failed" if captures else "other"


def build_day(bucket: Bucket, account: str, day: str, sources: dict[str, Any]) -> dict[str, Any]:
    """Return a day's catalog entry (runs, counts, diary, every object) from its manifests and diary listing."""
    manifests = _read_manifests(bucket, sources["manifests"])
    kinds: dict[str, int] = defaultdict(int)
    versions: dict[str, int] = defaultdict(int)
    objects: dict[tuple[str, str], dict[str, Any]] = {}
    runs = []
    for manifest in manifests:
        counts = manifest.get("counts") or {}
        for name, value in counts.items():
            if not isinstance(value, int):
                continue
            if name.startswith("kind_"):
                kinds[name[5:]] += int(value)
            elif name in ("new", "changed", "tombstones"):
                versions[name] += int(value)
        for obj in manifest.get("objects") or []:
            if not isinstance(obj, dict) or not isinstance(obj.get("key"), str):
                continue
            objects[(obj["key"], obj.get("version_id") or "")] = {**obj, "run_id": manifest.get("run_id")}
        runs.append(_run_entry(manifest))
    documents = _documents(objects.values(), sources["documents"])
    return {
        "account": account,
        "day": day,
        "platform": next((m.get("platform") for m in manifests if m.get("platform")), None),
        "fingerprint": fingerprint(sources),
        "status": _day_status(runs),
        "runs": runs,
        "kinds": dict(sorted(kinds.items())),
        "versions": {name: versions.get(name, 0) for name in ("new", "changed", "tombstones")},
        "objects": sorted(objects.values(), key=lambda o: (o["key"], o.get("version_id") or "")),
        "documents": documents,
    }


def _run_entry(manifest: dict[str, Any]) -> dict[str, Any]:
    return {
        "run_id": manifest.get("run_id"),
        "purpose": manifest.get("purpose", CAPTURE),
        "status": manifest.get("status"),
        "started_at": manifest.get("started_at"),
        "sealed_at": manifest.get("sealed_at"),
        "error": manifest.get("error"),
        "warc_key": manifest.get("warc_key"),
        "sequence": manifest.get("sequence"),
        "manifest": manifest["_ref"],
    }


def _documents(objects: Iterable[dict[str, Any]], listed: dict[str, int]) -> list[dict[str, Any]]:
    """Return the day's documents: those in its manifests, plus diaries listed but in no manifest (sha256 None)."""
    found = {obj["key"]: obj for obj in objects if obj["key"].startswith(DOCUMENTS_PREFIX)}
    for key, size in listed.items():
        found.setdefault(key, {"key": key, "size": size, "sha256": None, "version_id": None})
    return [
        {name: found[key].get(name) for name in ("key", "size", "sha256", "version_id")}
        for key in sorted(found)
    ]


def _summary(day: dict[str, Any]) -> dict[str, Any]:
    """Return what the month JSON keeps of a day: everything but the object list."""
    summary = {name: value for name, value in day.items() if name != "objects"}
    summary["object_count"] = len(day["objects"])
    summary["bytes"] = sum(int(obj.get("size") or 0) for obj in day["objects"])
    return summary


def _read_month(bucket: Bucket, account: str, month: str) -> dict[str, Any]:
    key = month_key(account, month, "json")
    try:
        data = json.loads(bucket.get(key)) if bucket.exists(key) else {}
    except (StorageError, ValueError):
        data = {}
    days = data.get("days") if data.get("format") == MONTH_FORMAT else None
    return days if isinstance(days, dict) else {}


def _json_bytes(value: object) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")


class _Writer:
    """Collects what a publication wrote."""

    def __init__(self, bucket: Bucket) -> None:
        self.bucket = bucket
        self.written: list[StoredObject] = []

    def put(self, key: str, data: bytes, content_type: str) -> None:
        stored = put_if_changed(self.bucket, key, data, content_type)
        if stored is not None:
            self.written.append(stored)


def _write_day(writer: _Writer, day: dict[str, Any]) -> None:
    key = day_page_key(day["account"], day["day"])
    links = {obj["key"]: href(key, obj["key"]) for obj in day["objects"]}
    for document in day["documents"]:
        links[document["key"]] = href(key, document["key"])
    for run in day["runs"]:
        links[run["manifest"]["key"]] = href(key, run["manifest"]["key"])
    month = day["day"][:7]
    writer.put(
        key,
        render_page(
            "day.html.j2",
            day=day,
            links=links,
            month_href=f"{month}.html",
            diary=_diary(day),
            root_href=href(key, ROOT_INDEX),
        ),
        HTML,
    )


def _diary(day: dict[str, Any]) -> dict[str, Any] | None:
    """Return the day's registered diary (not a copy in another language), or None."""
    matches = ((d, _DIARY_KEY.match(d["key"])) for d in day["documents"])
    return next((d for d, match in matches if match is not None and match[3] is None), None)


def _write_month(
    writer: _Writer, account: str, month: str, days: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    key = month_key(account, month, "html")
    writer.put(
        month_key(account, month, "json"),
        _json_bytes({"format": MONTH_FORMAT, "account": account, "month": month, "days": days}),
        JSON,
    )
    rows = [
        {**entry, "href": f"{day}.html", "diary": _diary(entry), "diary_href": None}
        for day, entry in sorted(days.items())
    ]
    for row in rows:
        if row["diary"] is not None:
            row["diary_href"] = href(key, row["diary"]["key"])
    writer.put(
        key,
        render_page(
            "month.html.j2",
            account=account,
            month=month,
            rows=rows,
            kinds=_all_kinds(days.values()),
            root_href=href(key, ROOT_INDEX),
        ),
        HTML,
    )
    return _totals(month, days.values())


def _all_kinds(days: Iterable[dict[str, Any]]) -> list[str]:
    return sorted({kind for day in days for kind in day["kinds"]})


def _totals(label: str, days: Iterable[dict[str, Any]]) -> dict[str, Any]:
    days = list(days)
    kinds: dict[str, int] = defaultdict(int)
    for day in days:
        for kind, value in day["kinds"].items():
            kinds[kind] += value
    return {
        "label": label,
        "days": len(days),
        "first": min((d["day"] for d in days), default=None),
        "last": max((d["day"] for d in days), default=None),
        "failed_days": sum(1 for d in days if d["status"] == "failed"),
        "diaries": sum(1 for d in days if _diary(d) is not None),
        "kinds": dict(sorted(kinds.items())),
        "objects": sum(d["object_count"] for d in days),
        "bytes": sum(d["bytes"] for d in days),
        "platform": next((d["platform"] for d in days if d.get("platform")), None),
    }


def _publish_account(writer: _Writer, account: str, days: dict[str, dict[str, Any]]) -> dict[str, Any]:
    by_month: dict[str, list[str]] = defaultdict(list)
    for day in days:
        by_month[day[:7]].append(day)
    months = []
    for month, month_days in sorted(by_month.items()):
        known = _read_month(writer.bucket, account, month)
        entries = {}
        for day in sorted(month_days):
            previous = known.get(day)
            if previous is not None and previous.get("fingerprint") == fingerprint(days[day]):
                entries[day] = previous
                continue
            built = build_day(writer.bucket, account, day, days[day])
            _write_day(writer, built)
            entries[day] = _summary(built)
        months.append({**_write_month(writer, account, month, entries), "href": f"{month}.html"})
    totals = _merge(account, months)
    key = account_index_key(account)
    writer.put(
        key,
        render_page(
            "account.html.j2",
            account=account,
            months=months,
            totals=totals,
            kinds=sorted({k for m in months for k in m["kinds"]}),
            root_href=href(key, ROOT_INDEX),
        ),
        HTML,
    )
    return {**totals, "href": f"{account}/index.html"}


def _merge(account: str, months: list[dict[str, Any]]) -> dict[str, Any]:
    kinds: dict[str, int] = defaultdict(int)
    for month in months:
        for kind, value in month["kinds"].items():
            kinds[kind] += value
    return {
        "label": account,
        "days": sum(m["days"] for m in months),
        "first": min(m["first"] for m in months),
        "last": max(m["last"] for m in months),
        "failed_days": sum(m["failed_days"] for m in months),
        "diaries": sum(m["diaries"] for m in months),
        "kinds": dict(sorted(kinds.items())),
        "objects": sum(m["objects"] for m in months),
        "bytes": sum(m["bytes"] for m in months),
        "platform": next((m["platform"] for m in months if m.get("platform")), None),
    }


def write_catalog(bucket: Bucket, writer: _Writer | None = None) -> list[StoredObject]:
    """Write the catalog pages whose content changed; return what was written (empty when nothing
    changed). ``writer`` (optional) keeps the list of what was written even if this raises."""
    writer = writer or _Writer(bucket)
    accounts = [
        _publish_account(writer, account, days) for account, days in sorted(day_sources(bucket).items())
    ]
    writer.put(
        ROOT_INDEX,
        render_page(
            "index.html.j2",
            accounts=accounts,
            kinds=sorted({k for a in accounts for k in a["kinds"]}),
            readme_href=href(ROOT_INDEX, "README.md"),
            readme_sv_href=href(ROOT_INDEX, "README.sv.md"),
        ),
        HTML,
    )
    return writer.written


def catalog_run_id(started: datetime) -> str:
    """Return the run id of a catalog publication: ``_catalog_{UTC start to the microsecond}``."""
    return f"{CATALOG_ACCOUNT}_{started.astimezone(UTC):%Y%m%dT%H%M%S%fZ}"


def publish(bucket: Bucket, day: str, organisation: str | None = None) -> list[dict[str, Any]]:
    """Write the READMEs, the catalog and the search indexes of completed months where they changed
    and seal what was written as a ``_catalog`` run of ``day``; return the written objects followed
    by the manifest (empty if nothing changed)."""
    started = datetime.now(UTC)
    writer = _Writer(bucket)
    readmes: list[StoredObject] = []
    failure: Exception | None = None
    try:
        readmes = write_bucket_readmes(bucket, organisation)
        write_catalog(bucket, writer)
        write_search_indexes(bucket, day, writer.written)  # catalog/search/: see archiver.search_index
    except Exception as error:  # seal what was written before failing, so nothing is left unlisted
        failure = error
    written = readmes + writer.written
    if not written:
        if failure is not None:
            raise failure
        return []
    run = RunRecord(
        run_id=catalog_run_id(started),
        account=CATALOG_ACCOUNT,
        platform=CATALOG_PURPOSE,
        account_id=CATALOG_ACCOUNT,
        day=day,
        status="failed" if failure else "complete",
        purpose=CATALOG_PURPOSE,
        error=f"{type(failure).__name__}: {failure}" if failure else None,
        warc_key=None,
        started_at=started.isoformat(),
        objects=[stored.to_dict() for stored in written],
        counts={"objects": len(written)},
    )
    manifest = seal_run(bucket, run).get("manifest")
    if failure is not None:
        raise failure
    return [*run["objects"], *([manifest] if manifest else [])]
