r"""Network-level quantities: the compressed-size bound of the theorem and a per-layer table.

Everything here is a pure function of the architecture, :math:`\varepsilon`, :math:`\delta`,
:math:`K` and the data-dependent summaries (:math:`\mathcal{S}` and :math:`\hat\Delta`); when
those are not known (no data at hand) the table uses their smallest possible values
(:math:`\mathcal{S} = 1` per active part and a mean cancellation of 1), so every figure it
prints is a *lower* bound on what the theorem demands.

The sympy twins of these formulas sit next to this file, in ``network_symbolic.py``, and are
exported by :mod:`netcoreset.bounds.symbolic`; each function's See Also names its twin.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .error_budget import (
    delta_hat_product,
    eps_prime,
    kappa,
    max_hidden_width,
    max_part_size,
    num_neurons,
)
from .sample_size import sample_size, sensitivity_set_size
from .serialization import to_jsonable
from .validation import (
    check_architecture,
    check_bool,
    check_K,
    check_nonnegative_array,
    check_open_unit,
    check_positive,
    check_positive_int,
)

__all__ = ["compressed_size_bound", "LayerBound", "NetworkBound", "network_bound"]


def compressed_size_bound(
    sensitivity_sums: Sequence[ArrayLike],
    delta_hat_products: ArrayLike,
    eps: float,
    delta: float,
    eta: int,
    *,
    K: float,
) -> np.ndarray:
    r"""Per-layer bound of the size theorem on the number of non-zero weights.

    .. math::

        \operatorname{nnz}(\hat\theta^\ell) \le \sum_{i=1}^{\eta^\ell}\left(\left\lceil
        \frac{32\,(L-1)^2\,(\hat\Delta^{\ell\rightarrow})^2\,\mathcal{S}^\ell_i\,K
        \log(8\eta/\delta)}{\varepsilon^2}\right\rceil + 1\right),
        \qquad \mathcal{S}^\ell_i = \mathcal{S}^\ell_{i+} + \mathcal{S}^\ell_{i-}.

    It follows from :func:`~netcoreset.bounds.sample_size` with
    :math:`\varepsilon_\ell = \varepsilon/(2(L-1)\hat\Delta^{\ell\rightarrow})` and
    :math:`\lceil a\rceil + \lceil b\rceil \le \lceil a + b\rceil + 1` for the two parts.
    Sum the result for the whole network; cap each layer at its number of weights
    (sampling never adds an edge).

    Parameters
    ----------
    sensitivity_sums : sequence of array_like
        One array per weight layer with :math:`\mathcal{S}^\ell_i` for each neuron.
    delta_hat_products : array_like
        :math:`\hat\Delta^{\ell\rightarrow}` per weight layer (:func:`delta_hat_product`).
    eps, delta : float
        In (0, 1).
    eta : int
        :math:`\eta`.
    K : float
        Assumption 1's constant, required, ``> 1`` (:func:`~netcoreset.bounds.check_K`).

    Returns
    -------
    numpy.ndarray
        One float per layer (can exceed 2**53 for tiny eps; floats avoid overflow).

    See Also
    --------
    netcoreset.bounds.symbolic.size_term_expr : the same formula in sympy.

    Examples
    --------
    >>> compressed_size_bound([[2.0, 2.0], [2.0]], [1.0, 1.0], 0.5, 0.1, 3, K=2.0).tolist()
    [22452.0, 11226.0]
    """
    return _compressed_size_bound(sensitivity_sums, delta_hat_products, eps, delta, eta, check_K(K))


def _compressed_size_bound(
    sensitivity_sums: Sequence[ArrayLike],
    delta_hat_products: ArrayLike,
    eps: float,
    delta: float,
    eta: int,
    K: float,
) -> np.ndarray:
    """:func:`compressed_size_bound` at any constant ``K > 0``, for the package's own use
    only: the sampler's size bound at its coverage constant measured on held-out points
    (which may be 1), and the symbolic agreement check over a range of ``K``."""
    eps = check_open_unit("eps", eps)
    delta = check_open_unit("delta", delta)
    K = check_positive("K", K)
    eta = check_positive_int("eta", eta)
    if isinstance(sensitivity_sums, (str, bytes)) or not isinstance(
        sensitivity_sums, (Sequence, np.ndarray)
    ):
        raise ValueError(f"sensitivity_sums must be one array per layer; got {sensitivity_sums!r}")
    products = check_nonnegative_array("delta_hat_products", delta_hat_products)
    if products.ndim != 1 or products.size != len(sensitivity_sums):
        raise ValueError("delta_hat_products needs one value per layer of sensitivity_sums")
    n_layers = products.size
    log_term = math.log(8.0 * eta / delta)
    out = []
    for s_layer, d in zip(sensitivity_sums, products, strict=True):
        s = check_nonnegative_array("sensitivity_sums", s_layer).ravel()
        per = np.ceil(32.0 * n_layers**2 * d * d * s * K * log_term / eps**2) + 1.0
        out.append(float(per.sum()))
    return np.asarray(out)


@dataclass(frozen=True)
class LayerBound:
    r"""One weight layer's row of :class:`NetworkBound`.

    ``draws_per_part`` is :math:`m^\ell`, ``nnz_bound`` the theorem's
    :math:`\sum_i(\lceil 32(L-1)^2(\hat\Delta^{\ell\rightarrow})^2\mathcal{S}^\ell_i K
    \log(8\eta/\delta)/\varepsilon^2\rceil + 1)` and ``nnz_bound_capped`` its minimum with
    ``weights``.

    >>> network_bound("4,3,2", 0.5, 0.1, K=2.0).layers[0].fan_in  # 4 inputs + the bias edge
    5
    """

    layer: int
    fan_in: int
    width: int
    weights: int
    delta_hat: float
    delta_hat_product: float
    eps_layer: float
    draws_per_part: int
    draws_per_neuron: int
    nnz_bound: float
    nnz_bound_capped: int
    kept_fraction: float


@dataclass(frozen=True)
class NetworkBound:
    """The theorem's figures for one architecture (see :func:`network_bound`).

    >>> nb = network_bound("4,3,2", 0.5, 0.1, K=2.0)
    >>> nb.eta, nb.total_weights, nb.kept_fraction
    (5, 23, 1.0)
    """

    arch: tuple[int, ...]
    eps: float
    delta: float
    K: float
    k_prime: float
    include_kappa: bool
    tight: bool
    bias: bool
    eta: int
    eta_star: int
    kappa: float
    sensitivity_set_size: int
    layers: list[LayerBound] = field(default_factory=list)

    @property
    def total_weights(self) -> int:
        return sum(layer.weights for layer in self.layers)

    @property
    def total_nnz_bound(self) -> int:
        return sum(layer.nnz_bound_capped for layer in self.layers)

    @property
    def kept_fraction(self) -> float:
        return self.total_nnz_bound / self.total_weights

    def to_dict(self) -> dict[str, Any]:
        """Strict-JSON dictionary (``netcoreset.bounds.serialization``'s policy)."""
        d = asdict(self)
        d["total_weights"] = self.total_weights
        d["total_nnz_bound"] = self.total_nnz_bound
        d["kept_fraction"] = self.kept_fraction
        d["arch"] = list(self.arch)
        return to_jsonable(d)


def network_bound(
    arch: Sequence[int] | str,
    eps: float,
    delta: float,
    *,
    K: float,
    k_prime: float = 3.0,
    sensitivity_sum: float | Sequence[float] = 1.0,
    mean_cancellation: float | Sequence[float] = 1.0,
    include_kappa: bool = True,
    tight: bool = False,
    bias: bool = True,
) -> NetworkBound:
    r"""The theorem's sample sizes and size bound, layer by layer, for an architecture.

    For weight layer :math:`\ell = 2..L` with fan-in :math:`\eta^{\ell-1}` (plus one for
    the bias edge):

    .. math::

        \hat\Delta^\ell = \bar\Delta^\ell + \kappa,\quad
        \varepsilon_\ell = \frac{\varepsilon}{2(L-1)\hat\Delta^{\ell\rightarrow}},\quad
        m^\ell = \left\lceil\frac{8\,\mathcal{S}K\log(8\eta/\delta)}{\varepsilon_\ell^2}
        \right\rceil\ \text{per part},

    and the per-layer bound of :func:`compressed_size_bound` (with
    :math:`\mathcal{S}^\ell_i = 2\mathcal{S}`: both parts active), capped at the layer's
    number of weights.

    Parameters
    ----------
    arch : sequence of int or str
        Widths :math:`(\eta^1, \dots, \eta^L)`, input first, e.g. ``"784,300,100,10"``.
    eps, delta : float
        In (0, 1).
    K : float
        Assumption 1's constant, required (no default), ``> 1``: at :math:`K \le 1` the
        assumption cannot hold (:func:`~netcoreset.bounds.check_K`).
    k_prime : float, default 3
    sensitivity_sum : float or sequence of float, default 1
        :math:`\mathcal{S}` of each part, per layer or one value for all; 1 is the smallest
        value an active part can have, so the default gives lower bounds.
    mean_cancellation : float or sequence of float, default 1
        :math:`\max_i` of the mean of :math:`\Delta^\ell_i(x)` over :math:`S`, per layer or
        one value; 1 is its smallest possible value.
    include_kappa : bool, default True
        Add :math:`\kappa` to :math:`\hat\Delta^\ell` as the theorem does. ``False`` is a
        heuristic outside the theorem.
    tight : bool, default False
        Exact Bernstein form of the sample size.
    bias : bool, default True
        Count a bias edge per neuron.

    Examples
    --------
    >>> nb = network_bound("784,300,100,10", 0.1, 0.05, K=2.0)
    >>> round(nb.kappa, 1), nb.sensitivity_set_size, nb.kept_fraction
    (200.3, 54, 1.0)
    >>> nb0 = network_bound("784,300,100,10", 0.5, 0.05, K=2.0, include_kappa=False)
    >>> nb0.layers[0].draws_per_part  # > 785 edges per row even without kappa
    25555
    """
    widths = check_architecture(arch)
    eps = check_open_unit("eps", eps)
    delta = check_open_unit("delta", delta)
    K = check_K(K)
    k_prime = check_positive("k_prime", k_prime)
    include_kappa = check_bool("include_kappa", include_kappa)
    tight = check_bool("tight", tight)
    bias = check_bool("bias", bias)
    n_layers = len(widths) - 1
    sens = check_nonnegative_array("sensitivity_sum", sensitivity_sum)
    canc = check_nonnegative_array("mean_cancellation", mean_cancellation)
    for name, arr in (("sensitivity_sum", sens), ("mean_cancellation", canc)):
        if arr.ndim > 1 or (arr.ndim == 1 and arr.size not in (1, n_layers)):
            raise ValueError(f"{name} needs one value or one per weight layer ({n_layers})")
    sens = np.broadcast_to(sens.ravel() if sens.ndim else sens, (n_layers,)).astype(float)
    canc = np.broadcast_to(canc.ravel() if canc.ndim else canc, (n_layers,)).astype(float)
    if np.any(canc < 1.0):
        raise ValueError("mean_cancellation must be >= 1 (Delta is at least 1)")

    eta = num_neurons(widths)
    eta_star = max_hidden_width(widths)
    kap = kappa(eta, eta_star, delta)
    dh = canc + (kap if include_kappa else 0.0)
    with np.errstate(over="ignore"):
        products = delta_hat_product(dh)
        nnz_per_layer = (
            compressed_size_bound(
                [np.full(widths[i + 1], 2.0 * sens[i]) for i in range(n_layers)],
                products,
                eps,
                delta,
                eta,
                K=K,
            )
            if np.all(np.isfinite(products))
            else np.full(n_layers, np.inf)
        )
    if not np.all(np.isfinite(nnz_per_layer)):
        raise ValueError(
            f"arch and eps give sample sizes beyond the float64 range (about 1.8e308): the "
            f"product of Delta-hat over the {n_layers} weight layers is {float(products[0]):.3g} "
            f"and eps = {eps!r} (the guarantee would keep every weight)"
        )
    eps_l = eps_prime(eps, n_layers) / products
    layers = []
    for idx in range(n_layers):
        fan_in = widths[idx] + (1 if bias else 0)
        width = widths[idx + 1]
        weights = fan_in * width
        m_part = int(sample_size(sens[idx], eps_l[idx], delta, eta, K=K, tight=tight))
        nnz = float(nnz_per_layer[idx])
        capped = int(min(nnz, weights))
        layers.append(
            LayerBound(
                layer=idx + 2,
                fan_in=fan_in,
                width=width,
                weights=weights,
                delta_hat=float(dh[idx]),
                delta_hat_product=float(products[idx]),
                eps_layer=float(eps_l[idx]),
                draws_per_part=m_part,
                draws_per_neuron=2 * m_part,
                nnz_bound=nnz,
                nnz_bound_capped=capped,
                kept_fraction=capped / weights,
            )
        )
    return NetworkBound(
        arch=widths,
        eps=eps,
        delta=delta,
        K=K,
        k_prime=k_prime,
        include_kappa=include_kappa,
        tight=tight,
        bias=bias,
        eta=eta,
        eta_star=eta_star,
        kappa=kap,
        sensitivity_set_size=sensitivity_set_size(
            eta, max(eta_star, max_part_size(widths, bias)), delta, k_prime
        ),
        layers=layers,
    )
