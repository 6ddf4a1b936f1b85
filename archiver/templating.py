"""Jinja2 templates from the project's ``templates/`` folder: all wording lives there."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@cache
def environment() -> jinja2.Environment:
    """Return the Jinja2 environment over ``templates/`` (strict: an unknown name is an error)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=jinja2.select_autoescape(["html", "xml"]),
    )


def render_text(name: str, context: dict[str, Any], **extra: Any) -> str:
    """Return the template ``name`` rendered with ``context`` and ``extra``."""
    return environment().get_template(name).render(**context, **extra)
