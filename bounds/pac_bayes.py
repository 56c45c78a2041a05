r"""PAC-Bayes bounds on the error of a stochastic classifier: the Maurer-Langford-Seeger kl
form, McAllester's square-root form, Catoni's form, the KL divergence between diagonal
Gaussians, and the Monte Carlo correction for an estimated empirical error.

A *stochastic* classifier :math:`Q` is a distribution over weights; it classifies each
input with a fresh draw, and its errors are averages over the draw,

.. math::

    L(Q) = \mathbb E_{h\sim Q} L(h),\qquad \hat L(Q) = \mathbb E_{h\sim Q}\hat L(h).

What must be fixed before the :math:`n` certification points are seen is a prior :math:`P`
over weights (it may be trained on *other* data: a data-dependent prior). The posterior
:math:`Q` may depend on anything, and all the bounds below hold with probability
:math:`\ge 1-\delta` over the sample *simultaneously for every* :math:`Q`; every one is
increasing in :math:`\hat L(Q)`, so an upper bound on :math:`\hat L(Q)` may replace it.
:math:`\hat L(Q)` is an expectation over weights, estimated by :math:`m` draws;
:func:`monte_carlo_error_bound` turns the estimate into an upper bound that holds with
probability :math:`\ge 1-\delta'` over the draws, and :func:`pac_bayes_bound` joins the two,
with total failure probability :math:`\delta + \delta'` (a union bound).

These bounds are about the stochastic classifier :math:`Q`, never about one network drawn
from it or about its mean; every result says so (``stochastic = True``).

The sympy twins of these formulas sit next to this file, in ``pac_bayes_symbolic.py``, and
are exported by :mod:`netcoreset.bounds.symbolic`; each function's See Also names its twin.

References
----------
D. McAllester, "PAC-Bayesian model averaging", COLT 1999. M. Seeger, "PAC-Bayesian
generalisation error bounds for Gaussian process classification", JMLR 3, 2002.
J. Langford and R. Caruana, "(Not) bounding the true error", NeurIPS 2002.
A. Maurer, "A note on the PAC Bayesian theorem", arXiv:cs/0411099, 2004.
O. Catoni, "PAC-Bayesian supervised classification", IMS Lecture Notes 56, 2007.
P. Germain, A. Lacasse, F. Laviolette and M. Marchand, "PAC-Bayesian learning of linear
classifiers", ICML 2009. G. K. Dziugaite and D. M. Roy, "Computing nonvacuous
generalization bounds for deep (stochastic) neural networks", UAI 2017.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .generalization import kl_upper
from .serialization import to_jsonable
from .validation import check_open_unit, check_positive, check_positive_int

__all__ = [
    "PAC_BAYES_FORMS",
    "gaussian_kl",
    "maurer_confidence_nats",
    "pac_bayes_kl_bound",
    "mcallester_bound",
    "catoni_bound",
    "monte_carlo_error_bound",
    "PacBayesBound",
    "pac_bayes_bound",
]

#: The forms of :func:`pac_bayes_bound`.
PAC_BAYES_FORMS: tuple[str, ...] = ("kl", "mcallester", "catoni")

_EPS = float(np.finfo(np.float64).eps)


def _up(x: float) -> float:
    """``x`` raised by a few ulps: a closed form computed in floating point is never below
    the exact value by rounding."""
    return x + 8.0 * _EPS * abs(x) + 1e-300


def _unit(name: str, value: Any) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name} must be a real number in [0, 1]; got {value!r}")
    return float(value)


def _divergence(value: Any) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or not math.isfinite(float(value)) or float(value) < 0:
        raise ValueError(f"kl must be a finite real number >= 0 (nats); got {value!r}")
    return float(value)


# --------------------------------------------------------------------------------------------
# The KL divergence of Gaussian posteriors and priors
# --------------------------------------------------------------------------------------------


def gaussian_kl(mu_q: ArrayLike, sigma_q: ArrayLike, mu_p: ArrayLike, sigma_p: ArrayLike) -> float:
    r"""The KL divergence :math:`\mathrm{KL}(Q\,\|\,P)` in nats between diagonal Gaussians.

    With :math:`Q = \mathcal N(\mu, \mathrm{diag}\,\sigma_q^2)` and
    :math:`P = \mathcal N(\mu_0, \mathrm{diag}\,\sigma_p^2)` over :math:`d` weights,

    .. math::

        \mathrm{KL}(Q\,\|\,P) = \frac12\sum_{i=1}^{d}\Bigl[\frac{\sigma_{q,i}^2}{\sigma_{p,i}^2}
        + \frac{(\mu_i - \mu_{0,i})^2}{\sigma_{p,i}^2} - 1
        + \ln\frac{\sigma_{p,i}^2}{\sigma_{q,i}^2}\Bigr].

    Each bracket is :math:`(r - 1 - \ln r) + (\mu_i-\mu_{0,i})^2/\sigma_{p,i}^2 \ge 0` with
    :math:`r = \sigma_{q,i}^2/\sigma_{p,i}^2`, and is computed in that form (no cancellation
    when :math:`\sigma_q \approx \sigma_p`). Scalars broadcast (a prior
    :math:`\mathcal N(\mu_0, \sigma_p^2 I)` takes one ``sigma_p``).

    Parameters
    ----------
    mu_q, sigma_q : array_like
        The posterior's means and standard deviations (:math:`\sigma_q > 0`).
    mu_p, sigma_p : array_like
        The prior's means and standard deviations (:math:`\sigma_p > 0`).

    Returns
    -------
    float

    See Also
    --------
    netcoreset.bounds.symbolic.gaussian_kl_expr : the same formula in sympy.
    netcoreset.bounds.symbolic.check_gaussian_kl_nonnegative : the derivation check (sympy).

    Examples
    --------
    >>> gaussian_kl([0.0, 0.0], 1.0, [0.0, 0.0], 1.0)
    0.0
    >>> # d = 1: (1/4 + 1/1 - 1 + ln 4) / 2 = (0.25 + ln 4) / 2
    >>> round(gaussian_kl([1.0], [0.5], [0.0], [1.0]), 6)
    0.818147

    References
    ----------
    Dziugaite and Roy (2017), Section 3; Pérez-Ortiz et al. (2021), Section 4.
    """
    arrays = []
    for name, value in (("mu_q", mu_q), ("sigma_q", sigma_q), ("mu_p", mu_p), ("sigma_p", sigma_p)):
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be an array of real numbers") from exc
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite (no NaN or inf)")
        if name.startswith("sigma") and np.any(arr <= 0):
            raise ValueError(f"{name} must be > 0 everywhere")
        arrays.append(arr)
    try:
        mq, sq, mp, sp = np.broadcast_arrays(*arrays)
    except ValueError as exc:
        raise ValueError(
            "mu_q, sigma_q, mu_p and sigma_p must have broadcastable shapes; got "
            + ", ".join(str(a.shape) for a in arrays)
        ) from exc
    log_ratio = 2.0 * (np.log(sq) - np.log(sp))  # ln r, r = sigma_q^2 / sigma_p^2
    ratio_term = np.expm1(log_ratio) - log_ratio  # r - 1 - ln r >= 0
    mean_term = ((mq - mp) / sp) ** 2
    total = 0.5 * math.fsum(np.ravel(np.maximum(ratio_term, 0.0) + mean_term))
    return _up(total) if total > 0 else 0.0


# --------------------------------------------------------------------------------------------
# The three PAC-Bayes forms
# --------------------------------------------------------------------------------------------


def maurer_confidence_nats(n: int, delta: float) -> float:
    r"""The confidence term of the kl and McAllester forms: :math:`\ln(2\sqrt n/\delta)`.

    .. math::

        \ln\frac{\xi(n)}{\delta} \le \ln\frac{2\sqrt n}{\delta},\qquad
        \xi(n) = \sum_{k=0}^{n}\binom nk\Bigl(\frac kn\Bigr)^k\Bigl(1-\frac kn\Bigr)^{n-k},

    :math:`\xi(n) = \mathbb E\,e^{n\,\mathrm{kl}(\hat L(h)\|L(h))}` at its worst, and
    :math:`\xi(n) \le 2\sqrt n` (Maurer, 2004; the tests check it for every
    :math:`n \le 2000`).

    See Also
    --------
    netcoreset.bounds.symbolic.maurer_confidence_nats_expr : the same formula in sympy.
    netcoreset.bounds.symbolic.maurer_xi_expr : \xi(n) in sympy.

    Examples
    --------
    >>> round(maurer_confidence_nats(10000, 0.05), 6)  # ln(200 / 0.05) = ln 4000
    8.29405
    """
    n = check_positive_int("n", n)
    delta = check_open_unit("delta", delta)
    return math.log(2.0) + 0.5 * math.log(n) - math.log(delta)


def pac_bayes_kl_bound(empirical: float, kl: float, n: int, delta: float) -> float:
    r"""The Maurer-Langford-Seeger bound: the largest :math:`p` with
    :math:`\mathrm{kl}(\hat L(Q)\|p) \le (\mathrm{KL}(Q\|P) + \ln(2\sqrt n/\delta))/n`.

    .. math::

        L(Q) \le \mathrm{kl}^{-1}\Bigl(\hat L(Q),\
        \frac{\mathrm{KL}(Q\,\|\,P) + \ln(2\sqrt n/\delta)}{n}\Bigr)

    with probability :math:`\ge 1-\delta` over the :math:`n` points, for every posterior
    :math:`Q` at once (Seeger 2002, Maurer 2004). The inverse is
    :func:`~netcoreset.bounds.kl_upper` (never below the exact value).

    Parameters
    ----------
    empirical : float
        :math:`\hat L(Q)` (or an upper bound on it), in :math:`[0, 1]`.
    kl : float
        :math:`\mathrm{KL}(Q\|P) \ge 0` in nats.
    n : int
        Certification points.
    delta : float
        In :math:`(0, 1)`.

    Returns
    -------
    float

    See Also
    --------
    netcoreset.bounds.symbolic.pac_bayes_kl_bound_expr : its defining inequality in sympy.
    netcoreset.bounds.symbolic.pac_bayes_kl_level_expr : its level in sympy.

    Examples
    --------
    >>> # Q = P: the bound of one classifier, at the price ln(2 sqrt(n))
    >>> round(pac_bayes_kl_bound(0.0, 0.0, 10000, 0.05), 6)  # 1 - exp(-ln(4000)/10000)
    0.000829

    References
    ----------
    Seeger (2002), Theorem 1; Maurer (2004), Theorem 5.
    """
    q = _unit("empirical", empirical)
    d = _divergence(kl)
    rate = (d + maurer_confidence_nats(n, delta)) / n
    return float(kl_upper(q, rate))


def mcallester_bound(empirical: float, kl: float, n: int, delta: float) -> float:
    r"""McAllester's form: :math:`\hat L(Q) + \sqrt{(\mathrm{KL}(Q\|P) + \ln(2\sqrt n/\delta))
    /(2n)}`, capped at 1.

    .. math::

        L(Q) \le \hat L(Q) + \sqrt{\frac{\mathrm{KL}(Q\,\|\,P) + \ln(2\sqrt n/\delta)}{2n}}

    It follows from :func:`pac_bayes_kl_bound` by Pinsker's inequality
    :math:`\mathrm{kl}(q\|p) \ge 2(p-q)^2`, so it is never smaller.

    Parameters
    ----------
    empirical, kl, n, delta
        As in :func:`pac_bayes_kl_bound`.

    Returns
    -------
    float

    See Also
    --------
    netcoreset.bounds.symbolic.mcallester_bound_expr : the same formula in sympy.
    netcoreset.bounds.symbolic.check_mcallester_is_pinsker : the derivation check (sympy).

    Examples
    --------
    >>> # 0.02 + sqrt((100 + ln 4000) / 20000) = 0.02 + sqrt(0.0054147) = 0.02 + 0.073585
    >>> round(mcallester_bound(0.02, 100.0, 10000, 0.05), 6)
    0.093585

    References
    ----------
    McAllester (1999, 2003); Maurer (2004) for the :math:`\ln(2\sqrt n/\delta)` term.
    """
    q = _unit("empirical", empirical)
    d = _divergence(kl)
    rate = (d + maurer_confidence_nats(n, delta)) / n
    return min(1.0, _up(q + math.sqrt(rate / 2.0)))


def catoni_bound(
    empirical: float, kl: float, n: int, delta: float, lam: float, grid_size: int = 1
) -> float:
    r"""Catoni's form for a :math:`\lambda > 0` fixed in advance (or one of a grid of
    ``grid_size`` values fixed in advance, each at level :math:`\delta/G`).

    .. math::

        L(Q) \le \frac{1 - \exp\bigl(-\lambda\hat L(Q)
        - (\mathrm{KL}(Q\,\|\,P) + \ln(G/\delta))/n\bigr)}{1 - e^{-\lambda}}

    *Derivation.* With :math:`F(p) = -\ln(1 - p(1 - e^{-\lambda}))` (convex),
    :math:`\mathbb E\,e^{-\lambda n\hat L(h)} = (1 - L(h)(1-e^{-\lambda}))^n =
    e^{-nF(L(h))}`, so :math:`\mathbb E_S\mathbb E_{h\sim P}\,e^{n(F(L(h)) - \lambda\hat
    L(h))} = 1`. The change of measure :math:`\mathbb E_Q f \le \mathrm{KL}(Q\|P) +
    \ln\mathbb E_P e^f`, Markov's inequality and Jensen's inequality (:math:`F(p) - \lambda q`
    is jointly convex) give :math:`nF(L(Q)) \le \lambda n\hat L(Q) + \mathrm{KL}(Q\|P) +
    \ln(1/\delta)` with probability :math:`\ge 1-\delta`; solving for :math:`L(Q)` gives
    the bound. A :math:`\lambda` chosen after seeing the data from a grid of :math:`G`
    values costs :math:`\ln G` (a union bound); a :math:`\lambda` chosen freely is not
    covered.

    Parameters
    ----------
    empirical, kl, n, delta
        As in :func:`pac_bayes_kl_bound`.
    lam : float
        :math:`\lambda > 0`, fixed before the data (or taken from the declared grid).
    grid_size : int, default 1
        :math:`G`, the size of the declared grid :math:`\lambda` comes from.

    Returns
    -------
    float

    See Also
    --------
    netcoreset.bounds.symbolic.catoni_bound_expr : the same formula in sympy.
    netcoreset.bounds.symbolic.check_catoni_solution : the derivation check (sympy).

    Examples
    --------
    >>> # (1 - exp(-2 * 0.02 - (100 + ln 20) / 10000)) / (1 - exp(-2)) = 0.049055 / 0.864665
    >>> round(catoni_bound(0.02, 100.0, 10000, 0.05, 2.0), 5)
    0.05673

    References
    ----------
    Catoni (2007), Theorem 1.2.6; Germain et al. (2009), Theorem 2.1.
    """
    q = _unit("empirical", empirical)
    d = _divergence(kl)
    n = check_positive_int("n", n)
    delta = check_open_unit("delta", delta)
    lam = check_positive("lam", lam)
    grid = check_positive_int("grid_size", grid_size)
    exponent = lam * q + (d + math.log(grid) - math.log(delta)) / n
    return min(1.0, _up(-math.expm1(-exponent) / -math.expm1(-lam)))


# --------------------------------------------------------------------------------------------
# The Monte Carlo estimate of the empirical error
# --------------------------------------------------------------------------------------------


def monte_carlo_error_bound(mc_error: float, m: int, delta_prime: float) -> float:
    r"""An upper bound on :math:`\hat L(Q)` from :math:`m` independent weight draws:
    :math:`\mathrm{kl}^{-1}(\hat L_m(Q), \ln(2/\delta')/m)`.

    .. math::

        \hat L(Q) \le \mathrm{kl}^{-1}\Bigl(\hat L_m(Q),\ \frac{\ln(2/\delta')}{m}\Bigr),
        \qquad \hat L_m(Q) = \frac1m\sum_{j=1}^m \hat L(h_j),\quad h_j \sim Q
        \text{ i.i.d.},

    with probability :math:`\ge 1-\delta'` over the draws. Each :math:`\hat L(h_j) \in
    [0, 1]` has mean :math:`\hat L(Q)`; a variable in :math:`[0, 1]` has an exponential
    moment no larger than a Bernoulli of the same mean (convexity), so the Chernoff bound of
    a binomial applies (Maurer 2004, Lemma 3). The same holds for :math:`m` independent terms
    in :math:`[0, 1]` whose means :math:`p_j` only *average* to :math:`\hat L(Q)` (e.g. a
    fresh draw for every training point, :math:`m` = draws :math:`\times n`): by the
    inequality of arithmetic and geometric means,
    :math:`\prod_j(1 - p_j + p_je^t) \le (1 - \bar p + \bar pe^t)^m`. The level
    :math:`\ln(2/\delta')` is that of Langford and Caruana (2002) (:math:`\ln(1/\delta')`
    would do for this one-sided bound).

    Parameters
    ----------
    mc_error : float
        :math:`\hat L_m(Q)`, the mean training error of the :math:`m` drawn networks.
    m : int
        Draws.
    delta_prime : float
        :math:`\delta'` in :math:`(0, 1)`.

    Returns
    -------
    float

    See Also
    --------
    netcoreset.bounds.symbolic.monte_carlo_error_bound_expr : its defining inequality in sympy.
    netcoreset.bounds.symbolic.monte_carlo_level_expr : its level in sympy.

    Examples
    --------
    >>> round(monte_carlo_error_bound(0.0, 1000, 0.01), 6)  # 1 - exp(-ln(200) / 1000)
    0.005284

    References
    ----------
    Langford and Caruana (2002), Section 2; Dziugaite and Roy (2017), Section 4.
    """
    q = _unit("mc_error", mc_error)
    m = check_positive_int("m", m)
    dp = check_open_unit("delta_prime", delta_prime)
    return float(kl_upper(q, math.log(2.0 / dp) / m))


@dataclass(frozen=True)
class PacBayesBound:
    r"""A PAC-Bayes bound on a **stochastic** classifier with its terms (see
    :func:`pac_bayes_bound`).

    ``bound`` bounds :math:`L(Q)`, the error of a classifier that draws fresh weights from
    :math:`Q` for every input; it says nothing by itself about one drawn network or the mean
    network. It holds with probability :math:`\ge 1 -` ``total_delta``
    :math:`= \delta + \delta'`.

    .. math::

        L(Q) \le B\bigl(\bar L,\ \mathrm{KL}(Q\|P),\ n,\ \delta\bigr),\qquad
        \bar L = \mathrm{kl}^{-1}(\hat L_m(Q), \ln(2/\delta')/m)

    Examples
    --------
    >>> b = pac_bayes_bound(0.01, 1000, 50.0, 10000, 0.025, 0.025)
    >>> b.stochastic, b.total_delta, b.form
    (True, 0.05, 'kl')
    """

    bound: float
    form: str
    stochastic: bool
    mc_error: float
    mc_draws: int
    empirical_error_bound: float
    kl_nats: float
    n: int
    delta: float
    delta_prime: float
    total_delta: float
    lam: float | None
    terms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (``to_jsonable``)."""
        return to_jsonable(asdict(self))


def pac_bayes_bound(
    mc_error: float,
    m: int,
    kl: float,
    n: int,
    delta: float,
    delta_prime: float,
    form: str = "kl",
    *,
    lambdas: Sequence[float] | None = None,
) -> PacBayesBound:
    r"""The PAC-Bayes bound on :math:`L(Q)` with the Monte Carlo estimate of
    :math:`\hat L(Q)` paid for: total failure probability :math:`\delta + \delta'`.

    .. math::

        \bar L = \mathrm{kl}^{-1}\Bigl(\hat L_m(Q), \frac{\ln(2/\delta')}{m}\Bigr),\qquad
        L(Q) \le B(\bar L, \mathrm{KL}(Q\|P), n, \delta)

    with :math:`B` the ``form``: ``"kl"`` (:func:`pac_bayes_kl_bound`), ``"mcallester"``
    (:func:`mcallester_bound`) or ``"catoni"`` (:func:`catoni_bound`, the smallest over the
    declared ``lambdas``, each at level :math:`\delta/G`). Every form is increasing in its
    first argument, so with probability :math:`\ge 1 - \delta'` over the draws
    :math:`\hat L(Q) \le \bar L` gives :math:`B(\hat L(Q)) \le B(\bar L)`; the union of the
    two failure events has probability :math:`\le \delta + \delta'`.

    Parameters
    ----------
    mc_error : float
        :math:`\hat L_m(Q)`: the mean training error over :math:`m` weight draws.
    m : int
        Weight draws.
    kl : float
        :math:`\mathrm{KL}(Q\|P)` in nats (:func:`gaussian_kl`).
    n : int
        Certification points (the prior must not depend on them).
    delta, delta_prime : float
        Failure probabilities of the PAC-Bayes bound and of the Monte Carlo estimate.
    form : {"kl", "mcallester", "catoni"}, default "kl"
    lambdas : sequence of float, optional
        The declared grid of :math:`\lambda` for ``"catoni"`` (required there).

    Returns
    -------
    PacBayesBound

    Examples
    --------
    >>> # 1% mean error over 10^5 draws, KL = 50 nats, n = 10^4, delta = delta' = 0.025
    >>> b = pac_bayes_bound(0.01, 10**5, 50.0, 10000, 0.025, 0.025)
    >>> round(b.empirical_error_bound, 4), round(b.bound, 4), b.total_delta
    (0.011, 0.0264, 0.05)
    >>> c = pac_bayes_bound(0.01, 10**5, 50.0, 10000, 0.025, 0.025, "catoni",
    ...                     lambdas=[0.5, 1.0, 2.0, 4.0])
    >>> round(c.bound, 4), c.lam
    (0.0258, 1.0)

    References
    ----------
    Langford and Caruana (2002); Dziugaite and Roy (2017), Section 4; Pérez-Ortiz,
    Rivasplata, Shawe-Taylor and Szepesvári (2021), Section 6.
    """
    if form not in PAC_BAYES_FORMS:
        raise ValueError(f"form must be one of {', '.join(PAC_BAYES_FORMS)}; got {form!r}")
    n = check_positive_int("n", n)
    delta = check_open_unit("delta", delta)
    upper = monte_carlo_error_bound(mc_error, m, delta_prime)
    d = _divergence(kl)
    lam: float | None = None
    if form == "kl":
        value = pac_bayes_kl_bound(upper, d, n, delta)
    elif form == "mcallester":
        value = mcallester_bound(upper, d, n, delta)
    else:
        if lambdas is None or len(lambdas) == 0:
            raise ValueError("form 'catoni' needs lambdas: the grid of lambda fixed in advance")
        grid = [check_positive("lambdas", v) for v in lambdas]
        if len(set(grid)) != len(grid):
            raise ValueError(f"lambdas must not repeat a value; got {list(lambdas)!r}")
        values = [catoni_bound(upper, d, n, delta, v, len(grid)) for v in grid]
        best = int(np.argmin(values))
        value, lam = values[best], grid[best]
    total = float(delta) + float(delta_prime)
    terms = {
        "kl_nats": d,
        "kl_per_point": d / n,
        "confidence_nats": maurer_confidence_nats(n, delta)
        if form != "catoni"
        else math.log(len(lambdas or [1]) / delta),
        "mc_gap": upper - float(mc_error),
        "gap": value - upper,
    }
    return PacBayesBound(
        bound=float(value),
        form=form,
        stochastic=True,
        mc_error=float(mc_error),
        mc_draws=int(m),
        empirical_error_bound=upper,
        kl_nats=d,
        n=n,
        delta=delta,
        delta_prime=float(delta_prime),
        total_delta=total,
        lam=lam,
        terms=terms,
    )
