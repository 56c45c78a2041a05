"""The ``generalization-corollary`` directive renders the corollary's terms from the JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
from _loaders import claims_extension  # noqa: E402
from docutils.core import publish_doctree  # noqa: E402

from netcoreset.bounds import corenet_generalization_bound  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs"
RESULT = DOCS / "results" / "corollary.json"


def _extension():
    return claims_extension()


def _synthetic() -> dict:
    b = corenet_generalization_bound(
        [4, 3, 2], 3, 100, 1.0, 10.0, [[2.0] * 3, [2.0] * 2], [1.5, 1.0], 0.01, K=2.0
    )
    run = {
        "dataset": "mnist",
        "architecture": [4, 3, 2],
        "n": 100,
        "train_error": 0.01,
        "test_error": 0.05,
        "weights": sum(b.slots),
        "weight_layers": 2,
        "max_output_norm": 10.0,
        "sensitivity_set_size": 40,
        "sensitivity_totals": [6.0, 4.0],
        "kappa": 0.5,
        "delta_hats": [1.5, 1.0],
        "delta_hat_products": [1.5, 1.0],
        "weighted_sensitivity": 1.5**2 * 6.0 + 4.0,
        "best": b.to_dict(),
    }
    return {"delta": 0.05, "gammas": [0.5, 1.0, 2.0, 4.0, 8.0], "grid_nats": math.log(5),
            "grid_bits": math.log2(5), "K": 2.0, "bits_per_param": 32.0, "runs": [run]}  # fmt: skip


def _render(result: dict, where: str) -> str:
    text = "\n".join(_extension().corollary_lines(result, where))
    # halt_level 2: any warning or error of the reStructuredText parser fails the test
    tree = publish_doctree(text, settings_overrides={"halt_level": 2, "report_level": 2})
    return tree.astext()


def test_renders_every_term_and_the_bound_from_the_result():
    result = _synthetic()
    best = result["runs"][0]["best"]
    out = _render(result, "results/synthetic.json")
    assert "MNIST" in out and "4-3-2, 100" in out
    assert f"{best['terms']['uncapped']:.4g}, so {best['bound']:.4g}" in out
    assert f"{best['description_bits']:,.0f} bits" in out
    assert "1.61 nats (2.32 bits)" in out  # ln 5 and log2 5: the margin grid
    assert "Provenance not recorded" in out  # no provenance object in the synthetic result


def test_large_and_small_numbers_use_powers_of_ten():
    ext = _extension()
    assert ext._sci(3.93e28) == r":math:`3.93\times 10^{28}`"
    assert ext._sci(2.5e-6) == r":math:`2.50\times 10^{-6}`"
    assert ext._sci(31.99) == "31.99"


@pytest.mark.skipif(not RESULT.is_file(), reason="docs/results/corollary.json not committed")
def test_committed_result_renders_one_column_per_network():
    result = json.loads(RESULT.read_text())
    out = _render(result, "results/corollary.json")
    for run in result["runs"]:
        assert f"{run['best']['bound']:.4g}" in out
        assert f"{run['weights']:,}" in out
    assert {r["dataset"] for r in result["runs"]} == {"digits", "fashion-mnist", "mnist"}
