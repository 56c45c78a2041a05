r"""Compiled kernels: a small C library built when the package is installed.

:func:`netcoreset.sampler.max_times_product` calls :func:`max_times_native` for CPU tensors
when the library is there; otherwise it uses its torch path. The kernel computes

.. math::

    M_{ij} = \max\Bigl(M_{ij},\ \max_{x} U_{ix} A_{xj}\Bigr)

with the rows blocked by four and the columns by one cache line group, so that a block of
:math:`M` stays in registers while the points :math:`x` pass, 256 at a time so that their
rows of :math:`A` stay in cache when there are thousands, as in the held-out checks (about
two times a GEMM of the same shape, against 20-100 times for elementwise torch operations).
Every product is the same IEEE multiplication as torch's and the maximum is exact, so the
result is bit-identical to the torch path and to
:func:`~netcoreset.sampler.max_times_product_reference`.

The same library holds one round of the binomial sampler
(:func:`~netcoreset.sampler.sparsify.binomial`): the operations of its torch path, in the same
order, on the same uniforms (about 10 times faster). The two agree bit for bit except
where a logarithm's last bit (glibc against torch's vectorised one) decides a rejection test,
an event of probability about 1e-15 per draw.

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
    "kernel_path",
    "max_times_native",
    "native_available",
    "native_status",
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
    tensors = (uv, pending, count, prob, *state)
    if any(t.device.type != "cpu" or not t.is_contiguous() for t in tensors):
        return None
    if any(t.dtype != torch.float64 for t in (uv, count, prob, *state)):
        return None
    if pending.dtype != torch.int64:
        return None
    lib = _library()
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
