"""``netcoreset reproduce``: the paper's experiments on real data, with the claims decided.

Trains (or reloads from the model cache) the fully-connected nets, compresses them with
CoreNet, CoreNet+, CoreNet++ and the baselines on a grid of budgets, runs the depth
experiment, and writes ``results.json`` (with the ``claims`` list), ``sweep.csv``,
``depth.csv``, ``sweep.png`` and ``depth.png`` to ``--out``, each file atomically.
``--claims-only RESULTS.json`` re-decides the claims of an existing results file from its
measured numbers (no compute).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .common import bounded_int, check_output_folder

_MAX_SEEDS = 1000
_MAX_WORKERS = 256
EXECUTORS = ("serial", "process", "dask")

DATASET_CHOICES = ("digits", "mnist5k", "mnist", "fashion-mnist", "files")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "reproduce",
        help="the paper's experiments on real data, with the claims decided",
        description=(
            "Train, compress at a grid of budgets with every method, run the depth experiment "
            "and decide the paper's claims. Data are never downloaded: digits is bundled, "
            "mnist5k, mnist and fashion-mnist come with `make data`, --dataset files reads a "
            "folder of MNIST-style IDX files or CIFAR-10 batches (--data-dir)."
        ),
    )
    p.add_argument("--dataset", choices=DATASET_CHOICES, help="the data set")
    p.add_argument("--data-dir", help="folder of the data files (mnist, fashion-mnist or files)")
    arch = p.add_mutually_exclusive_group()
    arch.add_argument(
        "--architecture",
        dest="arch",
        metavar="WIDTHS",
        help="hidden widths of the main net, e.g. 300,100 (or all widths, 784-300-100-10)",
    )
    arch.add_argument("--arch", dest="arch", help=argparse.SUPPRESS)  # the former name
    level = p.add_mutually_exclusive_group()
    level.add_argument("--quick", action="store_true", help="minutes instead of the full run")
    level.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)  # test suite
    p.add_argument(
        "--seeds", type=bounded_int(1, _MAX_SEEDS), help="independent compressions per cell"
    )
    p.add_argument("--out", help="output folder (default reproduce-DATASET[-quick])")
    p.add_argument("--cache-dir", help="model cache (default $NETCORESET_CACHE or ~/.cache)")
    p.add_argument("--no-depth", action="store_true", help="skip the depth experiment")
    p.add_argument("--no-plot", action="store_true", help="skip the plots")
    p.add_argument("--claims-only", metavar="RESULTS", help="re-decide the claims of a file")
    p.add_argument(
        "--executor",
        choices=EXECUTORS,
        default="serial",
        help="where the compressions run: serial, a process pool, or a local Dask cluster "
        "(the same results bit for bit)",
    )
    p.add_argument("--workers", type=bounded_int(1, _MAX_WORKERS), default=2, help="processes (2)")
    p.set_defaults(handler=run)


def _hidden(text: str | None, features: int, classes: int) -> tuple[int, ...] | None:
    if text is None:
        return None
    parts = [t for t in text.replace("-", ",").split(",")]
    try:
        widths = [int(t) for t in parts]
    except ValueError:
        raise ValueError(
            f"--architecture must be widths like 300,100 or 784-300-100-10; got {text!r}"
        ) from None
    if any(w < 1 for w in widths):
        raise ValueError(f"--architecture widths must be >= 1; got {text!r}")
    if "-" in text and len(widths) >= 3:
        if widths[0] != features or widths[-1] != classes:
            raise ValueError(
                f"--architecture {text} does not fit the data "
                f"({features} inputs, {classes} classes)"
            )
        widths = widths[1:-1]
    if not 1 <= len(widths) <= 8:
        raise ValueError(f"--architecture must name 1 to 8 hidden layers; got {text!r}")
    return tuple(widths)


def _load(args: argparse.Namespace):  # noqa: ANN202 - DataSplits, imported lazily
    from netcoreset.verification.experiments.datasets import load_dataset, load_directory

    if args.dataset is None:
        raise ValueError("--dataset is required (digits, mnist5k, mnist, fashion-mnist or files)")
    if args.dataset == "files":
        if args.data_dir is None:
            raise ValueError("--dataset files needs --data-dir")
        return load_directory(args.data_dir)
    return load_dataset(args.dataset, data_dir=args.data_dir)


def _command(args: argparse.Namespace) -> str:
    words = ["netcoreset", "reproduce", "--dataset", str(args.dataset)]
    for flag in ("data_dir", "arch", "seeds"):
        if getattr(args, flag) is not None:
            name = "architecture" if flag == "arch" else flag.replace("_", "-")
            words += [f"--{name}", str(getattr(args, flag))]
    if getattr(args, "executor", "serial") != "serial":
        words += ["--executor", args.executor, "--workers", str(args.workers)]
    for flag in ("quick", "tiny", "no_depth"):
        if getattr(args, flag):
            words.append(f"--{flag.replace('_', '-')}")
    return " ".join(words)


def _print_claims(claims: list[dict]) -> None:
    print("\nclaims:")
    for c in claims:
        verdict = "not tested" if not c["tested"] else (
            "reproduced" if c["reproduced"] else "NOT reproduced")  # fmt: skip
        print(f"  {c['name']:<22} {verdict:<15} {c['summary']}")


@contextmanager
def open_executor(kind: str, workers: int) -> Iterator[Any]:
    """``None`` for ``"serial"``, else a process pool or a local Dask cluster's executor of
    ``workers`` single-threaded processes, shut down on exit.

    >>> with open_executor("serial", 2) as ex:
    ...     ex is None
    True
    """
    if kind == "serial":
        yield None
    elif kind == "process":
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            yield pool
    elif kind == "dask":
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise ValueError(
                "--executor dask needs dask[distributed] (pip install 'dask[distributed]')"
            ) from None
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        with cluster, Client(cluster) as client:
            yield client.get_executor()
    else:
        raise ValueError(f"--executor must be one of {EXECUTORS}; got {kind!r}")


def run(args: argparse.Namespace) -> int:
    import torch

    from netcoreset.verification.experiments.provenance import (
        data_sources,
        provenance,
        source_files,
    )
    from netcoreset.verification.experiments.reproduction import (
        refresh_claims,
        reproduce,
        write_outputs,
    )
    from netcoreset.verification.experiments.sweep import format_drop_table, plan_for

    if args.claims_only:
        _print_claims(refresh_claims(args.claims_only)["claims"])
        return 0
    out = check_output_folder(args.out, "--out")
    check_output_folder(args.cache_dir, "--cache-dir")
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    code = source_files()  # the source as the run starts
    splits = _load(args)
    t_load = time.perf_counter() - t0
    level = "tiny" if args.tiny else "quick" if args.quick else "full"
    hidden = _hidden(args.arch, splits.num_features, splits.num_classes)
    plan = plan_for(splits.name, level, hidden, args.seeds)
    print(
        f"{splits.name}: {len(splits.x_train)} train / {len(splits.x_val)} validation / "
        f"{len(splits.x_test)} test, loaded in {t_load:.1f}s; level {level}",
        flush=True,
    )
    with open_executor(args.executor, args.workers) as executor:
        results = reproduce(
            splits,
            plan,
            cache_dir=args.cache_dir,
            depth=not args.no_depth,
            log=lambda line: print(line, flush=True),
            executor=executor,
        )
    results["command"] = _command(args)
    results["wall_seconds"]["load"] = t_load
    results["provenance"] = provenance(
        _command(args),
        **data_sources(splits),
        wall_seconds=time.perf_counter() - t0,
        files=code,
    )
    out = out or Path(f"reproduce-{splits.name}" + ("" if level == "full" else f"-{level}"))
    print("\naccuracy drop (pp, mean ± std over the compressions):")
    print(format_drop_table(results["sweep"]["rows"], keeps=plan.keeps))
    _print_claims(results["claims"])
    paths = write_outputs(results, out, plots=not args.no_plot)
    print(f"\nwrote {', '.join(str(p) for p in paths)}")
    print(f"done in {time.perf_counter() - t0:.0f}s")
    return 0
