"""The checker with the real sampler: power in both directions, and executor independence.

False-failure rates. ``check_guarantee`` uses exact Clopper-Pearson (one input per trial), so
for given T and alpha the verdict is a deterministic function of the failure count k. Each test
computes the range of k that gives the expected verdict and asserts, under a stated bound on
the true failure probability p, that k falls outside it with probability <= 1e-6.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pytest
import torch
from scipy import stats
from torch import nn

from netcoreset.verification import SamplerCompressor, check_guarantee, clopper_pearson
from netcoreset.verification.experiments import load_digits_split, train_mlp
from netcoreset.verification.networks import build_relu_network

from _stats import FALSE_FAILURE_RATE

EPS, DELTA, ALPHA, TRIALS = 0.5, 0.1, 1e-3, 400


def _max_failures_for_holds(trials: int, alpha: float, delta: float) -> int:
    k = -1
    while clopper_pearson(k + 1, trials, alpha)[1] <= delta:
        k += 1
    return k


def _trials_for_violated(trials: int = 100, p_min: float = 0.5) -> int:
    k_min = next(k for k in range(trials + 1) if clopper_pearson(k, trials, ALPHA)[0] > DELTA)
    assert stats.binom.cdf(k_min - 1, trials, p_min) <= FALSE_FAILURE_RATE
    return trials


def _digits_net():
    x_tr, y_tr, _, _ = load_digits_split(seed=0)
    return train_mlp(x_tr, y_tr, (32,), seed=0, epochs=8), x_tr


def _deep_gaussian():
    net = build_relu_network([12, 16, 16, 16, 4], weight_law="gaussian", seed=3)
    return net, torch.rand(600, 12, generator=torch.Generator().manual_seed(0))


def _signed_inputs_wide():
    net = build_relu_network([8, 64, 3], weight_law="gaussian", seed=5)
    return net, torch.randn(600, 8, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("make", [_digits_net, _deep_gaussian, _signed_inputs_wide])
def test_corenet_guarantee_mode_holds(make):
    # Three structurally different nets: a trained 64-32-10 on digits, a 4-layer random net
    # with 16-wide hidden layers, and a wide shallow net fed signed inputs (x+/x- split).
    # Guarantee mode keeps (almost) every weight here (kappa makes the theorem's draws exceed
    # the fan-in), so the true per-input failure probability p is small; we assume p <= 1%
    # (measured: at most 0.5% on these nets). "holds" needs k <= k_max failures in T trials;
    # P(k > k_max | p = 0.01) is asserted below to be <= 1e-6.
    model, x = make()
    k_max = _max_failures_for_holds(TRIALS, ALPHA, DELTA)
    assert stats.binom.sf(k_max, TRIALS, 0.01) <= FALSE_FAILURE_RATE
    res = check_guarantee(
        model,
        x,
        SamplerCompressor("corenet", eps=EPS, delta=DELTA),
        EPS,
        DELTA,
        trials=TRIALS,
        alpha=ALPHA,
        seed=0,
    )
    assert res.verdict == "holds", res.summary()


@pytest.mark.parametrize(
    "compressor",
    [
        SamplerCompressor("uniform", keep=0.05),  # uniform sampling at a tiny budget
        SamplerCompressor("magnitude", keep=0.05),  # deterministic pruning, no guarantee
    ],
    ids=["uniform-5%", "magnitude-5%"],
)
def test_broken_compressors_are_caught(compressor):
    # At 5% of the weights the outputs are far outside (1 +- 0.5) for almost every input: we
    # assume p >= 0.5 (measured: > 0.9). "violated" needs k >= k_min failures in T trials;
    # P(k < k_min | p = 0.5) <= 1e-6 is asserted in _trials_for_violated.
    model, x = _digits_net()
    trials = _trials_for_violated()
    res = check_guarantee(model, x, compressor, EPS, DELTA, trials=trials, alpha=ALPHA, seed=0)
    assert res.verdict == "violated", res.summary()


def test_dropping_the_reweighting_is_caught():
    # CoreNet's draws without the unbiased reweighting: kept edges keep their original value,
    # so each neuron loses most of its mass. Same rate argument as above (p >= 0.5 assumed).
    model, x = _digits_net()
    trials = _trials_for_violated()
    res = check_guarantee(model, x, _unweighted, EPS, DELTA, trials=trials, alpha=ALPHA, seed=0)
    assert res.verdict == "violated", res.summary()


def _unweighted(model: nn.Module, pool: torch.Tensor, generator: torch.Generator) -> nn.Module:
    from netcoreset.sampler import compress

    res = compress(model, pool, keep=0.1, generator=generator)
    with torch.no_grad():
        for new, old in zip(res.model, model, strict=True):
            if isinstance(new, nn.Linear):
                new.weight.copy_(torch.where(new.weight != 0, old.weight, 0.0))
                new.bias.copy_(torch.where(new.bias != 0, old.bias, 0.0))
    return res.model


def test_same_numbers_in_process_process_pool_and_dask():
    distributed = pytest.importorskip("distributed")
    model, x = _deep_gaussian()
    comp = SamplerCompressor("corenet", keep=0.3)
    kwargs = dict(trials=12, inputs_per_trial=4, alpha=ALPHA, seed=7)
    serial = check_guarantee(model, x, comp, EPS, DELTA, **kwargs)
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("fork")) as ex:
        pooled = check_guarantee(model, x, comp, EPS, DELTA, executor=ex, **kwargs)
    assert serial.to_dict() == pooled.to_dict()
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        dask = check_guarantee(model, x, comp, EPS, DELTA, executor=client.get_executor(), **kwargs)
    assert serial.to_dict() == dask.to_dict()
