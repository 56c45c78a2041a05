r"""The report of a compression: every figure needed to reproduce and audit it.

:func:`build_report` assembles a :class:`CompressionReport` (with one :class:`LayerReport`
per weight layer) from the stages of :mod:`netcoreset.sampler.pipeline`.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from netcoreset.bounds import layer_eps, max_part_size
from netcoreset.bounds.serialization import from_jsonable, to_jsonable

from .certificate import rounding_eps
from .config import CompressionConfig
from .holdout import HoldoutOutcome
from .pipeline import (
    Allocation,
    Certificate,
    ErrorBudget,
    HeldOutChecks,
    LayerStatistics,
    Network,
    Points,
    Sampled,
    count_nonzeros,
)

__all__ = ["LayerReport", "CompressionReport", "build_report"]


@dataclass
class LayerReport:
    r"""Per-layer figures of a compression.

    ``draws_*`` summarise the draw counts :math:`m` over the layer's active parts
    (``draws_total`` is their sum, the unit in which certificates' slacks compare),
    ``sensitivity_sum`` is :math:`\sum_i (\mathcal{S}_{i+} + \mathcal{S}_{i-})`,
    ``eps_layer`` the :math:`\varepsilon_\ell` used for the allocation, ``delta_hat``
    the theorem's :math:`\hat\Delta^\ell` (with :math:`\kappa`) and
    ``delta_hat_empirical`` the mean-cancellation part alone (both None in budget mode with
    the uniform allocation and no certificate or the held-out test, which do not use them).
    """

    index: int
    in_features: int
    out_features: int
    nnz_before: int
    nnz_after: int
    parameters_after: int
    draws_min: float
    draws_median: float
    draws_max: float
    sensitivity_sum: float
    eps_layer: float
    delta_hat: float | None
    delta_hat_empirical: float | None
    expected_kept: float
    certified_eps: float | None = None
    pruned_neurons: int = 0
    folded_neurons: int = 0
    chosen_candidates: list[int] | None = None
    svd_rank: int | None = None
    baseline_draws: int | None = None
    draws_total: float = 0.0


@dataclass
class CompressionReport:
    r"""What is needed to reproduce and audit a compression (:meth:`~CompressionReport.to_dict`).

    The certificate: with probability at least ``1 - certified_delta`` over the compression
    and a fresh input, every output is within ``(1 +- certified_eps)`` of the original's
    (``certificate`` says which statement: the paper's theorem, its tight form, or the
    held-out test). ``certified_delta`` exceeds ``delta`` when the data left too few points
    (for :math:`S` or for the held-out checks) to reach it; ``certified_eps`` is ``None``
    when nothing is certified. ``K`` is the constant used and ``K_source`` where it came
    from; ``held_out`` holds the checks of the theorem's hypotheses on held-out points
    (inputs violating Assumption 1, cancellations above :math:`\hat\Delta`), ``holdout``
    the held-out test; ``delta_charges`` lists every event of the union bound as
    ``name -> [charge, share]`` (the certified delta is their sum; an event charged above its
    share is named in :attr:`certificate_statement`). ``rounding_eps`` is the relative
    rounding error of one dot product of the widest part in the model's dtype: a
    ``certified_eps`` below it is not observable. ``kept_neurons`` lists, per hidden layer,
    the indices (into the original layer's outputs, ascending) of the neurons the compressed
    model keeps: all of them unless CoreNet+ or CoreNet++ removed some (``None`` in a report
    saved by a version that did not record them).

    >>> import torch
    >>> from netcoreset.sampler import compress
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 2))
    >>> rep = compress(net, torch.rand(50, 4), keep=0.5, seed=0).report
    >>> rep.method, rep.mode, rep.nnz_original, len(rep.layers)
    ('corenet', 'budget', 44, 2)
    >>> type(rep).from_dict(rep.to_dict()) == rep
    True
    >>> rep.kept_neurons  # the 6 hidden neurons, none removed
    [[0, 1, 2, 3, 4, 5]]
    """

    method: str
    mode: str
    delta: float
    eps: float | None
    keep: float | None
    nnz_budget: float | None
    K: float | None
    k_prime: float
    include_kappa: bool
    allocation: str
    activations: str
    tight: bool
    tau: int | None
    draw_scale: list[float]
    seed: int | None
    sensitivity_set_size: int
    sensitivity_set_size_requested: int
    holdout_set_size: int
    eta: int
    eta_star: int
    kappa: float
    eps_allocation: float
    certified_eps: float | None
    certified_eps_empirical: float | None
    nnz_original: int
    nnz: int
    parameters: int
    expected_nnz: float
    theorem_nnz_bound: float | None
    split_inputs: bool
    device: str
    dtype: str
    elapsed_s: float
    layers: list[LayerReport] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    certificate: str = "paper"
    certified_delta: float | None = None
    K_source: str = "given"
    eta_effective: int | None = None
    certification_set_size: int = 0
    held_out: dict[str, Any] | None = None
    holdout: dict[str, Any] | None = None
    rounding_eps: float | None = None
    delta_charges: dict[str, list[float]] | None = None
    criterion: str = "entrywise"
    kept_neurons: list[list[int]] | None = None

    def failed_events(self) -> list[str]:
        """The events of the union bound charged more than their share of ``delta``
        (``delta_charges``: the evidence of the held-out points contradicts the assumption
        behind the share), as ``"name charge > share"`` strings.

        >>> rep = CompressionReport.__new__(CompressionReport)
        >>> rep.delta_charges = {"sampling": [0.05, 0.05], "cancellation (kappa)": [0.7, 0.025]}
        >>> rep.failed_events()
        ['cancellation (kappa) 0.7 > 0.025']
        """
        charges = self.delta_charges or {}
        return [
            f"{name} {charge:.3g} > {share:.3g}"
            for name, (charge, share) in charges.items()
            if charge > share * (1 + 1e-9)
        ]

    @property
    def certificate_statement(self) -> str:
        """What is certified, at which probability, or why nothing is, in one line.

        >>> rep = CompressionReport.__new__(CompressionReport)
        >>> rep.certified_eps, rep.certified_delta, rep.delta = None, 1.0, 0.1
        >>> rep.certificate, rep.rounding_eps, rep.dtype = "paper", 1e-7, "float32"
        >>> rep.delta_charges = None
        >>> rep.certificate_statement
        'nothing (the union bound totals 1)'
        """
        if self.certificate == "none":
            return "nothing (no certificate asked for: certificate='none')"
        failed = self.failed_events()
        blame = f" (charged above its share: {'; '.join(failed)})" if failed else ""
        if self.certified_eps is None:
            total = "unknown" if self.certified_delta is None else f"{self.certified_delta:.3g}"
            return f"nothing (the union bound totals {total}{blame})"
        line = f"eps = {self.certified_eps:.4g} with probability >= 1 - {self.certified_delta:.3g}"
        crit = getattr(self, "criterion", "entrywise")
        crit = "" if crit == "entrywise" else f", criterion {crit}"
        line += f" ({self.certificate} certificate{crit})"
        if self.rounding_eps is not None and self.certified_eps < self.rounding_eps:
            line += (
                f"; below the {self.dtype} rounding of one layer ({self.rounding_eps:.2g}): "
                "not observable in this dtype"
            )
        if self.certified_delta is not None and self.certified_delta > self.delta * (1 + 1e-9):
            line += f"; delta {self.delta:g} was NOT reached{blame}"
        return line

    def to_dict(self) -> dict[str, Any]:
        """A strict-JSON dict (non-finite floats as ``null``, listed under ``"non_finite"``:
        ``netcoreset.bounds.serialization``)."""
        return to_jsonable(dataclasses.asdict(self))

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(), allow_nan=False, **kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, legacy_strings: bool = False) -> CompressionReport:
        """Inverse of :meth:`to_dict` (``legacy_strings``: a report of netcoreset 0.1.0).

        Raises ``ValueError`` when ``data`` is not such a report (missing or unknown fields).
        """
        if not isinstance(data, dict):
            raise ValueError(f"a report must be a dict; got {type(data).__name__}")
        data = from_jsonable(dict(data), legacy_strings=legacy_strings)
        try:
            layers = [LayerReport(**layer) for layer in data.pop("layers", [])]
            return cls(**data, layers=layers)
        except TypeError as exc:
            raise ValueError(f"not a compression report: {exc}") from None


def _layer_report(
    idx: int,
    net: Network,
    stats: LayerStatistics,
    alloc: Allocation,
    budget: ErrorBudget,
    sampled: Sampled,
    cert: Certificate,
    eps_layer: float,
    pruned: Sequence[int],
    folded: Sequence[int],
) -> LayerReport:
    w = net.weights[idx]
    rows, cols = w.shape
    active = alloc.draws[idx][stats.table.totals > 0]
    nnz_before = count_nonzeros([w], [net.biases[idx]])[0]
    nnz_after = count_nonzeros([sampled.weights[idx]], [sampled.biases[idx]])[0]
    extras = sampled.extras[idx]
    rank = extras.get("svd_rank")
    new_b = sampled.biases[idx]
    params = nnz_after
    if rank is not None:
        params = rank * (rows + cols) + (0 if new_b is None else int((new_b != 0).sum()))
    return LayerReport(
        index=idx,
        in_features=int(cols),
        out_features=int(rows),
        nnz_before=nnz_before,
        nnz_after=nnz_after,
        parameters_after=params,
        draws_min=float(active.min()) if active.size else 0.0,
        draws_median=float(np.median(active)) if active.size else 0.0,
        draws_max=float(active.max()) if active.size else 0.0,
        sensitivity_sum=float(stats.table.totals.sum()),
        eps_layer=eps_layer,
        delta_hat=_finite_or_none(budget.delta_hat[idx]),
        delta_hat_empirical=_finite_or_none(budget.delta_hat_empirical[idx]),
        expected_kept=float(alloc.expected[idx]),
        certified_eps=cert.per_layer[idx],
        pruned_neurons=pruned[idx],
        folded_neurons=folded[idx],
        chosen_candidates=extras.get("chosen_candidates"),
        svd_rank=rank,
        baseline_draws=extras.get("baseline_draws"),
        draws_total=float(active.sum()),
    )


def _finite_or_none(value: float) -> float | None:
    """``value`` as a float, None for NaN (a figure that was not computed)."""
    return None if math.isnan(value) else float(value)


def _kept_neurons(net: Network, kept: Sequence[torch.Tensor] | None) -> list[list[int]]:
    """Per hidden layer, the kept neurons' indices (all of ``net``'s when none was removed)."""
    if kept is not None:
        return [[int(i) for i in k.tolist()] for k in kept]
    return [list(range(w.shape[0])) for w in net.weights[:-1]]


def _widest_part(net: Network) -> int:
    return max_part_size(net.arch, [b is not None for b in net.biases])


def build_report(
    cfg: CompressionConfig,
    net: Network,
    points: Points,
    stats: Sequence[LayerStatistics],
    budget: ErrorBudget,
    alloc: Allocation,
    sampled: Sampled,
    cert: Certificate,
    *,
    pruned: Sequence[int],
    folded: Sequence[int],
    nnz_original: int,
    seed: int | None,
    device: torch.device,
    dtype: torch.dtype,
    elapsed_s: float,
    notes: list[str],
    checks: HeldOutChecks | None = None,
    holdout: HoldoutOutcome | None = None,
    kept: Sequence[torch.Tensor] | None = None,
) -> CompressionReport:
    """Assemble the report of a finished compression (``kept``: the kept neurons' indices
    per hidden layer, when CoreNet+ removed some; all of them otherwise)."""
    eps_layers = layer_eps(alloc.eps, budget.products_allocation, allocation=True)
    layers = [
        _layer_report(
            idx,
            net,
            stats[idx],
            alloc,
            budget,
            sampled,
            cert,
            float(eps_layers[idx]),
            pruned,
            folded,
        )
        for idx in range(len(stats))
    ]
    return CompressionReport(
        method=cfg.method,
        mode=cfg.mode,
        delta=cfg.delta,
        eps=cfg.eps,
        keep=cfg.keep,
        nnz_budget=alloc.budget,
        K=None if holdout is not None or budget.K_source.startswith("not") else budget.K,
        k_prime=cfg.k_prime,
        include_kappa=cfg.include_kappa,
        allocation=cfg.allocation,
        activations=cfg.activations,
        tight=cfg.tight,
        tau=cfg.tau,
        draw_scale=cfg.draw_scales(len(stats)),
        seed=seed,
        sensitivity_set_size=int(points.s.shape[0]),
        sensitivity_set_size_requested=int(points.requested),
        holdout_set_size=int(points.t.shape[0]),
        eta=net.eta,
        eta_star=net.eta_star,
        kappa=budget.kappa,
        eps_allocation=alloc.eps,
        certified_eps=cert.eps,
        certified_eps_empirical=cert.eps_empirical,
        nnz_original=nnz_original,
        nnz=sum(lay.nnz_after for lay in layers),
        parameters=sum(lay.parameters_after for lay in layers),
        expected_nnz=float(sum(alloc.expected)),
        theorem_nnz_bound=cert.nnz_bound,
        split_inputs=any(s.sensitivity.split_inputs for s in stats),
        device=str(device),
        dtype=str(dtype).replace("torch.", ""),
        elapsed_s=elapsed_s,
        layers=layers,
        warnings=notes,
        certificate=cfg.certificate,
        certified_delta=cert.delta,
        K_source="not used (held-out test)" if holdout is not None else budget.K_source,
        eta_effective=budget.eta_sampling,
        certification_set_size=int(points.v.shape[0]),
        held_out=None if checks is None or not checks.points else checks.summary(cfg.delta),
        holdout=None if holdout is None else holdout.to_dict(),
        rounding_eps=rounding_eps(dtype, _widest_part(net)),
        criterion=cfg.criterion,
        kept_neurons=_kept_neurons(net, kept),
        delta_charges=(
            None if cert.delta is None or holdout is not None else budget.charges(cfg.delta)
        ),
    )
