"""``actviz plot --terminal``: curves drawn with text characters, as wide as the terminal, no file."""

from __future__ import annotations

import os
import re

import pytest

from actviz.cli.app import app
from actviz.core.registry import get
from actviz.render.terminal import terminal_plot

from helpers import runner
BRAILLE = re.compile("[\u2801-\u28ff]")


def invoke(*args, columns: int = 80):
    result = runner.invoke(app, ["plot", *args], env={"COLUMNS": str(columns), "NO_COLOR": "1"})
    assert "Traceback" not in result.output
    return result


@pytest.mark.parametrize("columns", [80, 200])
def test_width_follows_the_terminal(tmp_path, monkeypatch, columns):
    monkeypatch.chdir(tmp_path)
    result = invoke("gelu", "relu", "--derivative", "--terminal", columns=columns)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    widest = max(len(line) for line in lines)
    assert 0.75 * columns <= widest <= columns  # the plot may give up some room for round ticks
    assert len(BRAILLE.findall(result.stdout)) > 100
    assert os.listdir(tmp_path) == []  # no file written
    assert "\x1b[" not in result.stdout  # not a terminal: no colour codes


def test_panels_legend_and_kinks():
    result = invoke("relu", "tanh", "--derivative", "--terminal")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "(f(x))" in out and "(f′(x))" in out
    legend = [line for line in out.splitlines() if "relu" in line and "tanh" in line]
    assert legend, out
    assert "relu: f′(0) = 0" in out
    only_f = invoke("relu", "tanh", "--terminal").stdout
    assert "(f′(x))" not in only_f and "(f(x))" in only_f


def test_the_curve_is_the_function():
    """relu: dots only right of the middle in the top row, along the whole left half in the bottom row."""
    text = terminal_plot([get("relu")], width=80, height=10)
    rows = [line.split(" | ", 1)[1] for line in text.splitlines() if " | " in line and BRAILLE.search(line)]
    top, bottom = rows[0], rows[-1]
    middle = len(top) // 2

    def ink(s: str) -> int:
        return len(BRAILLE.findall(s))

    assert ink(top[: middle - 2]) == 0 and ink(top[middle + 2:]) > 0
    assert ink(bottom[: middle - 2]) == middle - 2


def test_parameters_range_and_a_jump():
    result = invoke("step", "leaky_relu", "-p", "leaky_relu.negative_slope=0.3", "--xmin", "-2", "--xmax", "2",
                    "--terminal")
    assert result.exit_code == 0, result.output
    assert "leaky_relu(negative_slope=0.3)" in result.stdout and "step" in result.stdout
    ticks = next(line for line in result.stdout.splitlines() if line.lstrip().startswith("| -"))
    assert ticks.split()[1] == "-2" and ticks.split()[-1] == "2"


def test_output_file_and_terminal_is_an_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("relu", "--terminal", "-o", "relu.png")
    assert result.exit_code == 2
    assert "--terminal" in result.stderr and "writes no file" in result.stderr
    assert os.listdir(tmp_path) == []


def test_wrong_input_is_one_line():
    result = invoke("relux", "--terminal")
    assert result.exit_code == 2 and "unknown activation 'relux'" in result.stderr
    result = invoke("relu", "--terminal", "--xmin", "3", "--xmax", "1")
    assert result.exit_code == 2 and "--xmin" in result.stderr


@pytest.mark.parametrize("columns", [80, 100, 160, 200])
def test_ticks_are_round_numbers(columns):
    text = terminal_plot([get("tanh")], width=columns)
    ticks = next(line for line in text.splitlines() if line.lstrip().startswith("| -")).split()[1:]
    values = [float(t) for t in ticks]
    steps = {round(b - a, 9) for a, b in zip(values, values[1:])}
    assert len(steps) == 1 and values[0] == -6 and values[-1] == 6
    assert all(len(t.lstrip("-")) <= 4 for t in ticks), ticks


def test_narrow_terminal_keeps_a_readable_minimum():
    text = terminal_plot([get("tanh")], width=20)
    assert max(len(line) for line in text.splitlines()) <= 40
