"""Every signal at every moment: SIGINT is exit 130, SIGTERM 143, SIGHUP 129, each with one line.

From the first instruction (start-up, imports) through the command (training, lessons,
pictures) to the interpreter's exit, and no temporary file left behind.  A signal the
process inherited as ignored (``nohup``, ``trap '' INT``) stays ignored.  Also the odd
environments of start-up: a closed standard output, a deleted current directory.
Real processes; a signal is sent once the readiness line says the handlers are in place,
or by the process itself at the moment under test.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from readiness import Watched

from helpers import ENV

HERE = Path(__file__).parent
SCRIPT = Path(sys.executable).with_name("actviz")  # the console script, next to this Python
LINES = {signal.SIGINT: (130, "aborted"), signal.SIGTERM: (143, "terminated"), signal.SIGHUP: (129, "hung up")}
SIGNALS = list(LINES)

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
needs_script = pytest.mark.skipif(not SCRIPT.exists(), reason="the actviz console script is not installed here")


def python(code: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env=kw.pop("env", ENV), timeout=180, **kw)


def on_synthetic_data(argv: list[str], before: str = "") -> list[str]:
    """``actviz ARGV`` in a fresh Python, on a small synthetic stand-in for Fashion-MNIST (``before`` runs first)."""
    code = (
        "import sys; sys.path.insert(0, %r)\n"
        "from test_train import synthetic\n"
        "import actviz.bench.data\n"
        "D = synthetic(n_train=3000, n_test=300)\n"
        "actviz.bench.data.load = lambda data_dir=None, **kw: D\n"
        "%s\n"
        "from actviz.cli.app import main\n"
        "sys.argv = ['actviz', *%r]\n"
        "main()\n" % (str(HERE), textwrap.dedent(before), argv)
    )
    return [sys.executable, "-c", code]


def temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".actviz")]


# --------------------------------------------------------------------------- start-up and imports


@pytest.mark.slow
@needs_script
@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_every_signal_during_start_up_is_its_code_and_one_line(signum, tmp_path):
    # `check` imports torch (held back) right after its handlers are in place
    watched = Watched([str(SCRIPT), "check"], env=ENV, cwd=tmp_path)
    try:
        watched.wait_ready()
        watched.send(signum)
    finally:
        code, lines = watched.finish()
    assert (code, lines) == (LINES[signum][0], [LINES[signum][1]])


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=lambda s: signal.Signals(s).name)
def test_sigterm_and_sighup_inside_an_import_wait_for_the_import(signum, tmp_path):
    (tmp_path / "slow_module.py").write_text(
        f"import os, time\nos.kill(os.getpid(), {int(signum)})\ntime.sleep(0.3)\nDONE = True\n")
    proc = python(f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        from actviz.core import signals
        signals.install(); signals.running()
        try:
            import slow_module
            print("not interrupted")
        except signals.Interrupted as exc:
            print("after import:", sys.modules["slow_module"].DONE, exc.signum, signals.exit_code(exc))
    """)
    assert proc.stdout.strip() == f"after import: True {int(signum)} {LINES[signum][0]}", proc.stderr


# --------------------------------------------------------------------------- after the command


@pytest.mark.slow
@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_signal_while_the_process_exits_gives_its_code_and_line(signum):
    # sent by an exit function, after the command printed its output: the interpreter is shutting down
    proc = python(f"""
        import atexit, os, sys
        from actviz.core import signals
        signals.install(owns_process=True)
        atexit.register(lambda: os.kill(os.getpid(), {int(signum)}))
        sys.argv = ["actviz", "list", "--format", "json"]
        from actviz.cli.app import main
        main()
    """)
    assert (proc.returncode, proc.stderr) == (LINES[signum][0], LINES[signum][1] + "\n")
    assert '"relu"' in proc.stdout  # the command's output is complete


def test_a_command_ended_by_a_signal_keeps_its_code_and_single_line_when_another_comes_at_exit():
    proc = python("""
        import os, signal
        from actviz.core import signals
        signals.install(owns_process=True)
        signals.running()
        signals.closing()
        os.kill(os.getpid(), signal.SIGHUP)
        signals.finish(130)  # the command already said "aborted"
    """)
    assert (proc.returncode, proc.stderr) == (130, "")


# --------------------------------------------------------------------------- during the command


@pytest.mark.slow
@pytest.mark.parametrize("lesson", [["collapse", "--seeds", "1"], ["symmetry", "--activations", "tanh"]],
                         ids=lambda a: a[0])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=lambda s: signal.Signals(s).name)
def test_a_lesson_interrupted_during_training_writes_nothing(lesson, signum, tmp_path):
    # the signal comes from inside training, after its first epoch
    kill = f"""
        import os, actviz.bench.engine.scheduler as t
        real = t.Trainer.emit
        def emit(self, event):
            if event["event"] == "epoch":
                os.kill(os.getpid(), {int(signum)})
            real(self, event)
        t.Trainer.emit = emit
    """
    proc = subprocess.run(on_synthetic_data(["lesson", *lesson, "--out", str(tmp_path)], kill),
                          capture_output=True, text=True, env=ENV, timeout=300)
    assert (proc.returncode, proc.stderr) == (LINES[signum][0], LINES[signum][1] + "\n")
    assert proc.stdout == ""
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []  # no lesson.json, no picture


@needs_script
@pytest.mark.parametrize("argv", [
    ["table", "relu", "tanh", "--format", "markdown"],
    ["plot", "relu", "gelu", "-d", "-o", "p.png"],
    ["report", "relu", "-o", "r.html"],
    ["results", "store", "--plots"],
    ["lesson", "derivatives", "--activations", "tanh", "--out", "lessons"],
], ids=lambda a: a[0])
@pytest.mark.slow
def test_sighup_to_a_command_is_129_one_line_and_no_temporary_file(argv, tmp_path):
    from report_stores import write_store

    write_store(tmp_path / "store")
    watched = Watched([str(SCRIPT), *argv], env=ENV, cwd=tmp_path)
    try:
        watched.wait_ready()
        watched.send(signal.SIGHUP)
    finally:
        code, lines = watched.finish()
    assert (code, lines) == (129, ["hung up"])
    assert temporaries(tmp_path) == []


@pytest.mark.slow
@pytest.mark.parametrize("ignored", [[signal.SIGHUP], [signal.SIGINT, signal.SIGHUP]],
                         ids=["nohup", "trap-INT-and-HUP"])
def test_signals_inherited_as_ignored_do_not_stop_training(ignored, tmp_path):
    def ignore():
        for s in ignored:
            signal.signal(s, signal.SIG_IGN)

    argv = ["compare", "relu", "--seeds", "1", "--epochs", "3", "--hidden", "32", "--batch-size", "64",
            "--probe-size", "64", "--device", "cpu", "--no-plots", "--out", str(tmp_path)]
    watched = Watched(on_synthetic_data(argv), env=ENV, preexec_fn=ignore)
    try:
        watched.wait_ready()  # training's handlers are in place
        for s in ignored:
            watched.send(s)
    finally:
        code, lines = watched.finish()
    assert code == 0, lines[-20:]
    from actviz.results import load

    (run,) = load(tmp_path)["runs"]
    assert run["status"] == "completed" and run["epochs_completed"] == 3


# --------------------------------------------------------------------------- odd environments


@pytest.mark.slow
@needs_script
@pytest.mark.parametrize("argv", [["table", "relu"], ["list"], ["--version"]], ids=lambda a: a[0])
def test_a_closed_standard_output_is_one_line_and_exit_1(argv):
    proc = subprocess.run([str(SCRIPT), *argv], stdout=None, stderr=subprocess.PIPE, text=True, env=ENV,
                          timeout=120, preexec_fn=lambda: os.close(1))
    assert (proc.returncode, proc.stderr) == (1, "error: cannot write to standard output: it is closed\n")


@pytest.mark.slow
def test_compare_with_standard_output_closed_keeps_its_runs(tmp_path):
    argv = ["compare", "relu", "--seeds", "1", "--epochs", "1", "--hidden", "32", "--batch-size", "64",
            "--probe-size", "64", "--device", "cpu", "--no-plots", "--out", str(tmp_path)]
    proc = subprocess.run(on_synthetic_data(argv, "import actviz; actviz._check_process()"), stdout=None,
                          stderr=subprocess.PIPE, text=True, env=ENV, timeout=180, preexec_fn=lambda: os.close(1))
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.splitlines()[-1] == "error: cannot write to standard output: it is closed"
    assert "Traceback" not in proc.stderr
    from actviz.results import load

    assert load(tmp_path)["runs"][0]["status"] == "completed"


@needs_script
def test_a_deleted_current_directory_is_one_line_before_torch(tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    proc = subprocess.run([str(SCRIPT), "table", "relu"], capture_output=True, text=True, env=ENV, timeout=120,
                          cwd=gone, preexec_fn=lambda: os.rmdir(gone))
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr == ("error: the current directory cannot be used (it was deleted); "
                           "change to one that exists and run actviz again\n")


def test_a_signal_remembered_before_the_handlers_took_over_is_acted_on():
    # the package root remembers signals from its first instruction until actviz.core.signals is imported
    proc = python("""
        import signal
        from actviz.core import signals
        signals.install(owns_process=True, early=[int(signal.SIGHUP)])
        print("not stopped")
    """)
    assert (proc.returncode, proc.stdout, proc.stderr) == (129, "", "hung up\n")
