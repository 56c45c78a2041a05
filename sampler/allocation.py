r"""How many draws each part gets: guarantee mode, budget mode and the certificate.

Every part (one sign of one neuron) of weight layer :math:`\ell` gets

.. math::

    m = \left\lceil c\,\frac{8\,\mathcal{S}\,K\log(8\eta/\delta)}{\varepsilon_\ell^2}\right\rceil,
    \qquad \varepsilon_\ell = \frac{\varepsilon}{2(L-1)\,\hat\Delta^{\ell\rightarrow}},

with :math:`c` the ``draw_scale`` (1 for the theorem). Budget mode finds the one
:math:`\varepsilon` for which the expected number of distinct kept edges,
:math:`\sum_{\text{parts}}\sum_j (1 - (1 - q_j)^m)`, equals the budget, by bisection on
:math:`\log\varepsilon`. The certificate inverts the sample size part by part.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from netcoreset.bounds import (
    certified_eps,
    draws_for_eps,
    expected_distinct_edges,
    layer_eps,
    network_eps,
)

from .sensitivity import LayerSensitivity

__all__ = [
    "PartTable",
    "draws_for_network_eps",
    "layer_draws",
    "solve_budget",
    "network_certified_eps",
]


@dataclass
class PartTable:
    """The parts of one weight layer: sensitivity sums and probabilities, both signs stacked.

    ``totals`` has shape ``(2 * rows,)`` (positive parts first) and ``q`` ``(2 * rows, n)``.

    >>> import numpy as np
    >>> t = PartTable(totals=np.array([1.0, 0.0]), q=np.array([[0.5, 0.5], [0.0, 0.0]]))
    >>> t.expected_kept(np.array([2.0, 0.0]))  # 2 * (1 - 0.5**2)
    1.5
    """

    totals: np.ndarray
    q: np.ndarray

    @classmethod
    def from_sensitivity(cls, sens: LayerSensitivity) -> PartTable:
        """Both parts of a layer's :class:`~netcoreset.sampler.LayerSensitivity`, on the CPU."""
        qp, qn = sens.probabilities()
        return cls(
            totals=torch.cat([sens.total_positive, sens.total_negative]).double().cpu().numpy(),
            q=torch.cat([qp, qn]).double().cpu().numpy(),
        )

    def __post_init__(self) -> None:
        with np.errstate(divide="ignore"):
            self._log1m_q = np.log1p(-np.clip(self.q, 0.0, 1.0))

    def expected_kept(self, m: np.ndarray) -> float:
        r""":math:`\sum_{\text{parts}}\sum_j (1 - (1-q_j)^m)` (see
        :func:`netcoreset.bounds.expected_distinct_edges`, which this equals)."""
        with np.errstate(invalid="ignore"):
            per = -np.expm1(m[:, None] * self._log1m_q)
        per = np.where((m[:, None] == 0) | (self.q == 0), 0.0, per)
        return float(per.sum())

    def expected_kept_reference(self, m: np.ndarray) -> float:
        """Same as :meth:`expected_kept` through the bounds module (for tests)."""
        return float(np.sum(expected_distinct_edges(self.q, m)))


def draws_for_network_eps(
    tables: Sequence[PartTable],
    eps: float,
    delta_hat_products: np.ndarray,
    delta: float,
    eta: int,
    K: float,
    tight: bool,
    factors: Sequence[float],
) -> list[np.ndarray]:
    r"""Draws per part of every layer for a network-level :math:`\varepsilon` (may exceed 1
    in budget mode, where it is an allocation parameter rather than a promise).

    ``factors`` multiplies each layer's real-valued draw count before the ceiling
    (``draw_scale`` and the CoreNet++ log-term ratio).
    """
    eps_layers = layer_eps(eps, delta_hat_products, allocation=True)
    return [
        layer_draws(table, float(e), delta, eta, K, tight, factor)
        for table, e, factor in zip(tables, eps_layers, factors, strict=True)
    ]


def layer_draws(
    table: PartTable, eps_layer: float, delta: float, eta: int, K: float, tight: bool, factor: float
) -> np.ndarray:
    r"""Draws per part of one layer: :math:`\lceil c\, m(\mathcal{S}, \varepsilon_\ell)\rceil`."""
    real = draws_for_eps(table.totals, eps_layer, delta, eta, K, tight) * factor
    return np.ceil(np.minimum(real, 1e300))


#: The search for the budget's eps stays inside exp(+-700) (float64's range).
_LOG_EPS_LIMIT = 700.0


def _bracket(
    expected: Any, budget: float, K: float, factors: Sequence[float]
) -> tuple[float, float, tuple[float, Any], tuple[float, Any]]:
    r"""A bracket ``[lo, hi]`` of :math:`\log\varepsilon` around the budget, not a fixed range.

    The draw counts depend on :math:`\varepsilon` through :math:`cK/\varepsilon^2` (``c``:
    the layer factors), so the search starts at :math:`\tfrac12\log(K\max c)` and widens by
    :math:`e^{60}` steps until the expected count at ``lo`` reaches the budget (or every edge
    that can be sampled is) and at ``hi`` falls below it (or one draw per part is left), so
    extreme constants ``K`` get the same kept count as ``K = 1``.
    """
    scale = max((f for f in factors if f > 0), default=1.0)
    centre = 0.5 * (math.log(K) + math.log(scale))
    lo, hi = centre - 60.0, centre + 60.0
    low, high = expected(math.exp(max(lo, -_LOG_EPS_LIMIT))), None
    while low[0] < budget and lo > -_LOG_EPS_LIMIT:
        lo -= 60.0
        nxt = expected(math.exp(max(lo, -_LOG_EPS_LIMIT)))
        if nxt[0] <= low[0]:  # saturated: every edge with positive sensitivity is kept
            low = nxt
            break
        low = nxt
    lo = max(lo, -_LOG_EPS_LIMIT)
    high = expected(math.exp(min(hi, _LOG_EPS_LIMIT)))
    while high[0] > budget and hi < _LOG_EPS_LIMIT:
        hi += 60.0
        nxt = expected(math.exp(min(hi, _LOG_EPS_LIMIT)))
        if nxt[0] >= high[0]:  # one draw per active part: the minimum
            high = nxt
            break
        high = nxt
    hi = min(hi, _LOG_EPS_LIMIT)
    return lo, hi, low, high


def solve_budget(
    tables: Sequence[PartTable],
    budget: float,
    delta_hat_products: np.ndarray,
    delta: float,
    eta: int,
    K: float,
    tight: bool,
    factors: Sequence[float],
    *,
    rtol: float = 1e-4,
    max_iter: int = 200,
) -> tuple[float, list[np.ndarray], float, bool]:
    r"""Bisection on :math:`\log\varepsilon` for the expected kept-edge count ``budget``.

    Returns ``(eps, draws, expected, capped)``. Raises ``ValueError`` when the budget is below
    the minimum (one draw per active part); a budget at or above the number of sampleable edges
    gets the largest allocation and ``capped=True``. The expected count is a step function of
    :math:`\varepsilon` (the draws are whole numbers), so on small networks the closest
    achievable value is returned.
    """

    def expected(eps: float) -> tuple[float, list[np.ndarray]]:
        draws = draws_for_network_eps(
            tables, eps, delta_hat_products, delta, eta, K, tight, factors
        )
        return sum(t.expected_kept(m) for t, m in zip(tables, draws, strict=True)), draws

    lo, hi, (e_lo, d_lo), (e_hi, d_hi) = _bracket(expected, budget, K, factors)
    if budget > e_lo * (1 - 1e-9):  # the caller reports the cap
        return math.exp(lo), d_lo, e_lo, True
    if budget < e_hi * (1 - 1e-12):
        raise ValueError(
            f"budget of {budget:.6g} weights is below the minimum of {e_hi:.6g}: every active "
            "part keeps at least one edge"
        )
    best = (abs(e_lo - budget), math.exp(lo), d_lo, e_lo)
    for _ in range(max_iter):
        mid = 0.5 * (lo + hi)
        e_mid, d_mid = expected(math.exp(mid))
        if abs(e_mid - budget) < best[0]:
            best = (abs(e_mid - budget), math.exp(mid), d_mid, e_mid)
        if abs(e_mid - budget) <= rtol * budget or hi - lo < 1e-12:
            break
        if e_mid > budget:
            lo = mid
        else:
            hi = mid
    return best[1], best[2], best[3], False


def network_certified_eps(
    totals: Sequence[np.ndarray],
    draws: Sequence[np.ndarray],
    delta_hat_products: np.ndarray,
    delta: float,
    eta: int,
    K: float,
) -> tuple[float, list[float]]:
    r"""The network-level :math:`\varepsilon` certified by the realised draw counts.

    Each part's :math:`\varepsilon` is the exact Bernstein inverse
    (:func:`netcoreset.bounds.certified_eps` with ``tight=True``, valid for every
    :math:`\varepsilon > 0`); layer :math:`\ell` then certifies

    .. math::

        \varepsilon = 2(L-1)\,\hat\Delta^{\ell\rightarrow}\max_{\text{parts}}\varepsilon_{\text{p}},

    and the network the largest of these (:func:`netcoreset.bounds.network_eps`).
    ``delta_hat_products`` must include :math:`\kappa` for the result to be the theorem's
    certificate. Returns ``(eps, per_layer)``.
    """
    worst_part = [
        float(np.max(certified_eps(m, s, delta, eta, K, tight=True))) if s.size else 0.0
        for s, m in zip(totals, draws, strict=True)
    ]
    per_layer = network_eps(worst_part, delta_hat_products, per_layer=True)
    return float(np.max(per_layer)), [float(v) for v in per_layer]
