"""The results store of ``actviz compare``: ``results.json`` in an ``--out`` folder, a set of runs.

Each run is keyed by its activation with parameters, its training configuration and
its seed (:func:`actviz.results.labels.run_key`).  ``compare`` opens the store, reuses
every finished run (``completed`` or ``diverged``) that it is asked for again, trains
the rest, and rewrites the file atomically after every finished epoch.  Runs of other
configurations stay in the store.

What a write keeps (:meth:`Store.runs`): for every key, the stored run or the run
being trained now, whichever is further along — a finished run beats an unfinished
one, then more epochs beat fewer.  So an interrupted (or ``--fresh``) invocation never
replaces a finished run with a partial one, and a new run with no finished epoch is
not written at all.  Runs found with status ``running`` or ``pending`` (a process
that was killed) are read as ``interrupted``.

:func:`load` is the one way a command reads a store (``results``, ``report --results``):
the same checks, the same errors, the same upgraded runs.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from actviz.core.errors import ActvizError, UsageError
from actviz.core.files import read_regular, write_atomic
from actviz.core.jsonsafe import json_data
from actviz.results.labels import run_key
from actviz.results.schema import FINISHED, PLOTS, RESULTS, check_document, parse, upgrade

__all__ = ["Store", "load", "now", "remove_plots"]


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
        self._text: dict[int, tuple[str, str]] = {}  # id(run) -> (its status and epochs, its JSON)

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
        try:
            raw = read_regular(path)  # a FIFO or device is refused, never waited on
            doc = parse(raw)
            check_document(doc)
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            if isinstance(exc, RecursionError):
                reason = "nested too deeply"
            raise ActvizError(f"cannot read the results store {str(path)!r}: {reason} ({hint})") from None
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
            if key not in self.stored and (run.get("status") in FINISHED or run.get("epochs_completed")):
                out.append(run)
        return out

    # -- writing
    def _run_text(self, run: dict[str, Any]) -> str:
        state = json.dumps([run.get("status"), run.get("epochs_completed"), len(run.get("history", ()))])
        cached = self._text.get(id(run))
        if cached is not None and cached[0] == state and run["key"] not in self.live:
            return cached[1]
        text = _run_json(run)
        self._text[id(run)] = (state, text)
        return text

    def write(self, doc: dict[str, Any], runs: Sequence[dict[str, Any]]) -> Path:
        """Write ``doc`` with ``runs`` as its ``runs`` atomically; ActvizError names the path on failure.

        Each run is one line (runs not being trained are serialised once and kept).
        A signal that arrives meanwhile waits until the file is in place.
        """
        if self.file is None:
            raise UsageError("no --out folder to write to")
        head = json.dumps(json_data({k: v for k, v in doc.items() if k != "runs"}, nonfinite="null"), indent=1,
                          allow_nan=False)
        body = ",\n".join(self._run_text(r) for r in runs)
        text = head[:-2] + ',\n "runs": [\n' + body + "\n ]\n}\n" if head != "{}" else '{"runs": [' + body + "]}\n"
        from actviz.core.signals import shielded

        with shielded():
            return write_atomic(self.file, text.encode())


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
