"""A data-dependent subspace origin: a prior network as theta_0, the same basis P, the network
at z = 0 is the prior, and training and quantising around it decode to the same network.
Deterministic (fixed seeds)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from netcoreset.verification.experiments import load_digits_split, train_mlp
from netcoreset.verification.experiments.subspace import (
    SubspaceSpec,
    prior_origin,
    quantize_subspace,
    subspace_basis,
    subspace_model,
    train_subspace,
)


@pytest.fixture(scope="module")
def prior_and_data():
    x, y, xt, yt = load_digits_split()
    prior = train_mlp(x[:600], y[:600], (16,), epochs=10, seed=0)
    return prior, x, y


def test_the_origin_replaces_theta0_and_keeps_the_basis(prior_and_data):
    prior, x, _ = prior_and_data
    spec = SubspaceSpec((64, 16, 10), 20, seed=3)
    origin = prior_origin(prior, spec)
    t0, P = subspace_basis(spec)
    o, P2 = subspace_basis(spec, origin)
    assert torch.equal(P, P2) and torch.equal(o, origin) and not torch.equal(o, t0)
    with torch.no_grad():
        assert torch.equal(subspace_model(spec, np.zeros(20), origin)(x), prior(x))
    with pytest.raises(ValueError, match="origin must be 1210 finite values"):
        subspace_basis(spec, torch.zeros(5))
    with pytest.raises(ValueError, match="the prior network has widths"):
        prior_origin(prior, SubspaceSpec((64, 8, 10), 20, seed=3))


def test_training_and_quantising_around_the_prior_decode_consistently(prior_and_data):
    prior, x, y = prior_and_data
    spec = SubspaceSpec((64, 16, 10), 20, seed=3)
    origin = prior_origin(prior, spec)
    z = train_subspace(spec, x, y, epochs=1, seed=0, origin=origin)
    q = quantize_subspace(spec, z, x, y, 4, epochs=1, seed=0, origin=origin)
    again = subspace_model(spec, q.z, origin)
    with torch.no_grad():
        assert torch.equal(q.model(x), again(x))  # the description stands for this network
        far = subspace_model(spec, q.z)(x)  # the same z around the seed's theta_0 differs
    assert not torch.equal(far, again(x))
