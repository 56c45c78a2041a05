"""(b) whole compression against one forward pass of S, (c) checker trials per second and
(e) time against the number of weights and against |S| (log-log slopes).

A result's ``sha256`` is the hash of the compressed model's parameters: equal hashes in two
runs mean bit-identical results for the same seed.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import torch
from bench_common import finite, inputs, loglog_slope, n_weights, relu_net, timed
from bench_floor import certificate_arithmetic

from netcoreset.sampler import compress
from netcoreset.verification import SamplerCompressor, check_guarantee

METHODS = ["corenet", "corenet+", "corenet++", "uniform", "l1", "l2", "magnitude", "svd"]
MODES = {"budget": {"keep": 0.1}, "guarantee": {"eps": 0.5}}
#: Budget-mode CoreNet with each certificate asked for (the cases above ask for none in
#: budget mode: certifying is a separate step).
CERTIFIED = ("paper", "tight", "holdout")
HEADLINE = {"widths": [784, 300, 100, 10], "points": 1000, "sensitivity_set_size": 200}


def result_hash(model: torch.nn.Module) -> str:
    """sha256 of the parameters' bytes (in order): equal for bit-identical results."""
    h = hashlib.sha256()
    for p in model.parameters():
        h.update(p.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def forward_time(net: torch.nn.Module, x: torch.Tensor, repeat: int, device: str) -> float:
    """Median time of one forward pass of ``x``."""
    with torch.no_grad():
        return timed(lambda: net(x), max(repeat, 20), device)["s"]


def methods_and_modes(repeat: int, device: str) -> dict[str, Any]:
    """(b): every method in both modes on 784-300-100-10 at |S| = 200."""
    net = relu_net(HEADLINE["widths"], device=device)
    data = inputs(HEADLINE["points"], HEADLINE["widths"][0], device=device)
    s_size = HEADLINE["sensitivity_set_size"]
    forward = forward_time(net, data[:s_size], repeat, device)
    floor = certificate_arithmetic(net, data[:s_size], data[s_size:], repeat, device)
    floor["over_forward"] = floor["s"] / forward
    print(f"  certificate arithmetic: {floor['over_forward']:.1f}x forward", flush=True)
    cases = []
    plan = [(mode, method, kwargs) for mode, kwargs in MODES.items() for method in METHODS]
    plan += [("budget", "corenet", {"keep": 0.1, "certificate": c}) for c in CERTIFIED]
    for mode, method, kwargs in plan:
        run = {"method": method, "sensitivity_set_size": s_size, "seed": 0, **kwargs}
        t = timed(lambda run=run: compress(net, data, **run), repeat, device)
        res = compress(net, data, **run)
        cases.append(
            {
                "method": method,
                "mode": mode,
                **kwargs,
                "wall_s": t["s"],
                "over_forward": t["s"] / forward,
                "over_floor": t["s"] / floor["s"] if method.startswith("corenet") else None,
                "runs": t["runs"],
                "nnz": res.nnz,
                "certificate": res.report.certificate,
                "certified_eps": None
                if res.certified_eps is None
                else finite(float(res.certified_eps)),
                "sha256": result_hash(res.model),
            }
        )
        print(
            f"  {method:>9} {mode:>9} {kwargs.get('certificate', ''):>7}: "
            f"{t['s'] * 1e3:8.1f} ms = {t['s'] / forward:7.1f}x forward",
            flush=True,
        )
    return {
        "net": "-".join(map(str, HEADLINE["widths"])),
        "sensitivity_set_size": s_size,
        "forward_s": forward,
        "certificate_arithmetic": floor,
        "cases": cases,
    }


def checker(full: bool, device: str) -> list[dict[str, Any]]:
    """(c): check_guarantee trials per second against one compression of the same config,
    for a budget-mode and a guarantee-mode compressor."""
    net = relu_net(HEADLINE["widths"], device=device)
    data = inputs(HEADLINE["points"], HEADLINE["widths"][0], device=device)
    trials = 40 if full else 10
    pool = data[: HEADLINE["points"] // 2]
    rows = []
    for mode in ({"keep": 0.1}, {"eps": 0.5}):
        kwargs = {**mode, "sensitivity_set_size": 200}
        one = timed(lambda kwargs=kwargs: compress(net, pool, seed=0, **kwargs), 3, device)["s"]
        comp = SamplerCompressor(method="corenet", **kwargs)
        t = time.perf_counter()
        check = check_guarantee(net, data, comp, eps=0.5, delta=0.1, trials=trials, progress=False)
        wall = time.perf_counter() - t
        print(f"  checker {mode}: {trials / wall:.2f} trials/s ({check.verdict})", flush=True)
        rows.append(
            {
                "net": "-".join(map(str, HEADLINE["widths"])),
                "compressor": repr(comp),
                "trials": trials,
                "wall_s": wall,
                "trials_per_s": trials / wall,
                "compress_s": one,
                "overhead": wall / (trials * one),
                "verdict": check.verdict,
            }
        )
    return rows


SCALING_WIDTHS = {"default": [128, 256, 512, 1024], "full": [128, 256, 512, 1024, 2048]}
SCALING_POINTS = [50, 100, 200, 400, 800]


def scaling(full: bool, repeat: int, device: str) -> dict[str, Any]:
    """(e): corenet keep 10%: time against weights (w-w-w-10, |S| = 100) and against |S|."""
    by_weights = []
    for w in SCALING_WIDTHS["full" if full else "default"]:
        net = relu_net([w, w, w, 10], device=device)
        data = inputs(400, w, device=device)
        t = timed(
            lambda net=net, data=data: compress(
                net, data, keep=0.1, sensitivity_set_size=100, seed=0
            ),
            repeat,
            device,
        )
        fwd = forward_time(net, data[:100], repeat, device)
        by_weights.append(
            {"width": w, "weights": n_weights(net), "wall_s": t["s"], "over_forward": t["s"] / fwd}
        )
        print(f"  scaling {w}-{w}-{w}-10: {t['s']:.3f} s", flush=True)
    net = relu_net(HEADLINE["widths"], device=device)
    data = inputs(1000, HEADLINE["widths"][0], device=device)
    by_points = []
    for s in SCALING_POINTS:
        t = timed(
            lambda s=s: compress(net, data, keep=0.1, sensitivity_set_size=s, seed=0),
            repeat,
            device,
        )
        fwd = forward_time(net, data[:s], repeat, device)
        by_points.append({"points": s, "wall_s": t["s"], "over_forward": t["s"] / fwd})
        print(f"  scaling |S|={s}: {t['s']:.3f} s", flush=True)
    return {
        "weights": {
            "net": "w-w-w-10, |S| = 100, corenet keep 0.1",
            "points": by_weights,
            "slope": loglog_slope(
                [p["weights"] for p in by_weights], [p["wall_s"] for p in by_weights]
            ),
        },
        "points": {
            "net": "784-300-100-10, corenet keep 0.1",
            "points": by_points,
            "slope": loglog_slope(
                [p["points"] for p in by_points], [p["wall_s"] for p in by_points]
            ),
        },
    }
