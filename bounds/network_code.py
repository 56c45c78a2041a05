r"""Codes for networks whose architecture shrinks after the data: hidden widths and the
subset of inputs in use, in front of :func:`~netcoreset.bounds.describe_network`.

Neuron pruning (CoreNet+) and the removal of hidden units that no longer do anything leave a
network narrower than the architecture declared in advance, and a sparse first layer often
reads only some of the inputs. Coding the smaller matrices saves position bits, but only
once the decoder is told their shape:

* **widths**: each hidden width :math:`h_\ell \in \{0, \dots, H_\ell\}` of a declared
  maximum :math:`H_\ell`, :math:`\lceil\log_2(H_\ell+1)\rceil` bits each
  (:func:`widths_bits`);
* **inputs**: the number :math:`c` of inputs read and which ones,
  :math:`\lceil\log_2(d+1)\rceil + \log_2\binom dc` bits (:func:`input_subset_bits`); the
  first layer's slots are then :math:`h_1(c + 1)` instead of :math:`h_1(d + 1)`.

Both are codes fixed before the data (uniform over their ranges), so prefixing them to the
per-layer code keeps a prefix code: :math:`\sum 2^{-\ell} \le 1`. Whether a network is coded
with the declared shapes, the shrunk widths, or the shrunk widths and an input subset is a
choice made after the data and belongs in the union bound (one more ``choices`` entry).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from numpy.typing import ArrayLike

from .description_length import DescriptionLength, count_bits, describe_network, positions_bits
from .validation import check_positive_int

__all__ = ["widths_bits", "input_subset_bits", "describe_shrunk_network"]


def widths_bits(max_widths: Sequence[int]) -> float:
    r"""Bits of hidden widths :math:`h_\ell \le H_\ell`: :math:`\sum_\ell
    \lceil\log_2(H_\ell + 1)\rceil`.

    .. math::

        \mathrm{bits} = \sum_{\ell\ \mathrm{hidden}} \lceil\log_2(H_\ell + 1)\rceil

    Examples
    --------
    >>> widths_bits([300, 100]), widths_bits([])  # 9 + 7
    (16.0, 0.0)
    """
    return float(sum(count_bits(check_positive_int("max_widths", h)) for h in max_widths))


def input_subset_bits(n_inputs: int, n_live: int) -> float:
    r"""Bits of a subset of :math:`c` of the :math:`d` inputs:
    :math:`\lceil\log_2(d+1)\rceil + \log_2\binom dc`.

    .. math::

        \mathrm{bits}(d, c) = \lceil\log_2(d+1)\rceil + \log_2\binom{d}{c}

    Examples
    --------
    >>> import math
    >>> round(input_subset_bits(4, 2), 9) == round(3 + math.log2(6), 9)
    True
    >>> round(input_subset_bits(784, 500), 1)
    745.4
    """
    d = check_positive_int("n_inputs", n_inputs)
    if isinstance(n_live, bool) or not isinstance(n_live, int) or not 0 <= n_live <= d:
        raise ValueError(f"n_live must be an integer in [0, {d}]; got {n_live!r}")
    return float(count_bits(d) + positions_bits(d, n_live))


def describe_shrunk_network(
    layer_shapes: Sequence[tuple[int, int]],
    layer_nnz: Sequence[int],
    symbol_counts: Sequence[ArrayLike] | None,
    levels: int | Sequence[int],
    *,
    max_widths: Sequence[int] | None = None,
    n_inputs: int | None = None,
    live_inputs: int | None = None,
    **describe_kwargs: Any,
) -> DescriptionLength:
    r"""The description length of a sparse network whose shape is part of the code.

    .. math::

        \ell(g) = \underbrace{\sum_\ell \lceil\log_2(H_\ell+1)\rceil}_{\text{widths}}
        + \underbrace{\lceil\log_2(d+1)\rceil + \log_2\binom dc}_{\text{inputs}}
        + \ell_{\text{describe\_network}}(N_1 = h_1(c+1), N_2, \dots)

    ``layer_shapes`` are the ``(rows, columns)`` of each layer's :math:`[W \mid b]` as
    stored (columns include the bias column; with ``live_inputs``, the first layer's
    columns are the live inputs plus the bias). ``max_widths`` (the declared hidden widths)
    adds :func:`widths_bits`; ``n_inputs`` and ``live_inputs`` add
    :func:`input_subset_bits`. Everything else is passed to
    :func:`~netcoreset.bounds.describe_network`; the added bits are its
    ``architecture`` term.

    Examples
    --------
    >>> import math
    >>> # a 4-input layer shrunk to 2 live inputs (and its bias), 3 non-zeros, fixed width
    >>> d = describe_shrunk_network([(1, 3)], [3], [[2, 1]], 2, n_inputs=4, live_inputs=2,
    ...                             codebook="none")
    >>> round(d.breakdown()["architecture"], 9) == round(3 + math.log2(6), 9), d.layers[0].slots
    (True, 3)
    """
    shapes = [(check_positive_int("rows", r), check_positive_int("columns", c))
              for r, c in layer_shapes]  # fmt: skip
    if max_widths is not None and len(max_widths) != len(shapes) - 1:
        raise ValueError(
            f"max_widths needs one width per hidden layer ({len(shapes) - 1}); "
            f"got {len(max_widths)}"
        )
    if max_widths is not None:
        for i, (h, cap) in enumerate(zip([r for r, _ in shapes[:-1]], max_widths, strict=True)):
            if h > cap:
                raise ValueError(f"hidden layer {i} has {h} units, above its maximum {cap}")
    extra = 0.0 if max_widths is None else widths_bits(max_widths)
    if (n_inputs is None) != (live_inputs is None):
        raise ValueError("give both n_inputs and live_inputs, or neither")
    if n_inputs is not None:
        extra += input_subset_bits(n_inputs, live_inputs)  # type: ignore[arg-type]
    d = describe_network([r * c for r, c in shapes], layer_nnz, symbol_counts, levels,
                         **describe_kwargs)  # fmt: skip
    return dataclasses.replace(d, architecture_bits=d.architecture_bits + extra)
