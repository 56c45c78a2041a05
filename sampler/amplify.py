r"""CoreNet++ amplification and the estimate of :math:`K` of Assumption 1 (Baykal et al., 2019).

Amplification: for each part draw :math:`\tau` independent candidates and keep the one with
the smallest maximum relative error of the part's pre-activation over a held-out set
:math:`T`. If a candidate fails with probability :math:`p`, all :math:`\tau` fail with
probability :math:`p^\tau`, so a candidate needs only :math:`p = (\delta/4\eta)^{1/\tau}`:

.. math::

    m_\tau = \left\lceil \frac{8\,\mathcal{S}K}{\varepsilon_\ell^2}
    \Bigl(\log 2 + \tfrac{1}{\tau}\log\tfrac{4\eta}{\delta}\Bigr)\right\rceil .

Selecting the candidate by its error on :math:`T` rather than on the unknown fresh input is
the paper's heuristic step; the certificate netcoreset reports for CoreNet++ ignores the
amplification and is therefore conservative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from netcoreset.bounds.validation import check_positive, check_positive_int

from ._model import linear_layers
from .sensitivity import augment_inputs
from .sparsify import sparsify_part

__all__ = ["best_of_candidates", "KEstimate", "estimate_K"]


@torch.no_grad()
def best_of_candidates(
    magnitude: torch.Tensor,
    q: torch.Tensor,
    m: torch.Tensor,
    holdout_points: torch.Tensor,
    tau: int,
    generator: torch.Generator | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Draw ``tau`` candidates of one part for every row and keep, per row, the one with
    the smallest :math:`\max_{x\in T} |\hat z_+(x) - z_+(x)| / z_+(x)` (points with
    :math:`z_+(x) = 0` are skipped). ``holdout_points`` are the augmented inputs of
    :math:`T` (bias column and sign split as for :math:`S`). Returns ``(w_hat, chosen)``.

    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> w = torch.ones(2, 50); q = w / 50
    >>> w_hat, chosen = best_of_candidates(w, q, torch.tensor([20, 20]), torch.rand(5, 50), 3, g)
    >>> w_hat.shape, chosen.tolist() in ([a, b] for a in range(3) for b in range(3))
    (torch.Size([2, 50]), True)
    """
    z = holdout_points @ magnitude.T  # (|T|, rows)
    valid = z > 0
    best = torch.zeros_like(magnitude)
    best_err = torch.full((magnitude.shape[0],), float("inf"), device=magnitude.device)
    chosen = torch.zeros(magnitude.shape[0], dtype=torch.long, device=magnitude.device)
    for t in range(tau):
        cand = sparsify_part(magnitude, q, m, generator)
        z_hat = holdout_points @ cand.T
        rel = torch.where(valid, (z_hat - z).abs() / torch.where(valid, z, 1.0), 0.0)
        err = rel.amax(dim=0).to(best_err.dtype)
        better = err < best_err
        best = torch.where(better[:, None], cand, best)
        best_err = torch.where(better, err, best_err)
        chosen = torch.where(better, torch.full_like(chosen, t), chosen)
    return best, chosen


@dataclass(frozen=True)
class KEstimate:
    """Result of :func:`estimate_K`: the estimate, per layer, the fraction of edges with no
    finite :math:`K`, the number of held-out points and :math:`K'`.

    >>> import torch
    >>> lin = torch.nn.Linear(1, 2, bias=False)
    >>> estimate_K([lin], torch.rand(20, 1) + 0.5).K  # one edge per part: g = 1, so K = 1
    1.0
    """

    K: float
    per_layer: list[float]
    infinite_fraction: float
    sample_size: int
    k_prime: float


@torch.no_grad()
def estimate_K(
    layers: list[torch.nn.Linear],
    holdout: torch.Tensor,
    k_prime: float = 3.0,
    chunk_rows: int = 64,
) -> KEstimate:
    r"""Estimate :math:`K` of Assumption 1 from held-out inputs.

    For each edge with :math:`g_j(x) = w_j a_j(x)/z_+(x)` on the held-out points, with
    :math:`\hat M_j = \max_x g_j(x)` and the empirical CDF :math:`\hat F_j`, the smallest
    :math:`K` with

    .. math::

        \hat F_j(\hat M_j / K) \le e^{-1/K'}\quad\text{for all } j

    is :math:`\max_j \hat M_j / g_{j,(k+1)}` with :math:`k = \lfloor n e^{-1/K'}\rfloor` and
    :math:`g_{j,(k+1)}` the :math:`(k+1)`-th smallest value (strictly just above it; the
    maximum over edges is reported). Edges whose :math:`(k+1)`-th value is 0 (inactive on
    more than a fraction :math:`e^{-1/K'}` of the points) admit no finite :math:`K`; they are
    counted in ``infinite_fraction`` and left out of the maximum. Both parts are used.

    Examples
    --------
    >>> import torch
    >>> torch.manual_seed(0)
    <torch._C.Generator object at ...>
    >>> net = [torch.nn.Linear(4, 3)]
    >>> est = estimate_K(net, torch.rand(200, 4))
    >>> est.K >= 1.0, est.sample_size
    (True, 200)
    """
    layers = linear_layers(torch.nn.Sequential(), layers)  # validates the chain
    if (
        not isinstance(holdout, torch.Tensor)
        or holdout.ndim != 2
        or holdout.shape[1] != layers[0].in_features
    ):
        raise ValueError(f"holdout must be a tensor of shape (n, {layers[0].in_features})")
    n = holdout.shape[0]
    if n < 2:
        raise ValueError(f"holdout must hold at least 2 points; got {n}")
    k_prime = check_positive("k_prime", k_prime)
    chunk_rows = check_positive_int("chunk_rows", chunk_rows)
    level = math.exp(-1.0 / k_prime)
    a = holdout.to(layers[0].weight.dtype)
    per_layer: list[float] = []
    infinite = 0
    total = 0
    for idx, layer in enumerate(layers):
        pts, _ = augment_inputs(a, layer.bias is not None)
        w_full = (
            layer.weight
            if layer.bias is None
            else torch.cat([layer.weight, layer.bias[:, None]], 1)
        )
        k = min(int(math.floor(pts.shape[0] * level)), pts.shape[0] - 1)
        k_layer = 1.0
        for part in (w_full.clamp(min=0), (-w_full).clamp(min=0)):
            for start in range(0, part.shape[0], chunk_rows):
                wp = part[start : start + chunk_rows]
                z = pts @ wp.T  # (n', rows)
                g = wp[None, :, :] * pts[:, None, :] / torch.where(z > 0, z, 1.0)[:, :, None]
                g = torch.where((z > 0)[:, :, None], g, 0.0)
                edges = wp > 0
                m_hat = g.amax(dim=0)
                kth = torch.kthvalue(g, k + 1, dim=0).values
                finite = edges & (kth > 0)
                total += int(edges.sum())
                infinite += int((edges & (kth <= 0)).sum())
                if bool(finite.any()):
                    k_layer = max(k_layer, float((m_hat[finite] / kth[finite]).max()))
        per_layer.append(k_layer)
        z_all = torch.nn.functional.linear(a, layer.weight, layer.bias)
        a = torch.relu(z_all) if idx < len(layers) - 1 else z_all
    return KEstimate(
        K=max(per_layer),
        per_layer=per_layer,
        infinite_fraction=infinite / max(total, 1),
        sample_size=n,
        k_prime=k_prime,
    )
