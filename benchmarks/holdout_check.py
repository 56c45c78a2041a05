"""The checker's verdict on ``certificate="holdout"`` (eps 0.5, delta 0.1) with many inputs per
compression: the per-trial failure fractions go to the anytime-valid betting sequence, which
decides with far fewer compressions than one input per trial.

    python benchmarks/holdout_check.py --net digits --out bench-results/holdout_check_digits.json
"""

from __future__ import annotations

import argparse
import time
import warnings

import torch
from bench_common import certificate_network

from netcoreset.verification import SamplerCompressor, check_guarantee
from netcoreset.verification.experiments.files import write_json

EPS, DELTA = 0.5, 0.1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--net", choices=["digits", "fashion"], default="digits")
    parser.add_argument("--out", default="bench-results/holdout_check.json")
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--inputs", type=int, default=50)
    parser.add_argument("--alpha", type=float, default=1e-3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", UserWarning)
    t0 = time.perf_counter()
    net, data, _ = certificate_network(args.net, 30 if args.net == "digits" else 10)
    check = check_guarantee(
        net,
        data,
        SamplerCompressor("corenet", eps=EPS, delta=DELTA, certificate="holdout"),
        EPS,
        DELTA,
        trials=args.trials,
        inputs_per_trial=args.inputs,
        alpha=args.alpha,
        sequential=True,
        batch_size=10,
        seed=2,
    )
    out = {k: v for k, v in check.to_dict().items() if k not in ("worst_errors",)}
    out["elapsed_s"] = time.perf_counter() - t0
    path = write_json(args.out, out)
    print(check.summary())
    print(f"elapsed {out['elapsed_s']:.0f}s -> {path}")


if __name__ == "__main__":
    main()
