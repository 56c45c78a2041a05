"""CoreNet, CoreNet+, CoreNet++ and the baselines, on torch models.

The entry point is :func:`compress`; it validates its arguments into a
:class:`~netcoreset.sampler.config.CompressionConfig`, runs the stages of
``pipeline`` and compresses each layer with the method's function from
the registry in ``methods``. The building blocks (sensitivities,
multinomial sampling, budget allocation, neuron pruning, amplification) are public for
experiments.
"""

from ._model import as_inputs, build_sequential, forward_activations, linear_layers
from .amplify import KEstimate, estimate_K
from .certificate import CoverageEstimate, coverage_ratios, estimate_coverage
from .config import (
    BUDGET_ALLOCATION_DEFAULT,
    BUDGET_INCLUDE_KAPPA_DEFAULT,
    CERTIFICATES,
    CompressionConfig,
)
from .core import compress
from .criteria import (
    CRITERIA,
    Criterion,
    HeldOutCertificate,
    certify,
    check_criterion,
    criterion_failures,
    criterion_scores,
    get_criterion,
    register_criterion,
)
from .methods import METHODS, get_method
from .model_io import architecture_of, load_model, save_model
from .notices import CompressionWarning
from .quantize import (
    QUANTIZERS,
    Quantization,
    kmeans_1d,
    quantize,
    quantize_values,
    uniform_levels,
)
from .report import CompressionReport, LayerReport
from .result import CompressionResult, SparseLinear, load
from .sensitivity import (
    LayerSensitivity,
    empirical_sensitivity,
    max_times_product,
    max_times_product_reference,
    relative_cancellation,
)
from .sparsify import multinomial_counts, sparsify_part
from .torch_prune import PRUNABLE_METHODS, LinearPruning, prune_linear

__all__ = [
    "architecture_of",
    "as_inputs",
    "BUDGET_ALLOCATION_DEFAULT",
    "BUDGET_INCLUDE_KAPPA_DEFAULT",
    "build_sequential",
    "CERTIFICATES",
    "CoverageEstimate",
    "coverage_ratios",
    "estimate_coverage",
    "compress",
    "certify",
    "check_criterion",
    "CRITERIA",
    "Criterion",
    "criterion_failures",
    "criterion_scores",
    "get_criterion",
    "HeldOutCertificate",
    "register_criterion",
    "CompressionConfig",
    "CompressionReport",
    "CompressionResult",
    "CompressionWarning",
    "empirical_sensitivity",
    "estimate_K",
    "forward_activations",
    "get_method",
    "KEstimate",
    "LayerReport",
    "LayerSensitivity",
    "linear_layers",
    "LinearPruning",
    "load",
    "load_model",
    "max_times_product",
    "max_times_product_reference",
    "METHODS",
    "multinomial_counts",
    "prune_linear",
    "PRUNABLE_METHODS",
    "relative_cancellation",
    "save_model",
    "sparsify_part",
    "SparseLinear",
    "QUANTIZERS",
    "Quantization",
    "quantize",
    "quantize_values",
    "kmeans_1d",
    "uniform_levels",
]
