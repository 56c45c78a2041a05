"""Tests of netcoreset.verification.confidence (intervals, sequences, verdicts).

False-failure rates: tests that draw random samples fix their seeds; each such test states the
probability that it would fail for a correct implementation on a fresh seed (<= 1e-6), from the
coverage guarantee of the interval under test. Deterministic tests (exact formulas, fixed data)
cannot fail by chance.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from netcoreset.verification.confidence import (
    BettingConfidenceSequence,
    betting_cs,
    clopper_pearson,
    empirical_bernstein,
    quantile_ci,
    trials_to_decide,
    verdict,
)

# ------------------------------------------------------------------------------------------------
# Clopper-Pearson
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [0.05, 1e-3, 1e-7])
@pytest.mark.parametrize(
    ("k", "n"), [(0, 1), (1, 1), (0, 10), (3, 10), (10, 10), (7, 200), (0, 500)]
)
def test_clopper_pearson_matches_scipy_exact(k, n, alpha):
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=1 - alpha, method="exact")
    lo, hi = clopper_pearson(k, n, alpha)
    assert lo == pytest.approx(ci.low, rel=1e-9, abs=1e-15)
    assert hi == pytest.approx(ci.high, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 10), (10, 10), (7, 200)])
def test_clopper_pearson_one_sided_matches_scipy(k, n):
    alpha = 0.01
    up = stats.binomtest(k, n, alternative="less").proportion_ci(1 - alpha, method="exact")
    low = stats.binomtest(k, n, alternative="greater").proportion_ci(1 - alpha, method="exact")
    assert clopper_pearson(k, n, alpha, side="upper") == pytest.approx((0.0, up.high), abs=1e-12)
    assert clopper_pearson(k, n, alpha, side="lower") == pytest.approx((low.low, 1.0), abs=1e-12)


def test_clopper_pearson_zero_failures_closed_form():
    # k = 0: upper = 1 - (alpha/2)^(1/n) exactly
    for n in (1, 5, 60, 1000):
        assert clopper_pearson(0, n, 0.01)[1] == pytest.approx(1 - 0.005 ** (1 / n), rel=1e-10)


@pytest.mark.parametrize(("p", "n"), [(0.01, 50), (0.1, 30), (0.5, 17), (0.93, 40)])
def test_clopper_pearson_exact_coverage(p, n):
    # Deterministic: coverage = sum of Bin(n, p) pmf over k whose interval contains p.
    alpha = 0.05
    cover = sum(
        stats.binom.pmf(k, n, p)
        for k in range(n + 1)
        if clopper_pearson(k, n, alpha)[0] <= p <= clopper_pearson(k, n, alpha)[1]
    )
    assert cover >= 1 - alpha


@given(
    n=st.integers(1, 400),
    frac=st.floats(0, 1),
    alpha=st.floats(1e-8, 0.5),
)
def test_clopper_pearson_monotone(n, frac, alpha):
    k = int(round(frac * n))
    lo, hi = clopper_pearson(k, n, alpha)
    assert 0.0 <= lo <= k / n <= hi <= 1.0
    if k < n:  # one more failure moves both bounds up
        lo2, hi2 = clopper_pearson(k + 1, n, alpha)
        assert lo2 >= lo and hi2 >= hi
    # one more success-free trial moves both bounds down
    lo3, hi3 = clopper_pearson(k, n + 1, alpha)
    assert lo3 <= lo + 1e-15 and hi3 <= hi + 1e-15
    # smaller alpha -> wider interval
    lo4, hi4 = clopper_pearson(k, n, alpha / 10)
    assert lo4 <= lo + 1e-15 and hi4 >= hi - 1e-15
    # one-sided bounds are inside the two-sided ones at the same alpha
    assert clopper_pearson(k, n, alpha, side="upper")[1] <= hi + 1e-15
    assert clopper_pearson(k, n, alpha, side="lower")[0] >= lo - 1e-15


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"k": 3, "n": 2, "alpha": 0.1}, "k must be"),
        ({"k": -1, "n": 2, "alpha": 0.1}, "k must be"),
        ({"k": 0, "n": 0, "alpha": 0.1}, "n must be"),
        ({"k": 0, "n": 2, "alpha": 1.0}, "alpha"),
        ({"k": 0.5, "n": 2, "alpha": 0.1}, "k must be"),
        ({"k": 0, "n": 2, "alpha": 0.1, "side": "left"}, "side"),
    ],
)
def test_clopper_pearson_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        clopper_pearson(**kwargs)


# ------------------------------------------------------------------------------------------------
# Betting confidence sequence
# ------------------------------------------------------------------------------------------------

# Ville's inequality: with alpha = 1e-7 a sequence misses the true mean at ANY time with
# probability <= 1e-7; the test below checks 6 sequences at every step, so a correct
# implementation fails it on a fresh seed with probability <= 6e-7.
_SAMPLERS = [
    ("bernoulli 0.02", 0.02, lambda rng, n: rng.binomial(1, 0.02, n)),
    ("bernoulli 0.5", 0.5, lambda rng, n: rng.binomial(1, 0.5, n)),
    ("bernoulli 0.97", 0.97, lambda rng, n: rng.binomial(1, 0.97, n)),
    ("beta(2,5)", 2 / 7, lambda rng, n: rng.beta(2, 5, n)),
    ("beta(0.3,0.3)", 0.5, lambda rng, n: rng.beta(0.3, 0.3, n)),
    ("fractions of 4", 0.15, lambda rng, n: rng.binomial(4, 0.15, n) / 4),
]


def test_betting_cs_contains_true_mean_at_all_times():
    alpha = 1e-7
    for i, (name, mean, draw) in enumerate(_SAMPLERS):
        rng = np.random.default_rng(1000 + i)
        cs = BettingConfidenceSequence(alpha, grid=1001)
        x = draw(rng, 1500)
        widths = []
        for chunk in np.array_split(x, 30):
            cs.update(chunk)
            lo, hi = cs.interval()
            assert lo <= mean <= hi, (name, cs.t, lo, hi)
            widths.append(hi - lo)
        # the sequence is a running intersection: widths never grow
        assert all(b <= a + 1e-12 for a, b in zip(widths, widths[1:], strict=False)), name


def test_betting_cs_deterministic_data_shrinks_around_mean():
    # Deterministic data: every 10th observation is 1, mean 0.1.
    x = np.tile(np.r_[1.0, np.zeros(9)], 300)
    prev = (0.0, 1.0)
    for n in (100, 300, 1000, 3000):
        lo, hi = betting_cs(x[:n], 1e-3)
        assert lo <= 0.1 <= hi
        assert prev[0] <= lo and hi <= prev[1]
        prev = (lo, hi)
    # anytime-valid costs width, but within a factor 2 of the fixed-n exact interval here
    cp_lo, cp_hi = clopper_pearson(300, 3000, 1e-3)
    assert prev[1] - prev[0] < 2 * (cp_hi - cp_lo)
    # all zeros: the lower bound stays at 0 and the upper bound goes to 0
    lo, hi = betting_cs(np.zeros(1000), 1e-3)
    assert lo == 0.0 and 0.0 < hi < 0.02
    lo, hi = betting_cs(np.ones(1000), 1e-3)
    assert hi == 1.0 and 0.98 < lo < 1.0


def test_betting_cs_grid_refinement_is_nested():
    # Grid 101 is a subset of grid 1001; reporting the rejected cell edge outward means the
    # coarse interval contains the fine one (deterministic given the data).
    x = np.random.default_rng(3).beta(2, 5, 400)
    for horizon in (None, 400):
        lo_c, hi_c = betting_cs(x, 1e-3, grid=101, horizon=horizon)
        lo_f, hi_f = betting_cs(x, 1e-3, grid=1001, horizon=horizon)
        assert lo_c <= lo_f <= hi_f <= hi_c
        assert hi_c - lo_c <= hi_f - lo_f + 2 * 0.01 + 1e-12


def test_betting_cs_chunking_does_not_matter():
    x = np.random.default_rng(4).binomial(1, 0.2, 700).astype(float)
    whole = BettingConfidenceSequence(1e-3)
    whole.update(x)
    parts = BettingConfidenceSequence(1e-3)
    for piece in np.array_split(x, 9):
        parts.update(piece, chunk=17)
    assert whole.interval() == parts.interval()
    np.testing.assert_allclose(whole._log_kp, parts._log_kp, rtol=1e-10, atol=1e-10)
    assert whole.mean == pytest.approx(0.2, abs=0.05) and whole.t == 700


def test_betting_cs_fixed_horizon_is_tighter_at_horizon():
    x = np.tile(np.r_[1.0, 0.0, 0.0, 0.0], 250)  # mean 0.25, deterministic
    lo_a, hi_a = betting_cs(x, 1e-3)
    lo_n, hi_n = betting_cs(x, 1e-3, horizon=x.size)
    assert lo_n <= 0.25 <= hi_n and lo_a <= 0.25 <= hi_a
    assert hi_n - lo_n < hi_a - lo_a


def test_betting_cs_empty_and_bad_input():
    cs = BettingConfidenceSequence(0.05)
    assert cs.interval() == (0.0, 1.0) and math.isnan(cs.mean)
    for bad in ([0.5, 1.2], [np.nan], [-0.1]):
        with pytest.raises(ValueError, match="x must contain only finite values in"):
            cs.update(bad)
    with pytest.raises(ValueError, match="grid"):
        BettingConfidenceSequence(0.05, grid=2)
    with pytest.raises(ValueError, match="truncation"):
        BettingConfidenceSequence(0.05, truncation=1.0)
    with pytest.raises(ValueError, match="horizon"):
        BettingConfidenceSequence(0.05, horizon=0)
    with pytest.raises(ValueError, match="alpha"):
        betting_cs([0.1], 0.0)


# ------------------------------------------------------------------------------------------------
# Empirical Bernstein
# ------------------------------------------------------------------------------------------------


def test_empirical_bernstein_formula():
    x = np.array([0.1, 0.4, 0.4, 0.9, 0.0, 0.3])
    n, alpha = x.size, 0.05
    a = math.log(2 / (alpha / 2))
    half = math.sqrt(2 * np.var(x, ddof=1) * a / n) + 7 * a / (3 * (n - 1))
    assert empirical_bernstein(x, alpha) == pytest.approx(
        (max(0, x.mean() - half), min(1, x.mean() + half))
    )
    x = np.random.default_rng(0).beta(2, 8, 5000)
    a1 = math.log(2 / 0.01)
    half1 = math.sqrt(2 * np.var(x, ddof=1) * a1 / x.size) + 7 * a1 / (3 * (x.size - 1))
    lo, hi = empirical_bernstein(x, 0.01, side="upper")
    assert lo == 0.0 and hi == pytest.approx(x.mean() + half1)
    lo, hi = empirical_bernstein(x, 0.01, side="lower")
    assert hi == 1.0 and lo == pytest.approx(x.mean() - half1)


def test_empirical_bernstein_covers():
    # Each interval misses with probability <= 1e-7 (Maurer & Pontil, Thm 4, both sides at
    # alpha/2); 6 intervals -> a correct implementation fails this on a fresh seed w.p. <= 6e-7.
    for i, (name, mean, draw) in enumerate(_SAMPLERS):
        x = draw(np.random.default_rng(2000 + i), 2000)
        lo, hi = empirical_bernstein(x, 1e-7)
        assert lo <= mean <= hi, name


def test_empirical_bernstein_bad_input():
    with pytest.raises(ValueError, match="at least 2"):
        empirical_bernstein([0.5], 0.1)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        empirical_bernstein([0.5, 2.0], 0.1)
    with pytest.raises(ValueError, match="side"):
        empirical_bernstein([0.5, 0.2], 0.1, side="both")


# ------------------------------------------------------------------------------------------------
# Quantile interval
# ------------------------------------------------------------------------------------------------


def test_quantile_ci_median_n10_classical():
    # For n = 10, q = 1/2 at alpha = 0.05: P(B <= 1) = 0.0107 <= 0.025 < P(B <= 2) = 0.0547,
    # so l = 2 and u = 9: the classical (X_(2), X_(9)) median interval.
    x = np.arange(10, 0, -1).astype(float)  # unsorted on purpose
    est, lo, hi = quantile_ci(x, 0.5, 0.05)
    assert (est, lo, hi) == (5.0, 2.0, 9.0)


def test_quantile_ci_small_samples_are_unbounded():
    # q = 0.9, n = 3: P(B <= 0) = 0.001 <= alpha/2 -> lower = X_(1); P(B >= 3) = 0.729 -> no u
    est, lo, hi = quantile_ci([0.3, 0.1, 0.2], 0.9, 0.05)
    assert est == 0.3 and hi == math.inf and lo == 0.1
    # q = 0.5, n = 3: P(B <= 0) = P(B >= 3) = 0.125 > alpha/2 -> (0, inf)
    est, lo, hi = quantile_ci([0.3, 0.1, 0.2], 0.5, 0.05)
    assert est == 0.2 and lo == 0.0 and hi == math.inf


def test_quantile_ci_covers_with_atoms_and_inf():
    # Each interval misses w.p. <= 1e-7 (binomial argument in the docstring, valid with atoms);
    # 3 intervals -> false-failure rate <= 3e-7.
    rng = np.random.default_rng(7)
    # continuous: exponential(1), 0.9-quantile = log(10)
    x = rng.exponential(1.0, 3000)
    _, lo, hi = quantile_ci(x, 0.9, 1e-7)
    assert lo <= math.log(10) <= hi
    # atoms at 0 (60%), inf (5%) and uniform(0, 1) in between: 0.9-quantile is at
    # F = 0.6 + 0.35 u = 0.9  ->  u = 0.3 / 0.35
    u = rng.random(3000)
    x = np.where(u < 0.6, 0.0, np.where(u < 0.95, rng.random(3000), np.inf))
    _, lo, hi = quantile_ci(x, 0.9, 1e-7)
    assert lo <= 0.3 / 0.35 <= hi
    # 0.97-quantile is inf there
    _, lo, hi = quantile_ci(x, 0.97, 1e-7)
    assert hi == math.inf


def test_quantile_ci_bad_input():
    with pytest.raises(ValueError, match="at least 1"):
        quantile_ci([], 0.5, 0.1)
    with pytest.raises(ValueError, match="NaN"):
        quantile_ci([np.nan, 1.0], 0.5, 0.1)
    with pytest.raises(ValueError, match="non-negative"):
        quantile_ci([-1.0, 1.0], 0.5, 0.1)
    with pytest.raises(ValueError, match="q must"):
        quantile_ci([1.0], 1.0, 0.1)


# ------------------------------------------------------------------------------------------------
# Verdicts
# ------------------------------------------------------------------------------------------------


def test_verdict_rules_and_errors():
    assert verdict(0.0, 0.1, 0.1) == "holds"  # upper == delta holds
    assert verdict(0.1, 0.3, 0.1) == "inconclusive"  # lower == delta is not a violation
    assert verdict(0.1000001, 0.3, 0.1) == "violated"
    with pytest.raises(ValueError, match="lower <= upper"):
        verdict(0.3, 0.2, 0.1)
    with pytest.raises(ValueError, match="delta"):
        verdict(0.1, 0.2, 1.5)


def test_trials_to_decide_clopper_pearson_exact():
    alpha, delta = 1e-3, 0.05
    # zero failures: CP upper 1 - (alpha/2)^(1/N) <= delta  <=>  N >= log(alpha/2)/log(1-delta)
    need = math.ceil(math.log(alpha / 2) / math.log(1 - delta))
    assert trials_to_decide(0.0, 20, delta, alpha) == need - 20
    assert clopper_pearson(0, need, alpha)[1] <= delta < clopper_pearson(0, need - 1, alpha)[1]
    # already decided -> 0; p_hat == delta -> None (never)
    assert trials_to_decide(0.0, 1000, delta, alpha) == 0
    assert trials_to_decide(delta, 100, delta, alpha) is None
    # a violation: 30% observed against delta 5%
    more = trials_to_decide(0.3, 10, delta, alpha)
    N = 10 + more
    assert clopper_pearson(round(0.3 * N), N, alpha)[0] > delta
    assert clopper_pearson(round(0.3 * (N - 1)), N - 1, alpha)[0] <= delta


def test_trials_to_decide_width_scaling():
    # half-width 0.06 at n = 100 and a gap of 0.03 -> (0.06 / 0.03)^2 * 100 = 400 -> 300 more
    assert trials_to_decide(0.02, 100, 0.05, 1e-3, lower=0.0, upper=0.08) == 300
    assert trials_to_decide(0.02, 100, 0.05, 1e-3, lower=0.0, upper=0.04) == 0
    assert trials_to_decide(0.2, 100, 0.05, 1e-3, lower=0.1, upper=0.3) == 0
    with pytest.raises(ValueError, match="p_hat"):
        trials_to_decide(1.5, 100, 0.05, 1e-3)
