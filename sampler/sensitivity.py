r"""Empirical sensitivities of a whole layer (Baykal et al., 2019, empirical sensitivity).

For neuron :math:`i` of layer :math:`\ell` with incoming row :math:`w` (bias appended as an
edge whose activation is 1) and a point :math:`x \in S` with non-negative input
:math:`a(x)`, the relative importance of edge :math:`j` in the positive part is

.. math::

    g_j(x) = \frac{w_j a_j(x)}{\sum_{k \in \mathcal{W}_+} w_k a_k(x)}, \qquad j \in \mathcal{W}_+,

and its empirical sensitivity is :math:`s_j = \max_{x \in S} g_j(x)`. For the whole layer
this is a (max, ×) product:
:math:`s_{ij} = w^+_{ij}\,\max_x a_j(x) / z^+_i(x)`, computed by :func:`max_times_product`.
The negative part uses :math:`-w` on :math:`\mathcal{W}_-`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from .native import (
    inflate_products_native,
    max_times_native,
    native_status,
    nonzero_extremes_native,
)

__all__ = [
    "KERNELS",
    "max_times_product",
    "max_times_upper_bound",
    "max_times_product_reference",
    "augment_inputs",
    "LayerSensitivity",
    "ROW_BLOCK_ELEMENTS",
    "row_blocks",
    "LARGE_BLOCK_ELEMENTS",
    "block_elements",
    "sampling_blocks",
    "FLOAT64_STORAGE_LIMIT",
    "storage_dtype",
    "round_up",
    "rounding_inflation",
    "compute_dtype",
    "empirical_sensitivity",
    "relative_cancellation",
    "cancellation_and_next_inputs",
    "cancellation_terms",
    "next_inputs_float64",
]


def max_times_product_reference(U: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
    r"""Plain reference for :func:`max_times_product`: :math:`M_{ij} = \max_x U_{ix} A_{xj}`.

    Materialises the whole ``(rows, points, cols)`` product; use only for testing.

    >>> import torch
    >>> max_times_product_reference(torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0], [1.0]]))
    tensor([[3.]])
    """
    if U.shape[1] == 0:
        return U.new_zeros((U.shape[0], A.shape[1]))
    return (U[:, :, None] * A[None, :, :]).amax(dim=1)


#: Elements of one block of the output in the torch path on the CPU (256 KiB of float32: the
#: block and its temporary stay in the L2 cache while every point passes).
TORCH_BLOCK_ELEMENTS = 1 << 16

KERNELS = ("auto", "native", "torch")


def _max_times_torch(U: torch.Tensor, A: torch.Tensor, chunk_size: int) -> torch.Tensor:
    """The torch path: row blocks sized to the cache, one point at a time (``chunk_size=1``),
    or 3-d slabs of ``chunk_size`` points over the whole output."""
    rows, points = U.shape
    cols = A.shape[1]
    out = U.new_zeros((rows, cols))
    if chunk_size > 1:
        for start in range(0, points, chunk_size):
            stop = min(start + chunk_size, points)
            slab = (U[:, start:stop, None] * A[None, start:stop, :]).amax(dim=1)
            torch.maximum(out, slab, out=out)
        return out
    block = rows if U.device.type != "cpu" else max(1, TORCH_BLOCK_ELEMENTS // max(cols, 1))
    u_t = U.T.contiguous()
    tmp = U.new_empty((min(block, rows), cols))
    for r0 in range(0, rows, block):
        r1 = min(r0 + block, rows)
        o, t = out[r0:r1], tmp[: r1 - r0]
        for x in range(points):
            torch.mul(u_t[x, r0:r1, None], A[x : x + 1, :], out=t)
            torch.maximum(o, t, out=o)
    return out


def max_times_product(
    U: torch.Tensor, A: torch.Tensor, chunk_size: int = 1, kernel: str = "auto"
) -> torch.Tensor:
    r"""The (max, ×) matrix product :math:`M_{ij} = \max_{x} U_{ix} A_{xj}` for
    non-negative ``U`` (rows × points) and ``A`` (points × cols).

    .. math::

        M = U \otimes_{\max} A,\qquad M_{ij} = \max_{x=1}^{|S|} U_{ix}\,A_{xj}.

    The work is :math:`O(\text{rows}\cdot\text{cols}\cdot|S|)`, the order of one forward
    pass. Two implementations give bit-identical results (every product is one IEEE
    multiplication in the inputs' dtype and the maximum is exact, so the order of evaluation
    does not matter):

    - ``"native"``: a compiled C kernel (``netcoreset.sampler.native``, compiled with the
      machine's C compiler when the package is installed) that keeps a 4 × 64 block of
      :math:`M` in registers while every point passes, reading :math:`A` from cache-aligned
      copies of its column groups: one to two times a float32 GEMM of the same shape on one
      CPU thread. CPU, float32/float64, finite inputs.
    - ``"torch"``: elementwise torch operations. With ``chunk_size=1``, one point at a time
      over blocks of rows sized to the L2 cache (``TORCH_BLOCK_ELEMENTS``; the whole
      output on a GPU); with ``chunk_size > 1``, 3-d slabs of that many points, memory
      ``rows * cols * chunk_size``. 20-100× a GEMM on one CPU thread.

    ``"auto"`` (default) uses the native kernel where it applies, else the torch path. This
    function is the single place where a kernel plugs in; every kernel is tested for bit
    equality with :func:`max_times_product_reference`. Measured figures:
    ``docs/guide/performance.rst``.

    Examples
    --------
    >>> import torch
    >>> U = torch.tensor([[1.0, 0.5], [0.0, 2.0]])
    >>> A = torch.tensor([[1.0, 4.0], [3.0, 1.0]])
    >>> max_times_product(U, A)
    tensor([[1.5000, 4.0000],
            [6.0000, 2.0000]])
    >>> torch.equal(max_times_product(U, A, kernel="torch"), max_times_product(U, A))
    True
    """
    if U.ndim != 2 or A.ndim != 2 or U.shape[1] != A.shape[0]:
        raise ValueError(f"shape mismatch: U is {tuple(U.shape)}, A is {tuple(A.shape)}")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be an integer >= 1; got {chunk_size!r}")
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {KERNELS}; got {kernel!r}")
    if U.shape[1] == 0 or U.numel() == 0 or A.numel() == 0:
        return U.new_zeros((U.shape[0], A.shape[1]))
    # non-negative inputs: finite iff the maximum is (it propagates NaN); no temporary
    if kernel != "torch" and bool(torch.isfinite(U.amax())) and bool(torch.isfinite(A.amax())):
        out = U.new_zeros((U.shape[0], A.shape[1]))
        if max_times_native(U, A, out):
            return out
    if kernel == "native":
        raise ValueError(
            "the native kernel does not apply here (it needs finite CPU float32/float64 "
            f"tensors of one dtype and the compiled library; status: {native_status()})"
        )
    return _max_times_torch(U, A, chunk_size)


def max_times_upper_bound(U: torch.Tensor, A: torch.Tensor, power: int = 16) -> torch.Tensor:
    r"""An upper bound :math:`\hat M \ge U \otimes_{\max} A` computed by GEMMs (opt-in).

    For non-negative terms the maximum is at most the :math:`p`-norm, and at least its
    :math:`|S|^{-1/p}` share:

    .. math::

        M_{ij} \le \hat M_{ij} = r_i c_j \Bigl(\sum_x (U_{ix}/r_i)^p (A_{xj}/c_j)^p\Bigr)^{1/p}
        \le |S|^{1/p} M_{ij},

    with :math:`r_i = \max_x U_{ix}` and :math:`c_j = \max_x A_{xj}` (so every term is at
    most 1). Computed in float64 with the rounding and underflow accounted for: the sum is
    enlarged by its worst-case relative rounding error and floored at twice the smallest
    normal number, so that :math:`\hat M \ge M` holds in floating point too; entries with no
    positive product (found with a 0/1 GEMM) are exactly 0. Sensitivities computed from
    :math:`\hat M` are upper bounds :math:`\hat s \ge s`, which keeps the sampling theorem
    valid with :math:`\hat{\mathcal{S}} \ge \mathcal{S}` (more draws for the same
    :math:`\varepsilon`) but changes the results; on the CPU the exact native kernel is
    about as fast, so this is for GPUs (tensor-core GEMMs) or installs without the compiled library.

    >>> import torch
    >>> U, A = torch.tensor([[1.0, 0.5]]), torch.tensor([[1.0, 4.0], [3.0, 1.0]])
    >>> exact = max_times_product(U, A)
    >>> bound = max_times_upper_bound(U, A)
    >>> bool((bound >= exact).all()), bool((bound <= 2 ** (1 / 16) * exact * (1 + 1e-12)).all())
    (True, True)
    """
    if U.ndim != 2 or A.ndim != 2 or U.shape[1] != A.shape[0]:
        raise ValueError(f"shape mismatch: U is {tuple(U.shape)}, A is {tuple(A.shape)}")
    if isinstance(power, bool) or not isinstance(power, int) or not 1 <= power <= 64:
        raise ValueError(f"power must be an integer in [1, 64]; got {power!r}")
    u, a = U.double(), A.double()
    r = u.amax(dim=1) if u.shape[1] else u.new_zeros(u.shape[0])
    c = a.amax(dim=0) if a.shape[0] else a.new_zeros(a.shape[1])
    un = torch.where(r[:, None] > 0, u / torch.where(r > 0, r, 1.0)[:, None], 0.0)
    an = torch.where(c[None, :] > 0, a / torch.where(c > 0, c, 1.0)[None, :], 0.0)
    total = un.pow(power) @ an.pow(power)
    eps = torch.finfo(torch.float64).eps
    slack = 1.0 + 2.0 * eps * (u.shape[1] + power + 8)
    floor = 2.0 * torch.finfo(torch.float64).tiny
    root = (total * slack).clamp(min=floor).pow(1.0 / power) * (1.0 + 8.0 * eps)
    bound = r[:, None] * c[None, :] * root * (1.0 + 4.0 * eps)
    positive = ((u > 0).double() @ (a > 0).double()) > 0
    bound = torch.where(positive, bound * (1.0 + 2.0 * torch.finfo(U.dtype).eps), 0.0)
    out = bound.to(U.dtype)  # round up where the conversion rounded down
    return torch.where(out.double() < bound, torch.nextafter(out, out.new_tensor(math.inf)), out)


def augment_inputs(
    activations: torch.Tensor,
    bias: bool,
    dtype: torch.dtype | None = None,
    *,
    transposed: bool = False,
) -> tuple[torch.Tensor, bool]:
    r"""Points used for sensitivities: the inputs with the bias activation appended, and
    the :math:`x = x^+ - x^-` split when some entry is negative (signed inputs, as the
    authors' code does).

    With a split, :math:`x^+` keeps the bias activation 1 and :math:`x^-` gets 0, so that
    :math:`z = \hat w\cdot(x^+, 1) - \hat w\cdot(x^-, 0)`. Returns ``(points, was_split)``,
    in ``dtype`` (default the activations'): the result is written once, with no
    intermediate copy in that dtype (the casts, clamps and negations are exact). With
    ``transposed=True`` the points are the columns (a contiguous ``(inputs, points)``
    tensor holding the same values), for the held-out checks' kernels.

    >>> import torch
    >>> augment_inputs(torch.tensor([[1.0, -2.0]]), bias=True)
    (tensor([[1., 0., 1.],
            [0., 2., 0.]]), True)
    >>> points_t, _ = augment_inputs(torch.tensor([[1.0, -2.0]]), True, transposed=True)
    >>> points_t.is_contiguous(), torch.equal(points_t.T, augment_inputs(
    ...     torch.tensor([[1.0, -2.0]]), True)[0])
    (True, True)
    """
    a = activations
    n, cols = a.shape
    split = bool((a < 0).any())
    shape = ((2 if split else 1) * n, cols + (1 if bias else 0))
    dtype = dtype or a.dtype
    out = a.new_empty(shape[::-1], dtype=dtype).T if transposed else a.new_empty(shape, dtype=dtype)
    out[:n, :cols] = a
    if split:
        out[n:, :cols] = out[:n, :cols]
        out[:n, :cols].clamp_(min=0)
        out[n:, :cols].neg_().clamp_(min=0)
    if bias:
        out[:n, cols] = 1
        out[n:, cols] = 0
    return (out.T if transposed else out), split


#: Rows per block of the per-row work (sensitivities, sampling), as elements of a block:
#: transient memory stays near ``ROW_BLOCK_ELEMENTS`` values whatever the layer's size.
ROW_BLOCK_ELEMENTS = 1 << 18


def row_blocks(rows: int, cols: int, elements: int | None = None) -> list[tuple[int, int]]:
    """``(start, stop)`` of consecutive row blocks of about ``elements`` (default
    :data:`ROW_BLOCK_ELEMENTS`) elements (a function of the shape only, so results never
    depend on memory).

    >>> row_blocks(5, 1 << 17)
    [(0, 2), (2, 4), (4, 5)]
    """
    step = max(1, (elements or ROW_BLOCK_ELEMENTS) // max(cols, 1))
    return [(r0, min(r0 + step, rows)) for r0 in range(0, rows, step)]


#: Elements of a block of rows in a layer above ``FLOAT64_STORAGE_LIMIT`` entries.
LARGE_BLOCK_ELEMENTS = 1 << 16


def block_elements(rows: int, width: int) -> int:
    """Elements of a block of rows of a ``rows x width`` layer: :data:`ROW_BLOCK_ELEMENTS`
    up to ``FLOAT64_STORAGE_LIMIT`` entries (so small layers keep the blocks, and the
    bits, of earlier versions), :data:`LARGE_BLOCK_ELEMENTS` above: a large layer's float64
    transients are then a few 0.5 MiB tensors, not 2 MiB ones (which also leave fewer
    freed pages resident in the heap).

    >>> block_elements(300, 785) == ROW_BLOCK_ELEMENTS, block_elements(2048, 2049)
    (True, 65536)
    """
    return LARGE_BLOCK_ELEMENTS if rows * width > FLOAT64_STORAGE_LIMIT else ROW_BLOCK_ELEMENTS


def sampling_blocks(rows: int, cols: int) -> list[tuple[int, int]]:
    """Row blocks of the sampling of a ``rows x cols`` layer (the blocks' order fixes the
    random stream): :func:`row_blocks` of :func:`block_elements` values. The sampling's
    float64 work is elementwise, so a large layer's smaller blocks cost no speed and keep
    its transient memory near 6 MiB instead of 22.

    >>> len(sampling_blocks(300, 785)), len(sampling_blocks(2048, 2049))
    (1, 67)
    """
    return row_blocks(rows, cols, block_elements(rows, cols))


#: Layers with at most this many sensitivities (edges and bias entries) store them in
#: float64 (8 MiB at most: nothing next to the data); larger layers store them in the
#: model's precision, rounded up, so that per-edge memory stays at the weights' size.
FLOAT64_STORAGE_LIMIT = 1 << 20


def storage_dtype(dtype: torch.dtype, entries: int) -> torch.dtype:
    """The dtype the ``entries`` sensitivities of a layer are stored in: float64 up to
    ``FLOAT64_STORAGE_LIMIT`` entries, else the model's ``dtype``, at least float32
    (float64 for a float64 model). They are computed in :func:`compute_dtype` and rounded up
    (:func:`round_up`). A function of the layer's shape and dtype only.

    >>> storage_dtype(torch.float32, 300 * 785), storage_dtype(torch.float32, 4096 * 4097)
    (torch.float64, torch.float32)
    >>> storage_dtype(torch.float16, 1 << 24), storage_dtype(torch.float64, 1 << 24)
    (torch.float32, torch.float64)
    """
    if entries <= FLOAT64_STORAGE_LIMIT:
        return torch.float64
    return torch.promote_types(dtype, torch.float32)


def round_up(values: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    r"""``values`` (non-negative, float64) in ``dtype``, rounded **up**: every result is
    :math:`\ge` its value, and positive values stay positive (the smallest subnormal at
    worst). Upper bounds on sensitivities keep the theorem valid (with :math:`\mathcal{S}`
    their sum), so storing them in the model's precision costs no rigour.

    >>> v = torch.tensor([1 / 3, 1e-300, 0.0], dtype=torch.float64)
    >>> r = round_up(v, torch.float32)
    >>> bool((r.double() >= v).all()), bool(r[1] > 0), float(r[2])
    (True, True, 0.0)
    """
    out = values.to(dtype)
    if dtype == values.dtype:
        return out
    low = torch.gt(values, out)  # rounded down (compared in float64): one step up
    return torch.where(low, torch.nextafter(out, out.new_full((), math.inf)), out)


#: Unit roundoff of float32 and float64 (round to nearest): :math:`u = 2^{-24}`, :math:`2^{-53}`.
UNIT_ROUNDOFF = {torch.float32: 2.0**-24, torch.float64: 2.0**-53}
#: Every float32 intermediate of a sensitivity must stay at least this far inside float32's
#: normal range (:math:`2^{-126}` to :math:`2^{128}`) for its rounding-error bound to hold.
_F32_LOW, _F32_HIGH = 2.0**-120, 2.0**120


def _gamma(n: int, u: float) -> float:
    r""":math:`\gamma_n = nu/(1 - nu)` (Higham, *Accuracy and Stability of Numerical
    Algorithms*, 2002, Lemma 3.1); infinite when :math:`nu \ge 1`."""
    return n * u / (1.0 - n * u) if n * u < 1.0 else math.inf


def rounding_inflation(width: int, dtype: torch.dtype) -> float:
    r"""The factor that turns sensitivities computed in ``dtype`` from a layer of ``width``
    inputs (bias included) into upper bounds of the exact ones: 1 for float64, else

    .. math::

        F = \frac{1 + \gamma_n}{(1 - u)^3}\,(1 + \gamma^{(64)}_{n+3})\,(1 + 2^{-48}),
        \qquad \gamma_n = \frac{nu}{1 - nu},\ u = 2^{-24},\ n = \text{width}.

    Derivation (Higham, 2002, Lemma 3.1 and Eq. 3.5): with every intermediate a normal
    float32 number (checked by :func:`compute_dtype`), the computed
    :math:`\tilde z = \mathrm{fl}(\sum_k w_k a_k)` of :math:`n` non-negative terms satisfies
    :math:`\tilde z \le (1 + \gamma_n) z` in any order of summation, with or without fused
    multiply-adds; the reciprocal, the product by :math:`a_j` and the product by :math:`w_j`
    are one rounding each (:math:`\ge (1 - u)` times their value) and the maximum over
    :math:`S` is exact. So the computed :math:`\tilde s \ge s (1-u)^3/(1+\gamma_n)` and
    :math:`F\tilde s \ge s`. The factor :math:`1 + \gamma^{(64)}_{n+3}` (float64's
    :math:`\gamma`) makes the result dominate the float64 computation too, and
    :math:`1 + 2^{-48}` covers the float64 rounding of :math:`F` and of the product
    :math:`F\tilde s`. For :math:`n = 785` the excess is about :math:`4.7\cdot10^{-5}`.

    >>> rounding_inflation(785, torch.float64)
    1.0
    >>> 4.6e-5 < rounding_inflation(785, torch.float32) - 1 < 4.8e-5
    True
    """
    if dtype == torch.float64:
        return 1.0
    u, u64 = UNIT_ROUNDOFF[torch.float32], UNIT_ROUNDOFF[torch.float64]
    relative = (1.0 + _gamma(width, u)) / (1.0 - u) ** 3
    return relative * (1.0 + _gamma(width + 3, u64)) * (1.0 + 2.0**-48)


def compute_dtype(
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    activations: torch.Tensor,
    upper_bound_power: int | None = None,
) -> torch.dtype:
    r"""The dtype :func:`empirical_sensitivity` computes in: float32 for a float32 layer
    whose every intermediate (products :math:`w_k a_k`, sums :math:`z`, :math:`1/z`,
    :math:`a_j/z`, :math:`w_j a_j/z`) stays a normal float32 number, checked from the extremes
    of the non-zero :math:`|w|` (bias included) and of the non-zero :math:`|a|` (and 1 for
    the bias); float64 otherwise (other dtypes, the opt-in upper bound, or a layer near
    float32's range), as before.

    >>> compute_dtype(torch.ones(2, 3), None, torch.ones(4, 3))
    torch.float32
    >>> compute_dtype(torch.full((2, 3), 1e-30), None, torch.full((4, 3), 1e-20))
    torch.float64
    """
    if weight.dtype != torch.float32 or upper_bound_power is not None:
        return torch.float64
    if torch.get_float32_matmul_precision() != "highest":
        return torch.float64  # TF32 or bfloat16 products: not float32's rounding
    w_lo, w_hi = _nonzero_extremes(weight, bias)
    a_lo, a_hi = _nonzero_extremes(activations, torch.ones(1) if bias is not None else None)
    if w_hi == 0.0 or a_hi == 0.0:
        return torch.float32  # every product is 0: nothing is rounded
    n = weight.shape[1] + (0 if bias is None else 1)
    z_lo, z_hi = w_lo * a_lo, n * w_hi * a_hi  # every positive z lies in [z_lo, z_hi]
    extremes = (z_lo, z_hi, 1 / z_hi, 1 / z_lo, a_lo / z_hi, a_hi / z_lo, w_lo * a_lo / z_hi)
    safe = all(_F32_LOW <= v <= _F32_HIGH for v in extremes)
    return torch.float32 if safe else torch.float64


def _nonzero_extremes(t: torch.Tensor, extra: torch.Tensor | None) -> tuple[float, float]:
    """The smallest and largest non-zero ``|t|`` (and ``|extra|``), as float64 numbers
    ((0, 0) when all are zero)."""
    lo, hi = math.inf, 0.0
    for v in (t, extra):
        if v is None or not v.numel():
            continue
        native = nonzero_extremes_native(v.detach())  # one pass, where the kernel applies
        if native is not None:
            lo, hi = min(lo, native[0]), max(hi, native[1])
            continue
        flat = v.detach().reshape(v.shape[0], -1) if v.ndim else v.detach().reshape(1, 1)
        # by blocks of rows: the temporaries stay a block's size, not the layer's
        for r0, r1 in row_blocks(flat.shape[0], flat.shape[1], LARGE_BLOCK_ELEMENTS):
            mag = flat[r0:r1].abs()
            hi = max(hi, float(mag.amax()))
            lo = min(lo, float(torch.where(mag > 0, mag, math.inf).amin()))
    return (lo, hi) if hi > 0 else (0.0, 0.0)


def _inflate(s: torch.Tensor, factor: float, out: torch.Tensor | None = None) -> torch.Tensor:
    """``s`` times ``factor`` in float64 (exact cast, one rounding covered by the factor),
    clamped to [0, 1] (the exact sensitivities lie there); written into the leading rows of
    the float64 buffer ``out`` when given (no new tensor per block)."""
    if factor == 1.0:
        return s.clamp_(0.0, 1.0)
    wide = s.to(torch.float64) if out is None else out[: s.shape[0]].copy_(s)
    return wide.mul_(factor).clamp_(0.0, 1.0)


@dataclass
class LayerSensitivity:
    r"""Sensitivities of one layer, both parts, bias as the last column.

    The two parts have disjoint supports (:math:`\mathcal{W}_+` and :math:`\mathcal{W}_-`),
    so they are stored as one signed tensor, :math:`s^+_{ij} - s^-_{ij}`: one value per edge.

    Attributes
    ----------
    signed : torch.Tensor
        :math:`s^+_{ij} - s^-_{ij}`, shape ``(out, in + bias)``, in
        ``storage_dtype`` of the layer (float64 for layers of up to
        ``FLOAT64_STORAGE_LIMIT`` entries, else the model's precision, at least float32):
        computed in ``compute_dtype``, inflated (float32) and rounded up, so each
        stored value is an upper bound :math:`s'_{ij} \ge s_{ij}` (positive wherever
        :math:`s_{ij} > 0`).
    positive, negative : torch.Tensor
        (Properties, new tensors.) :math:`s_{ij}` of the positive part (zero off
        :math:`\mathcal{W}_+`) and of the negative part (zero off :math:`\mathcal{W}_-`).
    total_positive, total_negative : torch.Tensor
        :math:`\mathcal{S}_{i+}`, :math:`\mathcal{S}_{i-}` per neuron, float64 sums of the
        stored values (so :math:`q_j = s'_j/\mathcal{S}` sums to one).
    split_inputs : bool
        Whether the :math:`x^+/x^-` split was used.
    """

    signed: torch.Tensor
    total_positive: torch.Tensor
    total_negative: torch.Tensor
    split_inputs: bool

    @property
    def positive(self) -> torch.Tensor:
        r""":math:`s^+` (zero off :math:`\mathcal{W}_+`)."""
        return self.signed.clamp(min=0)

    @property
    def negative(self) -> torch.Tensor:
        r""":math:`s^-` (zero off :math:`\mathcal{W}_-`)."""
        return (-self.signed).clamp(min=0)

    def probabilities(self, rows: slice = slice(None)) -> tuple[torch.Tensor, torch.Tensor]:
        r""":math:`q_j = s_j / \mathcal{S}` per part (rows with :math:`\mathcal{S} = 0` are 0),
        for the rows ``rows`` (default all)."""
        tiny = torch.finfo(torch.float64).tiny
        block = self.signed[rows].to(torch.float64)  # float64 whatever the storage
        qp = block.clamp(min=0).div_(self.total_positive[rows].clamp(min=tiny)[:, None])
        qn = torch.neg(block).clamp_(min=0)
        return qp, qn.div_(self.total_negative[rows].clamp(min=tiny)[:, None])


@torch.no_grad()
def empirical_sensitivity(
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    activations: torch.Tensor,
    chunk_size: int = 1,
    *,
    kernel: str = "auto",
    upper_bound_power: int | None = None,
) -> LayerSensitivity:
    r"""Empirical sensitivities :math:`s_{ij}` of every edge of a layer.

    .. math::

        s_{ij} = \max_{x\in S} \frac{w^+_{ij}\,a_j(x)}{z^+_i(x)},\qquad
        z^+_i(x) = \sum_{k\in\mathcal{W}_+} w_{ik} a_k(x),\qquad
        \mathcal{S}_{i+} = \sum_j s_{ij},

    and likewise for the negative part with :math:`|w|` on :math:`\mathcal{W}_-`. A point
    with :math:`z^+_i(x) = 0` contributes :math:`g = 0` for that neuron and part.
    Computed on the weight's device by blocks of rows (the work never exceeds a block), in
    the dtype of ``compute_dtype``: float64 for a float64 layer (as exact as float64
    allows), float32 for a float32 layer whose intermediates stay in float32's normal range
    (else float64). Float32 results are multiplied by ``rounding_inflation``
    (:math:`F \approx 1 + (n + 3)2^{-24}` for :math:`n` inputs and the bias), so that every
    one is an **upper bound** of the exact sensitivity of the given weights and activations
    (and at least the float64 computation's value). Stored in float64 for layers of up to
    ``FLOAT64_STORAGE_LIMIT`` entries; larger layers store them in the model's precision
    (at least float32) **rounded up**: :math:`s'_{ij} \ge s_{ij}`, and :math:`\mathcal{S}` is
    the float64 sum of the stored values. Any upper bounds on the sensitivities keep the
    theorem valid with their sum (Baykal et al., 2019: the sensitivities enter only through
    :math:`g_j(x) \le C s_j` and :math:`\mathcal{S}`), so the sample size grows by at most
    the relative excess of the bounds (about :math:`5\cdot10^{-5}` for a 784-input float32
    layer), and the per-edge storage of a large layer stays at the weights' size (see
    ``storage_dtype``).

    Notes
    -----
    The float32 path halves the arithmetic of the sensitivities (the GEMMs of :math:`z` and
    the (max, ×) products, :func:`max_times_product`) against float64. Its bound
    (``rounding_inflation``): with :math:`u = 2^{-24}` and
    :math:`\gamma_n = nu/(1 - nu)`, the computed :math:`\tilde z \le (1 + \gamma_n) z`
    (a sum of :math:`n` non-negative products, any order), and the reciprocal and the two
    products lose at most a factor :math:`(1 - u)` each, so
    :math:`\tilde s \ge s\,(1 - u)^3/(1 + \gamma_n)`. What the certificates use besides
    (:math:`\hat\Delta` and the held-out checks) is computed in float64 from float64
    activations whatever the dtype (:func:`relative_cancellation`).

    Parameters
    ----------
    weight : torch.Tensor
        :math:`W^\ell`, shape ``(out, in)``.
    bias : torch.Tensor or None
        :math:`b^\ell` (sampled as an edge whose activation is 1).
    activations : torch.Tensor
        :math:`a^{\ell-1}(x)` for :math:`x \in S`, shape ``(|S|, in)``; negative entries
        trigger the :math:`x^+/x^-` split.
    chunk_size : int, default 1
        Points per slab of :func:`max_times_product`'s torch path.
    kernel : {"auto", "native", "torch"}, default "auto"
        :func:`max_times_product`'s implementation (all bit-identical).
    upper_bound_power : int, optional
        Opt-in: replace the exact maximum by ``max_times_upper_bound`` with this
        :math:`p`, giving upper bounds :math:`\hat s_{ij} \ge s_{ij}` (at most
        :math:`|S|^{1/p}` times larger). The theorem stays valid with
        :math:`\hat{\mathcal{S}}`; the results change. Default: exact.

    Examples
    --------
    >>> import torch
    >>> w = torch.tensor([[1.0, 2.0, -1.0]])
    >>> a = torch.tensor([[1.0, 1.0, 1.0], [3.0, 0.0, 1.0]])
    >>> sens = empirical_sensitivity(w, None, a)
    >>> sens.positive  # g(x1) = (1/3, 2/3), g(x2) = (1, 0); float64 for a small layer
    tensor([[1.0000, 0.6667, 0.0000]], dtype=torch.float64)
    >>> [round(v, 4) for v in sens.total_positive.tolist()], sens.total_negative.tolist()
    ([1.6667], [1.0])
    >>> exact = empirical_sensitivity(w.double(), None, a.double())  # a float64 layer
    >>> [round(v, 12) for v in exact.total_positive.tolist()]
    [1.666666666667]
    >>> bool((sens.positive >= exact.positive).all())  # float32: rounded up
    True
    """
    if activations.ndim != 2 or activations.shape[1] != weight.shape[1]:
        raise ValueError(
            f"shape mismatch: activations {tuple(activations.shape)} for a layer with "
            f"{weight.shape[1]} inputs"
        )
    if activations.shape[0] == 0:
        raise ValueError("activations must hold at least one point of S")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be an integer >= 1; got {chunk_size!r}")
    work = compute_dtype(weight, bias, activations, upper_bound_power)
    points, split = augment_inputs(activations.to(device=weight.device), bias is not None, work)
    bd = None if bias is None else bias.to(work)  # exact casts
    rows, cols = weight.shape
    width = cols + (0 if bd is None else 1)
    inflation = rounding_inflation(width, work)
    signed = weight.new_empty((rows, width), dtype=storage_dtype(weight.dtype, rows * width))
    totals = [weight.new_zeros(rows, dtype=torch.float64) for _ in range(2)]
    # blocks of rows: the work (w_part, z, the products) never exceeds a block (of 2^18
    # values: large enough for efficient GEMMs, small against a large layer)
    blocks = row_blocks(rows, max(width, points.shape[0]), block_elements(rows, width))
    buffer = weight.new_empty((blocks[0][1] if blocks else 0, width), dtype=work)
    wide = None if inflation == 1.0 else torch.empty_like(buffer, dtype=torch.float64)
    for r0, r1 in blocks:
        w_part = buffer[: r1 - r0]  # one float64 buffer for every block (no churn)
        for sign, total in zip((1.0, -1.0), totals, strict=True):
            # w_part = max(+-[W, b], 0) of these rows in float64 (the casts are exact)
            w_part[:, :cols].copy_(weight[r0:r1])
            if sign > 0:
                w_part[:, :cols].clamp_(min=0)
            else:
                w_part[:, :cols].neg_().clamp_(min=0)
            if bd is not None:
                w_part[:, cols] = (bd[r0:r1] if sign > 0 else -bd[r0:r1]).clamp(min=0)
            z = points @ w_part.T  # (points, rows of the block), every term >= 0
            inv = torch.where(z > 0, 1.0 / z, torch.zeros_like(z)).T.contiguous()
            if upper_bound_power is None:
                m = max_times_product(inv, points, chunk_size, kernel)
            else:
                m = max_times_upper_bound(inv, points, upper_bound_power)
            s = inflate_products_native(m, w_part, inflation, wide)  # one pass, same bits
            if s is None:
                s = _inflate(m.mul_(w_part), inflation, wide)
            s = round_up(s, signed.dtype)
            total[r0:r1] = s.sum(dim=1, dtype=torch.float64)  # S of the stored values
            if sign > 0:
                signed[r0:r1] = s
            else:
                signed[r0:r1] -= s  # disjoint supports: exact
    return LayerSensitivity(
        signed=signed, total_positive=totals[0], total_negative=totals[1], split_inputs=split
    )


@torch.no_grad()
def relative_cancellation(
    weight: torch.Tensor, bias: torch.Tensor | None, activations: torch.Tensor
) -> torch.Tensor:
    r"""Per-neuron mean over :math:`S` of :math:`\Delta_i(x)`.

    .. math::

        \Delta_i(x) = \frac{\sum_k |w_{ik} a_k(x)|}{|\sum_k w_{ik} a_k(x)|} \ge 1,

    averaged over the points with :math:`z_i(x) \ne 0`; a neuron with :math:`z_i(x) = 0`
    on all of :math:`S` gets NaN (ignored by :func:`netcoreset.bounds.delta_hat`). Signed
    inputs are used as they are, which accounts for the cancellation between :math:`x^+`
    and :math:`x^-` too. Computed in float64 whatever the model's dtype (the result is
    float64): near a zero pre-activation a float32 :math:`z_i(x)` moves :math:`\Delta_i(x)`
    by whole percents, and :math:`\hat\Delta` feeds the draws and the certificate.

    >>> import torch
    >>> relative_cancellation(torch.tensor([[1.0, -1.0]]), None, torch.tensor([[3.0, 1.0]]))
    tensor([2.], dtype=torch.float64)
    """
    return cancellation_and_next_inputs(weight, bias, activations, False)[0]


@torch.no_grad()
def cancellation_and_next_inputs(
    weight: torch.Tensor, bias: torch.Tensor | None, activations: torch.Tensor, with_next: bool
) -> tuple[torch.Tensor, torch.Tensor | None]:
    r""":func:`relative_cancellation` and, with ``with_next``, the next layer's float64 inputs
    :math:`\mathrm{ReLU}(z)` from the same float64 GEMM (:func:`next_inputs_float64`'s
    values up to the GEMM's summation order), in one pass over the row blocks.

    >>> mean, nxt = cancellation_and_next_inputs(torch.tensor([[1.0, -1.0]]), None,
    ...                                          torch.tensor([[3.0, 1.0]]), True)
    >>> mean, nxt
    (tensor([2.], dtype=torch.float64), tensor([[2.]], dtype=torch.float64))
    """
    means = []
    nxt = None
    if with_next:
        nxt = weight.new_empty((activations.shape[0], weight.shape[0]), dtype=torch.float64)
    for r0, r1, z, absolute in cancellation_terms(weight, bias, activations):
        if nxt is not None:
            nxt[:, r0:r1] = torch.relu(z)
        nonzero = z != 0
        ratio = torch.where(nonzero, absolute / torch.where(nonzero, z.abs(), 1.0), 0.0)
        count = nonzero.sum(dim=0)
        mean = ratio.sum(dim=0) / count.clamp(min=1)
        means.append(torch.where(count > 0, mean.clamp(min=1.0), math.nan))
    out = torch.cat(means) if means else weight.new_zeros(0, dtype=torch.float64)
    return out, nxt


def cancellation_terms(
    weight: torch.Tensor, bias: torch.Tensor | None, activations: torch.Tensor
) -> Iterator[tuple[int, int, torch.Tensor, torch.Tensor]]:
    r"""The two sums of :math:`\Delta_i(x)`, in float64 by blocks of rows: yields
    ``(r0, r1, z, absolute)`` with :math:`z_i(x) = \sum_k w_{ik}a_k(x)` and
    :math:`\sum_k |w_{ik}a_k(x)|` of the rows ``r0:r1`` (shape ``(points, r1 - r0)``).

    The float64 copies of the weights never exceed a block (memory near the weights), and
    the blocks depend on the shapes only, so a result never depends on memory. Used by
    :func:`relative_cancellation` (over :math:`S`) and by the held-out check
    :func:`~netcoreset.sampler.certificate.cancellation_exceedances`.

    >>> [tuple(t.shape) for t in next(cancellation_terms(torch.ones(3, 2), None,
    ...                                                  torch.ones(4, 2)))[2:]]
    [(4, 3), (4, 3)]
    """
    acts = activations.to(device=weight.device, dtype=torch.float64)
    magnitudes = acts.abs()
    rows, width = weight.shape[0], weight.shape[1] + 1
    blocks = row_blocks(rows, max(width, acts.shape[0]), block_elements(rows, width))
    if not blocks:
        return
    # two float64 buffers for every block (no churn): the rows and their magnitudes
    w_buf = weight.new_empty((blocks[0][1], weight.shape[1]), dtype=torch.float64)
    abs_buf = torch.empty_like(w_buf)
    for r0, r1 in blocks:
        w = w_buf[: r1 - r0].copy_(weight[r0:r1])
        w_abs = torch.abs(w, out=abs_buf[: r1 - r0])
        b = None if bias is None else bias[r0:r1].to(torch.float64)
        z = torch.nn.functional.linear(acts, w, b)
        absolute = torch.nn.functional.linear(magnitudes, w_abs, None if b is None else b.abs())
        yield r0, r1, z, absolute


def next_inputs_float64(
    weight: torch.Tensor, bias: torch.Tensor | None, activations: torch.Tensor
) -> torch.Tensor:
    r"""The next layer's inputs :math:`a^{\ell}(x) = \mathrm{ReLU}(W^\ell a^{\ell-1}(x) + b^\ell)`
    in float64 from the float64 weights, whatever the model's dtype.

    The statistics of a hidden layer (:math:`\hat\Delta^\ell`) are then the same for a
    float32 model and its float64 copy up to float64 rounding; a float32 forward pass would
    move :math:`\Delta_i(x)` near a small pre-activation by whole parts in :math:`10^4`. The
    weights are cast by blocks of rows (:func:`row_blocks`), so the float64 copies never
    exceed a block.

    >>> next_inputs_float64(torch.tensor([[1.0, -1.0]]), torch.tensor([0.5]),
    ...                     torch.tensor([[3.0, 1.0], [1.0, 3.0]]))
    tensor([[2.5000],
            [0.0000]], dtype=torch.float64)
    """
    acts = activations.to(device=weight.device, dtype=torch.float64)
    rows, width = weight.shape[0], weight.shape[1] + 1
    out = acts.new_empty((acts.shape[0], rows))
    for r0, r1 in row_blocks(rows, width, block_elements(rows, width)):
        b = None if bias is None else bias[r0:r1].to(torch.float64)
        out[:, r0:r1] = torch.nn.functional.linear(acts, weight[r0:r1].to(torch.float64), b)
    return torch.relu_(out)
