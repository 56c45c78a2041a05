"""The house rules of the code base, checked: one formula one place, no private imports across
packages, short functions, twins that point at each other, a torch pin inside the range."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

import netcoreset.bounds as bounds
from netcoreset.bounds import symbolic

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"bounds": "netcoreset.bounds", "sampler": "netcoreset.sampler"}
PACKAGES["verification"] = "netcoreset.verification"
#: A screen or two: no function body (docstring excluded) longer than this.
MAX_BODY_LINES = 100


def _sources() -> list[tuple[str, Path]]:
    return [(pkg, path) for pkg in PACKAGES for path in sorted((ROOT / pkg).rglob("*.py"))]


def _numeric_twin(name: str):
    if name == "size_term":
        return bounds.compressed_size_bound
    return getattr(bounds, name.removesuffix("_tight"), None)


@pytest.mark.parametrize("name", symbolic.FORMULA_NAMES)
def test_numeric_and_symbolic_twins_point_at_each_other(name):
    base = name.removesuffix("_tight")
    expr = getattr(symbolic, f"{base}_expr")
    numeric = _numeric_twin(name)
    if numeric is None:  # a step of a derivation with no numeric function (e.g. the exponent)
        return
    assert f"{expr.__name__}" in (numeric.__doc__ or ""), f"{numeric.__name__}: See Also"
    assert f"netcoreset.bounds.{numeric.__name__}" in (expr.__doc__ or ""), expr.__name__


def test_no_package_imports_another_packages_private_module():
    offenders = []
    for pkg, path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                parts = node.module.split(".")
                if parts[0] == "netcoreset" and len(parts) > 2 and parts[1] != pkg:
                    if any(p.startswith("_") for p in parts[2:]):
                        offenders.append(f"{path.relative_to(ROOT)}: {node.module}")
    assert not offenders


def test_bounds_imports_neither_torch_nor_the_other_packages():
    for _, path in (s for s in _sources() if s[0] == "bounds"):
        text = path.read_text()
        assert not re.search(r"^\s*(import torch|from torch)", text, re.M), path
        assert "netcoreset.sampler" not in text and "netcoreset.verification" not in text, path


def test_functions_fit_on_a_screen_or_two():
    long = []
    for _, path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                body = node.body
                doc = ast.get_docstring(node, clean=False)
                first = body[1] if doc is not None and len(body) > 1 else body[0]
                lines = node.end_lineno - first.lineno + 1
                if lines > MAX_BODY_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.name} ({lines} lines)")
    assert not long


def test_compress_is_orchestration_only():
    from netcoreset.sampler import compress

    assert len(inspect.getsource(compress).splitlines()) < 150


def test_the_torch_pin_satisfies_the_dependency_range():
    pin = re.search(r"^TORCH_PIN \?= torch==(\S+)$", (ROOT / "Makefile").read_text(), re.M)
    assert pin, "Makefile: TORCH_PIN ?= torch==X.Y.Z"
    text = (ROOT / "pyproject.toml").read_text()
    spec = next(
        Requirement(m) for m in re.findall(r'"(torch[<>=!~][^"]*)"', text) if m.startswith("torch")
    )
    assert Version(pin.group(1)) in spec.specifier


def test_the_bound_command_imports_neither_torch_nor_sympy():
    code = (
        "import sys\n"
        "from netcoreset.verification.cli import main\n"
        "status = main(['bound', 'sample-size', '--sensitivity-sum', '2', '--eps', '0.1', "
        "'--delta', '0.05', '--eta', '410', '--K', '2', '--json'])\n"
        "assert status == 0, status\n"
        "print(sorted(m for m in ('torch', 'sympy', 'hypothesis') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("module", ["bounds", "sampler", "verification"])
def test_every_public_name_is_documented_with_an_example_or_formula(module):
    pkg = importlib.import_module(f"netcoreset.{module}")
    missing = []
    for name in pkg.__all__:
        obj = getattr(pkg, name)
        doc = inspect.getdoc(obj) or ""
        documented = ">>>" in doc or ".. math::" in doc or ":math:" in doc
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and not documented:
            missing.append(name)
    assert not missing
