"""What certifying costs on top of compressing, measured in paired rounds.

On 784-300-100-10 with |S| = 200 (data: 1,000 points), every round times, back to back: one
forward pass of S (median of 20), budget-mode CoreNet at keep 0.1 with no certificate (the
default), with ``certificate="paper"`` (the held-out checks on |V| = 800), with
``certificate="holdout"``, ``certify(result, ...)`` on the 800 other points, and the
arithmetic floor of the held-out checks (bench_floor.py; its part over S alone, less the
cancellation's GEMMs, is the floor of a compression without them, which computes no
Delta-hat in budget mode). Then where the time of the first two goes (``stages_over_forward``:
each stage of the pipeline, clocked where it is called, median over 15 compressions, in
forward passes of S: the round's median). Every time is the process's CPU
time (one torch thread), not the wall clock, and each figure is the median over the rounds of
its ratio within the round: on a machine shared with other jobs (its load is recorded) the
wall clock counts the time spent waiting for a core. Then the peak extra memory of the
2048-2048-2048-10 net (returned model included) without and with the certificate, one fresh
process each (bench_memory.py).

    python benchmarks/certify_cost.py --out benchmarks/results/certify_cost.json
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import statistics
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import bench_compress
import bench_floor
import bench_memory
import torch
from bench_common import environment, inputs, load, relu_net, write_json
from bench_compress import HEADLINE, forward_time
from bench_floor import certificate_arithmetic

from netcoreset.sampler import certify, compress

CASES = {"none": {}, "paper": {"certificate": "paper"}, "holdout": {"certificate": "holdout"}}


def cpu_timed(fn: Callable[[], Any], repeat: int, device: str = "cpu") -> dict[str, float]:
    """Median CPU time of ``fn`` over ``repeat`` runs after a warm-up (``timed``'s fields)."""
    fn()
    samples = []
    for _ in range(max(1, repeat)):
        t = time.process_time()
        fn()
        samples.append(time.process_time() - t)
    return {
        "s": statistics.median(samples),
        "runs": len(samples),
        "min_s": min(samples),
        "max_s": max(samples),
    }


timed = cpu_timed
bench_compress.timed = cpu_timed  # forward_time
bench_floor.timed = cpu_timed  # certificate_arithmetic


def _round(net: torch.nn.Module, data: torch.Tensor, repeat: int) -> dict[str, float]:
    s_size = HEADLINE["sensitivity_set_size"]
    row = {"forward_s": forward_time(net, data[:s_size], repeat, "cpu")}
    for name, extra in CASES.items():
        kwargs = {"keep": 0.1, "sensitivity_set_size": s_size, "seed": 0, **extra}
        row[name] = timed(lambda kwargs=kwargs: compress(net, data, **kwargs), repeat)["s"]
    res = compress(net, data, keep=0.1, sensitivity_set_size=s_size, seed=0)
    held = data[s_size:]
    row["certify"] = timed(lambda: certify(res, net, held, criterion="top1"), repeat)["s"]
    floor = certificate_arithmetic(net, data[:s_size], held, repeat, "cpu")
    row["floor"] = floor["s"]
    # the part over S alone without the cancellation (budget mode without a certificate
    # computes no Delta-hat): the floor of a compression without the held-out checks
    s_ops = {k: v for k, v in floor["operations"].items() if not _on_v(k)}
    row["floor_s"] = sum(v for k, v in s_ops.items() if "cancellation" not in k)
    return row


#: The stages of a compression, timed where the pipeline calls them: (name, the stage it is
#: part of or None, module or class, attribute).
STAGES = (
    ("layer_statistics", None, "netcoreset.sampler.pipeline", "layer_statistics"),
    ("sensitivities", "layer_statistics", "netcoreset.sampler.pipeline", "empirical_sensitivity"),
    ("part_tables", "layer_statistics", "netcoreset.sampler.allocation.PartTable",
     "from_sensitivity"),
    ("held_out_checks", None, "netcoreset.sampler.pipeline", "held_out_checks"),
    ("budget_allocation", None, "netcoreset.sampler.holdout", "allocate_draws"),
    ("budget_solve", "budget_allocation", "netcoreset.sampler.pipeline", "solve_budget"),
    ("sampling", None, "netcoreset.sampler.holdout", "sample_layers"),
)  # fmt: skip


def _owner(path: str) -> Any:
    """The module (or a class in it) named by a dotted path."""
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError:
        module, _, name = path.rpartition(".")
        return getattr(importlib.import_module(module), name)


@contextlib.contextmanager
def _stage_clock(spent: dict[str, float]) -> Iterator[None]:
    """Add the CPU time of every call of each of :data:`STAGES` to ``spent`` while open."""
    saved = []
    for name, _, path, attr in STAGES:
        owner = _owner(path)
        original = owner.__dict__[attr]
        fn = original.__func__ if isinstance(original, classmethod) else original

        def clocked(*args: Any, _fn: Any = fn, _name: str = name, **kwargs: Any) -> Any:
            t = time.process_time()
            try:
                return _fn(*args, **kwargs)
            finally:
                spent[_name] += time.process_time() - t

        setattr(owner, attr, classmethod(clocked) if isinstance(original, classmethod) else clocked)
        saved.append((owner, attr, original))
    try:
        yield
    finally:
        for owner, attr, original in reversed(saved):
            setattr(owner, attr, original)


def stage_times(
    net: torch.nn.Module, data: torch.Tensor, extra: dict[str, Any], repeat: int
) -> dict[str, float]:
    """Median CPU seconds of each of :data:`STAGES` over ``repeat`` compressions (after a
    warm-up), the whole compression (``total``) and the rest (``other``: validation, point
    selection, certificate, report and model building), each over the same calls."""
    kwargs = {"keep": 0.1, "sensitivity_set_size": HEADLINE["sensitivity_set_size"], "seed": 0}
    kwargs.update(extra)
    compress(net, data, **kwargs)
    samples: dict[str, list[float]] = defaultdict(list)
    for _ in range(max(1, repeat)):
        spent: dict[str, float] = defaultdict(float)
        with _stage_clock(spent):
            t = time.process_time()
            compress(net, data, **kwargs)
            spent["total"] = time.process_time() - t
        spent["other"] = spent["total"] - sum(spent[n] for n, part, _, _ in STAGES if not part)
        for name in ["total", *(n for n, _, _, _ in STAGES), "other"]:
            samples[name].append(spent.get(name, 0.0))
    return {name: statistics.median(v) for name, v in samples.items()}


def _on_v(operation: str) -> bool:
    """Whether one of the floor's operations is a held-out check's (on V)."""
    return "coverage" in operation or operation.startswith("forward V")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="bench-results/certify_cost.json")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    net = relu_net(HEADLINE["widths"])
    data = inputs(HEADLINE["points"], HEADLINE["widths"][0])
    rounds = []
    for r in range(args.rounds):
        rounds.append({**_round(net, data, args.repeat), "load": load()})
        row = rounds[-1]
        print(
            f"round {r}: none {row['none'] / row['forward_s']:.1f}x forward, paper "
            f"{row['paper'] / row['floor']:.2f}x floor, load {row['load']}",
            flush=True,
        )

    def median(num: str, den: str) -> float:
        return statistics.median(r[num] / r[den] for r in rounds)

    summary = {
        "none_over_forward": median("none", "forward_s"),
        "floor_s_over_forward": median("floor_s", "forward_s"),
        "none_over_floor_s": median("none", "floor_s"),
        "paper_over_forward": median("paper", "forward_s"),
        "holdout_over_forward": median("holdout", "forward_s"),
        "certify_over_forward": median("certify", "forward_s"),
        "floor_over_forward": median("floor", "forward_s"),
        "paper_over_floor": median("paper", "floor"),
        "none_over_paper": median("none", "paper"),
    }
    forward = statistics.median(r["forward_s"] for r in rounds)
    stages = {
        case: {k: v / forward for k, v in stage_times(net, data, extra, 15).items()}
        for case, extra in (("none", {}), ("paper", {"certificate": "paper"}))
    }
    for case, row in stages.items():
        print(f"stages ({case}, forward passes of S): " + ", ".join(
            f"{k} {v:.1f}" for k, v in row.items()))  # fmt: skip
    memory = []
    for cert in ("none", "paper"):
        case = {"widths": [2048, 2048, 2048, 10], "points": 500, "keep": 0.1}
        case.update(method="corenet", device="cpu", certificate=cert)
        memory.append(bench_memory.measure(case))
        print(f"memory 2048 net ({cert}): {memory[-1].get('peak_extra_over_weights')}", flush=True)
    out: dict[str, Any] = {
        "net": "-".join(map(str, HEADLINE["widths"])),
        "sensitivity_set_size": HEADLINE["sensitivity_set_size"],
        "points": HEADLINE["points"],
        "clock": "process CPU time (time.process_time), one torch thread",
        "environment": environment("cpu"),
        "summary": summary,
        "stages_over_forward": stages,
        "rounds": rounds,
        "memory": memory,
        "wall_s": time.perf_counter() - t0,
    }
    write_json(Path(args.out), out)
    for key, value in summary.items():
        print(f"{key}: {value:.3g}")
    print(f"wall {out['wall_s']:.0f} s -> {args.out}")


if __name__ == "__main__":
    main()
