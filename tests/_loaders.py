"""Load a project file that is not part of the installed package (the docs extensions under
``docs/_ext``, the scripts under ``tools``) as a module, for the tests that check them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def load_project_module(relative: str, name: str, *, register: bool = False) -> ModuleType:
    """The file ``ROOT / relative`` executed as module ``name`` (put in ``sys.modules`` first
    when ``register``, for modules whose dataclasses look themselves up there)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / relative)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    if register:
        sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module


def claims_extension() -> ModuleType:
    """``docs/_ext/netcoreset_claims.py``: the result directives and the ``:result:`` role."""
    return load_project_module("docs/_ext/netcoreset_claims.py", "netcoreset_claims")
