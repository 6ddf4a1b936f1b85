"""The sandbox platform: real wire formats over a seeded, day-by-day evolving municipality.

``World`` holds the platform-neutral world (accounts, residents and the history of every post,
comment, conversation and message); ``make_server`` serves it over HTTP in the Facebook Graph
API's wire format, with signed media, injectable faults and a settable clock.

Layout:

* ``world/``: the platform-neutral world (model, ids, people, history, generation, state).
* ``graph/``: the Facebook Graph API wire format; other platforms' wire formats go beside it.
* ``text.py``, ``media.py``: what residents and staff write, and the attached media files.
* ``application.py``: everything the sandbox answers (admin, media, Graph), with the run-time
  controls in ``clock.py`` and ``faults.py`` and the answer type in ``response.py``.
* ``server.py``: the HTTP server around the application; ``cli.py``: ``archiver sandbox``.
"""

from archiver.sandbox.server import make_server
from archiver.sandbox.world import SandboxAccount, TruthItem, World, WorldConfig, WorldEvent

__all__ = ["SandboxAccount", "TruthItem", "World", "WorldConfig", "WorldEvent", "make_server"]
