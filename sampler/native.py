r"""Compiled kernels: a small C library built when the package is installed.

:func:`netcoreset.sampler.max_times_product` calls :func:`max_times_native` for CPU tensors
when the library is there; otherwise it uses its torch path. The kernel computes

.. math::

    M_{ij} = \max\Bigl(M_{ij},\ \max_{x} U_{ix} A_{xj}\Bigr)

with the rows blocked by four and the columns by groups of 64 (float32; 32 in float64), each
group of :math:`A` copied to a buffer aligned to the cache line (the last one zero-padded),
so that a block of :math:`M` stays in registers while the points :math:`x` pass, 256 at a
time so that their rows of :math:`A` stay in cache when there are thousands, as in the
held-out checks (about one to two times a GEMM of the same shape, against 20-100 times for
elementwise torch operations).
Every product is the same IEEE multiplication as torch's and the maximum is exact, so the
result is bit-identical to the torch path and to
:func:`~netcoreset.sampler.max_times_product_reference`.

The same library holds one round of the binomial sampler
(:func:`~netcoreset.sampler.sparsify.binomial`): the operations of its torch path, in the same
order, on the same uniforms (about 10 times faster). The two agree bit for bit except
where a logarithm's last bit (glibc against torch's vectorised one) decides a rejection test,
an event of probability about 1e-15 per draw.

The library also holds the element-wise passes that the pipeline would otherwise make as
chains of torch operations, each fused into one pass of the same IEEE operations in the same
order (casts, negations, clamps, one division or product per value, exact maxima and
comparisons), so that the results are torch's bit for bit:
:func:`coverage_part_native`, :func:`coverage_prepare_native`,
:func:`coverage_finish_native`, :func:`cancellation_exceeds_native` and
:func:`transposed_points_native` (the held-out checks),
:func:`nonzero_extremes_native` and :func:`inflate_products_native` (the sensitivities),
:func:`compact_parts_native` (the part tables), :func:`part_probabilities_native`,
:func:`categorical_block_native` with :func:`gather_segments_native` and
:func:`reweight_drawn_native` (sampling) and
:func:`draws_times_log_native` (the budget solve). Each returns None (or False) where it
does not apply, and its caller then runs the torch path.

Where the library comes from: the package's build (``setup.py``, an optional extension)
compiles ``_kernels.c`` with the machine's C compiler when the package is installed, and
puts ``_kernels`` plus the interpreter's extension suffix (e.g.
``_kernels.cpython-311-x86_64-linux-gnu.so``) next to this module. It is loaded from there
only, never from a path that an environment variable, the current folder or a cache
chooses, and only when it is a regular file (not a symbolic link) owned by the user running
Python or root, that neither it nor its folder lets another user write (group write counts
only in a group that is not this user's alone) (:func:`kernel_path`). An install without a
working compiler has no library and uses the pure-torch path, with the same results.
``NETCORESET_NATIVE=0`` disables the library;
:func:`native_status` says why it is or is not in use.
"""

from __future__ import annotations

import ctypes
import functools
import os
import stat
import sysconfig
from pathlib import Path

import torch

__all__ = [
    "binomial_round_native",
    "cancellation_exceeds_native",
    "categorical_applies",
    "categorical_block_native",
    "compact_parts_native",
    "coverage_finish_native",
    "coverage_part_native",
    "coverage_prepare_native",
    "draws_times_log_native",
    "gather_segments_native",
    "inflate_products_native",
    "kernel_path",
    "max_times_native",
    "native_available",
    "native_status",
    "nonzero_extremes_native",
    "part_probabilities_native",
    "reweight_drawn_native",
    "transposed_points_native",
]

_status = "not loaded yet"
_DISABLED = ("0", "off", "false", "no")


def kernel_path() -> Path:
    """Where the compiled library must be: inside the installed package, next to this module.

    >>> kernel_path().parent == Path(__file__).resolve().parent
    True
    """
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    return Path(__file__).resolve().parent / f"_kernels{suffix}"


def _unsafe(path: Path) -> str | None:
    """Why ``path`` may not be loaded (None when it may): it must be a regular file, not a
    link, owned by this user or root, and writable by no other user, like its folder (group
    write is allowed only in a group that is this user's alone)."""
    try:
        info = os.lstat(path)
        folder = os.lstat(path.parent)
    except FileNotFoundError:
        return "not built (the package was installed without a working C compiler)"
    except OSError as exc:
        return f"cannot inspect {path}: {exc}"
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
        return f"refused {path}: not a regular file (a link or a special file)"
    trusted = {0, os.getuid()} if hasattr(os, "getuid") else None
    for what, st in ((path, info), (path.parent, folder)):
        if trusted is not None and st.st_uid not in trusted:
            return f"refused {path}: {what} belongs to another user (uid {st.st_uid})"
        if st.st_mode & stat.S_IWOTH or (st.st_mode & stat.S_IWGRP and _shared_group(st.st_gid)):
            return f"refused {path}: other users can write {what}"
    return None


def _shared_group(gid: int) -> bool:
    """Whether a user other than this one may belong to the group ``gid`` (a group-writable
    file is safe only in a personal group, as a umask of 002 gives on many systems)."""
    try:
        import grp
        import pwd
    except ImportError:  # pragma: no cover - not POSIX
        return True
    if gid != os.getgid():
        return True
    me = pwd.getpwuid(os.getuid()).pw_name
    try:
        members = set(grp.getgrgid(gid).gr_mem)
    except KeyError:
        return True
    if members - {me}:
        return True
    return any(u.pw_gid == gid and u.pw_uid != os.getuid() for u in pwd.getpwall())


def _bind(lib: ctypes.CDLL) -> None:
    ptr, size = ctypes.c_void_p, ctypes.c_long
    for name in ("netcoreset_max_times_f32", "netcoreset_max_times_f64"):
        getattr(lib, name).restype = None
        getattr(lib, name).argtypes = [ptr, ptr, ptr, size, size, size]
    lib.netcoreset_binomial_round.restype = size
    lib.netcoreset_binomial_round.argtypes = [ptr, size, ptr, ptr, ptr, ptr, ptr, ptr, ptr]
    lib.netcoreset_coverage_prepare.restype = size
    lib.netcoreset_coverage_prepare.argtypes = [ptr, ptr, ptr, size, size]
    lib.netcoreset_coverage_finish.restype = None
    lib.netcoreset_coverage_finish.argtypes = [ptr, ptr, ptr, ptr, size, size]
    for w in ("f32", "f64"):
        for sg in ("f32", "f64"):
            fn = getattr(lib, f"netcoreset_coverage_part_{w}_{sg}")
            fn.restype = None
            fn.argtypes = [ptr, ptr, ptr, size, size, ctypes.c_int, ptr, ptr]
    for suffix in ("f32", "f64"):
        fn = getattr(lib, f"netcoreset_transpose_{suffix}")
        fn.restype = ctypes.c_int
        fn.argtypes = [ptr, size, size, ptr]
    for suffix in ("f32", "f64"):
        fn = getattr(lib, f"netcoreset_nonzero_extremes_{suffix}")
        fn.restype = ctypes.c_int
        fn.argtypes = [ptr, size, ptr, ptr]
        fn = getattr(lib, f"netcoreset_part_probabilities_{suffix}")
        fn.restype = None
        fn.argtypes = [ptr, ptr, size, size, ctypes.c_int, ptr, ptr]
    for suffix in ("f32", "f64"):
        fn = getattr(lib, f"netcoreset_draws_times_log_{suffix}")
        fn.restype = ctypes.c_int
        fn.argtypes = [ptr, ptr, size, ptr, size, ptr]
    for suffix in ("f32", "f64"):
        fn = getattr(lib, f"netcoreset_compact_parts_{suffix}")
        fn.restype = size
        fn.argtypes = [ptr, size, size, ptr, ptr, ctypes.c_double, ptr, ptr, ptr]
    for suffix in ("f32", "f64"):
        fn = getattr(lib, f"netcoreset_inflate_products_{suffix}")
        fn.restype = None
        fn.argtypes = [ptr, ptr, size, ctypes.c_double, ptr]
    for suffix in ("f32", "f64"):
        fn = getattr(lib, f"netcoreset_categorical_block_{suffix}")
        fn.restype = ctypes.c_int
        fn.argtypes = [ptr, ptr, size, size, ctypes.c_int, ptr, size, *[ptr] * 8]
    for sg in ("f32", "f64"):
        for w in ("f32", "f64"):
            fn = getattr(lib, f"netcoreset_reweight_drawn_{sg}_{w}")
            fn.restype = None
            fn.argtypes = [ptr, ptr, size, ptr, ptr, size, ptr, ptr, ctypes.c_int, ptr]
    lib.netcoreset_gather_segments.restype = size
    lib.netcoreset_gather_segments.argtypes = [size, size, *[ptr] * 6]
    lib.netcoreset_cancellation_exceeds.restype = None
    lib.netcoreset_cancellation_exceeds.argtypes = [
        ptr,
        ptr,
        size,
        size,
        ctypes.c_int,
        ctypes.c_double,
        ptr,
    ]


@functools.lru_cache(maxsize=1)
def _library() -> ctypes.CDLL | None:
    global _status
    if os.environ.get("NETCORESET_NATIVE", "1").lower() in _DISABLED:
        _status = "disabled by NETCORESET_NATIVE"
        return None
    path = kernel_path()
    refused = _unsafe(path)
    if refused is not None:
        _status = refused
        return None
    try:
        lib = ctypes.CDLL(str(path))
        _bind(lib)
    except (OSError, AttributeError) as exc:
        _status = f"cannot load {path}: {exc}"
        return None
    _status = f"loaded {path}"
    return lib


def native_available() -> bool:
    """Whether the compiled kernels are in use (loads them on the first call).

    >>> isinstance(native_available(), bool)
    True
    """
    return _library() is not None


def native_status() -> str:
    """Why the compiled kernel is or is not in use (after :func:`native_available`).

    >>> native_available() or True
    True
    >>> native_status().startswith(("loaded", "disabled", "not built", "cannot", "refused"))
    True
    """
    return _status


def max_times_native(U: torch.Tensor, A: torch.Tensor, out: torch.Tensor) -> bool:
    r"""``out = max(out, U ⊗_max A)`` in place with the compiled kernel.

    Returns False (and leaves ``out`` alone) when the kernel does not apply: no library,
    a tensor off the CPU, a dtype other than float32/float64, dtypes that differ, or a
    non-contiguous ``out``. The caller guarantees finite, non-negative inputs.

    >>> import torch
    >>> U, A, out = torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0], [1.0]]), torch.zeros(1, 1)
    >>> used = max_times_native(U, A, out)
    >>> float(out[0, 0]) if used else 3.0
    3.0
    """
    if not (U.device.type == A.device.type == out.device.type == "cpu"):
        return False
    if not (U.dtype == A.dtype == out.dtype) or U.dtype not in (torch.float32, torch.float64):
        return False
    if not out.is_contiguous():
        return False
    lib = _library()
    if lib is None:
        return False
    U, A = U.contiguous(), A.contiguous()
    fn = lib.netcoreset_max_times_f32 if U.dtype == torch.float32 else lib.netcoreset_max_times_f64
    rows, points = U.shape
    fn(U.data_ptr(), A.data_ptr(), out.data_ptr(), rows, points, A.shape[1])
    return True


def binomial_round_native(
    uv: torch.Tensor,
    pending: torch.Tensor,
    count: torch.Tensor,
    prob: torch.Tensor,
    state: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
) -> torch.Tensor | None:
    """One round of :func:`~netcoreset.sampler.sparsify.binomial` in C.

    ``uv`` holds the round's uniforms (``2 x len(pending)``, float64), ``pending`` the int64
    indices still to draw in the float64 ``count`` and ``prob``; ``state`` is ``(out, gaps,
    successes)``, float64 like ``count``: finished draws are written to ``out``, the
    inversion's running sums to the other two. Returns the indices still pending, or None
    when the kernel is unavailable (then nothing is written).
    """
    if any(t.dtype != torch.float64 for t in (uv, count, prob, *state)):
        return None
    if pending.dtype != torch.int64:
        return None
    lib = _cpu_library(uv, pending, count, prob, *state)
    if lib is None:
        return None
    rest = torch.empty_like(pending)
    left = lib.netcoreset_binomial_round(
        uv.data_ptr(),
        pending.numel(),
        pending.data_ptr(),
        count.data_ptr(),
        prob.data_ptr(),
        *(t.data_ptr() for t in state),
        rest.data_ptr(),
    )
    return rest[:left]


def _cpu_library(*tensors: torch.Tensor) -> ctypes.CDLL | None:
    """The library, when it is loaded and every tensor is a contiguous CPU tensor (the
    kernels' common condition), else None."""
    for t in tensors:  # (a loop: called dozens of times per compression)
        if t.device.type != "cpu" or not t.is_contiguous():
            return None
    return _library()


def _float64_cpu(*tensors: torch.Tensor) -> bool:
    """Whether every tensor is a contiguous float64 CPU tensor."""
    for t in tensors:
        if t.device.type != "cpu" or t.dtype != torch.float64 or not t.is_contiguous():
            return False
    return True


_SUFFIX = {torch.float32: "f32", torch.float64: "f64"}


def coverage_part_native(
    w: torch.Tensor,
    b: torch.Tensor | None,
    signed: torch.Tensor,
    negative: bool,
    w_out: torch.Tensor,
    s_out: torch.Tensor,
) -> bool:
    r"""One part of a block of rows for the coverage check, in float64, in one pass:
    ``w_out`` :math:`= \max(\pm[W, b], 0)` and ``s_out`` :math:`= \max(\pm s, 0)` from the
    signed sensitivities (``-`` when ``negative``): exact casts, negations and clamps, as
    the torch path (a negative value becomes +0; -0 stays). Returns False (nothing written)
    when the kernel does not apply (float32/float64 CPU tensors, contiguous).

    >>> w = torch.tensor([[1.0, -2.0]])
    >>> w_out, s_out = (torch.empty(1, 3, dtype=torch.float64) for _ in range(2))
    >>> used = coverage_part_native(w, torch.tensor([-1.0]), torch.tensor([[0.5, -0.25, -1.0]],
    ...                             dtype=torch.float64), True, w_out, s_out)
    >>> not used or (w_out.tolist(), s_out.tolist()) == ([[0.0, 2.0, 1.0]], [[0.0, 0.25, 1.0]])
    True
    """
    lib = _cpu_library(*((w, signed) if b is None else (w, b, signed)))
    if lib is None:
        return False
    if w.dtype not in _SUFFIX or signed.dtype not in _SUFFIX:
        return False
    if b is not None and b.dtype != w.dtype:
        return False
    rows, cols = w.shape
    width = cols + (b is not None)
    shape = (rows, width)
    if signed.shape != shape or w_out.shape != shape or s_out.shape != shape:
        return False
    if not _float64_cpu(w_out, s_out) or (b is not None and b.shape != (rows,)):
        return False
    fn = getattr(lib, f"netcoreset_coverage_part_{_SUFFIX[w.dtype]}_{_SUFFIX[signed.dtype]}")
    fn(
        w.data_ptr(), None if b is None else b.data_ptr(), signed.data_ptr(), rows, cols,
        int(negative), w_out.data_ptr(), s_out.data_ptr(),
    )  # fmt: skip
    return True


def coverage_prepare_native(w: torch.Tensor, s: torch.Tensor) -> torch.Tensor | None:
    r"""The coverage check's ratios and never-sampled weights in one pass, in place.

    For a part's weights :math:`w_j \ge 0` and sensitivities :math:`s_j \ge 0` (float64,
    ``rows x cols``): ``w`` becomes :math:`w_j/s_j` (0 where :math:`s_j \le 0`) and ``s``
    the weights of the edges never sampled (:math:`w_j` where :math:`s_j \le 0 < w_j`,
    else 0), the values of :func:`~netcoreset.sampler.certificate.coverage_ratios`' torch
    path. Returns the columns holding such an edge (bool), or None when the kernel does not
    apply (then nothing is written).

    >>> w, s = torch.tensor([[2.0, 3.0]], dtype=torch.float64), torch.tensor([[4.0, 0.0]],
    ...                                                                     dtype=torch.float64)
    >>> lost = coverage_prepare_native(w, s)
    >>> lost is None or (w.tolist(), s.tolist(), lost.tolist()) == ([[0.5, 0.0]], [[0.0, 3.0]],
    ...                                                             [False, True])
    True
    """
    lib = _library()
    if lib is None or not _float64_cpu(w, s) or w.shape != s.shape or w.ndim != 2:
        return None
    lost = torch.empty(w.shape[1], dtype=torch.uint8)
    lib.netcoreset_coverage_prepare(w.data_ptr(), s.data_ptr(), lost.data_ptr(), *w.shape)
    return lost.bool()


def coverage_finish_native(
    top: torch.Tensor, z: torch.Tensor, lost: torch.Tensor | None
) -> torch.Tensor | None:
    r"""Per column, :math:`\max_i \lambda_i` with :math:`\lambda_i = t_i/z_i` where
    :math:`z_i > 0` (:math:`\infty` where ``lost`` is positive there), else 0; NaN
    propagates and a zero maximum is +0. ``top``, ``z`` and ``lost`` are float64
    ``rows x points`` (``lost`` may be None). Returns None when the kernel does not apply.

    >>> top = torch.tensor([[1.0, 5.0], [3.0, 1.0]], dtype=torch.float64)
    >>> out = coverage_finish_native(top, torch.tensor([[2.0, 0.0], [2.0, 1.0]],
    ...                                                dtype=torch.float64), None)
    >>> out is None or out.tolist() == [1.5, 1.0]
    True
    """
    lib = _library()
    tensors = (top, z) if lost is None else (top, z, lost)
    if lib is None or not _float64_cpu(*tensors) or any(t.shape != top.shape for t in tensors):
        return None
    if top.ndim != 2 or top.shape[0] == 0:
        return None
    out = torch.empty(top.shape[1], dtype=torch.float64)
    lib.netcoreset_coverage_finish(
        top.data_ptr(), z.data_ptr(), None if lost is None else lost.data_ptr(),
        out.data_ptr(), *top.shape,
    )  # fmt: skip
    return out


def cancellation_exceeds_native(
    z_pos: torch.Tensor, z_neg: torch.Tensor, split: bool, delta_hat: float
) -> torch.Tensor | None:
    r"""Per point, whether :math:`\Delta_i(x) = (z^+_i + z^-_i)/|z^+_i - z^-_i| > \hat\Delta`
    for some row :math:`i` (:math:`z = 0` with mass: infinite), from the parts' float64
    sums (``rows x points``; with ``split`` the points' :math:`x^+` and :math:`x^-` pieces
    side by side). Returns None when the kernel does not apply.

    >>> zp = torch.tensor([[3.0, 1.0]], dtype=torch.float64)
    >>> out = cancellation_exceeds_native(zp, torch.tensor([[1.0, 1.0]], dtype=torch.float64),
    ...                                   False, 1.5)
    >>> out is None or out.tolist() == [True, True]
    True
    """
    lib = _library()
    if lib is None or not _float64_cpu(z_pos, z_neg) or z_pos.shape != z_neg.shape:
        return None
    if z_pos.ndim != 2 or (split and z_pos.shape[1] % 2):
        return None
    rows, points = z_pos.shape
    out = torch.empty(points // 2 if split else points, dtype=torch.uint8)
    lib.netcoreset_cancellation_exceeds(
        z_pos.data_ptr(), z_neg.data_ptr(), rows, points, int(split), float(delta_hat),
        out.data_ptr(),
    )  # fmt: skip
    return out.bool()


def transposed_points_native(activations: torch.Tensor, bias: bool) -> torch.Tensor | None:
    r"""The points as float64 columns, ``(inputs [+ 1], points)``, contiguous, with a row of
    ones for the bias: :func:`~netcoreset.sampler.sensitivity.augment_inputs` with
    ``transposed=True`` in one cache-blocked pass (exact casts). Returns None when the
    kernel does not apply (a float32/float64 contiguous CPU tensor) or when some entry is
    negative (the inputs are then split, by the torch path).

    >>> out = transposed_points_native(torch.tensor([[1.0, 2.0], [3.0, 4.0]]), True)
    >>> out is None or out.tolist() == [[1.0, 3.0], [2.0, 4.0], [1.0, 1.0]]
    True
    """
    lib = _library()
    a = activations
    if lib is None or a.ndim != 2 or a.device.type != "cpu" or a.dtype not in _SUFFIX:
        return None
    a = a.contiguous()
    n, cols = a.shape
    out = torch.empty((cols + (1 if bias else 0), n), dtype=torch.float64)
    fn = getattr(lib, f"netcoreset_transpose_{_SUFFIX[a.dtype]}")
    if fn(a.data_ptr(), n, cols, out.data_ptr()):
        return None
    if bias:
        out[cols] = 1.0
    return out


def nonzero_extremes_native(t: torch.Tensor) -> tuple[float, float] | None:
    """The smallest non-zero and the largest ``|t|`` as float64 numbers (``(inf, 0)`` when
    every entry is zero), in one pass; None when the kernel does not apply (a float32/float64
    contiguous CPU tensor) or an entry is not finite.

    >>> nonzero_extremes_native(torch.tensor([0.0, -3.0, 0.5])) in (None, (0.5, 3.0))
    True
    """
    lib = _cpu_library(t)
    if lib is None or t.dtype not in _SUFFIX:
        return None
    lo, hi = ctypes.c_double(), ctypes.c_double()
    fn = getattr(lib, f"netcoreset_nonzero_extremes_{_SUFFIX[t.dtype]}")
    if fn(t.data_ptr(), t.numel(), ctypes.byref(lo), ctypes.byref(hi)):
        return None
    return lo.value, hi.value


def part_probabilities_native(
    signed: torch.Tensor, order: torch.Tensor, negative: bool, scale: torch.Tensor
) -> torch.Tensor | None:
    r"""The probabilities of the rows ``order`` of one part,
    :math:`q = \max(\pm s, 0)/\text{scale}`, float64 ``(len(order), n)``, from the signed
    sensitivities ``(rows, n)`` and the float64 per-row ``scale``, in one pass (the exact
    cast, negation and clamp of the torch path, then one division). None when the kernel
    does not apply (CPU, contiguous, float32/float64 ``signed``, int64 ``order``).

    >>> q = part_probabilities_native(torch.tensor([[1.0, -3.0]]), torch.tensor([0]), True,
    ...                               torch.tensor([2.0], dtype=torch.float64))
    >>> q is None or q.tolist() == [[0.0, 1.5]]
    True
    """
    lib = _cpu_library(signed, order, scale)
    if lib is None:
        return None
    if signed.dtype not in _SUFFIX or order.dtype != torch.int64 or scale.dtype != torch.float64:
        return None
    if signed.ndim != 2 or scale.shape != (signed.shape[0],) or order.ndim != 1:
        return None
    rows, n = order.numel(), signed.shape[1]
    q = torch.empty((rows, n), dtype=torch.float64)
    fn = getattr(lib, f"netcoreset_part_probabilities_{_SUFFIX[signed.dtype]}")
    fn(signed.data_ptr(), order.data_ptr(), rows, n, int(negative), scale.data_ptr(), q.data_ptr())
    return q


def draws_times_log_native(
    m: torch.Tensor,
    counts: torch.Tensor,
    log1mq: torch.Tensor,
    out: torch.Tensor | None = None,
) -> torch.Tensor | None:
    r""":math:`x_e = \log(1 - q_e)\,m_p` for every edge :math:`e` of every part :math:`p`
    (the budget solve's exponents), in one pass: ``m`` per part, ``log1mq`` per edge, one
    dtype (float32 or float64), the edges of part :math:`p` consecutive, ``counts[p]`` (int64)
    of them. The products of the torch path (``log1mq * m[part]``), so the same bits. Written
    to ``out`` when given (a contiguous tensor like ``log1mq``; ``log1mq`` itself works: each
    value is read before its product is written), else to a new tensor. None when the kernel
    does not apply.

    >>> x = draws_times_log_native(torch.tensor([2.0, 3.0]), torch.tensor([1, 2]),
    ...                            torch.tensor([-0.5, -1.0, -0.25]))
    >>> x is None or x.tolist() == [-1.0, -3.0, -0.75]
    True
    """
    lib = _cpu_library(m, counts, log1mq)
    if lib is None:
        return None
    if m.dtype not in _SUFFIX or log1mq.dtype != m.dtype or counts.dtype != torch.int64:
        return None
    if m.ndim != 1 or counts.shape != m.shape or log1mq.ndim != 1:
        return None
    if out is not None and not (
        out.dtype == log1mq.dtype and out.shape == log1mq.shape and _cpu_library(out)
    ):
        return None
    x = torch.empty_like(log1mq) if out is None else out
    fn = getattr(lib, f"netcoreset_draws_times_log_{_SUFFIX[m.dtype]}")
    edges = log1mq.numel()
    if fn(m.data_ptr(), counts.data_ptr(), m.numel(), log1mq.data_ptr(), edges, x.data_ptr()):
        return None  # the counts do not add up to the edges
    return x


def compact_parts_native(
    signed: torch.Tensor, total_positive: torch.Tensor, total_negative: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None:
    r"""A layer's compact part table from its signed sensitivities ``(rows, n)``: the values
    :math:`|s_j|/\max(\mathcal{S}, \text{tiny})` of the edges of every part (the positive
    parts row by row, then the negative ones; columns in order), float64, their parts
    (int32) and the ``2 * rows`` lengths (int64), in two passes (a count, then the values):
    numpy's exact casts and negations and one division each, so the same bits. None when
    the kernel does not apply (CPU, contiguous, float32/float64 ``signed``, float64 totals).

    >>> out = compact_parts_native(torch.tensor([[1.0, -3.0]]), torch.tensor([2.0],
    ...                            dtype=torch.float64), torch.tensor([4.0], dtype=torch.float64))
    >>> out is None or [t.tolist() for t in out] == [[0.5, 0.75], [0, 1], [1, 1]]
    True
    """
    tensors = (signed, total_positive, total_negative)
    lib = _cpu_library(*tensors)
    if lib is None:
        return None
    if signed.dtype not in _SUFFIX or signed.ndim != 2:
        return None
    rows, n = signed.shape
    if any(t.dtype != torch.float64 or t.shape != (rows,) for t in tensors[1:]):
        return None
    fn = getattr(lib, f"netcoreset_compact_parts_{_SUFFIX[signed.dtype]}")
    tiny = torch.finfo(torch.float64).tiny
    lengths = torch.empty(2 * rows, dtype=torch.int64)
    args = (signed.data_ptr(), rows, n, total_positive.data_ptr(), total_negative.data_ptr(), tiny)
    count = fn(*args, None, None, lengths.data_ptr())
    values = torch.empty(count + 1, dtype=torch.float64)  # (one slot of slack for the kernel)
    parts = torch.empty(count + 1, dtype=torch.int32)
    fn(*args, values.data_ptr(), parts.data_ptr(), lengths.data_ptr())
    return values[:count], parts[:count], lengths


def inflate_products_native(
    m: torch.Tensor, w: torch.Tensor, factor: float, out: torch.Tensor | None
) -> torch.Tensor | None:
    r""":math:`\min(\max(\mathrm{fl}(m w)\,F, 0), 1)` elementwise in float64, in one pass: the
    sensitivities' products with the weights in ``m``'s dtype (float32 or float64, ``w`` the
    same), the exact cast, the rounding inflation :math:`F` and the clamp of the torch path
    (``-0`` and NaN stay). Written into the leading rows of the float64 buffer ``out``, or
    into ``m`` itself when ``out`` is None (``m`` float64 and :math:`F = 1`). None when the
    kernel does not apply.

    >>> m = torch.tensor([[0.5, 2.0]], dtype=torch.float64)
    >>> s = inflate_products_native(m, torch.tensor([[0.5, 1.0]], dtype=torch.float64), 1.0, None)
    >>> s is None or s.tolist() == [[0.25, 1.0]]
    True
    """
    lib = _cpu_library(m, w)
    if lib is None or m.dtype not in _SUFFIX or w.dtype != m.dtype or m.shape != w.shape:
        return None
    if out is None:
        if m.dtype != torch.float64 or factor != 1.0:
            return None
        target = m
    else:
        if not _float64_cpu(out) or out.ndim != m.ndim or out.shape[0] < m.shape[0]:
            return None
        target = out[: m.shape[0]]
        if target.shape != m.shape:
            return None
    fn = getattr(lib, f"netcoreset_inflate_products_{_SUFFIX[m.dtype]}")
    fn(m.data_ptr(), w.data_ptr(), m.numel(), float(factor), target.data_ptr())
    return target


def categorical_applies(signed: torch.Tensor, order: torch.Tensor, scale: torch.Tensor) -> bool:
    """Whether :func:`categorical_block_native` applies to a part of the signed sensitivities
    ``(rows, n)`` (float32/float64), its drawing rows ``order`` (int64) and per-row
    ``scale`` (float64): contiguous CPU tensors and the library loaded."""
    if _cpu_library(signed, order, scale) is None or signed.dtype not in _SUFFIX:
        return False
    if signed.ndim != 2 or order.dtype != torch.int64 or order.ndim != 1:
        return False
    return scale.dtype == torch.float64 and scale.shape == (signed.shape[0],)


def categorical_block_native(
    signed: torch.Tensor,
    rows: torch.Tensor,
    negative: bool,
    scale: torch.Tensor,
    uniforms: torch.Tensor,
    m: torch.Tensor,
    start: torch.Tensor,
    out: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    work: tuple[torch.Tensor, torch.Tensor],
) -> None:
    r"""One block of a part's categorical draws, counted: part row ``rows[i]`` (int64),
    with probabilities :math:`q = \max(\pm s, 0)/\text{scale}` computed in the pass
    (:func:`part_probabilities_native`'s operations, the same bits), takes the first ``m[i]``
    (int64) of its ``k`` float64 ``uniforms`` (``(len(rows), k)``, row-major: the stream as
    :func:`torch.multinomial` with ``k >= 2`` samples and replacement consumes it) and finds
    each as torch does: the row's sequential cumulative sum, each value divided by the total,
    the last set to 1, the first cumulative value at or above the uniform. Row ``i`` writes
    its distinct columns in ascending order, their counts and their number into ``out =
    (cols, counts, lens)`` at ``cols[start[i]:]``, ``counts[start[i]:]`` (float64) and
    ``lens[i]``; ``work = (tally, cum)`` is ``n`` zeroed int64 and ``n`` float64 of scratch.
    Needs :func:`categorical_applies` and contiguous int64/float64 arguments. Raises
    ValueError where a row is not a distribution (a negative or non-finite probability, or
    a zero sum), :func:`torch.multinomial`'s errors.

    >>> out = (torch.zeros(3, dtype=torch.long), torch.zeros(3, dtype=torch.float64),
    ...        torch.zeros(1, dtype=torch.long))
    >>> work = (torch.zeros(2, dtype=torch.long), torch.zeros(2, dtype=torch.float64))
    >>> signed, scale = torch.tensor([[-1.0, 2.0]]), torch.tensor([2.0], dtype=torch.float64)
    >>> u = torch.rand(3, dtype=torch.float64)
    >>> if native_available():  # q = (0, 1): all three draws are column 1
    ...     categorical_block_native(signed, torch.tensor([0]), False, scale, u,
    ...                              torch.tensor([3]), torch.tensor([0]), out, work)
    ...     assert (out[0][0], out[1][0], out[2][0]) == (1, 3.0, 1)
    """
    lib = _cpu_library(signed, rows, scale, uniforms, m, start, *out, *work)
    if lib is None:
        raise ValueError("categorical_block_native needs contiguous CPU tensors and the library")
    k = uniforms.numel() // max(rows.numel(), 1)
    fn = getattr(lib, f"netcoreset_categorical_block_{_SUFFIX[signed.dtype]}")
    head = (signed.data_ptr(), rows.data_ptr(), rows.numel(), signed.shape[1], int(negative))
    tail = (uniforms, m, start, *out, *work)
    if fn(*head, scale.data_ptr(), k, *(t.data_ptr() for t in tail)):
        raise ValueError("invalid multinomial distribution (a row is not a distribution)")


def gather_segments_native(
    n: int, start: torch.Tensor, lens: torch.Tensor, cols: torch.Tensor, counts: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The rows' segments written by :func:`categorical_block_native`, in ascending row order
    (row ``p`` at ``start[p]``, ``lens[p]`` values, 0 for a row without draws): the flat
    positions ``p * n + column`` (int64) and their counts (float64). Needs the library and
    contiguous CPU int64 (``counts``: float64) tensors.

    >>> start, lens = torch.tensor([0, 1]), torch.tensor([1, 1])
    >>> cols, counts = torch.tensor([2, 0]), torch.tensor([3.0, 1.0], dtype=torch.float64)
    >>> if native_available():
    ...     flat, values = gather_segments_native(5, start, lens, cols, counts)
    ...     assert flat.tolist() == [2, 5] and values.tolist() == [3.0, 1.0]
    """
    lib = _cpu_library(start, lens, cols, counts)
    if lib is None:
        raise ValueError("gather_segments_native needs contiguous CPU tensors and the library")
    flat = torch.empty(cols.numel(), dtype=torch.int64)
    values = torch.empty(cols.numel(), dtype=torch.float64)
    tensors = (start, lens, cols, counts, flat, values)
    kept = lib.netcoreset_gather_segments(lens.numel(), n, *(t.data_ptr() for t in tensors))
    return flat[:kept], values[:kept]


def reweight_drawn_native(
    signed: torch.Tensor,
    weight: torch.Tensor,
    drawn: torch.Tensor,
    counts: torch.Tensor,
    scale: torch.Tensor,
    m: torch.Tensor,
    negative: bool,
) -> torch.Tensor | None:
    r"""One part's sampled weights at its drawn flat positions ``drawn`` (``row * n +
    column`` of the ``(rows, n)`` ``signed`` sensitivities and ``weight``), with ``counts``
    (float64) draws each: :math:`c\,|w|/(m q)` in ``weight``'s dtype, negated (as
    :math:`0 - {}` the value) for the negative part, where
    :math:`q = \max(\pm s, 0)/\text{scale}` and ``scale``, ``m`` are float64 per row. The
    operations of :func:`~netcoreset.sampler.sparsify.signed_part_weights`' torch path in its
    order (the probability, its product with :math:`m`, the weight's clamped magnitude in its
    dtype, the float64 quotient and product, one rounding), in one pass. None when the kernel
    does not apply.

    >>> v = reweight_drawn_native(torch.tensor([[0.5, -1.0]]), torch.tensor([[2.0, -4.0]]),
    ...                           torch.tensor([1]), torch.tensor([2.0], dtype=torch.float64),
    ...                           torch.tensor([1.0], dtype=torch.float64),
    ...                           torch.tensor([4.0], dtype=torch.float64), True)
    >>> v is None or v.tolist() == [-2.0]
    True
    """
    lib = _cpu_library(signed, weight, drawn, counts, scale, m)
    if lib is None or signed.dtype not in _SUFFIX or weight.dtype not in _SUFFIX:
        return None
    if signed.ndim != 2 or weight.shape != signed.shape or drawn.dtype != torch.int64:
        return None
    if counts.dtype != torch.float64 or counts.shape != drawn.shape or drawn.ndim != 1:
        return None
    rows = signed.shape[0]
    if not all(t.dtype == torch.float64 and t.shape == (rows,) for t in (scale, m)):
        return None
    out = torch.empty(drawn.numel(), dtype=weight.dtype)
    fn = getattr(lib, f"netcoreset_reweight_drawn_{_SUFFIX[signed.dtype]}_{_SUFFIX[weight.dtype]}")
    pointers = (drawn, counts)
    fn(
        signed.data_ptr(),
        weight.data_ptr(),
        signed.shape[1],
        *(t.data_ptr() for t in pointers),
        drawn.numel(),
        scale.data_ptr(),
        m.data_ptr(),
        int(negative),
        out.data_ptr(),
    )
    return out
