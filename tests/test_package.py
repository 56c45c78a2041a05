"""The package is installed as netcoreset.{bounds,sampler,verification} with py.typed."""

import importlib
import importlib.resources

import pytest


@pytest.mark.parametrize("name", ["bounds", "sampler", "verification"])
def test_subpackage_installed_with_py_typed(name):
    mod = importlib.import_module(f"netcoreset.{name}")
    assert "site-packages" in (mod.__file__ or ""), "tests must run against the installed package"
    assert importlib.resources.files(mod).joinpath("py.typed").is_file()


def test_bounds_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, netcoreset.bounds; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cli_parser_imports_no_numerics():
    # `netcoreset --help` and a usage error answer at once: building the parser imports
    # neither numpy, scipy, sympy nor torch (each handler imports what it needs).
    import subprocess
    import sys

    code = (
        "import sys; from netcoreset.verification.cli import build_parser; build_parser(); "
        "print(sorted(m for m in ('numpy', 'scipy', 'sympy', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_bounds_loads_scipy_on_first_use():
    # import netcoreset.bounds stays light; the scipy-backed names load on first access and
    # are the same objects as in their modules
    import subprocess
    import sys

    code = (
        "import sys, netcoreset.bounds as b; print('scipy' in sys.modules); "
        "from netcoreset.bounds.generalization import occam_bound; "
        "from netcoreset.bounds.certificate import binomial_upper_bound as u; "
        "print(b.occam_bound is occam_bound, b.binomial_upper_bound is u, "
        "all(hasattr(b, n) for n in b.__all__), callable(b.sample_size))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True", "True", "True", "True"]
