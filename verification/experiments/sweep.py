r"""The paper's experiments: compress trained fully-connected nets at a grid of budgets with
CoreNet, its variants and the baselines, without retraining, and measure what is lost.

For every method and kept fraction (the budget counts the non-zero parameters, biases
included; SVD counts its factors), several independent compressions (seeds) each give

* the **drop in test accuracy** :math:`\mathrm{acc}(f_\theta) - \mathrm{acc}(f_{\hat\theta})`;
* the **relative output error**
  :math:`\frac1{|X|}\sum_{x\in X}\|f_{\hat\theta}(x)-f_\theta(x)\|_2/\|f_\theta(x)\|_2` on the
  test inputs :math:`X` (:func:`~netcoreset.verification.experiments.relative_l2_error`);

reported as mean ± standard deviation over the seeds. :math:`S` (and CoreNet++'s :math:`T`)
are drawn from the validation split. The **depth experiment** repeats this for nets of
constant width with 2 to 5 hidden layers, and reports the gap between CoreNet and the best
of the paper's baselines against the number of hidden layers.

The plan (:func:`plan_for`) has three levels: ``"full"`` (the published numbers),
``"quick"`` (minutes) and ``"tiny"`` (seconds, for the test suite).
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch

from .compare import BudgetRow, compare_methods, plot_rows
from .datasets import DataSplits
from .files import atomic_write
from .training import TrainConfig, accuracy, train_cached

__all__ = [
    "PAPER_METHODS",
    "COREMETHODS",
    "BASELINES",
    "FULL_KEEPS",
    "REPORT_KEEPS",
    "LEVELS",
    "SweepPlan",
    "plan_for",
    "row_record",
    "run_sweep",
    "run_depth",
    "depth_gaps",
    "drop_text",
    "format_drop_table",
    "sweep_csv",
    "depth_csv",
    "plot_sweep",
    "plot_depth",
]

PAPER_METHODS = ("corenet", "corenet+", "corenet++", "uniform", "l1", "l2", "magnitude", "svd")
COREMETHODS = ("corenet", "corenet+", "corenet++")
BASELINES = ("uniform", "l1", "l2", "svd")  # the paper's; magnitude pruning is an extra
FULL_KEEPS = (0.01, 0.02, 0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.40, 0.50, 0.60)
REPORT_KEEPS = (0.05, 0.10, 0.15, 0.25, 0.50)
LEVELS = ("full", "quick", "tiny")

# Training epochs per data set (main net, depth nets) at each level.
_EPOCHS = {
    "full": {"digits": (30, 30), "mnist5k": (30, 30), "mnist": (15, 10), "fashion-mnist": (15, 10)},
    "quick": {"digits": (30, 20), "mnist5k": (15, 10), "mnist": (3, 1), "fashion-mnist": (3, 1)},
}


@dataclass(frozen=True)
class SweepPlan:
    """What one reproduction runs: the main net's training, the budget sweep and the depth
    experiment.

    >>> plan_for("digits", "quick").keeps
    (0.05, 0.1, 0.15, 0.25, 0.5)
    """

    level: str
    train: TrainConfig
    keeps: tuple[float, ...]
    methods: tuple[str, ...]
    seeds: int
    delta: float = 0.1
    depth_layers: tuple[int, ...] = (2, 3, 4, 5)
    depth_width: int = 200
    depth_keeps: tuple[float, ...] = (0.05, 0.10, 0.15, 0.25)
    depth_methods: tuple[str, ...] = PAPER_METHODS
    depth_train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["train"], out["depth_train"] = self.train.to_dict(), self.depth_train.to_dict()
        return out

    def depth_config(self, layers: int) -> TrainConfig:
        """The training configuration of the depth net with ``layers`` hidden layers."""
        return replace(self.depth_train, hidden=(self.depth_width,) * layers)


def plan_for(
    dataset: str, level: str = "full", hidden: Sequence[int] | None = None, seeds: int | None = None
) -> SweepPlan:
    """The plan of a reproduction on ``dataset`` at ``level`` (``"full"``, ``"quick"`` or
    ``"tiny"``); ``hidden`` replaces the main net's hidden widths (default 300, 100) and
    ``seeds`` the number of independent compressions per cell.

    >>> p = plan_for("fashion-mnist")
    >>> p.train.hidden, p.train.epochs, len(p.keeps), p.seeds, p.depth_layers
    ((300, 100), 15, 11, 5, (2, 3, 4, 5))
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}; got {level!r}")
    main = tuple(hidden) if hidden is not None else (300, 100)
    if level == "tiny":
        return SweepPlan(
            level=level,
            train=TrainConfig(hidden=tuple(hidden) if hidden else (48, 24), epochs=8),
            keeps=(0.1, 0.15, 0.3),
            methods=PAPER_METHODS,
            seeds=seeds or 2,
            depth_layers=(2, 3, 4),
            depth_width=24,
            depth_keeps=(0.1,),
            depth_methods=("corenet", *BASELINES),
            depth_train=TrainConfig(epochs=8),
        )
    epochs = _EPOCHS[level].get(dataset, _EPOCHS[level]["fashion-mnist"])
    full = level == "full"
    return SweepPlan(
        level=level,
        train=TrainConfig(hidden=main, epochs=epochs[0]),
        keeps=FULL_KEEPS if full else REPORT_KEEPS,
        methods=PAPER_METHODS,
        seeds=seeds or (5 if full else 2),
        depth_width=200 if full else 100,
        depth_keeps=(0.05, 0.10, 0.15, 0.25) if full else (0.10,),
        depth_methods=PAPER_METHODS if full else ("corenet", *BASELINES),
        depth_train=TrainConfig(epochs=epochs[1]),
    )


def row_record(row: BudgetRow, reference_accuracy: float) -> dict[str, Any]:
    """A :class:`BudgetRow` as a dict with the accuracy drops added (fractions, not points).

    >>> r = BudgetRow("l1", 0.1, 0.1, 0.8, 0.01, 0.3, 0.02, None, 2, (0.79, 0.81), (0.3, 0.3))
    >>> rec = row_record(r, 0.9)
    >>> round(rec["accuracy_drop_mean"], 6), [round(d, 6) for d in rec["accuracy_drops"]]
    (0.1, [0.11, 0.09])
    """
    rec = row.to_dict()
    rec["accuracy_drop_mean"] = reference_accuracy - row.accuracy_mean
    rec["accuracy_drop_std"] = row.accuracy_std
    rec["accuracy_drops"] = [reference_accuracy - a for a in row.accuracies]
    return rec


def _sweep_cell(
    model: torch.nn.Module,
    parts: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    keep: float,
    method: str,
    seeds: int,
    delta: float,
) -> tuple[BudgetRow | None, str | None]:
    """One cell of the sweep: its row, or the sampler's reason for refusing the budget."""
    x_val, x_test, y_test = parts
    try:
        (row,) = compare_methods(
            model,
            x_val,
            x_test,
            y_test,
            methods=(method,),
            keeps=(keep,),
            seeds=tuple(range(seeds)),
            delta=delta,
            progress=False,
            certificate="paper",
        )
    except ValueError as exc:  # the sampler's refusal of this budget, kept on record
        return None, str(exc)
    return row, None


def _worker_cell(*args: Any) -> tuple[BudgetRow | None, str | None, list[str], int]:
    """:func:`_sweep_cell` in a worker, with the texts of its compression warnings and the
    number of compressions (the caller folds them with the other cells'; a worker's warnings
    would otherwise print there, one per cell)."""
    from netcoreset.sampler.notices import collected_warnings

    torch.set_num_threads(1)  # as in the serial run: the same arithmetic, bit for bit
    with collected_warnings() as got:
        row, reason = _sweep_cell(*args)
    return row, reason, got.messages, got.calls or 0


def run_sweep(
    model: torch.nn.Module,
    splits: DataSplits,
    plan: SweepPlan,
    progress: bool | None = None,
    executor: Executor | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The budget sweep of ``model``: one :func:`row_record` per (keep, method), and the
    cells the sampler refused (a budget below the smallest it can meet, e.g. 1% of a small
    net) as ``{"method", "keep", "reason"}``.

    The cells are independent: with an ``executor`` (a
    :class:`~concurrent.futures.ProcessPoolExecutor`, a Dask ``Client.get_executor()``, ...)
    they run there, one thread each, and the results are those of the serial run bit for bit
    (every compression has its own seed), in the same order; only the timings differ.

    The compressions' warnings end in one
    :class:`~netcoreset.sampler.CompressionWarning` for the whole sweep (each finding with
    the number of compressions it occurred in), attributed to the caller; the workers'
    warnings are brought back and counted with the rest.

    >>> from netcoreset.verification.experiments.datasets import load_dataset
    >>> from netcoreset.verification.experiments.training import train_mlp
    >>> d = load_dataset("digits")
    >>> net = train_mlp(d.x_train, d.y_train, (16,), epochs=3)
    >>> plan = replace(plan_for("digits", "tiny"), keeps=(0.5,), methods=("uniform",), seeds=1)
    >>> rows, refused = run_sweep(net, d, plan)
    >>> [(r["method"], r["keep"], r["runs"]) for r in rows], refused
    ([('uniform', 0.5, 1)], [])
    """
    from tqdm.auto import tqdm

    from netcoreset.sampler.notices import folded_warnings

    ref = accuracy(model, splits.x_test, splits.y_test)
    quiet = not sys.stderr.isatty() if progress is None else not progress
    rows, refused = [], []
    cells = [(k, m) for k in plan.keeps for m in plan.methods]
    parts = (splits.x_val, splits.x_test, splits.y_test)
    futures = [
        executor.submit(_worker_cell, model, parts, k, m, plan.seeds, plan.delta)
        for k, m in cells
    ] if executor is not None else []  # fmt: skip
    bar = tqdm(cells, desc="compressions", disable=quiet, leave=False)
    with folded_warnings("run_sweep"):  # one warning for the sweep, not one per compression
        for i, (keep, method) in enumerate(bar):
            if futures:
                row, reason, texts, calls = futures[i].result()
                _rewarn(texts, calls)
            else:
                row, reason = _sweep_cell(model, parts, keep, method, plan.seeds, plan.delta)
            if row is None:
                refused.append({"method": method, "keep": keep, "reason": reason})
            else:
                rows.append(row_record(row, ref))
    return rows, refused


def _rewarn(texts: Sequence[str], calls: int) -> None:
    """A worker's compression warnings, given again here (inside the sweep's fold)."""
    from netcoreset.sampler.notices import CompressionWarning, folded_warnings

    with folded_warnings("run_sweep") as fold, warnings.catch_warnings():
        fold.calls = calls
        warnings.simplefilter("always", CompressionWarning)  # repeated texts count too
        for text in texts:
            warnings.warn(text, CompressionWarning, stacklevel=2)


def run_depth(
    splits: DataSplits,
    plan: SweepPlan,
    *,
    cache_dir: str | None = None,
    progress: bool | None = None,
    executor: Executor | None = None,
) -> list[dict[str, Any]]:
    """The depth experiment: for each number of hidden layers in ``plan.depth_layers``,
    train (or reload) the constant-width net and sweep ``plan.depth_keeps`` with
    ``plan.depth_methods`` (through ``executor`` when given, see :func:`run_sweep`)."""
    from netcoreset.sampler.notices import folded_warnings

    with folded_warnings("run_depth"):  # one warning for every depth
        return [
            _depth_row(splits, plan, layers, cache_dir, progress, executor)
            for layers in plan.depth_layers
        ]


def _depth_row(
    splits: DataSplits,
    plan: SweepPlan,
    layers: int,
    cache_dir: str | None,
    progress: bool | None,
    executor: Executor | None,
) -> dict[str, Any]:
    """One depth of :func:`run_depth`: the trained net's sweep and its record."""
    cfg = plan.depth_config(layers)
    trained = train_cached(
        splits.x_train, splits.y_train, cfg, cache_dir=cache_dir, progress=progress
    )
    ref = accuracy(trained.model, splits.x_test, splits.y_test)
    sub = replace(plan, keeps=plan.depth_keeps, methods=plan.depth_methods)
    rows, refused = run_sweep(trained.model, splits, sub, progress, executor)
    return {
        "hidden_layers": layers,
        "architecture": [splits.num_features, *cfg.hidden, splits.num_classes],
        "reference_accuracy": ref,
        "cache_key": trained.key,
        "from_cache": trained.from_cache,
        "train_seconds": trained.train_seconds,
        "rows": rows,
        "refused": refused,
    }


def _cell(rows: Sequence[dict[str, Any]], method: str, keep: float) -> dict[str, Any] | None:
    return next((r for r in rows if r["method"] == method and abs(r["keep"] - keep) < 1e-9), None)


def depth_gaps(
    depth: Sequence[dict[str, Any]],
    method: str = "corenet",
    baselines: Sequence[str] = BASELINES,
) -> list[dict[str, Any]]:
    r"""Per depth, the gap in accuracy drop between the best baseline and ``method``,

    .. math::

        \mathrm{gap}_{L,s} = \frac1{|K|}\sum_{k\in K}
        \Big(\min_{b} \mathrm{drop}_{b,k,s} - \mathrm{drop}_{\mathrm{method},k,s}\Big),

    for each seed index :math:`s` over the depth keeps :math:`K` (positive: ``method``
    loses less accuracy than every baseline), with its mean and standard deviation.

    >>> rows = [{"method": m, "keep": 0.1, "accuracy_drops": d}
    ...         for m, d in (("corenet", [0.01, 0.03]), ("uniform", [0.2, 0.3]),
    ...                      ("l1", [0.1, 0.2]))]
    >>> g = depth_gaps([{"hidden_layers": 2, "rows": rows}], baselines=("uniform", "l1"))
    >>> [round(v, 3) for v in g[0]["gaps"]]
    [0.09, 0.17]
    """
    out = []
    for entry in depth:
        keeps = sorted({r["keep"] for r in entry["rows"] if r["method"] == method})
        per_keep = []
        for k in keeps:
            own = _cell(entry["rows"], method, k)
            base = [c for b in baselines if (c := _cell(entry["rows"], b, k)) is not None]
            if own is None or not base:
                continue
            best = np.min([c["accuracy_drops"] for c in base], axis=0)
            per_keep.append(best - np.asarray(own["accuracy_drops"]))
        if not per_keep:
            continue
        gaps = np.mean(per_keep, axis=0)
        out.append(
            {
                "hidden_layers": entry["hidden_layers"],
                "keeps": keeps,
                "gaps": gaps.tolist(),
                "gap_mean": float(gaps.mean()),
                "gap_std": float(gaps.std(ddof=1)) if gaps.size > 1 else 0.0,
            }
        )
    return out


def drop_text(row: dict[str, Any] | None, missing: str = "-") -> str:
    """``"mean ± std"`` of a row's accuracy drop in percentage points.

    >>> drop_text({"accuracy_drop_mean": 0.0123, "accuracy_drop_std": 0.001})
    '1.23 ± 0.10'
    """
    if row is None:
        return missing
    return f"{100 * row['accuracy_drop_mean']:.2f} ± {100 * row['accuracy_drop_std']:.2f}"


def format_drop_table(
    rows: Sequence[dict[str, Any]],
    keeps: Sequence[float] = REPORT_KEEPS,
    methods: Sequence[str] = PAPER_METHODS,
) -> str:
    """Accuracy drop in percentage points (mean ± std), one line per method, one column
    per kept fraction (``-`` where a cell was not run).

    >>> rows = [{"method": "l1", "keep": 0.05, "accuracy_drop_mean": 0.0123,
    ...          "accuracy_drop_std": 0.001}]
    >>> print(format_drop_table(rows, keeps=(0.05, 0.1), methods=("l1",)))
    method                  5%             10%
    l1             1.23 ± 0.10               -
    """
    lines = [f"{'method':<10}" + "".join(f"{f'{k:.0%}':>16}" for k in keeps)]
    for m in methods:
        cells = [drop_text(_cell(rows, m, k)) for k in keeps]
        lines.append(f"{m:<10}" + "".join(f"{c:>16}" for c in cells))
    return "\n".join(lines)


_SWEEP_COLUMNS = (
    "method",
    "keep",
    "kept_fraction",
    "runs",
    "accuracy_mean",
    "accuracy_std",
    "accuracy_drop_mean",
    "accuracy_drop_std",
    "error_mean",
    "error_std",
    "certified_eps",
    "seconds",
)


def sweep_csv(rows: Sequence[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of the sweep's CSV table."""
    return list(_SWEEP_COLUMNS), [[r.get(c) for c in _SWEEP_COLUMNS] for r in rows]


def depth_csv(depth: Sequence[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of the depth experiment's CSV table (one line per depth and cell)."""
    header = ["hidden_layers", "reference_accuracy", *_SWEEP_COLUMNS]
    body = [
        [d["hidden_layers"], d["reference_accuracy"], *(r.get(c) for c in _SWEEP_COLUMNS)]
        for d in depth
        for r in d["rows"]
    ]
    return header, body


def _as_rows(records: Sequence[dict[str, Any]]) -> list[BudgetRow]:
    names = BudgetRow.__dataclass_fields__
    return [BudgetRow(**{k: v for k, v in r.items() if k in names}) for r in records]


def plot_sweep(
    records: Sequence[dict[str, Any]], reference_accuracy: float, path: str, title: str
) -> None:
    """The paper's form: accuracy drop and relative error against the % of parameters
    kept, one line per method, ± one standard deviation (PNG, written atomically)."""
    rows = _as_rows(records)
    atomic_write(
        path,
        lambda tmp: plot_rows(rows, tmp, reference_accuracy, accuracy_drop=True, title=title),
    )


def plot_depth(gaps_by_method: dict[str, list[dict[str, Any]]], path: str, title: str) -> None:
    """Gap in accuracy drop to the best baseline (percentage points) against the number of
    hidden layers, one line per method, ± one standard deviation (PNG, written atomically)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    def draw(tmp: str) -> None:
        fig = Figure(figsize=(5.5, 4))
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        for method, gaps in gaps_by_method.items():
            xs = [g["hidden_layers"] for g in gaps]
            ys = [100 * g["gap_mean"] for g in gaps]
            ax.errorbar(xs, ys, [100 * g["gap_std"] for g in gaps], marker="o", capsize=3,
                        label=method)  # fmt: skip
        ax.axhline(0.0, color="k", ls="--", lw=1)
        ax.set_xticks(sorted({g["hidden_layers"] for gs in gaps_by_method.values() for g in gs}))
        ax.set(
            xlabel="hidden layers",
            ylabel="best baseline's drop − method's drop (pp)",
            title=title,
        )
        ax.legend()
        fig.tight_layout()
        fig.savefig(tmp, dpi=120, format="png")

    atomic_write(path, draw)
