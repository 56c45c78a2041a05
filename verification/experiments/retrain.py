r"""Training after compression: the surviving weights with the mask fixed, then the values
with the quantiser in the loop and the codebook tuned.

All three keep the zero pattern of the compressed network: a zero weight stays zero, so the
positions a description pays for are the compression's. They are data-dependent, which an
Occam bound allows (only the *code* must be fixed before the data):

* :func:`retrain_masked` minimises the cross-entropy over the non-zeros
  :math:`\{w_j : m_j = 1\}` with Adam (Kingma and Ba 2015), cosine learning-rate decay;
* :func:`quantization_aware_retrain` trains latent weights :math:`w` and the codebook
  :math:`c` through the nearest-level quantiser :math:`Q_c(w) = c_{s(w)}` with the
  straight-through estimator (Bengio et al. 2013), :math:`\partial Q_c(w)/\partial w := 1`,
  :math:`\partial Q_c(w)/\partial c_j = [s(w) = j]`;
* :func:`tune_codebook` trains only the levels :math:`c` with the symbols :math:`s` fixed.

Every function returns a new model (or :class:`~netcoreset.sampler.Quantization`); the
caller's model is never modified. Shuffling uses a seeded CPU generator: bit-reproducible
on CPU.

References
----------
Y. Bengio, N. Léonard, A. Courville, "Estimating or propagating gradients through stochastic
neurons for conditional computation", arXiv:1308.3432, 2013.
S. Han, H. Mao, W. J. Dally, "Deep compression", ICLR 2016 (retraining with a fixed mask,
trained shared weights).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from netcoreset.sampler import Quantization, build_sequential, linear_layers, quantize

__all__ = [
    "retrain_masked",
    "ste_quantize",
    "quantization_aware_retrain",
    "tune_codebook",
    "minibatches",
]


def _check_xy(x: torch.Tensor, y: torch.Tensor) -> None:
    if x.ndim != 2 or y.ndim != 1 or x.shape[0] != y.shape[0] or x.shape[0] == 0:
        raise ValueError(
            f"x must be (n, d) and y (n,) with n > 0; got {tuple(x.shape)}, {tuple(y.shape)}"
        )


def _check_run(epochs: int, lr: float, batch_size: int) -> None:
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be an integer >= 0; got {epochs!r}")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a real number > 0; got {lr!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1; got {batch_size!r}")


def minibatches(
    n: int, batch_size: int, epochs: int, seed: int, device: torch.device | str = "cpu"
) -> Iterator[torch.Tensor]:
    """Index tensors of shuffled minibatches, epoch after epoch (a seeded CPU permutation).

    >>> [b.tolist() for b in minibatches(4, 3, 1, seed=0)]
    [[0, 1, 3], [2]]
    """
    gen = torch.Generator().manual_seed(int(seed))
    for _ in range(epochs):
        order = torch.randperm(n, generator=gen).to(device)
        yield from order.split(batch_size)


def _progress(total: int, desc: str) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not sys.stderr.isatty(), leave=False)


def _cosine(opt: torch.optim.Optimizer, steps: int) -> torch.optim.lr_scheduler.LRScheduler:
    return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(steps, 1))


def _run(
    params: Sequence[torch.Tensor],
    loss_of: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    after_step: Callable[[], None] | None = None,
    desc: str = "training",
    after_epoch: Callable[[], None] | None = None,
) -> None:
    """Adam with cosine decay over ``epochs`` of seeded minibatches; ``after_step`` and
    ``after_epoch`` are called after every step and every epoch."""
    opt = torch.optim.Adam(list(params), lr=lr)
    per_epoch = math.ceil(x.shape[0] / batch_size)
    steps = epochs * per_epoch
    sched = _cosine(opt, steps)
    bar = _progress(steps, desc)
    for step, idx in enumerate(minibatches(x.shape[0], batch_size, epochs, seed, x.device), 1):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(loss_of(x[idx]), y[idx])
        loss.backward()
        opt.step()
        sched.step()
        if after_step is not None:
            after_step()
        if after_epoch is not None and step % per_epoch == 0:
            after_epoch()
        bar.update()
    bar.close()


@torch.no_grad()
def _errors(
    forward: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, y: torch.Tensor
) -> int:
    """Training errors of a functional forward pass, in slabs of 8192 points."""
    return sum(int((forward(x[i : i + 8192]).argmax(1) != y[i : i + 8192]).sum())
               for i in range(0, x.shape[0], 8192))  # fmt: skip


class _BestIterate:
    """Copies of ``tensors`` at the call of :meth:`update` (or creation) with the fewest
    training errors so far; choosing an iterate on the training data is free in an Occam
    bound."""

    def __init__(self, errors: Callable[[], int], tensors: Sequence[torch.Tensor]) -> None:
        self._count, self._tensors = errors, list(tensors)
        self.errors = errors()
        self.values = [t.detach().clone() for t in self._tensors]

    def update(self) -> None:
        k = self._count()
        if k < self.errors:
            self.errors, self.values = k, [t.detach().clone() for t in self._tensors]


def _matrices(model: nn.Module) -> tuple[list[torch.Tensor], list[bool]]:
    lays = linear_layers(model)
    mats, has_bias = [], []
    for lay in lays:
        w = lay.weight.detach()
        b = lay.bias
        mats.append(w.clone() if b is None else torch.cat([w, b.detach()[:, None]], 1))
        has_bias.append(lay.bias is not None)
    return mats, has_bias


def _forward(
    mats: Sequence[torch.Tensor], has_bias: Sequence[bool], x: torch.Tensor
) -> torch.Tensor:
    a = x
    for idx, (m, b) in enumerate(zip(mats, has_bias, strict=True)):
        a = nn.functional.linear(a, m[:, :-1], m[:, -1]) if b else nn.functional.linear(a, m)
        if idx < len(mats) - 1:
            a = torch.relu(a)
    return a


def _to_model(mats: Sequence[torch.Tensor], has_bias: Sequence[bool]) -> nn.Sequential:
    pairs = list(zip(mats, has_bias, strict=True))
    ws = [(m[:, :-1] if b else m).detach().contiguous() for m, b in pairs]
    bs = [m[:, -1].detach().contiguous() if b else None for m, b in pairs]
    return build_sequential(ws, bs)


def retrain_masked(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int = 5,
    lr: float = 1e-3,
    batch_size: int = 128,
    seed: int = 0,
) -> nn.Sequential:
    r"""Retrain the non-zero weights and biases of ``model`` with its zero pattern fixed.

    .. math::

        \min_{w}\ \frac1n\sum_{i=1}^n \mathrm{CE}\bigl(f_{w \odot m}(x_i), y_i\bigr),
        \qquad m = [w^{(0)} \neq 0]

    Returns a new ``nn.Sequential`` on the model's device and dtype whose zeros are exactly
    the zeros of ``model``.

    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    >>> with torch.no_grad():
    ...     _ = net[0].weight.mul_(torch.rand(8, 4) < 0.5)
    >>> x, y = torch.rand(64, 4), torch.randint(0, 3, (64,))
    >>> new = retrain_masked(net, x, y, epochs=2)
    >>> bool(torch.equal(new[0].weight == 0, net[0].weight == 0))
    True
    """
    _check_xy(x, y)
    _check_run(epochs, lr, batch_size)
    mats, has_bias = _matrices(model)
    x = x.to(device=mats[0].device, dtype=mats[0].dtype)
    y = y.to(mats[0].device)
    masks = [m != 0 for m in mats]
    params = [m.requires_grad_(True) for m in mats]

    def reapply() -> None:
        with torch.no_grad():
            for p, mask in zip(params, masks, strict=True):
                p.mul_(mask)

    _run(
        params,
        lambda xb: _forward(params, has_bias, xb),
        x, y, epochs, lr, batch_size, seed, reapply, "masked retraining",
    )  # fmt: skip
    return _to_model(params, has_bias)


def ste_quantize(values: torch.Tensor, codebook: torch.Tensor) -> torch.Tensor:
    r"""Nearest-level quantisation with straight-through gradients.

    Forward :math:`Q_c(v) = c_{s(v)}`, :math:`s(v) = \arg\min_j |v - c_j|` (ties to the
    lowest index); backward :math:`\partial/\partial v = 1` and
    :math:`\partial/\partial c_j = [s(v) = j]`.

    >>> v = torch.tensor([0.1, 0.9], requires_grad=True)
    >>> c = torch.tensor([0.0, 1.0], requires_grad=True)
    >>> q = ste_quantize(v, c)
    >>> q.tolist()
    [0.0, 1.0]
    >>> q.sum().backward(); v.grad.tolist(), c.grad.tolist()
    ([1.0, 1.0], [1.0, 1.0])
    """
    sym = (values.detach()[:, None] - codebook.detach()[None, :]).abs().argmin(dim=1)
    return codebook[sym] + (values - values.detach())


def _codebook_tensors(q: Quantization, ref: torch.Tensor) -> list[torch.Tensor]:
    return [torch.tensor(c, device=ref.device, dtype=ref.dtype) for c in q.codebooks]


def quantization_aware_retrain(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    levels: int,
    *,
    epochs: int = 3,
    lr: float = 3e-4,
    batch_size: int = 128,
    seed: int = 0,
    shared: bool = False,
    codebook_dtype: str = "float32",
    keep_best: bool = True,
) -> Quantization:
    r"""Train latent weights and a :math:`k`-means-initialised codebook through the
    quantiser (straight-through, :func:`ste_quantize`), zero pattern fixed.

    The codebook starts as :func:`~netcoreset.sampler.quantize`'s :math:`k`-means levels of
    ``model``; the result is :func:`~netcoreset.sampler.quantize` of the trained latent
    weights with the trained levels (rounded to ``codebook_dtype``), i.e. the network whose
    training errors a bound counts. With ``keep_best`` the iterate (start or end of an
    epoch) with the fewest training errors of its quantised network is returned; choosing it
    on the training data is free in an Occam bound, which allows any data-dependent network.

    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    >>> x, y = torch.rand(64, 4), torch.randint(0, 3, (64,))
    >>> q = quantization_aware_retrain(net, x, y, 4, epochs=1)
    >>> [c.size <= 4 for c in q.codebooks], q.nnz == 8 * 5 + 3 * 9
    ([True, True], True)
    """
    _check_xy(x, y)
    _check_run(epochs, lr, batch_size)
    start = quantize(model, levels, scheme="kmeans", shared=shared, codebook_dtype=codebook_dtype)
    mats, has_bias = _matrices(model)
    ref = mats[0]
    x, y = x.to(device=ref.device, dtype=ref.dtype), y.to(ref.device)
    masks = [m != 0 for m in mats]
    latent = [m[mask].clone().requires_grad_(True) for m, mask in zip(mats, masks, strict=True)]
    books = [c.requires_grad_(True) for c in _codebook_tensors(start, ref)]

    def quantised() -> list[torch.Tensor]:
        out = []
        for idx, (v, mask) in enumerate(zip(latent, masks, strict=True)):
            full = torch.zeros(mask.shape, device=ref.device, dtype=ref.dtype)
            if v.numel():
                full = full.masked_scatter(mask, ste_quantize(v, books[0 if shared else idx]))
            out.append(full)
        return out

    def errors() -> int:
        with torch.no_grad():
            mats = quantised()
        return _errors(lambda xb: _forward(mats, has_bias, xb), x, y)

    tracked = latent + books
    best = _BestIterate(errors, tracked) if keep_best else None
    _run(
        tracked,
        lambda xb: _forward(quantised(), has_bias, xb),
        x, y, epochs, lr, batch_size, seed, None, f"quantisation-aware ({levels} levels)",
        None if best is None else best.update,
    )  # fmt: skip
    values = [t.detach() for t in tracked] if best is None else best.values
    final_latent, final_books = values[: len(latent)], values[len(latent) :]
    final = []
    for v, mask in zip(final_latent, masks, strict=True):
        full = torch.zeros(mask.shape, device=ref.device, dtype=ref.dtype)
        final.append(full.masked_scatter(mask, v))
    tuned = [np.sort(b.double().cpu().numpy()) for b in final_books]
    return quantize(
        _to_model(final, has_bias), levels, codebooks=tuned, shared=shared,
        codebook_dtype=codebook_dtype,
    )  # fmt: skip


def tune_codebook(
    quantization: Quantization,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int = 1,
    lr: float = 1e-4,
    batch_size: int = 128,
    seed: int = 0,
) -> Quantization:
    r"""Train only the levels :math:`c` of a quantised network, symbols :math:`s` fixed.

    .. math::

        \min_c\ \frac1n\sum_i \mathrm{CE}\bigl(f_{c_s}(x_i), y_i\bigr)

    Returns :meth:`Quantization.with_codebooks` of the tuned levels (rounded to the
    quantisation's ``codebook_dtype``).

    >>> from netcoreset.sampler import quantize
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> q = quantize(nn.Sequential(nn.Linear(4, 3)), 2)
    >>> x, y = torch.rand(32, 4), torch.randint(0, 3, (32,))
    >>> t = tune_codebook(q, x, y, epochs=1, lr=1e-2)
    >>> bool(np.array_equal(t.symbols[0], q.symbols[0]))
    True
    """
    _check_xy(x, y)
    _check_run(epochs, lr, batch_size)
    ref = linear_layers(quantization.model)[0].weight
    x, y = x.to(device=ref.device, dtype=ref.dtype), y.to(ref.device)
    books = [c.requires_grad_(True) for c in _codebook_tensors(quantization, ref)]
    idx_t = [torch.from_numpy(s).to(ref.device) for s in quantization.symbols]
    masks = [torch.from_numpy(m).to(ref.device) for m in quantization.masks]

    def mats() -> list[torch.Tensor]:
        out = []
        for i, (mask, sym) in enumerate(zip(masks, idx_t, strict=True)):
            full = torch.zeros(mask.shape, device=ref.device, dtype=ref.dtype)
            book = books[quantization.codebook_of(i)]
            out.append(full.masked_scatter(mask, book[sym]) if sym.numel() else full)
        return out

    _run(
        books,
        lambda xb: _forward(mats(), quantization.has_bias, xb),
        x, y, epochs, lr, batch_size, seed, None, "codebook tuning",
    )  # fmt: skip
    return quantization.with_codebooks([b.detach().double().cpu().numpy() for b in books])
