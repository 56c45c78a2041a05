"""Budget mode's split of the error budget across layers, measured on the digits 64-300-100-10
network: test accuracy of the theorem's split (with and without kappa) and of the uniform split
(CoreNet, CoreNet+, CoreNet++) at each kept fraction of ``KEEPS``, the mean over ``--seeds``
compressions (seeds 0, 1, ...). The network is trained on the training part (300-100 hidden,
30 epochs, seed 0), the points of the compressions come from the validation part, the accuracy
from the test part. Writes JSON (the guide's allocation table is rendered from it)::

    OMP_NUM_THREADS=1 python benchmarks/allocation_digits.py \\
        --out benchmarks/results/allocation_digits.json
"""

from __future__ import annotations

import argparse
import time
import warnings

import torch

from netcoreset.sampler import compress
from netcoreset.verification.experiments.datasets import load_dataset
from netcoreset.verification.experiments.files import write_json
from netcoreset.verification.experiments.training import train_mlp

KEEPS = (0.1, 0.2, 0.3)
#: Column name -> the options of compress it measures.
SETTINGS = {
    "theorem": {"allocation": "theorem", "include_kappa": True},
    "theorem_no_kappa": {"allocation": "theorem", "include_kappa": False},
    "uniform": {"allocation": "uniform"},
    "uniform_corenet+": {"allocation": "uniform", "method": "corenet+"},
    "uniform_corenet++": {"allocation": "uniform", "method": "corenet++"},
}


def _accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench-results/allocation_digits.json")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")  # the compressions' warnings are not what is measured
    t0 = time.perf_counter()
    d = load_dataset("digits")
    net = train_mlp(d.x_train, d.y_train, (300, 100), epochs=30, seed=0)
    x, y = d.x_test, d.y_test
    rows: dict[str, dict[str, float]] = {}  # keyed by the kept percentage, "10", "20", ...
    for keep in KEEPS:
        cells = {}
        for name, options in SETTINGS.items():
            accs = [
                _accuracy(compress(net, d.x_val, keep=keep, seed=s, **options).model, x, y)
                for s in range(args.seeds)
            ]
            cells[name] = sum(accs) / len(accs)
        rows[f"{round(100 * keep)}"] = cells
    out = {
        "network": "digits 64-300-100-10",
        "test_accuracy": _accuracy(net, x, y),
        "seeds": args.seeds,
        "settings": SETTINGS,
        "accuracy": rows,
        "elapsed_s": time.perf_counter() - t0,
    }
    print(f"allocation_digits: {write_json(args.out, out)} ({out['elapsed_s']:.0f} s)")


if __name__ == "__main__":
    main()
