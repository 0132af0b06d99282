"""The allocator setting for training: freed memory stays in the process (glibc), nothing breaks elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from actviz.bench.engine import memory


def test_keeping_freed_memory_is_asked_once_and_answers_a_bool():
    first = memory.keep_freed_memory()
    assert isinstance(first, bool)
    assert memory.keep_freed_memory() is first  # cached: one call per process


@pytest.mark.skipif(not sys.platform.startswith("linux") or not os.confstr("CS_GNU_LIBC_VERSION"),
                    reason="glibc only")
@pytest.mark.slow
def test_with_freed_memory_kept_new_tensors_stop_faulting_in_fresh_pages():
    """rational's forward on a stack's pre-activations: page faults per call before and after (a child process)."""
    code = """
import resource, torch
import actviz
from actviz.bench.engine.memory import keep_freed_memory
torch.set_num_threads(1)
act, z = actviz.get("rational"), torch.randn(3, 256, 256)
def faults():
    r0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        act(z)
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - r0) / 20
faults()
before = faults()
assert keep_freed_memory()
faults()
print(before, faults())
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    before, after = map(float, out)
    assert before > 100 and after < 20, (before, after)


def test_training_keeps_freed_memory(monkeypatch):
    calls = []
    monkeypatch.setattr("actviz.bench.train.keep_freed_memory", lambda: calls.append(1) or True)
    import actviz
    from actviz.bench.train import TrainConfig, train_runs
    from test_train import DATA

    train_runs([actviz.get("relu")], DATA, TrainConfig(epochs=1, hidden=4))
    assert calls == [1]
