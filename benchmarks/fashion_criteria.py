"""The smallest kept fraction each method certifies, per criterion, on Fashion-MNIST 784-300-100-10.

Protocol, every choice fixed before the held-out points are looked at:

* the network: :func:`~netcoreset.verification.experiments.train_cached` on the 60,000
  training images (300-100 hidden units, ``--epochs`` epochs, seed 0);
* the compressions: every method of :data:`METHODS` at every kept fraction of :data:`KEEPS`
  (budget mode, seed 0, no certificate inside the compression), their points :math:`S` drawn
  from the first 5,000 test images;
* the criteria of :data:`CRITERIA_EPS` (top-1 agreement is the headline);
* the held-out set :math:`V`: the last 5,000 test images, disjoint from the training images
  and from :math:`S`, used once, by :func:`netcoreset.sampler.certify`.

Each of the :math:`G` = methods x fractions x criteria statements is certified at
:math:`\\alpha/G` (all of them hold together with probability at least :math:`1-\\alpha`); a
statement reaches :math:`\\delta` when :math:`U_{\\alpha/G}(F) + \\alpha \\le \\delta`. The
smallest kept fraction reaching it is reported per method and criterion (any passing
candidate is covered by the union bound, so taking the smallest is free).

    python benchmarks/fashion_criteria.py --out benchmarks/results/fashion_criteria.json
"""

from __future__ import annotations

import argparse
import time
import warnings
from typing import Any

import torch
from bench_common import git_commit

from netcoreset.sampler import certify, compress
from netcoreset.verification.experiments import TrainConfig, load_fashion_mnist, train_cached
from netcoreset.verification.experiments.files import write_json

METHODS = ("corenet", "corenet+", "corenet++", "uniform", "l1", "l2", "magnitude", "svd")
KEEPS = (0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
CRITERIA_EPS: dict[str, float | None] = {
    "top1": None,
    "margin": 0.5,
    "relative-l2": 0.1,
    "entrywise": 0.5,
}
DELTA, ALPHA = 0.05, 0.005
POOL, HELD_OUT = slice(0, 5000), slice(5000, 10000)


def _smallest(rows: list[dict[str, Any]], method: str, criterion: str) -> float | None:
    passing = [
        r["kept_fraction"]
        for r in rows
        if r["method"] == method and r["certificates"][criterion]["delta"] <= DELTA
    ]
    return min(passing, default=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="bench-results/fashion_criteria.json")
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", UserWarning)
    t0 = time.perf_counter()
    x_tr, y_tr, x_te, y_te = load_fashion_mnist()
    config = TrainConfig(hidden=(300, 100), epochs=args.epochs, seed=0)
    trained = train_cached(x_tr, y_tr, config)
    net = trained.model.eval()
    pool, held, y_held = x_te[POOL], x_te[HELD_OUT], y_te[HELD_OUT]
    with torch.no_grad():
        accuracy = float((net(held).argmax(dim=1) == y_held).float().mean())
    candidates = len(METHODS) * len(KEEPS) * len(CRITERIA_EPS)
    rows = []
    for method in METHODS:
        for keep in KEEPS:
            t = time.perf_counter()
            res = compress(net, pool, method=method, keep=keep, delta=DELTA, seed=0)
            compress_s = time.perf_counter() - t
            certs = {
                name: certify(
                    res, net, held, criterion=name, eps=eps, alpha=ALPHA, candidates=candidates
                ).to_dict()
                for name, eps in CRITERIA_EPS.items()
            }
            with torch.no_grad():
                acc = float((res.model(held).argmax(dim=1) == y_held).float().mean())
            rows.append(
                {
                    "method": method,
                    "keep": keep,
                    "kept_fraction": res.report.parameters / res.nnz_original,
                    "sensitivity_set_size": res.report.sensitivity_set_size,
                    "held_out_accuracy": acc,
                    "compress_s": compress_s,
                    "certificates": certs,
                }
            )
            top = certs["top1"]
            print(
                f"{method:>9} keep {keep:4.2f}: top1 fails {top['failures']:4d}/{top['points']}"
                f" -> delta {top['delta']:.4f}  ({compress_s:.2f} s)",
                flush=True,
            )
    smallest = {m: {c: _smallest(rows, m, c) for c in CRITERIA_EPS} for m in METHODS}
    out = {
        "protocol": __doc__.split("\n\n")[1:4],
        "commit": git_commit(),
        "network": "784-300-100-10",
        "train_config": config.to_dict(),
        "model_cache_key": trained.key,
        "held_out_points": int(held.shape[0]),
        "original_held_out_accuracy": accuracy,
        "delta": DELTA,
        "alpha": ALPHA,
        "candidates": candidates,
        "criteria_eps": CRITERIA_EPS,
        "keeps": list(KEEPS),
        "smallest_certified_kept_fraction": smallest,
        "rows": rows,
        "wall_s": time.perf_counter() - t0,
    }
    path = write_json(args.out, out)
    for m in METHODS:
        line = "  ".join(f"{c} {'-' if v is None else f'{v:.3f}'}" for c, v in smallest[m].items())
        print(f"{m:>9}: {line}")
    print(f"wall {out['wall_s']:.0f} s -> {path}")


if __name__ == "__main__":
    main()
