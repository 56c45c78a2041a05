"""(d) Peak extra memory during compression against the model's weight bytes.

Measured as the increase of the resident set size (RSS) of a fresh process: the worker builds
the network and the data, runs one small compression (so that every code path and library is
loaded), then resets the kernel's high-water mark (``/proc/self/clear_refs``, Linux >= 4.0),
compresses and reads ``VmHWM``. Peak extra = ``VmHWM - VmRSS`` just before the call.

Why RSS and not tracemalloc: torch allocates tensors with its own allocator (``malloc``/
``posix_memalign`` directly), which ``tracemalloc`` does not see, and numpy's buffers are only
partly traced; RSS counts every page the process touches, whoever allocated it. A fresh
process per case keeps one case's freed-but-cached pages out of the next. The figure includes
the compressed model itself (a dense copy: 1x the weight bytes), so 2x leaves one weight-sized
working set. On CUDA the worker reports ``torch.cuda.max_memory_allocated`` instead.

The worker also times the compression (one run: these are the large cases).
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

DEFAULT_NETS = [[784, 300, 100, 10], [2048, 2048, 2048, 10]]
FULL_NETS = [[784, 300, 100, 10], [2048, 2048, 2048, 10], [4096, 4096, 4096, 10]]


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def worker(case: dict[str, Any]) -> dict[str, Any]:
    """Run one case in this (fresh) process and return its figures."""
    import torch
    from bench_common import inputs, n_weights, relu_net, weight_bytes

    from netcoreset.sampler import compress

    torch.set_num_threads(1)
    device = case.get("device", "cpu")
    net = relu_net(case["widths"], device=device)
    data = inputs(case["points"], case["widths"][0], device=device)
    kwargs = {"keep": case["keep"], "seed": 0, "method": case["method"]}
    if case.get("certificate"):
        kwargs["certificate"] = case["certificate"]
    if case.get("sensitivity_set_size"):
        kwargs["sensitivity_set_size"] = case["sensitivity_set_size"]
    small = relu_net([8, 6, 4, 2], device=device)
    compress(small, inputs(50, 8, device=device), **{**kwargs, "keep": 0.9})  # load code
    gc.collect()
    out: dict[str, Any] = {
        **case,
        "weights": n_weights(net),
        "weight_bytes": weight_bytes(net),
    }
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        t = time.perf_counter()
        res = compress(net, data, **kwargs)
        torch.cuda.synchronize()
        out["wall_s"] = time.perf_counter() - t
        out["peak_extra_bytes"] = torch.cuda.max_memory_allocated() - base
        out["method_of_measure"] = "torch.cuda.max_memory_allocated"
    else:
        before = _status_kib("VmRSS")
        reset = _reset_peak()
        t = time.perf_counter()
        res = compress(net, data, **kwargs)
        out["wall_s"] = time.perf_counter() - t
        peak = _status_kib("VmHWM")
        if not reset:  # the high-water mark of the whole process: an upper bound
            out["note"] = "clear_refs unavailable: VmHWM is the process's lifetime peak"
        out["peak_extra_bytes"] = (peak - before) * 1024
        out["method_of_measure"] = "VmHWM - VmRSS (fresh process, peak reset)"
    out["sensitivity_set_size_used"] = res.report.sensitivity_set_size
    out["peak_extra_over_weights"] = out["peak_extra_bytes"] / out["weight_bytes"]
    return out


def measure(case: dict[str, Any]) -> dict[str, Any]:
    """Run :func:`worker` for ``case`` in a fresh interpreter and return its JSON."""
    here = Path(__file__).resolve().parent
    proc = subprocess.run(
        [sys.executable, str(here / "bench_memory.py"), "--worker", json.dumps(case)],
        capture_output=True,
        text=True,
        cwd=here,
    )
    if proc.returncode != 0:
        return {**case, "error": proc.stderr.strip().splitlines()[-1:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(full: bool, device: str) -> dict[str, Any]:
    """Every net of the default (or full) list, corenet keep 10% without a certificate, and
    the 2048 net with the held-out checks (``certificate="paper"``), one process each."""
    cases = []
    plan = [(w, "none") for w in (FULL_NETS if full else DEFAULT_NETS)]
    plan.append((DEFAULT_NETS[-1], "paper"))  # the same net with the held-out checks
    for widths, cert in plan:
        case = {"widths": widths, "points": 500, "keep": 0.1, "method": "corenet"}
        case["device"], case["certificate"] = device, cert
        row = measure(case)
        cases.append(row)
        if "error" in row:
            print(f"  memory {widths}: failed: {row['error']}", flush=True)
        else:
            print(
                f"  memory {'-'.join(map(str, widths))} ({cert}): {row['wall_s']:.2f} s, "
                "peak extra "
                f"{row['peak_extra_bytes'] / 2**20:.0f} MiB = "
                f"{row['peak_extra_over_weights']:.1f}x weights",
                flush=True,
            )
    return {"measure": __doc__.split("\n\n")[1].replace("\n", " "), "cases": cases}


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        print(json.dumps(worker(json.loads(sys.argv[2]))))
    else:
        sys.exit("usage: bench_memory.py --worker JSON (called by run.py)")
