"""The sympy twins sit next to the numeric modules they mirror, one hop from each other, and
``netcoreset.bounds.symbolic`` still exports every name. Deterministic (no sampling)."""

from __future__ import annotations

import importlib
import inspect
import itertools
import re
import subprocess
import sys

import mpmath
import numpy as np
import pytest
import sympy as sp

import netcoreset.bounds as bounds
from netcoreset.bounds import symbolic

EXPRESSIONS = [n for n in symbolic.__all__ if n.endswith("_expr")]


def _numeric_of(expr_name: str):
    """The numeric function a twin's See Also names first (None for a derivation step)."""
    doc = inspect.getdoc(getattr(symbolic, expr_name)) or ""
    see_also = doc.split("See Also", 1)[1] if "See Also" in doc else ""
    found = re.search(r"netcoreset\.bounds\.([a-z_]+) :", see_also)
    return None if found is None else getattr(bounds, found.group(1))


def test_the_facade_exports_the_twins_themselves():
    for name in symbolic.__all__:
        obj = getattr(symbolic, name)
        module = getattr(obj, "__module__", None)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert module is not None and getattr(importlib.import_module(module), name) is obj


@pytest.mark.parametrize("name", EXPRESSIONS)
def test_each_twin_sits_next_to_its_numeric_function(name):
    numeric = _numeric_of(name)
    if numeric is None:  # a step of a derivation (e.g. Bernstein's exponent, the kl tail)
        return
    twin = getattr(symbolic, name)
    assert twin.__module__ == f"{numeric.__module__}_symbolic", (name, numeric.__module__)
    assert name in (numeric.__doc__ or ""), f"{numeric.__name__} does not name {name}"


def test_every_numeric_module_with_twins_names_its_twin_file():
    modules = {getattr(symbolic, n).__module__ for n in symbolic.__all__ if n.endswith("_expr")}
    for twin in sorted(modules):
        numeric = importlib.import_module(twin.removesuffix("_symbolic"))
        assert f"{twin.rsplit('.', 1)[1]}.py" in (numeric.__doc__ or ""), numeric.__name__


def test_importing_the_bounds_does_not_import_sympy():
    code = "import sys, netcoreset.bounds; print('sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- the PAC-Bayes twins agree with the numeric functions on a grid ---------------------------
# Tolerance: relative 1e-12. Each numeric closed form is a handful of double-precision
# operations (relative rounding error a few times 2**-52 ~ 2.2e-16), raised by 8 ulps on
# purpose so that it is never below the exact value: ~1e-14 in all; the twins are evaluated at
# 40 digits (mpmath). A wrong formula is off by far more than 1e-12 at these points. The kl
# inverses have no closed form: the numeric result must bracket the end of the set that the
# twin's defining inequality describes. A fixed grid: no false failures.

RTOL = 1e-12
_PB_GRID = list(
    itertools.product((0.0, 0.01, 0.3, 0.9), (0.0, 1.0, 100.0, 1e4), (1, 100, 10**6), (1e-6, 0.05))
)


def _pb(expr, *args):
    return sp.lambdify(list(args), expr, modules="mpmath")


def _close(numeric, exact):
    return abs(mpmath.mpf(numeric) - exact) <= RTOL * max(abs(mpmath.mpf(numeric)), abs(exact))


def _kl(L, p):
    """kl(L || p) at 40 digits from the twin (its limit -ln(1 - p) at L = 0)."""
    if L == 0:
        return -mpmath.log(1 - mpmath.mpf(p))
    g = symbolic.GSYM
    return _pb(symbolic.binary_kl_expr(), g.L_hat, g.p)(mpmath.mpf(L), mpmath.mpf(p))


def _brackets(L, u, level):
    """u is the largest p with kl(L || p) <= level, to the float: kl >= level at u, <= just
    below (or u = 1, where nothing is excluded)."""
    below = float(np.nextafter(u, 0.0))
    return u == 1.0 or (_kl(L, u) >= level and _kl(L, below) <= level * (1 + RTOL))


def test_pac_bayes_closed_forms_agree_with_their_twins_on_a_grid():
    g, s, mpf = symbolic.GSYM, symbolic.PSYM, mpmath.mpf
    mcallester = _pb(symbolic.mcallester_bound_expr(), g.L_hat, s.KL, g.n, symbolic.SYM.delta)
    catoni = _pb(symbolic.catoni_bound_expr(), g.L_hat, s.KL, g.n, symbolic.SYM.delta, s.lam, s.G)
    conf = _pb(symbolic.maurer_confidence_nats_expr(), g.n, symbolic.SYM.delta)
    with mpmath.workdps(40):
        for L, kl, n, delta in _PB_GRID:
            args = (mpf(L), mpf(kl), n, mpf(delta))
            assert _close(bounds.maurer_confidence_nats(n, delta), conf(n, mpf(delta)))
            assert _close(bounds.mcallester_bound(L, kl, n, delta), min(1, mcallester(*args)))
            for lam, grid in ((0.5, 1), (2.0, 4), (10.0, 100)):
                exact = min(1, catoni(*args, mpf(lam), grid))
                assert _close(bounds.catoni_bound(L, kl, n, delta, lam, grid), exact)


def test_pac_bayes_kl_inverses_bracket_their_defining_inequalities_on_a_grid():
    g, s, mpf = symbolic.GSYM, symbolic.PSYM, mpmath.mpf
    level = _pb(symbolic.pac_bayes_kl_level_expr(), s.KL, g.n, symbolic.SYM.delta)
    mc_level = _pb(symbolic.monte_carlo_level_expr(), s.delta_prime, s.m)
    assert symbolic.pac_bayes_kl_bound_expr().rhs == symbolic.pac_bayes_kl_level_expr()
    assert symbolic.monte_carlo_error_bound_expr().rhs == symbolic.monte_carlo_level_expr()
    with mpmath.workdps(40):
        for L, kl, n, delta in _PB_GRID:
            u = bounds.pac_bayes_kl_bound(L, kl, n, delta)
            assert _brackets(L, u, level(mpf(kl), n, mpf(delta))), (L, kl, n, delta, u)
            u = bounds.monte_carlo_error_bound(L, n, delta)  # n draws, delta' = delta
            assert _brackets(L, u, mc_level(mpf(delta), n)), (L, n, delta, u)


def test_gaussian_kl_agrees_with_its_twin_on_a_grid():
    s, mpf = symbolic.PSYM, mpmath.mpf
    total = symbolic.gaussian_kl_expr().subs(s.d, 3).doit()  # three weights
    names = [s.mu_q, s.sigma_q, s.mu_p, s.sigma_p]
    args = [b[i] for b in names for i in (1, 2, 3)]
    twin = _pb(total, *args)
    grid = itertools.product((-1.0, 0.0, 2.5), (0.01, 0.3, 1.0), (0.1, 1.0, 4.0))
    with mpmath.workdps(40):
        for mu, sigma_q, sigma_p in grid:
            mq, sq = [mu, 0.0, -mu], [sigma_q, 2 * sigma_q, sigma_q / 3]
            mp, sp_ = [0.0, 0.5, 0.0], [sigma_p, sigma_p, 2 * sigma_p]
            exact = twin(*map(mpf, [*mq, *sq, *mp, *sp_]))
            numeric = bounds.gaussian_kl(mq, sq, mp, sp_)
            assert numeric == exact == 0 or _close(numeric, exact), (mu, sigma_q, sigma_p)


def test_the_pac_bayes_checks_catch_a_wrong_formula(monkeypatch):
    from netcoreset.bounds import pac_bayes_symbolic as twins

    s, g = symbolic.PSYM, symbolic.GSYM
    wrong = twins.catoni_bound_expr().subs(s.G, 1)  # the grid's ln G left out
    twins._compiled_pac_bayes.cache_clear()
    monkeypatch.setattr(twins, "catoni_bound_expr", lambda: wrong)
    try:
        assert twins.check_catoni_solution().passed is False
        check = twins.check_pac_bayes_numeric_agreement(n_trials=3)
        assert check.passed is False and "catoni" in check.residual
    finally:
        twins._compiled_pac_bayes.cache_clear()
    monkeypatch.setattr(twins, "mcallester_bound_expr", lambda: g.L_hat + sp.sqrt(g.c))
    assert twins.check_mcallester_is_pinsker().passed is False
