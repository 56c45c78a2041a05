"""Fuzz: the public functions of :mod:`netcoreset.verification` (checker, confidence intervals,
network builders, slack search, experiments) with wild arguments, labels and files return a
valid result or raise ``ValueError`` (see ``tests/_fuzz.py`` for the classification)."""

from __future__ import annotations

import json
import struct
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from _fuzz import Wrong, check, examples, one_wild, strict_json, wild_numbers
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from netcoreset.verification import (
    betting_cs,
    check_guarantee,
    clopper_pearson,
    empirical_bernstein,
    find_slack,
    quantile_ci,
    trials_to_decide,
    verdict,
)
from netcoreset.verification.experiments import (
    accuracy,
    compare_methods,
    load_array,
    load_fashion_mnist,
    relative_l2_error,
    train_mlp,
)
from netcoreset.verification.networks import (
    INPUT_DISTRIBUTIONS,
    WEIGHT_LAWS,
    build_relu_network,
    make_inputs,
)

unit = st.floats(0.01, 0.99)


def _tiny() -> tuple[nn.Sequential, torch.Tensor]:
    return build_relu_network((3, 4, 2), seed=0), make_inputs(24, 3, seed=0)


def _exact(model: nn.Module, pool: torch.Tensor, gen: torch.Generator) -> nn.Module:
    return model


def _interval(lo_hi: Any) -> None:
    lo, hi = lo_hi[0], lo_hi[1]
    if not (0.0 <= lo <= hi <= 1.0):
        raise Wrong(f"interval ({lo}, {hi}) is not inside [0, 1] in order")


def _check_result(r: Any) -> None:
    _interval((r.lower, r.upper))
    if not r.lower <= r.p_hat <= r.upper and r.sequential is False:
        raise Wrong(f"p_hat {r.p_hat} outside its interval ({r.lower}, {r.upper})")
    strict_json(json.dumps(r.to_dict(), allow_nan=False))


@examples(40)
@given(data=st.data())
def test_check_guarantee(data):
    model, x = _tiny()
    args = one_wild(
        data.draw,
        {
            "eps": unit,
            "delta": unit,
            "trials": st.integers(1, 6),
            "inputs_per_trial": st.integers(1, 3),
            "holdout_fraction": st.floats(0.2, 0.8),
            "alpha": unit,
            "bound": st.sampled_from(["auto", "betting", "bernstein"]),
            "seed": st.integers(0, 2**40),
            "batch_size": st.integers(1, 8),
            "sequential": st.booleans(),
        },
    )
    if args["bound"] == "bernstein" and args["sequential"] is True:
        args["sequential"] = False
    check(
        lambda: check_guarantee(model, x, _exact, progress=False, **args),
        validate=_check_result,
        guard=(model, x),
    )


_CONFIDENCE = {
    "clopper_pearson": (
        clopper_pearson,
        {"k": st.integers(0, 5), "n": st.integers(5, 50), "alpha": unit},
        _interval,
    ),
    "betting_cs": (
        betting_cs,
        {"x": st.lists(st.floats(0, 1), min_size=1, max_size=20), "alpha": unit},
        _interval,
    ),
    "empirical_bernstein": (
        empirical_bernstein,
        {"x": st.lists(st.floats(0, 1), min_size=2, max_size=20), "alpha": unit},
        _interval,
    ),
    "quantile_ci": (
        quantile_ci,
        {"x": st.lists(st.floats(0, 10), min_size=1, max_size=20), "q": unit, "alpha": unit},
        None,
    ),
    "trials_to_decide": (
        trials_to_decide,
        {"p_hat": st.floats(0, 1), "n": st.integers(1, 100), "delta": unit, "alpha": unit},
        None,
    ),
    "verdict": (
        verdict,
        {"lower": st.floats(0, 0.5), "upper": st.floats(0.5, 1), "delta": unit},
        None,
    ),
}


@examples(120)
@given(data=st.data(), name=st.sampled_from(sorted(_CONFIDENCE)))
def test_confidence(data, name):
    fn, strategies, validate = _CONFIDENCE[name]
    args = one_wild(data.draw, strategies)
    check(lambda: fn(**args), validate=validate)


@examples(40)
@given(data=st.data())
def test_network_builders(data):
    args = one_wild(
        data.draw,
        {
            "sizes": st.lists(st.integers(1, 6), min_size=2, max_size=4),
            "bias": st.booleans(),
            "weight_law": st.sampled_from(WEIGHT_LAWS),
            "seed": st.integers(0, 2**32 - 1),
        },
    )
    check(lambda: build_relu_network(**args))
    inputs = one_wild(
        data.draw,
        {
            "n": st.integers(1, 20),
            "in_features": st.integers(1, 6),
            "distribution": st.sampled_from(INPUT_DISTRIBUTIONS),
            "scale": st.floats(0.1, 10),
            "seed": st.integers(0, 2**32 - 1),
        },
    )
    check(lambda: make_inputs(**inputs))


LABELS = ["ok", "ok", "column", "row", "two-columns", "scalar", "float", "short", "out-of-range"]


@examples(40)
@given(kind=st.sampled_from(LABELS), n=st.integers(1, 12), seed=st.integers(0, 99))
def test_accuracy_and_relative_error_shapes(kind, n, seed):
    model, _ = _tiny()
    x = make_inputs(n, 3, seed=seed)
    y = torch.randint(0, 2, (n,), generator=torch.Generator().manual_seed(seed))
    y = {
        "column": y[:, None],
        "row": y[None, :],
        "two-columns": torch.stack([y, y], 1),
        "scalar": y[0],
        "float": y.double() + 0.5,
        "short": y[: max(n - 1, 0)],
        "out-of-range": y + 7,
    }.get(kind, y)

    def same_as_by_hand(acc: Any) -> None:
        if kind != "ok" and kind != "out-of-range":
            raise Wrong(f"labels of shape {tuple(y.shape)} for {n} inputs give accuracy {acc}")
        hand = sum(int(model(x[i : i + 1]).argmax()) == int(y[i]) for i in range(n)) / n
        if acc != hand:
            raise Wrong(f"accuracy {acc} differs from the count by hand {hand}")

    check(lambda: accuracy(model, x, y), validate=same_as_by_hand, guard=(model, x, y))
    xx = {"ok": x, "column": x[:, :2], "row": x[0], "scalar": x[0, 0]}.get(kind, x)

    def finite(v: Any) -> None:
        if not np.isfinite(v) or v < 0:
            raise Wrong(f"relative error {v}")

    check(lambda: relative_l2_error(model, model, xx), validate=finite, guard=(model,))


def _slow_but_valid(v: Any) -> bool:
    """A valid epoch count or width that only makes the case slow (not a fault)."""
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool) and 50 < v <= 10**5


@examples(30)
@given(data=st.data())
def test_train_mlp(data):
    x = make_inputs(20, 3, seed=0, dtype=torch.float32)
    y = torch.arange(20) % 3
    args = one_wild(
        data.draw,
        {
            "hidden": st.lists(st.integers(1, 5), max_size=2).map(tuple),
            "seed": st.integers(0, 2**32 - 1),
            "epochs": st.integers(1, 3),
            "batch_size": st.integers(1, 32),
            "lr": st.floats(1e-4, 1e-1),
            "weight_decay": st.floats(0, 1e-2),
        },
        wild=wild_numbers().filter(lambda v: not _slow_but_valid(v)),
    )

    def trained(net: Any) -> None:
        if not all(bool(torch.isfinite(p).all()) for p in net.parameters()):
            raise Wrong("training returned NaN or inf weights without an error")

    check(lambda: train_mlp(x, y, **args), validate=trained, guard=(x, y), seconds=5)


@examples(20)
@given(data=st.data())
def test_compare_methods(data):
    model, x = _tiny()
    y = torch.arange(24) % 2
    args = one_wild(
        data.draw,
        {
            "methods": st.lists(
                st.sampled_from(["corenet", "uniform", "svd"]), min_size=1, max_size=2
            ).map(tuple),
            "keeps": st.lists(st.floats(0.3, 1.0), min_size=1, max_size=2).map(tuple),
            "seeds": st.lists(st.integers(0, 5), min_size=1, max_size=2).map(tuple),
            "delta": unit,
        },
    )
    check(lambda: compare_methods(model, x, x, y, **args), guard=(model, x))


FILES = {
    "npy": lambda p: np.save(p, np.ones((4, 3), np.float32)),
    "npy-3d": lambda p: np.save(p, np.ones((4, 2, 3))),
    "npy-1d": lambda p: np.save(p, np.ones(4)),
    "npy-0d": lambda p: np.save(p, np.float64(1.0)),
    "npy-empty-rows": lambda p: np.save(p, np.ones((0, 3))),
    "npy-object": lambda p: np.save(p, np.array([{}, 1], dtype=object), allow_pickle=True),
    "npy-str": lambda p: np.save(p, np.array([["a", "b"]])),
    "npy-complex": lambda p: np.save(p, np.ones((2, 2), np.complex64)),
    "npy-bool": lambda p: np.save(p, np.ones((2, 2), bool)),
    "npy-structured": lambda p: np.save(p, np.zeros((2, 2), dtype=[("a", "i4")])),
    "npy-truncated": lambda p: (np.save(p, np.ones((50, 3))), _truncate(p)),
    "empty-file": lambda p: p.write_bytes(b""),
    "garbage": lambda p: p.write_bytes(bytes(range(256)) * 3),
    "text": lambda p: p.write_text("1,2,3\n4,5,6\n"),
    "pt-tensor": lambda p: torch.save(torch.ones(3, 2), p),
    "pt-dict": lambda p: torch.save({"x": torch.ones(3, 2)}, p),
    "pt-int-tensor": lambda p: torch.save(torch.ones(3, 2, dtype=torch.long), p),
    "pt-garbage": lambda p: p.write_bytes(b"PK\x03\x04" + bytes(100)),
    "directory": lambda p: p.mkdir(),
    "missing": lambda p: None,
    "unreadable": lambda p: p.symlink_to("/proc/self/mem"),
}
SUFFIX = {"text": ".csv"}


def _truncate(p: Path) -> None:
    raw = p.read_bytes()
    p.write_bytes(raw[: len(raw) // 2])


def make_file(folder: Path, kind: str, stem: str = "x") -> Path:
    """A data file of the given kind (see FILES) in ``folder``."""
    suffix = SUFFIX.get(kind, ".pt" if kind.startswith("pt") else ".npy")
    path = folder / f"{stem}{suffix}"
    FILES[kind](path)
    return path


@examples(40)
@given(kind=st.sampled_from(sorted(FILES)))
def test_load_array(kind):
    with tempfile.TemporaryDirectory() as tmp:
        path = make_file(Path(tmp), kind)

        def shaped(t: Any) -> None:
            if not isinstance(t, torch.Tensor) or t.ndim != 2 or t.dtype != torch.float32:
                raise Wrong(f"load_array returned {type(t).__name__} {getattr(t, 'shape', '')}")

        check(lambda: load_array(path), validate=shaped, errors=(ValueError, FileNotFoundError))


IDX_DAMAGE = ["ok", "bad-magic", "truncated", "huge-dims", "zero-dims", "float-dtype", "empty"]


@examples(20)
@given(damage=st.sampled_from(IDX_DAMAGE))
def test_load_fashion_mnist_files(damage):
    with tempfile.TemporaryDirectory() as d:
        for split in ("train", "t10k"):
            img = struct.pack(">4B3I", 0, 0, 8, 3, 2, 28, 28) + bytes(2 * 784)
            lab = struct.pack(">4BI", 0, 0, 8, 1, 2) + bytes([3, 7])
            if damage == "bad-magic":
                img = b"\x01" + img[1:]
            elif damage == "truncated":
                img = img[:100]
            elif damage == "huge-dims":
                img = struct.pack(">4B3I", 0, 0, 8, 3, 2**31, 28, 28) + bytes(2 * 784)
            elif damage == "zero-dims":
                img = struct.pack(">4B", 0, 0, 8, 0)
            elif damage == "float-dtype":
                img = struct.pack(">4B3I", 0, 0, 0x0D, 3, 2, 28, 28) + bytes(4 * 2 * 784)
            elif damage == "empty":
                img = b""
            (Path(d) / f"{split}-images-idx3-ubyte").write_bytes(img)
            (Path(d) / f"{split}-labels-idx1-ubyte").write_bytes(lab)

        def shaped(out: Any) -> None:
            if out[0].shape != (2, 784) or not torch.equal(out[3], torch.tensor([3, 7])):
                raise Wrong(f"damaged IDX files ({damage}) load as {tuple(out[0].shape)}")

        check(lambda: load_fashion_mnist(d), validate=shaped)


@examples(25)
@given(data=st.data())
def test_find_slack_grid(data):
    model, x = _tiny()
    args = one_wild(
        data.draw,
        {
            "factor": st.floats(1.5, 8),
            "c_min": st.floats(0.05, 1),
            "c_max": st.floats(1, 20),
            "bisection_steps": st.integers(0, 2),
            "trials": st.integers(1, 4),
            "alpha_total": unit,
        },
        wild=st.one_of(
            st.sampled_from([1 + 1e-12, 1e-300, 1e300, 10**6, 2**40, 0.5, float("nan")]),
            st.floats(allow_nan=True, allow_infinity=True),
        ),
    )

    def factory(scale: Any) -> Any:
        return _exact

    check(
        lambda: find_slack(
            model, x, 0.5, 0.2, compressor_factory=factory, sequential=False, **args
        ),
        guard=(model, x),
        seconds=5,
    )


@pytest.mark.parametrize(
    "labels",
    ["column", "row", "two-columns", "float", "short", "long", "scalar"],
)
def test_accuracy_refuses_wrongly_shaped_labels(labels):
    model, x = _tiny()
    y = torch.arange(24) % 2
    y = {
        "column": y[:, None],
        "row": y[None, :],
        "two-columns": torch.stack([y, y], 1),
        "float": y.double(),
        "short": y[:-1],
        "long": torch.cat([y, y]),
        "scalar": y[0],
    }[labels]

    def refused(acc: Any) -> None:
        raise Wrong(f"labels of shape {tuple(y.shape)} for 24 inputs give accuracy {acc}")

    check(
        lambda: accuracy(model, x, y),
        validate=refused,
        name="issue case: accuracy with wrongly shaped labels",
    )
    check(
        lambda: compare_methods(model, x, x, y, methods=("uniform",), keeps=(0.5,), seeds=(0,)),
        validate=refused,
        name="issue case: compare_methods with wrongly shaped labels",
    )
