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

The weight laws and input distributions are those of the builders in
:mod:`netcoreset.verification.networks` (:data:`~netcoreset.verification.networks.WEIGHT_LAWS`).

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

from collections.abc import Sequence
from typing import Any, TypeVar

import torch
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from torch import nn

from netcoreset.bounds.validation import check_K, check_open_unit, check_positive
from netcoreset.sampler import METHODS

from .networks import (
    _SEED_MAX,
    INPUT_DISTRIBUTIONS,
    WEIGHT_LAWS,
    _check_choice,
    _check_dtype,
    _check_seed,
    build_relu_network,
    make_inputs,
)

__all__ = [
    "relu_networks",
    "input_batches",
    "network_and_inputs",
    "compression_params",
]

_T = TypeVar("_T")


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
    >>> from netcoreset.verification.networks import layer_widths
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
    >>> from netcoreset.verification.networks import layer_widths
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
    include_kappa: bool | SearchStrategy[bool] | None = None,
    tight: bool | SearchStrategy[bool] | None = None,
) -> SearchStrategy[dict[str, Any]]:
    r"""Strategy for a dict of compression parameters.

    Keys and default strategies (each overridable by a fixed value or a strategy):

    =================  =====================================  ===========================
    key                default                                range promised
    =================  =====================================  ===========================
    ``eps``            ``st.floats(0.01, 0.99)``              :math:`(0, 1)`
    ``delta``          ``st.floats(0.01, 0.99)``              :math:`(0, 1)`
    ``K``              ``st.floats(1.01, 10)``                :math:`> 1`
    ``keep``           ``st.floats(0.01, 1)``                 :math:`(0, 1]`
    ``method``         ``st.sampled_from(METHODS)``           ``netcoreset.sampler.METHODS``
    ``include_kappa``  ``st.booleans()``
    ``tight``          ``st.booleans()``
    =================  =====================================  ===========================

    The defaults stay away from 0 so that the sample sizes
    (:math:`\propto \log(1/\delta)/\varepsilon^2`) stay small; pass wider strategies to
    explore the extremes. Use either ``eps`` (guarantee mode) or ``keep`` (budget mode)::

        compress(model, x, method=p["method"], eps=p["eps"], delta=p["delta"], K=p["K"],
                 include_kappa=p["include_kappa"], tight=p["tight"], seed=0)

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
        check_K(K)  # the message of every entry point that takes K
    fixed["K"] = st.floats(1.01, 10.0) if K is None else K
    if keep is not None and not isinstance(keep, SearchStrategy):
        if isinstance(keep, bool) or not isinstance(keep, (int, float)) or not 0 < keep <= 1:
            raise ValueError(f"keep must be a real number in (0, 1]; got {keep!r}")
    fixed["keep"] = st.floats(0.01, 1.0) if keep is None else keep
    if method is not None and not isinstance(method, SearchStrategy):
        _check_choice("method", method, METHODS)
    fixed["method"] = st.sampled_from(METHODS) if method is None else method
    for name, value in (("include_kappa", include_kappa), ("tight", tight)):
        if value is not None and not isinstance(value, (bool, SearchStrategy)):
            raise ValueError(f"{name} must be True, False, None or a strategy; got {value!r}")
        fixed[name] = st.booleans() if value is None else value
    return st.fixed_dictionaries({k: _strategy(v) for k, v in fixed.items()})
