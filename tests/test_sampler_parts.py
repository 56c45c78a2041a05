"""Building blocks: estimate of K, neuron pruning with folding, amplification log term."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from netcoreset.bounds import amplified_log_ratio, default_tau
from netcoreset.sampler import estimate_K
from netcoreset.sampler.prune import prune_inactive_neurons


def test_estimate_K_is_one_when_g_is_constant():
    # One positive edge per neuron and no bias: g_j(x) = 1 whenever z+ > 0, so M_j = 1 and
    # every order statistic is 1: K = 1.
    lin = nn.Linear(1, 3, bias=False)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0], [2.0], [0.5]]))
    est = estimate_K([lin], torch.rand(50, 1) + 0.1)
    assert est.K == 1.0 and est.infinite_fraction == 0.0 and est.sample_size == 50


def test_estimate_K_hand_computed():
    # w = (1, 1), no bias; points x = (t, 1 - t) for t in {0.1, ..., 0.9} (n = 9):
    # g_1(x) = t. K' = 3: level e^{-1/3} = 0.7165, k = floor(9 * 0.7165) = 6, so the
    # (k+1) = 7th smallest g_1 is 0.7 and M_1 = 0.9: K_1 = 0.9 / 0.7. Edge 2 is symmetric.
    lin = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        lin.weight.fill_(1.0)
    t = torch.arange(1, 10, dtype=torch.float64) / 10
    est = estimate_K([lin.double()], torch.stack([t, 1 - t], dim=1), k_prime=3.0)
    assert est.K == pytest.approx(0.9 / 0.7, rel=1e-12)


def test_estimate_K_flags_edges_without_finite_K():
    # Edge 1 is active on 1 point of 10 only: its 8th smallest g is 0 -> no finite K.
    lin = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        lin.weight.fill_(1.0)
    x = torch.zeros(10, 2)
    x[:, 1] = 1.0
    x[0, 0] = 1.0
    est = estimate_K([lin], x)
    assert est.infinite_fraction == pytest.approx(0.5)


def test_prune_folds_constant_neurons_exactly():
    w1 = torch.tensor([[1.0, 0.0], [0.0, 0.0], [-1.0, -1.0]])
    b1 = torch.tensor([0.0, 2.0, -0.5])  # neuron 1 constant ReLU(2) = 2; neuron 2 dead on x >= 0
    w2 = torch.tensor([[1.0, 3.0, 5.0]])
    b2 = torch.tensor([0.25])
    x = torch.rand(20, 2)
    z1 = x @ w1.T + b1
    res = prune_inactive_neurons([w1, w2], [b1, b2], [z1, torch.relu(z1) @ w2.T + b2])
    assert res.pruned == [2] and res.folded == [1]
    assert res.biases[1].item() == pytest.approx(0.25 + 3.0 * 2.0)
    before = torch.relu(z1) @ w2.T + b2
    after = torch.relu(x @ res.weights[0].T + res.biases[0]) @ res.weights[1].T + res.biases[1]
    torch.testing.assert_close(after, before)


def test_amplification_log_term():
    # tau = ceil(log2(1/delta)); the ratio is (log 2 + log(4 eta/delta)/tau) / log(8 eta/delta).
    assert default_tau(0.1) == 4 and default_tau(0.5) == 1
    eta, delta = 410, 0.05
    expected = (math.log(2) + math.log(4 * eta / delta) / 5) / math.log(8 * eta / delta)
    assert amplified_log_ratio(eta, delta, 5) == pytest.approx(expected)
