r"""Baselines at the same per-layer budget (the paper's uniform and norm-based sampling, plus
magnitude pruning and SVD).

Sampling baselines draw ``m`` edges i.i.d. per row, with one ``m`` shared by the rows of a
layer, chosen so that the layer's expected number of distinct kept edges matches its budget,
and reweight unbiasedly, :math:`\hat w_j = c_j w_j / (m q_j)`:

* ``uniform``: :math:`q_j = 1/|\{k: w_k \ne 0\}|`;
* ``l1``: :math:`q_j \propto |w_j|`; ``l2``: :math:`q_j \propto w_j^2` (Achlioptas et al.;
  Drineas & Zouzias);
* ``magnitude``: keep the largest :math:`|w|` of the layer, no reweighting (like
  :func:`torch.nn.utils.prune.l1_unstructured`);
* ``svd``: the best rank-:math:`r` approximation with :math:`r(n_{in} + n_{out}) + n_{bias}`
  parameters within the budget (stored dense).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from .sparsify import multinomial_counts

__all__ = [
    "SAMPLING_BASELINES",
    "baseline_probabilities",
    "sample_layer",
    "magnitude_layer",
    "svd_layer",
]

SAMPLING_BASELINES = ("uniform", "l1", "l2")


def baseline_probabilities(w_full: torch.Tensor, method: str) -> torch.Tensor:
    r"""Row-wise sampling probabilities of a sampling baseline.

    >>> import torch
    >>> baseline_probabilities(torch.tensor([[3.0, -1.0, 0.0]]), "l1")
    tensor([[0.7500, 0.2500, 0.0000]])
    """
    if method == "uniform":
        score = (w_full != 0).to(w_full.dtype)
    elif method == "l1":
        score = w_full.abs()
    elif method == "l2":
        score = w_full * w_full
    else:
        raise ValueError(f"method must be one of {SAMPLING_BASELINES}; got {method!r}")
    total = score.sum(dim=1, keepdim=True)
    return torch.where(total > 0, score / torch.where(total > 0, total, 1.0), 0.0)


def _expected_kept(log1m_q: np.ndarray, q: np.ndarray, m: float) -> float:
    with np.errstate(invalid="ignore"):
        per = -np.expm1(m * log1m_q)
    return float(np.where(q == 0, 0.0, per).sum())


#: Newton steps of the estimate behind :func:`_shared_draws`, and the integers it may walk
#: from that estimate before falling back to bisection.
_NEWTON_STEPS, _WALK_STEPS = 12, 4


def _newton_draws(log1m_q: np.ndarray, budget: float) -> float:
    r"""A real :math:`m` with :math:`f(m) = \sum_j (1 - (1-q_j)^m) \approx` ``budget``:
    Newton's method from :math:`m = 1`. :math:`f` is increasing and concave, so the iterates
    rise monotonically towards the root (each tangent lies above :math:`f`)."""
    m = 1.0
    log1m_q = log1m_q.ravel()
    slope_terms = np.where(np.isfinite(log1m_q), log1m_q, 0.0)
    for _ in range(_NEWTON_STEPS):
        with np.errstate(invalid="ignore", over="ignore"):
            e = np.exp(m * log1m_q)
        value = float(log1m_q.size - e.sum())
        slope = -float(np.dot(slope_terms, e))
        if not (value < budget and slope > 0):
            break
        step = (budget - value) / slope
        m += step
        if step < 0.25 or not math.isfinite(m):
            break
    return m


def _shared_draws(q: torch.Tensor, budget: float) -> int:
    r"""The ``m`` whose expected kept count :math:`f(m)` is closest to ``budget``: of the
    smallest integer with :math:`f(m) \ge` ``budget`` (in ``[1, 2^60]``) and the one below.

    :math:`f` evaluated in float64 is monotone (every term is, and rounded sums of
    non-decreasing terms are), so that integer is unique: found from Newton's estimate by
    checking it and its neighbour, with bisection as the fallback, it is the same integer
    bisection from ``[1, 2]`` with doubling finds."""
    qn = q.detach().cpu().double().numpy()
    with np.errstate(divide="ignore"):
        log1m_q = np.log1p(-np.clip(qn, 0.0, 1.0))
    values: dict[int, float] = {}

    def f(m: int) -> float:
        if m not in values:
            values[m] = _expected_kept(log1m_q, qn, m)
        return values[m]

    hi = _first_reaching(f, budget, _newton_draws(log1m_q, budget))
    if hi is None:
        hi = 1 if f(1) >= budget else _bisect_first_reaching(f, budget)
    if hi == 1:
        return 1
    lo = hi - 1
    return lo if abs(f(lo) - budget) <= abs(f(hi) - budget) else hi


def _first_reaching(f: Callable[[int], float], budget: float, estimate: float) -> int | None:
    """The smallest integer ``h`` in ``[1, 2^60]`` with ``f(h) >= budget`` (and
    ``f(h - 1) < budget`` when ``h > 1``), looked for at most ``_WALK_STEPS`` integers away
    from ``ceil(estimate)`` (None if not there)."""
    if not math.isfinite(estimate):
        return None
    h = int(min(max(math.ceil(estimate), 1), 2**60))
    for _ in range(_WALK_STEPS):
        if f(h) < budget:
            if h >= 2**60:
                return None
            h += 1
        elif h > 1 and f(h - 1) >= budget:
            h -= 1
        else:
            return h
    return None


def _bisect_first_reaching(f: Callable[[int], float], budget: float) -> int:
    """Doubling from 1, then bisection: the smallest ``h`` with ``f(h) >= budget``, capped at
    ``2^60`` (``f(1) < budget``)."""
    lo, hi = 1, 2
    while f(hi) < budget and hi < 2**60:
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if f(mid) < budget:
            lo = mid
        else:
            hi = mid
    return hi


def sample_layer(
    w_full: torch.Tensor, method: str, budget: float, generator: torch.Generator | None
) -> tuple[torch.Tensor, int]:
    """Sample a layer (bias as last column) with a baseline; returns ``(w_hat, m)``.

    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> w_hat, m = sample_layer(torch.ones(4, 100), "uniform", 200.0, g)
    >>> m, int((w_hat != 0).sum()) <= 4 * m
    (69, True)
    """
    q = baseline_probabilities(w_full, method)
    active = q.sum(dim=1) > 0
    m = _shared_draws(q, budget)
    m_rows = torch.where(active, float(m), 0.0).to(torch.float64)
    counts = multinomial_counts(q, m_rows, generator)
    qd = q.to(torch.float64)
    scale = torch.where(counts > 0, counts / (m * torch.where(qd > 0, qd, 1.0)), 0.0)
    return (w_full.to(torch.float64) * scale).to(w_full.dtype), m


def magnitude_layer(w_full: torch.Tensor, budget: float) -> torch.Tensor:
    """Keep the ``round(budget)`` entries of largest magnitude (ties: lowest index first).

    >>> import torch
    >>> magnitude_layer(torch.tensor([[1.0, -3.0], [2.0, 0.5]]), 2)
    tensor([[ 0., -3.],
            [ 2.,  0.]])
    """
    k = int(min(max(round(budget), 0), w_full.numel()))
    flat = w_full.abs().flatten()
    keep = torch.zeros_like(flat, dtype=torch.bool)
    if k:
        order = torch.argsort(flat, descending=True, stable=True)[:k]
        keep[order] = True
    return torch.where(keep.reshape(w_full.shape), w_full, torch.zeros_like(w_full))


def svd_layer(weight: torch.Tensor, bias_params: int, budget: float) -> tuple[torch.Tensor, int]:
    r"""Best rank-:math:`r` approximation of ``weight`` with
    :math:`r = \max(1, \lfloor (B - n_{bias}) / (n_{in} + n_{out}) \rfloor)`.

    Returns ``(dense low-rank weight, r)``.

    >>> import torch
    >>> w, r = svd_layer(torch.eye(3), 0, 6.0)
    >>> r, int(torch.linalg.matrix_rank(w))
    (1, 1)
    """
    n_out, n_in = weight.shape
    r = int(max(1, min(min(n_out, n_in), (budget - bias_params) // (n_in + n_out))))
    if r == min(n_out, n_in):  # full rank: the weight itself, not its rounded reconstruction
        return weight.clone(), r
    u, s, vh = torch.linalg.svd(weight.to(torch.float64), full_matrices=False)
    low = (u[:, :r] * s[:r]) @ vh[:r]
    return low.to(weight.dtype), r
