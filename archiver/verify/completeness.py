"""Completeness: every stored version is listed by a manifest, and every listed version is stored
and current.

Keys are never reused, so each key of the archive should have exactly one version, listed by
exactly one manifest, and no delete marker. A later version (a replacement, a flipped byte), a
delete marker, a version no manifest lists (an orphan) and a run's WARC file without a manifest
are each reported with the key they concern. One exception: two runs storing the same media file
at the same moment leave two versions of its ``media/sha256/...`` key, each listed by its run;
the content is the same (the key is its sha256, which fixity checks per version), so that is no
finding. ``audits/`` and ``releases/`` have their own records and are not listed by manifests,
so they get no orphan check, but they are read (secrets, retention) and their delete markers are
reported; an object under any other prefix is outside the bucket layout and reported unless a
manifest lists it.
"""

from __future__ import annotations

import re
from typing import Any

from archiver.manifest import MANIFEST_PREFIX
from archiver.runs import manifest_key
from archiver.verify.chain import Manifest, sealed_version
from archiver.verify.inventory import Inventory, Version
from archiver.verify.report import Report, Scope

ARCHIVE_PREFIXES = ("raw/", "media/", "items/", "documents/", "quarantine/", "catalog/")
"""Where every stored version must be listed by a manifest (and so must every root file)."""
REGENERATED_PREFIXES = ("documents/", "catalog/")
"""Views derived from the archive (diaries, catalog pages, root READMEs) that get a new version
when what they show changes; each version must still be listed, and the current one too."""


UNLISTED_PREFIXES = ("audits/", "releases/")
"""Parts of the bucket layout with their own records, never listed by a manifest by design."""
MEDIA_PREFIX = "media/sha256/"


def is_archived(key: str) -> bool:
    """Return whether every version of ``key`` must be listed by a manifest."""
    return key.startswith(ARCHIVE_PREFIXES) or "/" not in key


def is_known(key: str) -> bool:
    """Return whether ``key`` is in the bucket layout (archive, manifests, audits, releases)."""
    return is_archived(key) or key.startswith((MANIFEST_PREFIX, *UNLISTED_PREFIXES))


def is_regenerated(key: str) -> bool:
    """Return whether ``key`` may legitimately have several (listed) versions."""
    return key.startswith(REGENERATED_PREFIXES) or "/" not in key


_DAY_PATTERNS = (
    re.compile(r"^(?:raw/[^/]+/[^/]+|manifests)/(\d{4})/(\d{2})/(\d{2})/"),
    re.compile(r"^items/.*/date=(\d{4})-(\d{2})-(\d{2})/"),
    re.compile(r"^quarantine/[^/]+/[^/]+/(\d{4})-(\d{2})-(\d{2})/"),
    re.compile(r"^documents/[^/]+/\d{4}/\d{2}/.*_(\d{4})-(\d{2})-(\d{2})(?:\.[a-z]{2})?\.pdf$"),
)

Listed = dict[tuple[str, str], list[tuple[Manifest, dict[str, Any]]]]


def key_day(key: str) -> str | None:
    """Return the archive day a key belongs to (YYYY-MM-DD), or None for day-less keys (media)."""
    for pattern in _DAY_PATTERNS:
        match = pattern.match(key)
        if match:
            return "-".join(match.groups())
    return None


def keys_in_scope(inventory: Inventory, manifests: list[Manifest], scope: Scope) -> list[str]:
    """Return the keys a verify of ``scope`` looks at: every key of its days (day-less keys such as
    media, releases, audits or stray objects only for the whole archive), and every key a manifest
    of its days lists (media written those days)."""
    keys = {key for key in inventory.versions if scope.covers(key_day(key))}
    keys |= {str(entry.get("key")) for m in manifests if scope.covers(m.day) for entry in m.objects}
    return sorted(keys)


def check_keys(keys: list[str], inventory: Inventory, listed: Listed, report: Report) -> None:
    """Report, per key: delete markers, rewritten manifests, orphan versions, and listed versions
    that are missing or not current."""
    listed_ids = _listed_ids(listed)
    for key in keys:
        versions = inventory.versions.get(key, [])
        current = versions[0] if versions else None
        if current is not None and current.delete_marker:
            report.add(
                "deleted",
                key,
                f"the current version is a delete marker ({current.version_id}, {current.last_modified:%Y-%m-%d %H:%M:%S}); "
                "the archived versions are still stored",
                version_id=current.version_id,
            )
        if key.startswith(MANIFEST_PREFIX):
            _check_manifest_versions(key, inventory, report)
        elif not key.startswith(UNLISTED_PREFIXES):
            _check_unlisted(key, versions, listed, report)
        _check_listed(key, current, inventory, listed, listed_ids, report)


def _check_manifest_versions(key: str, inventory: Inventory, report: Report) -> None:
    sealed = sealed_version(inventory, key)
    for version in inventory.versions.get(key, []):
        if sealed is not None and not version.delete_marker and version != sealed:
            report.add(
                "altered",
                key,
                f"manifest rewritten: version {version.version_id} was stored after the sealed version "
                f"{sealed.version_id} (manifests are written once)",
                version_id=version.version_id,
            )


def _check_unlisted(key: str, versions: list[Version], listed: Listed, report: Report) -> None:
    where = "" if is_known(key) else f", and {key.split('/', 1)[0]}/ is not part of the bucket layout"
    for version in versions:
        if not version.delete_marker and (key, version.version_id) not in listed:
            report.add(
                "unlisted",
                key,
                f"version {version.version_id} ({version.size} bytes, {version.last_modified:%Y-%m-%d %H:%M:%S}) "
                f"is listed by no manifest{where}",
                version_id=version.version_id,
            )


def _check_listed(
    key: str,
    current: Version | None,
    inventory: Inventory,
    listed: Listed,
    listed_ids: dict[str, list[str]],
    report: Report,
) -> None:
    ids = listed_ids.get(key, [])
    if is_regenerated(key) and current is not None and not current.delete_marker:
        if ids and current.version_id not in ids:
            report.add(
                "not_current",
                key,
                f"the current version {current.version_id} is listed by no manifest (listed: {', '.join(ids)})",
                version_id=current.version_id,
            )
        ids = [version_id for version_id in ids if inventory.version(key, version_id) is None]
    for version_id in ids:
        manifests = ", ".join(sorted({m.key for m, _ in listed[(key, version_id)]}))
        first = min(m.key for m, _ in listed[(key, version_id)])
        if inventory.version(key, version_id) is None:
            report.add(
                "missing",
                key,
                f"version {version_id} listed by {manifests} is not stored",
                version_id=version_id,
                manifest=first,
            )
        elif (
            current is not None
            and not current.delete_marker
            and current.version_id != version_id
            and not _same_media(key, version_id, current, listed)
        ):
            report.add(
                "not_current",
                key,
                f"the current version is {current.version_id}, not version {version_id} listed by {manifests}",
                version_id=current.version_id,
                manifest=first,
            )


def _same_media(key: str, version_id: str, current: Version, listed: Listed) -> bool:
    """Return whether both versions of a media key are listed with the sha256 the key names: the
    same file stored twice by two runs at once. Fixity checks each version's bytes against the key."""
    if not key.startswith(MEDIA_PREFIX):
        return False
    address = key.rsplit("/", 1)[-1]
    entries = listed.get((key, version_id), []) + listed.get((key, current.version_id), [])
    listed_current = (key, current.version_id) in listed
    return listed_current and all(entry.get("sha256") == address for _, entry in entries)


def _listed_ids(listed: Listed) -> dict[str, list[str]]:
    ids: dict[str, list[str]] = {}
    for key, version_id in sorted(listed):
        ids.setdefault(key, []).append(version_id)
    return ids


def check_runs_sealed(keys: list[str], inventory: Inventory, report: Report) -> None:
    """Report every run whose WARC file is stored but whose manifest is not (or is deleted)."""
    for key in keys:
        if not (key.startswith("raw/") and key.endswith(".warc.gz")):
            continue
        run = key.rsplit("/", 1)[1].removesuffix(".warc.gz")
        day = key_day(key)
        if day is None:
            continue
        expected = manifest_key(day, run)
        current = inventory.current(expected)
        if current is None or current.delete_marker:
            state = "was removed (delete marker)" if current is not None else "does not exist"
            report.add(
                "unsealed_run",
                key,
                f"the manifest of run {run}, {expected}, {state}",
                manifest=expected,
            )
