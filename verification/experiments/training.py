"""Training of the fully-connected ReLU classifiers the experiments compress, and accuracy."""

from __future__ import annotations

import sys
from typing import Any

import torch
from torch import nn

from netcoreset.bounds.validation import check_int, check_seed

__all__ = ["train_mlp", "accuracy", "MAX_EPOCHS", "MAX_WIDTH"]

#: Most epochs :func:`train_mlp` runs (a bound on the work; 10^5 epochs of digits take hours).
MAX_EPOCHS = 10**5

#: Widest layer :func:`train_mlp` builds (hidden widths and the number of classes).
MAX_WIDTH = 10**5


def _inputs(x: Any, name: str = "x") -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor; got {type(x).__name__}")
    if x.ndim < 2 or x.shape[0] == 0:
        raise ValueError(f"{name} must have shape (n, features) with n >= 1; got {tuple(x.shape)}")
    if x.is_complex() or x.dtype == torch.bool:
        raise ValueError(f"{name} must be real-valued; got dtype {x.dtype}")
    return x


def _labels(y: Any, n: int) -> torch.Tensor:
    """Integer class labels of shape ``(n,)``, or a ``ValueError`` naming the mismatch."""
    if not isinstance(y, torch.Tensor):
        raise ValueError(f"y must be a torch.Tensor of class labels; got {type(y).__name__}")
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise ValueError(f"y must hold integer class labels; got dtype {y.dtype}")
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},), one label per input; got {tuple(y.shape)}")
    if n and int(y.min()) < 0:
        raise ValueError(f"class labels must be >= 0; got {int(y.min())}")
    return y


def _outputs(model: nn.Module, x: torch.Tensor, name: str = "model") -> torch.Tensor:
    """``model(x)`` as ``(n, k)``; a model that rejects ``x`` gives a ``ValueError``."""
    try:
        out = model(x)
    except (RuntimeError, TypeError, ValueError) as exc:
        text = " ".join(str(exc).split())[:200]
        raise ValueError(
            f"{name} does not accept inputs of shape {tuple(x.shape)}: {text}"
        ) from None
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape[0] != x.shape[0]:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"{name} must map {x.shape[0]} inputs to ({x.shape[0]}, k); got {shape}")
    return out


def _check_rate(name: str, value: Any, *, positive: bool) -> None:
    """``lr`` in (0, 1e6], ``weight_decay`` in [0, 1e6] (larger values only diverge)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not 0 <= value <= 1e6 or (positive and value == 0):
        bound = "in (0, 1e6]" if positive else "in [0, 1e6]"
        raise ValueError(f"{name} must be a real number {bound}; got {value!r}")


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
    progress: bool | None = None,
) -> nn.Sequential:
    """Train a fully-connected ReLU classifier with Adam (seeded, deterministic on CPU).

    ``x`` is ``(n, d)`` real, ``y`` the ``(n,)`` integer labels; ``hidden`` the hidden widths
    (at most :data:`MAX_WIDTH` each, classes too), ``epochs`` at most :data:`MAX_EPOCHS`.
    ``progress`` shows a bar over the epochs (default: when stderr is a terminal).

    Raises
    ------
    ValueError
        For bad arguments (naming them), and when the training diverges (NaN or inf weights:
        lower ``lr``).

    Examples
    --------
    >>> from netcoreset.verification.experiments.datasets import load_digits_split
    >>> x_tr, y_tr, x_te, y_te = load_digits_split()
    >>> net = train_mlp(x_tr, y_tr, (32,), epochs=5)
    >>> accuracy(net, x_te, y_te) > 0.8
    True
    """
    x = _inputs(x)
    if x.ndim != 2 or not x.is_floating_point() or not bool(torch.isfinite(x).all()):
        raise ValueError(
            f"x must be finite floating-point inputs (n, d); got {x.dtype} {tuple(x.shape)}"
        )
    y = _labels(y, x.shape[0])
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, (tuple, list)):
        raise ValueError(f"hidden must be a tuple of layer widths; got {hidden!r}")
    hidden = tuple(check_int("hidden width", h, 1, MAX_WIDTH) for h in hidden)
    classes = check_int("the number of classes (max label + 1)", int(y.max()) + 1, 1, MAX_WIDTH)
    seed = check_seed("seed", seed)
    epochs = check_int("epochs", epochs, 1, MAX_EPOCHS)
    batch_size = check_int("batch_size", batch_size, 1, 2**31)
    _check_rate("lr", lr, positive=True)
    _check_rate("weight_decay", weight_decay, positive=False)
    gen = torch.Generator().manual_seed(seed)
    widths = (x.shape[1], *hidden, classes)
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
    from tqdm.auto import tqdm

    quiet = (not sys.stderr.isatty()) if progress is None else (not progress)
    for _ in tqdm(range(epochs), desc="training", unit="epoch", disable=quiet, leave=False):
        order = torch.randperm(x.shape[0], generator=gen)
        for start in range(0, x.shape[0], batch_size):
            idx = order[start : start + batch_size]
            opt.zero_grad()
            loss_fn(net(x[idx]), y[idx]).backward()
            opt.step()
    net.eval()
    if not all(bool(torch.isfinite(p).all()) for p in net.parameters()):
        raise ValueError(f"training diverged (NaN or inf weights) at lr={lr!r}: lower lr")
    return net


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    r"""Fraction of correct argmax predictions,
    :math:`\frac1n\sum_i [\arg\max_k f(x_i)_k = y_i]`.

    >>> net = nn.Linear(2, 2, bias=False)
    >>> _ = net.weight.data.copy_(torch.eye(2))
    >>> accuracy(net, torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 0]))
    0.5

    Raises
    ------
    ValueError
        When ``y`` is not ``(n,)`` integer labels for the ``n`` inputs (a column ``(n, 1)``
        would otherwise broadcast into an ``(n, n)`` comparison), or the model rejects ``x``.
    """
    x = _inputs(x)
    y = _labels(y, x.shape[0])
    out = _outputs(model, x)
    return int((out.argmax(dim=1) == y.to(out.device)).sum()) / x.shape[0]
