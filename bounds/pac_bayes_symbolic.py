r"""Sympy twins of ``pac_bayes.py``: the KL divergence of diagonal Gaussians, Maurer's
confidence term, the Maurer-Langford-Seeger kl form, McAllester's and Catoni's forms and the
Langford-Caruana Monte Carlo term, with their derivation checks and the check by evaluation of
the numeric PAC-Bayes functions.

The kl inverse :math:`\mathrm{kl}^{-1}(\hat L, c) = \max\{p \in [\hat L, 1] :
\mathrm{kl}(\hat L\|p) \le c\}` has no closed form, so the kl form and the Monte Carlo term
are stated by their defining inequality (a sympy relational) next to their level :math:`c`
(an expression); McAllester's and Catoni's forms are closed forms (before the numeric cap
at 1).

Each expression names its numeric function under See Also, and the numeric function names
it back. The names are exported by :mod:`netcoreset.bounds.symbolic` (this module imports
sympy; ``import netcoreset.bounds`` does not load it).

References
----------
D. McAllester, "PAC-Bayesian model averaging", COLT 1999. M. Seeger, "PAC-Bayesian
generalisation error bounds for Gaussian process classification", JMLR 3, 2002.
J. Langford and R. Caruana, "(Not) bounding the true error", NeurIPS 2002.
A. Maurer, "A note on the PAC Bayesian theorem", arXiv:cs/0411099, 2004.
O. Catoni, "PAC-Bayesian supervised classification", IMS Lecture Notes 56, 2007.
G. K. Dziugaite and D. M. Roy, "Computing nonvacuous generalization bounds for deep
(stochastic) neural networks", UAI 2017.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from ._symbolic_base import GSYM, SYM, DerivationCheck, _agreement, _is_zero, _mp, _Record
from .generalization_symbolic import _pass, binary_kl_expr, occam_hoeffding_expr

__all__ = [
    "PacBayesSymbols",
    "PSYM",
    "gaussian_kl_expr",
    "maurer_confidence_nats_expr",
    "maurer_xi_expr",
    "pac_bayes_kl_level_expr",
    "pac_bayes_kl_bound_expr",
    "mcallester_bound_expr",
    "catoni_bound_expr",
    "monte_carlo_level_expr",
    "monte_carlo_error_bound_expr",
    "check_gaussian_kl_nonnegative",
    "check_mcallester_is_pinsker",
    "check_catoni_solution",
    "check_pac_bayes_numeric_agreement",
]


@dataclass(frozen=True)
class PacBayesSymbols:
    r"""The symbols of the PAC-Bayes bounds (sympy symbols; each name is its LaTeX).

    .. math::

        \mathrm{KL}(Q\|P),\ \delta',\ \lambda,\ G,\ m,\ \hat L_m,\ d,\
        \mu_i,\ \sigma_{q,i},\ \mu_{0,i},\ \sigma_{p,i}

    :math:`\mathrm{KL}(Q\|P)` is the divergence of posterior and prior in nats,
    :math:`\delta'` the failure probability of the Monte Carlo estimate, :math:`\lambda`
    Catoni's parameter, :math:`G` the size of its declared grid, :math:`m` the number of
    weight draws, :math:`\hat L_m` their mean training error and :math:`d` the number of
    weights. The empirical and true errors, :math:`n` and :math:`\delta` are those of
    :data:`~netcoreset.bounds.symbolic.GSYM` and :data:`~netcoreset.bounds.symbolic.SYM`.

    Examples
    --------
    >>> PSYM.KL.name, PSYM.KL.is_nonnegative, PSYM.G.is_integer
    ('\\mathrm{KL}(Q\\|P)', True, True)
    """

    KL: sp.Symbol  #: KL(Q || P) in nats
    delta_prime: sp.Symbol  #: failure probability of the Monte Carlo estimate
    lam: sp.Symbol  #: Catoni's lambda
    G: sp.Symbol  #: size of the declared lambda grid
    m: sp.Symbol  #: weight draws
    L_m: sp.Symbol  #: mean training error of the m drawn networks
    d: sp.Symbol  #: number of weights
    i: sp.Symbol  #: weight index
    mu_q: sp.IndexedBase  #: posterior means
    sigma_q: sp.IndexedBase  #: posterior standard deviations
    mu_p: sp.IndexedBase  #: prior means
    sigma_p: sp.IndexedBase  #: prior standard deviations


PSYM = PacBayesSymbols(
    KL=sp.Symbol(r"\mathrm{KL}(Q\|P)", nonnegative=True),
    delta_prime=sp.Symbol(r"\delta'", positive=True),
    lam=sp.Symbol(r"\lambda", positive=True),
    G=sp.Symbol("G", positive=True, integer=True),
    m=sp.Symbol("m", positive=True, integer=True),
    L_m=sp.Symbol(r"\hat{L}_{m}", positive=True),
    d=sp.Symbol("d", positive=True, integer=True),
    i=sp.Symbol("i", positive=True, integer=True),
    mu_q=sp.IndexedBase(r"\mu", real=True),
    sigma_q=sp.IndexedBase(r"\sigma_{q}", positive=True),
    mu_p=sp.IndexedBase(r"\mu_{0}", real=True),
    sigma_p=sp.IndexedBase(r"\sigma_{p}", positive=True),
)


def _gaussian_kl_term(mq: sp.Expr, sq: sp.Expr, mp: sp.Expr, s0: sp.Expr) -> sp.Expr:
    # twice the KL divergence of N(mq, sq^2) from N(mp, s0^2): one bracket of the sum
    return sq**2 / s0**2 + (mq - mp) ** 2 / s0**2 - 1 + sp.log(s0**2 / sq**2)


def gaussian_kl_expr() -> sp.Expr:
    r"""The KL divergence of diagonal Gaussians in nats (twin of
    :func:`~netcoreset.bounds.gaussian_kl`).

    .. math::

        \mathrm{KL}(Q\,\|\,P) = \frac12\sum_{i=1}^{d}\Bigl[\frac{\sigma_{q,i}^2}{\sigma_{p,i}^2}
        + \frac{(\mu_i - \mu_{0,i})^2}{\sigma_{p,i}^2} - 1
        + \ln\frac{\sigma_{p,i}^2}{\sigma_{q,i}^2}\Bigr]

    for :math:`Q = \mathcal N(\mu, \mathrm{diag}\,\sigma_q^2)` and
    :math:`P = \mathcal N(\mu_0, \mathrm{diag}\,\sigma_p^2)` (Dziugaite and Roy 2017,
    Section 3); each bracket is :math:`\ge 0` (:func:`check_gaussian_kl_nonnegative`).

    See Also
    --------
    netcoreset.bounds.gaussian_kl : the numeric function.

    Examples
    --------
    >>> s = PSYM
    >>> one = gaussian_kl_expr().subs(s.d, 1).doit()
    >>> one.subs({s.mu_q[1]: 1, s.mu_p[1]: 0, s.sigma_q[1]: 1, s.sigma_p[1]: 1})
    1/2
    """
    s, i = PSYM, PSYM.i
    term = _gaussian_kl_term(s.mu_q[i], s.sigma_q[i], s.mu_p[i], s.sigma_p[i])
    return sp.Rational(1, 2) * sp.Sum(term, (i, 1, s.d))


def maurer_confidence_nats_expr() -> sp.Expr:
    r"""The confidence term of the kl and McAllester forms (twin of
    :func:`~netcoreset.bounds.maurer_confidence_nats`).

    .. math::

        \ln\frac{2\sqrt n}{\delta} \ge \ln\frac{\xi(n)}{\delta}

    with :math:`\xi(n)` of :func:`maurer_xi_expr` (Maurer 2004, Theorem 1).

    See Also
    --------
    netcoreset.bounds.maurer_confidence_nats : the numeric function.

    Examples
    --------
    >>> maurer_confidence_nats_expr().subs({GSYM.n: 4, SYM.delta: 1})
    log(4)
    """
    return sp.log(2 * sp.sqrt(GSYM.n) / SYM.delta)


def maurer_xi_expr() -> sp.Expr:
    r"""Maurer's :math:`\xi(n)`, the largest :math:`\mathbb E\,e^{n\,\mathrm{kl}(\hat
    L(h)\|L(h))}` over a fixed classifier's error, which :math:`2\sqrt n` bounds.

    .. math::

        \xi(n) = \sum_{k=0}^{n}\binom nk\Bigl(\frac kn\Bigr)^k\Bigl(1-\frac kn\Bigr)^{n-k}
        \le 2\sqrt n

    Maurer (2004), Theorem 1 (the inequality for :math:`n \ge 8`; it holds for every
    :math:`n \ge 1`, checked by evaluation in :func:`check_pac_bayes_numeric_agreement` and
    in the tests of :func:`~netcoreset.bounds.maurer_confidence_nats`).

    See Also
    --------
    netcoreset.bounds.maurer_confidence_nats : the numeric function.

    Examples
    --------
    >>> maurer_xi_expr().subs(GSYM.n, 2).doit()  # 1 + 2 (1/2)(1/2) + 1
    5/2
    """
    k, n = GSYM.k, GSYM.n
    return sp.Sum(sp.binomial(n, k) * (k / n) ** k * (1 - k / n) ** (n - k), (k, 0, n))


def pac_bayes_kl_level_expr() -> sp.Expr:
    r"""The level of the kl form (the second argument of :math:`\mathrm{kl}^{-1}` in
    :func:`~netcoreset.bounds.pac_bayes_kl_bound`).

    .. math::

        c = \frac{\mathrm{KL}(Q\,\|\,P) + \ln(2\sqrt n/\delta)}{n}

    See Also
    --------
    netcoreset.bounds.pac_bayes_kl_bound : the numeric function.

    Examples
    --------
    >>> pac_bayes_kl_level_expr().subs({PSYM.KL: 0, GSYM.n: 1, SYM.delta: 2})
    0
    """
    return (PSYM.KL + maurer_confidence_nats_expr()) / GSYM.n


def pac_bayes_kl_bound_expr() -> sp.core.relational.Relational:
    r"""The Maurer-Langford-Seeger bound's defining inequality (twin of
    :func:`~netcoreset.bounds.pac_bayes_kl_bound`).

    .. math::

        \mathrm{kl}(\hat L\,\|\,p) \le
        \frac{\mathrm{KL}(Q\,\|\,P) + \ln(2\sqrt n/\delta)}{n}

    The bound :math:`L(Q) \le \mathrm{kl}^{-1}(\hat L, c)` is the largest :math:`p \in
    [\hat L, 1]` that satisfies it (Seeger 2002, Theorem 1; Maurer 2004, Theorem 5). The
    inverse has **no closed form**, so the twin is this relational; :math:`p \mapsto
    \mathrm{kl}(\hat L\|p)` increases on :math:`[\hat L, 1)`, so the solutions form the
    interval :math:`[\hat L, \mathrm{kl}^{-1}(\hat L, c)]`, and
    :func:`check_pac_bayes_numeric_agreement` checks that the numeric inverse brackets its
    right end.

    See Also
    --------
    netcoreset.bounds.pac_bayes_kl_bound : the numeric function.
    netcoreset.bounds.kl_upper : the numeric inverse.

    Examples
    --------
    >>> rel = pac_bayes_kl_bound_expr()
    >>> rel.rhs == pac_bayes_kl_level_expr(), rel.lhs == binary_kl_expr()
    (True, True)
    """
    return sp.Le(binary_kl_expr(), pac_bayes_kl_level_expr())


def mcallester_bound_expr() -> sp.Expr:
    r"""McAllester's form, before the cap at 1 (twin of
    :func:`~netcoreset.bounds.mcallester_bound`).

    .. math::

        L(Q) \le \hat L + \sqrt{\frac{\mathrm{KL}(Q\,\|\,P) + \ln(2\sqrt n/\delta)}{2n}}

    McAllester (1999, 2003), with Maurer's (2004) :math:`\ln(2\sqrt n/\delta)`; it is
    Pinsker's bound on the kl form (:func:`check_mcallester_is_pinsker`).

    See Also
    --------
    netcoreset.bounds.mcallester_bound : the numeric function.

    Examples
    --------
    >>> mcallester_bound_expr().subs({GSYM.L_hat: 0, PSYM.KL: 2, GSYM.n: 1, SYM.delta: 2})
    1
    """
    return GSYM.L_hat + sp.sqrt(pac_bayes_kl_level_expr() / 2)


def catoni_bound_expr() -> sp.Expr:
    r"""Catoni's form for a :math:`\lambda` from a declared grid of :math:`G` values, before
    the cap at 1 (twin of :func:`~netcoreset.bounds.catoni_bound`).

    .. math::

        L(Q) \le \frac{1 - \exp\bigl(-\lambda\hat L
        - (\mathrm{KL}(Q\,\|\,P) + \ln(G/\delta))/n\bigr)}{1 - e^{-\lambda}}

    Catoni (2007), Theorem 1.2.6; Germain et al. (2009), Theorem 2.1. It solves
    :math:`nF(p) = \lambda n\hat L + \mathrm{KL}(Q\|P) + \ln(G/\delta)` with
    :math:`F(p) = -\ln(1 - p(1 - e^{-\lambda}))` (:func:`check_catoni_solution`).

    See Also
    --------
    netcoreset.bounds.catoni_bound : the numeric function.

    Examples
    --------
    >>> s = {GSYM.L_hat: 0, PSYM.KL: 0, GSYM.n: 1, PSYM.G: 1, SYM.delta: 1, PSYM.lam: 1}
    >>> catoni_bound_expr().subs(s)
    0
    """
    s = PSYM
    exponent = s.lam * GSYM.L_hat + (s.KL + sp.log(s.G / SYM.delta)) / GSYM.n
    return (1 - sp.exp(-exponent)) / (1 - sp.exp(-s.lam))


def monte_carlo_level_expr() -> sp.Expr:
    r"""The level of the Monte Carlo term (the second argument of :math:`\mathrm{kl}^{-1}`
    in :func:`~netcoreset.bounds.monte_carlo_error_bound`).

    .. math::

        c' = \frac{\ln(2/\delta')}{m}

    See Also
    --------
    netcoreset.bounds.monte_carlo_error_bound : the numeric function.

    Examples
    --------
    >>> monte_carlo_level_expr().subs({PSYM.delta_prime: 2 * sp.exp(-3), PSYM.m: 3})
    1
    """
    return sp.log(2 / PSYM.delta_prime) / PSYM.m


def monte_carlo_error_bound_expr() -> sp.core.relational.Relational:
    r"""The Monte Carlo term's defining inequality (twin of
    :func:`~netcoreset.bounds.monte_carlo_error_bound`).

    .. math::

        \mathrm{kl}(\hat L_m\,\|\,p) \le \frac{\ln(2/\delta')}{m}

    The bound :math:`\hat L(Q) \le \mathrm{kl}^{-1}(\hat L_m, \ln(2/\delta')/m)` is the
    largest :math:`p \in [\hat L_m, 1]` that satisfies it (Langford and Caruana 2002,
    Section 2); like the kl form it has **no closed form**, so the twin is this relational.

    See Also
    --------
    netcoreset.bounds.monte_carlo_error_bound : the numeric function.
    netcoreset.bounds.kl_upper : the numeric inverse.

    Examples
    --------
    >>> monte_carlo_error_bound_expr().rhs == monte_carlo_level_expr()
    True
    """
    return sp.Le(binary_kl_expr().subs(GSYM.L_hat, PSYM.L_m), monte_carlo_level_expr())


def check_gaussian_kl_nonnegative() -> DerivationCheck:
    r"""Each bracket of :func:`gaussian_kl_expr` is :math:`(r - 1 - \ln r) +
    (\mu_i-\mu_{0,i})^2/\sigma_{p,i}^2 \ge 0` with :math:`r = \sigma_{q,i}^2/\sigma_{p,i}^2`,
    the form :func:`~netcoreset.bounds.gaussian_kl` computes.

    With :math:`g(r) = r - 1 - \ln r` sympy shows

    .. math::

        g(1) = 0,\qquad g'(r) = \frac{r - 1}{r},

    so :math:`g` falls on :math:`(0, 1]`, rises on :math:`[1, \infty)` and is
    :math:`\ge 0`; the bracket is that plus a square, and the divergence is :math:`0` when
    :math:`Q = P`.

    Examples
    --------
    >>> c = check_gaussian_kl_nonnegative()
    >>> c.proved, c.residual
    (True, 0)
    """
    mq, mp = sp.symbols("mu mu_0", real=True)
    sq, s0, r = sp.symbols("sigma_q sigma_p r", positive=True)
    g = r - 1 - sp.log(r)
    split = g.subs(r, sq**2 / s0**2) + (mq - mp) ** 2 / s0**2
    ok_split, res = _is_zero(sp.expand_log(_gaussian_kl_term(mq, sq, mp, s0) - split, force=True))
    ok_one, _ = _is_zero(g.subs(r, 1))
    ok_diff, _ = _is_zero(sp.diff(g, r) - (r - 1) / r)
    ok_equal, _ = _is_zero(_gaussian_kl_term(mq, sq, mq, sq))
    return DerivationCheck(
        claim="Gaussian KL: each bracket equals (r - 1 - ln r) + (mu - mu_0)^2/sigma_p^2 with "
        "r = sigma_q^2/sigma_p^2; g(r) = r - 1 - ln r has g(1) = 0 and g'(r) = (r - 1)/r, so "
        "the bracket is >= 0, and 0 when Q = P",
        assumptions="mu, mu_0 real; sigma_q, sigma_p > 0",
        proved=bool(ok_split and ok_one and ok_diff and ok_equal),
        residual=res,
    )


def check_mcallester_is_pinsker() -> DerivationCheck:
    r"""McAllester's form is Pinsker's bound on the kl form: the Hoeffding form of the Occam
    bound at the PAC-Bayes level :math:`c`, hence never below the kl form.

    .. math::

        \hat L + \sqrt{\frac{\mathrm{KL}(Q\|P) + \ln(2\sqrt n/\delta)}{2n}}
        = \hat L + \sqrt{c/2} \ge \mathrm{kl}^{-1}(\hat L, c)

    The identity is decided here, the inequality by
    :func:`~netcoreset.bounds.symbolic.check_pinsker` (:math:`\mathrm{kl}(\hat L\|p) \ge
    2(p-\hat L)^2`).

    Examples
    --------
    >>> c = check_mcallester_is_pinsker()
    >>> c.proved, c.residual
    (True, 0)
    """
    c = pac_bayes_kl_level_expr()
    hoeffding = occam_hoeffding_expr()
    # the Occam level (ell ln 2 + ln(1/delta))/n equals c at ell = (n c - ln(1/delta))/ln 2
    ell = (GSYM.n * c - sp.log(1 / SYM.delta)) / sp.log(2)
    at_c = hoeffding.subs(GSYM.ell, ell).subs(GSYM.k, GSYM.L_hat * GSYM.n)
    ok_form, res = _is_zero(mcallester_bound_expr() - at_c)
    ok_sqrt, _ = _is_zero(mcallester_bound_expr() - GSYM.L_hat - sp.sqrt(c / 2))
    return DerivationCheck(
        claim="McAllester = L + sqrt(c/2) with c = (KL + ln(2 sqrt(n)/delta))/n: the Hoeffding "
        "form at the PAC-Bayes level, so by Pinsker never below the kl form",
        assumptions="KL >= 0, n >= 1, 0 < delta < 1, 0 <= L <= 1",
        proved=bool(ok_form and ok_sqrt),
        residual=res,
    )


def check_catoni_solution() -> DerivationCheck:
    r"""Catoni's form solves :math:`nF(p) = \lambda n\hat L + \mathrm{KL}(Q\|P) + \ln(G/\delta)`
    for the increasing :math:`F(p) = -\ln(1 - p(1-e^{-\lambda}))`, whose exponential is a
    Bernoulli moment.

    Sympy shows, for :math:`X \sim \mathrm{Bernoulli}(p)` and :math:`B` the bound of
    :func:`catoni_bound_expr`,

    .. math::

        \mathbb E\,e^{-\lambda X} = 1 - p + pe^{-\lambda} = e^{-F(p)},\qquad
        F(B) = \lambda\hat L + \frac{\mathrm{KL}(Q\|P) + \ln(G/\delta)}{n},\qquad
        F'(p) = \frac{1 - e^{-\lambda}}{1 - p(1 - e^{-\lambda})} > 0,

    and :math:`\ln(G/\delta) = \ln(1/\delta) + \ln G`: each of the :math:`G` values of the
    grid at level :math:`\delta/G` (a union bound). As :math:`F` increases,
    :math:`F(L(Q)) \le F(B)` gives :math:`L(Q) \le B`.

    Examples
    --------
    >>> c = check_catoni_solution()
    >>> c.proved, c.residual
    (True, 0)
    """
    s, p = PSYM, GSYM.p
    F = -sp.log(1 - p * (1 - sp.exp(-s.lam)))
    ok_mgf, _ = _is_zero(sp.exp(-F) - (1 - p + p * sp.exp(-s.lam)))
    rhs = s.lam * GSYM.L_hat + (s.KL + sp.log(s.G / SYM.delta)) / GSYM.n
    ok_solve, res = _is_zero(sp.expand_log(F.subs(p, catoni_bound_expr()) - rhs, force=True))
    a, b, c, e = sp.symbols("a b c e", positive=True)  # p, 1 - exp(-lambda) in (0, 1)
    dF = sp.diff(F, p).subs(sp.exp(-s.lam), 1 - c / (c + e)).subs(p, a / (a + b))
    ok_increasing = bool(sp.factor(dF).is_positive)
    ok_grid, _ = _is_zero(
        sp.expand_log(sp.log(s.G / SYM.delta) - sp.log(1 / SYM.delta) - sp.log(s.G), force=True)
    )
    return DerivationCheck(
        claim="Catoni: E exp(-lambda X) = 1 - p + p exp(-lambda) = exp(-F(p)) for "
        "X ~ Bernoulli(p), F(bound) = lambda L + (KL + ln(G/delta))/n, F' > 0, and "
        "ln(G/delta) = ln(1/delta) + ln G (the grid's union bound)",
        assumptions="lambda > 0, 0 < p < 1, KL >= 0, n, G >= 1 integers, delta > 0",
        proved=bool(ok_mgf and ok_solve and ok_increasing and ok_grid),
        residual=res,
    )


def check_pac_bayes_numeric_agreement(
    n_trials: int = 20, seed: int = 0, rtol: float = 1e-12
) -> DerivationCheck:
    r"""Compare the numeric PAC-Bayes functions with these expressions. BY EVALUATION, not a
    proof.

    For ``n_trials`` random inputs (numpy generator seeded with ``seed``) each closed form
    is computed by the numeric code and from the sympy expression at 40 digits (mpmath);
    the largest relative difference must be at most ``rtol``:
    :func:`~netcoreset.bounds.gaussian_kl` (:math:`d \le 50` weights),
    :func:`~netcoreset.bounds.maurer_confidence_nats`,
    :func:`~netcoreset.bounds.mcallester_bound` and :func:`~netcoreset.bounds.catoni_bound`
    (each against :math:`\min(1, \cdot)` of its twin) and the Catoni confidence term of
    :func:`~netcoreset.bounds.pac_bayes_bound`. The two kl inverses are checked as brackets
    of their defining inequalities: at :math:`u` = :func:`~netcoreset.bounds.pac_bayes_kl_bound`
    (and at :func:`~netcoreset.bounds.monte_carlo_error_bound`) the exact
    :math:`\mathrm{kl}(\hat L\|u) \ge c` and at the float below :math:`u` it is
    :math:`\le c(1 + 10^{-12})`; and :math:`\xi(n) \le 2\sqrt n` (:func:`maurer_xi_expr`)
    for a random :math:`n \le 300`.

    .. math::

        \max \frac{|x_{\text{numeric}} - x_{\text{sympy}}|}{\max(|x_{\text{numeric}}|,
        |x_{\text{sympy}}|)} \le \text{rtol}

    The default ``rtol`` :math:`= 10^{-12}`: each numeric closed form is a handful of
    double-precision operations, with a relative rounding error of a few units of
    :math:`2^{-52} \approx 2.2\times10^{-16}`, raised on purpose by 8 units so that it is
    never below the exact value, about :math:`10^{-14}` in all (the Gaussian brackets
    :math:`r - 1 - \ln r` lose :math:`2^{-52}\cdot 2/|\ln r|` to cancellation, at most
    :math:`10^{-13}` for the :math:`|\ln r| \ge 0.01` drawn here); a wrong formula is off
    by far more.

    Examples
    --------
    >>> check_pac_bayes_numeric_agreement(n_trials=2).passed
    True
    """
    return _agreement(
        (_agree_closed_forms, _agree_inverses),
        n_trials,
        seed,
        rtol,
        claim=f"BY EVALUATION (not a proof): numeric PAC-Bayes functions agree with the sympy "
        f"expressions to relative {rtol:g} on {n_trials} random inputs (seed {seed}); "
        f"pac_bayes_kl_bound and monte_carlo_error_bound bracket the exact kl inverse",
        assumptions="L in [0.001, 0.999], KL in [0, 1e4] nats, n <= 1e6, delta in [1e-6, 0.5], "
        "lambda in [0.01, 10], G <= 100, m <= 1e6, d <= 50, |ln(sigma_q/sigma_p)| in "
        "[0.005, 2], xi(n) for n <= 300",
    )


@functools.lru_cache(maxsize=1)
def _compiled_pac_bayes() -> dict[str, Callable[..., Any]]:
    """The PAC-Bayes expressions as mpmath functions (lambdify once)."""
    s, g = PSYM, GSYM
    mq, sq, mp, s0 = sp.symbols("mq sq mp s0", positive=True)
    forms = [g.L_hat, s.KL, g.n, SYM.delta]
    return {
        "gaussian_kl_term": _mp(_gaussian_kl_term(mq, sq, mp, s0) / 2, [mq, sq, mp, s0]),
        "confidence": _mp(maurer_confidence_nats_expr(), [g.n, SYM.delta]),
        "xi_term": _mp(maurer_xi_expr().function, [g.k, g.n]),
        "kl_level": _mp(pac_bayes_kl_level_expr(), [s.KL, g.n, SYM.delta]),
        "mcallester": _mp(mcallester_bound_expr(), forms),
        "catoni": _mp(catoni_bound_expr(), [*forms, s.lam, s.G]),
        "mc_level": _mp(monte_carlo_level_expr(), [s.delta_prime, s.m]),
        "binary_kl": _mp(binary_kl_expr(), [g.L_hat, g.p]),
    }


def _agree_closed_forms(rng: np.random.Generator, record: _Record) -> None:
    import mpmath

    from . import pac_bayes as _pb

    f, mpf = _compiled_pac_bayes(), mpmath.mpf
    d = int(rng.integers(1, 51))
    mq, mp = rng.normal(0, 1, d), rng.normal(0, 1, d)
    s0 = 10 ** rng.uniform(-3, 0, d)
    sq = s0 * np.exp(rng.choice([-1, 1], d) * rng.uniform(0.005, 2, d))
    exact = mpmath.fsum(
        f["gaussian_kl_term"](*map(mpf, v)) for v in zip(mq, sq, mp, s0, strict=True)
    )
    record("gaussian_kl", _pb.gaussian_kl(mq, sq, mp, s0), exact)
    L, kl = float(rng.uniform(0.001, 0.999)), float(10 ** rng.uniform(-3, 4))
    n, delta = int(rng.integers(1, 10**6 + 1)), float(10 ** rng.uniform(-6, np.log10(0.5)))
    record(
        "maurer_confidence_nats",
        _pb.maurer_confidence_nats(n, delta),
        f["confidence"](n, mpf(delta)),
    )
    args = (mpf(L), mpf(kl), n, mpf(delta))
    record(
        "mcallester_bound", _pb.mcallester_bound(L, kl, n, delta), min(1, f["mcallester"](*args))
    )
    lam, G = float(10 ** rng.uniform(-2, 1)), int(rng.integers(1, 101))
    catoni = min(1, f["catoni"](*args, mpf(lam), G))
    record("catoni_bound", _pb.catoni_bound(L, kl, n, delta, lam, G), catoni)
    grid = list(10 ** rng.uniform(-2, 1, G))
    cat = _pb.pac_bayes_bound(L / 2, 10**4, kl, n, delta, delta, "catoni", lambdas=grid)
    record("catoni confidence_nats", cat.terms["confidence_nats"], mpmath.log(G / mpf(delta)))
    nx = int(rng.integers(1, 301))
    xi = mpmath.fsum(f["xi_term"](k, nx) for k in range(nx + 1))
    record("xi(n) <= 2 sqrt(n)", *_pass(xi <= 2 * mpmath.sqrt(nx)))


def _bracket(record: _Record, name: str, L: float, u: float, level: Any) -> None:
    import mpmath

    kl, mpf = _compiled_pac_bayes()["binary_kl"], mpmath.mpf
    if u < 1.0:
        record(f"{name} (exact kl at the result >= c)", *_pass(kl(mpf(L), mpf(u)) >= level))
        below = mpf(float(np.nextafter(u, 0.0)))
        record(f"{name} (float below)", *_pass(kl(mpf(L), below) <= level * (1 + mpf(10) ** -12)))


def _agree_inverses(rng: np.random.Generator, record: _Record) -> None:
    import mpmath

    from . import pac_bayes as _pb

    f, mpf = _compiled_pac_bayes(), mpmath.mpf
    L, kl = float(rng.uniform(0.001, 0.999)), float(10 ** rng.uniform(-3, 4))
    n, delta = int(rng.integers(1, 10**6 + 1)), float(10 ** rng.uniform(-6, np.log10(0.5)))
    u = _pb.pac_bayes_kl_bound(L, kl, n, delta)
    _bracket(record, "pac_bayes_kl_bound", L, u, f["kl_level"](mpf(kl), n, mpf(delta)))
    m, dp = int(rng.integers(1, 10**6 + 1)), float(10 ** rng.uniform(-6, np.log10(0.5)))
    u = _pb.monte_carlo_error_bound(L, m, dp)
    _bracket(record, "monte_carlo_error_bound", L, u, f["mc_level"](mpf(dp), m))
