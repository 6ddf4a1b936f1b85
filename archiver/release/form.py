"""A public access request as a form fills it in (Airflow's trigger form today, a web page
later): the fields checked, then one step run, ``propose`` or ``release``.

``propose`` returns the detectors' proposal as decisions-file text, which the registrar edits
and pastes into the ``decisions`` field of the ``release`` step. ``release`` builds and stores
the package (an empty ``decisions`` field accepts every proposed mask). Neither step logs a
value to mask: logs name counts per category.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from archiver.config import Settings
from archiver.errors import ReleaseError
from archiver.items import KINDS
from archiver.release.package import ReleaseRequest, build_release, write_proposal
from archiver.search import SearchQuery

STEPS = ("propose", "release")
"""``propose``: return the proposal to review; ``release``: build and store the package."""
PASTED = "The pasted decisions (field decisions)"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReleaseForm:
    """A filled-in request form, checked."""

    reference: str
    scope: SearchQuery
    step: str = "release"
    lang: str | None = None
    decided_by: str | None = None
    decisions: str | None = None
    """The decisions file's text as pasted; None accepts every proposed mask."""


def read_form(fields: Mapping[str, Any]) -> ReleaseForm:
    """Return the form ``fields`` (reference, accounts, from, to, kinds, text, thread, language,
    decided_by, decisions, step) checked and cleaned; raise ReleaseError naming the field to fix."""
    reference = _text(fields, "reference")
    if reference is None:
        raise ReleaseError(
            "The field reference (diarienummer) is empty: give the request's reference, e.g. KS 2026/123."
        )
    kinds = _names(fields, "kinds")
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise ReleaseError(f"The field kinds holds {unknown}; use only these kinds: {', '.join(KINDS)}.")
    lang = _text(fields, "language")
    if lang not in (None, "sv", "en"):
        raise ReleaseError(f"The field language={lang!r} is not sv or en.")
    step = _text(fields, "step") or "release"
    if step not in STEPS:
        raise ReleaseError(f"The field step={step!r} is not one of: {', '.join(STEPS)}.")
    scope = SearchQuery(
        accounts=_names(fields, "accounts"),
        day_from=_day(fields, "from"),
        day_to=_day(fields, "to"),
        kinds=kinds,
        text=_text(fields, "text"),
        thread_key=_text(fields, "thread"),
    )
    return ReleaseForm(
        reference, scope, step, lang, _text(fields, "decided_by"), _text(fields, "decisions")
    )


def submit_form(form: ReleaseForm, settings: Settings | None = None) -> dict[str, Any]:
    """Run the form's step; return a small JSON-able summary: for ``propose`` the reference, the
    threads, proposed masks per category and the decisions text to review (it holds the values);
    for ``release`` the reference, the stored keys, the zip's key and masked occurrences per
    category (no values)."""
    settings = settings or Settings()
    with tempfile.TemporaryDirectory(prefix="release-") as tmp:
        request = ReleaseRequest(
            reference=form.reference,
            scope=form.scope,
            out=Path(tmp) / "out",
            lang=form.lang,
            decided_by=form.decided_by,
        )
        if form.step == "propose":
            return _propose(request, settings)
        if form.decisions is not None:
            request.decisions_file = Path(tmp) / "decisions-given.yaml"
            request.decisions_file.write_text(form.decisions + "\n", encoding="utf-8")
        return _release(request, settings)


def _propose(request: ReleaseRequest, settings: Settings) -> dict[str, Any]:
    proposal = write_proposal(request, settings)
    log.info(
        "Proposal for %s: %d thread(s), masks per category: %s. Review the decisions text, then run "
        "the release step with it in the decisions field.",
        proposal.reference,
        proposal.threads,
        _counts(proposal.masks),
    )
    return {
        "reference": proposal.reference,
        "step": "propose",
        "threads": proposal.threads,
        "masks": proposal.masks,
        "decisions": proposal.text,
    }


def _release(request: ReleaseRequest, settings: Settings) -> dict[str, Any]:
    given = request.decisions_file
    try:
        package = build_release(request, settings)
    except ReleaseError as error:
        if given is None:
            raise
        # the registrar pasted text: name the field, not the temporary file
        raise ReleaseError(str(error).replace(f"Decisions file {given}", PASTED).replace(str(given), PASTED)) from None
    how = "decisions as given" if given is not None else "no decisions given: every proposed mask accepted"
    keys = [str(entry["key"]) for entry in package.stored]
    zip_key = next((key for key in keys if key.endswith(".zip")), None)
    log.info(
        "Release %s (%s): masked per category: %s; %d object(s) stored, zip %s.",
        package.reference,
        how,
        _counts(package.masks_accepted),
        len(keys),
        zip_key,
    )
    return {
        "reference": package.reference,
        "step": "release",
        "keys": keys,
        "zip_key": zip_key,
        "masks": package.masks_accepted,
    }


def _counts(per_category: Mapping[str, int]) -> str:
    return ", ".join(f"{category} {count}" for category, count in sorted(per_category.items())) or "none"


def _text(fields: Mapping[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is None or not str(value).strip():
        return None
    return str(value).strip()


def _day(fields: Mapping[str, Any], name: str) -> str | None:
    value = _text(fields, name)
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ReleaseError(f"The field {name}={value!r} is not a date: write it as YYYY-MM-DD.") from None


def _names(fields: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = fields.get(name) or []
    if isinstance(value, str):
        value = value.split(",")
    return tuple(str(v).strip() for v in value if str(v).strip())
