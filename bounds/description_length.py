r"""The code length of a compressed, quantised network, term by term.

An Occam bound (:func:`~netcoreset.bounds.generalization.occam_bound`) needs a code (a
prior) for networks that is fixed *before* the training data is seen. The code counted here:

* the **architecture** (widths, which layers, the activation) is fixed in advance: 0 bits;
* per weight layer with :math:`N` slots (weights and biases): the **number of non-zeros**
  :math:`q` (:func:`count_bits`, :math:`\lceil\log_2(N+1)\rceil` bits), then **which** slots
  they occupy (:func:`positions_bits`, :math:`\log_2\binom{N}{q}` bits: an enumerative code,
  uniform over the :math:`\binom Nq` subsets);
* the **values** of the non-zeros as symbols of an :math:`r`-level codebook, either with a
  fixed width (:func:`fixed_width_bits`) or with a two-part code (:func:`arithmetic_coding_bits`:
  the symbol counts, then the symbols given the counts);
* the **codebooks** themselves (:func:`codebook_bits`), per layer or shared;
* every **choice made after looking at the data** (keep ratio, method, :math:`r`,
  :math:`\gamma`, seed, ...), by a union bound with stated prior weights
  (:func:`describe_network`'s ``choices``).

A hidden-unit **permutation credit** (:func:`permutation_credit_bits`) is reported separately
and never subtracted.

Every length is :math:`-\log_2` of a prior weight, and the weights of each part sum to at most
one over everything that part can describe, so the whole is a valid prior (Kraft): lengths
need not be integers. Rounding goes up (a few ulps) wherever a length is computed in floating
point, so a computed length is never shorter than the exact one.

The sympy twins of these formulas sit next to this file, in
``description_length_symbolic.py``, and are exported by :mod:`netcoreset.bounds.symbolic`;
each function's See Also names its twin.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .serialization import to_jsonable
from .validation import check_positive, check_positive_int, check_seed

__all__ = [
    "count_bits",
    "positions_bits",
    "fixed_width_bits",
    "count_table_bits",
    "multinomial_bits",
    "arithmetic_coding_bits",
    "ARITHMETIC_OVERHEAD_BITS",
    "codebook_bits",
    "permutation_credit_bits",
    "LayerCode",
    "ChoiceCost",
    "DescriptionLength",
    "describe_network",
]

LN2 = math.log(2.0)
_EPS = float(np.finfo(np.float64).eps)
_EXACT_LIMIT = 1000  # up to this, factorials and binomials are exact Python integers

#: An arithmetic coder's code length for a sequence of model probability :math:`P` is below
#: :math:`\log_2(1/P) + 2` bits (Shannon-Fano-Elias coding, Cover and Thomas 2006, Sec. 5.9;
#: arithmetic coding is its sequential form, Sec. 13.3).
ARITHMETIC_OVERHEAD_BITS = 2.0


def _log2_int_up(x: int) -> float:
    """``log2(x)`` of a positive integer, rounded up (exact for powers of two)."""
    if x & (x - 1) == 0:
        return float(x.bit_length() - 1)
    v = math.log2(x)
    return v + 8.0 * _EPS * max(1.0, v)


_STIRLING = (1.0 / 12.0, -1.0 / 360.0, 1.0 / 1260.0, -1.0 / 1680.0)


def _stirling_error(m: int) -> float:
    """``ln m! - (m ln m - m + ln(2 pi m)/2)`` for ``m >= 1`` (small and positive)."""
    if m < 16:
        return math.lgamma(m + 1.0) - (m * math.log(m) - m + 0.5 * math.log(2.0 * math.pi * m))
    inv = 1.0 / m
    return inv * (
        _STIRLING[0] + inv**2 * (_STIRLING[1] + inv**2 * (_STIRLING[2] + inv**2 * _STIRLING[3]))
    )


_SMALL_STIRLING = np.array([0.0] + [_stirling_error(m) for m in range(1, 16)])


def _stirling_errors(m: np.ndarray) -> np.ndarray:
    """:func:`_stirling_error` of an integer array (0 for ``m = 0``)."""
    m = np.asarray(m, dtype=np.float64)
    inv = 1.0 / np.maximum(m, 16.0)
    series = inv * (
        _STIRLING[0] + inv**2 * (_STIRLING[1] + inv**2 * (_STIRLING[2] + inv**2 * _STIRLING[3]))
    )
    small = _SMALL_STIRLING[np.clip(m, 0, 15).astype(np.int64)]
    return np.where(m < 16, small, series)


def _log_binomials(n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    r"""``ln C(n, i)`` for ``i = 0..k`` and a bound on the size of its parts (for rounding).

    Stirling's formula with its error series:
    :math:`\ln\binom ni = -i\ln\frac in - (n-i)\ln\bigl(1-\frac in\bigr)
    + \tfrac12\ln\frac{n}{2\pi i(n-i)} + s(n) - s(i) - s(n-i)`, whose first two terms
    are non-negative, so each value is accurate to a few ulps of the returned size (exactly
    0 at :math:`i = 0` and :math:`i = n`).
    """
    i = np.arange(k + 1, dtype=np.float64)
    inner = (i > 0) & (i < n)
    ii = np.where(inner, i, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -ii * np.log(ii / n) - (n - ii) * np.log1p(-ii / n)
        half = 0.5 * np.log(n / (2.0 * np.pi * ii * (n - ii)))
    stir = _stirling_error(n) - _stirling_errors(ii) - _stirling_errors(n - ii)
    value = np.where(inner, ent + half + stir, 0.0)
    size = np.where(inner, ent + np.abs(half) + 1.0, 0.0)
    return value, size


def _log2_multinomial_up(counts: Sequence[int]) -> float:
    r"""``log2(q! / prod c_i!)`` with ``q = sum c_i`` in floating point, rounded up.

    Stirling's formula with its error term, arranged so that the large parts are a sum of
    non-negative terms (no cancellation):
    :math:`\ln\frac{q!}{\prod c_i!} = \sum_i c_i\ln\frac{q}{c_i}
    + \tfrac12\ln(2\pi q) - \sum_i\tfrac12\ln(2\pi c_i) + s(q) - \sum_i s(c_i)` over
    the :math:`c_i > 0`, with :math:`s` the Stirling error (:func:`_stirling_error`, its
    asymptotic series from :math:`m = 16` on). Each term is accurate to a few ulps of its
    size; the result is raised by 16 ulps of the total size.
    """
    c = [int(v) for v in counts if int(v) > 0]
    q = sum(c)
    if len(c) <= 1:
        return 0.0
    entropy = sum(ci * -math.log(ci / q) for ci in c)
    half_logs = [0.5 * math.log(2.0 * math.pi * q)] + [
        -0.5 * math.log(2.0 * math.pi * ci) for ci in c
    ]
    stirling = [_stirling_error(q)] + [-_stirling_error(ci) for ci in c]
    value = entropy + math.fsum(half_logs) + math.fsum(stirling)
    size = entropy + sum(abs(v) for v in half_logs) + sum(abs(v) for v in stirling)
    return max(0.0, (value + 16.0 * _EPS * size) / LN2)


def _int(name: str, value: Any) -> int:
    return check_seed(name, value)  # an integer >= 0


def count_bits(N: int) -> int:
    r"""Bits of a fixed-width code for a count in :math:`\{0, \dots, N\}`:
    :math:`\lceil\log_2(N+1)\rceil`.

    .. math::

        \mathrm{bits}(N) = \lceil\log_2(N+1)\rceil

    Used for the number of non-zeros of a layer with :math:`N` slots (the decoder knows
    :math:`N` from the architecture). Exact integer arithmetic.

    See Also
    --------
    netcoreset.bounds.symbolic.count_bits_expr : the same formula in sympy.

    Examples
    --------
    >>> [count_bits(N) for N in (0, 1, 2, 3, 4, 235500)]
    [0, 1, 2, 2, 3, 18]
    """
    return _int("N", N).bit_length()


def positions_bits(N: int, q: int) -> float:
    r"""Bits to say which :math:`q` of :math:`N` slots hold the non-zeros:
    :math:`\log_2\binom{N}{q}`.

    .. math::

        \mathrm{bits}(N, q) = \log_2\binom{N}{q}

    The uniform prior over the :math:`\binom Nq` subsets of size :math:`q` (an enumerative
    code, Cover 1973). Exact integers when :math:`\min(q, N-q)` is small, otherwise
    Stirling's formula with its error series, summed without cancellation and raised by its
    rounding error, so the result is never below the exact value and is accurate to about
    :math:`10^{-14}` relative for any :math:`N`.

    See Also
    --------
    netcoreset.bounds.symbolic.positions_bits_expr : the same formula in sympy.

    Examples
    --------
    >>> positions_bits(4, 1), round(positions_bits(4, 2), 6), positions_bits(10, 0)
    (2.0, 2.584963, 0.0)
    >>> round(positions_bits(235500, 10000), 1)  # 10000 of 784 x 300 + 300 slots
    59684.8
    """
    N = _int("N", N)
    q = _int("q", q)
    if q > N:
        raise ValueError(f"q must be an integer in [0, N] = [0, {N}]; got {q!r}")
    small = min(q, N - q)
    if small == 0:
        return 0.0
    if small <= _EXACT_LIMIT:
        return _log2_int_up(math.comb(N, small))
    return _log2_multinomial_up([small, N - small])


def fixed_width_bits(q: int, levels: int) -> int:
    r"""Bits of :math:`q` symbols of an :math:`r`-level codebook at a fixed width:
    :math:`q\lceil\log_2 r\rceil`.

    .. math::

        \mathrm{bits}(q, r) = q\,\lceil\log_2 r\rceil

    See Also
    --------
    netcoreset.bounds.symbolic.fixed_width_bits_expr : the same formula in sympy.

    Examples
    --------
    >>> fixed_width_bits(10, 16), fixed_width_bits(10, 5), fixed_width_bits(10, 1)
    (40, 30, 0)
    """
    q = _int("q", q)
    r = check_positive_int("levels", levels)
    return q * (r - 1).bit_length()


def count_table_bits(q: int, levels: int, how: str = "composition") -> float:
    r"""Bits of the symbol counts :math:`(c_1, \dots, c_r)` with :math:`\sum_i c_i = q` known.

    .. math::

        \text{composition:}\quad \log_2\binom{q + r - 1}{r - 1},\qquad
        \text{fixed:}\quad r\,\lceil\log_2(q+1)\rceil .

    "composition" is the uniform prior over the :math:`\binom{q+r-1}{r-1}` ways of writing
    :math:`q` as an ordered sum of :math:`r` non-negative counts (stars and bars); "fixed"
    writes each count with :func:`count_bits` of :math:`q`.

    See Also
    --------
    netcoreset.bounds.symbolic.count_table_bits_expr : the same formula in sympy.

    Examples
    --------
    >>> round(count_table_bits(3, 2), 6), count_table_bits(3, 2, how="fixed")
    (2.0, 4.0)
    """
    q = _int("q", q)
    r = check_positive_int("levels", levels)
    if how == "composition":
        return positions_bits(q + r - 1, r - 1)
    if how == "fixed":
        return float(r * count_bits(q))
    raise ValueError(f"how must be 'composition' or 'fixed'; got {how!r}")


def _counts(name: str, value: Any, allow_empty: bool = False) -> np.ndarray:
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:  # pragma: no cover - numpy accepts most input
        raise ValueError(f"{name} must be a 1-d array of integer counts >= 0") from exc
    if arr.ndim != 1 or (arr.size == 0 and not allow_empty):
        raise ValueError(
            f"{name} must be a non-empty 1-d array of integer counts >= 0; got shape {arr.shape}"
        )
    if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.floor(arr)):
        arr = arr.astype(np.int64)
    if arr.size == 0:
        return arr.astype(np.int64)
    if arr.dtype.kind not in "iu" or np.any(arr < 0):
        raise ValueError(f"{name} must hold integer counts >= 0; got {value!r}")
    return arr.astype(np.int64)


def multinomial_bits(symbol_counts: ArrayLike) -> float:
    r"""Bits of the symbols given their counts: :math:`\log_2\frac{q!}{\prod_i c_i!}`.

    .. math::

        \mathrm{bits}(c) = \log_2\frac{q!}{c_1!\cdots c_r!},\qquad q = \sum_i c_i,

    the uniform prior over the sequences with these counts (an enumerative code, Cover
    1973; :math:`\le q\,H(c/q)` bits, the empirical entropy).

    See Also
    --------
    netcoreset.bounds.symbolic.multinomial_bits_expr : the same formula in sympy.

    Examples
    --------
    >>> round(multinomial_bits([2, 1]), 6)  # 3!/(2! 1!) = 3 sequences
    1.584963
    >>> multinomial_bits([5, 0, 0])
    0.0
    """
    c = _counts("symbol_counts", symbol_counts)
    q = int(c.sum())
    if q <= _EXACT_LIMIT:
        denom = 1
        for ci in c.tolist():
            denom *= math.factorial(ci)
        return _log2_int_up(math.factorial(q) // denom)
    return _log2_multinomial_up(c.tolist())


def arithmetic_coding_bits(
    symbol_counts: ArrayLike,
    *,
    overhead_bits: float = ARITHMETIC_OVERHEAD_BITS,
    count_table: str = "composition",
) -> float:
    r"""Two-part code length of :math:`q` quantised values: the count table, then the symbols.

    .. math::

        \mathrm{bits}(c) = \underbrace{\log_2\binom{q+r-1}{r-1}}_{\text{counts}}
        + \underbrace{\log_2\frac{q!}{\prod_i c_i!}}_{\text{symbols given the counts}}
        + \underbrace{2}_{\text{coder overhead}} .

    An arithmetic coder driven by the exact conditional frequencies (the remaining count of
    each symbol over the remaining length) gives the sequence the probability
    :math:`P = \prod_i c_i!/q!`, and its output is shorter than :math:`\log_2(1/P) + 2` bits
    (Cover and Thomas 2006, Sec. 5.9 and 13.3; Witten, Neal and Cleary 1987). As a *prior*
    the symbols need only :math:`\log_2(1/P)`: ``overhead_bits=0`` is valid for the bound;
    the default 2 counts what an actual file would take. :math:`r` is the length of
    ``symbol_counts`` (include the levels that are never used, with count 0).

    Parameters
    ----------
    symbol_counts : array_like of int
        :math:`c_i`, how often each of the :math:`r` levels occurs.
    overhead_bits : float, default 2
        Added once.
    count_table : {"composition", "fixed"}, default "composition"
        See :func:`count_table_bits`.

    See Also
    --------
    netcoreset.bounds.symbolic.arithmetic_coding_bits_expr : the same formula in sympy.

    Examples
    --------
    >>> # counts (2, 1): log2 C(4, 1) = 2 for the table, log2 3 for the symbols, 2 overhead
    >>> round(arithmetic_coding_bits([2, 1]), 6), round(2 + math.log2(3) + 2, 6)
    (5.584963, 5.584963)
    """
    c = _counts("symbol_counts", symbol_counts)
    overhead = float(overhead_bits)
    if not math.isfinite(overhead) or overhead < 0:
        raise ValueError(f"overhead_bits must be a finite real number >= 0; got {overhead_bits!r}")
    table = count_table_bits(int(c.sum()), int(c.size), count_table)
    return table + multinomial_bits(c) + overhead


def codebook_bits(levels: int, bits_per_value: float = 32, kind: str = "table") -> float:
    r"""Bits of a codebook of :math:`r` levels.

    .. math::

        \text{table:}\quad r\,b,\qquad \text{uniform:}\quad 2\,b

    "table" stores every level (e.g. k-means centres) with :math:`b` bits each (32 for
    float32); "uniform" stores the two ends of an evenly spaced grid (:math:`r` is known).
    A codebook fixed before the data costs 0 bits and needs no call.

    See Also
    --------
    netcoreset.bounds.symbolic.codebook_bits_expr : the same formula in sympy.

    Examples
    --------
    >>> codebook_bits(16), codebook_bits(16, kind="uniform"), codebook_bits(4, 16)
    (512.0, 64.0, 64.0)
    """
    r = check_positive_int("levels", levels)
    b = check_positive("bits_per_value", bits_per_value)
    if kind == "table":
        return r * b
    if kind == "uniform":
        return 2.0 * b
    raise ValueError(f"kind must be 'table' or 'uniform'; got {kind!r}")


def permutation_credit_bits(hidden_widths: Sequence[int]) -> float:
    r"""The hidden-unit permutation credit :math:`\sum_\ell\log_2(\eta^\ell!)` (rounded down).

    .. math::

        \mathrm{credit} = \sum_{\ell\ \mathrm{hidden}}\log_2(\eta^\ell!)

    Permuting the units of a hidden layer (with their incoming and outgoing weights) does
    not change the function, and the code of :func:`describe_network` gives every permuted
    copy the same length, so the prior weight of the *function* is up to
    :math:`\prod_\ell\eta^\ell!` times larger than that of one network. The credit is valid
    only when the permuted networks are pairwise distinct (no two units of a layer
    identical, e.g. two dead units); it is therefore reported separately and never
    subtracted by this package.

    See Also
    --------
    netcoreset.bounds.symbolic.permutation_credit_bits_expr : the same formula in sympy.

    Examples
    --------
    >>> round(permutation_credit_bits([3, 2]), 6)  # log2(3!) + log2(2!) = log2 12
    3.584963
    """
    widths = [check_positive_int("hidden_widths", w) for w in hidden_widths]
    total = 0.0
    for w in widths:
        if w <= _EXACT_LIMIT:
            v = math.log2(math.factorial(w))
        else:
            v = math.lgamma(w + 1.0) / LN2
        total += v - 16.0 * _EPS * max(1.0, v)  # rounded down: a credit must not grow
    return max(0.0, total)


# --------------------------------------------------------------------------------------------
# A whole network
# --------------------------------------------------------------------------------------------

_VALUE_CODINGS = ("fixed", "arithmetic")
_CODEBOOKS = ("per_layer", "shared", "none")
_CODEBOOK_KINDS = ("table", "uniform")


@dataclass(frozen=True)
class LayerCode:
    r"""The code of one weight layer, term by term, in bits.

    .. math::

        \mathrm{total} = \lceil\log_2(N+1)\rceil + \log_2\binom Nq + \mathrm{values}
        + \mathrm{count\ table} + \mathrm{overhead} + \mathrm{codebook}

    Examples
    --------
    >>> d = describe_network([6], [2], [[1, 1]], 2)
    >>> lc = d.layers[0]
    >>> lc.count_bits, round(lc.positions_bits, 4), lc.value_bits, lc.codebook_bits
    (3, 3.9069, 2.0, 64.0)
    """

    index: int
    slots: int
    nnz: int
    levels: int
    count_bits: int
    positions_bits: float
    value_bits: float
    count_table_bits: float
    overhead_bits: float
    codebook_bits: float

    @property
    def total_bits(self) -> float:
        return (
            self.count_bits
            + self.positions_bits
            + self.value_bits
            + self.count_table_bits
            + self.overhead_bits
            + self.codebook_bits
        )

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["total_bits"] = self.total_bits
        d["total_nats"] = self.total_bits * LN2
        return to_jsonable(d)


@dataclass(frozen=True)
class ChoiceCost:
    r"""One choice made after looking at the data, with its prior weight and cost.

    .. math::

        \mathrm{bits} = -\log_2 w,\qquad w = 1/k \text{ for } k \text{ equal options}

    Examples
    --------
    >>> c = describe_network([4], [0], None, 2, choices={"keep": 8}).choices[0]
    >>> c.name, c.options, c.weight, c.bits
    ('keep', 8, 0.125, 3.0)
    """

    name: str
    options: int | None
    weight: float
    bits: float

    @property
    def nats(self) -> float:
        return self.bits * LN2


_TERMS = (
    "architecture",
    "counts",
    "positions",
    "values",
    "count_tables",
    "coding_overhead",
    "codebooks",
    "choices",
)


@dataclass(frozen=True)
class DescriptionLength:
    r"""The description length of a network, per layer and per term.

    ``breakdown()`` gives the bits of each term (architecture, counts, positions, values,
    count tables, coding overhead, codebooks, choices); ``total_bits`` is their sum.
    ``permutation_credit_bits`` (when requested) is NOT subtracted.

    .. math::

        \ell(g) = \sum_{\text{terms}} \mathrm{bits}

    Examples
    --------
    >>> d = describe_network([6], [2], [[1, 1]], 2, choices={"levels": 4})
    >>> d.breakdown()["choices"], round(d.total_bits, 4)
    (2.0, 74.9069)
    """

    layers: list[LayerCode]
    value_coding: str
    codebook: str
    shared_codebook_bits: float
    choices: list[ChoiceCost] = field(default_factory=list)
    permutation_credit_bits: float | None = None
    architecture_bits: float = 0.0

    def breakdown(self) -> dict[str, float]:
        """Bits per term, summed over layers."""
        L = self.layers
        return {
            "architecture": float(self.architecture_bits),
            "counts": float(sum(c.count_bits for c in L)),
            "positions": float(sum(c.positions_bits for c in L)),
            "values": float(sum(c.value_bits for c in L)),
            "count_tables": float(sum(c.count_table_bits for c in L)),
            "coding_overhead": float(sum(c.overhead_bits for c in L)),
            "codebooks": float(sum(c.codebook_bits for c in L) + self.shared_codebook_bits),
            "choices": float(sum(c.bits for c in self.choices)),
        }

    @property
    def total_bits(self) -> float:
        return float(sum(self.breakdown().values()))

    @property
    def total_nats(self) -> float:
        return self.total_bits * LN2

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: per-term bits and nats, layers, choices, totals."""
        bits = self.breakdown()
        return to_jsonable(
            {
                "total_bits": self.total_bits,
                "total_nats": self.total_nats,
                "terms_bits": bits,
                "terms_nats": {k: v * LN2 for k, v in bits.items()},
                "value_coding": self.value_coding,
                "codebook": self.codebook,
                "shared_codebook_bits": self.shared_codebook_bits,
                "layers": [c.to_dict() for c in self.layers],
                "choices": [
                    {
                        "name": c.name,
                        "options": c.options,
                        "weight": c.weight,
                        "bits": c.bits,
                        "nats": c.nats,
                    }
                    for c in self.choices
                ],
                "permutation_credit_bits": self.permutation_credit_bits,
                "permutation_credit_applied": False,
            }
        )


def _per_layer(name: str, value: Any, n_layers: int) -> list[int]:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return [check_positive_int(name, value)] * n_layers
    vals = list(value)
    if len(vals) != n_layers:
        raise ValueError(f"{name} needs one value or one per layer ({n_layers}); got {len(vals)}")
    return [check_positive_int(name, v) for v in vals]


def _choice_costs(
    choices: Mapping[str, int] | None, weights: Mapping[str, float] | None
) -> list[ChoiceCost]:
    out: list[ChoiceCost] = []
    for name, k in (choices or {}).items():
        k = check_positive_int(f"choices[{name!r}]", k)
        out.append(ChoiceCost(str(name), k, 1.0 / k, math.log2(k)))
    for name, w in (weights or {}).items():
        if choices and name in choices:
            raise ValueError(f"choice {name!r} is given both in choices and choice_weights")
        ok = isinstance(w, (int, float, np.integer, np.floating)) and not isinstance(w, bool)
        if not ok or not (0.0 < float(w) <= 1.0):
            raise ValueError(f"choice_weights[{name!r}] must be a real number in (0, 1]; got {w!r}")
        out.append(ChoiceCost(str(name), None, float(w), -math.log2(float(w))))
    return out


def _value_terms(
    nnz: int, r: int, counts: np.ndarray | None, coding: str, overhead: float, table: str
) -> tuple[float, float, float]:
    """(symbol bits, count-table bits, overhead bits) of one layer's values."""
    if nnz == 0:
        return 0.0, 0.0, 0.0
    if coding == "fixed":
        return float(fixed_width_bits(nnz, r)), 0.0, 0.0
    assert counts is not None
    return multinomial_bits(counts), float(count_table_bits(nnz, r, table)), overhead


def describe_network(
    layer_slots: Sequence[int],
    layer_nnz: Sequence[int],
    symbol_counts: Sequence[ArrayLike] | None,
    levels: int | Sequence[int],
    *,
    value_coding: str = "fixed",
    codebook: str = "per_layer",
    codebook_kind: str = "table",
    bits_per_codebook_value: float = 32,
    count_table: str = "composition",
    overhead_bits: float = ARITHMETIC_OVERHEAD_BITS,
    choices: Mapping[str, int] | None = None,
    choice_weights: Mapping[str, float] | None = None,
    hidden_widths: Sequence[int] | None = None,
) -> DescriptionLength:
    r"""The description length of a sparse, quantised network, term by term.

    .. math::

        \ell(g) = \underbrace{0}_{\text{architecture}}
        + \sum_{\ell}\Bigl(\lceil\log_2(N_\ell+1)\rceil + \log_2\binom{N_\ell}{q_\ell}
        + V_\ell + C_\ell\Bigr) + C_{\text{shared}}
        + \sum_{\text{choices}}\log_2\frac{1}{w_c},

    with :math:`V_\ell` the values (:func:`fixed_width_bits`, or
    :func:`arithmetic_coding_bits`: count table, symbols given the counts, coder overhead)
    and :math:`C` the codebooks (:func:`codebook_bits`; a layer without non-zeros needs
    none). Each choice made after seeing the data (keep ratio from a grid, method, number of
    levels, :math:`\gamma`, seed, ...) costs :math:`\log_2 k` bits for :math:`k` equally
    weighted options, or :math:`-\log_2 w` for a stated weight :math:`w`: the union bound
    over all choices. Every term is a code fixed before the data, and their concatenation is
    a prefix code, so :math:`\sum_g 2^{-\ell(g)} \le 1`.

    Parameters
    ----------
    layer_slots : sequence of int
        :math:`N_\ell`, the number of weights (and biases) of each layer that the code can
        address.
    layer_nnz : sequence of int
        :math:`q_\ell \le N_\ell`, the non-zeros of each layer.
    symbol_counts : sequence of array_like of int, or None
        Per layer, how often each of its :math:`r_\ell` levels occurs among its non-zeros
        (sums to :math:`q_\ell`; shorter arrays are padded with zeros). Needed for
        ``value_coding="arithmetic"``; checked when given.
    levels : int or sequence of int
        :math:`r_\ell`, the codebook size (one value for all layers, or one per layer).
    value_coding : {"fixed", "arithmetic"}, default "fixed"
    codebook : {"per_layer", "shared", "none"}, default "per_layer"
        "shared": one codebook for all layers (equal ``levels``); "none": a codebook fixed
        before the data (0 bits).
    codebook_kind : {"table", "uniform"}, default "table"
    bits_per_codebook_value : float, default 32
    count_table : {"composition", "fixed"}, default "composition"
    overhead_bits : float, default 2
        Arithmetic coder overhead per layer (:data:`ARITHMETIC_OVERHEAD_BITS`).
    choices : mapping of str to int, optional
        Name -> number :math:`k` of equally weighted options.
    choice_weights : mapping of str to float, optional
        Name -> prior weight :math:`w \in (0, 1]` of the option taken.
    hidden_widths : sequence of int, optional
        Hidden widths for :func:`permutation_credit_bits` (reported, not applied).

    Returns
    -------
    DescriptionLength

    Examples
    --------
    >>> # one layer of 6 slots, 2 non-zeros, 2 levels used once each, fixed-width values
    >>> d = describe_network([6], [2], [[1, 1]], 2, codebook="none")
    >>> # 3 (count in 0..6) + log2 C(6,2) = log2 15 + 2 x 1 bit
    >>> round(d.total_bits, 6), round(3 + math.log2(15) + 2, 6)
    (8.906891, 8.906891)
    """
    slots = [check_positive_int("layer_slots", s) for s in layer_slots]
    nnz = [_int("layer_nnz", q) for q in layer_nnz]
    if len(nnz) != len(slots) or not slots:
        raise ValueError(f"layer_nnz needs one entry per layer of layer_slots ({len(slots)})")
    for i, (q, s) in enumerate(zip(nnz, slots, strict=True)):
        if q > s:
            raise ValueError(f"layer_nnz[{i}] = {q} exceeds layer_slots[{i}] = {s}")
    r = _per_layer("levels", levels, len(slots))
    if value_coding not in _VALUE_CODINGS:
        raise ValueError(
            f"value_coding must be one of {', '.join(_VALUE_CODINGS)}; got {value_coding!r}"
        )
    if codebook not in _CODEBOOKS:
        raise ValueError(f"codebook must be one of {', '.join(_CODEBOOKS)}; got {codebook!r}")
    if codebook == "shared" and len(set(r)) != 1:
        raise ValueError("codebook='shared' needs the same levels for every layer")
    counts = _layer_counts(symbol_counts, nnz, r)
    if value_coding == "arithmetic" and counts is None:
        raise ValueError("value_coding='arithmetic' needs symbol_counts")
    overhead = float(overhead_bits)
    if not math.isfinite(overhead) or overhead < 0:
        raise ValueError(f"overhead_bits must be a finite real number >= 0; got {overhead_bits!r}")
    layers = []
    for i, (s, q, ri) in enumerate(zip(slots, nnz, r, strict=True)):
        c = counts[i] if counts is not None else None
        vbits, tbits, obits = _value_terms(q, ri, c, value_coding, overhead, count_table)
        cb = 0.0
        if codebook == "per_layer" and q > 0:
            cb = codebook_bits(ri, bits_per_codebook_value, codebook_kind)
        layers.append(
            LayerCode(i, s, q, ri, count_bits(s), positions_bits(s, q), vbits, tbits, obits, cb)
        )
    shared = 0.0
    if codebook == "shared" and sum(nnz) > 0:
        shared = codebook_bits(r[0], bits_per_codebook_value, codebook_kind)
    credit = None if hidden_widths is None else permutation_credit_bits(hidden_widths)
    return DescriptionLength(
        layers=layers,
        value_coding=value_coding,
        codebook=codebook,
        shared_codebook_bits=shared,
        choices=_choice_costs(choices, choice_weights),
        permutation_credit_bits=credit,
    )


def _layer_counts(
    symbol_counts: Sequence[ArrayLike] | None, nnz: list[int], r: list[int]
) -> list[np.ndarray] | None:
    if symbol_counts is None:
        return None
    rows = list(symbol_counts)
    if len(rows) != len(nnz):
        raise ValueError(f"symbol_counts needs one array per layer ({len(nnz)}); got {len(rows)}")
    out = []
    for i, row in enumerate(rows):
        c = _counts(f"symbol_counts[{i}]", row, allow_empty=True)
        if c.size > r[i]:
            raise ValueError(f"symbol_counts[{i}] has {c.size} entries but levels is {r[i]}")
        if int(c.sum()) != nnz[i]:
            raise ValueError(
                f"symbol_counts[{i}] sums to {int(c.sum())}, not layer_nnz[{i}] = {nnz[i]}"
            )
        out.append(np.pad(c, (0, r[i] - c.size)))
    return out
