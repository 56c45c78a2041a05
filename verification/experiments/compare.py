r"""Experiments: compress a trained network at several budgets with several methods and
measure test accuracy and relative output error (the paper's RQ3/RQ4 setting).

The relative output error of an input is
:math:`\|f_{\hat\theta}(x) - f_\theta(x)\|_2 / \|f_\theta(x)\|_2`; tables report its mean
over the test inputs, and mean ± standard deviation over independent compressions.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from netcoreset.bounds.serialization import to_jsonable
from netcoreset.bounds.validation import check_seed

from .training import _inputs, _labels, _outputs, accuracy

__all__ = [
    "BudgetRow",
    "MAX_CELLS",
    "relative_l2_error",
    "compare_methods",
    "format_table",
    "plot_rows",
]


@torch.no_grad()
def relative_l2_error(compressed: nn.Module, original: nn.Module, x: torch.Tensor) -> float:
    r"""Mean over ``x`` of :math:`\|f_{\hat\theta}(x) - f_\theta(x)\|_2/\|f_\theta(x)\|_2`.

    >>> import torch
    >>> net = torch.nn.Linear(3, 2)
    >>> relative_l2_error(net, net, torch.rand(4, 3))
    0.0

    Raises
    ------
    ValueError
        When ``x`` is not a batch ``(n, ...)`` or a model rejects it or the two models' outputs
        differ in shape.
    """
    x = _inputs(x)
    ref = _outputs(original, x, "original")
    out = _outputs(compressed, x, "compressed")
    if out.shape != ref.shape:
        raise ValueError(f"compressed outputs {tuple(out.shape)} vs original {tuple(ref.shape)}")
    diff = (out - ref).norm(dim=1)
    return float((diff / ref.norm(dim=1).clamp(min=torch.finfo(ref.dtype).tiny)).mean())


@dataclass(frozen=True)
class BudgetRow:
    """One (method, budget) cell: means and standard deviations over ``seeds`` runs, the
    per-run accuracies and errors, and the mean compression time in seconds.

    >>> row = BudgetRow("corenet", 0.1, 0.1, 0.9, 0.01, 0.3, 0.02, 1e9, 3)
    >>> row.to_dict()["accuracy_mean"]
    0.9
    """

    method: str
    keep: float
    kept_fraction: float
    accuracy_mean: float
    accuracy_std: float
    error_mean: float
    error_std: float
    certified_eps: float | None
    runs: int
    accuracies: tuple[float, ...] = ()
    errors: tuple[float, ...] = ()
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Strict-JSON dictionary (``netcoreset.bounds.serialization``'s policy)."""
        return to_jsonable(asdict(self))


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    mean = sum(values) / len(values)
    var = sum((v - mean) ** 2 for v in values) / max(len(values) - 1, 1)
    return mean, math.sqrt(var)


#: Most compressions one :func:`compare_methods` call runs (methods x keeps x seeds).
MAX_CELLS = 10**5


def _grid(methods: Any, keeps: Any, seeds: Any) -> tuple[list[str], list[float], list[int]]:
    """The three lists of :func:`compare_methods`, checked (non-empty, bounded, typed)."""
    out = []
    for name, values in (("methods", methods), ("keeps", keeps), ("seeds", seeds)):
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise ValueError(f"{name} must be a non-empty sequence; got {values!r}")
        out.append(list(values))
    if math.prod(len(v) for v in out) > MAX_CELLS:
        raise ValueError(f"methods x keeps x seeds asks for more than {MAX_CELLS} compressions")
    seeds_checked = [check_seed("seeds entry", s) for s in out[2]]
    return out[0], out[1], seeds_checked


def compare_methods(
    model: nn.Module,
    pool: torch.Tensor,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    *,
    methods: Sequence[str] = ("corenet", "corenet+", "uniform", "magnitude"),
    keeps: Sequence[float] = (0.1, 0.2, 0.3),
    seeds: Sequence[int] = (0, 1, 2),
    delta: float = 0.1,
    progress: bool | None = None,
    **compress_kwargs: Any,
) -> list[BudgetRow]:
    """Compress ``model`` (sensitivities from ``pool``) with every method at every budget
    and seed; evaluate on the test set.

    >>> import torch
    >>> from torch import nn
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    >>> x = torch.rand(100, 8); y = torch.randint(0, 3, (100,))
    >>> rows = compare_methods(net, x, x, y, methods=("corenet",), keeps=(0.5,), seeds=(0,))
    >>> rows[0].method, rows[0].runs
    ('corenet', 1)

    Raises
    ------
    ValueError
        For empty or too long lists (at most ``MAX_CELLS`` compressions in all), labels that
        are not ``(n,)`` integers for ``x_test``, and anything
        :func:`~netcoreset.sampler.compress` refuses.
    """
    from tqdm.auto import tqdm

    from netcoreset.sampler import compress
    from netcoreset.sampler.notices import folded_warnings

    methods, keeps, seeds = _grid(methods, keeps, seeds)
    x_test = _inputs(x_test, "x_test")
    y_test = _labels(y_test, x_test.shape[0])
    rows = []
    quiet = (not sys.stderr.isatty()) if progress is None else (not progress)
    bar = tqdm(total=len(methods) * len(keeps) * len(seeds), desc="compare", disable=quiet)
    # one warning for the whole grid, not one per compression
    with folded_warnings("compare_methods") as fold, torch.no_grad(), bar:
        for keep in keeps:
            for method in methods:
                accs, errs, kept, certs = [], [], [], []
                t0 = time.perf_counter()
                for seed in seeds:
                    bar.update(1)
                    res = compress(
                        model,
                        pool,
                        method=method,
                        keep=keep,
                        delta=delta,
                        seed=seed,
                        **compress_kwargs,
                    )
                    fold.calls = (fold.calls or 0) + 1
                    accs.append(accuracy(res.model, x_test, y_test))
                    errs.append(relative_l2_error(res.model, model, x_test))
                    kept.append(res.report.parameters / max(res.nnz_original, 1))
                    certs.append(res.certified_eps)
                acc_m, acc_s = _mean_std(accs)
                err_m, err_s = _mean_std(errs)
                rows.append(
                    BudgetRow(
                        method=method,
                        keep=keep,
                        kept_fraction=sum(kept) / len(kept),
                        accuracy_mean=acc_m,
                        accuracy_std=acc_s,
                        error_mean=err_m,
                        error_std=err_s,
                        certified_eps=max((c for c in certs if c is not None), default=None),
                        runs=len(seeds),
                        accuracies=tuple(accs),
                        errors=tuple(errs),
                        seconds=(time.perf_counter() - t0) / len(seeds),
                    )
                )
    return rows


def format_table(rows: Sequence[BudgetRow], reference_accuracy: float | None = None) -> str:
    """A plain-text table of :func:`compare_methods` rows.

    >>> print(format_table([BudgetRow("corenet", 0.1, 0.1, 0.9, 0.01, 0.3, 0.02, None, 3)]))
     keep  method       kept         test acc       rel. error  certified eps
    -------------------------------------------------------------------------
      10%  corenet     10.0%    0.900 ± 0.010    0.300 ± 0.020              -
    """
    head = (
        f"{'keep':>5}  {'method':<10} {'kept':>6}  {'test acc':>15}  "
        f"{'rel. error':>15}  {'certified eps':>13}"
    )
    lines = []
    if reference_accuracy is not None:
        lines.append(f"uncompressed test accuracy: {reference_accuracy:.3f}")
    lines += [head, "-" * len(head)]
    for r in rows:
        cert = "-" if r.certified_eps is None else f"{r.certified_eps:.3g}"
        lines.append(
            f"{r.keep:>5.0%}  {r.method:<10} {r.kept_fraction:>6.1%}  "
            f"{r.accuracy_mean:>7.3f} ± {r.accuracy_std:<5.3f}  "
            f"{r.error_mean:>7.3f} ± {r.error_std:<5.3f}  {cert:>13}"
        )
    return "\n".join(lines)


def plot_rows(
    rows: Sequence[BudgetRow],
    path: str,
    reference_accuracy: float | None = None,
    *,
    accuracy_drop: bool = False,
    title: str | None = None,
) -> None:
    """Accuracy and relative error against the kept fraction, one line per method (PNG).

    With ``accuracy_drop`` the left panel shows the drop in test accuracy from
    ``reference_accuracy`` in percentage points (the paper's form), mean ± one standard
    deviation over the runs.

    Draws on a bare :class:`matplotlib.figure.Figure` (Agg canvas): no pyplot state and no
    change of the global backend.

    >>> import tempfile, os
    >>> rows = [BudgetRow("corenet", k, k, 0.9, 0.01, 0.3, 0.02, None, 3) for k in (0.1, 0.2)]
    >>> with tempfile.TemporaryDirectory() as d:
    ...     plot_rows(rows, os.path.join(d, "p.png"), 0.95)
    ...     os.path.getsize(os.path.join(d, "p.png")) > 0
    True
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2)
    if accuracy_drop and reference_accuracy is None:
        raise ValueError("accuracy_drop needs reference_accuracy")
    scale = 100.0 if accuracy_drop else 1.0
    ref = reference_accuracy if reference_accuracy is not None else 0.0
    for method in dict.fromkeys(r.method for r in rows):
        sel = [r for r in rows if r.method == method]
        xs = [100 * r.keep for r in sel]
        acc = [scale * (ref - r.accuracy_mean) if accuracy_drop else r.accuracy_mean for r in sel]
        for ax, mean, std in (
            (axes[0], acc, [scale * r.accuracy_std for r in sel]),
            (axes[1], [r.error_mean for r in sel], [r.error_std for r in sel]),
        ):
            ax.errorbar(xs, mean, std, label=method, marker="o", capsize=3)
    if accuracy_drop:
        axes[0].axhline(0.0, color="k", ls="--", lw=1)
        axes[0].set(xlabel="% of non-zero parameters kept", ylabel="drop in test accuracy (pp)")
    else:
        if reference_accuracy is not None:
            axes[0].axhline(reference_accuracy, color="k", ls="--", lw=1, label="uncompressed")
        axes[0].set(xlabel="% of non-zero parameters kept", ylabel="test accuracy")
    axes[1].set(
        xlabel="% of non-zero parameters kept", ylabel="mean relative output error", yscale="log"
    )
    axes[0].legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120, format="png")
