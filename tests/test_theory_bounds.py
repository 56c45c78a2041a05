"""Theory fidelity in netcoreset.bounds: the error recursion, the union bound over every event,
CoreNet++'s union bound, the held-out certificates, and derivation checks labelled by kind.

Every test here is deterministic (exact arithmetic, exact binomial sums, or the derandomised
``ci`` hypothesis profile): the false-failure rate is 0.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from netcoreset.bounds import (
    amplified_log_ratio,
    binomial_upper_bound,
    candidate_log_ratio,
    delta_hat_product,
    effective_eta,
    eps_prime_exact,
    error_recursion,
    failure_budget,
    holdout_certified_delta,
    layer_eps,
    lemma1_failure,
    max_holdout_failures,
    order_statistic_rank,
    quantile_exceedance,
    sample_size,
    symbolic,
    union_bound_symbolic,
)

# --- item 9: derivation checks say whether they prove or evaluate ---------------------------


def test_every_check_says_proof_or_evaluation():
    checks = symbolic.all_derivation_checks()
    kinds = {c.claim: c.kind for c in checks}
    assert set(kinds.values()) == {"proof", "evaluation"}
    assert symbolic.check_numeric_agreement(n_trials=2).kind == "evaluation"
    assert symbolic.check_bernstein_exponent().kind == "proof"
    with pytest.raises(ValueError, match="kind"):
        symbolic.DerivationCheck("c", "a", True, 0, kind="sampled")


def test_recursion_and_union_bound_are_proved_symbolically():
    for check in (
        symbolic.check_error_split(),
        symbolic.check_error_recursion_step(),
        symbolic.check_error_recursion_induction(),
        symbolic.check_paper_split_within_eps(),
        symbolic.check_exact_split(),
        symbolic.check_union_bound_total(),
        symbolic.check_bernstein_constant(),
        symbolic.check_candidate_union(),
    ):
        assert check.kind == "proof" and check.proved, check.claim


def test_union_bound_check_detects_a_missing_event(monkeypatch):
    # Drop the Delta-hat event: the total is 3 delta / 4 and the check must fail.
    e = symbolic.sp.Symbol(r"\eta_{\mathrm{eff}}", positive=True)
    S = symbolic.SYM
    short = 2 * e * S.tau * (S.delta / (4 * e * S.tau)) + 2 * e * S.n * (S.delta / (8 * e * S.n))
    monkeypatch.setattr(union_bound_symbolic, "union_bound_total_expr", lambda: short)
    assert symbolic.check_union_bound_total().proved is False


# --- item 7: the error recursion -------------------------------------------------------------


@given(
    n_layers=st.integers(1, 6),
    eps=st.floats(0.01, 0.99),
    dh=st.lists(st.floats(1.0, 500.0), min_size=6, max_size=6),
)
def test_paper_and_exact_splits_stay_within_eps(n_layers, eps, dh):
    d = np.asarray(dh[:n_layers])
    products = delta_hat_product(d)
    paper = error_recursion(layer_eps(eps, products), d)
    assert paper <= eps * (1 + 1e-12)
    exact = error_recursion(eps_prime_exact(eps, n_layers) / products, d)
    assert exact <= eps * (1 + 1e-9)
    if n_layers == 1:
        assert exact == pytest.approx(eps, rel=1e-12)


def _forward(ws, x):
    acts, a = [x], x
    for idx, w in enumerate(ws):
        z = a @ w[:, :-1].T + w[:, -1]
        a = torch.relu(z) if idx < len(ws) - 1 else z
        acts.append(a)
    return acts


@pytest.mark.parametrize("seed", range(12))
def test_recursion_bounds_the_error_of_perturbed_parts(seed):
    # Scale every part (sign of a row) by its own factor in [1 - e_l, 1 + e_l]: then each part
    # of layer l is within (1 +- e_l) at every input, and the output's entry-wise relative
    # error must not exceed R_L computed with Delta-hat^l = max_i Delta^l_i(x) at that input.
    gen = torch.Generator().manual_seed(seed)
    widths = [5, 7, 6, 3]
    ws = [
        torch.randn(widths[i + 1], widths[i] + 1, generator=gen, dtype=torch.float64)
        for i in range(3)
    ]
    x = torch.rand(1, 5, generator=gen, dtype=torch.float64)
    acts = _forward(ws, x)
    e_l = [0.01, 0.004, 0.02]
    dh = []
    for idx, w in enumerate(ws):
        a = torch.cat([acts[idx], torch.ones(1, 1, dtype=torch.float64)], 1)
        z = a @ w.T
        dh.append(float(((a.abs() @ w.abs().T) / z.abs()).max()))
    bound = error_recursion(e_l, dh)
    worst = 0.0
    for trial in range(200):
        new = []
        for idx, w in enumerate(ws):
            f = 1 + e_l[idx] * (2 * torch.rand(w.shape[0], 2, generator=gen) - 1)
            if trial == 0:  # the extreme corner: positive parts up, negative parts down
                f = torch.tensor([[1 + e_l[idx], 1 - e_l[idx]]]).expand(w.shape[0], 2)
            new.append(torch.where(w > 0, w * f[:, :1], w * f[:, 1:]).double())
        out = _forward(new, x)[-1]
        rel = ((out - acts[-1]).abs() / acts[-1].abs()).max().item()
        worst = max(worst, rel)
    assert worst <= bound * (1 + 1e-9), (worst, bound)


# --- items 3, 6 and 9: every event of the union bound is counted ------------------------------


def test_signed_inputs_and_candidates_count_their_events():
    arch = (784, 300, 100, 10)
    assert effective_eta(arch) == 410
    assert effective_eta(arch, signed_inputs=True) == 410 + 300
    assert effective_eta(arch, signed_inputs=True, tau=4) == 4 * 710
    fb = failure_budget(arch, 0.1, signed_inputs=True, tau=4)
    sampling, lemma1, kappa_event = fb.events
    assert sampling.count == 2 * 710 * 4 and sampling.total == pytest.approx(0.05)
    assert lemma1.count == 2 * 710 * 785 and lemma1.total <= 0.025
    assert kappa_event.total == pytest.approx(0.025)
    assert fb.total <= 0.1
    # |S| grows with the doubled first-layer events
    plain = failure_budget(arch, 0.1)
    assert fb.sensitivity_set_size_required > plain.sensitivity_set_size_required


def test_too_few_points_raise_the_certified_delta():
    full = failure_budget("64,300,100,10", 0.1)
    capped = failure_budget("64,300,100,10", 0.1, sensitivity_set_size=45)
    assert full.total <= 0.1 < capped.total
    assert capped.total == pytest.approx(0.075 + lemma1_failure(45, 410, 301))  # n = 300 + bias


@given(eta=st.integers(1, 10**6), delta=st.floats(1e-4, 0.5), tau=st.integers(1, 64))
def test_candidates_cost_a_log_tau_never_a_saving(eta, delta, tau):
    rho = candidate_log_ratio(eta, delta, tau)
    assert rho >= 1.0
    assert math.log(8 * eta / delta) * (rho - 1) == pytest.approx(math.log(tau), abs=1e-9)
    assert amplified_log_ratio(eta, delta, tau) <= 1.0 + 1e-12 <= rho + 1e-12


def test_sample_size_with_the_counted_events_is_larger():
    plain = sample_size(2.0, 0.1, 0.1, effective_eta("64,300,100,10"), K=2.0)
    signed = sample_size(2.0, 0.1, 0.1, effective_eta("64,300,100,10", signed_inputs=True), K=2.0)
    assert signed > plain


# --- held-out certificates: exact coverage from binomial sums ---------------------------------


@pytest.mark.parametrize("n", [1, 7, 40, 200])
@pytest.mark.parametrize("alpha", [0.2, 0.01])
def test_clopper_pearson_covers_exactly(n, alpha):
    # P_p(U(F) < p) <= alpha for every p on a fine grid, computed by an exact binomial sum.
    uppers = np.array([binomial_upper_bound(f, n, alpha) for f in range(n + 1)])
    assert np.all(np.diff(uppers) > 0)
    for p in np.linspace(1e-4, 1 - 1e-4, 397):
        miss = stats.binom.pmf(np.arange(n + 1), n, p)[uppers < p].sum()
        assert miss <= alpha * (1 + 1e-9), (n, alpha, p, miss)


@pytest.mark.parametrize("n,p,alpha", [(50, 0.1, 0.05), (1000, 0.01, 0.01), (400, 0.02, 1e-3)])
def test_order_statistic_rank_is_the_largest_valid(n, p, alpha):
    k = order_statistic_rank(n, p, alpha)
    assert k is not None and stats.binom.cdf(k - 1, n, p) <= alpha
    assert stats.binom.cdf(k, n, p) > alpha
    assert quantile_exceedance(n, k, alpha) <= p <= quantile_exceedance(n, k + 1, alpha)


def test_holdout_threshold_is_consistent():
    f_max = max_holdout_failures(800, 0.1, 0.01, candidates=20)
    assert holdout_certified_delta(f_max, 800, 0.01, 20) <= 0.1
    assert holdout_certified_delta(f_max + 1, 800, 0.01, 20) > 0.1
    assert max_holdout_failures(30, 0.1, 0.05) == -1
