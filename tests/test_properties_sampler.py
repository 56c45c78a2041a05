"""Property and statistical tests of the sampler (netcoreset.sampler): the paper's sensitivity,
SPARSIFY, size and budget statements.

Deterministic properties run under hypothesis (the ``ci`` profile: derandomised, 30
examples). Statistical properties use fixed seeds; each states its false-failure rate, which
is at most 1e-6, with the derivation beside it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import binom
from torch import nn

from netcoreset.bounds import expected_distinct_edges, sensitivity_set_size

# The lemma test below needs the sample size at C = 3, i.e. K = 1 (g_j <= 3 s_j holds surely by
# construction); the public sample_size requires Assumption 1's K > 1, so the arithmetic at
# K = 1 comes from the package's helper that takes any K > 0.
from netcoreset.bounds.sample_size import _sample_size
from netcoreset.sampler import (
    METHODS,
    compress,
    empirical_sensitivity,
    multinomial_counts,
    sparsify_part,
)
from netcoreset.verification.networks import (
    build_relu_network,
    layer_widths,
    make_inputs,
    network_draw,
)
from netcoreset.verification.strategies import compression_params, network_and_inputs

# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def _linears(model: nn.Module) -> list[nn.Linear]:
    return [m for m in model if isinstance(m, nn.Linear)]


def _layer_inputs(model: nn.Sequential, x: torch.Tensor) -> list[torch.Tensor]:
    """The input a^{l-1}(x) of every Linear layer (own forward pass, not the sampler's)."""
    out, a = [], x
    for m in model:
        if isinstance(m, nn.Linear):
            out.append(a)
        a = m(a)
    return out


def _reference_sensitivity(
    weight: torch.Tensor, bias: torch.Tensor | None, acts: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """s_ij straight from the definition (including the x = x+ - x- split), in float64.

    The x = x+ - x- split is applied to EVERY layer input: for a non-negative point x- = 0 has
    z = 0 and contributes g = 0, so splitting or not must give the same sensitivities.
    """
    w = weight.double()
    a = acts.double()
    rows = w.shape[0]
    if bias is not None:
        w = torch.cat([w, bias.double()[:, None]], dim=1)
        pos = torch.cat([a.clamp(min=0), torch.ones(a.shape[0], 1, dtype=a.dtype)], dim=1)
        neg = torch.cat([(-a).clamp(min=0), torch.zeros(a.shape[0], 1, dtype=a.dtype)], dim=1)
    else:
        pos, neg = a.clamp(min=0), (-a).clamp(min=0)
    pts = torch.cat([pos, neg])
    out = []
    for part in (w.clamp(min=0), (-w).clamp(min=0)):
        contrib = part[:, None, :] * pts[None, :, :]  # (rows, points, edges)
        z = contrib.sum(dim=2, keepdim=True)
        g = torch.where(z > 0, contrib / torch.where(z > 0, z, 1.0), 0.0)
        out.append(g.amax(dim=1) if pts.shape[0] else torch.zeros(rows, w.shape[1]))
    return out[0], out[1]


def _full(lin: nn.Linear) -> torch.Tensor:
    w = lin.weight.detach()
    return w if lin.bias is None else torch.cat([w, lin.bias.detach()[:, None]], dim=1)


# ---------------------------------------------------------------------------------------------
# 1. The per-neuron lemma: SPARSIFY with the theorem's m keeps z+ within (1 +- eps)
# ---------------------------------------------------------------------------------------------

LEMMA_EDGES = 20_000
LEMMA_REPS = 200
U_LOW = 0.6  # activations a_j(x) = c_j u_j(x), u_j(x) ~ U[U_LOW, 1]


@pytest.mark.parametrize("tight", [False, True])
def test_per_neuron_lemma_with_most_edges_removed(tight):
    # Setting: one neuron (eta = 1) with 20,000 input edges and a bias, weights of mixed signs
    # with log-normal magnitudes; inputs a_j(x) = c_j u_j(x) with fixed log-normal scales c_j
    # and u_j(x) ~ U[0.6, 1] i.i.d. (the bias edge has activation 1).
    #
    # Why the theorem applies exactly here (K = 1): for any two inputs x, x' and any edge j of
    # a part, g_j(x) / g_j(x') = (u_j(x) / u_j(x')) * (z(x') / z(x)) <= (1/0.6) * (1/0.6)
    # = 2.78 < 3, since every term of z changes by a factor in [0.6, 1/0.6]. So for every x,
    # g_j(x) <= 3 s_j (Lemma 1's event holds surely), each draw X = w_j a_j(x) / q_j lies in
    # [0, 3 S z+] with variance <= 3 S z+^2, and Bernstein gives
    #   P(|z+_hat - z+| > eps z+) <= 2 exp(-m eps^2 / (S (6 + 2 eps))) <= delta / (4 eta)
    # for m = sample_size(S, eps, delta, eta) at K = 1 (8-form, and tight form: both solve
    # this).
    # Each repetition uses an independent draw C and a fresh x, so the number of failures
    # over T repetitions is Binomial(T, p) with p <= delta' = delta / (4 eta) = 0.025.
    # Threshold: k = binom.isf(2.5e-7, T, delta'), so P(failures > k) <= 2.5e-7; four such
    # checks (2 parts x {fresh x, x in S}) give a false-failure rate <= 1e-6 per parameter.
    gen = torch.Generator().manual_seed(8675309 + int(tight))
    n, T = LEMMA_EDGES, LEMMA_REPS
    eps, delta, eta = 0.1, 0.1, 1
    delta_prime = delta / (4 * eta)
    sign = torch.where(torch.rand(n, generator=gen, dtype=torch.float64) < 0.5, -1.0, 1.0)
    weight = (sign * torch.randn(n, generator=gen, dtype=torch.float64).exp())[None, :]
    bias = torch.tensor([0.5], dtype=torch.float64)
    scales = torch.randn(n, generator=gen, dtype=torch.float64).exp()

    def draw_inputs(k: int) -> torch.Tensor:
        u = U_LOW + (1 - U_LOW) * torch.rand(k, n, generator=gen, dtype=torch.float64)
        return scales * u

    s_points = draw_inputs(sensitivity_set_size(eta, 1, delta))
    sens = empirical_sensitivity(weight, bias, s_points)
    qp, qn = sens.probabilities()
    w_full = torch.cat([weight, bias[:, None]], dim=1)
    fresh = torch.cat([draw_inputs(T), torch.ones(T, 1, dtype=torch.float64)], dim=1)
    in_s = torch.cat([s_points, torch.ones(s_points.shape[0], 1, dtype=torch.float64)], dim=1)
    in_s = in_s[torch.arange(T) % in_s.shape[0]]  # repetition t uses point t mod |S| of S
    threshold = binom.isf(2.5e-7, T, delta_prime)

    for mag, q, total in (
        (w_full.clamp(min=0), qp, sens.total_positive),
        (((-w_full).clamp(min=0)), qn, sens.total_negative),
    ):
        S = float(total[0])
        assert 1.0 <= S <= 1.5  # u in [0.6, 1] keeps the sensitivities near the weights
        m = _sample_size(S, eps, delta, eta, 1.0, tight)
        part_edges = int((mag > 0).sum())
        assert m < 0.5 * part_edges  # m << n: sampling has to remove edges
        w_hat = sparsify_part(mag.expand(T, -1), q.expand(T, -1), torch.full((T,), float(m)), gen)
        kept = (w_hat > 0).sum(dim=1).double() / part_edges
        # Most edges are removed, so the property is not true merely because nothing was:
        assert float(kept.max()) < 0.5
        assert torch.equal(w_hat > 0, (w_hat > 0) & (mag > 0))  # only the part's edges
        for x in (fresh, in_s):
            z = (mag * x).sum(dim=1)
            z_hat = (w_hat * x).sum(dim=1)
            failures = int(((z_hat - z).abs() > eps * z).sum())
            assert failures <= threshold, (failures, threshold, m, S)


# ---------------------------------------------------------------------------------------------
# 2. Unbiasedness E[w_hat] = w, and the multinomial counts
# ---------------------------------------------------------------------------------------------


def test_reweighted_draws_are_unbiased():
    # For one part with probabilities q and m draws, w_hat_j = c_j w_j / (m q_j) with
    # c ~ Multinomial(m, q). Over T independent repetitions the total count of edge j is
    # exactly Binomial(m T, q_j), so the mean of w_hat_j is w_j C_j / (m T q_j) with
    # C_j ~ Bin(mT, q_j): mean w_j, variance w_j^2 (1 - q_j) / (m q_j T). We accept C_j in
    # [binom.ppf(a/2), binom.isf(a/2)] (exact tails, each <= a/2) with a = 1e-6 / N over the
    # N tested edges (Bonferroni): false-failure rate <= 1e-6. The bounds are about +-5.3
    # standard deviations of the mean. Rows use m = 37 (few draws, most c_j = 0, the
    # reweighting matters) and m = 10^7 (large-count path of the binomial sampler).
    gen = torch.Generator().manual_seed(2024)
    net = build_relu_network((30, 8), weight_law="gaussian", bias=True, seed=7)
    x = make_inputs(20, 30, distribution="nonnegative", seed=8)
    lin = net[0]
    sens = empirical_sensitivity(lin.weight, lin.bias, x)
    qp, qn = sens.probabilities()
    w_full = _full(lin).double()
    mags = torch.cat([w_full.clamp(min=0), (-w_full).clamp(min=0)])
    q = torch.cat([qp, qn]).double()
    active = q.sum(dim=1) > 0
    mags, q = mags[active], q[active]
    rows = q.shape[0]
    m = torch.where(torch.arange(rows) % 2 == 0, 37.0, 1e7).double()
    T = 3000
    w_hat = sparsify_part(mags.repeat(T, 1), q.repeat(T, 1), m.repeat(T), gen)
    mean = w_hat.reshape(T, rows, -1).mean(dim=0)
    tested = q > 0
    n_tested = int(tested.sum())
    a = 1e-6 / n_tested
    mt = (m[:, None] * T).expand_as(q).numpy()
    qq = q.numpy()
    lo = binom.ppf(a / 2, mt, qq)
    hi = binom.isf(a / 2, mt, qq)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = mags.numpy() / (mt * qq)
    lo_w, hi_w = lo * scale, hi * scale
    got = mean.numpy()
    tol = 1e-9 * np.abs(mags.numpy())
    ok = (got >= lo_w - tol) & (got <= hi_w + tol)
    assert bool(ok[tested.numpy()].all())
    # never drawn where q = 0, and lo < w < hi (the interval is not degenerate)
    assert bool((mean[~tested] == 0).all())
    assert bool((lo_w[tested.numpy()] < mags.numpy()[tested.numpy()]).all())


@given(
    rows=st.integers(1, 5),
    cols=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
    m=st.lists(st.integers(0, 2**52), min_size=5, max_size=5),
)
def test_multinomial_counts_are_exact_count_vectors(rows, cols, seed, m):
    gen = torch.Generator().manual_seed(seed)
    raw = torch.rand(rows, cols, generator=gen, dtype=torch.float64)
    raw = torch.where(torch.rand(rows, cols, generator=gen) < 0.3, 0.0, raw)
    total = raw.sum(dim=1, keepdim=True)
    q = torch.where(total > 0, raw / torch.where(total > 0, total, 1.0), 0.0)
    draws = torch.tensor(m[:rows], dtype=torch.float64)
    draws = torch.where(q.sum(dim=1) > 0, draws, 0.0)
    c = multinomial_counts(q, draws, gen)
    assert c.shape == q.shape
    assert bool((c >= 0).all()) and torch.equal(c, c.round())
    assert torch.equal(c.sum(dim=1), draws)  # exact: every count < 2^53
    assert bool((c[q == 0] == 0).all())


@given(seed=st.integers(0, 2**32 - 1))
def test_multinomial_counts_are_deterministic(seed):
    q = torch.tensor([[0.5, 0.2, 0.3, 0.0], [0.0, 0.0, 1.0, 0.0]], dtype=torch.float64)
    m = torch.tensor([1000.0, 7.0], dtype=torch.float64)
    a = multinomial_counts(q, m, torch.Generator().manual_seed(seed))
    b = multinomial_counts(q, m, torch.Generator().manual_seed(seed))
    assert torch.equal(a, b)
    assert a[1].tolist() == [0.0, 0.0, 7.0, 0.0]


# ---------------------------------------------------------------------------------------------
# 3. Sensitivities: definition, ranges, q, S >= 1
# ---------------------------------------------------------------------------------------------


@given(network_and_inputs(dtype=torch.float64))
def test_sensitivities_match_definition_and_ranges(model_x):
    model, x = model_x
    for lin, acts in zip(_linears(model), _layer_inputs(model, x), strict=True):
        sens = empirical_sensitivity(lin.weight, lin.bias, acts)
        ref_p, ref_n = _reference_sensitivity(lin.weight, lin.bias, acts)
        torch.testing.assert_close(sens.positive, ref_p, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(sens.negative, ref_n, rtol=1e-10, atol=1e-12)
        w_full = _full(lin)
        qp, qn = sens.probabilities()
        for s, q, total, support in (
            (sens.positive, qp, sens.total_positive, w_full > 0),
            (sens.negative, qn, sens.total_negative, w_full < 0),
        ):
            assert bool(((s >= 0) & (s <= 1)).all())
            assert bool((s[~support] == 0).all())  # zero weights are never sampled
            torch.testing.assert_close(total, s.sum(dim=1))
            active = total > 0
            # S >= 1 whenever some x has a non-zero denominator; S <= |W+-|
            assert bool((total[active] >= 1 - 1e-9).all())
            assert bool((total <= support.sum(dim=1) + 1e-9).all())
            torch.testing.assert_close(
                q[active].sum(dim=1), torch.ones(int(active.sum()), dtype=q.dtype)
            )
            assert bool((q[~active] == 0).all())
            assert bool(((q >= 0) & (q <= 1 + 1e-12)).all())


@given(network_and_inputs(weight_law="dead_neurons", distribution="nonnegative"))
def test_edges_out_of_dead_neurons_have_zero_sensitivity(model_x):
    model, x = model_x
    info = network_draw(model)
    lins = _linears(model)
    acts = _layer_inputs(model, x)
    for k, dead in enumerate(info.dead):
        sens = empirical_sensitivity(lins[k + 1].weight, lins[k + 1].bias, acts[k + 1])
        assert bool((sens.positive[:, list(dead)] == 0).all())
        assert bool((sens.negative[:, list(dead)] == 0).all())


# ---------------------------------------------------------------------------------------------
# 4. Invariances: positive scaling of a row, permutation of hidden neurons
# ---------------------------------------------------------------------------------------------


@given(network_and_inputs(dtype=torch.float64), st.data())
def test_sensitivity_invariant_under_positive_row_scaling(model_x, data):
    model, x = model_x
    lins = _linears(model)
    k = data.draw(st.integers(0, len(lins) - 1), label="layer")
    lin, acts = lins[k], _layer_inputs(model, x)[k]
    i = data.draw(st.integers(0, lin.out_features - 1), label="row")
    c = data.draw(st.floats(1e-3, 1e3), label="scale")
    w = lin.weight.clone()
    w[i] *= c
    b = None if lin.bias is None else lin.bias.clone()
    if b is not None:
        b[i] *= c
    before = empirical_sensitivity(lin.weight, lin.bias, acts)
    after = empirical_sensitivity(w, b, acts)
    for s0, s1 in ((before.positive, after.positive), (before.negative, after.negative)):
        torch.testing.assert_close(s1, s0, rtol=1e-10, atol=1e-13)


def _deep_network_and_inputs():
    return network_and_inputs(depth=st.integers(2, 3), dtype=torch.float64)


@given(_deep_network_and_inputs(), st.data())
def test_sensitivity_permutes_with_hidden_neurons(model_x, data):
    # Permute the neurons of hidden layer k: rows of W^k, b^k and columns of W^{k+1}. The
    # network computes the same function; the sensitivities of layer k permute by row and
    # those of layer k+1 by column (the bias column stays last).
    model, x = model_x
    lins = _linears(model)
    k = data.draw(st.integers(0, len(lins) - 2), label="hidden layer")
    width = lins[k].out_features
    perm = torch.tensor(data.draw(st.permutations(range(width)), label="perm"), dtype=torch.long)
    permuted = build_relu_network(layer_widths(model), bias=lins[0].bias is not None, seed=0)
    with torch.no_grad():
        for dst, src in zip(_linears(permuted), lins, strict=True):
            dst.weight.copy_(src.weight)
            if src.bias is not None:
                dst.bias.copy_(src.bias)
        new = _linears(permuted)
        new[k].weight.copy_(lins[k].weight[perm])
        if lins[k].bias is not None:
            new[k].bias.copy_(lins[k].bias[perm])
        new[k + 1].weight.copy_(lins[k + 1].weight[:, perm])
    torch.testing.assert_close(permuted(x), model(x), rtol=1e-12, atol=1e-12)
    acts0, acts1 = _layer_inputs(model, x), _layer_inputs(permuted, x)
    s0 = empirical_sensitivity(lins[k].weight, lins[k].bias, acts0[k])
    s1 = empirical_sensitivity(new[k].weight, new[k].bias, acts1[k])
    torch.testing.assert_close(s1.positive, s0.positive[perm], rtol=1e-10, atol=1e-13)
    torch.testing.assert_close(s1.negative, s0.negative[perm], rtol=1e-10, atol=1e-13)
    t0 = empirical_sensitivity(lins[k + 1].weight, lins[k + 1].bias, acts0[k + 1])
    t1 = empirical_sensitivity(new[k + 1].weight, new[k + 1].bias, acts1[k + 1])
    cols = torch.cat([perm, torch.arange(width, t0.positive.shape[1])])
    torch.testing.assert_close(t1.positive, t0.positive[:, cols], rtol=1e-10, atol=1e-13)
    torch.testing.assert_close(t1.negative, t0.negative[:, cols], rtol=1e-10, atol=1e-13)


# ---------------------------------------------------------------------------------------------
# 5. float32 against float64 (CPU)
# ---------------------------------------------------------------------------------------------


@given(network_and_inputs(dtype=torch.float64))
def test_float32_sensitivities_agree_with_float64(model_x):
    # The float32 network of a seed is the float64 one rounded (strategies.build_relu_network);
    # both get the float64 layer inputs (rounded for float32), so only the sensitivity
    # computation itself is compared: z+ is a sum of non-negative terms (no cancellation), so
    # float32 keeps about 1e-6 relative accuracy for these sizes. The sensitivities themselves
    # are computed in float64 whatever the dtype (they feed the draws and the certificate).
    model, x = model_x
    for lin, acts in zip(_linears(model), _layer_inputs(model, x), strict=True):
        s64 = empirical_sensitivity(lin.weight, lin.bias, acts)
        b32 = None if lin.bias is None else lin.bias.float()
        s32 = empirical_sensitivity(lin.weight.float(), b32, acts.float())
        assert s32.positive.dtype == torch.float64
        for a32, a64 in (
            (s32.positive, s64.positive),
            (s32.negative, s64.negative),
            (s32.total_positive, s64.total_positive),
            (s32.total_negative, s64.total_negative),
            *zip(s32.probabilities(), s64.probabilities(), strict=True),
        ):
            torch.testing.assert_close(a32.double(), a64, rtol=1e-4, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# 6. compress: nnz never grows, support and signs kept, determinism
# ---------------------------------------------------------------------------------------------


def _params(model: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


@pytest.mark.filterwarnings("ignore:data has .* points")
@given(
    network_and_inputs(n=st.integers(1, 40)),
    compression_params(eps=st.floats(0.05, 0.95)),
    st.booleans(),
)
def test_compress_never_adds_weights(model_x, p, prune):
    model, x = model_x
    before = _params(model)
    method = "corenet+" if prune and p["method"] == "corenet" else p["method"]
    if method == "corenet++" and x.shape[0] < 2:  # needs one point for S and one for T
        with pytest.raises(ValueError, match="at least 2 data points"):
            compress(model, x, method=method, eps=p["eps"], seed=0)
        return
    prune = method in ("corenet+", "corenet++")
    res = compress(
        model,
        x,
        method=method,
        eps=p["eps"],
        delta=p["delta"],
        K=p["K"],
        include_kappa=p["include_kappa"],
        tight=p["tight"],
        seed=0,
    )
    # the original is untouched
    for a, b in zip(before, model.parameters(), strict=True):
        assert torch.equal(a, b)
    assert res.nnz <= res.nnz_original
    new = _linears(res.model)
    actual = sum(int((_full(lin) != 0).sum()) for lin in new)
    assert actual == res.nnz
    for lay in res.report.layers:
        assert lay.nnz_after <= lay.nnz_before
    if not prune:
        assert layer_widths(res.model) == layer_widths(model)
        if method != "svd":
            # sampling and pruning never create an edge or flip a sign
            for old, lin in zip(_linears(model), new, strict=True):
                w0, w1 = _full(old), _full(lin)
                assert bool(((w1 != 0) <= (w0 != 0)).all())
                assert bool((torch.sign(w1[w1 != 0]) == torch.sign(w0[w1 != 0])).all())
    assert res.certified_eps is None or res.certified_eps >= 0
    assert bool(torch.isfinite(res.model(x)).all())


@pytest.mark.filterwarnings("ignore:data has .* points")
@given(
    network_and_inputs(n=st.integers(1, 40), dtype=st.sampled_from([torch.float32, torch.float64])),
    st.sampled_from(METHODS),
    st.integers(0, 2**32 - 1),
)
def test_compress_is_deterministic_bit_for_bit(model_x, method, seed):
    model, x = model_x
    kw = {"method": method, "eps": 0.5, "K": 2.0}  # K > 1 given: the data may leave no V
    a = compress(model, x, **kw, seed=seed)
    b = compress(model, x, **kw, seed=seed)
    c = compress(model, x, **kw, generator=torch.Generator().manual_seed(seed))
    for r in (b, c):
        for p, q in zip(a.model.parameters(), r.model.parameters(), strict=True):
            assert p.dtype == q.dtype == x.dtype
            assert torch.equal(p, q)
        assert r.nnz == a.nnz


def test_different_seeds_give_different_samples():
    net = build_relu_network((60, 40, 10), seed=5)
    x = make_inputs(300, 60, seed=6)
    a = compress(net, x, keep=0.2, seed=1)
    b = compress(net, x, keep=0.2, seed=2)
    assert not torch.equal(a.model[0].weight, b.model[0].weight)


# ---------------------------------------------------------------------------------------------
# 7. Budget mode: expected kept count within 1%, realised count concentrated
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "kappa"),
    [({"keep": 0.2}, False), ({"keep": 0.2}, True), ({"nnz": 1500}, False), ({"keep": 0.6}, None)],
)
def test_budget_mode_hits_the_budget(kwargs, kappa):
    # 100-80-60-10 with biases: 13,550 weights (>= 10^4, where budget mode promises 1%).
    # Realised nnz = sum over parts of the indicators 1[c_j > 0]; within a part these are
    # monotone functions of disjoint multinomial counts, hence negatively associated
    # (Dubhashi & Ranjan 1998), and parts are independent, so the Chernoff bounds hold:
    #   P(X >= (1+d) mu) <= exp(-d^2 mu / (2+d)),  P(X <= (1-d) mu) <= exp(-d^2 mu / 2).
    # With each tail set to 5e-7 the false-failure rate is <= 1e-6.
    net = build_relu_network((100, 80, 60, 10), seed=3)
    x = make_inputs(500, 100, seed=4)
    res = compress(net, x, seed=11, include_kappa=kappa, **kwargs)
    assert res.nnz_original == 100 * 80 + 80 + 80 * 60 + 60 + 60 * 10 + 10
    budget = kwargs.get("nnz", kwargs.get("keep", 0) * res.nnz_original)
    mu = res.report.expected_nnz
    assert abs(mu - budget) <= 0.01 * budget
    assert abs(sum(lay.expected_kept for lay in res.report.layers) - mu) <= 1e-6 * mu
    log_t = math.log(1 / 5e-7)
    d_low = math.sqrt(2 * log_t / mu)
    d_high = (log_t + math.sqrt(log_t**2 + 8 * mu * log_t)) / (2 * mu)  # d^2 mu = log_t (2+d)
    assert (1 - d_low) * mu <= res.nnz <= (1 + d_high) * mu, (res.nnz, mu, d_low, d_high)
    assert res.nnz <= res.nnz_original


def test_budget_expected_count_matches_bounds_formula():
    # The expected kept count the sampler reports is sum_j 1 - (1 - q_j)^m over the parts,
    # recomputed here from sensitivities on S = all data (data has exactly |S| points).
    net = build_relu_network((30, 20, 5), seed=9)
    arch = layer_widths(net)
    eta, eta_star = sum(arch[1:]), max(arch[1:-1])
    size_s = sensitivity_set_size(eta, eta_star, 0.1)
    x = make_inputs(size_s, 30, seed=10)
    res = compress(net, x, keep=0.3, delta=0.1, seed=0)
    acts = _layer_inputs(net, x)
    total = 0.0
    for lin, a, lay in zip(_linears(net), acts, res.report.layers, strict=True):
        sens = empirical_sensitivity(lin.weight, lin.bias, a)
        qp, qn = sens.probabilities()
        assert lay.draws_min >= 1
        total += lay.expected_kept
        # a lower bound: every active part keeps at least one edge
        active = int((sens.total_positive > 0).sum() + (sens.total_negative > 0).sum())
        assert lay.expected_kept >= active - 1e-9
        # an upper bound: no part keeps more than its sampleable edges
        q = torch.cat([qp, qn]).numpy()
        assert lay.expected_kept <= float((q > 0).sum()) + 1e-9
        assert lay.expected_kept <= float(expected_distinct_edges(q, lay.draws_max).sum()) + 1e-6
    assert abs(total - res.report.expected_nnz) <= 1e-9 * total


# ---------------------------------------------------------------------------------------------
# 8. Guarantee mode on a tiny network: the theorem keeps everything; outputs within (1 +- eps)
# ---------------------------------------------------------------------------------------------


def _tiny_setting(law: str, eps: float, delta: float, arch=(4, 5, 3)):
    """A tiny net and data with exactly |S| points, so S is all of the data."""
    net = build_relu_network(arch, weight_law=law, seed=1)
    eta, eta_star = sum(arch[1:]), max(arch[1:-1])
    x = make_inputs(sensitivity_set_size(eta, eta_star, delta), arch[0], seed=2)
    probs = []
    for lin, a in zip(_linears(net), _layer_inputs(net, x), strict=True):
        qp, qn = empirical_sensitivity(lin.weight, lin.bias, a).probabilities()
        probs.append(torch.cat([qp, qn]).flatten())
    return net, x, probs


def test_guarantee_mode_keeps_everything_and_holds_all_positive_net():
    # Rigorous, assumption-free version. All weights and biases are positive and the inputs
    # non-negative, so every hidden pre-activation is > 0 and every term of every sum is >= 0.
    # If every kept weight satisfies |w_hat_j / w_j - 1| <= gamma, induction over the two
    # layers gives f_hat(x) in [(1 - gamma)^2, (1 + gamma)^2] f(x) for EVERY input x; with
    # gamma = 0.2 that is inside (1 +- 0.44), within eps = 0.5. Since w_hat_j / w_j =
    # c_j / (m q_j) with c_j ~ Bin(m, q_j), Chernoff gives P(|c_j - m q_j| > gamma m q_j)
    # <= 2 exp(-gamma^2 m q_j / 3), decreasing in m; summing over edges with m = the layer's
    # smallest draw count bounds the chance B that any weight is off. B < 1e-8 is asserted,
    # so the false-failure rate of "no held-out input fails" is <= 1e-8 per compression,
    # <= 5e-8 for the five compressions. Edges can only be dropped if q_j = 0: every input
    # column is non-zero somewhere on S (asserted), so every q_j > 0 and the theorem's sizes
    # (m >= 1e6 with kappa) keep everything: a missed edge has probability
    # (1 - q_j)^m <= exp(-m q_j), also summed and bounded (< 1e-30).
    eps, delta, gamma = 0.5, 0.1, 0.2
    net, x, probs = _tiny_setting("all_positive", eps, delta)
    assert bool((x > 0).any(dim=0).all())
    assert all(bool((q[: q.numel() // 2] > 0).all()) for q in probs)  # every positive part edge
    fresh = make_inputs(1000, 4, distribution="nonnegative", seed=3)
    f = net(fresh)
    for seed in range(5):
        res = compress(net, x, eps=eps, delta=delta, K=2.0, seed=seed)  # S is all of x
        assert res.nnz == res.nnz_original  # the theorem's sizes keep everything
        assert res.certified_eps is not None and res.certified_eps <= eps
        miss, off = 0.0, 0.0
        for q, lay in zip(probs, res.report.layers, strict=True):
            m, qa = lay.draws_min, q[q > 0].double()
            assert m >= 1e6
            miss += float(torch.exp(-m * qa).sum())
            off += float((2 * torch.exp(-(gamma**2) * m * qa / 3)).sum())
        assert miss < 1e-30 and off < 1e-8
        err = (res.model(fresh) - f).abs()
        assert bool((err <= eps * f.abs()).all()), float((err / f.abs()).max())
        # the margin is wide: gamma-level errors would already be far below eps
        assert bool((err <= ((1 + gamma) ** 2 - 1) * f.abs()).all())


def test_guarantee_mode_keeps_everything_signed_net():
    # Mixed-sign Gaussian weights. The theorem's sizes (m >= 1e6 draws per part with kappa)
    # keep every edge of positive sensitivity: a miss has probability <= exp(-m q_j), summed
    # below and asserted < 1e-30. The output guarantee (probability >= 1 - delta over the
    # draws and a fresh x) holds under Assumption 1 with K = 2, K' = 3. We run T independent
    # compressions, each checked on its own fresh input, so under the assumption the failure
    # count is Binomial(T, p <= delta), and k = binom.isf(5e-7, T, delta) gives a
    # false-failure rate <= 5e-7 (+ 1e-30). Caveat, by design of this net: hidden neuron 0 is
    # inactive on all of S but fires on ~2.5% of fresh inputs; its outgoing edges have zero
    # sensitivity and are dropped, so Assumption 1 is not exact here (CoreNet+'s argument counts
    # this in the failure probability); it is the only source of failures seen while writing this
    # test (0 of these 100 fresh inputs, 1 of 40 in another draw, relative error 19).
    eps, delta, T = 0.5, 0.1, 100
    net, x, probs = _tiny_setting("gaussian", eps, delta)
    sampleable = sum(int((q > 0).sum()) for q in probs)
    fresh = make_inputs(T, 4, distribution="nonnegative", seed=3)
    failures = 0
    for seed in range(T):
        res = compress(net, x, eps=eps, delta=delta, K=2.0, seed=seed)  # S is all of x
        assert res.certified_eps is not None and res.certified_eps <= eps
        assert res.nnz == sampleable  # everything that can be kept is kept
        if seed == 0:
            miss = 0.0
            for q, lay in zip(probs, res.report.layers, strict=True):
                assert lay.draws_min >= 1e6
                miss += float(torch.exp(-lay.draws_min * q[q > 0].double()).sum())
            assert miss < 1e-30
        f = net(fresh[seed : seed + 1])
        err = (res.model(fresh[seed : seed + 1]) - f).abs()
        failures += int(bool((err > eps * f.abs()).any()))
    assert failures <= binom.isf(5e-7, T, delta), failures
