r"""CoreNet's formulas as sympy expressions, their LaTeX, and derivation checks sympy proves.

The numeric functions of :mod:`netcoreset.bounds` compute the paper's quantities with floats;
this module states the same quantities once more, as :mod:`sympy` expressions written with the
paper's symbols (:data:`SYM`), so that

* the documentation and the command line can print them (:func:`to_latex`), and
* the steps that lead from Bernstein's inequality to the sample size, from the per-layer
  error :math:`\varepsilon_\ell` to the size theorem, and from the sample size back to the
  certified :math:`\varepsilon` are *proved* by sympy (:func:`all_derivation_checks`): every
  check reduces its claim to an identity or an inequality that sympy decides exactly, with
  no sampling, except :func:`check_numeric_agreement`, which compares the numeric code with
  these expressions by evaluation (and says so).

sympy is imported here only; ``import netcoreset.bounds`` stays fast and loads this module on
first access of ``netcoreset.bounds.symbolic``.

Examples
--------
>>> from netcoreset.bounds import symbolic
>>> print(symbolic.to_latex("eps_prime"))
\varepsilon' = \frac{\varepsilon}{2 \left(L - 1\right)}
>>> all(c.proved for c in symbolic.all_derivation_checks())
True
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from . import amplification as _amp
from . import error_budget as _eb
from .network import compressed_size_bound as _compressed_size_bound
from .sample_size import certified_eps as _certified_eps
from .sample_size import expected_distinct_edges as _expected_distinct_edges
from .sample_size import sample_size as _sample_size
from .sample_size import sensitivity_set_size as _sensitivity_set_size

__all__ = [
    "SYM",
    "PaperSymbols",
    "sensitivity_set_size_expr",
    "sample_size_expr",
    "certified_eps_expr",
    "bernstein_exponent_expr",
    "lambda_star_expr",
    "kappa_expr",
    "delta_hat_expr",
    "delta_hat_product_expr",
    "eps_prime_expr",
    "layer_eps_expr",
    "network_eps_expr",
    "default_tau_expr",
    "amplified_log_ratio_expr",
    "size_term_expr",
    "expected_distinct_edges_expr",
    "FORMULA_NAMES",
    "expression",
    "to_latex",
    "DerivationCheck",
    "check_log_term_positive",
    "check_bernstein_exponent",
    "check_failure_probability",
    "check_eight_form_condition",
    "check_theorem_size_term",
    "check_certified_eps_inverse",
    "check_numeric_agreement",
    "all_derivation_checks",
]


# --------------------------------------------------------------------------------------------
# Symbols
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaperSymbols:
    r"""The paper's symbols as sympy :class:`~sympy.core.symbol.Symbol` objects.

    All are positive reals; :math:`L`, :math:`\eta`, :math:`\eta^*`, :math:`n`, :math:`j`,
    :math:`k`, :math:`\ell` are positive integers. Each symbol's name is its LaTeX, e.g.
    ``SYM.S.name == r"\mathcal{S}"``.

    .. math::

        \mathcal{S},\ K,\ K',\ \eta,\ \eta^*,\ \delta,\ \varepsilon,\ L,\ m,\
        \hat\Delta^\ell,\ \hat\Delta^{\ell\rightarrow},\ \bar\Delta^\ell,\ \lambda^*,\ \kappa

    Examples
    --------
    >>> SYM.S.name, SYM.eps.is_positive, SYM.L.is_integer
    ('\\mathcal{S}', True, True)
    """

    S: sp.Symbol  #: total sensitivity of one part
    S_i: sp.Symbol  #: S of neuron i: sum over its two parts
    K: sp.Symbol  #: constant of Assumption 1
    K_prime: sp.Symbol  #: K' of Assumption 1
    eta: sp.Symbol  #: number of non-input neurons
    eta_star: sp.Symbol  #: widest hidden layer
    delta: sp.Symbol  #: failure probability
    eps: sp.Symbol  #: relative error
    eps_l: sp.Symbol  #: relative error of layer ell
    L: sp.Symbol  #: number of layers (L - 1 weight layers)
    m: sp.Symbol  #: number of i.i.d. draws of one part
    delta_hat: sp.Symbol  #: hat Delta^ell of one layer
    delta_hat_product: sp.Symbol  #: hat Delta^{ell ->} = prod_{k >= ell} hat Delta^k
    delta_bar: sp.Symbol  #: max_i of the mean of Delta_i(x) over S
    lambda_star: sp.Symbol  #: lambda^* = log(eta eta^*) / 2
    tau: sp.Symbol  #: CoreNet++ candidates per part
    kappa: sp.Symbol  #: the additive slack of hat Delta^ell
    z: sp.Symbol  #: the positive part z_+ of a pre-activation
    c: sp.Symbol  #: c = K S log(8 eta / delta)
    t: sp.Symbol  #: Bernstein deviation
    n: sp.Symbol  #: number of edges of a part
    j: sp.Symbol  #: edge index
    k: sp.Symbol  #: layer index
    ell: sp.Symbol  #: layer index
    q: sp.IndexedBase  #: sampling distribution q_j
    delta_hat_indexed: sp.IndexedBase  #: hat Delta^k indexed by layer


def _pos(name: str, **kw: bool) -> sp.Symbol:
    return sp.Symbol(name, positive=True, **kw)


SYM = PaperSymbols(
    S=_pos(r"\mathcal{S}"),
    S_i=_pos(r"\mathcal{S}^{\ell}_{i}"),
    K=_pos("K"),
    K_prime=_pos("K'"),
    eta=_pos(r"\eta", integer=True),
    eta_star=_pos(r"\eta^{*}", integer=True),
    delta=_pos(r"\delta"),
    eps=_pos(r"\varepsilon"),
    eps_l=_pos(r"\varepsilon_{\ell}"),
    L=_pos("L", integer=True),
    m=_pos("m"),
    delta_hat=_pos(r"\hat{\Delta}^{\ell}"),
    delta_hat_product=_pos(r"\hat{\Delta}^{\ell\rightarrow}"),
    delta_bar=_pos(r"\bar{\Delta}^{\ell}"),
    lambda_star=_pos(r"\lambda^{*}"),
    tau=_pos(r"\tau", integer=True),
    kappa=_pos(r"\kappa"),
    z=_pos("z_{+}"),
    c=_pos("c"),
    t=_pos("t"),
    n=_pos("n", integer=True),
    j=_pos("j", integer=True),
    k=_pos("k", integer=True),
    ell=_pos(r"\ell", integer=True),
    q=sp.IndexedBase("q", positive=True),
    delta_hat_indexed=sp.IndexedBase(r"\hat{\Delta}", positive=True),
)


def _log8() -> sp.Expr:
    return sp.log(8 * SYM.eta / SYM.delta)


# --------------------------------------------------------------------------------------------
# Expressions
# --------------------------------------------------------------------------------------------


def sensitivity_set_size_expr() -> sp.Expr:
    r"""Number of points used for the sensitivities.

    .. math::

        |S| = \left\lceil K' \log\frac{8\,\eta\,\eta^*}{\delta} \right\rceil

    See Also
    --------
    netcoreset.bounds.sensitivity_set_size : the numeric function.

    Examples
    --------
    >>> sensitivity_set_size_expr()
    ceiling(K'*log(8*\eta*\eta^{*}/\delta))
    """
    return sp.ceiling(SYM.K_prime * sp.log(8 * SYM.eta * SYM.eta_star / SYM.delta))


def sample_size_expr(tight: bool = False, *, integer: bool = True) -> sp.Expr:
    r"""Draws :math:`m` of one part, the 8-form or (``tight=True``) the exact Bernstein form.

    .. math::

        m = \left\lceil\frac{8\,\mathcal{S} K \log(8\eta/\delta)}{\varepsilon^2}\right\rceil,
        \qquad
        m_{\text{tight}} = \left\lceil\frac{K\mathcal{S}(6+2\varepsilon)\log(8\eta/\delta)}
        {\varepsilon^2}\right\rceil .

    ``integer=False`` drops the ceiling (the real-valued :math:`m(\varepsilon)` the
    derivations work with).

    See Also
    --------
    netcoreset.bounds.sample_size : the numeric function.

    Examples
    --------
    >>> sample_size_expr(integer=False)
    8*K*\mathcal{S}*log(8*\eta/\delta)/\varepsilon**2
    """
    c = (6 + 2 * SYM.eps) if tight else sp.Integer(8)
    real = c * SYM.S * SYM.K * _log8() / SYM.eps**2
    return sp.ceiling(real) if integer else real


def certified_eps_expr(tight: bool = False) -> sp.Expr:
    r"""The certified :math:`\varepsilon(m)`: the sample-size formula solved for
    :math:`\varepsilon`.

    .. math::

        \varepsilon(m) = \sqrt{\frac{8c}{m}},\qquad
        \varepsilon_{\text{tight}}(m) = \frac{c + \sqrt{c^2 + 6mc}}{m},\qquad
        c = K\mathcal{S}\log\frac{8\eta}{\delta},

    the latter being the positive root of :math:`m\varepsilon^2 - 2c\varepsilon - 6c = 0`
    (:func:`check_certified_eps_inverse`).

    See Also
    --------
    netcoreset.bounds.certified_eps : the numeric function.

    Examples
    --------
    >>> certified_eps_expr()
    2*sqrt(2)*sqrt(K)*sqrt(\mathcal{S})*sqrt(log(8*\eta/\delta))/sqrt(m)
    """
    c = SYM.K * SYM.S * _log8()
    if tight:
        return (c + sp.sqrt(c**2 + 6 * SYM.m * c)) / SYM.m
    return sp.sqrt(8 * c / SYM.m)


def bernstein_exponent_expr() -> sp.Expr:
    r"""The exponent of the Bernstein tail of one part,
    :math:`P(|\hat z_+ - z_+| > \varepsilon z_+) \le 2\exp(-E)`.

    .. math::

        E = \frac{m\,\varepsilon^2}{K\mathcal{S}\,(6 + 2\varepsilon)}

    derived in :func:`check_bernstein_exponent`.

    Examples
    --------
    >>> bernstein_exponent_expr()
    \varepsilon**2*m/(K*\mathcal{S}*(2*\varepsilon + 6))
    """
    return SYM.m * SYM.eps**2 / (SYM.K * SYM.S * (6 + 2 * SYM.eps))


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


def default_tau_expr() -> sp.Expr:
    r"""CoreNet++'s default number of candidates.

    .. math::

        \tau = \left\lceil \log_2 \frac{1}{\delta} \right\rceil

    See Also
    --------
    netcoreset.bounds.default_tau : the numeric function.

    Examples
    --------
    >>> default_tau_expr()
    ceiling(log(1/\delta)/log(2))
    """
    return sp.ceiling(sp.log(1 / SYM.delta) / sp.log(2))


def amplified_log_ratio_expr() -> sp.Expr:
    r"""Ratio of CoreNet++'s amplified log term to the plain :math:`\log(8\eta/\delta)`.

    .. math::

        \rho_\tau = \frac{\log 2 + \frac{1}{\tau}\log\frac{4\eta}{\delta}}
        {\log\frac{8\eta}{\delta}}

    See Also
    --------
    netcoreset.bounds.amplified_log_ratio : the numeric function.

    Examples
    --------
    >>> sp.simplify(amplified_log_ratio_expr().subs(SYM.tau, 1))
    1
    """
    return (sp.log(2) + sp.log(4 * SYM.eta / SYM.delta) / SYM.tau) / _log8()


def size_term_expr(integer: bool = True) -> sp.Expr:
    r"""The size theorem's term for one neuron :math:`i` of layer :math:`\ell`.

    .. math::

        \left\lceil\frac{32\,(L-1)^2\,(\hat\Delta^{\ell\rightarrow})^2\,\mathcal{S}^\ell_i\,K
        \log(8\eta/\delta)}{\varepsilon^2}\right\rceil + 1

    ``integer=False`` gives the real-valued quotient (no ceiling, no ``+ 1``).

    See Also
    --------
    netcoreset.bounds.compressed_size_bound : the numeric function.

    Examples
    --------
    >>> per_part = sample_size_expr(integer=False).subs(SYM.S, SYM.S_i)
    >>> sp.factor(size_term_expr(integer=False) / per_part)
    4*\hat{\Delta}^{\ell\rightarrow}**2*(L - 1)**2
    """
    real = 32 * (SYM.L - 1) ** 2 * SYM.delta_hat_product**2 * SYM.S_i * SYM.K * _log8() / SYM.eps**2
    return sp.ceiling(real) + 1 if integer else real


def expected_distinct_edges_expr() -> sp.Expr:
    r"""Expected number of distinct edges kept by :math:`m` i.i.d. draws from :math:`q`.

    .. math::

        \sum_{j=1}^{n}\bigl(1 - (1 - q_j)^m\bigr)

    See Also
    --------
    netcoreset.bounds.expected_distinct_edges : the numeric function.

    Examples
    --------
    >>> expected_distinct_edges_expr().subs({SYM.n: 2, SYM.m: 2}).doit()
    -(1 - q[1])**2 - (1 - q[2])**2 + 2
    """
    return sp.Sum(1 - (1 - SYM.q[SYM.j]) ** SYM.m, (SYM.j, 1, SYM.n))


_FORMULAS: dict[str, tuple[str, Callable[[], sp.Expr]]] = {
    "sensitivity_set_size": ("|S|", sensitivity_set_size_expr),
    "sample_size": ("m", sample_size_expr),
    "sample_size_tight": (r"m_{\mathrm{tight}}", functools.partial(sample_size_expr, True)),
    "certified_eps": (r"\varepsilon(m)", certified_eps_expr),
    "certified_eps_tight": (
        r"\varepsilon_{\mathrm{tight}}(m)",
        functools.partial(certified_eps_expr, True),
    ),
    "bernstein_exponent": (r"E_{\mathrm{Bernstein}}", bernstein_exponent_expr),
    "lambda_star": (r"\lambda^{*}", lambda_star_expr),
    "kappa": (r"\kappa", kappa_expr),
    "delta_hat": (r"\hat{\Delta}^{\ell}", delta_hat_expr),
    "delta_hat_product": (r"\hat{\Delta}^{\ell\rightarrow}", delta_hat_product_expr),
    "eps_prime": (r"\varepsilon'", eps_prime_expr),
    "layer_eps": (r"\varepsilon_{\ell}", layer_eps_expr),
    "network_eps": (r"\varepsilon", network_eps_expr),
    "default_tau": (r"\tau", default_tau_expr),
    "amplified_log_ratio": (r"\rho_{\tau}", amplified_log_ratio_expr),
    "size_term": (r"\operatorname{nnz}(\hat\theta^\ell_i)", size_term_expr),
    "expected_distinct_edges": (r"\mathbb{E}\,|C|", expected_distinct_edges_expr),
}

#: Names accepted by :func:`expression` and :func:`to_latex`.
FORMULA_NAMES: tuple[str, ...] = tuple(_FORMULAS)


def _lookup(name: str) -> tuple[str, Callable[[], sp.Expr]]:
    try:
        return _FORMULAS[name]
    except (KeyError, TypeError):
        raise ValueError(f"name must be one of {', '.join(FORMULA_NAMES)}; got {name!r}") from None


def expression(name: str) -> sp.Expr:
    r"""The sympy expression of the formula called ``name`` (one of :data:`FORMULA_NAMES`).

    .. math::

        \texttt{expression("eps\_prime")} = \frac{\varepsilon}{2(L-1)}

    Examples
    --------
    >>> expression("lambda_star")
    log(\eta*\eta^{*})/2
    """
    return _lookup(name)[1]()


def to_latex(name: str, *, equation: bool = True) -> str:
    r"""LaTeX of the formula called ``name``; with ``equation=True`` as ``lhs = rhs``.

    .. math::

        \texttt{to\_latex("sample\_size")} \mapsto
        m = \left\lceil \frac{8 K \mathcal{S} \log(8\eta/\delta)}{\varepsilon^{2}} \right\rceil

    Examples
    --------
    >>> print(to_latex("eps_prime"))
    \varepsilon' = \frac{\varepsilon}{2 \left(L - 1\right)}
    >>> print(to_latex("lambda_star"))
    \lambda^{*} = \frac{\log{\left(\eta \eta^{*} \right)}}{2}
    """
    lhs, build = _lookup(name)
    rhs = sp.latex(build())
    return f"{lhs} = {rhs}" if equation else rhs


# --------------------------------------------------------------------------------------------
# Derivation checks
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DerivationCheck:
    r"""The outcome of one derivation check.

    Attributes
    ----------
    claim : str
        What is shown (plain text with the formulas).
    assumptions : str
        What the symbols are assumed to satisfy.
    proved : bool
        ``True`` when sympy reduced the claim to a true statement (for
        :func:`check_numeric_agreement`: when every evaluation agreed to the tolerance).
    residual : sympy expression or str
        What is left: for an identity :math:`A = B` the simplified :math:`A - B` (``0`` when
        proved); for a set equality the symmetric difference (``EmptySet``); for
        :func:`check_log_term_positive` the gap that sympy shows positive; for
        :func:`check_numeric_agreement` a text with the largest relative difference.

    .. math::

        A = B \text{ is proved} \iff \operatorname{simplify}(A - B) = 0

    Examples
    --------
    >>> DerivationCheck("1 = 1", "none", True, sp.Integer(0)).proved
    True
    """

    claim: str
    assumptions: str
    proved: bool
    residual: Any


def _is_zero(expr: sp.Expr) -> tuple[bool, sp.Expr]:
    res = sp.simplify(expr)
    return bool(res == 0), res


def check_log_term_positive() -> DerivationCheck:
    r"""Show :math:`\log(8\eta/\delta) > 0` for :math:`\eta \ge 1`, :math:`0 < \delta < 1`.

    Writing :math:`\eta = 1 + a` (:math:`a \ge 0`) and :math:`\delta = 1/(1+b)`
    (:math:`b > 0`) covers exactly those values, and

    .. math::

        \frac{8\eta}{\delta} - 1 = 8(1+a)(1+b) - 1 = 7 + 8a + 8b + 8ab > 0,

    which sympy decides from the signs of :math:`a` and :math:`b`. The other checks divide
    by this logarithm and use it as a positive constant.

    Examples
    --------
    >>> check_log_term_positive().proved
    True
    """
    a = sp.Symbol("a", nonnegative=True)
    b = sp.Symbol("b", positive=True)
    arg = (8 * SYM.eta / SYM.delta).subs({SYM.eta: 1 + a, SYM.delta: 1 / (1 + b)})
    gap = sp.expand(sp.simplify(arg - 1))
    proved = bool(gap.is_positive)
    return DerivationCheck(
        claim="log(8*eta/delta) > 0, i.e. 8*eta/delta - 1 = 8(1+a)(1+b) - 1 > 0",
        assumptions="eta = 1 + a with a >= 0 (eta >= 1); delta = 1/(1+b) with b > 0 "
        "(0 < delta < 1)",
        proved=proved,
        residual=gap,
    )


def check_bernstein_exponent() -> DerivationCheck:
    r"""Derive the Bernstein exponent of one part from Bernstein's inequality.

    With :math:`m` i.i.d. draws :math:`X_k = w_j a_j/q_j`, :math:`\hat z_+ = \frac1m\sum_k X_k`,
    each draw bounded by :math:`M = 3K\mathcal{S}z_+` and of variance
    :math:`\sigma^2 \le 3K\mathcal{S}z_+^2`, Bernstein's inequality for the deviation
    :math:`t = m\varepsilon z_+` of the sum gives the exponent

    .. math::

        \frac{t^2/2}{m\sigma^2 + Mt/3}
        = \frac{m\,\varepsilon^2}{K\mathcal{S}\,(6 + 2\varepsilon)}.

    sympy simplifies the difference of the two sides to 0.

    Examples
    --------
    >>> check_bernstein_exponent().residual
    0
    """
    M = 3 * SYM.K * SYM.S * SYM.z
    sigma2 = 3 * SYM.K * SYM.S * SYM.z**2
    t = SYM.m * SYM.eps * SYM.z
    exponent = (SYM.t**2 / 2 / (SYM.m * sigma2 + M * SYM.t / 3)).subs(SYM.t, t)
    ok, res = _is_zero(exponent - bernstein_exponent_expr())
    return DerivationCheck(
        claim="Bernstein: t^2/2/(m sigma^2 + M t/3) with M = 3 K S z, sigma^2 = 3 K S z^2, "
        "t = m eps z equals m eps^2/(K S (6 + 2 eps))",
        assumptions="K, S, z, m, eps > 0",
        proved=ok,
        residual=res,
    )


def check_failure_probability() -> DerivationCheck:
    r"""Requiring the tail :math:`2e^{-E}` to be at most :math:`\delta/(4\eta)` is
    :math:`E \ge \log(8\eta/\delta)`.

    .. math::

        2e^{-E} \le \frac{\delta}{4\eta} \iff E \ge \log 2 - \log\frac{\delta}{4\eta}
        = \log\frac{8\eta}{\delta}.

    The logarithm is increasing, so the two inequalities are equivalent; sympy shows
    :math:`\log 2 - \log(\delta/(4\eta)) - \log(8\eta/\delta) = 0`.

    Examples
    --------
    >>> check_failure_probability().proved
    True
    """
    threshold = sp.log(2) - sp.log(SYM.delta / (4 * SYM.eta))
    res = sp.simplify(sp.expand_log(threshold - _log8(), force=True))
    return DerivationCheck(
        claim="2 exp(-E) <= delta/(4 eta)  <=>  E >= log 2 - log(delta/(4 eta)) = log(8 eta/delta)",
        assumptions="eta, delta > 0",
        proved=bool(res == 0),
        residual=res,
    )


def check_eight_form_condition() -> DerivationCheck:
    r"""The 8-form meets the Bernstein requirement exactly when :math:`\varepsilon \le 1`.

    With :math:`m = 8\mathcal{S}K\log(8\eta/\delta)/\varepsilon^2` (real-valued),

    .. math::

        \frac{E}{\log(8\eta/\delta)} = \frac{8}{6 + 2\varepsilon},\qquad
        \{\varepsilon > 0 : E \ge \log(8\eta/\delta)\} = (0, 1].

    Both directions: sympy simplifies the ratio, then solves the inequality
    :math:`8\ell/(6+2\varepsilon) \ge \ell` over :math:`\varepsilon > 0` with
    :math:`\ell = \log(8\eta/\delta) > 0` (:func:`check_log_term_positive`) and the solution
    set must equal :math:`(0, 1]`. (So ``tight=True``, which solves :math:`E = \ell` exactly,
    never needs more draws than the 8-form for :math:`\varepsilon \le 1`.)

    Examples
    --------
    >>> check_eight_form_condition().residual
    EmptySet
    """
    ell = sp.Symbol(r"\ell_{8}", positive=True)
    exponent = bernstein_exponent_expr().subs(SYM.m, sample_size_expr(integer=False))
    ratio = sp.simplify(exponent / _log8())
    ratio_ok, _ = _is_zero(ratio - sp.Integer(8) / (6 + 2 * SYM.eps))
    ineq = exponent.subs(_log8(), ell) >= ell
    solution = sp.solve_univariate_inequality(
        ineq, SYM.eps, relational=False, domain=sp.Interval.open(0, sp.oo)
    )
    target = sp.Interval.Lopen(0, 1)
    residual = sp.Union(sp.Complement(solution, target), sp.Complement(target, solution))
    return DerivationCheck(
        claim="with m = 8 S K log(8 eta/delta)/eps^2: E/log(8 eta/delta) = 8/(6 + 2 eps), "
        "and E >= log(8 eta/delta) holds for eps > 0 if and only if eps <= 1",
        assumptions="S, K, eta, delta, eps > 0; log(8 eta/delta) > 0 (check_log_term_positive)",
        proved=bool(ratio_ok and residual == sp.S.EmptySet),
        residual=residual,
    )


def check_theorem_size_term() -> DerivationCheck:
    r"""Substituting :math:`\varepsilon_\ell` into :math:`m` gives the size theorem's term.

    .. math::

        \frac{8\,\mathcal{S}K\log(8\eta/\delta)}{\varepsilon_\ell^2}\bigg|_{
        \varepsilon_\ell = \frac{\varepsilon}{2(L-1)\hat\Delta^{\ell\rightarrow}}}
        = \frac{32\,(L-1)^2(\hat\Delta^{\ell\rightarrow})^2\,\mathcal{S}K\log(8\eta/\delta)}
        {\varepsilon^2}.

    Summed over the two parts of a neuron (:math:`\mathcal{S}^\ell_i = \mathcal{S}_+ +
    \mathcal{S}_-`, the real-valued terms add) and with
    :math:`\lceil a\rceil + \lceil b\rceil \le \lceil a+b\rceil + 1` this is the theorem's
    per-neuron bound :func:`size_term_expr`.

    Examples
    --------
    >>> check_theorem_size_term().residual
    0
    """
    s_plus, s_minus = sp.symbols(r"\mathcal{S}_{+} \mathcal{S}_{-}", positive=True)
    m_real = sample_size_expr(integer=False).subs(SYM.eps, layer_eps_expr())
    both = m_real.subs(SYM.S, s_plus) + m_real.subs(SYM.S, s_minus)
    target = size_term_expr(integer=False).subs(SYM.S_i, s_plus + s_minus)
    ok, res = _is_zero(both - target)
    return DerivationCheck(
        claim="m(S+, eps_l) + m(S-, eps_l) with eps_l = eps/(2(L-1) Dhat) equals "
        "32 (L-1)^2 Dhat^2 (S+ + S-) K log(8 eta/delta)/eps^2",
        assumptions="S+, S-, K, eta, delta, eps, Dhat > 0; L > 1 integer",
        proved=ok,
        residual=res,
    )


def check_certified_eps_inverse(tight: bool = False) -> DerivationCheck:
    r"""The certified :math:`\varepsilon(m)` inverts the real-valued :math:`m(\varepsilon)`.

    8-form: :math:`m(\varepsilon(m)) = 8c/(8c/m) = m`. Tight form: :math:`m(\varepsilon) =
    c(6+2\varepsilon)/\varepsilon^2` is equivalent to the quadratic

    .. math::

        m\varepsilon^2 - 2c\varepsilon - 6c = 0,\qquad
        \varepsilon_\pm = \frac{c \pm \sqrt{c^2 + 6mc}}{m},

    whose roots sympy finds; :math:`\varepsilon_-` is negative because
    :math:`(c - \sqrt{c^2+6mc})(c + \sqrt{c^2+6mc}) = -6mc < 0`, so :math:`\varepsilon_+` is
    the only admissible root, and substituting it back leaves residual 0.
    (:math:`c = K\mathcal{S}\log(8\eta/\delta) > 0`, :func:`check_log_term_positive`.)

    Examples
    --------
    >>> check_certified_eps_inverse().proved, check_certified_eps_inverse(tight=True).proved
    (True, True)
    """
    c, m, eps = SYM.c, SYM.m, SYM.eps
    to_c = {SYM.K: c / (SYM.S * _log8())}
    if not tight:
        e8 = certified_eps_expr(False).subs(to_c)
        ok, res = _is_zero(8 * c / e8**2 - m)
        return DerivationCheck(
            claim="8-form: substituting eps(m) = sqrt(8 c/m) into 8 c/eps^2 gives m",
            assumptions="c = K S log(8 eta/delta) > 0, m > 0",
            proved=ok,
            residual=res,
        )
    e_plus = certified_eps_expr(True).subs(to_c)
    ok_back, res = _is_zero(c * (6 + 2 * e_plus) / e_plus**2 - m)
    roots = sp.solve(sp.Eq(m * eps**2, c * (6 + 2 * eps)), eps)
    e_minus = (c - sp.sqrt(c**2 + 6 * m * c)) / m
    matched = len(roots) == 2 and all(
        any(sp.simplify(r - e) == 0 for e in (e_plus, e_minus)) for r in roots
    )
    minus_negative = bool(
        sp.expand((c - sp.sqrt(c**2 + 6 * m * c)) * (c + sp.sqrt(c**2 + 6 * m * c))).is_negative
    )
    plus_positive = bool(e_plus.is_positive)
    return DerivationCheck(
        claim="tight form: m eps^2 = c (6 + 2 eps) has exactly the roots "
        "(c +- sqrt(c^2 + 6 m c))/m, the '-' root is negative, and substituting the '+' root "
        "into c (6 + 2 eps)/eps^2 gives m",
        assumptions="c = K S log(8 eta/delta) > 0, m > 0",
        proved=bool(ok_back and matched and minus_negative and plus_positive),
        residual=res,
    )


_DIGITS = 40


def _mp(expr: sp.Expr, args: list[Any]) -> Callable[..., Any]:
    return sp.lambdify(args, expr, modules="mpmath")


def _rel(a: float, b: float) -> float:
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(a), abs(b))


def check_numeric_agreement(
    n_trials: int = 20, seed: int = 0, rtol: float = 1e-12
) -> DerivationCheck:
    r"""Compare the numeric functions of :mod:`netcoreset.bounds` with these expressions.

    This check is by EVALUATION, not a proof: for ``n_trials`` random inputs (numpy
    generator seeded with ``seed``) every quantity is computed by the numeric code in floats
    and from the sympy expression at 40 significant digits (``lambdify`` to mpmath), and
    the largest relative difference

    .. math::

        \max \frac{|x_{\text{numeric}} - x_{\text{sympy}}|}{\max(|x_{\text{numeric}}|,
        |x_{\text{sympy}}|)} \le \text{rtol}

    must hold. Quantities: :math:`|S|`, sample size (both forms), certified
    :math:`\varepsilon` (both forms), :math:`\lambda^*`, :math:`\kappa`,
    :math:`\hat\Delta`, :math:`\hat\Delta^{\ell\rightarrow}`, :math:`\varepsilon'`,
    :math:`\varepsilon_\ell`, the network :math:`\varepsilon` certified by the
    :math:`\varepsilon_\ell`, CoreNet++'s :math:`\tau` and log ratio, the per-neuron size
    term and the expected number of distinct edges. The ``residual`` names the largest
    difference and where it occurred.

    Examples
    --------
    >>> check_numeric_agreement(n_trials=2).proved
    True
    """
    import mpmath

    if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1:
        raise ValueError(f"n_trials must be an integer >= 1; got {n_trials!r}")
    if not (isinstance(rtol, (int, float)) and rtol > 0 and math.isfinite(rtol)):
        raise ValueError(f"rtol must be a finite real number > 0; got {rtol!r}")
    rng = np.random.default_rng(seed)

    worst = _Worst()
    with mpmath.workdps(_DIGITS):
        for _ in range(n_trials):
            _agree_sample_sizes(rng, worst.record)
            _agree_error_budget(rng, worst.record)
            _agree_expected_edges(rng, worst.record)
    ok = worst.value <= rtol
    residual = f"max relative difference {worst.value:.3g}" + (
        f" ({worst.name})" if worst.name else ""
    )
    return DerivationCheck(
        claim=f"BY EVALUATION (not a proof): numeric bounds functions agree with the sympy "
        f"expressions to relative {rtol:g} on {n_trials} random inputs (seed {seed})",
        assumptions="S in [0.5, 50], K in [0.2, 5], K' in [0.5, 6], eps in [0.01, 0.99], "
        "delta in [0.001, 0.5], eta in [1, 5000], 2 <= L <= 6, m in [1, 1e9]",
        proved=bool(ok and math.isfinite(worst.value)),
        residual=residual,
    )


class _Worst:
    """The largest relative difference seen so far, and where."""

    def __init__(self) -> None:
        self.value, self.name = 0.0, ""

    def record(self, name: str, numeric: Any, symbolic: Any) -> None:
        r = _rel(float(numeric), float(symbolic))
        if not r <= self.value:  # also catches NaN
            self.value, self.name = r, name


_Record = Callable[[str, Any, Any], None]


@functools.lru_cache(maxsize=1)
def _compiled() -> dict[str, Callable[..., Any]]:
    """The expressions as mpmath functions (lambdify once)."""
    s = SYM
    base = [s.S, s.K, s.eps, s.delta, s.eta]
    return {
        "sensitivity_set_size": _mp(
            sensitivity_set_size_expr(), [s.K_prime, s.eta, s.eta_star, s.delta]
        ),
        "sample_size": _mp(sample_size_expr(False), base),
        "sample_size_tight": _mp(sample_size_expr(True), base),
        "certified_eps": _mp(certified_eps_expr(False), [*base, s.m]),
        "certified_eps_tight": _mp(certified_eps_expr(True), [*base, s.m]),
        "lambda_star": _mp(lambda_star_expr(), [s.eta, s.eta_star]),
        "kappa": _mp(kappa_expr(), [s.eta, s.eta_star, s.delta]),
        "delta_hat": _mp(delta_hat_expr(), [s.delta_bar, s.kappa]),
        "eps_prime": _mp(eps_prime_expr(), [s.eps, s.L]),
        "layer_eps": _mp(layer_eps_expr(), [s.eps, s.L, s.delta_hat_product]),
        "network_eps": _mp(network_eps_expr(), [s.L, s.delta_hat_product, s.eps_l]),
        "default_tau": _mp(default_tau_expr(), [s.delta]),
        "amplified_log_ratio": _mp(amplified_log_ratio_expr(), [s.eta, s.delta, s.tau]),
        "size_term": _mp(
            size_term_expr(), [s.S_i, s.K, s.eps, s.delta, s.eta, s.L, s.delta_hat_product]
        ),
    }


def _agree_sample_sizes(rng: np.random.Generator, record: _Record) -> None:
    import mpmath

    f, mpf = _compiled(), mpmath.mpf
    S, K, kp = (
        float(rng.uniform(0.5, 50.0)),
        float(rng.uniform(0.2, 5.0)),
        float(rng.uniform(0.5, 6.0)),
    )
    eps, delta = float(rng.uniform(0.01, 0.99)), float(rng.uniform(1e-3, 0.5))
    eta = int(rng.integers(1, 5000))
    eta_star, m = int(rng.integers(1, eta + 1)), int(rng.integers(1, 10**9))
    b = [mpf(S), mpf(K), mpf(eps), mpf(delta), eta]
    record(
        "sensitivity_set_size",
        _sensitivity_set_size(eta, eta_star, delta, kp),
        f["sensitivity_set_size"](mpf(kp), eta, eta_star, mpf(delta)),
    )
    record("sample_size", _sample_size(S, eps, delta, eta, K), f["sample_size"](*b))
    record(
        "sample_size_tight",
        _sample_size(S, eps, delta, eta, K, tight=True),
        f["sample_size_tight"](*b),
    )
    record("certified_eps", _certified_eps(m, S, delta, eta, K), f["certified_eps"](*b, m))
    record(
        "certified_eps_tight",
        _certified_eps(m, S, delta, eta, K, tight=True),
        f["certified_eps_tight"](*b, m),
    )
    record("lambda_star", _eb.lambda_star(eta, eta_star), f["lambda_star"](eta, eta_star))
    record("kappa", _eb.kappa(eta, eta_star, delta), f["kappa"](eta, eta_star, mpf(delta)))
    tau = int(rng.integers(1, 12))
    record("default_tau", _amp.default_tau(delta), f["default_tau"](mpf(delta)))
    record(
        "amplified_log_ratio",
        _amp.amplified_log_ratio(eta, delta, tau),
        f["amplified_log_ratio"](eta, mpf(delta), tau),
    )


def _agree_error_budget(rng: np.random.Generator, record: _Record) -> None:
    import mpmath

    f, mpf, s = _compiled(), mpmath.mpf, SYM
    K, eps, delta = (
        float(rng.uniform(0.2, 5.0)),
        float(rng.uniform(0.01, 0.99)),
        float(rng.uniform(1e-3, 0.5)),
    )
    eta, L = int(rng.integers(1, 5000)), int(rng.integers(2, 7))
    kap = _eb.kappa(eta, max(1, eta // 2), delta)
    for mu in rng.uniform(1.0, 20.0, size=L - 1):
        record("delta_hat", _eb.delta_hat([mu, 1.0], kap), f["delta_hat"](mpf(mu), mpf(kap)))
    dh = rng.uniform(1.0, 300.0, size=L - 1)
    products = _eb.delta_hat_product(dh)
    eps_l = _eb.layer_eps(eps, products)
    record("eps_prime", _eb.eps_prime(eps, L - 1), f["eps_prime"](mpf(eps), L))
    record(
        "network_eps",
        _eb.network_eps(eps_l, products),
        max(
            f["network_eps"](L, mpf(float(d)), mpf(float(e)))
            for d, e in zip(products, eps_l, strict=True)
        ),
    )
    s_i = rng.uniform(0.0, 40.0, size=L - 1)
    sizes = _compressed_size_bound([[float(v)] for v in s_i], products, eps, delta, eta, K)
    layer_syms = [s.delta_hat_indexed[k] for k in range(2, L + 1)]
    for idx in range(L - 1):
        prod = delta_hat_product_expr().subs({s.ell: idx + 2, s.L: L}).doit()
        value = _mp(prod, layer_syms)(*(mpf(float(v)) for v in dh))
        record("delta_hat_product", products[idx], value)
        product = mpf(float(products[idx]))
        record("layer_eps", eps_l[idx], f["layer_eps"](mpf(eps), L, product))
        record(
            "size_term",
            sizes[idx],
            f["size_term"](mpf(float(s_i[idx])), mpf(K), mpf(eps), mpf(delta), eta, L, product),
        )


def _agree_expected_edges(rng: np.random.Generator, record: _Record) -> None:
    import mpmath

    s, mpf = SYM, mpmath.mpf
    n_edges = int(rng.integers(1, 30))
    q = rng.dirichlet(np.ones(n_edges))
    draws = int(rng.integers(0, 400))
    ede = expected_distinct_edges_expr().subs(s.n, n_edges).doit()
    f_ede = _mp(ede, [s.m, *(s.q[i] for i in range(1, n_edges + 1))])
    record(
        "expected_distinct_edges",
        _expected_distinct_edges(q, draws),
        f_ede(draws, *(mpf(float(v)) for v in q)),
    )


@functools.lru_cache(maxsize=1)
def _all_checks() -> tuple[DerivationCheck, ...]:
    return (
        check_log_term_positive(),
        check_bernstein_exponent(),
        check_failure_probability(),
        check_eight_form_condition(),
        check_theorem_size_term(),
        check_certified_eps_inverse(tight=False),
        check_certified_eps_inverse(tight=True),
        check_numeric_agreement(),
    )


def all_derivation_checks() -> list[DerivationCheck]:
    r"""Every derivation check, in the order of the argument (computed once, then cached).

    .. math::

        \log\tfrac{8\eta}{\delta} > 0 \;\to\;
        E = \tfrac{m\varepsilon^2}{K\mathcal{S}(6+2\varepsilon)} \;\to\;
        E \ge \log\tfrac{8\eta}{\delta} \;\to\; \varepsilon \le 1 \;\to\;
        \text{size term} \;\to\; \varepsilon(m)

    Examples
    --------
    >>> [c.proved for c in all_derivation_checks()]
    [True, True, True, True, True, True, True, True]
    """
    return list(_all_checks())
