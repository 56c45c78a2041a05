"""Argument checks shared by the whole package.

Every public function validates its inputs with these helpers so that bad input gets a
``ValueError`` that names the argument and the allowed range, never a wrong answer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "check_open_unit",
    "check_positive",
    "check_K",
    "check_nonnegative_array",
    "check_real_array",
    "check_architecture",
    "check_bool",
    "check_int",
    "check_positive_int",
    "check_seed",
    "MAX_EXACT_INT",
    "MAX_SEED",
]

#: Largest integer the float64 formulas represent exactly (:math:`2^{53}`): the default cap
#: of :func:`check_positive_int`, so that a huge integer gets a ``ValueError``, not an
#: ``OverflowError`` or a silently rounded result.
MAX_EXACT_INT = 2**53

#: Largest seed (:math:`2^{64} - 1`, what ``torch.Generator.manual_seed`` accepts).
MAX_SEED = 2**64 - 1


def _is_real_scalar(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _as_float(value: Any) -> float:
    """``float(value)``, with integers too large for a float as infinity (no OverflowError)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def check_open_unit(name: str, value: Any) -> float:
    """Return ``value`` as a float after checking ``0 < value < 1``.

    >>> check_open_unit("eps", 0.1)
    0.1
    >>> check_open_unit("delta", 1.0)
    Traceback (most recent call last):
    ...
    ValueError: delta must be a real number in the open interval (0, 1); got 1.0
    """
    if not _is_real_scalar(value) or not (0.0 < _as_float(value) < 1.0):
        raise ValueError(f"{name} must be a real number in the open interval (0, 1); got {value!r}")
    return float(value)


def check_positive(name: str, value: Any, *, allow_inf: bool = False) -> float:
    """Return ``value`` as a float after checking it is a finite real number ``> 0``.

    >>> check_positive("K", 2)
    2.0
    """
    ok = _is_real_scalar(value) and _as_float(value) > 0.0
    if ok and not allow_inf and not math.isfinite(_as_float(value)):
        ok = False
    if not ok:
        raise ValueError(f"{name} must be a finite real number > 0; got {value!r}")
    return _as_float(value)


def check_K(value: Any, *, name: str = "K", hint: str = "") -> float:
    r"""Return Assumption 1's constant :math:`K` as a float after checking :math:`K > 1`.

    Assumption 1 asks :math:`F_j(M_j/K) \le e^{-1/K'}`; at :math:`K \le 1`,
    :math:`F_j(M_j/K) = 1` and no distribution satisfies it (Baykal et al., 2019,
    Assumption 1). Every entry point that takes :math:`K` (``compress``, the command line,
    and the bounds: ``sample_size``, ``certified_eps``, ``draws_for_eps``,
    ``compressed_size_bound``, ``network_bound``, ``corenet_generalization_bound``, where
    :math:`K` is a required keyword) refuses such a value with this message; ``hint`` says
    what to do instead.

    >>> check_K(2)
    2.0
    >>> check_K(0.5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: K must exceed 1: Assumption 1 asks F_j(M_j/K) <= exp(-1/K'), ...; got K=0.5
    """
    K = check_positive(name, value)
    if K <= 1.0:
        raise ValueError(
            f"{name} must exceed 1: Assumption 1 asks F_j(M_j/K) <= exp(-1/K'), and at "
            f"K <= 1 F_j(M_j/K) = 1; got {name}={value!r}" + (f" ({hint})" if hint else "")
        )
    return K


def check_int(name: str, value: Any, minimum: int, maximum: int) -> int:
    """Return ``value`` as an int after checking it is an integer in ``[minimum, maximum]``.

    Floats are refused, even whole ones (``2.0``): a count is never silently truncated.

    >>> check_int("bisection_steps", 3, 0, 60)
    3
    >>> check_int("trials", 10**9, 1, 10**7)
    Traceback (most recent call last):
    ...
    ValueError: trials must be an integer <= 10000000 (a bound on the work); got 1000000000
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    if value > maximum:
        raise ValueError(
            f"{name} must be an integer <= {maximum} (a bound on the work); got {value!r}"
        )
    return int(value)


def check_positive_int(name: str, value: Any, maximum: int = MAX_EXACT_INT) -> int:
    """Return ``value`` as an int after checking it is an integer ``>= 1`` (and at most
    ``maximum``, by default :data:`MAX_EXACT_INT`).

    >>> check_positive_int("eta", 410)
    410
    """
    return check_int(name, value, 1, maximum)


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` after checking it is ``True`` or ``False`` (numpy booleans too).

    >>> check_bool("tight", False)
    False
    >>> check_bool("bias", "no")
    Traceback (most recent call last):
    ...
    ValueError: bias must be True or False; got 'no'
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def check_real_array(name: str, value: Any) -> np.ndarray:
    """Return ``value`` as a float64 array of any shape (NaN and inf allowed), or raise a
    ``ValueError`` naming ``name`` for anything that is not real numbers.

    >>> check_real_array("eps", [0.1, float("inf")])
    array([0.1, inf])
    """
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(
            f"{name} must be a real number or array of real numbers; got {value!r}"
        ) from None


def check_nonnegative_array(name: str, value: Any) -> np.ndarray:
    """Return ``value`` as a float64 array after checking every entry is finite and ``>= 0``.

    >>> check_nonnegative_array("sensitivity_sum", [1.0, 2.5])
    array([1. , 2.5])
    """
    try:
        arr = np.asarray(value, dtype=np.float64)
    except OverflowError:
        raise ValueError(f"{name} is too large for a float64 (above about 1.8e308)") from None
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be a real number or array of real numbers; got {value!r}"
        ) from exc
    if arr.size and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    if arr.size and np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0; got a minimum of {float(arr.min())!r}")
    return arr


def check_architecture(arch: Sequence[Any] | str) -> tuple[int, ...]:
    """Validate a layer-width list ``(eta^1, ..., eta^L)`` (input width first).

    Accepts a sequence of positive integers or a comma-separated string.

    >>> check_architecture("784,300,100,10")
    (784, 300, 100, 10)
    >>> check_architecture([4])
    Traceback (most recent call last):
    ...
    ValueError: arch must list at least two layer widths (input and output); got (4,)
    """
    if isinstance(arch, str):
        parts = [p.strip() for p in arch.split(",")]
        if any(not p for p in parts):
            raise ValueError(
                f"arch must be a comma-separated list of positive integers; got {arch!r}"
            )
        widths: list[Any] = []
        for p in parts:
            try:
                widths.append(int(p))
            except ValueError:
                raise ValueError(
                    f"arch must be a comma-separated list of positive integers; got {arch!r}"
                ) from None
    elif isinstance(arch, (Sequence, np.ndarray)):
        widths = list(arch)
    else:
        raise ValueError(f"arch must be a sequence of layer widths; got {arch!r}")
    out = []
    for w in widths:
        if (
            isinstance(w, bool)
            or not isinstance(w, (int, np.integer))
            or not 1 <= int(w) <= MAX_EXACT_INT
        ):
            raise ValueError(
                f"arch must contain only integers in [1, 2**53]; got {tuple(widths)!r}"
            )
        out.append(int(w))
    if len(out) < 2:
        raise ValueError(
            f"arch must list at least two layer widths (input and output); got {tuple(out)!r}"
        )
    return tuple(out)


def check_seed(name: str, value: Any) -> int:
    """Return ``value`` as an int after checking it is a seed: an integer in
    ``[0, 2**64 - 1]`` (:data:`MAX_SEED`, the range of ``torch.Generator.manual_seed``).

    >>> check_seed("seed", 7)
    7
    >>> check_seed("seed", -1)
    Traceback (most recent call last):
    ...
    ValueError: seed must be an integer >= 0; got -1
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0; got {value!r}")
    if value > MAX_SEED:
        raise ValueError(f"{name} must be an integer <= 2**64 - 1; got {value!r}")
    return int(value)
