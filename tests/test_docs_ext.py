"""The docs extension that builds the public-only API reference (docs/_ext/netcoreset_docs.py).

Deterministic checks (no randomness): the reference lists the modules the API page names, every
constant of their ``__all__`` is documented and no function is taken for a constant, and
dataclass signatures are shown as Python that Sphinx can parse.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
from _loaders import load_project_module  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _extension():
    return load_project_module("docs/_ext/netcoreset_docs.py", "netcoreset_docs")


def test_api_page_lists_exactly_the_api_modules():
    ext = _extension()
    page = (DOCS / "api" / "index.rst").read_text()
    block = page.split(".. autosummary::", 1)[1].split("\n\n", 2)[1]
    listed = re.findall(r"^\s+(netcoreset\.\S+)$", block, re.M)
    assert tuple(listed) == ext.API_MODULES


def test_constants_are_the_data_of_all():
    ext = _extension()
    data = ext.api_tables()["api_data"]
    assert set(data) == set(ext.API_MODULES)
    import netcoreset.sampler as sampler
    import netcoreset.verification as verification

    sampler_constants = {c["name"] for c in data["netcoreset.sampler"]}
    assert {"METHODS", "CERTIFICATES"} <= sampler_constants
    assert "compress" not in sampler_constants and "CompressionResult" not in sampler_constants
    assert sampler_constants <= set(sampler.__all__)
    # a type alias (Literal[...]) is data, documented with the constants
    assert "Verdict" in {c["name"] for c in data["netcoreset.verification"]}
    assert set(verification.__all__) >= {c["name"] for c in data["netcoreset.verification"]}
    certificates = next(c for c in data["netcoreset.sampler"] if c["name"] == "CERTIFICATES")
    assert certificates["value"] == repr(sampler.CERTIFICATES) and certificates["doc"]


@dataclasses.dataclass
class _Fields:
    a: int
    terms: dict[str, float] = dataclasses.field(default_factory=dict)
    other: list[int] = dataclasses.field(default_factory=lambda: [1])


def test_factory_defaults_become_python():
    ext = _extension()
    signature = "(a: int, terms: dict[str, float] = <factory>, other: list[int] = <factory>)"
    out, annotation = ext._factory_defaults(None, "class", "_Fields", _Fields, {}, signature, "")
    assert out == "(a: int, terms: dict[str, float] = dict(), other: list[int] = ...)"
    assert annotation == ""
    assert ext._factory_defaults(None, "class", "x", _Fields, {}, "(a: int)", None) is None
