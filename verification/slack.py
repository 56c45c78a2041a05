r"""Empirical sample complexity: how much of the theorem's draw budget does the guarantee need?

**Slack, in draws.** The slack of a certificate is its total number of draws over the fewest
total draws *of the same allocation shape* (the same draws per part up to one common factor)
at which the checker still says "holds":

.. math::

    \mathrm{slack} = \frac{D_{\text{certificate}}}{\min\{D(c) : \text{check at scale } c
    \text{ holds}\}},\qquad D(c) = \sum_{\ell, i, \pm} m^\ell_{i\pm}(c).

Certificates are compared in these units only: a scale factor :math:`1/c^\star` of one
allocation says nothing about another allocation (a different :math:`K` multiplies every
part's draws), and near the minimum the ceiling of each part's draws makes :math:`D(c)`
larger than :math:`c\,D(1)`. Pass ``draws_of`` (e.g. ``DrawCounter``) to
:func:`find_slack` to record :math:`D(c)` with every check; :meth:`SlackResult.slack_of`
gives a certificate's slack from its draws (a ``CompressionResult``'s are
:func:`total_draws`).

CoreNet's guarantee mode draws
:math:`m = \lceil 8 \mathcal S K \log(8\eta/\delta)/\varepsilon^2\rceil` samples per neuron
part (the sample size of the main theorem). :func:`find_slack` scales all those draw counts by a
factor :math:`c` (the sampler's ``draw_scale``) and searches for the smallest :math:`c` at which
:func:`~netcoreset.verification.check_guarantee` still certifies the (ε, δ) guarantee.
:math:`1/c^\star` is then the theorem's slack: its budget is :math:`1/c^\star` times what this
network and data need. With ``per_layer=True`` the search is repeated with one weight layer's
draws scaled at a time (the others at the theorem's count): the layer with the largest
:math:`c^\star_\ell` is the one whose budget binds first.

Search (on :math:`\log c`): check :math:`c = 1`; if it holds, walk down the geometric grid
:math:`1, 1/r, 1/r^2, \dots` (not below ``c_min``) until a check does not say "holds", else walk
up :math:`r, r^2, \dots` (not above ``c_max``) until one does; then bisect the last bracket
:math:`(c_{\mathrm{lo}}, c_{\mathrm{hi}})` at its geometric mean ``bisection_steps`` times. This
assumes the failure probability decreases in :math:`c` (more draws, less error), which is what
the concentration bounds predict but is not checked.

Error control: every search makes at most
:math:`N = 1 + \lceil \log(\max(1/c_{\min}, c_{\max}))/\log r\rceil + \text{bisection\_steps}`
checks and there are :math:`1 + L\cdot[\text{per\_layer}]` searches; each check runs at
:math:`\alpha_i = \alpha_{\text{total}} / (N \cdot \#\text{searches})`, so by the union bound
:math:`\sum_i \alpha_i \le \alpha_{\text{total}}` and, with probability at least
:math:`1-\alpha_{\text{total}}`, **every** decisive verdict of the whole run is correct at once
(in particular :math:`P_{\text{fail}}(c^\star) \le \delta` for every reported :math:`c^\star`).
All checks reuse the same seed (common random numbers across :math:`c`); the union bound needs
no independence.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from netcoreset.bounds.serialization import to_jsonable
from netcoreset.bounds.validation import (
    check_int,
    check_open_unit,
    check_positive,
    check_positive_int,
)

from .checker import GuaranteeCheck, SamplerCompressor, check_guarantee

__all__ = [
    "DrawCounter",
    "DrawScaleFactory",
    "SlackCheck",
    "SlackResult",
    "SlackSearch",
    "find_slack",
    "render_slack_table",
    "total_draws",
    "MAX_CHECKS",
]

Scale = float | list[float]


class DrawScaleFactory:
    """Compressor factory for :func:`find_slack`: ``scale -> SamplerCompressor(draw_scale=scale)``.

    ``DrawScaleFactory("corenet", eps=0.5, delta=0.1)(0.25)`` is
    ``SamplerCompressor("corenet", eps=0.5, delta=0.1, draw_scale=0.25)``; ``scale`` may be a
    float or a per-weight-layer list.

    >>> DrawScaleFactory("corenet", eps=0.5, delta=0.1)([1.0, 0.5])
    SamplerCompressor(method='corenet', eps=0.5, delta=0.1, draw_scale=[1.0, 0.5])
    """

    def __init__(self, method: str = "corenet", **kwargs: Any) -> None:
        if "draw_scale" in kwargs:
            raise ValueError("draw_scale is set by the search; do not pass it")
        self.method = method
        self.kwargs = dict(kwargs)

    def __call__(self, scale: Scale) -> SamplerCompressor:
        return SamplerCompressor(self.method, **self.kwargs, draw_scale=scale)

    def __repr__(self) -> str:
        items = [f"{self.method!r}"] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"DrawScaleFactory({', '.join(items)})"


def total_draws(result: Any) -> float:
    """The total number of draws of a compression: the sum over every layer's active parts
    (a ``CompressionResult`` or its report).

    >>> from netcoreset.sampler import compress
    >>> net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    >>> x = torch.rand(200, 3, generator=torch.Generator().manual_seed(0))
    >>> res = compress(net, x, eps=0.5, K=2.0, seed=0)
    >>> total_draws(res) == sum(lay.draws_total for lay in res.report.layers) > 0
    True
    """
    report = getattr(result, "report", result)
    return float(sum(lay.draws_total for lay in report.layers))


class DrawCounter:
    """``scale -> total draws`` of one compression (seed ``seed``) at ``draw_scale=scale``:
    the :math:`D(c)` of :func:`find_slack`'s ``draws_of``. ``kwargs`` go to
    :func:`~netcoreset.sampler.compress` (the allocation's shape: method, eps, delta, K,
    certificate, ...).

    >>> net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    >>> x = torch.rand(200, 3, generator=torch.Generator().manual_seed(0))
    >>> count = DrawCounter(net, x, eps=0.5, K=2.0)
    >>> count(1.0) > count(1e-3) >= 1.0
    True
    """

    def __init__(
        self, model: nn.Module, data: torch.Tensor | np.ndarray, seed: int = 0, **kwargs: Any
    ) -> None:
        if "draw_scale" in kwargs:
            raise ValueError("draw_scale is the counter's argument; do not pass it")
        self.model, self.data, self.seed, self.kwargs = model, data, seed, dict(kwargs)

    def __call__(self, scale: Scale) -> float:
        import warnings

        from netcoreset.sampler import compress

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the checks report; the count does not
            res = compress(self.model, self.data, draw_scale=scale, seed=self.seed, **self.kwargs)
        return total_draws(res)


@dataclass(frozen=True)
class SlackCheck:
    """One check of the search: the scale, its verdict and interval (and, given
    ``draws_of``, the total draws :math:`D(c)` at that scale).

    >>> model = nn.Sequential(nn.Linear(3, 2))
    >>> x = torch.rand(20, 3, generator=torch.Generator().manual_seed(0))
    >>> exact = lambda scale: (lambda m, pool, gen: m)  # a compressor that never fails
    >>> r = find_slack(model, x, 0.1, 0.2, compressor_factory=exact, c_min=0.5, trials=40,
    ...                sequential=False)
    >>> r.overall.checks[0].c, r.overall.checks[0].verdict
    (1.0, 'holds')
    """

    c: float
    verdict: str
    p_hat: float
    lower: float
    upper: float
    trials: int
    alpha: float
    draws: float | None = None

    @classmethod
    def from_check(cls, c: float, r: GuaranteeCheck, draws: float | None = None) -> SlackCheck:
        return cls(c, r.verdict, r.p_hat, r.lower, r.upper, r.trials, r.alpha, draws)


@dataclass(frozen=True)
class SlackSearch:
    r"""Result of one search (all layers scaled together when ``layer`` is None).

    ``c`` is the smallest scale certified to hold (None if none was); ``bracket`` is
    ``(c_lo, c_hi)`` with ``c_hi == c`` and ``c_lo`` the largest scale checked below it that did
    not hold (None when the grid reached ``c_min`` still holding, a lower bound on the slack only);
    ``status`` is "found", "holds at c_min" or "never holds" (not even at ``c_max``). The slack
    is :math:`1/c^\star`.

    >>> model = nn.Sequential(nn.Linear(3, 2))
    >>> x = torch.rand(20, 3, generator=torch.Generator().manual_seed(0))
    >>> exact = lambda scale: (lambda m, pool, gen: m)  # a compressor that never fails
    >>> r = find_slack(model, x, 0.1, 0.2, compressor_factory=exact, c_min=0.5, trials=40,
    ...                sequential=False)
    >>> r.overall.status, r.overall.slack
    ('holds at c_min', 2.0)
    """

    layer: int | None
    c: float | None
    bracket: tuple[float | None, float | None]
    status: str
    checks: list[SlackCheck] = field(default_factory=list)

    @property
    def slack(self) -> float | None:
        """:math:`1/c^\\star`, a scale of this search's allocation (comparable across
        certificates only in draws: :attr:`draws`)."""
        return None if self.c is None else 1.0 / self.c

    @property
    def draws(self) -> float | None:
        """:math:`D(c^\\star)`, the fewest total draws found to hold (None without
        ``draws_of``, or when nothing held)."""
        return self._draws_at(self.c)

    @property
    def draws_bracket(self) -> tuple[float | None, float | None]:
        """:math:`(D(c_{\\mathrm{lo}}), D(c^\\star))`: the fewest passing draws lie above the
        first (a scale that did not hold) and at most the second."""
        return self._draws_at(self.bracket[0]), self._draws_at(self.bracket[1])

    def _draws_at(self, c: float | None) -> float | None:
        return next((k.draws for k in self.checks if c is not None and k.c == c), None)


@dataclass(frozen=True)
class SlackResult:
    """Result of :func:`find_slack`: the overall search, the per-layer searches, the binding
    layer and the error control (:math:`\alpha_i = \alpha_{\text{total}}/N`).

    >>> model = nn.Sequential(nn.Linear(3, 2))
    >>> x = torch.rand(20, 3, generator=torch.Generator().manual_seed(0))
    >>> exact = lambda scale: (lambda m, pool, gen: m)  # a compressor that never fails
    >>> r = find_slack(model, x, 0.1, 0.2, compressor_factory=exact, c_min=0.5, trials=40,
    ...                sequential=False)
    >>> r.c, r.to_dict()["alpha_total"]
    (0.5, 0.01)
    """

    eps: float
    delta: float
    alpha_total: float
    alpha_per_check: float
    max_checks_per_search: int
    overall: SlackSearch
    per_layer: list[SlackSearch]
    binding_layer: int | None
    factory: str

    @property
    def c(self) -> float | None:
        """Smallest certified common scale of all draw counts."""
        return self.overall.c

    @property
    def slack(self) -> float | None:
        """The theorem's slack :math:`1/c^\\star` (None if no scale was certified)."""
        return self.overall.slack

    def slack_of(self, draws: float) -> tuple[float | None, float | None, float | None]:
        """A certificate's slack in draws, ``draws`` over the fewest passing draws of this
        search's allocation shape, with its bracket: ``(slack, lower, upper)``
        (:math:`D/D(c^\\star)`, and :math:`D/D(c_{\\mathrm{lo}})` as the upper end; None where
        unknown).

        >>> model = nn.Sequential(nn.Linear(3, 2))
        >>> x = torch.rand(20, 3, generator=torch.Generator().manual_seed(0))
        >>> exact = lambda scale: (lambda m, pool, gen: m)  # never fails
        >>> r = find_slack(model, x, 0.1, 0.2, compressor_factory=exact, c_min=0.25,
        ...                trials=40, sequential=False, draws_of=lambda c: 100.0 * c)
        >>> r.slack_of(100.0)
        (4.0, 4.0, None)
        """
        lo, hi = self.overall.draws_bracket
        slack = None if hi is None else draws / hi
        return slack, slack, None if lo is None else draws / lo

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dictionary of every search and check."""

        def search(s: SlackSearch) -> dict[str, Any]:
            return {
                "layer": s.layer,
                "c": s.c,
                "slack": s.slack,
                "draws": s.draws,
                "draws_bracket": list(s.draws_bracket),
                "bracket": list(s.bracket),
                "status": s.status,
                "checks": [vars(c) for c in s.checks],
            }

        return to_jsonable(
            {
                "eps": self.eps,
                "delta": self.delta,
                "alpha_total": self.alpha_total,
                "alpha_per_check": self.alpha_per_check,
                "max_checks_per_search": self.max_checks_per_search,
                "c": self.c,
                "slack": self.slack,
                "overall": search(self.overall),
                "per_layer": [search(s) for s in self.per_layer],
                "binding_layer": self.binding_layer,
                "factory": self.factory,
                "error_control": (
                    "union bound: every check at alpha_per_check, at most "
                    f"{self.max_checks_per_search} checks per search; all decisive verdicts "
                    f"are simultaneously correct with probability >= 1 - {self.alpha_total:g}"
                ),
            }
        )

    def summary(self) -> str:
        """Human-readable table."""

        def fmt(v: float | None) -> str:
            return "-" if v is None else f"{v:.4g}"

        lines = [
            f"eps={self.eps:g} delta={self.delta:g}; alpha_total={self.alpha_total:g} "
            f"(union bound, {self.alpha_per_check:.3g} per check)",
            f"{'search':<10} {'c*':>8} {'slack':>8} {'bracket':>22}  status",
        ]
        for s in [self.overall, *self.per_layer]:
            name = "all" if s.layer is None else f"layer {s.layer}"
            br = f"({fmt(s.bracket[0])}, {fmt(s.bracket[1])})"
            lines.append(f"{name:<10} {fmt(s.c):>8} {fmt(s.slack):>8} {br:>22}  {s.status}")
        if self.binding_layer is not None:
            lines.append(f"binding layer (largest c*): {self.binding_layer}")
        return "\n".join(lines)


def _count_weight_layers(model: nn.Module) -> int:
    return sum(1 for m in model.modules() if isinstance(m, nn.Linear))


#: Most checks one search of :func:`find_slack` may run (grid steps + bisection + 1).
MAX_CHECKS = 1000


def _grid_steps(c_min: float, c_max: float, factor: float) -> int:
    span = max(1.0 / c_min, c_max)
    return max(0, math.ceil(math.log(span) / math.log(factor) - 1e-12))


def _search(
    check: Callable[[float], GuaranteeCheck],
    *,
    draws_of: Callable[[float], float] | None = None,
    layer: int | None,
    factor: float,
    c_min: float,
    c_max: float,
    bisection_steps: int,
) -> SlackSearch:
    checks: list[SlackCheck] = []

    def run(c: float) -> bool:
        r = check(c)
        checks.append(SlackCheck.from_check(c, r, None if draws_of is None else draws_of(c)))
        return r.verdict == "holds"

    lo: float | None = None
    hi: float | None = None
    if run(1.0):
        hi = 1.0
        while True:
            c = hi / factor
            if c < c_min * (1 - 1e-12):
                break
            if run(c):
                hi = c
            else:
                lo = c
                break
    else:
        lo = 1.0
        while True:
            c = lo * factor
            if c > c_max * (1 + 1e-12):
                break
            if run(c):
                hi = c
                break
            lo = c
    if lo is not None and hi is not None:
        for _ in range(bisection_steps):
            mid = math.sqrt(lo * hi)
            if run(mid):
                hi = mid
            else:
                lo = mid
    if hi is None:
        status = "never holds"
    elif lo is None:
        status = "holds at c_min"
    else:
        status = "found"
    return SlackSearch(layer=layer, c=hi, bracket=(lo, hi), status=status, checks=checks)


def _check_grid(
    factor: Any, c_min: Any, c_max: Any, bisection_steps: Any
) -> tuple[float, float, float]:
    factor = check_positive("factor", factor)
    if factor <= 1.0:
        raise ValueError(f"factor must be a real number > 1; got {factor!r}")
    c_min = check_positive("c_min", c_min)
    c_max = check_positive("c_max", c_max)
    if not c_min <= 1.0 <= c_max:
        raise ValueError(f"need 0 < c_min <= 1 <= c_max; got c_min={c_min!r}, c_max={c_max!r}")
    steps = check_int("bisection_steps", bisection_steps, 0, 60)  # 2^-60: float noise
    grid = math.log(max(1.0 / c_min, c_max)) / math.log(factor)
    if not 1 + grid + steps <= MAX_CHECKS:
        raise ValueError(
            f"factor={factor!r}, c_min={c_min!r}, c_max={c_max!r} ask for {grid:.3g} grid "
            f"checks; at most {MAX_CHECKS} checks per search (a bound on the work)"
        )
    return factor, c_min, c_max


def find_slack(
    model: nn.Module,
    data: torch.Tensor | np.ndarray,
    eps: float,
    delta: float,
    *,
    compressor_factory: Callable[[Scale], Any] | None = None,
    per_layer: bool = False,
    n_layers: int | None = None,
    alpha_total: float = 1e-2,
    factor: float = 2.0,
    c_min: float = 1e-3,
    c_max: float = 8.0,
    bisection_steps: int = 3,
    trials: int = 200,
    sequential: bool = True,
    draws_of: Callable[[Scale], float] | None = None,
    **check_kwargs: Any,
) -> SlackResult:
    r"""Smallest multiple :math:`c` of the theorem's draw counts that still meets (ε, δ).

    See the module docstring for the search and the union-bound error control:

    .. math::

        \alpha_i = \frac{\alpha_{\text{total}}}{N\,(1 + L\,[\text{per\_layer}])}, \qquad
        N = 1 + \Bigl\lceil \frac{\log \max(1/c_{\min}, c_{\max})}{\log r} \Bigr\rceil
        + \text{bisection\_steps}.

    Parameters
    ----------
    model, data
        As for :func:`~netcoreset.verification.check_guarantee`.
    eps, delta : float
        The guarantee (also passed to the default factory's ``compress``).
    compressor_factory : callable, optional
        ``factory(scale) -> compressor``; ``scale`` is a float (all layers) or a list of one float
        per weight layer. Default: ``DrawScaleFactory("corenet", eps=eps, delta=delta)``.
    per_layer : bool
        Also search each weight layer's scale alone (others at 1).
    n_layers : int, optional
        Number of weight layers (default: the number of ``nn.Linear`` modules of ``model``).
    alpha_total : float
        Probability that any decisive verdict of the whole run is wrong.
    factor : float
        Grid ratio :math:`r > 1`.
    c_min, c_max : float
        Search range, ``0 < c_min <= 1 <= c_max``.
    bisection_steps : int
        Bisection steps on :math:`\log c` inside the final bracket (>= 0).
    trials, sequential, **check_kwargs
        Passed to every ``check_guarantee`` call (``alpha`` is set by the search).
    draws_of : callable, optional
        ``draws_of(scale) -> total draws`` (``DrawCounter``), recorded with every check
        so that slacks compare in draws (:meth:`SlackResult.slack_of`).

    Returns
    -------
    SlackResult

    Examples
    --------
    >>> from netcoreset.verification.checker import check_guarantee
    >>> model = nn.Sequential(nn.Linear(3, 2))
    >>> x = torch.rand(20, 3, generator=torch.Generator().manual_seed(0))
    >>> exact = lambda scale: (lambda m, pool, gen: m)  # never fails at any scale
    >>> r = find_slack(model, x, 0.1, 0.2, compressor_factory=exact, c_min=0.25, trials=40,
    ...                sequential=False)
    >>> r.overall.status, r.c, [c.c for c in r.overall.checks]
    ('holds at c_min', 0.25, [1.0, 0.5, 0.25])
    """
    eps = check_open_unit("eps", eps)
    delta = check_open_unit("delta", delta)
    alpha_total = check_open_unit("alpha_total", alpha_total)
    factor, c_min, c_max = _check_grid(factor, c_min, c_max, bisection_steps)
    if "alpha" in check_kwargs:
        raise ValueError("alpha is set per check by the search; use alpha_total")
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    if n_layers is None:
        n_layers = _count_weight_layers(model)
        if per_layer and n_layers < 1:
            raise ValueError("model has no nn.Linear layer; pass n_layers")
    n_layers = check_positive_int("n_layers", n_layers) if per_layer else n_layers
    factory = (
        compressor_factory
        if compressor_factory is not None
        else DrawScaleFactory("corenet", eps=eps, delta=delta)
    )
    if not callable(factory):
        raise ValueError("compressor_factory must be callable as factory(scale)")

    max_checks = 1 + _grid_steps(c_min, c_max, factor) + int(bisection_steps)
    n_searches = 1 + (n_layers if per_layer else 0)
    alpha_i = alpha_total / (max_checks * n_searches)

    def make_check(scale_of: Callable[[float], Scale]) -> Callable[[float], GuaranteeCheck]:
        def check(c: float) -> GuaranteeCheck:
            return check_guarantee(
                model,
                data,
                factory(scale_of(c)),
                eps,
                delta,
                trials=trials,
                sequential=sequential,
                alpha=alpha_i,
                **check_kwargs,
            )

        return check

    search = functools.partial(
        _search, factor=factor, c_min=c_min, c_max=c_max, bisection_steps=int(bisection_steps)
    )
    overall = search(make_check(lambda c: c), draws_of=draws_of, layer=None)
    layers: list[SlackSearch] = []
    if per_layer:
        for ell in range(int(n_layers)):

            def scale_of(c: float, ell: int = ell) -> list[float]:
                s = [1.0] * int(n_layers)
                s[ell] = c
                return s

            counts = None if draws_of is None else (lambda c, f=scale_of: draws_of(f(c)))
            layers.append(search(make_check(scale_of), draws_of=counts, layer=ell))
    # the binding layer needs the largest share of its budget; "never holds" counts as infinite
    binding = None
    if layers:
        needs = [math.inf if s.c is None else s.c for s in layers]
        binding = int(np.argmax(needs))
    return SlackResult(
        eps=eps,
        delta=delta,
        alpha_total=alpha_total,
        alpha_per_check=alpha_i,
        max_checks_per_search=max_checks,
        overall=overall,
        per_layer=layers,
        binding_layer=binding,
        factory=repr(factory),
    )


def _fmt(value: float | None) -> str:
    """Three significant digits; powers of ten as RST math from 10^4 on."""
    if value is None:
        return "—"
    if value != 0 and not 1e-3 <= abs(value) < 1e4:
        mantissa, exponent = f"{value:.2e}".split("e")
        return f":math:`{float(mantissa):.3g}\\cdot10^{{{int(exponent)}}}`"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def _certified(cert: dict[str, Any]) -> str:
    eps, delta = cert.get("certified_eps"), cert.get("certified_delta")
    if eps is None:
        return f"nothing (union bound {_fmt(delta)})"
    return f":math:`\\varepsilon = {eps:.3g}` at :math:`\\delta = {_fmt(delta)}`"


def _verdict(check: dict[str, Any] | None) -> str:
    if not check:
        return "—"
    return (
        f"{check['verdict']} (:math:`\\hat p = {100 * check['p_hat']:.2g}\\%`, interval "
        f"[{check['lower']:.3g}, {check['upper']:.3g}], {check['trials']} trials)"
    )


def render_slack_table(data: dict[str, Any]) -> str:
    """The RST table of a slack benchmark's JSON (``benchmarks/slack_modes.py``): for each
    certificate its certified (eps, delta), kept fraction, total draws, the fewest passing
    draws of its allocation shape (bracket), its slack in draws, and the checker's verdict.
    The docs include this rendering; a test re-renders it from the committed JSON.

    >>> check = {"verdict": "holds", "p_hat": 0.055, "lower": 0.04, "upper": 0.1, "trials": 310}
    >>> cert = {"certified_eps": 0.5, "certified_delta": 0.08, "kept_fraction": 0.9,
    ...         "draws": 2e6, "shape": "paper", "slack": {"value": 4.0, "upper": 5.0},
    ...         "check": check}
    >>> shape = {"search": {"overall": {"draws_bracket": [4e5, 5e5]}}}
    >>> table = render_slack_table({"certificates": {"holdout": cert}, "shapes": {"paper": shape}})
    >>> print("\\n".join(table.splitlines()[12:]))
         - 90.0%
         - :math:`2\\cdot10^{6}`
         - (:math:`4\\cdot10^{5}`, :math:`5\\cdot10^{5}`] (paper)
         - 4 (up to 5)
         - holds (:math:`\\hat p = 5.5\\%`, interval [0.04, 0.1], 310 trials)
    """
    rows = [
        "certificate",
        "certified",
        "kept",
        "draws",
        "fewest passing draws (shape)",
        "slack in draws",
        "checker",
    ]
    lines = [".. list-table::", "   :header-rows: 1", "", "   * - " + rows[0]]
    lines += [f"     - {r}" for r in rows[1:]]
    for name, cert in data["certificates"].items():
        shape_name = cert.get("shape")
        shape = data["shapes"].get(shape_name, {}) if shape_name else {}
        lo, hi = shape.get("search", {}).get("overall", {}).get("draws_bracket", [None, None])
        slack = cert.get("slack") or {}
        cells = [
            name,
            _certified(cert),
            f"{100 * cert['kept_fraction']:.1f}%",
            _fmt(cert.get("draws")),
            f"({_fmt(lo)}, {_fmt(hi)}] ({shape_name or '—'})",
            f"{_fmt(slack.get('value'))} (up to {_fmt(slack.get('upper'))})",
            _verdict(cert.get("check")),
        ]
        lines.append(f"   * - {cells[0]}")
        lines += [f"     - {c}" for c in cells[1:]]
    return "\n".join(lines) + "\n"
