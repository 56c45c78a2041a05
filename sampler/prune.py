r"""CoreNet+ neuron pruning (Baykal et al., 2019, the CoreNet+ extension).

A hidden neuron whose activation :math:`a^\ell_i(x) = \mathrm{ReLU}(z^\ell_i(x))` is 0 for
every :math:`x \in S` gets zero sensitivity everywhere downstream; it is removed with its
outgoing edges, and the architecture shrinks (:math:`\eta`, :math:`\eta^*` are recomputed).
A neuron whose incoming weights are all zero and whose bias is positive is constant: its
contribution :math:`W^{\ell+1}_{:,i}\,\mathrm{ReLU}(b_i)` is folded into the next bias
exactly (when that layer has one). On a fresh :math:`x` a removed inactive neuron may have
been active: that event is covered by the failure probability.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

__all__ = ["PruneResult", "prune_inactive_neurons"]


@dataclass
class PruneResult:
    """Weights after pruning and, per hidden layer, the kept neuron indices, the number of
    neurons removed and the number of constant neurons folded into the next bias (see the
    example of :func:`prune_inactive_neurons`)."""

    weights: list[torch.Tensor]
    biases: list[torch.Tensor | None]
    kept: list[torch.Tensor] = field(default_factory=list)
    pruned: list[int] = field(default_factory=list)
    folded: list[int] = field(default_factory=list)


@torch.no_grad()
def prune_inactive_neurons(
    weights: list[torch.Tensor],
    biases: list[torch.Tensor | None],
    preacts: list[torch.Tensor],
) -> PruneResult:
    r"""Remove hidden neurons inactive on :math:`S` and fold constant ones.

    ``preacts[l]`` holds :math:`z^{\ell}(x)` of ``weights[l]`` for the points of :math:`S`.

    >>> import torch
    >>> w = [torch.tensor([[1.0], [-1.0]]), torch.tensor([[1.0, 1.0]])]
    >>> b = [torch.zeros(2), torch.zeros(1)]
    >>> res = prune_inactive_neurons(w, b, [torch.tensor([[2.0, -2.0]]), torch.tensor([[2.0]])])
    >>> res.pruned, res.weights[1]
    ([1], tensor([[1.]]))
    """
    weights = [w.clone() for w in weights]
    biases = [None if b is None else b.clone() for b in biases]
    result = PruneResult(weights=weights, biases=biases)
    for idx in range(len(weights) - 1):
        w, b = weights[idx], biases[idx]
        active = (preacts[idx] > 0).any(dim=0)
        constant = (w == 0).all(dim=1)
        folded = 0
        if b is not None and biases[idx + 1] is not None:
            const_pos = constant & (b > 0)
            if bool(const_pos.any()):
                nxt_b = biases[idx + 1]
                assert nxt_b is not None  # checked above
                nxt_b += weights[idx + 1][:, const_pos] @ b[const_pos]
                folded = int(const_pos.sum())
            remove_const = const_pos
        else:
            remove_const = torch.zeros_like(active)
        keep = active & ~remove_const
        if not bool(keep.any()):  # keep one neuron so the network stays well-formed
            keep[int(torch.argmax(preacts[idx].amax(dim=0)))] = True
        weights[idx] = w[keep]
        biases[idx] = None if b is None else b[keep]
        weights[idx + 1] = weights[idx + 1][:, keep]
        result.kept.append(torch.nonzero(keep).flatten())
        result.pruned.append(int((~keep).sum()))
        result.folded.append(folded)
    return result
