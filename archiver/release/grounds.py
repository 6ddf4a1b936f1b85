"""Legal grounds for masking in a release, and which ground each kind of personal data gets by default.

A ground is a provision of law (in Sweden a section of the Public Access and Secrecy Act, OSL)
that makes part of a record secret; every mask in a release names one, and the marker left in
the released text prints its ``code`` (``[MASKERAT: OSL 21 kap. 7 §]``). The built-in grounds
are Swedish; ``release_grounds_file`` (``ARCHIVER_RELEASE_GROUNDS_FILE``) adds to or overrides
them and the category defaults (format: ``config/release-grounds.example.yaml``).
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from archiver.config import Settings
from archiver.errors import ReleaseError

CATEGORIES = ("personnummer", "samordningsnummer", "phone", "email", "address", "name", "other", "attachment")
"""What a mask hides; ``attachment`` withholds a whole image or file, named by its sha256."""
"""Kinds of personal data a mask can hold; the detectors find all but ``other``."""


class Ground(BaseModel):
    """One legal ground: the code printed in markers and an explanation in Swedish and English."""

    code: str
    sv: str
    en: str

    def text(self, lang: str) -> str:
        """Return the explanation in ``lang`` (``sv`` or ``en``)."""
        return self.en if lang == "en" else self.sv


class GroundsConfig(BaseModel):
    """The known grounds by id, and each category's default ground id."""

    grounds: dict[str, Ground]
    categories: dict[str, str]

    def ground(self, ground_id: str) -> Ground:
        """Return the ground with ``ground_id``, or raise ReleaseError naming the known ids."""
        try:
            return self.grounds[ground_id]
        except KeyError:
            raise ReleaseError(
                f"Unknown legal ground '{ground_id}': use one of {', '.join(sorted(self.grounds))} "
                "(or add it to the grounds file, ARCHIVER_RELEASE_GROUNDS_FILE)."
            ) from None

    def default_ground(self, category: str) -> str:
        """Return the default ground id of ``category`` (``other`` when the category has none)."""
        return self.categories.get(category) or self.categories["other"]


DEFAULT_GROUNDS: dict[str, Ground] = {
    "osl-21-7": Ground(
        code="OSL 21 kap. 7 §",
        sv="Personuppgift som kan antas komma att behandlas i strid med dataskyddsförordningen "
        "eller lagen med kompletterande bestämmelser till den om den lämnas ut.",
        en="Personal data that, if released, can be assumed to be processed in breach of the "
        "EU General Data Protection Regulation or the Swedish act supplementing it.",
    ),
    "osl-21-1": Ground(
        code="OSL 21 kap. 1 §",
        sv="Uppgift om en enskilds hälsa eller sexualliv, där den enskilde eller en närstående "
        "kan antas lida betydande men om uppgiften röjs (särskilt ömmande uppgifter).",
        en="Information about an individual's health or sex life whose disclosure can be assumed "
        "to cause the individual or a close relative considerable harm.",
    ),
    "osl-21-3": Ground(
        code="OSL 21 kap. 3 §",
        sv="Uppgift om en enskilds bostadsadress, telefonnummer, e-postadress eller liknande, när "
        "den enskilde eller en närstående av särskild anledning kan utsättas för våld, hot eller "
        "trakasserier om uppgiften röjs (skyddade personuppgifter).",
        en="An individual's home address, telephone number, e-mail address or the like, where "
        "there is particular reason to believe that disclosure exposes the individual or a close "
        "relative to violence, threats or harassment (protected personal data).",
    ),
    "osl-26-1": Ground(
        code="OSL 26 kap. 1 §",
        sv="Uppgift om en enskilds personliga förhållanden inom socialtjänsten, om det inte står "
        "klart att uppgiften kan röjas utan att den enskilde eller en närstående lider men.",
        en="Information about an individual's personal circumstances within the social services, "
        "unless it is clear that it can be disclosed without harm to the individual or a close relative.",
    ),
    "osl-25-1": Ground(
        code="OSL 25 kap. 1 §",
        sv="Uppgift om en enskilds hälsotillstånd eller andra personliga förhållanden inom hälso- "
        "och sjukvården, om det inte står klart att uppgiften kan röjas utan men.",
        en="Information about an individual's state of health or other personal circumstances "
        "within health care, unless it is clear that it can be disclosed without harm.",
    ),
    "osl-23-2": Ground(
        code="OSL 23 kap. 2 §",
        sv="Uppgift om en elevs personliga förhållanden i skolans elevhälsa och särskilda "
        "elevstödjande verksamhet, om uppgiften inte kan röjas utan men.",
        en="Information about a pupil's personal circumstances in the school's pupil health and "
        "special support services, unless it can be disclosed without harm.",
    ),
}
"""The built-in grounds (Swedish law), by id."""

DEFAULT_CATEGORIES: dict[str, str] = {category: "osl-21-7" for category in CATEGORIES}
"""Every category of personal data defaults to OSL 21 kap. 7 § (data protection)."""


def default_grounds() -> GroundsConfig:
    """Return the built-in grounds and category defaults."""
    return GroundsConfig(grounds=dict(DEFAULT_GROUNDS), categories=dict(DEFAULT_CATEGORIES))


def load_grounds(settings: Settings) -> GroundsConfig:
    """Return the built-in grounds, with ``settings.release_grounds_file`` (if set) added on top.

    The file's grounds are added to (or replace by id) the built-in ones, and its categories
    replace those categories' defaults. Raises ReleaseError naming the file and what to fix.
    """
    path = settings.release_grounds_file
    config = default_grounds()
    if path is None:
        return config
    raw = _read_yaml(path)
    try:
        extra = GroundsConfig.model_validate(
            {"grounds": raw.get("grounds") or {}, "categories": raw.get("categories") or {}}
        )
    except ValidationError as error:
        raise ReleaseError(
            f"Grounds file {path} is invalid; each ground needs 'code', 'sv' and 'en' "
            f"(see config/release-grounds.example.yaml):\n{error}"
        ) from None
    config.grounds.update(extra.grounds)
    unknown_categories = sorted(set(extra.categories) - set(CATEGORIES))
    if unknown_categories:
        raise ReleaseError(
            f"Grounds file {path} names unknown categories {', '.join(unknown_categories)}: "
            f"use {', '.join(CATEGORIES)}."
        )
    config.categories.update(extra.categories)
    for category, ground_id in config.categories.items():
        if ground_id not in config.grounds:
            raise ReleaseError(
                f"Grounds file {path}: category '{category}' defaults to unknown ground '{ground_id}'; "
                f"use one of {', '.join(sorted(config.grounds))} or define it under 'grounds:'."
            )
    return config


def _read_yaml(path: Path) -> dict[str, object]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReleaseError(
            f"Grounds file {path} not found: copy config/release-grounds.example.yaml there "
            "or unset ARCHIVER_RELEASE_GROUNDS_FILE to use the built-in grounds."
        ) from None
    except yaml.YAMLError as error:
        raise ReleaseError(f"Grounds file {path} is not valid YAML: {error}") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict) or set(raw) - {"grounds", "categories"}:
        raise ReleaseError(
            f"Grounds file {path} must be a mapping with only 'grounds:' and 'categories:' "
            "(see config/release-grounds.example.yaml)."
        )
    return raw
