"""Tests of netcoreset.verification.checker (the (eps, delta) guarantee checker).

The compressors below are defined at module level so that they pickle to process and Dask
executors. Statistical tests state their false-failure rate (the probability that a correct
implementation fails them on a fresh seed) and check the arithmetic of that rate in the test.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
import torch
from scipy import stats
from torch import nn

from netcoreset.verification.checker import (
    GuaranteeCheck,
    SamplerCompressor,
    check_guarantee,
    entrywise_relative_errors,
)
from netcoreset.verification.confidence import clopper_pearson

# ------------------------------------------------------------------------------------------------
# Tiny models and compressors
# ------------------------------------------------------------------------------------------------


def tiny_model(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3))


def tiny_data(n: int = 60, seed: int = 1) -> torch.Tensor:
    return torch.rand(n, 5, generator=torch.Generator().manual_seed(seed))


def identity_compressor(model, pool, generator):
    """Exact: never fails."""
    return model


def zero_first_weight(model, pool, generator):
    """Deterministic damage: zero weight (0, 0) of the last layer."""
    with torch.no_grad():
        model[2].weight[0, 0] = 0.0
    return model


def return_junk(model, pool, generator):
    return 42


class NoiseCompressor:
    """Multiply every weight by (1 + scale * N(0, 1)) drawn from the trial's generator."""

    def __init__(self, scale: float) -> None:
        self.scale = scale

    def __call__(self, model, pool, generator):
        with torch.no_grad():
            for p in model.parameters():
                p.mul_(1 + self.scale * torch.randn(p.shape, generator=generator))
        return model


class RandomFail:
    """Fails with probability exactly p per trial: doubles the output layer iff U < p."""

    def __init__(self, p: float) -> None:
        self.p = p

    def __call__(self, model, pool, generator):
        u = torch.rand((), generator=generator).item()
        if u < self.p:
            with torch.no_grad():
                model[2].weight.mul_(2.0)
                model[2].bias.mul_(2.0)
        return model


class _DoubleAbove(nn.Module):
    def __init__(self, inner: nn.Module, threshold: float) -> None:
        super().__init__()
        self.inner, self.threshold = inner, threshold

    def forward(self, x):
        y = self.inner(x)
        return torch.where(x[:, :1] > self.threshold, 2 * y, y)


class FailAbove:
    """Fails exactly on the inputs whose first coordinate exceeds ``threshold``."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def __call__(self, model, pool, generator):
        return _DoubleAbove(model, self.threshold)


class _Result:
    def __init__(self, model):
        self.model = model


def result_object_compressor(model, pool, generator):
    return _Result(model)


# ------------------------------------------------------------------------------------------------
# entrywise_relative_errors
# ------------------------------------------------------------------------------------------------


def test_relative_errors_conventions():
    exact = torch.tensor([[1.0, -2.0, 0.0], [0.0, 4.0, 1.0], [1.0, 1.0, 1.0], [2.0, 0.0, 1.0]])
    approx = torch.tensor(
        [[1.05, -2.0, 0.0], [1e-9, 4.0, 1.0], [1.0, float("nan"), 1.0], [2.0, 0.0, 1.0]]
    )
    worst, fails = entrywise_relative_errors(approx, exact, 0.1)
    assert worst[0] == pytest.approx(0.05, rel=1e-5)  # float32 inputs, compared in float64
    assert worst[1] == math.inf  # f_k = 0 and f_hat_k != 0
    assert worst[2] == math.inf  # NaN output
    assert worst[3] == 0.0  # f_k = 0 and f_hat_k = 0: no error
    assert fails.tolist() == [False, True, True, False]


def test_relative_errors_fail_is_the_inequality():
    # |d| > eps |f| decided in float64 directly: exactly at the boundary is not a failure
    exact = torch.tensor([[4.0]], dtype=torch.float64)
    approx = torch.tensor([[5.0]], dtype=torch.float64)
    assert entrywise_relative_errors(approx, exact, 0.25)[1].tolist() == [False]
    assert entrywise_relative_errors(approx, exact, 0.2499)[1].tolist() == [True]


# ------------------------------------------------------------------------------------------------
# Verdicts and power
# ------------------------------------------------------------------------------------------------


def test_exact_compressor_holds():
    # Deterministic: an exact compressor never fails, so the verdict rests on 0 failures in
    # 80 trials: CP upper 1 - (alpha/2)^(1/80) = 0.091 <= delta = 0.2.
    r = check_guarantee(tiny_model(), tiny_data(), identity_compressor, 0.1, 0.2, trials=80)
    assert r.verdict == "holds" and r.failures == 0 and r.p_hat == 0.0
    assert r.upper == pytest.approx(1 - (1e-3 / 2) ** (1 / 80))
    assert r.achieved_eps == 0.0 and r.more_trials == 0
    assert r.worst_errors.shape == (80, 1) and r.failure_fractions.shape == (80,)
    assert r.pool_size == 30 and r.holdout_size == 30
    assert "Clopper-Pearson" in r.interval


def test_result_object_with_model_attribute_is_accepted():
    r = check_guarantee(tiny_model(), tiny_data(), result_object_compressor, 0.1, 0.2, trials=5)
    assert r.failures == 0


def test_broken_compressor_is_violated_clopper_pearson():
    # RandomFail(0.6) fails each trial independently with probability 0.6 (the output doubles).
    # CP at alpha = 1e-3 says "violated" once the failure count exceeds k*; the verdict is missed
    # only if Bin(100, 0.6) <= k*, which the assert below bounds by 1e-6 (false-failure rate).
    trials, delta, alpha = 100, 0.1, 1e-3
    k_star = max(k for k in range(trials + 1) if clopper_pearson(k, trials, alpha)[0] <= delta)
    assert stats.binom.cdf(k_star, trials, 0.6) <= 1e-6
    r = check_guarantee(
        tiny_model(), tiny_data(), RandomFail(0.6), 0.1, delta, trials=trials, alpha=alpha
    )
    assert r.verdict == "violated"
    assert r.failures == r.failed_trials
    assert r.lower > delta


def test_noise_far_above_eps_is_violated_with_several_inputs():
    # Weights perturbed by 300% noise against eps = 0.05. Deterministic given the seeds (no other
    # randomness): the precondition p_hat > 0.8 is asserted, and with 40 per-trial fractions
    # averaging above 0.8 the betting lower bound at alpha = 1e-3 is far above delta = 0.1.
    r = check_guarantee(
        tiny_model(),
        tiny_data(80),
        NoiseCompressor(3.0),
        0.05,
        0.1,
        trials=40,
        inputs_per_trial=4,
    )
    assert r.p_hat > 0.8
    assert r.verdict == "violated"
    assert "betting" in r.interval and r.worst_errors.shape == (40, 4)
    assert r.achieved_eps > 0.05
    assert r.achieved_eps_lower <= r.achieved_eps_upper


def test_bernstein_bound_and_inconclusive():
    # 60 trials of an exact compressor cannot certify delta = 0.01 with Bernstein's 7 log/3(n-1)
    # term (deterministic: all fractions are 0).
    r = check_guarantee(
        tiny_model(),
        tiny_data(),
        identity_compressor,
        0.1,
        0.01,
        trials=60,
        inputs_per_trial=2,
        bound="bernstein",
    )
    assert r.verdict == "inconclusive" and r.lower == 0.0
    a = math.log(2 / (1e-3 / 2))
    assert r.upper == pytest.approx(7 * a / (3 * 59))
    assert r.more_trials is not None and r.more_trials > 0
    assert "more trials" in r.summary()


def test_zero_weight_error_matches_direct_computation():
    model, data = tiny_model(), tiny_data()
    hold = data[:1]
    r = check_guarantee(model, data[1:], zero_first_weight, 0.3, 0.1, trials=3, holdout=hold)
    damaged = zero_first_weight(tiny_model(), None, None)
    with torch.no_grad():
        f, g = model(hold).double(), damaged(hold).double()
    expected = ((g - f).abs() / f.abs()).max().item()
    np.testing.assert_allclose(r.worst_errors, expected, rtol=1e-12)
    assert r.failures == (3 if expected > 0.3 else 0)
    assert r.achieved_eps == pytest.approx(expected)


# ------------------------------------------------------------------------------------------------
# Sequential mode
# ------------------------------------------------------------------------------------------------


def test_sequential_stops_early_when_holds():
    # Deterministic: zero failures; the anytime betting sequence certifies delta = 0.2 well
    # before 500 trials, checked every 16.
    r = check_guarantee(
        tiny_model(),
        tiny_data(),
        identity_compressor,
        0.1,
        0.2,
        trials=500,
        sequential=True,
        batch_size=16,
    )
    assert r.verdict == "holds" and r.stopped_early and r.trials < 500 and r.trials % 16 == 0
    assert "anytime-valid" in r.interval


def test_sequential_stops_early_when_violated():
    # Deterministic: RandomFail(1.0) doubles the output on every trial, so every input fails
    # (the tiny net's outputs on this data are non-zero) and the sequence rejects delta = 0.1
    # after a few batches.
    r = check_guarantee(
        tiny_model(),
        tiny_data(),
        RandomFail(1.0),
        0.1,
        0.1,
        trials=50,
        max_trials=300,
        sequential=True,
        batch_size=10,
    )
    assert r.verdict == "violated" and r.stopped_early and r.trials < 50
    assert r.p_hat == 1.0 and r.lower > 0.1


def test_sequential_at_p_equal_delta_is_inconclusive():
    # FailAbove fails exactly the held-out inputs with x_0 > 0.9: 3 of the 30, so p = 0.1 = delta
    # exactly (inputs are uniform on the holdout). "holds" needs upper <= delta = p and
    # "violated" needs lower > p; either means the anytime sequence rejected the true p, which
    # happens with probability <= alpha = 1e-7 (Ville): the false-failure rate of this test.
    hold = tiny_data(30, seed=2)
    hold[:, 0] *= 0.9
    hold[:3, 0] = 0.95
    with torch.no_grad():
        assert bool((tiny_model()(hold) != 0).all())  # doubling changes every output
    r = check_guarantee(
        tiny_model(),
        tiny_data(),
        FailAbove(0.9),
        0.1,
        0.1,
        trials=60,
        holdout=hold,
        sequential=True,
        alpha=1e-7,
    )
    assert r.verdict == "inconclusive" and r.trials == 60 and not r.stopped_early
    assert 0 < r.failures < 60  # both kinds of outcome occurred
    assert r.more_trials is None or r.more_trials > 0


# ------------------------------------------------------------------------------------------------
# Reproducibility across executors
# ------------------------------------------------------------------------------------------------


def _run(executor=None, seed=5):
    return check_guarantee(
        tiny_model(),
        tiny_data(),
        NoiseCompressor(0.2),
        0.1,
        0.3,
        trials=12,
        inputs_per_trial=3,
        executor=executor,
        seed=seed,
        batch_size=5,
    )


def _same(a: GuaranteeCheck, b: GuaranteeCheck) -> None:
    np.testing.assert_array_equal(a.worst_errors, b.worst_errors)
    np.testing.assert_array_equal(a.failure_fractions, b.failure_fractions)
    assert (a.verdict, a.lower, a.upper, a.achieved_eps) == (
        b.verdict,
        b.lower,
        b.upper,
        b.achieved_eps,
    )


def test_seed_reproducible_and_seed_matters():
    a, b, c = _run(seed=5), _run(seed=5), _run(seed=6)
    _same(a, b)
    assert not np.array_equal(a.worst_errors, c.worst_errors)
    assert np.all(np.isfinite(a.worst_errors)) and np.all(a.worst_errors > 0)


def test_process_pool_gives_identical_results():
    serial = _run()
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as ex:
        parallel = _run(ex)
        # a worker's error reaches the caller
        with pytest.raises(TypeError, match="compressor must return an nn.Module"):
            check_guarantee(tiny_model(), tiny_data(), return_junk, 0.1, 0.2, trials=4, executor=ex)
    _same(serial, parallel)


def test_dask_executor_gives_identical_results():
    distributed = pytest.importorskip("distributed")
    serial = _run()
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with client.get_executor() as ex:
            dask = _run(ex)
    _same(serial, dask)


# ------------------------------------------------------------------------------------------------
# Output
# ------------------------------------------------------------------------------------------------


def test_to_dict_is_json_and_summary(capsys):
    r = check_guarantee(
        tiny_model(), tiny_data(), zero_first_weight, 0.01, 0.2, trials=4, progress=True
    )
    assert "trials" in capsys.readouterr().err  # the forced progress bar
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert d["verdict"] == r.verdict and d["trials"] == 4
    assert len(d["worst_errors"]) == 4 and len(d["failure_fractions"]) == 4
    assert set(d) >= {"p_hat", "lower", "upper", "alpha", "eps", "delta", "achieved_eps", "seed"}
    text = r.summary()
    assert r.verdict in text and "achieved eps" in text


# ------------------------------------------------------------------------------------------------
# SamplerCompressor
# ------------------------------------------------------------------------------------------------


def test_sampler_compressor_calls_compress(monkeypatch):
    import netcoreset.sampler

    calls = []

    def fake_compress(model, data, **kwargs):
        calls.append(kwargs)
        return _Result(model)

    monkeypatch.setattr(netcoreset.sampler, "compress", fake_compress, raising=False)
    comp = pickle.loads(pickle.dumps(SamplerCompressor("l2", keep=0.3)))
    r = check_guarantee(tiny_model(), tiny_data(), comp, 0.1, 0.2, trials=3)
    assert r.failures == 0 and len(calls) == 3
    assert all(c["method"] == "l2" and c["keep"] == 0.3 for c in calls)
    assert all(isinstance(c["generator"], torch.Generator) for c in calls)
    assert "SamplerCompressor(method='l2', keep=0.3)" == r.compressor
    with pytest.raises(ValueError, match="generator"):
        SamplerCompressor(generator=torch.Generator())


# ------------------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"eps": 0.0}, "eps must be a real number in the open interval"),
        ({"eps": 1.5}, "eps must be"),
        ({"delta": 1.0}, "delta must be"),
        ({"alpha": 0.0}, "alpha must be"),
        ({"trials": 0}, "trials must be"),
        ({"inputs_per_trial": 0}, "inputs_per_trial must be"),
        ({"data": torch.empty(0, 5)}, "data is empty"),
        ({"data": torch.rand(5)}, r"data must have shape \(n, ...\)"),
        ({"data": tiny_data(3), "inputs_per_trial": 3}, "holdout has 2 inputs, fewer than"),
        ({"data": tiny_data(3), "holdout_fraction": 0.99}, "pool is empty"),
        ({"holdout_fraction": 1.0}, "holdout_fraction must be"),
        ({"data": torch.rand(10, 4)}, "model does not accept inputs of shape"),
        ({"holdout": torch.rand(10, 4)}, "holdout has per-input shape"),
        ({"data": torch.tensor([[float("nan")] * 5] * 4)}, "data contains NaN or inf"),
        ({"holdout": torch.full((3, 5), float("inf"))}, "holdout contains NaN or inf"),
        ({"bound": "wald"}, "bound must be one of"),
        ({"bound": "clopper-pearson", "inputs_per_trial": 2}, "clopper-pearson"),
        ({"bound": "bernstein", "sequential": True}, "fixed-n only"),
        ({"max_trials": 10}, "max_trials applies to sequential"),
        ({"seed": -1}, "seed must be"),
        ({"compressor": 3}, "compressor must be callable"),
        ({"data": [[0.1] * 5]}, "data must be a torch.Tensor or numpy array"),
    ],
)
def test_bad_input(kwargs, match):
    args = {
        "model": tiny_model(),
        "data": tiny_data(),
        "compressor": identity_compressor,
        "eps": 0.1,
        "delta": 0.1,
        "trials": 3,
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        check_guarantee(**args)


def test_numpy_data_accepted_and_junk_compressor_rejected():
    x = tiny_data().numpy().astype(np.float64)  # cast to the model's dtype
    r = check_guarantee(tiny_model(), x, identity_compressor, 0.1, 0.2, trials=2)
    assert r.trials == 2
    with pytest.raises(TypeError, match="compressor must return an nn.Module"):
        check_guarantee(tiny_model(), x, return_junk, 0.1, 0.2, trials=2)
