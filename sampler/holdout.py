r"""``certificate="holdout"``: certify the compressed network itself on held-out points.

Guarantee mode. The draws of the paper's allocation for :math:`\varepsilon` are scaled by
:math:`c_g = 2^{-g}`, :math:`g = 0, \dots, G-1`; candidate :math:`g` is sampled with its own
generator, fixed before :math:`V` is looked at. Its failures :math:`F_g` on the :math:`n`
held-out points are Binomial(:math:`n, p_g`) with :math:`p_g` the candidate's failure
probability on a fresh input, and the exact one-sided Clopper–Pearson bound at level
:math:`\alpha/G` holds for all :math:`G` candidates at once with probability
:math:`\ge 1-\alpha`. A candidate *passes* when
:math:`U_{\alpha/G}(F_g) + \alpha \le \delta`. The search is a bisection on :math:`g`: it
evaluates :math:`g = 0` (the paper's draws), and, if that passes, keeps a passing
:math:`g_{\mathrm{lo}}` and a failing (or absent, :math:`G`) :math:`g_{\mathrm{hi}}` and halves
the gap until :math:`g_{\mathrm{hi}} = g_{\mathrm{lo}} + 1`. It returns candidate
:math:`g_{\mathrm{lo}}`: **a passing candidate whose next smaller scale**
:math:`2^{-(g_{\mathrm{lo}}+1)}` **was evaluated and failed, or the grid's smallest**
(:math:`g_{\mathrm{lo}} = G - 1`), after at most :math:`1 + \lceil\log_2 G\rceil` evaluations.
Failure counts are not monotone in the scale (each candidate is its own random draw), so it
is *not* necessarily the smallest passing candidate: a smaller scale that was not evaluated
may pass too. Whichever candidate is returned,

.. math::

    \mathbb{P}_{\hat\theta, V, x}\bigl(f_{\hat\theta}(x) \notin (1\pm\varepsilon)f_\theta(x)\bigr)
    \le \alpha + (\delta - \alpha) = \delta,

with no assumption beyond :math:`V` being i.i.d. from :math:`\mathcal{D}`, disjoint from
:math:`S` and :math:`T`, and independent of the network's training and of the sampling: the
points passed to :func:`~netcoreset.sampler.compress` must not include the points the network
was trained on (on those its outputs are not those of a fresh input), so pass a validation or
test split, never the training set. When no candidate passes, the original network is
returned (it fails nowhere). The bisection assumes nothing for validity (no monotonicity): the
union bound covers every candidate whether or not it is evaluated.

Budget mode. The one network of the budget is certified at the :math:`\varepsilon` given by
an order statistic of its worst relative errors on :math:`V`
(:func:`netcoreset.bounds.order_statistic_rank` at :math:`p = \delta - \alpha`).
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from netcoreset.bounds import (
    holdout_certified_delta,
    max_holdout_failures,
    order_statistic_rank,
    quantile_exceedance,
)

from ._model import build_sequential
from .certificate import holdout_failures, worst_relative_errors
from .config import CompressionConfig
from .criteria import criterion_failures, criterion_scores, get_criterion
from .methods import Method
from .pipeline import (
    Allocation,
    Certificate,
    ErrorBudget,
    LayerStatistics,
    Network,
    Points,
    Sampled,
    allocate_draws,
    build_model,
    certify,
    sample_layers,
)

__all__ = [
    "HOLDOUT_GRID",
    "HOLDOUT_ALPHA_FRACTION",
    "HoldoutOutcome",
    "holdout_search",
    "sample_and_certify",
]

#: Number of candidate scales :math:`2^{-g}`, :math:`g < G` (down to about :math:`10^{-19}`).
HOLDOUT_GRID = 64
#: :math:`\alpha = \delta \cdot` this fraction is spent on the confidence of the binomial bound.
HOLDOUT_ALPHA_FRACTION = 0.1


@dataclass
class HoldoutOutcome:
    """The held-out certificate: the returned candidate's scale (``None``: the original
    network), its failures among ``points``, the confidence ``alpha``, the number of
    ``candidates`` of the union bound, the largest admissible failure count, the certified
    ``(eps, delta)`` and every evaluated ``(scale, failures)`` pair."""

    points: int
    alpha: float
    candidates: int
    max_failures: int
    scale: float | None
    failures: int
    eps: float | None
    delta: float | None
    evaluated: list[list[float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@torch.no_grad()
def _outputs(
    weights: Sequence[torch.Tensor], biases: Sequence[Any], x: torch.Tensor
) -> torch.Tensor:
    """The network's outputs on ``x`` without building modules (the search evaluates many)."""
    a = x
    for idx, (w, b) in enumerate(zip(weights, biases, strict=True)):
        a = torch.nn.functional.linear(a, w, b)
        if idx < len(weights) - 1:
            a = torch.relu(a)
    return a


def _own_copies(stats: Sequence[LayerStatistics]) -> list[LayerStatistics]:
    """Shallow copies a candidate may release (:meth:`LayerStatistics.release_edges`) without
    touching the statistics the next candidate samples from."""
    return [dataclasses.replace(s, table=copy.copy(s.table)) for s in stats]


def _reference(original: Sequence[torch.nn.Linear]) -> torch.nn.Sequential:
    return build_sequential(
        [lay.weight.detach() for lay in original],
        [None if lay.bias is None else lay.bias.detach() for lay in original],
    )


def _exact(original: Sequence[torch.nn.Linear]) -> Sampled:
    return Sampled(
        weights=[lay.weight.detach().clone() for lay in original],
        biases=[None if lay.bias is None else lay.bias.detach().clone() for lay in original],
        extras=[{} for _ in original],
    )


def holdout_search(
    method: Method,
    net: Network,
    original: Sequence[torch.nn.Linear],
    points: Points,
    stats: list[LayerStatistics],
    budget: ErrorBudget,
    cfg: CompressionConfig,
    generator: torch.Generator,
    base_seed: int,
    nnz_original: int,
    notes: list[str],
) -> tuple[Allocation, Sampled, Certificate, HoldoutOutcome]:
    """Run the held-out certificate (see the module); returns the allocation, the sampled
    layers, the certificate and the details for the report.

    Guarantee mode returns the passing candidate the bisection ends on: it passes, and the
    next smaller scale was evaluated and failed (or it is the grid's smallest); not
    necessarily the smallest passing scale, since failure counts are not monotone in the
    scale. ``HoldoutOutcome.evaluated`` lists every evaluated scale with its failures."""
    n = int(points.v.shape[0])
    alpha = HOLDOUT_ALPHA_FRACTION * cfg.delta
    n_layers = len(stats)
    if cfg.mode == "budget":
        alloc = allocate_draws(stats, budget, net, cfg, nnz_original, notes)
        sampled = sample_layers(method, net, points, stats, alloc, budget, cfg, generator, True)
        reference = _reference(original)
        return (alloc, sampled, *_budget_certificate(sampled, reference, points, cfg, alpha))
    eps = cfg.eps
    assert eps is not None  # guarantee mode
    grid = HOLDOUT_GRID
    f_max = max_holdout_failures(n, cfg.delta, alpha, grid) if n else -1
    if f_max < 0:
        need = math.ceil(math.log(grid / alpha) / -math.log1p(-(cfg.delta - alpha)))
        raise ValueError(
            f"certificate='holdout' needs at least {need} held-out points for delta="
            f"{cfg.delta:g}; the data leave {n} after S"
        )
    device = generator.device
    exact = _outputs([lay.weight for lay in original], [lay.bias for lay in original], points.v)
    evaluated: dict[int, tuple[Allocation, Sampled, int]] = {}

    def candidate(g: int) -> tuple[Allocation, Sampled, int]:
        if g not in evaluated:
            scaled = dataclasses.replace(budget, factors=[f * 2.0**-g for f in budget.factors])
            own = _own_copies(stats)  # sampling releases a layer's per-edge data
            alloc = allocate_draws(own, scaled, net, cfg, nnz_original, [])
            gen = torch.Generator(device=device).manual_seed(base_seed + g)
            sampled = sample_layers(method, net, points, own, alloc, scaled, cfg, gen)
            out = _outputs(sampled.weights, sampled.biases, points.v)
            fails = _failures(cfg, out, exact, points.v, eps)
            evaluated[g] = (alloc, sampled, fails)
        return evaluated[g]

    # invariant: candidate `good` passes; `bad` failed or is the grid's end (never evaluated)
    good, bad = -1, grid
    if candidate(0)[2] <= f_max:
        good = 0
        while bad - good > 1:
            mid = (good + bad) // 2
            if candidate(mid)[2] <= f_max:
                good = mid
            else:
                bad = mid
    trail = [[2.0**-g, evaluated[g][2]] for g in sorted(evaluated)]
    if good < 0:
        notes.append(
            f"certificate='holdout': even the theorem's draws fail on {evaluated[0][2]} of {n} "
            f"held-out points (at most {f_max} pass): returning the original network"
        )
        alloc = evaluated[0][0]
        outcome = HoldoutOutcome(n, alpha, grid, f_max, None, 0, cfg.eps, 0.0, trail)
        cert = Certificate(cfg.eps, None, [None] * n_layers, None, 0.0)
        return alloc, _exact(original), cert, outcome
    alloc, sampled, fails = evaluated[good]
    delta_cert = holdout_certified_delta(fails, n, alpha, grid)
    outcome = HoldoutOutcome(n, alpha, grid, f_max, 2.0**-good, fails, cfg.eps, delta_cert, trail)
    cert = Certificate(cfg.eps, None, [None] * n_layers, None, delta_cert)
    return alloc, sampled, cert, outcome


def _failures(
    cfg: CompressionConfig, out: torch.Tensor, exact: torch.Tensor, v: torch.Tensor, eps: float
) -> int:
    """Held-out points failing ``cfg.criterion`` at ``eps`` (the entry-wise count as before)."""
    if cfg.criterion == "entrywise":
        return holdout_failures(out, exact, v, eps)
    tol = eps if get_criterion(cfg.criterion).uses_eps else None
    return int(criterion_failures(cfg.criterion, out, exact, tol).sum())


@torch.no_grad()
def _scores(
    cfg: CompressionConfig, compressed: torch.nn.Module, reference: torch.nn.Module, v: torch.Tensor
) -> np.ndarray:
    """Per held-out point, the smallest eps at which it passes ``cfg.criterion``."""
    if cfg.criterion == "entrywise":
        return worst_relative_errors(compressed, reference, v)
    return criterion_scores(cfg.criterion, compressed(v), reference(v))


def _budget_certificate(
    sampled: Sampled,
    reference: torch.nn.Module,
    points: Points,
    cfg: CompressionConfig,
    alpha: float,
) -> tuple[Certificate, HoldoutOutcome]:
    n = int(points.v.shape[0])
    n_layers = len(sampled.weights)
    rank = order_statistic_rank(n, cfg.delta - alpha, alpha) if n else None
    if rank is None:
        outcome = HoldoutOutcome(n, alpha, 1, -1, 1.0, 0, None, None, [])
        return Certificate(None, None, [None] * n_layers, None, None), outcome
    worst = np.sort(_scores(cfg, build_model(sampled), reference, points.v))[::-1]
    eps = float(worst[rank - 1])
    delta_cert = min(1.0, quantile_exceedance(n, rank, alpha) + alpha)
    fails = int((worst > eps).sum())
    outcome = HoldoutOutcome(n, alpha, 1, rank - 1, 1.0, fails, eps, delta_cert, [])
    certified = eps if math.isfinite(eps) else None
    cert = Certificate(certified, None, [None] * n_layers, None, delta_cert)
    return cert, outcome


def sample_and_certify(
    method: Method,
    net: Network,
    original: Sequence[torch.nn.Linear],
    points: Points,
    stats: list[LayerStatistics],
    budget: ErrorBudget,
    cfg: CompressionConfig,
    generators: tuple[torch.Generator, torch.Generator],
    nnz_original: int,
    notes: list[str],
) -> tuple[Allocation, Sampled, Certificate, HoldoutOutcome | None]:
    """Allocate, sample and certify: the held-out search for ``certificate="holdout"``
    (CoreNet methods), otherwise one allocation, one sample and the theorem's certificate
    (:func:`~netcoreset.sampler.pipeline.certify`). ``generators`` is ``(cpu, device)``."""
    cpu_gen, dev_gen = generators
    if cfg.certificate == "holdout" and method.sensitivity_sampling:
        base_seed = int(torch.randint(0, 2**62, (1,), generator=cpu_gen).item())
        return holdout_search(
            method, net, original, points, stats, budget, cfg, dev_gen, base_seed,
            nnz_original, notes,
        )  # fmt: skip
    alloc = allocate_draws(
        stats, budget, net, cfg, nnz_original, notes, method.sensitivity_sampling
    )
    sampled = sample_layers(method, net, points, stats, alloc, budget, cfg, dev_gen, True)
    return alloc, sampled, certify(method, stats, alloc, budget, net, cfg), None
