"""``netcoreset compress``: compress a saved model with CoreNet or a baseline.

The points :math:`P` come from ``--data`` (an array file) or ``--dataset`` (a registered data
set of ``netcoreset.verification.registry``: its validation split, points the network was
not trained on). The command prints the report, the certificate, and, when labels or a data
set are given, the accuracy of the original and the compressed network and their mean
relative output error

.. math::

    \\frac{1}{n}\\sum_{i=1}^{n}
    \\frac{\\lVert f_{\\hat\\theta}(x_i) - f_\\theta(x_i)\\rVert_2}{\\lVert f_\\theta(x_i)\\rVert_2}

on the data set's test split (or on the ``--data`` points); ``--out`` saves the result,
without it nothing is written.
"""

from __future__ import annotations

import argparse
from typing import Any

from netcoreset.verification.registry import DATASETS

from .common import (
    add_assumption_args,
    add_model_args,
    check_input_file,
    check_output_folder,
    dataset_name,
    integer,
    load_model_file,
    real,
    reported_warnings,
    seed,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compress",
        help="compress a saved fully-connected ReLU network",
        description=(
            "Compress MODEL (.safetensors with its architecture, or .pt/.pth: an nn.Sequential "
            "saved with torch.save, or a state dict with --architecture; read without running "
            "code from the file) using the points of --data or --dataset. Prints the report, "
            "the certificate, the mean relative output error and, with --labels or --dataset, "
            "the accuracy; writes nothing unless --out is given."
        ),
    )
    p.add_argument("model", help="MODEL.safetensors, MODEL.pt or MODEL.pth")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", help="inputs P as .npy or .pt, shape (n, features)")
    src.add_argument(
        "--dataset",
        type=dataset_name,
        choices=DATASETS,
        help="a registered data set (fashion is accepted for fashion-mnist): P is its "
        "validation split (points the network was not trained on); accuracy and output "
        "error are measured on its test split",
    )
    p.add_argument("--data-dir", help="folder of the IDX files of mnist or fashion-mnist")
    p.add_argument(
        "--labels",
        help="labels of the --data points (.npy, shape (n,)): also report the accuracy",
    )
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--keep", type=real, help="budget: fraction of weights to keep")
    mode.add_argument("--nnz", type=integer, help="budget: number of weights to keep")
    mode.add_argument("--eps", type=real, help="guarantee mode: relative error eps in (0, 1)")
    p.add_argument(
        "--method",
        default="corenet",
        help="corenet, corenet+, corenet++, uniform, l1, l2, magnitude, svd",
    )
    p.add_argument("--delta", type=real, default=0.1, help="failure probability (0.1)")
    add_assumption_args(p, "include kappa in the allocation (default: on in guarantee mode)")
    p.add_argument("--allocation", choices=["theorem", "uniform"], default=None)
    p.add_argument("--tight", action="store_true", help="exact Bernstein sample sizes")
    p.add_argument(
        "--certificate",
        choices=["paper", "tight", "holdout"],
        default="paper",
        help="paper's theorem, its tight constants, or a held-out test (default: paper)",
    )
    p.add_argument("--seed", type=seed, default=0, help="seed (0)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--out",
        help="save the result (model.safetensors + metadata.json) to this folder (a new "
        "folder, or a saved result, which is replaced whole); without it nothing is saved",
    )
    add_model_args(p)
    p.set_defaults(handler=run)


def _check_inputs(args: argparse.Namespace) -> None:
    """The cheap checks, before torch is imported: a bad path answers at once."""
    check_output_folder(args.out, "--out")
    check_input_file(args.model, "model")
    if args.data is not None:
        check_input_file(args.data, "data")
    if args.labels is not None:
        if args.data is None:
            raise ValueError("--labels goes with --data (a --dataset brings its own labels)")
        check_input_file(args.labels, "labels")
    if args.data_dir is not None and args.dataset not in ("mnist", "fashion-mnist"):
        raise ValueError("--data-dir applies to --dataset mnist or fashion-mnist only")


def _points(args: argparse.Namespace) -> tuple[Any, Any, Any, str, str]:
    """(P, evaluation inputs, their labels or None, what P is, what they are)."""
    from netcoreset.verification.experiments import load_array, load_dataset

    if args.dataset is not None:
        d = load_dataset(args.dataset, data_dir=args.data_dir)
        return (
            d.x_val,
            d.x_test,
            d.y_test,
            f"the validation split of {d.name} ({len(d.x_val)} points, seed {d.seed})",
            f"the test split of {d.name} ({len(d.x_test)} points)",
        )
    x = load_array(args.data)
    y = None if args.labels is None else _labels(args.labels, len(x))
    return (
        x,
        x,
        y,
        f"{args.data} ({len(x)} points)",
        f"the --data points ({len(x)}; S is among them)",
    )


def _labels(path: str, n: int) -> Any:
    """The class labels of ``--labels`` (a .npy file, read without unpickling)."""
    import numpy as np
    import torch

    if not path.lower().endswith(".npy"):
        raise ValueError(f"--labels must be a .npy file; got {path}")
    try:
        y = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"--labels {path}: not a readable .npy array ({exc})") from None
    if y.shape != (n,) or y.dtype.kind not in "iuf":
        raise ValueError(
            f"--labels must hold one number per --data point, shape ({n},); "
            f"got shape {y.shape} of {y.dtype}"
        )
    if not (np.all(np.isfinite(y)) and np.all(y == np.round(y)) and np.all(y >= 0)):
        raise ValueError("--labels must be non-negative integers (class indices)")
    return torch.as_tensor(y.astype(np.int64))


def _evaluate(original: Any, compressed: Any, x: Any, y: Any, where: str) -> dict[str, Any]:
    """Accuracy (with labels) and mean relative output error of the two networks on ``x``."""
    from netcoreset.verification.experiments import accuracy, relative_l2_error

    x = x.to(next(original.parameters()).dtype)
    out: dict[str, Any] = {"on": where, "points": int(x.shape[0])}
    out["relative_output_error"] = relative_l2_error(compressed, original, x)
    if y is not None:
        out["accuracy_original"] = accuracy(original, x, y)
        out["accuracy_compressed"] = accuracy(compressed, x, y)
    return out


def run(args: argparse.Namespace) -> int:
    _check_inputs(args)
    from netcoreset.bounds.serialization import to_json
    from netcoreset.sampler import compress

    model = load_model_file(args.model, args)
    data, x_eval, y_eval, source, where = _points(args)
    with reported_warnings():
        res = compress(
            model,
            data,
            method=args.method,
            eps=args.eps,
            keep=args.keep,
            nnz=args.nnz,
            delta=args.delta,
            K=args.K,
            k_prime=args.k_prime,
            include_kappa=args.kappa,
            allocation=args.allocation,
            tight=args.tight,
            seed=args.seed,
            certificate=args.certificate,
        )
    evaluation = _evaluate(model, res.model, x_eval, y_eval, where)
    if args.out:
        res.save(args.out)
    if args.json:
        out = res.to_dict()
        out.update(data=source, evaluation=evaluation, saved=args.out)
        print(to_json(out, indent=2))
        return 0
    _print_report(res.report, source)
    _print_evaluation(evaluation)
    print(f"saved to {args.out}" if args.out else "not saved (--out FOLDER saves the result)")
    return 0


def _print_report(rep: Any, source: str) -> None:
    print(
        f"method {rep.method} ({rep.mode} mode), delta={rep.delta}, "
        f"|S|={rep.sensitivity_set_size}, seed={rep.seed}; P = {source}"
    )
    print(
        f"{'layer':>5} {'shape':>11} {'nnz before':>11} {'nnz after':>10} "
        f"{'draws min/med/max':>26} {'Delta-hat':>10}"
    )
    for lay in rep.layers:
        draws = f"{lay.draws_min:.3g}/{lay.draws_median:.3g}/{lay.draws_max:.3g}"
        print(
            f"{lay.index:>5} {lay.out_features:>5}x{lay.in_features:<5} {lay.nnz_before:>11} "
            f"{lay.nnz_after:>10} {draws:>26} "
            + ("n/a" if lay.delta_hat is None else f"{lay.delta_hat:.3g}").rjust(10)
        )
    print(
        f"kept {rep.nnz}/{rep.nnz_original} non-zeros ({rep.nnz / max(rep.nnz_original, 1):.1%}); "
        f"parameters {rep.parameters}"
    )
    if rep.K is not None:
        print(f"K = {rep.K:.4g} ({rep.K_source})")
    if rep.method.startswith("corenet"):
        print(f"certified {rep.certificate_statement}")
    if rep.certified_eps is not None and rep.certified_eps_empirical is not None:
        floor = rep.rounding_eps or 0.0
        below = " (below rounding: not observable)" if rep.certified_eps_empirical < floor else ""
        print(
            f"with the empirical Delta-hat only (no kappa, a heuristic): "
            f"{rep.certified_eps_empirical:.4g}{below}"
        )
    from netcoreset.sampler.notices import remedy_for

    for note in rep.warnings:
        remedy = remedy_for(note)
        print(f"WARNING: {note}" + ("" if remedy is None else f"; {remedy}"))


def _print_evaluation(ev: dict[str, Any]) -> None:
    line = f"on {ev['on']}: mean relative output error {ev['relative_output_error']:.4g}"
    if "accuracy_original" in ev:
        line += (
            f"; accuracy {ev['accuracy_original']:.4f} (original) -> "
            f"{ev['accuracy_compressed']:.4f} (compressed)"
        )
    print(line)
