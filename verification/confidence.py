r"""Confidence intervals and sequences for failure probabilities (numpy/scipy only, no torch).

The verification module turns repeated compress-and-evaluate trials into a verdict on the
(ε, δ) guarantee of CoreNet (Baykal et al., 2019). The tools here are the statistical core:

* :func:`clopper_pearson` — exact binomial interval for a failure count (one input per trial).
* :class:`BettingConfidenceSequence` / :func:`betting_cs` — anytime-valid confidence sequence
  for the mean of i.i.d. variables in [0, 1] (Waudby-Smith & Ramdas 2024, hedged capital
  process with predictable plug-in bets). Valid simultaneously for all sample sizes, so it may be
  checked after every batch of trials and stopped as soon as it decides.
* :func:`empirical_bernstein` — fixed-n empirical Bernstein bound (Maurer & Pontil 2009).
* :func:`quantile_ci` — distribution-free interval for a quantile from order statistics.
* :func:`verdict` and :func:`trials_to_decide` — the decision rule and a planning estimate.

References
----------
.. [CP34] C. J. Clopper, E. S. Pearson, "The use of confidence or fiducial limits illustrated in
   the case of the binomial", Biometrika 26 (1934).
.. [WSR24] I. Waudby-Smith, A. Ramdas, "Estimating means of bounded random variables by
   betting", J. R. Stat. Soc. B 86 (2024), arXiv 2010.09686.
.. [MP09] A. Maurer, M. Pontil, "Empirical Bernstein bounds and sample variance penalization",
   COLT 2009, Theorem 4.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
from scipy import stats

from netcoreset.bounds.validation import check_int, check_open_unit, check_positive_int

__all__ = [
    "BettingConfidenceSequence",
    "Verdict",
    "betting_cs",
    "clopper_pearson",
    "empirical_bernstein",
    "quantile_ci",
    "trials_to_decide",
    "verdict",
]

Side = Literal["two-sided", "upper", "lower"]
Verdict = Literal["holds", "violated", "inconclusive"]

_SIDES = ("two-sided", "upper", "lower")


def _check_side(side: str) -> str:
    if side not in _SIDES:
        raise ValueError(f"side must be one of {_SIDES}; got {side!r}")
    return side


def _check_unit_sample(name: str, x: Sequence[float] | np.ndarray) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of real numbers in [0, 1]") from exc
    arr = arr.reshape(-1) if arr.ndim <= 1 else arr
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; got shape {arr.shape}")
    if arr.size and (not np.all(np.isfinite(arr)) or arr.min() < 0.0 or arr.max() > 1.0):
        raise ValueError(f"{name} must contain only finite values in [0, 1]")
    return arr


# ------------------------------------------------------------------------------------------------
# Clopper-Pearson
# ------------------------------------------------------------------------------------------------


def clopper_pearson(k: int, n: int, alpha: float, side: Side = "two-sided") -> tuple[float, float]:
    r"""Exact (Clopper–Pearson) confidence interval for a binomial proportion.

    With :math:`k` successes in :math:`n` trials and :math:`B_q(a, b)` the :math:`q`-quantile of the
    Beta(a, b) distribution, the two-sided interval at level :math:`1-\alpha` is

    .. math::

        p_{\mathrm{lo}} = B_{\alpha/2}(k,\, n-k+1), \qquad
        p_{\mathrm{hi}} = B_{1-\alpha/2}(k+1,\, n-k),

    with :math:`p_{\mathrm{lo}} = 0` when :math:`k = 0` and :math:`p_{\mathrm{hi}} = 1` when
    :math:`k = n`. ``side="upper"`` gives the one-sided bound :math:`[0, B_{1-\alpha}(k+1, n-k)]`
    and ``side="lower"`` gives :math:`[B_\alpha(k, n-k+1), 1]`. Coverage is at least
    :math:`1-\alpha` for every :math:`p` and :math:`n` (it is exact: no normal approximation).

    Parameters
    ----------
    k, n : int
        Number of failures and of trials, ``0 <= k <= n``, ``n >= 1``.
    alpha : float
        Miscoverage probability in (0, 1).
    side : {"two-sided", "upper", "lower"}
        Which interval.

    Returns
    -------
    (lower, upper) : tuple of float

    Examples
    --------
    >>> lo, hi = clopper_pearson(0, 100, 0.05)
    >>> lo, round(hi, 4)
    (0.0, 0.0362)
    >>> lo, hi = clopper_pearson(0, 100, 0.05, side="upper")  # the "rule of three": 3/n
    >>> round(hi, 4)
    0.0295
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an integer >= 1; got {n!r}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= n:
        raise ValueError(f"k must be an integer in [0, n] = [0, {n}]; got {k!r}")
    alpha = check_open_unit("alpha", alpha)
    _check_side(side)
    k, n = int(k), int(n)
    a = alpha / 2 if side == "two-sided" else alpha
    lower = 0.0
    upper = 1.0
    if side in ("two-sided", "lower") and k > 0:
        lower = float(stats.beta.ppf(a, k, n - k + 1))
    if side in ("two-sided", "upper") and k < n:
        upper = float(stats.beta.ppf(1 - a, k + 1, n - k))
    return lower, upper


# ------------------------------------------------------------------------------------------------
# Betting confidence sequence
# ------------------------------------------------------------------------------------------------


class BettingConfidenceSequence:
    r"""Anytime-valid betting confidence sequence for a mean in [0, 1] (hedged capital, [WSR24]).

    For each candidate mean :math:`m` on a grid of :math:`[0, 1]` two gamblers bet on
    :math:`X_i - m` in opposite directions:

    .. math::

        \mathcal K^{\pm}_t(m) = \prod_{i=1}^{t} \bigl(1 \pm \lambda^{\pm}_i(m)\,(X_i - m)\bigr),
        \qquad
        \lambda^{+}_i(m) = \min\!\Bigl(\dot\lambda_i, \frac{c}{m}\Bigr),\;
        \lambda^{-}_i(m) = \min\!\Bigl(\dot\lambda_i, \frac{c}{1-m}\Bigr),

    with the predictable plug-in bet (it uses :math:`X_1, \dots, X_{i-1}` only)

    .. math::

        \dot\lambda_i = \sqrt{\frac{2\log(2/\alpha)}{\hat\sigma^2_{i-1}\, i\log(1+i)}}, \quad
        \hat\mu_i = \frac{1/2 + \sum_{j\le i} X_j}{i+1}, \quad
        \hat\sigma^2_i = \frac{1/4 + \sum_{j\le i}(X_j - \hat\mu_j)^2}{i+1}

    (:math:`i\log(1+i)` is replaced by a fixed ``horizon`` :math:`n` when one is given, which tunes
    the bets for that sample size; validity does not depend on the bets). The truncation
    :math:`c \in (0, 1)` keeps every factor :math:`\ge 1 - c > 0`. Under :math:`E X = m` both
    processes are non-negative martingales, so the hedged capital
    :math:`\mathcal K_t(m) = \max(\tfrac12 \mathcal K^+_t, \tfrac12 \mathcal K^-_t) \le
    \tfrac12(\mathcal K^+_t + \mathcal K^-_t)` obeys Ville's inequality
    :math:`P(\exists t: \mathcal K_t(m) \ge 1/\alpha) \le \alpha`. The confidence sequence
    :math:`C_t = \{m : \max_{s \le t} \mathcal K_s(m) < 1/\alpha\}` therefore contains the true mean
    for **all** :math:`t` simultaneously with probability :math:`\ge 1 - \alpha` (the running
    maximum is the running intersection of the :math:`C_s`), including at data-dependent stopping
    times.

    Each factor is non-increasing in :math:`m` for :math:`\mathcal K^+` and non-decreasing for
    :math:`\mathcal K^-`, so the set rejected by :math:`\mathcal K^+` is a down-set
    :math:`[0, a]` and the set rejected by :math:`\mathcal K^-` an up-set :math:`[b, 1]`. The
    reported bounds are conservative grid values: ``lower`` is the largest grid point rejected
    by :math:`\mathcal K^+` (0 if none), ``upper`` the smallest grid point rejected by
    :math:`\mathcal K^-` (1 if none); the true boundary lies inside the grid cell, so reporting the
    rejected cell edge can only widen the interval.

    Parameters
    ----------
    alpha : float
        Miscoverage probability of the whole sequence, in (0, 1).
    grid : int
        Number of equally spaced candidate means in [0, 1] (endpoints included), >= 3.
    truncation : float
        The constant :math:`c` in (0, 1) (default 1/2 as in [WSR24]).
    horizon : int or None
        None: bets scale like :math:`1/\sqrt{t\log t}` (good for sequential use). An integer
        :math:`n`: bets tuned for a fixed sample size :math:`n` (tighter there, still valid).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> cs = BettingConfidenceSequence(alpha=0.01)
    >>> cs.update(rng.binomial(1, 0.2, size=500))
    >>> lo, hi = cs.interval()
    >>> bool(lo < 0.2 < hi), bool(hi - lo < 0.2)
    (True, True)
    """

    def __init__(
        self,
        alpha: float,
        *,
        grid: int = 2001,
        truncation: float = 0.5,
        horizon: int | None = None,
    ) -> None:
        self.alpha = check_open_unit("alpha", alpha)
        grid = check_int("grid", grid, 3, 10**6)  # memory and time grow with the grid
        self.truncation = check_open_unit("truncation", truncation)
        if horizon is not None and (
            isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1
        ):
            raise ValueError(f"horizon must be None or an integer >= 1; got {horizon!r}")
        self.horizon = None if horizon is None else int(horizon)
        self.m = np.linspace(0.0, 1.0, int(grid))
        with np.errstate(divide="ignore"):
            self._cap_plus = np.where(self.m > 0, self.truncation / self.m, np.inf)
            self._cap_minus = np.where(self.m < 1, self.truncation / (1.0 - self.m), np.inf)
        self._log_threshold = math.log(1.0 / self.alpha) + math.log(2.0)  # K^± / 2 >= 1/alpha
        self._log_kp = np.zeros_like(self.m)
        self._log_km = np.zeros_like(self.m)
        self._max_kp = np.zeros_like(self.m)
        self._max_km = np.zeros_like(self.m)
        self.t = 0
        self._sum_x = 0.0
        self._sum_sq = 0.0  # sum_j (X_j - mu_hat_j)^2
        self._sigma2_prev = 0.25

    def update(self, x: Sequence[float] | np.ndarray, *, chunk: int = 256) -> None:
        """Add observations (in order) in [0, 1]; vectorised over the grid, ``chunk`` at a time."""
        arr = _check_unit_sample("x", x)
        for start in range(0, arr.size, chunk):
            self._update_chunk(arr[start : start + chunk])

    def _update_chunk(self, x: np.ndarray) -> None:
        n = x.size
        if n == 0:
            return
        t = self.t + np.arange(1, n + 1, dtype=np.float64)
        # predictable variance estimate sigma2_{t-1}
        mu = (0.5 + self._sum_x + np.cumsum(x)) / (t + 1.0)
        sq = self._sum_sq + np.cumsum((x - mu) ** 2)
        sigma2 = (0.25 + sq) / (t + 1.0)
        sigma2_prev = np.concatenate(([self._sigma2_prev], sigma2[:-1]))
        denom = t * np.log1p(t) if self.horizon is None else np.full(n, float(self.horizon))
        lam = np.sqrt(2.0 * math.log(2.0 / self.alpha) / (sigma2_prev * denom))  # (n,)
        lam_p = np.minimum(lam[:, None], self._cap_plus[None, :])  # (n, G)
        lam_m = np.minimum(lam[:, None], self._cap_minus[None, :])
        dev = x[:, None] - self.m[None, :]
        log_kp = self._log_kp + np.cumsum(np.log1p(lam_p * dev), axis=0)
        log_km = self._log_km + np.cumsum(np.log1p(-lam_m * dev), axis=0)
        self._max_kp = np.maximum(self._max_kp, log_kp.max(axis=0))
        self._max_km = np.maximum(self._max_km, log_km.max(axis=0))
        self._log_kp = log_kp[-1]
        self._log_km = log_km[-1]
        self.t += n
        self._sum_x += float(x.sum())
        self._sum_sq = float(sq[-1])
        self._sigma2_prev = float(sigma2[-1])

    @property
    def mean(self) -> float:
        """Sample mean of the observations so far (nan before any)."""
        return self._sum_x / self.t if self.t else float("nan")

    def interval(self) -> tuple[float, float]:
        """Current (running-intersection) interval ``(lower, upper)``; ``(0, 1)`` before data.

        An empty confidence set (possible only on the miscoverage event, probability <= alpha)
        is reported as the degenerate interval between the two crossing points.
        """
        rej_p = np.nonzero(self._max_kp >= self._log_threshold)[0]
        rej_m = np.nonzero(self._max_km >= self._log_threshold)[0]
        lower = float(self.m[rej_p[-1]]) if rej_p.size else 0.0
        upper = float(self.m[rej_m[0]]) if rej_m.size else 1.0
        return (min(lower, upper), max(lower, upper))


def betting_cs(
    x: Sequence[float] | np.ndarray,
    alpha: float,
    *,
    grid: int = 2001,
    truncation: float = 0.5,
    horizon: int | None = None,
) -> tuple[float, float]:
    r"""Betting confidence interval for the mean of i.i.d. observations in [0, 1].

    The interval is the final set of the anytime-valid hedged-capital confidence sequence of
    :class:`BettingConfidenceSequence` (running intersection, conservative grid edges):

    .. math::

        C_n = \Bigl\{m : \max_{t \le n}\,\max\bigl(\tfrac12\mathcal K^+_t(m),
        \tfrac12\mathcal K^-_t(m)\bigr) < 1/\alpha\Bigr\},
        \qquad P(\forall n:\ \mu \in C_n) \ge 1 - \alpha.

    Pass ``horizon=len(x)`` for a fixed sample size (bets tuned to :math:`n`, tighter there).

    Examples
    --------
    >>> lo, hi = betting_cs(np.zeros(200), 0.05)
    >>> lo, bool(0.0 < hi < 0.05)
    (0.0, True)
    """
    cs = BettingConfidenceSequence(alpha, grid=grid, truncation=truncation, horizon=horizon)
    cs.update(x)
    return cs.interval()


# ------------------------------------------------------------------------------------------------
# Empirical Bernstein
# ------------------------------------------------------------------------------------------------


def empirical_bernstein(
    x: Sequence[float] | np.ndarray, alpha: float, side: Side = "two-sided"
) -> tuple[float, float]:
    r"""Empirical Bernstein interval for the mean of i.i.d. observations in [0, 1] ([MP09], Thm 4).

    With the sample mean :math:`\bar X`, the unbiased sample variance
    :math:`V_n = \frac{1}{n-1}\sum_i (X_i - \bar X)^2` and :math:`n \ge 2`, for each side with
    probability at least :math:`1 - \alpha'`

    .. math::

        \mu \le \bar X + \sqrt{\frac{2 V_n \log(2/\alpha')}{n}} + \frac{7\log(2/\alpha')}{3(n-1)}.

    The lower bound is the same inequality applied to :math:`1 - X`. Two-sided intervals use
    :math:`\alpha' = \alpha/2` per side; one-sided ones :math:`\alpha' = \alpha`. The result is
    clipped to [0, 1]. Valid for a fixed :math:`n` only (not anytime).

    Examples
    --------
    >>> x = np.array([0.0, 1.0] * 50)
    >>> lo, hi = empirical_bernstein(x, 0.05)
    >>> n, v, a = 100, np.var(x, ddof=1), np.log(2 / 0.025)
    >>> bool(np.isclose(hi, 0.5 + np.sqrt(2 * v * a / n) + 7 * a / (3 * (n - 1))))
    True
    """
    arr = _check_unit_sample("x", x)
    alpha = check_open_unit("alpha", alpha)
    _check_side(side)
    n = arr.size
    if n < 2:
        raise ValueError(f"x must contain at least 2 observations; got {n}")
    a = alpha / 2 if side == "two-sided" else alpha
    log_term = math.log(2.0 / a)
    var = float(np.var(arr, ddof=1))
    half = math.sqrt(2.0 * var * log_term / n) + 7.0 * log_term / (3.0 * (n - 1))
    mean = float(arr.mean())
    lower = max(0.0, mean - half) if side in ("two-sided", "lower") else 0.0
    upper = min(1.0, mean + half) if side in ("two-sided", "upper") else 1.0
    return lower, upper


# ------------------------------------------------------------------------------------------------
# Quantiles
# ------------------------------------------------------------------------------------------------


def quantile_ci(
    x: Sequence[float] | np.ndarray, q: float, alpha: float
) -> tuple[float, float, float]:
    r"""Distribution-free confidence interval for the :math:`q`-quantile from order statistics.

    Let :math:`\xi_q = \inf\{t: F(t) \ge q\}` and :math:`X_{(1)} \le \dots \le X_{(n)}`. Because
    :math:`F(\xi_q) \ge q` and :math:`P(X < \xi_q) \le q` for every distribution (atoms allowed),
    with :math:`B \sim \mathrm{Bin}(n, q)`

    .. math::

        P(X_{(l)} > \xi_q) \le P(B \le l-1), \qquad P(X_{(u)} < \xi_q) \le P(B \ge u).

    ``lower`` is :math:`X_{(l)}` with the largest :math:`l` such that
    :math:`P(B \le l-1) \le \alpha/2` (0 if there is none — the observations are assumed
    non-negative, as relative errors are) and ``upper`` is :math:`X_{(u)}` with the smallest
    :math:`u` such that :math:`P(B \ge u) \le \alpha/2` (:math:`+\infty` if :math:`u > n`). Then
    :math:`P(\text{lower} \le \xi_q \le \text{upper}) \ge 1-\alpha`. The estimate is
    :math:`X_{(\lceil nq \rceil)}`. Observations may be :math:`+\infty`.

    Returns
    -------
    (estimate, lower, upper) : tuple of float

    Examples
    --------
    >>> est, lo, hi = quantile_ci(np.arange(1, 101) / 100, 0.9, 0.05)
    >>> est, bool(lo <= 0.9 <= hi)
    (0.9, True)
    """
    try:
        arr = np.sort(np.asarray(x, dtype=np.float64).reshape(-1))
    except (TypeError, ValueError) as exc:
        raise ValueError("x must be an array of real numbers") from exc
    q = check_open_unit("q", q)
    alpha = check_open_unit("alpha", alpha)
    n = arr.size
    if n < 1:
        raise ValueError("x must contain at least 1 observation")
    if np.isnan(arr).any():
        raise ValueError("x must not contain NaN")
    if arr[0] < 0:
        raise ValueError("x must be non-negative (relative errors)")
    est = float(arr[max(1, math.ceil(n * q - 1e-12)) - 1])
    ks = np.arange(0, n + 1)
    cdf = stats.binom.cdf(ks, n, q)  # P(B <= k)
    sf = stats.binom.sf(ks - 1, n, q)  # P(B >= k)
    ok_l = np.nonzero(cdf[:n] <= alpha / 2)[0]  # l - 1 = k  ->  l = k + 1
    lower = float(arr[ok_l[-1]]) if ok_l.size else 0.0
    ok_u = np.nonzero(sf[1:] <= alpha / 2)[0]  # u = k + 1
    upper = float(arr[ok_u[0]]) if ok_u.size else math.inf
    return est, lower, upper


# ------------------------------------------------------------------------------------------------
# Verdicts
# ------------------------------------------------------------------------------------------------


def _real(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def verdict(lower: float, upper: float, delta: float) -> Verdict:
    r"""Decision on :math:`H: p \le \delta` from a confidence interval :math:`[l, u]` for :math:`p`.

    .. math::

        \text{holds} \iff u \le \delta, \qquad \text{violated} \iff l > \delta,
        \qquad \text{inconclusive otherwise.}

    If the interval covers :math:`p` with probability :math:`\ge 1-\alpha`, a decisive verdict
    is wrong with probability at most :math:`\alpha`.

    >>> verdict(0.01, 0.05, 0.1), verdict(0.2, 0.3, 0.1), verdict(0.05, 0.2, 0.1)
    ('holds', 'violated', 'inconclusive')
    """
    delta = check_open_unit("delta", delta)
    if not (_real(lower) and _real(upper) and 0.0 <= lower <= upper <= 1.0):
        raise ValueError(f"need 0 <= lower <= upper <= 1; got ({lower!r}, {upper!r})")
    if upper <= delta:
        return "holds"
    if lower > delta:
        return "violated"
    return "inconclusive"


def trials_to_decide(
    p_hat: float,
    n: int,
    delta: float,
    alpha: float,
    *,
    lower: float | None = None,
    upper: float | None = None,
    max_n: int = 10**8,
) -> int | None:
    r"""Rough estimate of how many MORE trials would give a decisive verdict.

    Assumes the observed rate :math:`\hat p` stays as it is. Without ``lower``/``upper`` the
    count is exact for Clopper–Pearson: the smallest :math:`N \ge n` at which the interval for
    :math:`\mathrm{round}(\hat p N)` failures out of :math:`N` lies on one side of
    :math:`\delta` (geometric then bisection search; the CP bound is monotone in :math:`N` along
    that path up to rounding). With the current interval given (any method whose width scales like
    :math:`1/\sqrt n`, e.g. the betting sequence), the relevant half-width :math:`h` is rescaled:

    .. math::

        N \approx n \,\Bigl(\frac{h}{|\hat p - \delta|}\Bigr)^2, \quad
        h = u - \hat p \ \ (\hat p < \delta), \qquad h = \hat p - l \ \ (\hat p > \delta).

    Returns ``N - n`` (0 if already decided), or None if :math:`\hat p = \delta` (never decided)
    or more than ``max_n`` trials would be needed.

    >>> trials_to_decide(0.0, 10, 0.1, 0.05)  # CP upper bound 1-(alpha/2)^(1/N) <= 0.1 needs N=36
    26
    """
    delta = check_open_unit("delta", delta)
    alpha = check_open_unit("alpha", alpha)
    if not (_real(p_hat) and 0.0 <= p_hat <= 1.0):
        raise ValueError(f"p_hat must be in [0, 1]; got {p_hat!r}")
    n = check_positive_int("n", n)
    max_n = check_positive_int("max_n", max_n)
    if p_hat == delta:
        return None
    if lower is not None and upper is not None:
        if verdict(lower, upper, delta) != "inconclusive":
            return 0
        h = (upper - p_hat) if p_hat < delta else (p_hat - lower)
        big = n * (h / abs(p_hat - delta)) ** 2
        if not math.isfinite(big) or big > max_n:
            return None
        return max(0, math.ceil(big) - n)

    def decided(N: int) -> bool:
        k = min(N, max(0, round(p_hat * N)))
        lo, hi = clopper_pearson(k, N, alpha)
        return verdict(lo, hi, delta) != "inconclusive"

    if decided(n):
        return 0
    hi_n = n
    while not decided(hi_n):
        if hi_n > max_n:
            return None
        hi_n *= 2
    lo_n = max(n, hi_n // 2)
    while hi_n - lo_n > 1:
        mid = (lo_n + hi_n) // 2
        if decided(mid):
            hi_n = mid
        else:
            lo_n = mid
    return hi_n - n
