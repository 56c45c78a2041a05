r"""CoreNet++ amplification: the number of candidates :math:`\tau` and its effect on the draws.

CoreNet++ draws :math:`\tau` independent candidates for every part and keeps the one with the
smallest relative error on a held-out set :math:`T` (Baykal et al., 2019, Section 4,
"amplification"). If each candidate failed independently with probability at most :math:`p`
and the selection were exact, all :math:`\tau` would fail with probability :math:`p^\tau`,
so a candidate would need only :math:`p = (\delta/(4\eta))^{1/\tau}`, and its draws would
shrink by the ratio of the log terms computed here.
"""

from __future__ import annotations

import math

from .validation import check_open_unit, check_positive_int

__all__ = ["default_tau", "amplified_log_ratio"]


def default_tau(delta: float) -> int:
    r"""Default number of candidates, :math:`\tau = \lceil \log_2(1/\delta) \rceil`.

    .. math::

        \tau = \max\bigl(1, \lceil \log_2(1/\delta) \rceil\bigr)

    See Also
    --------
    netcoreset.bounds.symbolic.default_tau_expr : the same formula in sympy.

    Examples
    --------
    >>> default_tau(0.1)
    4
    """
    delta = check_open_unit("delta", delta)
    return max(1, math.ceil(math.log2(1.0 / delta)))


def amplified_log_ratio(eta: int, delta: float, tau: int) -> float:
    r"""Ratio of the amplified log term of the sample size to the plain one.

    .. math::

        \rho_\tau = \frac{\log 2 + \tfrac{1}{\tau}\log(4\eta/\delta)}{\log(8\eta/\delta)},
        \qquad \rho_1 = 1,

    so that a candidate's draws are :math:`\lceil \rho_\tau\, m \rceil` with :math:`m` of
    :func:`~netcoreset.bounds.sample_size`.

    See Also
    --------
    netcoreset.bounds.symbolic.amplified_log_ratio_expr : the same formula in sympy.

    Examples
    --------
    >>> amplified_log_ratio(410, 0.1, 1)
    1.0
    >>> round(amplified_log_ratio(410, 0.1, 4), 4)
    0.3
    """
    eta = check_positive_int("eta", eta)
    delta = check_open_unit("delta", delta)
    tau = check_positive_int("tau", tau)
    return (math.log(2.0) + math.log(4.0 * eta / delta) / tau) / math.log(8.0 * eta / delta)
