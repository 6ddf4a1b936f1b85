"""Manifests: every object a run wrote, hash-chained per account.

Each run ends with a manifest at ``manifests/{yyyy}/{mm}/{dd}/{run}.json`` listing every object
it wrote (key, version id, sha256, size) and naming the account's previous manifest with its
sha256, so an auditor can walk each account's chain back to its first run and notice any
manifest that was removed or altered. Runs of one account are serial (Airflow's
``max_active_runs=1`` and the command line run accounts one by one), so the newest manifest of
an account, by the start time in its run id, is the head of its chain.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from archiver import __version__
from archiver.errors import ArchiverError
from archiver.report import run_report
from archiver.runs import CAPTURE, RunRecord, account_of_run, manifest_key
from archiver.storage import Bucket

FORMAT = "social-archive-manifest/1"
MANIFEST_PREFIX = "manifests/"


def seal_run(bucket: Bucket, run: RunRecord) -> RunRecord:
    """Write the run's manifest, chained to the account's previous one; return the updated run.

    A skipped run (the day was already archived) writes nothing.
    """
    if run.get("status") == "skipped":
        return run
    key = manifest_key(run["day"], run["run_id"])
    if bucket.exists(key):  # sealed already (a retried task): never rewrite a manifest
        return _sealed(run, bucket.ref(key).to_dict(), _status(run))
    head = chain_head(bucket, run["account"])
    status = _status(run)
    manifest = {
        "format": FORMAT,
        "run_id": run["run_id"],
        "account": run["account"],
        "platform": run["platform"],
        "account_id": run["account_id"],
        "day": run["day"],
        "status": status,
        "purpose": run.get("purpose", CAPTURE),
        "error": run.get("error"),
        "window": run.get("window"),
        "warc_key": run.get("warc_key"),
        "started_at": run.get("started_at"),
        "sealed_at": datetime.now(UTC).isoformat(),
        "software": {"name": "social-archiver", "version": __version__},
        "counts": run.get("counts", {}),
        "requests": run.get("requests", {}),
        "report": run_report({**run, "status": status}),
        "sequence": (head["sequence"] + 1) if head else 1,
        "previous": head["ref"] if head else None,
        "objects": sorted(run.get("objects", []), key=lambda o: (o["key"], o.get("version_id") or "")),
    }
    data = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
    stored = bucket.put(key, data, "application/json")
    return _sealed(run, stored.to_dict(), status)


def _status(run: RunRecord) -> str:
    return "failed" if run.get("status") == "failed" else "complete"


def _sealed(run: RunRecord, manifest: dict[str, Any], status: str) -> RunRecord:
    sealed = RunRecord(**run)
    sealed["status"] = status
    sealed["manifest"] = manifest
    return sealed


def refuse_if_sealed(bucket: Bucket, run: RunRecord) -> None:
    """Raise ArchiverError when ``run`` has a manifest already: a stage run again after its run
    failed and was sealed must not add objects no manifest will list."""
    if bucket.exists(manifest_key(run["day"], run["run_id"])):
        raise ArchiverError(
            f"Run {run['run_id']} is sealed already (it failed before); capture the day afresh "
            "(clear the capture task, or `archiver run --date DAY --account NAME --force`)."
        )


def chain_head(bucket: Bucket, account: str) -> dict[str, Any] | None:
    """Return the account's last sealed manifest as ``{"ref": {key, version_id, sha256},
    "sequence"}``, or None when the account has none yet.

    The last sealed is the newest by storage time; manifests stored within the same second
    are told apart by their sequence numbers.
    """
    entries = [
        entry
        for entry in bucket.list(MANIFEST_PREFIX)
        if _run_of(entry.key) and account_of_run(_run_of(entry.key)) == account
    ]
    if not entries:
        return None
    newest = max(entry.last_modified for entry in entries)
    candidates = []
    for entry in entries:
        if entry.last_modified == newest:
            ref = bucket.ref(entry.key)
            manifest = json.loads(bucket.get(entry.key, ref.version_id))
            candidates.append((int(manifest.get("sequence", 0)), ref))
    sequence, ref = max(candidates, key=lambda candidate: candidate[0])
    return {"ref": {"key": ref.key, "version_id": ref.version_id, "sha256": ref.sha256}, "sequence": sequence}


def completed_run(bucket: Bucket, account: str, day: str) -> str | None:
    """Return the key of a complete capture manifest of ``account`` for ``day``, or None."""
    prefix = f"{MANIFEST_PREFIX}{day[:4]}/{day[5:7]}/{day[8:10]}/{account}_"
    for entry in bucket.list(prefix):
        if account_of_run(_run_of(entry.key)) != account:
            continue
        manifest = json.loads(bucket.get(entry.key))
        if manifest.get("status") == "complete" and manifest.get("purpose", CAPTURE) == CAPTURE:
            return entry.key
    return None


def manifest_of(bucket: Bucket, day: str, run: str) -> dict[str, Any] | None:
    """Return the manifest of run ``run`` of ``day``, or None if it was never sealed."""
    key = manifest_key(day, run)
    if not bucket.exists(key):
        return None
    manifest: dict[str, Any] = json.loads(bucket.get(key))
    return manifest


def _run_of(key: str) -> str:
    name = key.rsplit("/", 1)[-1]
    return name[: -len(".json")] if name.endswith(".json") and "_" in name else ""


def lists_version(bucket: Bucket, key: str, version_id: str | None, manifest_keys: Iterable[str]) -> bool:
    """Return whether any of the manifests at ``manifest_keys`` lists this version of ``key``
    (manifests of an unexpected shape list nothing: ``archiver verify`` reports those)."""
    for manifest_key_ in manifest_keys:
        try:
            manifest = json.loads(bucket.get(manifest_key_))
        except ValueError:
            continue
        objects = manifest.get("objects") if isinstance(manifest, dict) else None
        for listed in objects if isinstance(objects, list) else []:
            if isinstance(listed, dict) and (listed.get("key"), listed.get("version_id")) == (key, version_id):
                return True
    return False
