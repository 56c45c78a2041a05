r"""Sample sizes, error budgets, size bounds and generalisation bounds of CoreNet (numeric
and symbolic).

Pure functions of the paper's quantities; no torch import. See :mod:`netcoreset.bounds.symbolic`
for the same formulas as sympy expressions and the derivation checks; it imports sympy and is
loaded on first access (``netcoreset.bounds.symbolic``), so importing this package stays fast;
so are the names of ``certificate``,
``generalization`` and ``pac_bayes``, which import
scipy.

``netcoreset.bounds.union_bound`` counts every failure event of the theorem's union bound;
``netcoreset.bounds.certificate`` holds the exact binomial and order-statistic bounds of the
held-out certificates.
``netcoreset.bounds.generalization`` holds the Occam, margin-compression and corollary
bounds and ``netcoreset.bounds.description_length`` the code length of a compressed network
that they need; ``netcoreset.bounds.pac_bayes`` the PAC-Bayes bounds on stochastic networks.

Two helper modules are shared by the whole package: ``netcoreset.bounds.validation``
(argument checks that raise ``ValueError`` naming the argument) and
``netcoreset.bounds.serialization`` (JSON conversion of results).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .amplification import amplified_log_ratio, candidate_log_ratio, default_tau
from .description_length import (
    ARITHMETIC_OVERHEAD_BITS,
    ChoiceCost,
    DescriptionLength,
    LayerCode,
    arithmetic_coding_bits,
    codebook_bits,
    count_bits,
    count_table_bits,
    describe_network,
    fixed_width_bits,
    multinomial_bits,
    permutation_credit_bits,
    positions_bits,
)
from .error_budget import (
    delta_hat,
    delta_hat_product,
    eps_prime,
    eps_prime_exact,
    error_recursion,
    kappa,
    lambda_star,
    layer_eps,
    max_hidden_width,
    max_part_size,
    network_eps,
    num_neurons,
)
from .network import LayerBound, NetworkBound, compressed_size_bound, network_bound
from .sample_size import (
    certified_eps,
    draws_for_eps,
    expected_distinct_edges,
    sample_size,
    sensitivity_set_size,
)
from .union_bound import (
    FailureBudget,
    FailureEvent,
    effective_eta,
    failure_budget,
    lemma1_failure,
)
from .validation import check_architecture, check_K, check_open_unit, check_positive

if TYPE_CHECKING:  # loaded on first use (see ``__getattr__``): they import scipy
    from .certificate import (
        binomial_upper_bound,
        holdout_certified_delta,
        max_holdout_failures,
        order_statistic_rank,
        quantile_exceedance,
    )
    from .generalization import (
        OCCAM_FORMS,
        CorollaryBound,
        MarginCompressionBound,
        OccamBound,
        binary_kl,
        binomial_tail_upper,
        corenet_generalization_bound,
        kl_upper,
        margin_compression_bound,
        margin_error_count,
        max_logit_deviation,
        occam_bound,
        prior_cost_nats,
        union_bound_nats,
    )
    from .pac_bayes import (
        PAC_BAYES_FORMS,
        PacBayesBound,
        catoni_bound,
        gaussian_kl,
        maurer_confidence_nats,
        mcallester_bound,
        monte_carlo_error_bound,
        pac_bayes_bound,
        pac_bayes_kl_bound,
    )

__all__ = [
    "amplified_log_ratio",
    "binomial_upper_bound",
    "candidate_log_ratio",
    "effective_eta",
    "eps_prime_exact",
    "error_recursion",
    "FailureBudget",
    "FailureEvent",
    "failure_budget",
    "holdout_certified_delta",
    "lemma1_failure",
    "max_holdout_failures",
    "order_statistic_rank",
    "quantile_exceedance",
    "default_tau",
    "network_eps",
    "certified_eps",
    "check_architecture",
    "check_open_unit",
    "check_positive",
    "check_K",
    "compressed_size_bound",
    "sensitivity_set_size",
    "delta_hat",
    "delta_hat_product",
    "draws_for_eps",
    "eps_prime",
    "expected_distinct_edges",
    "kappa",
    "lambda_star",
    "layer_eps",
    "LayerBound",
    "max_hidden_width",
    "max_part_size",
    "NetworkBound",
    "network_bound",
    "num_neurons",
    "sample_size",
    # generalisation bounds (netcoreset.bounds.generalization)
    "binary_kl",
    "kl_upper",
    "binomial_tail_upper",
    "union_bound_nats",
    "prior_cost_nats",
    "OCCAM_FORMS",
    "OccamBound",
    "occam_bound",
    "margin_error_count",
    "max_logit_deviation",
    "MarginCompressionBound",
    "margin_compression_bound",
    "CorollaryBound",
    "corenet_generalization_bound",
    # PAC-Bayes bounds on stochastic classifiers (netcoreset.bounds.pac_bayes)
    "PAC_BAYES_FORMS",
    "PacBayesBound",
    "catoni_bound",
    "gaussian_kl",
    "maurer_confidence_nats",
    "mcallester_bound",
    "monte_carlo_error_bound",
    "pac_bayes_bound",
    "pac_bayes_kl_bound",
    # description length (netcoreset.bounds.description_length)
    "count_bits",
    "positions_bits",
    "fixed_width_bits",
    "count_table_bits",
    "multinomial_bits",
    "arithmetic_coding_bits",
    "ARITHMETIC_OVERHEAD_BITS",
    "codebook_bits",
    "permutation_credit_bits",
    "LayerCode",
    "ChoiceCost",
    "DescriptionLength",
    "describe_network",
]


# Names whose modules import scipy (about a second): loaded on first access (PEP 562), so
# that ``import netcoreset.bounds`` -- and the command line's start -- stays fast.
_LAZY_MODULE_OF = {
    **dict.fromkeys(
        [
            "binomial_upper_bound",
            "holdout_certified_delta",
            "max_holdout_failures",
            "order_statistic_rank",
            "quantile_exceedance",
        ],
        "certificate",
    ),
    **dict.fromkeys(
        [
            "OCCAM_FORMS",
            "CorollaryBound",
            "MarginCompressionBound",
            "OccamBound",
            "binary_kl",
            "binomial_tail_upper",
            "corenet_generalization_bound",
            "kl_upper",
            "margin_compression_bound",
            "margin_error_count",
            "max_logit_deviation",
            "occam_bound",
            "prior_cost_nats",
            "union_bound_nats",
        ],
        "generalization",
    ),
    **dict.fromkeys(
        [
            "PAC_BAYES_FORMS",
            "PacBayesBound",
            "catoni_bound",
            "gaussian_kl",
            "maurer_confidence_nats",
            "mcallester_bound",
            "monte_carlo_error_bound",
            "pac_bayes_bound",
            "pac_bayes_kl_bound",
        ],
        "pac_bayes",
    ),
}


def __getattr__(name: str) -> Any:
    # Lazy submodule: ``netcoreset.bounds.symbolic`` imports sympy only when first used.
    if name == "symbolic":
        return importlib.import_module(f"{__name__}.symbolic")
    module = _LAZY_MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
