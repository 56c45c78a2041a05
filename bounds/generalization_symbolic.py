r"""Sympy twins of ``generalization.py``: the binary kl, the Occam bounds (kl, Hoeffding,
binomial), the Chernoff tail, the costs of a union bound and of a prior, the margin
compression bound and the corollary's constants, with their derivation checks and the check
by evaluation of the numeric generalisation and description-length functions.

Each expression names its numeric function under See Also, and the numeric function names
it back. The names are exported by :mod:`netcoreset.bounds.symbolic` (this module imports
sympy; ``import netcoreset.bounds`` does not load it).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import sympy as sp

from ._symbolic_base import GSYM, SYM, DerivationCheck, _agreement, _is_zero, _mp, _Record
from .description_length_symbolic import (
    codebook_bits_expr,
    count_bits_expr,
    count_table_bits_expr,
    fixed_width_bits_expr,
    positions_bits_expr,
)
from .network_symbolic import size_term_expr

__all__ = [
    "binary_kl_expr",
    "occam_rate_expr",
    "occam_hoeffding_expr",
    "binomial_tail_expr",
    "occam_binomial_level_expr",
    "chernoff_tail_expr",
    "union_bound_nats_expr",
    "prior_cost_nats_expr",
    "margin_compression_bound_expr",
    "corollary_eps_expr",
    "corollary_size_term_expr",
    "check_union_bound_cost",
    "check_pinsker",
    "check_chernoff_kl",
    "check_margin_shift",
    "check_forms_agree_at_zero_errors",
    "check_corollary_constants",
    "check_generalization_numeric_agreement",
]


def binary_kl_expr() -> sp.Expr:
    r"""The binary kl divergence (twin of :func:`~netcoreset.bounds.binary_kl`).

    .. math::

        \mathrm{kl}(\hat L\,\|\,p) = \hat L\ln\frac{\hat L}{p}
        + (1-\hat L)\ln\frac{1-\hat L}{1-p}

    See Also
    --------
    netcoreset.bounds.binary_kl : the numeric function.
    netcoreset.bounds.kl_upper : the numeric function.

    Examples
    --------
    >>> binary_kl_expr().subs({GSYM.L_hat: sp.Rational(1, 2), GSYM.p: sp.Rational(1, 2)})
    0
    """
    L, p = GSYM.L_hat, GSYM.p
    return L * sp.log(L / p) + (1 - L) * sp.log((1 - L) / (1 - p))


def occam_rate_expr() -> sp.Expr:
    r"""The level of the kl form of the Occam bound (twin of ``terms["rate"]`` of
    :func:`~netcoreset.bounds.occam_bound`).

    .. math::

        c = \frac{\ell(g)\ln 2 + \ln(1/\delta)}{n}

    See Also
    --------
    netcoreset.bounds.occam_bound : the numeric function.

    Examples
    --------
    >>> occam_rate_expr().subs({GSYM.ell: 0, GSYM.n: 1, SYM.delta: sp.exp(-3)})
    3
    """
    return (GSYM.ell * sp.log(2) + sp.log(1 / SYM.delta)) / GSYM.n


def occam_hoeffding_expr() -> sp.Expr:
    r"""The Hoeffding form of the Occam bound (twin of ``occam_bound(form="hoeffding")``,
    before the cap at 1).

    .. math::

        \frac kn + \sqrt{\frac{\ell(g)\ln 2 + \ln(1/\delta)}{2n}}

    See Also
    --------
    netcoreset.bounds.occam_bound : the numeric function.

    Examples
    --------
    >>> occam_hoeffding_expr().subs({GSYM.k: 0, GSYM.ell: 0, GSYM.n: 2, SYM.delta: sp.exp(-1)})
    1/2
    """
    return GSYM.k / GSYM.n + sp.sqrt(occam_rate_expr() / 2)


def binomial_tail_expr() -> sp.Expr:
    r"""The lower binomial tail whose inverse is :func:`~netcoreset.bounds.binomial_tail_upper`.

    .. math::

        P[\mathrm{Bin}(n, p) \le k] = \sum_{i=0}^{k}\binom ni p^i (1-p)^{n-i}

    See Also
    --------
    netcoreset.bounds.binomial_tail_upper : the numeric function.

    Examples
    --------
    >>> binomial_tail_expr().subs({GSYM.k: 0, GSYM.n: 3}).doit()
    (1 - p)**3
    """
    i, n, p = GSYM.i, GSYM.n, GSYM.p
    return sp.Sum(sp.binomial(n, i) * p**i * (1 - p) ** (n - i), (i, 0, GSYM.k))


def occam_binomial_level_expr() -> sp.Expr:
    r"""The level of the exact binomial form of the Occam bound.

    .. math::

        \delta' = \delta\,2^{-\ell(g)}

    See Also
    --------
    netcoreset.bounds.occam_bound : the numeric function.

    Examples
    --------
    >>> occam_binomial_level_expr().subs(GSYM.ell, 3)
    \delta/8
    """
    return SYM.delta * 2 ** (-GSYM.ell)


def chernoff_tail_expr() -> sp.Expr:
    r"""The Chernoff bound on the lower binomial tail, for :math:`k/n \le p`.

    .. math::

        P[\mathrm{Bin}(n,p) \le k] \le e^{-n\,\mathrm{kl}(k/n\,\|\,p)}

    derived in :func:`check_chernoff_kl`.

    Examples
    --------
    >>> chernoff_tail_expr().has(GSYM.p)
    True
    """
    return sp.exp(-GSYM.n * binary_kl_expr().subs(GSYM.L_hat, GSYM.k / GSYM.n))


def union_bound_nats_expr() -> sp.Expr:
    r"""The cost of a union bound over :math:`k` equally weighted choices (twin of
    :func:`~netcoreset.bounds.union_bound_nats`).

    .. math::

        -\ln\frac1k = \ln k

    See Also
    --------
    netcoreset.bounds.union_bound_nats : the numeric function.

    Examples
    --------
    >>> sp.simplify(union_bound_nats_expr())
    log(k)
    """
    return -sp.log(1 / GSYM.k_choices)


def prior_cost_nats_expr() -> sp.Expr:
    r"""The cost of a prior weight (twin of :func:`~netcoreset.bounds.prior_cost_nats`).

    .. math::

        \ln\frac1w

    See Also
    --------
    netcoreset.bounds.prior_cost_nats : the numeric function.

    Examples
    --------
    >>> prior_cost_nats_expr()
    -log(w)
    """
    return -sp.log(GSYM.w)


def margin_compression_bound_expr() -> sp.Expr:
    r"""Arora et al. (2018), Theorem 2.1 made explicit (twin of
    :func:`~netcoreset.bounds.margin_compression_bound`, Hoeffding form, no extra bits).

    .. math::

        L_0(g) \le \hat L_\gamma(f) + \sqrt{\frac{q\ln r + \ln(1/\delta)}{2n}}

    See Also
    --------
    netcoreset.bounds.margin_compression_bound : the numeric function.

    Examples
    --------
    >>> margin_compression_bound_expr().subs({GSYM.r: 1, SYM.delta: 1, GSYM.L_gamma: 0})
    0
    """
    return GSYM.L_gamma + sp.sqrt((GSYM.q * sp.log(GSYM.r) + sp.log(1 / SYM.delta)) / (2 * GSYM.n))


def corollary_eps_expr() -> sp.Expr:
    r"""The :math:`\varepsilon` of the corollary (twin of ``CorollaryBound.eps``).

    .. math::

        \varepsilon = \frac{\gamma}{2M},\qquad M = \max_i\|f_\theta(x_i)\|_2

    See Also
    --------
    netcoreset.bounds.corenet_generalization_bound : the numeric function.

    Examples
    --------
    >>> corollary_eps_expr() * GSYM.M
    \gamma/2
    """
    return GSYM.gamma / (2 * GSYM.M)


def corollary_size_term_expr() -> sp.Expr:
    r"""The size theorem's per-neuron term with the corollary's :math:`\varepsilon` and
    :math:`\delta_x = \delta_c/n` (real-valued, no ceiling).

    .. math::

        \frac{128\,(L-1)^2 M^2 (\hat\Delta^{\ell\rightarrow})^2\,\mathcal{S}^\ell_i K
        \log(8\eta n/\delta_c)}{\gamma^2}

    See Also
    --------
    netcoreset.bounds.corenet_generalization_bound : the numeric function.
    netcoreset.bounds.compressed_size_bound : the numeric function.

    Examples
    --------
    >>> corollary_size_term_expr().has(GSYM.gamma, GSYM.M, GSYM.delta_c)
    True
    """
    return (
        128
        * (SYM.L - 1) ** 2
        * GSYM.M**2
        * SYM.delta_hat_product**2
        * SYM.S_i
        * SYM.K
        * sp.log(8 * SYM.eta * GSYM.n / GSYM.delta_c)
        / GSYM.gamma**2
    )


def _unit(a: sp.Symbol, b: sp.Symbol) -> sp.Expr:
    # a/(a+b) with a, b > 0 covers exactly (0, 1), and so does its complement b/(a+b).
    return a / (a + b)


def check_union_bound_cost() -> DerivationCheck:
    r"""A union bound over :math:`k` equally weighted choices costs exactly :math:`\ln k`.

    .. math::

        \sum_{i=1}^{k}\frac{\delta}{k} = \delta,\qquad -\ln\frac1k - \ln k = 0 .

    Each choice gets the failure probability :math:`\delta/k`; the failure probabilities add
    up to :math:`\delta`, and :math:`\ln(1/(\delta/k)) = \ln(1/\delta) + \ln k`.

    Examples
    --------
    >>> check_union_bound_cost().residual
    0
    """
    k, i = GSYM.k_choices, sp.Symbol("j", positive=True, integer=True)
    total = sp.Sum(SYM.delta / k, (i, 1, k)).doit()
    ok_sum, _ = _is_zero(total - SYM.delta)
    ok_cost, res = _is_zero(union_bound_nats_expr() - sp.log(k))
    level = sp.log(k / SYM.delta) - sp.log(1 / SYM.delta) - sp.log(k)
    ok_level, _ = _is_zero(sp.expand_log(level, force=True))
    return DerivationCheck(
        claim="a union bound over k equal-weight choices: sum_{i<=k} delta/k = delta, and the "
        "cost -ln(1/k) = ln k exactly (ln(k/delta) = ln(1/delta) + ln k)",
        assumptions="k >= 1 integer, delta > 0",
        proved=bool(ok_sum and ok_cost and ok_level),
        residual=res,
    )


def check_pinsker() -> DerivationCheck:
    r"""Pinsker's inequality :math:`\mathrm{kl}(\hat L\|p) \ge 2(p-\hat L)^2`, hence the
    Hoeffding form is never below the kl form.

    With :math:`h(p) = \mathrm{kl}(\hat L\|p) - 2(p-\hat L)^2` sympy shows

    .. math::

        h(\hat L) = 0,\qquad
        h'(p) = \frac{(p-\hat L)(2p-1)^2}{p(1-p)},

    and :math:`p(1-p) > 0` on :math:`(0,1)`; so :math:`h' \le 0` left of :math:`\hat L` and
    :math:`\ge 0` right of it, :math:`h` is smallest at :math:`\hat L`, and :math:`h \ge 0`.
    Then :math:`\mathrm{kl}(\hat L\|p) \le c` forces :math:`p \le \hat L + \sqrt{c/2}`:
    :math:`\mathrm{kl}^{-1}(\hat L, c) \le \hat L + \sqrt{c/2}`.

    Examples
    --------
    >>> check_pinsker().proved
    True
    """
    L, p = GSYM.L_hat, GSYM.p
    h = binary_kl_expr() - 2 * (p - L) ** 2
    ok_zero, _ = _is_zero(h.subs(p, L))
    ok_diff, res = _is_zero(sp.diff(h, p) - (p - L) * (2 * p - 1) ** 2 / (p * (1 - p)))
    a, b = sp.symbols("a b", positive=True)
    pp = _unit(a, b)
    positive = bool(sp.factor(pp * (1 - pp)).is_positive)
    return DerivationCheck(
        claim="Pinsker: h(p) = kl(L||p) - 2(p - L)^2 has h(L) = 0 and "
        "h'(p) = (p - L)(2p - 1)^2/(p(1 - p)) with p(1 - p) > 0, so h >= 0 and "
        "kl^-1(L, c) <= L + sqrt(c/2): the Hoeffding form >= the kl form",
        assumptions="0 < L, p < 1 (p = a/(a+b) with a, b > 0 for the sign of p(1-p))",
        proved=bool(ok_zero and ok_diff and positive),
        residual=res,
    )


def check_chernoff_kl() -> DerivationCheck:
    r"""The Chernoff bound on the lower binomial tail is :math:`e^{-n\,\mathrm{kl}(k/n\|p)}`,
    hence the kl form is never below the exact binomial form.

    For :math:`X \sim \mathrm{Bin}(n,p)` and :math:`0 < t \le 1`, Markov's inequality on
    :math:`t^X` gives :math:`P[X \le k] \le t^{-k}\,\mathbb{E}[t^X] = t^{-k}(1-p+pt)^n`.
    Per point (:math:`\hat L = k/n`) the log of the bound is
    :math:`g(t) = -\hat L\ln t + \ln(1-p+pt)`; sympy shows that

    .. math::

        t^* = \frac{\hat L(1-p)}{p(1-\hat L)}:\quad g'(t^*) = 0,\quad
        g(t^*) = -\mathrm{kl}(\hat L\,\|\,p),\quad t^* - 1 = \frac{\hat L - p}{p(1-\hat L)},

    so :math:`t^* \le 1` exactly when :math:`\hat L \le p`, where
    :math:`P[X\le k] \le e^{-n\,\mathrm{kl}(\hat L\|p)}`. If :math:`p` is excluded by the kl
    form (:math:`\mathrm{kl} > c`, :math:`nc = \ln(1/\delta')`) its tail is below
    :math:`\delta'`, so it is excluded by the binomial form too.

    Examples
    --------
    >>> check_chernoff_kl().residual
    0
    """
    a, b, c, d = sp.symbols("a b c d", positive=True)
    L, p, t = _unit(a, b), _unit(c, d), GSYM.t
    kl = binary_kl_expr().subs({GSYM.L_hat: L, GSYM.p: p})
    g = -L * sp.log(t) + sp.log(1 - p + p * t)
    t_star = L * (1 - p) / (p * (1 - L))
    ok_stat, _ = _is_zero(sp.diff(g, t).subs(t, t_star))
    ok_val, res = _is_zero(sp.expand_log(sp.simplify(g.subs(t, t_star) + kl), force=True))
    ok_one, _ = _is_zero(t_star - 1 - (L - p) / (p * (1 - L)))
    return DerivationCheck(
        claim="Chernoff: min over t of -L ln t + ln(1 - p + p t) is attained at "
        "t* = L(1-p)/(p(1-L)) and equals -kl(L||p); t* <= 1 iff L <= p, so "
        "P[Bin(n,p) <= k] <= exp(-n kl(k/n||p)): the kl form >= the binomial form",
        assumptions="L = a/(a+b), p = c/(c+d) with a, b, c, d > 0 (so 0 < L, p < 1); t > 0",
        proved=bool(ok_stat and ok_val and ok_one),
        residual=res,
    )


def check_margin_shift() -> DerivationCheck:
    r"""A per-logit error of at most :math:`\gamma/2` moves a margin by at most
    :math:`\gamma`; a per-logit error of :math:`\gamma` can move it by :math:`2\gamma`.

    Write the errors of the true logit and of another logit as
    :math:`e_y = \tfrac\gamma2(2u-1)`, :math:`e_j = \tfrac\gamma2(2v-1)` with
    :math:`u, v \in [0,1]` (every value in :math:`[-\gamma/2, \gamma/2]`). The margin
    :math:`f_y - f_j` changes by

    .. math::

        e_y - e_j = \gamma(u - v),\qquad \gamma(u - v) + \gamma = \gamma\bigl(u + (1-v)\bigr)
        \ge 0,

    with equality at :math:`u = 0, v = 1`; with errors up to :math:`\gamma` the change is
    :math:`2\gamma(u - v) \ge -2\gamma`. Applied to the largest other logit
    (:math:`\max_j g_j \le \max_j f_j + \gamma/2`): a point with margin :math:`> \gamma`
    under :math:`f` has margin :math:`> 0` under :math:`g`, so
    :math:`\hat L_0(g) \le \hat L_\gamma(f)`.

    Examples
    --------
    >>> check_margin_shift().proved
    True
    """
    u, w = sp.symbols("u w", nonnegative=True)  # w = 1 - v
    gamma = GSYM.gamma
    v = 1 - w
    e_y, e_j = gamma / 2 * (2 * u - 1), gamma / 2 * (2 * v - 1)
    shift = sp.expand(e_y - e_j)
    gap = sp.factor(shift + gamma)
    ok_sign = bool(gap.is_nonnegative)
    ok_tight, res = _is_zero(shift.subs({u: 0, w: 0}) + gamma)
    double = sp.expand(2 * e_y - 2 * e_j).subs({u: 0, w: 0})
    ok_double, _ = _is_zero(double + 2 * gamma)
    return DerivationCheck(
        claim="margin shift: per-logit errors in [-gamma/2, gamma/2] change f_y - f_j by "
        "gamma(u - v) >= -gamma (attained); per-logit errors up to gamma by down to -2 gamma",
        assumptions="gamma > 0; u, v in [0, 1] (u >= 0 and w = 1 - v >= 0 suffice for the sign)",
        proved=bool(ok_sign and ok_tight and ok_double),
        residual=res,
    )


def check_forms_agree_at_zero_errors() -> DerivationCheck:
    r"""With :math:`k = 0` the kl and the exact binomial forms of the Occam bound coincide.

    :math:`\mathrm{kl}(0\|p) = -\ln(1-p)`, so :math:`\mathrm{kl}^{-1}(0, c) = 1 - e^{-c}`; with
    :math:`c = (\ell\ln 2 + \ln(1/\delta))/n`,

    .. math::

        (1 - p_{\mathrm{kl}})^n = e^{-nc} = \delta\,2^{-\ell},

    which is the binomial form's equation :math:`P[\mathrm{Bin}(n,p) \le 0] = \delta 2^{-\ell}`.

    Examples
    --------
    >>> check_forms_agree_at_zero_errors().residual
    0
    """
    c = occam_rate_expr()
    p_kl = 1 - sp.exp(-c)
    kl_at_zero = -sp.log(1 - GSYM.p)  # kl(0 || p), the limit of binary_kl_expr as L -> 0
    ok_kl, _ = _is_zero(kl_at_zero.subs(GSYM.p, p_kl) - c)
    lhs = sp.log((1 - p_kl) ** GSYM.n)
    rhs = sp.log(occam_binomial_level_expr())
    ok_bin, res = _is_zero(sp.expand_log(lhs - rhs, force=True))
    a, b = sp.symbols("a b", positive=True)
    limit = sp.limit(binary_kl_expr(), GSYM.L_hat, 0, dir="+")
    gap = (limit - kl_at_zero).subs(GSYM.p, _unit(a, b))  # p = a/(a+b) in (0, 1)
    ok_limit, _ = _is_zero(sp.expand_log(sp.simplify(gap), force=True))
    return DerivationCheck(
        claim="k = 0: kl(0||p) = -ln(1 - p) (the limit L -> 0), kl^-1(0, c) = 1 - exp(-c), and "
        "(1 - (1 - exp(-c)))^n = delta 2^-l: the kl and binomial forms coincide",
        assumptions="n >= 1, l >= 0, 0 < delta < 1",
        proved=bool(ok_kl and ok_bin and ok_limit),
        residual=res,
    )


def check_corollary_constants() -> DerivationCheck:
    r"""The corollary's constants: :math:`\varepsilon = \gamma/(2M)` keeps every logit within
    :math:`\gamma/2`, and the size term becomes :math:`128(L-1)^2M^2\cdots/\gamma^2`.

    .. math::

        \varepsilon M = \frac\gamma2,\qquad
        \frac{32(L-1)^2(\hat\Delta^{\ell\rightarrow})^2\mathcal{S}^\ell_iK\log(8\eta/\delta_x)}
        {\varepsilon^2}\bigg|_{\varepsilon=\gamma/(2M),\ \delta_x=\delta_c/n}
        = \frac{128(L-1)^2M^2(\hat\Delta^{\ell\rightarrow})^2\mathcal{S}^\ell_iK
        \log(8\eta n/\delta_c)}{\gamma^2}.

    Examples
    --------
    >>> check_corollary_constants().residual
    0
    """
    eps = corollary_eps_expr()
    ok_eps, _ = _is_zero(eps * GSYM.M - GSYM.gamma / 2)
    term = size_term_expr(integer=False).subs({SYM.eps: eps, SYM.delta: GSYM.delta_c / GSYM.n})
    ok_term, res = _is_zero(term - corollary_size_term_expr())
    return DerivationCheck(
        claim="corollary: eps = gamma/(2M) gives eps M = gamma/2, and the size term with "
        "delta_x = delta_c/n is 128 (L-1)^2 M^2 Dhat^2 S K log(8 eta n/delta_c)/gamma^2",
        assumptions="gamma, M, K, S, Dhat, eta, delta_c > 0; n >= 1; L > 1 integer",
        proved=bool(ok_eps and ok_term),
        residual=res,
    )


def check_generalization_numeric_agreement(
    n_trials: int = 20, seed: int = 0, rtol: float = 1e-12
) -> DerivationCheck:
    r"""Compare the numeric generalisation and description-length functions with these
    expressions. BY EVALUATION, not a proof.

    For ``n_trials`` random inputs (numpy generator seeded with ``seed``) each quantity is
    computed by the numeric code and from the sympy expression at 40 digits (mpmath); the
    largest relative difference must be at most ``rtol``:
    :func:`~netcoreset.bounds.binary_kl`, the Hoeffding Occam bound, the margin compression
    bound, the corollary's :math:`\varepsilon`, :func:`~netcoreset.bounds.union_bound_nats`,
    :func:`~netcoreset.bounds.prior_cost_nats`, :func:`~netcoreset.bounds.count_bits`,
    :func:`~netcoreset.bounds.positions_bits` (up to :math:`N = 10^6`),
    :func:`~netcoreset.bounds.fixed_width_bits`, :func:`~netcoreset.bounds.count_table_bits`,
    :func:`~netcoreset.bounds.multinomial_bits`, :func:`~netcoreset.bounds.arithmetic_coding_bits`,
    :func:`~netcoreset.bounds.codebook_bits`, :func:`~netcoreset.bounds.permutation_credit_bits`.
    The two inverses are checked as brackets: at :math:`u` = :func:`~netcoreset.bounds.kl_upper`
    the exact :math:`\mathrm{kl}(\hat L\|u) \ge c` and at the float below :math:`u` it is
    :math:`\le c(1 + 10^{-12})`; at :math:`u` = :func:`~netcoreset.bounds.binomial_tail_upper`
    the exact tail (:func:`binomial_tail_expr`, :math:`n \le 60`) is :math:`\le \delta'` and
    at the float below :math:`u` it is :math:`\ge \delta'(1 - 10^{-9})`.

    .. math::

        \max \frac{|x_{\text{numeric}} - x_{\text{sympy}}|}{\max(|x_{\text{numeric}}|,
        |x_{\text{sympy}}|)} \le \text{rtol}

    Examples
    --------
    >>> check_generalization_numeric_agreement(n_trials=2).passed
    True
    """
    return _agreement(
        (_agree_inverses, _agree_occam, _agree_codes),
        n_trials,
        seed,
        rtol,
        claim=f"BY EVALUATION (not a proof): numeric generalisation and description-length "
        f"functions agree with the sympy expressions to relative {rtol:g} on {n_trials} random "
        f"inputs (seed {seed}); kl_upper and binomial_tail_upper bracket the exact inverse",
        assumptions="L, p in [0.001, 0.999], c in [1e-8, 10], n <= 1e6, N <= 1e6, "
        "q <= 1e5, r < 1024, binomial tails with n < 60",
    )


@functools.lru_cache(maxsize=1)
def _compiled_generalization() -> dict[str, Callable[..., Any]]:
    """The generalisation expressions as mpmath functions (lambdify once)."""
    g = GSYM
    return {
        "binary_kl": _mp(binary_kl_expr(), [g.L_hat, g.p]),
        "occam_hoeffding": _mp(occam_hoeffding_expr(), [g.k, g.n, g.ell, SYM.delta]),
        "margin": _mp(margin_compression_bound_expr(), [g.L_gamma, g.q, g.r, SYM.delta, g.n]),
        "corollary_eps": _mp(corollary_eps_expr(), [g.gamma, g.M]),
        "union_bound_nats": _mp(union_bound_nats_expr(), [g.k_choices]),
        "prior_cost_nats": _mp(prior_cost_nats_expr(), [g.w]),
        "positions_bits": _mp(positions_bits_expr(), [g.N, g.q]),
        "count_table_bits": _mp(count_table_bits_expr(), [g.q, g.r]),
        "codebook_bits": _mp(codebook_bits_expr(), [g.r, g.b]),
    }


def _pass(ok: bool) -> tuple[float, float]:
    # a bracket test as a "relative difference": 0 when it holds, 1 when it does not
    return (0.0, 0.0) if ok else (1.0, 0.0)


def _agree_inverses(rng: np.random.Generator, record: _Record) -> None:
    import mpmath

    from . import generalization as _gen

    f, mpf = _compiled_generalization(), mpmath.mpf
    L, p = float(rng.uniform(0.001, 0.999)), float(rng.uniform(0.001, 0.999))
    record("binary_kl", _gen.binary_kl(L, p), f["binary_kl"](mpf(L), mpf(p)))
    c = float(10 ** rng.uniform(-8, 1))
    u = _gen.kl_upper(L, c)
    if u < 1.0:
        below = float(np.nextafter(u, 0.0))
        record(
            "kl_upper (exact kl at the result >= c)", *_pass(f["binary_kl"](mpf(L), mpf(u)) >= c)
        )
        record(
            "kl_upper (float below)",
            *_pass(f["binary_kl"](mpf(L), mpf(below)) <= c * (1 + 1e-12)),
        )
    n = int(rng.integers(1, 60))
    k = int(rng.integers(0, n))
    log_level = float(np.log(rng.uniform(1e-6, 0.5)))
    ub = _gen.binomial_tail_upper(k, n, log_level)
    tail = _mp(binomial_tail_expr().subs({GSYM.k: k, GSYM.n: n}).doit(), [GSYM.p])
    level = mpmath.exp(mpf(log_level))
    record("binomial_tail_upper (tail at the result <= level)", *_pass(tail(mpf(ub)) <= level))
    below = mpf(float(np.nextafter(ub, 0.0)))
    record(
        "binomial_tail_upper (float below)",
        *_pass(tail(below) >= level * (1 - mpf(10) ** -9)),
    )


def _agree_occam(rng: np.random.Generator, record: _Record) -> None:
    import mpmath

    from . import generalization as _gen

    f, mpf = _compiled_generalization(), mpmath.mpf
    nn = int(rng.integers(1, 10**6))
    kk = int(rng.integers(0, nn + 1))
    bits, delta = float(rng.uniform(0.0, 1e4)), float(rng.uniform(1e-4, 0.5))
    hoef = _gen.occam_bound(kk, nn, bits, delta, form="hoeffding").terms["uncapped"]
    record("occam_hoeffding", hoef, f["occam_hoeffding"](kk, nn, mpf(bits), mpf(delta)))
    q, r = int(rng.integers(1, 10**5)), int(rng.integers(1, 2**10))
    mb = _gen.margin_compression_bound(kk, nn, q, r, delta).terms["uncapped"]
    record("margin_compression_bound", mb, f["margin"](mpf(kk) / nn, q, r, mpf(delta), nn))
    gamma, M = float(rng.uniform(0.01, 5.0)), float(rng.uniform(5.0, 50.0))
    record("corollary_eps", gamma / (2 * M), f["corollary_eps"](mpf(gamma), mpf(M)))
    kc = int(rng.integers(1, 10**6))
    record("union_bound_nats", _gen.union_bound_nats(kc), f["union_bound_nats"](kc))
    w = float(rng.uniform(1e-9, 1.0))
    record("prior_cost_nats", _gen.prior_cost_nats(w), f["prior_cost_nats"](mpf(w)))


def _agree_codes(rng: np.random.Generator, record: _Record) -> None:
    import mpmath

    from . import description_length as _dl

    f, mpf = _compiled_generalization(), mpmath.mpf
    N = int(rng.integers(1, 10**6))
    q, r = int(rng.integers(0, N + 1)), int(rng.integers(1, 2**10))
    record("count_bits", _dl.count_bits(N), count_bits_expr().subs(GSYM.N, N))
    if 0 < q < N:
        record("positions_bits", _dl.positions_bits(N, q), f["positions_bits"](N, q))
    fixed = fixed_width_bits_expr().subs({GSYM.q: q, GSYM.r: r})
    record("fixed_width_bits", _dl.fixed_width_bits(q, r), fixed)
    counts = rng.multinomial(int(rng.integers(1, 5000)), rng.dirichlet(np.ones(8)))
    qc = int(counts.sum())
    mult = mpmath.log(mpmath.factorial(qc), 2) - sum(
        mpmath.log(mpmath.factorial(int(ci)), 2) for ci in counts
    )
    table = f["count_table_bits"](qc, 8)
    record("multinomial_bits", _dl.multinomial_bits(counts), mult)
    record("count_table_bits", _dl.count_table_bits(qc, 8), table)
    record("arithmetic_coding_bits", _dl.arithmetic_coding_bits(counts), table + mult + 2)
    bpv = float(rng.uniform(1.0, 64.0))
    record("codebook_bits", _dl.codebook_bits(r, bpv), f["codebook_bits"](r, mpf(bpv)))
    widths = [int(v) for v in rng.integers(1, 3000, size=3)]
    credit = sum(mpmath.log(mpmath.factorial(v), 2) for v in widths)
    record("permutation_credit_bits", _dl.permutation_credit_bits(widths), credit)
