r"""The stages of a compression, in the order :func:`~netcoreset.sampler.compress` runs them.

1. :func:`working_copy`: the weights as plain tensors (the caller's model is never touched).
2. :func:`select_points`: :math:`S` (and CoreNet++'s :math:`T`) from :math:`P`, uniformly
   without replacement; :math:`|S|` from :func:`netcoreset.bounds.sensitivity_set_size`.
3. :func:`prune_neurons`: CoreNet+'s removal of the neurons inactive on :math:`S`.
4. :func:`layer_statistics`: sensitivities and mean cancellation of every layer.
5. :func:`error_budget`: :math:`\kappa`, :math:`\hat\Delta^\ell`,
   :math:`\hat\Delta^{\ell\rightarrow}` and the allocation's factors.
6. :func:`allocate_draws`: the draws of every part (guarantee or budget mode).
7. :func:`sample_layers`: each layer compressed by the method's registry function.
8. :func:`certify`: the :math:`\varepsilon` the draws certify, and the size theorem's bound.

Every formula comes from :mod:`netcoreset.bounds`.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import numpy as np
import torch

from netcoreset.bounds import (
    amplified_log_ratio,
    compressed_size_bound,
    delta_hat,
    delta_hat_product,
    kappa,
    layer_eps,
    max_hidden_width,
    max_part_size,
    num_neurons,
    sensitivity_set_size,
)

from ._model import build_sequential, forward_activations, linear_layers
from .allocation import (
    PartTable,
    draws_for_network_eps,
    layer_draws,
    network_certified_eps,
    solve_budget,
)
from .config import CompressionConfig
from .methods import LayerTask, Method
from .prune import prune_inactive_neurons
from .sensitivity import (
    LayerSensitivity,
    augment_inputs,
    empirical_sensitivity,
    relative_cancellation,
    row_blocks,
)

__all__ = [
    "Network",
    "Points",
    "LayerStatistics",
    "ErrorBudget",
    "Allocation",
    "Sampled",
    "Certificate",
    "working_copy",
    "select_points",
    "prune_neurons",
    "layer_statistics",
    "error_budget",
    "allocate_draws",
    "sample_layers",
    "certify",
    "build_model",
    "count_nonzeros",
]

_T = TypeVar("_T")


def _progress(iterable: Iterable[_T], enabled: bool | None, desc: str) -> Iterable[_T]:
    from tqdm.auto import tqdm

    disable = (not sys.stderr.isatty()) if enabled is None else (not enabled)
    return tqdm(iterable, desc=desc, disable=disable, leave=False)


def count_nonzeros(
    weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor | None]
) -> list[int]:
    """Non-zero weights per layer, bias entries included.

    >>> count_nonzeros([torch.eye(2)], [torch.zeros(2)])
    [2]
    """
    return [  # torch.count_nonzero: no tensor-sized temporary, unlike (w != 0).sum()
        int(torch.count_nonzero(w)) + (0 if b is None else int(torch.count_nonzero(b)))
        for w, b in zip(weights, biases, strict=True)
    ]


@dataclass
class Network:
    r"""The working copy: weights and biases as tensors, the widths :math:`(\eta^1, \dots,
    \eta^L)`, :math:`\eta`, :math:`\eta^*`."""

    weights: list[torch.Tensor]
    biases: list[torch.Tensor | None]

    @property
    def arch(self) -> list[int]:
        return [self.weights[0].shape[1]] + [w.shape[0] for w in self.weights]

    @property
    def eta(self) -> int:
        return num_neurons(self.arch)

    @property
    def eta_star(self) -> int:
        return max_hidden_width(self.arch)

    def layers(self) -> list[torch.nn.Linear]:
        """``Linear`` modules on the same tensors (no copy; for forward passes)."""
        net = _shared_sequential(self.weights, self.biases, trainable=False)
        return [mod for mod in net if isinstance(mod, torch.nn.Linear)]


def _shared_sequential(
    weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor | None], trainable: bool
) -> torch.nn.Sequential:
    """``Linear -> ReLU -> ... -> Linear`` whose parameters are the given tensors (no copy)."""
    mods: list[torch.nn.Module] = []
    for idx, (w, b) in enumerate(zip(weights, biases, strict=True)):
        lin = torch.nn.utils.skip_init(
            torch.nn.Linear, w.shape[1], w.shape[0], bias=b is not None, device="meta"
        )
        lin.weight = torch.nn.Parameter(w, requires_grad=trainable)
        if b is not None:
            lin.bias = torch.nn.Parameter(b, requires_grad=trainable)
        mods.append(lin)
        if idx < len(weights) - 1:
            mods.append(torch.nn.ReLU())
    return torch.nn.Sequential(*mods)


def working_copy(layers: Sequence[torch.nn.Linear]) -> Network:
    """The layers' tensors, detached and shared, not copied: no stage writes into them
    (CoreNet+'s pruning makes new ones), so the caller's model is never modified."""
    return Network(
        weights=[lay.weight.detach() for lay in layers],
        biases=[None if lay.bias is None else lay.bias.detach() for lay in layers],
    )


@dataclass
class Points:
    """:math:`S` and :math:`T` (empty unless CoreNet++), and the size the theorem asked for."""

    s: torch.Tensor
    t: torch.Tensor
    requested: int


def select_points(
    x: torch.Tensor,
    net: Network,
    cfg: CompressionConfig,
    method: Method,
    generator: torch.Generator,
    notes: list[str],
) -> Points:
    r""":math:`S` (and :math:`T`) uniformly without replacement from the points ``x``.

    :math:`|S| = \lceil K'\log(8\eta\max(\eta^*, n_{\max})/\delta)\rceil` unless given;
    capped at the data with a warning (appended to ``notes``).
    """
    arch = net.arch
    requested = cfg.sensitivity_set_size
    if requested is None:
        part = max_part_size(arch, net.biases[0] is not None)
        requested = sensitivity_set_size(net.eta, max(net.eta_star, part), cfg.delta, cfg.k_prime)
    n_points = x.shape[0]
    t_requested = 0
    if method.amplify:
        if n_points < 2:
            raise ValueError("CoreNet++ needs at least 2 data points (one for S, one for T)")
        t_requested = requested if cfg.holdout_set_size is None else cfg.holdout_set_size
    s_size = min(requested, n_points - (1 if method.amplify else 0))
    t_size = min(t_requested, n_points - s_size)
    if s_size < requested or t_size < t_requested:
        msg = f"data has {n_points} points: |S| capped at {s_size} (theorem asks {requested})" + (
            f", |T| at {t_size} (asked {t_requested})" if method.amplify else ""
        )
        warnings.warn(msg, stacklevel=4)
        notes.append(msg)
    perm = torch.randperm(n_points, generator=generator).to(x.device)
    return Points(s=x[perm[:s_size]], t=x[perm[s_size : s_size + t_size]], requested=requested)


def prune_neurons(
    net: Network, original: Sequence[torch.nn.Linear], x_s: torch.Tensor
) -> tuple[Network, list[int], list[int]]:
    """CoreNet+: remove neurons inactive on :math:`S`; returns the network and, per layer,
    the pruned and folded counts (0 for the output layer)."""
    _, preacts = forward_activations(original, x_s)
    res = prune_inactive_neurons(net.weights, net.biases, preacts)
    return Network(res.weights, res.biases), res.pruned + [0], res.folded + [0]


@dataclass
class LayerStatistics:
    """One layer's sensitivities, their part table, and the per-neuron mean of
    :math:`\\Delta_i(x)` over :math:`S` (float64)."""

    sensitivity: LayerSensitivity
    table: PartTable
    mean_cancellation: np.ndarray

    def release_edges(self) -> None:
        """Drop the per-edge data once the layer is sampled; the totals stay."""
        empty = self.sensitivity.signed.new_zeros((self.sensitivity.signed.shape[0], 0))
        self.sensitivity = replace(self.sensitivity, signed=empty)
        self.table.sensitivity = None


def _statistics(
    weight: torch.Tensor, bias: torch.Tensor | None, inputs: torch.Tensor, chunk_size: int
) -> LayerStatistics:
    sens = empirical_sensitivity(weight, bias, inputs, chunk_size)
    cancel = relative_cancellation(weight, bias, inputs).double().cpu().numpy()
    return LayerStatistics(sens, PartTable.from_sensitivity(sens), cancel)


def layer_statistics(
    net: Network, x_s: torch.Tensor, cfg: CompressionConfig
) -> list[LayerStatistics]:
    """Sensitivities and cancellation of every layer from the activations of :math:`S`."""
    inputs, preacts = forward_activations(net.layers(), x_s)
    for idx, z in enumerate(preacts):
        if not bool(torch.isfinite(z).all()):
            raise ValueError(
                f"layer {idx}'s pre-activations on S overflow to inf or NaN in {z.dtype}: the "
                "data or the weights are too large for the model's dtype (rescale them)"
            )
    return [
        _statistics(net.weights[idx], net.biases[idx], inputs[idx], cfg.chunk_size)
        for idx in _progress(range(len(net.weights)), cfg.progress, "sensitivities")
    ]


@dataclass
class ErrorBudget:
    r""":math:`\kappa`, :math:`\hat\Delta^\ell` with and without it, the products
    :math:`\hat\Delta^{\ell\rightarrow}` (theorem, empirical, and the allocation's), and
    the per-layer factors on the draws (``draw_scale`` times CoreNet++'s log ratio)."""

    kappa: float
    delta_hat: np.ndarray
    delta_hat_empirical: np.ndarray
    products: np.ndarray
    products_empirical: np.ndarray
    products_allocation: np.ndarray
    factors: list[float]


def error_budget(
    stats: Sequence[LayerStatistics], net: Network, cfg: CompressionConfig
) -> ErrorBudget:
    """The error budget across layers (the certificate always includes :math:`\\kappa`)."""
    kap = kappa(net.eta, net.eta_star, cfg.delta)
    empirical = np.array([delta_hat(s.mean_cancellation, 0.0) for s in stats])
    theorem = empirical + kap
    products, products_emp = delta_hat_product(theorem), delta_hat_product(empirical)
    if cfg.allocation == "theorem":
        alloc = products if cfg.include_kappa else products_emp
    else:  # "uniform": the same eps_l in every layer (Delta-hat taken as 1), a heuristic
        alloc = np.ones(len(stats))
    amp = amplified_log_ratio(net.eta, cfg.delta, cfg.tau) if cfg.tau else 1.0
    factors = [s * amp for s in cfg.draw_scales(len(stats))]
    return ErrorBudget(kap, theorem, empirical, products, products_emp, alloc, factors)


@dataclass
class Allocation:
    """The allocation's :math:`\\varepsilon`, the draws of every part, the expected kept
    count of every layer, and the budget (budget mode)."""

    eps: float
    draws: list[np.ndarray]
    expected: list[float]
    budget: float | None


def allocate_draws(
    stats: Sequence[LayerStatistics],
    budget: ErrorBudget,
    net: Network,
    cfg: CompressionConfig,
    nnz_original: int,
    notes: list[str],
    sensitivity_sampling: bool = True,
) -> Allocation:
    """Guarantee mode: the draws for ``cfg.eps``. Budget mode: the shared :math:`\\varepsilon`
    whose expected number of kept edges equals the budget (capped with a warning). A budget
    of every non-zero weight gives a baseline (``sensitivity_sampling=False``) every layer
    whole: the baselines do not depend on the sensitivities on :math:`S`."""
    tables = [s.table for s in stats]
    args = (budget.products_allocation, cfg.delta, net.eta, cfg.K, cfg.tight, budget.factors)
    target = None
    if cfg.mode == "guarantee":
        assert cfg.eps is not None  # guarantee mode
        eps = cfg.eps
        draws = draws_for_network_eps(tables, eps, *args)
    else:
        target = float(cfg.nnz) if cfg.nnz is not None else cfg.budget_fraction() * nnz_original
        eps, draws, expected, capped = solve_budget(tables, target, *args)
        if not sensitivity_sampling and target >= nnz_original:
            whole = [float(n) for n in count_nonzeros(net.weights, net.biases)]
            return Allocation(eps, draws, whole, target)
        if capped:
            msg = (
                f"budget of {target:.6g} weights exceeds the {expected:.6g} edges that can be "
                "sampled (positive sensitivity on S): keeping all of those"
            )
            warnings.warn(msg, stacklevel=4)
            notes.append(msg)
    kept = [t.expected_kept(m) for t, m in zip(tables, draws, strict=True)]
    return Allocation(eps, draws, kept, target)


@dataclass
class Sampled:
    """The compressed weights and biases, and the methods' per-layer figures."""

    weights: list[torch.Tensor] = field(default_factory=list)
    biases: list[torch.Tensor | None] = field(default_factory=list)
    extras: list[dict[str, Any]] = field(default_factory=list)


def _recompute_from_compressed(
    idx: int,
    done: Sampled,
    working: Sequence[torch.nn.Linear],
    net: Network,
    points: Points,
    stats: list[LayerStatistics],
    alloc: Allocation,
    budget: ErrorBudget,
    cfg: CompressionConfig,
) -> torch.Tensor | None:
    """The 'compressed activations' variant: layer ``idx``'s sensitivities from the already
    compressed layers' activations of :math:`S`, draws at the same :math:`\\varepsilon_\\ell`
    (:math:`\\hat\\Delta` stays the original network's). Returns :math:`T`'s new inputs."""
    layers = linear_layers(build_sequential(done.weights, done.biases)) + [working[idx]]
    a_s = forward_activations(layers, points.s)[0][idx]
    stats[idx] = _statistics(net.weights[idx], net.biases[idx], a_s, cfg.chunk_size)
    eps_layer = float(layer_eps(alloc.eps, budget.products_allocation, allocation=True)[idx])
    alloc.draws[idx] = layer_draws(
        stats[idx].table, eps_layer, cfg.delta, net.eta, cfg.K, cfg.tight, budget.factors[idx]
    )
    alloc.expected[idx] = stats[idx].table.expected_kept(alloc.draws[idx])
    return forward_activations(layers, points.t)[0][idx] if points.t.shape[0] else None


def sample_layers(
    method: Method,
    net: Network,
    points: Points,
    stats: list[LayerStatistics],
    alloc: Allocation,
    budget: ErrorBudget,
    cfg: CompressionConfig,
    generator: torch.Generator,
) -> Sampled:
    """Compress every layer with the method's registry function, in order."""
    working = net.layers()
    inputs_t = forward_activations(working, points.t)[0] if method.amplify else []
    done = Sampled()
    for idx in _progress(range(len(net.weights)), cfg.progress, method.name):
        w, b = net.weights[idx], net.biases[idx]
        if cfg.activations == "compressed" and idx > 0:
            new_t = _recompute_from_compressed(
                idx, done, working, net, points, stats, alloc, budget, cfg
            )
            if method.amplify and new_t is not None:
                inputs_t[idx] = new_t
        task = LayerTask(
            weight=w,
            bias=b,
            sensitivity=stats[idx].sensitivity,
            draws=alloc.draws[idx],
            budget=alloc.expected[idx],
            holdout_points=(
                augment_inputs(inputs_t[idx], b is not None)[0] if method.amplify else None
            ),
            tau=cfg.tau,
            generator=generator,
        )
        outcome = method.compress_layer(task)
        del task
        stats[idx].release_edges()  # only the totals are needed from here on
        new_w, new_b = _split_bias(outcome.weight_full, w.shape[1], b is not None)
        if new_w.untyped_storage().data_ptr() == w.untyped_storage().data_ptr():
            new_w = new_w.clone()  # never hand out the caller's tensors
        done.weights.append(new_w)
        done.biases.append(new_b)
        done.extras.append(outcome.extras)
    return done


def _split_bias(
    full: torch.Tensor, cols: int, has_bias: bool
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``(W, b)`` from ``[W, b]``. When ``full`` is a fresh contiguous tensor, ``W`` is packed
    in place, block by block, into the start of its storage (no second copy of the layer)."""
    if not has_bias:
        return full.contiguous(), None
    bias = full[:, cols].clone()
    rows = full.shape[0]
    if not full.is_contiguous() or full._base is not None:
        return full[:, :cols].contiguous(), bias
    flat = full.view(-1)
    for r0, r1 in row_blocks(rows, cols + 1):  # destinations never pass their sources
        block = full[r0:r1, :cols].clone()
        flat[r0 * cols : r1 * cols] = block.view(-1)
    return flat[: rows * cols].view(rows, cols), bias


@dataclass
class Certificate:
    """The theorem's certified :math:`\\varepsilon` (with :math:`\\kappa`), the same with the
    empirical :math:`\\hat\\Delta` only (a heuristic), per layer, and the size bound."""

    eps: float | None
    eps_empirical: float | None
    per_layer: list[float | None]
    nnz_bound: float | None


def certify(
    method: Method,
    stats: Sequence[LayerStatistics],
    alloc: Allocation,
    budget: ErrorBudget,
    net: Network,
    cfg: CompressionConfig,
) -> Certificate:
    """What the realised draws certify (CoreNet methods) and, in guarantee mode, the size
    theorem's bound on the number of non-zero weights."""
    n_layers = len(stats)
    if not method.sensitivity_sampling:
        return Certificate(None, None, [None] * n_layers, None)
    totals = [s.table.totals for s in stats]
    args = (cfg.delta, net.eta, cfg.K)
    eps, per_layer = network_certified_eps(totals, alloc.draws, budget.products, *args)
    eps_emp, _ = network_certified_eps(totals, alloc.draws, budget.products_empirical, *args)
    bound = None
    if cfg.mode == "guarantee":
        per_neuron = [
            (s.sensitivity.total_positive + s.sensitivity.total_negative).double().cpu().numpy()
            for s in stats
        ]
        assert cfg.eps is not None  # guarantee mode
        bound = float(
            compressed_size_bound(
                per_neuron, budget.products, cfg.eps, cfg.delta, net.eta, cfg.K
            ).sum()
        )
    return Certificate(eps, eps_emp, list(per_layer), bound)


def build_model(sampled: Sampled, flatten: bool = False) -> torch.nn.Sequential:
    """The compressed network as a new ``Linear -> ReLU -> ... -> Linear`` that owns the
    sampled tensors (no copy), after an ``nn.Flatten`` when the original starts with one (so
    that it takes the same inputs)."""
    net = _shared_sequential(sampled.weights, sampled.biases, trainable=True)
    return torch.nn.Sequential(torch.nn.Flatten(), *net) if flatten else net
