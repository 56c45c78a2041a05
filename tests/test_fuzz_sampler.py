"""Fuzz: :func:`netcoreset.sampler.compress` and the sampler's public parts with wild models,
data and arguments return a valid result or raise ``ValueError``, and never touch the caller's
model or data (see ``tests/_fuzz.py`` for the classification)."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from _fuzz import (
    WRONG,
    Wrong,
    check,
    examples,
    one_wild,
    outcome,
    report,
    strict_json,
    wild_numbers,
)
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from netcoreset.sampler import (
    CompressionReport,
    compress,
    empirical_sensitivity,
    estimate_K,
    linear_layers,
    load,
    multinomial_counts,
    sparsify_part,
)
from netcoreset.verification.networks import build_relu_network, make_inputs

BASELINES = ("uniform", "l1", "l2", "magnitude", "svd")
METHODS = ("corenet", "corenet+", "corenet++", *BASELINES)
DTYPES = (torch.float64, torch.float32, torch.float32, torch.float16, torch.bfloat16)
MODEL_VARIANTS = [
    "flatten",
    "dropout",
    "train-mode",
    "requires-grad",
    "nested",
    "zero-layer",
    "nan-weight",
    "tanh",
    "not-sequential",
    "ends-with-relu",
    "int-weights",
]
DATA_VARIANTS = [
    "numpy",
    "int",
    "bool",
    "complex",
    "nan",
    "huge",
    "1d",
    "wrong-width",
    "f16",
    "list",
    "empty",
    "images-no-flatten",
]


def _model(sizes: list[int], bias: bool, seed: int, dtype: torch.dtype, variant: str) -> Any:
    net = build_relu_network(sizes, bias=bias, seed=seed).to(dtype)
    mods = list(net)
    if variant == "flatten":
        return nn.Sequential(nn.Flatten(), *mods)
    if variant == "dropout":
        return nn.Sequential(mods[0], nn.Dropout(0.5).eval(), *mods[1:], nn.Identity())
    if variant == "train-mode":
        return net.train()
    if variant == "requires-grad":
        return net.requires_grad_(True)
    if variant == "nested":
        return nn.Sequential(nn.Sequential(*mods[:1]), *mods[1:])
    if variant == "zero-layer":
        with torch.no_grad():
            mods[0].weight.zero_()
        return net
    if variant == "nan-weight":
        with torch.no_grad():
            mods[0].weight[0, 0] = float("nan")
        return net
    if variant == "tanh" and len(mods) > 1:
        mods[1] = nn.Tanh()
        return nn.Sequential(*mods)
    if variant == "not-sequential":
        return nn.ModuleList(mods)
    if variant == "ends-with-relu":
        return nn.Sequential(*mods, nn.ReLU())
    if variant == "int-weights":
        with torch.no_grad():
            mods[0].weight.data = mods[0].weight.data.round().long()
        return net
    return net


def _data(n: int, d: int, seed: int, variant: str, flatten: bool) -> Any:
    x = make_inputs(max(n, 1), d, seed=seed, dtype=torch.float32)[:n]
    if flatten:
        x = x.reshape(n, 1, d) if d % 2 else x.reshape(n, 2, d // 2)
    if variant == "numpy":
        return x.numpy()
    if variant == "int":
        return (x * 3).round().to(torch.int64)
    if variant == "bool":
        return x > 0
    if variant == "complex":
        return x.to(torch.complex64)
    if variant == "nan" and n:
        x = x.clone()
        x.view(-1)[0] = float("nan")
    if variant == "huge":
        return x * 1e38
    if variant == "1d":
        return x.reshape(-1)
    if variant == "wrong-width":
        return torch.cat([x.reshape(n, -1), x.reshape(n, -1)[:, :1]], dim=1)
    if variant == "f16":
        return x.half()
    if variant == "list":
        return x.tolist()
    if variant == "empty":
        return x[:0]
    if variant == "images-no-flatten":
        return x.reshape(n, -1, 1)
    return x


@st.composite
def cases(draw: Any) -> tuple[Any, Any, str]:
    """A model and data with at most one fault: a model variant, a data variant, or (decided
    by the caller) one wild argument."""
    fault = draw(st.sampled_from(["none", "none", "model", "data", "argument", "argument"]))
    sizes = draw(st.lists(st.integers(1, 7), min_size=2, max_size=4))
    variant = draw(st.sampled_from(MODEL_VARIANTS)) if fault == "model" else "plain"
    dtype = draw(st.sampled_from(DTYPES))
    model = _model(sizes, draw(st.booleans()), draw(st.integers(0, 2**16)), dtype, variant)
    data_variant = draw(st.sampled_from(DATA_VARIANTS)) if fault == "data" else "ok"
    n = draw(st.integers(2, 40))
    data = _data(n, sizes[0], draw(st.integers(0, 2**16)), data_variant, variant == "flatten")
    return model, data, fault


def _as_tensor(data: Any) -> torch.Tensor:
    return torch.from_numpy(data) if isinstance(data, np.ndarray) else data


def _relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.double(), b.double()
    return float((a - b).norm() / b.norm().clamp_min(1e-300))


def _tolerance(dtype: torch.dtype) -> float:
    return {torch.float16: 1e-2, torch.bfloat16: 5e-2, torch.float32: 1e-4}.get(dtype, 1e-9)


def _validator(model: Any, data: Any, kwargs: dict[str, Any]) -> Any:
    def validate(res: Any) -> None:
        x = _as_tensor(data)
        param = next(model.parameters())
        x = x.to(param.dtype)
        with torch.no_grad():
            ref = model(x)
            out = res.model(x)
        if not isinstance(res.model, nn.Sequential):
            raise Wrong("the compressed model is not an nn.Sequential")
        if out.shape != ref.shape:
            raise Wrong(
                f"the compressed model maps the data to {tuple(out.shape)}, not {tuple(ref.shape)}"
            )
        counted = sum(int((p != 0).sum()) for p in res.model.parameters())
        if counted != res.nnz or res.nnz > res.nnz_original:
            raise Wrong(f"nnz {res.nnz} (counted {counted}) vs original {res.nnz_original}")
        text = json.dumps(res.report.to_dict(), allow_nan=False)
        back = CompressionReport.from_dict(strict_json(text))
        if back.to_dict() != res.report.to_dict():
            raise Wrong("the report does not survive a JSON round trip")
        full = kwargs.get("keep") == 1.0 or (
            isinstance(kwargs.get("nnz"), int) and kwargs["nnz"] >= res.nnz_original
        )
        if full and kwargs.get("method") in BASELINES:
            err = _relative_error(out, ref)
            if err > _tolerance(param.dtype):
                raise Wrong(
                    f"{kwargs['method']} at the full budget changes the outputs by {err:.3g}"
                )
        sparse = res.to_sparse()
        with torch.no_grad():
            if sparse(x).shape != out.shape:
                raise Wrong("to_sparse() changes the output shape")
            x3 = x.unsqueeze(0)
            if x.ndim == 2 and sparse(x3).shape != res.model(x3).shape:
                raise Wrong(
                    f"SparseLinear maps {tuple(x3.shape)} to {tuple(sparse(x3).shape)}, "
                    f"nn.Linear to {tuple(res.model(x3).shape)}"
                )

    return validate


unit = st.floats(0.01, 0.99)
OPTIONAL = {
    "delta": unit,
    "K": st.floats(0.1, 10),
    "k_prime": st.floats(0.5, 10),
    "include_kappa": st.one_of(st.booleans(), st.none()),
    "allocation": st.sampled_from(["theorem", "uniform", None]),
    "tight": st.booleans(),
    "activations": st.sampled_from(["original", "compressed"]),
    "tau": st.integers(1, 4),
    "holdout_set_size": st.integers(1, 10),
    "draw_scale": st.one_of(st.floats(0.1, 3), st.lists(st.floats(0.1, 3), max_size=4)),
    "sensitivity_set_size": st.integers(1, 30),
    "seed": st.integers(0, 2**32),
    "chunk_size": st.integers(1, 8),
    "progress": st.booleans(),
}


@st.composite
def compress_kwargs(draw: Any, wild: bool) -> dict[str, Any]:
    """Valid keyword arguments of ``compress``; with ``wild``, one of them is wild (a wild
    method or mode, two modes at once, or a wild value)."""
    valid: dict[str, Any] = {"method": st.sampled_from(METHODS)}
    mode = draw(st.sampled_from(["eps", "keep", "keep", "nnz"]))
    valid[mode] = {
        "eps": unit,
        "keep": st.one_of(st.floats(0.05, 1.0), st.just(1.0)),
        "nnz": st.integers(1, 200),
    }[mode]
    for name in draw(st.lists(st.sampled_from(sorted(OPTIONAL)), max_size=4, unique=True)):
        valid[name] = OPTIONAL[name]
    kwargs = {k: draw(v) for k, v in valid.items()}
    if wild:
        target = draw(st.sampled_from(sorted(set(valid) | {"second-mode", "unknown-option"})))
        if target == "second-mode":
            other = draw(st.sampled_from([m for m in ("eps", "keep", "nnz") if m != mode]))
            kwargs[other] = 0.5 if other != "nnz" else 10
        elif target == "unknown-option":
            kwargs["bogus"] = 1
        else:
            kwargs[target] = draw(st.one_of(wild_numbers(), st.sampled_from(["bogus", "CORENET"])))
    kwargs.setdefault("seed", 0)
    return kwargs


@examples(150)
@given(case=cases(), data=st.data())
def test_compress(case, data):
    model, x, fault = case
    kwargs = data.draw(compress_kwargs(fault == "argument"))
    check(
        lambda: compress(model, x, **kwargs),
        validate=_validator(model, x, kwargs),
        guard=(model, x),
        errors=(ValueError, TypeError) if "bogus" in kwargs else (ValueError,),
    )


@examples(40)
@given(
    sizes=st.lists(st.integers(1, 6), min_size=2, max_size=3),
    seed=st.integers(0, 1000),
    keep=st.floats(0.2, 0.9),
    K=st.sampled_from([1e-300, 1e-60, 1e-30, 1e-8, 1e8, 1e30, 1e60, 1e300]),
    tight=st.booleans(),
)
def test_budget_does_not_depend_on_K(sizes, seed, keep, K, tight):
    """K rescales eps only: the kept count for a budget must be the same for every K, and an
    error must blame K."""
    net = build_relu_network(sizes, seed=seed)
    x = make_inputs(30, sizes[0], seed=seed)
    try:
        base = compress(net, x, keep=keep, seed=0, tight=tight)
    except ValueError:  # a budget below one draw per active part: nothing to compare
        return

    def validate(res: Any) -> None:
        a, b = res.report.expected_nnz, base.report.expected_nnz
        if abs(a - b) > max(1.0, 0.02 * b):
            raise Wrong(f"K={K:g} keeps {a:.4g} expected weights, K=1 keeps {b:.4g}")

    kind, detail = outcome(
        lambda: compress(net, x, keep=keep, K=K, seed=0, tight=tight), validate=validate
    )
    if kind == "clear" and "K" not in detail:
        kind, detail = WRONG, f"K={K:g}: the error blames something else: {detail}"
    report(kind, detail)


@examples(40)
@given(data=st.data(), rows=st.integers(1, 3))
def test_multinomial_counts_and_sparsify(data, rows):
    args = one_wild(
        data.draw,
        {"q": st.lists(st.floats(0, 1), min_size=1, max_size=6), "m": st.integers(0, 10**6)},
    )
    q, m = args["q"], args["m"]

    def build() -> Any:
        qt = torch.as_tensor(q, dtype=torch.float64)
        qt = qt / qt.sum() if qt.ndim == 1 and float(qt.sum()) > 0 else qt
        qt = qt.expand(rows, -1) if qt.ndim == 1 else qt
        mt = torch.full((rows,), m) if not isinstance(m, list) else torch.as_tensor(m)
        return qt, mt

    def counts() -> Any:
        qt, mt = build()
        return multinomial_counts(qt, mt, torch.Generator().manual_seed(0)), mt

    def validate(value: Any) -> None:
        c, mt = value
        if bool((c < 0).any()) or not torch.equal(c.sum(1), mt.double()):
            raise Wrong(f"counts {c.tolist()} do not sum to m={mt.tolist()}")

    check(counts, validate=validate, errors=(ValueError, TypeError))
    check(
        lambda: sparsify_part(
            build()[0].abs(), build()[0], build()[1], torch.Generator().manual_seed(0)
        ),
        errors=(ValueError, TypeError),
    )


STACK = [
    "linear",
    "linear",
    "relu",
    "relu",
    "tanh",
    "flatten",
    "dropout",
    "identity",
    "conv",
    "batchnorm",
    "nested",
]


@examples(60)
@given(
    kinds=st.lists(st.sampled_from(STACK), min_size=0, max_size=6),
    widths=st.lists(st.integers(1, 5), min_size=7, max_size=7),
)
def test_layer_stacks(kinds, widths):
    mods: list[nn.Module] = []
    width = widths[0]
    for i, kind in enumerate(kinds):
        if kind == "linear":
            mods.append(nn.Linear(width, widths[i + 1]))
            width = widths[i + 1]
        else:
            mods.append(
                {
                    "relu": nn.ReLU(),
                    "tanh": nn.Tanh(),
                    "flatten": nn.Flatten(),
                    "dropout": nn.Dropout(),
                    "identity": nn.Identity(),
                    "conv": nn.Conv1d(1, 1, 1),
                    "batchnorm": nn.BatchNorm1d(width),
                    "nested": nn.Sequential(nn.Linear(width, width), nn.ReLU()),
                }[kind]
            )
    model = nn.Sequential(*mods)
    x = torch.rand(12, widths[0])
    check(lambda: linear_layers(model), guard=(model,))
    check(lambda: compress(model, x, keep=0.5, seed=0), guard=(model, x))


@examples(30)
@given(data=st.data(), dtype=st.sampled_from(DTYPES))
def test_estimate_K_and_sensitivity(data, dtype):
    args = one_wild(
        data.draw, {"n": st.integers(0, 30), "kp": st.floats(0.5, 10), "chunk": st.integers(1, 64)}
    )
    n, kp, chunk = args["n"], args["kp"], args["chunk"]
    n = n if type(n) is int and 0 <= n <= 30 else 5  # (a bool is not a count)
    net = build_relu_network((4, 5, 2), seed=n).to(dtype)
    x = make_inputs(max(n, 1), 4, seed=1)[:n]
    layers = linear_layers(net)

    def valid_K(est: Any) -> None:
        if not est.K >= 1.0 or not 0.0 <= est.infinite_fraction <= 1.0:
            raise Wrong(f"K={est.K}, infinite fraction {est.infinite_fraction}")

    check(
        lambda: estimate_K(layers, x, k_prime=kp, chunk_rows=chunk), validate=valid_K, guard=(net,)
    )
    check(
        lambda: empirical_sensitivity(layers[0].weight, layers[0].bias, x.to(dtype), chunk),
        guard=(net,),
    )


DAMAGE = [
    "none",
    "flip-weight-byte",
    "truncate-weights",
    "empty-weights",
    "garbage-metadata",
    "metadata-no-layers",
    "metadata-wrong-shape",
    "swap-report",
    "delete-metadata",
    "metadata-is-list",
]


@examples(40)
@given(damage=st.sampled_from(DAMAGE), seed=st.integers(0, 100), where=st.floats(0, 1))
def test_saved_results_load_whole_or_not_at_all(damage, seed, where):
    net = build_relu_network((5, 6, 3), seed=seed)
    x = make_inputs(30, 5, seed=seed)
    res = compress(net, x, keep=0.5, seed=seed)
    other = compress(net, x, keep=0.9, seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "res"
        res.save(folder)
        weights, meta = folder / "model.safetensors", folder / "metadata.json"
        raw = weights.read_bytes()
        if damage == "flip-weight-byte":
            pos = len(raw) - 1 - int(where * (len(raw) // 4))
            weights.write_bytes(raw[:pos] + bytes([raw[pos] ^ 0x40]) + raw[pos + 1 :])
        elif damage == "truncate-weights":
            weights.write_bytes(raw[: int(where * (len(raw) - 1))])
        elif damage == "empty-weights":
            weights.write_bytes(b"")
        elif damage == "garbage-metadata":
            meta.write_text(meta.read_text()[: int(where * 200)])
        elif damage == "metadata-no-layers":
            m = json.loads(meta.read_text())
            m.pop("layers", None)
            meta.write_text(json.dumps(m))
        elif damage == "metadata-wrong-shape":
            m = json.loads(meta.read_text())
            m["layers"] = [[5, 7, True], [7, 3, True]]
            meta.write_text(json.dumps(m))
        elif damage == "swap-report":  # an interrupted overwrite: new metadata, old weights
            m = json.loads(meta.read_text())
            m["report"] = other.report.to_dict()
            meta.write_text(json.dumps(m))
        elif damage == "delete-metadata":
            meta.unlink()
        elif damage == "metadata-is-list":
            meta.write_text("[]")

        def validate(back: Any) -> None:
            same = all(
                torch.equal(a, b)
                for a, b in zip(res.model.parameters(), back.model.parameters(), strict=True)
            )
            if not same or back.report.to_dict() != res.report.to_dict():
                raise Wrong(f"damage {damage!r} loads as a valid but different result")

        check(lambda: load(folder), validate=validate)


# ------------------------------------------------------------------------------------------------
# The silent wrong answers of issue 11, one case each (counted like the fuzz cases)
# ------------------------------------------------------------------------------------------------


def _full_budget_case(method: str, how: str) -> None:
    net = build_relu_network((6, 9, 4), seed=5).to(torch.float32)
    x = make_inputs(40, 6, seed=5, dtype=torch.float32)
    nnz = sum(int((p != 0).sum()) for p in net.parameters())
    kwargs = {"keep": 1.0} if how == "keep" else {"nnz": nnz}

    def unchanged(res: Any) -> None:
        with torch.no_grad():
            if not torch.equal(res.model(x), net(x)):
                err = _relative_error(res.model(x), net(x))
                raise Wrong(f"{method} with {kwargs} changes the outputs by {err:.3g}")

    check(
        lambda: compress(net, x, method=method, seed=0, **kwargs),
        validate=unchanged,
        name=f"issue case: {method} at the full budget ({how})",
    )


@pytest.mark.parametrize("how", ["keep", "nnz"])
@pytest.mark.parametrize("method", BASELINES)
def test_baselines_at_the_full_budget_return_the_model(method, how):
    _full_budget_case(method, how)


@pytest.mark.parametrize("method", METHODS)
def test_a_leading_flatten_is_kept(method):
    net = nn.Sequential(nn.Flatten(), *build_relu_network((6, 9, 4), seed=2))
    images = make_inputs(30, 6, seed=2).reshape(30, 2, 3)

    def takes_images(res: Any) -> None:
        with torch.no_grad():
            if res.model(images).shape != (30, 4) or res.to_sparse()(images).shape != (30, 4):
                raise Wrong("the compressed model does not take the images")

    check(
        lambda: compress(net, images, method=method, keep=0.5, seed=0),
        validate=takes_images,
        name="issue case: a leading Flatten is kept",
    )


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("lead", [(), (3,), (2, 5)])
def test_sparse_linear_keeps_leading_dimensions(lead, dtype):
    net = build_relu_network((6, 9, 4), seed=1).to(dtype)
    res = compress(net, make_inputs(30, 6, seed=1).to(dtype), keep=0.5, seed=0)
    x = make_inputs(max(1, math.prod(lead)) * 4, 6, seed=3).to(dtype).reshape(*lead, 4, 6)

    def same(sparse: Any) -> None:
        with torch.no_grad():
            out, ref = sparse(x), res.model(x)
        if out.shape != ref.shape or out.dtype != ref.dtype:
            raise Wrong(
                f"SparseLinear maps {tuple(x.shape)} to {tuple(out.shape)}, "
                f"nn.Linear to {tuple(ref.shape)}"
            )
        if _relative_error(out, ref) > _tolerance(dtype):
            raise Wrong("sparse and dense outputs differ")

    check(res.to_sparse, validate=same, name="issue case: SparseLinear keeps batch dimensions")


@pytest.mark.parametrize("K", [1e-300, 1e-100, 1e100, 1e300])
@pytest.mark.parametrize("k_prime", [3.0, 1e-3, 1e3])
def test_extreme_constants_keep_the_budget(K, k_prime):
    net = build_relu_network((6, 12, 8, 3), seed=4)
    x = make_inputs(400, 6, seed=4)
    base = compress(net, x, keep=0.4, k_prime=k_prime, seed=0)

    def same_count(res: Any) -> None:
        a, b = res.report.expected_nnz, base.report.expected_nnz
        if abs(a - b) > max(1.0, 0.02 * b):
            raise Wrong(f"K={K:g}, k'={k_prime:g} keeps {a:.4g} expected weights, K=1 {b:.4g}")

    kind, detail = outcome(
        lambda: compress(net, x, keep=0.4, K=K, k_prime=k_prime, seed=0), validate=same_count
    )
    if kind == "clear" and "K" not in detail:
        kind, detail = WRONG, f"K={K:g}: the error blames something else: {detail}"
    report(kind, detail, name="issue case: extreme constants K, k'")
