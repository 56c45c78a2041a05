"""Helpers for statistical assertions with a stated false-failure rate.

Every statistical test in this suite fails a correct implementation with probability at most
its ``rate`` (<= 1e-6); the rate is split over simultaneous assertions by a union bound.
"""

from __future__ import annotations

import math

from scipy import stats

FALSE_FAILURE_RATE = 1e-6


def bernstein_deviation(n_terms: float, variance: float, bound: float, rate: float) -> float:
    r"""Deviation ``t`` of a sum of ``n_terms`` independent terms, each within ``bound`` of its
    mean and with variance ``variance``, such that :math:`P(|\sum - \mathbb{E}| \ge t) \le`
    ``rate``.

    Bernstein: :math:`P \le 2\exp(-t^2 / (2(n v + b t/3)))`. Setting this to ``rate`` with
    :math:`\Lambda = \log(2/\text{rate})` gives the quadratic
    :math:`t^2 - \tfrac{2}{3} b\Lambda t - 2 n v \Lambda = 0`, whose positive root is returned.
    """
    lam = math.log(2.0 / rate)
    a = bound * lam / 3.0
    return a + math.sqrt(a * a + 2.0 * n_terms * variance * lam)


def binomial_acceptance(n: int, p: float, rate: float) -> tuple[int, int]:
    """Two-sided acceptance interval ``[lo, hi]`` of a Binomial(n, p) count with
    ``P(X < lo) + P(X > hi) <= rate`` (exact tails, ``rate/2`` each)."""
    lo = int(stats.binom.ppf(rate / 2.0, n, p))
    hi = int(stats.binom.isf(rate / 2.0, n, p))
    # ppf gives the smallest k with CDF(k) >= rate/2, so P(X < lo) = CDF(lo - 1) < rate/2;
    # isf gives the smallest k with SF(k) <= rate/2, so P(X > hi) <= rate/2.
    return lo, hi
