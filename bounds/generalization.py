r"""Generalisation bounds for a compressed network: Occam (kl, Hoeffding, exact binomial),
the margin compression bound of Arora et al. (2018) and the paper's corollary, made explicit.

What is random is the training set: :math:`n` points drawn i.i.d. from the data
distribution. What must be fixed *before* the data is a prior over classifiers, given as a
code length :math:`\ell(g)` in bits (:mod:`netcoreset.bounds.description_length` counts it
term by term): the prior weight of :math:`g` is :math:`2^{-\ell(g)}` and the weights sum to
at most one (Kraft). Then with probability :math:`\ge 1-\delta` over the training set,
*simultaneously for every* :math:`g`, with :math:`k` the training errors of :math:`g`,

.. math::

    L(g) \le \overline{\mathrm{Bin}}\bigl(k, n, \delta\,2^{-\ell(g)}\bigr)
    \le \mathrm{kl}^{-1}\!\Bigl(\frac{k}{n}, \frac{\ell(g)\ln 2 + \ln(1/\delta)}{n}\Bigr)
    \le \frac{k}{n} + \sqrt{\frac{\ell(g)\ln 2 + \ln(1/\delta)}{2n}},

the exact binomial-tail form, its Chernoff (kl) relaxation and its Hoeffding (Pinsker)
relaxation (Langford, 2005). The classifier may depend on the data in any way; only the code
may not. The derivations are in the documentation page "Generalisation bounds" and the
algebra is checked by sympy in :mod:`netcoreset.bounds.symbolic`.

Every inverse is computed by bisection that returns the *upper* end of its final bracket,
and a point is only ruled out when its computed divergence exceeds the level by more than the
rounding error, so floating point never makes a bound smaller than the exact one.

The sympy twins of these formulas sit next to this file, in ``generalization_symbolic.py``,
and are exported by :mod:`netcoreset.bounds.symbolic`; each function's See Also names its
twin.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, special

from .description_length import _log_binomials, count_bits, positions_bits
from .error_budget import num_neurons
from .network import compressed_size_bound
from .serialization import to_jsonable
from .validation import (
    check_architecture,
    check_K,
    check_nonnegative_array,
    check_open_unit,
    check_positive,
    check_positive_int,
    check_seed,
)

__all__ = [
    "binary_kl",
    "kl_upper",
    "binomial_tail_upper",
    "union_bound_nats",
    "prior_cost_nats",
    "OccamBound",
    "occam_bound",
    "OCCAM_FORMS",
    "margin_error_count",
    "max_logit_deviation",
    "MarginCompressionBound",
    "margin_compression_bound",
    "CorollaryBound",
    "corenet_generalization_bound",
]

LN2 = math.log(2.0)
_EPS = float(np.finfo(np.float64).eps)
_MAX_BISECTIONS = 2200  # enough to reach adjacent doubles anywhere in [0, 1]

#: The forms of :func:`occam_bound`, tightest first.
OCCAM_FORMS: tuple[str, ...] = ("binomial", "kl", "hoeffding")


# --------------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------------


def _unit_array(name: str, value: Any) -> np.ndarray:
    arr = check_nonnegative_array(name, value)
    if arr.size and np.any(arr > 1.0):
        raise ValueError(f"{name} must lie in [0, 1]; got a maximum of {float(arr.max())!r}")
    return arr


def _count(name: str, value: Any, n: int) -> int:
    k = check_seed(name, value)  # an integer >= 0
    if k > n:
        raise ValueError(f"{name} must be an integer in [0, n] = [0, {n}]; got {value!r}")
    return k


def _bits(name: str, value: Any) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or not math.isfinite(float(value)) or float(value) < 0:
        raise ValueError(f"{name} must be a finite real number >= 0; got {value!r}")
    return float(value)


def _form(form: Any, allowed: Sequence[str]) -> str:
    if form not in allowed:
        raise ValueError(f"form must be one of {', '.join(allowed)}; got {form!r}")
    return str(form)


# --------------------------------------------------------------------------------------------
# The binary kl divergence and its inverse
# --------------------------------------------------------------------------------------------


def binary_kl(q: ArrayLike, p: ArrayLike) -> Any:
    r"""The binary Kullback-Leibler divergence :math:`\mathrm{kl}(q\,\|\,p)` in nats.

    .. math::

        \mathrm{kl}(q\,\|\,p) = q\ln\frac{q}{p} + (1-q)\ln\frac{1-q}{1-p},
        \qquad 0\ln 0 = 0,

    the divergence of a Bernoulli(:math:`q`) from a Bernoulli(:math:`p`). It is
    :math:`+\infty` when :math:`p \in \{0, 1\}` and :math:`q \ne p` (e.g.
    :math:`\mathrm{kl}(q\|1) = \infty` for :math:`q < 1`). Vectorised (broadcast).

    Parameters
    ----------
    q, p : float or array_like
        Probabilities in :math:`[0, 1]`.

    Returns
    -------
    float or numpy.ndarray

    See Also
    --------
    netcoreset.bounds.symbolic.binary_kl_expr : the same formula in sympy.

    Examples
    --------
    >>> # 0.1 ln(0.1/0.2) + 0.9 ln(0.9/0.8) = -0.069315 + 0.106005
    >>> round(binary_kl(0.1, 0.2), 6)
    0.03669
    >>> binary_kl(0.0, 0.5) == math.log(2), binary_kl(0.5, 1.0)
    (True, inf)

    References
    ----------
    Langford (2005), "Tutorial on practical prediction theory for classification".
    """
    scalar = np.ndim(q) == 0 and np.ndim(p) == 0
    qa = _unit_array("q", q)
    pa = _unit_array("p", p)
    out = _kl(*np.broadcast_arrays(qa, pa))
    return float(out) if scalar else out


_ATANH_TERMS = 20  # |s| <= 1/3 below: (1/9)^20 is far below one ulp


def _phi(x: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    r"""``x - log(1 + x)`` (>= 0) to a few ulps of its own size; ``ratio`` is ``1 + x``
    computed directly by the caller (used when ``x <= -1/2``, where ``1 + x`` formed from
    ``x`` would lose its digits).

    For :math:`|x| < 1/2`, with :math:`s = x/(2+x) \in (-1/3, 1/5)`,
    :math:`\ln(1+x) = 2\operatorname{atanh}(s)` and :math:`x = 2s/(1-s)`, so
    :math:`x - \ln(1+x) = \frac{2s^2}{1-s} - 2s^3\sum_{j\ge0}\frac{s^{2j}}{2j+3}`: no
    cancellation of the leading terms.
    """
    small = np.abs(x) < 0.5
    xs = np.where(small, x, 0.0)
    sv = xs / (2.0 + xs)
    s2 = sv * sv
    acc = np.zeros_like(sv)
    for j in range(_ATANH_TERMS, -1, -1):
        acc = acc * s2 + 1.0 / (2 * j + 3)
    series = 2.0 * s2 / (1.0 - sv) - 2.0 * s2 * sv * acc
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        big = x - np.log1p(np.maximum(x, 0.0))
        neg = x - np.log(ratio)
    return np.where(small, series, np.where(x > 0.0, big, neg))


def _phi_scalar(x: float, ratio: float) -> float:
    """:func:`_phi` for one float, in plain Python (numpy's per-call cost dominates here)."""
    if abs(x) < 0.5:
        sv = x / (2.0 + x)
        s2 = sv * sv
        acc = 0.0
        for j in range(_ATANH_TERMS, -1, -1):
            acc = acc * s2 + 1.0 / (2 * j + 3)
        return 2.0 * s2 / (1.0 - sv) - 2.0 * s2 * sv * acc
    if x > 0.0:
        return x - math.log1p(x)
    return math.inf if ratio <= 0.0 else x - math.log(ratio)


def _kl(q: np.ndarray, p: np.ndarray) -> np.ndarray:
    r"""kl(q || p) to a few ulps of its own size (no cancellation near p = q or p = 0, 1).

    With :math:`d = p - q`, :math:`x_1 = d/q`, :math:`x_2 = -d/(1-q)` the linear parts of the
    two logarithms cancel exactly (:math:`q x_1 + (1-q) x_2 = 0`), so
    :math:`\mathrm{kl} = q\,\phi(x_1) + (1-q)\,\phi(x_2)` with
    :math:`\phi(x) = x - \ln(1+x) \ge 0`: a sum of two non-negative terms, each computed
    without cancellation (:math:`1 + x_1 = p/q` and :math:`1 + x_2 = (1-p)/(1-q)` directly).
    """
    inner = (q > 0.0) & (q < 1.0)
    qi = np.where(inner, q, 0.5)
    d = p - qi
    with np.errstate(divide="ignore", invalid="ignore"):
        mid = qi * _phi(d / qi, p / qi) + (1.0 - qi) * _phi(-d / (1.0 - qi), (1.0 - p) / (1.0 - qi))
        at0 = -np.log1p(-p)  # kl(0 || p)
        at1 = -np.log(p)  # kl(1 || p)
    return np.where(inner, mid, np.where(q <= 0.0, at0, at1))


def _kl_scalar(q: float, p: float) -> float:
    """:func:`_kl` for one pair of floats, in plain Python."""
    if q <= 0.0:
        return math.inf if p >= 1.0 else -math.log1p(-p)
    if q >= 1.0:
        return math.inf if p <= 0.0 else -math.log(p)
    d = p - q
    return q * _phi_scalar(d / q, p / q) + (1.0 - q) * _phi_scalar(
        -d / (1.0 - q), (1.0 - p) / (1.0 - q)
    )


# Relative rounding error allowed for the computed kl before a point is ruled out.
_KL_RTOL = 64.0 * _EPS


def _bisect_upper(
    lo: np.ndarray, hi: np.ndarray, infeasible: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Shrink ``[lo, hi]`` around the boundary of a monotone predicate; return ``hi``.

    ``infeasible(p)`` must be True only where ``p`` is certainly above the root; ``hi``
    only ever moves to such points, so the true root never exceeds the returned value.
    """
    lo = lo.copy()
    hi = hi.copy()
    for _ in range(_MAX_BISECTIONS):
        mid = lo + 0.5 * (hi - lo)
        active = (mid > lo) & (mid < hi)
        if not np.any(active):
            break
        above = infeasible(mid)
        hi = np.where(active & above, mid, hi)
        lo = np.where(active & ~above, mid, lo)
    return hi


def _bisect_upper_scalar(lo: float, hi: float, infeasible: Callable[[float], bool]) -> float:
    """:func:`_bisect_upper` for one bracket, in plain Python."""
    for _ in range(_MAX_BISECTIONS):
        mid = lo + 0.5 * (hi - lo)
        if not lo < mid < hi:
            break
        if infeasible(mid):
            hi = mid
        else:
            lo = mid
    return hi


def kl_upper(q: ArrayLike, c: ArrayLike) -> Any:
    r"""The upper inverse of the binary kl: :math:`\max\{p\in[q,1] : \mathrm{kl}(q\|p)\le c\}`.

    .. math::

        \mathrm{kl}^{-1}(q, c) = \max\{p \in [q, 1] : \mathrm{kl}(q\,\|\,p) \le c\}.

    :math:`p \mapsto \mathrm{kl}(q\|p)` is 0 at :math:`p = q` and strictly increasing on
    :math:`[q, 1]`, so the set is an interval and bisection finds its end. The bisection
    runs until its bracket holds two adjacent floats and returns the **upper** end; a point
    becomes an upper end only when its computed divergence exceeds :math:`c` by more than
    the rounding error, so the returned value is never below the exact inverse (rounding
    never makes a bound smaller). :math:`\mathrm{kl}^{-1}(q, 0) = q` exactly; ``1.0`` is
    returned when no :math:`p < 1` is excluded (:math:`q = 1` or :math:`c = \infty`).
    Vectorised (broadcast).

    Parameters
    ----------
    q : float or array_like
        The empirical error, in :math:`[0, 1]`.
    c : float or array_like
        The level, :math:`\ge 0` (``inf`` allowed).

    Returns
    -------
    float or numpy.ndarray

    See Also
    --------
    netcoreset.bounds.symbolic.binary_kl_expr : the same formula in sympy.
    netcoreset.bounds.symbolic.check_chernoff_kl : the derivation check (sympy).

    Examples
    --------
    >>> round(kl_upper(0.1, binary_kl(0.1, 0.2)), 12)  # the inverse of binary_kl
    0.2
    >>> kl_upper(0.25, 0.0), kl_upper(1.0, 3.0)
    (0.25, 1.0)
    >>> # q = 0: kl(0 || p) = -ln(1 - p), so the inverse is 1 - exp(-c)
    >>> abs(kl_upper(0.0, 0.01) - (1 - math.exp(-0.01))) < 1e-15
    True

    References
    ----------
    Langford (2005), Section 4; Chernoff (1952).
    """
    scalar = np.ndim(q) == 0 and np.ndim(c) == 0
    qa = _unit_array("q", q)
    try:
        ca = np.asarray(c, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"c must be a real number >= 0; got {c!r}") from exc
    if ca.size and (np.any(np.isnan(ca)) or np.any(ca < 0)):
        raise ValueError(f"c must be a real number >= 0 (inf allowed); got {c!r}")
    if scalar:
        qf, cv = float(qa), float(ca)
        if qf >= 1.0 or math.isinf(cv):
            return 1.0
        if cv == 0.0:
            return qf
        limit = cv * (1.0 + _KL_RTOL)
        return _bisect_upper_scalar(qf, 1.0, lambda p: _kl_scalar(qf, p) > limit)
    qa, ca = np.broadcast_arrays(qa, ca)
    done_one = (qa >= 1.0) | np.isinf(ca)
    done_q = (ca == 0.0) & ~done_one
    todo = ~(done_one | done_q)
    cf = np.where(todo, ca, 0.0)

    def infeasible(p: np.ndarray) -> np.ndarray:
        # kl(q || p) certainly exceeds c: by more than its rounding error
        return _kl(qa, p) > cf * (1.0 + _KL_RTOL)

    hi = _bisect_upper(np.where(todo, qa, 1.0), np.ones_like(qa), infeasible)
    return np.where(done_one, 1.0, np.where(done_q, qa, hi))


# --------------------------------------------------------------------------------------------
# The exact binomial tail and its inverse
# --------------------------------------------------------------------------------------------


#: Above this many terms (``k + 1``) the binomial tail is evaluated in closed form.
_DIRECT_TERMS = 1 << 16


def _log_binom_cdf_fn(k: int, n: int) -> Callable[[float], tuple[float, float]]:
    """``p -> (log P[Bin(n, p) <= k], its rounding-error bound)``, in log space.

    The log-binomials come from :func:`~netcoreset.bounds.description_length._log_binomials`
    (accurate to a few ulps of their size, exact at ``i = 0``); the error bound of the
    log-sum-exp is the weighted mean of the terms' sizes, times 16 ulps. Above
    :data:`_DIRECT_TERMS` terms, :func:`_log_binom_cdf_closed` (no array of ``k + 1``).
    """
    if k + 1 > _DIRECT_TERMS:
        return _log_binom_cdf_closed(k, n)
    base, size = _log_binomials(n, k)
    i = np.arange(k + 1, dtype=np.float64)

    def log_cdf(p: float) -> tuple[float, float]:
        if p <= 0.0:
            return 0.0, 0.0
        if p >= 1.0:
            return -math.inf, 0.0
        lp, lq = math.log(p), math.log1p(-p)
        terms = base + i * lp + (n - i) * lq
        top = float(terms.max())
        weights = np.exp(terms - top)
        total = float(weights.sum())
        value = top + math.log(total)
        mag = float(weights @ (size + i * abs(lp) + (n - i) * abs(lq))) / total
        return value, 16.0 * _EPS * (mag + abs(value) + 1.0)

    return log_cdf


def _log_binom_cdf_closed(k: int, n: int) -> Callable[[float], tuple[float, float]]:
    r"""``p -> (log P[Bin(n, p) <= k], an error bound)`` in closed form, for large ``k``.

    .. math::

        P[\mathrm{Bin}(n, p) \le k] = I_{1-p}(n - k,\ k + 1),

    the regularised incomplete beta function (:func:`scipy.special.bdtr`), charged a
    relative error of :math:`10^{-8}` (far above its own). Where that underflows (a tail
    below :math:`10^{-290}`), the log-sum-exp of the terms within
    :math:`60 + \ln n` nats of the largest, the log-binomials from
    :func:`scipy.special.gammaln`: the terms are log-concave in :math:`i`, so the window
    grows from the largest term until its edges fall that far, and what lies beyond adds
    less than :math:`e^{-60}` relative. Either way the work does not grow with ``k``.
    """
    big = float(special.gammaln(n + 1.0))

    def log_terms(i: np.ndarray, lp: float, lq: float) -> np.ndarray:
        lgc = big - special.gammaln(i + 1.0) - special.gammaln(n - i + 1.0)
        return lgc + i * lp + (n - i) * lq

    def log_cdf(p: float) -> tuple[float, float]:
        if p <= 0.0:
            return 0.0, 0.0
        if p >= 1.0:
            return -math.inf, 0.0
        value = float(special.bdtr(k, n, p))
        if value > 1e-290:
            return math.log(value), 1e-8
        lp, lq = math.log(p), math.log1p(-p)
        top = float(min(k, max(0, math.floor((n + 1) * p))))  # the largest term's index
        cut = 60.0 + math.log(n)
        width = 1024
        while True:
            lo_i, hi_i = max(0.0, top - width), min(float(k), top + width)
            i = np.arange(lo_i, hi_i + 1.0)
            terms = log_terms(i, lp, lq)
            peak = float(terms.max())
            low_ok = lo_i == 0.0 or terms[0] < peak - cut
            high_ok = hi_i == float(k) or terms[-1] < peak - cut
            if low_ok and high_ok:
                break
            width *= 4
        value = peak + math.log(float(np.exp(terms - peak).sum()))
        mag = 3.0 * big + k * abs(lp) + n * abs(lq)
        return value, 16.0 * _EPS * (mag + abs(value) + 1.0) + math.exp(-60.0)

    return log_cdf


def binomial_tail_upper(k: int, n: int, log_delta: float) -> float:
    r"""The largest :math:`p` with :math:`P[\mathrm{Bin}(n, p) \le k] \ge e^{\texttt{log\_delta}}`.

    .. math::

        \overline{\mathrm{Bin}}(k, n, \delta') = \max\Bigl\{p \in [0, 1] :
        \sum_{i=0}^{k}\binom{n}{i}p^i(1-p)^{n-i} \ge \delta'\Bigr\},
        \qquad \delta' = e^{\texttt{log\_delta}},

    the one-sided Clopper-Pearson upper limit (Clopper and Pearson, 1934) and Langford's
    binomial tail inversion. The lower tail is computed in log space (a log-sum-exp of the
    :math:`k+1` log-probabilities, the log-binomials from Stirling's series), so a level
    :math:`\delta\,2^{-\ell}` with :math:`\ell \approx 10^5` bits does not underflow. The
    tail is decreasing in :math:`p`; the search (the Chernoff bound as the first upper end,
    Brent's method, then bisection to adjacent floats) returns the upper end of its final
    bracket and rules a point out only when its log-tail is below the level by more than the
    rounding error, so the result is never below the exact limit (and above it only by
    rounding, about :math:`10^{-14}` relative). :math:`k = n` gives ``1.0``.

    Parameters
    ----------
    k : int
        Training errors, :math:`0 \le k \le n`.
    n : int
        Training points, :math:`\ge 1`.
    log_delta : float
        :math:`\ln\delta' < 0` (``-inf`` gives ``1.0``).

    Returns
    -------
    float

    See Also
    --------
    netcoreset.bounds.symbolic.binomial_tail_expr : the same formula in sympy.

    Examples
    --------
    >>> # k = 0: the tail is (1 - p)^n, so the limit is 1 - delta'^(1/n)
    >>> p = binomial_tail_upper(0, 100, math.log(0.05))
    >>> abs(p - (1 - 0.05 ** (1 / 100))) < 1e-12
    True
    >>> round(binomial_tail_upper(5, 100, math.log(0.05)), 4)
    0.1023

    References
    ----------
    Langford (2005), Theorem 3.3 and the Occam bound built on it.
    """
    n = check_positive_int("n", n)
    k = _count("k", k, n)
    try:
        ld = float(log_delta)
    except (TypeError, ValueError):
        ld = math.nan
    if math.isnan(ld) or ld >= 0.0 or ld == math.inf:
        raise ValueError(
            f"log_delta must be a real number < 0 (the log of a level in (0, 1)); got {log_delta!r}"
        )
    if k >= n or ld == -math.inf:
        return 1.0
    log_cdf = _log_binom_cdf_fn(k, n)

    def infeasible(p: float) -> bool:
        # the tail at p is certainly below the level (by more than its rounding error)
        value, tol = log_cdf(p)
        return value < ld - tol

    # Chernoff: the tail at the kl inverse is at most exp(-n kl) <= delta', so it bounds the
    # root from above; Brent's method then finds the root to 1e-12, a bracket of relative
    # width 2e-10 around it is verified (else widened to the whole range), and bisection
    # shrinks it to adjacent floats and returns the upper end.
    hi = kl_upper(k / n, -ld / n)
    if hi < 1.0 and not infeasible(hi):  # pragma: no cover - Chernoff makes this impossible
        hi = 1.0
    lo = 0.0
    try:
        guess = optimize.brentq(lambda p: log_cdf(p)[0] - ld, lo, hi, xtol=1e-300, rtol=1e-12)
    except (ValueError, RuntimeError):  # pragma: no cover - no sign change in floats
        guess = None
    if guess is not None:
        a, b = max(lo, guess * (1.0 - 1e-10)), min(hi, guess * (1.0 + 1e-10))
        lo = a if not infeasible(a) else lo
        hi = b if infeasible(b) else hi
    return _bisect_upper_scalar(lo, hi, infeasible)


# --------------------------------------------------------------------------------------------
# Prior weights and the union bound
# --------------------------------------------------------------------------------------------


def prior_cost_nats(weight: float) -> float:
    r"""The cost of a prior weight in nats: :math:`-\ln w`.

    .. math::

        \mathrm{cost}(w) = \ln\frac{1}{w},\qquad 0 < w \le 1.

    A classifier of prior weight :math:`w` enters the union bound with failure probability
    :math:`\delta w`, which adds :math:`\ln(1/w)` to the confidence term
    :math:`\ln(1/\delta)`. Divide by :math:`\ln 2` for bits.

    See Also
    --------
    netcoreset.bounds.symbolic.prior_cost_nats_expr : the same formula in sympy.

    Examples
    --------
    >>> prior_cost_nats(1.0), round(prior_cost_nats(0.25) / math.log(2), 12)
    (0.0, 2.0)
    """
    ok = isinstance(weight, (int, float, np.integer, np.floating)) and not isinstance(weight, bool)
    if not ok or not (0.0 < float(weight) <= 1.0):
        raise ValueError(f"weight must be a real number in (0, 1]; got {weight!r}")
    return 0.0 - math.log(float(weight)) + 0.0  # + 0.0: no "-0.0" for w = 1


def union_bound_nats(num_choices: int) -> float:
    r"""The cost of a union bound over ``num_choices`` equally weighted choices:
    :math:`\ln k`.

    .. math::

        \sum_{i=1}^{k}\delta\cdot\frac1k = \delta,\qquad
        \mathrm{cost} = -\ln\frac1k = \ln k.

    Giving each of :math:`k` choices the weight :math:`1/k` spends the failure probability
    :math:`\delta/k` on each, so the bound of every choice carries :math:`\ln(1/\delta) +
    \ln k` and all :math:`k` hold together with probability :math:`\ge 1-\delta`.

    See Also
    --------
    netcoreset.bounds.symbolic.union_bound_nats_expr : the same formula in sympy.
    netcoreset.bounds.symbolic.check_union_bound_cost : the derivation check (sympy).

    Examples
    --------
    >>> union_bound_nats(1), union_bound_nats(8) == math.log(8)
    (0.0, True)
    """
    k = check_positive_int("num_choices", num_choices)
    return math.log(k)


# --------------------------------------------------------------------------------------------
# The Occam bound
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OccamBound:
    r"""An Occam bound with its terms (see :func:`occam_bound`).

    ``bound`` is the upper bound on the true error :math:`L(g)`; ``complexity_nats`` is
    :math:`\ell(g)\ln 2` and ``confidence_nats`` is :math:`\ln(1/\delta)`. ``terms`` holds
    every intermediate quantity by name, in bits and nats.

    .. math::

        c = \frac{\ell(g)\ln 2 + \ln(1/\delta)}{n}

    Examples
    --------
    >>> b = occam_bound(0, 100, 0.0, 0.05)
    >>> b.form, b.train_error, round(b.confidence_nats, 4)
    ('kl', 0.0, 2.9957)
    >>> sorted(b.to_dict())[:3]
    ['bound', 'complexity_nats', 'confidence_nats']
    """

    bound: float
    form: str
    errors: int
    n: int
    train_error: float
    delta: float
    description_bits: float
    complexity_nats: float
    confidence_nats: float
    terms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (``to_jsonable``)."""
        return to_jsonable(asdict(self))


def _occam_terms(k: int, n: int, bits: float, delta: float) -> dict[str, float]:
    complexity = bits * LN2
    confidence = -math.log(delta)
    total = complexity + confidence
    return {
        "train_error": k / n,
        "complexity_bits": bits,
        "complexity_nats": complexity,
        "confidence_bits": confidence / LN2,
        "confidence_nats": confidence,
        "total_bits": total / LN2,
        "total_nats": total,
        "rate": total / n,
    }


def occam_bound(errors: int, n: int, bits: float, delta: float, form: str = "kl") -> OccamBound:
    r"""The Occam bound on the true error of a classifier with a code fixed before the data.

    With probability :math:`\ge 1-\delta` over :math:`n` i.i.d. training points,
    simultaneously for every classifier :math:`g` of code length :math:`\ell(g)` bits
    (prior weight :math:`2^{-\ell(g)}`, Kraft: :math:`\sum_g 2^{-\ell(g)} \le 1`) and
    :math:`k` training errors:

    .. math::

        \text{binomial:}\quad & L(g) \le \overline{\mathrm{Bin}}\bigl(k, n,
            \delta\,2^{-\ell(g)}\bigr),\\
        \text{kl:}\quad & L(g) \le \mathrm{kl}^{-1}\!\Bigl(\frac kn,\ c\Bigr),\qquad
            c = \frac{\ell(g)\ln 2 + \ln(1/\delta)}{n},\\
        \text{hoeffding:}\quad & L(g) \le \min\Bigl(1,\ \frac kn + \sqrt{c/2}\Bigr).

    The binomial form is exact (:func:`binomial_tail_upper`); the kl form follows from it by
    the Chernoff bound :math:`P[\mathrm{Bin}(n,p)\le k] \le e^{-n\,\mathrm{kl}(k/n\|p)}`
    (:func:`kl_upper`); the Hoeffding form from the kl form by Pinsker's inequality
    :math:`\mathrm{kl}(q\|p) \ge 2(p-q)^2`. So binomial :math:`\le` kl :math:`\le`
    Hoeffding, always.

    Parameters
    ----------
    errors : int
        :math:`k`, the training errors of :math:`g`, in :math:`[0, n]`.
    n : int
        Training points, :math:`\ge 1`.
    bits : float
        :math:`\ell(g) \ge 0`, the code length in bits, i.e. :math:`-\log_2` of the prior
        weight; need not be an integer (e.g. from
        :func:`~netcoreset.bounds.describe_network`).
    delta : float
        In :math:`(0, 1)`.
    form : {"kl", "hoeffding", "binomial"}, default "kl"

    Returns
    -------
    OccamBound

    See Also
    --------
    netcoreset.bounds.symbolic.occam_rate_expr : the same formula in sympy.
    netcoreset.bounds.symbolic.occam_hoeffding_expr : the same formula in sympy.
    netcoreset.bounds.symbolic.occam_binomial_level_expr : the same formula in sympy.

    Examples
    --------
    >>> b = occam_bound(0, 1000, 10.0, 0.05, form="hoeffding")
    >>> # sqrt((10 ln 2 + ln 20) / 2000) = sqrt(9.927204 / 2000) = 0.070453
    >>> round(b.bound, 6), round(b.terms["total_nats"], 4)
    (0.070453, 9.9272)
    >>> [round(occam_bound(30, 1000, 10.0, 0.05, form=f).bound, 4) for f in OCCAM_FORMS]
    [0.0568, 0.0605, 0.1005]

    References
    ----------
    Blumer et al. (1987), "Occam's razor"; Langford (2005), Theorem 4.1 (Occam's razor
    bound) and its relaxations.
    """
    n = check_positive_int("n", n)
    k = _count("errors", errors, n)
    bits = _bits("bits", bits)
    delta = check_open_unit("delta", delta)
    form = _form(form, OCCAM_FORMS)
    terms = _occam_terms(k, n, bits, delta)
    if form == "binomial":
        log_level = math.log(delta) - bits * LN2
        terms["log_tail_level"] = log_level
        value = binomial_tail_upper(k, n, log_level)
    elif form == "kl":
        value = kl_upper(k / n, terms["rate"])
    else:
        deviation = math.sqrt(terms["rate"] / 2.0)
        terms["deviation"] = deviation
        terms["uncapped"] = k / n + deviation
        value = min(1.0, k / n + deviation)
    terms["gap"] = value - k / n
    return OccamBound(
        bound=float(value),
        form=form,
        errors=k,
        n=n,
        train_error=k / n,
        delta=delta,
        description_bits=bits,
        complexity_nats=terms["complexity_nats"],
        confidence_nats=terms["confidence_nats"],
        terms=terms,
    )


# --------------------------------------------------------------------------------------------
# Margins (pure numpy helpers for the compression framework)
# --------------------------------------------------------------------------------------------


def _logits_labels(logits: ArrayLike, labels: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels)
    if z.ndim != 2 or z.shape[1] < 2:
        raise ValueError(
            f"logits must be a 2-d array (points x classes, >= 2 classes); got shape {z.shape}"
        )
    if not np.all(np.isfinite(z)):
        raise ValueError("logits must be finite (no NaN or inf)")
    if y.shape != (z.shape[0],) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(
            f"labels must be an integer array with one label per row of logits "
            f"({z.shape[0]}); got shape {y.shape}, dtype {y.dtype}"
        )
    if y.size and (y.min() < 0 or y.max() >= z.shape[1]):
        raise ValueError(f"labels must lie in [0, {z.shape[1] - 1}]")
    return z, y.astype(np.int64)


def margin_error_count(logits: ArrayLike, labels: ArrayLike, gamma: float = 0.0) -> int:
    r"""The number of points whose margin is at most :math:`\gamma`:
    :math:`n\,\hat L_\gamma(f)`.

    .. math::

        n\hat L_\gamma(f) = \bigl|\{i : f(x_i)_{y_i} \le \gamma + \max_{j\ne y_i} f(x_i)_j\}\bigr|.

    With :math:`\gamma = 0` this counts the training errors, ties counted as errors.

    Parameters
    ----------
    logits : array_like
        Shape ``(n, classes)``.
    labels : array_like of int
        Shape ``(n,)``.
    gamma : float, default 0
        :math:`\ge 0`.

    Examples
    --------
    >>> z = [[2.0, 0.0], [0.5, 0.0], [0.0, 1.0]]
    >>> margin_error_count(z, [0, 0, 0]), margin_error_count(z, [0, 0, 0], gamma=1.0)
    (1, 2)
    """
    z, y = _logits_labels(logits, labels)
    gamma = float(check_nonnegative_array("gamma", gamma))
    rows = np.arange(z.shape[0])
    true = z[rows, y]
    other = z.copy()
    other[rows, y] = -np.inf
    return int(np.count_nonzero(true <= gamma + other.max(axis=1)))


def max_logit_deviation(f_logits: ArrayLike, g_logits: ArrayLike) -> float:
    r"""The largest per-logit difference :math:`\max_{i,j}|f(x_i)_j - g(x_i)_j|`.

    .. math::

        \max_{i}\ \|f(x_i) - g(x_i)\|_\infty

    The margin framework needs this to be at most :math:`\gamma/2` on every training point
    (then every margin moves by at most :math:`\gamma`, see
    :func:`margin_compression_bound`).

    Examples
    --------
    >>> max_logit_deviation([[1.0, 2.0]], [[1.25, 1.5]])
    0.5
    """
    f = np.asarray(f_logits, dtype=np.float64)
    g = np.asarray(g_logits, dtype=np.float64)
    if f.shape != g.shape or f.size == 0:
        raise ValueError(
            f"f_logits and g_logits must have the same non-empty shape; got {f.shape} and {g.shape}"
        )
    if not (np.all(np.isfinite(f)) and np.all(np.isfinite(g))):
        raise ValueError("f_logits and g_logits must be finite (no NaN or inf)")
    return float(np.max(np.abs(f - g)))


# --------------------------------------------------------------------------------------------
# Arora et al. (2018), Theorem 2.1, made explicit
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarginCompressionBound:
    r"""The margin compression bound with its terms (see :func:`margin_compression_bound`).

    ``margin_error`` is :math:`\hat L_\gamma(f)`; ``parameter_bits`` is
    :math:`q\log_2 r`; ``description_bits`` adds ``extra_bits`` (positions, codebooks,
    choices: whatever the class :math:`G` was not fixed in advance for).

    .. math::

        L_0(g) \le \hat L_\gamma(f) + \sqrt{\frac{q\ln r + \ln(1/\delta)}{2n}}

    Examples
    --------
    >>> b = margin_compression_bound(0, 1000, 10, 2, 0.05)
    >>> round(b.parameter_bits, 6), b.form
    (10.0, 'hoeffding')
    """

    bound: float
    form: str
    margin_errors: int
    n: int
    margin_error: float
    delta: float
    num_params: int
    levels: int
    gamma: float | None
    per_logit_tolerance: float | None
    parameter_bits: float
    extra_bits: float
    description_bits: float
    complexity_nats: float
    confidence_nats: float
    terms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (``to_jsonable``)."""
        return to_jsonable(asdict(self))


def margin_compression_bound(
    margin_errors: int,
    n: int,
    num_params: int,
    levels: int,
    delta: float,
    *,
    extra_bits: float = 0.0,
    gamma: float | None = None,
    form: str = "hoeffding",
) -> MarginCompressionBound:
    r"""Arora et al. (2018), Theorem 2.1, with every constant written out.

    Let :math:`G` be a class of classifiers fixed before the data, each described by
    :math:`q` parameters that take at most :math:`r` values each (so :math:`|G| \le r^q`),
    and let :math:`g \in G` satisfy, on every training point :math:`x_i` and every class
    :math:`j`,

    .. math::

        |f(x_i)_j - g(x_i)_j| \le \gamma/2 .

    Then every margin moves by at most :math:`\gamma` (the true logit by :math:`\gamma/2`
    and the largest other one by :math:`\gamma/2`), so a point with margin
    :math:`f(x)_y - \max_{j\ne y}f(x)_j > \gamma` is classified correctly by :math:`g`, and
    :math:`\hat L_0(g) \le \hat L_\gamma(f)`. A per-logit error of :math:`\gamma` would move
    a margin by up to :math:`2\gamma`. With Hoeffding's inequality and a union bound over
    :math:`G`, with probability :math:`\ge 1-\delta`:

    .. math::

        L_0(g) \le \hat L_\gamma(f) + \sqrt{\frac{q\ln r + \ln(1/\delta)}{2n}},

    and, tighter (``form="kl"``), :math:`L_0(g) \le \mathrm{kl}^{-1}(\hat L_\gamma(f),
    (q\ln r + \ln(1/\delta))/n)` (:math:`\mathrm{kl}^{-1}` is increasing in its first
    argument, so :math:`\hat L_\gamma(f) \ge \hat L_0(g)` may replace :math:`\hat L_0(g)`);
    ``form="binomial"`` is the exact tail. Anything of :math:`g` not fixed in advance (the
    positions of the non-zeros of a sparse net, a data-dependent codebook, the choice of
    :math:`\gamma` from a grid) must be paid for in ``extra_bits``. This function does not
    see the logits: check the condition with :func:`max_logit_deviation` and count
    :math:`n\hat L_\gamma(f)` with :func:`margin_error_count`.

    Parameters
    ----------
    margin_errors : int
        :math:`n\hat L_\gamma(f)`, in :math:`[0, n]`.
    n : int
        Training points.
    num_params : int
        :math:`q \ge 0`.
    levels : int
        :math:`r \ge 1` values per parameter (``2**32`` for float32).
    delta : float
        In :math:`(0, 1)`.
    extra_bits : float, default 0
        Further code length in bits, added to :math:`q\log_2 r`.
    gamma : float, optional
        :math:`\gamma`, recorded (with the tolerance :math:`\gamma/2`) for the report.
    form : {"hoeffding", "kl", "binomial"}, default "hoeffding"
        "hoeffding" is the theorem's form.

    Returns
    -------
    MarginCompressionBound

    See Also
    --------
    netcoreset.bounds.symbolic.margin_compression_bound_expr : the same formula in sympy.
    netcoreset.bounds.symbolic.check_margin_shift : the derivation check (sympy).

    Examples
    --------
    >>> b = margin_compression_bound(50, 10000, 1000, 16, 0.05, gamma=0.5)
    >>> # 0.005 + sqrt((1000 ln 16 + ln 20) / 20000) = 0.005 + 0.372531 = 0.377531
    >>> round(b.bound, 6), b.per_logit_tolerance
    (0.377531, 0.25)

    References
    ----------
    Arora, Ge, Neyshabur and Zhang (2018), Definition 1 and Theorem 2.1.
    """
    n = check_positive_int("n", n)
    k = _count("margin_errors", margin_errors, n)
    q = check_seed("num_params", num_params)
    r = check_positive_int("levels", levels)
    extra = _bits("extra_bits", extra_bits)
    g = None if gamma is None else float(check_nonnegative_array("gamma", gamma))
    param_bits = q * math.log2(r)
    occ = occam_bound(k, n, param_bits + extra, delta, form=_form(form, OCCAM_FORMS))
    terms = dict(occ.terms)
    terms["parameter_bits"] = param_bits
    terms["parameter_nats"] = q * math.log(r)
    terms["extra_bits"] = extra
    terms["extra_nats"] = extra * LN2
    return MarginCompressionBound(
        bound=occ.bound,
        form=occ.form,
        margin_errors=k,
        n=n,
        margin_error=k / n,
        delta=occ.delta,
        num_params=q,
        levels=r,
        gamma=g,
        per_logit_tolerance=None if g is None else g / 2.0,
        parameter_bits=param_bits,
        extra_bits=extra,
        description_bits=param_bits + extra,
        complexity_nats=occ.complexity_nats,
        confidence_nats=occ.confidence_nats,
        terms=terms,
    )


# --------------------------------------------------------------------------------------------
# The paper's corollary, made explicit
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CorollaryBound:
    r"""The paper's generalisation corollary with every term (see
    :func:`corenet_generalization_bound`).

    Per weight layer: ``slots`` :math:`N_\ell`, ``nnz_bound`` the size theorem's
    :math:`\bar q_\ell` (capped at :math:`N_\ell`), and the bits of its count, positions and
    values. ``bound`` is the bound on :math:`L_0(f_{\hat\theta})`.

    .. math::

        \varepsilon = \frac{\gamma}{2\max_i\|f_\theta(x_i)\|_2},\qquad
        \delta = \delta_c + \delta_g

    Examples
    --------
    >>> b = corenet_generalization_bound([4, 3, 2], 0, 10**6, 1.0, 10.0,
    ...     [[2.0] * 3, [2.0] * 2], [1.0, 1.0], 0.05, K=2.0)
    >>> b.eps, b.nnz_bound
    (0.05, [15, 8])
    """

    bound: float
    form: str
    margin_errors: int
    n: int
    margin_error: float
    gamma: float
    max_output_norm: float
    eps: float
    delta: float
    delta_compression: float
    delta_generalization: float
    delta_per_point: float
    bits_per_param: float
    arch: list[int]
    slots: list[int]
    nnz_bound: list[int]
    count_bits: list[float]
    position_bits: list[float]
    value_bits: list[float]
    description_bits: float
    complexity_nats: float
    confidence_nats: float
    terms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (``to_jsonable``)."""
        return to_jsonable(asdict(self))


def _worst_positions_bits(slots: int, nnz_bound: int) -> float:
    # max_{j <= nnz_bound} log2 C(N, j): C(N, j) grows up to j = floor(N/2).
    return positions_bits(slots, min(nnz_bound, slots // 2))


def corenet_generalization_bound(
    arch: Sequence[int] | str,
    margin_errors: int,
    n: int,
    gamma: float,
    max_output_norm: float,
    sensitivity_sums: Sequence[ArrayLike],
    delta_hat_products: ArrayLike,
    delta: float,
    *,
    K: float,
    bits_per_param: float = 32.0,
    compression_share: float = 0.5,
    union_over_points: bool = True,
    bias: bool = True,
    form: str = "hoeffding",
) -> CorollaryBound:
    r"""The paper's generalisation corollary,
    :math:`L_0(f_{\hat\theta}) \le \hat L_\gamma(f_\theta) + \tilde O(\cdot)`, with every
    constant and logarithm written out.

    Steps (each an explicit choice, reported in the result):

    1. **Split** :math:`\delta = \delta_c + \delta_g` (``compression_share`` gives
       :math:`\delta_c`): :math:`\delta_c` for the compression, :math:`\delta_g` for the
       generalisation bound.
    2. **Per-logit error** :math:`\gamma/2`: the size theorem's guarantee
       :math:`f_{\hat\theta}(x) \in (1\pm\varepsilon)f_\theta(x)` (entry-wise) gives
       :math:`|f_{\hat\theta}(x)_j - f_\theta(x)_j| \le \varepsilon|f_\theta(x)_j| \le
       \varepsilon\|f_\theta(x)\|_2`, so

       .. math::

           \varepsilon = \frac{\gamma}{2M},\qquad M = \max_i\|f_\theta(x_i)\|_2 .

       The guarantee holds per input with failure probability :math:`\delta_x`; with
       ``union_over_points`` it is applied with :math:`\delta_x = \delta_c/n` to every
       training point (a union bound), as the corollary needs the condition on all of them.
    3. **Size**: the size theorem (:func:`~netcoreset.bounds.compressed_size_bound`) with
       this :math:`\varepsilon` and :math:`\delta_x` bounds the non-zeros of layer
       :math:`\ell` by

       .. math::

           \bar q_\ell = \sum_i\Bigl(\Bigl\lceil\frac{128\,(L-1)^2 M^2
           (\hat\Delta^{\ell\rightarrow})^2\mathcal{S}^\ell_i K\log(8\eta/\delta_x)}
           {\gamma^2}\Bigr\rceil + 1\Bigr),

       capped at the layer's :math:`N_\ell` slots.
    4. **Description**: the architecture is fixed (0 bits); per layer the count of
       non-zeros (:math:`\lceil\log_2(N_\ell+1)\rceil` bits), their positions (at most
       :math:`\log_2\binom{N_\ell}{\min(\bar q_\ell, \lfloor N_\ell/2\rfloor)}` bits, the
       largest binomial coefficient allowed) and their values
       (:math:`\bar q_\ell\cdot b` bits, ``bits_per_param`` :math:`b = 32`: a float32 net has
       :math:`r = 2^{32}` values per parameter, so no further quantisation error).
       Arora et al.'s count :math:`q\ln r` omits the positions; it is reported as
       ``terms["arora_parameter_nats"]``, but the bound uses the full description.
    5. **Bound** (:func:`occam_bound` with the margin errors of :math:`f_\theta`, see
       :func:`margin_compression_bound`):

       .. math::

           L_0(f_{\hat\theta}) \le \hat L_\gamma(f_\theta) +
           \sqrt{\frac{\ell\ln 2 + \ln(1/\delta_g)}{2n}},\qquad
           \ell = \sum_\ell\Bigl(\lceil\log_2(N_\ell+1)\rceil + \log_2\binom{N_\ell}
           {\bar q_\ell} + b\,\bar q_\ell\Bigr),

       with probability :math:`\ge 1 - \delta` over the training set and the compression.

    ``terms["o_tilde_argument"]`` is the expression under the paper's
    :math:`\tilde O(\sqrt{\cdot})`,
    :math:`\sqrt{M^2(L-1)^2\sum_\ell(\hat\Delta^{\ell\rightarrow})^2\sum_i\mathcal{S}^\ell_i
    /(\gamma^2 n)}`, so the size of what the :math:`\tilde O` hides can be read off.

    Parameters
    ----------
    arch : sequence of int or str
        Widths, input first.
    margin_errors : int
        :math:`n\hat L_\gamma(f_\theta)` on the training points.
    n : int
        Training points.
    gamma : float
        Margin :math:`\gamma`, with :math:`0 < \gamma < 2M` (at :math:`\gamma \ge 2M` every
        point is a margin error).
    max_output_norm : float
        :math:`M = \max_i\|f_\theta(x_i)\|_2 > 0` over the training points.
    sensitivity_sums : sequence of array_like
        :math:`\mathcal{S}^\ell_i` per neuron, one array per weight layer.
    delta_hat_products : array_like
        :math:`\hat\Delta^{\ell\rightarrow}` per weight layer.
    delta : float
        Total failure probability, in :math:`(0, 1)`.
    K : float
        Assumption 1's constant, required (no default), ``> 1``: at :math:`K \le 1` the
        assumption cannot hold (:func:`~netcoreset.bounds.check_K`).
    bits_per_param : float, default 32
        :math:`b = \log_2 r`.
    compression_share : float, default 0.5
        :math:`\delta_c/\delta`, in :math:`(0, 1)`.
    union_over_points : bool, default True
        Apply the per-input guarantee to all :math:`n` points (:math:`\delta_x =
        \delta_c/n`); ``False`` uses :math:`\delta_x = \delta_c` (outside the corollary's
        argument, for comparison only).
    bias : bool, default True
        Count a bias slot per neuron.
    form : {"hoeffding", "kl", "binomial"}, default "hoeffding"

    Returns
    -------
    CorollaryBound

    See Also
    --------
    netcoreset.bounds.symbolic.corollary_eps_expr : the same formula in sympy.
    netcoreset.bounds.symbolic.corollary_size_term_expr : the same formula in sympy.
    netcoreset.bounds.symbolic.check_corollary_constants : the derivation check (sympy).

    Examples
    --------
    >>> b = corenet_generalization_bound("784,300,100,10", 120, 60000, 2.0, 40.0,
    ...     [[2.0] * 300, [2.0] * 100, [2.0] * 10], [1.5, 1.2, 1.0], 0.05, K=2.0)
    >>> b.bound >= 1.0  # the theorem's sizes keep every weight: vacuous here
    True
    >>> b.nnz_bound == b.slots
    True

    References
    ----------
    Baykal et al. (2019), the generalisation corollary; Arora et al. (2018), Theorem 2.1.
    """
    widths = check_architecture(arch)
    n = check_positive_int("n", n)
    k = _count("margin_errors", margin_errors, n)
    M = check_positive("max_output_norm", max_output_norm)
    gamma = check_positive("gamma", gamma)
    delta = check_open_unit("delta", delta)
    share = check_open_unit("compression_share", compression_share)
    b = check_positive("bits_per_param", bits_per_param)
    K = check_K(K)
    form = _form(form, OCCAM_FORMS)
    eps = gamma / (2.0 * M)
    if eps >= 1.0:
        raise ValueError(
            f"gamma must be < 2 * max_output_norm = {2.0 * M!r} (a larger margin "
            f"makes every point a margin error); got {gamma!r}"
        )
    n_layers = len(widths) - 1
    if len(sensitivity_sums) != n_layers:
        raise ValueError(f"sensitivity_sums needs one array per weight layer ({n_layers})")
    for idx, s in enumerate(sensitivity_sums):
        if np.size(s) != widths[idx + 1]:
            raise ValueError(
                f"sensitivity_sums[{idx}] needs one value per neuron of layer "
                f"{idx + 2} ({widths[idx + 1]}); got {np.size(s)}"
            )
    delta_c = share * delta
    delta_g = delta - delta_c
    delta_x = delta_c / n if union_over_points else delta_c
    eta = num_neurons(widths)
    products = check_nonnegative_array("delta_hat_products", delta_hat_products)
    with np.errstate(over="ignore"):
        raw = compressed_size_bound(sensitivity_sums, products, eps, delta_x, eta, K=K)
    slots = [(widths[i] + (1 if bias else 0)) * widths[i + 1] for i in range(n_layers)]
    nnz = [int(min(float(v), s)) for v, s in zip(raw, slots, strict=True)]
    cbits = [float(count_bits(s)) for s in slots]
    pbits = [_worst_positions_bits(s, q) for s, q in zip(slots, nnz, strict=True)]
    vbits = [b * q for q in nnz]
    total_bits = sum(cbits) + sum(pbits) + sum(vbits)
    occ = occam_bound(k, n, total_bits, delta_g, form=form)
    s_total = [float(np.sum(s)) for s in sensitivity_sums]
    inner = (
        M**2 * n_layers**2 * sum(float(d) ** 2 * s for d, s in zip(products, s_total, strict=True))
    )
    terms = dict(occ.terms)
    terms.update(
        count_bits=sum(cbits),
        position_bits=sum(pbits),
        value_bits=sum(vbits),
        nnz_bound_total=float(sum(nnz)),
        nnz_bound_uncapped=float(np.sum(raw)),
        arora_parameter_nats=sum(nnz) * b * LN2,
        log_term=math.log(8.0 * eta / delta_x),
        o_tilde_argument=math.sqrt(inner / (gamma**2 * n)),
    )
    return CorollaryBound(
        bound=occ.bound,
        form=form,
        margin_errors=k,
        n=n,
        margin_error=k / n,
        gamma=gamma,
        max_output_norm=M,
        eps=eps,
        delta=delta,
        delta_compression=delta_c,
        delta_generalization=delta_g,
        delta_per_point=delta_x,
        bits_per_param=b,
        arch=list(widths),
        slots=slots,
        nnz_bound=nnz,
        count_bits=cbits,
        position_bits=pbits,
        value_bits=vbits,
        description_bits=total_bits,
        complexity_nats=occ.complexity_nats,
        confidence_nats=occ.confidence_nats,
        terms=terms,
    )
