"""The compiled elementwise kernels give the torch path's results bit for bit.

Each kernel of ``netcoreset.sampler.native`` that replaces a chain of torch operations (the
coverage check's preparation and maxima, the cancellation check, the transposed points, the
non-zero extremes, a part's probabilities, its categorical draws and its reweighted
weights, the budget solve's exponents) is run against the
torch path it replaces, on inputs with exact zeros of both signs, wide exponents and, where
the torch path defines one, NaN; then whole compressions with every kernel switched off are
compared with the default ones. Deterministic: no statistical assertion.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from netcoreset.sampler import allocation, certificate, compress, sensitivity, sparsify
from netcoreset.sampler.certificate import held_out_statistics, layer_inputs
from netcoreset.sampler.native import (
    cancellation_exceeds_native,
    compact_parts_native,
    coverage_finish_native,
    coverage_part_native,
    coverage_prepare_native,
    draws_times_log_native,
    inflate_products_native,
    native_available,
    nonzero_extremes_native,
    part_probabilities_native,
    transposed_points_native,
)
from netcoreset.sampler.sensitivity import augment_inputs, empirical_sensitivity
from netcoreset.verification.networks import build_relu_network, make_inputs

pytestmark = pytest.mark.skipif(not native_available(), reason="compiled kernels not built")

_BITS = {torch.float32: torch.int32, torch.float64: torch.int64}

#: (module, name, what the kernel returns when it does not apply)
_KERNELS = (
    (certificate, "coverage_prepare_native", None),
    (certificate, "coverage_finish_native", None),
    (certificate, "coverage_part_native", False),
    (certificate, "cancellation_exceeds_native", None),
    (certificate, "transposed_points_native", None),
    (sensitivity, "nonzero_extremes_native", None),
    (sensitivity, "inflate_products_native", None),
    (sparsify, "part_probabilities_native", None),
    (sparsify, "categorical_applies", False),
    (sparsify, "reweight_drawn_native", None),
    (allocation, "draws_times_log_native", None),
    (allocation, "compact_parts_native", None),
)


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal shapes, dtypes and bits (so -0 differs from +0 and NaN equals NaN)."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype in _BITS:
        return torch.equal(a.contiguous().view(_BITS[a.dtype]), b.contiguous().view(_BITS[b.dtype]))
    return torch.equal(a, b)


def _torch_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Switch every elementwise kernel off where the package calls it (the torch paths)."""
    for module, name, off in _KERNELS:
        monkeypatch.setattr(module, name, lambda *args, _off=off, **kwargs: _off)


def _values(shape, seed, zeros, negative_zeros, dtype=torch.float64, signed=False):
    """Non-negative (or signed) values over wide exponents with exact zeros of both signs."""
    g = torch.Generator().manual_seed(seed)
    v = torch.rand(shape, generator=g, dtype=torch.float64)
    v = v * torch.exp2(torch.randint(-40, 41, shape, generator=g).double())
    if signed:
        v = torch.where(torch.rand(shape, generator=g) < 0.5, -v, v)
    v = torch.where(torch.rand(shape, generator=g) < zeros, 0.0, v)
    v = torch.where(torch.rand(shape, generator=g) < negative_zeros, -0.0, v)
    return v.to(dtype)


_shapes = st.tuples(st.integers(1, 9), st.integers(1, 70))


@given(shape=_shapes, seed=st.integers(0, 2**31), zeros=st.floats(0, 0.9))
def test_coverage_prepare_matches_torch(shape, seed, zeros):
    w = _values(shape, seed, zeros, 0.2)
    s = _values(shape, seed + 1, zeros, 0.2)
    w_native, s_native = w.clone(), s.clone()
    lost_native = coverage_prepare_native(w_native, s_native)
    lost = certificate._prepare_torch(w, s)
    assert _same(lost_native, lost) and _same(w_native, w) and _same(s_native, s)


@given(
    shape=_shapes,
    seed=st.integers(0, 2**31),
    zeros=st.floats(0, 0.9),
    with_lost=st.booleans(),
    nan=st.booleans(),
)
def test_coverage_finish_matches_torch(shape, seed, zeros, with_lost, nan):
    top = _values(shape, seed, zeros, 0.3)
    z = _values(shape, seed + 1, zeros, 0.3, signed=True)
    if nan:
        top[0, 0] = math.nan
    lost = _values(shape, seed + 2, 0.8, 0.1) if with_lost else None
    native = coverage_finish_native(top, z, lost)
    live = z > 0
    lam = torch.where(live, top / z, 0.0)
    if lost is not None:
        lam = torch.where(live & (lost > 0), math.inf, lam)
    expected = lam.amax(dim=0).add_(0.0)  # the torch path of _part_ratio
    assert _same(native, expected)


@given(
    rows=st.integers(1, 9),
    points=st.integers(1, 40),
    seed=st.integers(0, 2**31),
    split=st.booleans(),
    delta_hat=st.sampled_from([1.0, 1.5, 30.0, math.inf]),
)
def test_cancellation_exceeds_matches_torch(rows, points, seed, split, delta_hat):
    shape = (rows, 2 * points if split else points)
    z_pos = _values(shape, seed, 0.3, 0.1)
    z_neg = torch.where(torch.rand(shape) < 0.3, z_pos, _values(shape, seed + 1, 0.3, 0.1))
    native = cancellation_exceeds_native(z_pos, z_neg, split, delta_hat)
    z, mass = z_pos - z_neg, z_pos + z_neg
    if split:
        z, mass = z[:, :points] - z[:, points:], mass[:, :points] + mass[:, points:]
    assert _same(native, certificate._delta_exceeds(z, mass, delta_hat, dim=0))


@given(
    rows=st.integers(1, 9),
    cols=st.integers(1, 70),
    seed=st.integers(0, 2**31),
    w_dtype=st.sampled_from([torch.float32, torch.float64]),
    s_dtype=st.sampled_from([torch.float32, torch.float64]),
    bias=st.booleans(),
    negative=st.booleans(),
)
def test_coverage_part_matches_torch(rows, cols, seed, w_dtype, s_dtype, bias, negative):
    w = _values((rows, cols), seed, 0.3, 0.2, w_dtype, signed=True)
    b = _values((rows,), seed + 1, 0.3, 0.2, w_dtype, signed=True) if bias else None
    width = cols + bias
    signed = _values((rows, width), seed + 2, 0.3, 0.2, s_dtype, signed=True)
    w_out, s_out = (torch.empty((rows, width), dtype=torch.float64) for _ in range(2))
    assert coverage_part_native(w, b, signed, negative, w_out, s_out)
    w_ref, s_ref = torch.empty_like(w_out), signed.to(torch.float64)
    w_ref[:, :cols] = w
    if b is not None:
        w_ref[:, cols] = b
    if negative:
        w_ref.neg_()
        s_ref.neg_()
    assert _same(w_out, w_ref.clamp_(min=0)) and _same(s_out, s_ref.clamp_(min=0))


@given(
    points=st.integers(1, 30),
    cols=st.integers(1, 70),
    seed=st.integers(0, 2**31),
    dtype=st.sampled_from([torch.float32, torch.float64]),
    bias=st.booleans(),
    signed=st.booleans(),
)
def test_transposed_points_match_augment_inputs(points, cols, seed, dtype, bias, signed):
    a = _values((points, cols), seed, 0.3, 0.2, dtype, signed=signed)
    native = transposed_points_native(a, bias)
    expected, split = augment_inputs(a, bias, torch.float64, transposed=True)
    if split:  # signed inputs: the torch path splits them
        assert native is None
    else:
        assert _same(native, expected) and native.is_contiguous()


@given(
    shape=_shapes,
    seed=st.integers(0, 2**31),
    dtype=st.sampled_from([torch.float32, torch.float64]),
    zeros=st.floats(0, 1),
)
def test_nonzero_extremes_match_torch(shape, seed, dtype, zeros):
    t = _values(shape, seed, zeros, 0.2, dtype, signed=True)
    native = nonzero_extremes_native(t)
    mag = t.abs()
    hi = float(mag.amax())
    lo = float(torch.where(mag > 0, mag, math.inf).amin())
    assert native == (lo, hi)
    assert nonzero_extremes_native(torch.tensor([1.0, math.nan])) is None
    assert nonzero_extremes_native(torch.tensor([1.0, -math.inf])) is None


@given(
    rows=st.integers(1, 9),
    n=st.integers(1, 70),
    seed=st.integers(0, 2**31),
    dtype=st.sampled_from([torch.float32, torch.float64]),
    negative=st.booleans(),
)
def test_part_probabilities_match_torch(rows, n, seed, dtype, negative):
    signed = _values((rows, n), seed, 0.3, 0.2, dtype, signed=True)
    scale = _values((rows,), seed + 1, 0.0, 0.0).clamp(min=torch.finfo(torch.float64).tiny)
    order = torch.randperm(rows, generator=torch.Generator().manual_seed(seed))
    native = part_probabilities_native(signed, order, negative, scale)
    q = signed.index_select(0, order).to(torch.float64)
    q = (q.neg_() if negative else q).clamp_(min=0.0).div_(scale.index_select(0, order)[:, None])
    assert _same(native, q)


def _part_draws(signed, sign, m, seed, monkeypatch, native):
    """:func:`sparsify.signed_part_draws` with or without the categorical kernel: its
    outputs and the generator's state afterwards."""
    with monkeypatch.context() as patch:
        if not native:
            patch.setattr(sparsify, "categorical_applies", lambda *a, **k: False)
        total = (signed.double() * sign).clamp(min=0).sum(dim=1)
        g = torch.Generator().manual_seed(seed)
        out = sparsify.signed_part_draws(signed, total, sign, m, g)
    return (*out, g.get_state())


@given(
    rows=st.integers(1, 12),
    n=st.integers(1, 70),
    seed=st.integers(0, 2**31),
    dtype=st.sampled_from([torch.float32, torch.float64]),
    sign=st.sampled_from([1.0, -1.0]),
    draws=st.lists(st.sampled_from([1, 1, 2, 3, 7, 40, 400]), min_size=12, max_size=12),
)
def test_categorical_draws_match_torch_multinomial(rows, n, seed, dtype, sign, draws):
    # The kernel's draws, counts and probabilities equal torch.multinomial's path bit for
    # bit, and it leaves the generator where torch does: rows of one draw (torch's
    # one-sample path), rows whose probabilities have zeros of both signs, draw counts up to
    # the categorical limit of 8 n, and rows without probability mass (no draws).
    signed = _values((rows, n), seed, 0.3, 0.2, dtype, signed=True)
    total = (signed.double() * sign).clamp(min=0).sum(dim=1)
    m = torch.tensor([min(d, 8 * n) for d in draws[:rows]], dtype=torch.float64)
    m = torch.where(total > 0, m, 0.0)
    with pytest.MonkeyPatch.context() as monkeypatch:
        ours = _part_draws(signed, sign, m, seed, monkeypatch, native=True)
        theirs = _part_draws(signed, sign, m, seed, monkeypatch, native=False)
    assert all(_same(a, b) for a, b in zip(ours, theirs, strict=True))


@given(
    rows=st.integers(1, 9),
    n=st.integers(1, 50),
    seed=st.integers(0, 2**31),
    s_dtype=st.sampled_from([torch.float32, torch.float64]),
    w_dtype=st.sampled_from([torch.float32, torch.float64]),
    sign=st.sampled_from([1.0, -1.0]),
)
def test_reweighted_draws_match_torch(rows, n, seed, s_dtype, w_dtype, sign):
    # c |w| / (m q) at the drawn positions, negated for the negative part: the kernel's
    # values equal the torch path's bit for bit, with weights of both signs and signed zeros
    # (a weight's sign need not match its sensitivity's: the magnitude is clamped).
    signed = _values((rows, n), seed, 0.3, 0.2, s_dtype, signed=True)
    weight = _values((rows, n), seed + 1, 0.2, 0.2, w_dtype, signed=True)
    total = (signed.double() * sign).clamp(min=0).sum(dim=1)
    draws = torch.randint(1, 4 * n + 1, (rows,), generator=torch.Generator().manual_seed(seed))
    m = torch.where(total > 0, draws.double(), 0.0)
    runs = []
    for off in (False, True):
        with pytest.MonkeyPatch.context() as patch:
            if off:
                patch.setattr(sparsify, "reweight_drawn_native", lambda *a, **k: None)
            g = torch.Generator().manual_seed(seed)
            runs.append(sparsify.signed_part_weights(signed, total, sign, m, weight, g))
    assert all(_same(a, b) for a, b in zip(*runs, strict=True))
    assert runs[0][1].dtype == w_dtype


def test_categorical_draws_match_over_several_blocks(monkeypatch):
    # 700 rows of up to 480 draws: more than one block of 2^18 draws for torch.multinomial.
    g = torch.Generator().manual_seed(3)
    signed = torch.randn(700, 60, generator=g)
    m = torch.randint(1, 481, (700,), generator=g).double()
    ours = _part_draws(signed, 1.0, m, 9, monkeypatch, native=True)
    theirs = _part_draws(signed, 1.0, m, 9, monkeypatch, native=False)
    assert len(sparsify._block_bounds(sorted(int(v) for v in m.tolist()))) > 1
    assert all(_same(a, b) for a, b in zip(ours, theirs, strict=True))


@given(
    lengths=st.lists(st.integers(0, 40), min_size=1, max_size=20),
    seed=st.integers(0, 2**31),
    dtype=st.sampled_from([torch.float32, torch.float64]),
)
def test_draws_times_log_matches_torch(lengths, seed, dtype):
    g = torch.Generator().manual_seed(seed)
    counts = torch.tensor(lengths, dtype=torch.int64)
    m = (torch.rand(len(lengths), generator=g, dtype=torch.float64) * 1e6).round().to(dtype)
    part = torch.repeat_interleave(torch.arange(len(lengths), dtype=torch.int32), counts)
    log1mq = torch.log1p(-torch.rand(part.numel(), generator=g, dtype=dtype)).clamp_(min=-100.0)
    native = draws_times_log_native(m, counts, log1mq)
    assert _same(native, m.index_select(0, part).mul_(log1mq))
    assert _same(native, log1mq.clone().mul_(m.index_select(0, part)))
    assert draws_times_log_native(m, counts + 1, log1mq) is None  # counts that do not add up
    inplace = log1mq.clone()  # the budget solve's float64 pass writes over the logarithms
    assert _same(draws_times_log_native(m, counts, inplace, out=inplace), native)
    assert _same(inplace, native)


@given(
    rows=st.integers(1, 9),
    n=st.integers(1, 70),
    seed=st.integers(0, 2**31),
    dtype=st.sampled_from([torch.float32, torch.float64]),
    zeros=st.floats(0, 1),
)
@pytest.mark.filterwarnings("ignore:overflow encountered")
def test_compact_parts_match_numpy(rows, n, seed, dtype, zeros):
    signed = _values((rows, n), seed, zeros, 0.2, dtype, signed=True)
    totals = [
        _values((rows,), seed + k, 0.3, 0.0) * (1e-310 if k == 2 else 1.0) for k in (1, 2)
    ]  # totals of zero and below the smallest normal number: the divisor is tiny
    native = compact_parts_native(signed, *totals)
    expected = allocation._compact_numpy(signed.numpy(), [t.numpy() for t in totals])
    assert all(_same(a, b) for a, b in zip(native, expected, strict=True))


@given(
    shape=_shapes,
    seed=st.integers(0, 2**31),
    dtype=st.sampled_from([torch.float32, torch.float64]),
    nan=st.booleans(),
)
def test_inflate_products_match_torch(shape, seed, dtype, nan):
    m = _values(shape, seed, 0.3, 0.2, dtype) * 4  # products above 1 are clamped
    w = _values(shape, seed + 1, 0.3, 0.2, dtype)
    if nan:
        m[0, 0] = math.nan
    if dtype == torch.float32:
        factor = sensitivity.rounding_inflation(785, dtype)
        out = torch.empty((shape[0] + 2, shape[1]), dtype=torch.float64)
        native = inflate_products_native(m, w, factor, out)
        assert native.data_ptr() == out.data_ptr()
        expected = sensitivity._inflate(m.clone().mul_(w), factor, None)
    else:
        native = inflate_products_native(m.clone(), w, 1.0, None)
        expected = sensitivity._inflate(m.clone().mul_(w), 1.0, None)
    assert _same(native, expected)


def _compressions():
    """Compressions of a float32 and a float64 net, one with signed inputs and inputs unseen
    on S, in every certificate mode: reports and weights."""
    out = []
    for dtype, signed in ((torch.float32, False), (torch.float64, True)):
        net = build_relu_network((30, 40, 20, 5), seed=4).to(dtype)
        x = make_inputs(400, 30, seed=5).to(dtype)
        if signed:
            x = x - 0.5
        else:
            x[:100, :6] = 0.0  # S = the first 100 points: edges never sampled, used by V
        for cert in ("paper", "holdout", "tight"):
            res = compress(net, x, keep=0.3, sensitivity_set_size=100, seed=1, certificate=cert)
            report = {k: v for k, v in vars(res.report).items() if k != "elapsed_s"}
            out.append((report, [p.detach().clone() for p in res.model.parameters()]))
        lins = [m for m in net if isinstance(m, torch.nn.Linear)]
        weights = [m.weight.detach() for m in lins]
        biases = [m.bias.detach() for m in lins]
        sens = [
            empirical_sensitivity(w, b, a)
            for w, b, a in zip(weights, biases, layer_inputs(weights, biases, x[:100]), strict=True)
        ]
        ratios, exceeded = held_out_statistics(weights, biases, sens, x[100:], [1.5, 2.0, 3.0])
        out.append((torch.from_numpy(ratios), torch.from_numpy(exceeded)))
    return out


@pytest.mark.filterwarnings("ignore")
def test_compressions_are_the_same_without_the_kernels(monkeypatch):
    with_kernels = _compressions()
    _torch_only(monkeypatch)
    without = _compressions()
    assert len(with_kernels) == len(without)
    for ours, theirs in zip(with_kernels, without, strict=True):
        first, second = ours
        if isinstance(first, dict):
            assert repr(first) == repr(theirs[0])
            assert all(_same(a, b) for a, b in zip(second, theirs[1], strict=True))
        else:
            assert _same(first, theirs[0]) and _same(second, theirs[1])
