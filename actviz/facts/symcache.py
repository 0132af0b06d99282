"""A small on-disk cache of symbolic results (derivatives, kinks, cards), one JSON file per actviz version.

The file is ``actviz/symbolic-<version>.json`` under the user cache directory
(``$XDG_CACHE_HOME``, else ``~/.cache``; ``ACTVIZ_SYMBOLIC_CACHE=0`` turns the cache off).
It is written with :func:`~actviz.core.files.write_atomic`; an unreadable or damaged file is
ignored (and replaced at the next write), and a cache that cannot be written is no error:
the results are only computed again next time.  sympy is never needed to read it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from actviz._version import __version__
from actviz.core.errors import ActvizError

_memory: dict[str, Any] | None = None


def path() -> Path | None:
    """The cache file, or None when the cache is off."""
    if os.environ.get("ACTVIZ_SYMBOLIC_CACHE", "1") == "0":
        return None
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        base = Path(xdg)
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path.home() / ".cache"
    return base / "actviz" / f"symbolic-{__version__}.json"


def _load() -> dict[str, Any]:
    global _memory
    if _memory is None:
        _memory = {}
        p = path()
        if p is not None:
            try:
                data = json.loads(p.read_text(encoding="utf-8"))
                if isinstance(data, dict):
                    _memory = data
            except (OSError, ValueError):
                pass
    return _memory


def get(key: str) -> Any:
    """The cached value of ``key``, or None."""
    return _load().get(key)


def put(entries: dict[str, Any]) -> None:
    """Add entries and write the file (merged with what another process wrote meanwhile)."""
    global _memory
    data = _load()
    data.update(entries)
    p = path()
    if p is None:
        return
    try:
        on_disk = json.loads(p.read_text(encoding="utf-8"))
        if isinstance(on_disk, dict):
            data = {**on_disk, **data}
    except (OSError, ValueError):
        pass
    _memory = data
    try:
        from actviz.core.files import write_atomic

        p.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(p, json.dumps(data, sort_keys=True).encode("utf-8"))
    except (OSError, ActvizError):
        pass


def clear_memory() -> None:
    """Forget what was read (tests point the cache elsewhere)."""
    global _memory
    _memory = None


__all__ = ["clear_memory", "get", "path", "put"]
