"""CoreNet codes in the pre-registered protocol, against the same architecture unpruned
(MNIST or Fashion-MNIST).

Usage (from the repository root, one thread)::

    OMP_NUM_THREADS=1 nice -n 10 python tools/with_provenance.py \\
        --out docs/results/generalization_prereg_corenet_fashion-mnist.json -- \\
        python benchmarks/generalization/preregistered_corenet.py --dataset fashion-mnist \\
        --out docs/results/generalization_prereg_corenet_fashion-mnist.json

``--develop`` runs the same code on the design part alone (the prior on its first 20,000
points, the certificate on its other 10,000), registers nothing and touches no
certification point: that is where the grid below was tried out.

What is fixed before the certification part is seen (``CODE``, registered in
``docs/results/registrations/<dataset>-corenet-codes.json``; the same split as
``preregistered.py``, so the same certification sample and the same log of registrations):

* the prior network (``preregistered.py``'s: 784-300-100-10, trained on the 30,000 design
  points only, seeded): 0 bits;
* for each declared method (CoreNet, CoreNet+, CoreNet++) and keep fraction, the prior
  compressed on the first 1,000 design points with a declared seed: its mask, sampling
  counts and reweighted weights are a function of registered things, so 0 bits;
* the offsets: none (the compressed prior itself), or quantised coordinates ``z`` of a random
  subspace restricted to the kept weights (``diag(mask) P z``, ``P`` from a declared seed;
  ``z`` trained on all 60,000 training images), whose symbols, counts and codebook are paid;
* the comparator, the same architecture unpruned, coded the same way (the prior itself, or
  ``z`` over all its weights), in the same grid: every row pays log2 of the grid's size, and
  all rows hold together at this registration's delta.

The registration's i-th place on its certification sample costs log2(i (i + 1)) bits of
delta. Rerunning with the registration file present (same data, split, code and package
source) reuses it: same place in the log, nothing charged again, the same numbers (seeded,
one thread). With a changed package source the run is a *reproduction* of the result at
``--out`` (certified under the registered source): it is written, with ``"reproduced":
true``, only if every row's code (``code_sha256``) and numbers equal the committed ones;
otherwise it is refused (exit status 2, nothing written) and must be registered again. Each
row's coded network is stored next to the JSON (``.code.npz``) and rechecked by
``python -m netcoreset.verification.experiments.certificate_codes``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from preregistered import CODE as PRIOR_CODE  # noqa: E402
from protocol import DELTA, Placement, finish, load_dataset, place, run  # noqa: E402
from protocol import split as registered_split  # noqa: E402

from netcoreset.verification.experiments import train_mlp  # noqa: E402
from netcoreset.verification.experiments.certificate_codes import (  # noqa: E402
    CodeEntry,
    network_entry,
    subspace_entry,
)
from netcoreset.verification.experiments.corenet_code import (  # noqa: E402
    UNPRUNED,
    certify_corenet_code,
    code_grid,
    corenet_origin,
    mask_bits_if_paid,
)
from netcoreset.verification.experiments.datasets import array_fingerprint  # noqa: E402
from netcoreset.verification.experiments.provenance import provenance, source_files  # noqa: E402

GRID = {"methods": ["corenet", "corenet+", "corenet++"], "keeps": [0.3, 0.5, 0.7], "dim": 50,
        "levels": 4, "codebook_dtype": "float16"}  # fmt: skip
CODE = {
    "protocol": "CoreNet codes: the prior network (trained on the design part) compressed by "
    "CoreNet, CoreNet+ and CoreNet++ on design points (mask and sampling counts 0 bits), "
    "offsets of the kept weights as quantised subspace coordinates trained on all training "
    "images; the same architecture unpruned coded the same way; one grid, exact binomial "
    "tail on the certification part",
    "architecture": PRIOR_CODE["architecture"],
    "prior_training": PRIOR_CODE["prior_training"],
    "compression": {
        "points": "the first 1000 design points (sorted indices)",
        "size": 1000,
        "seed": 0,
    },  # fmt: skip
    "grid": GRID,
    "basis_seed": 0,
    "subspace_training": {
        "epochs": 1,
        "lr": 0.05,
        "qat_epochs": 1,
        "qat_lr": 0.005,
        "batch_size": 256,
        "seed": 0,
    },  # fmt: skip
}


def _entry(org, row: dict, i: int, grid, points: dict) -> CodeEntry:  # noqa: ANN001
    """The coded network of row ``i``: the origin network at the grid's choice bits, or its
    quantised subspace offsets on the kept weights (the mask of the compressed prior)."""
    cfg = row["configuration"]
    if cfg["offsets"] == "none":
        return network_entry(org.model, row=["rows", i], points=points, delta=row["delta"],
                             certify={"grid": grid.to_dict(), "setting": "subspace",
                                      "config": {**cfg, "value_coding": "fixed"}},
                             flat=True)  # fmt: skip
    base = {k: v for k, v in cfg.items() if k != "value_coding"}
    return subspace_entry(org.spec, row["codebook"], row["symbols"], GRID["levels"],
                          GRID["codebook_dtype"], row=["rows", i], points=points,
                          certify={"grid": grid.to_dict(), "config": base, "delta": row["delta"]},
                          origin=org.origin, mask=org.mask)  # fmt: skip


def _parts(x: torch.Tensor, develop: bool) -> tuple[torch.Tensor, ...]:
    """(prior-training, certification, offset-training) indices."""
    design, cert = registered_split(x.shape[0])
    if develop:  # the design part alone: no certification point is touched
        return design[:20_000], design[20_000:], design
    return design, cert, torch.arange(x.shape[0])


def certify_all(prior, x, y, parts, test, delta, named=None) -> tuple[list, list]:  # noqa: ANN001
    """Every code of the grid (compressed on the first design points), certified; with the
    certification points ``named`` (:func:`~.certificate_codes.load_points`), each row's
    code entry too."""
    prior_idx, cert_idx, train_idx = parts
    grid = code_grid(GRID["methods"], GRID["keeps"], GRID["dim"], GRID["levels"],
                     GRID["codebook_dtype"])  # fmt: skip
    points = x[prior_idx[: CODE["compression"]["size"]]]
    total = sum(p.numel() for p in prior.parameters())
    rows, entries = [], []
    for code in grid.options("subspace", "code"):
        org = corenet_origin(prior, points, code, dim=GRID["dim"], basis_seed=CODE["basis_seed"],
                             seed=CODE["compression"]["seed"])  # fmt: skip
        for offsets in ("none", "subspace"):
            t1 = time.time()
            row = certify_corenet_code(org, offsets, (x[cert_idx], y[cert_idx]), grid=grid,
                                       delta=delta, train=(x[train_idx], y[train_idx]),
                                       training=CODE["subspace_training"], test=test)  # fmt: skip
            method, _, keep = code.partition("@")
            row.update({"method": method, "keep": float(keep) if keep else 1.0,
                        "kept_fraction": org.nnz / total, "widths": list(org.spec.widths),
                        "mask_bits_if_paid": mask_bits_if_paid(org),
                        "wall_seconds": time.time() - t1})  # fmt: skip
            if named is not None:
                entries.append(_entry(org, row, len(rows), grid, named))
            rows.append(row)
            print(f"{code} offsets {offsets}: bound {row['bound']:.4f} "
                  f"({row['description_bits']:.0f} bits)", file=sys.stderr)  # fmt: skip
    return rows, entries


def verdict(rows: list[dict]) -> dict:
    """The best CoreNet code against the best unpruned code (the smaller bound wins)."""
    best = {w: min((r for r in rows if (r["method"] == UNPRUNED) == (w == UNPRUNED)),
                   key=lambda r: r["bound"]) for w in (UNPRUNED, "corenet")}  # fmt: skip
    return {
        "best_corenet": best["corenet"],
        "best_unpruned": best[UNPRUNED],
        "corenet_beats_unpruned": best["corenet"]["bound"] < best[UNPRUNED]["bound"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True, choices=["mnist", "fashion-mnist"])
    parser.add_argument("--out", required=True)
    parser.add_argument("--develop", action="store_true",
                        help="design part only: nothing registered, no certificate")  # fmt: skip
    args = parser.parse_args()
    t0 = time.time()
    files = source_files()
    torch.set_num_threads(1)
    x, y, xt, yt = load_dataset(args.dataset)
    parts = _parts(x, args.develop)
    placement: Placement | None = None
    delta, points = DELTA, None
    if not args.develop:
        # logged before any certificate; on a changed source, the committed result to reproduce
        placement = place(args.dataset, "corenet-codes", x, y, files, CODE, args.out)
        delta, points = placement.delta, placement.points(x[parts[1]], y[parts[1]])
    pt = CODE["prior_training"]
    prior = train_mlp(x[parts[0]], y[parts[0]], tuple(CODE["architecture"][1:-1]),
                      epochs=pt["epochs"], batch_size=pt["batch_size"], lr=pt["lr"],
                      seed=pt["seed"], progress=False)  # fmt: skip
    rows, entries = certify_all(prior, x, y, parts, (xt, yt), delta, points)
    wall = time.time() - t0
    flag = " --develop" if args.develop else ""
    result = {
        "dataset": args.dataset,
        "kind": "development (design part only; not a certificate)" if args.develop
        else "deterministic",
        "registration": None if placement is None else placement.record(),
        "code": CODE,
        "rows": rows,
        **verdict(rows),
        "provenance": provenance(
            f"OMP_NUM_THREADS=1 python benchmarks/generalization/preregistered_corenet.py "
            f"--dataset {args.dataset} --out {args.out}{flag}", files=files, wall_seconds=wall,
            data_arrays={args.dataset: array_fingerprint(x, y)}),
    }  # fmt: skip
    finish(result, placement, entries, args.out)
    v = verdict(rows)
    print(f"{args.dataset}: best CoreNet code {v['best_corenet']['bound']:.4f}, best unpruned "
          f"{v['best_unpruned']['bound']:.4f}: CoreNet beats unpruned: "
          f"{'yes' if v['corenet_beats_unpruned'] else 'no'}; wall {wall:.0f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    run(main, __file__)
