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
