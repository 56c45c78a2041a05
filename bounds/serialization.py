"""JSON conversion shared by every result type of the package.

Results (compression reports, guarantee checks, bounds tables) are dataclasses of Python and
numpy scalars, arrays and nested containers. :func:`to_jsonable` turns them into plain JSON
values and :func:`from_jsonable` restores the non-finite floats.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["to_jsonable", "from_jsonable"]

_NON_FINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def to_jsonable(value: Any) -> Any:
    """Plain JSON values: numpy scalars and arrays become Python numbers and lists, tuples
    become lists, dict keys become strings, and non-finite floats become the strings
    ``"inf"``, ``"-inf"`` and ``"nan"`` (JSON has no infinity).

    >>> to_jsonable({"a": np.float32(0.5), "b": (1, np.inf), 2: np.arange(2)})
    {'a': 0.5, 'b': [1, 'inf'], '2': [0, 1]}
    """
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v
    return value


def from_jsonable(value: Any) -> Any:
    """Inverse of :func:`to_jsonable` for floats: ``"inf"``, ``"-inf"`` and ``"nan"`` become
    floats again (lists stay lists).

    >>> from_jsonable({"b": [1, "inf"]})
    {'b': [1, inf]}
    """
    if isinstance(value, str) and value in _NON_FINITE:
        return _NON_FINITE[value]
    if isinstance(value, dict):
        return {k: from_jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_jsonable(v) for v in value]
    return value
