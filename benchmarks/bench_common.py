"""Shared helpers of the benchmark modules: timing, networks, data, machine load, slopes.

Every timing is the median of several runs after one untimed warm-up, on one torch thread;
long cases (a warm-up over ``long_s`` seconds) are timed once, from the warm-up itself.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn


def sync(device: torch.device | str) -> None:
    """Wait for queued CUDA work, so that wall-clock timings are complete."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def timed(
    fn: Callable[[], Any], repeat: int, device: str = "cpu", long_s: float = 10.0
) -> dict[str, float]:
    """Median wall time of ``fn`` over ``repeat`` runs after a warm-up.

    Returns ``{"s": median, "runs": n, "min_s": ..., "max_s": ...}``. A warm-up longer than
    ``long_s`` is the only sample (the case is too slow to repeat within the default budget).
    """
    t0 = time.perf_counter()
    fn()
    sync(device)
    first = time.perf_counter() - t0
    if first > long_s:
        return {"s": first, "runs": 1, "min_s": first, "max_s": first}
    runs = max(1, min(repeat, int(60.0 / max(first, 1e-9))))
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        sync(device)
        samples.append(time.perf_counter() - t)
    return {
        "s": statistics.median(samples),
        "runs": runs,
        "min_s": min(samples),
        "max_s": max(samples),
    }


def relu_net(widths: Sequence[int], seed: int = 0, device: str = "cpu") -> nn.Sequential:
    """A seeded fully-connected ReLU network with the given widths (PyTorch's default init)."""
    torch.manual_seed(seed)
    mods: list[nn.Module] = []
    for i in range(len(widths) - 1):
        mods.append(nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            mods.append(nn.ReLU())
    return nn.Sequential(*mods).to(device)


def inputs(n: int, dim: int, seed: int = 0, device: str = "cpu") -> torch.Tensor:
    """``n`` uniform points in [0, 1]^dim (non-negative, like pixel intensities)."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, dim, generator=g).to(device)


def relu_activations(n: int, dim: int, seed: int = 0) -> torch.Tensor:
    """``relu(N(0, 1))`` activations: half of the entries are zero, as after a ReLU layer."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, dim, generator=g).clamp_(min=0)


def weight_bytes(model: nn.Module) -> int:
    """Bytes of the model's parameters."""
    return sum(p.numel() * p.element_size() for p in model.parameters())


def n_weights(model: nn.Module) -> int:
    """Number of the model's parameters (weights and biases)."""
    return sum(p.numel() for p in model.parameters())


def loglog_slope(x: Sequence[float], y: Sequence[float]) -> float:
    """Least-squares slope of ``log y`` against ``log x``."""
    lx, ly = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    return float(np.polyfit(lx, ly, 1)[0])


def load() -> list[float]:
    """The 1, 5 and 15 minute load averages (other jobs share this machine)."""
    return [round(v, 2) for v in os.getloadavg()]


def git_commit() -> str | None:
    """The commit of the working tree the benchmark runs from, if any."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def cpu_model() -> str:
    """The CPU's model name (Linux), else the platform's processor string."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def environment(device: str) -> dict[str, Any]:
    """What the figures depend on: versions, CPU, threads, device, load, commit."""
    env: dict[str, Any] = {
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": device,
        "commit": git_commit(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if torch.device(device).type == "cuda":
        env["gpu"] = torch.cuda.get_device_name()
    return env


def finite(value: float) -> float | None:
    """``value`` or None when it is not finite (JSON has no inf/NaN)."""
    return value if math.isfinite(value) else None


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as JSON atomically (temporary name, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2) + "\n")
    tmp.replace(path)


def certificate_network(name: str, epochs: int) -> tuple[nn.Module, torch.Tensor, float]:
    """The network and data of the certificate benchmarks (``slack_modes``, ``fashion_modes``,
    ``holdout_check``): a seeded 300-100 net on digits (data: the 539 test images) or on
    Fashion-MNIST (data: the first 4,000 test images), and its test accuracy. The data never
    include a training image: the certificates' held-out points must be independent of the
    network's training."""
    from netcoreset.verification.experiments import (
        accuracy,
        load_digits_split,
        load_fashion_mnist,
        train_mlp,
    )

    if name == "digits":
        x_tr, y_tr, x_te, y_te = load_digits_split(seed=0)
        net = train_mlp(x_tr, y_tr, (300, 100), seed=0, epochs=epochs)
        return net, x_te, accuracy(net, x_te, y_te)
    x_tr, y_tr, x_te, y_te = load_fashion_mnist()
    net = train_mlp(x_tr, y_tr, (300, 100), seed=0, epochs=epochs)
    return net, x_te[:4000], accuracy(net, x_te, y_te)
