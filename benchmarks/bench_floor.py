"""(b)'s reference for the CoreNet methods: the arithmetic their statistics and held-out
checks need, at the shapes one compression uses, timed alone with the same kernels.

A compression of a network with inputs in [0, 1] runs, per layer with ``n`` neurons and
``w`` inputs plus the bias, in float64 (the certificate's precision), except the
sensitivities of a float32 layer, which are computed in float32 and rounded up
(``compute_dtype`` of netcoreset.sampler.sensitivity):

* sensitivities over S: per part (sign), a GEMM ``(|S| x w) (w x n)`` and a (max, x)
  product ``(n x |S|) (|S| x w)``, in the layer's compute dtype;
* the cancellation over S: two GEMMs ``(|S| x w-1) (w-1 x n)`` (z and sum |w a|);
* the coverage check over V: per part, a GEMM ``(|V| x w) (w x n)`` and a (max, x)
  product ``(n x w) (w x |V|)``;
* the cancellation check over V: nothing more (its sums come from the coverage check's
  GEMMs);

plus one float32 forward pass of S and one of V for the activations. The sum of these timed
operations is the floor of the certified compression with this implementation's kernels;
``over_floor`` of a case is its wall time against it (sampling, the budget solve and every
elementwise pass come on top).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import torch
from bench_common import timed

from netcoreset.sampler import max_times_product
from netcoreset.sampler.sensitivity import compute_dtype


def _ops(
    net: torch.nn.Sequential, s: torch.Tensor, v: torch.Tensor
) -> list[tuple[str, Callable[[], Any]]]:
    """The operations of the floor, as ``(name, thunk)`` on inputs of the right shapes."""
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    ops: list[tuple[str, Callable[[], Any]]] = []
    with torch.no_grad():
        acts_s, acts_v = [s], [v]
        for lin in linears[:-1]:
            acts_s.append(torch.relu(lin(acts_s[-1])))
            acts_v.append(torch.relu(lin(acts_v[-1])))
    ops.append(("forward S (float32)", partial(net, s)))
    ops.append(("forward V (float32)", partial(net, v)))
    for idx, lin in enumerate(linears):
        w = lin.weight.detach().double()
        full = torch.cat([w, lin.bias.detach().double()[:, None]], dim=1).clamp(min=0)
        a_s, a_v = acts_s[idx].double(), acts_v[idx].double()
        p_s = torch.cat([a_s, torch.ones(a_s.shape[0], 1, dtype=torch.float64)], dim=1)
        p_v = torch.cat([a_v, torch.ones(a_v.shape[0], 1, dtype=torch.float64)], dim=1)
        p_vt = p_v.T.contiguous()
        inv = torch.rand(full.shape[0], p_s.shape[0], dtype=torch.float64)
        tag = f"layer {idx}"
        work = compute_dtype(lin.weight, lin.bias, acts_s[idx])  # float32 for a float32 net
        p_w, full_w, inv_w = p_s.to(work), full.to(work), inv.to(work)
        for _ in range(2):  # both parts
            ops.append((f"{tag} sensitivity GEMM", partial(torch.matmul, p_w, full_w.T)))
            ops.append((f"{tag} sensitivity (max,x)", partial(max_times_product, inv_w, p_w)))
            ops.append((f"{tag} coverage GEMM", partial(torch.matmul, p_v, full.T)))
            ops.append((f"{tag} coverage (max,x)", partial(max_times_product, full, p_vt)))
            ops.append((f"{tag} cancellation S GEMM", partial(torch.matmul, a_s, w.T)))
    return ops


def certificate_arithmetic(
    net: torch.nn.Sequential, s: torch.Tensor, v: torch.Tensor, repeat: int, device: str
) -> dict[str, Any]:
    """The floor: every operation of :func:`_ops` timed alone (median), and their sum."""
    per_op: dict[str, float] = {}
    with torch.no_grad():
        for name, fn in _ops(net, s, v):
            per_op[name] = per_op.get(name, 0.0) + timed(fn, max(repeat, 10), device)["s"]
    return {
        "points_s": int(s.shape[0]),
        "points_v": int(v.shape[0]),
        "s": sum(per_op.values()),
        "operations": per_op,
    }
