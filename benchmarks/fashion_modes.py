"""The three certificates on a trained 784-300-100-10 Fashion-MNIST network (eps 0.5, delta 0.1).

A lighter protocol than ``slack_modes.py`` (one Fashion compression takes seconds):

1. each certificate once (seed 0): certified (eps, delta), kept fraction, K and the held-out checks;
2. the checker's verdict for each certificate at its own draws (sequential betting, at most
   ``--trials`` compressions, alpha_total / 3 each);
3. the failure probability p(c) of the paper's allocation scaled by c = 2^-g, estimated from
   ``--seeds`` compressions x 2000 held-out inputs per scale (a point estimate with a Wilson
   interval, not a checker verdict); c* is the smallest scale of the grid whose upper end stays
   below delta, and the slack of a certificate is (its draws) / (c* x the paper's draws);
4. the kept fraction against p for budget-mode CoreNet, CoreNet++ and magnitude pruning at
   keep = 0.3, 0.5, 0.7, 0.9 (the moonshot: under half the weights at eps = 0.5, delta = 0.1).

    python benchmarks/fashion_modes.py --out bench-results/fashion_modes.json
"""

from __future__ import annotations

import argparse
import math
import time
import warnings
from typing import Any

import torch
from bench_common import certificate_network

from netcoreset.sampler import compress
from netcoreset.verification import SamplerCompressor, check_guarantee, entrywise_relative_errors
from netcoreset.verification.experiments.files import write_json

EPS, DELTA = 0.5, 0.1


def _wilson(k: int, n: int, z: float = 3.29) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _fail_rate(net: torch.nn.Module, held: torch.Tensor, res: Any) -> int:
    with torch.no_grad():
        _, fails = entrywise_relative_errors(res.model(held), net(held), EPS)
    return int(fails.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="bench-results/fashion_modes.json")
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--alpha-total", type=float, default=1e-2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", UserWarning)
    t0 = time.perf_counter()
    net, data, acc = certificate_network("fashion", args.epochs)
    pool, held = data[:2000], data[2000:4000]
    out: dict[str, Any] = {"test_accuracy": acc, "eps": EPS, "delta": DELTA}
    for mode in ("paper", "tight", "holdout"):
        t = time.perf_counter()
        rep = compress(net, pool, eps=EPS, delta=DELTA, certificate=mode, seed=0).report
        check = check_guarantee(
            net,
            data,
            SamplerCompressor("corenet", eps=EPS, delta=DELTA, certificate=mode),
            EPS,
            DELTA,
            trials=args.trials,
            alpha=args.alpha_total / 3,
            sequential=True,
            seed=1,
        )
        out[mode] = {
            "statement": rep.certificate_statement,
            "certified_eps": rep.certified_eps,
            "certified_delta": rep.certified_delta,
            "kept_fraction": rep.nnz / rep.nnz_original,
            "K": rep.K,
            "held_out": rep.held_out,
            "holdout": rep.holdout,
            "draws_median": [lay.draws_median for lay in rep.layers],
            "check": {k: v for k, v in check.to_dict().items() if k != "worst_errors"},
            "elapsed_s": time.perf_counter() - t,
        }
        print(mode, rep.certificate_statement, check.verdict, flush=True)
    curve = []
    for g in range(0, 64, 4):
        fails = []
        for s in range(args.seeds):
            res = compress(net, pool, eps=EPS, delta=DELTA, draw_scale=2.0**-g, seed=s)
            fails.append(_fail_rate(net, held, res))
        k, n = sum(fails), args.seeds * held.shape[0]
        lo, hi = _wilson(k, n)
        curve.append({"scale": 2.0**-g, "p_hat": k / n, "lower": lo, "upper": hi})
        print("scale", 2.0**-g, k / n, hi, flush=True)
        if lo > DELTA:
            break
    out["paper_curve"] = curve
    budget = []
    for method in ("corenet", "corenet++", "magnitude"):
        for keep in (0.3, 0.5, 0.7, 0.9):
            res = compress(net, pool, keep=keep, method=method, seed=0)
            budget.append(
                {
                    "method": method,
                    "keep": keep,
                    "kept": res.nnz / res.nnz_original,
                    "p_hat": _fail_rate(net, held, res) / held.shape[0],
                }
            )
            print(budget[-1], flush=True)
    out["budget"] = budget
    out["elapsed_s"] = time.perf_counter() - t0
    path = write_json(args.out, out)
    print(f"elapsed {out['elapsed_s']:.0f}s -> {path}")


if __name__ == "__main__":
    main()
