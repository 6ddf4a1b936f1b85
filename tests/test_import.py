"""Backfill from Meta's "download your information" exports into a real SeaweedFS.

The fixtures under ``tests/fixtures/exports`` are small hand-made exports in Meta's layouts,
with the mojibake Meta writes (UTF-8 bytes escaped one by one). An import keeps every file,
writes the items marked ``imported`` under a sealed manifest with purpose ``import``, and a
second import of the same export writes nothing.
"""

from __future__ import annotations

import json
import shutil
import zipfile
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from archiver.cli import app
from archiver.config import Account, Settings
from archiver.imports import import_export
from archiver.imports.mojibake import fix_text
from archiver.itemstore import read_account_items
from archiver.storage import Bucket

from archive_checks import object_versions
from conftest import S3Stack

EXPORTS = Path(__file__).parent / "fixtures" / "exports"


def _account(name: str, platform: str, display_name: str) -> Account:
    return Account(
        name=name,
        platform=platform,
        id=str(zlib.crc32(name.encode())),
        display_name=display_name,
        token_env="UNUSED",
    )  # type: ignore[arg-type]


def _bucket(stack: S3Stack) -> Bucket:
    return Bucket(stack.bucket, stack.client("archiver"))


def _settings(stack: S3Stack) -> Settings:
    return Settings(bucket=stack.bucket)


def _rows(bucket: Bucket, account: Account) -> dict[str, dict[str, Any]]:
    rows = read_account_items(bucket, account.platform, account.name).to_pylist()
    return {row["text"] or row["kind"]: row for row in rows}


@pytest.mark.parametrize(
    ("broken", "fixed"),
    [
        ("GÃ¶teborg", "Göteborg"),
        ("ð\x9f\x98\x8a", "😊"),
        ("Göteborg", "Göteborg"),  # already right: left alone
        ("plain ascii", "plain ascii"),
        ("Ø¹Ø±Ø¨Ù\x8a", "عربي"),
    ],
)
def test_mojibake_is_undone_where_it_round_trips(broken: str, fixed: str) -> None:
    assert fix_text(broken) == fixed


def test_a_facebook_page_export_becomes_imported_items_with_files_kept(s3_stack: S3Stack) -> None:
    bucket = _bucket(s3_stack)
    account = _account("import-fb", "facebook", "Exempelby kommun")
    run = import_export(bucket, account, EXPORTS / "facebook", _settings(s3_stack))
    assert run["status"] == "complete" and run["purpose"] == "import"
    rows = _rows(bucket, account)
    post = rows["Snöröjningen i Göteborg och Exempelby börjar kl. 06 ❄️"]
    assert post["kind"] == "post" and post["imported"] is True and post["from_account"] is True
    assert post["record_class"] == "upprättad" and post["run_id"] == run["run_id"]
    assert post["created_at"] == datetime(2023, 11, 3, 9, 0, tzinfo=UTC)
    assert post["native_id"].startswith("export:post:")
    [photo] = post["attachments"]
    assert photo["type"] == "photo" and photo["mime"] == "image/jpeg" and bucket.exists(photo["media_key"])
    assert post["raw_ref"].endswith("your_facebook_activity/posts/your_posts_1.json#/0")
    assert "Sn\\u00c3\\u00b6r" in post["source_json"] or "SnÃ¶r" in post["source_json"], (
        "export object as given"
    )
    link = rows["Läs om budgeten 2024 👉"]
    assert link["attachments"][0]["type"] == "link" and link["attachments"][0]["source_url"].endswith(
        "/budget"
    )
    comment = rows["Tack för frågan! Vi återkommer på måndag 😊"]
    assert comment["kind"] == "comment" and comment["author_name"] == "Exempelby kommun"
    resident = rows["Hej, snövallen blockerar vår infart på Björkvägen 💔"]
    assert resident["kind"] == "message" and resident["author_name"] == "Åsa Öberg"
    assert resident["from_account"] is False and resident["record_class"] == "inkommen"
    assert resident["attachments"][0]["media_sha256"]
    answer = rows["Hej Åsa! Vilken gata gäller det?"]
    assert answer["from_account"] is True and answer["thread_key"] == resident["thread_key"]
    conversation = rows["conversation"]
    assert conversation["item_key"] == resident["parent_key"] == resident["thread_key"]
    assert conversation["author_name"] == "Åsa Öberg" and conversation["visibility"] == "private"
    manifest = json.loads(bucket.get(str(run["manifest"]["key"])))
    assert manifest["purpose"] == "import" and manifest["status"] == "complete"
    keys = {obj["key"] for obj in manifest["objects"]}
    raw = {key for key in keys if key.startswith("raw/facebook/import-fb/imports/")}
    assert len(raw) == 4, "every JSON file of the export is kept, also the one not read"
    assert any(key.startswith("items/platform=facebook/account=import-fb/") for key in keys)
    assert sum(key.startswith("media/") for key in keys) == 2
    assert run["counts"]["json_files_not_read"] == 1


def test_importing_the_same_export_again_writes_nothing(s3_stack: S3Stack, tmp_path: Path) -> None:
    bucket = _bucket(s3_stack)
    account = _account("import-again-fb", "facebook", "Exempelby kommun")
    first = import_export(bucket, account, EXPORTS / "facebook", _settings(s3_stack))
    assert first["status"] == "complete"
    before = object_versions(s3_stack.client("admin"), s3_stack.bucket)
    archive = shutil.make_archive(str(tmp_path / "export"), "zip", EXPORTS / "facebook")
    again = import_export(bucket, account, Path(archive), _settings(s3_stack))
    assert again["status"] == "unchanged" and again["objects"] == [] and "manifest" not in again
    assert object_versions(s3_stack.client("admin"), s3_stack.bucket) == before


def test_an_instagram_export_zip_with_a_top_folder(s3_stack: S3Stack, tmp_path: Path) -> None:
    bucket = _bucket(s3_stack)
    account = _account("import-ig", "instagram", "exempelby_kommun")
    archive = tmp_path / "instagram-exempelby_kommun-2026-11-20.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for path in sorted((EXPORTS / "instagram").rglob("*")):
            if path.is_file():
                out.write(
                    path, "instagram-exempelby_kommun/" + path.relative_to(EXPORTS / "instagram").as_posix()
                )
    run = import_export(bucket, account, archive, _settings(s3_stack))
    assert run["status"] == "complete"
    rows = _rows(bucket, account)
    single = rows["Nya öppettider på biblioteket i Göteborg 📚 #exempelby"]
    assert single["kind"] == "post" and single["attachments"][0]["media_key"]
    album = rows["Isbanan är öppen! ⛸️ Välkomna"]
    assert [a["title"] for a in album["attachments"]] == [
        "media/posts/202311/is1.jpg",
        "media/posts/202311/is2.jpg",
    ]
    assert all(a["media_sha256"] for a in album["attachments"]), "found under the zip's top folder"
    assert album["created_at"] == datetime.fromtimestamp(1699266400, UTC)
    assert rows["Tack Jönsson, vi fixar det 👍"]["kind"] == "comment"
    question = rows["مرحبا، متى تفتح المكتبة؟ Öppnar ni på söndag?"]
    assert question["from_account"] is False and question["author_name"] == "Fatima Ali"
    assert rows["Hej Fatima! Söndagar kl. 12–16 🙂"]["from_account"] is True
    assert {row["imported"] for row in rows.values()} == {True}


def test_a_file_that_cannot_be_read_is_kept_and_reported(s3_stack: S3Stack, tmp_path: Path) -> None:
    bucket = _bucket(s3_stack)
    account = _account("import-broken-ig", "instagram", "exempelby_kommun")
    export = tmp_path / "export"
    shutil.copytree(EXPORTS / "instagram", export)
    broken = export / "your_instagram_activity" / "comments" / "post_comments_1.json"
    broken.write_text('{"comments_media_comments": [{"no_string_map": 1}]}', encoding="utf-8")
    run = import_export(bucket, account, export, _settings(s3_stack))
    assert run["status"] == "complete"
    [gap] = run["report"]["gaps"]
    assert gap["kind"] == "export_file_not_understood" and "post_comments_1.json" in gap["detail"]
    kept = [o["key"] for o in run["objects"] if o["key"].endswith("comments/post_comments_1.json")]
    assert kept and bucket.get(kept[0]) == broken.read_bytes()
    assert "comment" not in {row["kind"] for row in _rows(bucket, account).values()}
    manifest = json.loads(bucket.get(str(run["manifest"]["key"])))
    assert manifest["report"]["gaps"] == [gap]


def test_the_import_command(s3_stack: S3Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    accounts = tmp_path / "accounts.yaml"
    entries = [
        {
            "name": "import-cli-ig",
            "platform": "instagram",
            "id": "17841400000000999",
            "token_env": "UNUSED_IG",
            "display_name": "exempelby_kommun",
        },
        {"name": "import-cli-li", "platform": "linkedin", "id": "1", "token_env": "UNUSED_LI"},
    ]
    accounts.write_text(
        yaml.safe_dump({"organisation": "Exempelby kommun", "accounts": entries}), encoding="utf-8"
    )
    for name, value in s3_stack.env("archiver").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ARCHIVER_ACCOUNTS_FILE", str(accounts))
    result = CliRunner().invoke(app, ["import", "--platform", "instagram", str(EXPORTS / "instagram")])
    assert result.exit_code == 0, result.output
    assert "import-cli-ig import:" in result.stdout and "manifests/" in result.stdout
    refused = CliRunner().invoke(
        app, ["import", "--platform", "instagram", "--account", "import-cli-li", str(EXPORTS)]
    )
    assert refused.exit_code != 0
    assert "linkedin, not instagram" in str(refused.exception)
