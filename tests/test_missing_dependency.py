"""A dependency that is not installed: one line saying what to install, not an internal error.

The CLI runs in a subprocess whose ``sitecustomize`` puts a meta-path hook first that
refuses to find the blocked modules, as if they were not installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from helpers import ENV, one_line

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BLOCKER = textwrap.dedent('''
    import os, sys

    class _Block:
        names = set(os.environ["ACTVIZ_TEST_BLOCK"].split(","))

        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in self.names:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, _Block())
''')


def run_without(tmp_path, blocked: str, *args: str) -> subprocess.CompletedProcess:
    (tmp_path / "sitecustomize.py").write_text(BLOCKER)
    env = {**ENV, "ACTVIZ_TEST_BLOCK": blocked,
           "PYTHONPATH": os.pathsep.join([str(tmp_path), ROOT, ENV.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "actviz", *args], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120)


@pytest.mark.parametrize("blocked, args, needs, install", [
    ("torch", ["table", "relu"], "PyTorch", "pip install torch --index-url https://download.pytorch.org/whl/cpu"),
    ("torch", ["show", "gelu"], "PyTorch", "pip install torch --index-url https://download.pytorch.org/whl/cpu"),
    ("numpy", ["table", "relu"], "NumPy", "pip install numpy"),
    ("matplotlib", ["plot", "relu", "-o", "relu.png"], "Matplotlib", "pip install matplotlib"),
])
@pytest.mark.slow
def test_a_missing_dependency_says_what_to_install(tmp_path, blocked, args, needs, install):
    proc = run_without(tmp_path, blocked, *args)
    assert proc.returncode == 1, proc.stderr
    line = one_line(proc.stderr)
    assert line.startswith(f"error: actviz needs {needs} ") and install in line


def test_list_needs_no_torch(tmp_path):
    proc = run_without(tmp_path, "torch,numpy", "list")
    assert proc.returncode == 0 and "relu" in proc.stdout, proc.stderr
