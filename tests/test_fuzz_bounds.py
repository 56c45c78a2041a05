"""Fuzz: every public function of :mod:`netcoreset.bounds` with wild arguments returns a valid
result or raises ``ValueError`` (see ``tests/_fuzz.py`` for the classification)."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
from _fuzz import Wrong, check, examples, one_wild, wild_numbers
from hypothesis import given
from hypothesis import strategies as st

from netcoreset import bounds
from netcoreset.bounds import serialization

unit = st.floats(0.001, 0.999)
positive = st.floats(1e-3, 1e3)
above_one = st.floats(1.0, 1e3, exclude_min=True)  # Assumption 1's K (wild values go below)
small_int = st.integers(1, 2000)
sens = st.one_of(st.floats(0, 100), st.lists(st.floats(0, 10), min_size=1, max_size=4))
arch = st.lists(st.integers(1, 50), min_size=2, max_size=5)
flag = st.booleans()


def _finite_or_inf(value: Any) -> None:
    arr = np.asarray(value, dtype=np.float64)
    if np.isnan(arr).any():
        raise Wrong(f"NaN in the result {value!r}")


def _sample_size(args: dict[str, Any]) -> Any:
    def validate(m: Any) -> None:
        arr = np.asarray(m, dtype=np.float64)
        if np.isnan(arr).any() or (arr < 0).any() or (arr != np.floor(arr)).any():
            raise Wrong(f"sample size {m!r} is not a whole number >= 0")
        if np.ndim(m) == 0 and float(args["sensitivity_sum"]) > 0 and m < 2**52:
            e = bounds.certified_eps(
                m,
                args["sensitivity_sum"],
                args["delta"],
                args["eta"],
                K=args["K"],
                tight=args["tight"],
            )
            if not e <= float(args["eps"]) * (1 + 1e-12):
                raise Wrong(f"certified_eps(sample_size(eps={args['eps']})) = {e} > eps")

    return validate


def _certified(args: dict[str, Any]) -> Any:
    def validate(e: Any) -> None:
        arr = np.asarray(e, dtype=np.float64)
        if np.isnan(arr).any() or (arr < 0).any():
            raise Wrong(f"certified eps {e!r} is NaN or negative")
        if np.ndim(e) == 0 and 0 < e < 1 and float(args["m"]) < 2**52:
            m = bounds.sample_size(
                args["sensitivity_sum"],
                e,
                args["delta"],
                args["eta"],
                K=args["K"],
                tight=args["tight"],
            )
            if m > args["m"]:
                raise Wrong(f"sample_size(certified_eps(m={args['m']})) = {m} > m")

    return validate


@examples(120)
@given(data=st.data())
def test_sample_size_and_its_inverse(data):
    args = one_wild(
        data.draw,
        {
            "sensitivity_sum": st.floats(0, 100),
            "eps": unit,
            "delta": unit,
            "eta": small_int,
            "K": above_one,
            "tight": flag,
        },
    )
    check(lambda: bounds.sample_size(**args), validate=_sample_size(args))


@examples(120)
@given(data=st.data())
def test_certified_eps(data):
    args = one_wild(
        data.draw,
        {
            "m": st.one_of(st.integers(0, 10**6), st.sampled_from([0, 10**18, 2**70])),
            "sensitivity_sum": st.floats(0, 100),
            "delta": unit,
            "eta": small_int,
            "K": above_one,
            "tight": flag,
        },
    )
    check(lambda: bounds.certified_eps(**args), validate=_certified(args))


def _whole_at_least_one(v: Any) -> None:
    if not isinstance(v, int) or v < 1:
        raise Wrong(f"{v!r} is not an integer >= 1")


@examples(80)
@given(data=st.data())
def test_sensitivity_set_size(data):
    args = one_wild(
        data.draw, {"eta": small_int, "eta_star": small_int, "delta": unit, "k_prime": positive}
    )
    check(lambda: bounds.sensitivity_set_size(**args), validate=_whole_at_least_one)


def _network_ok(nb: Any) -> None:
    if not 0.0 <= nb.kept_fraction <= 1.0:
        raise Wrong(f"kept_fraction {nb.kept_fraction} outside [0, 1]")
    json.loads(json.dumps(serialization.to_jsonable(nb.to_dict()), allow_nan=False))


@examples(80)
@given(data=st.data())
def test_network_bound(data):
    args = one_wild(
        data.draw,
        {
            "arch": st.one_of(
                arch, arch, st.sampled_from(["4,3,2", "", "1", "4,,2", "4,x", "0,1"])
            ),
            "eps": unit,
            "delta": unit,
            "K": above_one,
            "k_prime": positive,
            "sensitivity_sum": sens,
            "mean_cancellation": st.one_of(
                st.floats(1, 50), st.lists(st.floats(1, 5), min_size=1, max_size=4)
            ),
            "include_kappa": flag,
            "tight": flag,
            "bias": flag,
        },
    )
    check(lambda: bounds.network_bound(**args), validate=_network_ok)


_SMALL_FUNCTIONS = {
    "kappa": (bounds.kappa, (small_int, small_int, unit)),
    "lambda_star": (bounds.lambda_star, (small_int, small_int)),
    "delta_hat": (bounds.delta_hat, (st.lists(st.floats(1, 10), min_size=1), st.floats(0, 5))),
    "delta_hat_product": (bounds.delta_hat_product, (st.lists(st.floats(1, 10), min_size=1),)),
    "eps_prime": (bounds.eps_prime, (unit, st.integers(1, 6))),
    "layer_eps": (bounds.layer_eps, (unit, st.lists(st.floats(1, 10), min_size=1, max_size=4))),
    "network_eps": (
        bounds.network_eps,
        (st.lists(unit, min_size=2, max_size=2), st.lists(st.floats(1, 9), min_size=2, max_size=2)),
    ),
    "default_tau": (bounds.default_tau, (unit,)),
    "amplified_log_ratio": (bounds.amplified_log_ratio, (small_int, unit, st.integers(1, 20))),
    "num_neurons": (bounds.num_neurons, (arch,)),
    "max_hidden_width": (bounds.max_hidden_width, (arch,)),
    "max_part_size": (bounds.max_part_size, (arch,)),
    "expected_distinct_edges": (
        bounds.expected_distinct_edges,
        (st.lists(st.floats(0, 1), min_size=1, max_size=5), st.integers(0, 100)),
    ),
    "draws_for_eps": (
        lambda s, e, d, n, K: bounds.draws_for_eps(s, e, d, n, K=K),
        (st.floats(0, 10), unit, unit, small_int, above_one),
    ),
    "check_architecture": (bounds.check_architecture, (arch,)),
}


@examples(200)
@given(data=st.data(), name=st.sampled_from(sorted(_SMALL_FUNCTIONS)))
def test_small_functions(data, name):
    fn, arg_strategies = _SMALL_FUNCTIONS[name]
    named = one_wild(data.draw, {str(i): s for i, s in enumerate(arg_strategies)})
    args = [named[str(i)] for i in range(len(arg_strategies))]
    check(lambda: fn(*args), validate=_finite_or_inf)


@examples(60)
@given(data=st.data())
def test_compressed_size_bound(data):
    args = one_wild(
        data.draw,
        {
            "sensitivity_sums": st.lists(
                st.lists(st.floats(0, 10), min_size=1, max_size=3), min_size=1, max_size=3
            ),
            "delta_hat_products": st.lists(st.floats(1, 10), min_size=1, max_size=3),
            "eps": unit,
            "delta": unit,
            "eta": small_int,
            "K": above_one,
        },
    )
    check(lambda: bounds.compressed_size_bound(**args), validate=_finite_or_inf)


@examples(60)
@given(
    value=st.recursive(
        st.one_of(wild_numbers(), st.text(max_size=3), st.sampled_from(["inf", "nan", "-inf"])),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)
        ),
        max_leaves=8,
    )
)
def test_serialization_round_trip(value):
    """to_jsonable gives strict JSON; from_jsonable gives back every float, inf and nan."""

    def validate(doc: Any) -> None:
        text = json.dumps(doc, allow_nan=False)
        back = serialization.from_jsonable(json.loads(text))
        if not _same(back, value):
            raise Wrong(f"round trip changed {value!r} into {back!r}")

    check(lambda: serialization.to_jsonable({"v": value}), validate=validate, errors=(ValueError,))


def _same(back: Any, value: Any) -> bool:
    back = back["v"] if isinstance(back, dict) and set(back) >= {"v"} else back
    return _eq(back, value)


def _eq(a: Any, b: Any) -> bool:
    if isinstance(b, (float, np.floating)) and math.isnan(float(b)):
        return isinstance(a, float) and math.isnan(a)
    if isinstance(b, (tuple, list)):
        return isinstance(a, list) and len(a) == len(b) and all(map(_eq, a, b))
    if isinstance(b, dict):
        return isinstance(a, dict) and all(_eq(a.get(str(k)), v) for k, v in b.items())
    if isinstance(b, (bool, np.bool_)):
        return a is bool(b)
    if isinstance(b, str):
        return a == b
    if isinstance(b, (int, float, np.integer, np.floating)) and not isinstance(b, bool):
        return a == b
    return True  # other objects: to_jsonable's business is numbers and containers
