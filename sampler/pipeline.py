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

import math
import sys
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import numpy as np
import torch

from netcoreset.bounds import (
    delta_hat,
    delta_hat_product,
    effective_eta,
    eps_prime_exact,
    error_recursion,
    kappa,
    layer_eps,
    lemma1_failure,
    max_hidden_width,
    max_part_size,
    network_eps,
    num_neurons,
    sensitivity_set_size,
)
from netcoreset.bounds.certificate import event_charge

# At the sampler's coverage constant (measured on held-out points, possibly 1), not
# Assumption 1's K > 1 that the public functions require.
from netcoreset.bounds.network import _compressed_size_bound
from netcoreset.bounds.sample_size import _certified_eps

from ._model import Affine, AffineLayer, forward_activations
from .allocation import (
    PartTable,
    draws_for_network_eps,
    layer_draws,
    solve_budget,
)
from .certificate import (
    CoverageEstimate,
    estimate_coverage,
    given_coverage,
    held_out_statistics,
)
from .config import CompressionConfig
from .methods import LayerTask, Method
from .prune import prune_inactive_neurons
from .sensitivity import (
    LayerSensitivity,
    augment_inputs,
    cancellation_and_next_inputs,
    empirical_sensitivity,
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

    def layers(self) -> list[Affine]:
        """The layers' tensors (no copy, no module; for forward passes)."""
        return [Affine(w, b) for w, b in zip(self.weights, self.biases, strict=True)]


def _shared_sequential(
    weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor | None]
) -> torch.nn.Sequential:
    """``Linear -> ReLU -> ... -> Linear`` whose (trainable) parameters are the given tensors
    (no copy)."""
    mods: list[torch.nn.Module] = []
    for idx, (w, b) in enumerate(zip(weights, biases, strict=True)):
        mods.append(_owning_linear(w, b))
        if idx < len(weights) - 1:
            mods.append(torch.nn.ReLU())
    return torch.nn.Sequential(*mods)


def _owning_linear(weight: torch.Tensor, bias: torch.Tensor | None) -> torch.nn.Linear:
    """An ``nn.Linear`` whose parameters are ``weight`` and ``bias`` (no copy), built without
    ``Linear.__init__``'s allocation and initialisation (nor ``skip_init``'s meta module: ten
    times slower than this); the module ``Linear(in, out, bias)`` would be, with these
    parameters.

    >>> lin = _owning_linear(torch.ones(3, 2), None)
    >>> lin, lin.bias, lin(torch.ones(1, 2)).tolist()
    (Linear(in_features=2, out_features=3, bias=False), None, [[2.0, 2.0, 2.0]])
    """
    lin = torch.nn.Linear.__new__(torch.nn.Linear)
    torch.nn.Module.__init__(lin)
    lin.in_features, lin.out_features = int(weight.shape[1]), int(weight.shape[0])
    lin.weight = torch.nn.Parameter(weight)
    if bias is None:
        lin.register_parameter("bias", None)
    else:
        lin.bias = torch.nn.Parameter(bias)
    return lin


def working_copy(layers: Sequence[torch.nn.Linear]) -> Network:
    """The layers' tensors, detached and shared, not copied: no stage writes into them
    (CoreNet+'s pruning makes new ones), so the caller's model is never modified."""
    return Network(
        weights=[lay.weight.detach() for lay in layers],
        biases=[None if lay.bias is None else lay.bias.detach() for lay in layers],
    )


#: Default cap on :math:`|V|`, the held-out points of the certificates (all remaining points
#: of :math:`P` up to this many).
CERTIFICATION_SET_DEFAULT = 2000


@dataclass
class Points:
    """:math:`S`, :math:`T` (empty unless CoreNet++), the held-out points :math:`V` of the
    certificates (the rest of :math:`P`, capped), the size of :math:`S` the theorem asked
    for, and whether the inputs take both signs."""

    s: torch.Tensor
    t: torch.Tensor
    requested: int
    v: torch.Tensor = field(default_factory=lambda: torch.zeros(0))
    signed: bool = False


def select_points(
    x: torch.Tensor,
    net: Network,
    cfg: CompressionConfig,
    method: Method,
    generator: torch.Generator,
    notes: list[str],
) -> Points:
    r""":math:`S` (and :math:`T`, then :math:`V`) uniformly without replacement from ``x``.

    :math:`|S| = \lceil K'\log(8\eta_{\mathrm{eff}}\max(\eta^*, n_{\max})/\delta)\rceil`
    unless given, with :math:`\eta_{\mathrm{eff}}` counting the first layer twice for inputs
    of both signs (:func:`netcoreset.bounds.effective_eta`) and :math:`n_{\max}` every
    layer's fan-in plus its bias (:func:`netcoreset.bounds.max_part_size`); capped at the
    data with a warning (appended to ``notes``). :math:`V` is the rest of the points, at most
    ``certification_set_size`` (default :data:`CERTIFICATION_SET_DEFAULT`); empty when no
    certificate is asked for.
    """
    arch = net.arch
    signed = bool(x.numel()) and bool(x.amin() < 0)  # x is finite (validated)
    requested = cfg.sensitivity_set_size
    if requested is None:
        part = max_part_size(arch, [b is not None for b in net.biases])
        eta_eff = effective_eta(arch, signed_inputs=signed)
        requested = sensitivity_set_size(eta_eff, max(net.eta_star, part), cfg.delta, cfg.k_prime)
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
    start = s_size + t_size
    cap = cfg.certification_set_size or CERTIFICATION_SET_DEFAULT
    wanted = method.sensitivity_sampling and cfg.certificate != "none"
    v_idx = perm[start : start + cap] if wanted else perm[:0]
    return Points(
        s=x[perm[:s_size]],
        t=x[perm[s_size:start]],
        requested=requested,
        v=x[v_idx],
        signed=signed,
    )


def prune_neurons(
    net: Network, original: Sequence[torch.nn.Linear], x_s: torch.Tensor
) -> tuple[Network, list[int], list[int], list[torch.Tensor]]:
    """CoreNet+: remove neurons inactive on :math:`S`; returns the network and, per layer,
    the pruned and folded counts (0 for the output layer) and the kept neurons' indices
    (hidden layers)."""
    _, preacts = forward_activations(original, x_s)
    res = prune_inactive_neurons(net.weights, net.biases, preacts)
    return Network(res.weights, res.biases), res.pruned + [0], res.folded + [0], res.kept


@dataclass
class LayerStatistics:
    """One layer's sensitivities, their part table, and the per-neuron mean of
    :math:`\\Delta_i(x)` over :math:`S` (float64; None when not computed, see
    :func:`needs_cancellation`)."""

    sensitivity: LayerSensitivity
    table: PartTable
    mean_cancellation: np.ndarray | None

    def release_edges(self) -> None:
        """Drop the per-edge data once the layer is sampled; the totals stay."""
        empty = self.sensitivity.signed.new_zeros((self.sensitivity.signed.shape[0], 0))
        self.sensitivity = replace(self.sensitivity, signed=empty)
        self.table.sensitivity = None


def _statistics(
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    inputs: torch.Tensor,
    chunk_size: int,
    inputs_float64: torch.Tensor | None = None,
) -> LayerStatistics:
    """Sensitivities from ``inputs`` (the model's dtype) and the mean cancellation from
    ``inputs_float64`` (default: ``inputs``)."""
    return _statistics_and_next(weight, bias, inputs, chunk_size, inputs_float64, False)[0]


def _statistics_and_next(
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    inputs: torch.Tensor,
    chunk_size: int,
    inputs_float64: torch.Tensor | None,
    with_next: bool,
) -> tuple[LayerStatistics, torch.Tensor | None]:
    """:func:`_statistics` and, with ``with_next``, the next layer's float64 inputs from the
    cancellation's GEMM (:func:`cancellation_and_next_inputs`)."""
    sens = empirical_sensitivity(weight, bias, inputs, chunk_size)
    exact = inputs if inputs_float64 is None else inputs_float64
    cancel, nxt = cancellation_and_next_inputs(weight, bias, exact, with_next)
    stats = LayerStatistics(sens, PartTable.from_sensitivity(sens), cancel.cpu().numpy())
    return stats, nxt


def needs_cancellation(cfg: CompressionConfig) -> bool:
    r"""Whether a compression needs :math:`\hat\Delta^\ell` (the mean cancellation over
    :math:`S`, a float64 pass through the network): for the theorem's certificates
    (``"paper"``, ``"tight"``) and for the theorem's allocation (:math:`\varepsilon_\ell` from
    :math:`\hat\Delta^{\ell\rightarrow}`). Budget mode with the uniform allocation and no
    certificate (the default) or the held-out test uses it nowhere: its draws, the held-out
    test and :func:`~netcoreset.sampler.certify` afterwards do not depend on it.

    >>> cfg = CompressionConfig.create(keep=0.1)
    >>> [needs_cancellation(replace(cfg, certificate=c)) for c in ("none", "holdout", "paper")]
    [False, False, True]
    """
    return cfg.certificate in ("paper", "tight") or cfg.allocation != "uniform"


def layer_statistics(
    net: Network, x_s: torch.Tensor, cfg: CompressionConfig
) -> list[LayerStatistics]:
    """Sensitivities and cancellation of every layer from the activations of :math:`S`; the
    cancellation (:math:`\\hat\\Delta^\\ell`) from activations computed in float64 from the
    float64 weights (:func:`~netcoreset.sampler.sensitivity.next_inputs_float64`'s values,
    taken from the cancellation's own GEMM), so that it does not depend on the model's dtype
    (one layer's float64 inputs held at a time). Without :func:`needs_cancellation`, the
    cancellation is not computed (``mean_cancellation`` is None)."""
    inputs, preacts = forward_activations(net.layers(), x_s)
    for idx, z in enumerate(preacts):
        if not bool(torch.isfinite(z).all()):
            raise ValueError(
                f"layer {idx}'s pre-activations on S overflow to inf or NaN in {z.dtype}: the "
                "data or the weights are too large for the model's dtype (rescale them)"
            )
    out: list[LayerStatistics] = []
    exact = x_s
    cancellation = needs_cancellation(cfg)
    for idx in _progress(range(len(net.weights)), cfg.progress, "sensitivities"):
        w, b = net.weights[idx], net.biases[idx]
        if not cancellation:
            sens = empirical_sensitivity(w, b, inputs[idx], cfg.chunk_size)
            out.append(LayerStatistics(sens, PartTable.from_sensitivity(sens), None))
            continue
        last = idx == len(net.weights) - 1
        stats, nxt = _statistics_and_next(w, b, inputs[idx], cfg.chunk_size, exact, not last)
        out.append(stats)
        exact = exact if nxt is None else nxt
    return out


@dataclass
class ErrorBudget:
    r""":math:`\kappa`, :math:`\hat\Delta^\ell` with and without it, the products
    :math:`\hat\Delta^{\ell\rightarrow}` (theorem, empirical, and the allocation's), the
    per-layer factors on the draws (``draw_scale``), and the constants of the sample size:
    the :math:`\eta` and :math:`\delta` of its :math:`\log(8\eta/\delta)` once every event
    of the union bound is counted (:math:`\eta_{\mathrm{eff}}\tau`, and :math:`2\delta_s`
    for the sampling share :math:`\delta_s`), the coverage constant :math:`K` with its
    source and Lemma 1's factor (3 in the paper, 1 in the tight certificate), the share of
    :math:`\delta` of the coverage event, and the allocation's multiplier on
    :math:`\varepsilon` (1, or :math:`2(L-1)\varepsilon'_{\text{exact}}/\varepsilon`)."""

    kappa: float
    delta_hat: np.ndarray
    delta_hat_empirical: np.ndarray
    products: np.ndarray
    products_empirical: np.ndarray
    products_allocation: np.ndarray
    factors: list[float]
    eta_sampling: int = 1
    delta_sampling: float = 0.1
    K: float = 1.0
    K_source: str = "given"
    lemma_factor: float = 3.0
    coverage_failure: float = 0.0
    eps_multiplier: float = 1.0
    exact_bernstein: bool = False
    cancellation_failure: float | None = None

    def cancellation_charge(self, delta: float) -> float:
        r"""The cancellation event's share of the union bound: its held-out charge
        (:meth:`HeldOutChecks.cancellation_failure`) when there were held-out points, else
        the paper's :math:`\delta/4` (its sub-exponential tail assumption)."""
        return delta / 4.0 if self.cancellation_failure is None else self.cancellation_failure

    def charges(self, delta: float) -> dict[str, list[float]]:
        """Every event of the union bound: ``name -> [charge, share]``, the share being what
        the allocation planned for it (the sampling events get what the allocation gave
        them, so they never exceed it)."""
        sampling = self.delta_sampling / 2.0
        return {
            "sampling": [sampling, sampling],
            "Assumption 1 (coverage)": [self.coverage_failure, delta / 4.0],
            "cancellation (kappa)": [self.cancellation_charge(delta), delta / 4.0],
        }

    @property
    def K_draws(self) -> float:
        """:math:`K` as :func:`netcoreset.bounds.sample_size` takes it (Lemma 1's factor
        folded in: :math:`C/3`)."""
        return self.K if self.lemma_factor == 3.0 else self.K * self.lemma_factor / 3.0


def coverage_share(
    cfg: CompressionConfig,
    points: Points,
    net: Network,
    coverage: CoverageEstimate | None,
) -> tuple[float, float, str]:
    r"""Lemma 1's constant and the probability of its event: ``(K, probability, source)``.

    With ``K`` given and held-out points: the evidence, the Clopper–Pearson charge of the
    points with :math:`\Lambda(x) > C` (:func:`~netcoreset.sampler.certificate.given_coverage`),
    whatever Assumption 1 claims. With ``K`` given and no held-out point: Lemma 1 under
    Assumption 1, :math:`2\eta_{\mathrm{eff}}n e^{-|S|/K'}` at the :math:`|S|` actually used
    (:func:`netcoreset.bounds.lemma1_failure`). Without ``K``: the held-out coverage estimate
    (:func:`~netcoreset.sampler.certificate.estimate_coverage`).
    """
    if cfg.K is not None and coverage is not None:
        src = (
            f"given; checked on {coverage.points} held-out points: {coverage.exceeding} have "
            f"max g_j(x)/s_j > {coverage.K:.4g}"
        )
        return float(cfg.K), coverage.failure_probability, src
    if cfg.K is None and cfg.certificate == "none":
        return 1.0, 1.0, "not estimated (no certificate asked for)"
    if cfg.K is not None:
        part = max(net.eta_star, max_part_size(net.arch, [b is not None for b in net.biases]))
        eta_eff = effective_eta(net.arch, signed_inputs=points.signed)
        prob = lemma1_failure(int(points.s.shape[0]), eta_eff, part, cfg.k_prime)
        return float(cfg.K), prob, "given"
    if coverage is None or not math.isfinite(coverage.K):
        # no held-out point, or every one of them violates: no constant can be certified
        largest = coverage.largest_finite if coverage is not None else math.inf
        K = largest if math.isfinite(largest) else 1.0
        return max(K, 1.0), 1.0, "none: no held-out point certifies a constant"
    src = (
        f"held-out coverage estimate: rank {coverage.rank} of {coverage.points} values of "
        "max g_j(x)/s_j"
    )
    return max(coverage.K, 1.0), coverage.failure_probability, src


def cancellation_bounds(
    stats: Sequence[LayerStatistics], net: Network, delta: float
) -> tuple[float, np.ndarray, np.ndarray]:
    r""":math:`\kappa` and every layer's :math:`\hat\Delta^\ell`, empirical (the mean of
    :math:`\Delta_i(x)` over :math:`S`, worst neuron) and the theorem's (plus
    :math:`\kappa`): ``(kappa, empirical, theorem)``; NaN for a layer whose cancellation was
    not computed."""
    kap = kappa(net.eta, net.eta_star, delta)
    empirical = np.array(
        [
            math.nan if s.mean_cancellation is None else delta_hat(s.mean_cancellation, 0.0)
            for s in stats
        ]
    )
    return kap, empirical, empirical + kap


def error_budget(
    stats: Sequence[LayerStatistics],
    net: Network,
    cfg: CompressionConfig,
    points: Points | None = None,
    coverage: CoverageEstimate | None = None,
    cancellation: float | None = None,
) -> ErrorBudget:
    r"""The error budget across layers (the certificate always includes :math:`\kappa`), and
    the union bound's constants of the sample size (see :class:`ErrorBudget`).
    ``cancellation`` is the held-out charge of the cancellation event
    (:meth:`HeldOutChecks.cancellation_failure`; None: the paper's :math:`\delta/4`)."""
    kap, empirical, theorem = cancellation_bounds(stats, net, cfg.delta)
    if any(s.mean_cancellation is None for s in stats):  # (needs_cancellation): unused
        products = products_emp = np.full(len(stats), math.nan)
    else:
        products, products_emp = delta_hat_product(theorem), delta_hat_product(empirical)
    if cfg.allocation == "theorem":
        alloc = products if cfg.include_kappa else products_emp
    else:  # "uniform": the same eps_l in every layer (Delta-hat taken as 1), a heuristic
        alloc = np.ones(len(stats))
    factors = list(cfg.draw_scales(len(stats)))
    pts = points if points is not None else Points(torch.zeros(0), torch.zeros(0), 1)
    signed = pts.signed or any(s.sensitivity.split_inputs for s in stats[:1])
    pts.signed = signed
    eta_sampling = effective_eta(net.arch, signed_inputs=signed, tau=cfg.tau or 1)
    K, cover_prob, source = coverage_share(cfg, pts, net, coverage)
    tight = cfg.certificate == "tight"
    delta_s = cfg.delta / 2.0
    multiplier = 1.0
    if tight:
        # the sampling events get what the coverage and Delta-hat events leave
        cancel = cfg.delta / 4.0 if cancellation is None else cancellation
        delta_s = max(cfg.delta - cover_prob - cancel, cfg.delta / 2.0)
        if cfg.eps is not None:  # eps_l = eps'_exact / Delta-hat^{l->} (budget mode: bisection)
            n_layers = len(stats)
            multiplier = 2.0 * n_layers * eps_prime_exact(cfg.eps, n_layers) / cfg.eps
    return ErrorBudget(
        kappa=kap,
        delta_hat=theorem,
        delta_hat_empirical=empirical,
        products=products,
        products_empirical=products_emp,
        products_allocation=alloc,
        factors=factors,
        eta_sampling=eta_sampling,
        delta_sampling=min(2.0 * delta_s, 1.0 - 1e-12),
        K=K,
        K_source=source,
        lemma_factor=1.0 if tight else 3.0,
        coverage_failure=cover_prob,
        eps_multiplier=multiplier,
        exact_bernstein=tight or cfg.tight,
        cancellation_failure=cancellation,
    )


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
    args = (
        budget.products_allocation,
        budget.delta_sampling,
        budget.eta_sampling,
        budget.K_draws,
        budget.exact_bernstein,
        budget.factors,
    )
    target = None
    if cfg.mode == "guarantee":
        assert cfg.eps is not None  # guarantee mode
        eps = cfg.eps * budget.eps_multiplier
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
    working: Sequence[AffineLayer],
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
    layers: list[AffineLayer] = [*map(Affine, done.weights, done.biases), working[idx]]
    a_s = forward_activations(layers, points.s)[0][idx]
    stats[idx] = _statistics(net.weights[idx], net.biases[idx], a_s, cfg.chunk_size)
    eps_layer = float(layer_eps(alloc.eps, budget.products_allocation, allocation=True)[idx])
    alloc.draws[idx] = layer_draws(
        stats[idx].table,
        eps_layer,
        budget.delta_sampling,
        budget.eta_sampling,
        budget.K_draws,
        budget.exact_bernstein,
        budget.factors[idx],
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
    consume_sensitivities: bool = False,
) -> Sampled:
    """Compress every layer with the method's registry function, in order.

    With ``consume_sensitivities`` (a caller that samples once) a method may write a layer's
    result into that layer's sensitivities, which are released right after; a caller that
    samples the same statistics again (the held-out search) leaves it off."""
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
            consume_sensitivity=consume_sensitivities,
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
    r"""What the realised draws certify: :math:`\varepsilon` (with :math:`\kappa`), the same
    with the empirical :math:`\hat\Delta` only (a heuristic), per layer, the size bound, and
    the total failure probability :math:`\delta` of the union bound at which they hold."""

    eps: float | None
    eps_empirical: float | None
    per_layer: list[float | None]
    nnz_bound: float | None
    delta: float | None = None


def _worst_part_eps(
    stats: Sequence[LayerStatistics], draws: Sequence[np.ndarray], budget: ErrorBudget
) -> list[float]:
    out = []
    for st, m in zip(stats, draws, strict=True):
        s = st.table.totals
        if not s.size:
            out.append(0.0)
            continue
        eps = _certified_eps(
            m,
            s,
            budget.delta_sampling,
            budget.eta_sampling,
            budget.K,
            tight=True,
            lemma_factor=budget.lemma_factor,
        )
        out.append(float(np.max(eps)))
    return out


def certified_delta(budget: ErrorBudget, cfg: CompressionConfig) -> float:
    r"""The union bound's total (capped at 1): sampling :math:`\delta_s` + the coverage event
    (Assumption 1) + the cancellation event behind :math:`\kappa`, each charged by the
    evidence of the held-out points when there are any (:meth:`ErrorBudget.charges`)."""
    return min(1.0, sum(charge for charge, _ in budget.charges(cfg.delta).values()))


def certify(
    method: Method,
    stats: Sequence[LayerStatistics],
    alloc: Allocation,
    budget: ErrorBudget,
    net: Network,
    cfg: CompressionConfig,
) -> Certificate:
    r"""What the realised draws certify (CoreNet methods) and, in guarantee mode, the size
    theorem's bound on the number of non-zero weights.

    Every part's :math:`\varepsilon` is the exact Bernstein inverse at the draws' union-bound
    level; ``certificate="paper"`` combines the layers as the theorem does,
    :math:`\max_\ell 2(L-1)\hat\Delta^{\ell\rightarrow}\varepsilon_\ell`
    (:func:`netcoreset.bounds.network_eps`), ``"tight"`` by the error recursion
    (:func:`netcoreset.bounds.error_recursion`). A total :math:`\delta \ge 1` certifies
    nothing (``eps`` is then ``None``).
    """
    n_layers = len(stats)
    if not method.sensitivity_sampling or cfg.certificate == "none":
        return Certificate(None, None, [None] * n_layers, None)
    worst = _worst_part_eps(stats, alloc.draws, budget)
    total = certified_delta(budget, cfg)
    if cfg.certificate == "tight":
        per_layer = error_recursion(worst, budget.delta_hat, per_layer=True)
        eps = float(per_layer[-1])
        eps_emp = error_recursion(worst, budget.delta_hat_empirical)
    else:
        per_layer = network_eps(worst, budget.products, per_layer=True)
        eps = float(np.max(per_layer))
        eps_emp = network_eps(worst, budget.products_empirical)
    bound = None
    if cfg.mode == "guarantee" and cfg.certificate == "paper":
        per_neuron = [
            (s.sensitivity.total_positive + s.sensitivity.total_negative).double().cpu().numpy()
            for s in stats
        ]
        assert cfg.eps is not None  # guarantee mode
        bound = float(
            _compressed_size_bound(
                per_neuron,
                budget.products,
                cfg.eps,
                budget.delta_sampling,
                budget.eta_sampling,
                budget.K,
            ).sum()
        )
    if total >= 1.0:
        return Certificate(None, None, [None] * n_layers, bound, total)
    return Certificate(eps, float(eps_emp), [float(v) for v in per_layer], bound, total)


def build_model(sampled: Sampled, flatten: bool = False) -> torch.nn.Sequential:
    """The compressed network as a new ``Linear -> ReLU -> ... -> Linear`` that owns the
    sampled tensors (no copy), after an ``nn.Flatten`` when the original starts with one (so
    that it takes the same inputs)."""
    net = _shared_sequential(sampled.weights, sampled.biases)
    return torch.nn.Sequential(torch.nn.Flatten(), *net) if flatten else net


@dataclass
class HeldOutChecks:
    r"""What the held-out points :math:`V` say about the theorem's hypotheses.

    ``coverage``: the estimate of Lemma 1's constant (``None`` without held-out points);
    ``cancellation_exceeded``: points with :math:`\Delta^\ell_i(x) > \hat\Delta^\ell` for
    some layer (``None`` when not counted); ``pruned_active``: points on which a neuron
    removed by CoreNet+ fires; ``cancellation_alpha``: the level of the cancellation event's
    Clopper–Pearson charge.
    """

    points: int
    coverage: CoverageEstimate | None = None
    pruned_active: int = 0
    cancellation_exceeded: int | None = None
    cancellation_alpha: float = 0.0

    def cancellation_failure(self) -> float | None:
        r"""The cancellation event's charge from the held-out points,
        :math:`U_\alpha(F) + \alpha` (:func:`netcoreset.bounds.certificate.event_charge`)
        for :math:`F` of them with :math:`\Delta^\ell_i(x) > \hat\Delta^\ell`; None
        without held-out points (the paper's :math:`\delta/4` then stands)."""
        if not self.points or self.cancellation_exceeded is None or self.cancellation_alpha <= 0:
            return None
        return event_charge(self.cancellation_exceeded, self.points, self.cancellation_alpha)

    def summary(self, delta: float) -> dict[str, Any]:
        """The checks as a JSON-able dict for the report."""
        out: dict[str, Any] = {"points": self.points, "pruned_neuron_active": self.pruned_active}
        if self.coverage is not None:
            out["coverage"] = self.coverage.to_dict()
        if self.cancellation_exceeded is not None:
            out["cancellation_exceeded"] = self.cancellation_exceeded
            out["cancellation_budget"] = delta / 4.0
            out["cancellation_alpha"] = self.cancellation_alpha
            out["cancellation_charge"] = self.cancellation_failure()
        return out


#: Lemma 1's share of delta (delta/4) split between the exceedance p and the confidence alpha
#: of the held-out coverage estimate (also the level of a given K's check).
COVERAGE_SHARE = 0.125
#: The level of the cancellation event's held-out charge, as a fraction of delta.
CANCELLATION_SHARE = 0.125


def _pruned_activity(
    original: Sequence[torch.nn.Linear], kept: Sequence[torch.Tensor], x: torch.Tensor
) -> torch.Tensor:
    """Per point: does a hidden neuron removed by CoreNet+ have z > 0 in the original net?"""
    _, preacts = forward_activations(original, x)
    active = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
    for z, keep in zip(preacts, kept, strict=False):
        removed = torch.ones(z.shape[1], dtype=torch.bool, device=z.device)
        removed[keep.to(z.device)] = False
        active |= (z[:, removed] > 0).any(dim=1)
    return active.cpu()


def held_out_checks(
    method: Method,
    net: Network,
    original: Sequence[torch.nn.Linear],
    kept: Sequence[torch.Tensor] | None,
    stats: Sequence[LayerStatistics],
    points: Points,
    cfg: CompressionConfig,
    notes: list[str],
) -> HeldOutChecks:
    r"""Coverage ratios of :math:`V` and the estimate of Lemma 1's constant
    (:func:`~netcoreset.sampler.certificate.estimate_coverage` at
    :math:`p = \alpha = \delta/8`), or, for a given ``K``, the count of the points above the
    constant :math:`C` the certificate's Bernstein step needs (:math:`3K` for the paper's,
    :math:`K` for the tight one; :func:`~netcoreset.sampler.certificate.given_coverage` at
    :math:`\alpha = \delta/8`); inputs that activate an edge or a pruned neuron unused on
    all of :math:`S` are reported in ``notes`` (and warned about in guarantee mode). The
    same pass through the layers counts the points with
    :math:`\Delta^\ell_i(x) > \hat\Delta^\ell` (reported by :func:`check_cancellation`):
    :func:`~netcoreset.sampler.certificate.held_out_statistics`.

    Raises ``ValueError`` in guarantee mode when ``K`` is not given and no point is left to
    estimate it (guarantee mode never runs with an unjustified :math:`K`)."""
    n = int(points.v.shape[0])
    if not method.sensitivity_sampling or cfg.certificate in ("holdout", "none"):
        return HeldOutChecks(0)  # the held-out test needs neither K nor these checks
    if n == 0:
        if cfg.K is None and cfg.certificate != "holdout":
            if cfg.mode == "guarantee":
                raise ValueError(
                    "guarantee mode needs K > 1 or held-out points to estimate it: the data "
                    "leave no point after S; pass K=... (> 1) or more data"
                )
            notes.append("no held-out point to estimate K: the certificate is void")
        return HeldOutChecks(0)
    theorem_delta_hats = cancellation_bounds(stats, net, cfg.delta)[2]
    ratios, exceeded = held_out_statistics(
        net.weights, net.biases, [s.sensitivity for s in stats], points.v, list(theorem_delta_hats)
    )
    pruned_active = 0
    if kept:
        active = _pruned_activity(original, kept, points.v).numpy()
        ratios[active] = math.inf
        pruned_active = int(active.sum())
    share = COVERAGE_SHARE * cfg.delta
    if cfg.K is None:
        coverage = estimate_coverage(ratios, share, share)
    else:  # fixed before V: C = 3K (the paper's Bernstein range) or K (the tight one)
        constant = cfg.K * (1.0 if cfg.certificate == "tight" else 3.0)
        coverage = given_coverage(ratios, constant, share)
    if coverage.violating_points and cfg.certificate != "holdout":
        msg = (
            f"Assumption 1 fails on {coverage.violating_points} of {n} held-out points "
            f"({100 * coverage.violating_fraction:.2g}%): they activate edges"
            + (f" (or, on {pruned_active}, neurons removed by CoreNet+)" if pruned_active else "")
            + " that are zero on all of S, so no finite K covers them and the compressed "
            "network drops what they use (charged in the certified delta); use more points "
            "for S (sensitivity_set_size) or certificate='holdout'"
        )
        if cfg.mode == "guarantee":
            warnings.warn(msg, stacklevel=4)
        notes.append(msg)
    return HeldOutChecks(
        n, coverage, pruned_active, int(exceeded.sum()), CANCELLATION_SHARE * cfg.delta
    )


def check_cancellation(
    checks: HeldOutChecks,
    net: Network,
    budget: ErrorBudget,
    cfg: CompressionConfig,
    notes: list[str],
) -> None:
    r"""Report when more than :math:`\delta/4` of the held-out points have
    :math:`\Delta^\ell_i(x) > \hat\Delta^\ell` for some layer (the event :math:`\kappa`
    is sized for; counted by :func:`held_out_checks` in the same pass as the coverage
    ratios): the paper's tail assumption on :math:`\Delta` is then contradicted."""
    if not checks.points or checks.cancellation_exceeded is None:
        return
    if cfg.certificate == "holdout":  # the held-out test does not rely on Delta-hat
        return
    if checks.cancellation_exceeded > cfg.delta / 4.0 * checks.points:
        msg = (
            f"the cancellation assumption behind kappa fails on the held-out points: "
            f"{checks.cancellation_exceeded} of {checks.points} "
            f"({100 * checks.cancellation_exceeded / checks.points:.3g}%) have "
            "Delta^l_i(x) > Delta-hat^l for some layer, while the theorem budgets "
            f"delta/4 = {100 * cfg.delta / 4:.3g}% for that event (charged "
            f"{budget.cancellation_charge(cfg.delta):.3g} in the certified delta)"
        )
        if cfg.mode == "guarantee":
            warnings.warn(msg, stacklevel=4)
        notes.append(msg)
