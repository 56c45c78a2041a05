"""Symbolic bounds: the derivation checks are proved, can fail, and match the numeric code.

Deterministic (sympy and the derandomised ``ci`` hypothesis profile): no false failures.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import mpmath
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from netcoreset.bounds import (
    _symbolic_agreement,
    certified_eps,
    kappa,
    network_bound,
    network_symbolic,
    sample_size,
    sample_size_symbolic,
    sensitivity_set_size,
    symbolic,
)
from netcoreset.bounds.sample_size import _sample_size
from netcoreset.bounds.symbolic import SYM, DerivationCheck

CHECKS = symbolic.all_derivation_checks()


@pytest.mark.parametrize("check", CHECKS, ids=[c.claim[:40] for c in CHECKS])
def test_every_derivation_check_passes(check):
    assert isinstance(check, DerivationCheck)
    assert check.passed is True
    # proved only when sympy decided it: an evaluation is never reported as a proof
    assert check.proved is (check.kind == "proof")
    assert check.status == ("proved" if check.kind == "proof" else "evaluated")
    assert check.claim and check.assumptions
    assert (check.kind == "evaluation") == ("EVALUATION" in check.claim)
    if check.kind == "proof":  # the symbolic ones leave nothing behind
        res = check.residual
        assert res == 0 or res == sp.S.EmptySet or (res.is_positive is True), res


def test_checks_cover_the_brief():
    claims = " | ".join(c.claim for c in CHECKS)
    assert len(CHECKS) >= 16
    assert "Bernstein" in claims and "eps <= 1" in claims and "32 (L-1)^2" in claims
    assert "8-form" in claims and "tight form" in claims and "BY EVALUATION" in claims
    # generalisation bounds (symbolic section of netcoreset.bounds.generalization)
    assert "ln k" in claims and "Pinsker" in claims and "Chernoff" in claims
    assert "margin shift" in claims and "128 (L-1)^2" in claims and "Kraft" in claims
    assert symbolic.all_derivation_checks() == CHECKS  # cached, same answer


def test_proved_means_a_proof_that_went_through():
    def make(passed, kind):
        return DerivationCheck("c", "a", passed, 0, kind=kind)

    assert [make(True, "proof").proved, make(False, "proof").proved] == [True, False]
    assert [make(True, "evaluation").proved, make(True, "evaluation").passed] == [False, True]
    assert make(False, "evaluation").status == "failed"
    assert sum(c.status == "evaluated" for c in CHECKS) >= 1
    assert sum(c.proved for c in CHECKS) == sum(c.kind == "proof" for c in CHECKS)


def test_derivation_check_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        CHECKS[0].proved = False  # type: ignore[misc]


# --- the checks can fail: break one ingredient and the check must say so -----------------


def test_bernstein_check_detects_a_wrong_exponent(monkeypatch):
    wrong = SYM.m * SYM.eps**2 / (SYM.K * SYM.S * (6 + 3 * SYM.eps))
    monkeypatch.setattr(sample_size_symbolic, "bernstein_exponent_expr", lambda: wrong)
    assert symbolic.check_bernstein_exponent().proved is False


def test_eight_form_check_detects_a_wrong_constant(monkeypatch):
    # with 7 instead of 8 the exponent is >= log only for eps <= 1/2
    seven = 7 * SYM.S * SYM.K * sp.log(8 * SYM.eta / SYM.delta) / SYM.eps**2
    monkeypatch.setattr(sample_size_symbolic, "sample_size_expr", lambda *a, **k: seven)
    check = symbolic.check_eight_form_condition()
    assert check.proved is False
    assert check.residual != sp.S.EmptySet


def test_size_term_check_detects_a_wrong_constant(monkeypatch):
    wrong = (
        16 * (SYM.L - 1) ** 2 * SYM.delta_hat_product**2 * SYM.S_i * SYM.K
        * sp.log(8 * SYM.eta / SYM.delta) / SYM.eps**2
    )  # fmt: skip
    monkeypatch.setattr(network_symbolic, "size_term_expr", lambda integer=True: wrong)
    assert symbolic.check_theorem_size_term().proved is False


@pytest.mark.parametrize("tight", [False, True])
def test_inverse_check_detects_a_wrong_root(monkeypatch, tight):
    c = SYM.K * SYM.S * sp.log(8 * SYM.eta / SYM.delta)
    wrong = (c + sp.sqrt(c**2 + 5 * SYM.m * c)) / SYM.m if tight else sp.sqrt(7 * c / SYM.m)
    monkeypatch.setattr(sample_size_symbolic, "certified_eps_expr", lambda tight=False: wrong)
    assert symbolic.check_certified_eps_inverse(tight=tight).proved is False


def test_numeric_agreement_detects_an_off_by_one(monkeypatch):
    def off_by_one(*a, **k):  # the agreement check's helper, at any K > 0
        return _sample_size(*a, **k) + 1

    monkeypatch.setattr(_symbolic_agreement, "_sample_size", off_by_one)
    check = symbolic.check_numeric_agreement(n_trials=2)
    assert check.proved is False
    assert "sample_size" in check.residual


def test_numeric_agreement_validates_arguments():
    with pytest.raises(ValueError, match="n_trials"):
        symbolic.check_numeric_agreement(n_trials=0)
    with pytest.raises(ValueError, match="rtol"):
        symbolic.check_numeric_agreement(rtol=-1.0)


# --- numeric == symbolic on hypothesis-drawn inputs -----------------------------------------

_ARGS = [SYM.S, SYM.K, SYM.eps, SYM.delta, SYM.eta]
_M8 = sp.lambdify(_ARGS, symbolic.sample_size_expr(False), "mpmath")
_MT = sp.lambdify(_ARGS, symbolic.sample_size_expr(True), "mpmath")
_E8 = sp.lambdify(
    [*_ARGS[:2], SYM.delta, SYM.eta, SYM.m], symbolic.certified_eps_expr(False), "mpmath"
)
_ET = sp.lambdify(
    [*_ARGS[:2], SYM.delta, SYM.eta, SYM.m], symbolic.certified_eps_expr(True), "mpmath"
)
_KAP = sp.lambdify([SYM.eta, SYM.eta_star, SYM.delta], symbolic.kappa_expr(), "mpmath")
_CS = sp.lambdify(
    [SYM.K_prime, SYM.eta, SYM.eta_star, SYM.delta], symbolic.sensitivity_set_size_expr(), "mpmath"
)


def _close(a, b, rtol=1e-12):
    a, b = float(a), float(b)
    return a == b or abs(a - b) <= rtol * max(abs(a), abs(b))


@given(
    st.floats(0.01, 1e4),
    st.floats(1.0, 100.0, exclude_min=True),  # Assumption 1's K > 1
    st.floats(1e-3, 0.999),
    st.floats(1e-6, 0.999),
    st.integers(1, 10**6),
    st.integers(1, 10**12),
)
def test_numeric_equals_symbolic(S, K, eps, delta, eta, m):
    mp = mpmath.mpf
    with mpmath.workdps(40):
        b = (mp(S), mp(K), mp(eps), mp(delta), eta)
        assert _close(sample_size(S, eps, delta, eta, K=K), _M8(*b))
        assert _close(sample_size(S, eps, delta, eta, K=K, tight=True), _MT(*b))
        c = (mp(S), mp(K), mp(delta), eta, m)
        assert _close(certified_eps(m, S, delta, eta, K=K), _E8(*c))
        assert _close(certified_eps(m, S, delta, eta, K=K, tight=True), _ET(*c))
        eta_star = max(1, eta // 3)
        assert _close(kappa(eta, eta_star, delta), _KAP(eta, eta_star, mp(delta)))
        assert _close(
            sensitivity_set_size(eta, eta_star, delta, 3.0), _CS(3, eta, eta_star, mp(delta))
        )


def test_network_layer_matches_symbolic_size_term():
    # 784-300-100-10 at eps=0.1, delta=0.05: each neuron's theorem term with S_i = 2 (S = 1 per
    # part), summed over the layer's width, equals the numeric per-layer bound.
    nb = network_bound("784,300,100,10", 0.1, 0.05, K=2.0)
    term = symbolic.size_term_expr()
    for lb in nb.layers:
        subs = {
            SYM.L: 4,
            SYM.delta_hat_product: sp.Float(lb.delta_hat_product, 40),
            SYM.S_i: 2,
            SYM.K: 2,
            SYM.eta: nb.eta,
            SYM.delta: sp.Float(0.05, 40),
            SYM.eps: sp.Float(0.1, 40),
        }
        assert _close(lb.nnz_bound, lb.width * term.evalf(40, subs=subs))


# --- expressions and LaTeX --------------------------------------------------------------------


@pytest.mark.parametrize("name", symbolic.FORMULA_NAMES)
def test_to_latex_every_formula(name):
    tex = symbolic.to_latex(name)
    lhs, rhs = tex.split(" = ", 1)
    assert lhs and rhs
    assert rhs == symbolic.to_latex(name, equation=False)
    assert isinstance(symbolic.expression(name), sp.Basic)


def test_to_latex_uses_the_paper_symbols():
    assert r"\mathcal{S}" in symbolic.to_latex("sample_size")
    assert r"\varepsilon" in symbolic.to_latex("sample_size")
    assert r"\hat{\Delta}^{\ell\rightarrow}" in symbolic.to_latex("layer_eps")
    assert "32" in symbolic.to_latex("size_term")
    assert r"\eta^{*}" in symbolic.to_latex("kappa")
    assert (
        symbolic.to_latex("eps_prime") == r"\varepsilon' = \frac{\varepsilon}{2 \left(L - 1\right)}"
    )


def test_unknown_formula_name():
    with pytest.raises(ValueError, match=r"^name must be one of"):
        symbolic.to_latex("nope")


def test_importing_bounds_does_not_import_sympy():
    code = (
        "import sys, netcoreset.bounds as b; before = 'sympy' in sys.modules; "
        "b.symbolic.SYM; print(before, 'sympy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
