"""``netcoreset verify``: statistical check of the (eps, delta) guarantee of a compression method.

Runs :func:`netcoreset.verification.checker.check_guarantee` with the sampler as compressor,
prints the verdict table, and optionally writes the result as JSON and a figure.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path
from typing import Any

from netcoreset.verification.registry import DATASETS

from .common import (
    add_assumption_args,
    add_model_args,
    bounded_int,
    check_input_file,
    check_output_file,
    dataset_name,
    load_model_file,
    one_line,
    real,
    seed,
    write_text_atomic,
)

_EXECUTORS = ("serial", "process")
#: Mirrors :data:`netcoreset.verification.checker.MAX_TRIALS` and
#: :data:`netcoreset.verification.experiments.training.MAX_EPOCHS` (not imported: they live
#: in modules that import torch, and ``netcoreset --help`` must stay fast).
_MAX_TRIALS = 10**7
_MAX_EPOCHS = 10**5
_MAX_WORKERS = 4 * (os.cpu_count() or 1)
_PLOT_SUFFIXES = (".png", ".pdf", ".svg")


def _add_source_args(p: argparse.ArgumentParser) -> None:
    """Where the model and the points of ``verify`` come from."""
    p.add_argument(
        "--dataset",
        type=dataset_name,
        choices=DATASETS,
        default="digits",
        help="a registered data set (digits): without --model, the net is trained on its "
        "training part; without --data, the checks use its test part",
    )
    p.add_argument("--data-dir", help="folder of the IDX files of mnist or fashion-mnist")
    p.add_argument("--model", help="MODEL.safetensors, MODEL.pt or MODEL.pth")
    p.add_argument("--data", help="inputs as .npy or .pt, shape (n, features) (default: dataset)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "verify",
        help="test the (eps, delta) guarantee of a compression method with confidence",
        description=(
            "Compress the model many times (one seeded generator per trial) and evaluate held-out "
            "inputs; report whether P(some output leaves (1 +- eps) f, or the --criterion "
            "fails) <= delta holds, is "
            "violated or is undecided at confidence 1 - alpha. Without --model a "
            "ReLU net with hidden widths 300-100 is trained on --dataset (digits; seeded). MODEL "
            "is read "
            "without running code from the file (see compress --help)."
        ),
    )
    _add_source_args(p)
    p.add_argument(
        "--method",
        default="corenet",
        help="corenet, corenet+, corenet++, uniform, l1, l2, magnitude, svd (corenet)",
    )
    p.add_argument("--eps", type=real, required=True, help="relative error eps in (0, 1)")
    p.add_argument(
        "--criterion",
        choices=["entrywise", "relative-l2", "top1", "margin"],
        default="entrywise",
        help="what fails on an input: an output outside (1 +- eps) f (entrywise, the default), "
        "||f^ - f|| > eps ||f|| (relative-l2), another top-1 class (top1: --eps only sets the "
        "compression's eps), or less than (1 - eps) of the original's margin (margin)",
    )
    p.add_argument("--delta", type=real, default=0.1, help="failure probability (0.1)")
    p.add_argument(
        "--keep",
        type=real,
        help="compress to this fraction of the weights (budget mode) instead of the theorem's "
        "sample sizes for eps",
    )
    add_assumption_args(p, "include kappa in Delta-hat (sampler default when omitted)")
    p.add_argument(
        "--draw-scale", type=real, default=1.0, help="multiply the theorem's draw counts (1)"
    )
    p.add_argument(
        "--trials",
        type=bounded_int(1, _MAX_TRIALS),
        default=200,
        help="trials (sequential: the cap) (200)",
    )
    p.add_argument(
        "--inputs-per-trial",
        type=bounded_int(1, _MAX_TRIALS),
        default=1,
        help="held-out inputs per trial (1)",
    )
    p.add_argument(
        "--holdout-fraction", type=real, default=0.5, help="fraction of the data held out (0.5)"
    )
    p.add_argument(
        "--sequential",
        action="store_true",
        help="anytime-valid betting sequence, stop as soon as decided",
    )
    p.add_argument(
        "--batch-size", type=bounded_int(1, _MAX_TRIALS), default=32, help="trials per batch (32)"
    )
    p.add_argument("--alpha", type=real, default=1e-3, help="P(wrong decisive verdict) (1e-3)")
    p.add_argument(
        "--seed",
        type=seed,
        default=0,
        help="seed of data split, training, trials (0)",
    )
    p.add_argument(
        "--epochs",
        type=bounded_int(1, _MAX_EPOCHS),
        default=30,
        help="training epochs without --model (30)",
    )
    p.add_argument("--json", metavar="OUT.json", help="write the result as JSON")
    p.add_argument("--plot", metavar="OUT.png", help="write the figure (PNG, PDF or SVG)")
    p.add_argument("--executor", choices=_EXECUTORS, default="serial", help="serial or process")
    p.add_argument(
        "--workers",
        type=bounded_int(1, _MAX_WORKERS),
        default=None,
        help="process workers (CPU count)",
    )
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar (default: when stderr is a terminal)",
    )
    add_model_args(p)
    p.set_defaults(handler=run)


def _init_worker() -> None:  # pragma: no cover - runs in worker processes
    import warnings

    import torch

    from netcoreset.sampler import CompressionWarning

    torch.set_num_threads(1)
    # each trial's findings come back in its report and are summarised in the verdict table
    warnings.simplefilter("ignore", CompressionWarning)


def _load_inputs(args: argparse.Namespace) -> tuple[Any, Any]:
    """(model, data): from files, or the digits net trained here."""
    from netcoreset.verification.experiments import (
        load_array,
        load_dataset,
        load_digits_split,
        train_mlp,
    )

    if args.model is not None and args.data is not None:
        return load_model_file(args.model, args), load_array(args.data)
    if args.data_dir is not None and args.dataset not in ("mnist", "fashion-mnist"):
        raise ValueError("--data-dir applies to --dataset mnist or fashion-mnist only")
    if args.dataset == "digits":
        x_train, y_train, x_test, _ = load_digits_split(args.seed)
    else:
        d = load_dataset(args.dataset, data_dir=args.data_dir)
        x_train, y_train, x_test = d.x_train, d.y_train, d.x_test
    data = load_array(args.data) if args.data is not None else x_test
    if args.model is not None:
        return load_model_file(args.model, args), data
    arch = f"{x_train.shape[1]}-300-100-{int(y_train.max()) + 1}"
    print(f"training a {arch} ReLU net on {args.dataset} (seed {args.seed}, {args.epochs} epochs)")
    model = train_mlp(x_train, y_train, hidden=(300, 100), seed=args.seed, epochs=args.epochs)
    return model, data


def _print_warnings(caught: list[Any]) -> None:
    """The trials' warnings, after the verdict table: the checker folds the compressions'
    warnings into one (``[in k of N compressions] ...``); of it, only the unreached targets
    are repeated here, since the table's WARNING rows hold the other findings."""
    from netcoreset.sampler import CompressionWarning
    from netcoreset.sampler.notices import findings_of

    for w in caught:
        texts = [str(w.message)]
        if issubclass(w.category, CompressionWarning):
            texts = [f for f in findings_of(texts[0]) if "does not reach the request" in f]
        for text in texts:
            print(f"netcoreset verify: warning: {one_line(text)}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    for path, what in ((args.model, "model"), (args.data, "data")):
        if path is not None:  # a bad path answers before torch is imported
            check_input_file(path, what)
    from netcoreset.sampler import CompressionConfig
    from netcoreset.verification.checker import SamplerCompressor, check_guarantee

    json_path = check_output_file(args.json, "--json")
    plot_path = check_output_file(args.plot, "--plot", _PLOT_SUFFIXES)
    kwargs: dict[str, Any] = {"delta": args.delta, "K": args.K, "k_prime": args.k_prime}
    if args.kappa is not None:
        kwargs["include_kappa"] = args.kappa
    if args.keep is not None:
        kwargs["keep"] = args.keep
    else:
        kwargs["eps"] = args.eps
        kwargs["draw_scale"] = args.draw_scale
    CompressionConfig.create(method=args.method, **kwargs)  # bad values fail before any work
    model, data = _load_inputs(args)
    compressor = SamplerCompressor(args.method, **kwargs)

    executor = None
    if args.executor == "process":
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        executor = ProcessPoolExecutor(
            max_workers=args.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
        )
    try:
        with warnings.catch_warnings(record=True) as caught:
            result = check_guarantee(
                model,
                data,
                compressor,
                None if args.criterion == "top1" else args.eps,
                args.delta,
                criterion=args.criterion,
                trials=args.trials,
                inputs_per_trial=args.inputs_per_trial,
                holdout_fraction=args.holdout_fraction,
                alpha=args.alpha,
                executor=executor,
                seed=args.seed,
                sequential=args.sequential,
                batch_size=args.batch_size,
                progress=args.progress,
            )
    finally:
        if executor is not None:
            executor.shutdown()
    print(result.summary())
    _print_warnings(caught)
    if json_path is not None:
        from netcoreset.bounds.serialization import to_json

        out = result.to_dict()
        out["config"] = {
            "dataset": None if args.model and args.data else args.dataset,
            "model": args.model,
            "data": args.data,
            "method": args.method,
            "compress_kwargs": kwargs,
            "executor": args.executor,
        }
        write_text_atomic(json_path, to_json(out, indent=2) + "\n")
        print(f"wrote {json_path}")
    if plot_path is not None:
        _plot(result, plot_path)
        print(f"wrote {plot_path}")
    return 0


def _plot(result: Any, path: Path) -> None:
    """The figure, written under a temporary name and renamed (whole or not at all)."""
    import tempfile

    from netcoreset.verification.plots import plot_check

    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        plot_check(result, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
