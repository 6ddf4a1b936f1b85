"""The ``public_access_request`` DAG through ``dag.test()``: a day of a sandbox account archived into a
real SeaweedFS, then a release built by the DAG with the registrar's credentials (the worker's
``AWS_*`` are the archiver's, which cannot write ``releases/``); bad params fail with a clear message."""

from __future__ import annotations

import ast
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import pypdf
import pytest
import yaml

from archiver.config import Settings
from archiver.items import KINDS
from archiver.release.decisions import propose
from archiver.release.grounds import load_grounds
from archiver.release.store import release_key_prefix
from archiver.storage import Bucket

from airflow_harness import AirflowHome, DagTestSummary, HarnessError, run_dag_test
from airflow_harness import airflow_home as airflow_home
from archive_checks import (
    FIRST_DAY,
    STOCKHOLM,
    all_rows,
    archived_sandbox,
)
from conftest import S3Stack

pytestmark = [pytest.mark.slow, pytest.mark.airflow]
DAG_FILE = Path(__file__).resolve().parent.parent / "dags" / "public_access_request.py"
TRIGGERED = datetime(2026, 11, 10, 9, 0, tzinfo=STOCKHOLM)
REFERENCE = "KS 2026/77"


@dataclass
class RequestWorld:
    """An archived day and what the DAG needs to release from it."""

    home: AirflowHome
    stack: S3Stack
    env: dict[str, str]
    account: str

    def run(self, conf: dict[str, Any]) -> DagTestSummary:
        """Trigger the DAG with ``conf`` as the registrar would from the form."""
        return run_dag_test(
            self.home, DAG_FILE, "public_access_request", TRIGGERED, run_conf=conf, extra_env=self.env, retries=0
        )

    def released(self, reference: str) -> dict[str, bytes]:
        """Return the objects stored under the release's prefix by key (read as the auditor)."""
        client, prefix = self.stack.client("auditor"), release_key_prefix(reference)
        listed = client.list_objects_v2(Bucket=self.stack.bucket, Prefix=prefix).get("Contents", [])
        return {
            entry["Key"]: client.get_object(Bucket=self.stack.bucket, Key=entry["Key"])["Body"].read()
            for entry in listed
        }

    def log_text(self) -> str:
        """Return the newest DAG run output of the harness (task logs included)."""
        newest = max(self.home.log_dir.glob("*dag-test-public_access_request*"), key=lambda p: p.stat().st_mtime)
        return newest.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="module")
def request_world(airflow_home: AirflowHome, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RequestWorld]:
    with archived_sandbox(tmp_path_factory.mktemp("request-dag"), seed=11, items_per_day=8) as archived:
        registrar_key, registrar_secret = archived.stack.keys["registrar"]
        env = archived.env | {
            "ARCHIVER_REGISTRAR_ACCESS_KEY_ID": registrar_key,
            "ARCHIVER_REGISTRAR_SECRET_ACCESS_KEY": registrar_secret,
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",  # the task's own log lines, to check them
        }
        yield RequestWorld(airflow_home, archived.stack, env, archived.account)


def test_the_dag_stores_the_release_with_the_registrars_credentials(request_world: RequestWorld) -> None:
    summary = request_world.run(
        {
            "reference": REFERENCE,
            "accounts": [request_world.account],
            "from": FIRST_DAY.isoformat(),
            "to": FIRST_DAY.isoformat(),
            "language": "sv",
            "decided_by": "Registrator R",
        }
    )
    assert summary["state"] == "success", summary["errors"]
    assert summary["task_states"]["release"] == {"-1": "success"}
    objects = request_world.released(REFERENCE)
    prefix = release_key_prefix(REFERENCE)
    names = {key.removeprefix(prefix) for key in objects}
    assert {"följebrev.pdf", "decisions.json", "manifest.json", "SHA256SUMS"} <= names
    assert any(name.startswith("threads/") and name.endswith(".pdf") for name in names)
    [zip_key] = [key for key in objects if key.endswith(".zip")]
    with zipfile.ZipFile(BytesIO(objects[zip_key])) as zipped:
        assert any(name.endswith("följebrev.pdf") for name in zipped.namelist())
    assert not any(name.endswith("decisions.yaml") for name in names)  # the working paper stays out
    letter = " ".join(page.extract_text() for page in pypdf.PdfReader(BytesIO(objects[prefix + "följebrev.pdf"])).pages)
    assert REFERENCE in letter and "Registrator R" in letter and "kammarrätten" in letter
    # the log counts the proposal's masks; the values it holds are nowhere in it
    log = request_world.log_text()
    assert "every proposed mask accepted" in log
    rows = all_rows(Bucket(request_world.stack.bucket, request_world.stack.client("auditor")), request_world.account)
    values = {mask.value for mask in propose(REFERENCE, rows, load_grounds(Settings())).masks}
    assert values and [value for value in values if value in log] == []


def test_a_registrar_reviews_the_proposal_and_releases_with_edited_decisions(request_world: RequestWorld) -> None:
    reference = "KS 2026/79"
    scope = {"reference": reference, "accounts": [request_world.account], "language": "sv"}
    proposed = request_world.run({**scope, "step": "propose"})
    assert proposed["state"] == "success", proposed["errors"]
    answer = proposed["returns"]["release"]
    assert answer["step"] == "propose" and answer["masks"]
    assert request_world.released(reference) == {}  # proposing stores nothing
    decisions = yaml.safe_load(answer["decisions"])
    kept = decisions["masks"][0]
    kept["decision"] = "reject"  # the registrar releases this value after review
    released = request_world.run({**scope, "decisions": yaml.safe_dump(decisions, allow_unicode=True)})
    assert released["state"] == "success", released["errors"]
    record = json.loads(request_world.released(reference)[release_key_prefix(reference) + "decisions.json"])
    assert {mask["id"]: mask["decision"] for mask in record["masks"]}[kept["id"]] == "reject"
    assert all("value" not in mask for mask in record["masks"])
    assert released["returns"]["release"]["zip_key"].endswith(".zip")


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        ({"reference": "  "}, "The field reference (diarienummer) is empty"),
        ({"reference": "KS 2026/78", "decisions": "masks: [unclosed"}, "The pasted decisions (field decisions) is not"),
    ],
    ids=["blank-reference", "bad-decisions"],
)
def test_bad_params_fail_the_task_with_a_clear_message(
    request_world: RequestWorld, conf: dict[str, Any], message: str
) -> None:
    summary = request_world.run(conf)
    assert summary["task_states"]["release"] == {"-1": "failed"}
    assert message in summary["errors"]["release"]["-1"]["message"]
    assert request_world.released(conf["reference"].strip() or "x") == {}


def test_a_run_without_reference_is_refused_before_it_starts(request_world: RequestWorld) -> None:
    # the form marks the reference required; a trigger without it (API, CLI) is refused by Airflow
    with pytest.raises(HarnessError, match="Invalid input for param reference: No value passed"):
        request_world.run({"accounts": [request_world.account]})


def test_the_form_offers_the_archives_item_kinds() -> None:
    tree = ast.parse(DAG_FILE.read_text(encoding="utf-8"))
    [kinds] = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "KINDS" for t in node.targets)
    ]
    assert tuple(ast.literal_eval(kinds)) == KINDS
