"""(a) One layer's sensitivities against a GEMM of the same shape.

For a square layer of width ``w`` and a set S of ``|S|`` points, the reference is the layer's
forward pass on S, ``a @ W.T`` (``|S| x w x w`` multiply-adds), and the (max, x) product
:math:`M = U \\otimes_{\\max} A` with ``U`` of shape ``(w, |S|)`` and ``A`` of shape
``(|S|, w + 1)`` has the same operation count. ``empirical_sensitivity`` does two such
products (positive and negative part) and two GEMMs, so its ideal ratio is about 4.
"""

from __future__ import annotations

from typing import Any

import torch
from bench_common import relu_activations, sync, timed

from netcoreset.sampler import empirical_sensitivity, max_times_product

DEFAULT_GRID = {"widths": [256, 1024], "points": [50, 200]}
FULL_GRID = {"widths": [256, 1024, 4096], "points": [50, 200, 1000]}


def layer_case(width: int, points: int, repeat: int, device: str) -> dict[str, Any]:
    """Time the sensitivities, the default (max, x) kernel and the GEMM for one shape."""
    g = torch.Generator().manual_seed(width + points)
    weight = (torch.randn(width, width, generator=g) / width**0.5).to(device)
    bias = (torch.randn(width, generator=g) * 0.1).to(device)
    acts = relu_activations(points, width, seed=points).to(device)
    u = torch.rand(width, points, generator=g).to(device)
    a = torch.cat([acts, torch.ones(points, 1, device=device)], dim=1)
    gemm = timed(lambda: acts @ weight.T, max(repeat, 10), device)
    sens = timed(lambda: empirical_sensitivity(weight, bias, acts), repeat, device)
    kern = timed(lambda: max_times_product(u, a), repeat, device)
    sync(device)
    return {
        "width": width,
        "points": points,
        "gemm_s": gemm["s"],
        "sensitivity_s": sens["s"],
        "max_times_product_s": kern["s"],
        "sensitivity_over_gemm": sens["s"] / gemm["s"],
        "max_times_product_over_gemm": kern["s"] / gemm["s"],
        "runs": sens["runs"],
    }


def run(full: bool, repeat: int, device: str) -> list[dict[str, Any]]:
    """All shapes of the grid (the full grid reaches width 4096 and |S| = 1000)."""
    grid = FULL_GRID if full else DEFAULT_GRID
    rows = []
    for width in grid["widths"]:
        for points in grid["points"]:
            row = layer_case(width, points, repeat, device)
            print(
                f"  layer {width}x{width} |S|={points}: sensitivities "
                f"{row['sensitivity_over_gemm']:.1f}x GEMM, (max,x) "
                f"{row['max_times_product_over_gemm']:.1f}x GEMM",
                flush=True,
            )
            rows.append(row)
    return rows
