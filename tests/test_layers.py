"""The package's layers only point down: core <- facts <- render <- bench <- lessons <- cli.

Every ``import actviz...`` of every module, function-level imports included, is read from
the source with :mod:`ast`; a module may import its own layer or a lower one, never a higher.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import actviz

PACKAGE = Path(actviz.__file__).parent
LAYERS = ["core", "facts", "render", "bench", "lessons", "cli"]


def _layer(module: str) -> int | None:
    """The layer of a dotted module name inside actviz (None for the package root)."""
    parts = module.split(".")
    if len(parts) < 2 or parts[0] != "actviz":
        return None
    return LAYERS.index(parts[1]) if parts[1] in LAYERS else None


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
            if node.module == "actviz":  # from actviz import core, facts, __version__ ...
                out += [(node.lineno, f"actviz.{alias.name}") for alias in node.names
                        if alias.name != "__version__"]
    return [(line, name) for line, name in out if name == "actviz" or name.startswith("actviz.")]


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.parent != PACKAGE)


def test_every_module_sits_in_a_layer() -> None:
    for path in MODULES:
        assert path.relative_to(PACKAGE).parts[0] in LAYERS, f"{path} is outside the layers {LAYERS}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path: Path) -> None:
    own = LAYERS.index(path.relative_to(PACKAGE).parts[0])
    for line, name in _imports(path):
        if name in ("actviz", "actviz._version"):
            continue  # the package root: __version__ (in actviz._version, below every layer) and the public names
        layer = _layer(name)
        assert layer is not None, f"{path.name}:{line} imports {name}, which is in no layer"
        assert layer <= own, (
            f"{path.relative_to(PACKAGE)}:{line} ({LAYERS[own]}) imports {name} ({LAYERS[layer]}), a higher layer"
        )


def test_registry_imports_none_of_its_users() -> None:
    names = {name for _, name in _imports(PACKAGE / "core" / "registry.py")}
    assert all(name.startswith("actviz.core") for name in names), names
