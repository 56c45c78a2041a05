r"""Sample sizes of CoreNet's importance sampling and their inverses.

Notation (Baykal et al., 2019; see the theory pages): :math:`\mathcal{S}` is the total
empirical sensitivity of one part (the positive or the negative weights of one neuron),
:math:`K` the constant of Assumption 1, :math:`\eta` the number of non-input neurons,
:math:`\delta` the failure probability and :math:`\varepsilon` the relative error of the part.

All functions are vectorised: scalars give Python scalars, arrays give arrays (broadcast
together).

The sympy twins of these formulas sit next to this file, in ``sample_size_symbolic.py``, and
are exported by :mod:`netcoreset.bounds.symbolic`; each function's See Also names its twin.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .validation import (
    MAX_EXACT_INT,
    check_bool,
    check_K,
    check_nonnegative_array,
    check_open_unit,
    check_positive,
    check_positive_int,
    check_real_array,
)

__all__ = [
    "sensitivity_set_size",
    "sample_size",
    "certified_eps",
    "expected_distinct_edges",
    "draws_for_eps",
]

_INT_LIMIT = float(2**62)


def _out(arr: np.ndarray, scalar: bool) -> Any:
    if scalar:
        return arr.reshape(()).item()
    return arr


def sensitivity_set_size(eta: int, eta_star: int, delta: float, k_prime: float = 3.0) -> int:
    r"""Number of points :math:`|S|` used for the empirical sensitivities.

    .. math::

        |S| = \left\lceil K' \log\!\left(\frac{8\,\eta\,\eta^*}{\delta}\right) \right\rceil

    Lemma 1 needs, for one edge, :math:`F_j(M_j/K)^{|S|} \le e^{-|S|/K'}` small, and a union
    bound over the edges of a part; with at most :math:`n` edges per part,
    :math:`|S| \ge K'\log(8\eta n/\delta)` gives :math:`\delta/(8\eta)` per neuron. The
    paper writes :math:`n = \eta^*`; the sampler and :func:`network_bound` pass
    :math:`\max(\eta^*, n_{\max})` (:func:`~netcoreset.bounds.max_part_size`) so that the
    first layer's fan-in is covered too.

    Parameters
    ----------
    eta : int
        :math:`\eta`, the number of non-input neurons.
    eta_star : int
        :math:`\eta^*`, the width of the widest hidden layer (or the largest part size).
    delta : float
        Failure probability :math:`\delta \in (0, 1)`.
    k_prime : float, default 3
        :math:`K'` of Assumption 1 (the authors' experiments used 3).

    Returns
    -------
    int

    See Also
    --------
    netcoreset.bounds.symbolic.sensitivity_set_size_expr : the same formula in sympy.

    Examples
    --------
    >>> sensitivity_set_size(410, 300, 0.05)
    51
    """
    eta = check_positive_int("eta", eta)
    eta_star = check_positive_int("eta_star", eta_star)
    delta = check_open_unit("delta", delta)
    k_prime = check_positive("k_prime", k_prime)
    size = k_prime * math.log(8.0 * eta * eta_star / delta)
    if not size <= MAX_EXACT_INT:
        raise ValueError(f"k_prime={k_prime!r} is too large: |S| = {size:.3g} points exceeds 2**53")
    return int(math.ceil(size))


def draws_for_eps(
    sensitivity_sum: ArrayLike,
    eps: ArrayLike,
    delta: float,
    eta: int,
    *,
    K: float,
    tight: bool = False,
    lemma_factor: float = 3.0,
) -> np.ndarray:
    r"""Real-valued draw count :math:`c\,\mathcal{S} K \log(8\eta/\delta)/\varepsilon^2`.

    Used by :func:`sample_size` and by the budget-mode bisection, where the shared
    :math:`\varepsilon` may exceed 1 (an allocation rule, not a certificate).
    ``c = 8`` or, with ``tight=True``, ``c = 6 + 2 eps``; both scaled by ``lemma_factor / 3``
    (see :func:`sample_size`). ``K`` is required and must exceed 1 (Assumption 1,
    :func:`~netcoreset.bounds.check_K`).

    >>> round(float(draws_for_eps(1.0, 0.5, 0.1, 10, K=2.0)), 3)
    427.815
    """
    return _draws_for_eps(
        sensitivity_sum, eps, delta, eta, check_K(K), tight, lemma_factor=lemma_factor
    )


def _draws_for_eps(
    sensitivity_sum: ArrayLike,
    eps: ArrayLike,
    delta: float,
    eta: int,
    K: float,
    tight: bool = False,
    *,
    lemma_factor: float = 3.0,
) -> np.ndarray:
    """:func:`draws_for_eps` at any constant ``K > 0``, for the package's own use only: the
    sampler's coverage constant measured on held-out points (which may be 1) or with Lemma 1's
    factor folded in (``C/3``), and the symbolic agreement check over a range of ``K``."""
    at = _draw_count_at(sensitivity_sum, delta, eta, K, tight, lemma_factor=lemma_factor)
    return at(check_real_array("eps", eps))


def _draw_count_at(
    sensitivity_sum: ArrayLike,
    delta: float,
    eta: int,
    K: float,
    tight: bool = False,
    *,
    lemma_factor: float = 3.0,
) -> Callable[[Any], np.ndarray]:
    """:func:`_draws_for_eps` as a function of ``eps`` alone, its other arguments checked
    once (the budget solve asks for many values of ``eps``): the same values, bit for bit."""
    delta = check_open_unit("delta", delta)
    eta = check_positive_int("eta", eta)
    K = check_positive("K", K)
    tight = check_bool("tight", tight)
    s = check_real_array("sensitivity_sum", sensitivity_sum)
    lemma_factor = check_positive("lemma_factor", lemma_factor)
    log_term = math.log(8.0 * eta / delta)
    active = s > 0

    def at(e: Any) -> np.ndarray:
        c = ((6.0 + 2.0 * e) if tight else 8.0) * (lemma_factor / 3.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            val = c * s * K * log_term / (e * e)
        return np.where(active, val, 0.0)

    return at


def sample_size(
    sensitivity_sum: ArrayLike,
    eps: ArrayLike,
    delta: float,
    eta: int,
    *,
    K: float,
    tight: bool = False,
    lemma_factor: float = 3.0,
) -> Any:
    r"""Number of i.i.d. draws :math:`m` for one part (SPARSIFY step 2).

    .. math::

        m = \left\lceil \frac{8\,\mathcal{S}\,K \log(8\eta/\delta)}{\varepsilon^2} \right\rceil
        \qquad\text{or, with ``tight=True``,}\qquad
        m = \left\lceil \frac{K\,\mathcal{S}\,(6 + 2\varepsilon) \log(8\eta/\delta)}{\varepsilon^2}
        \right\rceil .

    The tight form is Bernstein's inequality solved exactly; the 8-form uses
    :math:`6 + 2\varepsilon \le 8`, valid for :math:`\varepsilon \le 1`. A part with
    :math:`\mathcal{S} = 0` (inactive on :math:`S`) gets :math:`m = 0`.

    Parameters
    ----------
    sensitivity_sum : float or array_like
        :math:`\mathcal{S} \ge 0`, the total sensitivity of the part(s).
    eps : float or array_like
        :math:`\varepsilon \in (0, 1)`, the relative error of the part(s).
    delta : float
        :math:`\delta \in (0, 1)`.
    eta : int
        :math:`\eta`, the number of non-input neurons of the network.
    K : float
        Constant of Assumption 1, required (no default), ``> 1``: at :math:`K \le 1`,
        :math:`F_j(M_j/K) = 1` and the assumption cannot hold
        (:func:`~netcoreset.bounds.check_K`, the message every entry point gives).
    tight : bool, default False
        Use the exact Bernstein form.
    lemma_factor : float, default 3
        :math:`C/K` for the coverage constant :math:`C` of :math:`g_j(x) \le C s_j`: the
        paper's Lemma 1 states :math:`C = 3K` (the default, the formulas above); its argument
        gives :math:`C = K` (``lemma_factor=1``, three times fewer draws; the theory page *The
        guarantee*). In general :math:`m = C\mathcal{S}(2 + 2\varepsilon/3)\log(8\eta/\delta)
        /\varepsilon^2`.

    Returns
    -------
    int or numpy.ndarray
        A Python ``int`` (exact, unbounded) for scalar input; an ``int64`` array, or a float64
        array of whole numbers when some entry exceeds :math:`2^{62}` (the theorem's sizes
        with :math:`\kappa` can).

    See Also
    --------
    netcoreset.bounds.symbolic.sample_size_expr : the same formula in sympy.
    netcoreset.bounds.symbolic.bernstein_exponent_expr : the Bernstein exponent it solves.
    netcoreset.bounds.symbolic.bernstein_exponent_general_expr : the same with Lemma 1's :math:`C`.
    netcoreset.bounds.symbolic.check_eight_form_condition : the derivation check (sympy).

    Examples
    --------
    >>> sample_size(2.0, 0.1, 0.05, 410, K=2.0)
    35493
    >>> sample_size([0.0, 1.0], 0.5, 0.1, 10, K=2.0, tight=True)
    array([  0, 375])
    >>> sample_size(1.0, 0.5, 0.1, 10, K=2.0, tight=True, lemma_factor=1.0)  # C = K: a third
    125
    >>> sample_size(2.0, 0.1, 0.05, 410, K=1.0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: K must exceed 1: Assumption 1 asks F_j(M_j/K) <= exp(-1/K'), ...; got K=1.0
    """
    return _sample_size(
        sensitivity_sum, eps, delta, eta, check_K(K), tight, lemma_factor=lemma_factor
    )


def _sample_size(
    sensitivity_sum: ArrayLike,
    eps: ArrayLike,
    delta: float,
    eta: int,
    K: float,
    tight: bool = False,
    *,
    lemma_factor: float = 3.0,
) -> Any:
    """:func:`sample_size` at any constant ``K > 0``, for the package's own use only (the
    symbolic agreement check over a range of ``K``)."""
    scalar = np.ndim(sensitivity_sum) == 0 and np.ndim(eps) == 0
    s = check_nonnegative_array("sensitivity_sum", sensitivity_sum)
    try:
        e = np.asarray(eps, dtype=np.float64)
    except (TypeError, ValueError):
        e = np.asarray(np.nan)
    if e.size == 0 or not np.all((e > 0) & (e < 1)):
        raise ValueError(f"eps must be a real number in the open interval (0, 1); got {eps!r}")
    delta = check_open_unit("delta", delta)
    eta = check_positive_int("eta", eta)
    K = check_positive("K", K)
    lemma_factor = check_positive("lemma_factor", lemma_factor)
    tight = check_bool("tight", tight)
    with np.errstate(over="ignore"):
        val = np.ceil(_draws_for_eps(s, e, delta, eta, K, tight, lemma_factor=lemma_factor))
    if not np.all(np.isfinite(val)):
        raise ValueError(
            "eps is too small: the sample size exceeds the float64 range (about 1.8e308); "
            f"got eps={eps!r}"
        )
    if scalar:
        return int(val.reshape(()).item())
    if np.any(val > _INT_LIMIT):
        return val  # too large for int64: whole numbers as float64
    return val.astype(np.int64)


def _closed_form_eps(m: np.ndarray, c_term: np.ndarray, tight: bool) -> np.ndarray:
    # c_term = S K log(8 eta / delta) (K already scaled by lemma_factor / 3)
    with np.errstate(divide="ignore", invalid="ignore"):
        if tight:
            return (c_term + np.sqrt(c_term * c_term + 6.0 * m * c_term)) / m
        return np.sqrt(8.0 * c_term / m)


def certified_eps(
    m: ArrayLike,
    sensitivity_sum: ArrayLike,
    delta: float,
    eta: int,
    *,
    K: float,
    tight: bool = False,
    lemma_factor: float = 3.0,
) -> Any:
    r"""The smallest :math:`\varepsilon` whose sample size is at most ``m`` (inverse of
    :func:`sample_size`, with the same ``lemma_factor``).

    .. math::

        \varepsilon(m) = \sqrt{\frac{8\,\mathcal{S} K \log(8\eta/\delta)}{m}}
        \qquad\text{or, with ``tight=True``,}\qquad
        \varepsilon(m) = \frac{c + \sqrt{c^2 + 6 m c}}{m},\quad c = K\mathcal{S}\log(8\eta/\delta),

    the positive root of :math:`m\varepsilon^2 - 2c\varepsilon - 6c = 0`: the tight form
    is a quadratic in :math:`\varepsilon`, so its inverse is closed-form too. The result is
    then moved by at most a few ulps so that ``sample_size(certified_eps(m)) <= m`` holds in
    floating point. ``m = 0`` with :math:`\mathcal{S} > 0` certifies nothing (``inf``);
    :math:`\mathcal{S} = 0` certifies ``0``. A value :math:`\ge 1` of the 8-form is outside
    its validity (:math:`\varepsilon \le 1`): use ``tight=True`` there, which holds for
    every :math:`\varepsilon > 0`. ``K`` is required and must exceed 1, as in
    :func:`sample_size`.

    See Also
    --------
    netcoreset.bounds.symbolic.certified_eps_expr : the same formula in sympy.

    Examples
    --------
    >>> round(certified_eps(35493, 2.0, 0.05, 410, K=2.0), 4)
    0.1
    >>> e = certified_eps(17747, 2.0, 0.05, 410, K=2.0, tight=True)
    >>> sample_size(2.0, e, 0.05, 410, K=2.0, tight=True)
    17747
    """
    return _certified_eps(
        m, sensitivity_sum, delta, eta, check_K(K), tight, lemma_factor=lemma_factor
    )


def _certified_eps(
    m: ArrayLike,
    sensitivity_sum: ArrayLike,
    delta: float,
    eta: int,
    K: float,
    tight: bool = False,
    *,
    lemma_factor: float = 3.0,
) -> Any:
    """:func:`certified_eps` at any constant ``K > 0``, for the package's own use only: the
    sampler's certificate at its coverage constant measured on held-out points (which may be
    1), and the symbolic agreement check over a range of ``K``."""
    scalar = np.ndim(m) == 0 and np.ndim(sensitivity_sum) == 0
    m_arr = check_nonnegative_array("m", m)
    if m_arr.size and np.any(m_arr != np.floor(m_arr)):
        raise ValueError("m must contain whole numbers of draws")
    s = check_nonnegative_array("sensitivity_sum", sensitivity_sum)
    delta = check_open_unit("delta", delta)
    eta = check_positive_int("eta", eta)
    K = check_positive("K", K)
    lemma_factor = check_positive("lemma_factor", lemma_factor)
    tight = check_bool("tight", tight)
    m_arr, s = np.broadcast_arrays(m_arr, s)
    c_term = s * (K * lemma_factor / 3.0) * math.log(8.0 * eta / delta)
    eps = _closed_form_eps(m_arr, c_term, tight)
    eps = np.where(s == 0, 0.0, np.where(m_arr == 0, np.inf, eps))
    finite = np.isfinite(eps) & (eps > 0)

    def m_of(e: np.ndarray) -> np.ndarray:
        # Entries outside ``finite`` (eps = 0 or inf) are never used: silence their overflow.
        with np.errstate(over="ignore", invalid="ignore"):
            return np.ceil(_draws_for_eps(s, e, delta, eta, K, tight, lemma_factor=lemma_factor))

    # Nudge down while still feasible, then up until feasible (floating-point consistency).
    for _ in range(8):
        lower = np.nextafter(eps, 0.0)
        ok = finite & (m_of(lower) <= m_arr)
        eps = np.where(ok, lower, eps)
    for _ in range(64):
        bad = finite & (m_of(eps) > m_arr)
        if not np.any(bad):
            break
        eps = np.where(bad, np.nextafter(eps, np.inf), eps)
    return _out(eps, scalar)


def expected_distinct_edges(q: ArrayLike, m: ArrayLike) -> Any:
    r"""Expected number of distinct edges kept by ``m`` i.i.d. draws from ``q``.

    .. math::

        \mathbb{E}\,|\{\text{distinct draws}\}| = \sum_j \bigl(1 - (1 - q_j)^m\bigr),

    computed as :math:`-\sum_j \operatorname{expm1}(m \log(1 - q_j))` for accuracy. ``q`` is
    a probability vector along its last axis (rows of a matrix are separate parts); ``m``
    broadcasts against ``q[..., 0]``. For :math:`m \ge 1` the value lies in
    :math:`[1, \min(m, |\{j : q_j > 0\}|)]`.

    See Also
    --------
    netcoreset.bounds.symbolic.expected_distinct_edges_expr : the same formula in sympy.

    Examples
    --------
    >>> expected_distinct_edges([0.5, 0.5], 2)
    1.5
    >>> expected_distinct_edges([[1.0, 0.0], [0.25, 0.75]], [3, 0]).tolist()
    [1.0, 0.0]
    """
    q_arr = check_nonnegative_array("q", q)
    if q_arr.ndim == 0:
        raise ValueError("q must be a probability vector (at least one dimension)")
    if np.any(q_arr > 1.0):
        raise ValueError("q must have entries in [0, 1]")
    m_arr = check_nonnegative_array("m", m)
    scalar = q_arr.ndim == 1 and m_arr.ndim == 0
    mm = m_arr[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        per_edge = -np.expm1(mm * np.log1p(-q_arr))
    per_edge = np.where((mm == 0) | (q_arr == 0), 0.0, per_edge)
    return _out(per_edge.sum(axis=-1), scalar)
