"""Who is in the world: the municipality's accounts and the residents who write to them.

Both depend only on the seed. Residents are not equally active: their weight falls off with
rank (Zipf-like), so a few write often and most rarely.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from archiver.sandbox import text
from archiver.sandbox.text import Person
from archiver.sandbox.world.ids import make_token
from archiver.sandbox.world.model import SandboxAccount

RESIDENT_COUNT = 500


ACCOUNT_PROFILES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("exempelby-fb", "Exempelby kommun", text.TOPICS),
    ("exempelby-kultur-fb", "Exempelby kultur och fritid", ("culture", "library", "swimming")),
    ("exempelby-skola-fb", "Exempelby skola och förskola", ("school", "bus", "culture")),
    (
        "exempelby-samhallsbyggnad-fb",
        "Exempelby samhällsbyggnad",
        ("roads", "snow", "parking", "water", "waste"),
    ),
    ("exempelby-omsorg-fb", "Exempelby vård och omsorg", ("elderly", "bus")),
    ("exempelby-bibliotek-fb", "Exempelby bibliotek", ("library", "culture")),
)
"""Name, display name and post topics of the first accounts; later ones are numbered."""


def make_account(seed: int, index: int) -> SandboxAccount:
    """Return the ``index``-th account (0-based) of the world with ``seed``."""
    if index < len(ACCOUNT_PROFILES):
        name, display_name, topics = ACCOUNT_PROFILES[index]
    else:
        name, display_name, topics = (
            f"exempelby-{index + 1}-fb",
            f"Exempelby kommun konto {index + 1}",
            text.TOPICS,
        )
    return SandboxAccount(
        name=name,
        platform="facebook",
        page_id=str(1_000_000_000_000_001 + index),
        display_name=display_name,
        token=make_token(seed, name),
        token_env="ARCHIVER_TOKEN_" + name.upper().replace("-", "_"),
        topics=topics,
    )


PLATFORM_PROFILES: dict[str, tuple[str, str, str, str]] = {
    "instagram": ("exempelby-ig", "exempelby_kommun", "17841400000000001", "IGAA"),
    "x": ("exempelby-x", "Exempelby kommun", "1460000000000000001", "X2"),
    "youtube": ("exempelby-yt", "Exempelby kommun", "UCexempelbyKommun00000AA", "ya29."),
    "linkedin": ("exempelby-li", "Exempelby kommun", "90000001", "AQV"),
}
"""Platform -> account name, display name, platform id of the account and token prefix."""


def make_platform_account(seed: int, platform: str) -> SandboxAccount:
    """Return the world's one account on ``platform`` (instagram, x, youtube or linkedin)."""
    try:
        name, display_name, account_id, token_prefix = PLATFORM_PROFILES[platform]
    except KeyError:
        raise ValueError(f"no sandbox account profile for platform {platform!r}") from None
    return SandboxAccount(
        name=name,
        platform=platform,
        page_id=account_id,
        display_name=display_name,
        token=token_prefix + make_token(seed, name)[4:],
        token_env="ARCHIVER_TOKEN_" + name.upper().replace("-", "_"),
        topics=text.TOPICS,
    )


def make_residents(seed: int, count: int = RESIDENT_COUNT) -> list[Person]:
    """Return the world's residents: ``count`` people with unique numeric ids and names."""
    rng = random.Random(f"residents:{seed}")
    people: list[Person] = []
    used: set[str] = set()
    while len(people) < count:
        group = rng.choices(text.LANGUAGE_GROUPS, text.GROUP_WEIGHTS)[0]
        person_id = str(rng.randrange(2 * 10**15, 10**16))
        if person_id not in used:
            used.add(person_id)
            people.append(Person(person_id, text.person_name(rng, group), group))
    return people


def _zipf_cumulative(count: int) -> Iterable[float]:
    total = 0.0
    for rank in range(count):
        total += 1.0 / (rank + 1) ** 0.8
        yield total
