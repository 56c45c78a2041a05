r"""Compiled kernels: a small C file built on first use with the system compiler.

:func:`netcoreset.sampler.max_times_product` calls :func:`max_times_native` for CPU tensors
when a C compiler is found; otherwise it uses its torch path. The kernel computes

.. math::

    M_{ij} = \max\Bigl(M_{ij},\ \max_{x} U_{ix} A_{xj}\Bigr)

with the rows blocked by four and the columns by one cache line group, so that a block of
:math:`M` stays in registers while the points :math:`x` pass, 256 at a time so that their
rows of :math:`A` stay in cache when there are thousands, as in the held-out checks (about
two times a GEMM of the same shape, against 20-100 times for elementwise torch operations).
Every product is the same IEEE multiplication as torch's and the maximum is exact, so the
result is bit-identical to the torch path and to
:func:`~netcoreset.sampler.max_times_product_reference`.

The same file holds one round of the binomial sampler
(:func:`~netcoreset.sampler.sparsify.binomial`): the operations of its torch path, in the same
order, on the same uniforms (about 10 times faster). The two agree bit for bit except
where a logarithm's last bit (glibc against torch's vectorised one) decides a rejection test,
an event of probability about 1e-15 per draw.

Building takes about a second and happens once per machine: the shared library is cached in
``$NETCORESET_CACHE`` (default ``$XDG_CACHE_HOME/netcoreset`` or ``~/.cache/netcoreset``)
under a name that hashes the source, the compiler, its flags and the CPU. It is written under
a temporary name and renamed, so concurrent processes never load a partial file. Set
``NETCORESET_NATIVE=0`` to disable it; :func:`native_status` says why it is unavailable.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

import torch

__all__ = ["binomial_round_native", "max_times_native", "native_available", "native_status"]

_SOURCE = r"""
/* netcoreset (max, x) kernel: out[i, j] = max(out[i, j], max_x U[i, x] * A[x, j]).
   U is R x P, A is P x C, out is R x C, row-major, contiguous, finite. The points x go by
   chunks of XB, so that a chunk of A's rows (XB x JW) stays in cache for every row block
   when P is large (the held-out checks: P is a layer's width); the maximum is exact and
   order-free, so the chunks do not change a bit. */
#define KERNEL(NAME, T, JW, XB)                                                             \
void NAME(const T *U, const T *A, T *out, long R, long P, long C) {                      \
 for (long x0 = 0; x0 < P; x0 += XB) {                                                    \
  const long x1 = P - x0 < XB ? P : x0 + XB;                                              \
  for (long j0 = 0; j0 < C; j0 += JW) {                                                   \
    long nj = C - j0 < JW ? C - j0 : JW, i0 = 0;                                          \
    if (nj == JW) {                                                                       \
      for (; i0 + 4 <= R; i0 += 4) {                                                      \
        T c0[JW], c1[JW], c2[JW], c3[JW];                                                 \
        T *o0 = out + i0 * C + j0, *o1 = o0 + C, *o2 = o1 + C, *o3 = o2 + C;              \
        const T *u0 = U + i0 * P, *u1 = u0 + P, *u2 = u1 + P, *u3 = u2 + P;               \
        for (int j = 0; j < JW; ++j) {                                                    \
          c0[j] = o0[j]; c1[j] = o1[j]; c2[j] = o2[j]; c3[j] = o3[j];                     \
        }                                                                                 \
        for (long x = x0; x < x1; ++x) {                                                  \
          const T *a = A + x * C + j0;                                                    \
          const T v0 = u0[x], v1 = u1[x], v2 = u2[x], v3 = u3[x];                         \
          for (int j = 0; j < JW; ++j) {                                                  \
            const T aj = a[j], p0 = v0 * aj, p1 = v1 * aj, p2 = v2 * aj, p3 = v3 * aj;    \
            c0[j] = c0[j] > p0 ? c0[j] : p0;                                              \
            c1[j] = c1[j] > p1 ? c1[j] : p1;                                              \
            c2[j] = c2[j] > p2 ? c2[j] : p2;                                              \
            c3[j] = c3[j] > p3 ? c3[j] : p3;                                              \
          }                                                                               \
        }                                                                                 \
        for (int j = 0; j < JW; ++j) {                                                    \
          o0[j] = c0[j]; o1[j] = c1[j]; o2[j] = c2[j]; o3[j] = c3[j];                     \
        }                                                                                 \
      }                                                                                   \
    }                                                                                     \
    for (long i = i0; i < R; ++i) {                                                       \
      T *o = out + i * C + j0;                                                            \
      const T *u = U + i * P;                                                             \
      for (long x = x0; x < x1; ++x) {                                                    \
        const T v = u[x], *a = A + x * C + j0;                                            \
        for (long j = 0; j < nj; ++j) { const T p = v * a[j]; o[j] = o[j] > p ? o[j] : p; } \
      }                                                                                   \
    }                                                                                     \
  }                                                                                       \
 }                                                                                        \
}
KERNEL(netcoreset_max_times_f32, float, 64, 256)
KERNEL(netcoreset_max_times_f64, double, 32, 256)

/* One round of netcoreset.sampler.sparsify.binomial for the pending entries: the same
   operations in the same order as its torch path (see log_pmf_ratio there): inversion for
   n min(p, 1-p) < 10, BTRS otherwise; draws for p > 1/2 are n - Binomial(n, 1 - p). */
#include <math.h>
static const double TAIL[10] = {0.0810614667953272, 0.0413406959554092, 0.0276779256849983,
  0.02079067210376509, 0.0166446911898211, 0.0138761288230707, 0.0118967099458917,
  0.0104112652619720, 0.00925546218271273, 0.00833056343336287};
static double tail(double k) {
  if (k < 10) return TAIL[(int)k];
  double z = k + 1.0, iz2 = 1.0 / (z * z);
  return (1.0 / 12 - iz2 * (1.0 / 360 - iz2 * (1.0 / 1260 - iz2 * (1.0 / 1680 - iz2 / 1188))))
         / z;
}
static double log1p_minus_x(double x) {
  if (!(fabs(x) < 0.5)) return log1p(x) - x;
  double t = x / (2.0 + x), t2 = t * t, acc = 1.0 / 37;
  for (int j = 17; j >= 1; --j) acc = acc * t2 + 1.0 / (2 * j + 1);
  return -x * t + 2.0 * t * t2 * acc;
}
static double two_product_lo(double a, double b, double hi) {
  double ca = 134217729.0 * a, cb = 134217729.0 * b;
  double ah = ca - (ca - a), bh = cb - (cb - b), al = a - ah, bl = b - bh;
  double lo = ((ah * bh - hi) + ah * bl + al * bh) + al * bl;
  return isfinite(lo) ? lo : 0.0;
}
static double log_pmf_ratio(double n, double p, double k, double m) {
  double d = k - m, np1 = n - m + 1.0, hi = p * (n + 2.0);
  double num = (hi - (k + 1.0)) + two_product_lo(p, n + 2.0, hi);
  return -(m + 0.5) * log1p_minus_x(d / (m + 1.0)) - (np1 - 0.5) * log1p_minus_x(-d / np1)
         + d / (2.0 * (m + 1.0)) - d / (2.0 * np1) + d * log1p(num / ((1.0 - p) * (k + 1.0)))
         + tail(m) - tail(k) + tail(n - m) - tail(n - k);
}
long netcoreset_binomial_round(const double *uv, long count, const long *pending,
                               const double *count_in, const double *prob_in, double *out,
                               double *gsum, double *num, long *rest) {
  long r = 0;
  for (long i = 0; i < count; ++i) {
    long e = pending[i];
    double n = count_in[e], pr = prob_in[e];
    if (n <= 0 || pr <= 0) { out[e] = 0.0; continue; }
    if (pr >= 1) { out[e] = n; continue; }
    int flip = pr > 0.5;
    double p = flip ? 1.0 - pr : pr, k;
    if (n * p < 10.0) { /* inversion: geometric gaps between successes */
      double geom = ceil(log(uv[i]) / log1p(-p)), gs = gsum[e] + geom;
      gsum[e] = gs;
      if (!(gs > n)) { num[e] += 1.0; rest[r++] = e; continue; }
      k = num[e];
    } else { /* BTRS */
      double q = 1.0 - p, spq = sqrt(n * p * q), b = 1.15 + 2.53 * spq;
      double a = -0.0873 + 0.0248 * b + 0.01 * p, c = n * p + 0.5, vr = 0.92 - 4.2 / b;
      double alpha = (2.83 + 5.1 / b) * spq;
      double hi = (n + 1.0) * p, m = floor(hi);
      if (hi == m && two_product_lo(n + 1.0, p, hi) < 0) m -= 1.0;
      double u = uv[i] - 0.5, v = uv[count + i], us = 0.5 - fabs(u);
      k = floor((2.0 * a / us + b) * u + c);
      int valid = k >= 0 && k <= n;
      int accept = valid && us >= 0.07 && v <= vr;
      if (valid && !accept) {
        double log_v = log(v * alpha / (a / (us * us) + b));
        accept = log_v <= log_pmf_ratio(n, p, k, m);
      }
      if (!accept) { rest[r++] = e; continue; }
    }
    out[e] = flip ? n - k : k;
  }
  return r;
}
"""

# No -ffast-math: products must be plain IEEE multiplications; no contraction either.
_FLAGS = ["-O3", "-shared", "-fPIC", "-ffp-contract=off", "-std=c99", "-lm"]
_NATIVE_FLAGS = ["-march=native"]
_status = "not built yet"


def _cache_dir() -> Path:
    root = os.environ.get("NETCORESET_CACHE")
    if root:
        return Path(root)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "netcoreset"


def _compiler() -> str | None:
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def _cpu_signature() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor()
    keep = [ln for ln in text.splitlines() if ln.startswith(("model name", "flags"))]
    return "\n".join(sorted(set(keep)))


def _build(cc: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        src = Path(tmp) / "max_times.c"
        src.write_text(_SOURCE)
        lib = Path(tmp) / target.name
        for extra in (_NATIVE_FLAGS, []):
            cmd = [cc, *_FLAGS, *extra, "-o", str(lib), str(src)]
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            if proc.returncode == 0:
                os.replace(lib, target)
                return
        raise RuntimeError(f"{cc} failed: {proc.stderr.strip()[-300:]}")


@functools.lru_cache(maxsize=1)
def _library() -> ctypes.CDLL | None:
    global _status
    if os.environ.get("NETCORESET_NATIVE", "1").lower() in ("0", "off", "false", "no"):
        _status = "disabled by NETCORESET_NATIVE"
        return None
    cc = _compiler()
    if cc is None:
        _status = "no C compiler found (cc, gcc, clang or $CC)"
        return None
    key = hashlib.sha256(
        "\n".join([_SOURCE, cc, " ".join(_FLAGS + _NATIVE_FLAGS), _cpu_signature()]).encode()
    ).hexdigest()[:20]
    target = _cache_dir() / f"max_times-{key}{'.dll' if os.name == 'nt' else '.so'}"
    try:
        if not target.exists():
            _build(cc, target)
        lib = ctypes.CDLL(str(target))
        ptr, size = ctypes.c_void_p, ctypes.c_long
        for name in ("netcoreset_max_times_f32", "netcoreset_max_times_f64"):
            getattr(lib, name).restype = None
            getattr(lib, name).argtypes = [ptr, ptr, ptr, size, size, size]
        lib.netcoreset_binomial_round.restype = size
        lib.netcoreset_binomial_round.argtypes = [ptr, size, ptr, ptr, ptr, ptr, ptr, ptr, ptr]
    except (OSError, RuntimeError, subprocess.SubprocessError) as err:
        _status = f"build or load failed: {err}"
        return None
    _status = f"loaded {target}"
    return lib


def native_available() -> bool:
    """Whether the compiled kernel can be used (builds it on the first call).

    >>> isinstance(native_available(), bool)
    True
    """
    return _library() is not None


def native_status() -> str:
    """Why the compiled kernel is or is not in use (after :func:`native_available`).

    >>> native_available() or True
    True
    >>> native_status().startswith(("loaded", "disabled", "no C compiler", "build or load"))
    True
    """
    return _status


def max_times_native(U: torch.Tensor, A: torch.Tensor, out: torch.Tensor) -> bool:
    r"""``out = max(out, U ⊗_max A)`` in place with the compiled kernel.

    Returns False (and leaves ``out`` alone) when the kernel does not apply: no compiler,
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
