"""The sandbox platform: real wire formats over a seeded, day-by-day evolving municipality.

``World`` holds the platform-neutral world (accounts, residents and the history of every post,
comment, conversation and message); ``make_server`` serves it over HTTP in the Facebook Graph
API's wire format, with signed media, injectable faults and a settable clock.
"""

from archiver.sandbox.server import make_server
from archiver.sandbox.world import SandboxAccount, TruthItem, World, WorldConfig, WorldEvent

__all__ = ["SandboxAccount", "TruthItem", "World", "WorldConfig", "WorldEvent", "make_server"]
