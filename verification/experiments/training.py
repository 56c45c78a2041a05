"""Training of the fully-connected ReLU classifiers the experiments compress, and accuracy."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["train_mlp", "accuracy"]


def train_mlp(
    x: torch.Tensor,
    y: torch.Tensor,
    hidden: tuple[int, ...] = (300, 100),
    *,
    seed: int = 0,
    epochs: int = 30,
    batch_size: int = 64,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
) -> nn.Sequential:
    """Train a fully-connected ReLU classifier with Adam (seeded, deterministic on CPU).

    >>> from netcoreset.verification.experiments.datasets import load_digits_split
    >>> x_tr, y_tr, x_te, y_te = load_digits_split()
    >>> net = train_mlp(x_tr, y_tr, (32,), epochs=5)
    >>> accuracy(net, x_te, y_te) > 0.8
    True
    """
    if x.ndim != 2 or y.ndim != 1 or x.shape[0] != y.shape[0] or x.shape[0] == 0:
        raise ValueError(
            f"x must be (n, d) and y (n,) with n > 0; got {tuple(x.shape)}, {tuple(y.shape)}"
        )
    gen = torch.Generator().manual_seed(seed)
    widths = (x.shape[1], *hidden, int(y.max()) + 1)
    mods: list[nn.Module] = []
    for i in range(len(widths) - 1):
        lin = nn.Linear(widths[i], widths[i + 1])
        bound = 1.0 / widths[i] ** 0.5
        with torch.no_grad():
            lin.weight.uniform_(-bound, bound, generator=gen)
            lin.bias.uniform_(-bound, bound, generator=gen)
        mods.append(lin)
        if i < len(widths) - 2:
            mods.append(nn.ReLU())
    net = nn.Sequential(*mods)
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        order = torch.randperm(x.shape[0], generator=gen)
        for start in range(0, x.shape[0], batch_size):
            idx = order[start : start + batch_size]
            opt.zero_grad()
            loss_fn(net(x[idx]), y[idx]).backward()
            opt.step()
    net.eval()
    return net


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    r"""Fraction of correct argmax predictions,
    :math:`\frac1n\sum_i [\arg\max_k f(x_i)_k = y_i]`.

    >>> net = nn.Linear(2, 2, bias=False)
    >>> _ = net.weight.data.copy_(torch.eye(2))
    >>> accuracy(net, torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 0]))
    0.5
    """
    return float((model(x).argmax(dim=1) == y).float().mean())
