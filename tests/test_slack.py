"""Tests of netcoreset.verification.slack (empirical sample complexity search).

The fake compressors fail with a known probability p(c) that decreases in the draw scale c,
so the true threshold c_true (p(c_true) = delta) is known. Each statistical assertion states its
false-failure rate: soundness (c* >= c_true) holds on the union-bound event of probability
>= 1 - alpha_total = 1 - 1e-6; power assertions bound the chance that a check with p far below
delta fails to say "holds" by binomial tails computed in the test.
"""

from __future__ import annotations

import json
import math

import pytest
import torch
from scipy import stats
from torch import nn

from netcoreset.verification.confidence import clopper_pearson
from netcoreset.verification.slack import DrawScaleFactory, find_slack


def model_1() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 2))


def model_2() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2))


DATA = torch.rand(40, 2, generator=torch.Generator().manual_seed(3))


class ProbFail:
    """Doubles the last layer (every output fails) iff the trial's uniform draw is below p."""

    def __init__(self, p: float) -> None:
        self.p = p

    def __call__(self, model, pool, generator):
        if torch.rand((), generator=generator).item() < self.p:
            last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
            with torch.no_grad():
                last.weight.mul_(2.0)
                last.bias.mul_(2.0)
        return model


class FakeFactory:
    """Layer l fails independently w.p. min(1, a_l / c_l); the trial fails if any layer does."""

    def __init__(self, *a: float) -> None:
        self.a = a

    def p(self, scale) -> float:
        scales = [scale] * len(self.a) if isinstance(scale, (int, float)) else list(scale)
        survive = math.prod(1 - min(1.0, a / c) for a, c in zip(self.a, scales, strict=True))
        return 1 - survive

    def __call__(self, scale):
        return ProbFail(self.p(scale))


def _miss_rate(n: int, alpha: float, delta: float, ps: list[float]) -> float:
    """Union bound on P(some check with true rate p in ps fails to say holds) (CP, n trials)."""
    k_star = max(k for k in range(n + 1) if clopper_pearson(k, n, alpha)[1] <= delta)
    return float(sum(stats.binom.sf(k_star, n, p) for p in ps))


def _outputs_nonzero(model: nn.Module) -> bool:
    with torch.no_grad():
        return bool((model(DATA) != 0).all())


def test_overall_slack_bracket_is_sound_and_powerful():
    fake, delta, n = FakeFactory(0.001), 0.2, 300
    assert _outputs_nonzero(model_1())  # doubling really fails every input
    r = find_slack(
        model_1(),
        DATA,
        0.1,
        delta,
        compressor_factory=fake,
        alpha_total=1e-6,
        c_min=1 / 256,
        trials=n,
        sequential=False,
    )
    # union bound: N = 1 + 8 grid steps + 3 bisection steps, one search
    assert r.max_checks_per_search == 12 and r.alpha_per_check == pytest.approx(1e-6 / 12)
    assert len(r.overall.checks) <= 12
    # soundness (false-failure rate <= alpha_total = 1e-6): c* certified -> p(c*) <= delta
    assert r.overall.status == "found" and r.c is not None
    assert fake.p(r.c) <= delta
    lo, hi = r.overall.bracket
    assert lo < hi == r.c
    for chk in r.overall.checks:
        if chk.verdict == "violated":
            assert fake.p(chk.c) > delta
    # power: the checks at c = 1, 1/2, ..., 1/16 (p <= 0.016) all say holds except with
    # probability <= the bound below, so c* <= 1/16
    ps = [fake.p(2.0**-i) for i in range(5)]
    assert _miss_rate(n, r.alpha_per_check, delta, ps) <= 1e-6
    assert r.c <= 1 / 16 and r.slack >= 16
    assert r.per_layer == [] and r.binding_layer is None
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert d["c"] == r.c and d["overall"]["status"] == "found"
    assert "union bound" in d["error_control"] and len(d["overall"]["checks"]) == len(
        r.overall.checks
    )
    assert "all" in r.summary()


def test_per_layer_finds_the_binding_layer():
    # Layer 0 fails w.p. 0.001/c0, layer 1 w.p. 4e-5/c1. Soundness: c*_0 satisfies
    # p([c*_0, 1]) <= 0.2, so c*_0 >= 0.005 (false-failure <= alpha_total = 1e-6). Power: layer 1's
    # checks at c1 = 1 ... 1/256 all have p <= 0.0112 and say holds except with the probability
    # bounded below, so c*_1 <= 1/256 < 0.005 <= c*_0 and layer 0 binds.
    fake, delta, n = FakeFactory(0.001, 4e-5), 0.2, 250
    r = find_slack(
        model_1(),  # the fake factory ignores the model; n_layers says how many scales to pass
        DATA,
        0.1,
        delta,
        compressor_factory=fake,
        per_layer=True,
        n_layers=2,
        alpha_total=1e-6,
        c_min=1 / 256,
        bisection_steps=1,
        trials=n,
        sequential=False,
    )
    assert len(r.per_layer) == 2
    assert r.alpha_per_check == pytest.approx(1e-6 / (10 * 3))
    c0, c1 = r.per_layer[0].c, r.per_layer[1].c
    assert c0 is not None and fake.p([c0, 1.0]) <= delta
    ps = [fake.p([1.0, 2.0**-i]) for i in range(9)]
    assert max(ps) < 0.012
    assert _miss_rate(n, r.alpha_per_check, delta, ps) <= 1e-6
    assert c1 == 1 / 256 and r.per_layer[1].status == "holds at c_min"
    assert r.per_layer[1].bracket == (None, 1 / 256)
    assert r.binding_layer == 0
    assert "binding layer (largest c*): 0" in r.summary()


def test_search_goes_up_when_the_theorem_budget_is_not_enough():
    # p(c) = 0.3 / c: c = 1 fails (p = 0.3 > delta = 0.2), the grid walks up. Soundness: c* has
    # p <= 0.2, i.e. c* >= 1.5 (false-failure <= 1e-6). Power: the check at c = 16 (p = 0.019)
    # says holds except with the probability bounded below, so c* <= 16.
    fake, delta, n = FakeFactory(0.3), 0.2, 300
    r = find_slack(
        model_1(),
        DATA,
        0.1,
        delta,
        compressor_factory=fake,
        alpha_total=1e-6,
        c_min=0.5,
        c_max=16,
        bisection_steps=2,
        trials=n,
        sequential=False,
    )
    assert r.c is not None and 1.5 <= r.c <= 16 and fake.p(r.c) <= delta
    assert _miss_rate(n, r.alpha_per_check, delta, [fake.p(16.0)]) <= 1e-6
    assert r.slack < 1  # the theorem's budget was too small here
    assert r.overall.checks[0].c == 1.0 and r.overall.checks[0].verdict != "holds"


def test_never_holds_is_reported():
    # Deterministic: every trial fails at every scale.
    r = find_slack(
        model_1(),
        DATA,
        0.1,
        0.2,
        compressor_factory=lambda scale: ProbFail(1.0),
        c_max=8,
        trials=20,
    )
    assert r.overall.status == "never holds" and r.c is None and r.slack is None
    assert [c.c for c in r.overall.checks] == [1.0, 2.0, 4.0, 8.0]
    assert all(c.verdict == "violated" for c in r.overall.checks)
    assert r.overall.bracket == (8.0, None)


def test_draw_scale_factory_and_sampler_integration(monkeypatch):
    import netcoreset.sampler

    seen = []

    def fake_compress(model, data, **kwargs):
        seen.append(kwargs)
        return model

    monkeypatch.setattr(netcoreset.sampler, "compress", fake_compress, raising=False)
    r = find_slack(
        model_2(),
        DATA,
        0.3,
        0.2,
        per_layer=True,
        c_min=0.5,
        bisection_steps=0,
        trials=60,
        sequential=False,
    )
    assert r.c == 0.5 and r.overall.status == "holds at c_min"
    scales = {repr(kw["draw_scale"]) for kw in seen}
    assert {"1.0", "0.5", "[1.0, 1.0]", "[0.5, 1.0]", "[1.0, 0.5]"} <= scales
    assert all(kw["method"] == "corenet" and kw["eps"] == 0.3 and kw["delta"] == 0.2 for kw in seen)
    assert repr(DrawScaleFactory("l1", keep=0.1)) == "DrawScaleFactory('l1', keep=0.1)"
    with pytest.raises(ValueError, match="draw_scale"):
        DrawScaleFactory(draw_scale=2.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"factor": 1.0}, "factor must be a real number > 1"),
        ({"c_min": 2.0}, "c_min <= 1 <= c_max"),
        ({"c_max": 0.5}, "c_min <= 1 <= c_max"),
        ({"bisection_steps": -1}, "bisection_steps"),
        ({"alpha": 0.1}, "alpha is set per check"),
        ({"alpha_total": 0.0}, "alpha_total"),
        ({"eps": 1.0}, "eps must be"),
        ({"compressor_factory": 3}, "compressor_factory must be callable"),
        ({"model": nn.Identity(), "per_layer": True}, "no nn.Linear"),
    ],
)
def test_bad_input(kwargs, match):
    args = {"model": model_1(), "data": DATA, "eps": 0.1, "delta": 0.2}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        find_slack(**args)


# --- slack in draws: certificates compare in the same units -------------------------------


def test_slack_is_measured_in_draws_not_in_scales():
    # Two parts of 1000 and 3 draws at c = 1; each part draws ceil(c m) >= 1. The compressor
    # never fails, so the search goes to c_min = 1e-3: D(c*) = 1 + 1 = 2 draws, not 1.003.
    # The slack of a certificate with 1003 draws is 1003 / 2, where 1/c* would say 1000.
    draws_of = lambda c: float(math.ceil(1000 * c) + math.ceil(3 * c))  # noqa: E731
    exact = lambda scale: lambda m, pool, gen: m  # noqa: E731
    r = find_slack(
        model_1(), DATA, 0.1, 0.2, compressor_factory=exact, c_min=1e-3, factor=10.0,
        bisection_steps=0, trials=60, sequential=False, draws_of=draws_of,
    )  # fmt: skip
    assert r.c == pytest.approx(1e-3) and r.slack == pytest.approx(1000.0)
    assert [k.draws for k in r.overall.checks] == [1003.0, 101.0, 11.0, 2.0]
    assert r.overall.draws == 2.0 and r.overall.draws_bracket == (None, 2.0)
    slack, lower, upper = r.slack_of(1003.0)
    assert slack == lower == pytest.approx(501.5) and upper is None
    assert json.loads(json.dumps(r.to_dict()))["overall"]["draws"] == 2.0


def test_the_slack_table_on_the_theory_page_is_rendered_from_the_committed_result():
    from pathlib import Path

    from netcoreset.verification.slack import render_slack_table

    root = Path(__file__).resolve().parents[1]
    data = json.loads((root / "benchmarks/results/slack_modes_digits.json").read_text())
    table = (root / "docs/results/slack_modes_digits.inc").read_text()
    assert table == render_slack_table(data)
    for name in ("paper", "tight", "holdout"):
        cert = data["certificates"][name]
        assert cert["slack"]["value"] == pytest.approx(
            cert["draws"] / data["shapes"][cert["shape"]]["search"]["overall"]["draws"]
        )
