"""Tests of the public hypothesis strategies in netcoreset.verification.strategies."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from netcoreset.sampler import METHODS
from netcoreset.verification.networks import (
    INPUT_DISTRIBUTIONS,
    WEIGHT_LAWS,
    build_relu_network,
    layer_widths,
    make_inputs,
    network_draw,
)
from netcoreset.verification.strategies import (
    compression_params,
    input_batches,
    network_and_inputs,
    relu_networks,
)


def _linears(model: nn.Module) -> list[nn.Linear]:
    return [m for m in model if isinstance(m, nn.Linear)]


def _rows(lin: nn.Linear) -> torch.Tensor:
    """Weight rows with the bias appended as one more edge (the paper's convention)."""
    w = lin.weight.detach().double()
    if lin.bias is None:
        return w
    return torch.cat([w, lin.bias.detach().double()[:, None]], dim=1)


# ------------------------------------------------------------------ structure and validity


@given(relu_networks(dtype=st.sampled_from([torch.float32, torch.float64])))
def test_networks_are_valid_sequential_relu_nets(model):
    assert isinstance(model, nn.Sequential)
    mods = list(model)
    assert len(mods) % 2 == 1
    for k, m in enumerate(mods):
        assert isinstance(m, nn.Linear if k % 2 == 0 else nn.ReLU)
    info = network_draw(model)
    assert info is not None and info.weight_law in WEIGHT_LAWS
    sizes = layer_widths(model)
    assert sizes == info.sizes
    assert 1 <= len(sizes) - 1 <= 3
    assert all(1 <= s <= 12 for s in sizes)
    for lin in _linears(model):
        assert lin.weight.dtype == info.dtype
        assert (lin.bias is not None) == info.bias
        for p in lin.parameters():
            assert bool(torch.isfinite(p).all())
            assert not p.requires_grad
    assert not model.training


@given(relu_networks(depth=3, widths=st.integers(20, 30), in_features=40, out_features=2))
def test_size_parameters_are_honoured(model):
    sizes = layer_widths(model)
    assert len(sizes) == 4 and sizes[0] == 40 and sizes[-1] == 2
    assert all(20 <= s <= 30 for s in sizes[1:-1])


def test_sequence_widths_fix_depth():
    model = relu_networks(widths=[3, 4], in_features=2, out_features=1, seed=5)

    @given(model)
    def check(m):
        assert layer_widths(m) == (2, 3, 4, 1)
        assert network_draw(m).seed == 5

    check()


# ------------------------------------------------------------------ weight laws


@given(relu_networks(weight_law="all_positive"))
def test_all_positive_law(model):
    for lin in _linears(model):
        assert bool((lin.weight > 0).all())
        if lin.bias is not None:
            assert bool((lin.bias > 0).all())


@given(relu_networks(weight_law="sparse"))
def test_sparse_law_has_exactly_a_quarter_nonzero(model):
    for lin in _linears(model):
        w = lin.weight
        assert int((w != 0).sum()) == w.numel() // 4
        assert int((w == 0).sum()) >= 0.75 * w.numel()
        if lin.bias is not None:
            assert int((lin.bias != 0).sum()) == lin.bias.numel() // 4


@given(relu_networks(weight_law="near_cancelling", dtype=torch.float64))
def test_near_cancelling_rows_nearly_cancel(model):
    for lin in _linears(model):
        rows = _rows(lin)
        if rows.shape[1] < 2:
            continue
        total = rows.sum(dim=1).abs()
        mass = rows.abs().sum(dim=1)
        assert bool((total <= 0.01 * mass).all())
        # and they really are signed pairs: both signs present in every row
        assert bool(((rows > 0).any(dim=1) & (rows < 0).any(dim=1)).all())


@given(network_and_inputs(weight_law="dead_neurons", distribution="nonnegative", n=32))
def test_dead_neurons_never_fire_on_nonnegative_inputs(model_x):
    model, x = model_x
    info = network_draw(model)
    sizes = layer_widths(model)
    assert len(sizes) >= 3
    assert len(info.dead) == len(sizes) - 2
    # more inputs than hypothesis drew, including large ones
    big = make_inputs(256, sizes[0], scale=100.0, seed=info.seed)
    inputs = torch.cat([x, big.to(x.dtype)])
    a = inputs
    hidden = 0
    for m in model:
        a = m(a)
        if isinstance(m, nn.ReLU):
            dead = info.dead[hidden]
            width = sizes[hidden + 1]
            assert 1 <= len(dead) <= max(1, math.ceil(width / 2))
            assert bool((a[:, list(dead)] == 0).all())
            lin = _linears(model)[hidden]
            assert bool((lin.weight[list(dead)] < 0).all())
            if lin.bias is not None:
                assert bool((lin.bias[list(dead)] < 0).all())
            hidden += 1
    assert hidden == len(info.dead)


def test_dead_neurons_law_needs_depth_two():
    with pytest.raises(ValueError, match="depth must be >= 2"):
        relu_networks(depth=1, weight_law="dead_neurons")
    with pytest.raises(ValueError, match="hidden layer"):
        build_relu_network((3, 2), weight_law="dead_neurons")

    @given(relu_networks(weight_law="dead_neurons"))
    def check(model):
        assert len(_linears(model)) >= 2

    check()


def test_heavy_tailed_law_has_student_t2_tails():
    # One deterministic 10^5-weight layer. For Student-t with 2 dof,
    # P(|T| > 10) = 1 - 10 / sqrt(102) = 0.00985; a Gaussian has 1.5e-23. The count of
    # exceedances is Binomial(10^5, 0.00985): mean 985, sd 31, so [700, 1300] is +-9 sd
    # (false-failure rate < 1e-15; fixed seed, so deterministic).
    net = build_relu_network((1000, 100), weight_law="heavy_tailed", seed=11)
    t = net[0].weight.double() / math.sqrt(2.0 / 1000)
    assert bool(torch.isfinite(t).all())
    assert float(t.abs().max()) <= 1e4
    count = int((t.abs() > 10).sum())
    assert 700 <= count <= 1300, count


def test_gaussian_law_is_he_scaled():
    # 10^5 N(0, 2/500) weights: the relative sd of the sample sd is 1/sqrt(2 * 10^5) = 0.22%,
    # so +-1.5% is 6.7 sd: false-failure rate ~ 2e-11 (normal approximation, chi-square with
    # 10^5 dof); the seed is fixed, so the outcome is in fact deterministic.
    net = build_relu_network((500, 200), weight_law="gaussian", seed=4)
    sd = float(net[0].weight.std())
    assert abs(sd / math.sqrt(2.0 / 500) - 1.0) < 0.015


@given(relu_networks())
def test_every_law_is_finite(model):
    for p in model.parameters():
        assert bool(torch.isfinite(p).all())


@pytest.mark.parametrize("law", WEIGHT_LAWS)
def test_every_law_builds_and_is_finite_at_larger_size(law):
    net = build_relu_network((64, 48, 32, 10), weight_law=law, seed=123)
    for p in net.parameters():
        assert bool(torch.isfinite(p).all())
    assert net(make_inputs(16, 64, seed=1)).shape == (16, 10)


# ------------------------------------------------------------------ reproducibility


@given(relu_networks(), st.sampled_from([torch.float32, torch.float64]))
def test_same_seed_same_weights(model, dtype):
    info = network_draw(model)
    again = build_relu_network(
        info.sizes, bias=info.bias, weight_law=info.weight_law, dtype=info.dtype, seed=info.seed
    )
    for p, q in zip(model.parameters(), again.parameters(), strict=True):
        assert torch.equal(p, q)
    # the float32 network of a seed is the float64 one rounded
    other = build_relu_network(
        info.sizes, bias=info.bias, weight_law=info.weight_law, dtype=dtype, seed=info.seed
    )
    for p, q in zip(model.parameters(), other.parameters(), strict=True):
        assert torch.equal(p.to(torch.float32), q.to(torch.float32))


def test_different_seeds_differ():
    a = build_relu_network((5, 6, 3), seed=1)
    b = build_relu_network((5, 6, 3), seed=2)
    assert not torch.equal(a[0].weight, b[0].weight)


def test_global_rng_is_untouched():
    state = torch.get_rng_state()
    build_relu_network((8, 8, 8), weight_law="dead_neurons", seed=3)
    make_inputs(10, 8, distribution="with_zero_rows", seed=3)
    assert torch.equal(state, torch.get_rng_state())


# ------------------------------------------------------------------ inputs


@given(
    st.integers(1, 12).flatmap(
        lambda d: st.tuples(
            st.just(d),
            st.sampled_from(INPUT_DISTRIBUTIONS),
            st.sampled_from([torch.float32, torch.float64]),
        )
    ),
    st.data(),
)
def test_input_batches_promises(params, data):
    d, dist, dtype = params
    x = data.draw(input_batches(d, distribution=dist, dtype=dtype))
    assert x.ndim == 2 and x.shape[1] == d and 1 <= x.shape[0] <= 32
    assert x.dtype == dtype
    assert bool(torch.isfinite(x).all())
    if dist in ("nonnegative", "with_zero_rows"):
        assert bool((x >= 0).all())
    if dist == "with_zero_rows":
        assert bool((x == 0).all(dim=1).any())


def test_signed_inputs_have_both_signs_and_nonnegative_have_zeros():
    x = make_inputs(200, 10, distribution="signed", seed=0)
    assert bool((x < 0).any()) and bool((x > 0).any())
    y = make_inputs(200, 10, distribution="nonnegative", seed=0)
    frac_zero = float((y == 0).double().mean())
    # Bernoulli(0.3) zeros over 2000 entries: the count is Binomial(2000, 0.3) (sd 0.0102 as
    # a fraction); the exact two-sided tail outside [0.24, 0.36] is 5.0e-9, the false-failure
    # rate. The seed is fixed, so the outcome is in fact deterministic.
    assert 0.24 < frac_zero < 0.36


@given(network_and_inputs(dtype=st.sampled_from([torch.float32, torch.float64])))
def test_network_and_inputs_fit_together(model_x):
    model, x = model_x
    assert x.shape[1] == layer_widths(model)[0]
    assert x.dtype == model[0].weight.dtype
    y = model(x)
    assert y.shape == (x.shape[0], layer_widths(model)[-1])
    assert bool(torch.isfinite(y).all())


# ------------------------------------------------------------------ compression parameters


@given(compression_params())
def test_compression_params_ranges(p):
    assert set(p) == {"eps", "delta", "K", "keep", "method", "include_kappa", "tight"}
    assert 0 < p["eps"] < 1 and 0 < p["delta"] < 1
    assert p["K"] > 0 and 0 < p["keep"] <= 1
    assert p["method"] in METHODS
    assert isinstance(p["include_kappa"], bool) and isinstance(p["tight"], bool)


@given(compression_params(eps=0.3, method=st.sampled_from(["l1", "l2"]), include_kappa=False))
def test_compression_params_overrides(p):
    assert p["eps"] == 0.3 and p["method"] in ("l1", "l2") and p["include_kappa"] is False


# ------------------------------------------------------------------ bad arguments


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: relu_networks(depth=0), "depth must be an integer >= 1"),
        (lambda: relu_networks(weight_law="uniform"), "weight_law must be one of"),
        (lambda: relu_networks(widths=[3, 0]), "widths must be an integer >= 1"),
        (lambda: relu_networks(widths=[3, 4], depth=2), "depth must equal len"),
        (lambda: relu_networks(widths="3,4"), "widths must be an int"),
        (
            lambda: relu_networks(widths=[3], depth=st.integers(1, 3)),
            "depth must be None or an int",
        ),
        (lambda: relu_networks(dtype=torch.float16), "dtype must be"),
        (lambda: relu_networks(seed=-1), "seed must be an integer"),
        (lambda: relu_networks(bias=1), "bias must be"),
        (lambda: input_batches(0), "in_features must be an integer >= 1"),
        (lambda: input_batches(3, distribution="normal"), "distribution must be one of"),
        (lambda: input_batches(3, scale=0.0), "scale must be"),
        (lambda: make_inputs(0, 3), "n must be an integer >= 1"),
        (lambda: compression_params(eps=1.0), "eps must be"),
        (lambda: compression_params(delta=0.0), "delta must be"),
        (lambda: compression_params(K=-1.0), "K must be"),
        (lambda: compression_params(K=1.0), "K must exceed 1: Assumption 1 asks"),
        (lambda: compression_params(keep=0.0), "keep must be"),
        (lambda: compression_params(method="random"), "method must be one of"),
        (lambda: compression_params(include_kappa=0), "include_kappa must be"),
        (lambda: build_relu_network((3, 0)), "arch must contain only integers"),
        (lambda: layer_widths(nn.ReLU()), "at least one torch.nn.Linear"),
        (
            lambda: layer_widths(nn.Sequential(nn.Linear(2, 3), nn.Linear(4, 1))),
            "do not chain",
        ),
    ],
)
def test_bad_arguments_raise_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
