"""Reading an export: a folder or a .zip, one file at a time.

Real exports hold tens of GB of video, so nothing here reads a whole export into memory: an
:class:`ExportFile` names one file and opens a stream of its bytes on demand; the import reads
JSON files whole (they are small) and streams the rest.
"""

from __future__ import annotations

import hashlib
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from archiver.errors import ArchiverError

CHUNK = 1024 * 1024
"""Bytes read from an export file at a time."""


@dataclass(frozen=True)
class ExportFile:
    """One file of an export: its path inside the export (``/``-separated), its size, and how
    to open a stream of its bytes."""

    path: str
    size: int
    opener: Callable[[], IO[bytes]]

    @property
    def is_json(self) -> bool:
        """Return True for a JSON file."""
        return self.path.lower().endswith(".json")

    def chunks(self) -> Iterator[bytes]:
        """Yield the file's bytes in chunks; raise ArchiverError when they cannot be read (a
        damaged zip, a file gone from the folder)."""
        try:
            with self.opener() as stream:
                while chunk := stream.read(CHUNK):
                    yield chunk
        except (OSError, zipfile.BadZipFile, zlib.error, EOFError) as error:
            raise ArchiverError(
                f"{self.path} in the export could not be read ({error}): the export is damaged or "
                "incomplete; download it again and import it again (what was stored so far is kept)."
            ) from error

    def read(self) -> bytes:
        """Return the file's bytes (for JSON files: the rest is streamed with :meth:`chunks`)."""
        return b"".join(self.chunks())


@contextmanager
def open_export(location: Path) -> Iterator[list[ExportFile]]:
    """Open the export at ``location`` (a folder or a .zip) and yield its files, sorted by path;
    the files can be read until the block ends.

    Raises ArchiverError naming the path when it is neither, or holds no files.
    """
    if location.is_dir():
        files = [_folder_file(location, path) for path in location.rglob("*") if path.is_file()]
        yield _nonempty(location, files)
    elif location.is_file() and zipfile.is_zipfile(location):
        with zipfile.ZipFile(location) as archive:
            members = [_zip_file(archive, info) for info in archive.infolist() if not info.is_dir()]
            yield _nonempty(location, members)
    else:
        raise ArchiverError(
            f"{location} is neither a folder nor a .zip file: give the export as downloaded from "
            "the platform ('Download your information', JSON format), unzipped or not."
        )


def export_id(digests: dict[str, str]) -> str:
    """Return a short id of an export's content from each file's sha256 (hex) by path: the same
    files give the same id."""
    digest = hashlib.sha256()
    for path in sorted(digests):
        digest.update(path.encode("utf-8") + b"\0" + bytes.fromhex(digests[path]))
    return digest.hexdigest()[:16]


def _nonempty(location: Path, files: list[ExportFile]) -> list[ExportFile]:
    if not files:
        raise ArchiverError(f"{location} holds no files: is it the right export?")
    return sorted(files, key=lambda item: item.path)


def _folder_file(location: Path, path: Path) -> ExportFile:
    return ExportFile(path.relative_to(location).as_posix(), path.stat().st_size, lambda: path.open("rb"))


def _zip_file(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> ExportFile:
    return ExportFile(_safe(info.filename), info.file_size, lambda: archive.open(info))


def _safe(name: str) -> str:
    """Return a zip member name as a relative path; refuse names that climb out (``..``)."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise ArchiverError(f"the export holds a file named {name!r} outside its folder; refusing it")
    return path.as_posix()
