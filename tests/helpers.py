"""Helpers shared by the test modules: ``from helpers import runner, error_line, ...``.

(``tests/`` is on ``sys.path`` while pytest runs, see ``conftest.py``; fixtures live there.)
"""

from __future__ import annotations

import json
import os

from typer.testing import CliRunner

#: the Typer test runner of every module (``result.stdout`` and ``result.stderr`` kept apart)
runner = CliRunner()

#: the environment of ``actviz`` run as a subprocess: one thread, no mirrors, no data folder,
#: no plugins, no debug tracebacks
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "ACTVIZ_MIRRORS": "", "ACTVIZ_DATA_DIR": ""}
ENV.pop("ACTVIZ_DEBUG", None)
ENV.pop("ACTVIZ_PLUGINS", None)


def error_line(result) -> str:
    """The single line a failing command (a CliRunner result) printed on stderr: ``error: …``, no traceback."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


def one_line(text: str) -> str:
    """The only line of ``text`` (stderr of a failing command): no blank line, no traceback, no warning."""
    lines = text.splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text and "Warning" not in text and "internal error" not in text, text
    return lines[0]


def without_time(runs):
    """A store's runs by key: status, epochs, companions and history without the wall times."""
    return {r["key"]: (r["status"], r["epochs_completed"], r["trained_with"],
                       [{k: v for k, v in h.items() if k != "time"} for h in r["history"]]) for r in runs}


def stored(out):
    """The results.json of a folder, as data."""
    return json.loads((out / "results.json").read_text())
