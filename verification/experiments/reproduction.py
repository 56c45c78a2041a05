"""One reproduction of the paper's experiments on one data set: train (or reload) the nets,
run the budget sweep and the depth experiment, decide the claims, write the results.

The results dictionary (``results.json``) holds the data set's identity, the plan, the
reference accuracy, the sweep's rows, the depth experiment, the ``claims`` list of
:func:`~netcoreset.verification.experiments.claims.evaluate_claims`, the observations, the
library versions and the wall times. :func:`write_outputs` writes it together with CSV
tables and plots, each file atomically.
"""

from __future__ import annotations

import platform
import time
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .claims import evaluate_claims, observations
from .datasets import DataSplits
from .files import write_csv, write_json
from .sweep import (
    COREMETHODS,
    SweepPlan,
    depth_csv,
    depth_gaps,
    plot_depth,
    plot_sweep,
    run_depth,
    run_sweep,
    sweep_csv,
)
from .training import accuracy, train_cached

__all__ = ["SCHEMA", "reproduce", "refresh_claims", "write_outputs"]

SCHEMA = "netcoreset.reproduce/1"


def _versions() -> dict[str, str]:
    from importlib import metadata

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "netcoreset": metadata.version("netcoreset"),
    }


def _depth_section(depth: list[dict[str, Any]], plan: SweepPlan) -> dict[str, Any]:
    methods = [m for m in COREMETHODS if m in plan.depth_methods]
    return {
        "width": plan.depth_width,
        "keeps": list(plan.depth_keeps),
        "methods": list(plan.depth_methods),
        "results": depth,
        "gaps": {m: depth_gaps(depth, m) for m in methods},
    }


def reproduce(
    splits: DataSplits,
    plan: SweepPlan,
    *,
    cache_dir: str | Path | None = None,
    depth: bool = True,
    progress: bool | None = None,
    log: Any = print,
    executor: Executor | None = None,
) -> dict[str, Any]:
    """Run ``plan`` on ``splits`` and return the results dictionary (see the module
    docstring); ``log`` receives one line per stage. The sweep's and the depth experiment's
    compressions run through ``executor`` when given (the same results, see
    ``run_sweep``); their warnings end in one
    :class:`~netcoreset.sampler.CompressionWarning` for the whole run."""
    from netcoreset.sampler.notices import folded_warnings

    t0 = time.perf_counter()
    wall: dict[str, float] = {}
    trained = train_cached(
        splits.x_train, splits.y_train, plan.train, cache_dir=cache_dir, progress=progress
    )
    ref = accuracy(trained.model, splits.x_test, splits.y_test)
    wall["train"] = time.perf_counter() - t0
    arch = [splits.num_features, *plan.train.hidden, splits.num_classes]
    how = "from the cache" if trained.from_cache else f"trained in {wall['train']:.0f}s"
    log(f"{'-'.join(map(str, arch))} on {splits.name}: test accuracy {ref:.4f} ({how})")
    with folded_warnings("reproduce"):  # one warning for every compression of the run
        t1 = time.perf_counter()
        rows, refused = run_sweep(trained.model, splits, plan, progress, executor)
        wall["sweep"] = time.perf_counter() - t1
        log(f"sweep: {len(rows)} cells x {plan.seeds} compressions in {wall['sweep']:.0f}s")
        for cell in refused:
            log(f"  refused: {cell['method']} at {cell['keep']:.0%}: {cell['reason']}")
        t2 = time.perf_counter()
        cache = str(cache_dir) if cache_dir is not None else None
        depth_rows = (
            run_depth(splits, plan, cache_dir=cache, progress=progress, executor=executor)
            if depth
            else []
        )
        wall["depth"] = time.perf_counter() - t2
    if depth:
        log(f"depth experiment: {len(depth_rows)} nets in {wall['depth']:.0f}s")
    results: dict[str, Any] = {
        "schema": SCHEMA,
        "dataset": splits.summary(),
        "level": plan.level,
        "plan": plan.to_dict(),
        "architecture": arch,
        "training": {
            "cache_key": trained.key,
            "from_cache": trained.from_cache,
            "train_seconds": trained.train_seconds,
        },
        "reference_accuracy": ref,
        "sweep": {"pool": "validation", "rows": rows, "refused": refused},
        "depth": _depth_section(depth_rows, plan) if depth else {},
        "versions": _versions(),
    }
    results["claims"] = evaluate_claims(results)
    results["observations"] = observations(results)
    wall["total"] = time.perf_counter() - t0
    results["wall_seconds"] = wall
    return results


def refresh_claims(path: str | Path) -> dict[str, Any]:
    """Re-decide the claims (and observations) of a results file from its measured numbers
    and rewrite it atomically; returns the updated dictionary."""
    import json

    results = json.loads(Path(path).read_text())
    if not isinstance(results, dict) or results.get("schema") != SCHEMA:
        raise ValueError(f"{path} is not a results file of netcoreset reproduce ({SCHEMA})")
    try:
        results["claims"] = evaluate_claims(results)
        results["observations"] = observations(results)
    except (KeyError, TypeError, IndexError) as exc:
        raise ValueError(
            f"{path} is a damaged results file ({type(exc).__name__}: {exc})"
        ) from None
    write_json(path, results)
    return results


def write_outputs(results: dict[str, Any], out: str | Path, plots: bool = True) -> list[Path]:
    """``results.json``, ``sweep.csv``, ``depth.csv`` and (with ``plots``) ``sweep.png``
    and ``depth.png`` in ``out``, each written atomically; returns the paths."""
    out = Path(out)
    name = results["dataset"]["name"]
    paths = [write_json(out / "results.json", results)]
    paths.append(write_csv(out / "sweep.csv", *sweep_csv(results["sweep"]["rows"])))
    depth = results.get("depth") or {}
    if depth:
        paths.append(write_csv(out / "depth.csv", *depth_csv(depth["results"])))
    if plots:
        plot_sweep(
            results["sweep"]["rows"],
            results["reference_accuracy"],
            str(out / "sweep.png"),
            f"{name}, {'-'.join(map(str, results['architecture']))}",
        )
        paths.append(out / "sweep.png")
        if depth:
            plot_depth(depth["gaps"], str(out / "depth.png"), f"{name}: width {depth['width']}")
            paths.append(out / "depth.png")
    return paths
