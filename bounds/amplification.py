r"""CoreNet++ amplification: the number of candidates :math:`\tau` and its effect on the draws.

CoreNet++ draws :math:`\tau` independent candidates for every part and keeps the one with the
smallest relative error on a held-out set :math:`T` (Baykal et al., 2019, Section 4,
"amplification"). What that selection certifies for a *fresh* input is the union bound: the
chosen candidate fails at :math:`x` only if some candidate does, so

.. math::

    \mathbb{P}(\text{chosen fails at } x) \le \sum_{t=1}^{\tau}
    \mathbb{P}(\text{candidate } t \text{ fails at } x) \le \tau p ,

and every candidate must be drawn for :math:`\delta/\tau`: its log term grows by
:func:`candidate_log_ratio` (the draws CoreNet++ uses). The paper's :math:`p^\tau` (all
:math:`\tau` fail) bounds the failure of a rule that picks, *for each input*, a candidate that
succeeds on it whenever one does; a single candidate chosen on :math:`T` is not such a rule
unless success on :math:`T` implies success on every input (the theory page *Algorithms*,
CoreNet++). :func:`amplified_log_ratio` keeps the :math:`p^\tau` figure for comparison only.

The sympy twins of these formulas sit next to this file, in ``amplification_symbolic.py``,
and are exported by :mod:`netcoreset.bounds.symbolic`; each function's See Also names its
twin.
"""

from __future__ import annotations

import math

from .validation import check_open_unit, check_positive_int

__all__ = ["default_tau", "amplified_log_ratio", "candidate_log_ratio"]


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
    r"""The paper's amplified log term over the plain one (NOT a certificate; see the module).

    It is what the draws could shrink to if all :math:`\tau` candidates had to fail at the
    same input (:math:`p^\tau \le \delta/(4\eta)`), which a selection on a held-out set
    does not ensure. netcoreset uses :func:`candidate_log_ratio` instead.

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


def candidate_log_ratio(eta: int, delta: float, tau: int) -> float:
    r"""Growth of a CoreNet++ candidate's log term under the union bound over :math:`\tau`
    candidates.

    .. math::

        \rho^{\cup}_\tau = \frac{\log(8\eta\tau/\delta)}{\log(8\eta/\delta)} \ge 1,

    so that a candidate's draws are :math:`\lceil \rho^{\cup}_\tau\, m\rceil`: each of the
    :math:`2\eta\tau` sampling events gets :math:`\delta/(4\eta\tau)` and the chosen candidate's
    failure probability at a fresh input is at most the sum over candidates. ``eta`` is the
    :math:`\eta_{\mathrm{eff}}` of :func:`~netcoreset.bounds.effective_eta` (without
    :math:`\tau`).

    See Also
    --------
    netcoreset.bounds.symbolic.candidate_log_ratio_expr : the same formula in sympy.

    Examples
    --------
    >>> candidate_log_ratio(410, 0.1, 1)
    1.0
    >>> round(candidate_log_ratio(410, 0.1, 4), 4)
    1.1333
    """
    eta = check_positive_int("eta", eta)
    delta = check_open_unit("delta", delta)
    tau = check_positive_int("tau", tau)
    return math.log(8.0 * eta * tau / delta) / math.log(8.0 * eta / delta)
