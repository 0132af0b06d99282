"""LeNet-5 on the real Fashion-MNIST with d2l's settings reaches the accuracy band measured for it (slow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from actviz.bench.config import TrainConfig
from actviz.bench.data import load
from actviz.bench.train import train_runs
from actviz.core import registry

REAL = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.slow
@pytest.mark.skipif(not (REAL / "train-images-idx3-ubyte.gz").exists(), reason="no Fashion-MNIST package")
def test_d2l_sigmoid_lenet_after_four_epochs_is_in_its_measured_band():
    # d2l's settings (Xavier, SGD lr 0.9, batch 256); 4 of d2l's 10 epochs, seed 0: measured 0.718 train, 0.712 test
    # (10 epochs, seeds 0 and 1: see the README's band, d2l's own 0.82 train, ~0.78-0.80 test)
    cfg = TrainConfig(model="lenet", lr=0.9, init="xavier", epochs=4, batch_size=256, threads=1, device="cpu")
    run = train_runs([registry.get("sigmoid")], load(REAL), cfg, seeds=[0]).runs[0]
    last = run["history"][-1]
    assert run["status"] == "completed"
    assert 0.66 <= last["train_acc"] <= 0.78
    assert 0.66 <= last["test_acc"] <= 0.78
    assert last["diagnostics"]["dead"] == [0.0, 0.0, 0.0, 0.0]
