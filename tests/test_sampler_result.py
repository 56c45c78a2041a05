"""The result object: report, JSON, sparse storage, save/load, devices and dtypes."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from netcoreset.sampler import CompressionReport, compress, load


@pytest.fixture(scope="module")
def result():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 4))
    return compress(net, torch.rand(120, 12), keep=0.4, seed=5, method="corenet++"), net


def test_report_is_json_and_round_trips(result):
    res, _ = result
    d = json.loads(res.report.to_json())
    assert d["method"] == "corenet++" and d["seed"] == 5 and len(d["layers"]) == 2
    for key in (
        "nnz_original",
        "nnz",
        "certified_eps",
        "delta",
        "sensitivity_set_size",
        "eps_allocation",
    ):
        assert key in d
    assert CompressionReport.from_dict(d) == res.report


def test_to_sparse_matches_dense(result):
    res, _ = result
    sparse = res.to_sparse()
    x = torch.rand(7, 12)
    torch.testing.assert_close(sparse(x), res.model(x))
    assert sparse[0].weight.layout == torch.sparse_csr
    assert sparse[0].weight.values().numel() == int((res.model[0].weight != 0).sum())


def test_save_load_is_bit_exact(result, tmp_path):
    res, _ = result
    res.save(tmp_path / "out")
    back = load(tmp_path / "out")
    a, b = res.model.state_dict(), back.model.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert back.report == res.report
    with pytest.raises(ValueError, match="holds no saved compression"):
        load(tmp_path)


def test_float64_model_stays_float64():
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 2)).double()
    res = compress(net, torch.rand(60, 5), keep=0.5, seed=0)
    assert res.model[0].weight.dtype == torch.float64
    assert res.report.dtype == "float64"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
def test_cuda_model_is_compressed_on_cuda():
    torch.manual_seed(2)
    net = nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 2)).cuda()
    res = compress(net, torch.rand(60, 5), keep=0.5, seed=0)
    assert res.model[0].weight.is_cuda and res.report.device.startswith("cuda")


def _with_dead_neurons() -> nn.Sequential:
    """Hidden neurons 0 and 5 of the first layer, and 1 of the second, never fire on inputs in
    [0, 1): their bias (-9) exceeds what their weights (at most 1/sqrt(fan-in) in size) add."""
    torch.manual_seed(3)
    net = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 2))
    with torch.no_grad():
        net[0].bias[[0, 5]] = -9.0
        net[0].bias[1:5] = 1.0  # fire on inputs near 0
        net[2].bias[1] = -9.0
        net[2].bias[[0, 2, 3, 4]] = 1.0
    return net


@pytest.mark.parametrize("method", ["corenet", "corenet+", "corenet++", "uniform", "svd"])
def test_kept_neurons_index_the_compressed_model(method, tmp_path):
    net = _with_dead_neurons()
    res = compress(net, torch.rand(200, 4), method=method, keep=0.4, seed=1)
    kept = res.kept_neurons
    assert res.report.kept_neurons == [k.tolist() for k in kept]
    if method.startswith("corenet+"):
        assert [k.tolist() for k in kept] == [[1, 2, 3, 4], [0, 2, 3, 4]]
    else:
        assert [k.tolist() for k in kept] == [list(range(6)), list(range(5))]
    lins = [m for m in res.model if isinstance(m, nn.Linear)]
    assert [lin.out_features for lin in lins[:-1]] == [len(k) for k in kept]
    if method != "svd":  # every kept weight is a positive multiple of the original's there
        rows = [*kept, torch.arange(2)]
        cols = [torch.arange(4), *kept]
        for lin, orig, r, c in zip(lins, net[::2], rows, cols, strict=True):
            w_hat, w = lin.weight, orig.weight[r][:, c]
            assert bool(((w_hat == 0) | (w_hat * w > 0)).all())
            assert bool(((lin.bias == 0) | (lin.bias * orig.bias[r] > 0)).all())
    back = load(res.save(tmp_path / "run"))
    assert [k.tolist() for k in back.kept_neurons] == [k.tolist() for k in kept]
