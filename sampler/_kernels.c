/* netcoreset's compiled kernels (loaded with ctypes by netcoreset/sampler/native.py).

   Built by the package's own build (setup.py: an optional extension compiled when the package
   is installed) with -O3 -ffp-contract=off -std=c99 (and -march=native where the compiler
   accepts it); never with -ffast-math: every product must be a plain IEEE multiplication so
   that the results are bit-identical to the torch path. */
/* netcoreset (max, x) kernel: out[i, j] = max(out[i, j], max_x U[i, x] * A[x, j]).
   U is R x P, A is P x C, out is R x C, row-major, contiguous, finite. The points x go by
   chunks of XB, so that a chunk of A's rows (XB x JW) stays in cache for every row block
   when P is large (the held-out checks: P is a layer's width); the maximum is exact and
   order-free, so the chunks do not change a bit. The columns go by groups of JW, a block of
   four rows of out staying in registers while the points pass; the last C % JW columns are
   copied, zero-padded, to a buffer of JW columns, so that they take the same path (the padded
   columns are computed and dropped). */
#include <stdlib.h>
#define KERNEL(NAME, T, JW, XB)                                                             \
static void NAME##_rows(const T *U, const T *a, long as, T *out, long oc, long R, long P,  \
                        long x0, long x1) {                                               \
  /* JW columns of R rows of out (row stride oc); point x's columns at a + (x - x0) * as */ \
  long i0 = 0;                                                                            \
  for (; i0 + 4 <= R; i0 += 4) {                                                          \
    T c0[JW], c1[JW], c2[JW], c3[JW];                                                     \
    T *o0 = out + i0 * oc, *o1 = o0 + oc, *o2 = o1 + oc, *o3 = o2 + oc;                   \
    const T *u0 = U + i0 * P, *u1 = u0 + P, *u2 = u1 + P, *u3 = u2 + P;                   \
    for (int j = 0; j < JW; ++j) {                                                        \
      c0[j] = o0[j]; c1[j] = o1[j]; c2[j] = o2[j]; c3[j] = o3[j];                         \
    }                                                                                     \
    for (long x = x0; x < x1; ++x) {                                                      \
      const T *ax = a + (x - x0) * as;                                                    \
      const T v0 = u0[x], v1 = u1[x], v2 = u2[x], v3 = u3[x];                             \
      for (int j = 0; j < JW; ++j) {                                                      \
        const T aj = ax[j], p0 = v0 * aj, p1 = v1 * aj, p2 = v2 * aj, p3 = v3 * aj;       \
        c0[j] = c0[j] > p0 ? c0[j] : p0;                                                  \
        c1[j] = c1[j] > p1 ? c1[j] : p1;                                                  \
        c2[j] = c2[j] > p2 ? c2[j] : p2;                                                  \
        c3[j] = c3[j] > p3 ? c3[j] : p3;                                                  \
      }                                                                                   \
    }                                                                                     \
    for (int j = 0; j < JW; ++j) {                                                        \
      o0[j] = c0[j]; o1[j] = c1[j]; o2[j] = c2[j]; o3[j] = c3[j];                         \
    }                                                                                     \
  }                                                                                       \
  for (; i0 < R; ++i0) { /* the last R % 4 rows: one at a time, still in registers */     \
    T c0[JW];                                                                             \
    T *o0 = out + i0 * oc;                                                                \
    const T *u0 = U + i0 * P;                                                             \
    for (int j = 0; j < JW; ++j) c0[j] = o0[j];                                           \
    for (long x = x0; x < x1; ++x) {                                                      \
      const T *ax = a + (x - x0) * as;                                                    \
      const T v0 = u0[x];                                                                 \
      for (int j = 0; j < JW; ++j) {                                                      \
        const T p0 = v0 * ax[j];                                                          \
        c0[j] = c0[j] > p0 ? c0[j] : p0;                                                  \
      }                                                                                   \
    }                                                                                     \
    for (int j = 0; j < JW; ++j) o0[j] = c0[j];                                           \
  }                                                                                       \
}                                                                                         \
void NAME(const T *U, const T *A, T *out, long R, long P, long C) {                      \
  const long tail = C % JW, full = C - tail;                                              \
  /* each chunk of A's rows and group of columns is copied to an aligned buffer of JW   */ \
  /* columns (a row of A is rarely aligned to a cache line: the loads would straddle    */ \
  /* two); the last C % JW columns of A and out are zero-padded to JW (padding dropped) */ \
  char *block = (char *)malloc((size_t)XB * JW * sizeof(T) + 64);                         \
  T *pa = block ? (T *)(block + (64 - (size_t)block % 64) % 64) : NULL;                   \
  T *po = tail ? (T *)calloc((size_t)(R > 0 ? R : 1) * JW, sizeof(T)) : NULL;             \
  if (pa == NULL || (tail && po == NULL)) { /* no memory: straight from A, out in memory */ \
    free(block); free(po);                                                                \
    for (long i = 0; i < R; ++i)                                                          \
      for (long x = 0; x < P; ++x) {                                                      \
        const T v = U[i * P + x], *ax = A + x * C;                                        \
        T *o = out + i * C;                                                               \
        for (long j = 0; j < C; ++j) { const T p = v * ax[j]; o[j] = o[j] > p ? o[j] : p; } \
      }                                                                                   \
    return;                                                                               \
  }                                                                                       \
  for (long i = 0; i < R; ++i)                                                            \
    for (long j = 0; j < tail; ++j) po[i * JW + j] = out[i * C + full + j];               \
  for (long x0 = 0; x0 < P; x0 += XB) {                                                   \
    const long x1 = P - x0 < XB ? P : x0 + XB;                                            \
    for (long j0 = 0; j0 < C; j0 += JW) {                                                 \
      const long nj = C - j0 < JW ? C - j0 : JW;                                          \
      for (long x = x0; x < x1; ++x) {                                                    \
        T *row = pa + (x - x0) * JW;                                                      \
        for (long j = 0; j < nj; ++j) row[j] = A[x * C + j0 + j];                         \
        for (long j = nj; j < JW; ++j) row[j] = 0;                                        \
      }                                                                                   \
      if (nj == JW) NAME##_rows(U, pa, JW, out + j0, C, R, P, x0, x1);                    \
      else NAME##_rows(U, pa, JW, po, JW, R, P, x0, x1);                                  \
    }                                                                                     \
  }                                                                                       \
  for (long i = 0; i < R; ++i)                                                            \
    for (long j = 0; j < tail; ++j) out[i * C + full + j] = po[i * JW + j];               \
  free(block);                                                                            \
  free(po);                                                                               \
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

/* The held-out coverage check's elementwise passes (netcoreset/sampler/certificate.py), each
   the same IEEE operations as its torch path, so the results are the same bits.

   coverage_prepare: w (the part's weights w_j >= 0) and s (its sensitivities s_j >= 0),
   R x C, in place: w becomes the ratio w_j / s_j (0 where s_j <= 0) and s the weight of the
   edges never sampled (w_j where s_j <= 0 < w_j, else 0); lost[j] = 1 for the columns with
   such an edge. Returns the number of these edges. */
long netcoreset_coverage_prepare(double *w, double *s, unsigned char *lost, long R, long C) {
  long count = 0;
  for (long j = 0; j < C; ++j) lost[j] = 0;
  for (long i = 0; i < R; ++i) {
    double *wr = w + i * C, *sr = s + i * C;
    long row = 0;
    for (long j = 0; j < C; ++j) { /* branch-free, so that it vectorises */
      const double sv = sr[j], wv = wr[j], q = wv / sv;
      const int covered = sv > 0, gone = !covered & (wv > 0);
      wr[j] = covered ? q : 0.0;
      sr[j] = gone ? wv : 0.0;
      lost[j] |= (unsigned char)gone;
      row += gone;
    }
    count += row;
  }
  return count;
}

/* coverage_finish: per column j of the R x P products, the largest over the rows of
   lambda = top / z where z > 0 (inf where the never-sampled edges carry mass, lost > 0;
   lost may be NULL), else 0, into out[j]; NaN wins, and a zero is +0. */
void netcoreset_coverage_finish(const double *top, const double *z, const double *lost,
                                double *out, long R, long P) {
  for (long j = 0; j < P; ++j) out[j] = 0.0;
  for (long i = 0; i < R; ++i) {
    const double *t = top + i * P, *zr = z + i * P, *l = lost ? lost + i * P : 0;
    for (long j = 0; j < P; ++j) {
      const double zv = zr[j];
      double v = 0.0;
      if (zv > 0) v = (l && l[j] > 0) ? INFINITY : t[j] / zv;
      const double m = out[j];
      if (i == 0 || (m == m && !(v <= m))) out[j] = v;
    }
  }
  for (long j = 0; j < P; ++j) out[j] += 0.0;
}

/* cancellation_exceeds: per point j, whether Delta_i(x) = (z+ + z-) / |z+ - z-| exceeds
   delta_hat for some row i (z = 0 with mass: infinite), from the R x P parts' sums; with
   split, points j and j + n (P = 2n) are the x+ and x- pieces of one input (out has n). */
void netcoreset_cancellation_exceeds(const double *zp, const double *zn, long R, long P,
                                     int split, double delta_hat, unsigned char *out) {
  const long n = split ? P / 2 : P;
  for (long j = 0; j < n; ++j) out[j] = 0;
  for (long i = 0; i < R; ++i) {
    const double *p = zp + i * P, *q = zn + i * P;
    for (long j = 0; j < n; ++j) {
      double z = p[j] - q[j], mass = p[j] + q[j];
      if (split) {
        z = z - (p[j + n] - q[j + n]);
        mass = mass + (p[j + n] + q[j + n]);
      }
      double ratio = 0.0;
      if (z != 0) ratio = mass / fabs(z);
      else if (mass > 0) ratio = INFINITY;
      out[j] |= (unsigned char)(ratio > delta_hat);
    }
  }
}

/* coverage_part: one part of a block of rows for the coverage check, in float64: wout =
   max(+-[W, b], 0) (R x width, width = C + 1 with a bias, else C) and sout = max(+-s, 0)
   from the signed sensitivities (R x width), negated when negative; the torch path's exact
   casts, negations and clamps (a negative value becomes +0, -0 and NaN stay). */
#define COVERAGE_PART(NAME, W, S)                                                          \
void NAME(const W *w, const W *b, const S *sg, long R, long C, int negative, double *wout, \
          double *sout) {                                                                 \
  const long width = C + (b ? 1 : 0);                                                     \
  for (long i = 0; i < R; ++i) {                                                          \
    const W *wr = w + i * C;                                                              \
    const S *sr = sg + i * width;                                                         \
    double *wo = wout + i * width, *so = sout + i * width;                                \
    for (long j = 0; j < C; ++j) {                                                        \
      const double v = negative ? -(double)wr[j] : (double)wr[j];                         \
      wo[j] = v < 0 ? 0.0 : v;                                                            \
    }                                                                                     \
    if (b) {                                                                              \
      const double v = negative ? -(double)b[i] : (double)b[i];                           \
      wo[C] = v < 0 ? 0.0 : v;                                                            \
    }                                                                                     \
    for (long j = 0; j < width; ++j) {                                                    \
      const double v = negative ? -(double)sr[j] : (double)sr[j];                         \
      so[j] = v < 0 ? 0.0 : v;                                                            \
    }                                                                                     \
  }                                                                                       \
}
COVERAGE_PART(netcoreset_coverage_part_f32_f32, float, float)
COVERAGE_PART(netcoreset_coverage_part_f32_f64, float, double)
COVERAGE_PART(netcoreset_coverage_part_f64_f32, double, float)
COVERAGE_PART(netcoreset_coverage_part_f64_f64, double, double)

/* transpose: out (C x n, row-major) = the float64 cast of a (n x C), eight points at a time
   (their rows of a stay in cache while every column is written); returns whether some
   entry is negative (the caller then splits the inputs itself, and out is not used). */
#define TRANSPOSE(NAME, T)                                                                 \
int NAME(const T *a, long n, long C, double *out) {                                       \
  int negative = 0;                                                                       \
  for (long x0 = 0; x0 < n; x0 += 8) {                                                    \
    const long x1 = n - x0 < 8 ? n : x0 + 8;                                              \
    for (long j = 0; j < C; ++j) {                                                        \
      double *o = out + j * n;                                                            \
      for (long x = x0; x < x1; ++x) {                                                    \
        const double v = (double)a[x * C + j];                                            \
        negative |= v < 0;                                                                \
        o[x] = v;                                                                         \
      }                                                                                   \
    }                                                                                     \
  }                                                                                       \
  return negative;                                                                        \
}
TRANSPOSE(netcoreset_transpose_f32, float)
TRANSPOSE(netcoreset_transpose_f64, double)

/* nonzero_extremes: the smallest non-zero and the largest |t| (lo = inf, hi = 0 when all are
   zero); returns 1 (and nothing is meant) when an entry is not finite. Sixteen running
   extremes side by side, so that the loop vectorises (the extremes are exact in any order). */
#define EXTREMES(NAME, T)                                                                  \
int NAME(const T *t, long count, double *lo, double *hi) {                                \
  T l[16], h[16];                                                                         \
  int bad = 0;                                                                            \
  for (int k = 0; k < 16; ++k) { l[k] = (T)INFINITY; h[k] = 0; }                          \
  long i = 0;                                                                             \
  for (; i + 16 <= count; i += 16) {                                                      \
    for (int k = 0; k < 16; ++k) {                                                        \
      const T v = t[i + k] < 0 ? -t[i + k] : t[i + k];                                    \
      bad |= !(v < (T)INFINITY);                                                          \
      h[k] = v > h[k] ? v : h[k];                                                         \
      l[k] = (v > 0 && v < l[k]) ? v : l[k];                                              \
    }                                                                                     \
  }                                                                                       \
  for (; i < count; ++i) {                                                                \
    const T v = t[i] < 0 ? -t[i] : t[i];                                                  \
    bad |= !(v < (T)INFINITY);                                                            \
    h[0] = v > h[0] ? v : h[0];                                                           \
    l[0] = (v > 0 && v < l[0]) ? v : l[0];                                                \
  }                                                                                       \
  for (int k = 1; k < 16; ++k) {                                                          \
    h[0] = h[k] > h[0] ? h[k] : h[0];                                                     \
    l[0] = l[k] < l[0] ? l[k] : l[0];                                                     \
  }                                                                                       \
  *lo = (double)l[0];                                                                     \
  *hi = (double)h[0];                                                                     \
  return bad;                                                                             \
}
EXTREMES(netcoreset_nonzero_extremes_f32, float)
EXTREMES(netcoreset_nonzero_extremes_f64, double)

/* part_probabilities: the probabilities of the rows `order` of one part, q = max(+-s, 0) /
   scale[row] in float64 (R x n), from the signed sensitivities (rows x n): the torch path's
   exact cast, negation and clamp (a negative value becomes +0; -0 stays) and one division. */
#define PART_Q(NAME, S)                                                                    \
void NAME(const S *signed_, const long *order, long R, long n, int negative,              \
          const double *scale, double *q) {                                               \
  for (long r = 0; r < R; ++r) {                                                          \
    const long row = order[r];                                                            \
    const S *sr = signed_ + row * n;                                                      \
    const double sc = scale[row];                                                         \
    double *qr = q + r * n;                                                               \
    for (long j = 0; j < n; ++j) {                                                        \
      const double v = negative ? -(double)sr[j] : (double)sr[j];                         \
      qr[j] = (v < 0 ? 0.0 : v) / sc;                                                     \
    }                                                                                     \
  }                                                                                       \
}
PART_Q(netcoreset_part_probabilities_f32, float)
PART_Q(netcoreset_part_probabilities_f64, double)

/* draws_times_log: x[e] = log1mq[e] * m[p] for the edges e of every part p, the parts' edges
   consecutive, counts[p] of them (the budget solve's exponents: float32, and float64 for
   its exact value). */
#define DRAWS_TIMES_LOG(NAME, T)                                                           \
int NAME(const T *m, const long *counts, long parts, const T *log1mq, long E, T *x) {     \
  long e = 0;                                                                             \
  for (long p = 0; p < parts; ++p) { /* counts that do not add up to E: nothing written */\
    if (counts[p] < 0 || counts[p] > E - e) return 1;                                     \
    e += counts[p];                                                                       \
  }                                                                                       \
  if (e != E) return 1;                                                                   \
  e = 0;                                                                                  \
  for (long p = 0; p < parts; ++p) {                                                      \
    const T mp = m[p];                                                                    \
    const long stop = e + counts[p];                                                      \
    for (long k = e; k < stop; ++k) x[k] = log1mq[k] * mp;                                \
    e = stop;                                                                             \
  }                                                                                       \
  return 0;                                                                               \
}
DRAWS_TIMES_LOG(netcoreset_draws_times_log_f32, float)
DRAWS_TIMES_LOG(netcoreset_draws_times_log_f64, double)

/* compact_parts: the compact part table of a layer from its signed sensitivities (R x n):
   the positive values s / max(S+, tiny) of every row in column order, the rows one after
   the other, then the same for -s and S-: values (float64) and their parts (int32: row, or
   R + row); lengths gets the 2R counts. With values NULL it only counts (the caller then
   allocates one slot more than the count). The exact cast and negation and one division, as numpy's path. Returns the
   number of values. */
#define COMPACT(NAME, S)                                                                   \
long NAME(const S *sg, long R, long n, const double *total_pos, const double *total_neg,   \
          double tiny, double *values, int *parts, long *lengths) {                       \
  long k = 0;                                                                             \
  for (int negative = 0; negative < 2; ++negative) {                                      \
    const double *total = negative ? total_neg : total_pos;                               \
    for (long i = 0; i < R; ++i) {                                                        \
      const S *row = sg + i * n;                                                          \
      const double t = total[i], d = t > tiny ? t : (t == t ? tiny : t);                  \
      const long part = i + (negative ? R : 0), start = k;                                \
      if (!values) {                                                                      \
        long c = 0;                                                                       \
        for (long j = 0; j < n; ++j) c += negative ? row[j] < 0 : row[j] > 0;             \
        k += c;                                                                           \
      } else { /* branch-free: every value is written, the next one overwrites it unless \
                  it is kept (values and parts hold one more slot than the count) */      \
        double q[256]; /* the quotients of 256 columns at a time (a vectorised pass) */   \
        for (long j0 = 0; j0 < n; j0 += 256) {                                            \
          const long j1 = n - j0 < 256 ? n : j0 + 256;                                    \
          for (long j = j0; j < j1; ++j)                                                  \
            q[j - j0] = (negative ? -(double)row[j] : (double)row[j]) / d;                \
          for (long j = j0; j < j1; ++j) {                                                \
            values[k] = q[j - j0];                                                        \
            parts[k] = (int)part;                                                         \
            k += negative ? row[j] < 0 : row[j] > 0;                                      \
          }                                                                               \
        }                                                                                 \
      }                                                                                   \
      lengths[part] = k - start;                                                          \
    }                                                                                     \
  }                                                                                       \
  return k;                                                                               \
}
COMPACT(netcoreset_compact_parts_f32, float)
COMPACT(netcoreset_compact_parts_f64, double)

/* inflate_products: out = min(max((double)(m * w) * factor, 0), 1) elementwise: the
   sensitivities' product with the weights in the compute dtype, the exact cast, the rounding
   inflation and the clamp of the torch path (-0 and NaN stay), in one pass; out may be m
   (float64). */
#define INFLATE(NAME, T)                                                                   \
void NAME(const T *m, const T *w, long count, double factor, double *out) {               \
  for (long i = 0; i < count; ++i) {                                                      \
    const T p = m[i] * w[i];                                                              \
    const double v = (double)p * factor;                                                  \
    out[i] = v < 0 ? 0.0 : (v > 1 ? 1.0 : v);                                             \
  }                                                                                       \
}
INFLATE(netcoreset_inflate_products_f32, float)
INFLATE(netcoreset_inflate_products_f64, double)

/* categorical_block: one block of a part's categorical draws, straight from the signed
   sensitivities (rows x n): block row r is part row rows[r], whose probabilities are
   q = max(+-s, 0) / scale[rows[r]] (part_probabilities' operations, the same bits); the
   draws are those of torch.multinomial(q, k, replacement=True) for k >= 2, from the uniforms
   u (R x k, row-major: the generator's stream as torch.multinomial consumes it), of which
   row r uses the first m[r] (m[r] <= k): torch's operations (the row's sequential sum, each
   cumulative value divided by it, the last one set to 1, a binary search for the first
   cumulative value >= u), counted. Row r writes its distinct columns in ascending order and
   their counts at cols + start[r] and counts + start[r] (room for m[r]), and their number at
   len[r]. tally: n zeroed longs (left zeroed), cum: n doubles of scratch. Returns 0, or 1
   when a row is not a distribution (a negative or non-finite value, or a sum <= 0):
   torch.multinomial's errors, nothing written for that row and the later ones. */
#define CATEGORICAL(NAME, S)                                                               \
int NAME(const S *signed_, const long *rows, long R, long n, int negative,                \
         const double *scale, long k, const double *u, const long *m, const long *start,  \
         long *cols, double *counts, long *len, long *tally, double *cum) {               \
  for (long r = 0; r < R; ++r) {                                                          \
    const S *sr = signed_ + rows[r] * n;                                                  \
    const double sc = scale[rows[r]];                                                     \
    if (negative) /* q first (vectorised divisions), then the sequential sum */           \
      for (long j = 0; j < n; ++j) {                                                      \
        const double v = -(double)sr[j];                                                  \
        cum[j] = (v < 0 ? 0.0 : v) / sc;                                                  \
      }                                                                                   \
    else                                                                                  \
      for (long j = 0; j < n; ++j) {                                                      \
        const double v = (double)sr[j];                                                   \
        cum[j] = (v < 0 ? 0.0 : v) / sc;                                                  \
      }                                                                                   \
    double sum = 0.0;                                                                     \
    int bad = 0;                                                                          \
    for (long j = 0; j < n; ++j) {                                                        \
      bad |= !(cum[j] >= 0) | !isfinite(cum[j]);                                          \
      sum += cum[j];                                                                      \
      cum[j] = sum;                                                                       \
    }                                                                                     \
    if (bad || !(sum > 0)) return 1;                                                      \
    for (long j = 0; j < n; ++j) cum[j] /= sum;                                           \
    cum[n - 1] = 1.0;                                                                     \
    const double *ur = u + r * k;                                                         \
    long *cr = cols + start[r];                                                           \
    double *kr = counts + start[r];                                                       \
    long found = 0; /* the distinct columns, as they come */                              \
    for (long d = 0; d < m[r]; ++d) { /* the first cum >= x: cum is non-decreasing, so */ \
      const double x = ur[d];         /* any exact search finds torch's index */          \
      long lo = 0, len = n;                                                               \
      while (len > 1) {                                                                   \
        const long half = len / 2;                                                        \
        lo = cum[lo + half - 1] < x ? lo + half : lo;                                     \
        len -= half;                                                                      \
      }                                                                                   \
      if (tally[lo]++ == 0) cr[found++] = lo;                                             \
    }                                                                                     \
    long f = 0; /* the columns in order: a branch-free pass (room: found <= m[r]) */      \
    for (long j = 0; j < n && f < found; ++j) {                                           \
      cr[f] = j;                                                                          \
      f += tally[j] != 0;                                                                 \
    }                                                                                     \
    for (long i = 0; i < found; ++i) {                                                    \
      kr[i] = (double)tally[cr[i]];                                                       \
      tally[cr[i]] = 0;                                                                   \
    }                                                                                     \
    len[r] = found;                                                                       \
  }                                                                                       \
  return 0;                                                                               \
}
CATEGORICAL(netcoreset_categorical_block_f32, float)
CATEGORICAL(netcoreset_categorical_block_f64, double)

/* gather_segments: the rows' segments written by categorical_block, rows in ascending order
   (row p at start[p], len[p] values; len[p] = 0 for a row without draws), as flat positions
   p * n + column and counts; returns their number. */
long netcoreset_gather_segments(long rows, long n, const long *start, const long *len,
                                const long *cols, const double *counts, long *flat,
                                double *out) {
  long k = 0;
  for (long p = 0; p < rows; ++p) {
    const long s = start[p];
    for (long i = 0; i < len[p]; ++i) {
      flat[k] = p * n + cols[s + i];
      out[k] = counts[s + i];
      k += 1;
    }
  }
  return k;
}

/* reweight_drawn: one part's sampled weights at its drawn flat positions (row = flat / n):
   c w / (m q) by the operations of the torch path, in its order: q = max(+-s, 0) / scale[row]
   (float64), q m[row], the weight's magnitude max(+-w, 0) in the weights' dtype, c / (q m)
   times it in float64, rounded once to the weights' dtype, and for the negative part
   0 - value. */
#define REWEIGHT(NAME, S, W)                                                               \
void NAME(const S *signed_, const W *w, long n, const long *flat, const double *counts,    \
          long count, const double *scale, const double *m, int negative, W *out) {       \
  for (long i = 0; i < count; ++i) {                                                      \
    const long p = flat[i], row = p / n;                                                  \
    const double s = negative ? -(double)signed_[p] : (double)signed_[p];                 \
    const double q = (s < 0 ? 0.0 : s) / scale[row];                                      \
    const double qm = q * m[row];                                                         \
    const W wv = negative ? -w[p] : w[p];                                                 \
    const W magnitude = wv < 0 ? (W)0 : wv;                                               \
    const W value = (W)((counts[i] / qm) * (double)magnitude);                            \
    out[i] = negative ? (W)0 - value : value;                                             \
  }                                                                                       \
}
REWEIGHT(netcoreset_reweight_drawn_f32_f32, float, float)
REWEIGHT(netcoreset_reweight_drawn_f32_f64, float, double)
REWEIGHT(netcoreset_reweight_drawn_f64_f32, double, float)
REWEIGHT(netcoreset_reweight_drawn_f64_f64, double, double)
