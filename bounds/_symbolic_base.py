r"""Shared pieces of the sympy twins: the paper's symbols, :class:`DerivationCheck` and the
helpers of the checks by evaluation.

The twins themselves sit next to the numeric modules they mirror (``sample_size_symbolic.py``
next to ``sample_size.py``, and so on); :mod:`netcoreset.bounds.symbolic` exports them all.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

__all__ = ["PaperSymbols", "SYM", "DerivationCheck", "GeneralizationSymbols", "GSYM"]


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
    S_i: sp.Symbol  #: S of neuron i, the sum over its two parts
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


@dataclass(frozen=True)
class DerivationCheck:
    r"""The outcome of one derivation check: proved by sympy, or only evaluated.

    Construct it with ``proved`` = whether the check succeeded; for an ``"evaluation"``
    that success is stored as :attr:`passed` and :attr:`proved` becomes ``False``, so
    ``proved`` is ``True`` only for a claim sympy decided exactly.

    .. math::

        A = B \text{ is proved} \iff \operatorname{simplify}(A - B) = 0

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


_DIGITS = 40


def _mp(expr: sp.Expr, args: list[Any]) -> Callable[..., Any]:
    return sp.lambdify(args, expr, modules="mpmath")


def _rel(a: float, b: float) -> float:
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(a), abs(b))


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
