"""Bad input gets a clear ValueError naming the problem, never a wrong answer."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from netcoreset.sampler import compress, linear_layers


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))


X = torch.rand(50, 6)


@pytest.mark.parametrize(
    ("model", "match"),
    [
        (
            nn.Sequential(nn.Conv1d(1, 1, 3), nn.ReLU(), nn.Linear(4, 2)),
            r"Conv1d\) is not supported",
        ),
        (nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3)), r"Tanh\) is not supported"),
        (nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.Linear(5, 3)), "BatchNorm1d"),
        (nn.Sequential(nn.Linear(6, 5), nn.Linear(5, 3)), "without a ReLU"),
        (nn.Sequential(nn.Linear(6, 5), nn.ReLU()), "ends with a ReLU"),
        (nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(4, 3)), "shape mismatch"),
        (nn.Sequential(nn.ReLU()), "must follow a Linear"),
        (nn.Sequential(), "no nn.Linear"),
    ],
)
def test_unsupported_models(model, match):
    with pytest.raises(ValueError, match=match):
        compress(model, X, keep=0.5, seed=0)


def test_tied_weights_rejected():
    lin = nn.Linear(5, 5)
    with pytest.raises(ValueError, match="tied weights"):
        linear_layers(nn.Sequential(lin, nn.ReLU(), lin))


def test_non_sequential_needs_layers():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(6, 5), nn.Linear(5, 3)

        def forward(self, x):
            return self.b(torch.relu(self.a(x)))

    net = Net()
    with pytest.raises(ValueError, match="pass layers="):
        compress(net, X, keep=0.5, seed=0)
    res = compress(net, X, keep=0.5, seed=0, layers=[net.a, net.b])
    assert res.nnz <= res.nnz_original


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_weights(bad):
    net = _net()
    with torch.no_grad():
        net[2].weight[0, 0] = bad
    with pytest.raises(ValueError, match="layer 1 .*weight contains NaN or inf"):
        compress(net, X, keep=0.5, seed=0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"eps": 0.0}, r"eps must be a real number in the open interval \(0, 1\)"),
        ({"eps": 1.5}, r"eps must be .*\(0, 1\)"),
        ({"eps": 0.5, "delta": 1.0}, r"delta must be .*\(0, 1\)"),
        ({"eps": 0.5, "delta": -0.1}, r"delta must be"),
        ({"keep": 0.0}, r"keep must be a fraction in \(0, 1\]"),
        ({"keep": 1.2}, r"keep must be a fraction"),
        ({"nnz": 0}, "nnz must be an integer >= 1"),
        ({"eps": 0.5, "keep": 0.5}, "exactly one of eps"),
        ({}, "exactly one of eps"),
        ({"keep": 0.5, "K": 0.0}, "K must be a finite real number > 0"),
        ({"keep": 0.5, "method": "random"}, "method must be one of"),
        ({"keep": 0.5, "method": "uniform", "tau": 3}, r"apply to method='corenet\+\+' only"),
        ({"keep": 0.5, "draw_scale": [1.0]}, "one value per weight layer"),
        ({"keep": 0.5, "draw_scale": -1.0}, "draw_scale must be finite and > 0"),
        ({"keep": 0.5, "sensitivity_set_size": 0}, "sensitivity_set_size must be an integer >= 1"),
        ({"keep": 0.5, "allocation": "greedy"}, "allocation must be"),
        ({"keep": 0.5, "activations": "mixed"}, "activations must be"),
        ({"keep": 0.5, "seed": -3}, "seed must be a non-negative integer"),
        ({"keep": 1e-6}, "below the minimum"),
        ({"nnz": 9}, r"budget of 9 weights is below the minimum of 1[0-9]"),
    ],
)
def test_bad_parameters(kwargs, match):
    kwargs.setdefault("seed", 0)
    with pytest.raises(ValueError, match=match):
        compress(_net(), X, **kwargs)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (torch.rand(0, 6), "data is empty"),
        (torch.rand(10, 7), "shape mismatch: data has shape"),
        (torch.rand(10, 2, 3), "expected"),
        (torch.full((10, 6), float("nan")), "data contains NaN or inf"),
        ([[1.0] * 6], "data must be a torch.Tensor or numpy array"),
    ],
)
def test_bad_data(data, match):
    with pytest.raises(ValueError, match=match):
        compress(_net(), data, keep=0.5, seed=0)


def test_numpy_data_and_flatten_are_accepted():
    net = nn.Sequential(nn.Flatten(), nn.Linear(6, 5), nn.ReLU(), nn.Dropout(0.1), nn.Linear(5, 3))
    res = compress(net, np.random.default_rng(0).random((40, 2, 3)), keep=0.5, seed=0)
    assert res.nnz <= res.nnz_original


def test_budget_above_sampleable_edges_is_capped_with_a_warning():
    net = _net()
    with torch.no_grad():
        net[0].weight[0] = -1.0  # a neuron that never fires on x >= 0: its edges have s = 0
        net[0].bias[0] = -1.0
    with pytest.warns(UserWarning, match="exceeds the .* edges that can be sampled"):
        res = compress(net, X, keep=1.0, seed=0)
    assert res.report.warnings and res.nnz < res.nnz_original


def test_compress_leaves_the_global_rng_alone():
    net = _net()
    state = torch.get_rng_state()
    compress(net, X, eps=0.5, seed=0)
    assert torch.equal(state, torch.get_rng_state())
