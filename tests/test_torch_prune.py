"""The torch-style entry point: any module's Linear layers pruned with masks.

Every assertion here is exact (fixed seeds) except ``test_kept_count_within_hoeffding``, whose
false-failure rate is derived in its body.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.nn.utils import prune

from netcoreset.sampler import PRUNABLE_METHODS, compress, prune_linear

from _stats import FALSE_FAILURE_RATE


class Chain(nn.Module):
    """A custom forward over named Linear attributes: a chain, with a flatten inside."""

    def __init__(self) -> None:
        super().__init__()
        self.first = nn.Linear(16, 24)
        self.second = nn.Linear(24, 12)
        self.head = nn.Linear(12, 3)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act(self.first(x.flatten(1)))
        return self.head(self.act(self.second(h)))


class TwoBranch(nn.Module):
    """Two branches from the input, summed: not a chain."""

    def __init__(self) -> None:
        super().__init__()
        self.left = nn.Linear(16, 20)
        self.right = nn.Linear(16, 20)
        self.out = nn.Linear(20, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.left(x)) + torch.tanh(self.right(x)))


def _data(n: int = 400, shape: tuple[int, ...] = (16,), seed: int = 0) -> torch.Tensor:
    return torch.rand(n, *shape, generator=torch.Generator().manual_seed(seed))


def _model(cls: type[nn.Module], seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return cls()


def _hits(expected: float, budget: float) -> bool:
    """The budget solver stops within rtol = 1e-4 (+ 1e-6 of float64 evaluation) of the
    budget, or, where whole-number draws make the expected count jump over it, at the closest
    value: one more draw of a part adds less than one expected kept edge."""
    return abs(expected - budget) <= 1.1e-4 * budget + 1.0


def _state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_custom_forward_chain_is_verified_and_certified() -> None:
    net = _model(Chain)
    res = prune_linear(net, _data(shape=(1, 4, 4)), keep=0.4, seed=3, certificate="paper")
    assert res.chain and res.reason is None
    assert res.layers == ["first", "second", "head"]
    assert res.compression is not None and res.compression.report.certificate == "paper"
    assert res.certified_delta == res.compression.report.certified_delta is not None
    assert _hits(res.expected_nnz, 0.4 * res.nnz_original)


def test_prune_conventions_and_remove() -> None:
    res = prune_linear(_model(Chain), _data(shape=(16,)), keep=0.3, seed=1)
    for name in res.layers:
        mod = res.model.get_submodule(name)
        assert prune.is_pruned(mod)
        assert isinstance(mod.weight_orig, nn.Parameter) and "weight_mask" in dict(
            mod.named_buffers()
        )
        assert torch.equal(mod.weight, mod.weight_orig * mod.weight_mask)
        assert torch.equal(mod.bias, mod.bias_orig * mod.bias_mask)
        assert torch.equal(res.masks[name], mod.weight_mask != 0)
        # the mask is applied by a forward pre-hook: changing it changes the next forward
        pruned_out = res.model(_data(5))
        prune.remove(mod, "weight")
        prune.remove(mod, "bias")
        assert isinstance(mod.weight, nn.Parameter) and not hasattr(mod, "weight_orig")
        assert torch.equal(res.model(_data(5)), pruned_out)
        assert int(torch.count_nonzero(mod.weight)) == int(res.masks[name].sum())


def test_copy_by_default_in_place_when_asked() -> None:
    net = _model(TwoBranch)
    net.train()
    before = _state(net)
    with pytest.warns(UserWarning, match="heuristic without a certificate"):
        res = prune_linear(net, _data(), keep=0.5, seed=0)
    assert res.model is not net and net.training and res.model.training
    after = net.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not any(prune.is_pruned(m) for m in net.modules())
    with pytest.warns(UserWarning):
        res_in = prune_linear(net, _data(), keep=0.5, seed=0, inplace=True)
    assert res_in.model is net and prune.is_pruned(net.left)
    assert all(torch.equal(res.masks[n], res_in.masks[n]) for n in res.layers)


def test_two_branch_global_budget_hits_it() -> None:
    with pytest.warns(UserWarning, match="not the ReLU of the output of 'left'") as rec:
        res = prune_linear(_model(TwoBranch), _data(), keep=0.35, seed=2)
    assert rec[0].filename == __file__  # attributed to the caller
    assert not res.chain and res.compression is None and res.certified_eps is None
    assert _hits(res.expected_nnz, 0.35 * res.nnz_original)


def test_per_layer_budget_hits_each_layer() -> None:
    net = _model(TwoBranch)
    keep = {"left": 0.2, "right": 0.6, "out": 0.5}
    with pytest.warns(UserWarning):
        res = prune_linear(net, _data(), keep=keep, seed=2)
    assert res.budget == "layer"
    for name, frac in keep.items():
        mod = net.get_submodule(name)
        total = int(torch.count_nonzero(mod.weight)) + int(torch.count_nonzero(mod.bias))
        assert _hits(res.expected[name], frac * total)
    # on a verified chain too: no certificate for per-layer budgets, and no warning
    res_chain = prune_linear(_model(Chain), _data(), keep=0.4, budget="layer", seed=2)
    assert res_chain.chain and res_chain.compression is None
    for name in res_chain.layers:
        mod = res_chain.model.get_submodule(name)
        total = int(torch.count_nonzero(mod.weight_orig)) + int(torch.count_nonzero(mod.bias_orig))
        assert _hits(res_chain.expected[name], 0.4 * total)


def test_kept_count_within_hoeffding() -> None:
    # Within a part the indicators "edge j drawn at least once" of a multinomial are
    # negatively associated (Dubhashi & Ranjan, 1998) and parts are sampled independently,
    # so Hoeffding's inequality holds for their sum over the N sampleable edges:
    # P(|kept - E kept| >= t) <= 2 exp(-2 t^2 / N). With t = sqrt(N log(2 / rate) / 2) a
    # correct implementation fails with probability at most rate = 1e-6.
    with pytest.warns(UserWarning):
        res = prune_linear(_model(TwoBranch), _data(), keep=0.3, seed=5)
    n_edges = res.nnz_original
    t = math.sqrt(n_edges * math.log(2.0 / FALSE_FAILURE_RATE) / 2.0)
    assert abs(res.nnz - res.expected_nnz) < t


@pytest.mark.parametrize("cls", [Chain, TwoBranch])
def test_seeded_bit_reproducible(cls: type[nn.Module]) -> None:
    def run() -> dict[str, torch.Tensor]:
        with pytest.warns() if cls is TwoBranch else _no_context():
            res = prune_linear(_model(cls), _data(), keep=0.3, seed=11)
        return {n: res.model.get_submodule(n).weight.clone() for n in res.layers}

    a, b = run(), run()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


class _no_context:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


@pytest.mark.parametrize("method", ["corenet", "l1", "magnitude"])
def test_same_kept_weights_as_compress_on_sequential(method: str) -> None:
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Linear(16, 30), nn.ReLU(), nn.Linear(30, 10), nn.ReLU(), nn.Linear(10, 3)
    )
    x = _data()
    ref = compress(net, x, method=method, keep=0.25, seed=7, certificate="paper")
    res = prune_linear(net, x, method=method, keep=0.25, seed=7, certificate="paper")
    assert res.chain and res.layers == ["0", "2", "4"]
    lins = [m for m in ref.model if isinstance(m, nn.Linear)]
    for name, lin in zip(res.layers, lins, strict=True):
        mod = res.model.get_submodule(name)
        # the same draws: the same kept weights, exactly
        assert torch.equal(res.masks[name], lin.weight != 0)
        # the values: w * (w_hat / w) is w_hat up to two roundings
        tol = torch.finfo(lin.weight.dtype).eps * lin.weight.abs()
        assert bool(((mod.weight - lin.weight).abs() <= tol).all())
        assert bool(
            ((mod.bias - lin.bias).abs() <= torch.finfo(lin.bias.dtype).eps * lin.bias.abs()).all()
        )
    assert res.certified_eps == ref.report.certified_eps
    assert res.expected_nnz == pytest.approx(ref.report.expected_nnz, rel=1e-12)


class Dead(nn.Module):
    """A chain (a custom forward) with hidden neurons that never fire on inputs in [0, 1):
    neurons 0 and 5 of ``inner`` and 1 of ``middle`` have bias -9, more negative than their
    weights (at most 1/sqrt(fan-in) in size) can make up."""

    def __init__(self) -> None:
        super().__init__()
        self.inner, self.middle, self.outer = nn.Linear(8, 12), nn.Linear(12, 6), nn.Linear(6, 3)
        with torch.no_grad():
            self.inner.bias[[0, 5]] = -9.0
            self.middle.bias[1] = -9.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.outer(torch.relu(self.middle(torch.relu(self.inner(x)))))


@pytest.mark.parametrize("method", ["corenet+", "corenet++"])
def test_neuron_pruning_methods_match_compress(method: str) -> None:
    net, x = _model(Dead), _data(shape=(8,))
    before = _state(net)
    seq = nn.Sequential(net.inner, nn.ReLU(), net.middle, nn.ReLU(), net.outer)
    ref = compress(seq, x, method=method, keep=0.3, seed=4)
    res = prune_linear(net, x, method=method, keep=0.3, seed=4)
    assert res.chain and res.layers == ["inner", "middle", "outer"]
    kept = res.compression.kept_neurons
    assert [k.tolist() for k in kept] == [k.tolist() for k in ref.kept_neurons]
    removed = [sorted(set(range(n)) - set(k.tolist())) for n, k in zip((12, 6), kept, strict=True)]
    assert {0, 5} <= set(removed[0]) and 1 in removed[1]
    # a removed neuron: its whole row and bias masked, and its column in the next layer
    for lay, nxt, gone in (("inner", "middle", removed[0]), ("middle", "outer", removed[1])):
        mod = res.model.get_submodule(lay)
        assert not bool(res.masks[lay][gone].any()) and not bool(mod.bias_mask[gone].any())
        assert not bool(res.masks[nxt][:, gone].any())
    # the pruned module computes what compress's smaller model computes
    probe = _data(50, (8,), seed=9)
    torch.testing.assert_close(res.model(probe), ref.model(probe), rtol=1e-5, atol=1e-6)
    again = prune_linear(_model(Dead), x, method=method, keep=0.3, seed=4)
    assert all(torch.equal(res.masks[n], again.masks[n]) for n in res.layers)
    mask = {n: res.model.get_submodule(n).weight_mask for n in res.layers}
    assert all(torch.equal(mask[n], again.model.get_submodule(n).weight_mask) for n in mask)
    after = net.state_dict()  # the caller's model is untouched
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    assert not any(prune.is_pruned(m) for m in net.modules())


def test_neuron_pruning_methods_need_a_chain() -> None:
    net = _model(TwoBranch)
    for method in ("corenet+", "CoreNet++"):
        with pytest.raises(ValueError, match="removes the neurons inactive on S.*not the ReLU"):
            prune_linear(net, _data(), method=method, keep=0.5, seed=0, inplace=True)
    with pytest.raises(ValueError, match="needs a verified Linear\\+ReLU chain and a global"):
        prune_linear(_model(Chain), _data(), method="corenet+", keep=0.5, budget="layer")
    assert not any(prune.is_pruned(m) for m in net.modules())


def test_folded_constant_neuron_into_a_zero_bias_is_refused() -> None:
    # neuron 2 of inner has no input weights and bias 1: CoreNet+ folds ReLU(1) * column 2 of
    # middle into middle's bias, which is 0, so no mask can express the result
    net = _model(Dead)
    with torch.no_grad():
        net.inner.weight[2] = 0.0
        net.inner.bias[2] = 1.0
        net.middle.bias.zero_()
    before = _state(net)
    with pytest.raises(ValueError, match="layer 'middle': .*folds a constant neuron"):
        prune_linear(net, _data(shape=(8,)), method="corenet+", keep=0.5, seed=0, inplace=True)
    assert not any(prune.is_pruned(m) for m in net.modules())
    assert all(torch.equal(v, before[k]) for k, v in net.state_dict().items())


def test_chosen_layers_only() -> None:
    net = _model(Chain)
    with pytest.warns(UserWarning, match="not the ReLU"):
        res = prune_linear(net, _data(), keep=0.5, layers=["first", net.head], seed=0)
    assert res.layers == ["first", "head"] and not prune.is_pruned(res.model.second)


def test_bad_input_is_refused() -> None:
    net, x = _model(Chain), _data()
    with pytest.raises(ValueError, match="need a verified Linear\\+ReLU chain"):
        prune_linear(_model(TwoBranch), x, eps=0.5)
    with pytest.raises(ValueError, match="method must be one of"):
        prune_linear(net, x, method="svd", keep=0.5)
    with pytest.raises(ValueError, match="no submodule named 'nope'"):
        prune_linear(net, x, keep=0.5, layers=["nope"])
    with pytest.raises(ValueError, match="is a ReLU, not an nn.Linear"):
        prune_linear(net, x, keep=0.5, layers=["act"])
    with pytest.raises(ValueError, match="give exactly one of eps"):
        prune_linear(net, x)
    with pytest.raises(ValueError, match="keep must give a fraction for each chosen layer"):
        prune_linear(net, x, keep={"first": 0.5})
    with pytest.raises(ValueError, match="budget must be"):
        prune_linear(net, x, keep=0.5, budget="local")
    tied = _model(Chain)
    tied.second.weight = tied.first.weight
    with pytest.raises(ValueError, match="share their weight"):
        prune_linear(tied, x, keep=0.5, layers=["first", "second"])
    with pytest.raises(ValueError, match="has no nn.Linear layer"):
        prune_linear(nn.Sequential(nn.ReLU()), x, keep=0.5)
    with pytest.raises(ValueError, match="data is empty"):
        prune_linear(net, x[:0], keep=0.5)
    done = prune_linear(net, x, keep=0.5, seed=0).model
    with pytest.raises(ValueError, match="already pruned"):
        prune_linear(done, x, keep=0.5)


def test_methods_listed_apply() -> None:
    for method in PRUNABLE_METHODS:
        res = prune_linear(_model(Chain), _data(), method=method, keep=0.5, seed=0)
        assert 0 < res.nnz < res.nnz_original


class Tokens(nn.Module):
    """A Linear applied to every position of a sequence, and one layer called twice."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(4, 8)
        self.mix = nn.Linear(8, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (n, 5, 4)
        h = torch.relu(self.mix(torch.relu(self.mix(torch.relu(self.embed(x))))))
        return self.head(h.mean(dim=1))


def test_rows_of_every_call_and_position_are_the_points() -> None:
    with pytest.warns(UserWarning, match="not each called exactly once"):
        res = prune_linear(_model(Tokens), _data(300, (5, 4)), nnz=60, seed=4)
    assert not res.chain and res.layers == ["embed", "mix", "head"]
    assert _hits(res.expected_nnz, 60.0)
    with pytest.warns(UserWarning):
        again = prune_linear(_model(Tokens), _data(300, (5, 4)), nnz=60, seed=4)
    assert all(torch.equal(res.masks[n], again.masks[n]) for n in res.layers)
