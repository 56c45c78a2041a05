r"""Certificates from held-out points: exact binomial tails and order statistics.

Two statements replace assumptions of the theorem by counts on points :math:`V` drawn from
:math:`\mathcal{D}` independently of what they certify (the theory page *Tight
certificates* derives both):

* **End-to-end** (:func:`binomial_upper_bound`, :func:`holdout_certified_delta`). Given the
  compressed network :math:`\hat\theta` (built without :math:`V`), the failures on
  :math:`V` are Binomial(:math:`|V|, p(\hat\theta)`) with
  :math:`p(\hat\theta) = \mathbb{P}_x(\text{fail} \mid \hat\theta)`. The exact one-sided
  Clopper–Pearson bound :math:`U` gives :math:`\mathbb{P}(p(\hat\theta) > U) \le \alpha`, hence
  :math:`\mathbb{P}_{\hat\theta, V, x}(\text{fail}) \le U + \alpha` for the returned network.
  A search over :math:`G` candidate networks on the same :math:`V` pays :math:`\alpha/G` each.
* **Quantile** (:func:`order_statistic_rank`, :func:`quantile_exceedance`). For a score
  :math:`Y(x)` (the coverage ratio of Lemma 1, the cancellation :math:`\Delta^\ell_i(x)`),
  the :math:`k`-th largest of :math:`|V|` i.i.d. values is exceeded by a fresh
  :math:`Y(x)` with probability at most :math:`p` except with probability
  :math:`\mathbb{P}(\mathrm{Bin}(|V|, p) < k)`.

The sympy check behind the order statistics sits next to this file, in
``certificate_symbolic.py``, and is exported by :mod:`netcoreset.bounds.symbolic`.
"""

from __future__ import annotations

import math

from scipy import stats

from .validation import check_open_unit, check_positive_int

__all__ = [
    "binomial_upper_bound",
    "event_charge",
    "coverage_ranks",
    "COVERAGE_RANK_RATIO",
    "holdout_certified_delta",
    "max_holdout_failures",
    "order_statistic_rank",
    "quantile_exceedance",
]


def _count(name: str, value: int, n: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= n:
        raise ValueError(f"{name} must be an integer in [0, {n}]; got {value!r}")
    return int(value)


def binomial_upper_bound(failures: int, n: int, alpha: float) -> float:
    r"""Exact one-sided upper confidence bound on a binomial probability (Clopper–Pearson).

    .. math::

        U(F) = \begin{cases} B^{-1}(1-\alpha;\ F+1,\ n-F) & F < n\\ 1 & F = n\end{cases}
        \qquad\Longrightarrow\qquad \mathbb{P}_p\bigl(p > U(F)\bigr) \le \alpha
        \ \text{ for every } p,

    with :math:`B^{-1}` the Beta quantile and :math:`F \sim \mathrm{Bin}(n, p)`
    (Clopper & Pearson, 1934): :math:`U(F) < p` exactly when
    :math:`\mathbb{P}_p(\mathrm{Bin}(n, p) \le F) < \alpha`.

    Examples
    --------
    >>> round(binomial_upper_bound(0, 100, 0.05), 4)  # 1 - 0.05 ** (1/100)
    0.0295
    >>> binomial_upper_bound(7, 7, 0.01)
    1.0
    """
    n = check_positive_int("n", n)
    failures = _count("failures", failures, n)
    alpha = check_open_unit("alpha", alpha)
    if failures >= n:
        return 1.0
    return float(stats.beta.ppf(1.0 - alpha, failures + 1, n - failures))


def event_charge(count: int, n: int, alpha: float) -> float:
    r"""What an event costs in a union bound when :math:`n` held-out points, independent of
    everything the event depends on, saw it ``count`` times.

    .. math::

        \mathbb{P}_x(E) \le U_\alpha(F) + \alpha,

    with :math:`U_\alpha` from :func:`binomial_upper_bound`: outside an event of probability
    at most :math:`\alpha` over the held-out points, :math:`\mathbb{P}_x(E) \le U_\alpha(F)`;
    charging :math:`\alpha` for that event makes the bound hold on average over them. This
    is how a certificate charges an assumption the held-out points can contradict
    (Assumption 1 at a given constant, the cancellation event behind :math:`\kappa`),
    whatever the assumption claims (capped at 1).

    Examples
    --------
    >>> round(event_charge(0, 800, 0.0125), 4)  # 1 - 0.0125 ** (1/800) + 0.0125
    0.018
    >>> round(event_charge(590, 849, 0.0125), 3)
    0.743
    """
    return min(1.0, binomial_upper_bound(count, n, alpha) + check_open_unit("alpha", alpha))


#: Ratio of the geometric ladder of ranks of :func:`coverage_ranks`.
COVERAGE_RANK_RATIO = 1.25


def coverage_ranks(n: int, p: float, alpha: float) -> list[tuple[int, float]]:
    r"""The ranks an order-statistic estimate may choose among, fixed before the values are
    seen, each with the level it is certified at: ``[(rank, level), ...]``.

    When the estimate must move to a larger rank after looking at the values (the
    :math:`k`-th largest is infinite), a rank that depends on the values breaks the
    guarantee of :func:`quantile_exceedance`. Paying for the choice in the union bound
    restores it. The first rank :math:`k_0` is the largest certified for :math:`p` at level
    :math:`\alpha/2` (:func:`order_statistic_rank`, or 1); the others are the ladder
    :math:`\lceil r^i \rceil > k_0` up to :math:`n` (:math:`r` =
    :data:`COVERAGE_RANK_RATIO`), :math:`G` of them, each at level :math:`\alpha/(2G)`
    (:math:`k_0` alone, at level :math:`\alpha`, when the ladder is empty). The levels sum to
    :math:`\alpha`, so

    .. math::

        \mathbb{P}\Bigl(\exists (k, \beta_k):\
        \mathbb{P}_Y\bigl(Y > Y_{[k]}\bigr) > B^{-1}(1 - \beta_k;\ k,\ n-k+1)\Bigr)
        \le \sum_k \beta_k = \alpha,

    and any rank chosen from the list after seeing the values is covered. Without a reason
    to move, the estimate keeps :math:`k_0`, which costs only :math:`\alpha/2` instead of
    :math:`\alpha`.

    Examples
    --------
    >>> ranks = coverage_ranks(849, 0.0125, 0.0125)
    >>> [k for k, _ in ranks[:6]], len(ranks), round(sum(level for _, level in ranks), 12)
    ([3, 4, 5, 6, 8, 10], 26, 0.0125)
    """
    n = check_positive_int("n", n)
    p = check_open_unit("p", p)
    alpha = check_open_unit("alpha", alpha)
    first = order_statistic_rank(n, p, alpha / 2.0) or 1
    ladder: list[int] = []
    value = 1.0
    while math.ceil(value) <= n:
        rank = math.ceil(value)
        if rank > first and (not ladder or rank > ladder[-1]):
            ladder.append(rank)
        value *= COVERAGE_RANK_RATIO
    if not ladder:
        return [(order_statistic_rank(n, p, alpha) or 1, alpha)]
    rest = alpha / (2.0 * len(ladder))
    return [(first, alpha / 2.0)] + [(k, rest) for k in ladder]


def holdout_certified_delta(failures: int, n: int, alpha: float, candidates: int = 1) -> float:
    r"""The failure probability certified for a network chosen among ``candidates`` by its
    failures on :math:`n` held-out points.

    .. math::

        \delta_{\text{cert}} = U_{\alpha/G}(F) + \alpha,

    :math:`U` from :func:`binomial_upper_bound` at level :math:`\alpha/G` for :math:`G`
    candidates, all of them built without the held-out points. On the event that every
    candidate's bound holds (probability at least :math:`1-\alpha`, union bound) the returned
    one fails on a fresh input with probability at most :math:`U`; the complement costs at most
    :math:`\alpha`.

    Examples
    --------
    >>> round(holdout_certified_delta(10, 800, 0.01, candidates=20), 4)
    0.0413
    """
    candidates = check_positive_int("candidates", candidates)
    alpha = check_open_unit("alpha", alpha)
    return min(1.0, binomial_upper_bound(failures, n, alpha / candidates) + alpha)


def max_holdout_failures(n: int, delta: float, alpha: float, candidates: int = 1) -> int:
    r"""The most failures among :math:`n` held-out points that still certify :math:`\delta`:
    the largest :math:`F` with :func:`holdout_certified_delta` :math:`\le \delta`, or
    :math:`-1` when even :math:`F = 0` does not.

    .. math::

        F_{\max} = \max\{F : U_{\alpha/G}(F) + \alpha \le \delta\}.

    Examples
    --------
    >>> max_holdout_failures(800, 0.1, 0.01, candidates=20)
    46
    >>> max_holdout_failures(20, 0.1, 0.01)
    -1
    """
    n = check_positive_int("n", n)
    delta = check_open_unit("delta", delta)
    lo, hi = -1, n  # invariant: certifies(lo) (or lo = -1), not certifies(hi)
    if holdout_certified_delta(n, n, alpha, candidates) <= delta:
        return n
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if holdout_certified_delta(mid, n, alpha, candidates) <= delta:
            lo = mid
        else:
            hi = mid
    return lo


def order_statistic_rank(n: int, p: float, alpha: float) -> int | None:
    r"""The rank :math:`k` (1 = the largest) of the order statistic of :math:`n` i.i.d. values
    that a fresh value exceeds with probability at most :math:`p`, with confidence
    :math:`1 - \alpha`; ``None`` when :math:`n` is too small.

    For i.i.d. :math:`Y_1, \dots, Y_n, Y` and :math:`Y_{[k]}` the :math:`k`-th largest,

    .. math::

        \mathbb{P}\Bigl(\mathbb{P}_Y\bigl(Y > Y_{[k]}\bigr) > p\Bigr)
        \le \mathbb{P}\bigl(\mathrm{Bin}(n, p) \le k - 1\bigr),

    with equality for continuous distributions: the mass above :math:`Y_{[k]}` exceeds
    :math:`p` only if fewer than :math:`k` of the :math:`n` values fall in the upper
    :math:`p`-tail. The largest :math:`k` with that probability :math:`\le \alpha` is returned.

    See Also
    --------
    netcoreset.bounds.symbolic.check_order_statistic_duality : the binomial-beta duality
        behind this rank, checked by sympy.

    Examples
    --------
    >>> order_statistic_rank(1000, 0.01, 0.01)  # P(Bin(1000, 0.01) <= 3) = 0.0101 > 0.01
    3
    >>> order_statistic_rank(100, 0.01, 0.01) is None  # 0.99**100 = 0.37 > alpha
    True
    """
    n = check_positive_int("n", n)
    p = check_open_unit("p", p)
    alpha = check_open_unit("alpha", alpha)
    k = int(stats.binom.ppf(alpha, n, p))  # smallest k with CDF(k) >= alpha
    while k >= 0 and stats.binom.cdf(k, n, p) > alpha:
        k -= 1
    # now CDF(k) <= alpha: rank k + 1 is valid
    return None if k < 0 else k + 1


def quantile_exceedance(n: int, rank: int, alpha: float) -> float:
    r"""The smallest :math:`p` certified for the rank-``rank`` order statistic (1 = the
    maximum) of :math:`n` values at confidence :math:`1-\alpha`: the inverse of
    :func:`order_statistic_rank`.

    .. math::

        p = \min\{p : \mathbb{P}(\mathrm{Bin}(n, p) \le k - 1) \le \alpha\}
          = B^{-1}(1 - \alpha;\ k,\ n - k + 1).

    Examples
    --------
    >>> round(quantile_exceedance(1000, 1, 0.01), 5)  # 1 - 0.01 ** (1/1000)
    0.00459
    """
    n = check_positive_int("n", n)
    rank = check_positive_int("rank", rank)
    if rank > n:
        raise ValueError(f"rank must be at most n = {n}; got {rank}")
    alpha = check_open_unit("alpha", alpha)
    # P(Bin(n, p) <= k-1) = P(Beta(k, n-k+1) > p): equals alpha at the (1-alpha)-quantile.
    return float(stats.beta.ppf(1.0 - alpha, rank, n - rank + 1))
