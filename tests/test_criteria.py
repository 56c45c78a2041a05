"""Criteria of a compressed network's outputs, the held-out certificate for each, the checker
testing each, and compression without a certificate unless one is asked for."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats
from torch import nn

import netcoreset.sampler.pipeline as pipeline
from netcoreset.bounds import binomial_upper_bound
from netcoreset.sampler import (
    CRITERIA,
    certify,
    compress,
    criterion_failures,
    criterion_scores,
    register_criterion,
)
from netcoreset.verification import check_guarantee

from _stats import FALSE_FAILURE_RATE

EXACT = torch.tensor([[3.0, 1.0, -2.0], [0.5, 2.0, 0.0], [1.0, 1.0, 0.0]], dtype=torch.float64)


def test_each_criterion_on_worked_examples():
    approx = torch.tensor([[3.3, 1.0, -2.0], [0.5, 1.0, 0.0], [1.0, 1.2, 0.0]], dtype=EXACT.dtype)
    # row 0: entry 0 off by 10%; row 1: entry 1 off by 50%, margin 1.5 -> 0.5, class kept;
    # row 2: a tie (margin 0) broken the other way: class 1 instead of 0.
    assert criterion_failures("entrywise", approx, EXACT, 0.15).tolist() == [False, True, True]
    assert criterion_failures("entrywise", approx, EXACT, 0.05).tolist() == [True, True, True]
    l2 = [0.3 / math.sqrt(14.0), 1.0 / math.sqrt(4.25), 0.2 / math.sqrt(2.0)]
    np.testing.assert_allclose(criterion_scores("relative-l2", approx, EXACT), l2, rtol=1e-12)
    assert criterion_failures("relative-l2", approx, EXACT, 0.3).tolist() == [False, True, False]
    assert criterion_failures("top1", approx, EXACT).tolist() == [False, False, True]
    # margins of the original's class: 2 -> 2.3 (kept), 1.5 -> 0.5 (a third), 0 -> -0.2
    np.testing.assert_allclose(criterion_scores("margin", approx, EXACT), [0.0, 2 / 3, math.inf])
    assert criterion_failures("margin", approx, EXACT, 0.5).tolist() == [False, True, True]
    assert criterion_failures("margin", approx, EXACT, 0.7).tolist() == [False, False, True]


def test_nan_outputs_fail_every_criterion():
    approx = EXACT.clone()
    approx[1, 2] = math.nan
    for name, eps in (("entrywise", 0.5), ("relative-l2", 0.5), ("top1", None), ("margin", 0.5)):
        assert criterion_failures(name, approx, EXACT, eps).tolist() == [False, True, False]
        assert criterion_scores(name, approx, EXACT)[1] == math.inf


@pytest.mark.parametrize("name", ["entrywise", "relative-l2", "margin"])
def test_failures_are_the_scores_above_eps(name):
    gen = torch.Generator().manual_seed(1)
    exact = torch.randn(400, 6, generator=gen, dtype=torch.float64)
    approx = exact + 0.3 * torch.randn(400, 6, generator=gen, dtype=torch.float64)
    score = criterion_scores(name, approx, exact)
    counts = []
    for eps in (0.05, 0.2, 0.5, 0.9):
        fails = criterion_failures(name, approx, exact, eps)
        assert (fails == (score > eps)).all()
        counts.append(int(fails.sum()))
    assert any(0 < k < 400 for k in counts)  # both outcomes occur: not a vacuous comparison
    assert counts == sorted(counts, reverse=True)  # fewer failures at a larger eps


def test_a_kept_positive_margin_keeps_the_top1_class():
    gen = torch.Generator().manual_seed(2)
    exact = torch.randn(2000, 5, generator=gen)
    approx = exact + 0.5 * torch.randn(2000, 5, generator=gen)
    kept = ~criterion_failures("margin", approx, exact, 0.99)
    assert kept.sum() > 100
    assert not criterion_failures("top1", approx[kept], exact[kept]).any()


def test_bad_criterion_arguments_name_the_problem():
    with pytest.raises(ValueError, match="criterion must be one of"):
        criterion_failures("accuracy", EXACT, EXACT, 0.1)
    with pytest.raises(ValueError, match="takes no eps"):
        criterion_failures("top1", EXACT, EXACT, 0.1)
    with pytest.raises(ValueError, match="needs eps"):
        criterion_failures("margin", EXACT, EXACT)
    with pytest.raises(ValueError, match="open interval"):
        criterion_failures("entrywise", EXACT, EXACT, 1.5)
    assert criterion_failures("relative-l2", EXACT, EXACT, 1.5).tolist() == [False] * 3
    with pytest.raises(ValueError, match="same shape"):
        criterion_failures("entrywise", EXACT[:, :2], EXACT, 0.1)
    with pytest.raises(ValueError, match="at least 2 outputs"):
        criterion_failures("top1", EXACT[:, :1], EXACT[:, :1])
    with pytest.raises(ValueError, match="already registered"):
        register_criterion("top1")(lambda a, b, e: a[:, 0] > 0)


def _pair() -> tuple[nn.Sequential, nn.Sequential]:
    """An original and a 'compressed' network on x in [0, 1]: outputs (x, 1/2) and
    (x, 1/2 + c), c = 0.05. The top-1 class differs exactly for 1/2 < x <= 1/2 + c, so a
    fresh uniform input fails top1 with probability exactly c."""
    original = nn.Sequential(nn.Linear(1, 2))
    compressed = nn.Sequential(nn.Linear(1, 2))
    with torch.no_grad():
        for net, shift in ((original, 0.5), (compressed, 0.55)):
            net[0].weight.copy_(torch.tensor([[1.0], [0.0]]))
            net[0].bias.copy_(torch.tensor([0.0, shift]))
    return original, compressed


def test_certificate_of_an_exact_network():
    original, _ = _pair()
    x = torch.rand(500, 1, generator=torch.Generator().manual_seed(3))
    cert = certify(original, original, x, criterion="margin", eps=0.1, alpha=0.02, candidates=4)
    assert (cert.points, cert.failures, cert.criterion, cert.eps) == (500, 0, "margin", 0.1)
    assert cert.failure_bound == pytest.approx(1.0 - 0.005 ** (1 / 500), rel=1e-9)
    assert cert.delta == pytest.approx(cert.failure_bound + 0.02, rel=1e-12)
    assert original[0].bias.tolist() == [0.0, 0.5]  # never modified


def test_certificate_counts_the_failures_of_a_result():
    gen = torch.Generator().manual_seed(4)
    net = nn.Sequential(nn.Linear(12, 20), nn.ReLU(), nn.Linear(20, 4))
    x = torch.rand(1200, 12, generator=gen)
    res = compress(net, x[:600], keep=0.3, seed=0)
    held = x[600:]
    with torch.no_grad():
        expected = int(criterion_failures("top1", res.model(held), net(held)).sum())
    cert = certify(res, net, held.numpy(), criterion="top1", alpha=0.05)
    assert cert.failures == expected
    assert cert.failure_bound == binomial_upper_bound(expected, 600, 0.05)


def test_certify_refuses_bad_input():
    original, compressed = _pair()
    x = torch.rand(10, 1)
    with pytest.raises(ValueError, match="nn.Module or a CompressionResult"):
        certify("model", original, x)
    with pytest.raises(ValueError, match="takes no eps"):
        certify(compressed, original, x, criterion="top1", eps=0.1)
    with pytest.raises(ValueError, match="alpha"):
        certify(compressed, original, x, criterion="top1", alpha=1.0)
    with pytest.raises(ValueError, match="candidates"):
        certify(compressed, original, x, criterion="top1", candidates=0)
    with pytest.raises(ValueError, match="held_out"):
        certify(compressed, original, torch.full((3, 1), math.nan), criterion="top1")


def test_the_bound_covers_the_true_failure_probability():
    """Coverage of the certificate: for a network failing top1 with probability exactly
    c = 0.05, the event {failure_bound < c} has probability <= alpha = 0.05 per held-out set.
    Over R = 300 independent sets its count is stochastically below Binomial(R, alpha); the
    test fails a correct implementation only when that count exceeds the Binomial's
    (1 - 1e-6)-quantile: false-failure rate <= 1e-6. An implementation reporting the
    observed rate k/n instead misses c in about half the sets and fails."""
    original, compressed = _pair()
    gen = torch.Generator().manual_seed(5)
    rounds, alpha, c = 300, 0.05, 0.05
    missed = 0
    for _ in range(rounds):
        x = torch.rand(200, 1, generator=gen)
        cert = certify(compressed, original, x, criterion="top1", alpha=alpha)
        missed += cert.failure_bound < c
    limit = int(stats.binom.isf(FALSE_FAILURE_RATE, rounds, alpha))
    assert missed <= limit


def test_a_registered_criterion_is_certified():
    @register_criterion("first-sign", uses_eps=False, summary="output 0 changes sign")
    def first_sign(approx, exact, eps):
        return torch.sign(approx[:, 0]) != torch.sign(exact[:, 0])

    try:
        original, compressed = _pair()
        x = torch.linspace(-1.0, 1.0, 201)[:, None]  # output 0 is x in both networks
        assert certify(compressed, original, x, criterion="first-sign").failures == 0
    finally:
        del CRITERIA["first-sign"]


class _Scaled:
    """A compressor returning the model with its outputs scaled by ``factor`` (picklable)."""

    def __init__(self, factor: float) -> None:
        self.factor = factor

    def __call__(self, model, pool, generator):
        out = nn.Sequential(*model, nn.Linear(3, 3, bias=False))
        with torch.no_grad():
            out[-1].weight.copy_(self.factor * torch.eye(3))
        return out


@pytest.mark.parametrize(
    ("criterion", "eps", "expected"),
    [
        ("entrywise", 0.05, "violated"),
        ("entrywise", 0.2, "holds"),
        ("relative-l2", 0.05, "violated"),
        ("relative-l2", 0.2, "holds"),
        ("top1", None, "holds"),
        ("margin", 0.05, "violated"),
        ("margin", 0.2, "holds"),
    ],
)
def test_the_checker_tests_each_criterion(criterion, eps, expected):
    """Scaling every output by 0.9 is an entry-wise, l2 and margin error of exactly 10% on
    every input, and keeps the top-1 class: each verdict is certain (failure probability 0 or
    1; Clopper-Pearson over 60 trials at alpha = 0.01 decides both)."""
    gen = torch.Generator().manual_seed(6)
    model = nn.Sequential(nn.Linear(4, 3))
    x = torch.rand(200, 4, generator=gen)
    with torch.no_grad():  # distinct outputs with a clear top class on every input
        model[0].weight.copy_(torch.tensor([[3.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 0.5, 0]]))
        model[0].bias.copy_(torch.tensor([4.0, 1.0, 0.0]))
    check = check_guarantee(
        model, x, _Scaled(0.9), eps, 0.1, criterion=criterion, trials=60, alpha=0.01
    )
    assert (check.verdict, check.criterion) == (expected, criterion)
    assert check.failures == (60 if expected == "violated" else 0)
    if criterion != "top1":
        np.testing.assert_allclose(check.worst_errors, 0.1, rtol=1e-6)


def test_the_checker_refuses_a_criterion_without_its_eps():
    model = nn.Sequential(nn.Linear(4, 3))
    with pytest.raises(ValueError, match="needs eps"):
        check_guarantee(model, torch.rand(20, 4), _Scaled(1.0), None, 0.1, criterion="margin")


def test_budget_mode_pays_for_no_certificate_unless_asked(monkeypatch):
    gen = torch.Generator().manual_seed(7)
    net = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 3))
    x = torch.rand(400, 10, generator=gen)
    asked = compress(net, x, keep=0.4, seed=0, certificate="paper")

    def refuse(*args, **kwargs):
        raise AssertionError("held-out checks ran without a certificate being asked for")

    monkeypatch.setattr(pipeline, "held_out_statistics", refuse)
    res = compress(net, x, keep=0.4, seed=0)
    rep = res.report
    assert (rep.certificate, rep.certified_eps, rep.certified_delta) == ("none", None, None)
    assert (rep.certification_set_size, rep.held_out, rep.K) == (0, None, None)
    assert "no certificate asked for" in rep.certificate_statement
    # the same weights as the certified compression of the same seed
    for a, b in zip(res.model.parameters(), asked.model.parameters(), strict=True):
        assert torch.equal(a, b)
    assert asked.certified_eps is not None and asked.report.certification_set_size > 0


def test_guarantee_mode_states_its_certificate():
    net = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 2))
    x = torch.rand(300, 6, generator=torch.Generator().manual_seed(8))
    assert compress(net, x, eps=0.5, seed=0).report.certificate == "paper"
    with pytest.raises(ValueError, match="certificate='none' applies to budget mode"):
        compress(net, x, eps=0.5, certificate="none")
    with pytest.raises(ValueError, match="certificate must be one of"):
        compress(net, x, keep=0.5, certificate="top1")


def test_the_verify_command_tests_a_criterion(tmp_path, capsys):
    from netcoreset.verification.cli import main

    plot = tmp_path / "check.png"
    argv = ["verify", "--criterion", "top1", "--keep", "0.5", "--eps", "0.5", "--trials", "3"]
    rc = main([*argv, "--epochs", "1", "--method", "magnitude", "--plot", str(plot)])
    assert rc == 0
    assert "criterion top1, delta=0.1" in capsys.readouterr().out
    assert plot.stat().st_size > 1000


def test_the_holdout_certificate_of_compress_takes_a_criterion():
    gen = torch.Generator().manual_seed(9)
    net = nn.Sequential(nn.Linear(10, 24), nn.ReLU(), nn.Linear(24, 4))
    x = torch.rand(1500, 10, generator=gen)
    args = {"keep": 0.5, "seed": 0, "certificate": "holdout"}
    entry = compress(net, x, **args).report  # the default criterion
    l2 = compress(net, x, criterion="relative-l2", **args).report
    # ||f^ - f|| <= max_k |f^_k - f_k| / |f_k| * ||f|| on every point, so every order
    # statistic of the l2 scores is at most the entry-wise one (same network, same V)
    assert l2.criterion == "relative-l2" and entry.certified_eps is not None
    assert l2.certified_eps <= entry.certified_eps
    assert "criterion relative-l2" in l2.certificate_statement
    top = compress(net, x, criterion="top1", **args).report
    assert top.certified_eps in (0.0, None)
    guarantee = compress(net, x, eps=0.5, seed=0, certificate="holdout", criterion="margin")
    assert guarantee.report.criterion == "margin" and guarantee.report.holdout is not None
    with pytest.raises(ValueError, match="applies to certificate='holdout' only"):
        compress(net, x, keep=0.5, certificate="paper", criterion="top1")
    with pytest.raises(ValueError, match="criterion must be one of"):
        compress(net, x, keep=0.5, certificate="holdout", criterion="accuracy")
