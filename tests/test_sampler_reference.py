"""Reference values computed by hand from the paper's formulas, not from the code.

The layer: w = (1, 2, -1), bias 0.5; S = {x1 = (1, 1, 1), x2 = (3, 0, 1)}.
Augmented inputs (bias activation 1): a(x1) = (1, 1, 1, 1), a(x2) = (3, 0, 1, 1).

Positive part W+ = {0, 1, bias} with weights (1, 2, 0.5):
  x1: z+ = 1 + 2 + 0.5 = 3.5, g = (1/3.5, 2/3.5, 0.5/3.5) = (2/7, 4/7, 1/7)
  x2: z+ = 3 + 0 + 0.5 = 3.5, g = (3/3.5, 0, 0.5/3.5)   = (6/7, 0, 1/7)
  s = (6/7, 4/7, 0, 1/7), S+ = 11/7, q+ = (6/11, 4/11, 0, 1/11).
Negative part W- = {2} with |w| = 1: g = 1 at both points, s- = (0, 0, 1, 0), S- = 1.
Cancellation: z(x1) = 1 + 2 - 1 + 0.5 = 2.5, sum |w a| = 4.5 -> 1.8; z(x2) = 2.5, 4.5 -> 1.8.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from netcoreset.sampler import (
    compress,
    empirical_sensitivity,
    max_times_product,
    max_times_product_reference,
    relative_cancellation,
)

W = torch.tensor([[1.0, 2.0, -1.0]], dtype=torch.float64)
B = torch.tensor([0.5], dtype=torch.float64)
S = torch.tensor([[1.0, 1.0, 1.0], [3.0, 0.0, 1.0]], dtype=torch.float64)


def test_sensitivities_match_hand_computation():
    sens = empirical_sensitivity(W, B, S)
    expected_pos = torch.tensor([[6 / 7, 4 / 7, 0.0, 1 / 7]], dtype=torch.float64)
    expected_neg = torch.tensor([[0.0, 0.0, 1.0, 0.0]], dtype=torch.float64)
    torch.testing.assert_close(sens.positive, expected_pos, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(sens.negative, expected_neg, rtol=1e-12, atol=1e-15)
    assert sens.total_positive.item() == pytest.approx(11 / 7, rel=1e-12)
    assert sens.total_negative.item() == pytest.approx(1.0, rel=1e-12)
    qp, qn = sens.probabilities()
    torch.testing.assert_close(
        qp, torch.tensor([[6 / 11, 4 / 11, 0.0, 1 / 11]], dtype=torch.float64), rtol=1e-12, atol=0
    )
    assert not sens.split_inputs


def test_signed_inputs_use_the_split():
    # x = (1, -2, 0): x+ = (1, 0, 0 | bias 1), x- = (0, 2, 0 | bias 0).
    # Positive part (1, 2, 0.5): at x+ z+ = 1.5, g = (2/3, 0, 1/3); at x- z+ = 4, g = (0, 1, 0).
    sens = empirical_sensitivity(W, B, torch.tensor([[1.0, -2.0, 0.0]], dtype=torch.float64))
    assert sens.split_inputs
    torch.testing.assert_close(
        sens.positive, torch.tensor([[2 / 3, 1.0, 0.0, 1 / 3]], dtype=torch.float64)
    )
    # Negative part {2}: its input is 0 at both points -> z- = 0 -> g = 0, S- = 0 (inactive).
    assert sens.total_negative.item() == 0.0


def test_cancellation_matches_hand_computation():
    assert relative_cancellation(W, B, S).item() == pytest.approx(1.8, rel=1e-12)
    # A point with z = 0 is left out of the mean: w = (1, -1), x = (1, 1) gives z = 0.
    out = relative_cancellation(
        torch.tensor([[1.0, -1.0]]), None, torch.tensor([[1.0, 1.0], [3.0, 1.0]])
    )
    assert out.item() == pytest.approx(2.0)  # only x = (3, 1): (3 + 1) / 2


def test_draw_counts_match_the_sample_size_formula():
    # One layer 3 -> 1: eta = 1, eta* = eta^2 = 1, L - 1 = 1.
    # include_kappa=False: Delta-hat = 1.8, eps_l = eps / (2 * 1 * 1.8).
    # m+ = ceil(8 * (11/7) * K * log(8 * 1 / delta) / eps_l^2), m- = same with S- = 1.
    # K = 2 is given (Assumption 1 needs K > 1; S takes both points, none is left to estimate K).
    net = nn.Sequential(nn.Linear(3, 1)).double()
    with torch.no_grad():
        net[0].weight.copy_(W)
        net[0].bias.copy_(B)
    eps, delta = 0.5, 0.1
    res = compress(
        net, S, eps=eps, delta=delta, K=2.0, include_kappa=False, sensitivity_set_size=2, seed=0
    )
    eps_l = eps / (2 * 1.8)
    m_pos = math.ceil(8 * (11 / 7) * 2.0 * math.log(80) / eps_l**2)
    m_neg = math.ceil(8 * 1.0 * 2.0 * math.log(80) / eps_l**2)
    layer = res.report.layers[0]
    assert (layer.draws_min, layer.draws_max) == (m_neg, m_pos)
    assert layer.eps_layer == pytest.approx(eps_l, rel=1e-12)
    assert layer.delta_hat_empirical == pytest.approx(1.8, rel=1e-12)
    assert layer.sensitivity_sum == pytest.approx(11 / 7 + 1, rel=1e-12)
    # kappa with eta = eta* = 1: lambda* = 0, so kappa = 0 too.
    assert res.report.kappa == 0.0


def test_sensitivity_set_size_formula_and_cap():
    # |S| = ceil(K' log(8 eta n / delta)) with n = max(eta*, largest part) = max(1, 3 + 1) = 4
    # (the union bound of Lemma 1 runs over a part's edges): ceil(3 log(320)) = ceil(17.30) = 18,
    # capped at the 2 points given, with a warning.
    net = nn.Sequential(nn.Linear(3, 1)).double()
    with pytest.warns(UserWarning, match="capped at 2"):
        res = compress(net, S, eps=0.5, delta=0.1, K=2.0, seed=0)
    assert res.report.sensitivity_set_size_requested == 18
    assert res.report.sensitivity_set_size == 2


@pytest.mark.parametrize("chunk", [1, 3, 64])
def test_max_times_product_equals_reference(chunk):
    g = torch.Generator().manual_seed(1)
    U = torch.rand(17, 40, generator=g)
    A = torch.rand(40, 23, generator=g)
    assert torch.equal(max_times_product(U, A, chunk), max_times_product_reference(U, A))


def _float32_layer(rows: int, cols: int, points: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(rows, cols, generator=g) * torch.rand(rows, cols, generator=g)
    b = torch.randn(rows, generator=g)
    a = torch.randn(points, cols, generator=g).clamp(min=0)  # ReLU activations: half zero
    return w, b, a


@pytest.mark.parametrize(("rows", "cols", "kernel"), [(30, 40, "auto"), (30, 40, "torch")])
def test_float32_sensitivities_bound_the_float64_ones_within_the_stated_factor(rows, cols, kernel):
    # A float32 layer's sensitivities are computed in float32 and inflated by
    # rounding_inflation(n), F: each is >= the float64 computation's value for the same
    # weights and activations, and exceeds it by at most F^2 (the rounding in the other
    # direction, (1 + u)^3 / (1 - gamma_n), plus the inflation; 1e-8 covers the second-order
    # terms). Deterministic: no false failures.
    from netcoreset.sampler.sensitivity import compute_dtype, rounding_inflation

    w, b, a = _float32_layer(rows, cols, 25)
    assert compute_dtype(w, b, a) == torch.float32
    s32 = empirical_sensitivity(w, b, a, kernel=kernel)
    s64 = empirical_sensitivity(w.double(), b.double(), a.double(), kernel=kernel)
    factor = rounding_inflation(cols + 1, torch.float32) * (1 + 1e-8) ** 0.5
    for got, ref in ((s32.positive, s64.positive), (s32.negative, s64.negative)):
        assert bool((got >= ref).all())
        assert bool((got <= ref * factor**2).all())
        assert bool(((got > 0) == (ref > 0)).all())  # the same supports
    assert bool((s32.total_positive >= s64.total_positive).all())
    assert bool((s32.total_positive <= s64.total_positive * factor**2).all())


def test_float32_sensitivities_of_a_large_layer_are_stored_rounded_up():
    # Above FLOAT64_STORAGE_LIMIT entries the (inflated) values are stored in float32,
    # rounded up: still >= the float64 computation's.
    from netcoreset.sampler import sensitivity

    w, b, a = _float32_layer(8, 40, 6, seed=2)
    old = sensitivity.FLOAT64_STORAGE_LIMIT
    try:
        sensitivity.FLOAT64_STORAGE_LIMIT = 10
        s32 = empirical_sensitivity(w, b, a)
    finally:
        sensitivity.FLOAT64_STORAGE_LIMIT = old
    s64 = empirical_sensitivity(w.double(), b.double(), a.double())
    assert s32.signed.dtype == torch.float32
    assert bool((s32.positive.double() >= s64.positive).all())
    assert bool((s32.negative.double() >= s64.negative).all())


def test_float32_layers_near_the_end_of_float32s_range_are_computed_in_float64():
    # Products below float32's normal range would lose the relative rounding bound: such a
    # layer is computed exactly as a float64 one (then rounded up to its storage).
    from netcoreset.sampler.sensitivity import compute_dtype

    w, b, a = _float32_layer(6, 5, 4, seed=3)
    tiny_w, tiny_a = w * 1e-25, a * 1e-15
    assert compute_dtype(tiny_w, b, tiny_a) == torch.float64
    got = empirical_sensitivity(tiny_w, b, tiny_a)
    ref = empirical_sensitivity(tiny_w.double(), b.double(), tiny_a.double())
    assert torch.equal(got.signed, ref.signed)
    assert compute_dtype(w.double(), b.double(), a.double()) == torch.float64
    assert compute_dtype(w, b, a, upper_bound_power=16) == torch.float64
