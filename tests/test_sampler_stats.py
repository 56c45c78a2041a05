"""Statistical and structural properties of the sampler.

Each statistical assertion states its false-failure rate (<= 1e-6 in total per test),
derived in the comment next to it; all seeds are fixed.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from netcoreset.sampler import compress, empirical_sensitivity, multinomial_counts, sparsify_part

from _stats import FALSE_FAILURE_RATE, bernstein_deviation, binomial_acceptance


def _mlp(widths, seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    mods = []
    for i in range(len(widths) - 1):
        lin = nn.Linear(widths[i], widths[i + 1], dtype=dtype)
        with torch.no_grad():
            lin.weight.copy_(
                torch.randn(lin.weight.shape, generator=g, dtype=dtype) / widths[i] ** 0.5
            )
            lin.bias.copy_(0.1 * torch.randn(lin.bias.shape, generator=g, dtype=dtype))
        mods.append(lin)
        if i < len(widths) - 2:
            mods.append(nn.ReLU())
    return nn.Sequential(*mods)


def test_multinomial_counts_have_the_right_law():
    # Replicate one row N times. Summed over replicates, count j is Binomial(N m, q_j) exactly
    # (a sum of independent binomials with the same p). Exact two-sided acceptance region at
    # rate/n per coordinate: union bound over n coordinates gives rate <= 1e-6.
    q = torch.tensor([0.5, 0.2, 0.15, 0.1, 0.05, 0.0], dtype=torch.float64)
    n_rep, m = 2000, 37
    g = torch.Generator().manual_seed(0)
    counts = multinomial_counts(q.expand(n_rep, -1).contiguous(), torch.full((n_rep,), m), g)
    assert torch.all(counts.sum(dim=1) == m)
    assert torch.all(counts[:, -1] == 0)  # zero probability is never drawn
    totals = counts.sum(dim=0)
    per = FALSE_FAILURE_RATE / (len(q) - 1)
    for j in range(len(q) - 1):
        lo, hi = binomial_acceptance(n_rep * m, float(q[j]), per)
        assert lo <= totals[j].item() <= hi, (j, totals[j].item(), lo, hi)


def test_reweighting_is_unbiased():
    # w_hat_j = c_j w_j / (m q_j) is a sum of m i.i.d. terms in [0, w_j / (m q_j)] with
    # variance per term (w_j/(m q_j))^2 q_j (1 - q_j). Over N replicates the total is a sum of
    # N m such terms; Bernstein at rate/n per coordinate (union bound) gives the tolerance.
    w = torch.tensor([[3.0, 1.0, 0.5, 0.25, 2.0]], dtype=torch.float64)
    q = torch.tensor([[0.4, 0.1, 0.05, 0.05, 0.4]], dtype=torch.float64)
    n_rep, m = 4000, 11
    g = torch.Generator().manual_seed(1)
    w_hat = sparsify_part(
        w.expand(n_rep, -1).contiguous(),
        q.expand(n_rep, -1).contiguous(),
        torch.full((n_rep,), m),
        g,
    )
    mean = w_hat.mean(dim=0)
    per = FALSE_FAILURE_RATE / w.shape[1]
    for j in range(w.shape[1]):
        b = float(w[0, j] / (m * q[0, j]))
        var = b * b * float(q[0, j] * (1 - q[0, j]))
        tol = bernstein_deviation(n_rep * m, var, b, per) / n_rep
        assert abs(mean[j].item() - w[0, j].item()) <= tol, (j, mean[j].item(), tol)


def test_sensitivity_invariants_on_a_trained_like_net():
    torch.manual_seed(0)
    net = _mlp([20, 30, 10, 4])
    x = torch.rand(64, 20)
    a = x
    for layer in [net[0], net[2], net[4]]:
        sens = empirical_sensitivity(layer.weight, layer.bias, a)
        for s, total in (
            (sens.positive, sens.total_positive),
            (sens.negative, sens.total_negative),
        ):
            assert torch.all((s >= 0) & (s <= 1))
            active = total > 0
            assert torch.all(total[active] >= 1 - 1e-5)  # sum_j g_j(x) = 1 at an active x
        qp, qn = sens.probabilities()
        for q, total in ((qp, sens.total_positive), (qn, sens.total_negative)):
            sums = q.sum(dim=1)
            torch.testing.assert_close(sums[total > 0], torch.ones_like(sums[total > 0]))
        a = torch.relu(layer(a))


@pytest.mark.parametrize(
    "method", ["corenet", "corenet+", "corenet++", "uniform", "l1", "l2", "magnitude"]
)
def test_nnz_never_grows_and_original_untouched(method):
    net = _mlp([30, 40, 20, 5], seed=2)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    x = torch.rand(300, 30)
    res = compress(net, x, keep=0.3, method=method, seed=3)
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k]), f"{k} was modified in place"
    assert res.nnz <= res.nnz_original
    for layer in res.report.layers:
        assert layer.nnz_after <= layer.nnz_before


def test_same_seed_same_result_bit_for_bit():
    net = _mlp([30, 40, 20, 5], seed=4)
    x = torch.rand(300, 30)
    for kwargs in ({"keep": 0.2}, {"eps": 0.5}, {"keep": 0.2, "method": "corenet++"}):
        r1 = compress(net, x, seed=11, **kwargs)
        r2 = compress(net, x, generator=torch.Generator().manual_seed(11), **kwargs)
        r3 = compress(net, x, seed=12, **kwargs)
        s1, s2, s3 = (r.model.state_dict() for r in (r1, r2, r3))
        assert all(torch.equal(s1[k], s2[k]) for k in s1)
        assert any(not torch.equal(s1[k], s3[k]) for k in s1)


def test_budget_mode_hits_keep_on_784_300_100_10():
    net = _mlp([784, 300, 100, 10], seed=5)
    x = torch.rand(500, 784)
    for keep in (0.05, 0.1, 0.3):
        res = compress(net, x, keep=keep, seed=0, certificate="paper")
        target = keep * res.nnz_original
        # The bisection targets the expectation: deterministic, within 1%.
        assert abs(res.report.expected_nnz - target) <= 0.01 * target
        # Realised count: per part, the distinct-edge indicators are negatively associated
        # (multinomial occupancy), so Bernstein applies with variance <= sum p(1-p) <= E and
        # range 1: false-failure rate 1e-6.
        tol = bernstein_deviation(1, res.report.expected_nnz, 1.0, FALSE_FAILURE_RATE)
        assert abs(res.nnz - res.report.expected_nnz) <= tol
        # the certificate asked for is computed (on this random net the held-out points
        # charge the cancellation event so much that it may certify nothing)
        assert res.report.certificate == "paper" and res.report.certified_delta is not None


@pytest.mark.parametrize("method", ["uniform", "l1", "l2", "magnitude", "svd"])
def test_baselines_use_the_same_budget(method):
    net = _mlp([784, 300, 100, 10], seed=5)
    x = torch.rand(200, 784)
    res = compress(net, x, keep=0.1, seed=0, method=method)
    target = 0.1 * res.nnz_original
    # Sampling baselines share one integer m per layer: the last layer (10 rows) moves in
    # steps of about 10 edges; the total is still within 2% of the budget in expectation
    # and realised within the Bernstein tolerance (rate 1e-6) of it.
    tol = 0.02 * target + bernstein_deviation(1, target, 1.0, FALSE_FAILURE_RATE)
    assert abs(res.report.parameters - target) <= tol
    assert res.certified_eps is None


def test_guarantee_mode_on_784_300_100_10_keeps_almost_everything():
    net = _mlp([784, 300, 100, 10], seed=6)
    x = torch.rand(200, 784)
    res = compress(net, x, eps=0.5, delta=0.1, seed=0)
    # kappa ~ 190: the theorem's draws dwarf the fan-in; (almost) every weight is kept.
    assert res.report.kappa > 150
    assert res.nnz / res.nnz_original > 0.95
    assert res.report.theorem_nnz_bound >= res.nnz_original
    # on random data most held-out inputs exceed Delta-hat: the certificate charges it
    rep = res.report
    total = sum(charge for charge, _ in rep.delta_charges.values())
    assert rep.certified_delta == pytest.approx(min(1.0, total), rel=1e-12)
    assert res.certified_eps is None or res.certified_eps <= 0.5


def test_corenet_plus_prunes_dead_neurons_without_changing_outputs_on_s():
    net = _mlp([10, 20, 5], seed=7)
    with torch.no_grad():
        net[0].weight[:4] = -1.0  # four neurons that never fire on non-negative inputs
        net[0].bias[:4] = -1.0
    x = torch.rand(100, 10)
    # S = all of x (sensitivity_set_size=100), so "inactive on S" means inactive on every x here.
    res = compress(
        net,
        x,
        eps=0.9,
        delta=0.1,
        method="corenet+",
        seed=0,
        K=2.0,  # S takes all 100 points: none is left to estimate K
        include_kappa=False,
        draw_scale=1e6,
        sensitivity_set_size=100,
    )
    assert res.report.layers[0].pruned_neurons >= 4
    assert res.model[0].out_features <= 16
    # With a million times the draws the sampled net is all but exact; pruning changed nothing.
    torch.testing.assert_close(res.model(x), net(x), rtol=1e-3, atol=1e-4)


def test_corenet_plus_plus_reports_candidates():
    net = _mlp([20, 30, 5], seed=8)
    x = torch.rand(200, 20)
    res = compress(net, x, keep=0.3, method="corenet++", seed=0, tau=3)
    assert res.report.tau == 3 and res.report.holdout_set_size == res.report.sensitivity_set_size
    for layer in res.report.layers:
        assert layer.chosen_candidates is not None and len(layer.chosen_candidates) == 3
        assert sum(layer.chosen_candidates) == 2 * layer.out_features  # one choice per part


def test_draw_scale_scales_draws():
    net = _mlp([20, 30, 5], seed=9)
    x = torch.rand(200, 20)
    r1 = compress(net, x, eps=0.5, seed=0, include_kappa=False)
    r2 = compress(net, x, eps=0.5, seed=0, include_kappa=False, draw_scale=[0.5, 2.0])
    l1, l2 = r1.report.layers, r2.report.layers
    assert np.isclose(l2[0].draws_max, np.ceil(0.5 * l1[0].draws_max), atol=1)
    assert np.isclose(l2[1].draws_max, np.ceil(2.0 * l1[1].draws_max), atol=1)
    assert r2.certified_eps != r1.certified_eps


def test_compressed_activations_variant():
    net = _mlp([20, 30, 10, 4], seed=10)
    x = torch.rand(200, 20)
    orig = compress(net, x, eps=0.5, seed=0, include_kappa=False, allocation="uniform")
    var = compress(
        net, x, eps=0.5, seed=0, include_kappa=False, allocation="uniform", activations="compressed"
    )
    assert var.report.activations == "compressed" and orig.report.activations == "original"
    # The first layer sees the same inputs either way: identical draws and weights there.
    assert var.report.layers[0].draws_max == orig.report.layers[0].draws_max
    assert torch.equal(var.model[0].weight, orig.model[0].weight)
    # Later layers use the compressed activations: their sensitivity sums change.
    assert var.report.layers[1].sensitivity_sum != orig.report.layers[1].sensitivity_sum
    pp = compress(net, x, keep=0.3, seed=0, method="corenet++", activations="compressed")
    assert pp.nnz <= pp.nnz_original
