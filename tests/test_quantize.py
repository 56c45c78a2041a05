"""Quantisation of compressed networks (netcoreset.sampler.quantize): exact zeros, exact
reconstruction from (masks, symbols, codebooks), nearest-level assignment, no mutation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from netcoreset.sampler import compress, kmeans_1d, quantize, quantize_values, uniform_levels


def _sparse_net(seed: int = 0, dtype: torch.dtype = torch.float32) -> nn.Sequential:
    gen = torch.Generator().manual_seed(seed)
    net = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3)).to(dtype)
    with torch.no_grad():
        for lay in (net[0], net[2]):
            lay.weight.copy_(torch.randn(lay.weight.shape, generator=gen))
            lay.weight.mul_(torch.rand(lay.weight.shape, generator=gen) < 0.5)
            lay.bias.copy_(torch.randn(lay.bias.shape, generator=gen))
    return net


def _matrix(lay: nn.Linear) -> np.ndarray:
    return torch.cat([lay.weight, lay.bias[:, None]], 1).detach().double().numpy()


@pytest.mark.parametrize("scheme", ["kmeans", "uniform"])
@pytest.mark.parametrize("shared", [False, True])
def test_zeros_stay_zeros_and_description_reconstructs_model(scheme, shared):
    net = _sparse_net()
    before = [p.detach().clone() for p in net.parameters()]
    q = quantize(net, 3, scheme=scheme, shared=shared)
    for p, b in zip(net.parameters(), before, strict=True):  # caller's model untouched
        assert torch.equal(p, b)
    for idx, (orig, new) in enumerate(zip((net[0], net[2]), (q.model[0], q.model[2]), strict=True)):
        m_orig, m_new = _matrix(orig), _matrix(new)
        assert np.array_equal(m_orig != 0, q.masks[idx])  # same non-zeros, no new zeros
        assert np.array_equal(m_new != 0, q.masks[idx])
        book = q.codebooks[q.codebook_of(idx)]
        assert np.array_equal(m_new[q.masks[idx]], book[q.symbols[idx]])  # exact decode
        assert len(np.unique(m_new[q.masks[idx]])) <= 3
        assert not np.any(book == 0)  # zero is never a level
    assert len(q.codebooks) == (1 if shared else 2)
    assert sum(int(c.sum()) for c in q.counts) == q.nnz == sum(int(m.sum()) for m in q.masks)


def test_every_value_goes_to_its_nearest_level():
    net = _sparse_net(1)
    q = quantize(net, 4)
    for idx, lay in enumerate((net[0], net[2])):
        vals = _matrix(lay)[q.masks[idx]]
        book = q.codebooks[idx]
        dist = np.abs(vals[:, None] - book[None, :])
        chosen = dist[np.arange(vals.size), q.symbols[idx]]
        assert np.all(chosen <= dist.min(axis=1))


def test_uniform_grid_is_evenly_spaced_on_the_range():
    v = np.array([-1.5, -0.25, 0.5, 2.5])
    grid = uniform_levels(v, 5)
    assert grid[0] == -1.5 and grid[-1] == 2.5
    assert np.allclose(np.diff(grid), 1.0)


def test_kmeans_finds_separated_cluster_means():
    gen = np.random.default_rng(0)
    centres = np.array([-3.0, 0.5, 4.0])
    v = np.concatenate([c + 0.01 * gen.standard_normal(200) for c in centres])
    found = kmeans_1d(v, 3)
    assert np.allclose(found, centres, atol=0.01)
    assert kmeans_1d(np.array([1.0, 1.0, 2.0]), 5).tolist() == [1.0, 2.0]  # fewer distinct


@given(st.lists(st.floats(-100, 100, allow_nan=False), min_size=1, max_size=60),
       st.integers(1, 8))  # fmt: skip
def test_kmeans_levels_are_sorted_and_within_range(values, levels):
    v = np.array(values)
    c = kmeans_1d(v, levels)
    assert 1 <= c.size <= levels
    assert np.all(np.diff(c) > 0)
    assert c.min() >= v.min() - 1e-9 and c.max() <= v.max() + 1e-9


def test_float16_codebook_levels_are_exact_and_never_zero():
    net = nn.Sequential(nn.Linear(3, 1))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1e-9, 0.3, 0.0]]))
        net[0].bias.copy_(torch.tensor([-0.7]))
    q = quantize(net, 3, codebook_dtype="float16")
    book = q.codebooks[0]
    assert np.array_equal(book.astype(np.float16).astype(np.float64), book)
    assert not np.any(book == 0)
    w = q.model[0].weight
    assert bool(w[0, 0] != 0) and bool(w[0, 2] == 0)  # 1e-9 stays a non-zero, 0 stays 0


def test_float64_models_and_codebooks():
    net = _sparse_net(2, torch.float64)
    q = quantize(net, 4, codebook_dtype="float64")
    assert q.model[0].weight.dtype == torch.float64


def test_with_codebooks_keeps_symbol_meaning_and_sorts_levels():
    q = quantize(_sparse_net(3), 2)
    new_books = [c[::-1].copy() for c in q.codebooks]  # symbol j now means new_books[j]
    swapped = q.with_codebooks(new_books)
    for idx, lay in enumerate((swapped.model[0], swapped.model[2])):
        assert np.array_equal(_matrix(lay)[q.masks[idx]], new_books[idx][q.symbols[idx]])
    assert all(np.all(np.diff(c) >= 0) for c in swapped.codebooks)


def test_given_codebooks_and_quantize_values():
    q = quantize(_sparse_net(4), 2, codebooks=[np.array([-1.0, 1.0]), np.array([0.5])])
    assert q.scheme == "given"
    assert set(q.model[2].weight[q.model[2].weight != 0].tolist()) <= {0.5}
    book, sym = quantize_values(torch.tensor([0.0, 0.2, 1.0]), 2, scheme="uniform")
    assert book.tolist() == [0.0, 1.0] and sym.tolist() == [0, 0, 1]


def test_quantises_a_corenet_compression():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    res = compress(net, torch.rand(200, 8), method="corenet+", keep=0.3, seed=0)
    q = quantize(res.model, 8)
    assert q.nnz == res.nnz


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"levels": 0}, "levels"),
        ({"levels": 2.5}, "levels"),
        ({"levels": 2, "scheme": "median"}, "scheme"),
        ({"levels": 2, "codebook_dtype": "int8"}, "codebook_dtype"),
        ({"levels": 2, "codebooks": [np.array([1.0, 2.0, 3.0])] * 2}, "levels"),
        ({"levels": 2, "codebooks": [np.array([1.0])]}, "codebook"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        quantize(_sparse_net(), **kwargs)


def test_float16_model_cannot_hold_float32_levels():
    net = _sparse_net(5).to(torch.float16)
    with pytest.raises(ValueError, match="cannot hold"):
        quantize(net, 4, codebook_dtype="float32")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_model_stays_on_cuda():
    q = quantize(_sparse_net().cuda(), 4)
    assert q.model[0].weight.is_cuda
