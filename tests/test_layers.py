"""The package's imports follow a graph of layers, and only point down it.

    core ← facts ← results ← render  ← lessons ← cli
                           ← bench   ←

``render`` (tables, pictures, pages) and ``bench`` (data, training, statistics) are
siblings: both may use ``results`` (the store's schema and reading) and everything below
it, and neither imports the other.  A layer may import its own modules and any layer it
reaches by following the arrows down, never one above or beside it.  A layer that does
not exist (yet) is simply absent.

At the package root, ``actviz/_version.py`` is below everything (it imports nothing of
actviz), ``actviz/__init__.py`` (the package ``actviz``: core's public names and the
version) sits on core, and ``actviz/__main__.py`` (``python -m actviz``) on the CLI.

Every ``import actviz...`` of every module, function-level imports included, is read from
the source with :mod:`ast`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import actviz

PACKAGE = Path(actviz.__file__).parent

#: each part of the package → the parts it may import directly; what those may import, it may too
BELOW: dict[str, tuple[str, ...]] = {
    "_version": (),
    "core": ("_version",),
    "__init__": ("core",),  # the package root, ``actviz``
    "facts": ("core", "__init__"),
    "results": ("facts",),
    "render": ("results",),
    "bench": ("results",),
    "lessons": ("render", "bench"),
    "cli": ("lessons",),
    "__main__": ("cli",),
}
#: the parts that are folders of the package (the others are modules at its root)
LAYERS = ("core", "facts", "results", "render", "bench", "lessons", "cli")


def reachable(part: str) -> set[str]:
    """Every part ``part`` may import: itself and all it reaches down the graph."""
    seen = {part}
    todo = [part]
    while todo:
        for lower in BELOW[todo.pop()]:
            if lower not in seen:
                seen.add(lower)
                todo.append(lower)
    return seen


def part_of(module: str) -> str | None:
    """The part of a dotted module name inside actviz (None outside actviz or in no part)."""
    parts = module.split(".")
    if parts[0] != "actviz":
        return None
    if len(parts) == 1:
        return "__init__"
    return parts[1] if parts[1] in BELOW else None


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import of actviz in the file; ``from actviz import x`` names ``actviz.x``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module != "actviz":
                out.append((node.lineno, node.module))
                continue
            for alias in node.names:  # from actviz import core, lessons, __version__ ...
                sub = f"actviz.{alias.name}"
                out.append((node.lineno, sub if part_of(sub) is not None else "actviz"))
    return [(line, name) for line, name in out if name == "actviz" or name.startswith("actviz.")]


def _part_of_file(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_the_graph_has_no_cycle_and_render_and_bench_are_siblings() -> None:
    for part in BELOW:
        assert all(part not in reachable(lower) for lower in BELOW[part]), f"{part} is in a cycle"
    assert "bench" not in reachable("render") and "render" not in reachable("bench")
    assert reachable("lessons") >= {"render", "bench", "results"}


def test_every_module_sits_in_a_part() -> None:
    for path in MODULES:
        part = _part_of_file(path)
        assert part in BELOW, f"{path.relative_to(PACKAGE)} is in none of the parts {sorted(BELOW)}"
        if path.parent != PACKAGE:
            assert part in LAYERS, f"{path.relative_to(PACKAGE)}: {part} is not a layer folder"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_follow_the_graph(path: Path) -> None:
    own = _part_of_file(path)
    allowed = reachable(own)
    rel = path.relative_to(PACKAGE).as_posix()
    wrong = []
    for line, name in _imports(path):
        target = part_of(name)
        if target is None:
            wrong.append(f"actviz/{rel}:{line} imports {name}, which is in none of the parts")
        elif target not in allowed:
            wrong.append(f"actviz/{rel}:{line} imports {name}: the edge {own} → {target} is not allowed")
    lower = ", ".join(sorted(allowed - {own})) or "nothing of actviz"
    assert not wrong, "\n".join(wrong) + f"\n({own} may import {lower})"


def test_registry_imports_none_of_its_users() -> None:
    names = {name for _, name in _imports(PACKAGE / "core" / "registry.py")}
    assert all(name.startswith("actviz.core") for name in names), names
