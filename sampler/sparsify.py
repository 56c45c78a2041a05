r"""SPARSIFY (Baykal et al., 2019): i.i.d. importance sampling of edges, unbiased reweighting.

For one part with probabilities :math:`q` and :math:`m` draws, the count vector
:math:`c \sim \mathrm{Multinomial}(m, q)` gives

.. math::

    \hat w_j = \frac{c_j\, w_j}{m\, q_j}, \qquad \mathbb{E}[\hat w_j] = w_j .
"""

from __future__ import annotations

import torch

__all__ = ["multinomial_counts", "sparsify_part"]


def multinomial_counts(
    q: torch.Tensor, m: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    r"""Multinomial count vectors for every row at once: row ``i`` gets
    :math:`c_i \sim \mathrm{Multinomial}(m_i, q_i)`.

    Sampled exactly by binary splitting: the count of a node of a binary tree over the
    columns splits into its children by

    .. math::

        c_{\text{left}} \sim \mathrm{Binomial}(c_{\text{node}},\ Q_{\text{left}}/Q_{\text{node}}),

    which is :math:`\lceil\log_2 n\rceil` vectorised binomial draws for the whole layer and
    memory independent of :math:`m` (the theorem's :math:`m` can exceed :math:`10^{18}`).

    Parameters
    ----------
    q : torch.Tensor
        ``(rows, n)`` non-negative; each row sums to 1, or is all zero (then ``m`` must be 0).
    m : torch.Tensor
        ``(rows,)`` whole numbers of draws.
    generator : torch.Generator, optional

    Returns
    -------
    torch.Tensor
        ``(rows, n)`` float64 counts on ``q``'s device; each row sums to ``m``.

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> c = multinomial_counts(torch.tensor([[0.5, 0.5, 0.0]]), torch.tensor([10]), g)
    >>> c.sum().item(), c[0, 2].item()
    (10.0, 0.0)
    """
    if q.ndim != 2 or m.ndim != 1 or m.shape[0] != q.shape[0]:
        raise ValueError(f"shape mismatch: q is {tuple(q.shape)}, m is {tuple(m.shape)}")
    rows, n = q.shape
    qd = q.to(torch.float64)
    md = m.to(device=q.device, dtype=torch.float64)
    width = 1
    while width < n:
        width *= 2
    if width > n:
        qd = torch.cat([qd, qd.new_zeros((rows, width - n))], dim=1)
    # Sums of q over the nodes of each level, leaves first.
    levels = [qd]
    while levels[-1].shape[1] > 1:
        levels.append(levels[-1].reshape(rows, -1, 2).sum(dim=2))
    counts = md[:, None]
    for level in reversed(levels[:-1]):
        pairs = level.reshape(rows, -1, 2)
        node = pairs.sum(dim=2)
        p_left = torch.where(node > 0, pairs[:, :, 0] / torch.where(node > 0, node, 1.0), 0.0)
        p_left = p_left.clamp(0.0, 1.0)
        left = torch.binomial(counts, p_left, generator=generator)
        counts = torch.stack([left, counts - left], dim=2).reshape(rows, -1)
    return counts[:, :n]


def sparsify_part(
    magnitude: torch.Tensor,
    q: torch.Tensor,
    m: torch.Tensor,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Sample and reweight one part of every row: :math:`\hat w_j = c_j w_j / (m q_j)`.

    Parameters
    ----------
    magnitude : torch.Tensor
        ``(rows, n)`` the part's weights as non-negative magnitudes (:math:`w` on
        :math:`\mathcal{W}_+` or :math:`-w` on :math:`\mathcal{W}_-`, zero elsewhere).
    q : torch.Tensor
        ``(rows, n)`` sampling probabilities (rows sum to 1, or are zero with ``m = 0``).
    m : torch.Tensor
        ``(rows,)`` draws per row.

    Returns
    -------
    torch.Tensor
        ``(rows, n)`` reweighted magnitudes in ``magnitude``'s dtype; zero where not drawn.

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> w = torch.tensor([[2.0, 0.0, 1.0]])
    >>> q = torch.tensor([[0.5, 0.0, 0.5]])
    >>> sparsify_part(w, q, torch.tensor([4]), g)  # c = (3, 0, 1): w_hat = c w / (4 q)
    tensor([[3.0000, 0.0000, 0.5000]])
    """
    counts = multinomial_counts(q, m, generator)
    md = m.to(device=q.device, dtype=torch.float64)[:, None]
    qd = q.to(torch.float64)
    scale = torch.where(counts > 0, counts / (md * torch.where(qd > 0, qd, 1.0)), 0.0)
    return (magnitude.to(torch.float64) * scale).to(magnitude.dtype)
