"""Odd environments answered in actviz's voice: one ``warning:`` line, and the work still done.

``MPLBACKEND`` naming no backend, an unusable ``MPLCONFIGDIR`` or home directory (matplotlib
would print its own log paragraphs), and a terminal 100,000 columns wide.  Each runs in a
subprocess: matplotlib reads its environment once, when it is imported.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from helpers import ENV, runner

from actviz.cli.app import app
from actviz.render.terminal import MAX_WIDTH


def _plot(tmp_path, **env: str) -> subprocess.CompletedProcess:
    out = tmp_path / "relu.png"
    proc = subprocess.run([sys.executable, "-m", "actviz", "plot", "relu", "-o", str(out)], capture_output=True,
                          text=True, env={**ENV, **env}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert out.stat().st_size > 1000
    return proc


def _warning(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("warning: ") and "Traceback" not in stderr, stderr
    return lines[0]


@pytest.mark.slow
def test_an_unknown_matplotlib_backend_is_one_warning_and_the_picture_is_drawn(tmp_path):
    line = _warning(_plot(tmp_path, MPLBACKEND="nosuch").stderr)
    assert "MPLBACKEND='nosuch'" in line and "Agg" in line


@pytest.mark.slow
def test_an_unusable_matplotlib_config_directory_is_one_warning(tmp_path):
    not_a_dir = tmp_path / "a-file"
    not_a_dir.write_text("")
    line = _warning(_plot(tmp_path, MPLCONFIGDIR=str(not_a_dir)).stderr)
    assert str(not_a_dir) in line and "MPLCONFIGDIR" in line
    env = {k: v for k, v in ENV.items() if k not in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")}
    proc = subprocess.run([sys.executable, "-m", "actviz", "plot", "relu", "-o", str(tmp_path / "b.png")],
                          capture_output=True, text=True, env={**env, "HOME": str(not_a_dir)}, timeout=120)
    assert proc.returncode == 0 and "temporary directory" in _warning(proc.stderr)


def test_a_huge_terminal_width_gives_a_plot_of_sane_size():
    result = runner.invoke(app, ["plot", "relu", "tanh", "--terminal", "-d"],
                           env={"COLUMNS": "100000", "LINES": "100000"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(map(len, lines)) <= MAX_WIDTH and len(lines) < 80 and len(result.stdout) < 100_000
    assert _warning(result.stderr) == f"warning: the terminal is 100000 columns wide; the plot is drawn {MAX_WIDTH} wide"
