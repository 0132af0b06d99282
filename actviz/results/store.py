"""The results store of ``actviz compare``: ``results.json`` in an ``--out`` folder, a set of runs.

Each run is keyed by its activation with parameters, its training configuration and
its seed (:func:`actviz.results.labels.run_key`).  ``compare`` opens the store, reuses
every finished run (``completed`` or ``diverged``) that it is asked for again, trains
the rest, and rewrites the file atomically after finished epochs (at most once a
second, and after each seed's last epoch).  Runs of other configurations stay in the
store.

What a write keeps (:meth:`Store.runs`): for every key, the stored run or the run
being trained now, whichever is further along — a finished run beats an unfinished
one, then more epochs beat fewer.  So an interrupted (or ``--fresh``) invocation never
replaces a finished run with a partial one, and a new run with no finished epoch is
not written at all (unless it ``failed``: its worker raised or died, which is said).  Runs
found with status ``running`` or ``pending`` (a process that was killed) are read as
``interrupted``.

One writer at a time: ``actviz compare`` holds the store's lock (:func:`locked`: ``flock``
on ``.actviz.lock`` in the folder, released by the kernel if the process dies) from before
it reads the store until its last picture is drawn; a second ``compare`` on the same
folder waits (``waiting for the store's lock, held by pid N``) or, with ``--no-wait``,
fails with :class:`StoreBusy`.  And every write merges: it re-reads the file when another
process has replaced it since this one read or wrote it, and keeps, for every key, the run
further along (the rule above), so two writers that do not share a lock (another machine
on a network folder, the library without the command line) lose no finished run either.
Readers (``results``, ``report --results``) take no lock: the file is always replaced
whole.

:func:`load` is the one way a command reads a store (``results``, ``report --results``):
the same checks, the same errors, the same upgraded runs.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from actviz.core.errors import ActvizError, UsageError
from actviz.core.files import missing_dirs, read_regular, remove_empty_dirs, write_atomic
from actviz.core.jsonsafe import json_data
from actviz.results.labels import run_key
from actviz.results.schema import FINISHED, PLOTS, RESULTS, check_document, parse, upgrade

__all__ = ["LOCK", "Store", "StoreBusy", "load", "locked", "now", "remove_plots"]

#: the lock file of a store (inside its folder)
LOCK = ".actviz.lock"


def _rank(run: Mapping[str, Any]) -> tuple[int, int]:
    return (run.get("status") in FINISHED, int(run.get("epochs_completed") or 0))


def _run_json(run: Mapping[str, Any]) -> str:
    return json.dumps(json_data(run, nonfinite="null"), allow_nan=False, separators=(",", ":"))


class Store:
    """The runs of one ``--out`` folder; see the module's docstring."""

    def __init__(self, folder: str | os.PathLike[str] | None):
        self.folder = Path(folder) if folder is not None else None
        self.stored: dict[str, dict[str, Any]] = {}
        self.live: dict[str, dict[str, Any]] = {}
        self.previous: dict[str, Any] = {}
        self._text: dict[int, tuple[dict[str, Any], str, str]] = {}  # id(run) -> (run, its state, its JSON)
        self._seen: tuple[int, ...] | None = None  # the file as this store last read or wrote it

    @property
    def file(self) -> Path | None:
        return self.folder / RESULTS if self.folder is not None else None

    @classmethod
    def open(cls, folder: str | os.PathLike[str] | None, *, file: str | os.PathLike[str] | None = None,
             hint: str = "choose another --out, or move the file away") -> Store:
        """Read the store in ``folder`` (or the results ``file`` itself); nothing is created.

        An absent file is an empty store; an unreadable or invalid one is one ActvizError
        naming the file, the run and the field (``hint`` says what to do).
        """
        store = cls(folder)
        path = Path(file) if file is not None else store.file
        if path is None or not os.path.lexists(path):  # lexists: False for a name too long, never OSError
            return store
        store._seen = _identity(path)  # before reading: a change meanwhile is read again at the next write
        doc = _read(path, f"cannot read the results store {str(path)!r}", hint)
        for run in doc["runs"]:
            run = upgrade(run, doc.get("config"))
            old = store.stored.get(run["key"])
            if old is None or _rank(run) > _rank(old):
                store.stored[run["key"]] = run
        store.previous = doc
        return store

    # -- planning
    def finished(self, key: str) -> dict[str, Any] | None:
        """The stored run of ``key`` if it is finished (and so can be reused)."""
        run = self.stored.get(key)
        return run if run is not None and run.get("status") in FINISHED else None

    # -- training
    def add_live(self, runs: Iterable[dict[str, Any]], cfg: Mapping[str, Any], label: str) -> None:
        """Runs being trained (the dicts that training fills in): tag them and keep references."""
        for run in runs:
            run["config"] = dict(cfg)
            run["config_label"] = label
            run["key"] = run_key(run["activation"], run["params"], cfg, run["seed"])
            self.live[run["key"]] = run

    def runs(self) -> list[dict[str, Any]]:
        """What a write keeps: stored runs, and live ones where they are further along."""
        out: list[dict[str, Any]] = []
        for key, run in self.stored.items():
            live = self.live.get(key)
            out.append(live if live is not None and _rank(live) >= _rank(run) else run)
        for key, run in self.live.items():
            if key not in self.stored and (run.get("status") in (*FINISHED, "failed") or run.get("epochs_completed")):
                out.append(run)
        return out

    # -- writing
    def _run_text(self, run: dict[str, Any]) -> str:
        state = json.dumps([run.get("status"), run.get("epochs_completed"), len(run.get("history", ()))])
        cached = self._text.get(id(run))
        if cached is not None and cached[0] is run and cached[1] == state and run["key"] not in self.live:
            return cached[2]
        text = _run_json(run)
        self._text[id(run)] = (run, state, text)  # the run itself kept: its id is never another run's
        return text

    def merge_written(self, runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """``runs`` with what another process wrote to the file since this store read or wrote it.

        For every key the run further along wins (a tie keeps this store's); runs of other
        keys are added.  The stored runs are updated too, so later writes keep them.  A file
        that another process left unreadable is an ActvizError (it is not overwritten).
        """
        if self.file is None:
            return list(runs)
        seen = _identity(self.file)
        if seen is None or seen == self._seen:
            return list(runs)
        doc = _read(self.file, f"cannot update the results store {str(self.file)!r}",
                    "another process changed it; move it away to start a new store")
        merged = {r["key"]: r for r in runs}
        for run in doc["runs"]:
            run = upgrade(run, doc.get("config"))
            key = run["key"]
            if key not in self.stored or _rank(run) > _rank(self.stored[key]):
                self.stored[key] = run
            if key not in merged or _rank(run) > _rank(merged[key]):
                merged[key] = run
        self._seen = seen
        return list(merged.values())

    def write(self, doc: dict[str, Any], runs: Sequence[dict[str, Any]]) -> Path:
        """Write ``doc`` with ``runs`` as its ``runs`` atomically; ActvizError names the path on failure.

        What another process wrote meanwhile is merged first (:meth:`merge_written`; the
        document's other fields are this store's).  Each run is one line (runs not being
        trained are serialised once and kept).  A signal that arrives meanwhile waits until
        the file is in place.
        """
        if self.file is None:
            raise UsageError("no --out folder to write to")
        from actviz.core.signals import shielded

        with shielded():
            runs = self.merge_written(runs)
            head = json.dumps(json_data({k: v for k, v in doc.items() if k != "runs"}, nonfinite="null"),
                              indent=1, allow_nan=False)
            body = ",\n".join(self._run_text(r) for r in runs)
            text = (head[:-2] + ',\n "runs": [\n' + body + "\n ]\n}\n" if head != "{}"
                    else '{"runs": [' + body + "]}\n")
            path = write_atomic(self.file, text.encode())
            self._seen = _identity(path)
            return path


def _identity(path: Path) -> tuple[int, ...] | None:
    """What tells one version of a file from the next (an atomic rewrite is a new inode); None if absent."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _read(path: Path, what: str, hint: str) -> dict[str, Any]:
    """The checked document of the results file ``path``; ActvizError ``what: reason (hint)``."""
    try:
        raw = read_regular(path)  # a FIFO or device is refused, never waited on
        doc = parse(raw)
        check_document(doc)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        if isinstance(exc, RecursionError):
            reason = "nested too deeply"
        raise ActvizError(f"{what}: {reason} ({hint})") from None
    return doc


# --------------------------------------------------------------------------- one writer at a time


class StoreBusy(ActvizError):
    """Another process holds the store's lock and the caller chose not to wait."""


def _holder(fd: int) -> str:
    """The process id written in the lock file by its holder ("another process" if none yet)."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        text = ""
    return f"pid {text}" if text.isdigit() else "another process"


def _acquire(folder: Path, wait: bool, on_wait: Callable[[str], None] | None) -> int | None:
    """The locked lock file's descriptor; None where the folder or its lock cannot be made (no lock then)."""
    import fcntl

    path = folder / LOCK
    told = False
    while True:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0),
                         0o666)
        except OSError:  # the store's own checks say what is wrong with the folder, at their moment
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _holder(fd)
                if not wait:
                    raise StoreBusy(f"the store {str(folder)!r} is being written by another actviz ({holder}); "
                                    "wait for it (leave out --no-wait), or choose another --out") from None
                if not told and on_wait is not None:
                    on_wait(f"waiting for the store's lock, held by {holder}")
                told = True
                fcntl.flock(fd, fcntl.LOCK_EX)  # a signal interrupts the wait
            try:
                now_there = os.stat(path)
            except FileNotFoundError:
                now_there = None
            mine = os.fstat(fd)
            if now_there is None or (now_there.st_dev, now_there.st_ino) != (mine.st_dev, mine.st_ino):
                os.close(fd)  # the holder removed it when it let go: lock the file that is there now
                continue
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            return fd
        except OSError as exc:  # a file system without locks: the merge of every write still holds
            os.close(fd)
            if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                return None
            raise ActvizError(f"cannot lock the store {str(folder)!r}: {exc.strerror or exc}") from None
        except BaseException:
            os.close(fd)
            raise


@contextlib.contextmanager
def locked(folder: str | os.PathLike[str], *, wait: bool = True,
           on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the lock of the store in ``folder`` for the block: one writer at a time.

    Another holder: wait (``on_wait`` gets the line ``waiting for the store's lock, held by
    pid N`` once), or with ``wait=False`` raise :class:`StoreBusy`.  The folder is created
    if missing, and removed again at the end if it is still empty (nothing was written).
    Where no lock can be taken (a file system without ``flock``, a folder that cannot be
    created: the writes say why), the block runs unlocked; every write still merges.
    """
    folder = Path(folder)
    created = missing_dirs(folder)  # deepest first
    fd = _acquire(folder, wait, on_wait)
    try:
        yield
    finally:
        if fd is not None:
            with contextlib.suppress(OSError):
                os.unlink(folder / LOCK)  # while still held: a waiter then locks the next file
            os.close(fd)
        remove_empty_dirs(created)  # only what this call created, only if empty


def remove_plots(folder: Path, names: Sequence[str] = PLOTS) -> list[Path]:
    """Delete the store's pictures (they no longer match its results); return those removed."""
    removed = []
    for name in names:
        p = folder / name
        try:
            p.unlink()
            removed.append(p)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise ActvizError(f"cannot remove the stale picture {str(p)!r}: {exc.strerror or exc}") from None
    return removed


def now() -> str:
    """The local time as ``2026-11-27T03:19:04+0000``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def load(path: str | os.PathLike[str], *, option: str = "") -> dict[str, Any]:
    """The document of the store at ``path`` (an ``--out`` folder or its results.json), runs checked and upgraded.

    The document also holds ``source`` (``path`` as given) and ``folder`` (the store's folder).
    ``option`` names the command-line option the path came from (``--results``), for the
    messages.  A path that names no store is a UsageError (exit 2); a store that cannot
    be read or fails a check is an ActvizError naming the file, the run and the field.
    """
    where = f"{option} {str(path)!r}" if option else repr(str(path))
    if str(path) == "":
        raise UsageError(f"{option + ': ' if option else ''}name the folder of a compare store, e.g. actviz-results")
    p = Path(path)
    if not os.path.lexists(p):  # lexists: False (not OSError) for a name too long
        raise UsageError(f"{where} is not a folder: it does not exist (name the --out folder of an 'actviz compare')")
    if os.path.isdir(p):
        folder, file = p, p / RESULTS
        if not os.path.lexists(file):
            raise UsageError(f"{where}: no {RESULTS} in it, not a compare store "
                             f"(run 'actviz compare ... --out {p}')")
    elif p.name == RESULTS or option:
        folder, file = p.parent, p
    else:
        raise UsageError(f"{where} is not a folder (name the --out folder of an 'actviz compare')")
    store = Store.open(folder, file=file, hint="is it the --out folder of an 'actviz compare'?")
    doc = dict(store.previous)
    doc["runs"] = list(store.stored.values())
    doc["source"], doc["folder"] = str(p), str(folder)
    return doc
