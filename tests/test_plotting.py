"""actviz.render.plotting and actviz.render.gallery: the data drawn, the markers, the files written."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import actviz
from actviz.core.errors import ActvizError, UsageError
from actviz.render.plotting import (
    autograd_derivative,
    plot_activation,
    plot_activations,
    plot_overview,
    save_figure,
)


def lines(ax, prefix):
    return [ln for ln in ax.lines if (ln.get_gid() or "").startswith(prefix)]


def xy(line):
    x = np.asarray(line.get_xdata(), dtype=float)
    y = np.asarray(line.get_ydata(), dtype=float)
    keep = ~np.isnan(x)
    return x[keep], y[keep]


def evaluate(fn, x):
    return fn(torch.tensor(x, dtype=torch.float64)).numpy()


# --------------------------------------------------------------------------- the data drawn


@pytest.mark.parametrize("name", ["gelu", "relu", "step", "hard_swish", "maxout", "relu6", "selu"])
def test_f_line_is_forward_on_its_grid(name):
    act = actviz.get(name)
    ax = plot_activation(act)
    (line,) = lines(ax, "f:")
    x, y = xy(line)
    half = 8 if name == "relu6" else 6  # the default range holds every kink with a margin
    assert x.min() == pytest.approx(-half) and x.max() == pytest.approx(half)
    assert len(x) >= 1000
    np.testing.assert_allclose(y, evaluate(act.forward, x), rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["gelu", "relu", "hard_swish", "maxout", "elu", "sigmoid", "hard_tanh"])
def test_derivative_line_and_autograd_overlay_agree(name):
    act = actviz.get(name)
    ax = plot_activation(act, derivative=True)
    (line,) = lines(ax, "df:")
    x, y = xy(line)
    np.testing.assert_allclose(y, evaluate(act.derivative, x), rtol=0, atol=1e-12)
    (auto,) = lines(ax, "autograd:")
    xa, ya = xy(auto)
    assert 20 <= len(xa) < len(x)  # a coarser set of points
    # the overlay is autograd's f′, and it agrees with the analytic one (kinks included)
    np.testing.assert_allclose(ya, autograd_derivative(act, xa), rtol=0, atol=0)
    expected = evaluate(act.derivative, xa)
    for k in act.kinks:
        expected[xa == k.x] = k.derivative
    np.testing.assert_allclose(ya, expected, rtol=0, atol=1e-9)
    assert any(t.get_text().startswith("autograd f′") for t in ax.get_legend().get_texts())


def test_derivative_line_is_broken_at_jumps_not_joined():
    act = actviz.get("hard_swish")  # f′ jumps at −3 (0 → −0.5) and at 3 (1.5 → 1)
    ax = plot_activation(act, derivative=True)
    (line,) = lines(ax, "df:")
    y = np.asarray(line.get_ydata(), dtype=float)
    assert np.isnan(y).sum() == 2
    steps = np.abs(np.diff(y))  # NaN across a break
    assert np.nanmax(steps) < 0.05  # no vertical connector drawn within a segment
    segments = np.split(y, np.flatnonzero(np.isnan(y)))
    ends = [(seg[~np.isnan(seg)][0], seg[~np.isnan(seg)][-1]) for seg in segments]
    assert [tuple(np.round(e, 6)) for e in ends] == [(0.0, 0.0), (-0.5, 1.5), (1.0, 1.0)]


@pytest.mark.parametrize(
    "name,expected",
    [
        ("relu", [(0.0, 0.0)]),
        ("leaky_relu", [(0.0, 0.01)]),
        ("hard_swish", [(-3.0, 0.0), (3.0, 1.0)]),
        ("maxout", [(-1.0, -0.5), (1.0, 0.25)]),
        ("hard_tanh", [(-1.0, 0.0), (1.0, 0.0)]),
    ],
)
def test_kink_markers_at_value_used_and_annotated(name, expected):
    ax = plot_activation(name, derivative=True)
    (marks,) = lines(ax, "kink:")
    x, y = xy(marks)
    np.testing.assert_allclose(np.column_stack([x, y]), np.array(expected), atol=1e-12)
    notes = [t.get_text() for t in ax.texts if (t.get_gid() or "").startswith("note:")]
    assert len(notes) == len(expected)
    for (x, v), text in zip(expected, notes):
        assert text.endswith("= " + (f"{v:.4g}".replace("-", "−") if v else "0"))


def test_one_sided_limits_are_open_circles_where_f_prime_jumps():
    ax = plot_activation("hard_swish", derivative=True)
    (limits,) = lines(ax, "limit:")
    pts = sorted(zip(*map(lambda a: a.round(6).tolist(), xy(limits))))
    assert pts == [(-3.0, -0.5), (3.0, 1.5)]
    assert limits.get_markerfacecolor() == "white"
    # relu: f′(0) = 0 is the left limit; only the right limit (1) is an open circle
    (limits,) = lines(plot_activation("relu", derivative=True), "limit:")
    assert sorted(zip(*map(lambda a: a.round(6).tolist(), xy(limits)))) == [(0.0, 1.0)]
    # no jump, no open circle
    assert lines(plot_activation("gelu", derivative=True), "limit:") == []


def test_step_f_jump_shows_value_and_left_limit():
    ax = plot_activation("step")
    (marks,) = lines(ax, "kink:")
    assert xy(marks)[1].tolist() == [1.0]
    (limits,) = lines(ax, "limit:")
    assert xy(limits)[1].tolist() == [0.0]


def test_labels_legend_title():
    fig = plot_activations(["gelu"], derivative=True)
    f_ax, d_ax = fig.axes[:2]
    assert f_ax.get_xlabel() == "x" and f_ax.get_ylabel() == "f(x)"
    assert d_ax.get_xlabel() == "x" and d_ax.get_ylabel() == "f′(x)"
    assert "x·Φ(x)" in fig.get_suptitle()
    assert "Φ(x) + x·φ(x)" in d_ax.get_title()
    legend = [t.get_text() for t in d_ax.get_legend().get_texts()]
    assert "analytic f′" in legend and any(t.startswith("autograd f′") for t in legend)
    assert f_ax.xaxis.get_gridlines()[0].get_visible()  # a grid is on
    assert lines(f_ax, "zero")  # zero lines
    assert f_ax.get_xlim() == (-6.0, 6.0)


def test_several_activations_in_one_figure():
    fig = plot_activations(["relu", "tanh", "sigmoid"], derivative=True)
    f_ax, d_ax = fig.axes[:2]
    assert [ln.get_gid() for ln in lines(f_ax, "f:")] == ["f:relu", "f:tanh", "f:sigmoid"]
    assert len(lines(d_ax, "df:")) == 3 and len(lines(d_ax, "autograd:")) == 3
    legend = [t.get_text() for t in f_ax.get_legend().get_texts()]
    assert "relu: max(0, x)" in legend
    assert len({ln.get_color() for ln in lines(f_ax, "f:")}) == 3
    assert "relu" in fig.get_suptitle() and "sigmoid" in fig.get_suptitle()


def test_leaky_relu_negative_part_is_visibly_not_flat():
    ax = plot_activation("leaky_relu")
    # the main panel keeps f's true scale; a zoom inset shows x ≤ 0 with the slope visible
    insets = [a for a in ax.child_axes]
    assert len(insets) == 1
    inset = insets[0]
    lo, hi = inset.get_ylim()
    drop = 0.01 * 6  # f(0) − f(−6)
    assert drop / (hi - lo) > 0.5
    (line,) = lines(inset, "f:")
    x, y = xy(line)
    assert x.max() <= 0 and y.min() == pytest.approx(-0.06)
    assert inset.get_xlim() == (-6.0, 0.0)


def test_no_inset_when_nothing_is_nearly_flat():
    assert plot_activation("relu").child_axes == []  # exactly flat: nothing to zoom on
    assert plot_activation("tanh").child_axes == []


def test_param_changes_the_data():
    default = xy(lines(plot_activation("leaky_relu"), "f:")[0])
    steeper = xy(lines(plot_activation(actviz.get("leaky_relu", negative_slope=0.2)), "f:")[0])
    assert default[1][0] == pytest.approx(-0.06) and steeper[1][0] == pytest.approx(-1.2)


def test_maxout_pieces_drawn():
    act = actviz.get("maxout")
    ax = plot_activation(act)
    pieces = lines(ax, "piece:")
    assert len(pieces) == 3
    for piece, w, b in zip(pieces, act.params["weights"], act.params["biases"]):
        x, y = xy(piece)
        np.testing.assert_allclose(y, w * x + b)
        assert piece.get_linestyle() in ("--", ":", "-.")
        assert piece.get_linewidth() < lines(ax, "f:")[0].get_linewidth()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "piece 1: −0.5x − 0.75" in legend


def test_maxout_pieces_each_have_their_own_colour_and_dash():
    ax = plot_activation("maxout")
    pieces = lines(ax, "piece:")
    curve = lines(ax, "f:")[0].get_color()
    colours = [p.get_color() for p in pieces]
    dashes = [str(p._dash_pattern) for p in pieces]
    assert len(set(colours)) == len(pieces) and curve not in colours
    assert len(set(dashes)) == len(pieces)


@pytest.mark.parametrize("name", ["relu6", "maxout", "relu", "hard_tanh", "step"])
def test_default_range_holds_every_kink_with_margin(name):
    from actviz.render.sampling import default_range

    act = actviz.get(name)
    for fig_axes in (plot_activations([act], derivative=True).axes, [plot_overview([act]).axes[0]]):
        for ax in fig_axes:
            lo, hi = ax.get_xlim()
            for k in act.kinks:
                margin = max(1.0, abs(k.x) / 4)
                assert lo <= k.x - margin and k.x + margin <= hi, (name, k.x, lo, hi)
    assert default_range([act]) == ((-8.0, 8.0) if name == "relu6" else (-6.0, 6.0))  # others keep [−6, 6]


@pytest.mark.slow
def test_relu6_shows_its_plateau():
    ax = plot_activation("relu6")
    x, y = xy(lines(ax, "f:")[0])
    assert (y[x > 6] == 6).sum() > 10  # the flat part beyond the second kink is drawn
    (kink,) = [ln for ln in lines(ax, "kink:")]
    assert 6.0 in set(np.asarray(kink.get_xdata(), dtype=float)) and ax.get_xlim()[1] > 6.5


def test_report_range_per_activation_holds_its_kinks():
    from actviz.render.report_data import XMAX, XMIN, build_report

    data = build_report([actviz.get("relu6"), actviz.get("relu")])
    ranges = {a["name"]: a["range"] for a in data["activations"]}
    assert ranges == {"relu6": [-8.0, 8.0], "relu": [XMIN, XMAX]}
    assert data["range"] == [-8.0, 8.0]  # the overlay holds every panel's range


def test_range_options_and_errors():
    ax = plot_activation("relu", xmin=-2, xmax=1)
    x, _ = xy(lines(ax, "f:")[0])
    assert x.min() == -2 and x.max() == 1
    for bad in [(1, 1), (2, -2), (float("nan"), 1), (0, float("inf"))]:
        with pytest.raises(UsageError):
            plot_activations(["relu"], xmin=bad[0], xmax=bad[1])
    with pytest.raises(UsageError):
        plot_activations([])
    with pytest.raises(actviz.UnknownActivationError):
        plot_activations(["nope"])


def test_user_registered_activation_can_be_plotted():
    spec = actviz.register(name="test_sq_relu_plot", forward=lambda x: torch.relu(x) ** 2,
                           derivative=lambda x: 2 * torch.relu(x), formula="max(0, x)²", replace=True)
    try:
        fig = plot_activations([spec.name], derivative=True)
        (auto,) = lines(fig.axes[1], "autograd:")
        x, y = xy(auto)
        np.testing.assert_allclose(y, 2 * np.maximum(x, 0), atol=1e-12)
    finally:
        actviz.unregister(spec.name)


def test_overview_has_f_and_f_prime_per_activation():
    fig = plot_overview(["relu", "tanh", "step"])
    drawn = [a for a in fig.axes if a.get_visible()]
    assert [a.get_title() for a in drawn] == ["relu", "tanh", "step"]
    for ax in drawn:
        assert len(lines(ax, "f:")) == 1 and len(lines(ax, "df:")) == 1


# --------------------------------------------------------------------------- files

MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-", "svg": b"<?xml"}


@pytest.mark.parametrize("ext", ["png", "svg", "pdf"])
def test_save_figure_formats(tmp_path, ext):
    fig = plot_activations(["relu"])
    path = save_figure(fig, tmp_path / f"relu.{ext.upper() if ext == 'pdf' else ext}")
    data = path.read_bytes()
    assert data.startswith(MAGIC[ext])
    if ext == "svg":
        assert b"<svg" in data[:2000]
    assert os.listdir(tmp_path) == [path.name]  # no temporary file left behind
    umask = os.umask(0o022)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # like any new file, not mkstemp's 0600


@pytest.mark.slow
def test_save_figure_is_deterministic_png(tmp_path):
    a = save_figure(plot_activations(["gelu"], derivative=True), tmp_path / "a.png").read_bytes()
    b = save_figure(plot_activations(["gelu"], derivative=True), tmp_path / "b.png").read_bytes()
    assert a == b
    assert b"matplotlib" not in a.lower()  # no Software/version metadata


def test_save_figure_unknown_extension_before_any_work(tmp_path):
    class Boom:
        def savefig(self, *a, **k):  # pragma: no cover - must not be reached
            raise AssertionError("savefig called")

    for name in ("x.jpg", "x", "x.png.bak"):
        with pytest.raises(UsageError, match="file type"):
            save_figure(Boom(), tmp_path / name)
    assert os.listdir(tmp_path) == []


def test_save_figure_unwritable_directory(tmp_path):
    fig = plot_activations(["relu"])
    with pytest.raises(ActvizError, match="does not exist") as info:
        save_figure(fig, tmp_path / "missing" / "x.png")
    assert not isinstance(info.value, UsageError) and "\n" not in str(info.value)
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(ActvizError):
        save_figure(fig, afile / "x.png")
    (tmp_path / "adir.png").mkdir()
    with pytest.raises(ActvizError, match="is a directory"):
        save_figure(fig, tmp_path / "adir.png")
    assert sorted(os.listdir(tmp_path)) == ["adir.png", "afile"]


def test_save_figure_failure_leaves_old_file_and_no_temp(tmp_path):
    target = tmp_path / "keep.png"
    target.write_bytes(b"old")

    class Failing:
        dpi = 100

        def savefig(self, fh, **kwargs):
            fh.write(b"partial")
            raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        save_figure(Failing(), target)
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["keep.png"]


# --------------------------------------------------------------------------- gallery

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def check_links(index: Path) -> list[str]:
    text = index.read_text(encoding="utf-8")
    targets = LINK.findall(text)
    for target in targets:
        assert not re.match(r"[a-z]+://", target), target
        assert (index.parent / target).is_file(), f"broken link {target!r} in index.md"
    return targets


@pytest.mark.slow
def test_gallery_few(tmp_path):
    from actviz.render.gallery import build_gallery

    seen = []
    written = build_gallery(tmp_path / "g", acts=["relu", "maxout", "leaky_relu"],
                            progress=lambda i, n, what: seen.append((i, n, what)))
    names = sorted(p.name for p in written)
    assert names == ["index.md", "leaky_relu.png", "maxout.png", "overview.png", "relu.png"]
    assert sorted(os.listdir(tmp_path / "g")) == names
    for p in written:
        if p.suffix == ".png":
            assert p.read_bytes().startswith(MAGIC["png"])
    targets = check_links(tmp_path / "g" / "index.md")
    assert set(targets) == {"overview.png", "relu.png", "maxout.png", "leaky_relu.png"}
    text = (tmp_path / "g" / "index.md").read_text()
    assert "max(0, x)" in text and "Goodfellow" in text  # formula, reference
    assert "|" in text  # the property table
    assert seen[-1][0] == seen[-1][1]
    # regenerating gives identical pictures and index
    before = {p.name: p.read_bytes() for p in written}
    build_gallery(tmp_path / "g", acts=["relu", "maxout", "leaky_relu"])
    assert {p.name: p.read_bytes() for p in written} == before


@pytest.mark.slow
def test_gallery_all(tmp_path):
    from actviz.render.gallery import build_gallery

    written = build_gallery(tmp_path)
    assert len(written) == len(actviz.names()) + 2
    for name in actviz.names():
        assert (tmp_path / f"{name}.png").is_file()
    targets = check_links(tmp_path / "index.md")
    assert len(targets) == len(actviz.names()) + 1
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]


def test_gallery_unwritable(tmp_path):
    from actviz.render.gallery import build_gallery

    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(ActvizError, match="cannot"):
        build_gallery(afile / "sub", acts=["relu"])
