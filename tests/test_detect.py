"""The personal data detectors: precision and recall on a labelled set, and recall against the
sandbox's own record of the personal data it wrote."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from archiver.release.detect import PRIORITY, detect, id_number_category, private_names
from archiver.sandbox import text as sandbox_text
from archiver.sandbox.world import STOCKHOLM, World, WorldConfig, personal_data

LABELLED = Path(__file__).parent / "fixtures" / "detect" / "labelled.yaml"


def _labelled() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = yaml.safe_load(LABELLED.read_text(encoding="utf-8"))
    return cases


def test_labelled_set_is_large_and_covers_every_category() -> None:
    cases = _labelled()
    assert len(cases) >= 150
    categories = Counter(category for case in cases for category, _ in case["expect"])
    assert set(categories) == set(PRIORITY)
    assert sum(1 for case in cases if not case["expect"]) >= 40


def test_precision_and_recall_per_category_on_the_labelled_set() -> None:
    true_pos: Counter[str] = Counter()
    false_pos: Counter[str] = Counter()
    false_neg: Counter[str] = Counter()
    near_miss_hits = []
    for case in _labelled():
        expected = {(category, value) for category, value in case["expect"]}
        found = {(f.category, f.value) for f in detect(case["text"], case.get("names", []))}
        for category, _ in found & expected:
            true_pos[category] += 1
        for category, _ in found - expected:
            false_pos[category] += 1
        for category, _ in expected - found:
            false_neg[category] += 1
        if not expected and found:
            near_miss_hits.append((case["text"], sorted(found)))
    report = []
    for category in PRIORITY:
        tp, fp, fn = true_pos[category], false_pos[category], false_neg[category]
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        report.append((category, precision, recall))
        print(f"{category:18} precision {precision:.3f} recall {recall:.3f} (tp {tp}, fp {fp}, fn {fn})")
    assert near_miss_hits == []
    assert all(precision >= 0.95 and recall >= 0.95 for _, precision, recall in report), report


@pytest.mark.parametrize(
    ("value", "category"),
    [
        ("121212-1212", "personnummer"),
        ("19121212-1212", "personnummer"),
        ("191212121212", "personnummer"),
        ("121212+1212", "personnummer"),
        ("121272-1219", "samordningsnummer"),
        ("121212-1213", None),
        ("121312-1210", None),
        ("212000-1355", None),
    ],
)
def test_id_number_category(value: str, category: str | None) -> None:
    assert id_number_category(value) == category


def test_overlaps_resolved_by_priority_and_findings_sorted() -> None:
    pnr = "811218-9876"
    findings = detect(f"Anna: 08-123 456 78, {pnr}, anna@example.se, Storgatan 1", ["Anna Berg"])
    assert [f.category for f in findings] == ["name", "phone", "personnummer", "email", "address"]
    assert all(a.end <= b.start for a, b in itertools.pairwise(findings))
    bare = detect("personnummer 0701011231")
    assert [(f.category, f.value) for f in bare] == [("personnummer", "0701011231")]
    assert [f.category for f in detect("ring 0701011231")] == ["phone"]


def test_private_names_skip_the_account_and_the_organisation() -> None:
    rows = [
        {"author_name": "Exempelby kommun", "from_account": True},
        {"author_name": "Anna Berg", "from_account": False},
        {"author_name": "Exempelby kommun", "from_account": False},
        {"author_name": "Anna Berg", "from_account": False},
        {"author_name": None, "from_account": False},
        {"author_name": "Li Wang", "from_account": False},
    ]
    assert private_names(rows, organisation="Exempelby kommun") == ["Anna Berg", "Li Wang"]
    assert private_names(rows) == ["Anna Berg", "Exempelby kommun", "Li Wang"]


def test_recording_personal_data_consumes_the_random_generator_identically() -> None:
    templates = [*sandbox_text.PERSONAL_SV, *sandbox_text.NEAR_MISS_SV, *sandbox_text.PAGE_REPLIES]
    plain, recorded_rng = random.Random(5), random.Random(5)
    for template in templates * 20:
        expected = sandbox_text.fill(plain, template, first="Anna", sig="/Kontaktcenter")
        with sandbox_text.recording_personal_data() as recorded:
            got = sandbox_text.fill(recorded_rng, template, first="Anna", sig="/Kontaktcenter")
        assert got == expected
        assert all(value in got for _, value in recorded)
    assert plain.getstate() == recorded_rng.getstate()


def test_detectors_find_all_the_personal_data_the_sandbox_wrote() -> None:
    world = World(WorldConfig(seed=11, accounts=2, items_per_day=60))
    until = datetime(2026, 11, 20, 23, 59, tzinfo=STOCKHOLM)
    truth = personal_data(world, until)
    names = [resident.name for resident in world.residents]
    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    missed = []
    for history in world._histories.values():
        for native_id, entries in truth.items():
            item = history.by_id.get(native_id)
            if item is None:
                continue
            for stamp, body in item.texts:
                if stamp > until.timestamp():
                    continue
                findings = {(f.category, f.value) for f in detect(body, names)}
                for category, value in entries:
                    if value not in body or (category == "name" and len(value) < 3):
                        continue
                    total[category] += 1
                    if (category, value) in findings:
                        found[category] += 1
                    else:
                        missed.append((category, value, body))
    for category in sorted(total):
        print(f"{category:18} recall {found[category] / total[category]:.3f} of {total[category]}")
    assert {"personnummer", "samordningsnummer", "phone", "email", "address"} <= set(total)
    assert [m for m in missed if m[0] != "name"] == []
    assert found["name"] / total["name"] >= 0.95


PATHOLOGICAL_TEXTS = [
    ("digits and spaces", "".join(random.Random(1).choice("0123456789 ") for _ in range(100_000)), [], 0),
    ("repeated number starts", "070 " * 25_000, [], 0),
    ("international prefixes", "00 " * 33_000, [], 0),
    ("many handles", "@a " * 30_000, [], 30_000),
    ("many common-word names at sentence starts", "Min. " * 20_000, ["Min Wang"], 0),
    ("many id numbers", "811218-9876 " * 8_000, [], 8_000),
]
"""Long texts that once made the detectors quadratic (15-35 s each); ``bench/detect.py`` times
them against a tenth of each (a linear detector takes about ten times as long)."""


@pytest.mark.parametrize(("label", "text", "names", "expected"), PATHOLOGICAL_TEXTS, ids=[c[0] for c in PATHOLOGICAL_TEXTS])
def test_long_pathological_texts_give_exactly_their_findings(label: str, text: str, names: list[str], expected: int) -> None:
    assert len(detect(text, names)) == expected, label


def test_values_are_the_text_as_written_and_sorted() -> None:
    text = "Ring ٠٧٠١٢٣٤٥٦٧ eller ０７０１２３４５６７, pnr ۸۱۱۲۱۸-۹۸۷۶."
    findings = detect(text)
    assert [(f.category, f.value) for f in findings] == [
        ("phone", "٠٧٠١٢٣٤٥٦٧"),
        ("phone", "０７０１２３４５６７"),
        ("personnummer", "۸۱۱۲۱۸-۹۸۷۶"),
    ]
    assert all(text[f.start : f.end] == f.value for f in findings)


@pytest.mark.parametrize(
    "value",
    ["212000-1355", "2120001355", "16212000-1355", "162120001355", "556016-0680", "802002-4280"],
)
def test_organisation_numbers_are_not_personal_numbers(value: str) -> None:
    assert id_number_category(value) is None
    assert detect(f"Organisationsnummer {value}") == []
