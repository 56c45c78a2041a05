"""The benchmark's figure: one panel per section (a), (b), (d), (e)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure


def plot(results: dict[str, Any], path: Path) -> None:
    """Draw the sections present in ``results`` and save a PNG at ``path``."""
    fig = Figure(figsize=(13, 9), layout="constrained")
    axes = fig.subplots(2, 2)
    ax = axes[0, 0]
    for points in sorted({r["points"] for r in results.get("layer", [])}):
        rows = [r for r in results["layer"] if r["points"] == points]
        ax.plot(
            [r["width"] for r in rows],
            [r["sensitivity_over_gemm"] for r in rows],
            "o-",
            label=f"|S| = {points}",
        )
    ax.set(xscale="log", yscale="log", xlabel="layer width", ylabel="sensitivities / GEMM")
    ax.set_title("(a) one layer's sensitivities vs a GEMM of the same shape")
    if results.get("layer"):
        ax.legend()
    ax = axes[0, 1]
    cases = results.get("compress", {}).get("cases", [])
    if cases:
        methods = list(dict.fromkeys(c["method"] for c in cases))
        x = np.arange(len(methods))
        for k, mode in enumerate(("budget", "guarantee")):
            vals = [
                next(
                    (c["over_forward"] for c in cases if c["method"] == m and c["mode"] == mode), 0
                )
                for m in methods
            ]
            ax.bar(x + 0.4 * k - 0.2, vals, width=0.4, label=mode)
        ax.set_xticks(x, methods, rotation=30)
        ax.axhline(15, color="k", ls="--", lw=1, label="target 15x")
        ax.set(yscale="log", ylabel="compress / forward pass of S")
        ax.legend()
    ax.set_title("(b) 784-300-100-10, |S| = 200")
    ax = axes[1, 0]
    mem = [c for c in results.get("memory", {}).get("cases", []) if "error" not in c]
    if mem:
        ax.bar(
            ["-".join(map(str, c["widths"])) + f" {c.get('certificate', '')}" for c in mem],
            [c["peak_extra_over_weights"] for c in mem],
        )
        ax.axhline(2, color="k", ls="--", lw=1, label="target 2x")
        ax.set(yscale="log", ylabel="peak extra memory / weight bytes")
        ax.legend()
    ax.set_title("(d) peak extra memory (corenet keep 0.1)")
    ax = axes[1, 1]
    sc = results.get("scaling", {})
    for key, label in (("weights", "number of weights"), ("points", "|S|")):
        if key in sc:
            xs = [p[key] for p in sc[key]["points"]]
            ys = [p["wall_s"] for p in sc[key]["points"]]
            ax.plot(xs, ys, "o-", label=f"vs {label}: slope {sc[key]['slope']:.2f}")
    ax.set(xscale="log", yscale="log", xlabel="weights or |S|", ylabel="compress time (s)")
    ax.set_title("(e) scaling (corenet keep 0.1)")
    if sc:
        ax.legend()
    fig.suptitle(f"netcoreset benchmark {results.get('label', '')}".strip())
    fig.savefig(path, dpi=90)
