"""The (max, x) kernel options, each against the GEMM of the same shape and the default.

Options measured where the installed package has them (the "before" code has only the
point-by-point loop and the 3-d slabs): see docs/guide/performance.rst for the discussion.
"""

from __future__ import annotations

from typing import Any

import torch
from bench_common import timed

from netcoreset.sampler import max_times_product

SHAPES = {"default": [(300, 200, 785), (1024, 200, 1025)], "full": [(4096, 1000, 4097)]}


def _options() -> dict[str, Any]:
    opts: dict[str, Any] = {
        "loop (chunk 1)": lambda u, a: max_times_product(u, a, 1),
        "3-d slabs (chunk 16)": lambda u, a: max_times_product(u, a, 16),
        "default": lambda u, a: max_times_product(u, a),
    }
    return opts


def run(full: bool, repeat: int, device: str) -> dict[str, Any]:
    """Every option on every shape: time, ratio to GEMM, bit equality with the default."""
    shapes = SHAPES["default"] + (SHAPES["full"] if full else [])
    rows = []
    for rows_, points, cols in shapes:
        g = torch.Generator().manual_seed(rows_ + points)
        u = torch.rand(rows_, points, generator=g).to(device)
        a = torch.randn(points, cols, generator=g).clamp_(min=0).to(device)
        gemm = timed(lambda u=u, a=a: u @ a, max(repeat, 10), device)["s"]
        ref = max_times_product(u, a)
        for name, fn in _options().items():
            t = timed(lambda fn=fn, u=u, a=a: fn(u, a), repeat, device)
            same = bool(torch.equal(fn(u, a), ref))
            rows.append(
                {
                    "option": name,
                    "shape": [rows_, points, cols],
                    "s": t["s"],
                    "over_gemm": t["s"] / gemm,
                    "gemm_s": gemm,
                    "bit_identical_to_default": same,
                }
            )
            print(f"  kernel {name:>24} {rows_}x{points}x{cols}: {t['s'] / gemm:7.1f}x GEMM")
    return {"options": rows}
