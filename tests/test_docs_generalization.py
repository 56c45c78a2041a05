"""The ``generalization-curve`` and ``generalization-encoding`` directives render the
exploratory search and the encoding ablation from their committed JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
from _loaders import claims_extension  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs"
ENCODING = DOCS / "results" / "generalization_encoding_fashion.json"
SEARCH = DOCS / "results" / "generalization_fashion.json"


def _extension():
    return claims_extension()


def test_curve_rows_are_the_committed_curve():
    ext = _extension()
    curve = json.loads(SEARCH.read_text())["curve"]
    rows = [ext._curve_row(c) for c in curve]
    assert len(rows) == len(curve)
    for row, c in zip(rows, curve, strict=True):
        assert row[0] == c["setting"] and row[3] == f"{c['bound']:.3f}"
        assert row[6] == f"{c['description_bits']:,.0f}"


def test_encoding_table_computes_the_savings_from_the_rows():
    ext = _extension()
    res = json.loads(ENCODING.read_text())
    text = "\n".join(ext.encoding_lines(res, "corenet+"))
    f32 = ext._ablation_row(res["rows"], "retrained", "corenet+", "float32")
    f16 = ext._ablation_row(res["rows"], "retrained", "corenet+", "float16")
    assert f"{f32['nnz']:,} non-zeros" in text
    assert f"{f32['bits']['fixed/declared']:,.0f} ({f32['bound']['fixed/declared']:.3f})" in text
    saved = f32["bits"]["fixed/declared"] - f32["bits"]["fixed/shrunk"]
    assert f"{saved:,.0f} bits" in text
    assert f"{min(f16['bits'].values()):,.0f}" in text


def test_a_missing_configuration_is_an_error_naming_it():
    ext = _extension()
    res = json.loads(ENCODING.read_text())
    with pytest.raises(KeyError, match="magnitude"):
        ext.encoding_lines(res, "magnitude")
