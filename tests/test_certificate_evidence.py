"""Certificates that never overstate: the held-out points' evidence is charged in the certified
delta (Assumption 1 at a given K, the cancellation event behind kappa), the coverage rank is
fixed before V is seen (or its choice paid for), Delta-hat does not depend on the model's
dtype, and the held-out search returns what its documentation says.

False-failure rates: every test here is deterministic (fixed seeds); where a measured rate is
compared with a certificate, the comparison uses the measured rate's Clopper-Pearson lower
bound at level 1e-6, so a correct certificate fails it with probability at most 1e-6 over the
fresh inputs (which are fixed by their seed, so the test's outcome never changes between runs).
"""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pytest
import torch
from scipy import stats
from torch import nn

from netcoreset.bounds.certificate import binomial_upper_bound
from netcoreset.sampler import compress
from netcoreset.sampler.certificate import estimate_coverage, holdout_failures
from netcoreset.verification.networks import build_relu_network

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

RATE = 1e-6


def _cluster_points(n: int, seed: int, clusters: int = 40, dim: int = 2) -> torch.Tensor:
    """Each point lives on the ``dim`` coordinates of one of ``clusters`` equally likely
    clusters: a point of a cluster that S misses uses only edges that are zero on all of S."""
    gen = torch.Generator().manual_seed(seed)
    which = torch.randint(0, clusters, (n,), generator=gen)
    x = torch.zeros(n, clusters * dim, dtype=torch.float64)
    values = torch.rand(n, dim, generator=gen, dtype=torch.float64) + 0.5
    for k in range(dim):
        x[torch.arange(n), which * dim + k] = values[:, k]
    return x


def _cluster_net() -> nn.Sequential:
    gen = torch.Generator().manual_seed(0)
    net = nn.Sequential(nn.Linear(80, 16), nn.ReLU(), nn.Linear(16, 4)).double()
    with torch.no_grad():
        net[0].weight.copy_(torch.rand(16, 80, generator=gen, dtype=torch.float64))
        net[0].bias.zero_()
        net[2].weight.copy_(torch.rand(4, 16, generator=gen, dtype=torch.float64))
        net[2].bias.fill_(0.1)
    return net


def _cp_lower(failures: int, n: int, rate: float) -> float:
    """One-sided Clopper-Pearson lower bound: P(p < lower) <= rate."""
    return 0.0 if failures == 0 else float(stats.beta.ppf(rate, failures, n - failures + 1))


@pytest.mark.parametrize("certificate", ["paper", "tight"])
def test_a_given_K_does_not_override_the_evidence(certificate):
    # S (36 points) misses about half of the 40 clusters: those inputs violate Assumption 1 at
    # every K, and the compressed network drops every edge they use.
    net, x = _cluster_net(), _cluster_points(600, 1)
    try:
        res = compress(net, x, eps=0.5, delta=0.1, K=2.0, seed=0, certificate=certificate)
    except ValueError:
        return  # a refusal is an admissible answer
    fresh = _cluster_points(2000, 7)
    fails = holdout_failures(res.model, net, fresh, 0.5)
    lower = _cp_lower(fails, 2000, RATE)
    assert lower > 0.3  # the premise: the compressed network fails often
    rep = res.report
    assert rep.certified_delta is not None and rep.certified_delta >= lower
    assert rep.certified_eps is None or "Assumption 1" in rep.certificate_statement
    assert "Assumption 1" in rep.certificate_statement


def _cancelling_net():
    net = build_relu_network([12, 16, 4], weight_law="gaussian", seed=0)
    x = torch.randn(1500, 12, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    return net, x.abs()


@pytest.mark.parametrize("certificate", ["paper", "tight"])
def test_the_cancellation_event_is_charged_from_V(certificate):
    net, x = _cancelling_net()
    rep = compress(net, x, eps=0.5, delta=0.1, seed=0, certificate=certificate).report
    k, n = rep.held_out["cancellation_exceeded"], rep.held_out["points"]
    assert k > 0.2 * n  # the premise: Delta-hat is exceeded far more often than delta/4
    alpha = rep.held_out["cancellation_alpha"]
    assert 0 < alpha <= 0.1
    charge = min(1.0, binomial_upper_bound(k, n, alpha) + alpha)
    assert rep.held_out["cancellation_charge"] == pytest.approx(charge, rel=1e-12)
    assert rep.certified_delta >= charge
    assert "cancellation" in rep.certificate_statement


def test_cancellation_within_its_share_is_not_named():
    net = build_relu_network([6, 8, 3], weight_law="gaussian", seed=4)
    x = torch.rand(400, 6, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    rep = compress(net, x, eps=0.5, delta=0.1, K=2.0, seed=0).report
    k, n = rep.held_out["cancellation_exceeded"], rep.held_out["points"]
    alpha = rep.held_out["cancellation_alpha"]
    if min(1.0, binomial_upper_bound(k, n, alpha) + alpha) <= 0.025:
        assert "cancellation" not in rep.certificate_statement


def _miscoverage(n: int, q: float, p: float, alpha: float) -> float:
    r"""Exact probability that estimate_coverage's certified exceedance is wrong, for values
    that are infinite with probability q and continuous otherwise.

    With v ~ Bin(n, q) infinite values, the rank-k estimate is the (k - v)-th largest of the
    n - v finite values; its upper tail mass U among the finite values is Beta(k - v, n - k + 1),
    and the true exceedance is q + (1 - q) U. The estimate fails when that exceeds its
    certified exceedance e: P(U > (e - q) / (1 - q)).
    """
    total = 0.0
    lo, hi = (int(v) for v in stats.binom.interval(1 - 1e-14, n, q))
    for v in range(max(0, lo), min(n, hi) + 1):
        ratios = np.concatenate([np.full(v, np.inf), np.linspace(1.0, 2.0, n - v)])
        est = estimate_coverage(ratios, p, alpha)
        if est.rank is None or est.exceedance >= 1.0:
            continue  # nothing certified: never wrong
        k, e = est.rank, est.exceedance
        if k <= v:
            total += stats.binom.pmf(v, n, q)  # an infinite K claimed finite: always wrong
            continue
        threshold = (e - q) / (1 - q)
        tail = 1.0 if threshold <= 0 else stats.beta.sf(threshold, k - v, n - k + 1)
        total += stats.binom.pmf(v, n, q) * tail
    return total


@pytest.mark.parametrize("q", [0.002, 0.005, 0.01, 0.02, 0.06])
def test_the_coverage_rank_keeps_its_confidence(q):
    # n, p and alpha of the digits benchmark (849 held-out points, delta = 0.1)
    n, p, alpha = 849, 0.0125, 0.0125
    assert _miscoverage(n, q, p, alpha) <= alpha * (1 + 1e-9)


def test_the_coverage_rank_is_a_ladder_rank_fixed_before_V():
    from netcoreset.bounds.certificate import coverage_ranks, quantile_exceedance

    values = np.concatenate([np.full(50, np.inf), np.linspace(1.0, 2.0, 799)])
    est = estimate_coverage(values, 0.0125, 0.0125)
    ranks = dict(coverage_ranks(849, 0.0125, 0.0125))
    assert sum(ranks.values()) == pytest.approx(0.0125, rel=1e-12)  # the union bound
    assert est.rank == min(k for k in ranks if k > 50) and est.candidates == len(ranks)
    assert est.exceedance == pytest.approx(quantile_exceedance(849, est.rank, ranks[est.rank]))


def test_delta_hat_does_not_depend_on_the_models_dtype():
    gen = torch.Generator().manual_seed(3)
    net32 = nn.Sequential(
        nn.Linear(30, 40), nn.ReLU(), nn.Linear(40, 40), nn.ReLU(), nn.Linear(40, 5)
    )
    with torch.no_grad():
        for m in net32:
            if isinstance(m, nn.Linear):
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) / 4)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) / 4)
    net64 = copy.deepcopy(net32).double()  # the same weights, exactly
    x = torch.rand(500, 30, generator=gen)
    kwargs = {"keep": 0.3, "seed": 0, "certificate": "paper"}  # (without one: no Delta-hat)
    r32 = compress(net32, x, **kwargs).report
    r64 = compress(net64, x.double(), **kwargs).report
    for a, b in zip(r32.layers, r64.layers, strict=True):
        assert a.delta_hat_empirical == pytest.approx(b.delta_hat_empirical, rel=1e-12, abs=0)


def test_the_held_out_search_returns_a_passing_candidate_whose_next_fails():
    net = build_relu_network([12, 16, 4], weight_law="gaussian", seed=0)
    x = torch.randn(900, 12, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = compress(net, x.abs(), eps=0.5, delta=0.1, certificate="holdout", seed=0).report
    h = rep.holdout
    trail = {s: f for s, f in h["evaluated"]}
    assert h["scale"] is not None and trail[h["scale"]] <= h["max_failures"]
    g = round(-math.log2(h["scale"]))
    nxt = 2.0 ** -(g + 1)
    # what the documentation says: the returned candidate passes, and the next smaller scale
    # of the grid was evaluated and failed (or the returned one is the grid's smallest)
    assert g == h["candidates"] - 1 or trail[nxt] > h["max_failures"]


def test_no_certificate_skips_delta_hat_and_keeps_the_draws(monkeypatch):
    # budget mode, uniform allocation, no certificate: Delta-hat feeds nothing, so it is not
    # computed (None in the report) and the compressed model is the one a certified run draws
    from netcoreset.sampler import pipeline

    gen = torch.Generator().manual_seed(5)
    net = nn.Sequential(nn.Linear(20, 30), nn.ReLU(), nn.Linear(30, 5))
    x = torch.rand(300, 20, generator=gen)
    plain = compress(net, x, keep=0.3, seed=0)
    paper = compress(net, x, keep=0.3, seed=0, certificate="paper")
    assert [lay.delta_hat for lay in plain.report.layers] == [None, None]
    assert all(lay.delta_hat_empirical is None for lay in plain.report.layers)
    assert all(lay.delta_hat >= 1.0 for lay in paper.report.layers)
    assert type(plain.report).from_dict(plain.report.to_dict()) == plain.report
    for a, b in zip(plain.model.parameters(), paper.model.parameters(), strict=True):
        assert torch.equal(a, b)
    # the held-out test does not use Delta-hat either: the same result as with it computed
    held = compress(net, x, keep=0.3, seed=0, certificate="holdout", criterion="top1")
    monkeypatch.setattr(pipeline, "needs_cancellation", lambda cfg: True)
    forced = compress(net, x, keep=0.3, seed=0, certificate="holdout", criterion="top1")
    assert held.report.layers[0].delta_hat is None and forced.report.layers[0].delta_hat >= 1
    assert held.certified_eps == forced.certified_eps
    assert held.report.certified_delta == forced.report.certified_delta
    for a, b in zip(held.model.parameters(), forced.model.parameters(), strict=True):
        assert torch.equal(a, b)
