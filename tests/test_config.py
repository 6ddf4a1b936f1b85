"""The accounts file and settings: mistakes give messages that say what to do."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from archiver.config import Settings, find_account, load_accounts
from archiver.errors import ConfigError
from archiver.runs import capture_window

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "accounts.example.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "accounts.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_accounts_file_is_valid() -> None:
    accounts = load_accounts(EXAMPLE)
    assert accounts.accounts and all(a.token_env.startswith("ARCHIVER_TOKEN_") for a in accounts.accounts)


def test_a_missing_file_says_where_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not found: copy config/accounts.example.yaml"):
        load_accounts(tmp_path / "nope.yaml")


def test_a_bad_entry_fails_only_that_account_and_duplicates_are_refused(tmp_path: Path) -> None:
    entry = "  - {{name: {name}, platform: facebook, id: '1', token_env: T}}\n"
    text = "organisation: O\naccounts:\n" + entry.format(name="Ängelholm FB") + entry.format(name="good")
    accounts = load_accounts(write(tmp_path, text))
    assert [a.name for a in accounts.accounts] == ["good"]
    with pytest.raises(ConfigError, match="lower-case letters"):
        find_account(accounts, "Ängelholm FB")
    with pytest.raises(ConfigError, match="twice: a"):
        load_accounts(write(tmp_path, "organisation: O\naccounts:\n" + entry.format(name="a") * 2))


def test_a_missing_token_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(
        tmp_path, "organisation: O\naccounts:\n  - {name: a, platform: facebook, id: '1', token_env: TOK_A}\n"
    )
    monkeypatch.delenv("TOK_A", raising=False)
    with pytest.raises(ConfigError, match="set the environment variable TOK_A"):
        find_account(load_accounts(path), "a").token()
    with pytest.raises(ConfigError, match="known: a"):
        find_account(load_accounts(path), "b")


def test_the_capture_window_is_the_stockholm_day_plus_the_recheck_window() -> None:
    window = capture_window(date(2026, 11, 2), Settings(recheck_days=30, full_sweep_weekday=-1))
    assert window["until"].isoformat() == "2026-11-02T23:00:00+00:00"
    assert window["since"] is not None and window["since"].isoformat() == "2026-10-02T22:00:00+00:00"
    sunday = capture_window(date(2026, 11, 1), Settings(full_sweep_weekday=6))
    assert sunday["since"] is None


def test_an_invalid_entry_cannot_hide_a_duplicate_name(tmp_path: Path) -> None:
    text = (
        "organisation: O\naccounts:\n"
        "  - {name: stad-fb, platform: facebook, id: '1', token_env: T}\n"
        "  - {name: stad-fb, platform: myspace, id: '2', token_env: T}\n"
    )
    with pytest.raises(ConfigError, match="twice: stad-fb"):
        load_accounts(write(tmp_path, text))
