"""Best-certificate search on real data: the paper's setting, retraining, random subspace.

Usage (from the repository root, one thread)::

    OMP_NUM_THREADS=1 python benchmarks/generalization/run_search.py --dataset fashion \\
        --out docs/results/generalization_fashion.json \\
        --plot docs/results/generalization_fashion.png

The grid is declared (``grids.declared_grid``) before the data is loaded and written into
the result. Every certificate goes to ``--log`` (JSON lines) as it is found; the result JSON
holds the declared grid, the best certificate overall and per setting (with the bits of its
network under every code variant), the curve (best per budget and setting), the best per
architecture, the training of the original networks and the wall times.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from grids import ARCHITECTURES, GAMMAS, PLANS, TRAIN_EPOCHS, declared_grid  # noqa: E402

from netcoreset.verification.cli.reproduce import EXECUTORS, open_executor  # noqa: E402
from netcoreset.verification.experiments import (  # noqa: E402
    load_digits_split,
    load_fashion_mnist,
    load_mnist_subset,
    train_mlp,
)
from netcoreset.verification.experiments.certificate import (  # noqa: E402
    Certificate,
    code_variants,
    margin_form,
    plot_certificates,
    summarize,
)
from netcoreset.verification.experiments.certificate_codes import (  # noqa: E402
    certificate_entry,
    points_sha256,
    record_codes,
)
from netcoreset.verification.experiments.search import (  # noqa: E402
    search_paper,
    search_retrained,
    search_subspace,
)

LOADERS = {"fashion": load_fashion_mnist, "mnist5k": load_mnist_subset, "digits": load_digits_split}
#: The rows the pages show besides the best per setting (their networks get a stored code).
SHOWN_ARCHITECTURES = ("paper/d784-300-100",)


def _kept(certs: list[Certificate]) -> set[int]:
    """The certificates whose networks are kept: the best per setting and per shown row."""
    best: dict[str, Certificate] = {}
    for c in certs:
        for key in (c.setting, f"{c.setting}/{c.config['architecture']}"):
            if key not in best or c.bound < best[key].bound:
                best[key] = c
    return {id(c) for k, c in best.items() if "/" not in k or k in SHOWN_ARCHITECTURES}


def _codes(result: dict, certs: list[Certificate], archs: dict, grid, points: dict) -> list:
    """The stored code of every row the pages show (the best per setting, the paper's
    network), rows named by their key path in ``result``."""
    entries = []
    for setting in result["best_per_setting"]:
        best = min((c for c in certs if c.setting == setting), key=lambda c: c.bound)
        pool = archs[best.config["architecture"]].pool
        entries.append(certificate_entry(best, grid=grid, row=["best_per_setting", setting],
                                         points=points, pool=pool))  # fmt: skip
    for key in SHOWN_ARCHITECTURES:
        if key in result["best_per_architecture"]:
            setting, arch = key.split("/", 1)
            sel = [c for c in certs if c.setting == setting and c.config["architecture"] == arch]
            best = min(sel, key=lambda c: c.bound)
            entries.append(certificate_entry(best, grid=grid, row=["best_per_architecture", key],
                                             points=points, pool=archs[arch].pool))  # fmt: skip
    return entries


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", choices=sorted(LOADERS), required=True)
    p.add_argument("--delta", type=float, default=0.05)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--plot", type=Path)
    p.add_argument("--log", type=Path, help="JSON lines, one per certificate")
    p.add_argument("--settings", default="subspace,retrained,paper")
    p.add_argument("--executor", choices=EXECUTORS, default="serial",
                   help="run the groups of the grid serially, in a process pool or a local "
                   "Dask cluster (the same certificates)")  # fmt: skip
    p.add_argument("--workers", type=int, default=2, help="processes for --executor (2)")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    t_all = time.perf_counter()
    grid = declared_grid(args.dataset)  # declared before the data is loaded
    archs = ARCHITECTURES[args.dataset]
    x, y, xt, yt = LOADERS[args.dataset]()
    n_classes = int(y.max()) + 1
    log = open(args.log, "a") if args.log else None  # noqa: SIM115

    wanted = args.settings.split(",")
    plans = [(s, plan) for s, plan in PLANS[args.dataset] if s in wanted]
    needed = {a for s, plan in plans if s != "subspace" for a in plan["architecture"]}
    models, training = {}, {}
    for name in sorted(needed):
        arch = archs[name]
        t = time.perf_counter()
        xin = arch.transform(x)
        models[name] = train_mlp(xin, y, arch.hidden, epochs=TRAIN_EPOCHS[args.dataset],
                                 batch_size=128, seed=0)  # fmt: skip
        with torch.no_grad():
            tr = float((models[name](xin).argmax(1) != y).float().mean())
            te = float((models[name](arch.transform(xt)).argmax(1) != yt).float().mean())
        training[name] = {"seconds": time.perf_counter() - t, "train_error": tr, "test_error": te}
        print(f"trained {name}: {training[name]}", flush=True)

    certs, walls = [], []
    with open_executor(args.executor, args.workers) as executor:
        for setting, plan in plans:
            t = time.perf_counter()
            common = dict(delta=args.delta, x_test=xt, y_test=yt, plan=plan, executor=executor)
            if setting == "subspace":
                found = search_subspace(archs, x, y, grid, n_classes=n_classes, **common)
            elif setting == "retrained":
                found = search_retrained(models, archs, x, y, grid, **common)
            else:
                found = search_paper(models, archs, x, y, grid, **common)
            wall = time.perf_counter() - t
            walls.append(
                {"setting": setting, "plan": plan, "evaluated": len(found), "seconds": wall}
            )
            best = min(found, key=lambda c: c.bound)
            print(f"{setting} {plan.get('architecture')}: {len(found)} certificates in "
                  f"{wall:.0f} s; best {best.bound:.4f} (train {best.train_error:.4f}, test "
                  f"{best.test_error:.4f}, {best.description_bits:.0f} bits) {best.config}",
                  flush=True)  # fmt: skip
            for c in found:
                if log:
                    row = {k: v for k, v in c.to_dict().items() if k != "description"}
                    log.write(json.dumps(row) + "\n")
            if log:
                log.flush()
            certs.extend(found)
            # keep the networks of the rows the pages show only (memory)
            best_ids = _kept(certs)
            for c in certs:
                if id(c) not in best_ids:
                    c.network = None

    result = summarize(certs)
    for setting, entry in result["best_per_setting"].items():
        if setting == "subspace":
            continue
        best = min((c for c in certs if c.setting == setting), key=lambda c: c.bound)
        entry["code_variants_bits"] = code_variants(best, grid)
        if setting == "paper":  # the paper's corollary form, for the best paper-setting network
            arch = archs[best.config["architecture"]]
            entry["margin_form"] = margin_form(models[arch.name], best, arch.transform(x), y,
                                               GAMMAS)  # fmt: skip
    per_arch = {}
    for c in certs:
        key = f"{c.setting}/{c.config['architecture']}"
        if key not in per_arch or c.bound < per_arch[key]["bound"]:
            per_arch[key] = {"bound": c.bound, "train_error": c.train_error,
                             "test_error": c.test_error, "description_bits": c.description_bits,
                             "configuration": c.config}  # fmt: skip
    result.update({
        "dataset": args.dataset,
        "n": int(x.shape[0]),
        "n_test": int(xt.shape[0]),
        "delta": args.delta,
        "declared_grid": grid.to_dict(),
        "architectures": {k: {"hidden": list(a.hidden), "pool": a.pool} for k, a in archs.items()},
        "original_training": training,
        "best_per_architecture": per_arch,
        "wall_times": walls,
        "total_seconds": time.perf_counter() - t_all,
        "machine": {"python": platform.python_version(), "torch": torch.__version__,
                    "threads": torch.get_num_threads()},
        "command": " ".join(["python", *sys.argv]),
    })  # fmt: skip
    points = {"dataset": {"fashion": "fashion-mnist"}.get(args.dataset, args.dataset),
              "sha256": points_sha256(x, y)}  # fmt: skip
    code = record_codes(result, _codes(result, certs, archs, grid, points), args.out)
    best_row = result["best_per_setting"][result["best"]["setting"]]
    result["best"]["code_sha256"] = best_row["code_sha256"]
    _write_atomic(args.out, json.dumps(result, indent=1) + "\n")
    print(f"stored code of the shown certificates -> {code}", flush=True)
    if args.plot:
        plot_certificates(certs, str(args.plot), f"{args.dataset} (n = {x.shape[0]})")
    print(
        f"total {result['total_seconds']:.0f} s; best {result['best']['bound']:.4f} "
        f"({result['best']['setting']}) -> {args.out}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
