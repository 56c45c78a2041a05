"""netcoreset benchmarks (``make bench``): speed and memory figures as JSON.

Timings are the median of several repetitions on one thread (``torch.set_num_threads(1)``);
the headline figure is the ratio of compressing a 784-300-100-10 network with |S| = 200 to
one forward pass of S through it (the sensitivities cost the order of a forward
pass times a constant).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import time
from pathlib import Path

import torch
from torch import nn

from netcoreset.sampler import (
    compress,
    empirical_sensitivity,
    max_times_product,
    max_times_product_reference,
    multinomial_counts,
)


def _median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _net(widths, seed=0):
    torch.manual_seed(seed)
    mods = []
    for i in range(len(widths) - 1):
        mods.append(nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            mods.append(nn.ReLU())
    return nn.Sequential(*mods)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="bench-results/bench.json")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    results: dict[str, object] = {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "threads": torch.get_num_threads(),
    }
    net = _net([784, 300, 100, 10])
    gen = torch.Generator().manual_seed(0)
    data = torch.rand(1000, 784, generator=gen)
    s = data[:200]
    with torch.no_grad():
        forward = _median_time(lambda: net(s), max(args.repeat, 20))
    cases = {
        "budget_keep_0.1": {"keep": 0.1},
        "guarantee_eps_0.5": {"eps": 0.5},
        "corenet++_keep_0.1": {"keep": 0.1, "method": "corenet++"},
        "uniform_keep_0.1": {"keep": 0.1, "method": "uniform"},
    }
    results["forward_S200_s"] = forward
    results["compress"] = {}
    for name, kw in cases.items():
        t = _median_time(
            lambda kw=kw: compress(net, data, sensitivity_set_size=200, seed=0, **kw), args.repeat
        )
        results["compress"][name] = {"wall_s": t, "ratio_to_forward": t / forward}
    lin = net[0]
    sens_t = _median_time(lambda: empirical_sensitivity(lin.weight, lin.bias, s), args.repeat)
    u = torch.rand(300, 200, generator=gen)
    a = torch.rand(200, 785, generator=gen)
    results["sensitivity_layer_300x784_S200_s"] = sens_t
    results["max_times_product_300x785_S200_s"] = _median_time(
        lambda: max_times_product(u, a), args.repeat
    )
    results["max_times_product_reference_s"] = _median_time(
        lambda: max_times_product_reference(u, a), max(1, args.repeat // 2)
    )
    results["gemm_same_shape_s"] = _median_time(lambda: u @ a, max(args.repeat, 20))
    q = torch.full((300, 785), 1 / 785, dtype=torch.float64)
    for m in (100, 10**12):
        results[f"multinomial_300x785_m{m:g}_s"] = _median_time(
            lambda m=m: multinomial_counts(q, torch.full((300,), m), gen), args.repeat
        )
    results["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
