r"""The single entry point: :func:`compress` (CoreNet, CoreNet+, CoreNet++, baselines)."""

from __future__ import annotations

import math
import sys
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from netcoreset.bounds import (
    amplified_log_ratio,
    check_open_unit,
    check_positive,
    compressed_size_bound,
    default_tau,
    delta_hat,
    delta_hat_product,
    max_hidden_width,
    max_part_size,
    num_neurons,
)
from netcoreset.bounds import (
    kappa as kappa_term,
)
from netcoreset.bounds import (
    sensitivity_set_size as theorem_sensitivity_set_size,
)

from ._model import build_sequential, forward_activations, linear_layers
from .allocation import (
    PartTable,
    draws_for_network_eps,
    layer_draws,
    network_certified_eps,
    solve_budget,
)
from .amplify import best_of_candidates
from .baselines import SAMPLING_BASELINES, magnitude_layer, sample_layer, svd_layer
from .prune import prune_inactive_neurons
from .result import CompressionReport, CompressionResult, LayerReport
from .sensitivity import augment_inputs, empirical_sensitivity, relative_cancellation
from .sparsify import sparsify_part

__all__ = ["compress", "METHODS", "BUDGET_KAPPA_DEFAULT"]

METHODS = ("corenet", "uniform", "l1", "l2", "magnitude", "svd")
_ALIASES = {"corenet+": ("corenet", True, False), "corenet++": ("corenet", True, True)}

#: Default of ``kappa`` in budget mode. With kappa the allocation follows
#: (Delta-hat^{l->})^2 including kappa, which starves the last layers; see the docs'
#: budget-mode experiment for the numbers behind this choice.
BUDGET_KAPPA_DEFAULT = False

#: Default of ``allocation`` in budget mode ("theorem": eps_l from Delta-hat^{l->};
#: "uniform": the same eps_l in every layer). Measured on the digits 64-300-100-10 net
#: (3 seeds, keep 10/20/30%): test accuracy 0.51/0.83/0.93 with "uniform" against
#: 0.12/0.13-0.19/0.21 with "theorem" (kappa on or off), which gives the last layers one
#: draw per part. See docs/user/sampler.rst.
BUDGET_ALLOCATION_DEFAULT = "uniform"


class _Functional:
    """Weights and biases as plain tensors (the working copy; the caller's model is untouched)."""

    def __init__(self, weights: list[torch.Tensor], biases: list[torch.Tensor | None]) -> None:
        self.weights, self.biases = weights, biases

    def layers(self) -> list[nn.Linear]:
        return linear_layers(build_sequential(self.weights, self.biases))


def _generators(
    seed: int | None, generator: torch.Generator | None, device: torch.device
) -> tuple[torch.Generator, torch.Generator, int | None]:
    if generator is not None and seed is not None:
        raise ValueError("pass either seed or generator, not both")
    if generator is None:
        if seed is None:
            seed = int(torch.randint(0, 2**62, (1,)).item())
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
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
    return cpu_gen, dev_gen, None if seed is None else int(seed)


def _as_data(data: Any, model: nn.Module, in_features: int, ref: torch.Tensor) -> torch.Tensor:
    if isinstance(data, np.ndarray):
        data = torch.from_numpy(data)
    if not isinstance(data, torch.Tensor):
        raise ValueError(f"data must be a torch.Tensor or numpy array; got {type(data).__name__}")
    if data.ndim == 0 or data.shape[0] == 0:
        raise ValueError("data is empty: pass at least one input point")
    if data.ndim > 2:
        first = next(iter(model.children()), None) if isinstance(model, nn.Sequential) else None
        if not isinstance(first, nn.Flatten):
            raise ValueError(
                f"data has shape {tuple(data.shape)}; expected (n, {in_features}) "
                "(or a model that starts with nn.Flatten)"
            )
        data = data.reshape(data.shape[0], -1)
    if data.ndim == 1 or data.shape[1] != in_features:
        raise ValueError(
            f"shape mismatch: data has shape {tuple(data.shape)} but the first layer expects "
            f"{in_features} input features"
        )
    if not torch.is_floating_point(data) and data.dtype not in (
        torch.uint8,
        torch.int64,
        torch.int32,
    ):
        raise ValueError(f"data must be numeric; got dtype {data.dtype}")
    data = data.to(device=ref.device, dtype=ref.dtype)
    if not bool(torch.isfinite(data).all()):
        raise ValueError("data contains NaN or inf")
    return data


def _draw_scales(draw_scale: float | Sequence[float], n_layers: int) -> list[float]:
    if isinstance(draw_scale, (int, float, np.floating, np.integer)) and not isinstance(
        draw_scale, bool
    ):
        scales = [float(draw_scale)] * n_layers
    else:
        scales = [float(s) for s in draw_scale]  # type: ignore[union-attr]
        if len(scales) != n_layers:
            raise ValueError(
                f"draw_scale needs one value per weight layer ({n_layers}); got {len(scales)}"
            )
    if not all(math.isfinite(s) and s > 0 for s in scales):
        raise ValueError(f"draw_scale must be finite and > 0; got {draw_scale!r}")
    return scales


def _count_nnz(weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor | None]) -> list[int]:
    return [
        int((w != 0).sum()) + (0 if b is None else int((b != 0).sum()))
        for w, b in zip(weights, biases, strict=True)
    ]


def _progress(iterable: Any, enabled: bool | None, desc: str) -> Any:
    from tqdm.auto import tqdm

    disable = (not sys.stderr.isatty()) if enabled is None else (not enabled)
    return tqdm(iterable, desc=desc, disable=disable, leave=False)


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
    K: float = 1.0,
    k_prime: float = 3.0,
    kappa: bool | None = None,
    allocation: str | None = None,
    tight: bool = False,
    prune_neurons: bool = False,
    amplify: bool = False,
    activations: str = "original",
    tau: int | None = None,
    holdout_size: int | None = None,
    draw_scale: float | Sequence[float] = 1.0,
    sensitivity_set_size: int | None = None,
    layers: Sequence[nn.Linear] | None = None,
    seed: int | None = None,
    generator: torch.Generator | None = None,
    progress: bool | None = None,
    chunk_size: int = 1,
) -> CompressionResult:
    r"""Compress a fully-connected ReLU network with CoreNet (or a baseline).

    Guarantee mode (``eps`` given) draws, for every part of every neuron of layer
    :math:`\ell`,

    .. math::

        m = \left\lceil \frac{8\,\mathcal{S}\,K\log(8\eta/\delta)}{\varepsilon_\ell^2}\right\rceil,
        \qquad \varepsilon_\ell = \frac{\varepsilon}{2(L-1)\hat\Delta^{\ell\rightarrow}},

    edges i.i.d. from :math:`q_j = s_j/\mathcal{S}` and reweights
    :math:`\hat w_j = c_j w_j/(m q_j)`; with probability at least :math:`1-\delta` over the
    draws and a fresh input :math:`x \sim \mathcal{D}`,
    :math:`f_{\hat\theta}(x) \in (1\pm\varepsilon) f_\theta(x)` (under Assumption 1 with
    constants :math:`K, K'`). Budget mode (``keep`` or ``nnz``) finds the shared
    :math:`\varepsilon` whose expected number of kept weights equals the budget and reports
    the :math:`\varepsilon` the draws certify.

    Parameters
    ----------
    model : torch.nn.Module
        A fully-connected ReLU network (see :func:`~netcoreset.sampler.linear_layers`). It is
        never modified.
    data : torch.Tensor or numpy.ndarray
        The points :math:`P`, shape ``(n, in_features)``; :math:`S` (and CoreNet++'s
        :math:`T`) are drawn from them without replacement.
    method : {"corenet", "uniform", "l1", "l2", "magnitude", "svd"}
        ``"corenet+"`` and ``"corenet++"`` are accepted as aliases of the flags below.
    eps : float, optional
        :math:`\varepsilon \in (0, 1)`: guarantee mode.
    delta : float, default 0.1
        :math:`\delta \in (0, 1)`.
    keep : float, optional
        Budget mode: fraction in (0, 1] of the original non-zero weights (biases included).
    nnz : int, optional
        Budget mode: number of non-zero weights to keep.
    K, k_prime : float
        Constants of Assumption 1 (:math:`K' = 3` by default).
    kappa : bool, optional
        Include :math:`\kappa` in :math:`\hat\Delta` for the allocation. Default: ``True`` in
        guarantee mode (the theorem), :data:`BUDGET_KAPPA_DEFAULT` in budget mode. The
        certificate always includes :math:`\kappa`; ``False`` is a heuristic outside the
        theorem.
    allocation : {"theorem", "uniform"}, optional
        How :math:`\varepsilon` is split across layers: ``"theorem"``,
        :math:`\varepsilon_\ell = \varepsilon/(2(L-1)\hat\Delta^{\ell\rightarrow})`; or
        ``"uniform"``, :math:`\varepsilon_\ell = \varepsilon/(2(L-1))` in every layer (a
        heuristic: :math:`\hat\Delta` is ignored for the allocation, not for the
        certificate). Default ``"theorem"`` in guarantee mode,
        :data:`BUDGET_ALLOCATION_DEFAULT` in budget mode.
    tight : bool, default False
        Exact Bernstein form of the sample size.
    prune_neurons : bool, default False
        CoreNet+: remove neurons inactive on :math:`S` first.
    amplify : bool, default False
        CoreNet++: best of ``tau`` candidates per part on a held-out set :math:`T`.
    activations : {"original", "compressed"}, default "original"
        Whose activations of :math:`S` the sensitivities use: the original network's (the
        algorithm as analysed) or, layer by layer, the already compressed layers' (a
        documented variant; :math:`\hat\Delta` and the allocation's :math:`\varepsilon` stay
        the original network's, the draws follow the new :math:`\mathcal{S}`).
    tau, holdout_size : int, optional
        Defaults :math:`\lceil\log_2(1/\delta)\rceil` and :math:`|S|`.
    draw_scale : float or sequence of float, default 1
        Multiplies the draw counts (one value, or one per layer): for sample-complexity
        experiments.
    sensitivity_set_size : int, optional
        :math:`|S|`; default :math:`\lceil K'\log(8\eta\max(\eta^*, n_{\max})/\delta)\rceil`
        with :math:`n_{\max}` the largest part (:func:`~netcoreset.bounds.max_part_size`),
        capped at the data (with a warning).
    layers : sequence of torch.nn.Linear, optional
        The ordered linear layers of a model that is not an ``nn.Sequential``.
    seed : int, optional
    generator : torch.Generator, optional
        Source of all randomness; same seed, same result bit for bit on CPU.
    progress : bool, optional
        Progress bar over layers (default: only on a terminal).
    chunk_size : int, default 1
        Points per slab of the (max, ×) product.

    Returns
    -------
    CompressionResult

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> net = nn.Sequential(nn.Linear(20, 30), nn.ReLU(), nn.Linear(30, 5))
    >>> x = torch.rand(200, 20)
    >>> res = compress(net, x, keep=0.3, seed=0)
    >>> round(res.report.expected_nnz / res.nnz_original, 3)
    0.3
    >>> res.certified_eps > 0
    True
    """
    t_start = time.perf_counter()
    if not isinstance(method, str):
        raise ValueError(f"method must be a string; got {method!r}")
    method = method.lower()
    if method in _ALIASES:
        method, prune_alias, amplify_alias = _ALIASES[method]
        prune_neurons = prune_neurons or prune_alias
        amplify = amplify or amplify_alias
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS + tuple(_ALIASES)}; got {method!r}")
    if method != "corenet" and (prune_neurons or amplify):
        raise ValueError("prune_neurons and amplify apply to method='corenet' only")
    given = [name for name, v in (("eps", eps), ("keep", keep), ("nnz", nnz)) if v is not None]
    if len(given) != 1:
        raise ValueError(
            f"give exactly one of eps (guarantee mode), keep or nnz (budget mode); got {given}"
        )
    mode = "guarantee" if eps is not None else "budget"
    if eps is not None:
        eps = check_open_unit("eps", eps)
    if keep is not None and (
        isinstance(keep, bool) or not isinstance(keep, (int, float)) or not 0 < keep <= 1
    ):
        raise ValueError(f"keep must be a fraction in (0, 1]; got {keep!r}")
    if nnz is not None and (
        isinstance(nnz, bool) or not isinstance(nnz, (int, np.integer)) or nnz < 1
    ):
        raise ValueError(f"nnz must be an integer >= 1; got {nnz!r}")
    delta = check_open_unit("delta", delta)
    K = check_positive("K", K)
    k_prime = check_positive("k_prime", k_prime)
    if activations not in ("original", "compressed"):
        raise ValueError(f"activations must be 'original' or 'compressed'; got {activations!r}")
    if allocation not in (None, "theorem", "uniform"):
        raise ValueError(f"allocation must be 'theorem' or 'uniform'; got {allocation!r}")
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be an integer >= 1; got {chunk_size!r}")

    original = linear_layers(model, layers)
    ref = original[0].weight
    device, dtype = ref.device, ref.dtype
    x = _as_data(data, model, original[0].in_features, ref)
    n_layers = len(original)
    scales = _draw_scales(draw_scale, n_layers)
    cpu_gen, dev_gen, seed_used = _generators(seed, generator, device)
    report_warnings: list[str] = []

    weights = [lay.weight.detach().clone() for lay in original]
    biases = [None if lay.bias is None else lay.bias.detach().clone() for lay in original]
    nnz_original = sum(_count_nnz(weights, biases))
    arch = [weights[0].shape[1]] + [w.shape[0] for w in weights]
    eta, eta_star = num_neurons(arch), max_hidden_width(arch)

    # --- S (and T) from P, uniformly without replacement -------------------------------
    s_requested = (
        sensitivity_set_size
        if sensitivity_set_size is not None
        else theorem_sensitivity_set_size(
            eta, max(eta_star, max_part_size(arch, biases[0] is not None)), delta, k_prime
        )
    )
    if (
        isinstance(s_requested, bool)
        or not isinstance(s_requested, (int, np.integer))
        or s_requested < 1
    ):
        raise ValueError(
            f"sensitivity_set_size must be an integer >= 1; got {sensitivity_set_size!r}"
        )
    t_requested = 0
    if amplify:
        t_requested = s_requested if holdout_size is None else int(holdout_size)
        if t_requested < 1:
            raise ValueError(f"holdout_size must be an integer >= 1; got {holdout_size!r}")
        tau = default_tau(delta) if tau is None else int(tau)
        if tau < 1:
            raise ValueError(f"tau must be an integer >= 1; got {tau!r}")
    n_points = x.shape[0]
    if amplify and n_points < 2:
        raise ValueError("CoreNet++ needs at least 2 data points (one for S, one for T)")
    s_size = min(int(s_requested), n_points - (1 if amplify else 0))
    t_size = min(t_requested, n_points - s_size) if amplify else 0
    if s_size < s_requested or t_size < t_requested:
        msg = f"data has {n_points} points: |S| capped at {s_size} (theorem asks {s_requested})" + (
            f", |T| at {t_size} (asked {t_requested})" if amplify else ""
        )
        warnings.warn(msg, stacklevel=3)
        report_warnings.append(msg)
    perm = torch.randperm(n_points, generator=cpu_gen).to(device)
    x_s = x[perm[:s_size]]
    x_t = x[perm[s_size : s_size + t_size]]

    # --- CoreNet+: prune neurons inactive on S ------------------------------------------
    _, preacts = forward_activations(original, x_s)
    pruned = [0] * n_layers
    folded = [0] * n_layers
    if prune_neurons:
        pr = prune_inactive_neurons(weights, biases, preacts)
        weights, biases = pr.weights, pr.biases
        pruned[:-1], folded[:-1] = pr.pruned, pr.folded
        arch = [weights[0].shape[1]] + [w.shape[0] for w in weights]
        eta, eta_star = num_neurons(arch), max_hidden_width(arch)
    working = _Functional(weights, biases).layers()
    inputs_s, _ = forward_activations(working, x_s)
    inputs_t = forward_activations(working, x_t)[0] if amplify else []

    # --- sensitivities and the error budget ---------------------------------------------
    sens, tables, cancel = [], [], []
    split = False
    for idx in _progress(range(n_layers), progress, "sensitivities"):
        ls = empirical_sensitivity(weights[idx], biases[idx], inputs_s[idx], chunk_size)
        split = split or ls.split_inputs
        sens.append(ls)
        tables.append(PartTable.from_sensitivity(ls))
        cancel.append(
            relative_cancellation(weights[idx], biases[idx], inputs_s[idx]).double().cpu().numpy()
        )
    kap = kappa_term(eta, eta_star, delta)
    dh_emp = np.array([delta_hat(c, 0.0) for c in cancel])
    dh_thm = dh_emp + kap
    use_kappa = (
        (True if mode == "guarantee" else BUDGET_KAPPA_DEFAULT) if kappa is None else bool(kappa)
    )
    suffix_thm, suffix_emp = delta_hat_product(dh_thm), delta_hat_product(dh_emp)
    if allocation is None:
        allocation = "theorem" if mode == "guarantee" else BUDGET_ALLOCATION_DEFAULT
    if allocation == "theorem":
        suffix_alloc = suffix_thm if use_kappa else suffix_emp
    else:  # "uniform": the same eps_l in every layer (Delta-hat taken as 1), a heuristic
        suffix_alloc = np.ones(n_layers)
    amp = amplified_log_ratio(eta, delta, tau) if amplify and tau else 1.0
    factors = [s * amp for s in scales]

    # --- draws per part -------------------------------------------------------------------
    budget: float | None = None
    if mode == "guarantee":
        eps_alloc = float(eps)  # type: ignore[arg-type]
        draws = draws_for_network_eps(
            tables, eps_alloc, suffix_alloc, delta, eta, K, tight, factors
        )
        expected = sum(t.expected_kept(m) for t, m in zip(tables, draws, strict=True))
    else:
        budget = float(nnz) if nnz is not None else float(keep) * nnz_original  # type: ignore[arg-type]
        eps_alloc, draws, expected, capped = solve_budget(
            tables, budget, suffix_alloc, delta, eta, K, tight, factors
        )
        if capped:
            msg = (
                f"budget of {budget:.6g} weights exceeds the {expected:.6g} edges that can be "
                "sampled (positive sensitivity on S): keeping all of those"
            )
            warnings.warn(msg, stacklevel=3)
            report_warnings.append(msg)
    layer_expected = [t.expected_kept(m) for t, m in zip(tables, draws, strict=True)]

    # --- sampling -------------------------------------------------------------------------
    new_w, new_b = [], []
    extra: list[dict[str, Any]] = [{} for _ in range(n_layers)]
    for idx in _progress(range(n_layers), progress, method):
        w, b = weights[idx], biases[idx]
        w_full = w if b is None else torch.cat([w, b[:, None]], dim=1)
        rows = w.shape[0]
        if activations == "compressed" and idx > 0:
            # Variant: sensitivities from the compressed network's activations of S (and T),
            # draws at the same eps_l; Delta-hat stays the original network's.
            done = _Functional(list(new_w), list(new_b)).layers()
            a_s = forward_activations(done + [working[idx]], x_s)[0][idx]
            sens[idx] = empirical_sensitivity(w, b, a_s, chunk_size)
            tables[idx] = PartTable.from_sensitivity(sens[idx])
            eps_layer = eps_alloc / (2.0 * n_layers * suffix_alloc[idx])
            draws[idx] = layer_draws(tables[idx], eps_layer, delta, eta, K, tight, factors[idx])
            layer_expected[idx] = tables[idx].expected_kept(draws[idx])
            if amplify:
                inputs_t[idx] = forward_activations(done + [working[idx]], x_t)[0][idx]
        m = torch.from_numpy(draws[idx]).to(device)
        if method == "corenet":
            qp, qn = sens[idx].probabilities()
            mags = (w_full.clamp(min=0), (-w_full).clamp(min=0))
            parts = []
            for mag, q, m_part in zip(mags, (qp, qn), (m[:rows], m[rows:]), strict=True):
                if amplify:
                    pts, _ = augment_inputs(inputs_t[idx], b is not None)
                    w_hat, chosen = best_of_candidates(mag, q, m_part, pts, int(tau), dev_gen)  # type: ignore[arg-type]
                    extra[idx].setdefault("chosen", torch.zeros(int(tau), dtype=torch.long))
                    extra[idx]["chosen"] += torch.bincount(chosen.cpu(), minlength=int(tau))
                else:
                    w_hat = sparsify_part(mag, q, m_part, dev_gen)
                parts.append(w_hat)
            w_hat_full = parts[0] - parts[1]
        elif method in SAMPLING_BASELINES:
            w_hat_full, m_shared = sample_layer(w_full, method, layer_expected[idx], dev_gen)
            extra[idx]["baseline_draws"] = m_shared
        elif method == "magnitude":
            w_hat_full = magnitude_layer(w_full, layer_expected[idx])
        else:  # svd
            low, rank = svd_layer(w, 0 if b is None else int((b != 0).sum()), layer_expected[idx])
            w_hat_full = low if b is None else torch.cat([low, b[:, None]], dim=1)
            extra[idx]["svd_rank"] = rank
        new_w.append(w_hat_full[:, : w.shape[1]].contiguous())
        new_b.append(None if b is None else w_hat_full[:, -1].contiguous())
    compressed = build_sequential(new_w, new_b)

    # --- certificate and report ---------------------------------------------------------------
    totals = [t.totals for t in tables]
    cert = cert_emp = None
    cert_layers: list[float | None] = [None] * n_layers
    if method == "corenet":
        cert, cert_layers_f = network_certified_eps(totals, draws, suffix_thm, delta, eta, K)
        cert_emp, _ = network_certified_eps(totals, draws, suffix_emp, delta, eta, K)
        cert_layers = list(cert_layers_f)
    bound = None
    if mode == "guarantee":
        per_neuron = [(s.total_positive + s.total_negative).double().cpu().numpy() for s in sens]
        bound = float(
            compressed_size_bound(per_neuron, suffix_thm, float(eps), delta, eta, K).sum()
        )  # type: ignore[arg-type]
    nnz_before = _count_nnz(weights, biases)
    nnz_after = _count_nnz(new_w, new_b)
    params_after = list(nnz_after)
    layer_reports = []
    for idx in range(n_layers):
        rows = weights[idx].shape[0]
        active = draws[idx][tables[idx].totals > 0]
        if "svd_rank" in extra[idx]:
            r = extra[idx]["svd_rank"]
            params_after[idx] = r * (weights[idx].shape[0] + weights[idx].shape[1]) + (
                0 if new_b[idx] is None else int((new_b[idx] != 0).sum())
            )
        chosen = extra[idx].get("chosen")
        layer_reports.append(
            LayerReport(
                index=idx,
                in_features=int(weights[idx].shape[1]),
                out_features=int(rows),
                nnz_before=nnz_before[idx],
                nnz_after=nnz_after[idx],
                parameters_after=params_after[idx],
                draws_min=float(active.min()) if active.size else 0.0,
                draws_median=float(np.median(active)) if active.size else 0.0,
                draws_max=float(active.max()) if active.size else 0.0,
                sensitivity_sum=float(tables[idx].totals.sum()),
                eps_layer=float(eps_alloc / (2.0 * n_layers * suffix_alloc[idx])),
                delta_hat=float(dh_thm[idx]),
                delta_hat_empirical=float(dh_emp[idx]),
                expected_kept=float(layer_expected[idx]),
                certified_eps=cert_layers[idx],
                pruned_neurons=pruned[idx],
                folded_neurons=folded[idx],
                chosen_candidates=None if chosen is None else [int(v) for v in chosen],
                svd_rank=extra[idx].get("svd_rank"),
                baseline_draws=extra[idx].get("baseline_draws"),
            )
        )
    report = CompressionReport(
        method=method + ("++" if amplify else "+" if prune_neurons else ""),
        mode=mode,
        delta=delta,
        eps=eps,
        keep=None if keep is None else float(keep),
        nnz_budget=budget,
        K=K,
        k_prime=k_prime,
        kappa=use_kappa,
        allocation=allocation,
        activations=activations,
        tight=tight,
        prune_neurons=prune_neurons,
        amplify=amplify,
        tau=tau if amplify else None,
        draw_scale=scales,
        seed=seed_used,
        sensitivity_set_size=s_size,
        sensitivity_set_size_requested=int(s_requested),
        holdout_size=t_size,
        eta=eta,
        eta_star=eta_star,
        kappa_value=kap,
        eps_allocation=eps_alloc,
        certified_eps=cert,
        certified_eps_empirical=cert_emp,
        nnz_original=nnz_original,
        nnz=sum(nnz_after),
        parameters=sum(params_after),
        expected_nnz=float(sum(layer_expected)),
        theorem_nnz_bound=bound,
        split_inputs=split,
        device=str(device),
        dtype=str(dtype).replace("torch.", ""),
        elapsed_s=time.perf_counter() - t_start,
        layers=layer_reports,
        warnings=report_warnings,
    )
    return CompressionResult(model=compressed, report=report)
