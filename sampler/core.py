r"""The single entry point :func:`compress`: CoreNet, CoreNet+, CoreNet++ and the baselines."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from . import pipeline as stage
from ._model import as_inputs, linear_layers, starts_with_flatten
from .config import CompressionConfig
from .holdout import sample_and_certify
from .methods import Method, get_method
from .notices import one_summary
from .report import CompressionReport, build_report
from .result import CompressionResult

__all__ = ["compress"]


def _generators(
    seed: int | None, generator: torch.Generator | None, device: torch.device
) -> tuple[torch.Generator, torch.Generator, int | None]:
    """(CPU generator for S and T, generator on the model's device for the draws, seed)."""
    if generator is not None and seed is not None:
        raise ValueError("pass either seed or generator, not both")
    if generator is None:
        if seed is None:
            seed = int(torch.randint(0, 2**62, (1,)).item())
        generator = torch.Generator(device="cpu").manual_seed(int(seed))
    cpu_gen = generator if generator.device.type == "cpu" else None
    if cpu_gen is None:
        cpu_gen = torch.Generator(device="cpu").manual_seed(
            int(torch.randint(0, 2**62, (1,), generator=generator, device=generator.device).item())
        )
    if device.type == "cpu":
        dev_gen = cpu_gen
    elif generator.device == device:
        dev_gen = generator
    else:
        dev_gen = torch.Generator(device=device).manual_seed(
            int(torch.randint(0, 2**62, (1,), generator=cpu_gen).item())
        )
    return cpu_gen, dev_gen, seed


def _inputs(
    model: nn.Module,
    data: torch.Tensor | np.ndarray,
    layers: Sequence[nn.Linear] | None,
    cfg: CompressionConfig,
) -> tuple[list[nn.Linear], torch.Tensor, bool]:
    """The model's linear layers, the points as a tensor like the weights, and the flatten flag."""
    original = linear_layers(model, layers)
    flatten = starts_with_flatten(model)
    x = as_inputs(data, like=original[0].weight, features=original[0].in_features, flatten=flatten)
    cfg.draw_scales(len(original))  # validates the length before any work
    return original, x, flatten


@one_summary
@torch.no_grad()
def compress(
    model: nn.Module,
    data: torch.Tensor | np.ndarray,
    *,
    method: str = "corenet",
    eps: float | None = None,
    delta: float = 0.1,
    keep: float | None = None,
    nnz: int | None = None,
    K: float | None = None,
    k_prime: float = 3.0,
    include_kappa: bool | None = None,
    allocation: str | None = None,
    tight: bool = False,
    activations: str = "original",
    tau: int | None = None,
    holdout_set_size: int | None = None,
    draw_scale: float | Sequence[float] = 1.0,
    sensitivity_set_size: int | None = None,
    layers: Sequence[nn.Linear] | None = None,
    seed: int | None = None,
    generator: torch.Generator | None = None,
    progress: bool | None = None,
    chunk_size: int = 1,
    certificate: str | None = None,
    certification_set_size: int | None = None,
    criterion: str = "entrywise",
) -> CompressionResult:
    r"""Compress a fully-connected ReLU network with CoreNet (or a baseline).

    Guarantee mode (``eps`` given) draws, for every part (the positive or the negative weights
    of one neuron) of layer :math:`\ell`, :math:`m` edges i.i.d. from
    :math:`q_j = s_j/\mathcal{S}` and reweights them, :math:`\hat w_j = c_j w_j/(m q_j)`, with

    .. math::

        m = \left\lceil \frac{8\,\mathcal{S}\,K\log(8\eta/\delta)}{\varepsilon_\ell^2}\right\rceil,
        \qquad \varepsilon_\ell = \frac{\varepsilon}{2(L-1)\hat\Delta^{\ell\rightarrow}};

    then, under Assumption 1 (constants :math:`K, K'`), with probability at least
    :math:`1-\delta` over the draws and a fresh input :math:`x \sim \mathcal{D}`,
    :math:`f_{\hat\theta}(x) \in (1\pm\varepsilon) f_\theta(x)` (Baykal et al., 2019 [1]_).
    Budget mode (``keep`` or ``nnz``) finds the shared :math:`\varepsilon` whose expected
    number of kept weights equals the budget and reports the :math:`\varepsilon` the draws
    certify. The stages are those of ``netcoreset.sampler.pipeline``.

    Parameters
    ----------
    model : torch.nn.Module
        A fully-connected ReLU network (:func:`linear_layers`); never modified.
    data : torch.Tensor or numpy.ndarray
        The points :math:`P` ``(n, in_features)``; :math:`S` (and :math:`T`) come from them,
        and the held-out points :math:`V` of the certificates are the rest. They must be
        independent of the network's training (a validation or test split, not the
        training set): the certificates hold for fresh inputs.
    method : str, default "corenet"
        One of :data:`~netcoreset.sampler.METHODS` (``netcoreset.sampler.methods``).
    eps, delta : float
        :math:`\varepsilon \in (0, 1)` (guarantee mode) and :math:`\delta \in (0, 1)`.
    keep, nnz : float or int, optional
        Budget mode: the fraction in (0, 1] (or the number) of the original non-zero weights,
        biases included, to keep.
    K, k_prime : float, optional
        Assumption 1's :math:`K > 1` (default: a held-out estimate) and :math:`K'` (3).
    include_kappa : bool, optional
        Include :math:`\kappa` in :math:`\hat\Delta` for the allocation (default: in guarantee
        mode only). The certificate always includes it; ``False`` is a heuristic.
    allocation : {"theorem", "uniform"}, optional
        :math:`\varepsilon_\ell` from :math:`\hat\Delta^{\ell\rightarrow}` (default in guarantee
        mode) or the same in every layer (default in budget mode; a heuristic).
    tight : bool, default False
        The exact Bernstein form of the sample size.
    activations : {"original", "compressed"}, default "original"
        Sensitivities from the original network's activations of :math:`S` (as analysed) or,
        layer by layer, from the already compressed layers' (a variant).
    tau, holdout_set_size : int, optional
        CoreNet++'s candidates per part and :math:`|T|` (defaults
        :math:`\lceil\log_2(1/\delta)\rceil` and :math:`|S|`).
    draw_scale : float or sequence of float, default 1
        Multiplies the draw counts (one value or one per layer).
    sensitivity_set_size : int, optional
        :math:`|S|` (default :func:`netcoreset.bounds.sensitivity_set_size`, capped at the data).
    layers : sequence of torch.nn.Linear, optional
        The ordered linear layers of a model that is not an ``nn.Sequential``.
    seed, generator : int or torch.Generator, optional
        Source of all randomness; the same seed gives the same result bit for bit on CPU.
    progress, chunk_size : bool or None, int
        Progress bars (default: on a terminal); points per slab of the (max, ×) product.
    certificate, certification_set_size : str, int, optional
        ``"paper"`` (the default in guarantee mode), ``"tight"`` (the proof's constants),
        ``"holdout"`` (a held-out test, ``netcoreset.sampler.holdout``) or ``"none"`` (the
        default in budget mode: no held-out check runs and nothing is certified, and with
        the uniform allocation neither this nor ``"holdout"`` computes :math:`\hat\Delta`;
        :func:`~netcoreset.sampler.certify` certifies the result afterwards, for any
        criterion); :math:`|V|` (default: the rest, <= 2000).
    criterion : str, default "entrywise"
        With ``certificate="holdout"``: what counts as a failure on a held-out point
        (:func:`~netcoreset.sampler.criterion_failures`: ``"entrywise"``, ``"relative-l2"``,
        ``"top1"`` or ``"margin"``; ``eps`` is the criterion's tolerance, unused by
        ``"top1"``). The theorem's certificates state the entry-wise statement only.

    Returns
    -------
    CompressionResult
        The new model (``nn.Sequential`` on the model's device and dtype) and its report.

    References
    ----------
    .. [1] C. Baykal, L. Liebenwein, I. Gilitschenski, D. Feldman, D. Rus, "Data-Dependent
       Coresets for Compressing Neural Networks with Applications to Generalization Bounds",
       ICLR 2019.

    Examples
    --------
    >>> gen = torch.Generator().manual_seed(0)
    >>> net = nn.Sequential(nn.Linear(20, 30), nn.ReLU(), nn.Linear(30, 5))
    >>> x = torch.rand(200, 20, generator=gen)
    >>> res = compress(net, x, keep=0.3, seed=0)
    >>> round(res.report.expected_nnz / res.nnz_original, 3), res.certified_eps
    (0.3, None)
    >>> compress(net, x, keep=0.3, seed=0, certificate="paper").certified_eps > 0
    True
    """
    t_start = time.perf_counter()
    cfg = CompressionConfig.create(
        method=method, eps=eps, delta=delta, keep=keep, nnz=nnz, K=K, k_prime=k_prime,
        include_kappa=include_kappa, allocation=allocation, tight=tight,
        activations=activations, tau=tau, holdout_set_size=holdout_set_size,
        draw_scale=draw_scale, sensitivity_set_size=sensitivity_set_size, seed=seed,
        chunk_size=chunk_size, progress=progress, certificate=certificate,
        certification_set_size=certification_set_size, criterion=criterion,
    )  # fmt: skip
    entry = get_method(cfg.method)
    original, x, flatten = _inputs(model, data, layers, cfg)
    gens = _generators(cfg.seed, generator, original[0].weight.device)
    report, sampled = _stages(entry, original, x, cfg, gens, t_start)
    return CompressionResult(model=stage.build_model(sampled, flatten), report=report)


def _stages(
    entry: Method,
    original: list[nn.Linear],
    x: torch.Tensor,
    cfg: CompressionConfig,
    gens: tuple[torch.Generator, torch.Generator, int | None],
    t_start: float,
) -> tuple[CompressionReport, stage.Sampled]:
    """The stages of :func:`compress` after validation: the report and the sampled layers."""
    cpu_gen, dev_gen, seed_used = gens
    ref = original[0].weight
    notes: list[str] = []
    net = stage.working_copy(original)
    nnz_original = sum(stage.count_nonzeros(net.weights, net.biases))
    points = stage.select_points(x, net, cfg, entry, cpu_gen, notes)
    none = [0] * len(original)
    net, pruned, folded, kept = (
        stage.prune_neurons(net, original, points.s)
        if entry.prune_neurons
        else (net, none, none, None)
    )
    stats = stage.layer_statistics(net, points.s, cfg)
    checks = stage.held_out_checks(entry, net, original, kept, stats, points, cfg, notes)
    budget = stage.error_budget(
        stats, net, cfg, points, checks.coverage, checks.cancellation_failure()
    )
    stage.check_cancellation(checks, net, budget, cfg, notes)
    alloc, sampled, cert, holdout = sample_and_certify(
        entry, net, original, points, stats, budget, cfg, (cpu_gen, dev_gen), nnz_original, notes
    )
    if holdout is not None and holdout.scale is None:  # nothing passed: the original is returned
        net, pruned, folded, kept = stage.working_copy(original), none, none, None
    report = build_report(
        cfg, net, points, stats, budget, alloc, sampled, cert, pruned=pruned, folded=folded,
        nnz_original=nnz_original, seed=seed_used, device=ref.device, dtype=ref.dtype,
        elapsed_s=time.perf_counter() - t_start, notes=notes, checks=checks, holdout=holdout,
        kept=kept,
    )  # fmt: skip
    return report, sampled
