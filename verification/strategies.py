r"""Hypothesis strategies for property tests of network compression.

The strategies draw small fully-connected ReLU networks (``nn.Sequential`` of ``Linear`` and
``ReLU``), batches of inputs for them, and CoreNet parameter sets. They are what the
netcoreset test-suite uses, and they are public so that you can write your own property tests
of :func:`netcoreset.sampler.compress` or of any other compression routine.

Every random number comes from a ``torch.Generator`` seeded with an integer that hypothesis
draws: the global torch RNG is never touched, a failing example replays exactly, and
hypothesis shrinks a failure towards seed 0 and towards small, shallow networks. The default
sizes are small (1 to 3 weight layers, widths 1 to 12) so that a property test runs in
seconds; every size parameter accepts a larger strategy.

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

Example
-------
A property test of your own (here: an all-positive network never has a negative part, so
every pre-activation on non-negative inputs is positive):

>>> import torch
>>> from hypothesis import given, settings
>>> from netcoreset.verification.strategies import network_and_inputs
>>> @settings(max_examples=10, deadline=None, derandomize=True, database=None)
... @given(network_and_inputs(weight_law="all_positive", distribution="nonnegative"))
... def test_all_positive(model_and_x):
...     model, x = model_and_x
...     assert bool((model[0](x) > 0).all())
>>> test_all_positive()

With :func:`netcoreset.sampler.compress` (a sketch; ``compression_params`` draws the rest)::

    @given(network_and_inputs(n=st.just(64)), compression_params(method="corenet"))
    def test_never_grows(model_and_x, p):
        model, x = model_and_x
        res = compress(model, x, method=p["method"], eps=p["eps"], delta=p["delta"], seed=0)
        assert res.nnz <= res.nnz_original
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from torch import nn

from netcoreset.bounds._validation import check_architecture, check_open_unit, check_positive

__all__ = [
    "WEIGHT_LAWS",
    "INPUT_DISTRIBUTIONS",
    "METHODS",
    "NetworkDraw",
    "build_relu_network",
    "make_inputs",
    "network_draw",
    "layer_widths",
    "relu_networks",
    "input_batches",
    "network_and_inputs",
    "compression_params",
]

WEIGHT_LAWS: tuple[str, ...] = (
    "gaussian",
    "heavy_tailed",
    "sparse",
    "all_positive",
    "near_cancelling",
    "dead_neurons",
)
"""The weight laws :func:`relu_networks` and :func:`build_relu_network` know."""

INPUT_DISTRIBUTIONS: tuple[str, ...] = ("nonnegative", "signed", "with_zero_rows")
"""The input distributions :func:`input_batches` and :func:`make_inputs` know."""

METHODS: tuple[str, ...] = ("corenet", "uniform", "l1", "l2", "magnitude", "svd")
"""The compression methods of :func:`netcoreset.sampler.compress`."""

_SEED_MAX = 2**32 - 1
_DTYPES = (torch.float32, torch.float64)
_T = TypeVar("_T")


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


# ---------------------------------------------------------------------------------------------
# Deterministic builders
# ---------------------------------------------------------------------------------------------


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
    model._netcoreset_draw = NetworkDraw(  # type: ignore[attr-defined]
        sizes=sizes,
        bias=bias,
        weight_law=weight_law,
        dtype=dtype,
        seed=seed,
        dead=tuple(dead_all),
    )
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
        :math:`x = \sigma Z` (standardised data; spec section 2.3).
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
    distribution = _check_choice("distribution", distribution, INPUT_DISTRIBUTIONS)
    dtype = _check_dtype(dtype)
    scale = check_positive("scale", scale)
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


# ---------------------------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------------------------


def _strategy(value: _T | SearchStrategy[_T]) -> SearchStrategy[_T]:
    return value if isinstance(value, SearchStrategy) else st.just(value)


def _check_int_arg(name: str, value: Any, low: int) -> Any:
    if isinstance(value, SearchStrategy):
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(
            f"{name} must be an integer >= {low} or a hypothesis strategy; got {value!r}"
        )
    return value


def _check_dtype_arg(dtype: Any) -> Any:
    return dtype if isinstance(dtype, SearchStrategy) else _check_dtype(dtype)


def relu_networks(
    *,
    depth: int | SearchStrategy[int] | None = None,
    widths: int | Sequence[int] | SearchStrategy[int] | None = None,
    in_features: int | SearchStrategy[int] | None = None,
    out_features: int | SearchStrategy[int] | None = None,
    bias: bool | SearchStrategy[bool] | None = None,
    weight_law: str | SearchStrategy[str] | None = None,
    dtype: torch.dtype | SearchStrategy[torch.dtype] = torch.float64,
    seed: int | SearchStrategy[int] | None = None,
) -> SearchStrategy[nn.Sequential]:
    r"""Strategy for ``nn.Sequential(Linear, ReLU, ..., Linear)`` networks.

    Draws an architecture :math:`(\eta^1, \dots, \eta^L)`, a bias flag, a weight law and a
    seed, and returns :func:`build_relu_network` of them. Every argument is either a fixed
    value or a hypothesis strategy for it.

    Parameters
    ----------
    depth : int or strategy, default ``st.integers(1, 3)``
        Number of ``Linear`` layers :math:`L - 1 \ge 1` (hidden layers = ``depth - 1``).
        With ``weight_law="dead_neurons"`` a drawn depth is restricted to ``>= 2``.
    widths : int, sequence of int or strategy, default ``st.integers(1, 12)``
        Hidden widths: one int for all, a sequence giving each (its length fixes
        ``depth = len(widths) + 1``), or a strategy drawn once per hidden layer.
    in_features, out_features : int or strategy, default ``st.integers(1, 12)``
    bias : bool or strategy, default ``st.booleans()``
    weight_law : str, strategy or None, default None
        One of :data:`WEIGHT_LAWS`; None draws any of them (``"dead_neurons"`` only where the
        depth allows it).
    dtype : torch.float32, torch.float64 or a strategy of them, default torch.float64
    seed : int or strategy, default ``st.integers(0, 2**32 - 1)``

    Returns
    -------
    SearchStrategy[torch.nn.Sequential]

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None, derandomize=True, database=None)
    ... @given(relu_networks(depth=2, widths=[5], weight_law="sparse", bias=False))
    ... def check(model):
    ...     assert layer_widths(model)[1] == 5
    ...     w = model[0].weight
    ...     assert int((w != 0).sum()) == w.numel() // 4
    >>> check()
    """
    if depth is not None:
        depth = _check_int_arg("depth", depth, 1)
    if widths is not None and not isinstance(widths, (int, SearchStrategy)):
        if isinstance(widths, (str, bytes)) or not isinstance(widths, Sequence):
            raise ValueError(
                f"widths must be an int, a sequence of ints or a strategy; got {widths!r}"
            )
        for w in widths:
            _check_int_arg("widths", w, 1)
        implied = len(widths) + 1
        if isinstance(depth, SearchStrategy):
            raise ValueError(
                "depth must be None or an int when widths is a sequence (the sequence fixes "
                f"depth = {implied}); got a strategy"
            )
        if depth is None:
            depth = implied
        elif isinstance(depth, int) and depth != implied:
            raise ValueError(
                f"depth must equal len(widths) + 1 = {implied} when widths is a sequence; "
                f"got depth={depth!r}"
            )
        widths = tuple(widths)
    elif isinstance(widths, int):
        _check_int_arg("widths", widths, 1)
    for name, value in (("in_features", in_features), ("out_features", out_features)):
        if value is not None:
            _check_int_arg(name, value, 1)
    if bias is not None and not isinstance(bias, (bool, SearchStrategy)):
        raise ValueError(f"bias must be True, False, None or a strategy; got {bias!r}")
    if weight_law is not None and not isinstance(weight_law, SearchStrategy):
        _check_choice("weight_law", weight_law, WEIGHT_LAWS)
    if weight_law == "dead_neurons" and isinstance(depth, int) and depth < 2:
        raise ValueError(f"depth must be >= 2 for weight_law='dead_neurons'; got {depth!r}")
    dtype = _check_dtype_arg(dtype)
    if seed is not None and not isinstance(seed, SearchStrategy):
        _check_seed(seed)

    depth_s = _strategy(st.integers(1, 3) if depth is None else depth)
    width_s = _strategy(st.integers(1, 12) if widths is None else widths)
    in_s = _strategy(st.integers(1, 12) if in_features is None else in_features)
    out_s = _strategy(st.integers(1, 12) if out_features is None else out_features)
    bias_s = _strategy(st.booleans() if bias is None else bias)
    dtype_s = _strategy(dtype)
    seed_s = _strategy(st.integers(0, _SEED_MAX) if seed is None else seed)
    fixed_depth = depth if isinstance(depth, int) else None
    if weight_law is None:
        laws = WEIGHT_LAWS if fixed_depth is None or fixed_depth >= 2 else WEIGHT_LAWS[:-1]
        law_s: SearchStrategy[str] = st.sampled_from(laws)
    else:
        law_s = _strategy(weight_law)

    @st.composite
    def _networks(draw: st.DrawFn) -> nn.Sequential:
        law = draw(law_s)
        d = draw(depth_s.filter(lambda v: v >= 2) if law == "dead_neurons" else depth_s)
        if isinstance(widths, tuple):
            hidden = list(widths)
        else:
            hidden = [draw(width_s) for _ in range(d - 1)]
        sizes = (draw(in_s), *hidden, draw(out_s))
        return build_relu_network(
            sizes, bias=draw(bias_s), weight_law=law, dtype=draw(dtype_s), seed=draw(seed_s)
        )

    return _networks()


def input_batches(
    in_features: int | SearchStrategy[int],
    *,
    n: int | SearchStrategy[int] | None = None,
    distribution: str | SearchStrategy[str] | None = None,
    dtype: torch.dtype | SearchStrategy[torch.dtype] = torch.float64,
    scale: float | SearchStrategy[float] = 1.0,
    seed: int | SearchStrategy[int] | None = None,
) -> SearchStrategy[torch.Tensor]:
    r"""Strategy for ``(n, in_features)`` input batches (see :func:`make_inputs`).

    Parameters
    ----------
    in_features : int or strategy
        Width of each input.
    n : int or strategy, default ``st.integers(1, 32)``
        Number of rows.
    distribution : str, strategy or None, default None
        One of :data:`INPUT_DISTRIBUTIONS`; None draws any.
    dtype : torch.float32, torch.float64 or a strategy of them, default torch.float64
    scale : float or strategy, default 1
        Standard deviation :math:`\sigma` of the underlying normal.
    seed : int or strategy, default ``st.integers(0, 2**32 - 1)``

    Returns
    -------
    SearchStrategy[torch.Tensor]
        Finite tensors of shape ``(n, in_features)``.

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None, derandomize=True, database=None)
    ... @given(input_batches(7, n=5, distribution="signed", dtype=torch.float32))
    ... def check(x):
    ...     assert x.shape == (5, 7) and x.dtype == torch.float32
    ...     assert bool(torch.isfinite(x).all())
    >>> check()
    """
    _check_int_arg("in_features", in_features, 1)
    if n is not None:
        _check_int_arg("n", n, 1)
    if distribution is not None and not isinstance(distribution, SearchStrategy):
        _check_choice("distribution", distribution, INPUT_DISTRIBUTIONS)
    dtype = _check_dtype_arg(dtype)
    if not isinstance(scale, SearchStrategy):
        check_positive("scale", scale)
    if seed is not None and not isinstance(seed, SearchStrategy):
        _check_seed(seed)
    in_s = _strategy(in_features)
    n_s = _strategy(st.integers(1, 32) if n is None else n)
    dist_s = _strategy(
        st.sampled_from(INPUT_DISTRIBUTIONS) if distribution is None else distribution
    )
    dtype_s = _strategy(dtype)
    scale_s = _strategy(scale)
    seed_s = _strategy(st.integers(0, _SEED_MAX) if seed is None else seed)

    @st.composite
    def _batches(draw: st.DrawFn) -> torch.Tensor:
        return make_inputs(
            draw(n_s),
            draw(in_s),
            distribution=draw(dist_s),
            dtype=draw(dtype_s),
            scale=draw(scale_s),
            seed=draw(seed_s),
        )

    return _batches()


def network_and_inputs(
    *,
    n: int | SearchStrategy[int] | None = None,
    distribution: str | SearchStrategy[str] | None = None,
    input_scale: float | SearchStrategy[float] = 1.0,
    **network_kwargs: Any,
) -> SearchStrategy[tuple[nn.Sequential, torch.Tensor]]:
    """Strategy for ``(model, x)``: a network of :func:`relu_networks` and inputs that fit it.

    ``x`` has the model's ``in_features`` columns and its dtype.

    Parameters
    ----------
    n, distribution : see :func:`input_batches`
    input_scale : float or strategy, default 1
        ``scale`` of :func:`input_batches`.
    **network_kwargs
        Passed to :func:`relu_networks` (``depth``, ``widths``, ``weight_law``, ``dtype``...).

    Returns
    -------
    SearchStrategy[tuple[torch.nn.Sequential, torch.Tensor]]

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None, derandomize=True, database=None)
    ... @given(network_and_inputs(dtype=torch.float32, n=8))
    ... def check(model_and_x):
    ...     model, x = model_and_x
    ...     y = model(x)
    ...     assert y.shape == (8, layer_widths(model)[-1]) and y.dtype == torch.float32
    >>> check()
    """
    networks = relu_networks(**network_kwargs)

    @st.composite
    def _pairs(draw: st.DrawFn) -> tuple[nn.Sequential, torch.Tensor]:
        model = draw(networks)
        first = next(m for m in model if isinstance(m, nn.Linear))
        x = draw(
            input_batches(
                first.in_features,
                n=n,
                distribution=distribution,
                dtype=first.weight.dtype,
                scale=input_scale,
            )
        )
        return model, x

    return _pairs()


def compression_params(
    *,
    eps: float | SearchStrategy[float] | None = None,
    delta: float | SearchStrategy[float] | None = None,
    K: float | SearchStrategy[float] | None = None,
    keep: float | SearchStrategy[float] | None = None,
    method: str | SearchStrategy[str] | None = None,
    kappa: bool | SearchStrategy[bool] | None = None,
    tight: bool | SearchStrategy[bool] | None = None,
) -> SearchStrategy[dict[str, Any]]:
    r"""Strategy for a dict of compression parameters.

    Keys and default strategies (each overridable by a fixed value or a strategy):

    ================  =====================================  ===========================
    key               default                                range promised
    ================  =====================================  ===========================
    ``eps``           ``st.floats(0.01, 0.99)``              :math:`(0, 1)`
    ``delta``         ``st.floats(0.01, 0.99)``              :math:`(0, 1)`
    ``K``             ``st.floats(0.1, 10)``                 :math:`> 0`
    ``keep``          ``st.floats(0.01, 1)``                 :math:`(0, 1]`
    ``method``        ``st.sampled_from(METHODS)``           :data:`METHODS`
    ``kappa``         ``st.booleans()``
    ``tight``         ``st.booleans()``
    ================  =====================================  ===========================

    The defaults stay away from 0 so that the sample sizes
    (:math:`\propto \log(1/\delta)/\varepsilon^2`) stay small; pass wider strategies to
    explore the extremes. Use either ``eps`` (guarantee mode) or ``keep`` (budget mode)::

        compress(model, x, method=p["method"], eps=p["eps"], delta=p["delta"], K=p["K"],
                 kappa=p["kappa"], tight=p["tight"], seed=0)

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20, deadline=None, derandomize=True, database=None)
    ... @given(compression_params(method="corenet"))
    ... def check(p):
    ...     assert 0 < p["eps"] < 1 and 0 < p["delta"] < 1 and 0 < p["keep"] <= 1
    ...     assert p["K"] > 0 and p["method"] == "corenet"
    >>> check()
    """
    fixed: dict[str, Any] = {}
    for name, value, default in (
        ("eps", eps, st.floats(0.01, 0.99)),
        ("delta", delta, st.floats(0.01, 0.99)),
    ):
        if value is not None and not isinstance(value, SearchStrategy):
            check_open_unit(name, value)
        fixed[name] = default if value is None else value
    if K is not None and not isinstance(K, SearchStrategy):
        check_positive("K", K)
    fixed["K"] = st.floats(0.1, 10.0) if K is None else K
    if keep is not None and not isinstance(keep, SearchStrategy):
        if isinstance(keep, bool) or not isinstance(keep, (int, float)) or not 0 < keep <= 1:
            raise ValueError(f"keep must be a real number in (0, 1]; got {keep!r}")
    fixed["keep"] = st.floats(0.01, 1.0) if keep is None else keep
    if method is not None and not isinstance(method, SearchStrategy):
        _check_choice("method", method, METHODS)
    fixed["method"] = st.sampled_from(METHODS) if method is None else method
    for name, value in (("kappa", kappa), ("tight", tight)):
        if value is not None and not isinstance(value, (bool, SearchStrategy)):
            raise ValueError(f"{name} must be True, False, None or a strategy; got {value!r}")
        fixed[name] = st.booleans() if value is None else value
    return st.fixed_dictionaries({k: _strategy(v) for k, v in fixed.items()})
