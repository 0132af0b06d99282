"""The lessons: each library function on small settings, outcomes asserted with honest margins; the CLI."""

from __future__ import annotations

import json
import math

import pytest
import torch

import actviz
import actviz.bench.data
from actviz.cli.app import app
from actviz.lessons import LESSONS, get_lesson, run_lesson
from actviz.lessons import approx, collapse, derivatives, signal, symmetry, xor
from actviz.lessons.result import mean_interval

from helpers import error_line, runner
from test_train import synthetic

HAVE_DATA = actviz.bench.data.status().complete
needs_data = pytest.mark.skipif(not HAVE_DATA, reason="Fashion-MNIST is not installed")


def invoke(*args: str):
    return runner.invoke(app, ["lesson", *args])


@pytest.fixture
def custom():
    """A user activation (squared ReLU's smooth cousin) registered for one test."""
    spec = actviz.register(
        name="soft_square",
        forward=lambda x: torch.nn.functional.softplus(x) ** 2,
        derivative=lambda x: 2 * torch.nn.functional.softplus(x) * torch.sigmoid(x),
        formula="softplus(x)²",
    )
    yield spec
    actviz.unregister("soft_square")


# --------------------------------------------------------------------------- xor


def test_threshold_unit_gets_at_most_three_of_four():
    assert xor.best_threshold_unit(xor.X, xor.Y)["correct"] == 3
    assert xor.best_threshold_unit(xor.X, (0, 0, 0, 1))["correct"] == 4  # AND is separable
    assert len(xor.separable_labelings()) == 14  # all but XOR and XNOR
    assert not xor.perceptron()["converged"]
    assert xor.perceptron(labels=(0, 1, 1, 1))["converged"]  # OR converges


@pytest.mark.slow
def test_xor_mlp_outcomes():
    r = xor.run(seeds=40, epochs=1500)
    by = {a["activation"]: a for a in r.data["mlp"]}
    assert by["identity"]["successes"] == 0 and by["identity"]["best_correct"] <= 3
    step = by["step"]
    assert step["hidden_weights_moved"] == 0.0  # zero gradient: the hidden layer never moves
    assert step["successes"] == step["successes_separable_at_start"] <= step["separable_at_start"]
    for name in ("relu", "tanh", "sigmoid"):  # 23-45% at 100 starts; a clear margin over 0
        assert by[name]["success_rate"] >= 0.15, (name, by[name]["success_rate"])
        assert by[name]["epochs_median"] is not None
    json.loads(r.json_text())
    assert any("identity: 0/40" in n for n in r.notes)


# --------------------------------------------------------------------------- approx


@pytest.mark.slow
def test_approx_error_falls_with_units():
    r = approx.run(activations=["tanh", "relu"], ks=(1, 4, 16), steps=400)
    # measured at these settings: tanh falls ×30 (sin) and ×70 (|x|), relu ×2.9 (sin) and ×2600 (|x|)
    factor = {("tanh", "sin(3x)"): 5, ("tanh", "|x|"): 5, ("relu", "sin(3x)"): 2, ("relu", "|x|"): 5}
    for fit in r.data["fits"]:
        for target in ("sin(3x)", "|x|"):
            e = fit["errors"][target]
            assert e[16] < e[1] / factor[(fit["activation"], target)], (fit["activation"], target, e)
            assert fit["slopes"][target] < 0
    assert r.columns[-1] == "slope"


@pytest.mark.slow
def test_approx_error_never_rises_with_units_in_any_cell():
    r = approx.run(activations=["relu", "tanh", "sigmoid"], ks=(1, 2, 4, 8, 16), steps=150)
    for fit in r.data["fits"]:
        for target in approx.TARGETS:
            errs = [fit["errors"][target][k] for k in r.data["ks"]]
            assert all(b <= a for a, b in zip(errs, errs[1:])), (fit["activation"], target, errs)
    assert not any("rose" in n for n in r.notes)
    assert any("upper bound" in n for n in r.notes) and "best fit found" in r.title


@pytest.mark.slow
def test_approx_step_said_slowest_only_where_it_is():
    r = approx.run(activations=["relu", "tanh"], ks=(1, 4, 16), steps=150)
    text = " ".join(r.notes)
    for fit in r.data["fits"]:
        s = fit["slopes"]
        slowest = all(s["step"] >= s[t] for t in approx.TARGETS)
        if "falls slowest for every activation" in text:
            assert slowest, (fit["activation"], s)
    for n in r.notes:  # every ×factor printed for a target is last / first of that row
        for fit in r.data["fits"]:
            if n.startswith(fit["activation"] + ":"):
                for t in approx.TARGETS:
                    e = fit["errors"][t]
                    assert f"{t} {e[1]:.2g} → {e[16]:.2g} (×{e[16] / e[1]:.2g})" in n


def test_approx_identity_cannot_fit():
    r = approx.run(activations=["identity"], ks=(1, 8), steps=100)
    e = r.data["fits"][0]["errors"]["sin(3x)"]
    assert e[8] > 0.9 * e[1]  # a sum of linear units is linear
    assert any("a sum of units that are all linear" in n for n in r.notes)


# --------------------------------------------------------------------------- signal


def test_signal_outcomes():
    r = signal.run(seeds=1, width=64, batch=128)
    by = {(c["activation"], c["init"]): c for c in r.data["combos"]}
    for name in ("relu", "tanh", "sigmoid"):
        assert by[(name, "normal")]["forward"] == "vanishes", name
        assert by[(name, "normal")]["forward_ratio"] < 1e-3
    relu = by[("relu", "kaiming")]
    assert relu["forward"] == "kept" and 0.2 < relu["forward_ratio"] < 5
    assert relu["backward"] == "kept"
    tanh = by[("tanh", "xavier")]  # measured, not assumed: reported with its number
    assert any("Xavier with tanh, measured" in n and f"{tanh['forward_ratio']:.2g}" in n for n in r.notes)
    assert by[("tanh", "normal")]["zero_centered"] is True and by[("relu", "normal")]["vanishing_gradient"] is False


def _signal_sentences_agree(data, notes):
    """Every verdict a signal note states is the verdict of the ratio it names (the documented bands)."""
    text = " ".join(notes)
    assert "variance holds but" not in text
    by = {(c["activation"], c["init"]): c for c in data["combos"]}
    for (a, init), c in by.items():
        assert c["forward"] == signal.verdict(c["forward_ratio"]) and c["backward"] == signal.verdict(c["backward_ratio"])
        label = signal.INIT_LABELS[init]
        assert f"{c['backward']} with {label}" in text, (a, init)
        mention = f"{a} with {label} (variance ×{c['forward_ratio']:.2g}, "
        if mention in text:
            said = text.split(mention, 1)[1].split(";", 1)[0]
            assert said == ("kept" if c["forward"] == "kept" else "it decays"), (a, init, said)
            assert c["forward"] in ("kept", "decays")
        if init == "xavier" and c["name"] == "tanh":
            note = next(n for n in notes if n.startswith("Xavier with tanh"))
            assert f"forward variance {c['forward']} (×{c['forward_ratio']:.2g}" in note
            assert ("holding" in note) == (c["forward"] in ("decays", "vanishes"))
            assert ("kept band" in note) == (c["forward"] == "kept")
    for a in dict.fromkeys(c["activation"] for c in data["combos"]):
        kept = [signal.INIT_LABELS[i] for i in data["inits"]
                if by[(a, i)]["forward"] == "kept" and by[(a, i)]["backward"] == "kept"]
        line = next(n for n in notes if n.startswith(f"{a} ("))
        assert f"both kept with {', '.join(kept) if kept else 'none of these initialisations'};" in line


def test_signal_sentences_agree_with_the_numbers():
    r = signal.run(seeds=1, width=64, batch=128)
    _signal_sentences_agree(r.data, r.notes)
    # the same data with tanh's Xavier ratio moved through every band: the text follows the number
    for ratio in (0.0149, 0.5, 50.0, 1e-5):
        data = json.loads(json.dumps(r.data))
        for c in data["combos"]:
            if c["init"] == "xavier":
                c["forward_ratio"] = ratio
                c["forward"] = signal.verdict(ratio)
        notes = signal._notes(data)
        _signal_sentences_agree(data, notes)
        assert not any("holds" in n and "kept" not in n for n in notes)


# --------------------------------------------------------------------------- derivatives


def test_derivatives_outcomes():
    r = derivatives.run(activations=["sigmoid", "tanh", "gelu", "relu", "maxout"])
    by = {e["activation"]: e for e in r.data["activations"]}
    cbrt, sqrt = derivatives.EPS ** (1 / 3), math.sqrt(derivatives.EPS)
    for name in ("sigmoid", "tanh", "gelu"):
        e = by[name]
        assert e["best_error_central"] < e["best_error_forward"] / 10
        assert abs(math.log10(e["best_h_central"] / cbrt)) <= 1.0, e["best_h_central"]
        assert abs(math.log10(e["best_h_forward"] / sqrt)) <= 1.0, e["best_h_forward"]
        assert e["autograd_max_error"] < 1e-12
        assert e["sympy"]["max_difference"] < 1e-12
        # the U: both ends are far worse than the bottom
        assert e["central_error"][0] > 1e3 * e["best_error_central"] < e["central_error"][-1]
    kink = by["relu"]["kinks"][0]
    assert (kink["forward"], kink["backward"], kink["central"], kink["registry"]) == (1.0, 0.0, 0.5, 0.0)
    assert by["maxout"]["sympy"] is None
    assert any("No sympy expression for maxout" in n for n in r.notes)


def test_sympy_table_agrees_with_every_builtin():
    for name in derivatives.SYMPY_NAMES:
        act = actviz.get(name)
        _, _, value = derivatives.sympy_derivative(act)
        xs = derivatives._points(act)[::4]
        d = act.derivative(torch.tensor(xs, dtype=torch.float64)).tolist()
        assert max(abs(value(x) - v) for x, v in zip(xs, d)) < 1e-12, name


def test_user_activation_in_lessons(custom):
    d = derivatives.run(activations=["soft_square"])
    assert d.data["activations"][0]["sympy"] is None
    assert d.data["activations"][0]["autograd_max_error"] < 1e-12
    s = signal.run(activations=["soft_square"], seeds=1, width=32, batch=64, depth=5)
    assert s.data["combos"][0]["activation"] == "soft_square"
    x = xor.run(activations=["soft_square"], seeds=5, epochs=50)
    assert x.data["mlp"][0]["runs"] == 5


# --------------------------------------------------------------------------- real data (slow)


@pytest.mark.slow
@needs_data
def test_collapse_on_fashion_mnist():
    r = collapse.run(seeds=2, epochs=4, hidden=32, depth=2)
    soft, ident, relu = r.data["models"]
    # measured: softmax 83.1%, identity MLP 83.6%, relu MLP 84.3% (the defaults train longer and wider)
    assert abs(ident["mean"] - soft["mean"]) < 0.015  # within about a point
    assert relu["mean"] > soft["mean"] + 0.005
    for p in r.data["product"]:
        assert p["max_logit_difference"] < 1e-9 and p["same_predictions"] == 1.0
        assert p["shape"] == [784, 10]


@pytest.mark.slow
@needs_data
def test_symmetry_on_fashion_mnist():
    r = symmetry.run(activations=["relu", "tanh"], epochs=1, hidden=16)
    for e in r.data["runs"]:
        if e["init"] == "constant":
            assert e["spread_in"] < 1e-6 and e["spread_out"] < 1e-6 and e["distinct_units"] == 1
        else:
            assert e["spread_in"] > 0.1 and e["distinct_units"] == 16
    acc = {(e["activation"], e["init"]): e["test_acc"] for e in r.data["runs"]}
    assert acc[("relu", "normal")] > acc[("relu", "constant")]


def test_collapse_and_symmetry_run_on_any_data():
    data = synthetic(n_train=600, n_test=200)
    c = collapse.run(seeds=2, epochs=1, hidden=16, depth=2, data=data)
    assert [m["model"] for m in c.data["models"]] == ["softmax regression", "identity MLP", "relu MLP"]
    assert c.data["product"][0]["max_logit_difference"] < 1e-9
    s = symmetry.run(activations=["sigmoid"], epochs=1, hidden=8, data=data)
    assert {e["init"]: e["distinct_units"] for e in s.data["runs"]} == {"constant": 1, "normal": 8}


def test_collapse_and_symmetry_sentences_follow_the_numbers():
    data = synthetic(n_train=600, n_test=200)
    c = collapse.run(seeds=2, epochs=1, hidden=16, depth=2, data=data)
    d = json.loads(json.dumps(c.data))
    relu = d["models"][2]["vs_softmax"]
    relu.update(mean=0.004, low=-0.01, high=0.02)
    assert "the interval does not exclude" in collapse._notes(d, 2)[-1]
    assert "the interval" not in collapse._notes(d, 1)[-1]  # one seed: no interval to speak of
    relu.update(mean=-0.03, low=-0.05, high=-0.01)
    assert "worse at these settings" in collapse._notes(d, 2)[-1]
    d["product"][0]["max_logit_difference"] = 0.5
    assert "another parametrisation" not in collapse._notes(d, 2)[1]
    s = symmetry.run(activations=["sigmoid"], epochs=1, hidden=8, data=data)
    d = json.loads(json.dumps(s.data))
    assert "whose units differ" in symmetry._notes(d)[0]
    for e in d["runs"]:
        e["distinct_units"] = 1
    assert "whose units differ" not in symmetry._notes(d)[0]


def test_xor_sentences_follow_the_numbers():
    r = xor.run(activations=["identity", "step"], seeds=8, epochs=200)
    d = json.loads(json.dumps(r.data))
    ident, step = d["mlp"]
    assert ("p = ½ at every point" in r.notes[1]) == (abs(ident["loss_median"] - math.log(2)) < 0.01)
    ident["loss_median"] = 0.2
    assert "p = ½ at every point" not in xor._notes(d)[1]
    if step["successes"] == 0:
        assert "of the 0 successes" not in r.notes[2]


def test_derivatives_sentences_follow_the_numbers():
    r = derivatives.run(activations=["sigmoid", "tanh", "step", "relu"])
    smooth_note = next(n for n in r.notes if n.startswith("Central differences beat"))
    assert "step" not in smooth_note and "relu" not in smooth_note  # exact quotients are not "smooth" wins
    assert "for 2 of 2 smooth activations" in smooth_note
    assert any(n.startswith("step: the central quotients are exact") for n in r.notes)
    d = json.loads(json.dumps(r.data))
    d["activations"][0]["autograd_max_error"] = 0.3
    assert any("Autograd differs from the analytic f′ by up to 3.0e-01 (sigmoid)" in n for n in derivatives._notes(d))


@pytest.mark.slow
def test_lesson_pictures_read_cleanly():
    """approx: every error panel has at least three labelled y ticks; signal: the legend covers no panel;
    derivatives: no quotient label sits on a line."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from actviz.lessons.result import style

    r = approx.run(activations=["relu", "tanh"], ks=(1, 2, 4, 8), steps=60)
    with style():
        fig = approx.figures(r)["error-vs-k.png"]
        FigureCanvasAgg(fig).draw()
    for ax in fig.axes:
        labelled = [t for t in ax.get_yticklabels() if t.get_text() and ax.get_ylim()[0] <= t.get_position()[1] <= ax.get_ylim()[1]]
        assert len(labelled) >= 3, (ax.get_title(), [t.get_text() for t in labelled])
    s = signal.run(activations=["relu", "tanh"], seeds=1, width=16, batch=32, depth=4)
    with style():
        fig = signal.figures(s)["variance.png"]
        FigureCanvasAgg(fig).draw()
    assert all(ax.get_legend() is None for ax in fig.axes) and fig.legends
    box = fig.legends[0].get_window_extent()
    assert not any(box.overlaps(ax.get_window_extent()) for ax in fig.axes)
    d = derivatives.run(activations=["relu"])
    with style():
        fig = derivatives.figures(d)["finite-differences.png"]
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
    kink_ax = fig.axes[1]
    renderer = canvas.get_renderer()
    for text in kink_ax.texts:
        box = text.get_window_extent(renderer)
        name, _, value = text.get_text().partition(": ")
        if name in ("forward", "backward", "central"):  # each quotient's label stands above its own line
            assert box.y0 >= kink_ax.transData.transform((1.0, float(value)))[1] + 2, text.get_text()
        for line in kink_ax.lines:
            ys = set(line.get_ydata())
            if len(ys) == 1:  # a horizontal line: its pixel row must not cross the label
                y_px = kink_ax.transData.transform((1.0, ys.pop()))[1]
                assert not box.y0 - 2 < y_px < box.y1 + 2, (text.get_text(), y_px, box)  # 2 px clear


def test_mean_interval():
    m, lo, hi = mean_interval([1.0, 2.0, 3.0])
    assert m == 2.0 and lo == pytest.approx(2 - 4.303 / math.sqrt(3)) and hi == pytest.approx(2 + 4.303 / math.sqrt(3))
    assert mean_interval([5.0]) == (5.0, 5.0, 5.0)


# --------------------------------------------------------------------------- the index and the CLI


def test_index():
    assert list(LESSONS) == ["xor", "collapse", "approx", "symmetry", "signal", "derivatives"]
    assert get_lesson("XOR").function is xor.run
    with pytest.raises(actviz.UsageError, match="did you mean 'xor'"):
        get_lesson("xr")


def test_cli_lists_lessons():
    r = invoke()
    assert r.exit_code == 0
    lines = [line for line in r.stdout.splitlines() if line.strip()]
    for name in LESSONS:
        assert sum(line.startswith(name + " ") for line in lines) == 1
    r = invoke("--format", "json")
    assert [e["name"] for e in json.loads(r.stdout)] == list(LESSONS)


def test_cli_unknown_lesson_suggests():
    r = invoke("symetry")
    assert r.exit_code == 2
    assert "did you mean 'symmetry'" in error_line(r)


@pytest.mark.parametrize("value", ["0", "-1", "99999999999999999999", "abc", "2.5"])
def test_cli_bad_seeds(value):
    r = invoke("xor", "--seeds", value)
    assert r.exit_code == 2
    assert "--seeds" in error_line(r)


def test_cli_seeds_for_deterministic_lesson():
    r = invoke("derivatives", "--seeds", "3")
    assert r.exit_code == 2
    assert "deterministic" in error_line(r)


def test_cli_unknown_activation():
    r = invoke("signal", "--activations", "relu,tnah")
    assert r.exit_code == 2
    assert "did you mean 'tanh'" in error_line(r)


@pytest.mark.slow
def test_cli_json_and_files(tmp_path):
    r = invoke("derivatives", "--activations", "tanh,relu", "--format", "json", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["lesson"] == "derivatives" and data["options"]["activations"] == ["tanh", "relu"]
    folder = tmp_path / "derivatives"
    assert json.loads((folder / "lesson.json").read_text())["table"]["rows"] == data["table"]["rows"]
    for picture in data["pictures"]:
        assert (folder / picture).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary files left


@pytest.mark.slow
def test_cli_rich_output(tmp_path):
    r = invoke("signal", "--seeds", "1", "--activations", "relu", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    assert "Kaiming" in r.stdout and "vanishes" in r.stdout
    assert f"{tmp_path}/signal/variance.png" in r.stdout


@pytest.mark.slow
def test_cli_collapse_with_fake_data(tmp_path, monkeypatch):
    data = synthetic(n_train=600, n_test=200)
    monkeypatch.setattr(actviz.bench.data, "load", lambda data_dir=None, **kw: data)
    r = invoke("symmetry", "--activations", "tanh", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    assert (tmp_path / "symmetry" / "units.png").exists()


def test_run_lesson_writes(tmp_path):
    result = run_lesson("derivatives", activations=["sigmoid"], out=tmp_path)
    assert result.pictures == ["finite-differences.png"]
    assert (tmp_path / "lesson.json").exists()


def test_cli_bad_out_fails_before_the_work(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    r = invoke("collapse", "--out", str(blocker / "sub"))
    assert r.exit_code == 1
    assert "cannot create the output directory" in error_line(r)
