"""README.md's result blocks are what the committed result files give: rendering them again
from docs/results/ changes nothing, and a changed result would change the block."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from _loaders import load_project_module

ROOT = Path(__file__).resolve().parents[1]


def _renderer():
    return load_project_module("tools/render_readme.py", "render_readme", register=True)


def test_readme_blocks_match_the_committed_results():
    rr = _renderer()
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert rr.render(text) == text, "README.md is stale: run python tools/render_readme.py"
    assert rr.main(["--check"]) == 0


def test_a_changed_result_changes_the_blocks():
    rr = _renderer()
    runs = rr._cert_runs()
    key = next(k for k, v in runs.items() if v is not None)
    before = rr.render_generalization(runs)
    changed = copy.deepcopy(runs)
    changed[key]["best_per_setting"]["paper"]["bound"] = 0.123456
    after = rr.render_generalization(changed)
    assert "**0.123**" in after and after != before
    claims = rr._claim_runs()
    name = next(k for k, v in claims.items() if v is not None)
    flipped = copy.deepcopy(claims)
    first = flipped[name]["claims"][0]
    first["reproduced"] = not first["reproduced"]
    assert rr.render_claims(flipped) != rr.render_claims(claims)


def test_missing_block_is_named(tmp_path):
    rr = _renderer()
    with pytest.raises(ValueError, match="results:claims"):
        rr.render("no blocks here", {"claims": lambda: "x"})
    block = "<!-- results:claims -->\nold\n<!-- /results:claims -->\n"
    assert rr.render(block, {"claims": lambda: "new"}) == block.replace("old", "new")
