"""Theory fidelity in compress: K > 1 or estimated, Assumption-1 violations reported, CoreNet++'s
union bound, float64 cancellation, |S| with any layer's bias, signed inputs counted, the tight
and held-out certificates, and certificates that say when they mean nothing.

Every test here is deterministic (fixed seeds, exact comparisons with independent formulas):
the false-failure rate is 0.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from netcoreset.bounds import (
    candidate_log_ratio,
    effective_eta,
    error_recursion,
    max_hidden_width,
    num_neurons,
    sensitivity_set_size,
)
from netcoreset.sampler import (
    build_sequential,
    compress,
    empirical_sensitivity,
    estimate_K,
    relative_cancellation,
)
from netcoreset.sampler.sensitivity import rounding_inflation
from netcoreset.verification import SamplerCompressor, check_guarantee
from netcoreset.verification.cli import main
from netcoreset.verification.networks import build_relu_network

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _net_and_data(sizes=(12, 16, 4), n=600, seed=0, signed=False):
    net = build_relu_network(list(sizes), weight_law="gaussian", seed=seed)
    gen = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(n, sizes[0], generator=gen, dtype=torch.float64)
    return net, (x if signed else x.abs())


# --- item 1: K must exceed 1, and the K used is reported ---------------------------------------


def test_K_at_most_one_is_refused():
    net, x = _net_and_data()
    for K in (1.0, 0.5):
        with pytest.raises(ValueError, match="K must exceed 1"):
            compress(net, x, eps=0.5, K=K, seed=0)


def test_default_K_is_a_held_out_estimate_and_reported():
    net, x = _net_and_data()
    res = compress(net, x, eps=0.5, seed=0)
    rep = res.report
    cover = rep.held_out["coverage"]
    assert rep.K is not None and rep.K > 1.0 and rep.K == max(cover["K"], 1.0)
    assert "held-out coverage estimate" in rep.K_source
    assert rep.certification_set_size == cover["points"] == 600 - rep.sensitivity_set_size
    # certified exceedance and confidence: delta/8 each, the Lemma-1 share delta/4 in total
    assert cover["exceedance"] <= 0.0125 + 1e-12 and cover["alpha"] == pytest.approx(0.0125)
    given = compress(net, x, eps=0.5, K=3.0, seed=0).report
    assert given.K == 3.0 and given.K_source.startswith("given")


def test_no_K_and_no_held_out_point_is_refused_in_guarantee_mode():
    net, x = _net_and_data(n=40)
    with pytest.raises(ValueError, match="needs K > 1 or held-out points"):
        compress(net, x, eps=0.5, sensitivity_set_size=40, seed=0)


# --- item 2: inputs that use edges unseen on S are reported ----------------------------------


def _unseen_feature_setting():
    # Feature 0 is zero except on 6 of 400 points; with seed 1 none of them is in S (asserted
    # below), so every first-layer edge from feature 0 has s_j = 0 and each of those 6 points,
    # all held out, activates an edge of zero sensitivity: Lambda(x) = inf (Assumption 1 fails).
    net = build_relu_network([6, 8, 3], weight_law="gaussian", seed=4)
    gen = torch.Generator().manual_seed(5)
    x = torch.rand(400, 6, generator=gen, dtype=torch.float64)
    x[:, 0] = 0.0
    x[::67, 0] = 1.0  # rows 0, 67, ..., 335
    return net, x


def test_assumption_violations_are_counted_and_reported():
    net, x = _unseen_feature_setting()
    with pytest.warns(UserWarning, match="Assumption 1 fails on 6 of"):
        res = compress(net, x, eps=0.5, seed=1)
    perm = torch.randperm(400, generator=torch.Generator().manual_seed(1))
    in_s = set(perm[: res.report.sensitivity_set_size].tolist())
    assert not in_s & set(range(0, 400, 67))  # the premise: S misses the 6 points
    assert res.report.held_out["coverage"]["violating_points"] == 6
    assert any(w.startswith("Assumption 1 fails on 6 of") for w in res.report.warnings)


def test_violations_reach_the_cli_and_the_checker(tmp_path, capsys):
    net, x = _unseen_feature_setting()
    lins = [m for m in net if isinstance(m, nn.Linear)]
    net = build_sequential([m.weight.float() for m in lins], [m.bias.float() for m in lins])
    path = tmp_path / "model.pt"
    torch.save(net, path)  # a plain Sequential: loads without unpickling code
    np.save(tmp_path / "x.npy", x.float().numpy())
    argv = ["compress", str(path), "--data", str(tmp_path / "x.npy"), "--eps", "0.5", "--seed", "1"]
    with warnings.catch_warnings():
        warnings.simplefilter("always")  # the module's filter would hide a duplicate
        code = main(argv)
    captured = capsys.readouterr()
    out = captured.out
    assert code == 0 and "WARNING: Assumption 1 fails on" in out
    # shown once: the report's line, not also the Python warning on stderr
    assert (out + captured.err).count("Assumption 1 fails on") == 1
    assert "K = " in out and "held-out coverage" in out and "certified eps = " in out
    check = check_guarantee(
        net, x.float(), SamplerCompressor("corenet", eps=0.5), 0.5, 0.1, trials=3, seed=0
    )
    assert any("Assumption 1 fails" in w for w in check.compressor_warnings)
    assert "WARNING" in check.summary() and "trials] Assumption 1 fails" in check.summary()


def test_estimate_K_is_infinite_when_an_edge_admits_no_finite_K():
    # Three inputs; input 2 is non-zero on 2 of 12 points only: F_j(0) = 10/12 > exp(-1/3),
    # so no K satisfies Assumption 1 for its edges; the estimate must say so (not skip them).
    lin = nn.Linear(3, 2, bias=False)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0, 2.0, 1.0], [0.5, 1.0, 3.0]]))
    x = torch.rand(12, 3, generator=torch.Generator().manual_seed(0)) + 0.5
    x[2:, 2] = 0.0
    est = estimate_K([lin], x)
    assert est.K == math.inf and est.violating_edges == 2 and not est.assumption_holds


# --- item 3: CoreNet++ pays the union bound over its candidates ------------------------------


def test_corenet_plus_plus_draws_follow_the_union_bound():
    net, x = _net_and_data()
    tau = 4
    plus = compress(net, x, eps=0.5, K=2.0, method="corenet+", seed=0).report
    amp = compress(net, x, eps=0.5, K=2.0, method="corenet++", tau=tau, seed=0).report
    eta = plus.eta_effective
    assert amp.eta_effective == eta * tau  # the log term is log(8 eta tau / delta)
    rho = candidate_log_ratio(eta, 0.1, tau)
    for a, p in zip(amp.layers, plus.layers, strict=True):
        # same S and sensitivities (the same permutation of the data), draws grow by rho
        assert a.draws_max >= p.draws_max
        assert a.draws_max == pytest.approx(rho * p.draws_max, rel=1e-6, abs=1.0)


# --- item 4: cancellation in float64 whatever the model's dtype ------------------------------


def test_cancellation_is_computed_in_float64():
    gen = torch.Generator().manual_seed(0)
    w64 = torch.randn(1, 200, generator=gen, dtype=torch.float64)
    a64 = torch.rand(5, 200, generator=gen, dtype=torch.float64)
    w32 = w64.float()
    a32 = a64.float()
    # a bias that nearly cancels the pre-activation of the first point (exact in float32)
    b32 = (-(a32[:1].double() @ w32.double().T)[0] + 1e-4).float()
    exact = relative_cancellation(w32.double(), b32.double(), a32.double())
    got = relative_cancellation(w32, b32, a32)
    assert got.dtype == torch.float64
    torch.testing.assert_close(got, exact, rtol=1e-12, atol=0.0)
    # the sensitivities of a float32 layer are computed in float32 and rounded up by
    # rounding_inflation (Delta-hat is not): upper bounds of the float64 ones, within F^2
    s32 = empirical_sensitivity(w32, b32, a32)
    s64 = empirical_sensitivity(w32.double(), b32.double(), a32.double())
    factor = rounding_inflation(201, torch.float32) ** 2 * (1 + 1e-8)
    assert bool((s32.total_positive >= s64.total_positive).all())
    assert bool((s32.total_positive <= s64.total_positive * factor).all())


# --- item 5: |S| counts any layer's bias --------------------------------------------------------


def test_sensitivity_set_size_counts_a_later_layers_bias():
    gen = torch.Generator().manual_seed(0)
    net = nn.Sequential(nn.Linear(10, 10, bias=False), nn.ReLU(), nn.Linear(10, 3)).double()
    x = torch.rand(300, 10, generator=gen, dtype=torch.float64)
    rep = compress(net, x, keep=0.5, seed=0).report
    # parts: 10 edges in layer 1 (no bias), 10 + 1 in layer 2 (bias): n = max(eta*, 11) = 11
    assert rep.sensitivity_set_size_requested == sensitivity_set_size(13, 11, 0.1)
    assert sensitivity_set_size(13, 11, 0.1) != sensitivity_set_size(13, 10, 0.1)


# --- item 6: signed inputs double the first layer's events ----------------------------------


def test_signed_inputs_count_twice_in_the_union_bound():
    net, x = _net_and_data(signed=True)
    res = compress(net, x, eps=0.5, K=2.0, include_kappa=False, seed=0)
    rep = res.report
    arch = (12, 16, 4)
    eta_eff = effective_eta(arch, signed_inputs=True)
    assert rep.split_inputs and rep.eta_effective == eta_eff == num_neurons(arch) + 16
    n = max(max_hidden_width(arch), 13)
    assert rep.sensitivity_set_size_requested == sensitivity_set_size(eta_eff, n, 0.1)
    # draws of the output layer: ceil(8 S K log(8 eta_eff / delta) / eps_l^2), S from the
    # report's S (the first |S| points of the seeded permutation)
    perm = torch.randperm(600, generator=torch.Generator().manual_seed(0))
    s_pts = x[perm[: rep.sensitivity_set_size]]
    hidden = torch.relu(net[0](s_pts))
    sens = empirical_sensitivity(net[2].weight, net[2].bias, hidden)
    totals = torch.cat([sens.total_positive, sens.total_negative]).numpy()
    eps_l = rep.layers[1].eps_layer
    expected = np.ceil(8 * totals * 2.0 * math.log(8 * eta_eff / 0.1) / eps_l**2)
    active = expected[totals > 0]
    assert rep.layers[1].draws_max == pytest.approx(active.max(), rel=1e-12)
    assert rep.layers[1].draws_min == pytest.approx(active.min(), rel=1e-12)


# --- item 10: the tight and held-out certificates ------------------------------------------


def test_tight_certificate_is_the_error_recursion_and_needs_fewer_draws():
    net, x = _net_and_data(sizes=(12, 16, 16, 4))
    paper = compress(net, x, eps=0.5, seed=0).report
    tight = compress(net, x, eps=0.5, certificate="tight", seed=0).report
    assert tight.certificate == "tight" and tight.K == paper.K
    assert tight.certified_eps is not None and tight.certified_eps <= 0.5
    # the certified delta is the union bound of what was charged (the held-out evidence on
    # Assumption 1 and on the cancellation event included), not the requested delta
    total = sum(charge for charge, _ in tight.delta_charges.values())
    assert tight.certified_delta == pytest.approx(min(1.0, total), rel=1e-12)
    per_layer = [lay.certified_eps for lay in tight.layers]
    assert tight.certified_eps == per_layer[-1]
    # R_l = Dhat^l (e_l + (1 + e_l) R_{l-1}) >= Dhat^l R_{l-1}: the per-layer values are the
    # recursion's, not the paper's max_l 2(L-1) Dhat^{l->} e_l
    dh = [lay.delta_hat for lay in tight.layers]
    for idx in (1, 2):
        assert per_layer[idx] >= dh[idx] * per_layer[idx - 1] * (1 - 1e-12)
    e = [per_layer[0] / dh[0]]
    assert error_recursion(e, dh[:1]) == pytest.approx(per_layer[0], rel=1e-12)
    for lay_t, lay_p in zip(tight.layers, paper.layers, strict=True):
        assert lay_t.draws_max < lay_p.draws_max  # C = K instead of 3K, exact Bernstein
    assert tight.nnz <= paper.nnz


def test_holdout_certificate_guarantee_mode():
    net, x = _net_and_data(n=900)
    res = compress(net, x, eps=0.5, delta=0.1, certificate="holdout", seed=0)
    rep = res.report
    h = rep.holdout
    assert rep.certificate == "holdout" and rep.certified_eps == 0.5 and rep.K is None
    assert h["failures"] <= h["max_failures"] and rep.certified_delta <= 0.1
    assert h["candidates"] == 64 and h["points"] == rep.certification_set_size
    assert h["scale"] in [s for s, _ in h["evaluated"]]
    assert type(rep).from_dict(json.loads(rep.to_json())) == rep  # the report round-trips
    with pytest.raises(ValueError, match="needs at least"):
        compress(net, x[:60], eps=0.5, certificate="holdout", seed=0)


def test_holdout_certificate_budget_mode_is_an_order_statistic():
    net, x = _net_and_data(n=900)
    rep = compress(net, x, keep=0.5, certificate="holdout", seed=0).report
    assert rep.certified_eps is not None and rep.certified_delta <= 0.1
    assert rep.holdout["failures"] <= rep.holdout["max_failures"]


# --- issue 11: certificates that mean nothing say so -----------------------------------------


def test_certificate_below_rounding_is_flagged():
    net, x = _net_and_data()
    rep = compress(net.float(), x.float(), keep=1.0, seed=0, certificate="paper").report
    assert rep.certified_eps is not None and rep.rounding_eps is not None
    assert rep.certified_eps < rep.rounding_eps
    assert "not observable" in rep.certificate_statement


def test_capped_sensitivity_set_raises_the_certified_delta():
    net, x = _net_and_data(n=20)  # the theorem asks for 31 points
    rep = compress(net, x, eps=0.5, K=2.0, seed=0).report
    assert rep.sensitivity_set_size < rep.sensitivity_set_size_requested
    assert rep.certified_delta is not None and rep.certified_delta > 0.1
    if rep.certified_eps is not None:
        assert "NOT reached" in rep.certificate_statement
    else:
        assert rep.certificate_statement.startswith("nothing")
