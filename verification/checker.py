r"""Statistical check of the (ε, δ) output guarantee of a compression method.

The guarantee of CoreNet (Baykal et al., 2019) is a statement about one random compression
:math:`\hat\theta` and one fresh input :math:`x \sim D`:

.. math::

    p \;=\; P_{\hat\theta,\,x}\bigl(\exists k:\ |f_{\hat\theta}(x)_k - f_\theta(x)_k|
    > \varepsilon\,|f_\theta(x)_k|\bigr) \;\le\; \delta.

:func:`check_guarantee` estimates :math:`p` by repeated independent trials: the data are split
into a pool :math:`P` (handed to the compressor, which draws its points :math:`S` from it) and a
disjoint held-out set :math:`H`; each trial compresses once (its own seeded generator) and
evaluates ``inputs_per_trial`` inputs drawn uniformly without replacement from :math:`H`. The
probability is therefore over the compression and :math:`x` uniform on :math:`H` (a sample of
:math:`D`). The verdict uses a confidence interval valid for how the data were sampled:

* one input per trial: the failures are i.i.d. Bernoulli(p) — exact Clopper–Pearson;
* several inputs per trial: the inputs of one trial share the compression and are not
  independent, so the per-trial failure *fractions* (i.i.d. in [0, 1], mean :math:`p`) are used
  with the betting confidence sequence or empirical Bernstein — never a binomial over all
  trial × input pairs;
* ``sequential=True``: the anytime-valid betting confidence sequence (also for one input per
  trial), checked after every batch; the run stops as soon as the verdict is decided.

A decisive verdict ("holds": upper bound :math:`\le \delta`; "violated": lower bound
:math:`> \delta`) is wrong with probability at most ``alpha``.
"""

from __future__ import annotations

import copy
import math
import re
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from netcoreset.bounds.serialization import to_jsonable
from netcoreset.bounds.validation import (
    check_bool,
    check_open_unit,
    check_positive_int,
    check_seed,
)
from netcoreset.sampler import as_inputs, check_criterion, criterion_failures, criterion_scores
from netcoreset.sampler.notices import folded_warnings

from .confidence import (
    BettingConfidenceSequence,
    betting_cs,
    clopper_pearson,
    empirical_bernstein,
    quantile_ci,
    trials_to_decide,
    verdict,
)

__all__ = [
    "GuaranteeCheck",
    "MAX_TRIALS",
    "SamplerCompressor",
    "check_guarantee",
    "entrywise_relative_errors",
]

_BOUNDS = ("auto", "clopper-pearson", "betting", "bernstein")

#: Most trials one call runs (``trials``, ``max_trials``, ``batch_size``): ten million
#: compressions take days even for small networks; split a larger study into several calls.
MAX_TRIALS = 10**7


# ------------------------------------------------------------------------------------------------
# Compressor adapter
# ------------------------------------------------------------------------------------------------


class SamplerCompressor:
    """Picklable compressor calling :func:`netcoreset.sampler.compress` with fixed arguments.

    ``SamplerCompressor(method="corenet", eps=0.5, delta=0.1)(model, pool, generator)`` runs
    ``compress(model, pool, method="corenet", eps=0.5, delta=0.1, generator=generator)`` and
    returns its result (the checker uses ``result.model``). The sampler is imported inside the
    call, so this class can be created (and pickled to workers) before the sampler is imported.

    >>> c = SamplerCompressor(method="l1", keep=0.2)
    >>> c
    SamplerCompressor(method='l1', keep=0.2)
    >>> import pickle; pickle.loads(pickle.dumps(c)).kwargs
    {'keep': 0.2}
    """

    def __init__(self, method: str = "corenet", **kwargs: Any) -> None:
        if not isinstance(method, str):
            raise ValueError(f"method must be a string; got {method!r}")
        for bad in ("generator", "seed"):
            if bad in kwargs:
                raise ValueError(f"{bad} is set per trial by the checker; do not pass it")
        self.method = method
        self.kwargs = dict(kwargs)

    def __call__(self, model: nn.Module, pool: torch.Tensor, generator: torch.Generator) -> Any:
        from netcoreset.sampler import compress

        return compress(model, pool, method=self.method, generator=generator, **self.kwargs)

    def __repr__(self) -> str:
        args = ", ".join(
            [f"method={self.method!r}"] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        )
        return f"SamplerCompressor({args})"


# ------------------------------------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------------------------------------


def entrywise_relative_errors(
    approx: torch.Tensor, exact: torch.Tensor, eps: float
) -> tuple[np.ndarray, np.ndarray]:
    r"""Worst entry-wise relative error per input, and whether the input fails at ``eps``.

    For input :math:`x` with outputs :math:`f = f_\theta(x)` and :math:`\hat f = f_{\hat\theta}(x)`

    .. math::

        W(x) = \max_k \frac{|\hat f_k - f_k|}{|f_k|}, \qquad
        \text{fail}(x) \iff \exists k:\ |\hat f_k - f_k| > \varepsilon |f_k|,

    where an entry with :math:`f_k = 0` contributes :math:`+\infty` if :math:`\hat f_k \ne 0` and 0
    otherwise (the entry-wise guarantee then requires :math:`\hat f_k = 0`), and
    a NaN output counts as :math:`W = +\infty` and a failure. ``fail`` is computed directly from
    the inequality (not from :math:`W`), so it is exact in floating point. Computed in float64.

    >>> f = torch.tensor([[1.0, -2.0, 0.0]]); g = torch.tensor([[1.1, -2.0, 0.0]])
    >>> w, fail = entrywise_relative_errors(g, f, 0.05)
    >>> np.round(w, 6).tolist(), fail.tolist()
    ([0.1], [True])
    """
    a = exact.detach().to(torch.float64).reshape(exact.shape[0], -1)
    b = approx.detach().to(torch.float64).reshape(approx.shape[0], -1)
    diff = (b - a).abs()
    mag = a.abs()
    nan = torch.isnan(diff).any(dim=1)
    fails = (diff > eps * mag).any(dim=1) | nan
    ratio = torch.where(
        mag > 0,
        diff / torch.where(mag > 0, mag, torch.ones_like(mag)),
        torch.where(diff > 0, torch.full_like(diff, math.inf), torch.zeros_like(diff)),
    )
    worst = torch.where(torch.isnan(ratio), math.inf, ratio).amax(dim=1)
    return worst.cpu().numpy(), fails.cpu().numpy()


# ------------------------------------------------------------------------------------------------
# Trials (module-level so that they pickle to any executor)
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _TrialTask:
    index: int
    compressor: Any
    model: nn.Module
    pool: torch.Tensor
    inputs: torch.Tensor
    eps: float | None
    seed: int
    criterion: str = "entrywise"


@dataclass(frozen=True)
class _TrialOutcome:
    index: int
    worst: np.ndarray
    fails: np.ndarray
    notes: tuple[str, ...] = ()


def _report_notes(out: Any) -> tuple[str, ...]:
    """The warnings a compressor's result carries in ``result.report.warnings`` (if any)."""
    notes = getattr(getattr(out, "report", None), "warnings", None)
    return tuple(str(n) for n in notes) if isinstance(notes, (list, tuple)) else ()


def _summarize_warnings(per_trial: Sequence[Sequence[str]], limit: int = 5) -> list[str]:
    r"""Group the compressor's warnings of every trial by their text with numbers masked, and
    list each group once: ``"[in k of T trials] <first example>"``, most frequent first.

    .. math::

        \text{key}(w) = w \text{ with every number replaced by } \#

    >>> _summarize_warnings([["3 of 50 points fail"], ["4 of 50 points fail"], []])
    ['[in 2 of 3 trials] 3 of 50 points fail']
    """
    counts: dict[str, list[Any]] = {}
    for notes in per_trial:
        for key, note in {re.sub(r"\d+(\.\d+)?", "#", n): n for n in notes}.items():
            counts.setdefault(key, [0, note])[0] += 1
    ranked = sorted(counts.values(), key=lambda item: -int(item[0]))[:limit]
    return [f"[in {k} of {len(per_trial)} trials] {note}" for k, note in ranked]


def _forward(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(x)


def _run_trial(task: _TrialTask) -> _TrialOutcome:
    """One trial: compress with the trial's generator, evaluate the trial's inputs."""
    model = copy.deepcopy(task.model).eval()  # a compressor must never see the shared original
    # The reference is computed here, on exactly the same batch as the compressed model, so
    # that an exact compressor gives bit-identical outputs (BLAS results depend on batch shape).
    reference = _forward(model, task.inputs)
    gen = torch.Generator().manual_seed(task.seed)
    out = task.compressor(model, task.pool, gen)
    compressed = out if isinstance(out, nn.Module) else getattr(out, "model", None)
    if not isinstance(compressed, nn.Module):
        raise TypeError(
            "compressor must return an nn.Module or an object with a .model attribute; "
            f"got {type(out).__name__}"
        )
    compressed.eval()
    approx = _forward(compressed, task.inputs)
    if approx.shape != reference.shape:
        raise ValueError(
            f"compressed model output shape {tuple(approx.shape)} differs from the original "
            f"{tuple(reference.shape)}"
        )
    if task.criterion == "entrywise":
        assert task.eps is not None  # validated by check_guarantee
        worst, fails = entrywise_relative_errors(approx, reference, task.eps)
    else:
        worst = criterion_scores(task.criterion, approx, reference)
        fails = criterion_failures(task.criterion, approx, reference, task.eps)
    return _TrialOutcome(task.index, worst, fails, _report_notes(out))


def _trial_seeds(seed: int, index: int) -> tuple[int, int]:
    """(compression seed, input-selection seed) of trial ``index``: SeedSequence(seed).spawn."""
    child = np.random.SeedSequence(seed, spawn_key=(index,))  # == SeedSequence(seed).spawn(..)[i]
    s = child.generate_state(4, dtype=np.uint32).astype(np.uint64)
    mask = np.uint64(2**63 - 1)
    comp = int((s[0] | (s[1] << np.uint64(32))) & mask)
    inp = int((s[2] | (s[3] << np.uint64(32))) & mask)
    return comp, inp


# ------------------------------------------------------------------------------------------------
# Result
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GuaranteeCheck:
    r"""Result of :func:`check_guarantee`.

    Attributes
    ----------
    verdict : {"holds", "violated", "inconclusive"}
        ``holds`` iff ``upper <= delta``; ``violated`` iff ``lower > delta``.
    p_hat, lower, upper : float
        Failure-probability estimate (mean of the per-trial failure fractions) and its
        confidence interval at level ``1 - alpha``.
    trials, inputs_per_trial, failures, failed_trials : int
        Trials run, inputs per trial, failing inputs in total, trials with at least one failure.
    failure_fractions : numpy.ndarray
        Per-trial fraction of failing inputs, shape ``(trials,)``.
    worst_errors : numpy.ndarray
        Shape ``(trials, inputs_per_trial)``. Worst entry-wise relative output error of every
        evaluated input (may hold ``inf``); for another ``criterion``, its score
        (:func:`netcoreset.sampler.criterion_scores`).
    criterion : str
        The criterion tested (``"entrywise"``: the :math:`(1\pm\varepsilon)` statement).
    achieved_eps, achieved_eps_lower, achieved_eps_upper : float
        Empirical :math:`(1-\delta)`-quantile of the worst relative error over all evaluated
        inputs — the smallest ε the run supports at this δ — and a distribution-free interval
        at level ``1 - alpha`` computed from the first input of every trial (i.i.d.).
    interval : str
        Which confidence interval gave ``lower`` and ``upper`` (Clopper–Pearson, betting,
        empirical Bernstein) and on what data.
    more_trials : int or None
        Planning estimate of additional trials to decide an inconclusive verdict (0 if decided).
    compressor_warnings : list of str
        The compressor's own warnings (``result.report.warnings`` of
        :func:`~netcoreset.sampler.compress`: inputs that violate Assumption 1, cancellations
        above :math:`\hat\Delta`, a certificate below its target), grouped across trials.
    """

    verdict: str
    p_hat: float
    lower: float
    upper: float
    alpha: float
    eps: float | None
    delta: float
    trials: int
    inputs_per_trial: int
    failures: int
    failed_trials: int
    failure_fractions: np.ndarray = field(repr=False)
    worst_errors: np.ndarray = field(repr=False)
    achieved_eps: float
    achieved_eps_lower: float
    achieved_eps_upper: float
    interval: str
    sequential: bool
    stopped_early: bool
    more_trials: int | None
    seed: int
    pool_size: int
    holdout_size: int
    compressor: str
    compressor_warnings: list[str] = field(default_factory=list)
    criterion: str = "entrywise"

    def to_dict(self) -> dict[str, Any]:
        """Strict-JSON dictionary (arrays as lists; non-finite floats as ``null``, listed under
        ``"non_finite"``: see ``netcoreset.bounds.serialization``).

        >>> import json
        >>> r = GuaranteeCheck("holds", 0.0, 0.0, 0.01, 1e-3, 0.1, 0.1, 1, 1, 0, 0,
        ...     np.zeros(1), np.array([[np.inf]]), np.inf, 0.0, np.inf, "m", False, False, 0,
        ...     0, 1, 1, "c")
        >>> d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
        >>> d["worst_errors"], d["non_finite"]["/worst_errors/0/0"]
        ([[None]], 'inf')
        """
        out = {name: getattr(self, name) for name in self.__dataclass_fields__}
        return to_jsonable(out)

    def _requested(self) -> str:
        eps = "" if self.eps is None else f", eps={self.eps:g}"
        return f"criterion {self.criterion}{eps}, delta={self.delta:g}"

    def summary(self) -> str:
        """A short human-readable table of the result."""
        rows = [
            ("verdict", self.verdict),
            ("requested", self._requested()),
            (
                "failure rate",
                f"{self.p_hat:.4g}  [{self.lower:.4g}, {self.upper:.4g}] at alpha={self.alpha:g}",
            ),
            (
                "trials",
                f"{self.trials} x {self.inputs_per_trial} input(s); {self.failures} failing "
                f"input(s), {self.failed_trials} failing trial(s)",
            ),
            (
                "achieved eps",
                f"{self.achieved_eps:.4g}  [{self.achieved_eps_lower:.4g}, "
                f"{self.achieved_eps_upper:.4g}] ((1-delta)-quantile of the criterion's "
                "score: the worst rel. error for entrywise)",
            ),
            ("interval", self.interval),
            ("data", f"pool {self.pool_size}, holdout {self.holdout_size}, seed {self.seed}"),
            ("compressor", self.compressor),
        ]
        rows += [("WARNING", w) for w in self.compressor_warnings]
        if self.verdict == "inconclusive":
            more = "unknown" if self.more_trials is None else f"about {self.more_trials}"
            rows.append(("more trials", more))
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


# ------------------------------------------------------------------------------------------------
# Input checks
# ------------------------------------------------------------------------------------------------


def _model_param(model: nn.Module) -> torch.Tensor | None:
    for p in model.parameters():
        return p
    return None


# ------------------------------------------------------------------------------------------------
# The check
# ------------------------------------------------------------------------------------------------


def check_guarantee(
    model: nn.Module,
    data: torch.Tensor | np.ndarray,
    compressor: Callable[[nn.Module, torch.Tensor, torch.Generator], Any],
    eps: float | None,
    delta: float,
    *,
    criterion: str = "entrywise",
    trials: int = 200,
    inputs_per_trial: int = 1,
    holdout: torch.Tensor | np.ndarray | None = None,
    holdout_fraction: float = 0.5,
    alpha: float = 1e-3,
    bound: str = "auto",
    executor: Executor | None = None,
    seed: int = 0,
    sequential: bool = False,
    max_trials: int | None = None,
    batch_size: int = 32,
    progress: bool | None = None,
) -> GuaranteeCheck:
    r"""Test whether ``compressor`` meets the (ε, δ) guarantee on ``model``, with confidence.

    Each trial :math:`t` seeds a ``torch.Generator`` from ``numpy.random.SeedSequence(seed)``'s
    :math:`t`-th spawned child, calls ``compressor(model_copy, pool, generator)`` and evaluates
    ``inputs_per_trial`` held-out inputs drawn uniformly without replacement (with a second
    seed of the same child). With :math:`F_t` the fraction of the trial's inputs that fail
    (:func:`entrywise_relative_errors`), :math:`\hat p = \frac1T \sum_t F_t` estimates

    .. math::

        p = P_{\hat\theta,\; x \sim \mathrm{Unif}(H)}\bigl(\exists k:
        |f_{\hat\theta}(x)_k - f_\theta(x)_k| > \varepsilon |f_\theta(x)_k|\bigr),

    and the verdict compares a :math:`1-\alpha` confidence interval :math:`[l, u]` for :math:`p`
    with :math:`\delta` (:func:`~netcoreset.verification.verdict`).

    Parameters
    ----------
    model : torch.nn.Module
        The original network (never modified; each trial gets a deep copy).
    data : torch.Tensor or numpy.ndarray
        Inputs, shape ``(n, ...)``. Without ``holdout`` they are split at random (seeded by
        ``seed``) into the pool :math:`P` (given to the compressor) and the held-out set
        :math:`H` (a fraction ``holdout_fraction``); with ``holdout`` all of ``data`` is the
        pool.
    compressor : callable
        ``compressor(model, pool, generator)`` returning an ``nn.Module`` or an object with a
        ``.model`` (e.g. a ``CompressionResult``). Must be picklable for process executors
        (a module-level function or :class:`SamplerCompressor`).
    eps, delta : float
        The guarantee to test, both in (0, 1) (``eps``: the criterion's tolerance, ``None``
        for ``"top1"``; any value > 0 for ``"relative-l2"``).
    criterion : str, default "entrywise"
        What fails on an input (``netcoreset.sampler.CRITERIA``): ``"entrywise"`` (the
        :math:`(1\pm\varepsilon)` statement above), ``"relative-l2"``, ``"top1"`` or
        ``"margin"`` (:func:`netcoreset.sampler.criterion_failures`); :math:`p` is then the
        probability of that failure. ``worst_errors`` holds the criterion's score
        (:func:`netcoreset.sampler.criterion_scores`).
    trials : int
        Number of trials (sequential mode: the cap, unless ``max_trials`` is given), at most
        ``MAX_TRIALS``.
    inputs_per_trial : int
        Held-out inputs evaluated per compression (at most :math:`|H|`).
    holdout : torch.Tensor or numpy.ndarray, optional
        Explicit held-out inputs :math:`H` (should be disjoint from ``data``).
    holdout_fraction : float
        Fraction of ``data`` held out when ``holdout`` is None, in (0, 1).
    alpha : float
        Probability that a decisive verdict is wrong, in (0, 1).
    bound : {"auto", "clopper-pearson", "betting", "bernstein"}
        The interval. "auto": Clopper–Pearson for one input per trial, the betting interval
        (bets tuned to :math:`T`) for several, the anytime betting sequence when sequential.
        Clopper–Pearson needs one input per trial; sequential mode needs "betting"/"auto".
    executor : concurrent.futures.Executor, optional
        Runs the trials (``ProcessPoolExecutor``, a Dask ``client.get_executor()``...). Default:
        in-process, serially. Results are ordered by trial index, so they do not depend on it.
    seed : int
        Seed of the split and of every trial.
    sequential : bool
        Check the anytime-valid betting sequence after every batch; stop once decided.
    max_trials : int, optional
        Cap on trials in sequential mode (default ``trials``).
    batch_size : int
        Trials submitted together (sequential: checked after each batch).
    progress : bool or None
        tqdm progress bar over trials; None shows it only when stderr is a terminal.

    Returns
    -------
    GuaranteeCheck

    Raises
    ------
    ValueError
        On bad arguments, empty data, a holdout smaller than ``inputs_per_trial``, data whose
        shape the model rejects, NaN/inf in the data or in the model's outputs.

    Examples
    --------
    >>> model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    >>> x = torch.rand(40, 3, generator=torch.Generator().manual_seed(0))
    >>> exact = lambda m, pool, gen: m  # never fails
    >>> r = check_guarantee(model, x, exact, eps=0.1, delta=0.1, trials=60, alpha=0.01)
    >>> r.verdict, r.failures, round(r.upper, 4)  # CP upper bound 1 - (alpha/2)^(1/60)
    ('holds', 0, 0.0845)
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    if not callable(compressor):
        raise ValueError("compressor must be callable as compressor(model, pool, generator)")
    if criterion == "entrywise":
        eps = check_open_unit("eps", eps)
    else:
        eps = check_criterion(criterion, eps)[1]
    delta = check_open_unit("delta", delta)
    alpha = check_open_unit("alpha", alpha)
    trials = check_positive_int("trials", trials, MAX_TRIALS)
    k = check_positive_int("inputs_per_trial", inputs_per_trial)
    batch_size = check_positive_int("batch_size", batch_size, MAX_TRIALS)
    seed = check_seed("seed", seed)
    sequential = check_bool("sequential", sequential)
    if progress is not None:
        progress = check_bool("progress", progress)
    cap = _trial_cap(bound, k, sequential, trials, max_trials)
    pool, hold = _pool_and_holdout(model, data, holdout, holdout_fraction, seed, k)
    if sequential:
        interval_name = "betting"
    elif bound == "auto":
        interval_name = "clopper-pearson" if k == 1 else "betting"
    else:
        interval_name = bound
    cs = BettingConfidenceSequence(alpha) if sequential else None
    runner = _TrialRunner(compressor, model, pool, hold, eps, seed, k, executor, criterion)
    with folded_warnings("check_guarantee") as fold:  # one warning, not one per trial
        outcomes, stopped_early = runner.run(cap, batch_size, cs, delta, progress)
        fold.calls = len(outcomes)
    worst = np.stack([o.worst for o in outcomes]).astype(np.float64)
    fails = np.stack([o.fails for o in outcomes])
    fractions = fails.mean(axis=1)
    lower, upper, description, more = _interval(
        interval_name, cs, fractions, int(fails.sum()), alpha, delta, batch_size, cap
    )
    decision = verdict(lower, upper, delta)
    achieved, _, _ = quantile_ci(worst.reshape(-1), 1.0 - delta, alpha)
    _, ach_lo, ach_hi = quantile_ci(worst[:, 0], 1.0 - delta, alpha)
    return GuaranteeCheck(
        verdict=decision,
        p_hat=float(fractions.mean()),
        lower=float(lower),
        upper=float(upper),
        alpha=alpha,
        eps=eps,
        delta=delta,
        trials=len(outcomes),
        inputs_per_trial=k,
        failures=int(fails.sum()),
        failed_trials=int(fails.any(axis=1).sum()),
        failure_fractions=fractions,
        worst_errors=worst,
        achieved_eps=float(achieved),
        achieved_eps_lower=float(ach_lo),
        achieved_eps_upper=float(ach_hi),
        interval=description + f"; alpha={alpha:g}",
        sequential=bool(sequential),
        stopped_early=stopped_early,
        more_trials=0 if decision != "inconclusive" else more,
        seed=seed,
        pool_size=int(pool.shape[0]),
        holdout_size=int(hold.shape[0]),
        compressor=repr(compressor),
        compressor_warnings=_summarize_warnings([o.notes for o in outcomes]),
        criterion=criterion,
    )


def _trial_cap(bound: str, k: int, sequential: bool, trials: int, max_trials: int | None) -> int:
    """Check the interval choice against the design; the number of trials to run at most."""
    if bound not in _BOUNDS:
        raise ValueError(f"bound must be one of {_BOUNDS}; got {bound!r}")
    if bound == "clopper-pearson" and (k != 1 or sequential):
        raise ValueError(
            "bound='clopper-pearson' needs inputs_per_trial=1 and sequential=False (use 'betting')"
        )
    if bound == "bernstein" and sequential:
        raise ValueError("bound='bernstein' is fixed-n only; sequential mode needs 'betting'")
    cap = trials
    if max_trials is not None:
        if not sequential:
            raise ValueError("max_trials applies to sequential=True only (use trials)")
        cap = check_positive_int("max_trials", max_trials, MAX_TRIALS)
    if bound == "bernstein" and cap < 2:
        raise ValueError("bound='bernstein' needs trials >= 2")
    return cap


def _pool_and_holdout(
    model: nn.Module,
    data: Any,
    holdout: Any,
    holdout_fraction: Any,
    seed: int,
    k: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The pool P (for the compressor) and the held-out set H, validated against the model."""
    param = _model_param(model)
    x = as_inputs(data, name="data", like=param)
    if holdout is None:
        if not isinstance(holdout_fraction, (int, float)) or isinstance(holdout_fraction, bool):
            raise ValueError(
                f"holdout_fraction must be a real number in (0, 1); got {holdout_fraction!r}"
            )
        holdout_fraction = check_open_unit("holdout_fraction", holdout_fraction)
        n = x.shape[0]
        n_hold = int(round(holdout_fraction * n))
        perm = torch.from_numpy(np.random.default_rng([seed, 1]).permutation(n))
        hold = x[perm[:n_hold]]
        pool = x[perm[n_hold:]]
        if pool.shape[0] < 1:
            raise ValueError(
                f"the pool is empty: data has {n} inputs and holdout_fraction={holdout_fraction}"
            )
    else:
        pool = x
        hold = as_inputs(holdout, name="holdout", like=param)
        if hold.shape[1:] != pool.shape[1:]:
            raise ValueError(
                f"holdout has per-input shape {tuple(hold.shape[1:])} but data has "
                f"{tuple(pool.shape[1:])}"
            )
    if hold.shape[0] < k:
        raise ValueError(
            f"the holdout has {hold.shape[0]} inputs, fewer than inputs_per_trial={k}; "
            "give more data, a larger holdout_fraction or a smaller inputs_per_trial"
        )
    _check_model_accepts(model, pool, hold)
    return pool, hold


def _check_model_accepts(model: nn.Module, pool: torch.Tensor, hold: torch.Tensor) -> None:
    reference_model = copy.deepcopy(model).eval()
    try:
        _forward(reference_model, pool[:1])
        reference = _forward(reference_model, hold)
    except RuntimeError as exc:
        raise ValueError(
            f"the model does not accept inputs of shape {tuple(hold.shape[1:])}: "
            f"{str(exc).splitlines()[0]}"
        ) from exc
    if reference.shape[0] != hold.shape[0]:
        raise ValueError("the model must return one output row per input")
    if reference.is_floating_point() and not bool(torch.isfinite(reference).all()):
        raise ValueError("the model's outputs on the holdout contain NaN or inf")


@dataclass
class _TrialRunner:
    """Runs trials in batches (in-process or through an executor), ordered by index."""

    compressor: Any
    model: nn.Module
    pool: torch.Tensor
    hold: torch.Tensor
    eps: float | None
    seed: int
    k: int
    executor: Executor | None
    criterion: str = "entrywise"

    def _tasks(self, start: int, stop: int) -> list[_TrialTask]:
        tasks = []
        for t in range(start, stop):
            comp_seed, input_seed = _trial_seeds(self.seed, t)
            g_in = torch.Generator().manual_seed(input_seed)
            idx = torch.randperm(self.hold.shape[0], generator=g_in)[: self.k]
            tasks.append(
                _TrialTask(
                    t,
                    self.compressor,
                    self.model,
                    self.pool,
                    self.hold[idx],
                    self.eps,
                    comp_seed,
                    self.criterion,
                )
            )
        return tasks

    def _batch(self, tasks: list[_TrialTask], bar: Any) -> list[_TrialOutcome]:
        if self.executor is None:
            batch = []
            for task in tasks:
                batch.append(_run_trial(task))
                bar.update(1)
            return batch
        futures = [self.executor.submit(_run_trial, task) for task in tasks]
        try:
            for fut in as_completed(futures):
                fut.result()  # re-raise a worker's error at once
                bar.update(1)
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
        return sorted((f.result() for f in futures), key=lambda o: o.index)

    def run(
        self,
        cap: int,
        batch_size: int,
        cs: BettingConfidenceSequence | None,
        delta: float,
        progress: bool | None,
    ) -> tuple[list[_TrialOutcome], bool]:
        """Up to ``cap`` trials; with a confidence sequence, stop once the verdict is decided."""
        from tqdm.auto import tqdm

        disable = (not progress) if progress is not None else (not sys.stderr.isatty())
        outcomes: list[_TrialOutcome] = []
        start = 0
        with tqdm(total=cap, desc="trials", unit="trial", disable=disable, file=sys.stderr) as bar:
            while start < cap:
                stop = min(cap, start + batch_size)
                batch = self._batch(self._tasks(start, stop), bar)
                outcomes.extend(batch)
                start = stop
                if cs is not None:
                    cs.update([float(o.fails.mean()) for o in batch])
                    if verdict(*cs.interval(), delta) != "inconclusive":
                        return outcomes, start < cap
        return outcomes, False


def _interval(
    name: str,
    cs: BettingConfidenceSequence | None,
    fractions: np.ndarray,
    n_fail: int,
    alpha: float,
    delta: float,
    batch_size: int,
    cap: int,
) -> tuple[float, float, str, int | None]:
    """(lower, upper, description, planning estimate of more trials) for the failure rate."""
    T = fractions.size
    p_hat = float(fractions.mean())
    if name == "clopper-pearson":
        lower, upper = clopper_pearson(n_fail, T, alpha)
        description = (
            f"exact Clopper-Pearson two-sided interval on {n_fail} failure(s) in {T} trial(s) "
            "(one input per trial, i.i.d. Bernoulli)"
        )
        return lower, upper, description, trials_to_decide(p_hat, T, delta, alpha)
    if cs is not None:
        lower, upper = cs.interval()
        description = (
            f"anytime-valid betting confidence sequence (Waudby-Smith & Ramdas 2024, hedged "
            f"capital, grid {cs.m.size}) on the per-trial failure fractions, checked after "
            f"every batch of {batch_size} trial(s), stopped at {T} of at most {cap}"
        )
    elif name == "betting":
        lower, upper = betting_cs(fractions, alpha, horizon=T)
        description = (
            f"betting confidence interval (Waudby-Smith & Ramdas 2024, hedged capital, bets "
            f"tuned to n={T}) on the per-trial failure fractions"
        )
    else:
        lower, upper = empirical_bernstein(fractions, alpha)
        description = (
            "empirical Bernstein interval (Maurer & Pontil 2009) on the per-trial failure fractions"
        )
    more = trials_to_decide(p_hat, T, delta, alpha, lower=lower, upper=upper)
    return lower, upper, description, more
