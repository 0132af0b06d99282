"""Checking the files: the SHA-256 of each file's decompressed contents.

A file is ``ok`` when its decompressed contents hash to the set's recorded SHA-256
(:data:`SHA256`), a ``mismatch`` when they hash to something else, ``corrupt`` when
it cannot be read or decompressed, and ``missing`` when it is not there.  Whatever
the source, this check runs on every load, before the data is used.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from actviz.bench.data.formats import Contents, read_contents
from actviz.bench.data.locate import FileStatus, status
from actviz.bench.data.registry import FASHION_MNIST
from actviz.core.errors import DataError

__all__ = [
    "SHA256",
    "FileCheck",
    "check",
    "check_all",
    "verify",
]

#: SHA-256 of each file's *decompressed* contents, by file name (without ``.gz``).
SHA256: dict[str, str] = FASHION_MNIST.sha256


@dataclass(frozen=True)
class FileCheck:
    """The result of checking one file: ``state`` is ok, mismatch, corrupt or missing."""

    name: str
    path: Path | None
    state: str
    sha256: str | None
    detail: str

    @property
    def ok(self) -> bool:
        """Whether the file is present and its decompressed SHA-256 is right."""
        return self.state == "ok"


def check(f: FileStatus) -> tuple[FileCheck, Contents | None]:
    """Read and check one file; its contents come back only when it is ``ok``."""
    if f.path is None or f.compressed is None:
        return FileCheck(f.name, None, "missing", None, f"{f.name}(.gz) is missing"), None
    try:
        contents = read_contents(f.path, f.compressed)
    except DataError as exc:
        return FileCheck(f.name, f.path, "corrupt", None, str(exc)), None
    want = SHA256[f.name]
    if contents.sha256 != want:
        detail = (
            f"{f.path}: SHA-256 of the contents is {contents.sha256[:16]}..., "
            f"expected {want[:16]}..."
        )
        return FileCheck(f.name, f.path, "mismatch", contents.sha256, detail), None
    return FileCheck(f.name, f.path, "ok", contents.sha256, "ok"), contents


def check_all(files: Sequence[FileStatus]) -> list[tuple[FileCheck, Contents | None]]:
    """:func:`check` each file, in parallel threads (zlib and hashlib release the GIL)."""
    workers = max(1, min(len(files), os.cpu_count() or 1))
    if workers == 1:
        return [check(f) for f in files]
    with ThreadPoolExecutor(workers, thread_name_prefix="actviz-data") as pool:
        return list(pool.map(check, files))


def verify(data_dir: str | os.PathLike[str] | None = None) -> list[FileCheck]:
    """Check the SHA-256 of each file's decompressed contents in the directory in use.

    The directory is the one :func:`~actviz.bench.data.status` picks; nothing is
    downloaded.  Returns one :class:`FileCheck` per file, in the order of the set's files.
    """
    st = status(data_dir)
    return [c for c, _ in check_all(st.files)]
