/* netcoreset's compiled kernels (loaded with ctypes by netcoreset/sampler/native.py).

   Built by the package's own build (setup.py: an optional extension compiled when the package
   is installed) with -O3 -ffp-contract=off -std=c99 (and -march=native where the compiler
   accepts it); never with -ffast-math: every product must be a plain IEEE multiplication so
   that the results are bit-identical to the torch path. */
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
