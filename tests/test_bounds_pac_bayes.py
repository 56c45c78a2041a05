"""PAC-Bayes bounds: hand-computed values, the Gaussian KL against numerical integration, the
order kl <= McAllester, Catoni's grid, and bad input. Deterministic (fixed inputs)."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from scipy import integrate, stats

from netcoreset.bounds import binary_kl, kl_upper
from netcoreset.bounds.pac_bayes import (
    catoni_bound,
    gaussian_kl,
    maurer_confidence_nats,
    mcallester_bound,
    monte_carlo_error_bound,
    pac_bayes_bound,
    pac_bayes_kl_bound,
)


def test_gaussian_kl_against_numerical_integration():
    # KL of two 1-d Gaussians = integral of q ln(q/p); the sum over coordinates is additive
    cases = [(0.3, 0.2, -0.1, 0.5), (0.0, 1.0, 0.0, 1.0), (2.0, 0.05, 1.0, 0.1)]
    total = 0.0
    for mq, sq, mp, sp in cases:
        q, p = stats.norm(mq, sq), stats.norm(mp, sp)
        val, _ = integrate.quad(
            lambda t, q=q, p=p: q.pdf(t) * (q.logpdf(t) - p.logpdf(t)),
            mq - 12 * sq,
            mq + 12 * sq,
            epsabs=1e-13,
        )
        assert gaussian_kl([mq], [sq], [mp], [sp]) == pytest.approx(val, rel=1e-9, abs=1e-12)
        total += val
    mus, sqs, mps, sps = map(list, zip(*cases, strict=True))
    assert gaussian_kl(mus, sqs, mps, sps) == pytest.approx(total, rel=1e-9)


def test_gaussian_kl_has_no_cancellation_near_equal_variances():
    # sigma_q = sigma_p (1 + 1e-9): the bracket is r - 1 - ln r with r = (1 + 1e-9)^2, about
    # 2e-18, computed to full relative precision
    with mpmath.workdps(50):
        r = (1 + mpmath.mpf("1e-9")) ** 2
        exact = float((r - 1 - mpmath.log(r)) / 2)
    got = gaussian_kl([0.0], [1.0 + 1e-9], [0.0], [1.0])
    assert got == pytest.approx(exact, rel=1e-6) and got >= exact


def test_gaussian_kl_broadcasts_a_scalar_prior_and_rejects_bad_input():
    mu = np.array([0.1, -0.2, 0.3])
    assert gaussian_kl(mu, 0.1, 0.0, 0.2) == pytest.approx(
        gaussian_kl(mu, [0.1] * 3, [0.0] * 3, [0.2] * 3)
    )
    with pytest.raises(ValueError, match="sigma_q must be > 0"):
        gaussian_kl([0.0], [0.0], [0.0], [1.0])
    with pytest.raises(ValueError, match="mu_p must be finite"):
        gaussian_kl([0.0], [1.0], [math.nan], [1.0])
    with pytest.raises(ValueError, match="broadcastable"):
        gaussian_kl([0.0, 1.0], [1.0] * 3, [0.0], [1.0])


def test_kl_form_hand_computed_and_inverse():
    n, delta, kl, q = 5000, 0.05, 30.0, 0.04
    rate = (kl + math.log(2 * math.sqrt(n) / delta)) / n
    b = pac_bayes_kl_bound(q, kl, n, delta)
    assert b == kl_upper(q, rate)
    assert binary_kl(q, b) == pytest.approx(rate, rel=1e-9)
    assert maurer_confidence_nats(n, delta) == pytest.approx(math.log(2 * math.sqrt(n) / delta))


def test_mcallester_is_the_pinsker_relaxation_of_the_kl_form():
    for q in (0.0, 0.01, 0.1, 0.3):
        for kl in (0.0, 10.0, 500.0):
            a = pac_bayes_kl_bound(q, kl, 2000, 0.05)
            b = mcallester_bound(q, kl, 2000, 0.05)
            assert a <= b
            rate = (kl + math.log(2 * math.sqrt(2000) / 0.05)) / 2000
            assert b == pytest.approx(min(1.0, q + math.sqrt(rate / 2)), rel=1e-14)


def test_catoni_hand_computed_and_grid_cost():
    q, kl, n, delta, lam = 0.05, 20.0, 1000, 0.05, 1.5
    expect = (1 - math.exp(-lam * q - (kl + math.log(1 / delta)) / n)) / (1 - math.exp(-lam))
    assert catoni_bound(q, kl, n, delta, lam) == pytest.approx(expect, rel=1e-14)
    assert catoni_bound(q, kl, n, delta, lam) >= expect
    # a grid of G values costs ln G: the same as delta / G
    assert catoni_bound(q, kl, n, delta, lam, 4) == pytest.approx(
        catoni_bound(q, kl, n, delta / 4, lam), rel=1e-14
    )
    # minimised over lambda, Catoni's form is kl^-1(q, (KL + ln(1/delta)) / n) (Germain et al.
    # 2009): never below it, and reached on a fine grid of lambda to 1e-4
    best = min(catoni_bound(q, kl, n, delta, v) for v in np.linspace(0.05, 10, 2000))
    inverse = kl_upper(q, (kl + math.log(1 / delta)) / n)
    assert inverse <= best <= inverse * (1 + 1e-4)


def test_monte_carlo_bound_and_the_combined_result():
    assert monte_carlo_error_bound(0.0, 1000, 0.01) == pytest.approx(
        1 - math.exp(-math.log(200) / 1000)
    )
    b = pac_bayes_bound(0.02, 1000, 100.0, 10000, 0.04, 0.01, "mcallester")
    assert b.empirical_error_bound == monte_carlo_error_bound(0.02, 1000, 0.01)
    assert b.bound == mcallester_bound(b.empirical_error_bound, 100.0, 10000, 0.04)
    d = b.to_dict()
    assert d["stochastic"] is True and d["total_delta"] == pytest.approx(0.05)
    c = pac_bayes_bound(0.02, 1000, 100.0, 10000, 0.04, 0.01, "catoni", lambdas=[1.0, 3.0])
    assert c.lam in (1.0, 3.0) and c.bound == min(
        catoni_bound(c.empirical_error_bound, 100.0, 10000, 0.04, v, 2) for v in (1.0, 3.0)
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: pac_bayes_kl_bound(1.5, 0.0, 10, 0.05), "empirical must be a real number in"),
        (lambda: pac_bayes_kl_bound(0.1, -1.0, 10, 0.05), "kl must be a finite real number"),
        (lambda: pac_bayes_kl_bound(0.1, math.inf, 10, 0.05), "kl must be a finite real number"),
        (lambda: mcallester_bound(0.1, 1.0, 0, 0.05), "n must be an integer >= 1"),
        (lambda: catoni_bound(0.1, 1.0, 10, 0.05, 0.0), "lam must be a finite real number > 0"),
        (lambda: catoni_bound(0.1, 1.0, 10, 1.0, 1.0), "delta must be a real number in the open"),
        (lambda: monte_carlo_error_bound(0.1, 10, 0.0), "delta_prime must be a real number"),
        (lambda: pac_bayes_bound(0.1, 10, 1.0, 10, 0.05, 0.05, "bayes"), "form must be one of"),
        (lambda: pac_bayes_bound(0.1, 10, 1.0, 10, 0.05, 0.05, "catoni"), "needs lambdas"),
        (
            lambda: pac_bayes_bound(0.1, 10, 1.0, 10, 0.05, 0.05, "catoni", lambdas=[1.0, 1.0]),
            "must not repeat",
        ),
    ],
)
def test_bad_input_is_refused_with_a_named_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
