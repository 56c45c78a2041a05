"""The statistical checker on the certificates of issue 9: CoreNet++ with the union bound, the
tight certificate, and the held-out certificate must HOLD.

False-failure rates. ``check_guarantee`` with one input per trial uses the exact two-sided
Clopper-Pearson interval, so its verdict is a function of the failure count k of T trials:
"holds" exactly when k <= k_max(T, alpha, delta). Each test states a bound p0 on the true
failure probability p (proved for the held-out certificate, measured for the others) and
asserts P(Bin(T, p0) > k_max) <= 1e-6: a correct implementation fails with probability
at most 1e-6 per test. Within the time budget (T = 200 compressions per test) that rate is
reachable for the statement p <= DELTA_CHECKED = 0.15 (k_max = 17), which is what the
checker verifies here: weaker than the certificates' delta (0.1 and 0.02), whose exactness
the bounds tests establish (tests/test_theory_bounds.py).
"""

from __future__ import annotations

import pytest
import torch
from scipy import stats

from netcoreset.verification import SamplerCompressor, check_guarantee, clopper_pearson
from netcoreset.verification.networks import build_relu_network

from _stats import FALSE_FAILURE_RATE

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

EPS, ALPHA, TRIALS, DELTA_CHECKED = 0.5, 1e-2, 200, 0.15


def _k_max(trials: int, alpha: float, delta: float) -> int:
    k = -1
    while clopper_pearson(k + 1, trials, alpha)[1] <= delta:
        k += 1
    return k


def _net(n: int):
    net = build_relu_network([8, 12, 12, 4], weight_law="gaussian", seed=3)
    return net, torch.rand(n, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


@pytest.mark.parametrize(
    ("compressor", "p0", "n"),
    [
        # Guarantee mode keeps (almost) every weight (kappa), so p comes from inputs that use
        # edges unseen on S; measured while writing this test: 5 failures in 800 inputs for
        # each (0.6%); p0 = 1.5% gives P(Bin(200, p0) > 17) = 2e-9.
        (SamplerCompressor("corenet", eps=EPS, delta=0.1, certificate="tight"), 0.015, 600),
        (SamplerCompressor("corenet++", eps=EPS, delta=0.1, tau=3), 0.015, 600),
        # The held-out certificate at delta = 0.02 PROVES p <= 0.02 (i.i.d. points only):
        # P(Bin(200, 0.02) > 17) = 1.5e-7.
        (SamplerCompressor("corenet", eps=EPS, delta=0.02, certificate="holdout"), 0.02, 1400),
    ],
    ids=["tight", "corenet++", "holdout"],
)
def test_certificate_holds_on_the_checker(compressor, p0, n):
    model, x = _net(n)
    k_max = _k_max(TRIALS, ALPHA, DELTA_CHECKED)
    assert stats.binom.sf(k_max, TRIALS, p0) <= FALSE_FAILURE_RATE
    res = check_guarantee(
        model, x, compressor, EPS, DELTA_CHECKED, trials=TRIALS, alpha=ALPHA, seed=0
    )
    assert res.verdict == "holds", res.summary()
