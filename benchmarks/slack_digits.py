"""The theorem's slack on the digits 64-300-100-10 network at eps = 0.5, delta = 0.1.

Finds the smallest multiple c of the theorem's draw counts (all layers together, then one
layer at a time with the others at the theorem's counts) at which the guarantee check still
says "holds" (``netcoreset.verification.find_slack``; every decisive verdict of the run is
right with probability >= 1 - alpha_total by a union bound), with the total draws D(c) of
every checked scale (a certificate's slack is its draws over D(c*), see
``netcoreset.verification.slack``). The data are the test images only: the held-out points
must be independent of the network's training. Writes JSON.

    python benchmarks/slack_digits.py --out bench-results/slack_digits.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from netcoreset.verification import find_slack
from netcoreset.verification.experiments import accuracy, load_digits_split, train_mlp
from netcoreset.verification.slack import DrawCounter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="bench-results/slack_digits.json")
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--alpha-total", type=float, default=1e-2)
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    x_tr, y_tr, x_te, y_te = load_digits_split(seed=0)
    net = train_mlp(x_tr, y_tr, (300, 100), seed=0, epochs=args.epochs)
    data = x_te
    res = find_slack(
        net,
        data,
        0.5,
        0.1,
        per_layer=True,
        alpha_total=args.alpha_total,
        factor=10.0,
        c_min=1e-30,
        c_max=10.0,
        bisection_steps=3,
        trials=args.trials,
        sequential=True,
        draws_of=DrawCounter(net, data[: data.shape[0] // 2], eps=0.5, delta=0.1),
    )
    out = {
        "network": "64-300-100-10 on digits",
        "test_accuracy": accuracy(net, x_te, y_te),
        "eps": 0.5,
        "delta": 0.1,
        "elapsed_s": time.perf_counter() - t0,
        "slack": res.to_dict(),
    }
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2))
    print(res.summary())
    print(f"elapsed {out['elapsed_s']:.0f}s -> {path}")


if __name__ == "__main__":
    main()
