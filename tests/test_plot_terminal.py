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


def _rows(text):
    """(label, plot part) of every row of the first panel that carries a label."""
    out = []
    for line in text.split("\n\n")[0].splitlines():
        if " | " in line and BRAILLE.search(line):
            label, rest = line.split(" | ", 1)
            out.append((label.strip(), rest))
    return out


@pytest.mark.parametrize("names", [["relu"], ["relu", "tanh"], ["sigmoid"], ["step", "leaky_relu"], ["gelu", "elu"]])
def test_rows_are_labelled_by_the_value_they_show(names):
    """y = 0 is drawn on the row labelled 0; tanh's −1 on the row labelled −1; labels step evenly."""
    text = terminal_plot([get(n) for n in names], width=80, height=16)
    rows = _rows(text)
    labels = [float(label) for label, _ in rows]
    steps = {round(a - b, 9) for a, b in zip(labels, labels[1:])}
    assert len(steps) == 1, labels
    zero = [rest for label, rest in rows if label == "0"]
    assert zero, labels  # 0 is a row's label ...
    left = zero[0][: len(zero[0]) // 2 - 2]
    if names[0] in ("relu", "step"):  # ... and the flat 0 of the left half is drawn on it (dots or markers)
        assert all(ch not in " \u2800" for ch in left), left
    if "tanh" in names:
        assert "o" in dict(rows)["-1"][:5]


def test_colour_modes_follow_the_terminal(monkeypatch):
    from actviz.render.terminal import color_mode

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")  # plotille colours only a terminal; pytest's stdout is not one

    class Tty:
        def __init__(self, tty):
            self.tty = tty

        def isatty(self):
            return self.tty

    assert color_mode(Tty(False), {"TERM": "xterm-256color"}) is None  # a pipe
    assert color_mode(Tty(True), {"TERM": "xterm-256color", "NO_COLOR": "1"}) is None
    assert color_mode(Tty(True), {"TERM": "dumb"}) is None
    assert color_mode(Tty(True), {"TERM": "xterm"}) == "names"
    assert color_mode(Tty(True), {"TERM": "xterm-256color"}) == "rgb"
    assert color_mode(Tty(True), {"TERM": "xterm", "COLORTERM": "truecolor"}) == "rgb"
    acts = [get(n) for n in ("relu", "tanh", "sigmoid", "gelu", "elu")]
    rgb = terminal_plot(acts, width=80, color="rgb")
    assert len(set(re.findall(r"\x1b\[38;2;(\d+;\d+;\d+)m", rgb))) >= 5  # one hue per activation
    names = terminal_plot(acts, width=80, color=True)
    assert len(set(re.findall(r"\x1b\[(3[0-7])m", names))) >= 5
    assert "\x1b[" not in terminal_plot(acts, width=80, color=False)


def test_default_range_holds_the_kinks():
    text = terminal_plot([get("relu6")], width=80)
    ticks = next(line for line in text.splitlines() if line.lstrip().startswith("| -")).split()[1:]
    assert float(ticks[0]) <= -7 and float(ticks[-1]) >= 7
