r"""Generalization certificates for quantised networks: a grid of choices declared before
the data, the code length of a network under it, and the Occam bound on its true error.

The prior (the code) is fixed before the training sample is seen; the network may depend on
the sample in any way. A certificate combines

* the **declared grid** (:class:`SearchGrid`): per setting (``"paper"``: compression only;
  ``"retrained"``: compression, retraining with the mask fixed, quantisation-aware
  training; ``"subspace"``: the random-subspace compressor), every dimension the search may
  choose after looking at the data, with its options. A configuration of setting :math:`s`
  has prior weight

  .. math::

      \pi(s, c) = w_s \prod_{\text{dimensions } j \text{ of } s} \frac{1}{k_j},
      \qquad \sum_{s, c}\pi(s, c) = \sum_s w_s = 1,

  which costs :math:`\log_2(1/\pi)` bits (the union bound with explicit weights);
* the **description** of the quantised network given its configuration
  (:func:`~netcoreset.bounds.network_code.describe_shrunk_network`, i.e. the counts,
  positions, values and codebooks of :func:`~netcoreset.bounds.describe_network`, behind the
  declared, shrunk or shrunk-and-input-subset shape);
* the **training errors** :math:`k` of the *quantised* network, recomputed from its own
  predictions, and the exact binomial-tail Occam bound (the kl form is reported too):

  .. math::

      L(g) \le \max\Bigl\{p : \Pr[\mathrm{Bin}(n, p) \le k] \ge \delta\, 2^{-\ell(g)}\Bigr\}
      \le \mathrm{kl}^{-1}\Bigl(\frac kn, \frac{\ell(g)\ln 2 + \ln(1/\delta)}{n}\Bigr).

With probability :math:`\ge 1-\delta` the bounds of *all* configurations and networks hold
together, so the smallest one found by any search is a valid bound.

References
----------
J. Langford, "Tutorial on practical prediction theory for classification", JMLR 6, 2005
(Occam's razor bound, Theorem 4.1). S. Lotfi et al., "PAC-Bayes compression bounds so tight
that they can explain generalization", NeurIPS 2022.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from netcoreset.bounds import (
    DescriptionLength,
    describe_network,
    margin_compression_bound,
    margin_error_count,
    max_logit_deviation,
    occam_bound,
)
from netcoreset.bounds.network_code import describe_shrunk_network
from netcoreset.bounds.serialization import to_jsonable
from netcoreset.sampler import Quantization, linear_layers

__all__ = [
    "SETTINGS",
    "CODE_DIMENSIONS",
    "SearchGrid",
    "Certificate",
    "count_errors",
    "certify_quantization",
    "certify_subspace",
    "best_per_keep",
    "code_variants",
    "summarize",
    "plot_certificates",
    "margin_form",
]

#: The three settings a grid can declare.
SETTINGS = ("paper", "retrained", "subspace")

#: Dimensions that choose how a given network is coded (evaluated for every network, best
#: kept). ``shape_code``: ``"declared"`` (the declared architecture's slots), ``"shrunk"``
#: (coded hidden widths) or ``"inputs"`` (coded widths and the subset of inputs read).
CODE_DIMENSIONS = ("value_coding", "shape_code")
_SHAPE_CODES = ("declared", "shrunk", "inputs")
_BITS_PER_LEVEL = {"float32": 32, "float16": 16, "float64": 64}


@dataclass(frozen=True)
class SearchGrid:
    """Every choice a search may make after seeing the data, declared before it.

    ``dims[setting][dimension]`` is the tuple of options; ``weights[setting]`` the prior
    weight of the setting (default: equal). A configuration must take each dimension's value
    from its options (:meth:`check`); it costs :meth:`prior_bits` bits.

    >>> g = SearchGrid({"paper": {"keep": (0.1, 0.2), "levels": (4, 8, 16, 32)}})
    >>> g.size("paper"), g.prior_bits("paper")  # log2(2 * 4)
    (8, 3.0)
    >>> g.check("paper", {"keep": 0.3, "levels": 4})
    Traceback (most recent call last):
    ...
    ValueError: keep = 0.3 is not among the declared options (0.1, 0.2) of setting 'paper'
    """

    dims: Mapping[str, Mapping[str, tuple[Any, ...]]]
    weights: Mapping[str, float] | None = None

    def __post_init__(self) -> None:
        if not self.dims:
            raise ValueError("a grid needs at least one setting")
        for setting, dims in self.dims.items():
            if setting not in SETTINGS:
                raise ValueError(f"setting must be one of {SETTINGS}; got {setting!r}")
            for name, options in dims.items():
                if not isinstance(options, tuple) or not options:
                    raise ValueError(f"dimension {name!r} of {setting!r} needs a non-empty tuple")
                if len(set(map(repr, options))) != len(options):
                    raise ValueError(f"dimension {name!r} of {setting!r} repeats an option")
        if self.weights is not None:
            if set(self.weights) != set(self.dims):
                raise ValueError("weights must give one weight per declared setting")
            total = sum(self.weights.values())
            if any(w <= 0 for w in self.weights.values()) or total > 1 + 1e-12:
                raise ValueError(f"setting weights must be > 0 and sum to at most 1; got {total}")

    def setting_weight(self, setting: str) -> float:
        """:math:`w_s`."""
        self._setting(setting)
        return 1.0 / len(self.dims) if self.weights is None else float(self.weights[setting])

    def choices(self, setting: str) -> dict[str, int]:
        """Number of options per dimension of ``setting`` (``describe_network``'s
        ``choices``)."""
        return {name: len(opts) for name, opts in self._setting(setting).items()}

    def size(self, setting: str) -> int:
        """Number of configurations of ``setting``."""
        return math.prod(self.choices(setting).values())

    def prior_bits(self, setting: str) -> float:
        r""":math:`\log_2(1/\pi(s, c)) = \log_2(1/w_s) + \sum_j \log_2 k_j`."""
        return -math.log2(self.setting_weight(setting)) + sum(
            math.log2(k) for k in self.choices(setting).values()
        )

    def options(self, setting: str, name: str) -> tuple[Any, ...]:
        """The declared options of one dimension."""
        dims = self._setting(setting)
        if name not in dims:
            raise ValueError(f"setting {setting!r} declares no dimension {name!r}")
        return dims[name]

    def check(self, setting: str, config: Mapping[str, Any]) -> None:
        """``ValueError`` unless every declared dimension has a declared value in ``config``."""
        for name, opts in self._setting(setting).items():
            if name not in config:
                raise ValueError(f"configuration of {setting!r} lacks dimension {name!r}")
            if config[name] not in opts:
                raise ValueError(
                    f"{name} = {config[name]!r} is not among the declared options {opts!r} "
                    f"of setting {setting!r}"
                )

    def to_dict(self) -> dict[str, Any]:
        """The grid as JSON-ready data (what was declared)."""
        return to_jsonable(
            {
                "settings": {s: {k: list(v) for k, v in d.items()} for s, d in self.dims.items()},
                "weights": {s: self.setting_weight(s) for s in self.dims},
                "prior_bits": {s: self.prior_bits(s) for s in self.dims},
            }
        )

    def _setting(self, setting: str) -> Mapping[str, tuple[Any, ...]]:
        if setting not in self.dims:
            raise ValueError(f"the grid declares no setting {setting!r}")
        return self.dims[setting]


@dataclass
class Certificate:
    """One certified network: its configuration, errors, description and bounds.

    ``bound`` is the exact binomial-tail Occam bound, ``bound_kl`` its kl relaxation;
    ``description`` is the :class:`~netcoreset.bounds.DescriptionLength` (choices included);
    ``network`` the certified :class:`~netcoreset.sampler.Quantization` (or subspace
    quantisation), not serialised.
    """

    setting: str
    config: dict[str, Any]
    n: int
    delta: float
    train_errors: int
    test_error: float | None
    nnz: int
    kept_fraction: float | None
    description: DescriptionLength
    bound: float
    bound_kl: float
    extra: dict[str, Any] = field(default_factory=dict)
    network: Any = field(default=None, repr=False, compare=False)

    @property
    def train_error(self) -> float:
        """:math:`k/n`."""
        return self.train_errors / self.n

    @property
    def description_bits(self) -> float:
        r""":math:`\ell(g)` in bits."""
        return self.description.total_bits

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: bound, errors, bits with the term breakdown, configuration."""
        return to_jsonable(
            {
                "setting": self.setting,
                "bound": self.bound,
                "bound_kl": self.bound_kl,
                "bound_form": "binomial",
                "train_error": self.train_error,
                "train_errors": self.train_errors,
                "test_error": self.test_error,
                "n": self.n,
                "delta": self.delta,
                "nnz": self.nnz,
                "kept_fraction": self.kept_fraction,
                "description_bits": self.description_bits,
                "terms_bits": self.description.breakdown(),
                "configuration": self.config,
                "description": self.description.to_dict(),
                **self.extra,
            }
        )


@torch.no_grad()
def count_errors(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 8192) -> int:
    r"""Number of points where the argmax of ``model``'s output differs from the label,
    :math:`k = |\{i : \arg\max_j g(x_i)_j \ne y_i\}|` (ties go to the lowest class index).

    >>> net = nn.Linear(2, 2, bias=False)
    >>> _ = net.weight.data.copy_(torch.eye(2))
    >>> count_errors(net, torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 0]))
    1
    """
    ref = next(model.parameters())
    wrong = 0
    for start in range(0, x.shape[0], batch):
        xb = x[start : start + batch].to(device=ref.device, dtype=ref.dtype)
        pred = model(xb).argmax(dim=1).cpu()
        wrong += int((pred != y[start : start + batch].cpu()).sum())
    return wrong


def _shapes(q: Quantization) -> list[tuple[int, int]]:
    return [tuple(int(s) for s in m.shape) for m in q.masks]  # type: ignore[misc]


def _describe(
    q: Quantization,
    declared: Sequence[int],
    value_coding: str,
    shape_code: str,
    choices: Mapping[str, int],
    setting_weight: float,
) -> DescriptionLength:
    """The code length of ``q`` under one (value coding, shape code)."""
    shapes = _shapes(q)
    nnz = [int(m.sum()) for m in q.masks]
    counts = [np.bincount(s, minlength=q.codebooks[q.codebook_of(i)].size)
              for i, s in enumerate(q.symbols)]  # fmt: skip
    kwargs: dict[str, Any] = dict(
        value_coding=value_coding,
        codebook="shared" if q.shared else "per_layer",
        codebook_kind="uniform" if q.scheme == "uniform" else "table",
        bits_per_codebook_value=_BITS_PER_LEVEL[q.codebook_dtype],
        choices=dict(choices),
        choice_weights={"setting": setting_weight},
        hidden_widths=[r for r, _ in shapes[:-1]],
    )
    if shape_code == "declared":
        slots = [(declared[i + 1], declared[i] + int(q.has_bias[i])) for i in range(len(shapes))]
        if any(r > sr or c > sc for (r, c), (sr, sc) in zip(shapes, slots, strict=True)):
            raise ValueError("the network is wider than its declared architecture")
        return describe_shrunk_network(slots, nnz, counts, q.levels, **kwargs)
    hidden_max = list(declared[1:-1])
    if shape_code == "shrunk":
        return describe_shrunk_network(shapes, nnz, counts, q.levels, max_widths=hidden_max,
                                       **kwargs)  # fmt: skip
    live = q.masks[0][:, : declared[0]].any(axis=0)
    n_live = int(live.sum())
    first = (shapes[0][0], max(n_live, 1) + shapes[0][1] - declared[0])
    return describe_shrunk_network([first, *shapes[1:]], nnz, counts, q.levels,
                                   max_widths=hidden_max, n_inputs=declared[0],
                                   live_inputs=n_live, **kwargs)  # fmt: skip


def _bounds(k: int, n: int, bits: float, delta: float) -> tuple[float, float]:
    return (occam_bound(k, n, bits, delta, form="binomial").bound,
            occam_bound(k, n, bits, delta, form="kl").bound)  # fmt: skip


def certify_quantization(
    quantization: Quantization,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    grid: SearchGrid,
    setting: str,
    config: Mapping[str, Any],
    declared_widths: Sequence[int],
    delta: float = 0.05,
    x_test: torch.Tensor | None = None,
    y_test: torch.Tensor | None = None,
    nnz_original: int | None = None,
) -> Certificate:
    r"""The certificate of a quantised network under ``grid``: every declared code
    option (:data:`CODE_DIMENSIONS`) is tried and the shortest code kept.

    ``config`` holds the search's choices (every declared dimension of ``setting`` except
    the code dimensions, which this function chooses). :math:`k` is recomputed from the
    quantised model's own predictions on ``x``; ``declared_widths`` is the architecture
    fixed in advance (input, hidden..., output).

    >>> from netcoreset.sampler import quantize
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    >>> x, y = torch.rand(500, 4), torch.randint(0, 2, (500,))
    >>> grid = SearchGrid({"paper": {"levels": (2, 4), "value_coding": ("fixed", "arithmetic"),
    ...                              "shape_code": ("declared", "shrunk")}})
    >>> c = certify_quantization(quantize(net, 4), x, y, grid=grid, setting="paper",
    ...                          config={"levels": 4}, declared_widths=[4, 3, 2])
    >>> c.train_errors == count_errors(quantize(net, 4).model, x, y), 0 < c.bound <= 1
    (True, True)
    """
    n = int(x.shape[0])
    code_dims = {d: grid.options(setting, d) for d in CODE_DIMENSIONS
                 if d in grid.dims[setting]}  # fmt: skip
    if "shape_code" in code_dims and not set(code_dims["shape_code"]) <= set(_SHAPE_CODES):
        raise ValueError(f"shape_code options must be among {_SHAPE_CODES}")
    full = {**dict(config), **{d: v[0] for d, v in code_dims.items()}}
    grid.check(setting, full)
    k = count_errors(quantization.model, x, y)
    best: tuple[float, DescriptionLength, dict[str, Any]] | None = None
    for coding in code_dims.get("value_coding", ("fixed",)):
        for shape in code_dims.get("shape_code", ("declared",)):
            d = _describe(quantization, declared_widths, coding, shape,
                          grid.choices(setting), grid.setting_weight(setting))  # fmt: skip
            if best is None or d.total_bits < best[0]:
                best = (d.total_bits, d, {"value_coding": coding, "shape_code": shape})
    assert best is not None
    bound, bound_kl = _bounds(k, n, best[0], delta)
    test = None if x_test is None or y_test is None else (
        count_errors(quantization.model, x_test, y_test) / int(x_test.shape[0]))  # fmt: skip
    return Certificate(
        setting=setting,
        config={
            **dict(config),
            **best[2],
            "levels_used": [int(c.size) for c in quantization.codebooks],
        },  # fmt: skip
        n=n,
        delta=delta,
        train_errors=k,
        test_error=test,
        nnz=quantization.nnz,
        kept_fraction=None if nnz_original is None else quantization.nnz / nnz_original,
        description=best[1],
        bound=bound,
        bound_kl=bound_kl,
        extra={
            "architecture_shapes": _shapes(quantization),
            "declared_widths": [int(w) for w in declared_widths],
        },  # fmt: skip
        network=quantization,
    )


def certify_subspace(
    symbols: np.ndarray,
    levels: int,
    codebook_dtype: str,
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    grid: SearchGrid,
    config: Mapping[str, Any],
    delta: float = 0.05,
    x_test: torch.Tensor | None = None,
    y_test: torch.Tensor | None = None,
    nnz_original: int | None = None,
) -> Certificate:
    r"""The certificate of a network :math:`\theta_0 + P z` whose :math:`d` coordinates are
    ``symbols`` of an ``levels``-level codebook: :math:`d` values (all non-zero slots, so no
    position bits), one codebook, the declared choices; :math:`\theta_0, P` cost nothing
    (fixed by a seed the grid declares).

    >>> net = nn.Sequential(nn.Linear(2, 2))
    >>> grid = SearchGrid({"subspace": {"dim": (3,), "value_coding": ("arithmetic",)}})
    >>> c = certify_subspace(np.array([0, 1, 1]), 2, "float32", net, torch.rand(50, 2),
    ...                      torch.randint(0, 2, (50,)), grid=grid, config={"dim": 3})
    >>> c.description.breakdown()["positions"]
    0.0
    """
    n, d = int(x.shape[0]), int(symbols.size)
    codings = grid.options("subspace", "value_coding") if "value_coding" in grid.dims[
        "subspace"] else ("fixed",)  # fmt: skip
    grid.check("subspace", {**dict(config), "value_coding": codings[0]})
    counts = np.bincount(symbols, minlength=levels)
    descs = [describe_network([d], [d], [counts], levels, value_coding=c,
                              bits_per_codebook_value=_BITS_PER_LEVEL[codebook_dtype],
                              choices=grid.choices("subspace"),
                              choice_weights={"setting": grid.setting_weight("subspace")})
             for c in codings]  # fmt: skip
    i = int(np.argmin([desc.total_bits for desc in descs]))
    k = count_errors(model, x, y)
    bound, bound_kl = _bounds(k, n, descs[i].total_bits, delta)
    test = None if x_test is None or y_test is None else (
        count_errors(model, x_test, y_test) / int(x_test.shape[0]))  # fmt: skip
    params = sum(int(lay.weight.numel()) + (0 if lay.bias is None else int(lay.bias.numel()))
                 for lay in linear_layers(model))  # fmt: skip
    return Certificate(
        setting="subspace",
        config={**dict(config), "value_coding": codings[i]},
        n=n,
        delta=delta,
        train_errors=k,
        test_error=test,
        nnz=d,
        kept_fraction=None if nnz_original is None else d / nnz_original,
        description=descs[i],
        bound=bound,
        bound_kl=bound_kl,
        extra={"network_parameters": params},
        network=model,
    )


def best_per_keep(certificates: Iterable[Certificate]) -> list[Certificate]:
    """The curve: per setting and budget (the configuration's ``keep``, or ``dim`` in a
    subspace), the certificate with the smallest bound, sorted by setting and budget.

    >>> best_per_keep([])
    []
    """
    best: dict[tuple[str, float], Certificate] = {}
    for c in certificates:
        key = (c.setting, float(c.config.get("keep", c.config.get("dim", -1))))
        if key not in best or c.bound < best[key].bound:
            best[key] = c
    return [best[k] for k in sorted(best)]


def code_variants(certificate: Certificate, grid: SearchGrid) -> dict[str, float]:
    """Bits of the certified network under every value coding and shape code (what each
    encoding idea saves), with the same choices paid for.

    >>> from netcoreset.sampler import quantize
    >>> net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    >>> grid = SearchGrid({"paper": {"levels": (4,)}})
    >>> c = certify_quantization(quantize(net, 4), torch.rand(50, 4), torch.randint(0, 2, (50,)),
    ...                          grid=grid, setting="paper", config={"levels": 4},
    ...                          declared_widths=[4, 3, 2])
    >>> sorted(code_variants(c, grid))[:2]
    ['arithmetic/declared', 'arithmetic/inputs']
    """
    q = certificate.network
    if not isinstance(q, Quantization):
        raise ValueError("code variants need a certificate of a Quantization")
    declared = certificate.extra["declared_widths"]
    out = {}
    for coding in ("fixed", "arithmetic"):
        for shape in _SHAPE_CODES:
            d = _describe(q, declared, coding, shape, grid.choices(certificate.setting),
                          grid.setting_weight(certificate.setting))  # fmt: skip
            out[f"{coding}/{shape}"] = d.total_bits
    return out


def summarize(certificates: Sequence[Certificate]) -> dict[str, Any]:
    """Best certificate overall and per setting, and the curve (:func:`best_per_keep`), as
    JSON-ready data.

    >>> summarize([])["best"] is None
    True
    """
    certs = list(certificates)
    best = min(certs, key=lambda c: c.bound) if certs else None
    per_setting = {}
    for setting in dict.fromkeys(c.setting for c in certs):
        sel = [c for c in certs if c.setting == setting]
        per_setting[setting] = min(sel, key=lambda c: c.bound).to_dict()
    curve = [
        {"setting": c.setting, "budget": c.config.get("keep", c.config.get("dim")),
         "kept_fraction": c.kept_fraction, "nnz": c.nnz, "bound": c.bound,
         "bound_kl": c.bound_kl, "train_error": c.train_error, "test_error": c.test_error,
         "description_bits": c.description_bits, "configuration": c.config}
        for c in best_per_keep(certs)
    ]  # fmt: skip
    return to_jsonable({
        "best": None if best is None else best.to_dict(),
        "best_per_setting": per_setting,
        "curve": curve,
        "evaluated": len(certs),
    })  # fmt: skip


def plot_certificates(
    certificates: Sequence[Certificate], path: str, title: str | None = None
) -> str:
    """Bound, training error and test error of the best certificate per budget against the
    percentage of weights kept, one colour per setting (log x-axis); returns ``path``.

    Draws on a bare :class:`matplotlib.figure.Figure` (Agg canvas, no pyplot state).

    >>> import os, tempfile
    >>> from netcoreset.sampler import quantize
    >>> net = nn.Sequential(nn.Linear(4, 2))
    >>> grid = SearchGrid({"paper": {"keep": (1.0,)}})
    >>> c = certify_quantization(quantize(net, 4), torch.rand(50, 4), torch.randint(0, 2, (50,)),
    ...     grid=grid, setting="paper", config={"keep": 1.0}, declared_widths=[4, 2],
    ...     nnz_original=10)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     os.path.getsize(plot_certificates([c], os.path.join(d, "c.png"))) > 0
    True
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4.8))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    curve = [c for c in best_per_keep(certificates) if c.kept_fraction is not None]
    colours = {"paper": "tab:blue", "retrained": "tab:orange", "subspace": "tab:green"}
    for setting in dict.fromkeys(c.setting for c in curve):
        sel = sorted((c for c in curve if c.setting == setting),
                     key=lambda c: float(c.kept_fraction or 0.0))  # fmt: skip
        xs = [100 * float(c.kept_fraction or 0.0) for c in sel]
        col = colours.get(setting, "k")
        ax.plot(xs, [c.bound for c in sel], "o-", color=col, label=f"{setting}: bound")
        ax.plot(xs, [c.train_error for c in sel], "s--", color=col, alpha=0.7, ms=4,
                label=f"{setting}: training error")  # fmt: skip
        if all(c.test_error is not None for c in sel):
            ax.plot(xs, [float(c.test_error or 0.0) for c in sel], "^:", color=col, alpha=0.7, ms=4,
                    label=f"{setting}: test error")  # fmt: skip
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set(xscale="log", xlabel="% of the parameters kept (subspace: d / D)",
           ylabel="error", ylim=(0, 1.02), title=title or "")  # fmt: skip
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


@torch.no_grad()
def margin_form(
    original: nn.Module,
    certificate: Certificate,
    x: torch.Tensor,
    y: torch.Tensor,
    gammas: Sequence[float],
) -> dict[str, Any]:
    r"""The margin form (Arora et al. 2018, Theorem 2.1) for a certified compression
    :math:`g` of ``original`` :math:`f`:
    :math:`L_0(g) \le \hat L_\gamma(f) + \sqrt{(q\ln r + b\ln 2 + \ln(1/\delta))/(2n)}`
    with :math:`\gamma` the smallest of the declared ``gammas`` with
    :math:`\max_{i,j}|f(x_i)_j - g(x_i)_j| \le \gamma/2`, :math:`q\log_2 r` the values and
    :math:`b` the rest of the certificate's code (positions, codebooks, choices) plus
    :math:`\log_2|\text{gammas}|`. ``applicable`` is false when no declared
    :math:`\gamma` is large enough. This is a separate bound at level :math:`\delta`.

    >>> from netcoreset.sampler import quantize
    >>> net = nn.Sequential(nn.Linear(4, 2))
    >>> x, y = torch.rand(100, 4), torch.randint(0, 2, (100,))
    >>> grid = SearchGrid({"paper": {"levels": (256,)}})
    >>> c = certify_quantization(quantize(net, 256), x, y, grid=grid, setting="paper",
    ...                          config={"levels": 256}, declared_widths=[4, 2])
    >>> m = margin_form(net, c, x, y, [0.01, 0.1, 1.0])
    >>> m["applicable"], m["gamma"] >= 2 * m["max_logit_deviation"]
    (True, True)
    """
    q = certificate.network
    if not isinstance(q, Quantization):
        raise ValueError("the margin form needs a certificate of a Quantization")
    gs = sorted(float(g) for g in gammas)
    if not gs or any(not math.isfinite(g) or g <= 0 for g in gs):
        raise ValueError(f"gammas must be positive finite numbers; got {list(gammas)!r}")
    ref = linear_layers(original)[0].weight
    xx = x.to(device=ref.device, dtype=ref.dtype)
    f = original(xx).double().cpu().numpy()
    g = q.model(xx.to(linear_layers(q.model)[0].weight.dtype)).double().cpu().numpy()
    dev = max_logit_deviation(f, g)
    ok = [gm for gm in gs if dev <= gm / 2]
    base = {"max_logit_deviation": dev, "gammas": gs}
    if not ok:
        return {**base, "applicable": False, "bound": None, "gamma": None}
    terms = certificate.description.breakdown()
    extra = (certificate.description_bits - terms["values"] - terms["count_tables"]
             - terms["coding_overhead"] + math.log2(len(gs)))  # fmt: skip
    k = margin_error_count(f, y.cpu().numpy(), ok[0])
    mb = margin_compression_bound(k, int(x.shape[0]), q.nnz, q.levels, certificate.delta,
                                  extra_bits=extra, gamma=ok[0])  # fmt: skip
    return {**base, "applicable": True, **mb.to_dict()}
