r"""Function-preserving removal of hidden units that a sparse network no longer uses, and
the inputs its first layer reads.

After sparsification some hidden units do nothing: unit :math:`i` of hidden layer
:math:`\ell` (row :math:`i` of :math:`[W^\ell \mid b^\ell]`, column :math:`i` of
:math:`W^{\ell+1}`) is removed when

* column :math:`i` of :math:`W^{\ell+1}` is zero (nobody reads it), or
* row :math:`i` of :math:`W^\ell` is zero and :math:`b^\ell_i \le 0` (it outputs
  :math:`\mathrm{ReLU}(b^\ell_i) = 0`), or
* row :math:`i` of :math:`W^\ell` is zero and :math:`b^\ell_i > 0` and layer :math:`\ell+1`
  has a bias: it is the constant :math:`b^\ell_i`, folded exactly into
  :math:`b^{\ell+1} \mathrel{+}= W^{\ell+1}_{:,i}\, b^\ell_i`.

The rules repeat until nothing changes. The network computes the same function (up to
floating-point rounding of a fold); a narrower network has fewer weight slots, so its
positions cost fewer bits (:func:`~netcoreset.bounds.network_code.describe_shrunk_network`).
"""

from __future__ import annotations

import torch
from torch import nn

from netcoreset.sampler import build_sequential, linear_layers

__all__ = ["remove_dead_units", "live_inputs"]


@torch.no_grad()
def remove_dead_units(model: nn.Module) -> nn.Sequential:
    """A new network without the hidden units that do not affect the output (see the
    module's rules); every layer keeps at least one unit.

    >>> net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    >>> with torch.no_grad():
    ...     net[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]]))
    ...     net[0].bias.copy_(torch.tensor([0.0, 2.0, -1.0]))
    ...     net[2].weight.copy_(torch.tensor([[1.0, 1.0, 1.0]]))
    ...     net[2].bias.zero_()  # doctest: +ELLIPSIS
    Parameter...
    >>> small = remove_dead_units(net)
    >>> small[0].weight.shape, small[2].bias.tolist()  # unit 1 folded (+2), unit 2 dropped
    (torch.Size([1, 2]), [2.0])
    >>> x = torch.rand(5, 2)
    >>> torch.allclose(small(x), net(x))
    True
    """
    lays = linear_layers(model)
    ws = [lay.weight.detach().clone() for lay in lays]
    bs = [None if lay.bias is None else lay.bias.detach().clone() for lay in lays]
    changed = True
    while changed:
        changed = False
        for idx in range(len(ws) - 1):
            w, b, nxt_w, nxt_b = ws[idx], bs[idx], ws[idx + 1], bs[idx + 1]
            unread = (nxt_w == 0).all(dim=0)
            no_input = (w == 0).all(dim=1)
            bias = torch.zeros_like(w[:, 0]) if b is None else b
            silent = no_input & (bias <= 0)
            constant = no_input & (bias > 0) & (nxt_b is not None)
            if bool(constant.any()) and nxt_b is not None:
                nxt_b += nxt_w[:, constant & ~unread] @ bias[constant & ~unread]
            keep = ~(unread | silent | constant)
            if not bool(keep.any()):
                keep[0] = True
            if bool((~keep).any()):
                changed = True
                ws[idx], ws[idx + 1] = w[keep], nxt_w[:, keep]
                bs[idx] = None if b is None else b[keep]
    return build_sequential(ws, bs)


def live_inputs(model: nn.Module) -> torch.Tensor:
    """Boolean mask of the inputs that the first layer reads (a non-zero in their column).

    >>> net = nn.Linear(3, 2)
    >>> with torch.no_grad():
    ...     _ = net.weight[:, 1].zero_()
    >>> live_inputs(nn.Sequential(net)).tolist()
    [True, False, True]
    """
    return (linear_layers(model)[0].weight != 0).any(dim=0)
