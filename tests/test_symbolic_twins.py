"""The sympy twins sit next to the numeric modules they mirror, one hop from each other, and
``netcoreset.bounds.symbolic`` still exports every name. Deterministic (no sampling)."""

from __future__ import annotations

import importlib
import inspect
import re
import subprocess
import sys

import pytest

import netcoreset.bounds as bounds
from netcoreset.bounds import symbolic

EXPRESSIONS = [n for n in symbolic.__all__ if n.endswith("_expr")]


def _numeric_of(expr_name: str):
    """The numeric function a twin's See Also names first (None for a derivation step)."""
    doc = inspect.getdoc(getattr(symbolic, expr_name)) or ""
    see_also = doc.split("See Also", 1)[1] if "See Also" in doc else ""
    found = re.search(r"netcoreset\.bounds\.([a-z_]+) :", see_also)
    return None if found is None else getattr(bounds, found.group(1))


def test_the_facade_exports_the_twins_themselves():
    for name in symbolic.__all__:
        obj = getattr(symbolic, name)
        module = getattr(obj, "__module__", None)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert module is not None and getattr(importlib.import_module(module), name) is obj


@pytest.mark.parametrize("name", EXPRESSIONS)
def test_each_twin_sits_next_to_its_numeric_function(name):
    numeric = _numeric_of(name)
    if numeric is None:  # a step of a derivation (e.g. Bernstein's exponent, the kl tail)
        return
    twin = getattr(symbolic, name)
    assert twin.__module__ == f"{numeric.__module__}_symbolic", (name, numeric.__module__)
    assert name in (numeric.__doc__ or ""), f"{numeric.__name__} does not name {name}"


def test_every_numeric_module_with_twins_names_its_twin_file():
    modules = {getattr(symbolic, n).__module__ for n in symbolic.__all__ if n.endswith("_expr")}
    for twin in sorted(modules):
        numeric = importlib.import_module(twin.removesuffix("_symbolic"))
        assert f"{twin.rsplit('.', 1)[1]}.py" in (numeric.__doc__ or ""), numeric.__name__


def test_importing_the_bounds_does_not_import_sympy():
    code = "import sys, netcoreset.bounds; print('sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
