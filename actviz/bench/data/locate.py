"""Where the data set is: the explicit directory, the user cache, the Debian directory.

The places, in this order (the first that applies is used):

1. an explicit ``data_dir`` argument (the CLI's ``--data-dir``), else
2. the ``ACTVIZ_DATA_DIR`` environment variable.  Either of these is *the* one place
   used: files missing there are downloaded into it, and another copy is never read
   silently.
3. Without either: the user cache directory (:func:`cache_dir`), then
4. :data:`DEBIAN_DIR`, where the Debian/Ubuntu package installs the set; when neither
   holds all four files, the cache directory is where they would be downloaded.

A directory holds the set only if all four files are there, each either gzipped
(``name.gz``) or plain (``name``); when both are present the plain one is used.
Nothing here reads a file: only names and sizes are looked at.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from actviz.bench.data.registry import FASHION_MNIST
from actviz.core.errors import DataError, UsageError

__all__ = [
    "DEBIAN_DIR",
    "ENV_DATA_DIR",
    "ORIGINS",
    "DataStatus",
    "FileStatus",
    "cache_dir",
    "explicit_dir",
    "fix_hint",
    "is_complete",
    "scan",
    "status",
]

#: Where Debian and Ubuntu's ``dataset-fashion-mnist`` package installs the files.
DEBIAN_DIR = FASHION_MNIST.debian_dir

#: Environment variable naming the one data directory to use.
ENV_DATA_DIR = "ACTVIZ_DATA_DIR"

APT_HINT = f"apt-get install {FASHION_MNIST.debian_package}"

#: Human-readable names of the places a data directory can come from.
ORIGINS = {
    "argument": "--data-dir",
    "environment": ENV_DATA_DIR,
    "cache": "user cache",
    "debian": f"Debian package {FASHION_MNIST.debian_package}",
}


def cache_dir() -> Path:
    """The user cache directory for the data set.

    ``$XDG_CACHE_HOME/actviz/fashion-mnist`` when ``XDG_CACHE_HOME`` is set (to an
    absolute path), else ``~/.cache/actviz/fashion-mnist`` (on macOS
    ``~/Library/Caches/actviz/fashion-mnist``, on Windows
    ``%LOCALAPPDATA%/actviz/Cache/fashion-mnist``).
    """
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        base = Path(xdg)
    elif sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "actviz" / "Cache" / FASHION_MNIST.name
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path.home() / ".cache"
    return base / "actviz" / FASHION_MNIST.name


@dataclass(frozen=True)
class FileStatus:
    """One of the four files in a directory, as found on disk (nothing is read)."""

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
    downloaded into (``complete`` is then false).
    """

    directory: Path
    origin: str
    files: tuple[FileStatus, ...]
    searched: tuple[tuple[str, Path, bool], ...]

    @property
    def explicit(self) -> bool:
        """Whether the directory was named by ``data_dir`` or ``ACTVIZ_DATA_DIR``."""
        return self.origin in ("argument", "environment")

    @property
    def complete(self) -> bool:
        """Whether all four files are present."""
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


def scan(directory: Path) -> tuple[FileStatus, ...]:
    """The four files in ``directory``, in the order of the set's files."""
    return tuple(_find_file(directory, name) for name in FASHION_MNIST.files)


def is_complete(directory: Path) -> bool:
    """Whether ``directory`` holds all four files."""
    return all(f.present for f in scan(directory))


def explicit_dir(data_dir: str | os.PathLike[str] | None) -> tuple[Path, str] | None:
    """The directory named by ``data_dir`` or ``ACTVIZ_DATA_DIR`` (absolute) and its origin; None if neither."""
    if data_dir is not None:
        if os.fspath(data_dir) == "":
            raise UsageError(
                "--data-dir: the directory is an empty string; name a directory, "
                "or leave the option out to use the default places"
            )
        return Path(os.path.abspath(os.path.expanduser(os.fspath(data_dir)))), "argument"
    env = os.environ.get(ENV_DATA_DIR, "")
    if env:
        return Path(os.path.abspath(os.path.expanduser(env))), "environment"
    return None


def status(data_dir: str | os.PathLike[str] | None = None) -> DataStatus:
    """Say which directory would be used and which files are there (gz or plain).

    Follows the location order of this module's docstring.  Only looks at names and
    sizes; nothing is read or verified (see :func:`actviz.bench.data.verify`).
    """
    explicit = explicit_dir(data_dir)
    if explicit is not None:
        directory, origin = explicit
        if directory.exists() and not directory.is_dir():
            raise DataError(f"{directory} is not a directory (from {ORIGINS[origin]})")
        files = scan(directory)
        done = all(f.present for f in files)
        return DataStatus(directory, origin, files, ((origin, directory, done),))
    searched: list[tuple[str, Path, bool]] = []
    found: tuple[str, Path, tuple[FileStatus, ...]] | None = None
    cache_files: tuple[FileStatus, ...] | None = None
    for origin, directory in (("cache", cache_dir()), ("debian", DEBIAN_DIR)):
        files = scan(directory)
        done = all(f.present for f in files)
        searched.append((origin, directory, done))
        if origin == "cache":
            cache_files = files
        if done and found is None:
            found = (origin, directory, files)
    if found is not None:
        return DataStatus(found[1], found[0], found[2], tuple(searched))
    assert cache_files is not None
    return DataStatus(cache_dir(), "cache", cache_files, tuple(searched))


def fix_hint(directory: Path, explicit: bool) -> str:
    """How to get the set into ``directory`` (named by the user when ``explicit``), for error messages."""
    if explicit:
        hint = (
            f"put the four files (.gz or plain) into {directory}, or use a directory "
            "that has them (--data-dir DIR or ACTVIZ_DATA_DIR)"
        )
        if directory != DEBIAN_DIR and is_complete(DEBIAN_DIR):
            hint += f", e.g. --data-dir {DEBIAN_DIR}"
        return hint
    return (
        f"install the Debian/Ubuntu package ({APT_HINT}), or put the four files in a "
        "directory and pass --data-dir DIR or set ACTVIZ_DATA_DIR"
    )
