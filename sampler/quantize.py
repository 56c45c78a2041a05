r"""Quantisation of a (compressed) network to :math:`r` levels, for a finite description.

The sampled weights :math:`\hat w_j = c_j w_j/(m q_j)` are real numbers; a network has a
finite description only once its non-zero values are drawn from a finite codebook. This
module maps every non-zero weight and bias of a layer to the nearest of :math:`r` levels

.. math::

    Q(w) = c_{s(w)}, \qquad s(w) = \arg\min_{j \in \{0,\dots,r-1\}} |w - c_j|,
    \qquad Q(0) = 0,

with the codebook :math:`c` either a uniform grid on :math:`[\min w, \max w]` (over the
non-zeros) or the :math:`r` means of one-dimensional :math:`k`-means (Lloyd's algorithm from
the quantiles, Lloyd 1982), one codebook per layer or one shared by all layers. Zeros stay
exact zeros and are not a level (their positions are described separately), and no level is
0, so the quantised network has exactly the non-zeros of the original.

The result holds the new model (the caller's model is never modified), the integer symbols
:math:`s` of the non-zeros in row-major order of each layer's :math:`[W \mid b]`, the
codebooks and the symbol counts: what a description-length count needs. The network that a
generalization bound certifies is the quantised one.

References
----------
S. P. Lloyd, "Least squares quantization in PCM", IEEE Trans. Inf. Theory 28(2), 1982.
S. Han, H. Mao, W. J. Dally, "Deep compression", ICLR 2016 (k-means weight sharing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ._model import build_sequential, linear_layers

__all__ = [
    "QUANTIZERS",
    "Quantization",
    "quantize",
    "quantize_values",
    "kmeans_1d",
    "uniform_levels",
]

#: The codebook constructions: an evenly spaced grid, or k-means.
QUANTIZERS = ("uniform", "kmeans")
_DTYPES: dict[str, type[np.floating[Any]]] = {
    "float64": np.float64,
    "float32": np.float32,
    "float16": np.float16,
}


def uniform_levels(values: np.ndarray, levels: int, codebook_dtype: str = "float64") -> np.ndarray:
    r"""The grid :math:`c_j = a + j\,(b-a)/(r-1)`, :math:`j = 0..r-1`, on
    :math:`[a, b] = [\min v, \max v]` (:math:`c_0 = a` when :math:`r = 1`).

    :math:`a` and :math:`b` are first rounded to ``codebook_dtype``, the grid is computed in
    float64 and rounded to ``codebook_dtype``: a decoder rebuilds it exactly from
    :math:`(a, b, r)`, which is what a uniform codebook's description holds.

    >>> uniform_levels(np.array([-1.0, 0.5, 1.0]), 3).tolist()
    [-1.0, 0.0, 1.0]
    """
    dt = _DTYPES[codebook_dtype]
    v = np.asarray(values, dtype=np.float64)
    lo, hi = float(dt(v.min())), float(dt(v.max()))
    if levels == 1:
        return np.array([lo])
    grid = lo + np.arange(levels, dtype=np.float64) * ((hi - lo) / (levels - 1))
    return grid.astype(dt).astype(np.float64)


def kmeans_1d(values: np.ndarray, levels: int, iterations: int = 100) -> np.ndarray:
    r"""One-dimensional :math:`k`-means (Lloyd): the sorted centres :math:`c` that locally
    minimise :math:`\sum_i \min_j (v_i - c_j)^2`.

    Deterministic: the centres start at the quantiles :math:`(j + 1/2)/r` of the distinct
    values and Lloyd's two steps (assign to the nearest centre, move each centre to its
    cluster's mean) repeat until the assignment is stable or ``iterations`` is reached.
    Clusters that empty out are dropped, so fewer than ``levels`` centres can come back
    (always when there are fewer distinct values than levels).

    >>> kmeans_1d(np.array([0.0, 0.1, 1.0, 1.1, 5.0]), 3).round(3).tolist()
    [0.05, 1.05, 5.0]
    """
    v = np.sort(np.asarray(values, dtype=np.float64))
    distinct = np.unique(v)
    if distinct.size <= levels:
        return distinct
    centres = np.quantile(distinct, (np.arange(levels) + 0.5) / levels)
    assign = None
    for _ in range(iterations):
        new = np.searchsorted((centres[1:] + centres[:-1]) / 2.0, v)
        if assign is not None and np.array_equal(new, assign):
            break
        assign = new
        sums = np.bincount(assign, weights=v, minlength=centres.size)
        sizes = np.bincount(assign, minlength=centres.size)
        keep = sizes > 0
        centres = np.sort(sums[keep] / sizes[keep])
    return centres


@dataclass
class Quantization:
    r"""A quantised network and the discrete description of its non-zeros.

    Attributes
    ----------
    model : torch.nn.Sequential
        The quantised network (``Linear -> ReLU -> ... -> Linear``), on the input model's
        device and dtype. This is the network a bound certifies.
    levels : int
        :math:`r`, the requested number of levels per codebook.
    scheme : str
        ``"uniform"``, ``"kmeans"`` or ``"given"`` (codebooks passed in).
    shared : bool
        One codebook for all layers (``True``) or one per layer.
    codebooks : list of numpy.ndarray
        The sorted levels (float64 holding exactly the values the model uses); one array, or
        one per layer. A codebook may be shorter than ``levels`` (fewer distinct values).
    masks : list of numpy.ndarray
        Per layer, the boolean non-zero pattern of :math:`[W \mid b]` (shape
        ``(out, in + 1)``; ``(out, in)`` for a layer without bias).
    symbols : list of numpy.ndarray
        Per layer, the int64 codebook index of each non-zero, in row-major order of the mask.
    has_bias : list of bool
        Per layer, whether the last column of its mask is the bias.
    codebook_dtype : str
        The precision in which the levels are described (``"float32"`` by default).
    """

    model: nn.Sequential
    levels: int
    scheme: str
    shared: bool
    codebooks: list[np.ndarray]
    masks: list[np.ndarray]
    symbols: list[np.ndarray]
    has_bias: list[bool]
    codebook_dtype: str

    def codebook_of(self, layer: int) -> int:
        """Index in :attr:`codebooks` of layer ``layer``'s codebook."""
        return 0 if self.shared else layer

    @property
    def counts(self) -> list[np.ndarray]:
        """Per codebook, how often each level is used (an arithmetic coder's count table)."""
        out = [np.zeros(c.size, dtype=np.int64) for c in self.codebooks]
        for idx, sym in enumerate(self.symbols):
            book = self.codebook_of(idx)
            out[book] += np.bincount(sym, minlength=out[book].size)
        return out

    @property
    def nnz(self) -> int:
        """Number of non-zero weights and biases."""
        return int(sum(int(m.sum()) for m in self.masks))

    def with_codebooks(self, codebooks: Sequence[np.ndarray]) -> Quantization:
        """The same masks and symbols with new level values (e.g. after codebook tuning).

        The new levels are rounded to :attr:`codebook_dtype` like the original ones and
        sorted (the symbols follow their levels).

        >>> net = nn.Sequential(nn.Linear(3, 2))
        >>> q = quantize(net, 2)
        >>> q2 = q.with_codebooks([c * 2 for c in q.codebooks])
        >>> bool(torch.equal(q2.model[0].weight, 2 * q.model[0].weight))
        True
        >>> q3 = q.with_codebooks([c[::-1] for c in q.codebooks])  # levels swap places
        >>> bool(torch.equal((q3.model[0].weight == q.model[0].weight), q.model[0].weight == 0))
        True
        """
        if len(codebooks) != len(self.codebooks):
            raise ValueError(f"expected {len(self.codebooks)} codebooks; got {len(codebooks)}")
        ref = linear_layers(self.model)[0].weight
        books, relabel = [], []
        for new, old in zip(codebooks, self.codebooks, strict=True):
            arr = np.asarray(new, dtype=np.float64)
            if arr.shape != old.shape or not np.isfinite(arr).all():
                raise ValueError(f"a codebook must be {old.shape} and finite; got {arr.shape}")
            order = np.argsort(arr, kind="stable")
            books.append(_exact_levels(arr[order], self.codebook_dtype, ref.dtype))
            relabel.append(np.argsort(order, kind="stable"))
        symbols = [relabel[self.codebook_of(i)][s] for i, s in enumerate(self.symbols)]
        model = _decode(self.masks, symbols, books, self.shared, self.has_bias, ref)
        return Quantization(
            model, self.levels, self.scheme, self.shared, books, self.masks, symbols,
            self.has_bias, self.codebook_dtype,
        )  # fmt: skip


def _exact_levels(levels: np.ndarray, codebook_dtype: str, model_dtype: torch.dtype) -> np.ndarray:
    """Round levels to the description's precision; no level may be 0 (zeros are not a level)."""
    desc = levels.astype(_DTYPES[codebook_dtype])
    tiny = np.finfo(desc.dtype).tiny
    desc = np.where(desc == 0, np.where(levels < 0, -tiny, tiny), desc).astype(desc.dtype)
    exact = desc.astype(np.float64)
    held = torch.from_numpy(exact).to(model_dtype).double().numpy()
    if not np.array_equal(held, exact):
        raise ValueError(
            f"the model's dtype {model_dtype} cannot hold {codebook_dtype} levels exactly; "
            "pass a coarser codebook_dtype"
        )
    return exact


def _nearest(values: np.ndarray, codebook: np.ndarray) -> np.ndarray:
    """Index of the nearest level of the sorted ``codebook`` (ties to the lower level)."""
    if codebook.size <= 1 or values.size == 0:
        return np.zeros(values.shape, dtype=np.int64)
    upper = np.searchsorted(codebook, values).clip(1, codebook.size - 1)
    lower = upper - 1
    take_upper = np.abs(codebook[upper] - values) < np.abs(values - codebook[lower])
    return np.where(take_upper, upper, lower).astype(np.int64)


def _decode(
    masks: Sequence[np.ndarray],
    symbols: Sequence[np.ndarray],
    codebooks: Sequence[np.ndarray],
    shared: bool,
    has_bias: Sequence[bool],
    ref: torch.Tensor,
) -> nn.Sequential:
    """The network that the description (masks, symbols, codebooks) stands for."""
    weights, biases = [], []
    for idx, (mask, sym, bias) in enumerate(zip(masks, symbols, has_bias, strict=True)):
        full = np.zeros(mask.shape, dtype=np.float64)
        full[mask] = codebooks[0 if shared else idx][sym]
        t = torch.from_numpy(full).to(device=ref.device, dtype=ref.dtype)
        weights.append((t[:, :-1] if bias else t).contiguous())
        biases.append(t[:, -1].contiguous() if bias else None)
    return build_sequential(weights, biases)


def _layer_matrices(layers: Sequence[nn.Linear]) -> list[np.ndarray]:
    out = []
    for lay in layers:
        w = lay.weight.detach()
        full = w if lay.bias is None else torch.cat([w, lay.bias.detach()[:, None]], dim=1)
        out.append(full.double().cpu().numpy())
    return out


def _codebook(
    values: np.ndarray, levels: int, scheme: str, iterations: int, codebook_dtype: str
) -> np.ndarray:
    if values.size == 0:
        return np.zeros(0)
    if scheme == "uniform":
        return uniform_levels(values, levels, codebook_dtype)
    return kmeans_1d(values, levels, iterations)


def quantize_values(
    values: np.ndarray | torch.Tensor,
    levels: int,
    *,
    scheme: str = "kmeans",
    codebook: np.ndarray | None = None,
    codebook_dtype: str = "float32",
    iterations: int = 100,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Quantise a vector (every entry, zeros included) to :math:`r` levels.

    Returns ``(codebook, symbols)``: the sorted levels (float64, exact in ``codebook_dtype``)
    and the int64 index of the nearest level of each entry, so that
    ``codebook[symbols]`` is the quantised vector. Used for the coordinates of a network
    trained in a random subspace, where every coordinate is coded.

    >>> book, sym = quantize_values(np.array([0.0, 0.1, 0.9, 1.0]), 2)
    >>> book.round(6).tolist(), sym.tolist()
    ([0.05, 0.95], [0, 0, 1, 1])
    """
    _check_options(levels, scheme, codebook_dtype, iterations)
    v = (values.detach().double().cpu().numpy() if isinstance(values, torch.Tensor)
         else np.asarray(values, dtype=np.float64)).ravel()  # fmt: skip
    if v.size == 0 or not np.isfinite(v).all():
        raise ValueError("values must be a non-empty array of finite numbers")
    if codebook is None:
        raw = _codebook(v, int(levels), scheme, iterations, codebook_dtype)
    else:
        raw = np.sort(np.asarray(codebook, dtype=np.float64).ravel())
        if raw.size == 0 or raw.size > levels or not np.isfinite(raw).all():
            raise ValueError(f"codebook needs 1 to {levels} finite levels")
    book = raw.astype(_DTYPES[codebook_dtype]).astype(np.float64)
    if scheme != "uniform" or codebook is not None:
        book = np.unique(book)
    return book, _nearest(v, book)


def _check_options(levels: int, scheme: str, codebook_dtype: str, iterations: int) -> None:
    if isinstance(levels, bool) or not isinstance(levels, (int, np.integer)) or levels < 1:
        raise ValueError(f"levels must be an integer >= 1; got {levels!r}")
    if scheme not in QUANTIZERS:
        raise ValueError(f"scheme must be one of {QUANTIZERS}; got {scheme!r}")
    if codebook_dtype not in _DTYPES:
        raise ValueError(f"codebook_dtype must be one of {tuple(_DTYPES)}; got {codebook_dtype!r}")
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ValueError(f"iterations must be an integer >= 1; got {iterations!r}")


def quantize(
    model: nn.Module,
    levels: int,
    *,
    scheme: str = "kmeans",
    shared: bool = False,
    codebooks: Sequence[np.ndarray] | None = None,
    codebook_dtype: str = "float32",
    iterations: int = 100,
    layers: Sequence[nn.Linear] | None = None,
) -> Quantization:
    r"""Quantise every non-zero weight and bias of ``model`` to the nearest of ``levels``
    levels; zeros stay zeros.

    Parameters
    ----------
    model : torch.nn.Module
        A fully-connected ReLU network (see :func:`~netcoreset.sampler.linear_layers`),
        typically the ``.model`` of a :class:`~netcoreset.sampler.CompressionResult`. It is
        never modified.
    levels : int
        :math:`r \ge 1` levels per codebook.
    scheme : {"kmeans", "uniform"}
        One-dimensional :math:`k`-means (:func:`kmeans_1d`) or the evenly spaced grid
        :func:`uniform_levels` over the non-zero values.
    shared : bool, default False
        One codebook for all layers instead of one per layer.
    codebooks : sequence of numpy.ndarray, optional
        Given levels (one array, or one per layer): only the assignment to the nearest level
        is done (``scheme`` is then ``"given"``).
    codebook_dtype : {"float32", "float16", "float64"}
        The precision of the levels in the description; they are rounded to it. A level that
        rounds to 0 becomes the smallest normal number of its sign.
    iterations : int, default 100
        Lloyd iterations at most.
    layers : sequence of torch.nn.Linear, optional
        The ordered linear layers of a model that is not an ``nn.Sequential``.

    Returns
    -------
    Quantization
        The new model, the masks, symbols, codebooks and counts (deterministic: no
        randomness is involved).

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    >>> with torch.no_grad():
    ...     _ = net[0].weight.copy_(torch.tensor([[0.9, 0.0], [1.1, -2.0]]))
    ...     _ = net[0].bias.zero_()
    >>> q = quantize(net, 2, scheme="uniform")
    >>> q.codebooks[0].tolist(), q.symbols[0].tolist(), q.masks[0].sum().item()
    ([-2.0, 1.100000023841858], [1, 1, 0], 3)
    >>> q.model[0].weight.tolist()
    [[1.100000023841858, 0.0], [1.100000023841858, -2.0]]
    """
    _check_options(levels, scheme, codebook_dtype, iterations)
    lays = linear_layers(model, layers)
    ref = lays[0].weight
    mats = _layer_matrices(lays)
    masks = [m != 0 for m in mats]
    values = [m[mask] for m, mask in zip(mats, masks, strict=True)]
    n_books = 1 if shared else len(mats)
    if codebooks is not None:
        if len(codebooks) != n_books:
            raise ValueError(f"expected {n_books} codebook(s); got {len(codebooks)}")
        raw = [np.sort(np.asarray(c, dtype=np.float64).ravel()) for c in codebooks]
        if any(c.size == 0 or c.size > levels or not np.isfinite(c).all() for c in raw):
            raise ValueError(f"each codebook needs 1 to {levels} finite levels")
        used_scheme = "given"
    else:
        groups = [np.concatenate(values)] if shared else values
        raw = [_codebook(v, int(levels), scheme, iterations, codebook_dtype) for v in groups]
        used_scheme = scheme
    books = [_exact_levels(c, codebook_dtype, ref.dtype) for c in raw]
    if used_scheme != "uniform":  # a table of levels: duplicates after rounding merge
        books = [np.unique(b) for b in books]
    symbols = [_nearest(v, books[0 if shared else i]) for i, v in enumerate(values)]
    has_bias = [lay.bias is not None for lay in lays]
    qmodel = _decode(masks, symbols, books, shared, has_bias, ref)
    return Quantization(
        qmodel, int(levels), used_scheme, bool(shared), books, masks, symbols, has_bias,
        codebook_dtype,
    )  # fmt: skip
