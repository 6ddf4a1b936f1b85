"""Backfill from Meta's "download your information" exports into a real SeaweedFS.

The fixtures under ``tests/fixtures/exports`` are small hand-made exports in Meta's layouts,
with the mojibake Meta writes (UTF-8 bytes escaped one by one). An import keeps every file,
writes the items marked ``imported`` under a sealed manifest with purpose ``import``, and a
second import of the same export writes nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import tracemalloc
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
from archiver.errors import ArchiverError
from archiver.imports import import_export
from archiver.imports.mojibake import fix_text
from archiver.itemstore import read_account_items
from archiver.storage import Bucket, StoredObject, sha256_hex

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


INBOX = Path("your_facebook_activity/messages/inbox/asaoberg_1234567890")


def _export_copy(tmp_path: Path, name: str = "export") -> Path:
    export = tmp_path / name
    shutil.copytree(EXPORTS / "facebook", export)
    return export


def _message_file(export: Path, name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((export / INBOX / name).read_text(encoding="utf-8"))
    return body


def _write_json(path: Path, body: Any) -> None:
    path.write_text(json.dumps(body, indent=1), encoding="utf-8")


def _manifests(bucket: Bucket, account: Account) -> list[dict[str, Any]]:
    found = []
    for entry in bucket.list("manifests/"):
        if entry.key.rsplit("/", 1)[1].startswith(account.name + "_"):
            found.append(json.loads(bucket.get(entry.key)))
    return found


def _unlisted_objects(bucket: Bucket, account: Account) -> set[str]:
    """Return the account's raw files, items files and its items' media that no manifest lists."""
    stored = {entry.key for entry in bucket.list(f"raw/{account.platform}/{account.name}/")}
    stored |= {
        entry.key for entry in bucket.list(f"items/platform={account.platform}/account={account.name}/")
    }
    for row in read_account_items(bucket, account.platform, account.name).to_pylist():
        stored |= {a["media_key"] for a in row["attachments"] if a["media_key"]}
    listed = {obj["key"] for manifest in _manifests(bucket, account) for obj in manifest["objects"]}
    return stored - listed


def test_a_split_conversation_and_identical_messages_give_one_row_each(
    s3_stack: S3Stack, tmp_path: Path
) -> None:
    bucket = _bucket(s3_stack)
    account = _account("import-split-fb", "facebook", "Exempelby kommun")
    export = _export_copy(tmp_path)
    older = _message_file(export, "message_1.json")
    twice = {"sender_name": "Exempelby kommun", "timestamp_ms": 1699000000000, "content": "Ok"}
    older["messages"] = [twice, dict(twice), {**twice, "timestamp_ms": 1698999000000, "content": "Hej"}]
    _write_json(export / INBOX / "message_2.json", older)
    run = import_export(bucket, account, export, _settings(s3_stack))
    rows = read_account_items(bucket, account.platform, account.name).to_pylist()
    versions = [(row["item_key"], row["version"]) for row in rows]
    assert len(versions) == len(set(versions)), "no item has two rows of the same version"
    assert run["counts"]["duplicates"] == 1, "the conversation is in both files"
    [conversation] = [row for row in rows if row["kind"] == "conversation"]
    assert conversation["created_at"] == datetime.fromtimestamp(1698999000, UTC), "from the oldest file"
    same = [row for row in rows if row["text"] == "Ok"]
    assert len(same) == 2 and same[0]["item_key"] != same[1]["item_key"], "identical messages both kept"
    assert {row["thread_key"] for row in same} == {conversation["item_key"]}


def test_a_later_export_with_new_reactions_adds_only_what_is_new(s3_stack: S3Stack, tmp_path: Path) -> None:
    bucket = _bucket(s3_stack)
    account = _account("import-later-fb", "facebook", "Exempelby kommun")
    first = import_export(bucket, account, EXPORTS / "facebook", _settings(s3_stack))
    assert first["status"] == "complete"
    later = _export_copy(tmp_path, "later")
    body = _message_file(later, "message_1.json")
    body["messages"][1]["reactions"] = [{"reaction": "\u00e2\u009d\u00a4", "actor": "Exempelby kommun"}]
    body["messages"].insert(
        0, {"sender_name": "Exempelby kommun", "timestamp_ms": 1699097000000, "content": "Vi plogar i dag."}
    )
    _write_json(later / INBOX / "message_1.json", body)
    run = import_export(bucket, account, later, _settings(s3_stack))
    assert run["status"] == "complete"
    assert run["counts"]["new"] == 1 and run["counts"]["kind_message"] == 1, run["counts"]
    texts = [row["text"] for row in read_account_items(bucket, "facebook", account.name).to_pylist()]
    assert texts.count("Hej, snövallen blockerar vår infart på Björkvägen 💔") == 1


def test_a_file_of_an_unexpected_shape_is_reported_not_fatal(s3_stack: S3Stack, tmp_path: Path) -> None:
    bucket = _bucket(s3_stack)
    account = _account("import-shape-fb", "facebook", "Exempelby kommun")
    export = _export_copy(tmp_path)
    _write_json(export / INBOX / "message_1.json", {"participants": 5, "messages": []})
    run = import_export(bucket, account, export, _settings(s3_stack))
    assert run["status"] == "complete"
    [gap] = run["report"]["gaps"]
    assert gap["kind"] == "export_file_not_understood" and "message_1.json" in gap["detail"]


def test_a_damaged_zip_is_sealed_as_a_failed_import_and_the_next_completes(
    s3_stack: S3Stack, tmp_path: Path
) -> None:
    bucket = _bucket(s3_stack)
    account = _account("import-damaged-fb", "facebook", "Exempelby kommun")
    export = _export_copy(tmp_path)
    unique = os.urandom(4096)
    (export / "your_facebook_activity/posts/media/ny.jpg").write_bytes(unique)
    archive = Path(shutil.make_archive(str(tmp_path / "export"), "zip", export))
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as out:  # stored: the bytes can be damaged
        for path in sorted(export.rglob("*")):
            if path.is_file():
                out.write(path, path.relative_to(export).as_posix())
    posts = (export / "your_facebook_activity/posts/your_posts_1.json").read_bytes()
    data = archive.read_bytes()
    at = data.index(posts) + 10
    archive.write_bytes(data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :])
    with pytest.raises(ArchiverError, match="download it again"):
        import_export(bucket, account, archive, _settings(s3_stack))
    [failed] = _manifests(bucket, account)
    assert failed["status"] == "failed" and failed["purpose"] == "import"
    assert "your_posts_1.json" in failed["error"]
    assert f"media/sha256/{sha256_hex(unique)[:2]}/{sha256_hex(unique)}" in {
        o["key"] for o in failed["objects"]
    }
    run = import_export(bucket, account, export, _settings(s3_stack))
    assert run["status"] == "complete"
    assert _unlisted_objects(bucket, account) == set()


class _KilledBeforeSeal(Bucket):
    """The archive bucket of a process that is killed when it writes its manifest."""

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> StoredObject:
        if key.startswith("manifests/"):
            raise KeyboardInterrupt("killed")
        return super().put(key, data, content_type)


def test_an_import_killed_before_its_seal_is_completed_by_the_next(s3_stack: S3Stack, tmp_path: Path) -> None:
    account = _account("import-killed-fb", "facebook", "Exempelby kommun")
    export = _export_copy(tmp_path)
    (export / "your_facebook_activity/posts/media/ny.jpg").write_bytes(os.urandom(4096))
    killed = _KilledBeforeSeal(s3_stack.bucket, s3_stack.client("archiver"))
    with pytest.raises(KeyboardInterrupt):
        import_export(killed, account, export, _settings(s3_stack))
    bucket = _bucket(s3_stack)
    assert _manifests(bucket, account) == [] and _unlisted_objects(bucket, account)
    run = import_export(bucket, account, export, _settings(s3_stack))
    assert run["status"] == "complete" and run["counts"]["relisted"] >= 6 and run["counts"]["new"] == 0
    assert _unlisted_objects(bucket, account) == set()
    again = import_export(bucket, account, export, _settings(s3_stack))
    assert again["status"] == "unchanged"


def test_a_large_media_file_is_streamed_not_held_in_memory(s3_stack: S3Stack, tmp_path: Path) -> None:
    bucket = _bucket(s3_stack)
    account = _account("import-large-fb", "facebook", "Exempelby kommun")
    size = 48 * 1024 * 1024
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as out:
        for path in sorted((EXPORTS / "facebook").rglob("*")):
            if path.is_file():
                out.write(path, path.relative_to(EXPORTS / "facebook").as_posix())
        with out.open("your_facebook_activity/posts/media/film.mp4", "w", force_zip64=True) as film:
            for _ in range(size // (1024 * 1024)):
                film.write(os.urandom(1024 * 1024))
    tracemalloc.start()
    try:
        run = import_export(bucket, account, archive, _settings(s3_stack))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert run["status"] == "complete"
    [film] = [obj for obj in run["objects"] if obj["size"] == size]
    assert bucket.exists(film["key"])
    assert peak < size / 2, f"peak {peak / 2**20:.1f} MiB of Python memory for a {size / 2**20:.0f} MiB file"


def test_each_entry_is_pointed_at_by_the_key_that_holds_the_list() -> None:
    from archiver.imports.common import numbered_entries

    body = {"title": "Kommentarer", "comments/v2": [{"a": 1}, {"a": 2}]}
    pointers = [pointer for pointer, _, _ in numbered_entries(body, "comments.json")]
    assert pointers == ["/comments~1v2/0", "/comments~1v2/1"]
    assert [pointer for pointer, _, _ in numbered_entries([{"a": 1}], "posts.json")] == ["/0"]
