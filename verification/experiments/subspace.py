r"""The random-subspace compressor: training :math:`\theta = \theta_0 + P z` with
:math:`\theta_0` and :math:`P` fixed by a seed chosen in advance.

A network of :math:`D` parameters is restricted to the :math:`d`-dimensional affine subspace

.. math::

    \theta(z) = \theta_0 + P z,\qquad z \in \mathbb{R}^d,\ P \in \mathbb{R}^{D\times d},

where :math:`\theta_0` (the usual uniform initialisation,
:math:`U(\pm 1/\sqrt{\text{fan-in}})`) and :math:`P` (i.i.d. :math:`N(0, 1/D)` entries, so
columns have norm about 1) are generated from a seed fixed before the data is seen (Li et
al. 2018). They cost no bits in a description: the code holds only the :math:`d`
coordinates of :math:`z`, quantised to :math:`r` levels (Lotfi et al. 2022). This is the
reference for what a given sample allows, next to compressions that must pay for which
weights survive.

Decoding computes :math:`\theta_0 + P z` in float64 on the CPU and rounds to float32, so a
description always stands for the same network.

**A data-dependent origin.** :math:`\theta_0` may instead be a *prior network* trained on data
disjoint from the certification sample (``origin``, :func:`prior_origin`): the code then
describes the certified network as quantised coordinates around it, and the prior network
costs no bits *because* it was fixed before the certification sample was seen (the
registration of :mod:`~netcoreset.verification.experiments.registration` records that). The
basis :math:`P` still comes from the seed, the same with or without an origin.

References
----------
C. Li, H. Farkhoor, R. Liu, J. Yosinski, "Measuring the intrinsic dimension of objective
landscapes", ICLR 2018.
S. Lotfi, M. Finzi, S. Kapoor, A. Potapczynski, M. Goldblum, A. G. Wilson, "PAC-Bayes
compression bounds so tight that they can explain generalization", NeurIPS 2022.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from netcoreset.bounds.validation import check_positive_int, check_seed
from netcoreset.sampler import build_sequential, linear_layers, quantize_values

from .retrain import _BestIterate, _check_run, _check_xy, _errors, _run, ste_quantize

__all__ = ["SubspaceSpec", "SubspaceQuantization", "subspace_basis", "subspace_model",
           "train_subspace", "quantize_subspace", "prior_origin"]  # fmt: skip

#: Refuse bases larger than this many entries (float32: 4 bytes each).
MAX_BASIS_ENTRIES = 60_000_000


@dataclass(frozen=True)
class SubspaceSpec:
    r"""The subspace, fixed in advance: layer widths (input, hidden..., output), dimension
    :math:`d` and the seed of :math:`\theta_0` and :math:`P`.

    >>> spec = SubspaceSpec((4, 3, 2), 5, seed=0)
    >>> spec.num_params  # (4 + 1) * 3 + (3 + 1) * 2
    23
    """

    widths: tuple[int, ...]
    dim: int
    seed: int

    def __post_init__(self) -> None:
        if len(self.widths) < 2:
            raise ValueError(f"widths must be at least two integers >= 1; got {self.widths!r}")
        for w in self.widths:
            check_positive_int("widths", w)
        check_positive_int("dim", self.dim)
        check_seed("seed", self.seed)
        if self.num_params * self.dim > MAX_BASIS_ENTRIES:
            raise ValueError(
                f"the basis would hold {self.num_params} x {self.dim} entries (limit "
                f"{MAX_BASIS_ENTRIES}); use a smaller network or dimension"
            )

    @property
    def shapes(self) -> list[tuple[int, int]]:
        """Per layer ``(out, in + 1)``: weights and the bias column."""
        w = self.widths
        return [(w[i + 1], w[i] + 1) for i in range(len(w) - 1)]

    @property
    def num_params(self) -> int:
        """:math:`D`, weights and biases."""
        return sum(a * b for a, b in self.shapes)


def subspace_basis(
    spec: SubspaceSpec, origin: torch.Tensor | None = None, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    r""":math:`(\theta_0, P)` as float32 CPU tensors of shapes ``(D,)`` and ``(D, d)``,
    from a generator seeded with ``spec.seed`` (bit-reproducible). ``origin`` (shape
    ``(D,)``, e.g. :func:`prior_origin` of a prior network) replaces :math:`\theta_0`;
    :math:`P` is the same either way. ``mask`` (``(D,)``, 0/1) restricts the subspace to
    the masked coordinates, :math:`P \leftarrow \operatorname{diag}(m)\,P`: the
    coordinates outside the mask stay at :math:`\theta_0` (e.g. the zeros of a pruned
    origin).

    >>> t0, P = subspace_basis(SubspaceSpec((4, 3, 2), 5, seed=0))
    >>> t0.shape, P.shape
    (torch.Size([23]), torch.Size([23, 5]))
    >>> o, P2 = subspace_basis(SubspaceSpec((4, 3, 2), 5, seed=0), torch.ones(23))
    >>> bool(o.eq(1).all()), torch.equal(P, P2)
    (True, True)
    >>> m = torch.zeros(23); m[:4] = 1
    >>> bool(subspace_basis(SubspaceSpec((4, 3, 2), 5, seed=0), mask=m)[1][4:].eq(0).all())
    True
    """
    gen = torch.Generator().manual_seed(int(spec.seed))
    parts = []
    for out, cols in spec.shapes:
        bound = 1.0 / math.sqrt(cols - 1)
        parts.append(((torch.rand(out, cols, generator=gen) * 2 - 1) * bound).flatten())
    theta0 = torch.cat(parts)
    P = torch.randn(spec.num_params, spec.dim, generator=gen) / math.sqrt(spec.num_params)
    if origin is not None:
        o = torch.as_tensor(origin).detach().cpu().to(torch.float32).reshape(-1)
        if o.shape != theta0.shape or not bool(torch.isfinite(o).all()):
            raise ValueError(
                f"origin must be {spec.num_params} finite values (the spec's parameters); "
                f"got shape {tuple(torch.as_tensor(origin).shape)}"
            )
        theta0 = o.clone()
    if mask is not None:
        mm = torch.as_tensor(mask).detach().cpu().reshape(-1)
        if mm.shape != theta0.shape or not bool(((mm == 0) | (mm == 1)).all()):
            raise ValueError(f"mask must be {spec.num_params} values in {{0, 1}}")
        P = P * mm.to(torch.float32)[:, None]
    return theta0, P


def prior_origin(model: nn.Module, spec: SubspaceSpec) -> torch.Tensor:
    r"""The parameters of a network with ``spec``'s widths as a subspace origin
    :math:`\theta_0` (each layer's :math:`[W \mid b]` row by row, float32).

    >>> spec = SubspaceSpec((4, 3, 2), 5, seed=0)
    >>> net = subspace_model(spec, np.zeros(5))
    >>> torch.equal(prior_origin(net, spec), subspace_basis(spec)[0])
    True
    """
    lays = linear_layers(model)
    widths = (lays[0].in_features, *(lay.out_features for lay in lays))
    if tuple(widths) != tuple(spec.widths):
        raise ValueError(f"the prior network has widths {widths}, the spec {spec.widths}")
    parts = []
    for lay in lays:
        b = torch.zeros(lay.out_features) if lay.bias is None else lay.bias.detach().cpu()
        parts.append(torch.cat([lay.weight.detach().cpu(), b[:, None]], dim=1).flatten())
    return torch.cat(parts).to(torch.float32)


def _layers(spec: SubspaceSpec, theta: torch.Tensor) -> list[torch.Tensor]:
    out, offset = [], 0
    for rows, cols in spec.shapes:
        out.append(theta[offset : offset + rows * cols].view(rows, cols))
        offset += rows * cols
    return out


def _forward(spec: SubspaceSpec, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    mats = _layers(spec, theta)
    a = x
    for idx, m in enumerate(mats):
        a = nn.functional.linear(a, m[:, :-1], m[:, -1])
        if idx < len(mats) - 1:
            a = torch.relu(a)
    return a


def subspace_model(
    spec: SubspaceSpec,
    z: torch.Tensor | np.ndarray,
    origin: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
) -> nn.Sequential:
    r"""The network :math:`\theta_0 + P z` (computed in float64 on the CPU, stored float32;
    ``origin`` and ``mask`` as in :func:`subspace_basis`).

    >>> spec = SubspaceSpec((4, 3, 2), 5, seed=0)
    >>> net = subspace_model(spec, np.zeros(5))
    >>> net(torch.zeros(1, 4)).shape
    torch.Size([1, 2])
    """
    theta0, P = subspace_basis(spec, origin, mask)
    zz = torch.as_tensor(np.asarray(z, dtype=np.float64) if not isinstance(z, torch.Tensor)
                         else z.detach().cpu().double())  # fmt: skip
    if zz.shape != (spec.dim,):
        raise ValueError(f"z must have shape ({spec.dim},); got {tuple(zz.shape)}")
    theta = (theta0.double() + P.double() @ zz).float()
    mats = _layers(spec, theta)
    return build_sequential([m[:, :-1].contiguous() for m in mats],
                            [m[:, -1].contiguous() for m in mats])  # fmt: skip


def train_subspace(
    spec: SubspaceSpec,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int = 6,
    lr: float = 0.05,
    batch_size: int = 256,
    seed: int = 0,
    origin: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""Minimise the cross-entropy over :math:`z` (Adam, cosine decay) from :math:`z = 0`
    (``origin`` and ``mask`` as in :func:`subspace_basis`).

    Returns :math:`z` (float32, on ``x``'s device). The minibatch order comes from ``seed``;
    the subspace from ``spec.seed``.

    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> x, y = torch.rand(64, 4), torch.randint(0, 2, (64,))
    >>> train_subspace(SubspaceSpec((4, 3, 2), 5, seed=0), x, y, epochs=1).shape
    torch.Size([5])
    """
    _check_xy(x, y)
    _check_run(epochs, lr, batch_size)
    if x.shape[1] != spec.widths[0]:
        raise ValueError(f"x has {x.shape[1]} features; the subspace expects {spec.widths[0]}")
    theta0, P = (t.to(x.device) for t in subspace_basis(spec, origin, mask))
    x = x.to(torch.float32)
    z = torch.zeros(spec.dim, device=x.device, requires_grad=True)
    _run([z], lambda xb: _forward(spec, theta0 + P @ z, xb), x, y.to(x.device),
         epochs, lr, batch_size, seed, None, f"subspace d={spec.dim}")  # fmt: skip
    return z.detach()


@dataclass
class SubspaceQuantization:
    """Quantised subspace coordinates: ``codebook[symbols]`` is :math:`z`; ``model`` the
    network it stands for."""

    spec: SubspaceSpec
    codebook: np.ndarray
    symbols: np.ndarray
    levels: int
    codebook_dtype: str
    model: nn.Sequential

    @property
    def counts(self) -> np.ndarray:
        """How often each level is used."""
        return np.bincount(self.symbols, minlength=self.codebook.size)

    @property
    def z(self) -> np.ndarray:
        """The quantised coordinates."""
        return self.codebook[self.symbols]


def quantize_subspace(
    spec: SubspaceSpec,
    z: torch.Tensor,
    x: torch.Tensor,
    y: torch.Tensor,
    levels: int,
    *,
    epochs: int = 2,
    lr: float = 0.005,
    batch_size: int = 256,
    seed: int = 0,
    codebook_dtype: str = "float32",
    origin: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
) -> SubspaceQuantization:
    r"""Quantise :math:`z` to ``levels`` :math:`k`-means levels, then train :math:`z` and
    the levels through the quantiser (straight-through, ``epochs`` > 0), keeping the iterate
    (start or end of an epoch) whose quantised network makes the fewest training errors
    (``origin`` and ``mask`` as in :func:`subspace_basis`).

    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> spec = SubspaceSpec((4, 3, 2), 5, seed=0)
    >>> x, y = torch.rand(64, 4), torch.randint(0, 2, (64,))
    >>> q = quantize_subspace(spec, torch.randn(5), x, y, 2, epochs=1)
    >>> q.codebook.size <= 2, q.symbols.shape
    (True, (5,))
    """
    _check_xy(x, y)
    _check_run(epochs, lr, batch_size)
    book, _ = quantize_values(z, levels, codebook_dtype=codebook_dtype)
    if epochs > 0:
        theta0, P = (t.to(x.device) for t in subspace_basis(spec, origin, mask))
        latent = z.detach().clone().float().to(x.device).requires_grad_(True)
        c = torch.tensor(book, dtype=torch.float32, device=x.device, requires_grad=True)
        xf, yd = x.float(), y.to(x.device)

        def errors() -> int:
            theta = theta0 + P @ ste_quantize(latent, c).detach()
            return _errors(lambda xb: _forward(spec, theta, xb), xf, yd)

        best = _BestIterate(errors, [latent, c])
        _run([latent, c],
             lambda xb: _forward(spec, theta0 + P @ ste_quantize(latent, c), xb),
             xf, yd, epochs, lr, batch_size, seed, None,
             f"subspace quantisation ({levels} levels)", best.update)  # fmt: skip
        z, tuned = best.values[0], np.sort(best.values[1].double().cpu().numpy())
        book, _ = quantize_values(z, levels, codebook=tuned, codebook_dtype=codebook_dtype)
    _, symbols = quantize_values(z, levels, codebook=book, codebook_dtype=codebook_dtype)
    model = subspace_model(spec, book[symbols], origin, mask).to(x.device)
    return SubspaceQuantization(spec, book, symbols, int(levels), codebook_dtype, model)
