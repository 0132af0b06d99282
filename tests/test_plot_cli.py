"""``actviz plot`` and ``actviz gallery`` through the Typer app."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from actviz.cli.app import app

from helpers import runner

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def invoke(*args):
        result = runner.invoke(app, list(args))
        assert "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        return result

    return invoke


def err(result) -> str:
    text = getattr(result, "stderr", "") or result.output
    return text.strip()


def test_plot_default_name_prints_path(run, tmp_path):
    result = run("plot", "gelu")
    assert result.exit_code == 0, err(result)
    assert result.stdout.strip() == "gelu.png"
    assert (tmp_path / "gelu.png").read_bytes().startswith(PNG)


@pytest.mark.slow
def test_plot_default_names_derivative_and_several(run, tmp_path):
    assert run("plot", "GELU", "--derivative").stdout.strip() == "gelu_derivative.png"
    assert run("plot", "relu", "Hard-Tanh", "-d").stdout.strip() == "relu-hard_tanh_derivative.png"
    assert run("plot", "relu", "tanh").stdout.strip() == "relu-tanh.png"
    assert sorted(os.listdir(tmp_path)) == ["gelu_derivative.png", "relu-hard_tanh_derivative.png",
                                            "relu-tanh.png"]


@pytest.mark.slow
@pytest.mark.parametrize("ext,magic", [("svg", b"<?xml"), ("pdf", b"%PDF-"), ("png", PNG)])
def test_plot_output_types(run, tmp_path, ext, magic):
    result = run("plot", "relu", "sigmoid", "-d", "--xmin", "-3", "--xmax", "3", "-o", f"out/pic.{ext}")
    assert result.exit_code == 1  # the directory does not exist
    (tmp_path / "out").mkdir()
    result = run("plot", "relu", "sigmoid", "-d", "--xmin", "-3", "--xmax", "3", "-o", f"out/pic.{ext}")
    assert result.exit_code == 0, err(result)
    assert result.stdout.strip() == str(Path("out") / f"pic.{ext}")
    assert (tmp_path / "out" / f"pic.{ext}").read_bytes().startswith(magic)
    assert os.listdir(tmp_path / "out") == [f"pic.{ext}"]


@pytest.mark.slow
def test_plot_param_changes_the_picture(run, tmp_path):
    run("plot", "leaky_relu", "-o", "a.svg")
    result = run("plot", "leaky_relu", "--param", "leaky_relu.negative_slope=0.2", "-o", "b.svg")
    assert result.exit_code == 0, err(result)
    a, b = (tmp_path / "a.svg").read_text(), (tmp_path / "b.svg").read_text()
    assert a != b and "negative_slope=0.2" in b


@pytest.mark.parametrize(
    "args,code,message",
    [
        (["plot", "gelux"], 2, "did you mean 'gelu'"),
        (["plot", "relu", "--xmin", "2", "--xmax", "1"], 2, "--xmin (2) must be below --xmax (1)"),
        (["plot", "relu", "--xmin", "1", "--xmax", "1"], 2, "must be below"),
        (["plot", "relu", "--xmin", "nan"], 2, "--xmin must be a finite number"),
        (["plot", "relu", "--xmax", "inf"], 2, "--xmax must be a finite number"),
        (["plot", "relu", "--xmin", "-inf"], 2, "finite"),
        (["plot", "relu", "--xmin", "abc"], 2, "xmin"),
        (["plot", "relu", "-o", "x.jpg"], 2, "cannot tell the file type"),
        (["plot", "relu", "-o", "noext"], 2, "file type"),
        (["plot", "relu", "-o", "missing/x.png"], 1, "does not exist"),
        (["plot", "relu", "--param", "leaky_relu.negative_slope=0.2"], 2, "leaky_relu is not being plotted"),
        (["plot", "leaky_relu", "--param", "leaky_relu.slope=0.2"], 2, "no parameter 'slope'"),
        (["plot", "leaky_relu", "--param", "leaky_relu.negative_slope=x"], 2, "takes a number"),
        (["plot", "leaky_relu", "--param", "negative_slope=0.2"], 2, "NAME.KEY=VALUE"),
        (["plot", "relu", "--param", "nosuch.k=1"], 2, "unknown activation 'nosuch'"),
        (["plot", "softplus", "--param", "softplus.beta=0"], 2, "beta"),
        (["plot"], 2, "Missing argument"),
    ],
)
def test_plot_errors_are_one_line(run, tmp_path, args, code, message):
    result = run(*args)
    assert result.exit_code == code, (result.exit_code, result.output)
    text = err(result)
    assert text.startswith("error: ") and len(text.splitlines()) == 1, text
    assert message in text
    assert os.listdir(tmp_path) == []  # nothing written, nothing half-written


def test_plot_unwritable_path_keeps_nothing(run, tmp_path):
    (tmp_path / "afile").write_text("x")
    result = run("plot", "relu", "-o", "afile/x.png")
    assert result.exit_code == 1 and err(result).startswith("error: cannot write")
    assert os.listdir(tmp_path) == ["afile"]


def test_plot_overwrites_atomically(run, tmp_path):
    (tmp_path / "relu.png").write_bytes(b"old")
    assert run("plot", "relu").exit_code == 0
    assert (tmp_path / "relu.png").read_bytes().startswith(PNG)
    assert os.listdir(tmp_path) == ["relu.png"]


@pytest.mark.slow
def test_gallery_command(run, tmp_path, monkeypatch):
    import actviz.render.gallery
    import actviz.core.registry

    real = actviz.render.gallery.build_gallery
    monkeypatch.setattr(actviz.render.gallery, "build_gallery",
                        lambda out, progress=None: real(out, acts=["relu", "tanh"], progress=progress))
    result = run("gallery", "--out", "g")
    assert result.exit_code == 0, err(result)
    out = result.stdout.strip().splitlines()
    assert out[0] == "wrote 2 pictures, overview.png and index.md to g"
    assert out[-1] == str(Path("g") / "index.md")
    assert sorted(os.listdir(tmp_path / "g")) == ["index.md", "overview.png", "relu.png", "tanh.png"]


def test_gallery_command_unwritable(run, tmp_path):
    (tmp_path / "afile").write_text("x")
    result = run("gallery", "--out", "afile/g")
    assert result.exit_code == 1
    assert err(result).startswith("error: cannot create the gallery directory")


def test_help_and_cli_import_stay_light():
    code = ("import sys, actviz.cli.app; "
            "assert 'torch' not in sys.modules and 'matplotlib' not in sys.modules, 'heavy import'")
    subprocess.run([sys.executable, "-c", code], check=True)
    result = runner.invoke(app, ["plot", "--help"])
    assert result.exit_code == 0 and "--derivative" in result.output and "--param" in result.output
