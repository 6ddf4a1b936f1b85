"""Manifests and the per-account hash chain.

Each manifest key is written once, so the *oldest* stored version of a manifest key is the
sealed one; it is the one verify trusts, and any later version or delete marker on a manifest
key is a finding of its own (see :mod:`archiver.verify.completeness`). For each account the
chain is walked from its head (highest sequence) through the ``previous`` references: each
must name a stored manifest version of the same account whose sha256 matches, the sequence
must drop by exactly one per link and end at 1, and every manifest of the account must be on
the walk.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from archiver.manifest import FORMAT, MANIFEST_PREFIX
from archiver.runs import account_of_run
from archiver.storage import Bucket
from archiver.verify.inventory import Inventory, Version, read_versions
from archiver.verify.report import Report, Scope


@dataclass(frozen=True)
class Manifest:
    """One sealed manifest as stored: where, which version, its sha256 and content."""

    key: str
    version_id: str
    sha256: str
    data: dict[str, Any]

    @property
    def account(self) -> str:
        """Return the account whose chain this manifest is on."""
        return str(self.data.get("account") or account_of_run(self.run_id))

    @property
    def run_id(self) -> str:
        """Return the run id (from the content, else from the key)."""
        return str(self.data.get("run_id") or self.key.rsplit("/", 1)[-1].removesuffix(".json"))

    @property
    def day(self) -> str:
        """Return the archive day of the run (YYYY-MM-DD)."""
        return str(self.data.get("day") or "")

    @property
    def sequence(self) -> int:
        """Return the manifest's place in its account's chain (1 for the first)."""
        value = self.data.get("sequence")
        return value if isinstance(value, int) else 0

    @property
    def objects(self) -> list[dict[str, Any]]:
        """Return the objects the run wrote, as listed (key, version_id, sha256, size)."""
        objects = self.data.get("objects")
        return [o for o in objects if isinstance(o, dict)] if isinstance(objects, list) else []


def sealed_version(inventory: Inventory, key: str) -> Version | None:
    """Return the sealed (oldest stored) version of a manifest key, or None if none is stored."""
    stored = [v for v in inventory.versions.get(key, []) if not v.delete_marker]
    return stored[-1] if stored else None


def load_manifests(bucket: Bucket, inventory: Inventory, report: Report) -> list[Manifest]:
    """Return the sealed version of every manifest in the bucket; unreadable ones become findings."""
    versions = [
        version
        for key in inventory.keys(MANIFEST_PREFIX)
        if key.endswith(".json") and (version := sealed_version(inventory, key)) is not None
    ]
    manifests = []
    for read in read_versions(bucket, versions):
        key, version_id = read.version.key, read.version.version_id
        report.count("manifests")
        if read.error:
            report.add("unreadable", key, f"manifest could not be read: {read.error}", version_id=version_id)
            continue
        try:
            data = json.loads(read.data)
        except ValueError as error:
            report.add("manifest_unreadable", key, f"not JSON: {error}", version_id=version_id)
            continue
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            report.add("manifest_unreadable", key, f"not a {FORMAT} manifest", version_id=version_id)
            continue
        problem = shape_problem(data)
        if problem:
            report.add(
                "manifest_unreadable", key, f"not a valid {FORMAT} manifest: {problem}", version_id=version_id
            )
            continue
        manifests.append(Manifest(key, version_id, read.sha256, data))
    return manifests


_TEXT_FIELDS = ("account", "run_id", "day", "status")
_REF_FIELDS = ("key", "version_id", "sha256")


def shape_problem(data: dict[str, Any]) -> str | None:
    """Return what is wrong with the types of a manifest's fields, or None when they are right."""
    for name in _TEXT_FIELDS:
        if data.get(name) is not None and not isinstance(data[name], str):
            return f"{name!r} is a {type(data[name]).__name__}, not text"
    sequence = data.get("sequence")
    if sequence is not None and (not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 1):
        return f"'sequence' is {sequence!r}, not a whole number from 1"
    previous = data.get("previous")
    if previous is not None:
        if not isinstance(previous, dict):
            return f"'previous' is a {type(previous).__name__}, not an object with {', '.join(_REF_FIELDS)}"
        wrong = [name for name in ("key", "sha256") if not isinstance(previous.get(name), str)]
        if not isinstance(previous.get("version_id"), str | None):
            wrong.append("version_id")
        if wrong:
            return f"'previous' lacks text fields {', '.join(wrong)}"
    objects = data.get("objects")
    if objects is not None and not (isinstance(objects, list) and all(isinstance(o, dict) for o in objects)):
        return "'objects' is not a list of objects"
    return None


def check_chains(manifests: list[Manifest], report: Report, scope: Scope) -> None:
    """Walk each account's chain that has a manifest in ``scope``; report gaps, breaks and forks."""
    accounts: dict[str, list[Manifest]] = {}
    for manifest in manifests:
        accounts.setdefault(manifest.account, []).append(manifest)
    for account, chain in sorted(accounts.items()):
        if any(scope.covers(m.day) for m in chain):
            report.count("chains")
            _check_chain(account, chain, report)


def _check_chain(account: str, manifests: list[Manifest], report: Report) -> None:
    by_ref = {(m.key, m.version_id): m for m in manifests}
    head = max(manifests, key=lambda m: (m.sequence, m.key))
    visited: set[str] = set()
    current: Manifest | None = head
    while current is not None and current.key not in visited:
        visited.add(current.key)
        current = _follow(account, current, by_ref, report)
    for manifest in sorted(manifests, key=lambda m: m.key):
        if manifest.key not in visited:
            report.add(
                "off_chain",
                manifest.key,
                f"manifest (sequence {manifest.sequence}) of account {account} is not on the chain "
                f"that ends at {head.key} (sequence {head.sequence})",
                version_id=manifest.version_id,
                manifest=manifest.key,
            )


def _follow(
    account: str, manifest: Manifest, by_ref: dict[tuple[str, str], Manifest], report: Report
) -> Manifest | None:
    """Check one link of the chain; return the previous manifest, or None at the start or a break."""
    previous = manifest.data.get("previous")
    if not previous:
        if manifest.sequence != 1:
            report.add(
                "chain_gap",
                manifest.key,
                f"the chain of account {account} starts at sequence {manifest.sequence}, not 1: "
                f"{manifest.sequence - 1} earlier manifest(s) missing",
                version_id=manifest.version_id,
            )
        return None
    key, version_id = str(previous.get("key")), str(previous.get("version_id"))
    found = by_ref.get((key, version_id))
    if found is None:
        report.add(
            "chain_broken",
            manifest.key,
            f"its previous manifest {key} (version {version_id}) is not a stored manifest of account {account}",
            version_id=manifest.version_id,
        )
        return None
    if previous.get("sha256") != found.sha256:
        report.add(
            "chain_broken",
            key,
            f"sha256 {found.sha256} does not match {previous.get('sha256')} recorded by the next "
            f"manifest {manifest.key}",
            version_id=version_id,
        )
    if found.sequence != manifest.sequence - 1:
        report.add(
            "chain_gap",
            manifest.key,
            f"sequence {manifest.sequence} follows sequence {found.sequence} ({found.key}) in the chain "
            f"of account {account}",
            version_id=manifest.version_id,
        )
    return found


def listed_versions(
    manifests: Iterable[Manifest],
) -> dict[tuple[str, str], list[tuple[Manifest, dict[str, Any]]]]:
    """Return, for each (key, version id) any manifest lists, the manifests and entries listing it."""
    listed: dict[tuple[str, str], list[tuple[Manifest, dict[str, Any]]]] = {}
    for manifest in manifests:
        for entry in manifest.objects:
            ref = (str(entry.get("key")), str(entry.get("version_id") or "null"))
            listed.setdefault(ref, []).append((manifest, entry))
    return listed
