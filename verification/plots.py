r"""Figures for guarantee checks (matplotlib Agg rendering, no pyplot; nothing is shown)."""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from .checker import GuaranteeCheck

__all__ = ["plot_check", "plot_slack"]


def _figure(**kwargs: Any) -> Any:
    # A bare Figure renders through Agg without pyplot: no global backend state is touched.
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def plot_check(result: GuaranteeCheck, path: str | os.PathLike[str]) -> str:
    r"""Save a two-panel figure of a :class:`GuaranteeCheck` to ``path`` (PNG, PDF, SVG...).

    Left: the empirical CDF of the worst relative output error
    :math:`W = \max_k |\hat f_k - f_k| / |f_k|` (for another criterion, its score:
    :func:`netcoreset.sampler.criterion_scores`) over all evaluated inputs (log x-axis; infinite
    errors drawn at the right edge), with the requested :math:`\varepsilon`, the achieved
    :math:`\varepsilon` (the empirical :math:`(1-\delta)`-quantile of :math:`W`) and its interval,
    and the level :math:`1-\delta`. Right: the failure probability estimate :math:`\hat p` with
    its confidence interval against :math:`\delta`, coloured by the verdict.

    Returns the path written.

    Examples
    --------
    >>> import tempfile, torch
    >>> from torch import nn
    >>> from netcoreset.verification.checker import check_guarantee
    >>> m = nn.Sequential(nn.Linear(3, 2))
    >>> x = torch.rand(20, 3, generator=torch.Generator().manual_seed(0))
    >>> r = check_guarantee(m, x, lambda m, p, g: m, 0.1, 0.2, trials=10)
    >>> out = plot_check(r, tempfile.mkdtemp() + "/check.png")
    >>> out.endswith("check.png")
    True
    """
    if not all(hasattr(result, a) for a in ("worst_errors", "p_hat", "upper", "achieved_eps")):
        raise ValueError(f"result must be a GuaranteeCheck; got {type(result).__name__}")
    w = np.sort(np.asarray(result.worst_errors, dtype=np.float64).reshape(-1))
    finite = w[np.isfinite(w)]
    positive = finite[finite > 0]
    refs = [result.eps, result.achieved_eps, result.achieved_eps_lower, result.achieved_eps_upper]
    refs = [v for v in refs if v is not None and math.isfinite(v) and v > 0]
    span = [*positive.tolist(), *refs] or [1.0]  # top1: every score is 0 or inf
    lo_x, hi_x = min(span) / 2, max(span) * 2
    shown = np.clip(np.where(np.isfinite(w), w, hi_x), lo_x, hi_x)
    ecdf = np.arange(1, w.size + 1) / w.size

    fig = _figure(figsize=(11, 4.2))
    ax, bx = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2.2, 1]})
    ax.step(shown, ecdf, where="post", color="tab:blue", label="ECDF of worst rel. error")
    ax.set_xscale("log")
    ax.set_xlim(lo_x, hi_x)
    ax.set_ylim(0, 1.02)
    if result.eps is not None:
        ax.axvline(result.eps, color="tab:red", ls="--", label=f"requested eps = {result.eps:g}")
    if math.isfinite(result.achieved_eps) and result.achieved_eps > 0:
        ax.axvline(
            result.achieved_eps,
            color="tab:green",
            label=f"achieved eps = {result.achieved_eps:.3g} ((1-delta)-quantile)",
        )
    a_lo = max(result.achieved_eps_lower, lo_x)
    a_hi = min(result.achieved_eps_upper, hi_x)
    if a_hi > a_lo:
        ax.axvspan(a_lo, a_hi, color="tab:green", alpha=0.15, label="its interval")
    ax.axhline(1 - result.delta, color="grey", ls=":", label=f"1 - delta = {1 - result.delta:g}")
    n_inf = int(np.sum(~np.isfinite(w)))
    n_zero = int(np.sum(w == 0))
    criterion = getattr(result, "criterion", "entrywise")
    ax.set_xlabel(
        "worst relative output error max_k |f^_k - f_k| / |f_k|"
        if criterion == "entrywise"
        else f"score of criterion {criterion} (fails above eps)"
    )
    ax.set_ylabel("fraction of evaluated inputs")
    note = f"{w.size} inputs"
    if n_zero:
        note += f", {n_zero} exact (drawn at the left edge)"
    if n_inf:
        note += f", {n_inf} infinite (drawn at the right edge)"
    ax.set_title(note, fontsize=9)
    ax.legend(fontsize=8, loc="lower right")

    colour = {"holds": "tab:green", "violated": "tab:red"}.get(result.verdict, "tab:orange")
    bx.errorbar(
        [0],
        [result.p_hat],
        yerr=[[result.p_hat - result.lower], [result.upper - result.p_hat]],
        fmt="o",
        color=colour,
        capsize=8,
        label=f"p_hat = {result.p_hat:.3g} [{result.lower:.3g}, {result.upper:.3g}]",
    )
    bx.axhline(result.delta, color="black", ls="--", label=f"delta = {result.delta:g}")
    bx.set_xlim(-1, 1)
    bx.set_xticks([])
    top = max(result.upper, result.delta) * 1.25
    bx.set_ylim(0, min(1.0, top) if top > 0 else 1.0)
    bx.set_ylabel("failure probability")
    bx.set_title(
        f"{result.verdict} (alpha = {result.alpha:g}, {result.trials} x {result.inputs_per_trial})",
        fontsize=9,
    )
    bx.legend(fontsize=8, loc="upper right")
    eps = "" if result.eps is None else f"eps = {result.eps:g}, "
    fig.suptitle(f"{criterion}: {eps}delta = {result.delta:g}, guarantee check")
    fig.tight_layout()
    out = os.fspath(path)
    fig.savefig(out, dpi=120)
    return out


def plot_slack(result: Any, path: str | os.PathLike[str]) -> str:
    r"""Save the checks of a :class:`~netcoreset.verification.slack.SlackResult` to ``path``.

    Each search (all layers, then each layer) is drawn as the failure-probability interval of
    every checked scale :math:`c` (log x-axis) against :math:`\delta`; the certified
    :math:`c^\star` is marked. Returns the path written.

    Examples
    --------
    >>> import tempfile, torch
    >>> from torch import nn
    >>> from netcoreset.verification.slack import find_slack
    >>> m = nn.Sequential(nn.Linear(3, 2))
    >>> x = torch.rand(20, 3, generator=torch.Generator().manual_seed(0))
    >>> r = find_slack(m, x, 0.1, 0.2, compressor_factory=lambda c: (lambda m, p, g: m),
    ...                c_min=0.5, trials=40, sequential=False)
    >>> plot_slack(r, tempfile.mkdtemp() + "/slack.png").endswith("slack.png")
    True
    """
    if not all(hasattr(result, a) for a in ("overall", "per_layer", "alpha_total")):
        raise ValueError(f"result must be a SlackResult; got {type(result).__name__}")
    searches = [result.overall, *result.per_layer]
    fig = _figure(figsize=(7, 4.2))
    ax = fig.subplots()
    for i, s in enumerate(searches):
        name = "all layers" if s.layer is None else f"layer {s.layer}"
        cs = np.array([c.c for c in s.checks]) * (1.0 + 0.02 * i)  # small offset per search
        p = np.array([c.p_hat for c in s.checks])
        lo = np.array([c.lower for c in s.checks])
        hi = np.array([c.upper for c in s.checks])
        bars = ax.errorbar(cs, p, yerr=[p - lo, hi - p], fmt="o", capsize=3, label=name)
        if s.c is not None:
            ax.axvline(s.c, color=bars[0].get_color(), ls=":", alpha=0.7)
    ax.axhline(result.delta, color="black", ls="--", label=f"delta = {result.delta:g}")
    ax.set_xscale("log")
    ax.set_xlabel("draw scale c (1 = the theorem's sample sizes)")
    ax.set_ylabel("failure probability")
    ax.set_title(
        f"eps = {result.eps:g}; dotted: certified c*; alpha_total = {result.alpha_total:g}",
        fontsize=9,
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    out = os.fspath(path)
    fig.savefig(out, dpi=120)
    return out
