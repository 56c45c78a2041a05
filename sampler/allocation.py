r"""How many draws each part gets: guarantee mode, budget mode and the certificate.

Every part (one sign of one neuron) of weight layer :math:`\ell` gets

.. math::

    m = \left\lceil c\,\frac{8\,\mathcal{S}\,K\log(8\eta/\delta)}{\varepsilon_\ell^2}\right\rceil,
    \qquad \varepsilon_\ell = \frac{\varepsilon}{2(L-1)\,\hat\Delta^{\ell\rightarrow}},

with :math:`c` the ``draw_scale`` (1 for the theorem). Budget mode finds the one
:math:`\varepsilon` for which the expected number of distinct kept edges,
:math:`\sum_{\text{parts}}\sum_j (1 - (1 - q_j)^m)`, equals the budget, by a safeguarded
Newton iteration on :math:`\log\varepsilon` with the sum evaluated in float32
(:func:`solve_budget`). The
certificate inverts the sample size part by part.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

from netcoreset.bounds import expected_distinct_edges, layer_eps, network_eps
from netcoreset.bounds.error_budget import _layer_eps

# The sample size at the sampler's own constant: Lemma 1's coverage constant measured on
# held-out points (which may be 1) or folded with its factor (C/3), not Assumption 1's K > 1
# that the public functions require.
from netcoreset.bounds.sample_size import _certified_eps, _draw_count_at, _draws_for_eps

from .native import compact_parts_native, draws_times_log_native
from .sensitivity import LayerSensitivity, sampling_blocks

__all__ = [
    "COMPACT_LIMIT",
    "PartTable",
    "draws_for_network_eps",
    "layer_draws",
    "solve_budget",
    "network_certified_eps",
]


_F32_MAX_DRAWS = 1e38  # draws beyond this act like infinity in float32 (every q > 0 is kept)


#: Layers with at most this many edges keep their probabilities compactly (one float and one
#: part index per edge, plus float32 logarithms during the budget solve); larger layers are
#: evaluated block by block from the sensitivities, with no per-edge storage.
COMPACT_LIMIT = 1 << 22


def _term_sums(
    q: torch.Tensor, draws: torch.Tensor, fast: bool, slope: bool = True
) -> tuple[float, float]:
    r""":math:`\sum (1 - (1-q)^m)` and :math:`\sum x e^x`, :math:`x = m\log(1-q)`, over
    ``q`` (any shape) with ``draws`` broadcast against it; float32 if ``fast``, else float64
    (torch's float64 ``log1p`` and ``expm1``: 4.1 ms against numpy's 9.2 for 265,000 edges
    on one CPU thread). The second sum (float32 only) is NaN unless ``slope``."""
    if fast:
        # q = 1 gives log 0 = -inf; -100 keeps x finite (e^-100 is 0 in float32).
        log = torch.log1p(-q.to(torch.float32)).clamp_(min=-100.0)
        x = (log * draws.clamp(max=_F32_MAX_DRAWS).to(torch.float32)).reshape(-1)
        return _exp_sums(x, torch.exp(x), slope)
    mt = draws.to(torch.float64)
    xt = torch.where(mt > 0, mt * torch.log1p(-q.double()), 0.0)  # (q = 1, m = 0: not used)
    return -float(torch.expm1(xt).sum()), 0.0


def _exp_sums(x: torch.Tensor, e: torch.Tensor, slope: bool) -> tuple[float, float]:
    r""":math:`\sum (1 - e_j)` and, if ``slope``, :math:`\sum x_j e_j` (else NaN) from
    :math:`e = \exp(x)`, overwriting ``e`` (the slope's sum is taken of
    :math:`(e_j - 1) + 1`, as float32 rounds it)."""
    value = -float(e.sub_(1.0).sum())
    return value, float(torch.dot(x, e.add_(1.0))) if slope else math.nan


class PartTable:
    r"""The parts of one weight layer: sensitivity sums and probabilities, both signs.

    ``totals`` has shape ``(2 * rows,)`` (positive parts first); ``q`` is ``(2 * rows, n)``,
    non-negative (a part's row sums to 1 or is zero). Built from sensitivities
    (:meth:`from_sensitivity`), a table refers to them (the two parts of a row have disjoint
    supports, stored as one signed value per edge) and stores nothing per edge, except for
    layers of at most :data:`COMPACT_LIMIT` edges, which keep the positive probabilities part
    after part (:attr:`values`, :attr:`lengths`) for faster evaluation. The float64
    probabilities and logarithms of both parts, 32 bytes per edge, are no longer kept.

    :meth:`expected_kept` is exact in float64; :meth:`expected_kept_fast` evaluates the same
    sum and its derivative in float32 for :func:`solve_budget`.

    >>> import numpy as np
    >>> t = PartTable(totals=np.array([1.0, 0.0]), q=np.array([[0.5, 0.5], [0.0, 0.0]]))
    >>> t.expected_kept(np.array([2.0, 0.0]))  # 2 * (1 - 0.5**2)
    1.5
    >>> t.lengths.tolist(), t.values.tolist()
    ([2, 0], [0.5, 0.5])
    """

    def __init__(self, totals: np.ndarray, q: np.ndarray | torch.Tensor) -> None:
        self.totals = np.asarray(totals, dtype=np.float64)
        qt = torch.as_tensor(q).detach()
        if qt.ndim != 2 or qt.shape[0] != self.totals.shape[0]:
            raise ValueError(
                f"q must have one row per part ({self.totals.shape[0]}); got {tuple(qt.shape)}"
            )
        self.sensitivity: LayerSensitivity | None = None
        positive = qt > 0
        self.values: torch.Tensor = qt[positive]
        self.lengths: torch.Tensor = positive.sum(dim=1)
        parts = torch.arange(qt.shape[0], dtype=torch.int32, device=qt.device)
        self._part = torch.repeat_interleave(parts, self.lengths)
        self._log32: torch.Tensor | None = None
        self._work32: tuple[torch.Tensor, torch.Tensor] | None = None
        self._exact: tuple[bytes, float] | None = None
        self._extremes: tuple[np.ndarray, np.ndarray] | None = None
        self._floor: tuple[np.ndarray, float] | None = None

    @classmethod
    def from_sensitivity(cls, sens: LayerSensitivity) -> PartTable:
        """Both parts of a layer's :class:`~netcoreset.sampler.LayerSensitivity` (totals on
        the CPU in float64; probabilities on the sensitivities' device and dtype)."""
        totals = torch.cat([sens.total_positive, sens.total_negative]).double().cpu().numpy()
        if sens.signed.numel() <= COMPACT_LIMIT:
            return cls._compact(totals, sens)
        table = cls(totals=totals, q=torch.zeros((totals.shape[0], 0)))
        table.sensitivity = sens
        return table

    @classmethod
    def _compact(cls, totals: np.ndarray, sens: LayerSensitivity) -> PartTable:
        """The compact table straight from the signed sensitivities: the positive values of
        each part, row by row, and their parts (the values and order of ``cls(totals, q)``
        with the dense :meth:`~netcoreset.sampler.LayerSensitivity.probabilities`: one
        division each), without the dense float64 probabilities of both parts (numpy's
        index selection on the CPU: about 2.5 times faster than torch's)."""
        table = cls(totals=totals, q=torch.zeros((totals.shape[0], 0)))
        signed = sens.signed
        rows, width = signed.shape
        sums = (sens.total_positive, sens.total_negative)
        if signed.device.type == "cpu":
            native = compact_parts_native(signed, *sums)  # two passes, the same bits
            if native is not None:
                table.values, table._part, table.lengths = native
                return table
            values, parts, lengths = _compact_numpy(signed.numpy(), [s.numpy() for s in sums])
            table.values, table._part, table.lengths = values, parts, lengths
            return table
        values, parts = _compact_torch(signed, sums)
        table.values, table._part = values, parts.to(torch.int32)
        table.lengths = torch.bincount(parts, minlength=2 * rows)
        return table

    @property
    def q(self) -> np.ndarray:
        """Each part's probabilities as a float64 ``(2 * rows, width)`` array: the dense rows
        for a table on sensitivities, else the positive ones zero-padded."""
        if self.sensitivity is not None:
            return torch.cat(self.sensitivity.probabilities()).double().cpu().numpy()
        width = int(self.lengths.max()) if self.lengths.numel() else 0
        out = torch.zeros((self.lengths.numel(), width), dtype=torch.float64)
        mask = torch.arange(width)[None, :] < self.lengths.cpu()[:, None]
        out[mask] = self.values.double().cpu()
        return out.numpy()

    def _sums(self, m: np.ndarray, fast: bool, slope: bool = True) -> tuple[float, float]:
        sens = self.sensitivity
        device = self.values.device if sens is None else sens.signed.device
        mt = torch.as_tensor(np.asarray(m, dtype=np.float64), device=device)
        if sens is None:
            if fast:
                if self._log32 is None or self._work32 is None:
                    log32 = torch.log1p(-self.values.to(torch.float32)).clamp_(min=-100.0)
                    # x and e of every evaluation: two buffers, not two new tensors each time
                    self._log32 = log32
                    self._work32 = (torch.empty_like(log32), torch.empty_like(log32))
                m32 = mt.clamp(max=_F32_MAX_DRAWS).to(torch.float32)
                x, e = self._work32
                # one pass, same bits
                if draws_times_log_native(m32, self.lengths, self._log32, out=x) is None:
                    torch.mul(m32.index_select(0, self._part), self._log32, out=x)
                return _exp_sums(x, torch.exp(x, out=e), slope)
            if not bool((mt[self.lengths > 0] > 0).all()):  # (a layer drawn 0 times)
                return _term_sums(self.values, mt.index_select(0, self._part), fast=False)
            # _term_sums' operations (m log(1 - q), expm1, sum) in place: the same bits
            log1mq = torch.neg(self.values).log1p_()
            # one pass, same bits, in place
            if draws_times_log_native(mt, self.lengths, log1mq, out=log1mq) is None:
                log1mq.mul_(mt.index_select(0, self._part))
            return -float(log1mq.expm1_().sum()), 0.0
        rows = sens.signed.shape[0]
        value = derivative = 0.0
        for r0, r1 in sampling_blocks(*sens.signed.shape):  # the sampling's blocks
            for q, part in zip(sens.probabilities(slice(r0, r1)), (0, rows), strict=True):
                v, d = _term_sums(q, mt[part + r0 : part + r1, None], fast, slope)
                value, derivative = value + v, derivative + d
        return value, derivative

    def expected_kept(self, m: np.ndarray) -> float:
        r""":math:`\sum_{\text{parts}}\sum_j (1 - (1-q_j)^m)` in float64 (see
        :func:`netcoreset.bounds.expected_distinct_edges`, which this equals to rounding).
        The last value is remembered (the budget solve and the report ask for the same
        draws)."""
        key = np.asarray(m, dtype=np.float64).tobytes()
        if self._exact is None or self._exact[0] != key:
            self._exact = (key, self._sums(m, fast=False)[0])
        return self._exact[1]

    def expected_kept_fast(self, m: np.ndarray, slope: bool = True) -> tuple[float, float]:
        r""":meth:`expected_kept` in float32 and :math:`\sum_j x_j e^{x_j}`,
        :math:`x_j = m\log(1-q_j)`, its derivative with respect to :math:`\log m` (NaN
        unless ``slope``: one pass less over the edges, the same count).

        Terms are :math:`1 - e^{x_j}` with float32 :math:`\log(1-q_j)`, product and
        exponential: each within about 3e-7 of its value relative, or 6e-8 absolute (the
        spacing of float32 below 1), so the sum is within about 3e-7 relative plus
        :math:`6\cdot10^{-8}` per edge of the float64 one (the float32 sum adds about 1e-7)."""
        return self._sums(m, fast=True, slope=slope)

    def extremes(self) -> tuple[np.ndarray, np.ndarray]:
        """Per part (positive parts first): the number of edges with :math:`q_j > 0` and the
        smallest such :math:`q_j` (inf for a part without one), as :attr:`q` holds them.
        One pass over the sensitivities, block by block, remembered."""
        if self._extremes is None:
            self._extremes = self._compute_extremes()
        return self._extremes

    def _compute_extremes(self) -> tuple[np.ndarray, np.ndarray]:
        sens = self.sensitivity
        if sens is None:
            counts = self.lengths.cpu().numpy()
            lowest = torch.full((counts.size,), math.inf, dtype=torch.float64)
            if self.values.numel():
                lowest.scatter_reduce_(
                    0, self._part.long().cpu(), self.values.double().cpu(), "amin"
                )
            return counts, lowest.numpy()
        rows = sens.signed.shape[0]
        counts = np.zeros(2 * rows, dtype=np.int64)
        smallest = np.full(2 * rows, math.inf)
        for r0, r1 in sampling_blocks(*sens.signed.shape):
            block = sens.signed[r0:r1]
            for part, values in ((0, block), (rows, -block)):
                positive = values > 0
                counts[part + r0 : part + r1] = positive.sum(dim=1).cpu().numpy()
                low = torch.where(positive, values, math.inf).amin(dim=1)
                smallest[part + r0 : part + r1] = low.double().cpu().numpy()
        # q = s / S rounded, and division is monotone: the smallest q is fl(min s / S)
        totals = np.maximum(self.totals, torch.finfo(torch.float64).tiny)
        return counts, np.where(counts > 0, smallest / totals, math.inf)

    def active_and_smallest(self) -> tuple[np.ndarray, float]:
        """Of a compact table: which parts have an edge with :math:`q_j > 0`, and the smallest
        such :math:`q_j` of the layer (remembered: the bracket of the budget solve asks at
        every step)."""
        if self._floor is None:
            smallest = float(self.values.min()) if self.values.numel() else math.inf
            self._floor = (self.lengths.cpu().numpy() > 0, smallest)
        return self._floor

    def release(self) -> None:
        """Free the float32 logarithms and work buffers kept by :meth:`expected_kept_fast`."""
        self._log32 = None
        self._work32 = None

    def expected_kept_reference(self, m: np.ndarray) -> float:
        """Same as :meth:`expected_kept` through the bounds module (for tests)."""
        return float(np.sum(expected_distinct_edges(self.q, m)))


def _compact_numpy(
    signed: np.ndarray, totals: Sequence[np.ndarray]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """:meth:`PartTable._compact`'s values (float64), parts (int32) and lengths (int64) with
    numpy: each part's edges in row-major order, :math:`|s|/\\max(\\mathcal{S}, \\text{tiny})`
    (one division each, the divisor repeated per row rather than gathered per edge)."""
    rows, width = signed.shape
    flat = signed.reshape(-1)
    tiny = np.finfo(np.float64).tiny
    masks = (flat > 0, flat < 0)
    counts = [mask.reshape(rows, width).sum(axis=1) for mask in masks]
    total = int(counts[0].sum() + counts[1].sum())
    values = np.empty(total, dtype=np.float64)
    start = 0
    for mask, count, part_total, sign in zip(masks, counts, totals, (1.0, -1.0), strict=True):
        picked = flat.take(np.flatnonzero(mask)).astype(np.float64, copy=False)  # row-major
        stop = start + picked.size
        divisor = np.repeat(np.maximum(part_total.astype(np.float64), tiny), count)
        numerator = picked if sign > 0 else np.negative(picked)  # |s|: exact
        np.divide(numerator, divisor, out=values[start:stop])
        start = stop
    lengths = np.concatenate(counts).astype(np.int64)
    parts = np.repeat(np.arange(2 * rows, dtype=np.int32), lengths)
    return torch.from_numpy(values), torch.from_numpy(parts), torch.from_numpy(lengths)


def _compact_torch(
    signed: torch.Tensor, totals: Sequence[torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """:meth:`PartTable._compact`'s values (float64) and parts (int64) with torch (any
    device)."""
    rows, width = signed.shape
    tiny = torch.finfo(torch.float64).tiny
    values, parts = [], []
    for offset, sign, total in zip((0, rows), (1.0, -1.0), totals, strict=True):
        part = signed.reshape(-1) * sign
        where = torch.nonzero(part > 0).squeeze(1)  # row-major
        owner = torch.div(where, width, rounding_mode="floor")
        scale = total.to(torch.float64).clamp(min=tiny).index_select(0, owner)
        values.append(part.index_select(0, where).to(torch.float64).div_(scale))
        parts.append(owner + offset)
    return torch.cat(values), torch.cat(parts)


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
    layer_eps(eps, delta_hat_products, allocation=True)  # (the checks)
    at = _network_draws_at(tables, delta_hat_products, delta, eta, K, tight, factors)
    return at(eps)


def _network_draws_at(
    tables: Sequence[PartTable],
    delta_hat_products: np.ndarray,
    delta: float,
    eta: int,
    K: float,
    tight: bool,
    factors: Sequence[float],
) -> Callable[[float], list[np.ndarray]]:
    """:func:`draws_for_network_eps` as a function of ``eps`` (> 0) alone, its other
    arguments checked once: what the budget solve evaluates at every step."""
    products = np.asarray(delta_hat_products, dtype=np.float64)
    layer_eps(1.0, products, allocation=True)  # (the checks)
    counts = [_draw_count_at(table.totals, delta, eta, K, tight) for table in tables]

    def at(eps: float) -> list[np.ndarray]:
        eps_layers = _layer_eps(eps, products)
        return [
            _whole_draws(count(float(e)) * factor)
            for count, e, factor in zip(counts, eps_layers, factors, strict=True)
        ]

    return at


def layer_draws(
    table: PartTable, eps_layer: float, delta: float, eta: int, K: float, tight: bool, factor: float
) -> np.ndarray:
    r"""Draws per part of one layer: :math:`\lceil c\, m(\mathcal{S}, \varepsilon_\ell)\rceil`."""
    return _whole_draws(_draws_for_eps(table.totals, eps_layer, delta, eta, K, tight) * factor)


def _whole_draws(real: np.ndarray) -> np.ndarray:
    """The ceiling of real-valued draw counts (at most 1e300)."""
    return np.ceil(np.minimum(real, 1e300))


#: The search for the budget's eps stays inside exp(+-700) (float64's range).
_LOG_EPS_LIMIT = 700.0


def _log_draw_slope(eps: float, tight: bool) -> float:
    r""":math:`d\log m/d\log\varepsilon` of the draw formula: -2, or with ``tight``
    (:math:`m \propto (6 + 2\varepsilon)/\varepsilon^2`)
    :math:`2\varepsilon/(6 + 2\varepsilon) - 2`."""
    return 2.0 / (6.0 / eps + 2.0) - 2.0 if tight else -2.0


def _bracket(
    value_at: Callable[[float], float], budget: float, K: float, factors: Sequence[float]
) -> tuple[float, float, float, float]:
    r"""A bracket ``(lo, hi, E(lo), E(hi))`` of :math:`t = \log\varepsilon` around the budget.

    The draw counts depend on :math:`\varepsilon` through :math:`cK/\varepsilon^2` (``c``: the
    layer factors), so the search starts at :math:`\tfrac12\log(K\max c) \pm 60` and widens
    by 60 until :math:`E(lo)` reaches the budget (or stops growing: every edge that can be
    sampled is kept) and :math:`E(hi)` falls below it (or stops falling: one draw per part), so
    extreme constants ``K`` get the same kept count as ``K = 1``.
    """
    scale = max((f for f in factors if f > 0), default=1.0)
    centre = 0.5 * (math.log(K) + math.log(scale))
    lo, hi = max(centre - 60.0, -_LOG_EPS_LIMIT), min(centre + 60.0, _LOG_EPS_LIMIT)
    e_lo = value_at(lo)
    while e_lo < budget and lo > -_LOG_EPS_LIMIT:
        lo = max(lo - 60.0, -_LOG_EPS_LIMIT)
        nxt = value_at(lo)
        saturated, e_lo = nxt <= e_lo, nxt
        if saturated:
            break
    e_hi = value_at(hi)
    while e_hi > budget and hi < _LOG_EPS_LIMIT:
        hi = min(hi + 60.0, _LOG_EPS_LIMIT)
        nxt = value_at(hi)
        floor, e_hi = nxt >= e_hi, nxt
        if floor:
            break
    return lo, hi, e_lo, e_hi


def _saturated(tables: Sequence[PartTable], draws: Sequence[np.ndarray]) -> float | None:
    r"""The expected count when every edge is kept surely: the number of edges with
    :math:`q > 0` if :math:`m q \ge 40` for all of them (then :math:`(1-q)^m < 2^{-56}`),
    else None."""
    total = 0.0
    for tb, m in zip(tables, draws, strict=True):
        if tb.sensitivity is not None:  # large layers: per-part extremes, one pass
            counts, smallest = tb.extremes()
            active = counts > 0
            if active.any() and float(np.min(np.asarray(m)[active] * smallest[active])) < 40:
                return None
            total += float(counts.sum())
            continue
        if tb.values.numel() == 0:
            continue
        parts, lowest = tb.active_and_smallest()
        if float(np.asarray(m)[parts].min()) * lowest < 40.0:
            return None
        total += tb.values.numel()
    return total


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
    r"""The shared :math:`\varepsilon` whose expected kept-edge count is ``budget``.

    :math:`E(t)`, the expected count at :math:`\varepsilon = e^t`, is non-increasing in
    :math:`t`. A safeguarded Newton iteration on
    :math:`\log E(t) - \log\text{budget}` inside a bracket found around
    :math:`\tfrac12\log(K\max c)` (``_bracket``; a step outside it is replaced by
    bisection) evaluates :math:`E` in float32 (:meth:`PartTable.expected_kept_fast`), and
    with it, where a Newton step needs it (the first step; the later ones are secant steps),

    .. math::

        E'(t) = \frac{d\log m}{dt}\sum_j x_j e^{x_j},\qquad x_j = m\log(1 - q_j)

    (the whole-number rounding of :math:`m` ignored). It starts where the total number of
    draws equals the budget and stops once :math:`|E - \text{budget}| \le`
    ``rtol`` :math:`\cdot\,\text{budget}`: typically 3-5 passes, against 25-40 for a
    bisection. The returned count is then computed in float64, so the result meets
    :math:`|E - \text{budget}| \le (\text{rtol} + 10^{-6})\,\text{budget}`, except where
    the draws being whole numbers make :math:`E` jump over the budget (small networks): the
    search then stops once the bracket is narrower than 1e-7 in :math:`t` (where :math:`E`
    moves only by such jumps) and returns the closest evaluated value. The solution differs
    from a bisection's only within this tolerance.

    Returns ``(eps, draws, expected, capped)``. Raises ``ValueError`` when the budget is below
    the minimum (one draw per active part); a budget at or above the number of sampleable edges
    gets the largest allocation and ``capped=True``.
    """
    evals: dict[float, tuple[float, float]] = {}  # t: (E, E'), E' NaN where not asked for

    network_draws = _network_draws_at(tables, delta_hat_products, delta, eta, K, tight, factors)

    @functools.cache
    def draws_at(t: float) -> list[np.ndarray]:
        return network_draws(math.exp(t))

    def evaluate(t: float, need_slope: bool = False) -> tuple[float, float]:
        if t not in evals or (need_slope and math.isnan(evals[t][1])):  # (E: the same bits)
            draws = draws_at(t)
            pairs = [
                tb.expected_kept_fast(m, slope=need_slope)
                for tb, m in zip(tables, draws, strict=True)
            ]
            value = sum(v for v, _ in pairs)
            slope = -_log_draw_slope(math.exp(t), tight) * sum(d for _, d in pairs)
            evals[t] = (value, slope)
        return evals[t]

    def finish(t: float, capped: bool) -> tuple[float, list[np.ndarray], float, bool]:
        draws = draws_at(t)
        for tb in tables:
            tb.release()
        expected = sum(tb.expected_kept(m) for tb, m in zip(tables, draws, strict=True))
        return math.exp(t), draws, expected, capped

    def value_at(t: float) -> float:
        draws = draws_at(t)
        known = _saturated(tables, draws)  # every edge kept surely
        if known is None and all(np.max(m, initial=0) <= 1 for m in draws):
            known = float(sum(np.count_nonzero(m) for m in draws))  # one draw: one edge
        return known if known is not None else evaluate(t)[0]

    lo, hi, e_lo, e_hi = _bracket(value_at, budget, K, factors)
    if budget > e_lo * (1 - 1e-6):  # the caller reports the cap
        return finish(lo, True)
    if budget < e_hi * (1 - 1e-6):
        _, _, minimum, _ = finish(hi, False)
        raise ValueError(
            f"budget of {budget:.6g} weights is below the minimum of {minimum:.6g}: every "
            "active part keeps at least one edge"
        )
    # Start where the draws add up to the budget (E <= sum of draws, so E(t0) <= budget);
    # the draws scale like exp(-2t) from the bracket's middle.
    mid = 0.5 * (lo + hi)
    total_draws = sum(float(np.sum(m)) for m in draws_at(mid))
    t = float(np.clip(mid + 0.5 * math.log(max(total_draws, 1e-300) / budget), lo, hi))
    prev: tuple[float, float] | None = None  # the last (t, log E - log budget)
    for _ in range(max_iter):
        value = evaluate(t, need_slope=prev is None)[0]  # E' only for a Newton step
        if abs(value - budget) <= rtol * budget or hi - lo < 1e-7:
            break  # (within 1e-7 in log eps, E moves only by jumps of the rounding of m)
        if value > budget:
            lo = t
        else:
            hi = t
        f = math.log(value / budget)
        if prev is not None and prev[1] != f:  # secant: the rounding of m spoils E'
            nxt = t - f * (t - prev[0]) / (f - prev[1])
        else:  # Newton
            slope = evaluate(t, need_slope=True)[1]
            nxt = t - f * value / slope if slope < 0 else math.nan
        prev = (t, f)
        if not lo < nxt < hi:
            nxt = 0.5 * (lo + hi)
        t = nxt
    best = min(evals, key=lambda u: (abs(evals[u][0] - budget), u))
    return finish(best, False)


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
        float(np.max(_certified_eps(m, s, delta, eta, K, tight=True))) if s.size else 0.0
        for s, m in zip(totals, draws, strict=True)
    ]
    per_layer = network_eps(worst_part, delta_hat_products, per_layer=True)
    return float(np.max(per_layer)), [float(v) for v in per_layer]
