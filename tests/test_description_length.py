"""Description lengths from first principles: exact integer counts against the floating-point
code, the stars-and-bars and multinomial counts by enumeration, and the code length of a tiny
network computed by hand.

Deterministic (exact arithmetic and fixed inputs): no false failures.
"""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from netcoreset.bounds import (
    ARITHMETIC_OVERHEAD_BITS,
    arithmetic_coding_bits,
    codebook_bits,
    count_bits,
    count_table_bits,
    describe_network,
    fixed_width_bits,
    multinomial_bits,
    occam_bound,
    permutation_credit_bits,
    positions_bits,
)

# --- the pieces ---------------------------------------------------------------------------


def test_count_bits_is_ceil_log2_n_plus_one():
    for N in range(0, 5000):
        # the smallest b with 2^b >= N + 1 values, by exact integer search
        b = 0
        while 2**b < N + 1:
            b += 1
        assert count_bits(N) == b
    assert count_bits(235500) == 18 and count_bits(2**40 - 1) == 40


def test_positions_bits_exact_small_cases():
    for N in range(0, 40):
        for q in range(0, N + 1):
            exact = math.log2(math.comb(N, q))
            got = positions_bits(N, q)
            assert got >= exact and got == pytest.approx(exact, rel=1e-14, abs=0), (N, q)
    assert positions_bits(4, 1) == 2.0 and positions_bits(8, 4) == pytest.approx(math.log2(70))
    assert positions_bits(10, 0) == 0.0 == positions_bits(10, 10)


def test_positions_bits_large_cases_against_exact_integers():
    # the Stirling path (min(q, N - q) > 1000) against exact big-integer binomials
    for N, q in ((235500, 10000), (235500, 230000), (30000, 15000), (2001, 1001)):
        exact = math.log2(math.comb(N, q))
        got = positions_bits(N, q)
        assert got >= exact, (N, q)  # rounded up, never below
        assert got == pytest.approx(exact, rel=1e-13), (N, q)
        assert positions_bits(N, N - q) == got  # symmetric


def test_fixed_width_and_codebook_bits():
    assert [fixed_width_bits(10, r) for r in (1, 2, 3, 4, 5, 16, 17)] == [0, 10, 20, 20, 30, 40, 50]
    assert codebook_bits(16) == 512.0 and codebook_bits(16, 16) == 256.0
    assert codebook_bits(256, kind="uniform") == 64.0


def test_count_table_bits_counts_the_compositions():
    # log2 of the number of (c_1..c_r) >= 0 with sum q, enumerated
    for q in range(0, 7):
        for r in range(1, 5):
            n_comp = sum(1 for c in itertools.product(range(q + 1), repeat=r) if sum(c) == q)
            assert count_table_bits(q, r) == pytest.approx(math.log2(n_comp), rel=1e-14, abs=0)
            assert count_table_bits(q, r, how="fixed") == r * count_bits(q)


def test_multinomial_bits_counts_the_sequences_and_is_below_the_entropy():
    rng = np.random.default_rng(0)
    for _ in range(20):
        c = rng.integers(0, 4, size=3)
        q = int(c.sum())
        # number of sequences over 3 symbols with these counts, enumerated
        n_seq = sum(
            1
            for s in itertools.product(range(3), repeat=q)
            if all(s.count(j) == c[j] for j in range(3))
        )
        assert multinomial_bits(c) == pytest.approx(math.log2(n_seq), rel=1e-14, abs=0)
    # the enumerative code never exceeds q H(c/q) bits (the empirical entropy)
    for c in ([5000, 3000, 2000], [10, 0, 1], [1, 1, 1, 1]):
        q = sum(c)
        h = -sum(ci / q * math.log2(ci / q) for ci in c if ci)
        assert multinomial_bits(c) <= q * h + 1e-9
    big = [20000, 15000, 5000, 1]  # the Stirling path, against exact integers
    exact = math.log2(math.factorial(40001) // math.prod(math.factorial(v) for v in big))
    assert multinomial_bits(big) >= exact and multinomial_bits(big) == pytest.approx(
        exact, rel=1e-13
    )


def test_arithmetic_coding_bits_is_table_plus_symbols_plus_overhead():
    c = [2, 1]
    # table log2 C(4, 1) = 2, symbols log2(3!/(2! 1!)) = log2 3, overhead 2
    assert arithmetic_coding_bits(c) == pytest.approx(2 + math.log2(3) + 2)
    assert arithmetic_coding_bits(c, overhead_bits=0) == pytest.approx(2 + math.log2(3))
    assert ARITHMETIC_OVERHEAD_BITS == 2.0
    # a skewed distribution is far cheaper than fixed width: 1000 symbols of 16 levels
    skew = [900, 50, 20, 10, 5, 5, 5, 5] + [0] * 8
    assert arithmetic_coding_bits(skew) < 0.5 * fixed_width_bits(1000, 16)


def test_permutation_credit_bits():
    assert permutation_credit_bits([3, 2]) == pytest.approx(math.log2(12))
    assert permutation_credit_bits([3, 2]) <= math.log2(12)  # rounded down: a credit
    big = permutation_credit_bits([300, 100])
    assert big == pytest.approx(math.log2(math.factorial(300) * math.factorial(100)), rel=1e-14)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: positions_bits(3, 4), r"^q must be an integer in \[0, N\]"),
        (lambda: positions_bits(-1, 0), r"^N must be an integer >= 0"),
        (lambda: fixed_width_bits(3, 0), r"^levels must be an integer >= 1"),
        (lambda: multinomial_bits([1, -1]), r"^symbol_counts must hold integer counts"),
        (lambda: multinomial_bits([0.5, 1]), r"^symbol_counts must hold integer counts"),
        (lambda: count_table_bits(3, 2, how="x"), r"^how must be 'composition' or 'fixed'"),
        (lambda: codebook_bits(4, kind="x"), r"^kind must be 'table' or 'uniform'"),
        (lambda: arithmetic_coding_bits([1], overhead_bits=-1), r"^overhead_bits must be"),
    ],
)
def test_pieces_reject_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --- a tiny network, by hand -------------------------------------------------------------

# A 2-2-1 network with biases (the last column of each matrix), already quantised to the
# 4-level codebook (-0.5, 0.5, 0.25, 1.0):
W1 = np.array([[0.5, 0.0, 0.5], [0.0, -0.5, 0.0]])  # 6 slots, 3 non-zeros
W2 = np.array([[1.0, 0.0, 0.25]])  # 3 slots, 2 non-zeros
CODEBOOK = np.array([-0.5, 0.5, 0.25, 1.0])


def _layer_summary(w):
    nz = w[w != 0]
    symbols = np.array([int(np.flatnonzero(CODEBOOK == v)[0]) for v in nz])
    return w.size, nz.size, np.bincount(symbols, minlength=CODEBOOK.size)


def test_tiny_network_by_hand_fixed_width():
    (s1, q1, c1), (s2, q2, c2) = _layer_summary(W1), _layer_summary(W2)
    assert (s1, q1, c1.tolist(), s2, q2, c2.tolist()) == (6, 3, [1, 2, 0, 0], 3, 2, [0, 0, 1, 1])
    d = describe_network([s1, s2], [q1, q2], [c1, c2], 4, choices={"keep ratio": 8, "levels": 4})
    # layer 1: count in 0..6: 3 bits; positions log2 C(6, 3) = log2 20 = 4.321928;
    #          values 3 x ceil(log2 4) = 6; codebook 4 x 32 = 128    -> 141.321928
    # layer 2: count in 0..3: 2 bits; positions log2 C(3, 2) = log2 3 = 1.584963;
    #          values 2 x 2 = 4; codebook 128                          -> 135.584963
    # choices: log2 8 + log2 4 = 5 bits;  total 281.906891
    l1, l2 = d.layers
    assert (l1.count_bits, l1.value_bits, l1.codebook_bits) == (3, 6.0, 128.0)
    assert (l2.count_bits, l2.value_bits, l2.codebook_bits) == (2, 4.0, 128.0)
    assert l1.positions_bits == pytest.approx(math.log2(20))
    assert l2.positions_bits == pytest.approx(math.log2(3))
    assert l1.total_bits == pytest.approx(141.321928, abs=1e-6)
    assert l2.total_bits == pytest.approx(135.584963, abs=1e-6)
    assert d.breakdown() == pytest.approx(
        {
            "architecture": 0.0,
            "counts": 5.0,
            "positions": math.log2(60),
            "values": 10.0,
            "count_tables": 0.0,
            "coding_overhead": 0.0,
            "codebooks": 256.0,
            "choices": 5.0,
        }
    )
    assert d.total_bits == pytest.approx(281.906891, abs=1e-6)
    assert d.total_nats == pytest.approx(281.906891 * math.log(2), abs=1e-6)
    assert [(c.name, c.options, c.weight, c.bits) for c in d.choices] == [
        ("keep ratio", 8, 0.125, 3.0),
        ("levels", 4, 0.25, 2.0),
    ]


def test_tiny_network_by_hand_arithmetic_and_shared_codebook():
    (s1, q1, c1), (s2, q2, c2) = _layer_summary(W1), _layer_summary(W2)
    d = describe_network([s1, s2], [q1, q2], [c1, c2], 4, value_coding="arithmetic")
    # layer 1 values: table log2 C(3+3, 3) = log2 20, symbols log2(3!/(1! 2!)) = log2 3, +2
    # layer 2 values: table log2 C(2+3, 3) = log2 10, symbols log2(2!/(1! 1!)) = 1, +2
    l1, l2 = d.layers
    assert l1.count_table_bits == pytest.approx(math.log2(20))
    assert l1.value_bits == pytest.approx(math.log2(3)) and l1.overhead_bits == 2.0
    assert l2.count_table_bits == pytest.approx(math.log2(10))
    assert l2.value_bits == pytest.approx(1.0) and l2.overhead_bits == 2.0
    expected = 5 + math.log2(60) + math.log2(200) + math.log2(3) + 1 + 4 + 256
    assert d.total_bits == pytest.approx(expected)
    shared = describe_network([s1, s2], [q1, q2], [c1, c2], 4, codebook="shared")
    assert shared.breakdown()["codebooks"] == 128.0 and shared.shared_codebook_bits == 128.0
    assert shared.total_bits == pytest.approx(281.906891 - 5 - 128, abs=1e-6)
    fixed_in_advance = describe_network([s1, s2], [q1, q2], None, 4, codebook="none")
    assert fixed_in_advance.breakdown()["codebooks"] == 0.0


def test_describe_network_choices_weights_credit_and_json():
    d = describe_network(
        [6, 3],
        [3, 0],  # an empty layer needs no values and no codebook
        None,
        [4, 2],
        choices={"method": 3},
        choice_weights={"gamma": 0.25},
        hidden_widths=[2],
    )
    assert d.layers[1].codebook_bits == 0.0 and d.layers[1].value_bits == 0.0
    assert d.breakdown()["choices"] == pytest.approx(math.log2(3) + 2.0)
    assert d.permutation_credit_bits == pytest.approx(1.0)
    before = d.total_bits
    out = json.loads(json.dumps(d.to_dict()))
    assert out["permutation_credit_applied"] is False
    assert out["total_bits"] == pytest.approx(before)  # the credit is NOT subtracted
    assert out["terms_nats"]["choices"] == pytest.approx(out["terms_bits"]["choices"] * math.log(2))
    assert [c["name"] for c in out["choices"]] == ["method", "gamma"]
    assert out["layers"][0]["total_bits"] == pytest.approx(d.layers[0].total_bits)
    # the description feeds the Occam bound directly
    assert occam_bound(0, 1000, d.total_bits, 0.05).description_bits == d.total_bits


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"layer_nnz": [7]}, r"^layer_nnz\[0\] = 7 exceeds layer_slots\[0\] = 6"),
        ({"layer_nnz": [1, 1]}, r"^layer_nnz needs one entry per layer"),
        ({"symbol_counts": [[1, 1]]}, r"^symbol_counts\[0\] sums to 2, not layer_nnz\[0\] = 3"),
        ({"symbol_counts": [[1, 1, 1, 0, 0]]}, r"^symbol_counts\[0\] has 5 entries but levels"),
        ({"symbol_counts": None, "value_coding": "arithmetic"}, r"needs symbol_counts"),
        ({"value_coding": "huffman"}, r"^value_coding must be one of fixed, arithmetic"),
        ({"codebook": "global"}, r"^codebook must be one of per_layer, shared, none"),
        ({"levels": 0}, r"^levels must be an integer >= 1"),
        ({"choices": {"keep": 0}}, r"^choices\['keep'\] must be an integer >= 1"),
        ({"choice_weights": {"g": 2.0}}, r"^choice_weights\['g'\] must be a real number in"),
    ],
)
def test_describe_network_rejects_bad_input(kwargs, match):
    args = {"layer_slots": [6], "layer_nnz": [3], "symbol_counts": [[1, 2, 0, 0]], "levels": 4}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        describe_network(**args)
