r"""JSON conversion shared by every result type of the package: one policy, strict JSON.

Results (compression reports, guarantee checks, slack searches, bounds tables) are
dataclasses of Python and numpy scalars, arrays and nested containers. :func:`to_jsonable`
turns them into plain JSON values that every JSON parser reads (RFC 8259: no ``NaN`` or
``Infinity`` literals), :func:`to_json` writes them, and :func:`from_jsonable` restores them.

The policy for non-finite numbers
---------------------------------
JSON has no infinity and no NaN, and writing them as strings (``"inf"``) would make a number
field hold a string. So a non-finite float is written as ``null``, and the document's
top-level field ``"non_finite"`` says which ``null`` was which number: it maps the
`JSON Pointer <https://www.rfc-editor.org/rfc/rfc6901>`_ of each to ``"inf"``, ``"-inf"``
or ``"nan"``. The field is present only when some value is non-finite, so a reader that does
not care sees ``null`` ("no finite value") and a reader that does finds the exact value:

.. code-block:: json

    {"certified_eps": null, "layers": [{"draws": 3.0}], "non_finite": {"/certified_eps": "inf"}}

Every ``to_dict()`` of the package and every ``--json`` output of the command line follows it.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

__all__ = ["NON_FINITE_FIELD", "to_jsonable", "from_jsonable", "to_json"]

#: The top-level field that lists the non-finite numbers of a document.
NON_FINITE_FIELD = "non_finite"

_NAMES = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def _pointer_token(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _convert(value: Any, where: str, found: dict[str, str]) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict):
        return {
            str(k): _convert(v, f"{where}/{_pointer_token(str(k))}", found)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_convert(v, f"{where}/{i}", found) for i, v in enumerate(value)]
    if isinstance(value, np.ndarray):
        return _convert(value.tolist(), where, found)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isfinite(v):
            return v
        found[where] = "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
        return None
    raise ValueError(
        f"cannot write a {type(value).__name__} as JSON (at {where or '/'}): results hold "
        "numbers, strings, None, lists and dicts"
    )


def to_jsonable(value: Any) -> Any:
    """Plain, strict JSON values (see the module docstring for the policy).

    numpy scalars and arrays become Python numbers and lists, tuples become lists, dict keys
    become strings, and non-finite floats become ``None`` listed under
    :data:`NON_FINITE_FIELD` (so the top level must then be a dict).

    Raises
    ------
    ValueError
        For a value that is not a number, string, None, list, tuple, dict or numpy array;
        for non-finite numbers in a top level that is not a dict; for a dict that already has
        a ``"non_finite"`` field and non-finite numbers.

    Examples
    --------
    >>> to_jsonable({"a": np.float32(0.5), "b": (1, np.inf), 2: np.arange(2)})
    {'a': 0.5, 'b': [1, None], '2': [0, 1], 'non_finite': {'/b/1': 'inf'}}
    >>> to_jsonable([1.0, 2])
    [1.0, 2]
    """
    found: dict[str, str] = {}
    out = _convert(value, "", found)
    if not found:
        return out
    if not isinstance(out, dict):
        raise ValueError("non-finite numbers need a dict at the top level (to list them)")
    if NON_FINITE_FIELD in out:
        raise ValueError(
            f"a result with non-finite numbers may not have a field {NON_FINITE_FIELD!r}"
        )
    out[NON_FINITE_FIELD] = found
    return out


def to_json(value: Any, **kwargs: Any) -> str:
    """:func:`to_jsonable`, written as strict JSON text (``json.dumps`` options in ``kwargs``).

    >>> to_json({"eps": float("inf")})
    '{"eps": null, "non_finite": {"/eps": "inf"}}'
    """
    return json.dumps(to_jsonable(value), allow_nan=False, **kwargs)


def _resolve(doc: Any, pointer: str) -> tuple[Any, Any]:
    """(container, key) that ``pointer`` designates in ``doc``."""
    if not pointer.startswith("/"):
        raise ValueError(f"not a JSON pointer: {pointer!r}")
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]
    parent: Any = doc
    for token in tokens[:-1]:
        parent = parent[int(token)] if isinstance(parent, list) else parent[token]
    last: Any = int(tokens[-1]) if isinstance(parent, list) else tokens[-1]
    parent[last]  # noqa: B018 - raises when the pointer does not exist
    return parent, last


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _legacy(value: Any) -> Any:
    if isinstance(value, str) and value in _NAMES:
        return _NAMES[value]
    if isinstance(value, dict):
        return {k: _legacy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_legacy(v) for v in value]
    return value


def from_jsonable(value: Any, *, legacy_strings: bool = False) -> Any:
    """Inverse of :func:`to_jsonable`: puts the numbers listed under :data:`NON_FINITE_FIELD`
    back (and drops that field); ``value`` is not modified.

    ``legacy_strings=True`` reads documents of netcoreset 0.1.0, which wrote non-finite
    numbers as the strings ``"inf"``, ``"-inf"`` and ``"nan"``.

    Raises
    ------
    ValueError
        When the ``"non_finite"`` field is malformed or points at something that is not
        ``null`` (a damaged document).

    Examples
    --------
    >>> from_jsonable({"b": [1, None], "non_finite": {"/b/1": "inf"}})
    {'b': [1, inf]}
    >>> from_jsonable({"b": [1, "inf"]}, legacy_strings=True)
    {'b': [1, inf]}
    """
    if legacy_strings:
        value = _legacy(value)
    if not isinstance(value, dict) or NON_FINITE_FIELD not in value:
        return value
    doc = _copy(value)
    listed = doc.pop(NON_FINITE_FIELD)
    if not isinstance(listed, dict):
        raise ValueError(f"damaged document: {NON_FINITE_FIELD!r} must map JSON pointers to names")
    for pointer, name in listed.items():
        try:
            parent, key = _resolve(doc, pointer)
            ok = parent[key] is None and name in _NAMES
        except (KeyError, IndexError, TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(
                f"damaged document: {NON_FINITE_FIELD!r} lists {pointer!r} -> {name!r}, "
                "which is not a null of the document"
            )
        parent[key] = _NAMES[name]
    return doc
