"""Generalisation bounds from first principles: the kl inverse against scipy and mpmath, a
hand-computed Occam bound, ln k for k choices, the binomial form against scipy.stats.binom,
the order binomial <= kl <= Hoeffding, the exact failure probability of each form for one
classifier, and a synthetic learning task with known true errors.

False-failure rates: every test is deterministic (fixed inputs or fixed seeds) except the
synthetic-task test, whose assertions are designed so that a correct implementation fails
with probability <= 1e-6 in total; the derivation is in its comment.
"""

from __future__ import annotations

import json
import math

import mpmath
import numpy as np
import pytest
from scipy import optimize, special, stats

from netcoreset.bounds import (
    OCCAM_FORMS,
    binary_kl,
    binomial_tail_upper,
    compressed_size_bound,
    corenet_generalization_bound,
    count_bits,
    kl_upper,
    margin_compression_bound,
    margin_error_count,
    max_logit_deviation,
    occam_bound,
    positions_bits,
    prior_cost_nats,
    union_bound_nats,
)

Q_GRID = [0.0, 1e-6, 1e-3, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999]
C_GRID = [1e-10, 1e-6, 1e-3, 0.01, 0.1, 0.5, 1.0, 3.0, 10.0]


# --- binary kl ---------------------------------------------------------------------------------


def test_binary_kl_hand_values():
    # 0.1 ln(0.1/0.2) + 0.9 ln(0.9/0.8) = -0.0693147 + 0.1060047 = 0.0366900
    assert binary_kl(0.1, 0.2) == pytest.approx(0.1 * math.log(0.5) + 0.9 * math.log(9 / 8))
    assert binary_kl(0.0, 0.5) == pytest.approx(math.log(2))  # 0 log 0 = 0
    assert binary_kl(1.0, 0.25) == pytest.approx(math.log(4))
    assert binary_kl(0.3, 0.3) == 0.0
    assert binary_kl(0.5, 1.0) == math.inf and binary_kl(0.5, 0.0) == math.inf
    assert binary_kl(0.0, 0.0) == 0.0 and binary_kl(1.0, 1.0) == 0.0
    got = binary_kl(np.array([[0.1], [0.5]]), np.array([0.2, 0.5]))
    assert got.shape == (2, 2) and got[1, 1] == 0.0


def test_binary_kl_is_accurate_where_naive_formulas_lose_digits():
    # near p = q, near p = 0 (kl(0||p) = -log1p(-p)) and near p = 1; reference at 50 digits
    mpmath.mp.dps = 50
    cases = [(0.3, 0.3 + 1e-9), (0.0, 1e-17), (0.2, 1 - 2**-52), (0.7, 1e-300), (0.5, 0.5 - 1e-12)]
    for q, p in cases:
        Q, P = mpmath.mpf(q), mpmath.mpf(p)
        t1 = Q * mpmath.log(Q / P) if q > 0 else 0
        exact = t1 + (1 - Q) * mpmath.log((1 - Q) / (1 - P))
        assert binary_kl(q, p) == pytest.approx(float(exact), rel=1e-14), (q, p)


def test_binary_kl_rejects_bad_input():
    with pytest.raises(ValueError, match=r"^q must lie in \[0, 1\]"):
        binary_kl(1.5, 0.5)
    with pytest.raises(ValueError, match=r"^p must be >= 0"):
        binary_kl(0.5, -0.1)


# --- kl inverse ----------------------------------------------------------------------------------


def _scipy_kl(q, p):
    # an independent implementation (scipy's rel_entr), for the root finder
    return special.rel_entr(q, p) + special.rel_entr(1 - q, 1 - p)


def test_kl_upper_matches_scipy_brentq_on_a_grid():
    worst = 0.0
    for q in Q_GRID:
        for c in C_GRID:
            top = 1 - 1e-15
            if _scipy_kl(q, top) < c:  # the root is within 1e-15 of 1
                assert kl_upper(q, c) >= top
                continue
            f = lambda p, q=q, c=c: _scipy_kl(q, p) - c  # noqa: E731
            root = optimize.brentq(f, q, top, xtol=1e-300, rtol=4 * np.finfo(float).eps)
            worst = max(worst, abs(kl_upper(q, c) - root))
    # measured: 4e-13 (scipy's rel_entr loses digits for tiny c; ours agrees with 60 digits)
    assert worst <= 1e-11


def test_kl_upper_is_never_below_the_exact_root():
    # the root of kl(q||p) = c at 60 digits (bisection in mpmath), compared exactly
    mpmath.mp.dps = 60

    def exact_kl(Q, P):
        if P >= 1:
            return mpmath.inf
        t1 = Q * mpmath.log(Q / P) if Q > 0 else 0
        return t1 + (1 - Q) * mpmath.log((1 - Q) / (1 - P))

    worst = 0.0
    for q in Q_GRID:
        for c in C_GRID:
            Q, C = mpmath.mpf(q), mpmath.mpf(c)
            lo, hi = Q, mpmath.mpf(1)
            for _ in range(220):
                mid = (lo + hi) / 2
                lo, hi = (lo, mid) if exact_kl(Q, mid) > C else (mid, hi)
            u = kl_upper(q, c)
            assert mpmath.mpf(u) >= hi, (q, c, u)  # never below the true root
            worst = max(worst, float((mpmath.mpf(u) - hi) / hi))
    assert worst <= 1e-12  # and only rounding above it (measured 1.4e-14)


def test_kl_upper_special_values_and_monotonicity():
    assert kl_upper(0.25, 0.0) == 0.25 and kl_upper(0.0, 0.0) == 0.0
    assert kl_upper(1.0, 0.5) == 1.0 and kl_upper(0.3, math.inf) == 1.0
    assert kl_upper(0.0, 0.01) == pytest.approx(-math.expm1(-0.01), rel=1e-15)
    assert kl_upper(0.0, 1e-300) == pytest.approx(1e-300, rel=1e-12)
    grid = kl_upper(np.array(Q_GRID)[:, None], np.array(C_GRID)[None, :])
    assert np.all(np.diff(grid, axis=0) >= 0) and np.all(np.diff(grid, axis=1) >= 0)
    assert np.all(grid >= np.array(Q_GRID)[:, None])
    assert grid[3, 4] == kl_upper(Q_GRID[3], C_GRID[4])  # vectorised = elementwise


def test_kl_upper_rejects_bad_input():
    with pytest.raises(ValueError, match=r"^c must be a real number >= 0"):
        kl_upper(0.1, -1.0)
    with pytest.raises(ValueError, match=r"^q must lie in \[0, 1\]"):
        kl_upper(2.0, 1.0)


# --- exact binomial tail -------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 7, 30, 120])
def test_binomial_tail_upper_against_scipy_stats(n):
    # the result u is the upper end of the bracket: the tail at u is <= the level and the tail
    # at the float just below u is >= the level (scipy's binom.cdf, relative slack 1e-9)
    for k in range(n):
        for level in (0.5, 0.05, 1e-3, 1e-9):
            u = binomial_tail_upper(k, n, math.log(level))
            assert stats.binom.cdf(k, n, u) <= level * (1 + 1e-9)
            assert stats.binom.cdf(k, n, np.nextafter(u, 0.0)) >= level * (1 - 1e-9)


def test_binomial_tail_upper_closed_form_and_extremes():
    # k = 0: (1 - p)^n = level  <=>  p = 1 - level^(1/n)
    for n, level in ((1, 0.05), (100, 0.05), (60000, 1e-30)):
        u = binomial_tail_upper(0, n, math.log(level))
        assert u == pytest.approx(-math.expm1(math.log(level) / n), rel=1e-12)
    assert binomial_tail_upper(5, 5, -1.0) == 1.0  # k = n: every p qualifies
    # a level of 0.05 * 2^-100000 underflows any float; the log-space tail does not
    u = binomial_tail_upper(3000, 60000, math.log(0.05) - 1e5 * math.log(2))
    assert 0.05 < u < 1.0
    ks = [binomial_tail_upper(k, 50, math.log(0.05)) for k in range(51)]
    assert all(a < b for a, b in zip(ks, ks[1:], strict=False))


def test_binomial_tail_upper_rejects_bad_input():
    with pytest.raises(ValueError, match=r"^log_delta must be a real number < 0"):
        binomial_tail_upper(1, 10, 0.0)
    with pytest.raises(ValueError, match=r"^k must be an integer in \[0, n\]"):
        binomial_tail_upper(11, 10, -1.0)
    with pytest.raises(ValueError, match=r"^n must be an integer >= 1"):
        binomial_tail_upper(0, 0, -1.0)


# --- the Occam bound -----------------------------------------------------------------------------


def test_occam_bound_hand_computed():
    # k = 0, n = 1000, 10 bits, delta = 0.05:
    #   complexity 10 ln 2 = 6.931472 nats, confidence ln 20 = 2.995732 nats,
    #   c = 9.927204 / 1000 = 0.009927204
    #   kl:        kl(0||p) = -ln(1 - p) = c  =>  p = 1 - e^-c = 0.009878092
    #   binomial:  (1 - p)^1000 = 0.05 / 1024  =>  the same p (k = 0)
    #   Hoeffding: 0 + sqrt(c / 2) = sqrt(0.004963602) = 0.07045283
    b = {f: occam_bound(0, 1000, 10, 0.05, form=f) for f in OCCAM_FORMS}
    assert b["kl"].terms["rate"] == pytest.approx(0.009927204, abs=1e-9)
    assert b["kl"].bound == pytest.approx(0.009878092, abs=1e-9)
    assert b["binomial"].bound == pytest.approx(0.009878092, abs=1e-9)
    assert b["hoeffding"].bound == pytest.approx(0.07045283, abs=1e-8)
    assert b["kl"].complexity_nats == pytest.approx(6.931472, abs=1e-6)
    assert b["kl"].confidence_nats == pytest.approx(2.995732, abs=1e-6)
    # k = 5 of n = 100, no bits, delta = 0.05, the binomial form is Clopper-Pearson's upper
    # limit at one-sided level 0.05: scipy's beta quantile gives the same number
    cp = stats.beta.ppf(1 - 0.05, 5 + 1, 100 - 5)
    assert occam_bound(5, 100, 0, 0.05, form="binomial").bound == pytest.approx(cp, rel=1e-9)


def test_occam_bound_result_fields_and_json():
    b = occam_bound(30, 1000, 123.5, 0.01, form="hoeffding")
    assert (b.errors, b.n, b.train_error, b.delta, b.description_bits) == (
        30,
        1000,
        0.03,
        0.01,
        123.5,
    )
    t = b.terms
    assert t["total_nats"] == pytest.approx(t["complexity_nats"] + t["confidence_nats"])
    assert t["total_bits"] == pytest.approx(t["total_nats"] / math.log(2))
    assert t["gap"] == pytest.approx(b.bound - b.train_error)
    d = json.loads(json.dumps(b.to_dict()))
    assert {"bound", "form", "train_error", "n", "delta", "description_bits", "terms"} <= set(d)
    assert occam_bound(900, 1000, 1e6, 0.05, form="hoeffding").bound == 1.0  # capped at 1


def test_forms_are_ordered_binomial_le_kl_le_hoeffding():
    # Chernoff: binomial <= kl; Pinsker: kl <= Hoeffding (proved in bounds.symbolic). The
    # computed binomial form is rounded up by its rounding margin (<= 1e-12 relative, e.g.
    # at k = 0 where the two forms coincide exactly), hence the 1e-9.
    for n in (10, 200, 60000):
        for frac in (0.0, 0.01, 0.1, 0.45, 0.9, 1.0):
            for bits in (0.0, 10.0, 1e3, 1e5):
                k = int(round(frac * n))
                v = [occam_bound(k, n, bits, 0.05, form=f).bound for f in OCCAM_FORMS]
                assert v[0] <= v[1] * (1 + 1e-9) and v[1] <= v[2] * (1 + 1e-12), (n, k, bits, v)
                assert v[0] >= k / n


def test_union_bound_over_k_equal_choices_costs_exactly_ln_k():
    for k in (1, 2, 3, 8, 1000, 10**9):
        assert union_bound_nats(k) == math.log(k)
        assert prior_cost_nats(1.0 / k) == pytest.approx(math.log(k), rel=1e-15)
    # paying log2(k) bits is the same as running the bound at delta / k
    for form in OCCAM_FORMS:
        a = occam_bound(12, 500, math.log2(16), 0.05, form=form).bound
        b = occam_bound(12, 500, 0.0, 0.05 / 16, form=form).bound
        assert a == pytest.approx(b, rel=1e-12)
    with pytest.raises(ValueError, match=r"^num_choices must be an integer >= 1"):
        union_bound_nats(0)
    with pytest.raises(ValueError, match=r"^weight must be a real number in \(0, 1\]"):
        prior_cost_nats(1.5)


def test_occam_bound_rejects_bad_input():
    with pytest.raises(ValueError, match=r"^errors must be an integer in \[0, n\]"):
        occam_bound(11, 10, 1.0, 0.05)
    with pytest.raises(ValueError, match=r"^errors must be an integer >= 0"):
        occam_bound(1.5, 10, 1.0, 0.05)
    with pytest.raises(ValueError, match=r"^bits must be a finite real number >= 0"):
        occam_bound(1, 10, -1.0, 0.05)
    with pytest.raises(ValueError, match=r"^bits must be a finite real number >= 0"):
        occam_bound(1, 10, math.inf, 0.05)
    with pytest.raises(ValueError, match=r"^delta must be a real number in the open interval"):
        occam_bound(1, 10, 1.0, 1.0)
    with pytest.raises(ValueError, match=r"^form must be one of binomial, kl, hoeffding"):
        occam_bound(1, 10, 1.0, 0.05, form="chernoff")


# --- exact failure probability of each form for one classifier ------------------------------------


def _bounds_for_every_k(form, n, bits, delta):
    return np.array([occam_bound(k, n, bits, delta, form=form).bound for k in range(n + 1)])


def _failure_probability(bounds, p_true):
    # P over k ~ Bin(n, p_true) that the bound computed from k is below p_true: exact
    n = bounds.size - 1
    pmf = stats.binom.pmf(np.arange(n + 1), n, p_true)
    return float(pmf[bounds < p_true].sum())


@pytest.mark.parametrize("form", OCCAM_FORMS)
def test_each_form_fails_with_probability_at_most_its_level(form):
    # One classifier with true error p: its number of training errors is Bin(n, p), so the
    # probability that the bound falls below p is an exact finite sum. It must be <= delta 2^-bits
    # for every p (that is the whole content of the bound for one classifier; the union bound
    # then gives delta over all classifiers). Deterministic.
    delta = 0.1
    worst = 0.0
    for n in (20, 97):
        for bits in (0.0, 3.0):
            level = delta * 2.0**-bits
            bounds = _bounds_for_every_k(form, n, bits, delta)
            for p in np.linspace(0.005, 0.995, 199):
                prob = _failure_probability(bounds, p)
                assert prob <= level * (1 + 1e-9), (form, n, bits, p, prob)
                worst = max(worst, prob / level)
    if form == "binomial":
        assert worst >= 0.5  # exact form: the level is nearly attained (measured 0.9996)


def test_failure_probability_check_can_fail():
    # the same check rejects a bound that is too small: the binomial form at level 4 delta
    delta = 0.1
    bounds = _bounds_for_every_k("binomial", 97, 0.0, 4 * delta)
    assert max(_failure_probability(bounds, p) for p in np.linspace(0.05, 0.95, 19)) > delta


# --- a synthetic task whose true errors are known exactly ----------------------------------------

RHO = 0.1  # label noise: each label is flipped independently with probability 0.1
N_TRAIN = 200
DELTA = 0.05
SEEDS = 300


def _thresholds_task(rng, bits):
    # x ~ U[0, 1], y = 1[x > t*] flipped with prob RHO; class: h_t(x) = 1[x > t] with t on a
    # grid of 2^bits points in [0, 1], fixed before the data; t* = 19/63 is on the 6-bit grid.
    grid = np.arange(2**bits) / (2**bits - 1)
    t_star = 19 / 63
    x = rng.uniform(size=N_TRAIN)
    y = (x > t_star) ^ (rng.uniform(size=N_TRAIN) < RHO)
    errors = ((x[:, None] > grid[None, :]) != y[:, None]).sum(axis=0)
    true = RHO + (1 - 2 * RHO) * np.abs(grid - t_star)  # P(h_t != y), exact
    return errors, true


def _linear_task(rng, bits):
    # x ~ N(0, I_2), y = sign(<w*, x>) flipped with prob RHO; class: sign(<w_theta, x>) with
    # theta on a grid of 2^bits angles. Two half-planes through 0 at angle A disagree on a set of
    # Gaussian measure A/pi, so the true error is RHO + (1 - 2 RHO) A / pi, exactly.
    angles = 2 * np.pi * np.arange(2**bits) / 2**bits
    theta_star = 2 * np.pi * 5 / 32
    x = rng.standard_normal((N_TRAIN, 2))
    y = (x @ [np.cos(theta_star), np.sin(theta_star)] > 0) ^ (rng.uniform(size=N_TRAIN) < RHO)
    w = np.stack([np.cos(angles), np.sin(angles)])
    errors = ((x @ w > 0) != y[:, None]).sum(axis=0)
    gap = np.abs((angles - theta_star + np.pi) % (2 * np.pi) - np.pi)
    return errors, RHO + (1 - 2 * RHO) * gap / np.pi


def test_linear_task_true_error_formula_on_a_million_points():
    # check the exact formula used above on 10^6 held-out points of one classifier: Hoeffding at
    # rate 1e-9 allows sqrt(ln(2e9)/(2e6)) = 0.0033. Fixed seed.
    rng = np.random.default_rng(2024)
    x = rng.standard_normal((10**6, 2))
    theta_star, theta = 2 * np.pi * 5 / 32, 2 * np.pi * 9 / 32
    y = (x @ [np.cos(theta_star), np.sin(theta_star)] > 0) ^ (rng.uniform(size=10**6) < RHO)
    empirical = np.mean((x @ [np.cos(theta), np.sin(theta)] > 0) != y)
    exact = RHO + (1 - 2 * RHO) * (theta - theta_star) / np.pi
    assert abs(empirical - exact) <= math.sqrt(math.log(2e9) / 2e6)


@pytest.mark.parametrize(("task", "bits"), [(_thresholds_task, 6), (_linear_task, 5)])
def test_occam_bound_of_the_learned_classifier_is_never_below_its_true_error(task, bits):
    # For each seed: draw n = 200 training points, pick the classifier with the fewest training
    # errors (ERM: it depends on the data), bound its true error with the code fixed before the
    # data (uniform over the 2^bits classifiers: `bits` bits each).
    #
    # False-failure rate. For one seed the Occam bound fails (for any classifier) with
    # probability <= delta; seeds are independent, so the failure count F of each form is
    # stochastically below Bin(300, 0.05). We allow F <= f_max with P[Bin(300, 0.05) > f_max]
    # <= 1e-7 (three forms x two tasks = 6e-7 in total). The sanity assertion below (the
    # training error alone fails often) has a false-failure rate <= 1e-8 per task (derived
    # there); in all <= 1e-6. In practice the bound, being a union bound, fails far less
    # often than delta: the observed counts are 0.
    f_max = int(stats.binom.isf(1e-7, SEEDS, DELTA))
    failures = dict.fromkeys(OCCAM_FORMS, 0)
    naive = 0
    gaps = []
    for seed in range(SEEDS):
        rng = np.random.default_rng([7, bits, seed])
        errors, true = task(rng, bits)
        pick = int(np.argmin(errors))
        for form in OCCAM_FORMS:
            b = occam_bound(int(errors[pick]), N_TRAIN, float(bits), DELTA, form=form)
            failures[form] += b.bound < true[pick]
            if form == "kl":
                gaps.append(b.bound - true[pick])
        naive += errors[pick] / N_TRAIN < true[pick]
    assert all(f <= f_max for f in failures.values()), (failures, f_max)
    assert np.mean(gaps) < 0.25  # informative, not vacuous (measured 0.098 and 0.093)
    # Sanity: the check has teeth. The best classifier h* of the class has true error
    # exactly RHO = 0.1, and ERM's training error <= that of h* while its true error >= RHO, so
    # the training error of the pick is below its true error whenever Bin(200, 0.1) < 20:
    # probability pi = P[Bin(200, 0.1) <= 19] = 0.45. Requiring naive > f_max fails with
    # probability P[Bin(300, pi) <= f_max] <= 1e-8 (asserted).
    pi = stats.binom.cdf(19, N_TRAIN, RHO)
    assert stats.binom.cdf(f_max, SEEDS, pi) <= 1e-8
    assert naive > f_max


# --- margins and the compression framework --------------------------------------------------------


def test_margin_error_count_and_logit_deviation():
    z = [[2.0, 0.0, 1.0], [0.5, 0.0, 0.2], [0.0, 1.0, 0.0], [1.0, 1.0, 0.0]]
    y = [0, 0, 0, 0]
    # margins 1.0, 0.3, -1.0, 0.0 (a tie counts as an error)
    assert margin_error_count(z, y) == 2
    assert margin_error_count(z, y, gamma=0.3) == 3
    assert margin_error_count(z, y, gamma=1.0) == 4
    assert max_logit_deviation([[1.0, 2.0]], [[1.25, 1.5]]) == 0.5
    with pytest.raises(ValueError, match=r"^labels must lie in \[0, 2\]"):
        margin_error_count(z, [0, 0, 3, 0])
    with pytest.raises(ValueError, match=r"^logits must be a 2-d array"):
        margin_error_count([1.0, 2.0], [0, 1])
    with pytest.raises(ValueError, match=r"^f_logits and g_logits must have the same"):
        max_logit_deviation([[1.0]], [[1.0, 2.0]])


def test_half_gamma_per_logit_keeps_errors_below_the_gamma_margin_errors():
    # Arora et al.'s condition: |f - g| <= gamma/2 per logit => training errors of g <= margin
    # errors of f at gamma. Deterministic (fixed seed), and it holds for every draw.
    rng = np.random.default_rng(3)
    for _ in range(50):
        f = rng.normal(size=(300, 10))
        y = rng.integers(0, 10, size=300)
        gamma = float(rng.uniform(0.05, 2.0))
        g = f + rng.uniform(-gamma / 2, gamma / 2, size=f.shape)
        assert max_logit_deviation(f, g) <= gamma / 2
        assert margin_error_count(g, y) <= margin_error_count(f, y, gamma)
    # with per-logit errors of gamma (not gamma/2) a margin-gamma point can be misclassified
    f = np.array([[1.0 + 1e-9, 0.0]])
    gamma = 1.0
    g = f + np.array([[-gamma, gamma]])
    assert margin_error_count(f, [0], gamma) == 0 and margin_error_count(g, [0]) == 1


def test_margin_compression_bound_hand_computed():
    # 50 margin errors of 10000, q = 1000 parameters with r = 16 values, delta = 0.05:
    # 0.005 + sqrt((1000 ln 16 + ln 20) / 20000) = 0.005 + sqrt(2775.585/20000) = 0.377531
    b = margin_compression_bound(50, 10000, 1000, 16, 0.05, gamma=0.5)
    assert b.bound == pytest.approx(0.005 + math.sqrt((1000 * math.log(16) + math.log(20)) / 2e4))
    assert b.parameter_bits == 4000.0 and b.per_logit_tolerance == 0.25
    kl = margin_compression_bound(50, 10000, 1000, 16, 0.05, form="kl")
    assert kl.bound <= b.bound
    extra = margin_compression_bound(50, 10000, 1000, 16, 0.05, extra_bits=100.0)
    assert extra.description_bits == 4100.0 and extra.bound > b.bound
    assert margin_compression_bound(0, 100, 0, 1, 0.5).bound == pytest.approx(
        math.sqrt(math.log(2) / 200)
    )
    with pytest.raises(ValueError, match=r"^levels must be an integer >= 1"):
        margin_compression_bound(0, 100, 10, 0, 0.05)


def test_corenet_corollary_every_term_by_hand():
    # 4-3-2 with biases: N = (5*3, 4*2) = (15, 8) slots; S_i = 2 per neuron, Dhat = (1, 1)
    arch, n, gamma, M, delta = [4, 3, 2], 10**6, 1.0, 10.0, 0.05
    sens = [[2.0] * 3, [2.0] * 2]
    b = corenet_generalization_bound(arch, 7, n, gamma, M, sens, [1.0, 1.0], delta, K=2.0)
    assert b.eps == gamma / (2 * M) == 0.05  # per-logit error <= eps M = gamma/2
    assert b.delta_compression == 0.025 and b.delta_generalization == 0.025
    assert b.delta_per_point == 0.025 / n  # union bound over the n training points
    raw = compressed_size_bound(sens, [1.0, 1.0], 0.05, 0.025 / n, 5, K=2.0)
    assert b.nnz_bound == [min(int(raw[0]), 15), min(int(raw[1]), 8)] == [15, 8]
    assert b.slots == [15, 8]
    assert b.count_bits == [count_bits(15), count_bits(8)] == [4.0, 4.0]
    # all slots kept: the positions cost the largest binomial C(N, floor(N/2)) of the worst case
    assert b.position_bits == [positions_bits(15, 7), positions_bits(8, 4)]
    assert b.value_bits == [15 * 32.0, 8 * 32.0]
    total = 8 + positions_bits(15, 7) + positions_bits(8, 4) + 23 * 32
    assert b.description_bits == pytest.approx(total)
    ref = occam_bound(7, n, total, 0.025, form="hoeffding").bound
    assert b.bound == pytest.approx(ref, rel=1e-15)
    assert b.terms["o_tilde_argument"] == pytest.approx(math.sqrt(100 * 4 * (6 + 4) / 1e6))
    assert json.loads(json.dumps(b.to_dict()))["form"] == "hoeffding"
    loose = corenet_generalization_bound(
        arch, 7, n, gamma, M, sens, [1.0, 1.0], delta, K=2.0, union_over_points=False
    )
    assert loose.delta_per_point == 0.025


def test_corenet_corollary_rejects_bad_input():
    sens = [[2.0] * 3, [2.0] * 2]
    with pytest.raises(ValueError, match=r"^gamma must be < 2 \* max_output_norm"):
        corenet_generalization_bound([4, 3, 2], 0, 100, 20.0, 10.0, sens, [1.0, 1.0], 0.05, K=2)
    with pytest.raises(ValueError, match=r"^sensitivity_sums\[1\] needs one value per neuron"):
        corenet_generalization_bound(
            [4, 3, 2], 0, 100, 1.0, 10.0, [[2.0] * 3, [2.0]], [1, 1], 0.05, K=2
        )
    with pytest.raises(ValueError, match=r"^margin_errors must be an integer in \[0, n\]"):
        corenet_generalization_bound([4, 3, 2], 101, 100, 1.0, 10.0, sens, [1.0, 1.0], 0.05, K=2)
    with pytest.raises(ValueError, match=r"^K must exceed 1: Assumption 1"):
        corenet_generalization_bound([4, 3, 2], 0, 100, 1.0, 10.0, sens, [1.0, 1.0], 0.05, K=1)
