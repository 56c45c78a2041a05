"""netcoreset benchmarks (``make bench``): speed and memory figures as JSON and a plot.

Sections (each figure has its reference measured in the same run):

(a) ``layer``: one layer's sensitivities against a GEMM of the same shape (bench_layer.py);
(b) ``compress``: whole compression against one forward pass of S, every method, both modes
    (budget mode asks for no certificate), and budget-mode CoreNet with each certificate
    (``certify_cost.py`` measures the same in paired rounds);
(c) ``checker``: check_guarantee trials per second (bench_compress.py);
(d) ``memory``: peak extra memory during compression (the returned model included) against
    the weight bytes, without and with the held-out checks (bench_memory.py, a fresh process
    per case);
(e) ``scaling``: time against the number of weights and against |S|, log-log slopes;
``kernels``: the (max, x) kernel options (bench_kernels.py), and ``targets``: the performance
speed and memory targets, each with pass/fail.

Timings are medians of several runs on one torch thread after a warm-up; the machine's load
average is recorded before and after (other jobs share it). ``--full`` adds the big cases
(widths 4096, |S| = 1000, the 4096-4096-4096-10 net): expect tens of minutes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import bench_compress
import bench_kernels
import bench_layer
import bench_memory
import torch
from bench_common import environment, load, write_json

SECTIONS = ("layer", "compress", "checker", "memory", "scaling", "kernels")


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The performance targets, evaluated on this run's figures (None: not measured)."""
    rows: list[dict[str, Any]] = []

    def add(name: str, value: float | None, limit: float, unit: str, note: str = "") -> None:
        rows.append(
            {
                "target": name,
                "value": value,
                "limit": limit,
                "unit": unit,
                "pass": None if value is None else bool(value <= limit),
                "note": note,
            }
        )

    comp = results.get("compress", {}).get("cases", [])
    budget = [c for c in comp if c["method"] == "corenet" and c["mode"] == "budget"]
    head = [c for c in budget if c.get("certificate", "none") == "none"]
    add(
        "784-300-100-10 |S|=200 corenet keep 0.1, no certificate: compress / forward of S",
        head[0]["over_forward"] if head else None,
        15.0,
        "x",
    )
    paper = [c for c in budget if c.get("certificate") == "paper"]
    add(
        "784-300-100-10 |S|=200 corenet keep 0.1, held-out checks (certificate='paper'): "
        "compress / its arithmetic floor",
        paper[0]["over_floor"] if paper else None,
        1.5,
        "x",
    )
    mem = [c for c in results.get("memory", {}).get("cases", []) if "error" not in c]
    big = [c for c in mem if c["widths"] == [4096, 4096, 4096, 10]]
    add(
        "4096-4096-4096-10 corenet keep 0.1: wall time",
        big[0]["wall_s"] if big else None,
        20.0,
        "s",
        "" if big else "run with --full",
    )
    for cert in ("none", "paper"):
        picked = [c for c in mem if c.get("certificate", "none") == cert]
        if picked:
            largest = max(picked, key=lambda c: c["weights"])
            add(
                f"peak extra memory (returned model included), "
                f"{'-'.join(map(str, largest['widths']))}, certificate={cert!r}",
                largest["peak_extra_over_weights"],
                2.0,
                "x weight bytes",
            )
    kern = results.get("kernels", {})
    build = kern.get("native_build", {}).get("cold", {}).get("build_s")
    add(
        "compile latency of the default (max, x) kernel (native C build, cached after)",
        build,
        10.0,
        "s",
        kern.get("default_note", ""),
    )
    compiled = kern.get("compiled", {}).get("cold", {}).get("first_call_s")
    if compiled is not None:
        add("torch.compile latency (option not used by default)", compiled, 10.0, "s")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="bench-results/bench.json", help="JSON output path")
    parser.add_argument("--full", action="store_true", help="add the big cases (slow)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per case (median)")
    parser.add_argument("--device", default="cpu", help="cpu, or cuda when available")
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"comma-separated subset of {SECTIONS}"
    )
    parser.add_argument("--label", default="", help="free text stored in the JSON")
    parser.add_argument("--no-plot", action="store_true")
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    bad = [s for s in only if s not in SECTIONS]
    if bad:
        parser.error(f"unknown sections {bad}; choose from {SECTIONS}")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("CUDA is not available on this machine: no GPU benchmark run.")
        return 0
    torch.set_num_threads(1)
    results: dict[str, Any] = {
        "label": args.label,
        "full": args.full,
        "repeat": args.repeat,
        "environment": environment(args.device),
        "load_before": load(),
    }
    t0 = time.perf_counter()
    for section in only:
        print(f"[{section}] load {load()}", flush=True)
        if section == "layer":
            results["layer"] = bench_layer.run(args.full, args.repeat, args.device)
        elif section == "compress":
            results["compress"] = bench_compress.methods_and_modes(args.repeat, args.device)
        elif section == "checker":
            results["checker"] = bench_compress.checker(args.full, args.device)
        elif section == "memory":
            results["memory"] = bench_memory.run(args.full, args.device)
        elif section == "scaling":
            results["scaling"] = bench_compress.scaling(args.full, args.repeat, args.device)
        elif section == "kernels":
            results["kernels"] = bench_kernels.run(args.full, args.repeat, args.device)
    results["load_after"] = load()
    results["total_s"] = time.perf_counter() - t0
    results["targets"] = targets(results)
    out = Path(args.out)
    write_json(out, results)
    for row in results["targets"]:
        verdict = {True: "PASS", False: "FAIL", None: "n/a "}[row["pass"]]
        value = "-" if row["value"] is None else f"{row['value']:.3g}"
        print(f"{verdict}  {row['target']}: {value} (limit {row['limit']} {row['unit']})")
    print(f"wrote {out} ({results['total_s']:.0f} s)")
    if not args.no_plot:
        import bench_plot

        bench_plot.plot(results, out.with_suffix(".png"))
        print(f"wrote {out.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
