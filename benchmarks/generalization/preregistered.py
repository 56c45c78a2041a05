"""The pre-registered generalisation protocol on MNIST or Fashion-MNIST (60,000 training images).

Usage (from the repository root, one thread)::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/generalization/preregistered.py \\
        --dataset fashion-mnist --out docs/results/generalization_prereg_fashion-mnist.json

Order of events (the point of the protocol):

1. The code below (``CODE``: architecture, training of the prior, the grid of prior scales,
   the posterior's training, the Monte Carlo draws, the forms, the split of delta) is fixed in
   this file. It was designed on scikit-learn's digits only; no MNIST or Fashion-MNIST
   certification point was looked at.
2. The registration (``docs/results/registrations/<dataset>-pac-bayes.json``) names the data
   set's fingerprint, the split (seed 0, 30,000 design points; SHA-256 of both parts' sorted
   indices), ``CODE``, delta and the package source hash. An existing registration file is
   reused (and must still match: same data, split and code), never overwritten. On a
   package source other than the registered one the run reproduces the result at ``--out``:
   it is written (``"reproduced": true``, nothing logged) only if the prior network's code
   SHA-256 and every row's numbers (the posteriors' KL and Monte Carlo counts: their training
   and draws are seeded and deterministic on one thread) equal the committed ones; otherwise
   it is refused (exit status 2) and must be registered again.
3. The registration is appended to the log of its certification sample (same folder) before
   any certificate is computed; the i-th registration on a sample runs at delta / (i (i + 1)).
4. The prior network is trained on the design part only. Two certificates, each at half of
   the registration's delta:

   * **deterministic**: the prior network itself, a classifier fixed before the certification
     part is seen: 0 bits, the exact binomial tail (a test-set bound, Langford 2005);
   * **stochastic**: for each declared prior scale sigma_p (G = 2, each at delta / G), a
     Gaussian posterior around the prior trained on the certification part with the
     PAC-Bayes objective, certified by the Maurer-Langford-Seeger kl form with the Monte Carlo
     term (delta and delta' each a quarter of the registration's delta).

The result JSON holds the registration's SHA-256, n, delta, every term, train and test
errors, the wall times and the provenance.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from protocol import DESIGN_SIZE, finish, load_dataset, place, run, split  # noqa: E402

from netcoreset.bounds import occam_bound  # noqa: E402
from netcoreset.verification.experiments import train_mlp  # noqa: E402
from netcoreset.verification.experiments.certificate_codes import network_entry  # noqa: E402
from netcoreset.verification.experiments.datasets import array_fingerprint  # noqa: E402
from netcoreset.verification.experiments.pac_bayes_training import (  # noqa: E402
    certify_posterior,
    train_posterior,
)
from netcoreset.verification.experiments.provenance import provenance, source_files  # noqa: E402

CODE = {
    "protocol": "prior on the design part; deterministic prior network (0 bits) and a "
    "Gaussian PAC-Bayes posterior around it, each at delta / 2",
    "architecture": [784, 300, 100, 10],
    "prior_training": {"epochs": 10, "batch_size": 64, "lr": 1e-3, "optimizer": "adam", "seed": 0},
    "deterministic": {"form": "binomial", "bits": 0.0, "delta_share": 0.5},
    "stochastic": {
        "sigma_prior_grid": [0.01, 0.03],
        "posterior_training": {
            "epochs": 5,
            "lr": 1e-3,
            "batch_size": 256,
            "p_min": 1e-4,
            "seed": 0,
            "objective": "quadratic",
        },  # fmt: skip
        "monte_carlo": {"draws": 5, "per_input": True, "seed": 0},
        "form": "kl",
        "delta_share": 0.25,
        "delta_prime_share": 0.25,
    },
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True, choices=["mnist", "fashion-mnist"])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    t0 = time.time()
    files = source_files()
    x, y, xt, yt = load_dataset(args.dataset)
    design, cert = split(x.shape[0])
    # logged before any certificate; on a changed source, the committed result to reproduce
    placement = place(args.dataset, "pac-bayes", x, y, files, CODE, args.out)
    delta_reg = placement.delta
    pt = CODE["prior_training"]
    t1 = time.time()
    prior = train_mlp(x[design], y[design], tuple(CODE["architecture"][1:-1]), epochs=pt["epochs"],
                      batch_size=pt["batch_size"], lr=pt["lr"], seed=pt["seed"])  # fmt: skip
    prior_seconds = time.time() - t1
    xc, yc = x[cert], y[cert]
    n = int(xc.shape[0])
    with torch.no_grad():
        k = int((prior(xc).argmax(1) != yc).sum())
        k_train = int((prior(x[design]).argmax(1) != y[design]).sum())
        test_err = float((prior(xt).argmax(1) != yt).float().mean())
    det = occam_bound(k, n, 0.0, delta_reg * CODE["deterministic"]["delta_share"], "binomial")
    rows = [{
        "kind": "deterministic", "what": "the prior network (trained on the design part), 0 bits",
        "bound": det.bound, "n": n, "delta": det.delta, "bits": 0.0,
        "certification_error": k / n, "design_error": k_train / DESIGN_SIZE,
        "test_error": test_err, "wall_seconds": prior_seconds,
    }]  # fmt: skip
    st = CODE["stochastic"]
    grid = st["sigma_prior_grid"]
    for sigma in grid:
        t2 = time.time()
        pt2 = st["posterior_training"]
        q = train_posterior(prior, xc, yc, sigma_prior=sigma, delta=delta_reg * st["delta_share"],
                            epochs=pt2["epochs"], lr=pt2["lr"], batch_size=pt2["batch_size"],
                            p_min=pt2["p_min"], seed=pt2["seed"])  # fmt: skip
        mc = st["monte_carlo"]
        c = certify_posterior(q, xc, yc, delta=delta_reg * st["delta_share"],
                              delta_prime=delta_reg * st["delta_prime_share"], draws=mc["draws"],
                              form=st["form"], prior_grid_size=len(grid), seed=mc["seed"],
                              per_input=mc["per_input"], x_test=xt, y_test=yt)  # fmt: skip
        rows.append({"kind": "stochastic", "what": f"Gaussian posterior, sigma_p = {sigma}",
                     **c.to_dict(), "wall_seconds": time.time() - t2})  # fmt: skip
        print(f"sigma_p {sigma}: bound {c.bound:.4f} KL {c.kl_nats:.1f}", file=sys.stderr)
    wall = time.time() - t0
    command = f"OMP_NUM_THREADS=1 python benchmarks/generalization/preregistered.py --dataset {args.dataset} --out {args.out}"  # noqa: E501
    result = {
        "dataset": args.dataset,
        "registration": placement.record(),
        "rows": rows,
        "best_deterministic": min(r["bound"] for r in rows if r["kind"] == "deterministic"),
        "best_stochastic": min(r["bound"] for r in rows if r["kind"] == "stochastic"),
        "provenance": provenance(
            command,
            files=files,
            wall_seconds=wall,
            data_arrays={args.dataset: array_fingerprint(x, y)},
        ),  # fmt: skip
    }
    # the certified network, stored next to the JSON (a recheck recounts its errors)
    entry = network_entry(prior, row=["rows", 0], points=placement.points(xc, yc), delta=det.delta)
    finish(result, placement, [entry], args.out)
    print(f"{args.dataset}: deterministic {result['best_deterministic']:.4f}, stochastic "
          f"{result['best_stochastic']:.4f}, registration {placement.reg.sha256[:16]}..., n = {n}, "
          f"wall {wall:.0f} s")  # fmt: skip
    return 0 if math.isfinite(wall) else 1


if __name__ == "__main__":
    run(main, __file__)
