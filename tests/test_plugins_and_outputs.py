"""Plugins that are special files or call exit(), and outputs that are broken symbolic links.

A plugin named by ``ACTVIZ_PLUGINS`` that is a FIFO is refused without waiting for a writer;
a plugin that calls ``exit()`` at import or in one of its functions is named in one line
(exit 1), never an exit with the plugin's code and nothing said.  An output that is a
dangling symbolic link or a link loop is said to be one.  What could hang on a broken build
runs in a subprocess with a timeout.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from actviz.cli.app import app
from actviz.core import registry
from actviz.core.errors import ActvizError

from helpers import ENV, error_line, one_line, runner

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX FIFOs and symbolic links")


def _load(monkeypatch, value: str) -> None:
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    monkeypatch.setenv("ACTVIZ_PLUGINS", value)
    registry.load_plugins()


@posix_only
def test_a_plugin_that_is_a_fifo_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "acts.py"
    os.mkfifo(fifo)
    proc = subprocess.run([sys.executable, "-m", "actviz", "list"], capture_output=True, text=True,
                          env={**ENV, "ACTVIZ_PLUGINS": str(fifo)}, timeout=60)
    assert proc.returncode == 1
    line = one_line(proc.stderr)
    assert line.startswith("error: could not load plugin") and "FIFO" in line, line


@posix_only
def test_a_plugin_that_is_a_directory_or_a_device_is_refused(monkeypatch, tmp_path):
    (tmp_path / "folder.py").mkdir()
    with pytest.raises(ActvizError, match="it is a directory"):
        _load(monkeypatch, str(tmp_path / "folder.py"))
    with pytest.raises(ActvizError, match="ends in .py"):
        _load(monkeypatch, "/dev/null")


def test_a_plugin_that_calls_exit_at_import_is_named(monkeypatch, tmp_path):
    plugin = tmp_path / "quits.py"
    plugin.write_text("import sys\nsys.exit(7)\n")
    with pytest.raises(ActvizError, match=r"could not load plugin .*quits\.py.*: it called exit\(7\)"):
        _load(monkeypatch, str(plugin))


def test_a_plugin_whose_forward_calls_exit_is_named_by_every_command(monkeypatch, tmp_path):
    plugin = tmp_path / "exits.py"
    plugin.write_text(textwrap.dedent("""
        import torch, actviz
        def forward(x):
            exit(3)
        def late(x):  # passes the contract's probe, exits on a bigger input
            if x.numel() > 100:
                raise SystemExit(4)
            return x * 1
        actviz.register(name="exits_three", forward=forward, derivative=torch.ones_like, formula="x")
        actviz.register(name="exits_late", forward=late, derivative=torch.ones_like, formula="x")
    """))
    _load(monkeypatch, str(plugin))
    try:
        for args, code in ((["table", "exits_three"], 3), (["show", "exits_three"], 3),
                           (["plot", "exits_late", "-o", str(tmp_path / "p.png")], 4),
                           (["report", "exits_late", "-o", str(tmp_path / "r.html")], 4)):
            result = runner.invoke(app, args)
            assert result.exit_code == 1, (args, result.output)
            line = error_line(result)
            assert f"called exit({code})" in line and "exits.py" in line, line
        result = runner.invoke(app, ["check", "exits_three"])
        assert result.exit_code == 1 and "forward called exit(3)" in result.stdout, result.output
    finally:
        registry.unregister("exits_three")
        registry.unregister("exits_late")


@pytest.mark.slow
@posix_only
@pytest.mark.parametrize("kind", ["dangling", "loop"])
def test_an_output_that_is_a_broken_symbolic_link_is_said_to_be_one(tmp_path, kind):
    link = tmp_path / "out"
    if kind == "dangling":
        os.symlink(tmp_path / "nowhere", link)
        said = "symbolic link to"
    else:
        os.symlink(tmp_path / "other", link)
        os.symlink(link, tmp_path / "other")
        said = "symbolic link loop"
    png = tmp_path / "out.png"
    os.symlink(link, png)
    cases = [
        ["report", "relu", "-o", str(link)],
        ["plot", "relu", "-o", str(png)],
        ["gallery", "--out", str(link)],
        ["lesson", "derivatives", "--out", str(link)],
        ["compare", "relu", "--epochs", "1", "--out", str(link)],
        ["report", "relu", "-o", str(link / "page.html")],
    ]
    for args in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 1, (args, result.output)
        line = error_line(result)
        assert said in line and "File exists" not in line, (args, line)
    assert os.path.islink(link) and not os.path.exists(tmp_path / "nowhere")
