"""One completeness check for an account on any platform: the archive against the sandbox
world's ground truth, through the check module of the account's platform."""

from __future__ import annotations

from datetime import date

from archiver.sandbox.world import World
from archiver.storage import Bucket

import archive_checks
import instagram_checks
import linkedin_checks
import x_checks
import youtube_checks


def archive_mismatches(bucket: Bucket, world: World, account_name: str, day: date) -> list[str]:
    """Return every difference between the archive of the sandbox account ``account_name`` as of
    ``day`` and what its platform showed at the nightly run after it (missing or wrong items,
    items gone but not tombstoned); an empty list when the archive is complete.

    The account is archived under its own name; raise ValueError for a platform with no check."""
    account = world.account(account_name)
    if account.platform == "facebook":
        return archive_checks.truth_mismatches(bucket, world, account_name, day)
    if account.platform == "instagram":
        return instagram_checks.truth_mismatches(bucket, world, account, day)
    if account.platform == "x":
        _require(account_name, x_checks.X_ACCOUNT)
        return x_checks.truth_mismatches(bucket, world, account_name, day)
    if account.platform == "youtube":
        _require(account_name, youtube_checks.WORLD_ACCOUNT)
        return youtube_checks.truth_mismatches(bucket, world, account_name, day)
    if account.platform == "linkedin":
        _require(account_name, linkedin_checks.ACCOUNT)
        return linkedin_checks.linkedin_mismatches(bucket, world, day)
    raise ValueError(f"no archive check for platform {account.platform!r} (account {account_name})")


def _require(account_name: str, checked: str) -> None:
    if account_name != checked:
        raise ValueError(
            f"the check of this platform compares the world account {checked}, not {account_name}"
        )
