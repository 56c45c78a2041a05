r"""CoreNet's formulas as sympy expressions, their LaTeX, and derivation checks sympy proves.

The numeric functions of :mod:`netcoreset.bounds` compute the paper's quantities with floats;
this module states the same quantities once more, as :mod:`sympy` expressions written with the
paper's symbols (:data:`SYM`), so that

* the documentation and the command line can print them (:func:`to_latex`), and
* the steps that lead from Bernstein's inequality to the sample size, from the per-layer
  error :math:`\varepsilon_\ell` to the size theorem, and from the sample size back to the
  certified :math:`\varepsilon` are *proved* by sympy (:func:`all_derivation_checks`): every
  check reduces its claim to an identity or an inequality that sympy decides exactly, with
  no sampling, except :func:`check_numeric_agreement` and
  :func:`check_theory_numeric_agreement`, which compare the numeric code with these
  expressions by evaluation and say so (:attr:`DerivationCheck.kind` is ``"evaluation"``).

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
    "error_recursion_expr",
    "eps_prime_exact_expr",
    "effective_eta_expr",
    "union_bound_total_expr",
    "candidate_log_ratio_expr",
    "bernstein_exponent_general_expr",
    "check_error_split",
    "check_error_recursion_step",
    "check_error_recursion_induction",
    "check_paper_split_within_eps",
    "check_exact_split",
    "check_union_bound_total",
    "check_bernstein_constant",
    "check_candidate_union",
    "check_order_statistic_duality",
    "check_theory_numeric_agreement",
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
        ``True`` when the check succeeded: for a ``"proof"``, sympy reduced the claim to a
        true statement; for an ``"evaluation"`` (:func:`check_numeric_agreement`), every
        evaluation agreed to the tolerance, which is evidence, not a proof.
    residual : sympy expression or str
        What is left: for an identity :math:`A = B` the simplified :math:`A - B` (``0`` when
        proved); for a set equality the symmetric difference (``EmptySet``); for
        :func:`check_log_term_positive` the gap that sympy shows positive; for
        :func:`check_numeric_agreement` a text with the largest relative difference.
    kind : {"proof", "evaluation"}
        ``"proof"``: sympy decided the claim exactly, for all values allowed by the
        assumptions. ``"evaluation"``: the claim was checked at finitely many points only.

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
    kind: str = "proof"

    def __post_init__(self) -> None:
        if self.kind not in ("proof", "evaluation"):
            raise ValueError(f"kind must be 'proof' or 'evaluation'; got {self.kind!r}")


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
        kind="evaluation",
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
        *_theory_fidelity_checks(),
    )


def all_derivation_checks() -> list[DerivationCheck]:
    r"""Every derivation check, in the order of the argument (computed once, then cached).

    .. math::

        \log\tfrac{8\eta}{\delta} > 0 \;\to\;
        E = \tfrac{m\varepsilon^2}{K\mathcal{S}(6+2\varepsilon)} \;\to\;
        E \ge \log\tfrac{8\eta}{\delta} \;\to\; \varepsilon \le 1 \;\to\;
        \text{size term} \;\to\; \varepsilon(m) \;\to\;
        \text{error recursion} \;\to\; \text{union bound} \;\to\; \text{held-out bounds}

    Examples
    --------
    >>> checks = all_derivation_checks()
    >>> all(c.proved for c in checks), [c.kind for c in checks].count("evaluation")
    (True, 2)
    """
    return list(_all_checks())


# --------------------------------------------------------------------------------------------
# Theory fidelity: the error recursion, the union bound, CoreNet++, held-out certificates
# --------------------------------------------------------------------------------------------


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


def effective_eta_expr() -> sp.Expr:
    r""":math:`\eta_{\mathrm{eff}}\tau`, the :math:`\eta` of :math:`\log(8\eta/\delta)` once the
    signed-input events (:math:`s \in \{0, 1\}`) and CoreNet++'s candidates are counted.

    .. math::

        \eta_{\mathrm{eff}}\,\tau = (\eta + s\,\eta^2)\,\tau

    See Also
    --------
    netcoreset.bounds.effective_eta : the numeric function.

    Examples
    --------
    >>> effective_eta_expr()
    \tau*(\eta + \eta^{2}*s)
    """
    s, eta2 = sp.Symbol("s", nonnegative=True), sp.Symbol(r"\eta^{2}", positive=True)
    return SYM.tau * (SYM.eta + s * eta2)


def union_bound_total_expr() -> sp.Expr:
    r"""The union bound's total over every event (:mod:`netcoreset.bounds.union_bound`).

    .. math::

        2\eta_{\mathrm{eff}}\tau\cdot\frac{\delta}{4\eta_{\mathrm{eff}}\tau}
        + 2\eta_{\mathrm{eff}}n\cdot\frac{\delta}{8\eta_{\mathrm{eff}}n} + \frac{\delta}{4}

    See Also
    --------
    netcoreset.bounds.failure_budget : the table of events.

    Examples
    --------
    >>> union_bound_total_expr()
    \delta
    """
    e = sp.Symbol(r"\eta_{\mathrm{eff}}", positive=True)
    sampling = 2 * e * SYM.tau * (SYM.delta / (4 * e * SYM.tau))
    lemma1 = 2 * e * SYM.n * (SYM.delta / (8 * e * SYM.n))
    return sampling + lemma1 + SYM.delta / 4


def candidate_log_ratio_expr() -> sp.Expr:
    r"""Growth of a CoreNet++ candidate's log term under the union bound over :math:`\tau`.

    .. math::

        \rho^{\cup}_\tau = \frac{\log(8\eta\tau/\delta)}{\log(8\eta/\delta)}

    See Also
    --------
    netcoreset.bounds.candidate_log_ratio : the numeric function.

    Examples
    --------
    >>> sp.simplify(candidate_log_ratio_expr().subs(SYM.tau, 1))
    1
    """
    return sp.log(8 * SYM.eta * SYM.tau / SYM.delta) / _log8()


def bernstein_exponent_general_expr() -> sp.Expr:
    r"""The Bernstein exponent of one part with the coverage constant :math:`C`
    (:math:`g_j(x) \le C s_j`): range :math:`C\mathcal{S}z_+`, variance
    :math:`\le C\mathcal{S}z_+^2`.

    .. math::

        E_C = \frac{m\,\varepsilon^2}{C\mathcal{S}\,(2 + 2\varepsilon/3)}

    See Also
    --------
    netcoreset.bounds.sample_size : the numeric function.

    Examples
    --------
    >>> bernstein_exponent_general_expr()
    \varepsilon**2*m/(C*\mathcal{S}*(2*\varepsilon/3 + 2))
    """
    C = sp.Symbol("C", positive=True)
    return SYM.m * SYM.eps**2 / (C * SYM.S * (2 + 2 * SYM.eps / 3))


_FORMULAS.update(
    {
        "error_recursion": (r"R_{\ell}", error_recursion_expr),
        "eps_prime_exact": (r"\varepsilon'_{\mathrm{exact}}", eps_prime_exact_expr),
        "effective_eta": (r"\eta_{\mathrm{eff}}\tau", effective_eta_expr),
        "union_bound_total": (r"\delta_{\mathrm{total}}", union_bound_total_expr),
        "candidate_log_ratio": (r"\rho^{\cup}_{\tau}", candidate_log_ratio_expr),
        "bernstein_exponent_general": (r"E_{C}", bernstein_exponent_general_expr),
    }
)
FORMULA_NAMES = tuple(_FORMULAS)


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


def check_union_bound_total() -> DerivationCheck:
    r"""The events of the union bound add up to :math:`\delta`, with signed inputs and
    CoreNet++ counted, and their levels give the sample size's and :math:`|S|`'s logarithms.

    .. math::

        2\eta_{\mathrm{eff}}\tau\,\frac{\delta}{4\eta_{\mathrm{eff}}\tau}
        + 2\eta_{\mathrm{eff}}n\,\frac{\delta}{8\eta_{\mathrm{eff}}n} + \frac{\delta}{4}
        = \delta,\qquad
        2e^{-E} = \frac{\delta}{4\eta_{\mathrm{eff}}\tau} \iff
        E = \log\frac{8\eta_{\mathrm{eff}}\tau}{\delta},\qquad
        e^{-|S|/K'} = \frac{\delta}{8\eta_{\mathrm{eff}}n} \iff
        |S| = K'\log\frac{8\eta_{\mathrm{eff}}n}{\delta}.

    Examples
    --------
    >>> check_union_bound_total().proved
    True
    """
    total_ok, total_res = _is_zero(union_bound_total_expr() - SYM.delta)
    e = sp.Symbol(r"\eta_{\mathrm{eff}}", positive=True)
    E = sp.Symbol("E", positive=True)
    sol_E = sp.solve(sp.Eq(2 * sp.exp(-E), SYM.delta / (4 * e * SYM.tau)), E)
    level_ok = (
        len(sol_E) == 1
        and _is_zero(sp.expand_log(sol_E[0] - sp.log(8 * e * SYM.tau / SYM.delta), force=True))[0]
    )
    s_size = sp.Symbol("s", positive=True)
    sol_S = sp.solve(sp.Eq(sp.exp(-s_size / SYM.K_prime), SYM.delta / (8 * e * SYM.n)), s_size)
    s_ok = (
        len(sol_S) == 1
        and _is_zero(
            sp.expand_log(sol_S[0] - SYM.K_prime * sp.log(8 * e * SYM.n / SYM.delta), force=True)
        )[0]
    )
    return DerivationCheck(
        claim="sampling (2 eta_eff tau events of delta/(4 eta_eff tau)) + Lemma 1 "
        "(2 eta_eff n events of delta/(8 eta_eff n)) + Delta-hat (delta/4) = delta; the "
        "levels solve to E = log(8 eta_eff tau/delta) and |S| = K' log(8 eta_eff n/delta)",
        assumptions="eta_eff = eta + s eta^2 (s = 1 for signed inputs), tau, n >= 1, delta, K' > 0",
        proved=bool(total_ok and level_ok and s_ok),
        residual=total_res,
    )


def check_bernstein_constant() -> DerivationCheck:
    r"""Bernstein with the coverage constant :math:`C`, and what :math:`C = 3K` costs.

    Range :math:`M = C\mathcal{S}z_+`, variance :math:`\sigma^2 \le C\mathcal{S}z_+^2`,
    :math:`t = m\varepsilon z_+`:

    .. math::

        \frac{t^2/2}{m\sigma^2 + Mt/3} = \frac{m\varepsilon^2}{C\mathcal{S}(2+2\varepsilon/3)},
        \qquad E_{3K} = \frac{m\varepsilon^2}{K\mathcal{S}(6+2\varepsilon)},
        \qquad \frac{m_{C=3K}}{m_{C=K}} = 3 .

    Lemma 1's argument gives :math:`g_j(x) \le K s_j` on the coverage event, so the split of
    :func:`check_error_split` (sampling on the original activations) needs only :math:`C = K`.

    Examples
    --------
    >>> check_bernstein_constant().proved
    True
    """
    C = sp.Symbol("C", positive=True)
    M = C * SYM.S * SYM.z
    sigma2 = C * SYM.S * SYM.z**2
    t = SYM.m * SYM.eps * SYM.z
    exponent = (SYM.t**2 / 2 / (SYM.m * sigma2 + M * SYM.t / 3)).subs(SYM.t, t)
    ok1, res1 = _is_zero(exponent - bernstein_exponent_general_expr())
    ok2, res2 = _is_zero(
        bernstein_exponent_general_expr().subs(C, 3 * SYM.K) - bernstein_exponent_expr()
    )
    level = sp.Symbol(r"\ell_{E}", positive=True)
    m_of = sp.solve(sp.Eq(bernstein_exponent_general_expr(), level), SYM.m)[0]
    ok3, res3 = _is_zero(m_of.subs(C, 3 * SYM.K) / m_of.subs(C, SYM.K) - 3)
    return DerivationCheck(
        claim="Bernstein with range C S z and variance C S z^2 gives E_C = m eps^2/(C S "
        "(2 + 2 eps/3)); C = 3K gives the paper's m eps^2/(K S (6 + 2 eps)), three times "
        "the draws of C = K",
        assumptions="C, K, S, z, m, eps > 0",
        proved=bool(ok1 and ok2 and ok3),
        residual=res1 + res2 + res3,
    )


def check_candidate_union() -> DerivationCheck:
    r"""CoreNet++: the union bound over :math:`\tau` candidates costs
    :math:`\log(8\eta\tau/\delta)`, never less than one candidate's log term.

    .. math::

        \tau\cdot\frac{\delta}{4\eta\tau} = \frac{\delta}{4\eta},\qquad
        \log\frac{8\eta\tau}{\delta} - \log\frac{8\eta}{\delta} = \log\tau \ge 0 .

    Examples
    --------
    >>> check_candidate_union().proved
    True
    """
    ok1, res1 = _is_zero(SYM.tau * SYM.delta / (4 * SYM.eta * SYM.tau) - SYM.delta / (4 * SYM.eta))
    diff = sp.expand_log(sp.log(8 * SYM.eta * SYM.tau / SYM.delta) - _log8(), force=True)
    ok2, res2 = _is_zero(diff - sp.log(SYM.tau))
    b = sp.Symbol("b", nonnegative=True)  # tau = 1 + b >= 1
    nonneg = bool(sp.log(SYM.tau).subs(SYM.tau, 1 + b).is_nonnegative)
    return DerivationCheck(
        claim="tau candidates at delta/(4 eta tau) each spend delta/(4 eta) per part; the log "
        "term grows by log(tau) >= 0",
        assumptions="eta, delta > 0; tau >= 1 integer",
        proved=bool(ok1 and ok2 and nonneg),
        residual=res1 + res2,
    )


def check_order_statistic_duality(max_n: int = 6) -> DerivationCheck:
    r"""The binomial–Beta duality behind the held-out certificates, for every
    :math:`1 \le k \le n \le` ``max_n``.

    .. math::

        \sum_{j=0}^{k-1}\binom{n}{j}p^j(1-p)^{n-j}
        = \int_p^1 \frac{t^{k-1}(1-t)^{n-k}}{B(k, n-k+1)}\,dt ,

    i.e. :math:`\mathbb{P}(\mathrm{Bin}(n,p) \le k-1) = \mathbb{P}(\mathrm{Beta}(k, n-k+1) > p)`,
    which makes the Clopper–Pearson bound exact and fixes the rank of
    :func:`~netcoreset.bounds.certificate.order_statistic_rank`. sympy integrates each case
    exactly (a proof for each listed :math:`n`, not for all :math:`n`).

    Examples
    --------
    >>> check_order_statistic_duality(3).proved
    True
    """
    p, t = sp.symbols("p t", positive=True)
    worst = sp.Integer(0)
    ok = True
    for n in range(1, max_n + 1):
        for k in range(1, n + 1):
            lhs = sum(sp.binomial(n, j) * p**j * (1 - p) ** (n - j) for j in range(k))
            beta_kn = sp.factorial(k - 1) * sp.factorial(n - k) / sp.factorial(n)  # B(k, n-k+1)
            dens = t ** (k - 1) * (1 - t) ** (n - k) / beta_kn
            rhs = sp.integrate(sp.expand(dens), (t, p, 1))
            res = sp.simplify(sp.expand(lhs - rhs))
            if res != 0:
                ok, worst = False, res
    return DerivationCheck(
        claim=f"P(Bin(n, p) <= k-1) = P(Beta(k, n-k+1) > p) for all 1 <= k <= n <= {max_n}",
        assumptions="0 < p < 1",
        proved=ok,
        residual=worst,
    )


def check_theory_numeric_agreement(n_trials: int = 20, seed: int = 1) -> DerivationCheck:
    r"""BY EVALUATION: the numeric twins of this section agree with the expressions.

    :func:`~netcoreset.bounds.eps_prime_exact`, :func:`~netcoreset.bounds.error_recursion`
    (one step at a time), :func:`~netcoreset.bounds.effective_eta`,
    :func:`~netcoreset.bounds.candidate_log_ratio` and the union bound's total
    (:func:`~netcoreset.bounds.failure_budget` at the theorem's :math:`|S|`, which must not
    exceed :math:`\delta`) on ``n_trials`` random inputs, relative tolerance :math:`10^{-12}`.

    .. math::

        \max \frac{|x_{\text{numeric}} - x_{\text{sympy}}|}{\max(|x_{\text{numeric}}|,
        |x_{\text{sympy}}|)} \le 10^{-12}

    Examples
    --------
    >>> check_theory_numeric_agreement(n_trials=3).kind
    'evaluation'
    """
    from .error_budget import eps_prime_exact, error_recursion
    from .union_bound import effective_eta, failure_budget

    rng = np.random.default_rng(seed)
    worst = 0.0
    s_sym, eta2 = sp.Symbol("s", nonnegative=True), sp.Symbol(r"\eta^{2}", positive=True)
    r_prev = sp.Symbol(r"R_{\ell-1}", nonnegative=True)
    f_ep = sp.lambdify([SYM.eps, SYM.L], eps_prime_exact_expr())
    f_rec = sp.lambdify([SYM.delta_hat, SYM.eps_l, r_prev], error_recursion_expr())
    f_eta = sp.lambdify([SYM.tau, SYM.eta, s_sym, eta2], effective_eta_expr())
    f_rho = sp.lambdify([SYM.eta, SYM.delta, SYM.tau], candidate_log_ratio_expr())
    budget_ok = True
    for _ in range(n_trials):
        widths = [int(v) for v in rng.integers(1, 400, size=int(rng.integers(2, 6)))]
        eps, delta = float(rng.uniform(0.01, 0.99)), float(rng.uniform(1e-3, 0.5))
        tau, signed = int(rng.integers(1, 9)), bool(rng.integers(0, 2))
        L = len(widths)
        worst = max(worst, _rel(eps_prime_exact(eps, L - 1), f_ep(eps, L)))
        e_l = rng.uniform(0, 0.05, size=L - 1)
        d_l = rng.uniform(1.0, 3.0, size=L - 1)
        r = 0.0
        for e, d in zip(e_l, d_l, strict=True):
            r = float(f_rec(d, e, r))
        if r <= 1.0:
            worst = max(worst, _rel(error_recursion(e_l, d_l), r))
        eta_sym = f_eta(tau, sum(widths[1:]), int(signed), widths[1])
        worst = max(worst, _rel(effective_eta(widths, signed_inputs=signed, tau=tau), eta_sym))
        eta = sum(widths[1:])
        worst = max(worst, _rel(_amp.candidate_log_ratio(eta, delta, tau), f_rho(eta, delta, tau)))
        fb = failure_budget(widths, delta, signed_inputs=signed, tau=tau)
        budget_ok = budget_ok and fb.total <= delta * (1 + 1e-12)
    return DerivationCheck(
        claim=f"BY EVALUATION (not a proof): eps_prime_exact, error_recursion, effective_eta, "
        f"candidate_log_ratio agree with their sympy twins to 1e-12, and the union bound at "
        f"the theorem's |S| is <= delta, on {n_trials} random inputs (seed {seed})",
        assumptions="2 to 5 layers of width 1..399, eps in [0.01, 0.99], delta in [0.001, 0.5], "
        "tau in 1..8",
        proved=bool(worst <= 1e-12 and budget_ok),
        residual=f"max relative difference {worst:.3g}",
        kind="evaluation",
    )


def _theory_fidelity_checks() -> tuple[DerivationCheck, ...]:
    return (
        check_error_split(),
        check_error_recursion_step(),
        check_error_recursion_induction(),
        check_paper_split_within_eps(),
        check_exact_split(),
        check_union_bound_total(),
        check_bernstein_constant(),
        check_candidate_union(),
        check_order_statistic_duality(),
        check_theory_numeric_agreement(),
    )
