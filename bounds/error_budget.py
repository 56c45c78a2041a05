r"""The error budget across layers (Baykal et al., 2019, the analysis of the main theorem).

:math:`\hat\Delta^\ell` bounds the cancellation :math:`\Delta^\ell_i(x) = \sum_k |w_k a_k(x)| /
|\sum_k w_k a_k(x)|` of layer :math:`\ell`; the product :math:`\hat\Delta^{\ell\rightarrow}`
over the layers from :math:`\ell` to the output says how much an error made at layer
:math:`\ell` is amplified, and the per-layer error :math:`\varepsilon_\ell` shrinks by it.

The sympy twins of these formulas sit next to this file, in ``error_budget_symbolic.py``,
and are exported by :mod:`netcoreset.bounds.symbolic`; each function's See Also names its
twin.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .validation import (
    _as_float,
    _is_real_scalar,
    check_architecture,
    check_nonnegative_array,
    check_open_unit,
    check_positive,
    check_positive_int,
    check_real_array,
)

__all__ = [
    "num_neurons",
    "max_hidden_width",
    "max_part_size",
    "lambda_star",
    "kappa",
    "delta_hat",
    "delta_hat_product",
    "eps_prime",
    "layer_eps",
    "network_eps",
    "eps_prime_exact",
    "error_recursion",
]


def num_neurons(arch: Sequence[int]) -> int:
    r""":math:`\eta = \sum_{\ell=2}^{L} \eta^\ell`, the number of non-input neurons.

    >>> num_neurons((784, 300, 100, 10))
    410
    """
    return int(sum(check_architecture(arch)[1:]))


def max_hidden_width(arch: Sequence[int]) -> int:
    r""":math:`\eta^* = \max_{\ell=2..L-1} \eta^\ell` (for a single weight layer, :math:`\eta^2`).

    >>> max_hidden_width((784, 300, 100, 10))
    300
    >>> max_hidden_width((4, 3))
    3
    """
    widths = check_architecture(arch)
    hidden = widths[1:-1]
    return int(max(hidden)) if len(hidden) else int(widths[-1])


def max_part_size(arch: Sequence[int], bias: bool | Sequence[bool] = True) -> int:
    r"""The most edges one part of one neuron can have: :math:`\max_\ell (\eta^{\ell-1} +
    [b^\ell])`, the fan-in plus one where layer :math:`\ell` has a bias.

    The sensitivity lemma takes a union bound over the edges of a part; the paper bounds their
    number by
    :math:`\eta^*`, which misses the first layer when the input is wider than every hidden
    layer (785 edges against :math:`\eta^* = 300` for 784-300-100-10). netcoreset draws
    :math:`|S| = \lceil K'\log(8\eta\max(\eta^*, n_{\max})/\delta)\rceil` with this
    :math:`n_{\max}` (see :func:`~netcoreset.bounds.sensitivity_set_size`). ``bias`` is one
    flag for every layer or one per weight layer: any layer's bias edge counts in its own
    part.

    >>> max_part_size((784, 300, 100, 10))
    785
    >>> max_part_size((4, 30, 2), bias=False)
    30
    >>> max_part_size((10, 10, 3), bias=[False, True])  # the second layer's bias counts
    11
    """
    fan_ins = [int(w) for w in check_architecture(arch)[:-1]]
    if isinstance(bias, (bool, np.bool_)):
        flags = [bool(bias)] * len(fan_ins)
    elif isinstance(bias, (list, tuple)) and all(isinstance(b, (bool, np.bool_)) for b in bias):
        flags = [bool(b) for b in bias]
    else:
        raise ValueError(f"bias must be True, False or one such flag per layer; got {bias!r}")
    if len(flags) != len(fan_ins):
        raise ValueError(f"bias needs one flag per weight layer ({len(fan_ins)}); got {bias!r}")
    return max(f + (1 if b else 0) for f, b in zip(fan_ins, flags, strict=True))


def lambda_star(eta: int, eta_star: int) -> float:
    r""":math:`\lambda^* = \tfrac12 \log(\eta\,\eta^*)`.

    See Also
    --------
    netcoreset.bounds.symbolic.lambda_star_expr : the same formula in sympy.

    Examples
    --------
    >>> round(lambda_star(410, 300), 4)
    5.86
    """
    eta = check_positive_int("eta", eta)
    eta_star = check_positive_int("eta_star", eta_star)
    return 0.5 * math.log(eta * eta_star)


def kappa(eta: int, eta_star: int, delta: float) -> float:
    r"""The additive term :math:`\kappa` of :math:`\hat\Delta^\ell`.

    .. math::

        \kappa = \sqrt{2\lambda^*}\,\Bigl(1 + \sqrt{2\lambda^*}\,
        \log\frac{8\,\eta\,\eta^*}{\delta}\Bigr),\qquad \lambda^* = \tfrac12\log(\eta\eta^*).

    It is the high-probability slack that turns the empirical mean of
    :math:`\Delta^\ell_i(x)` over :math:`S` into a bound for a fresh input. It is large:
    about 192 for a 784-300-100-10 network at :math:`\delta = 0.1`.

    See Also
    --------
    netcoreset.bounds.symbolic.kappa_expr : the same formula in sympy.

    Examples
    --------
    >>> round(kappa(410, 300, 0.1), 1)
    192.1
    """
    delta = check_open_unit("delta", delta)
    root = math.sqrt(2.0 * lambda_star(eta, eta_star))
    return root * (1.0 + root * math.log(8.0 * eta * eta_star / delta))


def delta_hat(mean_cancellation: ArrayLike, kappa: float = 0.0) -> float:
    r""":math:`\hat\Delta^\ell = \max_i \frac{1}{|S|}\sum_{x\in S}\Delta^\ell_i(x) + \kappa`.

    Parameters
    ----------
    mean_cancellation : array_like
        Per-neuron means of :math:`\Delta^\ell_i(x)` over :math:`S` (each :math:`\ge 1`;
        NaN entries, neurons with :math:`z_i(x) = 0` on all of :math:`S`, are ignored).
    kappa : float, default 0
        :math:`\kappa` (:func:`kappa`); ``0`` gives the purely empirical value, a heuristic
        outside the theorem.

    See Also
    --------
    netcoreset.bounds.symbolic.delta_hat_expr : the same formula in sympy.

    Examples
    --------
    >>> delta_hat([1.5, 3.0, float("nan")], 2.0)
    5.0
    """
    arr = check_real_array("mean_cancellation", mean_cancellation).ravel()
    arr = arr[~np.isnan(arr)]
    if arr.size and (np.any(arr < 1.0 - 1e-9) or not np.all(np.isfinite(arr))):
        raise ValueError("mean_cancellation entries must be finite and >= 1 (Delta >= 1)")
    if not _is_real_scalar(kappa):
        raise ValueError(f"kappa must be finite and >= 0; got {kappa!r}")
    kappa_value = _as_float(kappa)
    if not math.isfinite(kappa_value) or kappa_value < 0:
        raise ValueError(f"kappa must be finite and >= 0; got {kappa!r}")
    base = float(arr.max()) if arr.size else 1.0
    return base + kappa_value


def delta_hat_product(delta_hats: ArrayLike) -> Any:
    r""":math:`\hat\Delta^{\ell\rightarrow} = \prod_{k=\ell}^{L}\hat\Delta^{k}` for every layer.

    ``delta_hats`` lists :math:`\hat\Delta^2, \dots, \hat\Delta^L` (one per weight layer);
    the result has the same length, its last entry is :math:`\hat\Delta^L`.

    See Also
    --------
    netcoreset.bounds.symbolic.delta_hat_product_expr : the same formula in sympy.

    Examples
    --------
    >>> delta_hat_product([2.0, 3.0, 4.0]).tolist()
    [24.0, 12.0, 4.0]
    """
    d = check_nonnegative_array("delta_hats", delta_hats)
    if d.ndim != 1 or d.size == 0:
        raise ValueError("delta_hats must be a non-empty 1-d sequence, one value per weight layer")
    return np.cumprod(d[::-1])[::-1].copy()


def eps_prime(eps: float, num_weight_layers: int, *, allocation: bool = False) -> float:
    r""":math:`\varepsilon' = \varepsilon / (2(L-1))`, with :math:`L - 1` weight layers.

    ``eps`` must lie in (0, 1) for the theorem; with ``allocation=True`` any
    :math:`\varepsilon > 0` is accepted, as budget mode uses :math:`\varepsilon` as a
    parameter of the allocation rather than as a promise.

    See Also
    --------
    netcoreset.bounds.symbolic.eps_prime_expr : the same formula in sympy.

    Examples
    --------
    >>> eps_prime(0.5, 5)
    0.05
    """
    eps = check_positive("eps", eps) if allocation else check_open_unit("eps", eps)
    n = check_positive_int("num_weight_layers", num_weight_layers)
    return eps / (2.0 * n)


def layer_eps(eps: float, delta_hat_products: ArrayLike, *, allocation: bool = False) -> Any:
    r"""Per-layer relative error :math:`\varepsilon_\ell`.

    .. math::

        \varepsilon_\ell = \frac{\varepsilon}{2(L-1)\,\hat\Delta^{\ell\rightarrow}}

    ``delta_hat_products`` is the output of :func:`delta_hat_product` (its length is
    :math:`L-1`); ``allocation`` as in :func:`eps_prime`. The inverse is
    :func:`network_eps`.

    See Also
    --------
    netcoreset.bounds.symbolic.layer_eps_expr : the same formula in sympy.

    Examples
    --------
    >>> layer_eps(0.48, [24.0, 12.0, 4.0]).round(6).tolist()
    [0.003333, 0.006667, 0.02]
    """
    products = check_nonnegative_array("delta_hat_products", delta_hat_products)
    if products.ndim != 1 or products.size == 0 or np.any(products <= 0):
        raise ValueError("delta_hat_products must be a non-empty 1-d sequence of values > 0")
    eps = check_positive("eps", eps) if allocation else check_open_unit("eps", eps)
    return _layer_eps(eps, products)


def _layer_eps(eps: float, products: np.ndarray) -> np.ndarray:
    """:func:`layer_eps` of checked arguments (a float64 array of ``products``)."""
    return eps / (2.0 * products.size * products)  # = eps_prime(eps, L - 1) / products


def network_eps(
    layer_eps_values: ArrayLike, delta_hat_products: ArrayLike, *, per_layer: bool = False
) -> Any:
    r"""The network's relative error certified by per-layer errors (inverse of :func:`layer_eps`).

    .. math::

        \varepsilon = \max_{\ell}\, 2(L-1)\,\hat\Delta^{\ell\rightarrow}\,\varepsilon_\ell,

    where :math:`\varepsilon_\ell` is the largest relative error of a part of layer
    :math:`\ell` (every layer meeting :math:`\varepsilon_\ell \le
    \varepsilon/(2(L-1)\hat\Delta^{\ell\rightarrow})` is exactly the condition of the
    theorem). Entries may be ``inf`` (a part with no draws certifies nothing). With
    ``per_layer=True`` the array of every layer's :math:`2(L-1)\hat\Delta^{\ell\rightarrow}
    \varepsilon_\ell` is returned instead of its maximum.

    See Also
    --------
    netcoreset.bounds.symbolic.network_eps_expr : the same formula in sympy.

    Examples
    --------
    >>> round(network_eps([0.08 / 24, 0.08 / 12, 0.02], [24.0, 12.0, 4.0]), 12)
    0.48
    >>> network_eps([0.01, 0.0], [2.0, 1.0], per_layer=True).tolist()
    [0.08, 0.0]
    """
    e = check_real_array("layer_eps_values", layer_eps_values).ravel()
    products = check_nonnegative_array("delta_hat_products", delta_hat_products).ravel()
    if e.size != products.size or e.size == 0:
        raise ValueError("layer_eps_values and delta_hat_products need one value per layer")
    if np.any(np.isnan(e)) or np.any(e < 0):
        raise ValueError("layer_eps_values must be >= 0 (inf allowed)")
    with np.errstate(invalid="ignore"):
        values = np.where(e == 0, 0.0, 2.0 * e.size * products * e)
    return values if per_layer else float(np.max(values))


def eps_prime_exact(eps: float, num_weight_layers: int) -> float:
    r"""The largest per-layer budget :math:`\varepsilon'` the error recursion allows.

    .. math::

        \varepsilon' = (1+\varepsilon)^{1/(L-1)} - 1
        \quad\Longleftrightarrow\quad (1+\varepsilon')^{L-1} - 1 = \varepsilon .

    With :math:`\varepsilon_\ell = \varepsilon'/\hat\Delta^{\ell\rightarrow}` the recursion of
    :func:`error_recursion` gives :math:`R_L \le (1+\varepsilon')^{L-1} - 1 = \varepsilon`
    exactly, whereas the paper's :math:`\varepsilon/(2(L-1))` (:func:`eps_prime`) reaches only
    :math:`(1+\varepsilon/(2(L-1)))^{L-1} - 1 \le e^{\varepsilon/2} - 1`: about 1.7 times
    smaller for :math:`L - 1 = 3`, :math:`\varepsilon = 0.5`, hence 3 times more draws.

    See Also
    --------
    netcoreset.bounds.symbolic.eps_prime_exact_expr : the same formula in sympy.

    Examples
    --------
    >>> round(eps_prime_exact(0.5, 3), 6), round(eps_prime(0.5, 3), 6)
    (0.144714, 0.083333)
    >>> round((1 + eps_prime_exact(0.5, 3)) ** 3 - 1, 12)
    0.5
    """
    eps = check_positive("eps", eps)
    n = check_positive_int("num_weight_layers", num_weight_layers)
    return math.expm1(math.log1p(eps) / n)


def error_recursion(
    layer_eps_values: ArrayLike, delta_hats: ArrayLike, *, per_layer: bool = False
) -> Any:
    r"""The network's relative error certified by per-layer errors, through the recursion.

    With :math:`R_1 = 0` (the input is exact) and, for the weight layers
    :math:`\ell = 2, \dots, L`,

    .. math::

        R_\ell = \hat\Delta^\ell\bigl(\varepsilon_\ell + (1+\varepsilon_\ell)\,R_{\ell-1}\bigr),

    :math:`R_L` bounds :math:`\max_k |f_{\hat\theta}(x)_k - f_\theta(x)_k| / |f_\theta(x)_k|`
    on the event that every part of layer :math:`\ell` is within
    :math:`(1\pm\varepsilon_\ell)` and every :math:`\Delta^\ell_i(x) \le \hat\Delta^\ell`.
    It follows from the split
    :math:`\hat z - z = \sum_k(\hat w_k - w_k)a_k + \sum_k \hat w_k(\hat a_k - a_k)`
    (the error-budget page of the theory docs). A ReLU keeps an entry-wise relative error
    :math:`r` only for :math:`r \le 1`; a hidden layer with :math:`R_\ell > 1` therefore
    certifies nothing and the result is ``inf``.

    Parameters
    ----------
    layer_eps_values : array_like
        :math:`\varepsilon_\ell \ge 0` per weight layer (``inf`` allowed: no certificate).
    delta_hats : array_like
        :math:`\hat\Delta^\ell \ge 1` per weight layer (not their products).
    per_layer : bool, default False
        Return every :math:`R_\ell` instead of :math:`R_L`.

    See Also
    --------
    netcoreset.bounds.symbolic.error_recursion_expr : one step in sympy.

    Examples
    --------
    >>> round(error_recursion([0.1, 0.1], [1.0, 1.0]), 12)  # (1.1)^2 - 1
    0.21
    >>> error_recursion([0.01, 0.02], [3.0, 2.0], per_layer=True).round(6).tolist()
    [0.03, 0.1012]
    >>> error_recursion([0.5, 0.1], [3.0, 1.0])  # R_2 = 1.5 > 1: nothing certified
    inf
    """
    e = np.asarray(layer_eps_values, dtype=np.float64).ravel()
    d = check_nonnegative_array("delta_hats", delta_hats).ravel()
    if e.size != d.size or e.size == 0:
        raise ValueError("layer_eps_values and delta_hats need one value per weight layer")
    if np.any(np.isnan(e)) or np.any(e < 0):
        raise ValueError("layer_eps_values must be >= 0 (inf allowed)")
    if np.any(d < 1.0):
        raise ValueError("delta_hats must be >= 1 (Delta is at least 1)")
    out = np.empty_like(e)
    r = 0.0
    for idx, (eps_l, dh) in enumerate(zip(e, d, strict=True)):
        r = math.inf if not math.isfinite(r) else float(dh * (eps_l + (1.0 + eps_l) * r))
        if idx < e.size - 1 and r > 1.0:
            r = math.inf
        out[idx] = r
    return out if per_layer else float(out[-1])
