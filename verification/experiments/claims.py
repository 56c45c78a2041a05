r"""The paper's empirical claims as data, each decided by a rule fixed before the runs.

Every claim has a name, the statement the project tests, the paper's wording (as recalled:
the wording has not been checked against the PDF, so it is marked unverified), the rule
that decides it, and what was measured. :func:`evaluate_claims` applies the rules to a
results dictionary written by ``netcoreset reproduce``; nothing in a rule depends on the
numbers it is applied to. A claim whose cells were not run is reported as not tested.

The rules (written down, and committed, before the full runs):

``size-15-percent`` (MNIST, Fashion-MNIST and other IDX data; on digits an analogue)
    Reproduced when the best of CoreNet, CoreNet+ and CoreNet++ loses at most
    :data:`ABOUT_ONE_POINT` = 1.0 percentage point of test accuracy (mean over the
    compressions) at 15% of the parameters.
``size-50-percent`` (CIFAR-10)
    The same at 50%.
``beats-baselines``
    Reproduced when, at every kept fraction of :data:`CLAIM_KEEPS` that was run, plain
    CoreNet's mean relative output error **and** mean accuracy drop are strictly below those
    of each of the paper's baselines (uniform, :math:`\ell_1`, :math:`\ell_2`, SVD). Each cell
    also records whether both differences exceed two standard errors.
``gap-grows-with-depth``
    With :math:`\mathrm{gap}_{L,s}` the best baseline's accuracy drop minus CoreNet's for
    :math:`L` hidden layers and seed index :math:`s`, averaged over the depth experiment's
    kept fractions (:func:`~netcoreset.verification.experiments.sweep.depth_gaps`):
    reproduced when the least-squares slope of the gap against :math:`L`, fitted to all
    :math:`(L, s)` points, is positive with a two-sided p-value below 0.05. Needs at least
    three depths.
``variants-ordered``
    CoreNet++ ≥ CoreNet+ ≥ CoreNet: at every kept fraction of :data:`CLAIM_KEEPS` that was
    run, for (CoreNet++, CoreNet+) and (CoreNet+, CoreNet), the first's mean accuracy drop and
    mean relative error are not above the second's by more than two standard errors of the
    difference, :math:`2\sqrt{s_A^2/n_A + s_B^2/n_B}`. Reproduced when every cell passes.

Magnitude pruning, which the paper did not compare against, is reported as an observation
(:func:`observations`), without a verdict.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .sweep import BASELINES, COREMETHODS, depth_gaps

__all__ = [
    "CLAIM_KEEPS",
    "ABOUT_ONE_POINT",
    "Claim",
    "CLAIMS",
    "evaluate_claims",
    "observations",
]

CLAIM_KEEPS = (0.05, 0.10, 0.15, 0.25, 0.50)
ABOUT_ONE_POINT = 0.01  # one percentage point of accuracy, as a fraction
SIGNIFICANCE = 0.05

Outcome = tuple[bool, dict[str, Any], str]  # reproduced, measured numbers, one-line summary


@dataclass(frozen=True)
class Claim:
    """One claim of the paper and the rule that decides it."""

    name: str
    statement: str
    paper_wording: str
    rule: str
    applies: Callable[[dict[str, Any]], bool]
    decide: Callable[[dict[str, Any]], Outcome | None]


class _NotTested(Exception):
    pass


def _cell(rows: Sequence[dict[str, Any]], method: str, keep: float) -> dict[str, Any] | None:
    return next((r for r in rows if r["method"] == method and abs(r["keep"] - keep) < 1e-9), None)


def _pp(x: float) -> float:
    return round(100 * x, 3)


def _se(a: dict[str, Any], b: dict[str, Any], key: str) -> float:
    return math.sqrt(a[key] ** 2 / a["runs"] + b[key] ** 2 / b["runs"])


def _is_cifar(res: dict[str, Any]) -> bool:
    return res["dataset"].get("format") == "cifar10"


def _size_claim(keep: float) -> Callable[[dict[str, Any]], Outcome | None]:
    def decide(res: dict[str, Any]) -> Outcome | None:
        rows = res["sweep"]["rows"]
        cells = {m: c for m in COREMETHODS if (c := _cell(rows, m, keep)) is not None}
        if not cells:
            return None
        best = min(cells, key=lambda m: cells[m]["accuracy_drop_mean"])
        drop = cells[best]["accuracy_drop_mean"]
        measured = {
            "keep": keep,
            "threshold_pp": _pp(ABOUT_ONE_POINT),
            "reference_accuracy": res["reference_accuracy"],
            "drops_pp": {
                m: [_pp(c["accuracy_drop_mean"]), _pp(c["accuracy_drop_std"])]
                for m, c in cells.items()
            },
            "best_method": best,
            "best_drop_pp": _pp(drop),
        }
        summary = (
            f"at {keep:.0%} kept, {best} loses {100 * drop:.2f} ± "
            f"{100 * cells[best]['accuracy_drop_std']:.2f} pp (threshold 1.00 pp)"
        )
        return drop <= ABOUT_ONE_POINT, measured, summary

    return decide


def _keeps_run(rows: Sequence[dict[str, Any]], method: str) -> list[float]:
    return [k for k in CLAIM_KEEPS if _cell(rows, method, k) is not None]


def _not_below(c: dict[str, Any]) -> str:
    """A failed cell in words: which baseline, at which kept fraction, and CoreNet's measure
    that was not below the baseline's, with both values."""
    what = []
    if not c["error_lower"]:
        what.append(f"relative error {c['corenet_error']:.3g} vs {c['baseline_error']:.3g}")
    if not c["drop_lower"]:
        what.append(f"accuracy drop {c['corenet_drop_pp']:.1f} vs {c['baseline_drop_pp']:.1f} pp")
    return f"{c['baseline']} at {c['keep']:.0%} kept (CoreNet's {' and '.join(what)})"


def _beats_baselines(res: dict[str, Any]) -> Outcome | None:
    rows = res["sweep"]["rows"]
    cells = []
    for k in _keeps_run(rows, "corenet"):
        own = _cell(rows, "corenet", k)
        for b in BASELINES:
            other = _cell(rows, b, k)
            if own is None or other is None:
                continue
            d_err = other["error_mean"] - own["error_mean"]
            d_drop = other["accuracy_drop_mean"] - own["accuracy_drop_mean"]
            cells.append(
                {
                    "keep": k,
                    "baseline": b,
                    "corenet_drop_pp": _pp(own["accuracy_drop_mean"]),
                    "baseline_drop_pp": _pp(other["accuracy_drop_mean"]),
                    "corenet_error": own["error_mean"],
                    "baseline_error": other["error_mean"],
                    "error_lower": d_err > 0,
                    "drop_lower": d_drop > 0,
                    "significant": d_err > 2 * _se(own, other, "error_std")
                    and d_drop > 2 * _se(own, other, "accuracy_std"),
                }
            )
    if not cells:
        return None
    ok = [c for c in cells if c["error_lower"] and c["drop_lower"]]
    failed = [_not_below(c) for c in cells if c not in ok]
    summary = f"CoreNet below the baseline in {len(ok)} of {len(cells)} cells" + (
        f"; not below: {'; '.join(failed)}" if failed else ""
    )
    measured = {"cells": cells, "supporting": len(ok), "total": len(cells)}
    return len(ok) == len(cells), measured, summary


def _gap_grows(res: dict[str, Any]) -> Outcome | None:
    from scipy.stats import linregress

    gaps = depth_gaps(res.get("depth", {}).get("results", []), "corenet", BASELINES)
    xs = [g["hidden_layers"] for g in gaps for _ in g["gaps"]]
    ys = [v for g in gaps for v in g["gaps"]]
    if len(gaps) < 3 or len(ys) < 4:
        return None
    fit = linregress(xs, ys)
    measured = {
        "gap_pp": {str(g["hidden_layers"]): [_pp(g["gap_mean"]), _pp(g["gap_std"])] for g in gaps},
        "keeps": gaps[0]["keeps"],
        "slope_pp_per_layer": _pp(fit.slope),
        "slope_stderr_pp": _pp(fit.stderr),
        "p_value": float(fit.pvalue),
    }
    series = ", ".join(f"L={g['hidden_layers']}: {100 * g['gap_mean']:.2f}" for g in gaps)
    summary = (
        f"gap to the best baseline (pp) {series}; slope {100 * fit.slope:+.2f} ± "
        f"{100 * fit.stderr:.2f} pp per layer, p = {fit.pvalue:.2g}"
    )
    return bool(fit.slope > 0 and fit.pvalue < SIGNIFICANCE), measured, summary


def _variants_ordered(res: dict[str, Any]) -> Outcome | None:
    rows = res["sweep"]["rows"]
    cells = []
    for better, worse in (("corenet++", "corenet+"), ("corenet+", "corenet")):
        for k in _keeps_run(rows, better):
            a, b = _cell(rows, better, k), _cell(rows, worse, k)
            if a is None or b is None:
                continue
            excess_drop = a["accuracy_drop_mean"] - b["accuracy_drop_mean"]
            excess_err = a["error_mean"] - b["error_mean"]
            cells.append(
                {
                    "keep": k,
                    "pair": f"{better} vs {worse}",
                    "drop_pp": [_pp(a["accuracy_drop_mean"]), _pp(b["accuracy_drop_mean"])],
                    "error": [a["error_mean"], b["error_mean"]],
                    "means_ordered": excess_drop <= 0 and excess_err <= 0,
                    "passes": excess_drop <= 2 * _se(a, b, "accuracy_std")
                    and excess_err <= 2 * _se(a, b, "error_std"),
                }
            )
    if not cells:
        return None
    failed = [f"{c['pair']}@{c['keep']:.0%}" for c in cells if not c["passes"]]
    ordered = sum(c["means_ordered"] for c in cells)
    summary = f"{len(cells) - len(failed)} of {len(cells)} cells pass ({ordered} ordered in means)"
    if failed:
        summary += f"; significantly reversed: {', '.join(failed)}"
    return not failed, {"cells": cells}, summary


_ALL = lambda res: True  # noqa: E731

CLAIMS: tuple[Claim, ...] = (
    Claim(
        name="size-15-percent",
        statement="MNIST and Fashion-MNIST nets keep their test accuracy within about one "
        "point at about 15% of the parameters (no retraining).",
        paper_wording="we are able to compress networks to about 15% of their original size "
        "without significant loss of accuracy for networks trained on MNIST and FashionMNIST",
        rule="best of CoreNet, CoreNet+, CoreNet++ at 15% kept: mean accuracy drop <= 1.0 pp",
        applies=lambda res: not _is_cifar(res),
        decide=_size_claim(0.15),
    ),
    Claim(
        name="size-50-percent",
        statement="CIFAR-10 nets need about 50% of the parameters for the same.",
        paper_wording="and to about 50% of their original size for CIFAR",
        rule="best of CoreNet, CoreNet+, CoreNet++ at 50% kept: mean accuracy drop <= 1.0 pp",
        applies=_is_cifar,
        decide=_size_claim(0.50),
    ),
    Claim(
        name="beats-baselines",
        statement="At equal numbers of non-zero parameters, CoreNet's relative output error "
        "and accuracy drop are below those of uniform, l1, l2 and SVD.",
        paper_wording="we are able to outperform networks compressed via competing methods in "
        "matrix sparsification across all considered experiments and trials",
        rule="at every kept fraction in 5, 10, 15, 25, 50% and for every baseline: CoreNet's "
        "mean relative error and mean accuracy drop strictly lower",
        applies=_ALL,
        decide=_beats_baselines,
    ),
    Claim(
        name="gap-grows-with-depth",
        statement="CoreNet's advantage over the baselines grows with the number of hidden layers.",
        paper_wording="the relative performance of our algorithm tends to increase as we "
        "consider deeper architectures",
        rule="least-squares slope of (best baseline's drop - CoreNet's drop) against the "
        "number of hidden layers > 0 with two-sided p < 0.05",
        applies=_ALL,
        decide=_gap_grows,
    ),
    Claim(
        name="variants-ordered",
        statement="CoreNet++ >= CoreNet+ >= CoreNet (amplification and neuron pruning help).",
        paper_wording="(no sentence recalled: the ordering is what the paper's figures show)",
        rule="at every kept fraction in 5, 10, 15, 25, 50%: CoreNet++ vs CoreNet+ and "
        "CoreNet+ vs CoreNet not worse in mean drop and mean error by more than 2 standard "
        "errors",
        applies=_ALL,
        decide=_variants_ordered,
    ),
)


def evaluate_claims(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Apply every claim that applies to this data set to ``results`` (the dictionary
    ``netcoreset reproduce`` writes); each entry has ``name``, ``statement``,
    ``paper_wording`` (``wording_verified`` false), ``rule``, ``tested``, ``reproduced``,
    ``measured`` and ``summary``.

    >>> res = {"dataset": {"name": "x"}, "reference_accuracy": 0.9, "depth": {},
    ...        "sweep": {"rows": [{"method": "corenet", "keep": 0.15, "runs": 2,
    ...                            "accuracy_drop_mean": 0.004, "accuracy_drop_std": 0.001}]}}
    >>> c = evaluate_claims(res)[0]
    >>> c["name"], c["tested"], c["reproduced"], c["summary"]
    ('size-15-percent', True, True, 'at 15% kept, corenet loses 0.40 ± 0.10 pp (threshold 1.00 pp)')
    """
    out = []
    for claim in CLAIMS:
        if not claim.applies(results):
            continue
        outcome = claim.decide(results)
        entry: dict[str, Any] = {
            "name": claim.name,
            "statement": claim.statement,
            "paper_wording": claim.paper_wording,
            "wording_verified": False,
            "rule": claim.rule,
            "tested": outcome is not None,
            "reproduced": bool(outcome[0]) if outcome else False,
            "measured": outcome[1] if outcome else {},
            "summary": outcome[2] if outcome else "not tested: the run has no such cells",
        }
        out.append(entry)
    return out


def observations(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Comparisons outside the paper, without a verdict: magnitude pruning against the best
    CoreNet variant at each kept fraction of :data:`CLAIM_KEEPS`.

    >>> observations({"sweep": {"rows": []}})[0]["cells"]
    []
    """
    rows = results["sweep"]["rows"]
    cells = []
    for k in CLAIM_KEEPS:
        mag = _cell(rows, "magnitude", k)
        own = [c for m in COREMETHODS if (c := _cell(rows, m, k)) is not None]
        if mag is None or not own:
            continue
        best = min(own, key=lambda c: c["accuracy_drop_mean"])
        cells.append(
            {
                "keep": k,
                "magnitude_drop_pp": _pp(mag["accuracy_drop_mean"]),
                "best_corenet": best["method"],
                "best_corenet_drop_pp": _pp(best["accuracy_drop_mean"]),
                "magnitude_error": mag["error_mean"],
                "best_corenet_error": best["error_mean"],
            }
        )
    return [
        {
            "name": "magnitude-vs-corenet",
            "statement": "Deterministic magnitude pruning (not a baseline of the paper) against "
            "the best CoreNet variant, accuracy drop and relative error.",
            "cells": cells,
        }
    ]
