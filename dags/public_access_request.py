"""A public access request (*begäran om allmän handling*): search, mask and package a release.

Triggered by a registrar from the Airflow UI with the form below (no schedule), in two steps:
``propose`` returns the detectors' proposal (in the task's return value, XCom) as the text of a
decisions file; the registrar edits it and triggers ``release`` with it pasted into the
``decisions`` field (empty: every proposed mask is accepted). ``release`` builds the package
(masked thread documents, cover letter, decisions without values, manifest, SHA256SUMS, zip) and
stores it under ``releases/{reference}/`` with the registrar's credentials
(``ARCHIVER_REGISTRAR_ACCESS_KEY_ID`` / ``_SECRET_ACCESS_KEY`` in the worker's environment).
The one task calls ``archiver.release.form``; logs name counts per category, never a value.
Nothing here reads files or the network at parse time.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

TIMEZONE = "Europe/Stockholm"
# the item kinds of archiver.items.KINDS (not imported: nothing from archiver at parse time)
KINDS = ["post", "comment", "reply", "conversation", "message"]


@dag(
    dag_id="public_access_request",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz=TIMEZONE),
    catchup=False,
    tags=["release", "registrar"],
    # no retries: a bad scope or decisions file does not heal by retrying
    default_args={"retries": 0},
    params={
        "step": Param(
            "release",
            type="string",
            enum=["propose", "release"],
            title="Steg / Step",
            description="propose: föreslå maskeringar att granska (beslutstexten i körningens XCom); "
            "release: skapa och spara utlämnandet. / propose: masks to review (the decisions text in the "
            "run's XCom); release: build and store the release.",
        ),
        "reference": Param(
            type="string",
            minLength=1,
            title="Diarienummer / Reference",
            description="Ärendets diarienummer, t.ex. KS 2026/123. / The request's reference, e.g. KS 2026/123.",
        ),
        "accounts": Param(
            [],
            type="array",
            items={"type": "string"},
            title="Konton / Accounts",
            description="Kontonamn ur kontofilen, ett per rad; tomt = alla konton. / "
            "Account names from the accounts file, one a line; empty = every account.",
        ),
        "from": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Från dag / From day",
            description="Första arkivdag (YYYY-MM-DD), tomt = från början. / First archive day, empty = from the start.",
        ),
        "to": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Till dag / To day",
            description="Sista arkivdag (YYYY-MM-DD), tomt = till i dag. / Last archive day, empty = up to today.",
        ),
        "kinds": Param(
            [],
            type="array",
            items={"type": "string", "enum": KINDS},
            title="Typer / Kinds",
            description="Inlägg, kommentarer, svar, konversationer, meddelanden; tomt = alla. / "
            "Posts, comments, replies, conversations, messages; empty = all.",
        ),
        "text": Param(
            None,
            type=["null", "string"],
            title="Fritext / Text",
            description="Text som posterna ska innehålla (skiftläge och accenter spelar ingen roll). / "
            "Text the items must contain (case and accents do not matter).",
        ),
        "thread": Param(
            None,
            type=["null", "string"],
            title="Tråd / Thread",
            description="En tråds nyckel, t.ex. facebook:SIDA:INLÄGG. / A thread's key, e.g. facebook:PAGE:POST.",
        ),
        "language": Param(
            "sv",
            type="string",
            enum=["sv", "en"],
            title="Språk / Language",
            description="Språk i följebrev och handlingar. / Language of the cover letter and documents.",
        ),
        "decided_by": Param(
            None,
            type=["null", "string"],
            title="Beslutat av / Decided by",
            description="Namn och titel på den som fattar beslutet; tomt = lämnas att fylla i. / "
            "Name and title of who decides; empty = a blank to fill in.",
        ),
        "decisions": Param(
            None,
            type=["null", "string"],
            format="multiline",
            title="Maskeringsbeslut / Masking decisions",
            description="Beslutstexten (YAML) från steget propose eller `archiver request`, redigerad och "
            "inklistrad; tomt = alla föreslagna maskeringar godtas. / The decisions text (YAML) from the propose "
            "step or `archiver request`, edited and pasted; empty = every proposed mask is accepted.",
        ),
    },
    doc_md=__doc__,
)
def public_access_request() -> None:
    """Wire the request: one task that runs the form's step."""

    @task
    def release() -> dict[str, Any]:
        from archiver.release.form import read_form, submit_form

        return submit_form(read_form(get_current_context()["params"]))

    release()


public_access_request()
