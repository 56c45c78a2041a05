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
from .holdout import holdout_search
from .methods import get_method
from .report import build_report
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
    certificate: str = "paper",
    certification_set_size: int | None = None,
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
    certify. The stages are those of :mod:`netcoreset.sampler.pipeline`.

    Parameters
    ----------
    model : torch.nn.Module
        A fully-connected ReLU network (:func:`~netcoreset.sampler.linear_layers`); never
        modified.
    data : torch.Tensor or numpy.ndarray
        The points :math:`P`, ``(n, in_features)``; :math:`S` (and CoreNet++'s :math:`T`) are
        drawn from them without replacement.
    method : str, default "corenet"
        One of :data:`~netcoreset.sampler.METHODS` (:mod:`netcoreset.sampler.methods`).
    eps : float, optional
        :math:`\varepsilon \in (0, 1)`: guarantee mode.
    delta : float, default 0.1
        :math:`\delta \in (0, 1)`.
    keep, nnz : float or int, optional
        Budget mode: the fraction in (0, 1] (or the number) of the original non-zero weights,
        biases included, to keep.
    K : float, optional
        Constant of Assumption 1; must exceed 1 (the assumption is infeasible at
        :math:`K \le 1`). Default: estimated from the held-out points :math:`V` as the
        certified order statistic of :math:`\max_j g_j(x)/s_j` (the constant Lemma 1
        needs; :mod:`netcoreset.sampler.certificate`), which costs that event's certified
        probability in the union bound. The report gives the ``K`` used and its source.
    k_prime : float, default 3
        :math:`K'` of Assumption 1 (fixes :math:`|S|`).
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
        Multiplies the draw counts (one value or one per layer): sample-complexity experiments.
    sensitivity_set_size : int, optional
        :math:`|S|`; default :func:`netcoreset.bounds.sensitivity_set_size`, capped at the data
        with a warning.
    layers : sequence of torch.nn.Linear, optional
        The ordered linear layers of a model that is not an ``nn.Sequential``.
    seed : int, optional
    generator : torch.Generator, optional
        Source of all randomness; the same seed gives the same result bit for bit on CPU.
    progress : bool, optional
        Progress bars over layers (default: only on a terminal).
    chunk_size : int, default 1
        Points per slab of the (max, ×) product.
    certificate : {"paper", "tight", "holdout"}, default "paper"
        What the result certifies (the theory page *Tight certificates*). ``"paper"``: the
        theorem with the paper's constants (:math:`3K`, the 8-form, :math:`\kappa`,
        :math:`\varepsilon/(2(L-1))`), every event of the union bound counted. ``"tight"``:
        the same assumptions with the constants the proof needs: Lemma 1's :math:`K` instead of
        :math:`3K`, the exact Bernstein form, :math:`\varepsilon' = (1+\varepsilon)^{1/(L-1)}
        - 1` and the error recursion, and the sampling events get the share of :math:`\delta`
        the others leave. ``"holdout"``: no assumption on :math:`\mathcal{D}` beyond i.i.d.
        points; the compressed network is tested on :math:`V` with an exact binomial bound
        (guarantee mode: the smallest of 64 scaled draw budgets that passes,
        :mod:`netcoreset.sampler.holdout`).
    certification_set_size : int, optional
        :math:`|V|`: how many of the points left after :math:`S` (and :math:`T`) the
        certificates and checks use (default: all, at most 5000).

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
    >>> round(res.report.expected_nnz / res.nnz_original, 3), res.certified_eps > 0
    (0.3, True)
    """
    t_start = time.perf_counter()
    cfg = CompressionConfig.create(
        method=method, eps=eps, delta=delta, keep=keep, nnz=nnz, K=K, k_prime=k_prime,
        include_kappa=include_kappa, allocation=allocation, tight=tight,
        activations=activations, tau=tau, holdout_set_size=holdout_set_size,
        draw_scale=draw_scale, sensitivity_set_size=sensitivity_set_size, seed=seed,
        chunk_size=chunk_size, progress=progress, certificate=certificate,
        certification_set_size=certification_set_size,
    )  # fmt: skip
    spec = get_method(cfg.method)
    original = linear_layers(model, layers)
    ref = original[0].weight
    x = as_inputs(
        data, like=ref, features=original[0].in_features, flatten=starts_with_flatten(model)
    )
    cfg.draw_scales(len(original))  # validates the length before any work
    cpu_gen, dev_gen, seed_used = _generators(cfg.seed, generator, ref.device)
    notes: list[str] = []
    net = stage.working_copy(original)
    nnz_original = sum(stage.count_nonzeros(net.weights, net.biases))
    points = stage.select_points(x, net, cfg, spec, cpu_gen, notes)
    pruned = folded = [0] * len(original)
    kept = None
    if spec.prune_neurons:
        net, pruned, folded, kept = stage.prune_neurons(net, original, points.s)
    stats = stage.layer_statistics(net, points.s, cfg)
    checks = stage.HeldOutChecks(0)
    if spec.sensitivity_sampling:
        checks = stage.held_out_checks(net, original, kept, stats, points, cfg, notes)
        if cfg.K is None and checks.coverage is None and cfg.certificate != "holdout":
            if cfg.mode == "guarantee":
                raise ValueError(
                    "guarantee mode needs K > 1 or held-out points to estimate it: the data "
                    "leave no point after S; pass K=... (> 1) or more data"
                )
            notes.append("no held-out point to estimate K: the budget's certificate is void")
    budget = stage.error_budget(stats, net, cfg, points, checks.coverage)
    if spec.sensitivity_sampling:
        stage.check_cancellation(checks, net, budget, cfg, notes)
    holdout = None
    if cfg.certificate == "holdout" and spec.sensitivity_sampling:
        base_seed = int(torch.randint(0, 2**62, (1,), generator=cpu_gen).item())
        alloc, sampled, cert, holdout = holdout_search(
            spec, net, original, points, stats, budget, cfg, dev_gen, base_seed,
            nnz_original, notes,
        )  # fmt: skip
    else:
        alloc = stage.allocate_draws(stats, budget, net, cfg, nnz_original, notes)
        sampled = stage.sample_layers(spec, net, points, stats, alloc, budget, cfg, dev_gen)
        cert = stage.certify(spec, stats, alloc, budget, net, cfg)
    if holdout is not None and holdout.scale is None:  # the original network was returned
        net, pruned, folded = stage.working_copy(original), [0] * len(original), [0] * len(original)
    report = build_report(
        cfg, net, points, stats, budget, alloc, sampled, cert, pruned=pruned, folded=folded,
        nnz_original=nnz_original, seed=seed_used, device=ref.device, dtype=ref.dtype,
        elapsed_s=time.perf_counter() - t_start, notes=notes, checks=checks, holdout=holdout,
    )  # fmt: skip
    return CompressionResult(model=stage.build_model(sampled), report=report)
