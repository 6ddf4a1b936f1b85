"""Where Instagram direct messages are read: the linked Facebook Page with Facebook Login
(``graph.facebook.com``), ``me`` with Instagram Login; ``page_id`` is checked in the accounts file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from archiver.config import Account
from archiver.connectors.instagram.capture import conversations_node
from archiver.errors import ConfigError

FACEBOOK = "https://graph.facebook.com/v26.0"
INSTAGRAM = "https://graph.instagram.com/v26.0"


def _account(**fields: Any) -> Account:
    entry = {"name": "angelholm-ig", "platform": "instagram", "id": "17841400000000001", "token_env": "T"}
    return Account.model_validate({**entry, **fields})


def test_facebook_login_reads_the_page_and_instagram_login_reads_me() -> None:
    assert conversations_node(_account(page_id="100000000000001"), FACEBOOK) == "100000000000001"
    assert conversations_node(_account(api_base=INSTAGRAM), INSTAGRAM) == "me"
    # a page_id kept while the environment moves the platform to Instagram Login: me, not the Page
    assert conversations_node(_account(page_id="100000000000001"), INSTAGRAM) == "me"


def test_an_account_on_graph_facebook_com_without_page_id_is_refused() -> None:
    with pytest.raises(ValidationError, match="needs page_id"):
        _account(api_base=FACEBOOK)
    with pytest.raises(ValidationError, match="leave page_id out"):
        _account(api_base=INSTAGRAM, page_id="1")
    with pytest.raises(ValidationError, match="only for instagram"):
        Account.model_validate(
            {"name": "a-fb", "platform": "facebook", "id": "1", "token_env": "T", "page_id": "1"}
        )
    # no api_base of its own: the platform default (graph.facebook.com) decides at capture time
    with pytest.raises(ConfigError, match="set page_id"):
        conversations_node(_account(), FACEBOOK)


def test_the_commented_instagram_example_is_a_valid_account() -> None:
    example = Path(__file__).resolve().parent.parent / "config" / "accounts.example.yaml"
    lines = example.read_text(encoding="utf-8").splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("  # - name: angelholm-ig"))
    block = [line.replace("  # ", "  ", 1) for line in lines[start:] if line.startswith("  # ")]
    [entry] = yaml.safe_load("\n".join(block))
    account = Account.model_validate({**entry, "api_base": FACEBOOK})
    assert account.platform == "instagram" and account.page_id == "100000000000001"
