r"""Sympy twins of ``amplification.py``: CoreNet++'s default :math:`\tau` and the log terms
of the amplified and the union-bound draws, with the check of the union bound over the
:math:`\tau` candidates.

Each expression names its numeric function under See Also, and the numeric function names
it back. The names are exported by :mod:`netcoreset.bounds.symbolic` (this module imports
sympy; ``import netcoreset.bounds`` does not load it).
"""

from __future__ import annotations

import sympy as sp

from ._symbolic_base import SYM, DerivationCheck, _is_zero, _log8

__all__ = [
    "default_tau_expr",
    "amplified_log_ratio_expr",
    "candidate_log_ratio_expr",
    "check_candidate_union",
]


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
