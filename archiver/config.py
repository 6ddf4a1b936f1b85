"""Typed settings and the accounts file.

Settings come, in order of precedence, from explicit arguments, environment variables
(``ARCHIVER_*``; nested with ``__``, e.g. ``ARCHIVER_API_BASE__FACEBOOK``), a ``.env`` file and
the defaults below. Platform tokens are never settings: each account names the environment
variable that holds its token (``token_env``), read only when the account is captured.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from archiver.errors import ConfigError

PLATFORMS = ("facebook", "instagram", "x", "youtube", "linkedin")

DEFAULT_API_BASE = {
    "facebook": "https://graph.facebook.com/v26.0",
    "instagram": "https://graph.facebook.com/v26.0",
    "x": "https://api.x.com/2",
    "youtube": "https://www.googleapis.com/youtube/v3",
    "linkedin": "https://api.linkedin.com/rest",
}


class Settings(BaseSettings):
    """Archive-wide settings; every field can be set as ``ARCHIVER_<FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix="ARCHIVER_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    bucket: str = "social-archive"
    """S3 bucket holding the archive; endpoint and keys come from the standard AWS_* variables."""
    accounts_file: Path = Path("config/accounts.yaml")
    """YAML file listing the organisation and its accounts."""
    timezone: str = "Europe/Stockholm"
    """Time zone that defines an archive day."""
    recheck_days: int = 30
    """How many days back each daily run re-checks for new comments, edits and deletions."""
    full_sweep_weekday: int = 6
    """Weekday (Monday=0) of the full sweep that re-checks every item; -1 turns it off."""
    api_base: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_API_BASE))
    """Base URL per platform, e.g. ``ARCHIVER_API_BASE__FACEBOOK`` for the sandbox."""
    http_max_attempts: int = 8
    """Attempts per request before a throttle or 5xx fails the account."""
    http_backoff_initial: float = 2.0
    """Seconds before the first retry; doubles on each further retry."""
    http_backoff_max: float = 300.0
    """Longest single wait between retries, in seconds."""
    throttle_max_wait: float = 3600.0
    """Longest throttle pause, in seconds, the archiver sits out; a longer one fails the account
    for this run (the next run catches up), since calling during a throttle extends it."""
    http_timeout: float = 60.0
    """Seconds before a request is given up as failed (and retried)."""
    pace_threshold: int = 75
    """Usage percentage (from the usage headers) above which requests are slowed down."""
    pace_max_sleep: float = 60.0
    """Longest pause, in seconds, that pacing inserts between two requests."""
    signing_cert: Path | None = None
    """Optional seal: PKCS#12 file (key and certificate), or PEM certificate with ``signing_key``."""
    signing_key: Path | None = None
    """PEM private key (RSA) for ``signing_cert`` when that is a PEM certificate."""
    signing_key_password_env: str | None = None
    """Name of the environment variable holding the key or PKCS#12 passphrase (never the value)."""
    timestamp_url: str | None = None
    """RFC 3161 timestamp service; when set, seals are PAdES B-T instead of B-B."""
    document_language: Literal["sv", "en"] = "sv"
    """Language of the documents (diaries, threads): ``sv`` (default) or ``en``."""
    release_grounds_file: Path | None = None
    """YAML file with the legal grounds for masking in releases and each category's default
    ground (see ``config/release-grounds.example.yaml``); unset: the built-in Swedish grounds."""
    linkedin_version: str = "202607"
    """LinkedIn API version (``YYYYMM``) sent as the ``LinkedIn-Version`` header; LinkedIn retires
    each version about 12 months after its release (HTTP 426): move it forward then."""
    release_appeal_template: Path | None = None
    """An organisation's own appeal text (*överklagandehänvisning*) for release cover letters: a
    Jinja2 file; ``{lang}`` in the path is replaced by the letter's language (``sv``, ``en``).
    Unset: ``templates/releases/appeal.{lang}.j2``."""


def needs_page_id(api_base: str) -> bool:
    """Return True when an Instagram account at ``api_base`` is read with Facebook Login
    (``graph.facebook.com``), whose direct messages are on the linked Page."""
    return "graph.facebook.com" in api_base


class Account(BaseModel):
    """One archived account, as listed in the accounts file."""

    name: str
    """Short name used in bucket keys, e.g. ``angelholm-fb``: lower case, digits, dashes."""
    platform: Literal["facebook", "instagram", "x", "youtube", "linkedin"]
    id: str
    """The platform's id of the account (the Page id for Facebook)."""
    display_name: str = ""
    token_env: str
    """Name of the environment variable that holds the account's access token."""
    api_base: str | None = None
    """Overrides the platform's base URL for this account only."""
    page_id: str | None = None
    """Instagram only: the Facebook Page linked to the Instagram account. With Facebook Login
    (``graph.facebook.com``, the default) Instagram direct messages are read on the Page
    (``/{page_id}/conversations?platform=instagram``); with Instagram Login
    (``graph.instagram.com``) it is not needed (``/me/conversations``)."""

    @model_validator(mode="after")
    def _instagram_page_known(self) -> Account:
        if self.page_id is not None and self.platform != "instagram":
            raise ValueError("page_id is only for instagram accounts (the Facebook Page linked to it)")
        if self.page_id is not None and "graph.instagram.com" in (self.api_base or ""):
            raise ValueError(
                "leave page_id out for an instagram account read through graph.instagram.com "
                "(Instagram Login): its direct messages are read on /me/conversations"
            )
        if self.platform == "instagram" and self.page_id is None and needs_page_id(self.api_base or ""):
            raise ValueError(
                "an instagram account read through graph.facebook.com (Facebook Login) needs page_id: "
                "the id of the Facebook Page linked to it (GET /{page-id}?fields=instagram_business_account "
                "names the account), since its direct messages are read on the Page"
            )
        return self

    @field_validator("name")
    @classmethod
    def _name_is_key_safe(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", value):
            raise ValueError("use lower-case letters, digits and dashes (at most 63), e.g. 'angelholm-fb'")
        return value

    def token(self) -> str:
        """Return the access token from the environment, or raise ConfigError saying where to put it."""
        value = os.environ.get(self.token_env, "").strip()
        if not value:
            raise ConfigError(
                f"No access token for account '{self.name}' ({self.platform} {self.id}): "
                f"set the environment variable {self.token_env}.",
                account=self.name,
            )
        return value

    def base_url(self, settings: Settings) -> str:
        """Return the API base URL for this account (account override, then settings)."""
        base = self.api_base or settings.api_base.get(self.platform)
        if not base:
            raise ConfigError(
                f"No API base URL for platform {self.platform}: set ARCHIVER_API_BASE__{self.platform.upper()}."
            )
        return base.rstrip("/")


class Registration(BaseModel):
    """How documents are registered (*diarieförs*): patterns or fixed values; unset fields are
    printed as labelled blanks to fill in by hand.

    Patterns may use ``{account}``, ``{platform}``, ``{date}`` (YYYY-MM-DD), ``{yyyy}``,
    ``{mm}``, ``{dd}`` of the document's day, e.g. ``KS {yyyy}/{account}-{mm}{dd}``.
    """

    diarienummer: str | None = None
    registreringsdatum: str | None = None


class AccountsFile(BaseModel):
    """The organisation and the accounts it archives."""

    organisation: str
    logo: Path | None = None
    """Optional organisation logo (PNG or JPEG) on document front pages; a relative path is
    relative to the accounts file."""
    registration: Registration = Field(default_factory=Registration)
    """Registration fields printed on each diary's front page."""
    accounts: list[Account]
    invalid: dict[str, str] = Field(default_factory=dict)
    """Entries that failed validation: name (or ``entry N``) -> what is wrong. Only these
    accounts fail; the others are archived."""
    start_date: date | None = None
    """First day ``archiver demo`` archives (the sandbox world's first day); the DAG's first day
    is ``ARCHIVER_START_DATE``."""


def load_accounts(path: Path | None = None, settings: Settings | None = None) -> AccountsFile:
    """Return the parsed accounts file, or raise ConfigError naming the file and the problem."""
    path = path or (settings or Settings()).accounts_file
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"Accounts file {path} not found: copy config/accounts.example.yaml there."
        ) from None
    except yaml.YAMLError as error:
        raise ConfigError(f"Accounts file {path} is not valid YAML: {error}") from None
    entries = raw.get("accounts") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(
            f"Accounts file {path} needs a list under 'accounts:'; see config/accounts.example.yaml."
        )
    try:
        parsed = AccountsFile.model_validate({**raw, "accounts": []})
    except ValidationError as error:
        raise ConfigError(f"Accounts file {path} is invalid:\n{error}") from None
    if parsed.logo is not None and not parsed.logo.is_absolute():
        parsed.logo = path.parent / parsed.logo
    for number, entry in enumerate(entries, start=1):
        try:
            parsed.accounts.append(Account.model_validate(entry))
        except ValidationError as error:
            label = (
                str(entry.get("name")) if isinstance(entry, dict) and entry.get("name") else f"entry {number}"
            )
            parsed.invalid[label] = f"Account '{label}' in {path} is invalid; fix it there:\n{error}"
    names = [str(entry["name"]) for entry in entries if isinstance(entry, dict) and entry.get("name")]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(f"Accounts file {path} lists these names twice: {', '.join(duplicates)}")
    return parsed


def find_account(accounts: AccountsFile, name: str) -> Account:
    """Return the account called ``name``, or raise ConfigError listing the known names."""
    for account in accounts.accounts:
        if account.name == name:
            return account
    if name in accounts.invalid:
        raise ConfigError(accounts.invalid[name], account=name)
    known = ", ".join(a.name for a in accounts.accounts)
    raise ConfigError(f"No account called '{name}' in the accounts file; known: {known}")
