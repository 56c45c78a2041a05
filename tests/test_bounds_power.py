"""Tests with power: the exact failure probability of each generalisation bound on tasks whose
true error is known, and mutation tests that each wrong variant is caught.

Everything here is deterministic: every probability is a finite sum of binomial (or
multinomial) probabilities, computed, not sampled, so the false-failure rate is 0. A bound
"fails" when it is below the true error; its failure probability over the sample is

* for **one fixed classifier** of true error ``p`` with ``k ~ Bin(n, p)`` training errors:
  ``sum of Bin(n, p)(k) over the k whose bound is < p``; it must be at most the level the
  union bound allots to that classifier, ``delta * prior weight``;
* for a **class** of ``M`` classifiers with disjoint error regions of probability ``p`` each
  (their error counts are multinomial): the probability that *some* bound is below ``p``,
  computed by a recursion over the points left (a binomial per classifier); it must be at
  most ``delta``.

The mutations (union-bound bits dropped, ``delta = 0.5``, ``n`` doubled, the gap halved) must
each exceed the level they were meant to meet. Measured ratios (failure probability / level,
maximum over the grid of ``p``) are in the comments next to each assertion.

For the PAC-Bayes forms the confidence term ``ln(2 sqrt(n) / delta)`` leaves a slack of about
``2 sqrt(n)`` for a point-mass posterior, so their mutations are detectable only at small ``n``
(``n = 10``, ``M = 256``) and only where they remove more than that slack: McAllester's form
(looser again by Pinsker) with ``delta = 0.5`` fails with probability 0.23 of its level and is
therefore not among the mutations asserted for it.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

from netcoreset.bounds import OCCAM_FORMS, occam_bound
from netcoreset.bounds.pac_bayes import (
    catoni_bound,
    mcallester_bound,
    monte_carlo_error_bound,
    pac_bayes_bound,
    pac_bayes_kl_bound,
)

DELTA = 0.05
TOL = 1 + 1e-9  # the sums are exact up to float rounding


# --- exact failure probabilities ------------------------------------------------------------------


def _table(bound_of_k, n):
    """The bound for every possible number of errors ``k = 0..n``."""
    return np.array([bound_of_k(k) for k in range(n + 1)], dtype=np.float64)


def single_failure(table, p):
    """P[bound(k) < p] for k ~ Bin(n, p): one classifier of true error p."""
    n = table.size - 1
    pmf = stats.binom.pmf(np.arange(n + 1), n, p)
    return float(pmf[table < p].sum())


@functools.lru_cache(maxsize=256)
def _transitions(n, p, m_classifiers):
    """Per classifier j, the matrix P[k_j = r - r' | r points left] (rows r, columns r')."""
    r = np.arange(n + 1)
    k = r[:, None] - r[None, :]
    kk = np.clip(k, 0, n)
    mats = []
    for j in range(m_classifiers):
        pj = min(1.0, p / (1.0 - j * p))
        mats.append(np.where(k >= 0, stats.binom.pmf(kk, r[:, None], pj), 0.0))
    return kk, mats


def class_failure(table, p, m_classifiers):
    """P[some bound(k_j) < p] for M classifiers with disjoint error regions of probability p.

    (k_1, ..., k_M, rest) is multinomial; sequentially k_j | k_1..k_{j-1} ~ Bin(r, p / (1 - (j-1)p))
    with r the points not yet in an error region, so the probability that every k_j passes is a
    product of transition matrices over r.
    """
    n = table.size - 1
    passes = (table >= p).astype(np.float64)
    kk, mats = _transitions(n, float(p), m_classifiers)
    prob = np.zeros(n + 1)
    prob[n] = 1.0
    for step in mats:
        prob = prob @ (step * passes[kk])
    return 1.0 - float(prob.sum())


def worst(fn, table, ps, *args):
    return max(fn(table, p, *args) for p in ps)


def test_the_exact_sums_agree_with_simulation():
    # the two helpers against a direct simulation, 2e5 draws at fixed seeds (Hoeffding at rate
    # 1e-7 each allows sqrt(ln(2e7)/4e5) = 0.0065)
    rng = np.random.default_rng(11)
    n, p, m = 30, 0.1, 4
    table = _table(lambda k: occam_bound(k, n, 2.0, 0.3, form="kl").bound, n)
    draws = rng.multinomial(n, [p] * m + [1 - m * p], size=200_000)
    tol = math.sqrt(math.log(2e7) / 4e5)
    assert abs(np.mean(table[draws[:, 0]] < p) - single_failure(table, p)) <= tol
    sim = np.mean((table[draws[:, :m]] < p).any(axis=1))
    assert abs(sim - class_failure(table, p, m)) <= tol


# --- the Occam bound ------------------------------------------------------------------------------

N = 200
BITS = 3  # the classifier is one of M = 8, prior weight 1/8
M = 2**BITS
P_SINGLE = np.linspace(0.005, 0.995, 199)
P_CLASS = np.linspace(0.005, 1.0 / M, 25)  # M disjoint regions need M p <= 1


def _occam(form, *, n=N, bits=BITS, delta=DELTA, scale_n=1, gap=1.0):
    def bound(k):
        b = occam_bound(scale_n * k, scale_n * n, bits, delta, form=form).bound
        return k / n + gap * (b - k / n)

    return _table(bound, n)


MUTATIONS: dict[str, dict[str, Any]] = {
    "union bits dropped": {"bits": 0.0},
    "delta = 0.5": {"delta": 0.5},
    "n doubled": {"scale_n": 2},
    "gap halved": {"gap": 0.5},
}


@pytest.mark.parametrize("form", OCCAM_FORMS)
def test_occam_bound_fails_at_most_at_its_level(form):
    level = DELTA / M
    ratio = worst(single_failure, _occam(form), P_SINGLE) / level
    assert ratio <= TOL, ratio  # binomial 0.996, kl 0.665, hoeffding 0.115 of the level
    if form != "hoeffding":
        whole = worst(class_failure, _occam(form), P_CLASS, M) / DELTA
        assert whole <= TOL, whole  # binomial 0.987, kl 0.399 of delta


@pytest.mark.parametrize("form", ["binomial", "kl"])
@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_occam_mutations_are_caught_by_the_whole_certificate(form, mutation):
    # over the class of 8 classifiers, the mutated certificate fails with probability > delta
    # (measured: binomial 6.3-10.4 delta, kl 4.5-6.3 delta)
    table = _occam(form, **MUTATIONS[mutation])
    assert worst(class_failure, table, P_CLASS, M) > 2 * DELTA, (form, mutation)


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_occam_mutations_of_the_hoeffding_form_are_caught_for_one_classifier(mutation):
    # Hoeffding's form is loose at small p (0.115 of its level at worst), so its mutations
    # show at the level of one classifier, over p in [0.005, 0.995]: measured 1.06 (bits
    # dropped), 1.56 (delta = 0.5), 2.26 (n doubled), 12.8 (gap halved) times delta / M
    table = _occam("hoeffding", **MUTATIONS[mutation])
    assert worst(single_failure, table, P_SINGLE) > DELTA / M * TOL, mutation


# --- the PAC-Bayes forms on a point-mass posterior ------------------------------------------------

N_PB = 10
M_PB = 256  # a uniform prior over 256 classifiers: KL(point mass || prior) = ln 256
KL_PB = math.log(M_PB)
LAMBDAS = (0.5, 1.0, 2.0, 4.0, 8.0)
P_PB = np.linspace(0.0025, 0.9975, 399)


def _pac_bayes(form, *, kl=KL_PB, n=N_PB, delta=DELTA, scale_n=1, gap=1.0):
    def bound(k):
        q = k / n
        if form == "kl":
            b = pac_bayes_kl_bound(q, kl, scale_n * n, delta)
        elif form == "mcallester":
            b = mcallester_bound(q, kl, scale_n * n, delta)
        else:
            b = min(catoni_bound(q, kl, scale_n * n, delta, v, len(LAMBDAS)) for v in LAMBDAS)
        return q + gap * (b - q)

    return _table(bound, n)


PB_MUTATIONS: dict[str, dict[str, Any]] = {
    "KL dropped": {"kl": 0.0},
    "delta = 0.5": {"delta": 0.5},
    "n doubled": {"scale_n": 2},
    "gap halved": {"gap": 0.5},
}
# measured worst failure / (delta / M): correct kl 0.15, mcallester 0.014, catoni 0.19;
# KL dropped 40 / 10 / 50; delta = 0.5 1.56 / 0.23 / 1.95; n doubled 23 / 5.6 / 31;
# gap halved about 2000 each
PB_CAUGHT = [
    (form, mutation)
    for form in ("kl", "mcallester", "catoni")
    for mutation in sorted(PB_MUTATIONS)
    if not (form == "mcallester" and mutation == "delta = 0.5")
]


@pytest.mark.parametrize("form", ["kl", "mcallester", "catoni"])
def test_pac_bayes_forms_fail_at_most_at_their_level(form):
    level = DELTA / M_PB
    assert worst(single_failure, _pac_bayes(form), P_PB) <= level * TOL


@pytest.mark.parametrize(("form", "mutation"), PB_CAUGHT)
def test_pac_bayes_mutations_are_caught(form, mutation):
    table = _pac_bayes(form, **PB_MUTATIONS[mutation])
    assert worst(single_failure, table, P_PB) > DELTA / M_PB * 1.2, (form, mutation)


def test_maurer_xi_is_at_most_two_sqrt_n():
    # xi(n) = sum_k C(n,k) (k/n)^k (1-k/n)^(n-k), exactly in log space; the kl and McAllester
    # forms use ln(2 sqrt(n)) in its place
    for n in range(1, 2001):
        k = np.arange(n + 1)
        xi = float(np.exp(stats.binom.logpmf(k, n, k / n)).sum())
        assert xi <= 2 * math.sqrt(n) * (1 + 1e-12), n
        assert n < 8 or xi >= math.sqrt(n)  # Maurer (2004): sqrt(n) <= xi(n) for n >= 8


# --- the Monte Carlo correction and the whole stochastic certificate ------------------------------


def test_monte_carlo_bound_fails_at_most_at_delta_prime_and_its_mutations_are_caught():
    # each draw's error is 0 or 1 here (the worst case of a [0, 1] variable): the mean of m draws
    # is Bin(m, q) / m; failure = the bound below q
    m, dp = 40, 0.05
    qs = np.linspace(0.0025, 0.9975, 399)
    right = _table(lambda j: monte_carlo_error_bound(j / m, m, dp), m)
    assert worst(single_failure, right, qs) <= dp * TOL  # measured 0.41 delta'
    raw = _table(lambda j: j / m, m)  # the estimate itself: fails about half the time
    assert worst(single_failure, raw, qs) > 5 * dp
    doubled = _table(lambda j: monte_carlo_error_bound(2 * j / (2 * m), 2 * m, dp), m)
    assert worst(single_failure, doubled, qs) > dp


def test_the_stochastic_certificate_composes_the_two_bounds_at_delta_plus_delta_prime():
    # the whole certificate is the PAC-Bayes form evaluated at the Monte Carlo upper bound;
    # each part's exact failure probability is checked above, the union adds the levels
    mc, m, kl, n, delta, dp = 0.03, 500, 40.0, 5000, 0.02, 0.03
    upper = monte_carlo_error_bound(mc, m, dp)
    for form, direct in (
        ("kl", pac_bayes_kl_bound(upper, kl, n, delta)),
        ("mcallester", mcallester_bound(upper, kl, n, delta)),
        ("catoni", min(catoni_bound(upper, kl, n, delta, v, len(LAMBDAS)) for v in LAMBDAS)),
    ):
        b = pac_bayes_bound(mc, m, kl, n, delta, dp, form, lambdas=LAMBDAS)
        assert b.bound == direct and b.empirical_error_bound == upper and b.stochastic
        assert b.total_delta == pytest.approx(delta + dp, abs=1e-15)
