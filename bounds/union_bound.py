r"""The union bound behind CoreNet's failure probability: every event, counted once.

The theorem's :math:`\delta` is a sum over failure events (Baykal et al., 2019, proof of
Theorem 4; the theory page *The guarantee*, section "The union bound"), with
:math:`\eta_e = \eta_{\mathrm{eff}}`:

* a SPARSIFY call misses :math:`(1\pm\varepsilon_\ell)` (Lemma 2, Bernstein):
  :math:`2\eta_e\tau` events of probability :math:`\delta/(4\eta_e\tau)` each;
* :math:`S` misses an edge's upper tail (Lemma 1): :math:`2\eta_e n` events of probability
  :math:`\delta/(8\eta_e n)` each;
* a fresh input's cancellation exceeds :math:`\hat\Delta^\ell` (what :math:`\kappa` is sized
  for): one event of probability :math:`\delta/4`,

with :math:`n` the largest number of edges of one part, :math:`\tau` CoreNet++'s candidates
per part (1 otherwise) and :math:`\eta_{\mathrm{eff}} = \eta + \eta^2[\text{signed inputs}]`:
with inputs of both signs the first layer is sampled once but analysed on the two
non-negative points :math:`x^+` and :math:`x^-`, so each of its neurons carries the
sampling and Lemma-1 events twice (:func:`effective_eta`). The rows add up to
:math:`\delta/2 + \delta/4 + \delta/4 = \delta`.

The sympy twins of these formulas sit next to this file, in ``union_bound_symbolic.py``, and
are exported by :mod:`netcoreset.bounds.symbolic`; each function's See Also names its twin.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .error_budget import max_hidden_width, max_part_size, num_neurons
from .validation import (
    check_architecture,
    check_open_unit,
    check_positive,
    check_positive_int,
)

__all__ = [
    "effective_eta",
    "lemma1_failure",
    "FailureEvent",
    "FailureBudget",
    "failure_budget",
]


def effective_eta(arch: Sequence[int] | str, *, signed_inputs: bool = False, tau: int = 1) -> int:
    r"""The :math:`\eta` of the sample size's :math:`\log(8\eta/\delta)` once every event is
    counted: :math:`\eta_{\mathrm{eff}}\,\tau` with
    :math:`\eta_{\mathrm{eff}} = \eta + \eta^2\,[\text{signed inputs}]`.

    .. math::

        2\,\eta_{\mathrm{eff}}\tau \cdot \frac{\delta}{4\eta_{\mathrm{eff}}\tau} = \frac{\delta}{2}
        \quad\Longleftrightarrow\quad
        m \ge \frac{K\mathcal{S}(6+2\varepsilon)\log(8\eta_{\mathrm{eff}}\tau/\delta)}
        {\varepsilon^2}.

    Signed inputs: the first layer's error is the sum of the errors on :math:`x^+` and on
    :math:`x^-` (:ref:`signed-inputs`), two Bernstein events per part instead of one, for each
    of the :math:`\eta^2` neurons of the first weight layer. CoreNet++: a candidate chosen
    among :math:`\tau` fails only if one of the :math:`\tau` does (a union bound, the only
    statement that holds for a selection on a held-out set; see
    :func:`~netcoreset.bounds.candidate_log_ratio`).

    See Also
    --------
    netcoreset.bounds.symbolic.effective_eta_expr : the same formula in sympy.

    Examples
    --------
    >>> effective_eta("784,300,100,10"), effective_eta("784,300,100,10", signed_inputs=True)
    (410, 710)
    >>> effective_eta("784,300,100,10", tau=4)
    1640
    """
    widths = check_architecture(arch)
    tau = check_positive_int("tau", tau)
    eta = num_neurons(widths) + (widths[1] if signed_inputs else 0)
    return eta * tau


def lemma1_failure(
    sensitivity_set_size: int, eta: int, part_size: int, k_prime: float = 3.0
) -> float:
    r"""Probability that :math:`|S|` points miss the upper tail of some edge (Lemma 1 over
    all parts), under Assumption 1.

    .. math::

        \mathbb{P}\bigl(\exists\ \text{part, edge } j:\ \max_{x\in S} g_j(x) \le M_j/K\bigr)
        \le \min\bigl(1,\ 2\eta\,n\,e^{-|S|/K'}\bigr),

    one factor :math:`F_j(M_j/K)^{|S|} \le e^{-|S|/K'}` per edge, :math:`n` edges per part,
    :math:`2\eta` parts (pass :func:`effective_eta` for signed inputs). At the theorem's
    :math:`|S| = \lceil K'\log(8\eta n/\delta)\rceil` this is at most :math:`\delta/4`; with
    fewer points (``data`` smaller than the theorem asks) it is larger, and the certificate
    holds only at the larger total :math:`\delta` that
    :meth:`FailureBudget.total` reports.

    Examples
    --------
    >>> round(lemma1_failure(54, 410, 785), 4)  # 784-300-100-10, delta = 0.05: <= 0.0125
    0.0098
    >>> lemma1_failure(5, 410, 785)
    1.0
    """
    s = check_positive_int("sensitivity_set_size", sensitivity_set_size)
    eta = check_positive_int("eta", eta)
    n = check_positive_int("part_size", part_size)
    k_prime = check_positive("k_prime", k_prime)
    return min(1.0, 2.0 * eta * n * math.exp(-s / k_prime))


@dataclass(frozen=True)
class FailureEvent:
    """One row of :class:`FailureBudget`: an event, how often it occurs and what each
    occurrence may cost.

    >>> FailureEvent("x", 2, 0.01).total
    0.02
    """

    name: str
    count: int
    per_event: float

    @property
    def total(self) -> float:
        return self.count * self.per_event


@dataclass(frozen=True)
class FailureBudget:
    r"""Every failure event of the guarantee with its share of :math:`\delta`
    (:func:`failure_budget`).

    >>> fb = failure_budget("4,3,2", 0.1)
    >>> [round(e.total, 4) for e in fb.events], round(fb.total, 4)
    ([0.05, 0.0234, 0.025], 0.0984)
    """

    delta: float
    eta: int
    eta_effective: int
    tau: int
    part_size: int
    sensitivity_set_size: int
    sensitivity_set_size_required: int
    events: list[FailureEvent] = field(default_factory=list)

    @property
    def total(self) -> float:
        r"""The certified failure probability :math:`\sum` of the rows (capped at 1)."""
        return min(1.0, math.fsum(e.total for e in self.events))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["events"] = [{**asdict(e), "total": e.total} for e in self.events]
        d["total"] = self.total
        return d


def failure_budget(
    arch: Sequence[int] | str,
    delta: float,
    *,
    signed_inputs: bool = False,
    tau: int = 1,
    sensitivity_set_size: int | None = None,
    k_prime: float = 3.0,
    bias: bool = True,
) -> FailureBudget:
    r"""The union bound of the theorem, event by event, for an architecture.

    Sampling events get :math:`\delta/(4\eta_{\mathrm{eff}}\tau)` each (Lemma 2 at the sample
    size with :math:`\log(8\eta_{\mathrm{eff}}\tau/\delta)`), the events of Lemma 1 their
    actual probability at the given :math:`|S|` (:func:`lemma1_failure`; at most
    :math:`\delta/4` at the theorem's :math:`|S|`), and the event that a fresh input's
    cancellation exceeds :math:`\hat\Delta^\ell` the remaining :math:`\delta/4`, the share
    :math:`\kappa` is sized for:

    .. math::

        \delta_{\text{total}} = 2\eta_{\mathrm{eff}}\tau\cdot\frac{\delta}{4\eta_{\mathrm{eff}}\tau}
        + \min\bigl(1, 2\eta_{\mathrm{eff}}\,n\,e^{-|S|/K'}\bigr) + \frac{\delta}{4}
        \;\le\; \delta \quad\text{when } |S| \ge K'\log\frac{8\eta_{\mathrm{eff}}n}{\delta}.

    Parameters
    ----------
    arch : sequence of int or str
        Widths, input first.
    delta : float
        The :math:`\delta` the draws were computed for.
    signed_inputs : bool, default False
        The first layer's inputs take both signs (the :math:`x^\pm` split).
    tau : int, default 1
        CoreNet++'s candidates per part.
    sensitivity_set_size : int, optional
        The :math:`|S|` actually used; default: the theorem's.
    k_prime : float, default 3
    bias : bool, default True
        Count a bias edge in the largest part.

    See Also
    --------
    netcoreset.bounds.symbolic.union_bound_total_expr : the total in sympy.
    netcoreset.bounds.symbolic.check_union_bound_total : the derivation check (sympy).

    Examples
    --------
    >>> fb = failure_budget("784,300,100,10", 0.1, signed_inputs=True)
    >>> fb.eta_effective, fb.sensitivity_set_size_required, round(fb.total, 4)
    (710, 53, 0.0987)
    >>> round(failure_budget("784,300,100,10", 0.1, sensitivity_set_size=45).total, 3)
    0.272
    """
    widths = check_architecture(arch)
    delta = check_open_unit("delta", delta)
    tau = check_positive_int("tau", tau)
    k_prime = check_positive("k_prime", k_prime)
    eta = num_neurons(widths)
    eta_eff = effective_eta(widths, signed_inputs=signed_inputs)
    n = max(max_hidden_width(widths), max_part_size(widths, bias))
    required = math.ceil(k_prime * math.log(8.0 * eta_eff * n / delta))
    used = required if sensitivity_set_size is None else sensitivity_set_size
    used = check_positive_int("sensitivity_set_size", used)
    lemma1 = lemma1_failure(used, eta_eff, n, k_prime)
    events = [
        FailureEvent("sampling (Lemma 2)", 2 * eta_eff * tau, delta / (4 * eta_eff * tau)),
        FailureEvent("sensitivity coverage (Lemma 1)", 2 * eta_eff * n, lemma1 / (2 * eta_eff * n)),
        FailureEvent("cancellation above Delta-hat (kappa)", 1, delta / 4.0),
    ]
    return FailureBudget(delta, eta, eta_eff, tau, n, used, required, events)
