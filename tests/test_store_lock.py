"""One writer per store: two real ``actviz compare`` processes on one ``--out``.

The second waits for the first (one line saying who holds the lock) or, with
``--no-wait``, fails with one line; afterwards the store holds the runs of both.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from actviz.results import load
from readiness import Watched

from helpers import ENV

HERE = Path(__file__).parent
FAST = ["--hidden", "32", "--batch-size", "64", "--probe-size", "64", "--device", "cpu", "--no-plots"]

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals and flock")


def compare_script(*args: str) -> list[str]:
    """``actviz compare ARGS`` in a fresh Python, on a small synthetic stand-in for Fashion-MNIST."""
    code = (
        "import sys; sys.path.insert(0, %r)\n"
        "from test_train import synthetic\n"
        "import actviz.bench.data\n"
        "D = synthetic(n_train=3000, n_test=300)\n"
        "actviz.bench.data.load = lambda data_dir=None, **kw: D\n"
        "from actviz.cli.app import main\n"
        "sys.argv = ['actviz', 'compare', *%r]\n"
        "main()\n" % (str(HERE), list(args))
    )
    return [sys.executable, "-c", code]


@pytest.mark.slow
def test_a_second_compare_on_one_store_waits_or_fails_and_no_run_is_lost(tmp_path):
    out = str(tmp_path)
    first = Watched(compare_script("relu", "--seeds", "1", "--epochs", "100000", *FAST, "--out", out), env=ENV)
    second = None
    try:
        first.wait_ready()
        first.wait_for(lambda: (tmp_path / "results.json").exists(), "the first epoch saved")
        busy = subprocess.run(compare_script("tanh", "--seeds", "1", "--epochs", "1", *FAST, "--out", out,
                                             "--no-wait"), capture_output=True, text=True, env=ENV, timeout=120)
        assert busy.returncode == 1, busy.stderr
        assert busy.stderr.splitlines() == [
            f"error: the store {out!r} is being written by another actviz (pid {first.proc.pid}); "
            "wait for it (leave out --no-wait), or choose another --out"], busy.stderr
        second = Watched(compare_script("tanh", "--seeds", "1", "--epochs", "1", *FAST, "--out", out), env=ENV)
        waiting = f"waiting for the store's lock, held by pid {first.proc.pid}"
        second.wait_for(lambda: waiting in second.lines, "the waiting line")
        assert not any("reused" in line or "training" in line for line in second.lines)  # nothing before the lock
        first.send(signal.SIGTERM)
        code, _ = first.finish(timeout=60)
        assert code == 143
        code, lines = second.finish(timeout=120)
        assert code == 0, lines[-20:]
        assert lines.count(waiting) == 1 and not any("Traceback" in line for line in lines), lines
    finally:
        first.kill()
        if second is not None:
            second.kill()
    runs = {r["label"]: r for r in load(tmp_path)["runs"]}
    assert set(runs) == {"relu", "tanh"}
    assert runs["relu"]["status"] == "interrupted" and runs["relu"]["epochs_completed"] >= 1
    assert runs["tanh"]["status"] == "completed"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no lock file, no temporary file
