"""``python -m archiver.sandbox``: the same commands as ``archiver sandbox``."""

from archiver.sandbox.cli import app

app(prog_name="python -m archiver.sandbox")
