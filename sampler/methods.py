r"""The compression methods behind one interface: a registry of small per-layer functions.

Like :mod:`torch.nn.utils.prune`, every method is one small function; here it compresses one
weight layer, given a :class:`LayerTask` (the layer, its sensitivities and draw counts, the
layer's budget, a generator) and returns a :class:`LayerOutcome` (the new weights, bias as
the last column, and a few figures for the report). :data:`METHODS` lists the names, defined
once, in the order of the registry:

============  =================================================================================
method        what it does to each weight layer
============  =================================================================================
corenet       CoreNet (Baykal et al., 2019, Algorithm 1): per neuron and sign,
              :math:`m` i.i.d. draws from :math:`q_j = s_j/\mathcal{S}`,
              :math:`\hat w_j = c_j w_j/(m q_j)`
corenet+      CoreNet after pruning the neurons inactive on :math:`S` (CoreNet+)
corenet++     CoreNet+ with the best of :math:`\tau` candidates per part on a held-out set
              :math:`T` (CoreNet++, amplification)
uniform       :math:`q_j = 1/|\{k: w_k \ne 0\}|`, same per-row draw count, unbiased reweighting
l1            :math:`q_j \propto |w_j|` (Achlioptas & McSherry; Drineas & Zouzias)
l2            :math:`q_j \propto w_j^2`
magnitude     keep the largest :math:`|w|` of the layer, no reweighting
svd           best rank-:math:`r` approximation within the layer's budget
============  =================================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .amplify import best_of_candidates
from .baselines import magnitude_layer, sample_layer, svd_layer
from .sensitivity import LayerSensitivity, sampling_blocks
from .sparsify import categorical_only, signed_part_weights, sparsify_part

__all__ = ["LayerTask", "LayerOutcome", "Method", "METHODS", "get_method"]


@dataclass
class LayerTask:
    r"""What a method needs to compress one weight layer.

    Attributes
    ----------
    weight, bias : torch.Tensor
        :math:`W^\ell` (``(out, in)``) and :math:`b^\ell` (or ``None``).
    sensitivity : LayerSensitivity
        The layer's empirical sensitivities (CoreNet methods).
    draws : numpy.ndarray
        :math:`m` of every part, ``(2 * out,)``, positive parts first.
    budget : float
        The layer's expected number of kept weights (the baselines match it; at or above the
        layer's number of non-zero weights they return the layer unchanged).
    holdout_points : torch.Tensor or None
        CoreNet++'s :math:`T`, augmented like :math:`S` (bias column, sign split).
    tau : int or None
        CoreNet++'s number of candidates.
    generator : torch.Generator
    consume_sensitivity : bool
        Whether the method may write its result into the sensitivities' storage (the
        pipeline sets it: the layer's sensitivities are not read again once it is sampled,
        so the compressed layer costs no memory beyond them).
    """

    weight: torch.Tensor
    bias: torch.Tensor | None
    sensitivity: LayerSensitivity
    draws: np.ndarray
    budget: float
    holdout_points: torch.Tensor | None
    tau: int | None
    generator: torch.Generator
    consume_sensitivity: bool = False

    def full_weight(self) -> torch.Tensor:
        """:math:`[W^\\ell, b^\\ell]`: the bias as the last column."""
        if self.bias is None:
            return self.weight
        return torch.cat([self.weight, self.bias[:, None]], dim=1)


@dataclass
class LayerOutcome:
    """A compressed layer: ``weight_full`` (bias as the last column) and report figures
    (``chosen_candidates``, ``svd_rank``, ``baseline_draws``)."""

    weight_full: torch.Tensor
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Method:
    """One registry entry: the per-layer function and what the pipeline does around it.

    ``sensitivity_sampling`` marks the CoreNet family (draws and certificate from the
    sensitivities); ``prune_neurons`` runs CoreNet+'s neuron pruning first; ``amplify`` draws
    CoreNet++'s held-out set :math:`T`.
    """

    name: str
    compress_layer: Callable[[LayerTask], LayerOutcome]
    sensitivity_sampling: bool = False
    prune_neurons: bool = False
    amplify: bool = False


def _output_buffer(task: LayerTask) -> torch.Tensor:
    """Where ``[W_hat, b_hat]`` is written: the sensitivities' own storage when the task
    allows it and its dtype is the layer's (each block of rows reads its sensitivities before
    its result overwrites them), else a new tensor."""
    w, b = task.weight, task.bias
    shape = (w.shape[0], w.shape[1] + (0 if b is None else 1))
    signed = task.sensitivity.signed
    if (
        task.consume_sensitivity
        and signed.dtype == w.dtype
        and signed.device == w.device
        and tuple(signed.shape) == shape
        and signed.is_contiguous()
    ):
        return signed
    return w.new_empty(shape)


def _corenet(task: LayerTask) -> LayerOutcome:
    # Block by block of rows (:func:`~netcoreset.sampler.sensitivity.sampling_blocks`), so
    # that the float64 work stays near a block's size; the blocks' order fixes the random
    # stream.
    w, b = task.weight, task.bias
    rows = w.shape[0]
    out = _output_buffer(task)
    m = torch.from_numpy(task.draws).to(w.device)
    for r0, r1 in sampling_blocks(*out.shape):
        w_full = w[r0:r1] if b is None else torch.cat([w[r0:r1], b[r0:r1, None]], dim=1)
        if _corenet_block(task, w_full, (m[r0:r1], m[rows + r0 : rows + r1]), out, (r0, r1)):
            continue
        qp, qn = task.sensitivity.probabilities(slice(r0, r1))  # read before out is written
        pos = sparsify_part(w_full.clamp(min=0), qp, m[r0:r1], task.generator)
        del qp
        m_neg = m[rows + r0 : rows + r1]
        neg = sparsify_part(torch.neg(w_full).clamp_(min=0), qn, m_neg, task.generator)
        del qn
        torch.sub(pos, neg, out=out[r0:r1])
    return LayerOutcome(out)


def _corenet_block(
    task: LayerTask,
    w_full: torch.Tensor,
    draws: tuple[torch.Tensor, torch.Tensor],
    out: torch.Tensor,
    block: tuple[int, int],
) -> bool:
    """One block of rows of :func:`_corenet` from the drawn positions only
    (:func:`~netcoreset.sampler.sparsify.signed_part_weights`): :math:`c w/(m q)` at them,
    by the operations of ``sparsify_part`` in its order, then ``pos - neg`` (disjoint
    supports: :math:`x - 0` and :math:`0 - y`), so the same bits. False (nothing drawn, nothing
    written) where a part needs ``sparsify_part``'s binomial splitting."""
    sens, (r0, r1) = task.sensitivity, block
    n = w_full.shape[1]
    if not all(categorical_only(m, n) for m in draws):
        return False
    signed = sens.signed[r0:r1]
    totals = (sens.total_positive[r0:r1], sens.total_negative[r0:r1])
    parts = [
        signed_part_weights(signed, total, sign, m, w_full, task.generator)
        for sign, total, m in zip((1.0, -1.0), totals, draws, strict=True)
    ]
    target = out[r0:r1].zero_().view(-1)  # (after every read: out may be the sensitivities)
    for drawn, value in parts:
        target[drawn] = value
    return True


def _corenet_amplified(task: LayerTask) -> LayerOutcome:
    if task.holdout_points is None or task.tau is None:
        raise ValueError("CoreNet++ needs a held-out set T and tau")
    w_full = task.full_weight()
    m = torch.from_numpy(task.draws).to(w_full.device)
    rows = w_full.shape[0]
    parts = []
    chosen = torch.zeros(task.tau, dtype=torch.long)
    qs = task.sensitivity.probabilities()
    mags = (w_full.clamp(min=0), (-w_full).clamp(min=0))
    for mag, q, m_part in zip(mags, qs, (m[:rows], m[rows:]), strict=True):
        w_hat, picked = best_of_candidates(
            mag, q, m_part, task.holdout_points, task.tau, task.generator
        )
        chosen += torch.bincount(picked.cpu(), minlength=task.tau)
        parts.append(w_hat)
    return LayerOutcome(parts[0] - parts[1], {"chosen_candidates": [int(v) for v in chosen]})


def _whole(task: LayerTask) -> LayerOutcome | None:
    """The layer unchanged when its budget covers all of its non-zero weights (a baseline at
    ``keep=1`` returns the model itself, not a resample of it); else None."""
    full = task.full_weight()
    if task.budget >= int((full != 0).sum()):
        return LayerOutcome(full.clone())
    return None


def _sampling_baseline(name: str) -> Callable[[LayerTask], LayerOutcome]:
    def compress_layer(task: LayerTask) -> LayerOutcome:
        whole = _whole(task)
        if whole is not None:
            return whole
        w_hat, m = sample_layer(task.full_weight(), name, task.budget, task.generator)
        return LayerOutcome(w_hat, {"baseline_draws": m})

    compress_layer.__name__ = f"_{name}"
    return compress_layer


def _magnitude(task: LayerTask) -> LayerOutcome:
    return LayerOutcome(magnitude_layer(task.full_weight(), task.budget))


def _svd(task: LayerTask) -> LayerOutcome:
    whole = _whole(task)
    if whole is not None:
        return whole
    b = task.bias
    low, rank = svd_layer(task.weight, 0 if b is None else int((b != 0).sum()), task.budget)
    full = low if b is None else torch.cat([low, b[:, None]], dim=1)
    return LayerOutcome(full, {"svd_rank": rank})


_REGISTRY: dict[str, Method] = {
    m.name: m
    for m in (
        Method("corenet", _corenet, sensitivity_sampling=True),
        Method("corenet+", _corenet, sensitivity_sampling=True, prune_neurons=True),
        Method(
            "corenet++",
            _corenet_amplified,
            sensitivity_sampling=True,
            prune_neurons=True,
            amplify=True,
        ),
        Method("uniform", _sampling_baseline("uniform")),
        Method("l1", _sampling_baseline("l1")),
        Method("l2", _sampling_baseline("l2")),
        Method("magnitude", _magnitude),
        Method("svd", _svd),
    )
}

#: The names of the compression methods, in registry order.
METHODS: tuple[str, ...] = tuple(_REGISTRY)


def get_method(name: str) -> Method:
    """The registry entry of a method (names are case-insensitive).

    >>> get_method("CoreNet+").prune_neurons
    True
    >>> get_method("random")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: method must be one of ('corenet', 'corenet+', ..., 'svd'); got 'random'
    """
    if not isinstance(name, str):
        raise ValueError(f"method must be a string; got {name!r}")
    try:
        return _REGISTRY[name.lower()]
    except KeyError:
        raise ValueError(f"method must be one of {METHODS}; got {name!r}") from None
