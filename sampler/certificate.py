r"""Held-out checks behind the certificates of :func:`~netcoreset.sampler.compress`.

Points :math:`V \subset P` that are in neither :math:`S` nor CoreNet++'s :math:`T` are
i.i.d. from :math:`\mathcal{D}` and independent of the sensitivities, provided the points
given to :func:`~netcoreset.sampler.compress` are independent of the network's training (a
validation or test split, not the training set: on training points the network is not
evaluated at fresh inputs); they give three statements (derived on the theory page *Tight
certificates*):

* :func:`coverage_ratios` / :func:`estimate_coverage` — **the constant of Lemma 1**.
  Bernstein's range and variance bounds need :math:`g_j(x) \le C s_j` for every edge of every
  part at the fresh input. :math:`\Lambda(x) = \max g_j(x)/s_j` is observable, so its
  :math:`k`-th largest value on :math:`V` is a constant :math:`C` with
  :math:`\mathbb{P}_x(\Lambda(x) > C) \le p` at confidence :math:`1-\alpha`
  (:func:`netcoreset.bounds.order_statistic_rank`, the rank among candidates fixed before
  :math:`V` is seen). This is the documented, conservative estimate of :math:`K` that
  guarantee mode uses when ``K`` is not given; a given ``K`` is checked on the same ratios
  (``given_coverage``). An edge that is zero on all of :math:`S` but carries mass at
  :math:`x` makes :math:`\Lambda(x) = \infty`: the input violates Assumption 1 (no finite
  :math:`K` covers it); such inputs are counted, reported and charged in the certified
  :math:`\delta`.
* :func:`cancellation_exceedances` — **the check of** :math:`\hat\Delta^\ell`: how many points of
  :math:`V` have :math:`\max_i \Delta^\ell_i(x) > \hat\Delta^\ell` for some layer, the event
  :math:`\kappa` is sized for (probability :math:`\delta/4` under the paper's tail
  assumption); the certificate charges its Clopper–Pearson bound instead of :math:`\delta/4`.
* :func:`holdout_failures` — **the end-to-end count**: inputs of :math:`V` on which a
  compressed network leaves :math:`(1\pm\varepsilon)`.

Everything is computed in float64, whatever the model's dtype.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from netcoreset.bounds.certificate import (
    binomial_upper_bound,
    coverage_ranks,
    quantile_exceedance,
)

from .native import (
    cancellation_exceeds_native,
    coverage_finish_native,
    coverage_part_native,
    coverage_prepare_native,
    transposed_points_native,
)
from .sensitivity import (
    FLOAT64_STORAGE_LIMIT,
    ROW_BLOCK_ELEMENTS,
    LayerSensitivity,
    augment_inputs,
    cancellation_terms,
    max_times_product,
    row_blocks,
)

__all__ = [
    "CoverageEstimate",
    "coverage_ratios",
    "estimate_coverage",
    "given_coverage",
    "cancellation_exceedances",
    "holdout_failures",
    "worst_relative_errors",
    "rounding_eps",
    "layer_inputs",
    "held_out_statistics",
    "chunk_budget",
    "point_chunks",
]


def layer_inputs(
    weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor | None], x: torch.Tensor
) -> list[torch.Tensor]:
    r"""The inputs :math:`a^{\ell-1}(x)` of every layer (no module is built).

    >>> [t.shape for t in layer_inputs([torch.ones(3, 2), torch.ones(1, 3)], [None, None],
    ...                                torch.ones(4, 2))]
    [torch.Size([4, 2]), torch.Size([4, 3])]
    """
    out, a = [], x
    for idx, (w, b) in enumerate(zip(weights, biases, strict=True)):
        out.append(a)
        if idx < len(weights) - 1:
            a = torch.relu_(torch.nn.functional.linear(a, w, b))  # in place: one copy
    return out


@torch.no_grad()
def _part_ratio(
    points_t: torch.Tensor, w_part: torch.Tensor, s: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""max_j g_j(x) / s_j per point, the largest over the rows (CPU, float64; a zero is
    +0), from the points as columns (``points_t`` is inputs x points); inf where an edge
    with s_j = 0 carries mass. The (max, x) product runs rows x points, the orientation the
    kernel vectorises. ``w_part`` and ``s`` are overwritten (the caller's buffers, so a
    block's float64 work is two block-sized buffers and row x point outputs): ``w_part``
    becomes w_j / s_j. Returns ``(ratios, z)``: the ratios per point and the part's sums
    :math:`z^\pm_i(x)`, ``(rows, points)`` (the cancellation check reuses them).

    The elementwise passes run in the compiled kernels where they apply
    (:func:`~netcoreset.sampler.native.coverage_prepare_native`,
    :func:`~netcoreset.sampler.native.coverage_finish_native`), else in torch: the same
    operations, the same bits."""
    z = w_part @ points_t  # (rows, points): the orientation BLAS runs fastest here
    lost = None
    lost_cols = coverage_prepare_native(w_part, s)  # w_part: w_j / s_j; s: never-sampled w_j
    if lost_cols is None:
        lost_cols = _prepare_torch(w_part, s)
    if bool(lost_cols.any()):  # else no input can use such an edge
        # > 0 iff one term is (non-negative terms): only the inputs with such an edge count
        cols = lost_cols.nonzero().squeeze(1)
        lost = s[:, cols] @ points_t[cols]
    top = max_times_product(w_part, points_t)  # (rows, points): max_j w_j a_j(x) / s_j
    ratios = coverage_finish_native(top, z, lost)
    if ratios is None:
        live = z > 0
        lam = torch.where(live, top.div_(z), 0.0)  # (the quotients where z = 0 are not used)
        if lost is not None:
            lam = torch.where(live & (lost > 0), math.inf, lam)
        ratios = lam.amax(dim=0).cpu().add_(0.0)  # -0 + 0 = +0: one zero, whatever the order
    return ratios, z


def _prepare_torch(w_part: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """:func:`~netcoreset.sampler.native.coverage_prepare_native` in torch (any device)."""
    uncovered = s <= 0
    lost_edges = uncovered & (w_part > 0)  # edges never sampled (s_j = 0) that have weight
    never = torch.where(lost_edges, w_part, 0.0)
    torch.div(w_part, s, out=w_part).masked_fill_(uncovered, 0.0)  # w_j / s_j
    s.copy_(never)
    return lost_edges.any(dim=0)


def _exceeds(
    z_pos: torch.Tensor, z_neg: torch.Tensor, split: bool, delta_hat: float
) -> torch.Tensor:
    r"""Per point (column): :math:`\Delta_i(x) > \hat\Delta` for some row, from the parts'
    sums :math:`z^\pm_i` of the coverage check (``(rows, points)``, the points' pieces side
    by side when ``split``): :math:`z = z^+ - z^-` and :math:`\sum_k |w_k a_k| = z^+ + z^-`
    (inputs :math:`a \ge 0`; for a split input, :math:`x^+`'s piece minus :math:`x^-`'s in
    :math:`z`, both added in the magnitude). In the compiled kernel where it applies
    (:func:`~netcoreset.sampler.native.cancellation_exceeds_native`), else in torch, which
    overwrites ``z_pos``."""
    native = cancellation_exceeds_native(z_pos, z_neg, split, delta_hat)
    if native is not None:
        return native
    z = z_pos - z_neg
    mass = z_pos.add_(z_neg)
    if split:
        n = z.shape[1] // 2
        z, mass = z[:, :n] - z[:, n:], mass[:, :n] + mass[:, n:]
    return _delta_exceeds(z, mass, delta_hat, dim=0)


def _delta_exceeds(z: torch.Tensor, mass: torch.Tensor, delta_hat: float, dim: int) -> torch.Tensor:
    r"""Whether :math:`\Delta_i(x) = \sum_k|w_{ik}a_k(x)| / |z_i(x)| > \hat\Delta` for some
    neuron (``dim`` runs over the neurons), on the CPU; :math:`z = 0` with mass is an
    infinite :math:`\Delta`, without mass none."""
    nonzero = z != 0
    ratio = torch.where(nonzero, mass / torch.where(nonzero, z.abs(), 1.0), 0.0)
    ratio = torch.where(~nonzero & (mass > 0), math.inf, ratio)
    return (ratio > float(delta_hat)).any(dim=dim).cpu()


def _blocks(rows: int, cols: int, points: int) -> list[tuple[int, int]]:
    """Row blocks of the coverage check: a block's two float64 buffers (rows x cols: the
    weights, then the ratios, and the sensitivities) and its outputs (rows x points) stay
    near half of :data:`~netcoreset.sampler.sensitivity.ROW_BLOCK_ELEMENTS` values, so the
    float64 copies never scale with the layer (a function of the shapes only, so results
    never depend on memory)."""
    return row_blocks(rows, 2 * max(cols, points))


@torch.no_grad()
def coverage_ratios(
    weights: Sequence[torch.Tensor],
    biases: Sequence[torch.Tensor | None],
    sensitivities: Sequence[LayerSensitivity],
    inputs: Sequence[torch.Tensor],
) -> np.ndarray:
    r""":math:`\Lambda(x) = \max_{\ell, i, \pm, j} g_j(x)/s_j` for every held-out point.

    ``inputs[l]`` holds the original network's inputs :math:`a^{\ell-1}(x)` of layer ``l``
    for the points of :math:`V` (:func:`~netcoreset.sampler.forward_activations`). Inputs of
    both signs are split into :math:`x^\pm` as for :math:`S`, and both pieces count.

    .. math::

        \Lambda(x) = \max_{\ell,\,i,\,\pm}\ \max_{j:\,s_j>0}\frac{g_j(x)}{s_j},
        \qquad \Lambda(x) = \infty \ \text{if}\ \sum_{j:\,s_j=0} w_j a_j(x) > 0 .

    Examples
    --------
    >>> from netcoreset.sampler import empirical_sensitivity
    >>> w = torch.tensor([[1.0, 1.0]], dtype=torch.float64)  # (float32: s rounded up)
    >>> sens = empirical_sensitivity(w, None, w.new_tensor([[1.0, 1.0]]))  # s = (1/2, 1/2)
    >>> coverage_ratios([w], [None], [sens], [w.new_tensor([[3.0, 1.0], [0.0, 2.0]])])
    array([1.5, 2. ])
    """
    out = torch.zeros(inputs[0].shape[0], dtype=torch.float64)
    budget = chunk_budget(weights, biases)
    for w, b, sens, a in zip(weights, biases, sensitivities, inputs, strict=True):
        out = torch.maximum(out, _layer_ratios(w, b, sens, a, budget)[0])
    return out.numpy()


def _layer_ratios(
    w: torch.Tensor,
    b: torch.Tensor | None,
    sens: LayerSensitivity,
    a: torch.Tensor,
    budget: int | None,
    delta_hat: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Lambda of one layer for every point of ``a`` (float64, CPU), chunk by chunk, and,
    given ``delta_hat``, the points with Delta_i(x) > delta_hat for some neuron."""
    out = torch.zeros(a.shape[0], dtype=torch.float64)
    exceeded = None if delta_hat is None else torch.zeros(a.shape[0], dtype=torch.bool)
    values = sens.signed.shape[1] * (2 if budget is not None and bool((a < 0).any()) else 1)
    for p0, p1 in point_chunks(a.shape[0], values, budget):
        out[p0:p1], chunk = _chunk_ratio(w, b, sens, a[p0:p1], delta_hat)
        if exceeded is not None and chunk is not None:
            exceeded[p0:p1] = chunk
    return out, exceeded


def _layer_exceedances(
    w: torch.Tensor,
    b: torch.Tensor | None,
    a: torch.Tensor,
    delta_hat: float,
    budget: int | None,
) -> torch.Tensor:
    """Whether Delta_i(x) > delta_hat for some neuron of one layer, per point of ``a``."""
    out = torch.zeros(a.shape[0], dtype=torch.bool)
    for p0, p1 in point_chunks(a.shape[0], 2 * w.shape[1], budget):  # inputs, magnitudes
        for _, _, z, mass in cancellation_terms(w, b, a[p0:p1]):
            out[p0:p1] |= _delta_exceeds(z, mass, delta_hat, dim=1)
    return out


@torch.no_grad()
def held_out_statistics(
    weights: Sequence[torch.Tensor],
    biases: Sequence[torch.Tensor | None],
    sensitivities: Sequence[LayerSensitivity],
    x: torch.Tensor,
    delta_hats: Sequence[float],
) -> tuple[np.ndarray, np.ndarray]:
    r""":func:`coverage_ratios` and :func:`cancellation_exceedances` of the points ``x`` in
    one pass through the layers, with the inputs :math:`a^{\ell-1}(x)` of one layer held at
    a time (:func:`layer_inputs` keeps every layer's), so the checks of a large network add
    one layer's activations of :math:`V` to the memory, not all of them.

    The ratios are those of :func:`coverage_ratios`, bit for bit. The cancellation check
    takes its two sums from the coverage check's GEMMs instead of two GEMMs of its own: with
    :math:`z^\pm_i(x) = \sum_k w^\pm_{ik} a_k(x)` (bias included),

    .. math::

        z_i(x) = z^+_i(x) - z^-_i(x),\qquad
        \sum_k |w_{ik} a_k(x)| = z^+_i(x) + z^-_i(x)\qquad (a \ge 0),

    and for a split input :math:`x = x^+ - x^-` the piece of :math:`x^-` is subtracted in
    :math:`z` and added in the magnitude. These equal :func:`cancellation_exceedances`'s sums
    up to rounding (a few ulps), so a point can only be counted differently when its
    :math:`\Delta^\ell_i(x)` lies within rounding of :math:`\hat\Delta^\ell`; the count is
    reported, and enters neither the draws nor the certificate.

    Returns ``(ratios, exceeded)``: :math:`\Lambda(x)` (float64) and whether
    :math:`\Delta^\ell_i(x) > \hat\Delta^\ell` for some :math:`\ell, i` (bool).

    >>> from netcoreset.sampler import empirical_sensitivity
    >>> w = torch.tensor([[1.0, 1.0]], dtype=torch.float64)
    >>> sens = empirical_sensitivity(w, None, w.new_tensor([[1.0, 1.0]]))
    >>> held_out_statistics([w], [None], [sens], w.new_tensor([[3.0, 1.0], [0.0, 2.0]]), [1.5])
    (array([1.5, 2. ]), array([False, False]))
    """
    budget = chunk_budget(weights, biases)
    ratios = torch.zeros(x.shape[0], dtype=torch.float64)
    exceeded = torch.zeros(x.shape[0], dtype=torch.bool)
    a = x
    layers = zip(weights, biases, sensitivities, delta_hats, strict=True)
    for idx, (w, b, sens, dh) in enumerate(layers):
        layer_ratios, layer_exceeded = _layer_ratios(w, b, sens, a, budget, dh)
        ratios = torch.maximum(ratios, layer_ratios)
        if layer_exceeded is not None:
            exceeded |= layer_exceeded
        if idx < len(weights) - 1:  # as layer_inputs computes it
            a = torch.relu_(torch.nn.functional.linear(a, w, b))  # in place: one copy
    return ratios.numpy(), exceeded.numpy()


def point_chunks(points: int, values: int, budget: int | None) -> list[tuple[int, int]]:
    """``(start, stop)`` of the held-out points a layer's checks take at once, when each
    point needs ``values`` float64 values (its inputs with the bias, twice for split inputs
    or for the cancellation's magnitudes): all of them without a ``budget`` (the networks
    whose layers all have at most
    :data:`~netcoreset.sampler.sensitivity.FLOAT64_STORAGE_LIMIT` entries: one GEMM per
    block of rows, the results of earlier versions), else ``budget // values`` at a time
    (:func:`chunk_budget`), so that their float64 copies stay a small fraction of the
    weights however many points :math:`V` holds; the products are then per chunk, the same
    values up to the GEMM's rounding (a few ulps). A function of the shapes only.

    >>> point_chunks(500, 785, None), point_chunks(300, 2 * 2049, 1 << 19)[:2]
    ([(0, 500)], [(0, 127), (127, 254)])
    """
    if budget is None or points == 0:
        return [(0, points)]
    step = max(1, budget // max(values, 1))
    return [(p0, min(p0 + step, points)) for p0 in range(0, points, step)]


def chunk_budget(
    weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor | None]
) -> int | None:
    """float64 values of held-out points a check holds at once (:func:`point_chunks`):
    None (all points) when every layer has at most ``FLOAT64_STORAGE_LIMIT`` entries, else
    a sixteenth of the network's entries (an eighth of its float32 weight bytes; at least
    ``ROW_BLOCK_ELEMENTS``): few chunks, so that the weights' float64 blocks are rebuilt
    rarely, within the memory of a large network.

    >>> chunk_budget([torch.zeros(300, 784)], [torch.zeros(300)]) is None
    True
    >>> chunk_budget([torch.zeros(4096, 4096)], [None])
    1048576
    """
    entries = [
        w.shape[0] * (w.shape[1] + (b is not None)) for w, b in zip(weights, biases, strict=True)
    ]
    if max(entries, default=0) <= FLOAT64_STORAGE_LIMIT:
        return None
    return max(ROW_BLOCK_ELEMENTS, sum(entries) // 16)


def _chunk_ratio(
    w: torch.Tensor,
    b: torch.Tensor | None,
    sens: LayerSensitivity,
    a: torch.Tensor,
    delta_hat: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Lambda of one layer for the points ``a`` (both parts, both pieces of a split input)
    and, given ``delta_hat``, whether Delta_i(x) > delta_hat for some neuron (from the same
    GEMMs: :func:`_exceeds`)."""
    n = a.shape[0]
    # inputs x points (the GEMMs and the kernel), written once in that layout
    points_t, split = transposed_points_native(a, b is not None), False
    if points_t is None:  # no kernel, or signed inputs (split)
        points_t, split = augment_inputs(a, b is not None, torch.float64, transposed=True)
    out = torch.zeros(n, dtype=torch.float64)
    exceeded = None if delta_hat is None else torch.zeros(n, dtype=torch.bool)
    blocks = _blocks(w.shape[0], *points_t.shape)
    cols = w.shape[1]
    # two float64 buffers for every block and part (no churn): +-[W, b] and +-(s+ - s-)
    w_buf, s_buf = (points_t.new_empty((blocks[0][1], points_t.shape[0])) for _ in range(2))
    for r0, r1 in blocks:
        w_part, s = w_buf[: r1 - r0], s_buf[: r1 - r0]
        sums: list[torch.Tensor] = []
        for sign in (1.0, -1.0):  # one part at a time (exact casts, negations and clamps)
            bias = None if b is None else b[r0:r1]
            if not coverage_part_native(w[r0:r1], bias, sens.signed[r0:r1], sign < 0, w_part, s):
                w_part[:, :cols].copy_(w[r0:r1])
                if bias is not None:
                    w_part[:, cols].copy_(bias)
                s.copy_(sens.signed[r0:r1])
                if sign < 0:
                    w_part.neg_()
                    s.neg_()
                w_part.clamp_(min=0)
                s.clamp_(min=0)
            lam, z = _part_ratio(points_t, w_part, s)
            if exceeded is not None:
                sums.append(z)
            if split:  # the x+ and x- pieces of the same input
                lam = torch.maximum(lam[:n], lam[n:])
            out = torch.maximum(out, lam)
        if exceeded is not None and delta_hat is not None:
            exceeded |= _exceeds(sums[0], sums[1], split, delta_hat)
    return out, exceeded


@dataclass(frozen=True)
class CoverageEstimate:
    r"""A held-out estimate of Lemma 1's constant (see :func:`estimate_coverage`).

    ``K`` is the rank-``rank`` largest :math:`\Lambda` of ``points`` held-out values, the rank
    chosen among ``candidates`` fixed in advance (:func:`estimate_coverage`), or a constant
    given before :math:`V` was seen (``rank`` None, ``given_coverage``);
    :math:`\mathbb{P}_x(\Lambda(x) > K) \le` ``exceedance`` except with probability ``alpha``,
    so the coverage event costs ``failure_probability`` in the union bound.
    ``violating_points`` inputs activate an edge that is zero on all of :math:`S`
    (:math:`\Lambda = \infty`: Assumption 1 fails for them); ``exceeding`` inputs have
    :math:`\Lambda(x) > K` (the violating ones among them).

    >>> est = estimate_coverage(np.array([1.0, 2.0, 3.0, np.inf]), 0.5, 0.5)
    >>> est.K, est.rank, est.violating_points
    (3.0, 2, 1)
    """

    K: float
    rank: int | None
    points: int
    exceedance: float
    alpha: float
    violating_points: int
    largest_finite: float
    candidates: int = 1
    exceeding: int = 0

    @property
    def failure_probability(self) -> float:
        """``exceedance + alpha`` (capped at 1): the coverage event's share of the union bound."""
        return min(1.0, self.exceedance + self.alpha)

    @property
    def violating_fraction(self) -> float:
        return self.violating_points / self.points if self.points else 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["failure_probability"] = self.failure_probability
        return d


def estimate_coverage(ratios: np.ndarray, p: float, alpha: float) -> CoverageEstimate:
    r"""Lemma 1's constant from held-out coverage ratios: an order statistic with a certified
    exceedance.

    The candidate ranks and their levels :math:`\beta_k` are fixed before the values are
    seen (``netcoreset.bounds.certificate.coverage_ranks`` ``(n, p, alpha)``: the largest
    rank certified for :math:`p` at :math:`\alpha/2`, then a geometric ladder up to
    :math:`n` sharing the other :math:`\alpha/2`). The estimate takes the first of them whose
    value is finite: with :math:`v` violating points (:math:`\Lambda = \infty`) that is the
    first candidate rank above :math:`v`, and its certified exceedance
    :math:`B^{-1}(1-\beta_k; k, n-k+1)` is at least about :math:`v/n`: the violations are
    charged in the certificate. The union bound over the candidates makes the choice after
    seeing :math:`V` cost nothing more than :math:`\alpha`:

    .. math::

        C = \Lambda_{[k]},\qquad
        \mathbb{P}_V\bigl(\mathbb{P}_x(\Lambda(x) > C) > B^{-1}(1-\beta_k; k, n-k+1)\bigr)
        \le \alpha .

    When every candidate rank's value is infinite, no constant is certified (``K`` infinite,
    exceedance 1).

    Examples
    --------
    >>> est = estimate_coverage(np.linspace(1.0, 2.0, 1000), 0.01, 0.01)
    >>> est.rank, round(est.K, 4), est.exceedance <= 0.01
    (3, 1.998, True)
    """
    values = np.asarray(ratios, dtype=np.float64).ravel()
    n = values.size
    if n == 0:
        raise ValueError("the coverage estimate needs at least one held-out point")
    ranks = coverage_ranks(n, p, alpha)
    finite = np.sort(values[np.isfinite(values)])[::-1]
    violating = n - finite.size
    rank, level = next(((k, lev) for k, lev in ranks if k > violating), (None, alpha))
    K = math.inf if rank is None else float(finite[rank - violating - 1])
    exceedance = 1.0 if rank is None else quantile_exceedance(n, rank, level)
    largest = float(finite[0]) if finite.size else math.inf
    exceeding = int((values > K).sum())
    return CoverageEstimate(
        K, rank, n, exceedance, alpha, violating, largest, len(ranks), exceeding
    )


def given_coverage(ratios: np.ndarray, constant: float, alpha: float) -> CoverageEstimate:
    r"""What held-out coverage ratios say about a constant fixed before they were seen (a
    given :math:`K`): the points with :math:`\Lambda(x) > C` (violating points, with
    :math:`\Lambda = \infty`, included) are counted and charged by their exact
    Clopper–Pearson bound at level :math:`\alpha`
    (:func:`netcoreset.bounds.certificate.event_charge`), whatever Assumption 1 claims:

    .. math::

        \mathbb{P}_V\Bigl(\mathbb{P}_x(\Lambda(x) > C) >
        U_\alpha\bigl(\#\{x \in V: \Lambda(x) > C\}\bigr)\Bigr) \le \alpha .

    >>> est = given_coverage(np.array([1.0, 2.0, 3.0, np.inf]), 2.5, 0.1)
    >>> est.exceeding, est.violating_points, round(est.exceedance, 3)
    (2, 1, 0.857)
    """
    values = np.asarray(ratios, dtype=np.float64).ravel()
    n = values.size
    if n == 0:
        raise ValueError("the coverage check needs at least one held-out point")
    finite = values[np.isfinite(values)]
    exceeding = int((values > constant).sum())
    exceedance = binomial_upper_bound(exceeding, n, alpha)
    largest = float(finite.max()) if finite.size else math.inf
    return CoverageEstimate(
        float(constant), None, n, exceedance, alpha, n - finite.size, largest, 1, exceeding
    )


@torch.no_grad()
def cancellation_exceedances(
    weights: Sequence[torch.Tensor],
    biases: Sequence[torch.Tensor | None],
    inputs: Sequence[torch.Tensor],
    delta_hats: Sequence[float],
) -> np.ndarray:
    r"""Which held-out points have :math:`\Delta^\ell_i(x) > \hat\Delta^\ell` for some
    :math:`\ell, i` (float64; a neuron with :math:`z_i(x) = 0` but :math:`\sum_k|w_ka_k| > 0`
    has :math:`\Delta = \infty`).

    .. math::

        \Delta^\ell_i(x) = \frac{\sum_k |w_{ik}a_k(x)|}{|\sum_k w_{ik}a_k(x)|}

    Examples
    --------
    >>> w = torch.tensor([[1.0, -1.0]])
    >>> cancellation_exceedances([w], [None], [torch.tensor([[3.0, 1.0], [2.0, 1.5]])], [3.0])
    array([False,  True])
    """
    out = torch.zeros(inputs[0].shape[0], dtype=torch.bool)
    budget = chunk_budget(weights, biases)
    for w, b, a, dh in zip(weights, biases, inputs, delta_hats, strict=True):
        out |= _layer_exceedances(w, b, a, dh, budget)
    return out.numpy()


@torch.no_grad()
def worst_relative_errors(
    compressed: torch.nn.Module, original: torch.nn.Module, points: torch.Tensor
) -> np.ndarray:
    r""":math:`W(x) = \max_k |f_{\hat\theta}(x)_k - f_\theta(x)_k| / |f_\theta(x)_k|` per point
    (float64; an entry with :math:`f_k = 0` counts :math:`\infty` unless :math:`\hat f_k = 0`).

    >>> lin = torch.nn.Linear(2, 2)
    >>> worst_relative_errors(lin, lin, torch.ones(3, 2)).tolist()
    [0.0, 0.0, 0.0]
    """
    exact = original(points).to(torch.float64)
    approx = compressed(points).to(torch.float64)
    diff = (approx - exact).abs()
    mag = exact.abs()
    ratio = torch.where(mag > 0, diff / torch.where(mag > 0, mag, 1.0), 0.0)
    ratio = torch.where((mag == 0) & (diff > 0), math.inf, ratio)
    ratio = torch.where(torch.isnan(diff), math.inf, ratio)
    return ratio.amax(dim=1).cpu().numpy()


@torch.no_grad()
def holdout_failures(
    compressed: torch.nn.Module | torch.Tensor,
    original: torch.nn.Module | torch.Tensor,
    points: torch.Tensor,
    eps: float,
) -> int:
    r"""How many points leave :math:`(1\pm\varepsilon)`: :math:`\#\{x \in V : \exists k:
    |f_{\hat\theta}(x)_k - f_\theta(x)_k| > \varepsilon|f_\theta(x)_k|\}` (float64).
    ``compressed`` and ``original`` are networks or their outputs on ``points``.

    >>> lin = torch.nn.Linear(2, 2)
    >>> holdout_failures(lin, lin, torch.ones(3, 2), 0.1)
    0
    """
    exact = (original if isinstance(original, torch.Tensor) else original(points)).double()
    approx = (compressed if isinstance(compressed, torch.Tensor) else compressed(points)).double()
    diff = (approx - exact).abs()
    fails = (diff > eps * exact.abs()).any(dim=1) | torch.isnan(diff).any(dim=1)
    return int(fails.sum())


def rounding_eps(dtype: torch.dtype, part_size: int) -> float:
    r"""The relative rounding error of one dot product of ``part_size`` terms in ``dtype``.

    .. math::

        \gamma_n = \frac{n u}{1 - n u},\qquad u = \tfrac12\,\mathrm{eps}(\text{dtype}),

    the classical bound :math:`|\mathrm{fl}(w^\top a) - w^\top a| \le \gamma_n |w|^\top|a|`
    (Higham, *Accuracy and Stability of Numerical Algorithms*, 2002, eq. (3.4)). A certified
    :math:`\varepsilon` below it is smaller than what evaluating one layer in that dtype can
    change: it is reported, but not as a meaningful accuracy.

    >>> f"{rounding_eps(torch.float32, 785):.2e}"
    '4.68e-05'
    """
    u = torch.finfo(dtype).eps / 2.0
    nu = part_size * u
    return nu / (1.0 - nu) if nu < 1 else math.inf
