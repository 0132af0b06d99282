"""The first layer's batched products, split between one batched call and single products by thread count."""

from __future__ import annotations

import pytest
import torch

from actviz.bench.engine import products


@pytest.fixture(params=[1, 2, 3])
def threads(request):
    before = torch.get_num_threads()
    torch.set_num_threads(request.param)
    yield request.param
    torch.set_num_threads(before)


@pytest.mark.parametrize("S", [1, 2, 3, 5, 7])
def test_a_batched_product_with_bias_equals_torch_baddbmm(threads, S):
    g = torch.Generator().manual_seed(S)
    bias, a, b = (torch.randn(shape, generator=g, dtype=torch.float64) for shape in ((S, 1, 6), (S, 4, 5), (S, 5, 6)))
    torch.testing.assert_close(products.baddbmm(bias, a, b), torch.baddbmm(bias, a, b), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("S", [1, 2, 3, 5, 7])
def test_an_in_place_accumulated_product_equals_torch_baddbmm_(threads, S):
    g = torch.Generator().manual_seed(10 + S)
    c, a, b = (torch.randn(shape, generator=g, dtype=torch.float64) for shape in ((S, 4, 6), (S, 5, 4), (S, 5, 6)))
    want = c.clone().baddbmm_(a.transpose(1, 2), b, alpha=-0.3)
    got = products.baddbmm_(c, a.transpose(1, 2), b, -0.3)
    assert got is c
    torch.testing.assert_close(c, want, rtol=1e-13, atol=1e-13)


def test_a_shared_batch_expanded_over_the_slots_is_multiplied_by_each_slots_matrix(threads):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 4, 5, generator=g, dtype=torch.float64).expand(3, 4, 5)
    w, bias = torch.randn(3, 5, 6, generator=g, dtype=torch.float64), torch.zeros(3, 1, 6, dtype=torch.float64)
    got = products.baddbmm(bias, x, w)
    for s in range(3):
        torch.testing.assert_close(got[s], x[0] @ w[s], rtol=1e-13, atol=1e-13)


def test_the_split_leaves_a_remainder_smaller_than_the_thread_count():
    cpu = torch.device("cpu")
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        assert [products._batched(n, cpu) for n in (1, 2, 3, 5, 20)] == [0, 2, 2, 4, 20]
    finally:
        torch.set_num_threads(before)
    assert products._batched(5, torch.device("meta")) == 5
