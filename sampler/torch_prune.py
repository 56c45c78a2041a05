r"""CoreNet and the baselines on the ``nn.Linear`` layers of any module, as masks.

:func:`prune_linear` is the :mod:`torch.nn.utils.prune`-style entry point: it takes the model
the user has (any :class:`~torch.nn.Module`, with any ``forward``), captures the inputs of its
``Linear`` layers with forward hooks, compresses them with a method of
:mod:`netcoreset.sampler.methods`, and attaches the result with
:func:`torch.nn.utils.prune.custom_from_mask`: each pruned layer gets ``weight_orig`` (and
``bias_orig``), a ``weight_mask`` (and ``bias_mask``) buffer and a forward pre-hook, so that
``module.weight`` is ``weight_orig * weight_mask`` and :func:`torch.nn.utils.prune.remove`
makes it permanent. A sampled weight :math:`\hat w_j = c_j w_j/(m q_j)` is reweighted, so the
mask holds the factor :math:`c_j/(m q_j)` of every kept weight and 0 for a dropped one (1 for
magnitude pruning, which does not reweight). CoreNet+ and CoreNet++ first remove the hidden
neurons inactive on :math:`S`: a removed neuron's row (weights and bias) and the matching
column of the next layer get mask 0. :func:`~netcoreset.sampler.compress` stays the entry
point for a new ``nn.Sequential``.

When the guarantee applies
--------------------------
CoreNet's theorem (Baykal et al., 2019, Theorem 4) is about a chain
:math:`z^{\ell} = W^{\ell} \mathrm{ReLU}(z^{\ell-1}) + b^{\ell}`. :func:`prune_linear` checks
this structure on the data it is given: every chosen layer is called once per forward pass,
and the input of each is exactly the ReLU of the previous one's output. When the check holds
and the budget is global (or ``eps`` is given), the chosen layers are compressed by
:func:`~netcoreset.sampler.compress` (the same draws, bit for bit, as on an ``nn.Sequential``
of the layers, and the same ``certificate`` options), and a certificate speaks of the
**output of the last chosen layer** as a function of the **input of the first** (what the
model does before and after them is not covered). The check is made on the given points, not
proved for every input. Otherwise (a branch, a skip connection, another activation, a subset
of the layers that skips one, per-layer budgets) each layer is sampled from its own
sensitivities on :math:`S`: a heuristic importance sampler, without a certificate. CoreNet+
and CoreNet++ are refused there: a neuron is inactive, and its outgoing edges unused, only
relative to a chain's next layer.
"""

from __future__ import annotations

import copy
import sys
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize, prune

from netcoreset.bounds import sensitivity_set_size

from ._model import as_inputs
from .allocation import PartTable, solve_budget
from .config import CompressionConfig
from .core import _generators, compress
from .methods import LayerTask, get_method
from .result import CompressionResult
from .sensitivity import empirical_sensitivity

__all__ = ["LinearPruning", "prune_linear", "PRUNABLE_METHODS"]

#: The methods :func:`~netcoreset.sampler.prune_linear` applies: those whose result is a
#: factor per weight (SVD is not sparse: use :func:`~netcoreset.sampler.compress` for it).
#: CoreNet+ and CoreNet++ remove neurons, so they need a verified ``Linear -> ReLU`` chain
#: and a global budget.
PRUNABLE_METHODS: tuple[str, ...] = (
    "corenet", "corenet+", "corenet++", "uniform", "l1", "l2", "magnitude",
)  # fmt: skip

#: The methods that remove the neurons inactive on :math:`S` before sampling.
_NEURON_METHODS = ("corenet+", "corenet++")

#: Points per traced forward pass of the user's model.
_BATCH = 1024


@dataclass
class LinearPruning:
    """What :func:`~netcoreset.sampler.prune_linear` did.

    Attributes
    ----------
    model : torch.nn.Module
        The pruned model: the caller's own (``inplace=True``) or a deep copy.
    layers : list of str
        The pruned layers' names in ``model``, in the order the forward pass calls them.
    masks : dict
        Per layer name, the boolean mask of the weights kept (``weight_mask != 0``).
    chain : bool
        Whether the layers were found to form a ``Linear -> ReLU -> ... -> Linear`` chain on
        the data (the condition of CoreNet's guarantee).
    reason : str or None
        Why they were not (``None`` when they were).
    budget : str
        ``"global"`` or ``"layer"``.
    nnz_original, nnz : int
        Non-zero weights and biases of the chosen layers, before and after.
    expected : dict
        Per layer name, the budget's expected number of kept weights and biases (the draws are
        random; :attr:`expected_nnz` is their sum).
    compression : ~netcoreset.sampler.CompressionResult or None
        The report and certificate of :func:`~netcoreset.sampler.compress` (verified chain,
        global budget); ``None`` otherwise.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    >>> res = prune_linear(net, torch.rand(200, 8), keep=0.5, seed=0)
    >>> res.layers, res.chain, res.nnz <= res.nnz_original, sorted(res.masks)
    (['0', '2'], True, True, ['0', '2'])
    """

    model: nn.Module
    layers: list[str]
    masks: dict[str, torch.Tensor]
    chain: bool
    reason: str | None
    budget: str
    nnz_original: int
    nnz: int
    expected: dict[str, float]
    compression: CompressionResult | None = field(default=None, repr=False)

    @property
    def expected_nnz(self) -> float:
        """The expected number of kept weights and biases over the chosen layers."""
        return float(sum(self.expected.values()))

    @property
    def certified_eps(self) -> float | None:
        """The certified :math:`\\varepsilon` (``None`` without a certificate)."""
        return None if self.compression is None else self.compression.report.certified_eps

    @property
    def certified_delta(self) -> float | None:
        """The failure probability the certificate holds at (``None`` without one)."""
        return None if self.compression is None else self.compression.report.certified_delta


# --- choosing the layers -------------------------------------------------------------------


def _choose_layers(model: nn.Module, layers: Sequence[str | nn.Linear] | None) -> list[str]:
    """Names of the chosen ``nn.Linear`` layers (default: all of them), validated."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    names = {id(mod): name for name, mod in model.named_modules()}
    if layers is None:
        chosen = [name for name, mod in model.named_modules() if isinstance(mod, nn.Linear)]
        if not chosen:
            raise ValueError(f"model ({type(model).__name__}) has no nn.Linear layer")
    else:
        if isinstance(layers, (str, nn.Module)):
            layers = [layers]
        chosen = [_layer_name(model, names, item) for item in layers]
        if not chosen:
            raise ValueError("layers must list at least one nn.Linear layer")
        if len(set(chosen)) < len(chosen):
            raise ValueError(f"layers lists a layer twice: {chosen}")
    weights: dict[int, str] = {}
    for name in chosen:
        mod = _linear(model, name)
        if parametrize.is_parametrized(mod):
            raise ValueError(
                f"layer {name!r} is parametrized (torch.nn.utils.parametrize): remove its "
                "parametrizations first"
            )
        if not torch.is_floating_point(mod.weight):
            raise ValueError(f"layer {name!r}: weight must be a floating-point tensor")
        if id(mod.weight) in weights:
            raise ValueError(
                f"layers {weights[id(mod.weight)]!r} and {name!r} share their weight (tied "
                "weights): one mask cannot serve both"
            )
        weights[id(mod.weight)] = name
    return chosen


def _linear(model: nn.Module, name: str) -> nn.Linear:
    mod = model.get_submodule(name)
    assert isinstance(mod, nn.Linear)  # checked by _choose_layers
    return mod


def _layer_name(model: nn.Module, names: dict[int, str], item: str | nn.Module) -> str:
    if isinstance(item, str):
        try:
            mod = model.get_submodule(item)
        except AttributeError:
            raise ValueError(f"model has no submodule named {item!r}") from None
        name = item
    elif isinstance(item, nn.Module):
        if id(item) not in names:
            raise ValueError(f"layer {item!r} is not a submodule of the model")
        mod, name = item, names[id(item)]
    else:
        raise ValueError(f"layers must hold names or nn.Linear modules; got {type(item).__name__}")
    if not isinstance(mod, nn.Linear):
        raise ValueError(f"layer {name!r} is a {type(mod).__name__}, not an nn.Linear")
    return name


# --- tracing the forward pass --------------------------------------------------------------


@dataclass
class _Call:
    layer: int
    inputs: torch.Tensor
    outputs: torch.Tensor


@contextmanager
def _recording(modules: Sequence[nn.Module]) -> Iterator[list[_Call]]:
    """Forward hooks recording each call's input and output (copies: an in-place ReLU after
    a layer would otherwise change them), in eval mode; the modes are restored after."""
    calls: list[_Call] = []

    def hook_for(idx: int) -> Any:
        def hook(_mod: nn.Module, args: tuple[Any, ...], out: Any) -> None:
            if not args or not isinstance(args[0], torch.Tensor):
                raise ValueError("a chosen nn.Linear layer was called without a tensor input")
            calls.append(_Call(idx, args[0].detach().clone(), out.detach().clone()))

        return hook

    handles = [mod.register_forward_hook(hook_for(idx)) for idx, mod in enumerate(modules)]
    try:
        yield calls
    finally:
        for handle in handles:
            handle.remove()


@contextmanager
def _eval_mode(model: nn.Module) -> Iterator[None]:
    modes = [(mod, mod.training) for mod in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for mod, mode in modes:
            mod.training = mode


def _chain_order(
    calls: Sequence[_Call], names: Sequence[str], rows: int
) -> tuple[list[int], str | None]:
    """The layers' call order, and why one forward pass is not a Linear+ReLU chain of them
    (``None`` when it is)."""
    order = [c.layer for c in calls]
    if sorted(order) != list(range(len(names))):
        return order, "the chosen layers are not each called exactly once per forward pass"
    for k, call in enumerate(calls):
        name = names[call.layer]
        if call.inputs.ndim != 2 or call.inputs.shape[0] != rows:
            return order, (
                f"layer {name!r} takes inputs of shape {tuple(call.inputs.shape)}, not one row "
                f"per data point ({rows})"
            )
        if k and not torch.equal(call.inputs, torch.relu(calls[k - 1].outputs)):
            before = names[calls[k - 1].layer]
            return order, (
                f"the input of layer {name!r} is not the ReLU of the output of {before!r}, the "
                "chosen layer called before it"
            )
    return order, None


def _trace(
    model: nn.Module, modules: Sequence[nn.Module], names: Sequence[str], x: torch.Tensor
) -> tuple[list[int], str | None, torch.Tensor]:
    """One pass over ``x`` in batches: the call order, why the layers are not a chain, and
    the first layer's inputs of every point (empty unless they are a chain)."""
    order: list[int] = []
    firsts: list[torch.Tensor] = []
    reason: str | None = None
    with torch.no_grad(), _eval_mode(model), _recording(modules) as calls:
        for b0 in range(0, x.shape[0], _BATCH):
            calls.clear()
            model(x[b0 : b0 + _BATCH])
            order, reason = _chain_order(calls, names, min(_BATCH, x.shape[0] - b0))
            if reason is not None:
                return order, reason, x[:0]
            firsts.append(calls[0].inputs)
    return order, None, torch.cat(firsts)


def _layer_inputs(
    model: nn.Module, modules: Sequence[nn.Module], x: torch.Tensor
) -> list[torch.Tensor]:
    """Every chosen layer's inputs on ``x``, one row per call and position (a layer applied
    to ``(n, ..., in)`` contributes its rows; one called twice, both calls')."""
    per_layer: list[list[torch.Tensor]] = [[] for _ in modules]
    with torch.no_grad(), _eval_mode(model), _recording(modules) as calls:
        for b0 in range(0, x.shape[0], _BATCH):
            calls.clear()
            model(x[b0 : b0 + _BATCH])
            for call in calls:
                per_layer[call.layer].append(call.inputs.reshape(-1, call.inputs.shape[-1]))
    for idx, parts in enumerate(per_layer):
        if not parts:
            raise ValueError(
                f"layer {idx} of the chosen layers is never called by the forward pass"
            )
    return [torch.cat(parts) for parts in per_layer]


# --- budgets -------------------------------------------------------------------------------


def _nonzeros(mod: nn.Linear) -> int:
    bias = 0 if mod.bias is None else int(torch.count_nonzero(mod.bias))
    return int(torch.count_nonzero(mod.weight)) + bias


def _layer_targets(
    keep: float | Mapping[str, float] | None,
    nnz: int | None,
    names: Sequence[str],
    modules: Sequence[nn.Linear],
    budget: str,
) -> list[float] | float:
    """The global budget (a number) or one budget per layer (a list), validated."""
    counts = [_nonzeros(m) for m in modules]
    if isinstance(keep, Mapping):
        unknown = sorted(set(keep) - set(names))
        if unknown or set(keep) != set(names):
            raise ValueError(
                f"keep must give a fraction for each chosen layer {list(names)}; got {sorted(keep)}"
            )
        for name in names:
            CompressionConfig.create(keep=keep[name])  # validates the fraction
        return [float(keep[n]) * c for n, c in zip(names, counts, strict=True)]
    if budget == "layer":
        if keep is None:
            raise ValueError("budget='layer' takes keep (a fraction, or one per layer)")
        return [float(keep) * c for c in counts]
    return float(nnz) if nnz is not None else float(keep or 0.0) * sum(counts)


def _progress(items: Iterable[int], enabled: bool | None) -> Iterable[int]:
    from tqdm.auto import tqdm

    disable = (not sys.stderr.isatty()) if enabled is None else (not enabled)
    return tqdm(items, desc="prune_linear", disable=disable, leave=False)


# --- sampling ------------------------------------------------------------------------------


def _heuristic_draws(
    tables: Sequence[PartTable], targets: list[float] | float, delta: float, eta: int
) -> list[np.ndarray]:
    """Draws of every layer: one shared :math:`\\varepsilon` for a global budget, one per
    layer for per-layer budgets (the same :math:`\\varepsilon_\\ell` rule as ``compress``'s
    budget mode with ``allocation="uniform"``; the constants cancel in the solved budget)."""
    groups = (
        [(list(range(len(tables))), float(targets))]
        if not isinstance(targets, list)
        else [([idx], t) for idx, t in enumerate(targets)]
    )
    draws: list[np.ndarray] = [np.zeros(0)] * len(tables)
    for idx, target in groups:
        sub = [tables[i] for i in idx]
        _, found, expected, capped = solve_budget(
            sub, target, np.ones(len(sub)), delta, eta, 1.0, False, [1.0] * len(sub)
        )
        if capped:
            warnings.warn(
                f"budget of {target:.6g} weights exceeds the {expected:.6g} that can be sampled "
                "(positive sensitivity on S): keeping all of those",
                stacklevel=6,  # the caller of prune_linear (through torch.no_grad's wrapper)
            )
        for i, m in zip(idx, found, strict=True):
            draws[i] = m
    return draws


def _sample_each_layer(
    modules: Sequence[nn.Linear],
    inputs: Sequence[torch.Tensor],
    method: str,
    targets: list[float] | float,
    delta: float,
    generator: torch.Generator,
    progress: bool | None,
) -> tuple[list[torch.Tensor], list[float]]:
    """Every layer sampled from its own sensitivities on :math:`S` (bias as the last column);
    returns the new ``[W, b]`` of each and its expected number kept."""
    entry = get_method(method)
    sens = [
        empirical_sensitivity(m.weight.detach(), _bias(m), a)
        for m, a in zip(modules, inputs, strict=True)
    ]
    tables = [PartTable.from_sensitivity(s) for s in sens]
    eta = sum(m.out_features for m in modules)
    draws = _heuristic_draws(tables, targets, delta, eta)
    out: list[torch.Tensor] = []
    expected: list[float] = []
    for idx in _progress(range(len(modules)), progress):
        mod = modules[idx]
        kept = tables[idx].expected_kept(draws[idx])
        task = LayerTask(mod.weight.detach(), _bias(mod), sens[idx], draws[idx], kept, None, None,
                         generator)  # fmt: skip
        out.append(entry.compress_layer(task).weight_full)
        expected.append(kept)
    return out, expected


def _bias(mod: nn.Linear) -> torch.Tensor | None:
    return None if mod.bias is None else mod.bias.detach()


def _full(mod: nn.Linear) -> torch.Tensor:
    """``[W, b]`` of a layer (the bias as the last column)."""
    w = mod.weight.detach()
    return w if mod.bias is None else torch.cat([w, mod.bias.detach()[:, None]], dim=1)


def _check_expressible(name: str, mod: nn.Linear, new_full: torch.Tensor) -> None:
    """A mask multiplies: it cannot make a zero weight or bias non-zero."""
    if bool(((_full(mod) == 0) & (new_full != 0)).any()):
        raise ValueError(
            f"layer {name!r}: the method made a zero weight or bias non-zero (CoreNet+ folds a "
            "constant neuron into the next layer's bias), which no mask expresses: use compress"
        )


def _attach(mod: nn.Linear, new_full: torch.Tensor) -> torch.Tensor:
    """Register the factors ``new / old`` as the prune masks of the layer's weight and bias;
    returns the boolean mask of the kept weights."""
    old = _full(mod)
    factor = torch.where(old != 0, new_full / torch.where(old != 0, old, 1), 0).to(old.dtype)
    cols = mod.in_features
    prune.custom_from_mask(mod, "weight", factor[:, :cols])
    if mod.bias is not None:
        prune.custom_from_mask(mod, "bias", factor[:, cols].contiguous())
    return factor[:, :cols] != 0


def _from_compress(res: CompressionResult, modules: Sequence[nn.Linear]) -> list[torch.Tensor]:
    """``[W, b]`` of every chosen layer in its own shape: the compressed model's values at the
    kept neurons' rows and columns (:attr:`~CompressionResult.kept_neurons`), 0 elsewhere."""
    lins = [m for m in res.model.modules() if isinstance(m, nn.Linear)]
    kept = res.kept_neurons
    assert kept is not None  # compress records them
    out: list[torch.Tensor] = []
    for idx, (mod, lin) in enumerate(zip(modules, lins, strict=True)):
        dev = mod.weight.device
        rows = kept[idx] if idx < len(kept) else torch.arange(mod.out_features)
        cols = kept[idx - 1] if idx > 0 else torch.arange(mod.in_features)
        if mod.bias is not None:
            cols = torch.cat([cols, torch.tensor([mod.in_features])])
        full = torch.zeros_like(_full(mod))
        full[rows.to(dev)[:, None], cols.to(dev)[None, :]] = _full(lin)
        out.append(full)
    return out


def _prepare(
    model: nn.Module, data: Any, layers: Sequence[str | nn.Linear] | None, inplace: bool
) -> tuple[nn.Module, list[str], torch.Tensor]:
    names = _choose_layers(model, layers)
    for name in names:
        if prune.is_pruned(model.get_submodule(name)) or hasattr(
            model.get_submodule(name), "weight_orig"
        ):
            raise ValueError(
                f"layer {name!r} is already pruned: call torch.nn.utils.prune.remove on it first"
            )
    ref = _linear(model, names[0]).weight
    x = as_inputs(data, name="data")
    x = x.to(device=ref.device, dtype=ref.dtype) if x.is_floating_point() else x.to(ref.device)
    work = model if inplace else copy.deepcopy(model)
    return work, names, x


def _not_chain(reason: str | None, budget: str) -> str | None:
    if reason is not None:
        return reason
    return "per-layer budgets are not the theorem's allocation" if budget == "layer" else None


@torch.no_grad()
def prune_linear(
    model: nn.Module,
    data: torch.Tensor | np.ndarray,
    *,
    method: str = "corenet",
    keep: float | Mapping[str, float] | None = None,
    nnz: int | None = None,
    eps: float | None = None,
    delta: float = 0.1,
    budget: Literal["global", "layer"] = "global",
    layers: Sequence[str | nn.Linear] | None = None,
    inplace: bool = False,
    sensitivity_set_size: int | None = None,
    seed: int | None = None,
    generator: torch.Generator | None = None,
    progress: bool | None = None,
    **options: Any,
) -> LinearPruning:
    r"""Prune the ``nn.Linear`` layers of any module with CoreNet or a baseline, as masks.

    The inputs of the chosen layers are captured with forward hooks while ``model`` runs on
    ``data`` (so any ``forward`` works; traced in eval mode). CoreNet draws, for every part
    (the positive or the negative weights of one neuron, bias included) of a layer, :math:`m`
    edges i.i.d. from :math:`q_j = s_j/\mathcal{S}`, with :math:`s_j` the edge's empirical
    sensitivity on the points :math:`S`, and keeps

    .. math::

        \hat w_j = w_j \cdot \frac{c_j}{m\,q_j}, \qquad
        c \sim \mathrm{Multinomial}(m, q), \qquad \mathbb{E}[\hat w_j] = w_j ;

    the factor :math:`c_j/(m q_j)` is the layer's ``weight_mask``, as
    :func:`torch.nn.utils.prune.custom_from_mask` attaches it. CoreNet+ and CoreNet++ first
    remove every hidden neuron :math:`i` of layer :math:`\ell` with
    :math:`z^{\ell}_i(x) \le 0` for all :math:`x \in S`: its row of :math:`W^{\ell}`, its
    bias and column :math:`i` of :math:`W^{\ell+1}` get mask 0 (the kept neurons are
    ``res.compression.kept_neurons``).

    **When the guarantee applies**: if every chosen layer runs once per forward pass and each
    one's input is the ReLU of the previous one's output on every point of ``data`` (a chain),
    and the budget is global, the layers are compressed by
    :func:`~netcoreset.sampler.compress`, whose certificate (Baykal et al., 2019, Theorem 4
    [1]_; ``certificate=...`` in ``options``) bounds the relative error of the last chosen
    layer's output. Otherwise the result is a heuristic importance sampler without a
    certificate: a warning says so when the structure check fails.

    Parameters
    ----------
    model : torch.nn.Module
        Any module whose ``forward`` takes a batch ``data[i:j]``; modified only with
        ``inplace=True``.
    data : torch.Tensor or numpy.ndarray
        Inputs of the model, one row per point: :math:`S` (and the held-out points) come from
        them.
    method : str, default "corenet"
        One of :data:`~netcoreset.sampler.PRUNABLE_METHODS`; ``"corenet+"`` and
        ``"corenet++"`` only on a verified chain with a global budget.
    keep, nnz, eps : optional
        Exactly one. ``keep``: the fraction in (0, 1] of the chosen layers' non-zero weights
        and biases to keep in expectation, or a dict giving one fraction per layer name
        (per-layer budgets); ``nnz``: their number (global budget); ``eps``: CoreNet's
        guarantee mode (a verified chain only).
    delta : float, default 0.1
        The failure probability :math:`\delta`.
    budget : {"global", "layer"}, default "global"
        One budget over all chosen layers (the shared :math:`\varepsilon` of ``compress``'s
        budget mode) or ``keep`` applied to each layer separately.
    layers : sequence of str or torch.nn.Linear, optional
        The layers to prune, by name or module (default: every ``nn.Linear``).
    inplace : bool, default False
        Prune ``model`` itself instead of a deep copy.
    sensitivity_set_size : int, optional
        :math:`|S|` (default: :func:`netcoreset.bounds.sensitivity_set_size`, capped at the
        data).
    seed, generator : int or torch.Generator, optional
        Source of all randomness; the same seed gives the same masks bit for bit on CPU.
    progress : bool, optional
        Progress bars (default: on a terminal).
    **options
        Further arguments of :func:`~netcoreset.sampler.compress` (``K``, ``certificate``,
        ...), for a verified chain with a global budget.

    Returns
    -------
    ~netcoreset.sampler.LinearPruning
        The pruned model, the masks, whether the chain was verified, and the certificate.

    Raises
    ------
    ValueError
        A layer that is not an ``nn.Linear`` of the model, already pruned, parametrized or
        sharing its weight; a method of another kind; ``eps``, ``options``, CoreNet+ or
        CoreNet++ without a verified chain and a global budget; bad budgets or data.

    References
    ----------
    .. [1] C. Baykal, L. Liebenwein, I. Gilitschenski, D. Feldman, D. Rus, "Data-Dependent
       Coresets for Compressing Neural Networks with Applications to Generalization Bounds",
       ICLR 2019.

    Examples
    --------
    A model with its own ``forward`` over named ``Linear`` attributes:

    >>> import torch
    >>> from torch import nn
    >>> class Net(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden, self.out = nn.Linear(20, 30), nn.Linear(30, 5)
    ...     def forward(self, x):
    ...         return self.out(torch.relu(self.hidden(x)))
    >>> net = Net()
    >>> x = torch.rand(300, 20, generator=torch.Generator().manual_seed(0))
    >>> res = prune_linear(net, x, keep=0.3, seed=0)
    >>> res.layers, res.chain, round(res.expected_nnz / res.nnz_original, 3)
    (['hidden', 'out'], True, 0.3)
    >>> sorted(name for name, _ in res.model.hidden.named_buffers())
    ['bias_mask', 'weight_mask']
    >>> net.hidden is not res.model.hidden and not hasattr(net.hidden, "weight_mask")
    True
    """
    _check_method(method)
    if budget not in ("global", "layer"):
        raise ValueError(f"budget must be 'global' or 'layer'; got {budget!r}")
    if isinstance(keep, Mapping):
        budget = "layer"
    if budget == "layer" and (eps is not None or nnz is not None):
        raise ValueError(
            "per-layer budgets take keep (a fraction, or one per layer), not eps or nnz"
        )
    fraction = None if isinstance(keep, Mapping) else keep
    # validates the shared arguments, naming the bad one
    CompressionConfig.create(
        method=method, eps=eps, delta=delta, nnz=nnz, seed=seed,
        keep=1.0 if isinstance(keep, Mapping) else keep,
        sensitivity_set_size=sensitivity_set_size,
    )  # fmt: skip
    work, names, x = _prepare(model, data, layers, inplace)
    modules = [_linear(work, n) for n in names]
    order, reason, firsts = _trace(work, modules, names, x)
    if reason is None:
        names, modules = [names[i] for i in order], [modules[i] for i in order]
    why = _not_chain(reason, budget)
    if why is not None and method.lower() in _NEURON_METHODS:
        raise ValueError(
            f"method {method!r} removes the neurons inactive on S (a layer's rows and the next "
            f"chained layer's columns), so it needs a verified Linear+ReLU chain and a global "
            f"budget; here {why}"
        )
    if why is not None and (eps is not None or options):
        given = sorted(options) + (["eps"] if eps is not None else [])
        raise ValueError(f"{given} need a verified Linear+ReLU chain and a global budget: {why}")
    targets = _layer_targets(keep, nnz, names, modules, budget)
    nnz_before = sum(_nonzeros(m) for m in modules)
    comp = None
    if why is None:
        comp = compress(
            work, firsts, method=method, keep=fraction, nnz=nnz, eps=eps, delta=delta,
            layers=modules, sensitivity_set_size=sensitivity_set_size, seed=seed,
            generator=generator, progress=progress, **options,
        )  # fmt: skip
        new = _from_compress(comp, modules)
        expected = [lay.expected_kept for lay in comp.report.layers]
    else:
        if reason is not None:
            warnings.warn(
                f"{why}: CoreNet's guarantee needs a Linear+ReLU chain, so each layer is "
                "sampled from its own sensitivities on S, a heuristic without a certificate",
                stacklevel=3,
            )
        new, expected = _heuristic(
            work, modules, x, method, targets, delta, sensitivity_set_size,
            (seed, generator), progress,
        )  # fmt: skip
    for n, m, f in zip(names, modules, new, strict=True):
        _check_expressible(n, m, f)  # before any layer is changed
    masks = {n: _attach(m, f) for n, m, f in zip(names, modules, new, strict=True)}
    return LinearPruning(
        model=work, layers=names, masks=masks, chain=reason is None, reason=reason,
        budget=budget, nnz_original=nnz_before,
        expected={n: float(e) for n, e in zip(names, expected, strict=True)},
        nnz=sum(int(torch.count_nonzero(f)) for f in new), compression=comp,
    )  # fmt: skip


def _check_method(method: Any) -> None:
    if not isinstance(method, str) or method.lower() not in PRUNABLE_METHODS:
        raise ValueError(
            f"method must be one of {PRUNABLE_METHODS} (SVD is not sparse: use compress for "
            f"it); got {method!r}"
        )


def _heuristic(
    model: nn.Module,
    modules: Sequence[nn.Linear],
    x: torch.Tensor,
    method: str,
    targets: list[float] | float,
    delta: float,
    s_size: int | None,
    randomness: tuple[int | None, torch.Generator | None],
    progress: bool | None,
) -> tuple[list[torch.Tensor], list[float]]:
    r""":math:`S` drawn uniformly without replacement from ``x`` (size
    :func:`netcoreset.bounds.sensitivity_set_size` over the chosen layers unless given,
    capped at the data), the layers' inputs on it, and every layer sampled."""
    cpu_gen, dev_gen, _ = _generators(*randomness, modules[0].weight.device)
    if s_size is None:
        outs = [m.out_features for m in modules]
        widest = max(max(outs), max(m.in_features + 1 for m in modules))
        s_size = sensitivity_set_size(sum(outs), widest, delta, 3.0)
    perm = torch.randperm(x.shape[0], generator=cpu_gen)[: min(s_size, x.shape[0])]
    inputs = _layer_inputs(model, modules, x[perm.to(x.device)])
    return _sample_each_layer(modules, inputs, method, targets, delta, dev_gen, progress)
