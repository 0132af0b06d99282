"""Where a data set is: the explicit directory, the user cache, the Debian directory.

The places for one set, in this order (the first that applies is used):

1. an explicit ``data_dir`` argument (the CLI's ``--data-dir``), else
2. for Fashion-MNIST only, the ``ACTVIZ_DATA_DIR`` environment variable (the other
   sets have files of the same names, so one variable cannot name the folder of each).
   Either of these is *the* one place used: files missing there are downloaded into
   it, and another copy is never read silently.
3. Without either: the set's user cache folder (:func:`cache_dir`), then
4. the set's Debian directory (:data:`DEBIAN_DIRS`; only Fashion-MNIST has a
   package); when neither holds all the files, the cache folder is where they would
   be downloaded.

A directory holds the set only if all its files are there, each either gzipped
(``name.gz``) or plain (``name``); when both are present the plain one is used.
Nothing here reads a file: only names and sizes are looked at.  Every function takes
the set as ``ds`` (a :class:`~actviz.bench.data.registry.DataSet` or its name;
default Fashion-MNIST).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from actviz.bench.data.registry import DATASETS, FASHION_MNIST, DataSet, dataset
from actviz.core.errors import DataError, UsageError

__all__ = [
    "DEBIAN_DIR",
    "ENV_DATA_DIR",
    "ORIGINS",
    "DEBIAN_DIRS",
    "DataStatus",
    "FileStatus",
    "cache_dir",
    "debian_dir",
    "explicit_dir",
    "fix_hint",
    "is_complete",
    "scan",
    "status",
]

#: Where a Debian/Ubuntu package installs a set, by set name (read here on every call: patch it here).
DEBIAN_DIRS: dict[str, Path] = {d.name: d.debian_dir for d in DATASETS.values() if d.debian_dir is not None}
#: Where Debian and Ubuntu's ``dataset-fashion-mnist`` package installs the files.
DEBIAN_DIR = DEBIAN_DIRS[FASHION_MNIST.name]

#: Environment variable naming the one data directory to use.
ENV_DATA_DIR = "ACTVIZ_DATA_DIR"

APT_HINT = f"apt-get install {FASHION_MNIST.debian_package}"

#: Human-readable names of the places a data directory can come from.
ORIGINS = {
    "argument": "--data-dir",
    "environment": ENV_DATA_DIR,
    "cache": "user cache",
    "debian": "Debian package",
}


def debian_dir(ds: DataSet | str | None = None) -> Path | None:
    """Where the set's Debian package puts it (None: the set has no package)."""
    d = dataset(ds)
    if d is FASHION_MNIST:
        return DEBIAN_DIR
    return DEBIAN_DIRS.get(d.name)


def cache_dir(ds: DataSet | str | None = None) -> Path:
    """The user cache folder of the set (the examples are Fashion-MNIST's).

    ``$XDG_CACHE_HOME/actviz/fashion-mnist`` when ``XDG_CACHE_HOME`` is set (to an
    absolute path), else ``~/.cache/actviz/fashion-mnist`` (on macOS
    ``~/Library/Caches/actviz/fashion-mnist``, on Windows
    ``%LOCALAPPDATA%/actviz/Cache/fashion-mnist``).
    """
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        base = Path(xdg)
    elif sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "actviz" / "Cache" / dataset(ds).name
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path.home() / ".cache"
    return base / "actviz" / dataset(ds).name


@dataclass(frozen=True)
class FileStatus:
    """One of the set's files in a directory, as found on disk (nothing is read)."""

    name: str
    path: Path | None
    compressed: bool | None
    size: int | None

    @property
    def present(self) -> bool:
        """Whether the file is there (gzipped or plain)."""
        return self.path is not None


@dataclass(frozen=True)
class DataStatus:
    """Which directory would be used, and what it holds.

    ``origin`` is ``"argument"``, ``"environment"``, ``"cache"`` or ``"debian"``;
    ``searched`` lists the ``(origin, directory, complete)`` places looked at, in
    order.  When no place holds the set, ``directory`` is the one the files would be
    downloaded into (``complete`` is then false).  ``dataset`` is the set's record.
    """

    directory: Path
    origin: str
    files: tuple[FileStatus, ...]
    searched: tuple[tuple[str, Path, bool], ...]
    dataset: DataSet = FASHION_MNIST

    @property
    def explicit(self) -> bool:
        """Whether the directory was named by ``data_dir`` or ``ACTVIZ_DATA_DIR``."""
        return self.origin in ("argument", "environment")

    @property
    def complete(self) -> bool:
        """Whether all the set's files are present."""
        return all(f.present for f in self.files)

    @property
    def missing(self) -> tuple[str, ...]:
        """Names of the files that are not present."""
        return tuple(f.name for f in self.files if not f.present)

    @property
    def origin_text(self) -> str:
        """Where the directory came from, for people."""
        return ORIGINS.get(self.origin, self.origin)


def _find_file(directory: Path, name: str) -> FileStatus:
    for candidate, compressed in ((directory / name, False), (directory / f"{name}.gz", True)):
        try:
            st = candidate.stat()
        except OSError:
            continue
        if os.path.isdir(candidate):
            continue
        return FileStatus(name, candidate, compressed, st.st_size)
    return FileStatus(name, None, None, None)


def scan(directory: Path, ds: DataSet | str | None = None) -> tuple[FileStatus, ...]:
    """The set's files in ``directory``, in the order of the set's files."""
    return tuple(_find_file(directory, name) for name in dataset(ds).files)


def is_complete(directory: Path, ds: DataSet | str | None = None) -> bool:
    """Whether ``directory`` holds all the set's files."""
    return all(f.present for f in scan(directory, ds))


def explicit_dir(
    data_dir: str | os.PathLike[str] | None, ds: DataSet | str | None = None
) -> tuple[Path, str] | None:
    """The directory named by ``data_dir`` (or, for Fashion-MNIST, ``ACTVIZ_DATA_DIR``), absolute, and its origin.

    None if neither names one.
    """
    if data_dir is not None:
        if os.fspath(data_dir) == "":
            raise UsageError(
                "--data-dir: the directory is an empty string; name a directory, "
                "or leave the option out to use the default places"
            )
        return Path(os.path.abspath(os.path.expanduser(os.fspath(data_dir)))), "argument"
    env = os.environ.get(ENV_DATA_DIR, "")
    if env and dataset(ds) is FASHION_MNIST:
        return Path(os.path.abspath(os.path.expanduser(env))), "environment"
    return None


def status(data_dir: str | os.PathLike[str] | None = None, ds: DataSet | str | None = None) -> DataStatus:
    """Say which directory would be used for the set and which files are there (gz or plain).

    Follows the location order of this module's docstring.  Only looks at names and
    sizes; nothing is read or verified (see :func:`actviz.bench.data.verify`).
    """
    d = dataset(ds)
    explicit = explicit_dir(data_dir, d)
    if explicit is not None:
        directory, origin = explicit
        if directory.exists() and not directory.is_dir():
            raise DataError(f"{directory} is not a directory (from {ORIGINS[origin]})")
        files = scan(directory, d)
        done = all(f.present for f in files)
        return DataStatus(directory, origin, files, ((origin, directory, done),), d)
    searched: list[tuple[str, Path, bool]] = []
    found: tuple[str, Path, tuple[FileStatus, ...]] | None = None
    cache_files: tuple[FileStatus, ...] | None = None
    debian = debian_dir(d)
    places = [("cache", cache_dir(d))] + ([("debian", debian)] if debian is not None else [])
    for origin, directory in places:
        files = scan(directory, d)
        done = all(f.present for f in files)
        searched.append((origin, directory, done))
        if origin == "cache":
            cache_files = files
        if done and found is None:
            found = (origin, directory, files)
    if found is not None:
        return DataStatus(found[1], found[0], found[2], tuple(searched), d)
    assert cache_files is not None
    return DataStatus(cache_dir(d), "cache", cache_files, tuple(searched), d)


def fix_hint(directory: Path, explicit: bool, ds: DataSet | str | None = None) -> str:
    """How to get the set into ``directory`` (named by the user when ``explicit``), for error messages."""
    d = dataset(ds)
    what = "four files" if len(d.files) == 4 else " and ".join(f"{n}.gz" for n in d.files)
    named = "--data-dir DIR or ACTVIZ_DATA_DIR" if d is FASHION_MNIST else "--data-dir DIR"
    debian = debian_dir(d)
    if explicit:
        hint = f"put the {what} (.gz or plain) into {directory}, or use a directory that has them ({named})"
        if debian is not None and directory != debian and is_complete(debian, d):
            hint += f", e.g. --data-dir {debian}"
        return hint
    if d.debian_package is None:
        files = "the four .gz files" if len(d.files) == 4 else what
        return (
            f"check the network and run `actviz data download --data {d.name}` (from {', '.join(d.mirrors)}; "
            f"a transfer cut short resumes), try another --mirror, or put {files} as downloaded in a directory "
            "and pass --data-dir DIR"
        )
    return (
        f"install the Debian/Ubuntu package (apt-get install {d.debian_package}), or put the {what} in a "
        f"directory and pass {'--data-dir DIR or set ACTVIZ_DATA_DIR' if d is FASHION_MNIST else '--data-dir DIR'}"
    )
