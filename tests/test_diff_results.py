"""tools/diff_results.py reports every changed result leaf and keeps timings apart."""

from __future__ import annotations

from _loaders import load_project_module

diff = load_project_module("tools/diff_results.py", "diff_results")


def test_changed_results_and_timings_are_told_apart():
    old = {"rows": [{"bound": 0.1, "wall_seconds": 3.0}], "n": 5, "provenance": {"commit": "a"}}
    new = {"rows": [{"bound": 0.2, "wall_seconds": 4.0}], "n": 5, "provenance": {"commit": "b"},
           "extra": True}  # fmt: skip
    results, timings = diff.compare(old, new)
    assert results == [("extra", "<absent>", True), ("rows.0.bound", 0.1, 0.2)]
    assert {p for p, _, _ in timings} == {"rows.0.wall_seconds", "provenance.commit"}


def test_equal_files_and_nan_leaves_report_nothing():
    value = {"a": [1, 2.5, float("nan"), None], "b": {"c": "x"}}
    assert diff.compare(value, {"a": [1, 2.5, float("nan"), None], "b": {"c": "x"}}) == ([], [])


def test_the_source_a_reproduction_ran_on_is_provenance_but_a_code_hash_is_a_result():
    old = {"source_sha256": "a", "reproduced_commit": "c1", "rows": [{"code_sha256": "x"}]}
    new = {"source_sha256": "b", "reproduced_commit": "c2", "rows": [{"code_sha256": "y"}]}
    results, timings = diff.compare(old, new)
    assert results == [("rows.0.code_sha256", "x", "y")]
    assert {p for p, _, _ in timings} == {"source_sha256", "reproduced_commit"}


def test_seconds_load_environment_and_cache_hits_are_not_results():
    old = {"cases": [{"s": 0.1, "n": 3}], "load_before": [0.3], "environment": {"date": "a"},
           "from_cache": False}  # fmt: skip
    new = {"cases": [{"s": 0.2, "n": 4}], "load_before": [1.0], "environment": {"date": "b"},
           "from_cache": True}  # fmt: skip
    results, timings = diff.compare(old, new)
    assert results == [("cases.0.n", 3, 4)]
    assert {p for p, _, _ in timings} == {"cases.0.s", "load_before.0", "environment.date",
                                          "from_cache"}  # fmt: skip
