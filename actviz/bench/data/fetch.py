"""Downloading a set's files from its mirrors into a directory.

Mirrors are base URLs to which the ``.gz`` file names are appended (each set's own,
in its record).  They can be
given per call (``mirrors=``), or by the ``ACTVIZ_MIRRORS`` environment variable, a
comma-separated list of base URLs (``http``, ``https`` or ``file``) that replaces the
built-in :data:`MIRRORS`; they are tried in order, and one that cannot be reached is
not asked again for the other files.

Each file is streamed into a ``.NAME.gz.partial`` file beside its target, verified
against its pinned SHA-256, and only then moved into place atomically.  A transfer
that is cut short (the connection drops, the deadline passes, the process is
stopped) keeps what arrived in the ``.partial`` file, and the next download of the set
resumes it with an HTTP ``Range`` request; a download that completes but does not
verify leaves nothing behind (no ``.partial``, no directory it created).  One download
into a folder runs at a time (an ``flock`` on the folder); a second waits, then fetches
only what is still missing.  The whole download must be over within
the deadline of :func:`~actviz.bench.data.transfer.deadline_seconds`.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from actviz.bench.data import locate
from actviz.bench.data.checksums import check, check_all
from actviz.bench.data.locate import FileStatus
from actviz.bench.data.registry import DATASETS, FASHION_MNIST, DataSet, dataset
from actviz.bench.data.transfer import (
    DEADLINE,
    ENV_DEADLINE,
    TIMEOUT,
    Deadline,
    DeadlinePassed,
    LocalWriteError,
    ProgressCallback,
    deadline_seconds,
    reason,
    stream,
)
from actviz.core.errors import DataError, UsageError
from actviz.core.files import missing_dirs, remove_empty_dirs

__all__ = [
    "ENV_MIRRORS",
    "MIRRORS",
    "MIRRORS_OF",
    "download",
    "download_missing",
    "mirrors_in_use",
    "partial_path",
    "set_default_progress",
]

#: Each set's public mirrors by set name, tried in order (``name.gz`` is appended); read on every call.
MIRRORS_OF: dict[str, tuple[str, ...]] = {d.name: d.mirrors for d in DATASETS.values()}
#: Fashion-MNIST's public mirrors (read on every call for that set: patch it here).
MIRRORS: tuple[str, ...] = FASHION_MNIST.mirrors
#: Environment variable with comma-separated mirror base URLs replacing :data:`MIRRORS`.
ENV_MIRRORS = "ACTVIZ_MIRRORS"

#: ``factory()`` gives a context manager yielding a :data:`ProgressCallback`; used by every
#: download that is given no ``progress`` (the command line installs its progress bar here).
_default_progress: Callable[[], Any] | None = None


def set_default_progress(factory: Callable[[], Any] | None) -> None:
    """Show ``factory()``'s progress (a context manager yielding a callback) for downloads given none.

    The command line installs its Rich progress bar here, so that a download shows one
    whichever command starts it (``data download``, ``compare``, ...).  ``None`` removes it.
    """
    global _default_progress
    _default_progress = factory


def mirrors_in_use(mirrors: Iterable[str] | None = None, ds: DataSet | str | None = None) -> list[str]:
    """The mirror base URLs a download of the set would try, in order.

    ``mirrors`` if given, else ``ACTVIZ_MIRRORS`` (comma-separated) if set, else the
    set's own (:data:`MIRRORS_OF`; Fashion-MNIST's are :data:`MIRRORS`).  Each ends in ``/``; a URL that is not http, https or file is a
    :class:`~actviz.core.errors.UsageError`.
    """
    from urllib.parse import urlsplit

    source = "--mirror"
    if mirrors is None:
        env = os.environ.get(ENV_MIRRORS, "")
        if env.strip():
            mirrors = env.split(",")
            source = ENV_MIRRORS
        else:
            d = dataset(ds)
            mirrors = MIRRORS if d is FASHION_MNIST else MIRRORS_OF.get(d.name, d.mirrors)
    result = []
    for url in mirrors:
        url = url.strip()
        if not url:
            continue
        if urlsplit(url).scheme not in ("http", "https", "file"):
            raise UsageError(f"{source}: {url!r} is not an http(s):// or file:// URL")
        result.append(url if url.endswith("/") else url + "/")
    if not result:
        raise UsageError(f"{source}: no mirror URL given")
    return result


# --------------------------------------------------------------------------- one file


def partial_path(dest: Path, name: str) -> Path:
    """Where the bytes of ``name.gz`` collect while it downloads (kept when a transfer is cut short)."""
    return dest / f".{name}.gz.partial"


def _stream_or_fail(
    url: str, dest: Path, name: str, timeout: float, deadline: Deadline,
    progress: ProgressCallback | None, explicit: bool, ds: DataSet,
) -> Path | None:
    """:func:`~actviz.bench.data.transfer.stream`, with a local write failure or the deadline a DataError.

    A mirror that refuses to resume (HTTP 416: the partial file is no prefix it knows)
    is asked again for the whole file.
    """
    import urllib.error

    filename = f"{name}.gz"
    partial = partial_path(dest, name)
    try:
        try:
            return stream(url, partial, name, timeout, deadline, progress)
        except urllib.error.HTTPError as exc:
            if exc.code != 416 or not partial.exists():
                raise
            partial.unlink()
            return stream(url, partial, name, timeout, deadline, progress)
    except LocalWriteError as exc:
        cause = exc.__cause__ or exc
        raise DataError(f"cannot write {dest / filename}: {reason(cause)}") from None
    except DeadlinePassed as exc:
        raise DataError(
            f"downloading {filename} from {url} did not finish within the deadline of "
            f"{deadline.seconds:g} s ({exc.done} bytes received, kept for the next download to resume); "
            "the mirror is too slow. "
            f"To fix: set {ENV_DEADLINE}=SECONDS to allow longer, try another --mirror, "
            f"or {locate.fix_hint(dest, explicit, ds)}"
        ) from None


def _download_problem(tmp: Path | None, name: str, ds: DataSet) -> str | None:
    """Why a downloaded file is no good (empty, not gzip, wrong SHA-256); None when it is."""
    if tmp is None:
        return "empty reply"
    result, _ = check(FileStatus(name, tmp, True, None), ds)
    if result.state == "corrupt":
        return "corrupt download: not valid gzip"
    if not result.ok:
        return "corrupt download: SHA-256 mismatch"
    return None


def _place(tmp: Path, dest: Path, name: str) -> Path:
    """Move the verified ``tmp`` to ``dest/name.gz`` atomically; drop a stale plain copy."""
    target = dest / f"{name}.gz"
    try:
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except OSError as exc:
        raise DataError(f"cannot write {target}: {reason(exc)}") from None
    plain = dest / name
    if plain.is_file():  # a stale plain copy would shadow the new file
        with contextlib.suppress(OSError):
            plain.unlink()
    _fsync_dir(dest)
    return target


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _download_file(
    name: str,
    dest: Path,
    mirrors: Sequence[str],
    dead: set[str],
    timeout: float,
    deadline: Deadline,
    progress: ProgressCallback | None,
    explicit: bool,
    ds: DataSet,
) -> Path:
    """Fetch ``name.gz`` from the first mirror that has a good copy; atomically placed.

    A mirror that answers with an HTTP error or a bad file is passed over for this file;
    one that cannot be reached is added to ``dead`` and not asked again.
    """
    import urllib.error

    filename = f"{name}.gz"
    tried: list[str] = []
    for base in mirrors:
        url = base + filename
        if base in dead:
            tried.append(f"{url} (skipped: mirror unreachable)")
            continue
        try:
            tmp = _stream_or_fail(url, dest, name, timeout, deadline, progress, explicit, ds)
        except DataError:
            raise
        except urllib.error.HTTPError as exc:  # the mirror answered: try the next
            tried.append(f"{url} ({reason(exc)})")
            continue
        except Exception as exc:  # refused, unresolvable, timed out, cut short, bad reply
            tried.append(f"{url} ({reason(exc)})")
            if isinstance(exc, OSError):  # unreachable: don't ask it for other files
                dead.add(base)
            continue  # what arrived stays in the .partial file: the next mirror or call resumes it
        problem = _download_problem(tmp, name, ds)
        if problem is not None:
            with contextlib.suppress(OSError):
                partial_path(dest, name).unlink()  # complete but wrong: nothing to resume
            tried.append(f"{url} ({problem})")
            continue
        assert tmp is not None
        return _place(tmp, dest, name)
    raise DataError(
        f"could not download {filename} into {dest}: tried "
        + "; ".join(tried)
        + f". To fix: {locate.fix_hint(dest, explicit, ds)}"
    )


# --------------------------------------------------------------------------- the missing files


def _remove_stale_parts(dest: Path, names: Sequence[str], older_than: float) -> None:
    """Remove ``.NAME.gz.*.part`` files left by a download that was killed (SIGKILL) long ago."""
    now = time.time()
    for name in names:
        for leftover in dest.glob(f".{name}.gz.*.part"):
            with contextlib.suppress(OSError):
                if now - leftover.lstat().st_mtime > older_than:
                    leftover.unlink()


@contextlib.contextmanager
def _folder_lock(dest: Path, clock: Deadline) -> Iterator[bool]:
    """Hold an ``flock`` on the folder ``dest`` while downloading into it; yield whether another download held it first.

    Two processes fetching the same set (two ``compare`` runs started together) would
    otherwise append to the same ``.partial`` file.  The second waits, within the
    deadline, then fetches only what the first did not.  Where ``flock`` is missing
    (Windows, some network file systems) nothing is locked.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield False
        return
    try:
        fd = os.open(dest, os.O_RDONLY)
    except OSError:
        yield False
        return
    waited = False
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if clock.passed():
                    raise DataError(f"another download into {dest} did not finish within the deadline of "
                                    f"{clock.seconds:g} s; try again when it is over") from None
                waited = True
                time.sleep(0.05)
            except OSError:  # no flock here: go on unlocked
                break
        yield waited
    finally:
        os.close(fd)  # releases the lock


def download_missing(
    dest: Path,
    names: Sequence[str],
    *,
    mirrors: Iterable[str] | None,
    progress: ProgressCallback | None,
    timeout: float | None,
    explicit: bool,
    deadline: float | None = None,
    ds: DataSet | str | None = None,
) -> None:
    """Download the set's files ``names`` into ``dest`` (made if need be; removed again if a failure leaves it empty).

    ``timeout`` defaults to :data:`~actviz.bench.data.transfer.TIMEOUT`; ``explicit``
    says whether the user named ``dest`` (it changes the advice in error messages).
    """
    d = dataset(ds)
    urls = mirrors_in_use(mirrors, d)
    seconds = deadline_seconds(deadline)
    created = missing_dirs(dest)
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        remove_empty_dirs(created)
        raise DataError(f"cannot create {dest}: {reason(exc)}") from None
    _remove_stale_parts(dest, names, older_than=max(seconds, DEADLINE))
    dead: set[str] = set()
    clock = Deadline(seconds)
    try:
        with contextlib.ExitStack() as stack:
            if stack.enter_context(_folder_lock(dest, clock)):  # another download finished meanwhile?
                good = {c.name for c, _ in check_all([f for f in locate.scan(dest, d) if f.present], d) if c.ok}
                names = [n for n in names if n not in good]
            if progress is None and _default_progress is not None:
                progress = stack.enter_context(_default_progress())
            for name in names:
                _download_file(name, dest, urls, dead, TIMEOUT if timeout is None else timeout,
                               clock, progress, explicit, d)
    except BaseException:
        remove_empty_dirs(created)  # leave no directory behind that this call created and left empty
        raise
    finally:
        clock.cancel()


def _debian_copy_verifies(ds: DataSet) -> bool:
    where = locate.debian_dir(ds)
    if where is None:
        return False
    debian = locate.scan(where, ds)
    return all(f.present for f in debian) and all(c.ok for c, _ in check_all(debian, ds))


def download(
    dest: str | os.PathLike[str] | None = None,
    *,
    mirrors: Iterable[str] | None = None,
    progress: ProgressCallback | None = None,
    force: bool = False,
    timeout: float | None = None,
    deadline: float | None = None,
    ds: DataSet | str | None = None,
) -> Path:
    """Download the set's files (default Fashion-MNIST's four) into ``dest``; return the directory holding the set.

    ``dest`` defaults to ``ACTVIZ_DATA_DIR`` if set (Fashion-MNIST only), else the set's
    user cache folder; in that last case a complete copy that verifies in the set's
    Debian directory is enough
    and nothing is fetched (unless ``force``), and that directory is returned.
    Files already in the target whose contents verify are kept (all are fetched
    again with ``force``); missing or failing ones are fetched from the first mirror
    of :func:`mirrors_in_use` that answers with a good copy.  Each file is verified
    (SHA-256 of the decompressed contents) before it is atomically moved into place,
    so a failed or corrupt download leaves nothing behind.  A mirror that cannot be
    reached is not asked again.  ``progress(name, done, total)`` is called as bytes
    arrive (without it, the default set by :func:`set_default_progress`).  The whole
    download must be over within ``deadline`` seconds (default ``ACTVIZ_DOWNLOAD_DEADLINE``,
    else :data:`~actviz.bench.data.transfer.DEADLINE`), however slowly the bytes come.
    Raises :class:`~actviz.core.errors.DataError` naming what was tried and how to fix
    it when a file cannot be had, :class:`~actviz.core.errors.UsageError` for a
    malformed mirror URL.
    """
    d = dataset(ds)
    urls = mirrors_in_use(mirrors, d)
    deadline_seconds(deadline)  # a bad value is a usage error before anything happens
    explicit = locate.explicit_dir(dest, d)
    directory = explicit[0] if explicit else locate.cache_dir(d)
    if directory.exists() and not directory.is_dir():
        raise DataError(f"{directory} is not a directory")
    if force:
        names = list(d.files)
    else:
        files = locate.scan(directory, d)
        present = [f for f in files if f.present]
        bad = {c.name for c, _ in check_all(present, d) if not c.ok}
        names = [f.name for f in files if not f.present or f.name in bad]
        if names and explicit is None and _debian_copy_verifies(d):
            debian = locate.debian_dir(d)
            assert debian is not None
            return debian
    if names:
        download_missing(
            directory,
            names,
            mirrors=urls,
            progress=progress,
            timeout=timeout,
            explicit=explicit is not None,
            deadline=deadline,
            ds=d,
        )
    return directory
