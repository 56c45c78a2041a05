r"""Deterministic builders of fully-connected ReLU networks and input batches.

The hypothesis strategies of :mod:`netcoreset.verification.strategies` draw the arguments of
these builders; the builders themselves are plain functions of a seed, so that a network
seen in a failing property test can be rebuilt exactly, and experiments can use them without
hypothesis. Every random number comes from a ``torch.Generator`` seeded with ``seed``; the
global torch RNG is never touched.

Weight laws (``weight_law=``), chosen to exercise the corners of the sampler:

``"gaussian"``
    :math:`W_{ij} \sim \mathcal N(0, 2/\eta^{\ell-1})` (He scaling), bias
    :math:`\sim \mathcal N(0, 0.1^2)`.
``"heavy_tailed"``
    Student-t with 2 degrees of freedom, :math:`t = Z / \sqrt{E}` with :math:`Z \sim \mathcal
    N(0,1)`, :math:`E \sim \operatorname{Exp}(1)`, scaled like ``gaussian`` and clipped to
    :math:`\pm 10^4` times the scale (infinite variance, but every weight finite).
``"sparse"``
    Gaussian weights of which exactly :math:`\lfloor n/4 \rfloor` of the :math:`n` entries of
    each weight matrix (and of each bias) are non-zero: at least three quarters are exactly
    zero (a small layer may be entirely zero).
``"all_positive"``
    :math:`W_{ij} = \sigma(|Z| + 0.05) > 0` and a positive bias: no negative parts at all.
``"near_cancelling"``
    Each row :math:`[W_{i,:}, b_i]` is made of pairs :math:`(w, -w(1+\tau))` with
    :math:`\tau \sim U(10^{-4}, 10^{-2})` at random positions (an odd entry out is
    :math:`\pm\tau' |w_1|`), so :math:`|\sum_j w_{ij}| \le 0.01 \sum_j |w_{ij}|` for every row
    of length :math:`\ge 2` (checked in float64): large cancellation :math:`\Delta_i(x)`.
``"dead_neurons"``
    Gaussian, except that in every hidden layer between 1 and :math:`\lceil\eta^\ell/2\rceil`
    neurons get strictly negative incoming weights and (with a bias) a strictly negative bias:
    they never fire on non-negative network inputs. Needs at least two weight layers. The dead
    indices are recorded (:func:`network_draw`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from netcoreset.bounds.validation import check_architecture, check_positive

__all__ = [
    "WEIGHT_LAWS",
    "INPUT_DISTRIBUTIONS",
    "NetworkDraw",
    "build_relu_network",
    "make_inputs",
    "network_draw",
    "layer_widths",
    "MAX_ELEMENTS",
]

WEIGHT_LAWS: tuple[str, ...] = (
    "gaussian",
    "heavy_tailed",
    "sparse",
    "all_positive",
    "near_cancelling",
    "dead_neurons",
)
"""The weight laws :func:`build_relu_network` knows."""

INPUT_DISTRIBUTIONS: tuple[str, ...] = ("nonnegative", "signed", "with_zero_rows")
"""The input distributions :func:`make_inputs` knows."""

_SEED_MAX = 2**32 - 1

#: Most entries one builder call allocates (an input batch, or one layer's weights): 10^8
#: float64 values are 800 MB.
MAX_ELEMENTS = 10**8
_DTYPES = (torch.float32, torch.float64)


@dataclass(frozen=True)
class NetworkDraw:
    """How a network of :func:`build_relu_network` was made (see :func:`network_draw`).

    Attributes
    ----------
    sizes : tuple of int
        Layer widths ``(in_features, hidden..., out_features)``.
    bias : bool
        Whether the ``Linear`` layers have a bias.
    weight_law : str
        One of :data:`WEIGHT_LAWS`.
    dtype : torch.dtype
        The parameters' dtype.
    seed : int
        The seed of the ``torch.Generator`` the weights came from.
    dead : tuple of tuple of int
        For ``weight_law="dead_neurons"``: the dead neuron indices of each hidden layer
        (``dead[k]`` belongs to the output of ``Linear`` number ``k``); empty otherwise.

    Examples
    --------
    >>> net = build_relu_network([4, 6, 2], weight_law="dead_neurons", seed=1)
    >>> draw = network_draw(net)
    >>> draw.sizes, draw.weight_law, len(draw.dead)
    ((4, 6, 2), 'dead_neurons', 1)
    """

    sizes: tuple[int, ...]
    bias: bool
    weight_law: str
    dtype: torch.dtype
    seed: int
    dead: tuple[tuple[int, ...], ...] = ()


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or not (0 <= seed <= _SEED_MAX):
        raise ValueError(f"seed must be an integer in [0, 2**32 - 1]; got {seed!r}")
    return int(seed)


def _check_dtype(dtype: Any) -> torch.dtype:
    if dtype not in _DTYPES:
        raise ValueError(f"dtype must be torch.float32 or torch.float64; got {dtype!r}")
    return dtype


def _check_choice(name: str, value: Any, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {tuple(allowed)!r}; got {value!r}")
    return str(value)


def _normal(gen: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=gen, dtype=torch.float64)


def _uniform(gen: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.rand(*shape, generator=gen, dtype=torch.float64)


def _keep_exactly(gen: torch.Generator, values: torch.Tensor, count: int) -> torch.Tensor:
    """Zero all but ``count`` entries of ``values`` chosen uniformly at random."""
    flat = torch.zeros(values.numel(), dtype=values.dtype)
    if count > 0:
        idx = torch.randperm(values.numel(), generator=gen)[:count]
        flat[idx] = values.reshape(-1)[idx]
    return flat.reshape(values.shape)


def _near_cancelling_rows(gen: torch.Generator, rows: int, length: int, scale: float):
    """Rows of pairs ``(w, -w (1 + tau))`` at random positions (see the module docstring)."""
    out = torch.zeros(rows, length, dtype=torch.float64)
    if length == 1:
        return _normal(gen, rows, 1) * scale
    pairs = length // 2
    v = _normal(gen, rows, pairs) * scale
    tau = 1e-4 + (1e-2 - 1e-4) * _uniform(gen, rows, pairs)
    perm = torch.argsort(_uniform(gen, rows, length), dim=1)
    out.scatter_(1, perm[:, 0 : 2 * pairs : 2], v)
    out.scatter_(1, perm[:, 1 : 2 * pairs : 2], -v * (1.0 + tau))
    if length % 2:
        tau_odd = 1e-4 + (1e-2 - 1e-4) * _uniform(gen, rows, 1)
        sign = torch.where(_uniform(gen, rows, 1) < 0.5, -1.0, 1.0).to(torch.float64)
        out.scatter_(1, perm[:, -1:], sign * tau_odd * v[:, :1].abs())
    return out


def _draw_layer(
    gen: torch.Generator, law: str, fan_in: int, fan_out: int, hidden: bool, bias: bool
) -> tuple[torch.Tensor, torch.Tensor, tuple[int, ...]]:
    scale = math.sqrt(2.0 / fan_in)
    dead: tuple[int, ...] = ()
    if law == "gaussian":
        w = _normal(gen, fan_out, fan_in) * scale
        b = _normal(gen, fan_out) * 0.1
    elif law == "heavy_tailed":
        z = _normal(gen, fan_out, fan_in + 1)
        e = (-torch.log1p(-_uniform(gen, fan_out, fan_in + 1))).clamp_min(1e-300)
        t = (z / e.sqrt()).clamp(-1e4, 1e4)
        w = t[:, :fan_in] * scale
        b = t[:, fan_in] * 0.1
    elif law == "sparse":
        w = _keep_exactly(gen, _normal(gen, fan_out, fan_in) * scale, (fan_out * fan_in) // 4)
        b = _keep_exactly(gen, _normal(gen, fan_out) * 0.1, fan_out // 4)
    elif law == "all_positive":
        w = (_normal(gen, fan_out, fan_in).abs() + 0.05) * scale
        b = (_normal(gen, fan_out).abs() + 0.05) * 0.1
    elif law == "near_cancelling":
        rows = _near_cancelling_rows(gen, fan_out, fan_in + int(bias), scale)
        w = rows[:, :fan_in].contiguous()
        b = rows[:, fan_in].contiguous() if bias else torch.zeros(fan_out, dtype=torch.float64)
    elif law == "dead_neurons":
        w = _normal(gen, fan_out, fan_in) * scale
        b = _normal(gen, fan_out) * 0.1
        if hidden:
            upper = max(1, math.ceil(fan_out / 2))
            count = int(torch.randint(1, upper + 1, (1,), generator=gen).item())
            idx = torch.randperm(fan_out, generator=gen)[:count].sort().values
            w[idx] = -(_normal(gen, count, fan_in).abs() + 0.05) * scale
            b[idx] = -(_normal(gen, count).abs() + 0.05) * 0.1
            dead = tuple(int(i) for i in idx.tolist())
    else:  # pragma: no cover - validated by the callers
        raise ValueError(f"weight_law must be one of {WEIGHT_LAWS!r}; got {law!r}")
    return w, b, dead


def build_relu_network(
    sizes: Sequence[int] | str,
    *,
    bias: bool = True,
    weight_law: str = "gaussian",
    dtype: torch.dtype = torch.float64,
    seed: int = 0,
) -> nn.Sequential:
    r"""Deterministically build ``Linear, ReLU, ..., Linear`` with weights of a given law.

    Layer :math:`\ell` maps :math:`\eta^{\ell-1}` inputs to :math:`\eta^\ell` outputs,

    .. math::

        z^\ell = W^\ell a^{\ell-1} + b^\ell,\qquad a^\ell = \max(z^\ell, 0)\ (\ell < L),
        \qquad f(x) = z^L,

    with :math:`W^\ell, b^\ell` drawn from ``weight_law`` (see the module docstring) by a
    ``torch.Generator`` seeded with ``seed``. The values are drawn in float64 and then cast,
    so the float32 network of a seed is the float64 one rounded. The global torch RNG is not
    used (the layers are created with :func:`torch.nn.utils.skip_init`).

    Parameters
    ----------
    sizes : sequence of int or str
        ``(in_features, hidden widths..., out_features)``, at least two entries.
    bias : bool, default True
    weight_law : str, default "gaussian"
        One of :data:`WEIGHT_LAWS`. ``"dead_neurons"`` needs at least one hidden layer.
    dtype : torch.float32 or torch.float64, default torch.float64
    seed : int, default 0
        In :math:`[0, 2^{32} - 1]`.

    Returns
    -------
    torch.nn.Sequential
        In evaluation mode with ``requires_grad=False`` parameters; :func:`network_draw`
        returns how it was made.

    Examples
    --------
    >>> net = build_relu_network((3, 4, 2), weight_law="all_positive", seed=1)
    >>> net
    Sequential(
      (0): Linear(in_features=3, out_features=4, bias=True)
      (1): ReLU()
      (2): Linear(in_features=4, out_features=2, bias=True)
    )
    >>> bool((net[0].weight > 0).all())
    True
    >>> torch.equal(net[2].weight, build_relu_network((3, 4, 2), weight_law="all_positive",
    ...                                               seed=1)[2].weight)
    True
    """
    sizes = check_architecture(sizes)
    if any(a * b > MAX_ELEMENTS for a, b in zip(sizes, sizes[1:], strict=False)):
        raise ValueError(f"sizes {sizes} give a layer of more than {MAX_ELEMENTS} weights")
    if not isinstance(bias, bool):
        raise ValueError(f"bias must be True or False; got {bias!r}")
    weight_law = _check_choice("weight_law", weight_law, WEIGHT_LAWS)
    dtype = _check_dtype(dtype)
    seed = _check_seed(seed)
    if weight_law == "dead_neurons" and len(sizes) < 3:
        raise ValueError(
            "weight_law='dead_neurons' needs at least one hidden layer (len(sizes) >= 3); "
            f"got sizes={sizes!r}"
        )
    gen = torch.Generator(device="cpu").manual_seed(seed)
    n_layers = len(sizes) - 1
    modules: list[nn.Module] = []
    dead_all: list[tuple[int, ...]] = []
    for k in range(n_layers):
        fan_in, fan_out = sizes[k], sizes[k + 1]
        hidden = k < n_layers - 1
        w, b, dead = _draw_layer(gen, weight_law, fan_in, fan_out, hidden, bias)
        lin = nn.utils.skip_init(nn.Linear, fan_in, fan_out, bias=bias, dtype=dtype)
        with torch.no_grad():
            lin.weight.copy_(w.to(dtype))
            if bias:
                lin.bias.copy_(b.to(dtype))
        lin.requires_grad_(False)
        modules.append(lin)
        if hidden:
            modules.append(nn.ReLU())
            if weight_law == "dead_neurons":
                dead_all.append(dead)
    model = nn.Sequential(*modules).eval()
    draw = NetworkDraw(
        sizes=sizes,
        bias=bias,
        weight_law=weight_law,
        dtype=dtype,
        seed=seed,
        dead=tuple(dead_all),
    )
    setattr(model, "_netcoreset_draw", draw)  # noqa: B010 - a plain attribute, not a Module
    return model


def network_draw(model: nn.Module) -> NetworkDraw | None:
    """The :class:`NetworkDraw` record of a network from :func:`build_relu_network`, else None.

    Examples
    --------
    >>> network_draw(build_relu_network((2, 5, 1), weight_law="dead_neurons", seed=3)).dead
    ((3, 4),)
    >>> network_draw(torch.nn.Linear(2, 1)) is None
    True
    """
    info = getattr(model, "_netcoreset_draw", None)
    return info if isinstance(info, NetworkDraw) else None


def layer_widths(model: nn.Module) -> tuple[int, ...]:
    r"""The architecture :math:`(\eta^1, \dots, \eta^L)` of a sequential ReLU network.

    Reads the ``nn.Linear`` layers in order (other modules are ignored), in the form
    :func:`netcoreset.bounds.check_architecture` and :func:`netcoreset.bounds.num_neurons`
    take.

    Raises
    ------
    ValueError
        If ``model`` has no ``Linear`` layer or consecutive layers do not chain.

    Examples
    --------
    >>> layer_widths(build_relu_network((784, 30, 10)))
    (784, 30, 10)
    """
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("model must contain at least one torch.nn.Linear layer")
    sizes = [linears[0].in_features]
    for lin in linears:
        if lin.in_features != sizes[-1]:
            raise ValueError(
                f"model's Linear layers do not chain: in_features={lin.in_features} after a "
                f"layer with {sizes[-1]} outputs"
            )
        sizes.append(lin.out_features)
    return tuple(sizes)


def make_inputs(
    n: int,
    in_features: int,
    *,
    distribution: str = "nonnegative",
    dtype: torch.dtype = torch.float64,
    scale: float = 1.0,
    seed: int = 0,
) -> torch.Tensor:
    r"""Deterministically make an ``(n, in_features)`` batch of finite inputs.

    ``"nonnegative"``
        :math:`x = \sigma |Z| \cdot B`, :math:`Z \sim \mathcal N(0,1)`, :math:`B \sim
        \operatorname{Bernoulli}(0.7)`: non-negative with about 30% exact zeros (like
        post-ReLU activations or images).
    ``"signed"``
        :math:`x = \sigma Z` (standardised data, which the sampler splits as :math:`x = x^+ - x^-`).
    ``"with_zero_rows"``
        ``"nonnegative"``, then between 1 and :math:`\max(1, \lfloor n/2 \rfloor)` whole rows set
        to zero (inputs on which every first-layer part without bias is inactive).

    Parameters
    ----------
    n, in_features : int
        Batch size and width, both ``>= 1``.
    distribution : str, default "nonnegative"
        One of :data:`INPUT_DISTRIBUTIONS`.
    dtype : torch.float32 or torch.float64, default torch.float64
    scale : float, default 1
        :math:`\sigma > 0`.
    seed : int, default 0
        In :math:`[0, 2^{32} - 1]`; values are drawn in float64, then cast.

    Examples
    --------
    >>> x = make_inputs(4, 3, distribution="with_zero_rows", seed=2)
    >>> x.shape, bool((x >= 0).all()), bool((x == 0).all(dim=1).any())
    (torch.Size([4, 3]), True, True)
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an integer >= 1; got {n!r}")
    if isinstance(in_features, bool) or not isinstance(in_features, int) or in_features < 1:
        raise ValueError(f"in_features must be an integer >= 1; got {in_features!r}")
    if n * in_features > MAX_ELEMENTS:
        raise ValueError(f"n * in_features = {n * in_features} exceeds {MAX_ELEMENTS} entries")
    distribution = _check_choice("distribution", distribution, INPUT_DISTRIBUTIONS)
    dtype = _check_dtype(dtype)
    scale = check_positive("scale", scale)
    if scale > 1e30:  # |Z| reaches about 6; beyond this float32 inputs overflow
        raise ValueError(f"scale must be <= 1e30; got {scale!r}")
    seed = _check_seed(seed)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    z = _normal(gen, n, in_features) * scale
    if distribution == "signed":
        return z.to(dtype)
    x = z.abs() * (_uniform(gen, n, in_features) < 0.7)
    if distribution == "with_zero_rows":
        count = int(torch.randint(1, max(1, n // 2) + 1, (1,), generator=gen).item())
        x[torch.randperm(n, generator=gen)[:count]] = 0.0
    return x.to(dtype)
