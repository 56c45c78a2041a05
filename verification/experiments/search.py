r"""The best-certificate search in three settings, over a grid declared before the data.

* :func:`search_paper` (the paper's setting): compress a trained network with
  :func:`~netcoreset.sampler.compress` at each declared method, keep ratio and seed, remove
  the hidden units that no longer matter (:func:`~.shrink.remove_dead_units`), quantise
  (:func:`~netcoreset.sampler.quantize`) and certify. No training after compression.
* :func:`search_retrained`: the same masks, then the surviving weights are retrained with
  the mask fixed (:func:`~.retrain.retrain_masked`) and quantised with the quantiser in the
  loop and the codebook tuned (:func:`~.retrain.quantization_aware_retrain`).
* :func:`search_subspace`: the reference for what the data allow, training
  :math:`\theta_0 + P z` in a random subspace fixed by a declared seed
  (:mod:`~.subspace`).

Each network is certified by :func:`~.certificate.certify_quantization` (or
:func:`~.certificate.certify_subspace`): its own training errors, its code length under the
grid (every declared dimension paid for), the Occam bound. Which configurations are
*evaluated* may be a subset of those declared (``plan``): the union bound covers all
declared ones, evaluated or not.

Architectures may start with a fixed average pooling of square images
(:class:`Architecture`), a preprocessing chosen in advance that costs no bits; the
certified classifier is then :math:`x \mapsto g(\mathrm{pool}(x))`.
"""

from __future__ import annotations

import itertools
import math
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from netcoreset.sampler import compress, linear_layers, quantize

from .certificate import (
    CODE_DIMENSIONS,
    Certificate,
    SearchGrid,
    certify_quantization,
    certify_subspace,
)
from .retrain import quantization_aware_retrain, retrain_masked
from .shrink import remove_dead_units
from .subspace import SubspaceSpec, quantize_subspace, train_subspace

__all__ = [
    "Architecture",
    "pool_inputs",
    "search_paper",
    "search_retrained",
    "search_subspace",
    "parameter_count",
]


def pool_inputs(x: torch.Tensor, factor: int) -> torch.Tensor:
    r"""Average pooling of flattened square images by ``factor`` (``factor = 1``: ``x``).

    :math:`(n, s^2) \to (n, (s/f)^2)`, each output the mean of an :math:`f\times f` block.

    >>> pool_inputs(torch.arange(16.0).reshape(1, 16), 2).tolist()
    [[2.5, 4.5, 10.5, 12.5]]
    """
    if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
        raise ValueError(f"pool factor must be an integer >= 1; got {factor!r}")
    if factor == 1:
        return x
    side = math.isqrt(x.shape[1])
    if side * side != x.shape[1] or side % factor:
        raise ValueError(
            f"pooling by {factor} needs square images whose side divides by it; "
            f"got {x.shape[1]} features"
        )
    img = x.reshape(-1, 1, side, side)
    return nn.functional.avg_pool2d(img, factor).flatten(1)


@dataclass(frozen=True)
class Architecture:
    """A declared architecture: hidden widths, after an optional fixed input pooling.

    >>> a = Architecture("p2-16", (16,), pool=2)
    >>> a.widths(784, 10)
    [196, 16, 10]
    """

    name: str
    hidden: tuple[int, ...]
    pool: int = 1

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        """The inputs the network reads (pooled when ``pool > 1``)."""
        return pool_inputs(x, self.pool)

    def widths(self, n_inputs: int, n_classes: int) -> list[int]:
        """Input, hidden and output widths for raw inputs of ``n_inputs`` features."""
        side = math.isqrt(n_inputs)
        d = n_inputs if self.pool == 1 else (side // self.pool) ** 2
        return [d, *self.hidden, n_classes]


def parameter_count(model: nn.Module) -> int:
    """Weights and biases of the linear layers (the non-zeros of a dense net).

    >>> parameter_count(nn.Sequential(nn.Linear(3, 2)))
    8
    """
    return sum(lay.weight.numel() + (0 if lay.bias is None else lay.bias.numel())
               for lay in linear_layers(model))  # fmt: skip


def _configs(
    grid: SearchGrid, setting: str, plan: Mapping[str, Sequence[Any]] | None
) -> Iterator[dict[str, Any]]:
    """Every evaluated configuration (code dimensions excluded): the declared options, or
    the ``plan``'s subset of them."""
    dims = {k: v for k, v in grid.dims[setting].items() if k not in CODE_DIMENSIONS}
    for name, opts in (plan or {}).items():
        if name not in dims:
            raise ValueError(f"plan names {name!r}, not a declared dimension of {setting!r}")
        missing = [o for o in opts if o not in dims[name]]
        if missing:
            raise ValueError(f"plan options {missing!r} of {name!r} are not declared")
        dims[name] = tuple(opts)
    names = list(dims)
    for values in itertools.product(*(dims[n] for n in names)):
        yield dict(zip(names, values, strict=True))


def _bar(total: int, desc: str) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not sys.stderr.isatty(), leave=False)


def _compressed(
    model: nn.Module, x: torch.Tensor, method: str, keep: float, seed: int
) -> nn.Sequential | None:
    """The compressed network without its dead units; ``None`` when the budget is below
    what the method can keep (one edge per active part)."""
    if keep >= 1.0:
        return remove_dead_units(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            res = compress(model, x, method=method, keep=keep, seed=seed, progress=False)
        except ValueError as exc:
            if "below the minimum" in str(exc):
                return None
            raise
    return remove_dead_units(res.model)


def _grouped(
    grid: SearchGrid,
    setting: str,
    plan: Mapping[str, Sequence[Any]] | None,
    outer: Sequence[str],
) -> dict[tuple[Any, ...], list[dict[str, Any]]]:
    """Configurations grouped by their values of the ``outer`` dimensions (one compression
    per group)."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for cfg in _configs(grid, setting, plan):
        groups.setdefault(tuple(cfg[o] for o in outer), []).append(cfg)
    return groups


def _in_worker(fn: Callable[..., list[Certificate]], args: tuple[Any, ...]) -> list[Certificate]:
    torch.set_num_threads(1)  # as in a serial run: the same arithmetic, bit for bit
    return fn(*args)


def _run_groups(
    tasks: Sequence[tuple[Callable[..., list[Certificate]], tuple[Any, ...], int]],
    desc: str,
    executor: Executor | None,
) -> list[Certificate]:
    """Run one function call per group (``(fn, args, configurations)``), serially or through
    ``executor``; the certificates in the serial order. Every group seeds its own randomness,
    so the results do not depend on where it runs."""
    bar = _bar(sum(t[2] for t in tasks), desc)
    futures = [executor.submit(_in_worker, fn, args) for fn, args, _ in tasks] if executor else []
    out: list[Certificate] = []
    for i, (fn, args, size) in enumerate(tasks):
        out += futures[i].result() if futures else fn(*args)
        bar.update(size)
    bar.close()
    return out


def _paper_group(
    model: nn.Module,
    arch: Architecture,
    data: tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None],
    grid: SearchGrid,
    compression: tuple[str, float, int],
    cfgs: list[dict[str, Any]],
    delta: float,
) -> list[Certificate]:
    x, y, x_test, y_test = data
    xin = arch.transform(x)
    xt = None if x_test is None else arch.transform(x_test)
    declared = arch.widths(x.shape[1], _classes(model))
    method, keep, seed = compression
    net = _compressed(model, xin, method, keep, seed)
    if net is None:
        return []
    out = []
    for cfg in cfgs:
        q = quantize(net, cfg["levels"], scheme=cfg["quantizer"],
                     shared=cfg["codebook"] == "shared",
                     codebook_dtype=cfg["codebook_dtype"])  # fmt: skip
        out.append(certify_quantization(
            q, xin, y, grid=grid, setting="paper", config=cfg, declared_widths=declared,
            delta=delta, x_test=xt, y_test=y_test, nnz_original=parameter_count(model),
        ))  # fmt: skip
    return out


def search_paper(
    models: Mapping[str, nn.Module],
    architectures: Mapping[str, Architecture],
    x: torch.Tensor,
    y: torch.Tensor,
    grid: SearchGrid,
    *,
    delta: float = 0.05,
    x_test: torch.Tensor | None = None,
    y_test: torch.Tensor | None = None,
    plan: Mapping[str, Sequence[Any]] | None = None,
    executor: Executor | None = None,
) -> list[Certificate]:
    """The paper's setting: compress, quantise, certify (no training after compression).

    ``models[name]`` is the trained network of ``architectures[name]`` (reading
    ``architectures[name].transform(x)``). The grid's ``"paper"`` setting must declare
    ``architecture``, ``method``, ``keep``, ``seed``, ``levels``, ``quantizer``,
    ``codebook`` (``"per_layer"``/``"shared"``) and ``codebook_dtype``; code dimensions
    (:data:`~.certificate.CODE_DIMENSIONS`) are optional. With an ``executor`` (a process
    pool, a Dask ``Client.get_executor()``), each compression and its quantisations run there;
    the certificates are those of the serial search, in the same order.

    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> net = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2))
    >>> x, y = torch.rand(300, 4), torch.randint(0, 2, (300,))
    >>> grid = SearchGrid({"paper": {"architecture": ("a",), "method": ("corenet",),
    ...     "keep": (0.5, 1.0), "seed": (0,), "levels": (4,), "quantizer": ("kmeans",),
    ...     "codebook": ("per_layer",), "codebook_dtype": ("float32",)}})
    >>> certs = search_paper({"a": net}, {"a": Architecture("a", (6,))}, x, y, grid)
    >>> len(certs), sorted(c.config["keep"] for c in certs)
    (2, [0.5, 1.0])
    """
    groups = _grouped(grid, "paper", plan, ("architecture", "method", "keep", "seed"))
    data = (x, y, x_test, y_test)
    tasks = [
        (_paper_group, (models[a], architectures[a], data, grid, (m, k, s), cfgs, delta), len(cfgs))
        for (a, m, k, s), cfgs in groups.items()
    ]
    return _run_groups(tasks, "paper setting", executor)


def _classes(model: nn.Module) -> int:
    return int(linear_layers(model)[-1].out_features)


def _retrained_group(
    model: nn.Module,
    arch: Architecture,
    data: tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None],
    grid: SearchGrid,
    compression: tuple[str, float, int, int],
    cfgs: list[dict[str, Any]],
    delta: float,
    rates: tuple[float, float, int],
) -> list[Certificate]:
    x, y, x_test, y_test = data
    (method, keep, seed, epochs), (lr, qat_lr, batch_size) = compression, rates
    xin = arch.transform(x)
    xt = None if x_test is None else arch.transform(x_test)
    declared = arch.widths(x.shape[1], _classes(model))
    net = _compressed(model, xin, method, keep, seed)
    if net is None:
        return []
    net = remove_dead_units(retrain_masked(net, xin, y, epochs=epochs, lr=lr, seed=seed,
                                           batch_size=batch_size))  # fmt: skip
    out = []
    for cfg in cfgs:
        q = quantization_aware_retrain(
            net, xin, y, cfg["levels"], epochs=cfg["qat_epochs"], lr=qat_lr, seed=seed,
            batch_size=batch_size, codebook_dtype=cfg["codebook_dtype"])  # fmt: skip
        out.append(certify_quantization(
            q, xin, y, grid=grid, setting="retrained", config=cfg,
            declared_widths=declared, delta=delta, x_test=xt, y_test=y_test,
            nnz_original=parameter_count(model)))  # fmt: skip
    return out


def search_retrained(
    models: Mapping[str, nn.Module],
    architectures: Mapping[str, Architecture],
    x: torch.Tensor,
    y: torch.Tensor,
    grid: SearchGrid,
    *,
    delta: float = 0.05,
    x_test: torch.Tensor | None = None,
    y_test: torch.Tensor | None = None,
    plan: Mapping[str, Sequence[Any]] | None = None,
    lr: float = 3e-3,
    qat_lr: float = 3e-3,
    batch_size: int = 128,
    executor: Executor | None = None,
) -> list[Certificate]:
    """Compression, then retraining with the mask fixed, quantisation-aware training with
    the codebook tuned, and the certificate.

    The ``"retrained"`` setting must declare ``architecture``, ``method``, ``keep``,
    ``seed``, ``retrain_epochs``, ``levels``, ``qat_epochs`` and ``codebook_dtype``.
    ``executor`` as in :func:`search_paper`.

    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> net = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2))
    >>> x, y = torch.rand(200, 4), torch.randint(0, 2, (200,))
    >>> grid = SearchGrid({"retrained": {"architecture": ("a",), "method": ("magnitude",),
    ...     "keep": (0.5,), "seed": (0,), "retrain_epochs": (1,), "levels": (4,),
    ...     "qat_epochs": (1,), "codebook_dtype": ("float16",)}})
    >>> [c.setting for c in search_retrained({"a": net}, {"a": Architecture("a", (6,))},
    ...                                      x, y, grid)]
    ['retrained']
    """
    outer = ("architecture", "method", "keep", "seed", "retrain_epochs")
    groups = _grouped(grid, "retrained", plan, outer)
    data = (x, y, x_test, y_test)
    rates = (lr, qat_lr, batch_size)
    tasks = [
        (
            _retrained_group,
            (models[a], architectures[a], data, grid, (m, k, s, e), cfgs, delta, rates),
            len(cfgs),
        )  # fmt: skip
        for (a, m, k, s, e), cfgs in groups.items()
    ]
    return _run_groups(tasks, "retrained setting", executor)


def _subspace_group(
    arch: Architecture,
    data: tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None],
    grid: SearchGrid,
    subspace: tuple[int, int, int],
    cfgs: list[dict[str, Any]],
    delta: float,
    train: tuple[float, float, int, int, int],
) -> list[Certificate]:
    x, y, x_test, y_test = data
    (dim, basis_seed, epochs), (lr, qat_lr, batch_size, seed, n_classes) = subspace, train
    xin = arch.transform(x)
    xt = None if x_test is None else arch.transform(x_test)
    spec = SubspaceSpec(tuple(arch.widths(x.shape[1], n_classes)), dim, basis_seed)
    z = train_subspace(spec, xin, y, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed)
    out = []
    for cfg in cfgs:
        sq = quantize_subspace(spec, z, xin, y, cfg["levels"], epochs=cfg["qat_epochs"],
                               lr=qat_lr, batch_size=batch_size, seed=seed,
                               codebook_dtype=cfg["codebook_dtype"])  # fmt: skip
        cert = certify_subspace(
            sq.symbols, cfg["levels"], cfg["codebook_dtype"], sq.model, xin, y, grid=grid,
            config=cfg, delta=delta, x_test=xt, y_test=y_test,
            nnz_original=spec.num_params)  # fmt: skip
        cert.network = sq  # spec, codebook and symbols: what a stored code holds
        out.append(cert)
    return out


def search_subspace(
    architectures: Mapping[str, Architecture],
    x: torch.Tensor,
    y: torch.Tensor,
    grid: SearchGrid,
    *,
    n_classes: int,
    delta: float = 0.05,
    x_test: torch.Tensor | None = None,
    y_test: torch.Tensor | None = None,
    plan: Mapping[str, Sequence[Any]] | None = None,
    lr: float = 0.05,
    qat_lr: float = 0.005,
    batch_size: int = 256,
    seed: int = 0,
    executor: Executor | None = None,
) -> list[Certificate]:
    """Train in random subspaces, quantise the coordinates, certify.

    The ``"subspace"`` setting must declare ``architecture``, ``dim``, ``basis_seed``,
    ``epochs``, ``levels``, ``qat_epochs`` and ``codebook_dtype``. ``executor`` as in
    :func:`search_paper`.

    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> x, y = torch.rand(200, 4), torch.randint(0, 2, (200,))
    >>> grid = SearchGrid({"subspace": {"architecture": ("a",), "dim": (5,),
    ...     "basis_seed": (0,), "epochs": (1,), "levels": (2, 4), "qat_epochs": (1,),
    ...     "codebook_dtype": ("float16",)}})
    >>> certs = search_subspace({"a": Architecture("a", (6,))}, x, y, grid, n_classes=2)
    >>> [c.config["levels"] for c in certs]
    [2, 4]
    """
    outer = ("architecture", "dim", "basis_seed", "epochs")
    groups = _grouped(grid, "subspace", plan, outer)
    data = (x, y, x_test, y_test)
    train = (lr, qat_lr, batch_size, seed, n_classes)
    tasks = [
        (
            _subspace_group,
            (architectures[a], data, grid, (d, b, e), cfgs, delta, train),
            len(cfgs),
        )  # fmt: skip
        for (a, d, b, e), cfgs in groups.items()
    ]
    return _run_groups(tasks, "subspace setting", executor)
