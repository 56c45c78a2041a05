"""Gaussian posteriors trained with a PAC-Bayes objective around a data-dependent prior:
the training KL agrees with the certificate's float64 KL, the prior is never modified, runs
are bit-reproducible, and a digits certificate (prior on one half, posterior and bound on the
other) is non-vacuous and labelled stochastic. Deterministic (fixed seeds)."""

from __future__ import annotations

import copy

import pytest
import torch

from netcoreset.bounds.pac_bayes import pac_bayes_bound
from netcoreset.verification.experiments import load_digits_split, train_mlp
from netcoreset.verification.experiments.pac_bayes_training import (
    GaussianNetwork,
    certify_posterior,
    stochastic_error,
    train_posterior,
)
from netcoreset.verification.experiments.registration import split_indices


@pytest.fixture(scope="module")
def digits_halves():
    x, y, xt, yt = load_digits_split()
    design, cert = split_indices(x.shape[0], x.shape[0] // 2, 0)
    d, c = torch.from_numpy(design), torch.from_numpy(cert)
    prior = train_mlp(x[d], y[d], (32,), epochs=20, seed=0)
    return prior, x[c], y[c], xt, yt


def test_training_kl_equals_the_certificate_kl_and_the_prior_is_untouched(digits_halves):
    prior, x, y, _, _ = digits_halves
    before = copy.deepcopy(prior.state_dict())
    q = train_posterior(prior, x, y, sigma_prior=0.03, epochs=2, seed=0)
    assert all(torch.equal(before[k], v) for k, v in prior.state_dict().items())
    with torch.no_grad():
        torch_kl = float(q.kl_torch())
    assert q.kl() > 0.05 and q.kl() == pytest.approx(torch_kl, rel=1e-3)  # measured 0.25


def test_training_is_bit_reproducible(digits_halves):
    prior, x, y, _, _ = digits_halves
    a = train_posterior(prior, x, y, epochs=1, seed=3)
    b = train_posterior(prior, x, y, epochs=1, seed=3)
    c = train_posterior(prior, x, y, epochs=1, seed=4)
    assert all(torch.equal(p, r) for p, r in zip(a.parameters(), b.parameters(), strict=True))
    assert not all(torch.equal(p, r) for p, r in zip(a.parameters(), c.parameters(), strict=True))


def test_stochastic_error_is_the_mean_over_seeded_draws(digits_halves):
    prior, x, y, _, _ = digits_halves
    q = GaussianNetwork(prior, 0.05)
    gen = torch.Generator().manual_seed(9)
    with torch.no_grad():
        wrong = sum(int((q(x, generator=gen).argmax(1) != y).sum()) for _ in range(4))
    assert stochastic_error(q, x, y, 4, 9) == wrong / (4 * x.shape[0])
    # fresh weights per input: with sigma -> 0 every input sees the mean network
    sharp = GaussianNetwork(prior, 1e-12)
    with torch.no_grad():
        mean_errors = int((sharp(x, sample=False).argmax(1) != y).sum())
    assert stochastic_error(sharp, x, y, 2, 0, per_input=True) == mean_errors / x.shape[0]


def test_digits_certificate_is_stochastic_and_consistent(digits_halves):
    prior, x, y, xt, yt = digits_halves
    q = train_posterior(prior, x, y, sigma_prior=0.03, epochs=5, seed=0)
    c = certify_posterior(q, x, y, draws=50, prior_grid_size=2, x_test=xt, y_test=yt)
    assert c.kind == "stochastic" and c.n == x.shape[0] and c.total_delta == pytest.approx(0.05)
    assert c.mc_draws == 50 * c.n  # fresh weights for every input: 50 n independent terms
    again = pac_bayes_bound(c.mc_error, c.mc_draws, c.kl_nats, c.n, 0.025 / 2, 0.025)
    assert c.bound == again.bound  # the delta / G for the declared prior scales
    assert c.mc_error <= c.empirical_error_bound < c.bound < 0.6  # non-vacuous (measured 0.38)
    assert c.stochastic_test_error is not None and c.stochastic_test_error < c.bound
    d = c.to_dict()
    assert d["kind"] == "stochastic" and d["details"]["stochastic"] is True
