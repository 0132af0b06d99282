"""Hostile input, special files, signals and broken plugins.

The contract: whatever the input (FIFOs and other special files, slow or broken
mirrors, Ctrl-C or SIGTERM at any moment, huge numbers, long names, unwritable or
unencodable standard output, broken plugins), a command ends with one line on stderr
and its exit code (2 for a wrong invocation, 1 for a failure, 130/143 for a signal),
never a traceback, a hang or a half-written file.  Tests that could hang on a broken
build run in a subprocess with a timeout; signals and pipes use real processes.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import actviz
from actviz.bench import data
from actviz.cli.app import app
from actviz.core.errors import DataError
from readiness import Watched

from helpers import ENV, one_line, runner

SCRIPT = Path(sys.executable).with_name("actviz")  # the console script, next to this Python

needs_script = pytest.mark.skipif(not SCRIPT.exists(), reason="the actviz console script is not installed here")
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX signals, FIFOs and /dev/full")


def invoke(*args: str, **kw):
    return runner.invoke(app, list(args), **kw)


def cli(*args: str, timeout: float = 120, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "actviz", *args], capture_output=True, text=True,
                          env=env or ENV, timeout=timeout, **kw)


# --------------------------------------------------------------------------- FIFOs in the data folder


@pytest.mark.slow
@posix_only
@pytest.mark.parametrize("command", [["data", "verify"], ["compare", "relu", "--epochs", "1"]])
def test_fifo_in_the_data_folder_is_one_error_not_a_hang(tmp_path, command):
    folder = tmp_path / "fm"
    folder.mkdir()
    for name in data.FILES:
        (folder / f"{name}.gz").write_bytes(b"not gzip")
    (folder / f"{data.TRAIN_IMAGES}.gz").unlink()
    os.mkfifo(folder / f"{data.TRAIN_IMAGES}.gz")
    args = [*command, "--data-dir", str(folder)]
    if command[0] == "compare":
        args += ["--out", str(tmp_path / "out")]
    proc = cli(*args, timeout=60)  # today's code waits forever for a writer
    assert proc.returncode == 1, proc.stderr
    line = one_line(proc.stderr)
    assert f"{data.TRAIN_IMAGES}.gz" in line
    # verify's table (stdout) says what each file is; compare's error line does
    assert "FIFO" in proc.stdout + line


@posix_only
def test_reading_a_fifo_raises_data_error(tmp_path):
    fifo = tmp_path / "x.gz"
    os.mkfifo(fifo)
    code = f"""
        from actviz.bench import data
        from actviz.core.errors import DataError
        try:
            data.read_idx({str(fifo)!r})
        except DataError as exc:
            print(exc)
    """
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=60, env=ENV)
    assert "is a FIFO (named pipe), not a regular file" in proc.stdout, proc.stderr


# --------------------------------------------------------------------------- download deadline, .part, progress


class _Trickle:
    """An HTTP server on 127.0.0.1 that sends one byte every ``pause`` seconds (headers too if asked)."""

    def __init__(self, *, headers_too: bool = False, pause: float = 2.0):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/"
        self.headers_too, self.pause = headers_too, pause
        self.connected = threading.Event()
        self.stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(4096)
                self.connected.set()
                head = b"HTTP/1.0 200 OK\r\nContent-Length: 1000000\r\n\r\n"
                if not self.headers_too:
                    conn.sendall(head)
                    head = b""
                for byte in head + b"\x1f" * 1000000:
                    if self.stop.wait(self.pause):
                        return
                    conn.sendall(bytes([byte]))
            except OSError:
                return

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def trickle():
    servers: list[_Trickle] = []

    def make(**kw) -> _Trickle:
        servers.append(_Trickle(**kw))
        return servers[-1]

    yield make
    for s in servers:
        s.close()


@pytest.mark.slow
def test_cli_download_from_a_trickling_server_ends_at_the_deadline(tmp_path, trickle):
    server = trickle()
    dest = tmp_path / "a" / "b" / "fm"
    env = {**ENV, "ACTVIZ_DOWNLOAD_DEADLINE": "2"}
    proc = cli("data", "download", "--data-dir", str(dest), "--mirror", server.url, env=env, timeout=60)
    assert proc.returncode == 1
    line = proc.stderr.splitlines()[-1]
    assert line.startswith("error: downloading train-images-idx3-ubyte.gz") and "deadline of 2 s" in line
    assert "ACTVIZ_DOWNLOAD_DEADLINE" in line
    assert not (tmp_path / "a").exists()  # no .part, no directory it created


@pytest.mark.slow
@pytest.mark.parametrize("headers_too", [False, True])
def test_library_download_deadline_also_bounds_slow_headers(tmp_path, trickle, headers_too):
    server = trickle(headers_too=headers_too, pause=0.5)
    started = time.monotonic()
    with pytest.raises(DataError, match="did not finish within the deadline of 1 s"):
        data.download(tmp_path / "fm", mirrors=[server.url], deadline=1)
    assert time.monotonic() - started < 30  # per-read timeouts alone would never end
    left = sorted(p.name for p in (tmp_path / "fm").iterdir()) if (tmp_path / "fm").exists() else []
    assert left in ([], [".train-images-idx3-ubyte.gz.partial"])  # at most the bytes that arrived, to resume


def test_bad_deadline_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.setenv(data.ENV_DEADLINE, "soon")
    result = invoke("data", "download", "--data-dir", str(tmp_path / "x"))
    assert result.exit_code == 2 and "ACTVIZ_DOWNLOAD_DEADLINE" in one_line(result.stderr)


@pytest.mark.slow
@posix_only
@needs_script
def test_killed_download_leaves_only_its_resumable_partial(tmp_path, trickle):
    server = trickle()
    dest = tmp_path / "fm"
    dest.mkdir()
    proc = subprocess.Popen([str(SCRIPT), "data", "download", "--data-dir", str(dest), "--mirror", server.url],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        assert server.connected.wait(60)
        deadline = time.monotonic() + 30
        while not list(dest.glob(".*.partial")) and time.monotonic() < deadline:
            time.sleep(0.1)  # the .partial appears with the first byte
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143 and err.splitlines()[-1] == "terminated", err
    assert [p.name for p in dest.iterdir()] == [f".{data.TRAIN_IMAGES}.gz.partial"]


def test_stale_part_files_are_removed(tmp_path):
    stale = tmp_path / f".{data.TRAIN_IMAGES}.gz.abc123.part"
    stale.write_bytes(b"")
    os.utime(stale, (0, 0))
    fresh = tmp_path / f".{data.TRAIN_IMAGES}.gz.def456.part"  # another download, still running
    fresh.write_bytes(b"")
    with pytest.raises(DataError):
        data.download(tmp_path, mirrors=[(tmp_path / "nowhere").as_uri()])
    assert not stale.exists() and fresh.exists()


def test_compare_shows_a_progress_bar_when_it_downloads(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / f"{data.TRAIN_IMAGES}.gz").write_bytes(b"\x1f\x8b" + bytes(200_000))  # fetched, then rejected
    monkeypatch.setattr(data.fetch, "_default_progress", None)
    monkeypatch.setenv("ACTVIZ_MIRRORS", mirror.as_uri())
    result = invoke("compare", "relu", "--epochs", "1", "--data-dir", str(tmp_path / "fm"),
                    "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "train-images-idx3-ubyte.gz" in result.stderr.splitlines()[0]  # the bar, before the error line
    assert "200.0 kB" in result.stderr.splitlines()[0]
    assert result.stderr.splitlines()[-1].startswith("error: could not download")


def test_default_progress_is_used_by_library_downloads(tmp_path, monkeypatch):
    calls: list[tuple] = []

    @contextlib.contextmanager
    def factory():
        calls.append(("enter",))
        try:
            yield lambda name, done, total: calls.append((name, done, total))
        finally:
            calls.append(("exit",))

    monkeypatch.setattr(data.fetch, "_default_progress", None)
    data.set_default_progress(factory)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / f"{data.TRAIN_IMAGES}.gz").write_bytes(b"x" * 10)
    with pytest.raises(DataError):
        data.download(tmp_path / "fm", mirrors=[mirror.as_uri()])
    assert calls[0] == ("enter",) and calls[-1] == ("exit",)
    assert (data.TRAIN_IMAGES, 10, 10) in calls


# --------------------------------------------------------------------------- Ctrl-C at any moment


def _signalled(argv: list[str], signum: int, delay: float = 0.0) -> tuple[int, list[str]]:
    """Run ``argv``, send ``signum`` ``delay`` s after its handlers are installed: exit code, stderr lines."""
    watched = Watched(argv, env=ENV, cwd=os.getcwd())
    try:
        watched.wait_ready()
        time.sleep(delay)  # into start-up: plugins, then torch's import (held back until it returns)
        watched.send(signum)
    finally:
        code, lines = watched.finish()
    return code, lines


@pytest.mark.slow
@posix_only
@needs_script
@pytest.mark.parametrize("delay", [0.0, 0.05, 0.15])
def test_ctrl_c_during_start_up_is_exit_130_and_one_line(delay):
    # `check` imports torch (and numpy through it) after the handlers are installed, then audits every activation
    code, lines = _signalled([str(SCRIPT), "check"], signal.SIGINT, delay)
    assert (code, lines) == (130, ["aborted"])


@posix_only
def test_ctrl_c_with_python_dash_m():
    code, lines = _signalled([sys.executable, "-m", "actviz", "check"], signal.SIGINT)
    assert (code, lines) == (130, ["aborted"])


@posix_only
@needs_script
def test_sigterm_is_exit_143_and_one_line():
    code, lines = _signalled([str(SCRIPT), "check"], signal.SIGTERM)
    assert (code, lines) == (143, ["terminated"])


@pytest.mark.slow
def test_interrupts_are_held_back_inside_imports(tmp_path):
    """A SIGINT that arrives while a module is imported is raised right after the import."""
    mod = tmp_path / "slow_module.py"
    mod.write_text("import os, signal, time\nos.kill(os.getpid(), signal.SIGINT)\ntime.sleep(0.3)\nDONE = True\n")
    code = f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        from actviz.core import signals
        signals.install(); signals.running()
        try:
            import slow_module
            import time
            time.sleep(5)
            print("not interrupted")
        except KeyboardInterrupt:
            print("interrupted after import:", sys.modules["slow_module"].DONE)
    """
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=60, env=ENV)
    assert proc.stdout.strip() == "interrupted after import: True", proc.stderr


# --------------------------------------------------------------------------- plot ranges near float max


@pytest.mark.parametrize("xs", [["--xmin", "1e308", "--xmax", "1.7e308"], ["--xmin=-1.7e308", "--xmax", "1.7e308"]])
def test_plot_range_near_float_max_is_one_usage_line(tmp_path, xs):
    result = invoke("plot", "relu", *xs, "-o", str(tmp_path / "p.png"))
    assert result.exit_code == 2
    assert "too large to plot" in one_line(result.stderr)
    assert not (tmp_path / "p.png").exists()


@pytest.mark.parametrize("args", [
    ["relu", "--xmin=-1e300", "--xmax", "1e300"],
    ["leaky_relu", "-p", "leaky_relu.negative_slope=1e308"],
    ["softplus", "-p", "softplus.beta=1e-300"],
])
@pytest.mark.slow
def test_extreme_but_finite_plots_are_drawn(tmp_path, args):
    out = tmp_path / "p.png"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy or matplotlib warning either
        result = invoke("plot", *args, "-d", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 1000


# --------------------------------------------------------------------------- over-long output names


def test_over_long_output_name_is_one_line(tmp_path):
    result = invoke("plot", "relu", "-o", str(tmp_path / ("a" * 300 + ".png")))
    assert result.exit_code == 1
    assert "File name too long" in one_line(result.stderr)
    assert not result.stderr.startswith("error: internal error")


def test_longest_allowed_name_is_written(tmp_path):
    name = "b" * 251 + ".png"  # 255 bytes: the temporary file beside it must fit too
    result = invoke("plot", "relu", "-o", str(tmp_path / name))
    assert result.exit_code == 0, result.output
    assert (tmp_path / name).exists()


# --------------------------------------------------------------------------- stdout: ASCII, /dev/full


@pytest.mark.slow
@needs_script
def test_ascii_stdout_degrades_instead_of_failing():
    proc = subprocess.run([str(SCRIPT), "table", "relu"], capture_output=True, timeout=120,
                          env={**ENV, "PYTHONIOENCODING": "ascii"})
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.decode("ascii")  # nothing but ASCII
    assert "relu" in text and "[0, inf)" in text and proc.stderr == b""


@pytest.mark.slow
@posix_only
@needs_script
@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_full_stdout_says_it_was_standard_output():
    with open("/dev/full", "w") as full:
        proc = subprocess.run([str(SCRIPT), "table", "relu"], stdout=full, stderr=subprocess.PIPE, text=True,
                              timeout=120, env=ENV)
    assert proc.returncode == 1
    assert one_line(proc.stderr) == "error: cannot write to standard output: No space left on device"


# --------------------------------------------------------------------------- broken pipes


@pytest.mark.slow
@posix_only
@needs_script
@pytest.mark.parametrize("args", [["check", "relu"], ["--help"], ["data", "status"], ["list"]])
def test_closed_pipe_exits_0_quietly(args):
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone (`| head -1` after its line): every write fails with EPIPE
    try:
        proc = subprocess.run([str(SCRIPT), *args], stdout=write_end, stderr=subprocess.PIPE, text=True,
                              timeout=120, env=ENV)
    finally:
        os.close(write_end)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


@pytest.mark.slow
@posix_only
@needs_script
def test_head_dash_1_gets_its_line():
    shell = f"'{SCRIPT}' check relu | head -1; echo \"status=${{PIPESTATUS[0]}}\""
    proc = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=120, env=ENV)
    assert proc.stdout.splitlines()[-1] == "status=0" and proc.stderr == "", proc.stderr


# --------------------------------------------------------------------------- no arguments


def test_no_arguments_prints_the_help_and_exits_0():
    result = invoke()
    assert result.exit_code == 0
    assert "Usage" in result.stdout and "compare" in result.stdout
    assert "error" not in result.stderr


# --------------------------------------------------------------------------- warnings


@pytest.mark.slow
@pytest.mark.parametrize("args", [["show", "softplus", "-p", "beta=1e-300"],
                                  ["show", "leaky_relu", "-p", "negative_slope=1e308"]])
def test_numerical_warnings_do_not_leak(args):
    proc = cli(*args)  # a fresh process: Python shows each warning once per process
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "" and "Warning" not in proc.stdout


def test_other_warnings_are_one_line_each_once(monkeypatch):
    def forward(x):
        warnings.warn("plugin says hello\nsecond line", UserWarning, stacklevel=2)
        return torch.relu(x)

    actviz.register(name="chatty", forward=forward, derivative=lambda x: (x > 0).to(x.dtype), formula="relu")
    try:
        monkeypatch.delenv("ACTVIZ_DEBUG", raising=False)
        result = invoke("show", "chatty")
    finally:
        actviz.unregister("chatty")
    assert result.exit_code == 0, result.output
    assert result.stderr == "warning: plugin says hello\n"


# --------------------------------------------------------------------------- no blank line before error:


def test_gallery_into_a_file_is_one_line(tmp_path):
    target = tmp_path / "FILE"
    target.write_text("x")
    result = invoke("gallery", "--out", str(target))
    assert result.exit_code == 1
    assert one_line(result.stderr).startswith("error: cannot create the gallery directory")


def test_failing_download_is_one_line(tmp_path):
    result = invoke("data", "download", "--data-dir", str(tmp_path / "fm"),
                    "--mirror", (tmp_path / "nowhere").as_uri())
    assert result.exit_code == 1
    assert one_line(result.stderr).startswith("error: could not download")


# --------------------------------------------------------------------------- --data-dir '', created folders


@pytest.mark.parametrize("args", [["compare", "relu", "--data-dir", ""], ["data", "status", "--data-dir", ""],
                                  ["data", "--data-dir", "", "verify"], ["data", "download", "--data-dir", ""]])
def test_explicit_empty_data_dir_is_a_usage_error(args, tmp_path):
    result = invoke(*args, *(["--out", str(tmp_path / "o")] if args[0] == "compare" else []))
    assert result.exit_code == 2, result.output
    assert "empty" in one_line(result.stderr)


def test_failed_download_removes_the_folders_it_created(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    nowhere = (tmp_path / "nowhere").as_uri()
    result = invoke("data", "download", "--data-dir", "a/b/c", "--mirror", nowhere)
    assert result.exit_code == 1 and not (tmp_path / "a").exists()
    monkeypatch.setenv("ACTVIZ_DATA_DIR", str(tmp_path / "env" / "x" / "y"))
    monkeypatch.setenv("ACTVIZ_MIRRORS", nowhere)
    for args in (["data", "download"], ["compare", "relu", "--epochs", "1", "--out", str(tmp_path / "out")]):
        result = invoke(*args)
        assert result.exit_code == 1, result.output
        assert not (tmp_path / "env").exists(), args


# --------------------------------------------------------------------------- -o dir/, overview, plugins in cwd


def test_output_with_a_trailing_slash_is_an_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("plot", "relu", "-o", "dir.png/")
    assert result.exit_code == 2 and "trailing '/'" in one_line(result.stderr)
    assert not (tmp_path / "dir.png").exists()


@pytest.mark.slow
def test_plugin_called_overview_keeps_its_picture(tmp_path):
    from actviz.render.gallery import build_gallery

    actviz.register(name="overview", forward=lambda x: torch.relu(x) ** 2,
                    derivative=lambda x: 2 * torch.relu(x), formula="max(0, x)²")
    try:
        written = build_gallery(tmp_path, acts=["relu", "overview"])
    finally:
        actviz.unregister("overview")
    assert [p.name for p in written] == ["relu.png", "overview.png", "overview-grid.png", "index.md"]
    index = (tmp_path / "index.md").read_text()
    assert "(overview-grid.png)" in index and "![overview: f and f′](overview.png)" in index


def test_gallery_file_names_are_distinct_and_safe():
    from actviz.render.gallery import _file_names

    class Fake:
        def __init__(self, label):
            self.label = self.name = label

    names = _file_names([Fake("a/../b"), Fake("a_.._b"), Fake("Index"), Fake("overview")])
    assert names == ["a_.._b.png", "a_.._b-2.png", "Index.png", "overview.png", "overview-grid.png"]
    assert all("/" not in n for n in names)


@pytest.mark.slow
@needs_script
def test_plugins_in_the_current_directory_work_with_the_console_script(tmp_path):
    (tmp_path / "cwd_acts.py").write_text(textwrap.dedent("""
        import torch, actviz
        actviz.register(name="cwd_relu2", forward=lambda x: torch.relu(x) ** 2,
                        derivative=lambda x: 2 * torch.relu(x), formula="max(0, x)²")
    """))
    env = {**ENV, "ACTVIZ_PLUGINS": "cwd_acts"}
    for argv in ([str(SCRIPT)], [sys.executable, "-m", "actviz"]):
        proc = subprocess.run([*argv, "list", "--format", "json"], cwd=tmp_path, capture_output=True, text=True,
                              env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert "cwd_relu2" in proc.stdout


# --------------------------------------------------------------------------- broken plugins


def _raises(x):
    raise ValueError("forward boom")


BROKEN = {
    "raises_boom": (_raises, "forward raised ValueError: forward boom"),
    "wrong_shape": (lambda x: x.sum(), "returned shape (); it must keep the input's shape"),
    "gives_nan": (lambda x: x * float("nan"), "gave NaN at x = -10"),
    "int_tensor": (lambda x: x.to(torch.int64), "returned int64; it must keep the input's dtype"),
    "numpy_array": (lambda x: np.asarray(x), "returned a numpy.ndarray, not a torch.Tensor"),
}


@pytest.fixture
def broken():
    for name, (fn, _) in BROKEN.items():
        actviz.register(name=name, forward=fn, derivative=lambda x: torch.ones_like(x), formula="broken")
    yield BROKEN
    for name in BROKEN:
        actviz.unregister(name)


@pytest.mark.slow
def test_check_lists_broken_plugins_and_checks_the_others(broken):
    result = invoke("check")
    assert result.exit_code == 1
    out = " ".join(result.stdout.split())
    for name, (_, problem) in broken.items():
        assert f"✗ {name}: broken:" in out and " ".join(problem.split()) in out, name
    for good in ("relu", "gelu", "tanh", "maxout"):
        assert f"{good} 12/12" in out
    assert f"5 of {len(actviz.names())} activation(s) broken" in out
    doc = json.loads(invoke("check", "--format", "json").stdout)
    by_name = {c["name"]: c for c in doc["checked"]}
    assert by_name["relu"]["ok"] is True and by_name["gives_nan"]["ok"] is False
    assert "gave NaN" in by_name["gives_nan"]["broken"] and by_name["gives_nan"]["autograd_max_error"] == "nan"


def test_table_reports_the_others_and_names_the_broken(broken):
    result = invoke("table", "relu", "raises_boom", "tanh", "--format", "json")
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    assert [r["name"] for r in rows] == ["relu", "raises_boom", "tanh"]
    assert rows[0]["monotonic"] is True and "broken" not in rows[0]
    assert rows[1]["broken"] == "forward raised ValueError: forward boom" and rows[1]["range"] is None
    assert one_line(result.stderr) == "error: activation 'raises_boom' is broken: forward raised ValueError: forward boom"
    rich = invoke("table", "relu", "numpy_array")
    assert rich.exit_code == 1 and "broken" in rich.stdout and "relu" in rich.stdout


@pytest.mark.parametrize("name", list(BROKEN))
def test_show_and_plot_name_the_broken_activation(broken, name, tmp_path):
    problem = broken[name][1]
    for args in (["show", name], ["plot", "relu", name, "tanh", "-o", str(tmp_path / "p.png")]):
        result = invoke(*args)
        assert result.exit_code == 1, result.output
        line = one_line(result.stderr)
        assert line.startswith(f"error: activation '{name}' is broken: ") and problem in line


def test_compare_names_the_broken_activation(broken, tmp_path):
    result = invoke("compare", "relu", "raises_boom", "--epochs", "1", "--out", str(tmp_path / "o"))
    assert result.exit_code == 1
    assert one_line(result.stderr) == "error: activation 'raises_boom' is broken: forward raised ValueError: forward boom"


def test_check_contract_accepts_every_built_in():
    from actviz.facts.audit import check_contract

    for name in actviz.names():
        check_contract(actviz.get(name))
