"""The checker's verdict on ``certificate="holdout"`` (eps 0.5, delta 0.1) with many inputs per
compression: the per-trial failure fractions go to the anytime-valid betting sequence, which
decides with far fewer compressions than one input per trial.

    python benchmarks/holdout_check.py --net digits --out bench-results/holdout_check_digits.json
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import torch

from netcoreset.verification import SamplerCompressor, check_guarantee
from netcoreset.verification.experiments import load_digits_split, load_fashion_mnist, train_mlp

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
    if args.net == "digits":
        x_tr, y_tr, x_te, _ = load_digits_split(seed=0)
        net = train_mlp(x_tr, y_tr, (300, 100), seed=0, epochs=30)
        data = torch.cat([x_tr, x_te])
    else:
        x_tr, y_tr, x_te, _ = load_fashion_mnist()
        net = train_mlp(x_tr, y_tr, (300, 100), seed=0, epochs=10)
        data = x_te[:4000]
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
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(out, indent=2, default=str))
    tmp.replace(path)
    print(check.summary())
    print(f"elapsed {out['elapsed_s']:.0f}s -> {path}")


if __name__ == "__main__":
    main()
