"""Documents: each stored PDF passes PDF/A validation, and each account with activity on a day
has its diary.

PDF/A validation is :func:`archiver.documents.pdfa.validate`, imported when first needed. The
diary check runs only once the documents stage exists in this archive (some object is under
``documents/``): an archive from before that stage has no diaries to look for, which the
report says in its notes.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from archiver.runs import diary_key
from archiver.verify.inventory import Inventory, Read
from archiver.verify.report import Report

DOCUMENTS_PREFIX = "documents/"
RELEASES_PREFIX = "releases/"

Validator = Callable[[bytes], list[str]]


def pdfa_validator() -> Validator | str:
    """Return the PDF/A validator, or a message saying why there is none."""
    try:
        module = importlib.import_module("archiver.documents.pdfa")
        checker: Validator = module.validate
    except (ImportError, AttributeError) as error:
        return f"PDF/A validation is unavailable ({error}); install the documents module to check documents"
    return checker


def check_pdfa(read: Read, validator: Validator | str, report: Report) -> None:
    """Report ``read``'s version if it is a document that fails PDF/A validation."""
    key, version_id = read.version.key, read.version.version_id
    if not (key.startswith((DOCUMENTS_PREFIX, RELEASES_PREFIX)) and key.endswith(".pdf")):
        return
    report.count("documents_validated")
    if isinstance(validator, str):
        report.add("pdfa", key, validator, version_id=version_id)
        return
    try:
        problems = validator(read.data)
    except Exception as error:  # a damaged file must not stop the audit
        problems = [f"could not be validated: {type(error).__name__}: {error}"]
    for problem in problems:
        report.add("pdfa", key, problem, version_id=version_id)


def check_diaries(activity: set[tuple[str, str, str]], inventory: Inventory, report: Report) -> None:
    """Report each (items key, account, day) of ``activity`` whose diary is not stored (current)."""
    if not inventory.keys(DOCUMENTS_PREFIX):
        report.notes.append(
            "No object under documents/: the documents stage has not run in this archive, so diaries "
            "and PDF/A validation were not checked."
        )
        return
    for items, account, day in sorted(activity):
        expected = diary_key(account, day)
        current = inventory.current(expected)
        report.count("diaries_expected")
        if current is None or current.delete_marker:
            report.add(
                "diary_missing",
                expected,
                f"account {account} has item versions on {day} ({items}) but no diary; render it with "
                f"`archiver render --account {account} --date {day}`",
            )
