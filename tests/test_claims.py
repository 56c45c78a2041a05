"""The claims' rules on hand-made results: each rule decides as its documentation says."""

from __future__ import annotations

import pytest

from netcoreset.verification.experiments.claims import evaluate_claims, observations

KEEPS = (0.05, 0.10, 0.15, 0.25, 0.50)


def _row(method, keep, drop, err, std=0.001, runs=5, drops=None):
    return {
        "method": method,
        "keep": keep,
        "runs": runs,
        "accuracy_drop_mean": drop,
        "accuracy_drop_std": std,
        "accuracy_std": std,
        "accuracy_drops": drops if drops is not None else [drop] * runs,
        "error_mean": err,
        "error_std": std,
    }


def _results(table, depth=None, fmt="idx"):
    """``table``: method -> (drop, error) for every keep (drops scale with 1 - keep)."""
    rows = [_row(m, k, d * (1 - k), e * (1 - k)) for m, (d, e) in table.items() for k in KEEPS]
    return {
        "dataset": {"name": "x", "format": fmt},
        "reference_accuracy": 0.9,
        "sweep": {"rows": rows},
        "depth": {"results": depth or []},
    }


GOOD = {
    "corenet": (0.010, 0.30),
    "corenet+": (0.009, 0.25),
    "corenet++": (0.008, 0.20),
    "uniform": (0.20, 1.0),
    "l1": (0.10, 0.8),
    "l2": (0.12, 0.9),
    "svd": (0.30, 0.7),
    "magnitude": (0.005, 0.2),
}


def _verdicts(res):
    return {c["name"]: (c["tested"], c["reproduced"]) for c in evaluate_claims(res)}


def test_all_claims_hold_on_a_favourable_table():
    v = _verdicts(_results(GOOD))
    assert v["size-15-percent"] == (True, True)  # corenet++ loses 0.68 pp at 15%
    assert v["beats-baselines"] == (True, True)
    assert v["variants-ordered"] == (True, True)
    assert v["gap-grows-with-depth"] == (False, False)  # no depth experiment: not tested


def test_size_claim_threshold_is_one_point():
    table = {**GOOD, "corenet": (0.03, 0.3), "corenet+": (0.02, 0.25), "corenet++": (0.0119, 0.2)}
    # 15% kept: 0.0119 * 0.85 = 1.01 pp > 1 pp -> not reproduced
    assert _verdicts(_results(table))["size-15-percent"] == (True, False)
    res = _results(GOOD, fmt="cifar10")
    names = [c["name"] for c in evaluate_claims(res)]
    assert "size-50-percent" in names and "size-15-percent" not in names


def test_one_baseline_with_lower_error_breaks_beats_baselines():
    table = {**GOOD, "svd": (0.30, 0.29)}  # worse accuracy, but lower relative error
    claim = next(c for c in evaluate_claims(_results(table)) if c["name"] == "beats-baselines")
    assert claim["reproduced"] is False
    assert claim["measured"]["supporting"] == claim["measured"]["total"] - len(KEEPS)
    assert "svd at 5% kept (CoreNet's relative error" in claim["summary"]


def test_variant_order_tolerates_noise_but_not_a_significant_reversal():
    noisy = {**GOOD, "corenet++": (0.0091, 0.2)}  # above corenet+ by < 2 standard errors
    assert _verdicts(_results(noisy))["variants-ordered"] == (True, True)
    reversed_ = {**GOOD, "corenet++": (0.02, 0.2)}
    assert _verdicts(_results(reversed_))["variants-ordered"] == (True, False)


def _depth(gaps_by_layer):
    out = []
    for layers, gaps in gaps_by_layer.items():
        base = [0.3] * len(gaps)
        rows = [
            _row("corenet", 0.1, 0, 0, drops=[0.3 - g for g in gaps]),
            *(_row(b, 0.1, 0, 0, drops=base) for b in ("uniform", "l1", "l2", "svd")),
        ]
        out.append({"hidden_layers": layers, "rows": rows})
    return out


@pytest.mark.parametrize(
    "gaps,expected",
    [
        ({2: [0.01, 0.02, 0.015], 3: [0.03, 0.04, 0.035], 4: [0.05, 0.06, 0.055]}, True),
        ({2: [0.05, 0.06, 0.055], 3: [0.03, 0.04, 0.035], 4: [0.01, 0.02, 0.015]}, False),
        ({2: [0.01, 0.09, 0.0], 3: [0.08, 0.0, 0.02], 4: [0.02, 0.1, 0.0]}, False),  # noise
    ],
)
def test_gap_grows_with_depth(gaps, expected):
    claim = next(
        c
        for c in evaluate_claims(_results(GOOD, depth=_depth(gaps)))
        if c["name"] == "gap-grows-with-depth"
    )
    assert claim["tested"] and claim["reproduced"] is expected


def test_observation_compares_magnitude_with_the_best_variant():
    cells = observations(_results(GOOD))[0]["cells"]
    assert [c["keep"] for c in cells] == list(KEEPS)
    assert cells[0]["best_corenet"] == "corenet++"
