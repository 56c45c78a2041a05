"""A deterministic code with a data-dependent prior, pre-registered: quantised coordinates in a
random subspace around the prior network (MNIST or Fashion-MNIST).

Usage (from the repository root, one thread)::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/generalization/preregistered_subspace.py \\
        --dataset fashion-mnist --out docs/results/generalization_prereg_subspace_fashion-mnist.json

The protocol of ``preregistered.py`` (same split, so the same certification sample and the same
log of registrations; the same prior network, trained on the design part only), with another
code, registered separately (``docs/results/registrations/<dataset>-subspace-prior.json``):
the certified network is :math:`\\theta_0 + P z` with :math:`\\theta_0` the prior network's
parameters (0 bits: fixed before the certification part is seen), :math:`P` from a declared
seed, and :math:`z` trained on all 60,000 training images, quantised and coded
(:func:`~netcoreset.verification.experiments.certificate.certify_subspace`: the grid of
dimensions, levels and value codings paid for). The bound is the exact binomial tail on the
certification part (:math:`n = 30{,}000`) at this registration's share of :math:`\\delta`.
On a package source other than the registered one the run reproduces the result at ``--out``
(nothing logged): it is written, with ``"reproduced": true``, only if every row's code SHA-256
and numbers equal the committed ones, and refused otherwise (exit status 2: register again).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from preregistered import CODE as PRIOR_CODE  # noqa: E402
from protocol import finish, load_dataset, place, run, split  # noqa: E402

from netcoreset.verification.experiments import train_mlp  # noqa: E402
from netcoreset.verification.experiments.certificate import SearchGrid, certify_subspace  # noqa: E402
from netcoreset.verification.experiments.certificate_codes import subspace_entry  # noqa: E402
from netcoreset.verification.experiments.datasets import array_fingerprint  # noqa: E402
from netcoreset.verification.experiments.provenance import provenance, source_files  # noqa: E402
from netcoreset.verification.experiments.subspace import (  # noqa: E402
    SubspaceSpec,
    prior_origin,
    quantize_subspace,
    train_subspace,
)

GRID = {"subspace": {"architecture": ("784-300-100-10 around the prior",), "dim": (50, 200),
                     "basis_seed": (0,), "epochs": (3,), "levels": (4, 16), "qat_epochs": (1,),
                     "codebook_dtype": ("float16",),
                     "value_coding": ("fixed", "arithmetic")}}  # fmt: skip
CODE = {
    "protocol": "quantised coordinates of a random subspace around the prior network "
    "(trained on the design part); z trained on all training images; exact binomial tail on "
    "the certification part",
    "architecture": PRIOR_CODE["architecture"],
    "prior_training": PRIOR_CODE["prior_training"],
    "grid": {s: {k: list(v) for k, v in d.items()} for s, d in GRID.items()},
    "subspace_training": {"lr": 0.05, "qat_lr": 0.005, "batch_size": 256, "seed": 0},
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
    placement = place(args.dataset, "subspace-prior", x, y, files, CODE, args.out)
    delta_reg = placement.delta
    pt = CODE["prior_training"]
    prior = train_mlp(x[design], y[design], tuple(CODE["architecture"][1:-1]), epochs=pt["epochs"],
                      batch_size=pt["batch_size"], lr=pt["lr"], seed=pt["seed"])  # fmt: skip
    grid = SearchGrid(GRID)
    st = CODE["subspace_training"]
    xc, yc = x[cert], y[cert]
    rows, entries = [], []
    points = placement.points(xc, yc)
    g = GRID["subspace"]
    for dim in g["dim"]:
        t1 = time.time()
        spec = SubspaceSpec(tuple(CODE["architecture"]), dim, g["basis_seed"][0])
        origin = prior_origin(prior, spec)
        z = train_subspace(spec, x, y, epochs=g["epochs"][0], lr=st["lr"],
                           batch_size=st["batch_size"], seed=st["seed"], origin=origin)  # fmt: skip
        for levels in g["levels"]:
            book = g["codebook_dtype"][0]
            sq = quantize_subspace(spec, z, x, y, levels, epochs=g["qat_epochs"][0],
                                   lr=st["qat_lr"], batch_size=st["batch_size"],
                                   seed=st["seed"], codebook_dtype=book, origin=origin)  # fmt: skip
            cfg = {"architecture": g["architecture"][0], "dim": dim,
                   "basis_seed": g["basis_seed"][0], "epochs": g["epochs"][0], "levels": levels,
                   "qat_epochs": g["qat_epochs"][0], "codebook_dtype": book}  # fmt: skip
            c = certify_subspace(sq.symbols, levels, book, sq.model, xc, yc,
                                 grid=grid, config=cfg, delta=delta_reg, x_test=xt, y_test=yt,
                                 nnz_original=spec.num_params)  # fmt: skip
            entries.append(subspace_entry(
                spec, sq.codebook, sq.symbols, levels, book, row=["rows", len(rows)],
                points=points, certify={"grid": grid.to_dict(), "config": cfg, "delta": delta_reg},
                origin=origin))  # fmt: skip
            rows.append({"kind": "deterministic",
                         "what": f"subspace d = {dim}, {levels} levels, around the prior",
                         "bound": c.bound, "bound_kl": c.bound_kl, "n": c.n, "delta": delta_reg,
                         "bits": c.description_bits, "certification_error": c.train_error,
                         "test_error": c.test_error, "terms_bits": c.description.breakdown(),
                         "wall_seconds": time.time() - t1})  # fmt: skip
            print(f"d {dim} levels {levels}: bound {c.bound:.4f}", file=sys.stderr)
    wall = time.time() - t0
    command = (f"OMP_NUM_THREADS=1 python benchmarks/generalization/preregistered_subspace.py "
               f"--dataset {args.dataset} --out {args.out}")  # fmt: skip
    result = {
        "dataset": args.dataset,
        "registration": placement.record(),
        "rows": rows,
        "best_deterministic": min(r["bound"] for r in rows),
        "provenance": provenance(
            command,
            files=files,
            wall_seconds=wall,
            data_arrays={args.dataset: array_fingerprint(x, y)},
        ),  # fmt: skip
    }
    finish(result, placement, entries, args.out)  # the coded networks stored next to it
    print(f"{args.dataset}: best {result['best_deterministic']:.4f}, registration "
          f"{placement.reg.sha256[:16]}... ({placement.index} on its sample), "
          f"wall {wall:.0f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    run(main, __file__)
