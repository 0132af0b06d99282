"""What a wheel and an index page show: the licence, the project's addresses, the README's pictures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
#: where the README's pictures are read from outside the repository (an index page, a wheel's metadata)
RAW = "https://raw.githubusercontent.com/actviz/actviz/main/"


def test_licence_is_an_spdx_expression_with_its_files():
    assert PROJECT["license"] == "MIT"  # the SPDX string, not the deprecated table
    for name in PROJECT["license-files"]:
        assert (ROOT / name).is_file(), name
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    assert "LICENSE" in PROJECT["license-files"]


def test_project_urls():
    assert {"Homepage", "Repository", "Issues"} <= set(PROJECT["urls"])
    assert all(u.startswith("https://") for u in PROJECT["urls"].values())


def test_readme_pictures_render_outside_the_repository():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", readme) + re.findall(r'<img[^>]*src="([^"]+)"', readme)
    assert links
    for link in links:
        assert link.startswith(RAW), f"{link}: a relative link renders only inside the repository"
        assert (ROOT / link[len(RAW):]).is_file() or link[len(RAW):].startswith(("docs/", "gallery/")), link


def test_every_dependency_is_used():
    """A runtime dependency nothing imports only makes the install bigger."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "actviz").rglob("*.py"))
    for req in PROJECT["dependencies"]:
        name = re.match(r"[A-Za-z0-9_.-]+", req).group(0).lower()
        assert re.search(rf"^\s*(import|from) {name}\b", source, re.M), f"{name} is never imported"
