"""Certified eps, kept fraction and measured slack of the three certificates on one network.

For ``certificate`` in ("paper", "tight"): compress once (seed 0) for the certified eps and the
kept fraction, then ``find_slack`` scales all draw counts by c and finds the smallest c at which
``check_guarantee`` still says "holds"; the slack is 1/c*. For "holdout": the search picks its
own scale c_hat of the paper's allocation (median over ``--seeds`` compressions) and the slack
is c_hat / c*_paper (c*_paper from the paper's search); its guarantee is checked directly.

    python benchmarks/slack_modes.py --net digits --out bench-results/slack_modes_digits.json
    python benchmarks/slack_modes.py --net fashion --trials 200 --out ...fashion.json

Every decisive verdict of a run is right with probability >= 1 - alpha_total (union bound over
all checks, as in ``find_slack``).
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from typing import Any

import torch
from bench_common import certificate_network

from netcoreset.sampler import compress
from netcoreset.verification import DrawScaleFactory, SamplerCompressor, check_guarantee, find_slack
from netcoreset.verification.experiments.files import write_json

EPS, DELTA = 0.5, 0.1


def _summary(res: Any) -> dict[str, Any]:
    rep = res.report
    return {
        "certified_eps": rep.certified_eps,
        "certified_delta": rep.certified_delta,
        "kept_fraction": rep.nnz / rep.nnz_original,
        "K": rep.K,
        "K_source": rep.K_source,
        "statement": rep.certificate_statement,
        "draws_median_per_layer": [lay.draws_median for lay in rep.layers],
        "holdout": rep.holdout,
        "warnings": rep.warnings,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--net", choices=["digits", "fashion"], default="digits")
    parser.add_argument("--out", default="bench-results/slack_modes.json")
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--alpha-total", type=float, default=1e-2)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--modes", default="paper,tight,holdout")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", UserWarning)
    t0 = time.perf_counter()
    net, data, acc = certificate_network(args.net, args.epochs)
    pool = data[: data.shape[0] // 2]
    out: dict[str, Any] = {"network": args.net, "test_accuracy": acc, "eps": EPS, "delta": DELTA}
    modes = args.modes.split(",")
    # 3 searches at most: alpha_total / 3 each (union bound), plus one direct check of holdout
    alpha_search = args.alpha_total / 4
    for mode in (m for m in ("paper", "tight") if m in modes):
        t = time.perf_counter()
        one = compress(net, pool, eps=EPS, delta=DELTA, certificate=mode, seed=0)
        search = find_slack(
            net,
            data,
            EPS,
            DELTA,
            compressor_factory=DrawScaleFactory("corenet", eps=EPS, delta=DELTA, certificate=mode),
            alpha_total=alpha_search,
            factor=10.0,
            c_min=1e-30,
            c_max=10.0,
            bisection_steps=3,
            trials=args.trials,
            sequential=True,
        )
        out[mode] = {
            **_summary(one),
            "slack": search.to_dict(),
            "elapsed_s": time.perf_counter() - t,
        }
        print(mode, out[mode]["statement"], search.summary(), flush=True)
    if "holdout" in modes:
        t = time.perf_counter()
        runs = [
            compress(net, pool, eps=EPS, delta=DELTA, certificate="holdout", seed=s)
            for s in range(args.seeds)
        ]
        scales = [r.report.holdout["scale"] or 1.0 for r in runs]
        check = check_guarantee(
            net,
            data,
            SamplerCompressor("corenet", eps=EPS, delta=DELTA, certificate="holdout"),
            EPS,
            DELTA,
            trials=args.trials,
            alpha=args.alpha_total / 4,
            sequential=True,
            seed=1,
        )
        out["holdout"] = {
            **_summary(runs[0]),
            "scales": scales,
            "scale_median": statistics.median(scales),
            "kept_fractions": [r.report.nnz / r.report.nnz_original for r in runs],
            "check": check.to_dict(),
            "elapsed_s": time.perf_counter() - t,
        }
        print("holdout", statistics.median(scales), check.summary(), flush=True)
    out["elapsed_s"] = time.perf_counter() - t0
    path = write_json(args.out, out)
    print(f"elapsed {out['elapsed_s']:.0f}s -> {path}")


if __name__ == "__main__":
    main()
