"""The result's headline is what the certificate reaches; a call warns once, at the caller.

Deterministic (fixed seeds, exact comparisons): no false-failure rate to state.
"""

from __future__ import annotations

import warnings

import pytest
import torch

from netcoreset.sampler import CompressionWarning, compress
from netcoreset.sampler.notices import remedy_for, summary_message


def _net_and_data(n: int = 400):
    gen = torch.Generator().manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    net = net.double()
    return net, torch.rand(n, 6, generator=gen, dtype=torch.float64)


def _compress(*args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = compress(*args, **kwargs)
    return res, caught


def test_unreached_delta_is_the_headline_and_warns_once_at_the_caller():
    net, x = _net_and_data()
    res, caught = _compress(net, x, eps=0.5, delta=0.1, seed=0)
    assert res.requested_delta == 0.1 and res.requested_eps == 0.5
    assert res.certified_delta == res.report.certified_delta > 0.1
    assert res.certified_eps == res.report.certified_eps
    assert res.target_reached is False and "target NOT reached" in repr(res)
    ours = [w for w in caught if issubclass(w.category, CompressionWarning)]
    assert len(ours) == 1 and len(caught) == 1  # every finding folded into one warning
    msg = str(ours[0].message)
    assert "delta 0.1 NOT reached" in msg and f"1 - {res.certified_delta:.3g}" in msg
    assert "certificate='holdout'" in msg  # names a remedy
    assert all(note in msg for note in res.report.warnings if "kappa" in note)
    assert ours[0].filename == __file__  # the caller's line, not netcoreset's or torch's


def test_the_old_delta_attribute_does_not_return_the_request():
    net, x = _net_and_data()
    res, _ = _compress(net, x, eps=0.5, seed=0)
    with pytest.raises(AttributeError, match="certified_delta .* requested_delta"):
        res.delta  # noqa: B018


def test_reached_target_is_quiet():
    net, x = _net_and_data()
    res, caught = _compress(net, x, eps=0.5, delta=0.1, seed=0, certificate="holdout")
    assert res.certified_delta <= 0.1 and res.target_reached
    assert caught == [] and "NOT" not in repr(res)


def test_baseline_has_no_target_and_no_warning():
    net, x = _net_and_data()
    res, caught = _compress(net, x, method="magnitude", keep=0.5, seed=0)
    assert res.certified_eps is None and res.target_reached and caught == []
    assert repr(res).endswith("nothing certified)")


def test_warning_filters_apply_to_the_summary():
    net, x = _net_and_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompressionWarning)
        with pytest.raises(CompressionWarning, match="NOT reached"):
            compress(net, x, eps=0.5, seed=0)


def test_cancellation_finding_names_a_remedy():
    finding = (
        "the cancellation assumption behind kappa fails on the held-out points: 5 of 10 (50%) "
        "have Delta^l_i(x) > Delta-hat^l for some layer"
    )
    assert "certificate='holdout'" in remedy_for(finding)
    assert remedy_for("... that are zero on all of S; use more points for S") is None

    class Rep:  # a report whose certificate reaches its request
        method, certificate, certified_eps, certified_delta, delta, eps = (
            "corenet", "paper", 0.5, 0.1, 0.1, 0.5,
        )  # fmt: skip

    assert summary_message(Rep(), []) is None
    one = summary_message(Rep(), [finding])
    assert one.startswith("compress: the cancellation") and "holdout" in one
    two = summary_message(Rep(), [finding, "data has 9 points: |S| capped at 9 (theorem asks 40)"])
    assert two.startswith("compress: 2 findings") and "(2) data has 9 points" in two


def test_check_guarantee_folds_its_trials_warnings_into_one():
    from netcoreset.verification.checker import SamplerCompressor, check_guarantee

    net, x = _net_and_data(200)
    compressor = SamplerCompressor("corenet", eps=0.5, delta=0.3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_guarantee(net, x, compressor, 0.5, 0.3, trials=4, seed=0)
    assert len(caught) == 1 and issubclass(caught[0].category, CompressionWarning)
    assert caught[0].filename == __file__
    lines = str(caught[0].message).splitlines()
    assert lines[0].startswith("check_guarantee: ") and "over 4 compressions" in lines[0]
    assert all("of 4 compressions]" in line for line in lines[1:])
