r"""CoreNet's formulas as sympy expressions, their LaTeX, and derivation checks sympy proves.

The numeric functions of :mod:`netcoreset.bounds` compute the paper's quantities with floats;
this module states the same quantities once more, as :mod:`sympy` expressions written with the
paper's symbols (:data:`SYM`), so that

* the documentation and the command line can print them (:func:`to_latex`), and
* the steps that lead from Bernstein's inequality to the sample size, from the per-layer
  error :math:`\varepsilon_\ell` to the size theorem, and from the sample size back to the
  certified :math:`\varepsilon` are *proved* by sympy (:func:`all_derivation_checks`): every
  check reduces its claim to an identity or an inequality that sympy decides exactly, with
  no sampling, except :func:`check_numeric_agreement` and
  :func:`check_theory_numeric_agreement`, which compare the numeric code with these
  expressions by evaluation and say so (:attr:`DerivationCheck.kind` is ``"evaluation"``
  and :attr:`DerivationCheck.proved` is ``False``; :attr:`DerivationCheck.passed` says
  whether a check of either kind succeeded).

Each twin sits next to the numeric module it mirrors, and every name is exported here:

================================  =========================================
numeric module                    its sympy twins
================================  =========================================
``bounds/sample_size.py``         ``bounds/sample_size_symbolic.py``
``bounds/error_budget.py``        ``bounds/error_budget_symbolic.py``
``bounds/amplification.py``       ``bounds/amplification_symbolic.py``
``bounds/network.py``             ``bounds/network_symbolic.py``
``bounds/union_bound.py``         ``bounds/union_bound_symbolic.py``
``bounds/certificate.py``         ``bounds/certificate_symbolic.py``
``bounds/generalization.py``      ``bounds/generalization_symbolic.py``
``bounds/description_length.py``  ``bounds/description_length_symbolic.py``
``bounds/pac_bayes.py``           ``bounds/pac_bayes_symbolic.py``
================================  =========================================

The symbols and :class:`DerivationCheck` are shared (``bounds/_symbolic_base.py``), as are
the two checks by evaluation that span several modules (``bounds/_symbolic_agreement.py``);
this module adds the catalogue of formulas (:data:`FORMULA_NAMES`, :func:`expression`,
:func:`to_latex`) and :func:`all_derivation_checks`. A numeric function's docstring names its
twin under See Also, and the twin names it back.

sympy is imported by these modules only; ``import netcoreset.bounds`` stays fast and loads
them on first access of ``netcoreset.bounds.symbolic``.

Examples
--------
>>> from netcoreset.bounds import symbolic
>>> print(symbolic.to_latex("eps_prime"))
\varepsilon' = \frac{\varepsilon}{2 \left(L - 1\right)}
>>> checks = symbolic.all_derivation_checks()
>>> all(c.passed for c in checks), sorted({c.status for c in checks})
(True, ['evaluated', 'proved'])
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import sympy as sp

from ._symbolic_agreement import (
    check_numeric_agreement,
    check_theory_numeric_agreement,
)
from ._symbolic_base import (
    GSYM,
    SYM,
    DerivationCheck,
    GeneralizationSymbols,
    PaperSymbols,
)
from .amplification_symbolic import (
    amplified_log_ratio_expr,
    candidate_log_ratio_expr,
    check_candidate_union,
    default_tau_expr,
)
from .certificate_symbolic import (
    check_order_statistic_duality,
)
from .description_length_symbolic import (
    arithmetic_coding_bits_expr,
    check_layer_code_kraft,
    codebook_bits_expr,
    count_bits_expr,
    count_table_bits_expr,
    fixed_width_bits_expr,
    multinomial_bits_expr,
    permutation_credit_bits_expr,
    positions_bits_expr,
)
from .error_budget_symbolic import (
    check_error_recursion_induction,
    check_error_recursion_step,
    check_error_split,
    check_exact_split,
    check_paper_split_within_eps,
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
from .generalization_symbolic import (
    binary_kl_expr,
    binomial_tail_expr,
    check_chernoff_kl,
    check_corollary_constants,
    check_forms_agree_at_zero_errors,
    check_generalization_numeric_agreement,
    check_margin_shift,
    check_pinsker,
    check_union_bound_cost,
    chernoff_tail_expr,
    corollary_eps_expr,
    corollary_size_term_expr,
    margin_compression_bound_expr,
    occam_binomial_level_expr,
    occam_hoeffding_expr,
    occam_rate_expr,
    prior_cost_nats_expr,
    union_bound_nats_expr,
)
from .network_symbolic import (
    check_theorem_size_term,
    size_term_expr,
)
from .pac_bayes_symbolic import (
    PSYM,
    PacBayesSymbols,
    catoni_bound_expr,
    check_catoni_solution,
    check_gaussian_kl_nonnegative,
    check_mcallester_is_pinsker,
    check_pac_bayes_numeric_agreement,
    gaussian_kl_expr,
    maurer_confidence_nats_expr,
    maurer_xi_expr,
    mcallester_bound_expr,
    monte_carlo_error_bound_expr,
    monte_carlo_level_expr,
    pac_bayes_kl_bound_expr,
    pac_bayes_kl_level_expr,
)
from .sample_size_symbolic import (
    bernstein_exponent_expr,
    bernstein_exponent_general_expr,
    certified_eps_expr,
    check_bernstein_constant,
    check_bernstein_exponent,
    check_certified_eps_inverse,
    check_eight_form_condition,
    check_failure_probability,
    check_log_term_positive,
    expected_distinct_edges_expr,
    sample_size_expr,
    sensitivity_set_size_expr,
)
from .union_bound_symbolic import (
    check_union_bound_total,
    effective_eta_expr,
    union_bound_total_expr,
)

__all__ = [
    "SYM",
    "PaperSymbols",
    "sensitivity_set_size_expr",
    "sample_size_expr",
    "certified_eps_expr",
    "bernstein_exponent_expr",
    "lambda_star_expr",
    "kappa_expr",
    "delta_hat_expr",
    "delta_hat_product_expr",
    "eps_prime_expr",
    "layer_eps_expr",
    "network_eps_expr",
    "default_tau_expr",
    "amplified_log_ratio_expr",
    "size_term_expr",
    "expected_distinct_edges_expr",
    "FORMULA_NAMES",
    "expression",
    "to_latex",
    "DerivationCheck",
    "check_log_term_positive",
    "check_bernstein_exponent",
    "check_failure_probability",
    "check_eight_form_condition",
    "check_theorem_size_term",
    "check_certified_eps_inverse",
    "check_numeric_agreement",
    "GeneralizationSymbols",
    "GSYM",
    "binary_kl_expr",
    "occam_rate_expr",
    "occam_hoeffding_expr",
    "binomial_tail_expr",
    "occam_binomial_level_expr",
    "chernoff_tail_expr",
    "union_bound_nats_expr",
    "prior_cost_nats_expr",
    "margin_compression_bound_expr",
    "corollary_eps_expr",
    "corollary_size_term_expr",
    "count_bits_expr",
    "positions_bits_expr",
    "fixed_width_bits_expr",
    "count_table_bits_expr",
    "multinomial_bits_expr",
    "arithmetic_coding_bits_expr",
    "codebook_bits_expr",
    "permutation_credit_bits_expr",
    "check_union_bound_cost",
    "check_pinsker",
    "check_chernoff_kl",
    "check_forms_agree_at_zero_errors",
    "check_margin_shift",
    "check_corollary_constants",
    "check_layer_code_kraft",
    "check_generalization_numeric_agreement",
    "all_derivation_checks",
    "error_recursion_expr",
    "eps_prime_exact_expr",
    "effective_eta_expr",
    "union_bound_total_expr",
    "candidate_log_ratio_expr",
    "bernstein_exponent_general_expr",
    "check_error_split",
    "check_error_recursion_step",
    "check_error_recursion_induction",
    "check_paper_split_within_eps",
    "check_exact_split",
    "check_union_bound_total",
    "check_bernstein_constant",
    "check_candidate_union",
    "check_order_statistic_duality",
    "check_theory_numeric_agreement",
    "PacBayesSymbols",
    "PSYM",
    "gaussian_kl_expr",
    "maurer_confidence_nats_expr",
    "maurer_xi_expr",
    "pac_bayes_kl_level_expr",
    "pac_bayes_kl_bound_expr",
    "mcallester_bound_expr",
    "catoni_bound_expr",
    "monte_carlo_level_expr",
    "monte_carlo_error_bound_expr",
    "check_gaussian_kl_nonnegative",
    "check_mcallester_is_pinsker",
    "check_catoni_solution",
    "check_pac_bayes_numeric_agreement",
]


_FORMULAS: dict[str, tuple[str, Callable[[], sp.Expr]]] = {
    "sensitivity_set_size": ("|S|", sensitivity_set_size_expr),
    "sample_size": ("m", sample_size_expr),
    "sample_size_tight": (r"m_{\mathrm{tight}}", functools.partial(sample_size_expr, True)),
    "certified_eps": (r"\varepsilon(m)", certified_eps_expr),
    "certified_eps_tight": (
        r"\varepsilon_{\mathrm{tight}}(m)",
        functools.partial(certified_eps_expr, True),
    ),
    "bernstein_exponent": (r"E_{\mathrm{Bernstein}}", bernstein_exponent_expr),
    "lambda_star": (r"\lambda^{*}", lambda_star_expr),
    "kappa": (r"\kappa", kappa_expr),
    "delta_hat": (r"\hat{\Delta}^{\ell}", delta_hat_expr),
    "delta_hat_product": (r"\hat{\Delta}^{\ell\rightarrow}", delta_hat_product_expr),
    "eps_prime": (r"\varepsilon'", eps_prime_expr),
    "layer_eps": (r"\varepsilon_{\ell}", layer_eps_expr),
    "network_eps": (r"\varepsilon", network_eps_expr),
    "default_tau": (r"\tau", default_tau_expr),
    "amplified_log_ratio": (r"\rho_{\tau}", amplified_log_ratio_expr),
    "size_term": (r"\operatorname{nnz}(\hat\theta^\ell_i)", size_term_expr),
    "expected_distinct_edges": (r"\mathbb{E}\,|C|", expected_distinct_edges_expr),
}

_FORMULAS.update(
    {
        "binary_kl": (r"\mathrm{kl}(\hat{L}\,\|\,p)", binary_kl_expr),
        "occam_rate": ("c", occam_rate_expr),
        "occam_hoeffding": (r"L_{\mathrm{Hoeffding}}", occam_hoeffding_expr),
        "binomial_tail": (r"P[\mathrm{Bin}(n, p) \le k]", binomial_tail_expr),
        "occam_binomial_level": (r"\delta'", occam_binomial_level_expr),
        "chernoff_tail": (r"P_{\mathrm{Chernoff}}", chernoff_tail_expr),
        "union_bound_nats": (r"\mathrm{cost}_k", union_bound_nats_expr),
        "prior_cost_nats": (r"\mathrm{cost}(w)", prior_cost_nats_expr),
        "margin_compression_bound": (r"L_0(g)", margin_compression_bound_expr),
        "corollary_eps": (r"\varepsilon_{\gamma}", corollary_eps_expr),
        "corollary_size_term": (r"\bar q_{\ell, i}", corollary_size_term_expr),
        "count_bits": (r"\mathrm{bits}_{\mathrm{count}}", count_bits_expr),
        "positions_bits": (r"\mathrm{bits}_{\mathrm{positions}}", positions_bits_expr),
        "fixed_width_bits": (r"\mathrm{bits}_{\mathrm{fixed}}", fixed_width_bits_expr),
        "count_table_bits": (r"\mathrm{bits}_{\mathrm{table}}", count_table_bits_expr),
        "multinomial_bits": (r"\mathrm{bits}_{\mathrm{symbols}}", multinomial_bits_expr),
        "arithmetic_coding_bits": (r"\mathrm{bits}_{\mathrm{arith}}", arithmetic_coding_bits_expr),
        "codebook_bits": (r"\mathrm{bits}_{\mathrm{codebook}}", codebook_bits_expr),
        "permutation_credit_bits": (r"\mathrm{credit}", permutation_credit_bits_expr),
    }
)
_FORMULAS.update(
    {
        "error_recursion": (r"R_{\ell}", error_recursion_expr),
        "eps_prime_exact": (r"\varepsilon'_{\mathrm{exact}}", eps_prime_exact_expr),
        "effective_eta": (r"\eta_{\mathrm{eff}}\tau", effective_eta_expr),
        "union_bound_total": (r"\delta_{\mathrm{total}}", union_bound_total_expr),
        "candidate_log_ratio": (r"\rho^{\cup}_{\tau}", candidate_log_ratio_expr),
        "bernstein_exponent_general": (r"E_{C}", bernstein_exponent_general_expr),
    }
)
# The kl forms' inverses have no closed form: their levels are listed here, and their
# defining inequalities (pac_bayes_kl_bound_expr, monte_carlo_error_bound_expr) are exported.
_FORMULAS.update(
    {
        "gaussian_kl": (r"\mathrm{KL}(Q\,\|\,P)", gaussian_kl_expr),
        "maurer_confidence_nats": (r"\mathrm{conf}(n, \delta)", maurer_confidence_nats_expr),
        "maurer_xi": (r"\xi(n)", maurer_xi_expr),
        "pac_bayes_kl_level": (r"c_{\mathrm{PB}}", pac_bayes_kl_level_expr),
        "mcallester_bound": (r"L_{\mathrm{McAllester}}", mcallester_bound_expr),
        "catoni_bound": (r"L_{\mathrm{Catoni}}", catoni_bound_expr),
        "monte_carlo_level": (r"c_{\mathrm{MC}}", monte_carlo_level_expr),
    }
)

#: Names accepted by :func:`expression` and :func:`to_latex`.
FORMULA_NAMES: tuple[str, ...] = tuple(_FORMULAS)


def _lookup(name: str) -> tuple[str, Callable[[], sp.Expr]]:
    try:
        return _FORMULAS[name]
    except (KeyError, TypeError):
        raise ValueError(f"name must be one of {', '.join(FORMULA_NAMES)}; got {name!r}") from None


def expression(name: str) -> sp.Expr:
    r"""The sympy expression of the formula called ``name`` (one of :data:`FORMULA_NAMES`).

    .. math::

        \texttt{expression("eps\_prime")} = \frac{\varepsilon}{2(L-1)}

    Examples
    --------
    >>> expression("lambda_star")
    log(\eta*\eta^{*})/2
    """
    return _lookup(name)[1]()


def to_latex(name: str, *, equation: bool = True) -> str:
    r"""LaTeX of the formula called ``name``; with ``equation=True`` as ``lhs = rhs``.

    .. math::

        \texttt{to\_latex("sample\_size")} \mapsto
        m = \left\lceil \frac{8 K \mathcal{S} \log(8\eta/\delta)}{\varepsilon^{2}} \right\rceil

    Examples
    --------
    >>> print(to_latex("eps_prime"))
    \varepsilon' = \frac{\varepsilon}{2 \left(L - 1\right)}
    >>> print(to_latex("lambda_star"))
    \lambda^{*} = \frac{\log{\left(\eta \eta^{*} \right)}}{2}
    """
    lhs, build = _lookup(name)
    rhs = sp.latex(build())
    return f"{lhs} = {rhs}" if equation else rhs


@functools.lru_cache(maxsize=1)
def _all_checks() -> tuple[DerivationCheck, ...]:
    return (
        check_log_term_positive(),
        check_bernstein_exponent(),
        check_failure_probability(),
        check_eight_form_condition(),
        check_theorem_size_term(),
        check_certified_eps_inverse(tight=False),
        check_certified_eps_inverse(tight=True),
        check_numeric_agreement(),
        *_generalization_checks(),
        *_theory_fidelity_checks(),
        *_pac_bayes_checks(),
    )


def all_derivation_checks() -> list[DerivationCheck]:
    r"""Every derivation check, in the order of the argument (computed once, then cached).

    .. math::

        \log\tfrac{8\eta}{\delta} > 0 \;\to\;
        E = \tfrac{m\varepsilon^2}{K\mathcal{S}(6+2\varepsilon)} \;\to\;
        E \ge \log\tfrac{8\eta}{\delta} \;\to\; \varepsilon \le 1 \;\to\;
        \text{size term} \;\to\; \varepsilon(m) \;\to\;
        \text{error recursion} \;\to\; \text{union bound} \;\to\; \text{held-out bounds}

    Then the generalisation bounds: :math:`\ln k` for :math:`k` choices, Pinsker (Hoeffding
    :math:`\ge` kl), Chernoff (kl :math:`\ge` binomial), the forms at :math:`k = 0`, the
    margin shift, the corollary's constants, the layer code's Kraft sum, and the numeric
    agreement; the theory-fidelity checks; and the PAC-Bayes bounds: the Gaussian KL's
    brackets are :math:`\ge 0`, McAllester's form is Pinsker's bound on the kl form, Catoni's
    form solves its defining equation, and the numeric agreement.

    Examples
    --------
    >>> checks = all_derivation_checks()
    >>> len(checks), all(c.passed for c in checks), sum(c.proved for c in checks)
    (30, True, 25)
    >>> [c.status for c in checks].count("evaluated")
    5
    """
    return list(_all_checks())


def _generalization_checks() -> tuple[DerivationCheck, ...]:
    return (
        check_union_bound_cost(),
        check_pinsker(),
        check_chernoff_kl(),
        check_forms_agree_at_zero_errors(),
        check_margin_shift(),
        check_corollary_constants(),
        check_layer_code_kraft(),
        check_generalization_numeric_agreement(),
    )


def _theory_fidelity_checks() -> tuple[DerivationCheck, ...]:
    return (
        check_error_split(),
        check_error_recursion_step(),
        check_error_recursion_induction(),
        check_paper_split_within_eps(),
        check_exact_split(),
        check_union_bound_total(),
        check_bernstein_constant(),
        check_candidate_union(),
        check_order_statistic_duality(),
        check_theory_numeric_agreement(),
    )


def _pac_bayes_checks() -> tuple[DerivationCheck, ...]:
    return (
        check_gaussian_kl_nonnegative(),
        check_mcallester_is_pinsker(),
        check_catoni_solution(),
        check_pac_bayes_numeric_agreement(),
    )
