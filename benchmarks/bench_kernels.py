"""The (max, x) kernel options, each against the GEMM of the same shape.

Options (measured where the installed package has them; the 0.1.0 code has only its loop):

- ``native``: the compiled C kernel (netcoreset.sampler.native), the default on the CPU;
- ``torch row blocks``: the torch path, one point at a time over cache-sized row blocks;
- ``torch 3-d slabs``: the torch path with ``chunk_size=16``;
- ``loop of 0.1.0``: one point at a time over the whole output (the code before);
- ``upper bound (GEMM)``: the opt-in p-norm bound, p = 16 (not bit-identical: an upper bound);
- ``torch.compile``: Inductor on the broadcast-and-reduce form (``--full`` only: its compile
  takes minutes on this machine), compile time cold and cached measured in fresh processes.

The native kernel's build time is measured in a fresh process with an empty cache.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

import torch
from bench_common import timed

from netcoreset.sampler import max_times_product

SHAPES = {"default": [(300, 200, 785), (1024, 200, 1025)], "full": [(4096, 1000, 4097)]}
HAS_KERNELS = "kernel" in inspect.signature(max_times_product).parameters


def _loop_010(u: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    out = u.new_zeros((u.shape[0], a.shape[1]))
    for x in range(u.shape[1]):
        torch.maximum(out, u[:, x : x + 1] * a[x : x + 1, :], out=out)
    return out


def _options() -> dict[str, Any]:
    opts: dict[str, Any] = {"loop of 0.1.0": _loop_010, "default": max_times_product}
    if HAS_KERNELS:
        from netcoreset.sampler.native import native_available
        from netcoreset.sampler.sensitivity import max_times_upper_bound

        if native_available():
            opts["native"] = lambda u, a: max_times_product(u, a, kernel="native")
        opts["torch row blocks"] = lambda u, a: max_times_product(u, a, 1, "torch")
        opts["torch 3-d slabs (16)"] = lambda u, a: max_times_product(u, a, 16, "torch")
        opts["upper bound (GEMM, p=16)"] = lambda u, a: max_times_upper_bound(u, a, 16)
    return opts


_COMPILE_SCRIPT = """
import json, sys, time, torch
torch.set_num_threads(1)
rows, points, cols = json.loads(sys.argv[1])
t0 = time.perf_counter()
f = torch.compile(lambda u, a: (u[:, :, None] * a[None, :, :]).amax(dim=1), dynamic=True)
g = torch.Generator().manual_seed(0)
u = torch.rand(rows, points, generator=g); a = torch.rand(points, cols, generator=g)
f(u, a)
first = time.perf_counter() - t0
runs = []
for _ in range(3):
    t = time.perf_counter(); r = f(u, a); runs.append(time.perf_counter() - t)
same = bool(torch.equal(r, (u[:, :, None] * a[None, :, :]).amax(dim=1)))
print(json.dumps({"first_call_s": first, "s": sorted(runs)[1], "bit_identical": same}))
"""


def _fresh_process(code: str, args: list[str], env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=1800,
    )
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:]}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def native_build_time() -> dict[str, Any]:
    """Seconds to build and load the native kernel with an empty cache (fresh process)."""
    code = (
        "import json, time\nfrom netcoreset.sampler import native\nt = time.perf_counter()\n"
        "ok = native.native_available()\n"
        "print(json.dumps({'build_s': time.perf_counter() - t, 'available': ok,"
        " 'status': native.native_status()}))"
    )
    with tempfile.TemporaryDirectory() as cache:
        cold = _fresh_process(code, [], {"NETCORESET_CACHE": cache})
        warm = _fresh_process(code, [], {"NETCORESET_CACHE": cache})
    return {"cold": cold, "cached": warm}


def torch_compile(shape: tuple[int, int, int]) -> dict[str, Any]:
    """torch.compile of the broadcast form: cold (empty Inductor cache) and cached."""
    with tempfile.TemporaryDirectory() as cache:
        env = {"TORCHINDUCTOR_CACHE_DIR": cache, "OMP_NUM_THREADS": "1"}
        cold = _fresh_process(_COMPILE_SCRIPT, [json.dumps(shape)], env)
        warm = _fresh_process(_COMPILE_SCRIPT, [json.dumps(shape)], env)
    return {"shape": list(shape), "cold": cold, "cached": warm}


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
            if name == "loop of 0.1.0" and rows_ * cols > 2_000_000 and not full:
                continue
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
            print(f"  kernel {name:>26} {rows_}x{points}x{cols}: {t['s'] / gemm:7.1f}x GEMM")
    out: dict[str, Any] = {"options": rows}
    if HAS_KERNELS and device == "cpu":
        t = time.perf_counter()
        out["native_build"] = native_build_time()
        print(f"  native kernel build (cold cache): {out['native_build']['cold']}")
        out["native_build"]["measure_s"] = time.perf_counter() - t
    if full and device == "cpu":
        out["compiled"] = torch_compile(SHAPES["default"][0])
        print(f"  torch.compile: {out['compiled']}")
    out["default_note"] = (
        "default on the CPU: the native C kernel (no torch.compile); its build is the only "
        "compile latency"
        if HAS_KERNELS
        else "0.1.0: the loop"
    )
    return out
