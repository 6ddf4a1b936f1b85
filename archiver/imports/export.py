"""Reading an export: a folder or a .zip, as (path inside the export, bytes) pairs."""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from archiver.errors import ArchiverError


@dataclass(frozen=True)
class ExportFile:
    """One file of an export: its path inside the export (``/``-separated) and its bytes."""

    path: str
    data: bytes

    @property
    def is_json(self) -> bool:
        """Return True for a JSON file."""
        return self.path.lower().endswith(".json")


def read_export(location: Path) -> list[ExportFile]:
    """Return every file of the export at ``location`` (a folder or a .zip), sorted by path.

    Raises ArchiverError naming the path when it is neither, or holds no files.
    """
    if location.is_dir():
        files = [
            ExportFile(path.relative_to(location).as_posix(), path.read_bytes())
            for path in location.rglob("*")
            if path.is_file()
        ]
    elif location.is_file() and zipfile.is_zipfile(location):
        with zipfile.ZipFile(location) as archive:
            files = [
                ExportFile(_safe(info.filename), archive.read(info))
                for info in archive.infolist()
                if not info.is_dir()
            ]
    else:
        raise ArchiverError(
            f"{location} is neither a folder nor a .zip file: give the export as downloaded from "
            "the platform ('Download your information', JSON format), unzipped or not."
        )
    if not files:
        raise ArchiverError(f"{location} holds no files: is it the right export?")
    return sorted(files, key=lambda item: item.path)


def export_id(files: list[ExportFile]) -> str:
    """Return a short id of an export's content: the same files give the same id."""
    digest = hashlib.sha256()
    for item in files:
        digest.update(item.path.encode("utf-8") + b"\0" + hashlib.sha256(item.data).digest())
    return digest.hexdigest()[:16]


def _safe(name: str) -> str:
    """Return a zip member name as a relative path; refuse names that climb out (``..``)."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise ArchiverError(f"the export holds a file named {name!r} outside its folder; refusing it")
    return path.as_posix()
