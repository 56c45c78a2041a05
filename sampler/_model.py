"""Access to fully-connected ReLU networks: validation and reconstruction.

CoreNet's theory covers networks :math:`z^\\ell = W^\\ell a^{\\ell-1} + b^\\ell`,
:math:`a^\\ell = \\mathrm{ReLU}(z^\\ell)` for hidden layers and a linear output layer. This
module turns a user's :class:`torch.nn.Module` into the ordered list of its
:class:`torch.nn.Linear` layers, refusing anything the theory does not cover.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

import numpy as np
import torch
from torch import nn

__all__ = [
    "linear_layers",
    "build_sequential",
    "forward_activations",
    "as_inputs",
    "starts_with_flatten",
]

_SKIPPED = (nn.Dropout, nn.Identity)


def _all_finite(tensor: torch.Tensor) -> bool:
    """No NaN or inf, without a tensor-sized temporary (``isfinite(t).all()`` allocates about
    twice the tensor's bytes): the minimum and maximum propagate NaN."""
    if tensor.numel() == 0:
        return True
    low, high = torch.aminmax(tensor.detach())
    return bool(torch.isfinite(low)) and bool(torch.isfinite(high))


def _check_finite(layers: Sequence[nn.Linear]) -> None:
    for idx, layer in enumerate(layers):
        for name, tensor in (("weight", layer.weight), ("bias", layer.bias)):
            if tensor is None:
                continue
            if tensor.device.type == "meta":
                raise ValueError(
                    f"layer {idx} ({layer!r}): {name} is on the meta device (a shape without "
                    "values): materialise the weights first"
                )
            if not torch.is_floating_point(tensor):
                raise ValueError(f"layer {idx} ({layer!r}): {name} must be a floating-point tensor")
            if not _all_finite(tensor):
                raise ValueError(f"layer {idx} ({layer!r}): {name} contains NaN or inf")


def _check_chain(layers: Sequence[nn.Linear]) -> None:
    seen: set[int] = set()
    for idx, layer in enumerate(layers):
        if not isinstance(layer, nn.Linear):
            raise ValueError(
                f"layer {idx} is {type(layer).__name__}; CoreNet covers only nn.Linear layers"
            )
        if id(layer.weight) in seen:
            raise ValueError(f"layer {idx} shares its weight with an earlier layer (tied weights)")
        seen.add(id(layer.weight))
        if idx and layer.in_features != layers[idx - 1].out_features:
            raise ValueError(
                f"shape mismatch: layer {idx} expects {layer.in_features} inputs but layer "
                f"{idx - 1} produces {layers[idx - 1].out_features}"
            )
    devices = {layer.weight.device for layer in layers}
    dtypes = {layer.weight.dtype for layer in layers}
    if len(devices) > 1 or len(dtypes) > 1:
        raise ValueError(f"all layers must share one device and dtype; got {devices} and {dtypes}")


def linear_layers(model: nn.Module, layers: Sequence[nn.Linear] | None = None) -> list[nn.Linear]:
    r"""The ordered :class:`~torch.nn.Linear` layers of a fully-connected ReLU network.

    Accepted: an :class:`~torch.nn.Sequential` (nested ones are flattened) of ``Linear`` and
    ``ReLU`` alternating, ending with ``Linear``; an optional ``Flatten`` first;
    ``Dropout`` and ``Identity`` anywhere (skipped). For any other module pass ``layers``,
    the ordered list of its ``Linear`` layers; the network is then taken to be
    :math:`\mathrm{Linear} \to \mathrm{ReLU} \to \cdots \to \mathrm{Linear}`.

    Raises
    ------
    ValueError
        Naming the offending layer: another layer type (convolution, batch norm, another
        activation, ...), a missing or doubled ReLU, tied weights, NaN/inf weights, or a
        shape mismatch between consecutive layers.

    Examples
    --------
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    >>> [tuple(layer.weight.shape) for layer in linear_layers(net)]
    [(3, 4), (2, 3)]
    >>> linear_layers(nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2)))
    Traceback (most recent call last):
    ...
    ValueError: module 1 (Tanh) is not supported: CoreNet covers Linear layers with ReLU activations
    """
    if layers is not None:
        out = list(layers)
        if not out:
            raise ValueError("layers must list at least one nn.Linear")
        _check_chain(out)
        _check_finite(out)
        return out
    if not isinstance(model, nn.Sequential):
        raise ValueError(
            f"model is a {type(model).__name__}, not nn.Sequential: pass layers=[...] with its "
            "nn.Linear layers in order"
        )

    def flat(mod: nn.Module) -> list[nn.Module]:
        if isinstance(mod, nn.Sequential):
            return [m for child in mod for m in flat(child)]
        return [mod]

    modules = flat(model)
    out = []
    expect_linear = True
    for idx, mod in enumerate(modules):
        if isinstance(mod, _SKIPPED):
            continue
        if isinstance(mod, nn.Flatten):
            if out:
                raise ValueError(
                    f"module {idx} (Flatten) is only supported before the first Linear"
                )
            continue
        if isinstance(mod, nn.Linear):
            if not expect_linear:
                raise ValueError(
                    f"module {idx} (Linear) follows a Linear without a ReLU in between"
                )
            out.append(mod)
            expect_linear = False
            continue
        if isinstance(mod, nn.ReLU):
            if expect_linear:
                raise ValueError(f"module {idx} (ReLU) must follow a Linear layer")
            expect_linear = True
            continue
        raise ValueError(
            f"module {idx} ({type(mod).__name__}) is not supported: CoreNet covers Linear layers "
            "with ReLU activations"
        )
    if not out:
        raise ValueError("model contains no nn.Linear layer")
    if expect_linear:
        raise ValueError("model ends with a ReLU: the output layer must be a Linear (the logits)")
    _check_chain(out)
    _check_finite(out)
    return out


def build_sequential(
    weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor | None]
) -> nn.Sequential:
    """A new ``Linear -> ReLU -> ... -> Linear`` network holding copies of the given tensors.

    >>> import torch
    >>> net = build_sequential([torch.ones(3, 2), torch.ones(1, 3)], [torch.zeros(3), None])
    >>> net
    Sequential(
      (0): Linear(in_features=2, out_features=3, bias=True)
      (1): ReLU()
      (2): Linear(in_features=3, out_features=1, bias=False)
    )
    """
    mods: list[nn.Module] = []
    for idx, (w, b) in enumerate(zip(weights, biases, strict=True)):
        # skip_init: no random initialisation, so the global RNG is left alone
        lin = nn.utils.skip_init(
            nn.Linear, w.shape[1], w.shape[0], bias=b is not None, device=w.device, dtype=w.dtype
        )
        with torch.no_grad():
            lin.weight.copy_(w)
            if b is not None:
                lin.bias.copy_(b)
        mods.append(lin)
        if idx < len(weights) - 1:
            mods.append(nn.ReLU())
    return nn.Sequential(*mods)


class AffineLayer(Protocol):
    """Anything with a ``weight`` ``(out, in)`` and a ``bias`` (or None): an
    ``nn.Linear`` or an :class:`Affine`."""

    @property
    def weight(self) -> torch.Tensor: ...

    @property
    def bias(self) -> torch.Tensor | None: ...


class Affine(NamedTuple):
    """A layer's tensors without a module (building ``nn.Linear`` modules costs more than a
    small network's forward pass).

    >>> Affine(torch.ones(2, 3), None).weight.shape
    torch.Size([2, 3])
    """

    weight: torch.Tensor
    bias: torch.Tensor | None


@torch.no_grad()
def forward_activations(
    layers: Sequence[AffineLayer], x: torch.Tensor
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    r"""Inputs :math:`a^{\ell-1}(x)` and pre-activations :math:`z^\ell(x)` of every layer.

    Returns ``(inputs, preacts)``: ``inputs[l]`` is the input of ``layers[l]`` (``x`` itself
    for the first) and ``preacts[l]`` its output before the ReLU.

    >>> import torch
    >>> lin = torch.nn.Linear(2, 2)
    >>> ins, zs = forward_activations([lin], torch.ones(5, 2))
    >>> ins[0].shape, zs[0].shape
    (torch.Size([5, 2]), torch.Size([5, 2]))
    """
    inputs, preacts = [], []
    a = x
    for idx, layer in enumerate(layers):
        inputs.append(a)
        z = torch.nn.functional.linear(a, layer.weight, layer.bias)
        preacts.append(z)
        a = torch.relu(z) if idx < len(layers) - 1 else z
    return inputs, preacts


def starts_with_flatten(model: nn.Module) -> bool:
    """Whether ``model`` is an ``nn.Sequential`` whose first module is ``nn.Flatten``.

    >>> starts_with_flatten(nn.Sequential(nn.Flatten(), nn.Linear(4, 2)))
    True
    """
    if not isinstance(model, nn.Sequential):
        return False
    first = next(iter(model.children()), None)
    while isinstance(first, nn.Sequential):
        first = next(iter(first.children()), None)
    return isinstance(first, nn.Flatten)


def _finite_extremes(t: torch.Tensor) -> bool:
    """Whether a non-empty floating-point tensor is finite, from its maximum and minimum."""
    low, high = torch.aminmax(t)
    return bool(torch.isfinite(low)) and bool(torch.isfinite(high))


def as_inputs(
    data: Any,
    *,
    name: str = "data",
    like: torch.Tensor | None = None,
    features: int | None = None,
    flatten: bool = False,
) -> torch.Tensor:
    r"""Validate a batch of inputs and move it to ``like``'s device and dtype.

    ``data`` (a tensor or numpy array, one row per input) must be non-empty, real and finite.
    With ``features`` the rows must have that many entries: inputs of shape ``(n, ...)`` are
    flattened to ``(n, features)`` when ``flatten`` is true (a model that starts with
    ``nn.Flatten``) and refused otherwise. Without ``features`` any shape ``(n, ...)`` is kept.

    Raises
    ------
    ValueError
        Naming ``name`` and the problem: not an array, empty, complex or boolean, a shape
        mismatch, NaN or inf.

    Examples
    --------
    >>> as_inputs(np.ones((3, 2, 2)), features=4, flatten=True).shape
    torch.Size([3, 4])
    >>> as_inputs(torch.ones(3, 5), features=4)
    Traceback (most recent call last):
    ...
    ValueError: shape mismatch: data has shape (3, 5) but the first layer expects 4 input features
    """
    if isinstance(data, np.ndarray):
        try:
            data = torch.from_numpy(np.ascontiguousarray(data))
        except TypeError as exc:
            raise ValueError(f"{name} must be a numeric array; got dtype {data.dtype}") from exc
    if not isinstance(data, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor or numpy array; got {type(data).__name__}")
    if data.ndim == 0 or data.shape[0] == 0:
        raise ValueError(f"{name} is empty: pass at least one input point")
    if data.is_complex() or data.dtype == torch.bool:
        raise ValueError(f"{name} must be real-valued; got dtype {data.dtype}")
    if features is not None:
        if data.ndim > 2:
            if not flatten:
                raise ValueError(
                    f"{name} has shape {tuple(data.shape)}; expected (n, {features}) "
                    "(or a model that starts with nn.Flatten)"
                )
            data = data.reshape(data.shape[0], -1)
        if data.ndim == 1 or data.shape[1] != features:
            raise ValueError(
                f"shape mismatch: {name} has shape {tuple(data.shape)} but the first layer "
                f"expects {features} input features"
            )
    elif data.ndim < 2:
        raise ValueError(
            f"{name} must have shape (n, ...) with one row per input; got {tuple(data.shape)}"
        )
    if like is not None and (like.is_floating_point() or features is not None):
        data = data.to(device=like.device, dtype=like.dtype)
    # the extremes propagate NaN and show inf: no data-sized temporary
    if data.is_floating_point() and data.numel() and not _finite_extremes(data):
        raise ValueError(f"{name} contains NaN or inf")
    return data
