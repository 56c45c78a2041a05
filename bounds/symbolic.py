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
  expressions by evaluation and say so (:attr:`DerivationCheck.kind` is ``"evaluation"``
  and :attr:`DerivationCheck.proved` is ``False``; :attr:`DerivationCheck.passed` says
  whether a check of either kind succeeded).

sympy is imported here only; ``import netcoreset.bounds`` stays fast and loads this module on
first access of ``netcoreset.bounds.symbolic``.

Examples
--------
>>> from netcoreset.bounds import symbolic
>>> print(symbolic.to_latex("eps_prime"))
\varepsilon' = \frac{\varepsilon}{2 \left(L - 1\right)}
>>> checks = symbolic.all_derivation_checks()
>>> all(c.passed for c in checks), sorted({c.status for c in checks})
(True, ['evaluated', 'proved'])
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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
    "GeneralizationSymbols",
    "GSYM",
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
    "count_bits_expr",
    "positions_bits_expr",
    "fixed_width_bits_expr",
    "count_table_bits_expr",
    "multinomial_bits_expr",
    "arithmetic_coding_bits_expr",
    "codebook_bits_expr",
    "permutation_credit_bits_expr",
    "check_union_bound_cost",
    "check_pinsker",
    "check_chernoff_kl",
    "check_forms_agree_at_zero_errors",
    "check_margin_shift",
    "check_corollary_constants",
    "check_layer_code_kraft",
    "check_generalization_numeric_agreement",
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
    r"""The outcome of one derivation check: proved by sympy, or only evaluated.

    Construct it with ``proved`` = whether the check succeeded; for an ``"evaluation"``
    that success is stored as :attr:`passed` and :attr:`proved` becomes ``False``, so
    ``proved`` is ``True`` only for a claim sympy decided exactly.

    Attributes
    ----------
    claim : str
        What is shown (plain text with the formulas).
    assumptions : str
        What the symbols are assumed to satisfy.
    proved : bool
        ``True`` only for a ``"proof"`` that succeeded: sympy reduced the claim to a true
        statement for all values the assumptions allow. Always ``False`` for an
        ``"evaluation"``, even a successful one (see :attr:`passed`).
    residual : sympy expression or str
        What is left: for an identity :math:`A = B` the simplified :math:`A - B` (``0`` when
        proved); for a set equality the symmetric difference (``EmptySet``); for
        :func:`check_log_term_positive` the gap that sympy shows positive; for
        :func:`check_numeric_agreement` a text with the largest relative difference.
    kind : {"proof", "evaluation"}
        ``"proof"``: sympy decides the claim exactly. ``"evaluation"``: the claim is checked
        at finitely many points only, which is evidence, not a proof.
    passed : bool
        Whether the check succeeded, whatever its kind: a proof that went through or an
        evaluation that agreed everywhere it looked.

    .. math::

        A = B \text{ is proved} \iff \operatorname{simplify}(A - B) = 0

    Examples
    --------
    >>> DerivationCheck("1 = 1", "none", True, sp.Integer(0)).status
    'proved'
    >>> ev = DerivationCheck("f(2) = 4", "none", True, "max rel. diff 0", kind="evaluation")
    >>> ev.proved, ev.passed, ev.status
    (False, True, 'evaluated')
    """

    claim: str
    assumptions: str
    proved: bool
    residual: Any
    kind: str = "proof"
    passed: bool = field(init=False)

    def __post_init__(self) -> None:
        if self.kind not in ("proof", "evaluation"):
            raise ValueError(f"kind must be 'proof' or 'evaluation'; got {self.kind!r}")
        object.__setattr__(self, "passed", bool(self.proved))
        object.__setattr__(self, "proved", self.passed and self.kind == "proof")

    @property
    def status(self) -> str:
        """``"proved"`` (a proof that went through), ``"evaluated"`` (an evaluation that
        agreed everywhere it looked, not a proof) or ``"failed"``."""
        if not self.passed:
            return "failed"
        return "proved" if self.kind == "proof" else "evaluated"


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
    >>> check_numeric_agreement(n_trials=2).passed
    True
    """
    return _agreement(
        (_agree_sample_sizes, _agree_error_budget, _agree_expected_edges),
        n_trials,
        seed,
        rtol,
        claim=f"BY EVALUATION (not a proof): numeric bounds functions agree with the sympy "
        f"expressions to relative {rtol:g} on {n_trials} random inputs (seed {seed})",
        assumptions="S in [0.5, 50], K in [0.2, 5], K' in [0.5, 6], eps in [0.01, 0.99], "
        "delta in [0.001, 0.5], eta in [1, 5000], 2 <= L <= 6, m in [1, 1e9]",
    )


def _agreement(
    checks: Sequence[Callable[[np.random.Generator, _Record], None]],
    n_trials: int,
    seed: int,
    rtol: float,
    *,
    claim: str,
    assumptions: str,
) -> DerivationCheck:
    """Run each agreement check ``n_trials`` times at 40 digits and report the worst
    relative difference (an evaluation, not a proof)."""
    import mpmath

    if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1:
        raise ValueError(f"n_trials must be an integer >= 1; got {n_trials!r}")
    if not (isinstance(rtol, (int, float)) and rtol > 0 and math.isfinite(rtol)):
        raise ValueError(f"rtol must be a finite real number > 0; got {rtol!r}")
    rng = np.random.default_rng(seed)
    worst = _Worst()
    with mpmath.workdps(_DIGITS):
        for _ in range(n_trials):
            for check in checks:
                check(rng, worst.record)
    residual = f"max relative difference {worst.value:.3g}" + (
        f" ({worst.name})" if worst.name else ""
    )
    return DerivationCheck(
        claim=claim,
        assumptions=assumptions,
        proved=bool(worst.value <= rtol and math.isfinite(worst.value)),
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
        *_generalization_checks(),
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

    Then the generalisation bounds: :math:`\ln k` for :math:`k` choices, Pinsker (Hoeffding
    :math:`\ge` kl), Chernoff (kl :math:`\ge` binomial), the forms at :math:`k = 0`, the
    margin shift, the corollary's constants, the layer code's Kraft sum, and the numeric
    agreement.

    Examples
    --------
    >>> checks = all_derivation_checks()
    >>> len(checks), all(c.passed for c in checks), sum(c.proved for c in checks)
    (26, True, 22)
    >>> [c.status for c in checks].count("evaluated")
    4
    """
    return list(_all_checks())


# ============================================================================================
# Generalisation bounds and description lengths
# (twins of netcoreset.bounds.generalization and netcoreset.bounds.description_length)
# ============================================================================================


@dataclass(frozen=True)
class GeneralizationSymbols:
    r"""The symbols of the generalisation bounds (sympy symbols; each name is its LaTeX).

    .. math::

        \hat L,\ p,\ c,\ k,\ n,\ \ell(g),\ w,\ q,\ r,\ \hat L_\gamma,\ \gamma,\ M,\ N,\ b,\
        \delta_c,\ H

    :math:`\hat L` is the empirical error (:math:`k/n`), :math:`p` the true error, :math:`c`
    the level of the kl inverse, :math:`\ell(g)` a code length in bits, :math:`w` a prior
    weight, :math:`q` a number of parameters (non-zeros), :math:`r` a number of levels,
    :math:`M = \max_i\|f(x_i)\|_2`, :math:`N` a layer's slots, :math:`b` bits per codebook
    value, :math:`\delta_c` the compression's share of :math:`\delta`, :math:`H` the number
    of hidden layers. ``k`` (training errors, :math:`\ge 0`) and ``k_choices`` (a number of
    options, :math:`\ge 1`) print alike but are different symbols.

    Examples
    --------
    >>> GSYM.L_hat.name, GSYM.k.is_nonnegative, GSYM.k_choices.is_positive
    ('\\hat{L}', True, True)
    """

    L_hat: sp.Symbol  #: empirical error k/n
    p: sp.Symbol  #: true error
    c: sp.Symbol  #: level of the kl inverse
    k: sp.Symbol  #: training errors
    n: sp.Symbol  #: training points
    ell: sp.Symbol  #: code length in bits
    k_choices: sp.Symbol  #: number of equally weighted options
    w: sp.Symbol  #: prior weight
    q: sp.Symbol  #: number of parameters / non-zeros
    r: sp.Symbol  #: number of levels
    L_gamma: sp.Symbol  #: empirical margin error
    gamma: sp.Symbol  #: margin
    M: sp.Symbol  #: max output norm on the training points
    N: sp.Symbol  #: slots of a layer
    b: sp.Symbol  #: bits per codebook value
    delta_c: sp.Symbol  #: the compression's share of delta
    H: sp.Symbol  #: number of hidden layers
    i: sp.Symbol  #: summation index
    t: sp.Symbol  #: the Chernoff variable t = exp(-lambda)
    counts: sp.IndexedBase  #: symbol counts c_i
    widths: sp.IndexedBase  #: hidden widths eta_i


def _nonneg(name: str, **kw: bool) -> sp.Symbol:
    return sp.Symbol(name, nonnegative=True, **kw)


GSYM = GeneralizationSymbols(
    L_hat=_pos(r"\hat{L}"),
    p=_pos("p"),
    c=_nonneg("c"),
    k=_nonneg("k", integer=True),
    n=_pos("n", integer=True),
    ell=_nonneg(r"\ell(g)"),
    k_choices=_pos("k", integer=True),
    w=_pos("w"),
    q=_pos("q", integer=True),
    r=_pos("r", integer=True),
    L_gamma=_nonneg(r"\hat{L}_{\gamma}"),
    gamma=_pos(r"\gamma"),
    M=_pos("M"),
    N=_pos("N", integer=True),
    b=_pos("b"),
    delta_c=_pos(r"\delta_{c}"),
    H=_pos("H", integer=True),
    i=_nonneg("i", integer=True),
    t=_pos("t"),
    counts=sp.IndexedBase("c", nonnegative=True),
    widths=sp.IndexedBase(r"\eta", positive=True),
)


def _log2(expr: sp.Expr) -> sp.Expr:
    return sp.log(expr) / sp.log(2)


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


def count_bits_expr() -> sp.Expr:
    r"""Twin of :func:`~netcoreset.bounds.count_bits`.

    .. math::

        \lceil\log_2(N+1)\rceil

    See Also
    --------
    netcoreset.bounds.count_bits : the numeric function.

    Examples
    --------
    >>> count_bits_expr().subs(GSYM.N, 4)
    3
    """
    return sp.ceiling(_log2(GSYM.N + 1))


def positions_bits_expr() -> sp.Expr:
    r"""Twin of :func:`~netcoreset.bounds.positions_bits`.

    .. math::

        \log_2\binom Nq

    See Also
    --------
    netcoreset.bounds.positions_bits : the numeric function.

    Examples
    --------
    >>> sp.simplify(positions_bits_expr().subs({GSYM.N: 4, GSYM.q: 1}))
    2
    """
    return _log2(sp.binomial(GSYM.N, GSYM.q))


def fixed_width_bits_expr() -> sp.Expr:
    r"""Twin of :func:`~netcoreset.bounds.fixed_width_bits`.

    .. math::

        q\,\lceil\log_2 r\rceil

    See Also
    --------
    netcoreset.bounds.fixed_width_bits : the numeric function.

    Examples
    --------
    >>> fixed_width_bits_expr().subs({GSYM.q: 10, GSYM.r: 5})
    30
    """
    return GSYM.q * sp.ceiling(_log2(GSYM.r))


def count_table_bits_expr() -> sp.Expr:
    r"""Twin of :func:`~netcoreset.bounds.count_table_bits` ("composition").

    .. math::

        \log_2\binom{q+r-1}{r-1}

    See Also
    --------
    netcoreset.bounds.count_table_bits : the numeric function.

    Examples
    --------
    >>> sp.simplify(count_table_bits_expr().subs({GSYM.q: 3, GSYM.r: 2}))
    2
    """
    return _log2(sp.binomial(GSYM.q + GSYM.r - 1, GSYM.r - 1))


def multinomial_bits_expr() -> sp.Expr:
    r"""Twin of :func:`~netcoreset.bounds.multinomial_bits`.

    .. math::

        \log_2\frac{q!}{\prod_{i=1}^{r} c_i!}

    See Also
    --------
    netcoreset.bounds.multinomial_bits : the numeric function.

    Examples
    --------
    >>> multinomial_bits_expr().has(GSYM.q)
    True
    """
    i, c = GSYM.i, GSYM.counts
    return _log2(sp.factorial(GSYM.q) / sp.Product(sp.factorial(c[i]), (i, 1, GSYM.r)))


def arithmetic_coding_bits_expr() -> sp.Expr:
    r"""Twin of :func:`~netcoreset.bounds.arithmetic_coding_bits` (default overhead).

    .. math::

        \log_2\binom{q+r-1}{r-1} + \log_2\frac{q!}{\prod_i c_i!} + 2

    See Also
    --------
    netcoreset.bounds.arithmetic_coding_bits : the numeric function.

    Examples
    --------
    >>> arithmetic_coding_bits_expr().has(GSYM.counts)
    True
    """
    return count_table_bits_expr() + multinomial_bits_expr() + 2


def codebook_bits_expr() -> sp.Expr:
    r"""Twin of :func:`~netcoreset.bounds.codebook_bits` ("table").

    .. math::

        r\,b

    See Also
    --------
    netcoreset.bounds.codebook_bits : the numeric function.

    Examples
    --------
    >>> codebook_bits_expr().subs({GSYM.r: 16, GSYM.b: 32})
    512
    """
    return GSYM.r * GSYM.b


def permutation_credit_bits_expr() -> sp.Expr:
    r"""Twin of :func:`~netcoreset.bounds.permutation_credit_bits`.

    .. math::

        \sum_{i=1}^{H}\log_2(\eta_i!)

    See Also
    --------
    netcoreset.bounds.permutation_credit_bits : the numeric function.

    Examples
    --------
    >>> permutation_credit_bits_expr().subs(GSYM.H, 1).doit().has(GSYM.widths)
    True
    """
    i = GSYM.i
    return sp.Sum(_log2(sp.factorial(GSYM.widths[i])), (i, 1, GSYM.H))


_FORMULAS.update(
    {
        "binary_kl": (r"\mathrm{kl}(\hat{L}\,\|\,p)", binary_kl_expr),
        "occam_rate": ("c", occam_rate_expr),
        "occam_hoeffding": (r"L_{\mathrm{Hoeffding}}", occam_hoeffding_expr),
        "binomial_tail": (r"P[\mathrm{Bin}(n, p) \le k]", binomial_tail_expr),
        "occam_binomial_level": (r"\delta'", occam_binomial_level_expr),
        "chernoff_tail": (r"P_{\mathrm{Chernoff}}", chernoff_tail_expr),
        "union_bound_nats": (r"\mathrm{cost}_k", union_bound_nats_expr),
        "prior_cost_nats": (r"\mathrm{cost}(w)", prior_cost_nats_expr),
        "margin_compression_bound": (r"L_0(g)", margin_compression_bound_expr),
        "corollary_eps": (r"\varepsilon_{\gamma}", corollary_eps_expr),
        "corollary_size_term": (r"\bar q_{\ell, i}", corollary_size_term_expr),
        "count_bits": (r"\mathrm{bits}_{\mathrm{count}}", count_bits_expr),
        "positions_bits": (r"\mathrm{bits}_{\mathrm{positions}}", positions_bits_expr),
        "fixed_width_bits": (r"\mathrm{bits}_{\mathrm{fixed}}", fixed_width_bits_expr),
        "count_table_bits": (r"\mathrm{bits}_{\mathrm{table}}", count_table_bits_expr),
        "multinomial_bits": (r"\mathrm{bits}_{\mathrm{symbols}}", multinomial_bits_expr),
        "arithmetic_coding_bits": (r"\mathrm{bits}_{\mathrm{arith}}", arithmetic_coding_bits_expr),
        "codebook_bits": (r"\mathrm{bits}_{\mathrm{codebook}}", codebook_bits_expr),
        "permutation_credit_bits": (r"\mathrm{credit}", permutation_credit_bits_expr),
    }
)
FORMULA_NAMES = tuple(_FORMULAS)


# --- derivation checks of the generalisation bounds --------------------------------------------


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


def check_layer_code_kraft(max_slots: int = 6, max_levels: int = 3) -> DerivationCheck:
    r"""BY EXHAUSTIVE EVALUATION (exact rational arithmetic; a proof only for the sizes
    enumerated): the layer code is a valid prior.

    For every layer of :math:`N \le` ``max_slots`` slots and :math:`r \le` ``max_levels``
    levels, sum :math:`2^{-\ell}` over every possible layer (every count :math:`q`, every
    subset of :math:`q` slots, every sequence of :math:`q` symbols), with
    :math:`\ell` = count bits + :math:`\log_2\binom Nq` + count table
    :math:`\log_2\binom{q+r-1}{r-1}` + :math:`\log_2(q!/\prod c_i!)`:

    .. math::

        \sum_{q=0}^{N} 2^{-\lceil\log_2(N+1)\rceil}\binom Nq\frac{1}{\binom Nq}
        \sum_{s \in [r]^q}\frac{1}{\binom{q+r-1}{r-1}}\frac{\prod_i c_i(s)!}{q!}
        = \frac{N+1}{2^{\lceil\log_2(N+1)\rceil}} \le 1 .

    The inner sum over all :math:`r^q` sequences is enumerated and must be exactly 1 (the
    two-part value code is a complete prefix code); the total must be at most 1. The general
    statement follows from counting (stars and bars and the multinomial theorem); this check
    only confirms the bookkeeping.

    Examples
    --------
    >>> check_layer_code_kraft(4, 2).passed
    True
    """
    import itertools

    worst = sp.Integer(0)
    kraft_ok = True
    for N in range(1, max_slots + 1):
        for r in range(1, max_levels + 1):
            total = sp.Integer(0)
            for q in range(N + 1):
                inner = sp.Integer(0)
                for seq in itertools.product(range(r), repeat=q):
                    counts = [seq.count(s) for s in range(r)]
                    mult = sp.factorial(q) / sp.Mul(*[sp.factorial(ci) for ci in counts])
                    inner += 1 / (sp.binomial(q + r - 1, r - 1) * mult)
                worst = max(worst, abs(inner - 1))
                # binomial(N, q) subsets, each of weight 1/binomial(N, q)
                total += inner * sp.binomial(N, q) / sp.binomial(N, q)
            total /= 2 ** N.bit_length()  # the count: ceil(log2(N + 1)) bits
            kraft_ok = kraft_ok and bool(total <= 1)
    return DerivationCheck(
        claim=f"BY EXHAUSTIVE EVALUATION (exact rationals, N <= {max_slots}, r <= {max_levels}): "
        "the two-part value code sums to exactly 1 over all r^q sequences and the layer code "
        "(count, positions, values) to (N+1)/2^ceil(log2(N+1)) <= 1 (Kraft)",
        assumptions="every layer of N slots, every count q <= N, every subset, every sequence",
        proved=bool(worst == 0 and kraft_ok),
        residual=worst,
        kind="evaluation",
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


def _generalization_checks() -> tuple[DerivationCheck, ...]:
    return (
        check_union_bound_cost(),
        check_pinsker(),
        check_chernoff_kl(),
        check_forms_agree_at_zero_errors(),
        check_margin_shift(),
        check_corollary_constants(),
        check_layer_code_kraft(),
        check_generalization_numeric_agreement(),
    )


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
