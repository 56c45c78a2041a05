r"""The checks by evaluation that span several numeric modules: the CoreNet bounds
(``sample_size.py``, ``error_budget.py``, ``amplification.py``, ``network.py``) and the
theory-fidelity functions (``error_budget.py``, ``union_bound.py``) against their sympy twins
at 40 digits. Exported by :mod:`netcoreset.bounds.symbolic`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import sympy as sp

from . import amplification as _amp
from . import error_budget as _eb
from ._symbolic_base import SYM, DerivationCheck, _agreement, _mp, _Record, _rel
from .amplification_symbolic import (
    amplified_log_ratio_expr,
    candidate_log_ratio_expr,
    default_tau_expr,
)
from .error_budget_symbolic import (
    delta_hat_expr,
    delta_hat_product_expr,
    eps_prime_exact_expr,
    eps_prime_expr,
    error_recursion_expr,
    kappa_expr,
    lambda_star_expr,
    layer_eps_expr,
    network_eps_expr,
)

# at any K > 0 (the agreement is checked for K in [0.2, 5]; the public functions need K > 1)
from .network import _compressed_size_bound
from .network_symbolic import size_term_expr
from .sample_size import _certified_eps, _sample_size
from .sample_size import expected_distinct_edges as _expected_distinct_edges
from .sample_size import sensitivity_set_size as _sensitivity_set_size
from .sample_size_symbolic import (
    certified_eps_expr,
    expected_distinct_edges_expr,
    sample_size_expr,
    sensitivity_set_size_expr,
)
from .union_bound_symbolic import effective_eta_expr

__all__ = ["check_numeric_agreement", "check_theory_numeric_agreement"]


def check_numeric_agreement(
    n_trials: int = 20, seed: int = 0, rtol: float = 1e-12
) -> DerivationCheck:
    r"""Compare the numeric functions of :mod:`netcoreset.bounds` with these expressions.

    This check is by EVALUATION, not a proof: for ``n_trials`` random inputs (numpy
    generator seeded with ``seed``) every quantity is computed by the numeric code in floats
    and from the sympy expression at 40 significant digits (``lambdify`` to mpmath), and
    the largest relative difference

    .. math::

        \max \frac{|x_{\text{numeric}} - x_{\text{sympy}}|}{\max(|x_{\text{numeric}}|,
        |x_{\text{sympy}}|)} \le \text{rtol}

    must hold. Quantities: :math:`|S|`, sample size (both forms), certified
    :math:`\varepsilon` (both forms), :math:`\lambda^*`, :math:`\kappa`,
    :math:`\hat\Delta`, :math:`\hat\Delta^{\ell\rightarrow}`, :math:`\varepsilon'`,
    :math:`\varepsilon_\ell`, the network :math:`\varepsilon` certified by the
    :math:`\varepsilon_\ell`, CoreNet++'s :math:`\tau` and log ratio, the per-neuron size
    term and the expected number of distinct edges. The ``residual`` names the largest
    difference and where it occurred.

    Examples
    --------
    >>> check_numeric_agreement(n_trials=2).passed
    True
    """
    return _agreement(
        (_agree_sample_sizes, _agree_error_budget, _agree_expected_edges),
        n_trials,
        seed,
        rtol,
        claim=f"BY EVALUATION (not a proof): numeric bounds functions agree with the sympy "
        f"expressions to relative {rtol:g} on {n_trials} random inputs (seed {seed})",
        assumptions="S in [0.5, 50], K in [0.2, 5], K' in [0.5, 6], eps in [0.01, 0.99], "
        "delta in [0.001, 0.5], eta in [1, 5000], 2 <= L <= 6, m in [1, 1e9]",
    )


@functools.lru_cache(maxsize=1)
def _compiled() -> dict[str, Callable[..., Any]]:
    """The expressions as mpmath functions (lambdify once)."""
    s = SYM
    base = [s.S, s.K, s.eps, s.delta, s.eta]
    return {
        "sensitivity_set_size": _mp(
            sensitivity_set_size_expr(), [s.K_prime, s.eta, s.eta_star, s.delta]
        ),
        "sample_size": _mp(sample_size_expr(False), base),
        "sample_size_tight": _mp(sample_size_expr(True), base),
        "certified_eps": _mp(certified_eps_expr(False), [*base, s.m]),
        "certified_eps_tight": _mp(certified_eps_expr(True), [*base, s.m]),
        "lambda_star": _mp(lambda_star_expr(), [s.eta, s.eta_star]),
        "kappa": _mp(kappa_expr(), [s.eta, s.eta_star, s.delta]),
        "delta_hat": _mp(delta_hat_expr(), [s.delta_bar, s.kappa]),
        "eps_prime": _mp(eps_prime_expr(), [s.eps, s.L]),
        "layer_eps": _mp(layer_eps_expr(), [s.eps, s.L, s.delta_hat_product]),
        "network_eps": _mp(network_eps_expr(), [s.L, s.delta_hat_product, s.eps_l]),
        "default_tau": _mp(default_tau_expr(), [s.delta]),
        "amplified_log_ratio": _mp(amplified_log_ratio_expr(), [s.eta, s.delta, s.tau]),
        "size_term": _mp(
            size_term_expr(), [s.S_i, s.K, s.eps, s.delta, s.eta, s.L, s.delta_hat_product]
        ),
    }


def _agree_sample_sizes(rng: np.random.Generator, record: _Record) -> None:
    import mpmath

    f, mpf = _compiled(), mpmath.mpf
    S, K, kp = (
        float(rng.uniform(0.5, 50.0)),
        float(rng.uniform(0.2, 5.0)),
        float(rng.uniform(0.5, 6.0)),
    )
    eps, delta = float(rng.uniform(0.01, 0.99)), float(rng.uniform(1e-3, 0.5))
    eta = int(rng.integers(1, 5000))
    eta_star, m = int(rng.integers(1, eta + 1)), int(rng.integers(1, 10**9))
    b = [mpf(S), mpf(K), mpf(eps), mpf(delta), eta]
    record(
        "sensitivity_set_size",
        _sensitivity_set_size(eta, eta_star, delta, kp),
        f["sensitivity_set_size"](mpf(kp), eta, eta_star, mpf(delta)),
    )
    record("sample_size", _sample_size(S, eps, delta, eta, K), f["sample_size"](*b))
    record(
        "sample_size_tight",
        _sample_size(S, eps, delta, eta, K, tight=True),
        f["sample_size_tight"](*b),
    )
    record("certified_eps", _certified_eps(m, S, delta, eta, K), f["certified_eps"](*b, m))
    record(
        "certified_eps_tight",
        _certified_eps(m, S, delta, eta, K, tight=True),
        f["certified_eps_tight"](*b, m),
    )
    record("lambda_star", _eb.lambda_star(eta, eta_star), f["lambda_star"](eta, eta_star))
    record("kappa", _eb.kappa(eta, eta_star, delta), f["kappa"](eta, eta_star, mpf(delta)))
    tau = int(rng.integers(1, 12))
    record("default_tau", _amp.default_tau(delta), f["default_tau"](mpf(delta)))
    record(
        "amplified_log_ratio",
        _amp.amplified_log_ratio(eta, delta, tau),
        f["amplified_log_ratio"](eta, mpf(delta), tau),
    )


def _agree_error_budget(rng: np.random.Generator, record: _Record) -> None:
    import mpmath

    f, mpf, s = _compiled(), mpmath.mpf, SYM
    K, eps, delta = (
        float(rng.uniform(0.2, 5.0)),
        float(rng.uniform(0.01, 0.99)),
        float(rng.uniform(1e-3, 0.5)),
    )
    eta, L = int(rng.integers(1, 5000)), int(rng.integers(2, 7))
    kap = _eb.kappa(eta, max(1, eta // 2), delta)
    for mu in rng.uniform(1.0, 20.0, size=L - 1):
        record("delta_hat", _eb.delta_hat([mu, 1.0], kap), f["delta_hat"](mpf(mu), mpf(kap)))
    dh = rng.uniform(1.0, 300.0, size=L - 1)
    products = _eb.delta_hat_product(dh)
    eps_l = _eb.layer_eps(eps, products)
    record("eps_prime", _eb.eps_prime(eps, L - 1), f["eps_prime"](mpf(eps), L))
    record(
        "network_eps",
        _eb.network_eps(eps_l, products),
        max(
            f["network_eps"](L, mpf(float(d)), mpf(float(e)))
            for d, e in zip(products, eps_l, strict=True)
        ),
    )
    s_i = rng.uniform(0.0, 40.0, size=L - 1)
    sizes = _compressed_size_bound([[float(v)] for v in s_i], products, eps, delta, eta, K)
    layer_syms = [s.delta_hat_indexed[k] for k in range(2, L + 1)]
    for idx in range(L - 1):
        prod = delta_hat_product_expr().subs({s.ell: idx + 2, s.L: L}).doit()
        value = _mp(prod, layer_syms)(*(mpf(float(v)) for v in dh))
        record("delta_hat_product", products[idx], value)
        product = mpf(float(products[idx]))
        record("layer_eps", eps_l[idx], f["layer_eps"](mpf(eps), L, product))
        record(
            "size_term",
            sizes[idx],
            f["size_term"](mpf(float(s_i[idx])), mpf(K), mpf(eps), mpf(delta), eta, L, product),
        )


def _agree_expected_edges(rng: np.random.Generator, record: _Record) -> None:
    import mpmath

    s, mpf = SYM, mpmath.mpf
    n_edges = int(rng.integers(1, 30))
    q = rng.dirichlet(np.ones(n_edges))
    draws = int(rng.integers(0, 400))
    ede = expected_distinct_edges_expr().subs(s.n, n_edges).doit()
    f_ede = _mp(ede, [s.m, *(s.q[i] for i in range(1, n_edges + 1))])
    record(
        "expected_distinct_edges",
        _expected_distinct_edges(q, draws),
        f_ede(draws, *(mpf(float(v)) for v in q)),
    )


def check_theory_numeric_agreement(n_trials: int = 20, seed: int = 1) -> DerivationCheck:
    r"""BY EVALUATION: the numeric twins of this section agree with the expressions.

    :func:`~netcoreset.bounds.eps_prime_exact`, :func:`~netcoreset.bounds.error_recursion`
    (one step at a time), :func:`~netcoreset.bounds.effective_eta`,
    :func:`~netcoreset.bounds.candidate_log_ratio` and the union bound's total
    (:func:`~netcoreset.bounds.failure_budget` at the theorem's :math:`|S|`, which must not
    exceed :math:`\delta`) on ``n_trials`` random inputs, relative tolerance :math:`10^{-12}`.

    .. math::

        \max \frac{|x_{\text{numeric}} - x_{\text{sympy}}|}{\max(|x_{\text{numeric}}|,
        |x_{\text{sympy}}|)} \le 10^{-12}

    Examples
    --------
    >>> check_theory_numeric_agreement(n_trials=3).kind
    'evaluation'
    """
    from .error_budget import eps_prime_exact, error_recursion
    from .union_bound import effective_eta, failure_budget

    rng = np.random.default_rng(seed)
    worst = 0.0
    s_sym, eta2 = sp.Symbol("s", nonnegative=True), sp.Symbol(r"\eta^{2}", positive=True)
    r_prev = sp.Symbol(r"R_{\ell-1}", nonnegative=True)
    f_ep = sp.lambdify([SYM.eps, SYM.L], eps_prime_exact_expr())
    f_rec = sp.lambdify([SYM.delta_hat, SYM.eps_l, r_prev], error_recursion_expr())
    f_eta = sp.lambdify([SYM.tau, SYM.eta, s_sym, eta2], effective_eta_expr())
    f_rho = sp.lambdify([SYM.eta, SYM.delta, SYM.tau], candidate_log_ratio_expr())
    budget_ok = True
    for _ in range(n_trials):
        widths = [int(v) for v in rng.integers(1, 400, size=int(rng.integers(2, 6)))]
        eps, delta = float(rng.uniform(0.01, 0.99)), float(rng.uniform(1e-3, 0.5))
        tau, signed = int(rng.integers(1, 9)), bool(rng.integers(0, 2))
        L = len(widths)
        worst = max(worst, _rel(eps_prime_exact(eps, L - 1), f_ep(eps, L)))
        e_l = rng.uniform(0, 0.05, size=L - 1)
        d_l = rng.uniform(1.0, 3.0, size=L - 1)
        r = 0.0
        for e, d in zip(e_l, d_l, strict=True):
            r = float(f_rec(d, e, r))
        if r <= 1.0:
            worst = max(worst, _rel(error_recursion(e_l, d_l), r))
        eta_sym = f_eta(tau, sum(widths[1:]), int(signed), widths[1])
        worst = max(worst, _rel(effective_eta(widths, signed_inputs=signed, tau=tau), eta_sym))
        eta = sum(widths[1:])
        worst = max(worst, _rel(_amp.candidate_log_ratio(eta, delta, tau), f_rho(eta, delta, tau)))
        fb = failure_budget(widths, delta, signed_inputs=signed, tau=tau)
        budget_ok = budget_ok and fb.total <= delta * (1 + 1e-12)
    return DerivationCheck(
        claim=f"BY EVALUATION (not a proof): eps_prime_exact, error_recursion, effective_eta, "
        f"candidate_log_ratio agree with their sympy twins to 1e-12, and the union bound at "
        f"the theorem's |S| is <= delta, on {n_trials} random inputs (seed {seed})",
        assumptions="2 to 5 layers of width 1..399, eps in [0.01, 0.99], delta in [0.001, 0.5], "
        "tau in 1..8",
        proved=bool(worst <= 1e-12 and budget_ok),
        residual=f"max relative difference {worst:.3g}",
        kind="evaluation",
    )
