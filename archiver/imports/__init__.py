"""Backfill from a platform's "download your information" export (Facebook Page, Instagram).

``archiver import --platform facebook|instagram EXPORT`` reads the export (a folder or a .zip),
keeps every file of it (JSON under ``raw/{platform}/{account}/imports/{export}/``, media under
``media/``), turns what it shows into items marked ``imported`` and seals it all as one run with
purpose ``import``. Modules: ``export`` (reading files), ``mojibake`` (the exports' broken
UTF-8), ``facebook`` and ``instagram`` (file layouts to observations), ``run`` (the run).
"""

from archiver.imports.run import import_export

__all__ = ["import_export"]
