r"""Sympy twins of ``error_budget.py``: :math:`\lambda^*`, :math:`\kappa`,
:math:`\hat\Delta^\ell`, :math:`\hat\Delta^{\ell\rightarrow}`, :math:`\varepsilon'`,
:math:`\varepsilon_\ell`, the network's :math:`\varepsilon` and the error recursion, with the
checks of how the per-layer errors add up to :math:`\varepsilon`.

Each expression names its numeric function under See Also, and the numeric function names
it back. The names are exported by :mod:`netcoreset.bounds.symbolic` (this module imports
sympy; ``import netcoreset.bounds`` does not load it).
"""

from __future__ import annotations

import sympy as sp

from ._symbolic_base import SYM, DerivationCheck, _is_zero

__all__ = [
    "lambda_star_expr",
    "kappa_expr",
    "delta_hat_expr",
    "delta_hat_product_expr",
    "eps_prime_expr",
    "layer_eps_expr",
    "network_eps_expr",
    "error_recursion_expr",
    "eps_prime_exact_expr",
    "check_error_split",
    "check_error_recursion_step",
    "check_error_recursion_induction",
    "check_paper_split_within_eps",
    "check_exact_split",
]


def lambda_star_expr() -> sp.Expr:
    r""":math:`\lambda^* = \tfrac12\log(\eta\,\eta^*)`.

    .. math::

        \lambda^* = \frac{\log(\eta\,\eta^*)}{2}

    See Also
    --------
    netcoreset.bounds.lambda_star : the numeric function.

    Examples
    --------
    >>> lambda_star_expr()
    log(\eta*\eta^{*})/2
    """
    return sp.log(SYM.eta * SYM.eta_star) / 2


def kappa_expr(substitute: bool = True) -> sp.Expr:
    r"""The additive slack :math:`\kappa` of :math:`\hat\Delta^\ell`.

    .. math::

        \kappa = \sqrt{2\lambda^*}\Bigl(1 + \sqrt{2\lambda^*}\log\frac{8\eta\eta^*}{\delta}\Bigr)

    ``substitute=True`` writes :math:`\lambda^*` out (:func:`lambda_star_expr`).

    See Also
    --------
    netcoreset.bounds.kappa : the numeric function.

    Examples
    --------
    >>> kappa_expr(substitute=False)
    sqrt(2)*sqrt(\lambda^{*})*(sqrt(2)*sqrt(\lambda^{*})*log(8*\eta*\eta^{*}/\delta) + 1)
    """
    lam = lambda_star_expr() if substitute else SYM.lambda_star
    root = sp.sqrt(2 * lam)
    return root * (1 + root * sp.log(8 * SYM.eta * SYM.eta_star / SYM.delta))


def delta_hat_expr(include_kappa: bool = True) -> sp.Expr:
    r""":math:`\hat\Delta^\ell = \bar\Delta^\ell + \kappa`, with
    :math:`\bar\Delta^\ell = \max_i \frac{1}{|S|}\sum_{x\in S}\Delta^\ell_i(x)`.

    .. math::

        \hat\Delta^\ell = \max_i \frac{1}{|S|}\sum_{x\in S}\Delta^\ell_i(x) + \kappa

    ``include_kappa=False`` is the purely empirical value (a heuristic outside the theorem).

    See Also
    --------
    netcoreset.bounds.delta_hat : the numeric function.

    Examples
    --------
    >>> delta_hat_expr()
    \bar{\Delta}^{\ell} + \kappa
    """
    return SYM.delta_bar + (SYM.kappa if include_kappa else 0)


def delta_hat_product_expr() -> sp.Expr:
    r""":math:`\hat\Delta^{\ell\rightarrow} = \prod_{k=\ell}^{L}\hat\Delta^k`.

    .. math::

        \hat\Delta^{\ell\rightarrow} = \prod_{k=\ell}^{L} \hat\Delta^{k}

    See Also
    --------
    netcoreset.bounds.delta_hat_product : the numeric function.

    Examples
    --------
    >>> delta_hat_product_expr().subs({SYM.ell: 2, SYM.L: 4}).doit()
    \hat{\Delta}[2]*\hat{\Delta}[3]*\hat{\Delta}[4]
    """
    return sp.Product(SYM.delta_hat_indexed[SYM.k], (SYM.k, SYM.ell, SYM.L))


def eps_prime_expr() -> sp.Expr:
    r""":math:`\varepsilon' = \varepsilon / (2(L-1))`.

    .. math::

        \varepsilon' = \frac{\varepsilon}{2(L-1)}

    See Also
    --------
    netcoreset.bounds.eps_prime : the numeric function.

    Examples
    --------
    >>> eps_prime_expr()
    \varepsilon/(2*(L - 1))
    """
    return SYM.eps / sp.Mul(2, SYM.L - 1, evaluate=False)


def layer_eps_expr() -> sp.Expr:
    r""":math:`\varepsilon_\ell = \varepsilon' / \hat\Delta^{\ell\rightarrow}`.

    .. math::

        \varepsilon_\ell = \frac{\varepsilon}{2(L-1)\,\hat\Delta^{\ell\rightarrow}}

    See Also
    --------
    netcoreset.bounds.layer_eps : the numeric function.

    Examples
    --------
    >>> layer_eps_expr()
    \varepsilon/(2*\hat{\Delta}^{\ell\rightarrow}*(L - 1))
    """
    return eps_prime_expr() / SYM.delta_hat_product


def network_eps_expr() -> sp.Expr:
    r"""The network's :math:`\varepsilon` certified by a layer's :math:`\varepsilon_\ell`
    (the inverse of :func:`layer_eps_expr`; the network takes the maximum over layers).

    .. math::

        \varepsilon = 2(L-1)\,\hat\Delta^{\ell\rightarrow}\,\varepsilon_\ell

    See Also
    --------
    netcoreset.bounds.network_eps : the numeric function.

    Examples
    --------
    >>> sp.simplify(network_eps_expr().subs(SYM.eps_l, layer_eps_expr()))
    \varepsilon
    """
    return 2 * (SYM.L - 1) * SYM.delta_hat_product * SYM.eps_l


def error_recursion_expr() -> sp.Expr:
    r"""One step of the error recursion, :math:`R_\ell` from :math:`R_{\ell-1}`.

    .. math::

        R_\ell = \hat\Delta^\ell\bigl(\varepsilon_\ell + (1+\varepsilon_\ell)R_{\ell-1}\bigr)

    See Also
    --------
    netcoreset.bounds.error_recursion : the numeric function.

    Examples
    --------
    >>> error_recursion_expr()
    \hat{\Delta}^{\ell}*(R_{\ell-1}*(\varepsilon_{\ell} + 1) + \varepsilon_{\ell})
    """
    r_prev = sp.Symbol(r"R_{\ell-1}", nonnegative=True)
    return SYM.delta_hat * (SYM.eps_l + (1 + SYM.eps_l) * r_prev)


def eps_prime_exact_expr() -> sp.Expr:
    r"""The per-layer budget that the recursion turns into exactly :math:`\varepsilon`.

    .. math::

        \varepsilon' = (1+\varepsilon)^{1/(L-1)} - 1

    See Also
    --------
    netcoreset.bounds.eps_prime_exact : the numeric function.

    Examples
    --------
    >>> eps_prime_exact_expr()
    (\varepsilon + 1)**(1/(L - 1)) - 1
    """
    return (1 + SYM.eps) ** (1 / (SYM.L - 1)) - 1


def check_error_split() -> DerivationCheck:
    r"""The compressed layer's error splits into a sampling and a propagated term.

    .. math::

        \hat w_k \hat a_k - w_k a_k = (\hat w_k - w_k)\,a_k + \hat w_k(\hat a_k - a_k),

    term by term, hence :math:`\hat z - z = \sum_k(\hat w_k - w_k)a_k +
    \sum_k\hat w_k(\hat a_k - a_k)`: the sampling term is evaluated on the *original*
    activations (those :math:`S` and Lemma 1 are about), the propagated one carries the
    *compressed* weights. The split with :math:`w` in the second term would need
    :math:`\sum_k(\hat w_k - w_k)\hat a_k` in the first.

    Examples
    --------
    >>> check_error_split().residual
    0
    """
    w, wh, a, ah = sp.symbols(r"w_k \hat{w}_k a_k \hat{a}_k", real=True)
    ok, res = _is_zero((wh * ah - w * a) - ((wh - w) * a + wh * (ah - a)))
    return DerivationCheck(
        claim="hat w hat a - w a = (hat w - w) a + hat w (hat a - a), term by term",
        assumptions="w, hat w, a, hat a real",
        proved=ok,
        residual=res,
    )


def check_error_recursion_step() -> DerivationCheck:
    r"""One step of the error recursion from the split and the part events.

    With :math:`A = \sum_k |w_k a_k| = \Delta\,|z|` (:math:`a \ge 0`), the part events
    :math:`|\hat z_\pm - z_\pm| \le \varepsilon_\ell z_\pm` give
    :math:`|\sum_k(\hat w_k - w_k)a_k| \le \varepsilon_\ell A` and
    :math:`\sum_k |\hat w_k| a_k = \hat z_+ + \hat z_- \le (1+\varepsilon_\ell)A`; with
    :math:`|\hat a_k - a_k| \le R_{\ell-1}a_k` the propagated term is at most
    :math:`R_{\ell-1}(1+\varepsilon_\ell)A`. Their sum equals
    :math:`\Delta(\varepsilon_\ell + (1+\varepsilon_\ell)R_{\ell-1})|z|`, which sympy checks
    as an identity; it is :math:`\le R_\ell|z|` when :math:`\Delta \le \hat\Delta^\ell`
    because the bracket is non-negative.

    Examples
    --------
    >>> check_error_recursion_step().proved
    True
    """
    r_prev = sp.Symbol(r"R_{\ell-1}", nonnegative=True)
    z_abs, big_delta = sp.symbols(r"|z| \Delta", positive=True)
    A = big_delta * z_abs
    total = SYM.eps_l * A + r_prev * (1 + SYM.eps_l) * A
    ok, res = _is_zero(total - (error_recursion_expr() / SYM.delta_hat) * big_delta * z_abs)
    bracket_nonneg = bool((SYM.eps_l + (1 + SYM.eps_l) * r_prev).is_nonnegative)
    return DerivationCheck(
        claim="eps_l A + R_{l-1}(1+eps_l) A with A = Delta |z| equals "
        "Delta (eps_l + (1+eps_l) R_{l-1}) |z|, and the bracket is >= 0",
        assumptions="eps_l > 0, R_{l-1} >= 0, Delta, |z| > 0",
        proved=bool(ok and bracket_nonneg),
        residual=res,
    )


def check_error_recursion_induction() -> DerivationCheck:
    r"""The induction: :math:`\varepsilon_\ell = \varepsilon'/\hat\Delta^{\ell\rightarrow}`
    gives :math:`R_L \le (1+\varepsilon')^{L-1} - 1`.

    Write :math:`\rho_\ell = R_\ell\,\hat\Delta^{\ell+1\rightarrow}`
    (:math:`\hat\Delta^{L+1\rightarrow} = 1`, :math:`\rho_1 = 0`). Substituting
    :math:`\hat\Delta^{\ell\rightarrow} = \hat\Delta^\ell\hat\Delta^{\ell+1\rightarrow}` into
    the recursion gives the identity

    .. math::

        \hat\Delta^{\ell+1\rightarrow}\,\hat\Delta^\ell\Bigl(\frac{\varepsilon'}
        {\hat\Delta^\ell\hat\Delta^{\ell+1\rightarrow}} + (1+\varepsilon_\ell)
        \frac{\rho_{\ell-1}}{\hat\Delta^{\ell}\hat\Delta^{\ell+1\rightarrow}}\Bigr)
        = \varepsilon' + (1+\varepsilon_\ell)\rho_{\ell-1},

    and :math:`\varepsilon_\ell \le \varepsilon'` (as :math:`\hat\Delta \ge 1`) with the
    hypothesis :math:`\rho_{\ell-1} \le (1+\varepsilon')^{\ell-2} - 1` gives
    :math:`\rho_\ell \le \varepsilon' + (1+\varepsilon')((1+\varepsilon')^{\ell-2} - 1)
    = (1+\varepsilon')^{\ell-1} - 1`. sympy proves both identities (symbolic exponent
    :math:`k = \ell - 2`); :math:`R_L = \rho_L`.

    Examples
    --------
    >>> check_error_recursion_induction().proved
    True
    """
    rho_prev = sp.Symbol(r"\rho_{\ell-1}", nonnegative=True)
    d_next = sp.Symbol(r"\hat{\Delta}^{\ell+1\rightarrow}", positive=True)
    e1 = sp.Symbol(r"\varepsilon'", positive=True)
    k = sp.Symbol("k", nonnegative=True, integer=True)
    dh = SYM.delta_hat
    step = d_next * dh * (e1 / (dh * d_next) + (1 + SYM.eps_l) * rho_prev / (dh * d_next))
    ok1, res1 = _is_zero(step - (e1 + (1 + SYM.eps_l) * rho_prev))
    ok2, res2 = _is_zero(sp.expand(e1 + (1 + e1) * ((1 + e1) ** k - 1) - ((1 + e1) ** (k + 1) - 1)))
    return DerivationCheck(
        claim="rho_l = R_l Dhat^{l+1->} satisfies rho_l = eps' + (1+eps_l) rho_{l-1}, and "
        "eps' + (1+eps')((1+eps')^k - 1) = (1+eps')^(k+1) - 1; with eps_l <= eps' by "
        "induction R_L = rho_L <= (1+eps')^(L-1) - 1",
        assumptions="eps' > 0, eps_l = eps'/Dhat^{l->} <= eps', rho >= 0, Dhat >= 1",
        proved=bool(ok1 and ok2),
        residual=res1 + res2,
    )


def check_paper_split_within_eps() -> DerivationCheck:
    r"""The paper's :math:`\varepsilon' = \varepsilon/(2(L-1))` keeps the recursion within
    :math:`\varepsilon` for :math:`0 < \varepsilon \le 1`.

    (i) :math:`h(u) = u - \log(1+u)` has :math:`h(0) = 0` and :math:`h'(u) = u/(1+u) \ge 0`,
    so :math:`(1+\varepsilon/(2n))^n = e^{n\log(1+\varepsilon/(2n))} \le e^{\varepsilon/2}`.
    (ii) :math:`g(\varepsilon) = \varepsilon + 1 - e^{\varepsilon/2}` has :math:`g(0) = 0` and
    :math:`g'(\varepsilon) = 1 - e^{\varepsilon/2}/2 > 0` on :math:`[0, 2\log 2)
    \supset [0, 1]`. Together :math:`(1+\varepsilon')^{L-1} - 1 \le e^{\varepsilon/2} - 1
    \le \varepsilon`. sympy checks :math:`h(0)`, :math:`h'`, :math:`g(0)`, and solves
    :math:`g' > 0`.

    Examples
    --------
    >>> check_paper_split_within_eps().proved
    True
    """
    u = sp.Symbol("u", nonnegative=True)
    h = u - sp.log(1 + u)
    dh_ok, dh_res = _is_zero(sp.diff(h, u) - u / (1 + u))
    h0 = h.subs(u, 0) == 0
    e = sp.Symbol("e", real=True)
    g = e + 1 - sp.exp(e / 2)
    g0 = sp.simplify(g.subs(e, 0)) == 0
    increasing = sp.solve_univariate_inequality(sp.diff(g, e) > 0, e, relational=False)
    covers = sp.Interval(0, 1).is_subset(increasing)
    return DerivationCheck(
        claim="(1 + eps/(2n))^n - 1 <= exp(eps/2) - 1 <= eps for 0 < eps <= 1: "
        "u - log(1+u) is 0 at 0 with derivative u/(1+u) >= 0; eps + 1 - exp(eps/2) is 0 at 0 "
        f"and increasing on {increasing}, which contains [0, 1]",
        assumptions="u >= 0; eps real",
        proved=bool(dh_ok and h0 and g0 and covers),
        residual=dh_res,
    )


def check_exact_split() -> DerivationCheck:
    r""":math:`\varepsilon' = (1+\varepsilon)^{1/(L-1)} - 1` makes the recursion's bound
    exactly :math:`\varepsilon`.

    .. math::

        \bigl(1 + (1+\varepsilon)^{1/(L-1)} - 1\bigr)^{L-1} - 1 = \varepsilon .

    Examples
    --------
    >>> check_exact_split().residual
    0
    """
    n = SYM.L - 1
    ok, res = _is_zero((1 + eps_prime_exact_expr()) ** n - 1 - SYM.eps)
    return DerivationCheck(
        claim="(1 + eps')^(L-1) - 1 = eps for eps' = (1+eps)^(1/(L-1)) - 1",
        assumptions="eps > 0, L >= 2 integer",
        proved=ok,
        residual=res,
    )
