"""``netcoreset demo``: the main job on bundled data.

Trains (seeded, seconds) a 64-300-100-10 ReLU net on scikit-learn's bundled digits,
compresses it with CoreNet and CoreNet+ at 10%, 20% and 30% of the weights and with the
uniform and magnitude baselines, and prints test accuracy, mean relative output error and
the certified epsilon; it also shows what guarantee mode (the theorem's sizes) keeps.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from .common import bounded_int, check_output_folder, reported_warnings, write_text_atomic

_MAX_SEEDS = 1000
_MAX_KEEPS = 100
_MAX_EPOCHS = 10**5  # netcoreset.verification.experiments.training.MAX_EPOCHS


def _keeps(text: str) -> list[float]:
    """``--keeps``: comma-separated fractions in (0, 1], at most ``_MAX_KEEPS`` of them."""
    try:
        keeps = [float(k) for k in text.split(",") if k.strip()]
    except ValueError:
        raise ValueError(f"--keeps must be comma-separated fractions; got {text!r}") from None
    if not keeps or len(keeps) > _MAX_KEEPS or not all(0 < k <= 1 for k in keeps):
        raise ValueError(
            f"--keeps must be 1 to {_MAX_KEEPS} comma-separated fractions in (0, 1]; got {text!r}"
        )
    return keeps


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="train on bundled digits, compress, print and plot the result")
    p.add_argument(
        "--seeds",
        type=bounded_int(1, _MAX_SEEDS),
        default=3,
        help="independent compressions per cell (3)",
    )
    p.add_argument(
        "--epochs", type=bounded_int(1, _MAX_EPOCHS), default=30, help="training epochs (30)"
    )
    p.add_argument("--keeps", default="0.1,0.2,0.3", help="budgets as fractions (0.1,0.2,0.3)")
    p.add_argument(
        "--out", default="demo-output", help="folder for the plot and JSON (demo-output)"
    )
    p.add_argument("--no-plot", action="store_true", help="skip the plot")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from netcoreset.bounds.serialization import to_json
    from netcoreset.sampler import compress
    from netcoreset.verification.experiments import (
        accuracy,
        compare_methods,
        format_table,
        load_dataset,
        plot_rows,
        train_mlp,
    )

    keeps = _keeps(args.keeps)
    out = check_output_folder(str(args.out), "--out") or Path(args.out)
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    # Train on the training part; the points of the compression (S, T and the held-out
    # checks' V) come from the validation part, independent of the training as the
    # certificates require; accuracy and output error are measured on the test part.
    d = load_dataset("digits", seed=0)
    x_tr, x_val, x_te, y_te = d.x_train, d.x_val, d.x_test, d.y_test
    net = train_mlp(x_tr, d.y_train, (300, 100), seed=0, epochs=args.epochs)
    ref_acc = accuracy(net, x_te, y_te)
    print(
        f"trained 64-300-100-10 on digits ({len(x_tr)} train / {len(x_val)} validation for "
        f"the compression / {len(x_te)} test) in {time.perf_counter() - t0:.1f}s: "
        f"test accuracy {ref_acc:.3f}"
    )

    with reported_warnings():
        guar = compress(net, x_val, eps=0.5, delta=0.1, seed=0)
    print(
        f"guarantee mode (eps=0.5, delta=0.1, kappa={guar.report.kappa:.0f}): the theorem's "
        f"draws keep {guar.nnz / guar.nnz_original:.1%} of the weights "
        f"(test accuracy {accuracy(guar.model, x_te, y_te):.3f}); certified "
        f"{guar.report.certificate_statement}, K = {guar.report.K:.3g} ({guar.report.K_source})"
    )
    for note in guar.report.warnings:
        print(f"WARNING: {note}")
    rows = compare_methods(
        net,
        x_val,
        x_te,
        y_te,
        methods=("corenet", "corenet+", "uniform", "magnitude"),
        keeps=keeps,
        seeds=tuple(range(args.seeds)),
        certificate="paper",
    )
    print(
        f"\nbudget mode, mean ± std over {args.seeds} compressions "
        "(relative error = mean ||f_hat(x) - f(x)|| / ||f(x)|| on the test set):"
    )
    print(format_table(rows, ref_acc))
    print(
        "certified eps: the (1±eps) the draws certify under the theorem (with kappa); "
        "values >= 1 certify nothing useful at these budgets."
    )
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(
        out / "demo.json",
        to_json(
            {
                "reference_accuracy": ref_acc,
                "rows": [r.to_dict() for r in rows],
                "guarantee_mode": guar.report.to_dict(),
            },
            indent=2,
        ),
    )
    if not args.no_plot:
        plot_rows(rows, str(out / "demo.png"), ref_acc)
        print(f"plot: {out / 'demo.png'}")
    print(f"done in {time.perf_counter() - t0:.1f}s")
    return 0
