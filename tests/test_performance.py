"""The fast paths give the results of the slow ones: the (max, x) kernels bit for bit, the
budget solve within its documented tolerance of a bisection, and multinomial sampling with the
right law at any count (including the huge counts where torch.binomial drifts).

Statistical assertions state their false-failure rate (<= 1e-6 per test) next to them.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from netcoreset.bounds import layer_eps
from netcoreset.bounds.sample_size import _draws_for_eps
from netcoreset.sampler import empirical_sensitivity, max_times_product_reference
from netcoreset.sampler.allocation import (
    PartTable,
    _network_draws_at,
    draws_for_network_eps,
    solve_budget,
)
from netcoreset.sampler.native import native_available
from netcoreset.sampler.sensitivity import max_times_product, max_times_upper_bound
from netcoreset.sampler.sparsify import (
    CATEGORICAL_MAX_RATIO,
    binomial,
    log_pmf_ratio,
    multinomial_counts,
)
from netcoreset.verification.networks import build_relu_network, make_inputs

from _stats import FALSE_FAILURE_RATE, binomial_acceptance

# ---------------------------------------------------------------------------------------------
# 1. (max, x) kernels: bit-identical to the reference
# ---------------------------------------------------------------------------------------------

_BITS = {torch.float32: torch.int32, torch.float64: torch.int64}


def _operands(rows, points, cols, dtype, seed, zeros, spread):
    g = torch.Generator().manual_seed(seed)
    u = torch.rand(rows, points, generator=g, dtype=dtype)
    a = torch.rand(points, cols, generator=g, dtype=dtype)
    # wide exponents (products down to the subnormal range) and exact zeros
    u = u * torch.exp2(torch.randint(-spread, spread + 1, u.shape, generator=g)).to(dtype)
    a = a * torch.exp2(torch.randint(-spread, spread + 1, a.shape, generator=g)).to(dtype)
    u = torch.where(torch.rand(u.shape, generator=g) < zeros, 0.0, u).to(dtype)
    a = torch.where(torch.rand(a.shape, generator=g) < zeros, 0.0, a).to(dtype)
    return u, a


@given(
    rows=st.integers(0, 13),
    points=st.integers(0, 9),
    cols=st.integers(0, 140),
    dtype=st.sampled_from([torch.float32, torch.float64]),
    seed=st.integers(0, 2**31),
    zeros=st.floats(0.0, 0.9),
    spread=st.sampled_from([0, 8, 60]),
    transposed=st.booleans(),
)
def test_every_kernel_is_bit_identical_to_the_reference(
    rows, points, cols, dtype, seed, zeros, spread, transposed
):
    u, a = _operands(rows, points, cols, dtype, seed, zeros, spread)
    if transposed:  # non-contiguous inputs
        u = u.T.contiguous().T
        a = a.T.contiguous().T
    ref = max_times_product_reference(u, a)
    runs = [("auto", 1), ("torch", 1), ("torch", 3)]
    if native_available():
        runs.append(("native", 1))
    for kernel, chunk in runs:
        out = max_times_product(u, a, chunk, kernel)
        assert out.dtype == ref.dtype and out.shape == ref.shape
        assert torch.equal(out.view(_BITS[dtype]), ref.view(_BITS[dtype])), (kernel, chunk)


def test_kernels_agree_on_a_layer_sized_problem():
    u, a = _operands(300, 40, 785, torch.float32, 7, 0.5, 8)
    ref = max_times_product_reference(u, a)
    assert torch.equal(max_times_product(u, a), ref)
    assert torch.equal(max_times_product(u, a, kernel="torch"), ref)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_kernels_agree_when_the_points_come_in_several_chunks(dtype):
    # The compiled kernel takes the points (the inner dimension) 256 at a time: 600 of them
    # are three chunks, the last one partial, over full and partial column blocks.
    u, a = _operands(13, 600, 70, dtype, 11, 0.3, 8)
    ref = max_times_product_reference(u, a)
    for kernel in ("auto", "torch") + (("native",) if native_available() else ()):
        out = max_times_product(u, a, kernel=kernel)
        assert torch.equal(out.view(_BITS[dtype]), ref.view(_BITS[dtype])), kernel


def test_native_kernel_is_skipped_for_non_finite_inputs():
    u = torch.tensor([[math.inf, 1.0]])
    a = torch.tensor([[0.0], [2.0]])
    ref = max_times_product_reference(u, a)  # inf * 0 = nan, which max propagates
    assert torch.isnan(max_times_product(u, a)).all() and torch.isnan(ref).all()
    with pytest.raises(ValueError, match="native kernel does not apply"):
        max_times_product(u, a, kernel="native")


@given(
    rows=st.integers(1, 9),
    points=st.integers(1, 30),
    cols=st.integers(1, 40),
    dtype=st.sampled_from([torch.float32, torch.float64]),
    seed=st.integers(0, 2**31),
    power=st.sampled_from([1, 4, 16, 64]),
    spread=st.sampled_from([0, 8, 60]),
)
def test_upper_bound_bounds_the_maximum(rows, points, cols, dtype, seed, power, spread):
    u, a = _operands(rows, points, cols, dtype, seed, 0.3, spread)
    exact = max_times_product_reference(u, a)
    bound = max_times_upper_bound(u, a, power)
    assert bound.dtype == dtype
    assert bool((bound >= exact).all())
    assert bool((bound[exact == 0] == 0).all())
    # at most |S|^(1/p) larger, up to the rounding slack (relative 1e-12) and the underflow
    # floor (2 * tiny)^(1/p) times the row and column maxima
    r = u.double().amax(dim=1)[:, None]
    c = a.double().amax(dim=0)[None, :]
    floor = (2 * torch.finfo(torch.float64).tiny) ** (1 / power) * r * c
    limit = torch.maximum(exact.double() * points ** (1 / power), floor) * (1 + 1e-6)
    limit = limit + 4 * torch.finfo(dtype).eps * exact.double()
    assert bool((bound.double() <= limit).all())


def test_upper_bound_sensitivities_dominate_the_exact_ones():
    net = build_relu_network((30, 20, 5), seed=2)
    x = make_inputs(50, 30, seed=3)
    lin = net[0]
    exact = empirical_sensitivity(lin.weight, lin.bias, x)
    upper = empirical_sensitivity(lin.weight, lin.bias, x, upper_bound_power=16)
    assert bool((upper.positive >= exact.positive).all())
    assert bool((upper.negative >= exact.negative).all())
    assert bool((upper.total_positive <= exact.total_positive * 50 ** (1 / 16) * 1.0001).all())


# ---------------------------------------------------------------------------------------------
# 2. Budget solve: within its tolerance of the bisection it replaced
# ---------------------------------------------------------------------------------------------


def _tables(widths, seed):
    net = build_relu_network(widths, seed=seed)
    x = make_inputs(120, widths[0], seed=seed + 1)
    tables, a = [], x
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    for idx, lin in enumerate(linears):
        tables.append(PartTable.from_sensitivity(empirical_sensitivity(lin.weight, lin.bias, a)))
        a = lin(a)
        if idx < len(linears) - 1:
            a = torch.relu(a)
    eta = sum(widths[1:])
    return tables, eta, sum(lin.weight.numel() + lin.bias.numel() for lin in linears)


def _bisection(tables, budget, args, rtol=1e-4):
    """The solve this replaced: bisection on log eps with float64 sums."""

    def expected(t):
        draws = draws_for_network_eps(tables, math.exp(t), *args)
        return sum(tb.expected_kept_reference(m) for tb, m in zip(tables, draws, strict=True))

    lo, hi = -60.0, 60.0
    best = (math.inf, 0.0, 0.0)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        e = expected(mid)
        best = min(best, (abs(e - budget), mid, e))
        if abs(e - budget) <= rtol * budget:
            break
        lo, hi = (mid, hi) if e > budget else (lo, mid)
    return math.exp(best[1]), best[2]


@pytest.mark.parametrize(
    ("widths", "keep", "tight"),
    [((100, 80, 60, 10), 0.1, False), ((100, 80, 60, 10), 0.5, True), ((64, 150, 10), 0.1, False)],
)
def test_budget_solve_agrees_with_the_bisection(widths, keep, tight):
    tables, eta, n = _tables(widths, seed=4)
    assert n >= 10_000  # where the documented tolerance is promised
    args = (np.ones(len(tables)), 0.1, eta, 1.0, tight, [1.0] * len(tables))
    budget = keep * n
    eps, draws, expected, capped = solve_budget(tables, budget, *args)
    assert not capped
    reference = sum(tb.expected_kept_reference(m) for tb, m in zip(tables, draws, strict=True))
    assert abs(expected - reference) <= 1e-9 * reference
    eps_old, expected_old = _bisection(tables, budget, args)
    # documented: |E - budget| <= (rtol + 1e-6) budget (E in float64), unless the rounding
    # of the draws makes E jump over the budget; never farther than the bisection got.
    achievable = abs(expected_old - budget) <= 1e-4 * budget
    tolerance = (1e-4 + 1e-6) * budget if achievable else abs(expected_old - budget) + 1e-9
    assert abs(expected - budget) <= tolerance
    assert abs(math.log(eps / eps_old)) <= 1e-3
    assert abs(expected - budget) <= 0.01 * budget  # the 1% promised for >= 1e4 weights


def test_fast_expected_count_is_within_its_error_bound():
    tables, _, _ = _tables((100, 80, 60, 10), seed=6)
    for scale in (1.0, 30.0, 1e4):
        for tb in tables:
            m = np.ceil(scale * tb.totals)
            fast, _ = tb.expected_kept_fast(m)
            exact = tb.expected_kept(m)
            n_edges = tb.values.numel()
            assert abs(fast - exact) <= 5e-7 * exact + 1e-7 * n_edges


def test_expected_count_without_the_slope_is_the_same_count(monkeypatch):
    # the count of a pass that skips the derivative has the bits of the full pass, on compact
    # tables and on tables evaluated from the sensitivities
    for limit in (1 << 22, 0):
        monkeypatch.setattr("netcoreset.sampler.allocation.COMPACT_LIMIT", limit)
        tables, _, _ = _tables((100, 80, 60, 10), seed=6)
        for tb in tables:
            m = np.ceil(30.0 * tb.totals)
            value, slope = tb.expected_kept_fast(m)
            alone, missing = tb.expected_kept_fast(m, slope=False)
            assert alone == value and math.isnan(missing) and slope < 0


def test_budget_solve_asks_for_the_slope_only_for_newton_steps(monkeypatch):
    # the first step is Newton's (it needs E'), the later ones are secant steps (they do not):
    # a solve of several steps asks for E' once per layer
    tables, eta, n = _tables((100, 80, 60, 10), seed=4)
    args = (np.ones(len(tables)), 0.1, eta, 1.0, False, [1.0] * len(tables))
    asked: list[bool] = []
    original = PartTable.expected_kept_fast

    def counting(self, m, slope=True):
        asked.append(slope)
        return original(self, m, slope=slope)

    monkeypatch.setattr(PartTable, "expected_kept_fast", counting)
    solve_budget(tables, 0.1 * n, *args)
    assert len(asked) >= 3 * len(tables)  # several steps
    assert sum(asked) == len(tables)


@given(
    totals=st.lists(st.floats(0.0, 1e6), min_size=1, max_size=8),
    eps=st.floats(1e-6, 1e6),
    delta=st.floats(1e-9, 0.99),
    eta=st.integers(1, 10**6),
    K=st.floats(0.5, 1e4),
    tight=st.booleans(),
    factor=st.floats(0.1, 10.0),
)
def test_draws_at_eps_are_the_checked_draws_bit_for_bit(totals, eps, delta, eta, K, tight, factor):
    # the budget solve's draws (arguments checked once) are draws_for_network_eps's
    table = PartTable(totals=np.array(totals), q=np.zeros((len(totals), 0)))
    products = np.array([2.5])
    args = (products, delta, eta, K, tight, [factor])
    at = _network_draws_at([table], *args)
    np.testing.assert_array_equal(at(eps)[0], draws_for_network_eps([table], eps, *args)[0])
    real = _draws_for_eps(
        np.array(totals), float(layer_eps(eps, products, allocation=True)[0]), delta, eta, K, tight
    )
    np.testing.assert_array_equal(at(eps)[0], np.ceil(np.minimum(real * factor, 1e300)))


# ---------------------------------------------------------------------------------------------
# 3. Multinomial sampling at any count
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "p"), [(30, 0.1), (30, 0.95), (1000, 0.3), (2**40, 0.7)])
def test_binomial_has_the_binomial_law(n, p):
    # Chi-square goodness of fit of 40,000 draws (inversion for n min(p, 1-p) < 10, BTRS
    # otherwise; p > 1/2 by symmetry), values grouped into cells of expected count >= 20 by
    # the exact quantiles; rejecting at the chi2 quantile 1 - 1e-6 gives rate 1e-6 (the chi2
    # approximation with >= 20 expected per cell is accurate to well within that).
    draws = 40_000
    g = torch.Generator().manual_seed(int(n) % 1000 + int(100 * p))
    x = binomial(
        torch.full((draws,), float(n), dtype=torch.float64),
        torch.full((draws,), p, dtype=torch.float64),
        g,
    ).numpy()
    assert np.all(x == np.round(x)) and x.min() >= 0 and x.max() <= n
    law = stats.binom(n, p)
    edges = list(np.unique(law.ppf(np.linspace(0, 1, 41)[1:-1])))  # right edges of cells
    while True:  # merge the last cells until every cell expects >= 20 draws
        cdf = np.concatenate([[0.0], law.cdf(edges), [1.0]])
        expected = draws * np.diff(cdf)
        if expected.min() >= 20 or len(edges) == 1:
            break
        edges.pop(int(np.argmin(expected[1:])) if expected[0] >= 20 else 0)
    observed = np.bincount(np.searchsorted(edges, x, side="left"), minlength=expected.size)
    chi2 = float(np.sum((observed - expected) ** 2 / expected))
    assert expected.min() >= 20 and expected.size >= 4
    assert chi2 <= stats.chi2.isf(FALSE_FAILURE_RATE, expected.size - 1), chi2


@pytest.mark.parametrize("n", [1e6, 1e12, 4e15])
def test_log_pmf_ratio_is_accurate(n):
    mpmath.mp.dps = 50
    for p, z in ((0.3, 2.5), (0.02, -1.7), (0.5, 4.0)):
        mode = math.floor((n + 1) * p)
        k = mode + round(z * math.sqrt(n * p * (1 - p)))

        def log_pmf(x, n=n, p=p):
            n_, p_, x_ = mpmath.mpf(n), mpmath.mpf(p), mpmath.mpf(x)
            return (
                mpmath.loggamma(n_ + 1)
                - mpmath.loggamma(x_ + 1)
                - mpmath.loggamma(n_ - x_ + 1)
                + x_ * mpmath.log(p_)
                + (n_ - x_) * mpmath.log(1 - p_)
            )

        exact = float(log_pmf(k) - log_pmf(mode))
        t = [torch.tensor([v], dtype=torch.float64) for v in (n, p, k, mode)]
        assert abs(float(log_pmf_ratio(*t)) - exact) <= 1e-12


@pytest.mark.parametrize("n", [1e17, 1e18])
def test_huge_counts_have_the_binomial_variance(n):
    # Column 0 of Multinomial(n, (0.3, 0.7)) is Binomial(n, 0.3). torch.binomial's rejection
    # test loses about n 2^-53 in log-probability: its draws had variance 1.06x (1e17) and
    # 1.95x (1e18) the binomial's, which this test detects (the sampler's old docstring
    # claimed exactness). With R = 60,000 rows, z = (c - np)/sqrt(npq) has mean 0 and
    # variance 1 up to the binomial's negligible skewness (1e-9): s^2 ~ chi2(R-1) and
    # sqrt(R) mean ~ N(0, 1); each of the 4 tails at rate/4 gives rate <= 1e-6 in total.
    rows, p = 60_000, 0.3
    q = torch.tensor([[p, 1 - p]], dtype=torch.float64).expand(rows, -1).contiguous()
    assert n > CATEGORICAL_MAX_RATIO * 2  # the binomial-splitting path
    m = torch.full((rows,), n, dtype=torch.float64)
    counts = multinomial_counts(q, m, torch.Generator().manual_seed(5))
    z = (counts[:, 0] - n * p) / math.sqrt(n * p * (1 - p))
    tail = FALSE_FAILURE_RATE / 4
    var_lo = stats.chi2.ppf(tail, rows - 1) / (rows - 1)
    var_hi = stats.chi2.isf(tail, rows - 1) / (rows - 1)
    assert var_lo <= float(z.var()) <= var_hi, float(z.var())
    assert abs(float(z.mean())) * math.sqrt(rows) <= stats.norm.isf(tail)
    # both columns add up to n up to float64 rounding
    assert torch.allclose(counts.sum(dim=1), torch.full((rows,), n, dtype=torch.float64))


def test_splitting_path_has_the_right_law():
    # As test_multinomial_counts_have_the_right_law, with m above the categorical limit.
    q = torch.tensor([0.5, 0.2, 0.15, 0.1, 0.05, 0.0], dtype=torch.float64)
    n_rep, m = 500, 1000
    assert m > CATEGORICAL_MAX_RATIO * len(q)
    counts = multinomial_counts(
        q.expand(n_rep, -1).contiguous(), torch.full((n_rep,), m), torch.Generator().manual_seed(2)
    )
    assert torch.all(counts.sum(dim=1) == m) and torch.all(counts[:, -1] == 0)
    per = FALSE_FAILURE_RATE / (len(q) - 1)
    for j in range(len(q) - 1):
        lo, hi = binomial_acceptance(n_rep * m, float(q[j]), per)
        assert lo <= counts[:, j].sum().item() <= hi


def test_counts_are_exact_integers_up_to_2_pow_53():
    g = torch.Generator().manual_seed(9)
    q = torch.rand(40, 33, generator=g, dtype=torch.float64)
    q /= q.sum(dim=1, keepdim=True)
    m = torch.tensor([2.0**53] * 10 + [2.0**40] * 10 + [1e6] * 10 + [17.0] * 10)
    c = multinomial_counts(q, m, g)
    assert torch.equal(c, c.round()) and torch.equal(c.sum(dim=1), m)


def test_binomial_c_kernel_matches_its_torch_path(monkeypatch):
    # Same uniforms, same operations: identical draws (a last-bit difference between glibc's
    # and torch's logarithm could flip a test, an event of probability ~1e-15 per draw).
    import netcoreset.sampler.sparsify as sparsify

    g = torch.Generator().manual_seed(4)
    n = torch.full((3000,), 1e15, dtype=torch.float64)
    n[::3], n[1::5], n[2::7], n[3::11] = 3e7, 3e20, 40.0, 0.0
    p = torch.rand(3000, generator=g, dtype=torch.float64) * 0.98 + 0.01
    p[5::13], p[6::17] = 0.0, 1.0
    first = sparsify.binomial(n, p, torch.Generator().manual_seed(1))
    monkeypatch.setattr(sparsify, "binomial_round_native", lambda *args: None)
    second = sparsify.binomial(n, p, torch.Generator().manual_seed(1))
    assert torch.equal(first, second)
    assert bool((first[n == 0] == 0).all()) and bool((first[(p == 1) & (n > 0)] > 0).all())


def test_row_blocked_sensitivities_are_those_of_the_dense_computation(monkeypatch):
    # Several row blocks (the block size made small): one dense pass of w_part = max(+-[W, b],
    # 0), the reference (max, x) product and the clamp, up to the GEMMs' summation order (z
    # is computed per block, so its last bits may differ from one dense GEMM).
    import netcoreset.sampler.sensitivity as sensitivity

    monkeypatch.setattr(sensitivity, "ROW_BLOCK_ELEMENTS", 64)
    g = torch.Generator().manual_seed(12)
    w, b = torch.randn(37, 20, generator=g), torch.randn(37, generator=g)
    x = torch.randn(25, 20, generator=g).clamp(min=0)
    # a float64 layer (a float32 one is computed in float32 and rounded up: compared with
    # float64 in test_sampler_reference.py)
    w, b, x = w.double(), b.double(), x.double()
    sens = empirical_sensitivity(w, b, x)
    points = torch.cat([x, torch.ones(25, 1)], dim=1).double()
    w_full = torch.cat([w, b[:, None]], dim=1).double()
    for part, mine, total in (
        (w_full.clamp(min=0), sens.positive, sens.total_positive),
        ((-w_full).clamp(min=0), sens.negative, sens.total_negative),
    ):
        z = points @ part.T
        inv = torch.where(z > 0, 1.0 / z, torch.zeros_like(z)).T.contiguous()
        ref = (part * max_times_product_reference(inv, points)).clamp_(0.0, 1.0)
        assert torch.equal(mine > 0, ref > 0)
        torch.testing.assert_close(mine, ref, rtol=1e-12, atol=0.0)
        assert torch.equal(total, mine.sum(dim=1))


def test_row_blocked_held_out_checks_are_those_of_the_dense_computation(monkeypatch):
    # Several row blocks (the block size made small) for the float64 cancellation of S and
    # the held-out checks: equal to one dense float64 pass up to the GEMMs' summation order
    # (a few ulps), with the same infinities (inputs that use an edge unseen on S).
    import netcoreset.sampler.sensitivity as sensitivity
    from netcoreset.sampler.certificate import cancellation_exceedances, coverage_ratios
    from netcoreset.sampler.sensitivity import relative_cancellation

    monkeypatch.setattr(sensitivity, "ROW_BLOCK_ELEMENTS", 64)
    g = torch.Generator().manual_seed(5)
    w, b = torch.randn(37, 20, generator=g), torch.randn(37, generator=g)
    x_s = torch.rand(25, 20, generator=g)
    x_s[:, 3] = 0.0  # feature 3 unseen on S: held-out inputs that use it have Lambda = inf
    x_v = torch.rand(30, 20, generator=g)
    x_v[::2, 3] = 0.0
    points, w_full = torch.cat([x_s, torch.ones(25, 1)], 1).double(), torch.cat([w, b[:, None]], 1)
    z = points @ w_full.double().T
    ratio = (points.abs() @ w_full.double().abs().T) / z.abs()
    dense = ratio.where(z != 0, 0.0).sum(0) / (z != 0).sum(0)
    assert torch.allclose(relative_cancellation(w, b, x_s), dense, rtol=1e-12, atol=0)

    sens = empirical_sensitivity(w, b, x_s)
    v = torch.cat([x_v, torch.ones(30, 1)], 1).double()
    lam = torch.zeros(30, dtype=torch.float64)
    for part, s in ((w_full.double().clamp(min=0), sens.positive),
                    ((-w_full.double()).clamp(min=0), sens.negative)):  # fmt: skip
        zp = v @ part.T
        top = (v[:, None, :] * torch.where(s > 0, part / s.where(s > 0, 1.0), 0.0)).amax(2)
        unseen = (v @ torch.where(s > 0, 0.0, part).T) > 0
        part_lam = torch.where(zp > 0, top / zp.where(zp > 0, 1.0), 0.0)
        lam = torch.maximum(lam, part_lam.where(~((zp > 0) & unseen), math.inf).amax(1))
    mine = torch.from_numpy(coverage_ratios([w], [b], [sens], [x_v]))
    assert torch.equal(mine.isinf(), lam.isinf()) and 0 < int(lam.isinf().sum()) < 30
    finite = ~lam.isinf()
    assert torch.allclose(mine[finite], lam[finite], rtol=1e-12, atol=0)

    zv = v @ w_full.double().T
    delta_v = (v.abs() @ w_full.double().abs().T) / zv.abs()
    largest = delta_v.amax(1).sort().values  # a threshold between two values: no ties
    threshold = float(largest[14] + largest[15]) / 2
    expected = (delta_v > threshold).any(1).numpy()
    assert (cancellation_exceedances([w], [b], [x_v], [threshold]) == expected).all()


def test_large_layers_store_rounded_up_sensitivities(monkeypatch):
    # Above FLOAT64_STORAGE_LIMIT entries (made small here) the sensitivities are stored in the
    # layer's precision, rounded UP from the float64 values: upper bounds (the theorem holds
    # with any), within one float32 ulp, positive wherever the float64 value is, and S is the
    # float64 sum of the stored values. Below the limit they are the float64 values exactly.
    import netcoreset.sampler.sensitivity as sensitivity

    g = torch.Generator().manual_seed(21)
    w, b = torch.randn(37, 20, generator=g), torch.randn(37, generator=g)
    x = torch.randn(25, 20, generator=g).clamp(min=0)
    exact = empirical_sensitivity(w, b, x)
    assert exact.signed.dtype == torch.float64
    monkeypatch.setattr(sensitivity, "FLOAT64_STORAGE_LIMIT", 100)
    stored = empirical_sensitivity(w, b, x)
    assert stored.signed.dtype == torch.float32
    for mine, ref, total in (
        (stored.positive, exact.positive, stored.total_positive),
        (stored.negative, exact.negative, stored.total_negative),
    ):
        up = mine.double()
        assert torch.equal(up > 0, ref > 0)
        assert bool((up >= ref).all())
        assert bool((up <= ref * (1 + 2.0**-23)).all())
        assert torch.equal(total, up.sum(dim=1))
    # tiny positive values stay positive (the smallest subnormal at worst)
    tiny = sensitivity.round_up(torch.tensor([1e-300, 0.0], dtype=torch.float64), torch.float32)
    assert float(tiny[0]) > 0 and float(tiny[1]) == 0.0


def test_corenet_writes_into_the_released_sensitivities_with_the_same_bits(monkeypatch):
    # The pipeline lets CoreNet write a layer's result into its (float32) sensitivities'
    # storage: the result is the one a fresh output tensor gets, and the caller's model is
    # untouched.
    import netcoreset.sampler.methods as methods
    import netcoreset.sampler.sensitivity as sensitivity
    from netcoreset.sampler import compress

    monkeypatch.setattr(sensitivity, "FLOAT64_STORAGE_LIMIT", 10)  # every layer
    net = build_relu_network([12, 16, 8, 3], dtype=torch.float32, seed=3)
    x = make_inputs(120, 12, dtype=torch.float32, seed=4)
    before = [p.detach().clone() for p in net.parameters()]
    original, hits = methods._output_buffer, []

    def recording(task):
        out = original(task)
        hits.append(out.data_ptr() == task.sensitivity.signed.data_ptr())
        return out

    monkeypatch.setattr(methods, "_output_buffer", recording)
    reused = compress(net, x, keep=0.3, seed=7)
    assert hits and all(hits)  # every layer reused its sensitivities' storage

    def fresh(task):
        w, b = task.weight, task.bias
        return w.new_empty((w.shape[0], w.shape[1] + (0 if b is None else 1)))

    monkeypatch.setattr(methods, "_output_buffer", fresh)
    separate = compress(net, x, keep=0.3, seed=7)
    monkeypatch.setattr(methods, "_output_buffer", original)
    for p, q in zip(reused.model.parameters(), separate.model.parameters(), strict=True):
        assert torch.equal(p, q)
    for p, q in zip(net.parameters(), before, strict=True):
        assert torch.equal(p, q)


def _held_out_case(seed: int):
    """A three-layer network, sensitivities on S, and signed held-out points, one feature of
    which S never uses (so some points have Lambda = inf)."""
    from netcoreset.sampler.certificate import layer_inputs

    net = build_relu_network([20, 24, 16, 4], dtype=torch.float32, seed=seed)
    weights = [m.weight.detach() for m in net if isinstance(m, torch.nn.Linear)]
    biases = [m.bias.detach() for m in net if isinstance(m, torch.nn.Linear)]
    g = torch.Generator().manual_seed(seed)
    x_s, x_v = torch.rand(30, 20, generator=g), torch.rand(40, 20, generator=g) - 0.3
    x_s[:, 5] = 0.0  # feature 5 unseen on S
    x_v[::3, 5] = 0.0
    sens = [
        empirical_sensitivity(w, b, a)
        for w, b, a in zip(weights, biases, layer_inputs(weights, biases, x_s), strict=True)
    ]
    return weights, biases, sens, x_v


def _worst_delta(weights, biases, x_v):
    """max_i Delta_i(x) per layer (rows) and point (columns), dense float64."""
    rows, a = [], x_v.double()
    for idx, (w, b) in enumerate(zip(weights, biases, strict=True)):
        z = a @ w.double().T + b.double()
        mass = a.abs() @ w.double().abs().T + b.double().abs()
        rows.append((mass / z.abs()).amax(1).numpy())
        if idx < len(weights) - 1:
            a = torch.relu(z)
    return np.array(rows)


def _between(values, k):
    """A threshold between the k-th and (k+1)-th smallest values (no ties near it)."""
    ordered = np.sort(values)
    return float(ordered[k] + ordered[k + 1]) / 2


def _held_out_reference(weights, biases, sens, x_v, delta_hats):
    from netcoreset.sampler.certificate import (
        cancellation_exceedances,
        coverage_ratios,
        layer_inputs,
    )

    inputs = layer_inputs(weights, biases, x_v)
    return (
        coverage_ratios(weights, biases, sens, inputs),
        cancellation_exceedances(weights, biases, inputs, delta_hats),
    )


def test_held_out_checks_in_one_pass_are_bit_identical():
    # The pipeline's one pass through the layers (one layer's inputs of V at a time) gives the
    # coverage ratios of every layer's inputs bit for bit, infinities included, and the same
    # exceedances for thresholds away from every Delta (its sums come from the coverage
    # check's GEMMs, z = z+ - z-, sum |w a| = z+ + z-: equal up to rounding).
    from netcoreset.sampler.certificate import held_out_statistics

    weights, biases, sens, x_v = _held_out_case(31)
    worst = _worst_delta(weights, biases, x_v)
    for k in (10, 30):
        delta_hats = [_between(row, k) for row in worst]
        ratios, exceeded = held_out_statistics(weights, biases, sens, x_v, delta_hats)
        ref_ratios, ref_exceeded = _held_out_reference(weights, biases, sens, x_v, delta_hats)
        assert np.array_equal(ratios, ref_ratios)  # bit for bit (inf == inf)
        assert np.array_equal(exceeded, ref_exceeded)
        assert 0 < int(exceeded.sum()) < 40  # both kinds of point
    assert 0 < int(np.isinf(ratios).sum()) < 40  # finite and infinite ratios


def test_large_network_held_out_checks_by_point_chunks(monkeypatch):
    # A network with a layer above FLOAT64_STORAGE_LIMIT (made small here) takes the held-out
    # points a chunk at a time: the same ratios up to the GEMMs' rounding (a few ulps), the
    # same infinities, and the same exceedances for thresholds away from every value.
    import netcoreset.sampler.certificate as certificate
    from netcoreset.sampler.certificate import chunk_budget, held_out_statistics, point_chunks

    weights, biases, sens, x_v = _held_out_case(32)
    ratios_ref, _ = _held_out_reference(weights, biases, sens, x_v, [1.0] * 3)
    monkeypatch.setattr(certificate, "FLOAT64_STORAGE_LIMIT", 100)
    monkeypatch.setattr(certificate, "ROW_BLOCK_ELEMENTS", 7 * 21)  # 7 points per chunk
    assert chunk_budget(weights, biases) == 7 * 21
    assert len(point_chunks(40, 21, 7 * 21)) == 6  # and 3 points per chunk in layer 1 (split)
    chunked, _ = held_out_statistics(weights, biases, sens, x_v, [1.0] * 3)
    assert np.array_equal(np.isinf(chunked), np.isinf(ratios_ref))
    finite = np.isfinite(ratios_ref)
    np.testing.assert_allclose(chunked[finite], ratios_ref[finite], rtol=1e-12, atol=0)
    # thresholds between two values of the dense float64 Delta, one layer at a time
    worst = _worst_delta(weights, biases, x_v)
    for layer in range(3):
        delta_hats = [math.inf] * 3
        delta_hats[layer] = _between(worst[layer], 15)
        _, exceeded = held_out_statistics(weights, biases, sens, x_v, delta_hats)
        assert int(exceeded.sum()) == 24
        monkeypatch.undo()
        _, ref = held_out_statistics(weights, biases, sens, x_v, delta_hats)
        monkeypatch.setattr(certificate, "FLOAT64_STORAGE_LIMIT", 100)
        monkeypatch.setattr(certificate, "ROW_BLOCK_ELEMENTS", 7 * 21)
        assert np.array_equal(exceeded, ref)


def test_sampling_blocks_partition_the_rows(monkeypatch):
    # Sampling blocks: consecutive, covering every row once; a layer above the storage limit
    # takes blocks of LARGE_BLOCK_ELEMENTS values, a smaller one ROW_BLOCK_ELEMENTS.
    from netcoreset.sampler.sensitivity import (
        LARGE_BLOCK_ELEMENTS,
        ROW_BLOCK_ELEMENTS,
        sampling_blocks,
    )

    for rows, cols in ((1, 1), (300, 785), (2048, 2049), (10, 1 << 17), (4096, 4097)):
        blocks = sampling_blocks(rows, cols)
        assert blocks[0][0] == 0 and blocks[-1][1] == rows
        assert all(a[1] == b[0] for a, b in zip(blocks[:-1], blocks[1:], strict=True))
        assert all(r0 < r1 for r0, r1 in blocks)
        limit = LARGE_BLOCK_ELEMENTS if rows * cols > 1 << 20 else ROW_BLOCK_ELEMENTS
        assert all(r1 - r0 == 1 or (r1 - r0) * cols <= limit for r0, r1 in blocks)


def test_categorical_counts_are_those_of_the_scatter_formulation():
    # Counts are accumulated into the output in place (index_add_ of ones): exactly the
    # counts of a per-block scatter, for the same generator state (sums of ones are exact).
    from netcoreset.sampler.sparsify import _categorical_counts

    g = torch.Generator().manual_seed(8)
    q = torch.rand(50, 30, generator=g, dtype=torch.float64) ** 3
    q[7] = 0.0
    q[7, 4] = 1.0
    q /= q.sum(dim=1, keepdim=True)
    m = torch.randint(1, 200, (50,), generator=g).double()

    def scatter_reference(q, m, generator):
        rows, n = q.shape
        counts = torch.zeros((rows, n), dtype=torch.float64)
        order = torch.argsort(m, stable=True)
        m_sorted = [int(v) for v in m[order].tolist()]
        start = 0
        while start < rows:
            stop = start + 1
            while stop < rows and (stop - start + 1) * m_sorted[stop] <= 1 << 18:
                stop += 1
            idx = order[start:stop]
            k_max = m_sorted[stop - 1]
            draws = torch.multinomial(q[idx], k_max, replacement=True, generator=generator)
            used = torch.arange(k_max)[None, :] < m[idx][:, None]
            block = torch.zeros((stop - start, n), dtype=torch.float64)
            counts[idx] = block.scatter_add_(1, draws, used.to(torch.float64))
            start = stop
        return counts

    mine = _categorical_counts(q, m, torch.Generator().manual_seed(9))
    ref = scatter_reference(q, m, torch.Generator().manual_seed(9))
    assert torch.equal(mine, ref)
    assert torch.equal(mine.sum(dim=1), m) and float(mine[7, 4]) == float(m[7])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_corenet_from_drawn_positions_is_the_dense_path_bit_for_bit(dtype):
    # _corenet samples a block from the drawn positions (signed_part_draws: no dense
    # probabilities of both parts, no dense counts): the same random stream and the same
    # bits as the dense path through sparsify_part, including rows without draws (a part
    # with no weight) and a layer whose output buffer is its own sensitivities.
    from netcoreset.sampler import methods
    from netcoreset.sampler.methods import LayerTask, _corenet

    g = torch.Generator().manual_seed(21)
    w = torch.randn(40, 25, generator=g, dtype=dtype)
    w[3] = w[3].abs()  # no negative part
    w[5, :] = -w[5, :].abs()
    b = torch.randn(40, generator=g, dtype=dtype)
    b[3], b[5] = 1.0, -1.0
    a = torch.rand(60, 25, generator=g, dtype=dtype)
    sens = empirical_sensitivity(w, b, a)
    m = np.ceil(np.concatenate([sens.total_positive, sens.total_negative]) * 7.0)
    assert (m == 0).sum() == 2 and m.max() <= 8 * 26

    def run(consume, monkeypatch_block):
        signed = sens.signed.clone()
        s = type(sens)(signed, sens.total_positive, sens.total_negative, False)
        task = LayerTask(w, b, s, m, 0.0, None, None, torch.Generator().manual_seed(4), consume)
        if monkeypatch_block:
            original = methods._corenet_block
            methods._corenet_block = lambda *args: False
            try:
                return _corenet(task).weight_full
            finally:
                methods._corenet_block = original
        return _corenet(task).weight_full

    dense = run(False, True)
    for consume in (False, True):
        fast = run(consume, False)
        assert fast.dtype == dtype and fast.shape == dense.shape
        assert fast.numpy().tobytes() == dense.numpy().tobytes()
    assert int((dense[3, :] < 0).sum()) == 0 and int((dense[5, :] > 0).sum()) == 0


def test_part_extremes_and_saturation_of_large_tables(monkeypatch):
    # A table on sensitivities (layers above COMPACT_LIMIT, made small here) finds its
    # per-part counts and smallest probabilities in one pass: those of the dense q; the
    # budget solve then knows the saturated count (every edge kept surely) without a pass
    # over the edges.
    import netcoreset.sampler.allocation as allocation
    from netcoreset.sampler.allocation import _saturated

    g = torch.Generator().manual_seed(12)
    w, b = torch.randn(30, 40, generator=g), torch.randn(30, generator=g)
    w[3] = 0.0  # a row with no positive part and no negative part
    x = torch.rand(25, 40, generator=g)
    sens = empirical_sensitivity(w, b, x)
    compact = PartTable.from_sensitivity(sens)
    monkeypatch.setattr(allocation, "COMPACT_LIMIT", 10)
    large = PartTable.from_sensitivity(sens)
    assert large.sensitivity is not None and compact.sensitivity is None
    q = large.q
    counts = (q > 0).sum(axis=1)
    smallest = np.where(counts > 0, np.where(q > 0, q, np.inf).min(axis=1), np.inf)
    for table in (large, compact):
        got_counts, got_smallest = table.extremes()
        assert np.array_equal(got_counts, counts)
        assert np.array_equal(got_smallest, smallest)  # exactly: division is monotone
    active = counts > 0
    sure = np.where(active, np.ceil(40.0 / np.where(active, smallest, 1.0)), 0.0)
    assert _saturated([large], [sure]) == float(counts.sum())
    short = sure.copy()
    short[np.argmax(active)] -= 1  # one part short of the 40-draw rule
    assert _saturated([large], [short]) is None


@pytest.mark.parametrize(
    ("method", "mode"),
    [("corenet", {"keep": 0.3}), ("corenet", {"eps": 0.5}), ("corenet++", {"keep": 0.3})],
)
def test_large_network_paths_give_the_same_compression_up_to_rounding(monkeypatch, method, mode):
    # Every path of a network above the size limits (made small here: sensitivities stored
    # rounded up in float32, tables on the sensitivities, small blocks, held-out chunks)
    # compresses to the same budget and certificate as the small-network paths, up to the
    # rounding they differ by (2^-24 in S, a few ulps in the GEMMs).
    import netcoreset.sampler.allocation as allocation
    import netcoreset.sampler.certificate as certificate
    import netcoreset.sampler.sensitivity as sensitivity
    from netcoreset.sampler import compress

    net = build_relu_network([30, 40, 20, 5], dtype=torch.float32, seed=3)
    x = make_inputs(400, 30, dtype=torch.float32, seed=4) - 0.5
    mode = {"certificate": "paper", **mode}  # the held-out checks' paths are part of the test
    small = compress(net, x, method=method, seed=7, **mode)
    for module in (sensitivity, certificate):
        monkeypatch.setattr(module, "FLOAT64_STORAGE_LIMIT", 100)
        monkeypatch.setattr(module, "ROW_BLOCK_ELEMENTS", 64)
    monkeypatch.setattr(sensitivity, "LARGE_BLOCK_ELEMENTS", 16)
    monkeypatch.setattr(allocation, "COMPACT_LIMIT", 100)
    large = compress(net, x, method=method, seed=7, **mode)
    a, b = small.report, large.report
    assert math.isclose(a.expected_nnz, b.expected_nnz, rel_tol=1e-4)
    assert math.isclose(a.certified_eps, b.certified_eps, rel_tol=1e-4)
    assert all(bool(torch.isfinite(p).all()) for p in large.model.parameters())
    assert math.isclose(a.K, b.K, rel_tol=1e-6)  # the held-out estimate, chunk by chunk
    assert b.held_out["points"] == a.held_out["points"] > 0


def test_cancellation_from_the_coverage_sums_exact_cases():
    # Delta from the coverage check's part sums on exact (dyadic) data, signed inputs split
    # into x+ and x-: z = 0 with mass > 0 is an infinite Delta, a point with z = 0 and no mass
    # is not counted, and a finite Delta is compared strictly with Delta-hat.
    from netcoreset.sampler import empirical_sensitivity
    from netcoreset.sampler.certificate import cancellation_exceedances, held_out_statistics

    w = torch.tensor([[1.0, -1.0], [2.0, 1.0]], dtype=torch.float64)
    b = torch.tensor([0.0, 0.0], dtype=torch.float64)
    sens = empirical_sensitivity(w, b, torch.tensor([[1.0, 2.0], [2.0, -1.0]]))
    x_v = torch.tensor(
        [[1.0, 1.0], [0.0, 0.0], [3.0, 1.0], [-1.0, 2.0], [1.0, -2.0]], dtype=torch.float64
    )
    # row 0: Delta = (|x1| + |x2|) / |x1 - x2|: inf, none (z = 0, mass 0), 2, 1, 1/3 * 3 = 1
    # row 1: Delta = (2|x1| + |x2|) / |2 x1 + x2|: 1, none, 1, inf, inf
    for threshold, expected in ((1.5, [1, 0, 1, 1, 1]), (2.0, [1, 0, 0, 1, 1])):
        _, exceeded = held_out_statistics([w], [b], [sens], x_v, [threshold])
        assert exceeded.astype(int).tolist() == expected
        assert (cancellation_exceedances([w], [b], [x_v], [threshold]) == exceeded).all()


@pytest.mark.parametrize("method", ["uniform", "l1", "l2"])
def test_baseline_draws_from_newton_are_those_of_bisection(method):
    # The baselines' shared draw count m: Newton's estimate, checked at two integers, gives
    # the integer that doubling and bisection find (the smallest m with f(m) >= budget and
    # the one below, the closer of the two), for budgets from one edge to beyond the layer.
    from netcoreset.sampler.baselines import (
        _bisect_first_reaching,
        _expected_kept,
        _shared_draws,
        baseline_probabilities,
    )

    g = torch.Generator().manual_seed(7)
    for case in range(12):
        w = torch.randn(30, 200, generator=g)
        if case % 3 == 1:
            w = w * (torch.rand(30, 200, generator=g) > 0.8)  # sparse rows, some empty
        if case % 3 == 2:
            w = torch.exp(4 * torch.randn(30, 200, generator=g))  # heavy-tailed magnitudes
        q = baseline_probabilities(w, method)
        qn = q.double().numpy()
        with np.errstate(divide="ignore"):
            log1m_q = np.log1p(-np.clip(qn, 0.0, 1.0))
        nnz = int((q > 0).sum())
        for frac in (1e-3, 0.05, 0.3, 0.9, 0.999, 1.0, 2.0):
            budget = frac * nnz

            def f(m, log1m_q=log1m_q, qn=qn):
                return _expected_kept(log1m_q, qn, m)

            if f(1) >= budget:
                expected = 1
            else:
                hi = _bisect_first_reaching(f, budget)
                lo = hi - 1
                expected = lo if abs(f(lo) - budget) <= abs(f(hi) - budget) else hi
            assert _shared_draws(q, budget) == expected
