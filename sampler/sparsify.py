r"""SPARSIFY (Baykal et al., 2019): i.i.d. importance sampling of edges, unbiased reweighting.

For one part with probabilities :math:`q` and :math:`m` draws, the count vector
:math:`c \sim \mathrm{Multinomial}(m, q)` gives

.. math::

    \hat w_j = \frac{c_j\, w_j}{m\, q_j}, \qquad \mathbb{E}[\hat w_j] = w_j .

Binomial draws (the building block of :func:`multinomial_counts`) come from ``binomial``:
inversion for small means, Hörmann's BTRS otherwise, with a rejection test whose error does
not grow with the count. :func:`torch.binomial` is not used: its BTRS rejection test subtracts
terms of size :math:`n` and loses about :math:`n\,2^{-53}` in absolute log-probability at
count :math:`n` (measured against 60-digit arithmetic: at most 1e-9 for :math:`n < 10^7`, 1e-2
near :math:`10^{13}`, 1.1 near :math:`10^{15}`), so its draws drift from the binomial law at
large counts (measured: the variance of :math:`\mathrm{Binomial}(10^{18}, 0.3)` draws comes
out 1.95 times too large).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch

from .native import (
    binomial_round_native,
    categorical_applies,
    categorical_block_native,
    gather_segments_native,
    part_probabilities_native,
    reweight_drawn_native,
)

__all__ = [
    "INTEGER_COUNT_LIMIT",
    "binomial",
    "CATEGORICAL_MAX_RATIO",
    "log_pmf_ratio",
    "multinomial_counts",
    "sparsify_part",
]

#: Largest count below which every whole number is a float64 (:math:`2^{53}`).
INTEGER_COUNT_LIMIT = 2.0**53

_SPLIT = 134217729.0  # 2**27 + 1 (Dekker's splitter for float64)
# log k! - [(k + 1/2) log(k + 1) - (k + 1) + log(2 pi) / 2] for k = 0..9 (as in torch, TF).
_STIRLING_TAIL = (
    0.0810614667953272,
    0.0413406959554092,
    0.0276779256849983,
    0.02079067210376509,
    0.0166446911898211,
    0.0138761288230707,
    0.0118967099458917,
    0.0104112652619720,
    0.00925546218271273,
    0.00833056343336287,
)


def _stirling_tail(k: torch.Tensor) -> torch.Tensor:
    r""":math:`\log k! - (k+\frac12)\log(k+1) + (k+1) - \frac12\log 2\pi` (table below 10,
    then the Stirling series to :math:`z^{-11}`, :math:`z = k + 1`: error below 7e-15)."""
    z = k + 1.0
    iz2 = 1.0 / (z * z)
    series = (
        1.0 / 12 - iz2 * (1.0 / 360 - iz2 * (1.0 / 1260 - iz2 * (1.0 / 1680 - iz2 / 1188)))
    ) / z
    small = k < 10
    if not bool(small.any()):
        return series
    table = torch.tensor(_STIRLING_TAIL, dtype=k.dtype, device=k.device)
    return torch.where(small, table[k.clamp(0, 9).long()], series)


def _log1p_minus_x(x: torch.Tensor) -> torch.Tensor:
    r""":math:`\log(1 + x) - x` without cancellation for small :math:`|x|`:
    with :math:`t = x/(2+x)`, it is :math:`-x t + 2\sum_{j\ge1} t^{2j+1}/(2j+1)`, summed
    until the next term is below :math:`10^{-18}` of the first."""
    small = x.abs() < 0.5
    xs = torch.where(small, x, 0.0)
    t = xs / (2.0 + xs)
    t2 = t * t
    big = float(t2.max()) if t2.numel() else 0.0  # |t| <= 1/3
    terms = 1
    while big ** (terms + 1) > 1e-36 and terms < 18:
        terms += 1
    acc = torch.full_like(t, 1.0 / (2 * terms + 1))
    for j in range(terms - 1, 0, -1):
        acc = acc * t2 + 1.0 / (2 * j + 1)
    series = -xs * t + 2.0 * t * t2 * acc
    return torch.where(small, series, torch.log1p(x) - x)


def _two_product(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(hi, lo)`` with ``hi + lo == a * b`` exactly (Dekker), for ``|a|, |b| < 2**900``."""
    hi = a * b
    ca, cb = _SPLIT * a, _SPLIT * b
    a_hi, b_hi = ca - (ca - a), cb - (cb - b)
    a_lo, b_lo = a - a_hi, b - b_hi
    lo = ((a_hi * b_hi - hi) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
    return hi, torch.where(torch.isfinite(lo), lo, 0.0)


def _mode(n: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    r""":math:`\lfloor (n+1)p \rfloor` without rounding error (for :math:`n < 2^{53}`): the
    rounded product can only be wrong when it lands on a whole number."""
    hi = (n + 1.0) * p
    m = torch.floor(hi)
    whole = (hi == m).nonzero().squeeze(1)
    if whole.numel():
        _, lo = _two_product(n[whole] + 1.0, p[whole])
        m[whole] = torch.where(lo < 0, m[whole] - 1.0, m[whole])
    return m


def log_pmf_ratio(n: torch.Tensor, p: torch.Tensor, k: torch.Tensor, m: torch.Tensor):
    r""":math:`\log f(k) - \log f(m)` for :math:`f = \mathrm{Binomial}(n, p)`'s probabilities,
    accurate to about 1e-14 in absolute value for :math:`n < 2^{53}`.

    With :math:`d = k - m`, Stirling's form of :math:`\log k!` and
    :math:`\varphi(x) = \log(1+x) - x`, the terms of size :math:`n` cancel exactly:

    .. math::

        \log\frac{f(k)}{f(m)} = -(m+\tfrac12)\varphi\Bigl(\frac{d}{m+1}\Bigr)
        - (n-m+\tfrac12)\varphi\Bigl(\frac{-d}{n-m+1}\Bigr) + \frac{d}{2(m+1)}
        - \frac{d}{2(n-m+1)} + d\log\Bigl(1 + \frac{p(n+2) - (k+1)}{(1-p)(k+1)}\Bigr)
        + r(m) - r(k) + r(n-m) - r(n-k),

    :math:`r` the Stirling remainder; :math:`p(n+2)` is formed exactly (Dekker's product).
    Every remaining term is of the size of the result, so its error stays near :math:`2^{-53}`
    times :math:`(k-m)^2/(np(1-p))`.

    >>> import torch
    >>> n, p = torch.tensor([1e12], dtype=torch.float64), torch.tensor([0.3], dtype=torch.float64)
    >>> m = torch.floor((n + 1) * p)
    >>> k = m + 1e6  # about 2.18 standard deviations: log ratio about -2.18**2 / 2
    >>> round(float(log_pmf_ratio(n, p, k, m)), 6)
    -2.380952
    """
    d = k - m
    np1 = n - m + 1.0
    hi, lo = _two_product(p, n + 2.0)
    num = (hi - (k + 1.0)) + lo
    return (
        -(m + 0.5) * _log1p_minus_x(d / (m + 1.0))
        - (np1 - 0.5) * _log1p_minus_x(-d / np1)
        + d / (2.0 * (m + 1.0))
        - d / (2.0 * np1)
        + d * torch.log1p(num / ((1.0 - p) * (k + 1.0)))
        + _stirling_tail(m)
        - _stirling_tail(k)
        + _stirling_tail(n - m)
        - _stirling_tail(n - k)
    )


def _btrs_accept(
    n: torch.Tensor, p: torch.Tensor, u: torch.Tensor, v: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """One BTRS proposal per entry (``p <= 1/2``, ``n p >= 10``): ``(k, accepted)``."""
    q = 1.0 - p
    spq = torch.sqrt(n * p * q)
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c = n * p + 0.5
    v_r = 0.92 - 4.2 / b
    u = u - 0.5
    us = 0.5 - u.abs()
    k = torch.floor_((2.0 * a / us + b).mul_(u).add_(c))
    valid = (k >= 0) & (k <= n)
    accept = valid & (us >= 0.07) & (v <= v_r)
    test = (valid & ~accept).nonzero().squeeze(1)  # outside the squeeze: the full test
    if test.numel():
        alpha = (2.83 + 5.1 / b[test]) * spq[test]
        ut, at, bt = us[test], a[test], b[test]
        log_v = torch.log(v[test] * alpha / (at / (ut * ut) + bt))
        mode = _mode(n[test], p[test])
        accept[test] = log_v <= log_pmf_ratio(n[test], p[test], k[test], mode)
    return k, accept


def _binomial_round(
    uv: torch.Tensor,
    pending: torch.Tensor,
    n_all: torch.Tensor,
    p_all: torch.Tensor,
    state: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
) -> torch.Tensor:
    """One vectorised round of ``binomial`` (the torch path of its C kernel): writes the
    finished draws to ``state[0]`` and returns the indices still pending."""
    out, gsum, num = state
    n, pr = n_all[pending], p_all[pending]
    flip = pr > 0.5
    p = torch.where(flip, 1.0 - pr, pr)
    trivial = (n <= 0) | (pr <= 0) | (pr >= 1)
    done = trivial.clone()
    k_all = torch.zeros_like(n)
    idx = (~trivial & (n * p < 10.0)).nonzero().squeeze(1)  # inversion: geometric gaps
    if idx.numel():
        geom = torch.ceil(torch.log(uv[0][idx]) / torch.log1p(-p[idx]))
        gs = gsum[pending[idx]] + geom
        gsum[pending[idx]] = gs
        stop = gs > n[idx]
        k_all[idx[stop]] = num[pending[idx[stop]]]
        num[pending[idx[~stop]]] += 1.0
        done[idx[stop]] = True
    idx = (~trivial & (n * p >= 10.0)).nonzero().squeeze(1)
    if idx.numel():
        k, accept = _btrs_accept(n[idx], p[idx], uv[0][idx], uv[1][idx])
        k_all[idx[accept]] = k[accept]
        done[idx[accept]] = True
    value = torch.where(flip, n - k_all, k_all)
    value = torch.where(trivial, torch.where((pr >= 1) & (n > 0), n, 0.0), value)
    out[pending[done]] = value[done]
    return pending[~done]


def binomial(
    count: torch.Tensor, prob: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    r"""Binomial draws, entrywise :math:`\mathrm{Binomial}(n, p)`, accurate for any count.

    For :math:`p > 1/2` the draw is :math:`n - \mathrm{Binomial}(n, 1-p)`; with
    :math:`p \le 1/2`, a mean :math:`np < 10` is sampled by inversion (the geometric gaps
    between successes, one uniform per step) and a larger one by Hörmann's BTRS
    (transformed rejection with squeeze, :cite:`hormann1993binomial`, the algorithm of
    :func:`torch.binomial`) with the rejection test of :func:`log_pmf_ratio`, whose error
    does not grow with the count, and the exact mode. :math:`n \le 0` or :math:`p \le 0`
    gives 0, :math:`p \ge 1` gives :math:`n`. The draws go in rounds, two uniforms per
    pending entry per round, taken from ``generator`` in order; each round runs in C
    (:mod:`netcoreset.sampler.native`) when the compiled kernels are available, else in
    torch: the same operations on the same uniforms, so the two give the same numbers except
    where a logarithm's last bit (glibc's against torch's) decides a test, an event of
    probability about 1e-15 per draw.

    Exactness: for counts below :data:`INTEGER_COUNT_LIMIT` (:math:`2^{53}`) the law of a draw
    is :math:`\mathrm{Binomial}(n, p)` up to the rounding of the rejection test (at most
    1.4e-14 in the log ratio, measured against 60-digit arithmetic: a total-variation
    distance of that order) and the 53-bit uniforms. Above :math:`2^{53}` the draws are
    float64 numbers on a grid coarser than 1 (spacing :math:`\mathrm{ulp}(np)`): the law is
    the binomial's rounded to that grid, accurate to about
    :math:`\mathrm{ulp}(np)/\sqrt{np(1-p)}` in distribution.

    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> binomial(torch.tensor([0.0, 5.0, 7.0]), torch.tensor([0.5, 1.0, 0.0]), g)
    tensor([0., 5., 0.])
    >>> x = binomial(torch.full((4000,), 1e18, dtype=torch.float64),
    ...              torch.full((4000,), 0.3, dtype=torch.float64), g)
    >>> z = (x - 3e17) / (1e18 * 0.3 * 0.7) ** 0.5
    >>> abs(float(z.mean())) < 0.1, abs(float(z.var()) - 1) < 0.1
    (True, True)
    """
    n = count.to(torch.float64).contiguous()
    p = prob.to(device=n.device, dtype=torch.float64).contiguous()
    if n.shape != p.shape:
        raise ValueError(f"shape mismatch: count is {tuple(n.shape)}, prob {tuple(p.shape)}")
    if n.numel() and not (bool(torch.isfinite(p.amax())) and bool(torch.isfinite(p.amin()))):
        raise ValueError("prob contains NaN or inf")
    out = torch.zeros_like(n)
    gaps = torch.zeros(n.numel(), dtype=torch.float64, device=n.device)
    state = (out.view(-1), gaps, torch.zeros_like(gaps))
    pending = torch.arange(n.numel(), device=n.device)
    n_flat, p_flat = n.view(-1), p.view(-1)
    while pending.numel():
        uv = torch.rand(
            2, pending.numel(), generator=generator, dtype=torch.float64, device=n.device
        )
        rest = binomial_round_native(uv, pending, n_flat, p_flat, state)
        if rest is None:
            rest = _binomial_round(uv, pending, n_flat, p_flat, state)
        pending = rest
    return out.to(count.dtype)


#: Rows with at most this many draws per column are sampled draw by draw
#: (:func:`torch.multinomial`); the others by binomial splitting.
CATEGORICAL_MAX_RATIO = 8

_BLOCK_ELEMENTS = 1 << 18  # rows x draws per call of torch.multinomial


def _categorical_counts(
    q: torch.Tensor, m: torch.Tensor, generator: torch.Generator | None
) -> torch.Tensor:
    """Counts of ``m[i]`` i.i.d. categorical draws from row ``i`` of ``q`` (all m >= 1)."""
    return _categorical_draws(q, m, generator)[0]


def _categorical_draws(
    q: torch.Tensor, m: torch.Tensor, generator: torch.Generator | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`_categorical_counts` and the flat positions (``row * n + column``) of every
    draw, repeats included.

    Rows are taken in order of ``m`` (stable), in blocks; a block draws as many samples per
    row as its largest ``m`` and keeps the first ``m[i]`` of row ``i`` (i.i.d. draws: any
    ``m[i]`` of them are a sample of size ``m[i]``)."""
    rows, n = q.shape
    counts = torch.zeros((rows, n), dtype=torch.float64, device=q.device)
    order = torch.argsort(m, stable=True)
    positions = []
    for idx, draws, used in _sorted_blocks(lambda a, b: q[order[a:b]], order, m, generator):
        # counts[idx[r], draws[r, k]] += used[r, k]: sums of ones, exact in any order
        flat = draws.add_(idx[:, None] * n).view(-1)
        counts.view(-1).index_add_(0, flat, used.view(-1).to(torch.float64))
        positions.append(flat[used.view(-1)])
    empty = torch.zeros(0, dtype=torch.long, device=q.device)
    return counts, torch.cat(positions) if positions else empty


def _sorted_blocks(
    rows_of: Callable[[int, int], torch.Tensor],
    order: torch.Tensor,
    m: torch.Tensor,
    generator: torch.Generator | None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """:func:`_categorical_draws`' blocks: rows taken in ``order`` (``m``'s stable argsort),
    ``rows_of(start, stop)`` the probabilities of ``order[start:stop]``; yields the rows'
    indices, the draws ``(rows, k_max)`` and which of them are used (the first ``m[i]``)."""
    for start, stop, k_max in _block_bounds([int(v) for v in m[order].tolist()]):
        idx = order[start:stop]
        draws = torch.multinomial(
            rows_of(start, stop), k_max, replacement=True, generator=generator
        )
        yield idx, draws, torch.arange(k_max, device=m.device)[None, :] < m[idx][:, None]


def _block_bounds(m_sorted: list[int]) -> list[tuple[int, int, int]]:
    """The blocks of :func:`_sorted_blocks` for the ascending draw counts ``m_sorted``:
    ``(start, stop, k_max)``, each block as many rows as keep ``rows * k_max`` within
    ``_BLOCK_ELEMENTS`` (at least one)."""
    rows, bounds, start = len(m_sorted), [], 0
    while start < rows:
        stop = start + 1
        while stop < rows and (stop - start + 1) * m_sorted[stop] <= _BLOCK_ELEMENTS:
            stop += 1
        bounds.append((start, stop, m_sorted[stop - 1]))
        start = stop
    return bounds


def categorical_only(m: torch.Tensor, columns: int) -> bool:
    """Whether :func:`sparsify_part` samples every row of ``m`` draws over ``columns``
    columns by categorical draws (rows without draws aside): :func:`signed_part_draws`
    applies."""
    return bool((m <= CATEGORICAL_MAX_RATIO * columns).all())


def signed_part_draws(
    signed: torch.Tensor,
    total: torch.Tensor,
    sign: float,
    m: torch.Tensor,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""One part's draws straight from a block of signed sensitivities (``sign`` picks the
    part): the distinct drawn flat positions (``row * n + column``, ascending), their counts
    and :math:`q` there (float64). Needs :func:`categorical_only`.

    The same draws as :func:`sparsify_part` on the part's probabilities
    :math:`q = \max(\pm s, 0)/\max(\mathcal{S}, \text{tiny})` (the same random stream and
    the same :math:`q` bits), with the probabilities of the rows that draw computed once, in
    the order of the draws (no dense copy of both parts, no dense counts); the caller checked
    ``m`` (whole numbers, :math:`m > 0` exactly where :math:`\mathcal{S} > 0`).
    """
    drawn, counts, scale, _ = _part_draws(signed, total, sign, m, generator)
    return drawn, counts, _drawn_probabilities(signed, drawn, sign, scale)


def signed_part_weights(
    signed: torch.Tensor,
    total: torch.Tensor,
    sign: float,
    m: torch.Tensor,
    weight: torch.Tensor,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""One part sampled and reweighted: :func:`signed_part_draws`' drawn flat positions and
    the sampled weights there, :math:`\pm c\,|w|/(m q)` in ``weight``'s dtype (``weight``:
    the block's ``(rows, n)`` weights, bias column included; the sign of the part), by the
    operations of :func:`sparsify_part` in its order: :math:`c/(q m)` in float64 times the
    magnitude :math:`\max(\pm w, 0)`, rounded once to the weights' dtype, and
    :math:`0 - {}` that value for the negative part. Needs :func:`categorical_only`.
    """
    drawn, counts, scale, md = _part_draws(signed, total, sign, m, generator)
    native = reweight_drawn_native(signed, weight, drawn, counts, scale, md, sign < 0)
    if native is not None:  # one pass, the same bits
        return drawn, native
    q_at = _drawn_probabilities(signed, drawn, sign, scale)
    row = torch.div(drawn, signed.shape[1], rounding_mode="floor")
    qm = q_at * md.index_select(0, row)
    w_at = weight.reshape(-1).index_select(0, drawn)
    magnitude = (w_at if sign > 0 else torch.neg(w_at)).clamp_(min=0)
    value = torch.div(counts, qm).mul_(magnitude).to(weight.dtype)
    return drawn, value if sign > 0 else torch.rsub(value, 0.0)


def _part_draws(
    signed: torch.Tensor,
    total: torch.Tensor,
    sign: float,
    m: torch.Tensor,
    generator: torch.Generator | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    r""":func:`signed_part_draws`' positions and counts, the rows' divisors
    :math:`\max(\mathcal{S}, \text{tiny})` and their draws :math:`m` (float64)."""
    n = signed.shape[1]
    md = m.to(device=signed.device, dtype=torch.float64)
    tiny = torch.finfo(torch.float64).tiny
    scale = total.to(torch.float64).clamp(min=tiny)
    drawing = torch.nonzero(md > 0).squeeze(1)  # sparsify_part: these rows, in this order
    if drawing.numel() == md.numel():
        drawing = torch.arange(md.numel(), device=md.device)
    order = drawing.index_select(0, torch.argsort(md.index_select(0, drawing), stable=True))
    m_order = md.index_select(0, order)
    if categorical_applies(signed, order, scale):  # the same draws, no dense probabilities
        drawn, counts = _compiled_part_draws(signed, order, sign < 0, scale, m_order, generator)
        return drawn, counts, scale, md
    q = part_probabilities_native(signed, order, sign < 0, scale)  # one pass, same bits
    if q is None:
        q = signed.index_select(0, order).to(torch.float64)  # (a copy: index_select)
        q = (q if sign > 0 else q.neg_()).clamp_(min=0.0)
        q = q.div_(scale.index_select(0, order)[:, None])
    local = torch.arange(order.numel(), device=md.device)
    flat = [
        draws.add_(order.index_select(0, idx)[:, None] * n).view(-1)[used.view(-1)]
        for idx, draws, used in _sorted_blocks(lambda a, b: q[a:b], local, m_order, generator)
    ]
    empty = torch.zeros(0, dtype=torch.long, device=md.device)
    drawn, counts = torch.unique(torch.cat(flat) if flat else empty, return_counts=True)
    return drawn, counts.to(torch.float64), scale, md


def _compiled_part_draws(
    signed: torch.Tensor,
    order: torch.Tensor,
    negative: bool,
    scale: torch.Tensor,
    m_order: torch.Tensor,
    generator: torch.Generator | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`_part_draws`' draws with the compiled kernel: the blocks of
    :func:`_sorted_blocks` and the same use of the random stream (a block of ``k >= 2``
    samples per row takes ``rows * k`` float64 uniforms, which :func:`torch.rand` draws as
    :func:`torch.multinomial` does; a block of one sample per row calls
    :func:`torch.multinomial`, whose one-sample path uses the stream otherwise), the draws
    of each row found and counted by :func:`~netcoreset.sampler.native.categorical_block_native`
    and gathered in ascending row order."""
    rows, n = signed.shape
    draws = m_order.to(torch.int64)
    per_row = torch.zeros(rows, dtype=torch.int64).index_copy_(0, order, draws)
    start = torch.cumsum(per_row, 0).sub_(per_row)  # part row p's room: per_row[p] slots
    total = int(per_row.sum())
    cols = torch.empty(total, dtype=torch.int64)
    counts = torch.empty(total, dtype=torch.float64)
    start_q, lens_q = start.index_select(0, order), torch.zeros_like(order)
    work = (torch.zeros(n, dtype=torch.int64), torch.empty(n, dtype=torch.float64))
    for a, b, k in _block_bounds([int(v) for v in draws.tolist()]):
        if k == 1:
            q = part_probabilities_native(signed, order[a:b], negative, scale)
            if q is None:  # (it applies where categorical_applies does)
                raise RuntimeError("the part's probabilities could not be computed")
            d = torch.multinomial(q, 1, replacement=True, generator=generator)
            cols.index_copy_(0, start_q[a:b], d.view(-1))
            counts.index_fill_(0, start_q[a:b], 1.0)
            lens_q[a:b] = 1
            continue
        u = torch.rand((b - a) * k, dtype=torch.float64, generator=generator)
        out = (cols, counts, lens_q[a:])
        categorical_block_native(
            signed, order[a:b], negative, scale, u, draws[a:b], start_q[a:b], out, work
        )
    lens = torch.zeros(rows, dtype=torch.int64).index_copy_(0, order, lens_q)
    return gather_segments_native(n, start, lens, cols, counts)


def _drawn_probabilities(
    signed: torch.Tensor, drawn: torch.Tensor, sign: float, scale: torch.Tensor
) -> torch.Tensor:
    """:math:`q` (float64) at the flat positions ``drawn`` of one part (``sign``), with the
    operations of :func:`signed_part_draws`' probabilities (the same bits)."""
    row = torch.div(drawn, signed.shape[1], rounding_mode="floor")
    at = signed.reshape(-1).index_select(0, drawn).to(torch.float64)
    return (at if sign > 0 else at.neg_()).clamp_(min=0.0).div_(scale.index_select(0, row))


def _split_counts(
    q: torch.Tensor, m: torch.Tensor, generator: torch.Generator | None
) -> torch.Tensor:
    """Binary splitting over a tree of the columns: one binomial per node (any ``m``)."""
    rows, n = q.shape
    width = 1 << max(0, n - 1).bit_length()
    if width > n:
        q = torch.cat([q, q.new_zeros((rows, width - n))], dim=1)
    levels = [q]  # sums of q over the nodes of each level, leaves first
    while levels[-1].shape[1] > 1:
        levels.append(levels[-1][:, 0::2] + levels[-1][:, 1::2])
    counts = m[:, None]
    for k in range(len(levels) - 2, -1, -1):
        node, left_q = levels[k + 1], levels[k][:, 0::2]
        # left_q <= node (rounding is monotone), so 0 <= p_left <= 1; 0/0 is not selected
        p_left = torch.where(node > 0, left_q / node, 0.0)
        left = binomial(counts, p_left, generator)
        nxt = counts.new_empty((rows, 2 * counts.shape[1]))
        nxt[:, 0::2] = left
        torch.sub(counts, left, out=nxt[:, 1::2])
        counts = nxt
    return counts[:, :n]


def multinomial_counts(
    q: torch.Tensor, m: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    r"""Multinomial count vectors for every row at once: row ``i`` gets
    :math:`c_i \sim \mathrm{Multinomial}(m_i, q_i)`.

    Two exact samplers, chosen per row by :math:`m_i` against the number of columns
    :math:`n`:

    - :math:`m_i \le` ``CATEGORICAL_MAX_RATIO`` :math:`\cdot n`: :math:`m_i` i.i.d.
      categorical draws (:func:`torch.multinomial` with replacement on the float64
      probabilities: inverse CDF with 53-bit uniforms), counted; work
      :math:`O(n + m_i\log n)`;
    - larger :math:`m_i`: binary splitting over a tree of the columns, where the count of a
      node splits into its children by

      .. math::

          c_{\text{left}} \sim \mathrm{Binomial}(c_{\text{node}},\ Q_{\text{left}}/Q_{\text{node}}),

      :math:`\lceil\log_2 n\rceil` vectorised binomial draws (``binomial``) with memory
      independent of :math:`m` (the theorem's :math:`m` can exceed :math:`10^{18}`).

    Accuracy: for :math:`m \le 2^{53}` every count is a whole number, each row sums to
    :math:`m` exactly, and the law is the multinomial's up to floating point: the float64
    cumulative sums (relative rounding :math:`2^{-53}` per step) and 53-bit uniforms of the
    categorical sampler, and the binomial draws' accuracy (``binomial``: total variation
    of order 1e-14 per draw). For :math:`m > 2^{53}`, counts above :math:`2^{53}` are
    float64 numbers, not exact integers: each split is the binomial rounded to the float64
    grid (relative spacing :math:`2^{-52}`) and a row sums to :math:`m` only up to that
    rounding. The random stream differs from earlier development versions (binary splitting
    with :func:`torch.binomial` for every row), so their results for a given seed differ
    from these; the law is the same (``docs/guide/performance.rst``).

    Parameters
    ----------
    q : torch.Tensor
        ``(rows, n)`` non-negative; each row sums to 1, or is all zero (then ``m`` must be 0).
    m : torch.Tensor
        ``(rows,)`` whole numbers of draws.
    generator : torch.Generator, optional

    Returns
    -------
    torch.Tensor
        ``(rows, n)`` float64 counts on ``q``'s device; each row sums to ``m`` (exactly for
        :math:`m \le 2^{53}`).

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> c = multinomial_counts(torch.tensor([[0.5, 0.5, 0.0]]), torch.tensor([10]), g)
    >>> c.sum().item(), c[0, 2].item()
    (10.0, 0.0)
    """
    return _multinomial(q, m, generator)[0]


def _multinomial(
    q: torch.Tensor, m: torch.Tensor, generator: torch.Generator | None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """:func:`multinomial_counts` and, when every row was sampled by categorical draws (the
    usual case), the flat positions of the draws (else None)."""
    if q.ndim != 2 or m.ndim != 1 or m.shape[0] != q.shape[0]:
        raise ValueError(f"shape mismatch: q is {tuple(q.shape)}, m is {tuple(m.shape)}")
    rows, n = q.shape
    qd = q.to(torch.float64)
    md = m.to(device=q.device, dtype=torch.float64)
    if qd.numel() and not (bool(qd.amin() >= 0) and bool(torch.isfinite(qd.amax()))):
        raise ValueError("q must be finite and non-negative")
    if md.numel() and not (bool(md.amin() >= 0) and bool(torch.isfinite(md.amax()))):
        raise ValueError("m must be finite and non-negative")
    if not torch.equal(md, md.floor()):
        raise ValueError("m must hold whole numbers of draws")
    has_mass = qd.sum(dim=1) > 0 if n else torch.zeros(rows, dtype=torch.bool, device=q.device)
    if bool(((md > 0) & ~has_mass).any()):
        raise ValueError("a row with draws (m > 0) has no probability mass (q all zero)")
    draw = md > 0
    few = draw & (md <= CATEGORICAL_MAX_RATIO * n)
    many = draw & ~few
    if rows and bool(few.all()):  # the usual case: every row by categorical draws, in place
        return _categorical_draws(qd, md, generator)
    counts = torch.zeros((rows, n), dtype=torch.float64, device=q.device)
    if bool(few.any()):
        idx = few.nonzero().squeeze(1)
        counts[idx] = _categorical_counts(qd[idx], md[idx], generator)
    if bool(many.any()):
        idx = many.nonzero().squeeze(1)
        counts[idx] = _split_counts(qd[idx], md[idx], generator)
    return counts, None


def sparsify_part(
    magnitude: torch.Tensor,
    q: torch.Tensor,
    m: torch.Tensor,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Sample and reweight one part of every row: :math:`\hat w_j = c_j w_j / (m q_j)`.

    Parameters
    ----------
    magnitude : torch.Tensor
        ``(rows, n)`` the part's weights as non-negative magnitudes (:math:`w` on
        :math:`\mathcal{W}_+` or :math:`-w` on :math:`\mathcal{W}_-`, zero elsewhere).
    q : torch.Tensor
        ``(rows, n)`` sampling probabilities (rows sum to 1, or are zero with ``m = 0``).
    m : torch.Tensor
        ``(rows,)`` draws per row.

    Returns
    -------
    torch.Tensor
        ``(rows, n)`` reweighted magnitudes in ``magnitude``'s dtype; zero where not drawn.

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> w = torch.tensor([[2.0, 0.0, 1.0]])
    >>> q = torch.tensor([[0.5, 0.0, 0.5]])
    >>> sparsify_part(w, q, torch.tensor([4]), g)  # c = (1, 0, 3): w_hat = c w / (4 q)
    tensor([[1.0000, 0.0000, 1.5000]])
    """
    counts, drawn = _multinomial(q, m, generator)
    md = m.to(device=q.device, dtype=torch.float64)[:, None]
    qd = q.to(torch.float64)
    if drawn is not None:  # the same values, computed at the drawn positions only
        return _reweight_drawn(counts, drawn, qd, md, magnitude)
    # scale = c / (m q) where c > 0, else 0; in place in one float64 buffer
    scale = torch.where(qd > 0, qd, 1.0).mul_(md)
    scale = torch.div(counts, scale, out=scale).masked_fill_(counts <= 0, 0.0)
    del counts
    return scale.mul_(magnitude).to(magnitude.dtype)  # w c / (m q), rounded once


def _reweight_drawn(
    counts: torch.Tensor,
    drawn: torch.Tensor,
    q: torch.Tensor,
    m: torch.Tensor,
    magnitude: torch.Tensor,
) -> torch.Tensor:
    """:func:`sparsify_part`'s ``c w / (m q)`` at the flat positions ``drawn`` (repeats write
    the same value), zero elsewhere: the operations of its dense path in the same order
    (``(c / (q m)) w``, then one rounding to the magnitudes' dtype), so the same bits, with
    work proportional to the draws instead of the layer."""
    n = q.shape[1]
    rows = torch.div(drawn, n, rounding_mode="floor")
    scale = q.reshape(-1)[drawn] * m.reshape(-1)[rows]
    values = torch.div(counts.reshape(-1)[drawn], scale).mul_(magnitude.reshape(-1)[drawn])
    out = torch.zeros(magnitude.shape, dtype=magnitude.dtype, device=magnitude.device)
    out.view(-1)[drawn] = values.to(magnitude.dtype)
    return out
