r"""Sympy twins of ``union_bound.py``: :math:`\eta_{\mathrm{eff}}\tau` and the total of the
union bound's events, with the check that they add up to :math:`\delta`.

Each expression names its numeric function under See Also, and the numeric function names
it back. The names are exported by :mod:`netcoreset.bounds.symbolic` (this module imports
sympy; ``import netcoreset.bounds`` does not load it).
"""

from __future__ import annotations

import sympy as sp

from ._symbolic_base import SYM, DerivationCheck, _is_zero

__all__ = ["effective_eta_expr", "union_bound_total_expr", "check_union_bound_total"]


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
    r"""The union bound's total over every event (``netcoreset.bounds.union_bound``).

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
