"""Checking the files against the SHA-256 pinned in the set's record.

A file is ``ok`` when its decompressed contents hash to the set's ``sha256`` pin or,
gzipped, when the ``.gz`` file itself hashes to its ``gz_sha256`` pin (the file as
the mirrors serve it); a ``mismatch`` when neither pin it has matches (or it has
none for its form: a decompressed copy of a set pinned only as ``.gz``); ``corrupt``
when it cannot be read or decompressed; ``missing`` when it is not there.  Whatever
the source, this check runs on every load, before the data is used.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from actviz.bench.data.formats import Contents, read_contents
from actviz.bench.data.locate import FileStatus, status
from actviz.bench.data.registry import FASHION_MNIST, DataSet, dataset
from actviz.core.errors import DataError

__all__ = [
    "SHA256",
    "FileCheck",
    "check",
    "check_all",
    "file_sha256",
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


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes as they are (not decompressed)."""
    from actviz.core.files import open_regular

    with open_regular(path, error=DataError) as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _pinned_match(f: FileStatus, contents: Contents, ds: DataSet) -> tuple[bool, str, str]:
    """Whether a pin of the set matches the file: (ok, the digest compared, the detail when not)."""
    assert f.path is not None
    want = ds.sha256.get(f.name)
    if want is not None and contents.sha256 == want:
        return True, contents.sha256, "ok"
    want_gz = ds.gz_sha256.get(f.name) if f.compressed else None
    if want_gz is not None:
        got = file_sha256(f.path)
        if got == want_gz:
            return True, got, "ok"
        return False, got, f"{f.path}: SHA-256 of the file is {got[:16]}..., expected {want_gz[:16]}..."
    if want is not None:
        return False, contents.sha256, (
            f"{f.path}: SHA-256 of the contents is {contents.sha256[:16]}..., expected {want[:16]}..."
        )
    return False, contents.sha256, (
        f"{f.path}: {ds.title} pins only the SHA-256 of {f.name}.gz as downloaded, so a decompressed copy "
        "cannot be verified; keep the .gz file"
    )


def check(f: FileStatus, ds: DataSet | str | None = None) -> tuple[FileCheck, Contents | None]:
    """Read and check one file of the set; its contents come back only when it is ``ok``."""
    d = dataset(ds)
    if f.path is None or f.compressed is None:
        return FileCheck(f.name, None, "missing", None, f"{f.name}(.gz) is missing"), None
    try:
        contents = read_contents(f.path, f.compressed)
        ok, digest, detail = _pinned_match(f, contents, d)
    except DataError as exc:
        return FileCheck(f.name, f.path, "corrupt", None, str(exc)), None
    if not ok:
        return FileCheck(f.name, f.path, "mismatch", digest, detail), None
    return FileCheck(f.name, f.path, "ok", digest, "ok"), contents


def check_all(
    files: Sequence[FileStatus], ds: DataSet | str | None = None
) -> list[tuple[FileCheck, Contents | None]]:
    """:func:`check` each file, in parallel threads (zlib and hashlib release the GIL)."""
    d = dataset(ds)
    workers = max(1, min(len(files), os.cpu_count() or 1))
    if workers == 1:
        return [check(f, d) for f in files]
    with ThreadPoolExecutor(workers, thread_name_prefix="actviz-data") as pool:
        return list(pool.map(lambda f: check(f, d), files))


def verify(data_dir: str | os.PathLike[str] | None = None, ds: DataSet | str | None = None) -> list[FileCheck]:
    """Check each of the set's files in the directory in use against its pinned SHA-256.

    The directory is the one :func:`~actviz.bench.data.status` picks; nothing is
    downloaded.  Returns one :class:`FileCheck` per file, in the order of the set's files.
    """
    st = status(data_dir, ds)
    return [c for c, _ in check_all(st.files, st.dataset)]
