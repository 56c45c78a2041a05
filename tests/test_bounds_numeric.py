"""Numeric bounds: hand-computed values, monotonicity, inverses, bad input, the kappa finding.

All checks here are deterministic (no randomness besides hypothesis, which the ``ci`` profile
derandomises), so none has a false-failure rate.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from netcoreset.bounds import (
    certified_eps,
    compressed_size_bound,
    delta_hat,
    delta_hat_product,
    draws_for_eps,
    eps_prime,
    expected_distinct_edges,
    kappa,
    lambda_star,
    layer_eps,
    max_hidden_width,
    network_bound,
    num_neurons,
    sample_size,
    sensitivity_set_size,
)

# Strategies for the paper's quantities (ranges wide enough to reach the 2**62 float branch).
sens = st.floats(0.01, 1e4)
eps_st = st.floats(1e-3, 0.999)
delta_st = st.floats(1e-6, 0.999)
eta_st = st.integers(1, 10**6)
K_st = st.floats(1.0, 100.0, exclude_min=True)  # Assumption 1 needs K > 1
tight_st = st.booleans()


# ------------------------------------------------------------------------------------------
# Hand-computed values
# ------------------------------------------------------------------------------------------


def test_sample_size_hand_values():
    # log(8*410/0.05) = log(65600) = 11.091331; 8*2*2*11.091331/0.1^2 = 35492.26 -> 35493
    assert sample_size(2.0, 0.1, 0.05, 410, K=2.0) == 35493
    # tight: log(8*10/0.1) = log(800) = 6.684612; (6+2*0.5)*2*6.684612/0.25 = 374.34 -> 375
    assert sample_size(1.0, 0.5, 0.1, 10, K=2.0, tight=True) == 375
    # 8-form, same inputs: 8*2*6.684612/0.25 = 427.82 -> 428
    assert sample_size(1.0, 0.5, 0.1, 10, K=2.0) == 428
    # K scales linearly: K=4, S=1, eps=0.5, delta=0.1, eta=1: 8*4*log(80)/0.25
    # = 32*4.382027/0.25 = 560.90 -> 561
    assert sample_size(1.0, 0.5, 0.1, 1, K=4.0) == 561
    # an inactive part (S = 0) gets no draws
    assert sample_size(0.0, 0.5, 0.1, 10, K=2.0) == 0


def test_certified_eps_hand_values():
    # sqrt(8*2*2*log(65600)/35493) = sqrt(32*11.091331/35493) = 0.09999896
    want8 = math.sqrt(32 * math.log(65600.0) / 35493)
    assert certified_eps(35493, 2.0, 0.05, 410, K=2.0) == pytest.approx(want8, rel=1e-12)
    # tight: c = 2*1*log(800) = 13.369225; (c + sqrt(c^2 + 6*375*c))/375
    c = 2.0 * math.log(800.0)
    want = (c + math.sqrt(c * c + 6 * 375 * c)) / 375
    assert certified_eps(375, 1.0, 0.1, 10, K=2.0, tight=True) == pytest.approx(want, rel=1e-12)
    assert certified_eps(0, 1.0, 0.1, 10, K=2.0) == math.inf  # no draws certify nothing
    assert certified_eps(5, 0.0, 0.1, 10, K=2.0) == 0.0  # an inactive part is exact


def test_K_is_required_and_must_exceed_1_with_the_message_of_compress():
    from netcoreset.sampler import CompressionConfig

    with pytest.raises(ValueError) as by_compress:
        CompressionConfig.create(eps=0.5, K=0.5)
    calls = [
        lambda K: sample_size(1.0, 0.5, 0.1, 10, K=K),
        lambda K: certified_eps(10, 1.0, 0.1, 10, K=K),
        lambda K: draws_for_eps(1.0, 0.5, 0.1, 10, K=K),
        lambda K: compressed_size_bound([[1.0]], [1.0], 0.5, 0.1, 3, K=K),
        lambda K: network_bound("4,3", 0.5, 0.1, K=K),
    ]
    for call in calls:
        for bad in (1.0, 1, 0.5):
            with pytest.raises(ValueError, match=r"^K must exceed 1: Assumption 1 asks"):
                call(bad)
        with pytest.raises(ValueError) as info:
            call(0.5)
        assert str(by_compress.value).startswith(str(info.value))  # compress adds a hint
    for fn, args in [
        (sample_size, (1.0, 0.5, 0.1, 10)),
        (certified_eps, (10, 1.0, 0.1, 10)),
        (draws_for_eps, (1.0, 0.5, 0.1, 10)),
        (compressed_size_bound, ([[1.0]], [1.0], 0.5, 0.1, 3)),
        (network_bound, ("4,3", 0.5, 0.1)),
    ]:
        with pytest.raises(TypeError, match="K"):  # no default: the caller chooses K
            fn(*args)


def test_error_budget_hand_values():
    # eta = 300+100+10 = 410, eta* = max(300, 100) = 300
    assert num_neurons((784, 300, 100, 10)) == 410
    assert max_hidden_width((784, 300, 100, 10)) == 300
    assert max_hidden_width((4, 3)) == 3  # L = 2: eta^2
    # |S| = ceil(3*log(8*410*300/0.05)) = ceil(3*16.795113) = ceil(50.385) = 51
    assert sensitivity_set_size(410, 300, 0.05) == 51
    # lambda* = log(410*300)/2 = log(123000)/2 = 5.859970
    assert lambda_star(410, 300) == pytest.approx(5.859969817177277, rel=1e-12)
    # kappa = sqrt(2 lambda*) (1 + sqrt(2 lambda*) log(8*123000/0.05))
    #       = 3.423440 * (1 + 3.423440*16.795113) = 200.2612
    assert kappa(410, 300, 0.05) == pytest.approx(200.26115551852882, rel=1e-12)
    # Delta-hat = max mean (3.0; NaN ignored) + kappa (2.0) = 5.0
    assert delta_hat([1.5, 3.0, float("nan")], 2.0) == 5.0
    # suffix products from the back: [2*3*4, 3*4, 4]
    assert delta_hat_product([2.0, 3.0, 4.0]).tolist() == [24.0, 12.0, 4.0]
    # eps' = 0.48/(2*3) = 0.08; eps_l = 0.08/[24, 12, 4]
    assert eps_prime(0.48, 3) == pytest.approx(0.08)
    assert layer_eps(0.48, [24.0, 12.0, 4.0]) == pytest.approx([0.08 / 24, 0.08 / 12, 0.02])


def test_compressed_size_bound_hand_values():
    # L-1 = 2 layers, suffix 1, S_i = 2, K = 2, eps = 0.5, delta = 0.1, eta = 3:
    # 32*2^2*1*2*2*log(24/0.1)/0.25 = 2048*log(240) = 11224.34 -> 11225, +1 = 11226 per neuron
    out = compressed_size_bound([[2.0, 2.0], [2.0]], [1.0, 1.0], 0.5, 0.1, 3, K=2.0)
    assert out.tolist() == [2 * 11226.0, 11226.0]


def test_network_bound_hand_values_without_kappa():
    # eps_l = 0.5/(2*3*1) = 1/12; m = ceil(8*1*2*log(65600)*144) = ceil(25554.42) = 25555
    nb = network_bound("784,300,100,10", 0.5, 0.05, K=2.0, include_kappa=False)
    assert [lb.draws_per_part for lb in nb.layers] == [25555] * 3
    assert [lb.fan_in for lb in nb.layers] == [785, 301, 101]
    assert nb.total_weights == 785 * 300 + 301 * 100 + 101 * 10


def test_kappa_finding_784_300_100_10():
    """The theorem's kappa (~200 per layer) makes every sample size exceed the fan-in."""
    nb = network_bound("784,300,100,10", 0.1, 0.05, K=2.0)
    assert nb.kappa == pytest.approx(200.26, abs=0.01)
    assert nb.kept_fraction == 1.0
    for lb in nb.layers:
        assert lb.delta_hat == pytest.approx(1.0 + nb.kappa)
        assert lb.draws_per_part > lb.fan_in
        assert lb.kept_fraction == 1.0
    # even the last layer (suffix = Delta-hat ~ 201): eps_l = 0.1/(6*201.26) = 8.28e-5
    assert nb.layers[-1].eps_layer == pytest.approx(0.1 / (6 * (1 + nb.kappa)), rel=1e-12)


# ------------------------------------------------------------------------------------------
# Properties
# ------------------------------------------------------------------------------------------


@given(sens, eps_st, eps_st, delta_st, eta_st, K_st, tight_st)
def test_sample_size_non_increasing_in_eps(S, e1, e2, delta, eta, K, tight):
    lo, hi = sorted((e1, e2))
    assert sample_size(S, lo, delta, eta, K=K, tight=tight) >= sample_size(
        S, hi, delta, eta, K=K, tight=tight
    )


@given(sens, eps_st, delta_st, delta_st, eta_st, K_st, tight_st)
def test_sample_size_non_increasing_in_delta(S, eps, d1, d2, eta, K, tight):
    lo, hi = sorted((d1, d2))
    assert sample_size(S, eps, lo, eta, K=K, tight=tight) >= sample_size(
        S, eps, hi, eta, K=K, tight=tight
    )


@given(sens, sens, eps_st, delta_st, eta_st, K_st, tight_st)
def test_sample_size_non_decreasing_in_S(s1, s2, eps, delta, eta, K, tight):
    lo, hi = sorted((s1, s2))
    assert sample_size(lo, eps, delta, eta, K=K, tight=tight) <= sample_size(
        hi, eps, delta, eta, K=K, tight=tight
    )


@given(sens, eps_st, delta_st, eta_st, K_st, K_st, tight_st)
def test_sample_size_non_decreasing_in_K(S, eps, delta, eta, k1, k2, tight):
    lo, hi = sorted((k1, k2))
    assert sample_size(S, eps, delta, eta, K=lo, tight=tight) <= sample_size(
        S, eps, delta, eta, K=hi, tight=tight
    )


@given(sens, eps_st, delta_st, eta_st, eta_st, K_st, tight_st)
def test_sample_size_non_decreasing_in_eta(S, eps, delta, n1, n2, K, tight):
    lo, hi = sorted((n1, n2))
    assert sample_size(S, eps, delta, lo, K=K, tight=tight) <= sample_size(
        S, eps, delta, hi, K=K, tight=tight
    )


@given(sens, st.floats(1e-3, 1.0, exclude_max=True), delta_st, eta_st, K_st)
def test_tight_form_never_exceeds_eight_form(S, eps, delta, eta, K):
    # 6 + 2 eps <= 8 for eps <= 1
    assert sample_size(S, eps, delta, eta, K=K, tight=True) <= sample_size(S, eps, delta, eta, K=K)


@given(sens, eps_st, delta_st, eta_st, K_st, tight_st)
def test_certified_eps_of_sample_size_is_at_most_eps(S, eps, delta, eta, K, tight):
    m = sample_size(S, eps, delta, eta, K=K, tight=tight)
    assert certified_eps(m, S, delta, eta, K=K, tight=tight) <= eps


@given(st.integers(1, 10**15), sens, delta_st, eta_st, K_st, tight_st)
def test_sample_size_of_certified_eps_is_at_most_m(m, S, delta, eta, K, tight):
    e = certified_eps(m, S, delta, eta, K=K, tight=tight)
    assert 0 < e < math.inf
    assert math.ceil(float(draws_for_eps(S, e, delta, eta, K=K, tight=tight))) <= m
    if e < 1:  # inside the checked domain of sample_size
        assert sample_size(S, e, delta, eta, K=K, tight=tight) <= m


@given(st.integers(1, 10**12), sens, delta_st, eta_st, K_st, tight_st)
def test_certified_eps_is_the_smallest(m, S, delta, eta, K, tight):
    # one step down (1e-9 relative) already needs more than m draws, unless m is tiny
    e = certified_eps(m, S, delta, eta, K=K, tight=tight)
    e_lo = e * (1 - 1e-9)
    assume(e_lo < 1 or tight)
    assert math.ceil(float(draws_for_eps(S, e_lo, delta, eta, K=K, tight=tight))) > m or m < 10


@given(st.lists(st.floats(1e-6, 1.0), min_size=1, max_size=40), st.integers(1, 5000))
def test_expected_distinct_edges_range(weights, m):
    q = np.asarray(weights) / np.sum(weights)
    v = expected_distinct_edges(q, m)
    assert 1.0 - 1e-9 <= v <= min(m, q.size) + 1e-9


@given(
    st.lists(st.floats(0.0, 1.0), min_size=1, max_size=40).filter(lambda w: sum(w) > 0),
    st.integers(0, 5000),
    st.integers(0, 5000),
)
def test_expected_distinct_edges_non_decreasing_in_m(weights, m1, m2):
    q = np.asarray(weights) / np.sum(weights)
    lo, hi = sorted((m1, m2))
    assert expected_distinct_edges(q, lo) <= expected_distinct_edges(q, hi) + 1e-12
    assert expected_distinct_edges(q, lo) <= np.count_nonzero(q) + 1e-9


def test_expected_distinct_edges_exact_cases():
    # 2 draws from (1/2, 1/2): 2*(1 - 1/4) = 1.5; all mass on one edge: 1; m = 0: 0
    assert expected_distinct_edges([0.5, 0.5], 2) == 1.5
    assert expected_distinct_edges([[1.0, 0.0], [0.25, 0.75]], [3, 0]).tolist() == [1.0, 0.0]


@given(
    st.sampled_from(["784,300,100,10", "20,10", "50,40,30,20,10", "8,100,100,3"]),
    eps_st,
    delta_st,
    st.floats(0.5, 20.0),
    st.floats(1.0, 5.0),
    st.booleans(),
    K_st,
)
def test_network_bound_consistency(arch, eps, delta, S, canc, include_kappa, K):
    nb = network_bound(
        arch,
        eps,
        delta,
        K=K,
        sensitivity_sum=S,
        mean_cancellation=canc,
        include_kappa=include_kappa,
    )
    L1 = len(nb.layers)
    for lb in nb.layers:
        assert lb.draws_per_part == sample_size(S, lb.eps_layer, delta, nb.eta, K=K)
        assert lb.eps_layer == pytest.approx(eps / (2 * L1 * lb.delta_hat_product), rel=1e-12)
        # ceil(2a) + 1 >= 2 ceil(a): the theorem's per-neuron term covers both parts' draws
        # (exactly for small values; for large ones the two float routes to the same real
        # number, 8 S K log/eps_l^2 and 32 (L-1)^2 D^2 S K log/eps^2, differ by a few ulps)
        assert lb.nnz_bound >= lb.width * lb.draws_per_neuron * (1 - 1e-12)
        if lb.nnz_bound < 1e9:
            assert lb.nnz_bound >= lb.width * lb.draws_per_neuron
        assert lb.nnz_bound_capped == min(int(lb.nnz_bound), lb.weights)
        assert 0 < lb.kept_fraction <= 1
    d = nb.to_dict()
    assert d["kept_fraction"] == nb.kept_fraction and len(d["layers"]) == L1


# ------------------------------------------------------------------------------------------
# Bad input: ValueError naming the argument
# ------------------------------------------------------------------------------------------

NAN = float("nan")

BAD_CALLS = [
    ("eps", lambda: sample_size(1.0, 0.0, 0.1, 10, K=2.0)),
    ("eps", lambda: sample_size(1.0, 1.0, 0.1, 10, K=2.0)),
    ("eps", lambda: sample_size(1.0, NAN, 0.1, 10, K=2.0)),
    ("eps", lambda: sample_size(1.0, "x", 0.1, 10, K=2.0)),
    ("eps", lambda: sample_size(1.0, 1e-170, 0.1, 10, K=2.0)),  # overflows float64
    ("delta", lambda: sample_size(1.0, 0.5, 0.0, 10, K=2.0)),
    ("delta", lambda: sample_size(1.0, 0.5, 1.0, 10, K=2.0)),
    ("delta", lambda: sample_size(1.0, 0.5, NAN, 10, K=2.0)),
    ("K", lambda: sample_size(1.0, 0.5, 0.1, 10, K=0.0)),
    ("K", lambda: sample_size(1.0, 0.5, 0.1, 10, K=-1.0)),
    ("K", lambda: sample_size(1.0, 0.5, 0.1, 10, K=NAN)),
    ("K", lambda: sample_size(1.0, 0.5, 0.1, 10, K=1.0)),  # Assumption 1 needs K > 1
    ("K", lambda: certified_eps(10, 1.0, 0.1, 10, K=0.5)),
    ("K", lambda: compressed_size_bound([[1.0]], [1.0], 0.5, 0.1, 3, K=1.0)),
    ("eta", lambda: sample_size(1.0, 0.5, 0.1, 0, K=2.0)),
    ("eta", lambda: sample_size(1.0, 0.5, 0.1, 2.5, K=2.0)),
    ("sensitivity_sum", lambda: sample_size(-1.0, 0.5, 0.1, 10, K=2.0)),
    ("sensitivity_sum", lambda: sample_size(NAN, 0.5, 0.1, 10, K=2.0)),
    ("m", lambda: certified_eps(-1, 1.0, 0.1, 10, K=2.0)),
    ("m", lambda: certified_eps(2.5, 1.0, 0.1, 10, K=2.0)),
    ("sensitivity_sum", lambda: certified_eps(10, -2.0, 0.1, 10, K=2.0)),
    ("delta", lambda: sensitivity_set_size(410, 300, 1.5)),
    ("k_prime", lambda: sensitivity_set_size(410, 300, 0.1, k_prime=0.0)),
    ("eta_star", lambda: kappa(410, 0, 0.1)),
    ("eta", lambda: compressed_size_bound([[1.0]], [1.0], 0.5, 0.1, 0, K=2.0)),
    ("arch", lambda: network_bound("", 0.1, 0.1, K=2.0)),
    ("arch", lambda: network_bound("784", 0.1, 0.1, K=2.0)),
    ("arch", lambda: network_bound("784,abc,10", 0.1, 0.1, K=2.0)),
    ("arch", lambda: network_bound("784,3.5,10", 0.1, 0.1, K=2.0)),
    ("arch", lambda: network_bound([784, 0, 10], 0.1, 0.1, K=2.0)),
    ("arch", lambda: network_bound([784, 2.5, 10], 0.1, 0.1, K=2.0)),
    ("arch", lambda: network_bound([5] * 80, 0.1, 0.1, K=2.0)),  # sizes overflow float64
    ("eps", lambda: network_bound("4,3", 1.5, 0.1, K=2.0)),
    ("eps", lambda: network_bound("4,3", NAN, 0.1, K=2.0)),
    ("delta", lambda: network_bound("4,3", 0.1, -0.1, K=2.0)),
    ("K", lambda: network_bound("4,3", 0.1, 0.1, K=0)),
    ("K", lambda: network_bound("4,3", 0.1, 0.1, K=1.0)),
    ("sensitivity_sum", lambda: network_bound("4,3", 0.1, 0.1, sensitivity_sum=-1.0, K=2.0)),
    ("sensitivity_sum", lambda: network_bound("4,3", 0.1, 0.1, sensitivity_sum=[1.0, NAN], K=2.0)),
    ("sensitivity_sum", lambda: network_bound("4,3,2", 0.1, 0.1, sensitivity_sum=[1, 2, 3], K=2.0)),
    ("mean_cancellation", lambda: network_bound("4,3", 0.1, 0.1, mean_cancellation=0.5, K=2.0)),
    ("mean_cancellation", lambda: network_bound("4,3", 0.1, 0.1, mean_cancellation=NAN, K=2.0)),
    ("q", lambda: expected_distinct_edges([0.5, 1.5], 3)),
    ("q", lambda: expected_distinct_edges([-0.5, 0.5], 3)),
    ("m", lambda: expected_distinct_edges([0.5, 0.5], -1)),
]


@pytest.mark.parametrize(
    ("name", "call"), BAD_CALLS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(BAD_CALLS)]
)
def test_bad_input_raises_value_error_naming_the_argument(name, call):
    with pytest.raises(ValueError) as info:
        call()
    assert str(info.value).startswith(name + " ")
