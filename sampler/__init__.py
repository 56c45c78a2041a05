"""CoreNet, CoreNet+, CoreNet++ and the baselines, on torch models.

The entry point is :func:`compress`; the building blocks (sensitivities, multinomial
sampling, budget allocation, neuron pruning, amplification) are public for experiments.
"""

from ._model import build_sequential, forward_activations, linear_layers
from .amplify import KEstimate, estimate_K
from .core import BUDGET_ALLOCATION_DEFAULT, BUDGET_KAPPA_DEFAULT, METHODS, compress
from .quantize import (
    QUANTIZERS,
    Quantization,
    kmeans_1d,
    quantize,
    quantize_values,
    uniform_levels,
)
from .result import CompressionReport, CompressionResult, LayerReport, SparseLinear, load
from .sensitivity import (
    LayerSensitivity,
    empirical_sensitivity,
    max_times_product,
    max_times_product_reference,
    relative_cancellation,
)
from .sparsify import multinomial_counts, sparsify_part

__all__ = [
    "BUDGET_ALLOCATION_DEFAULT",
    "BUDGET_KAPPA_DEFAULT",
    "build_sequential",
    "compress",
    "CompressionReport",
    "CompressionResult",
    "empirical_sensitivity",
    "estimate_K",
    "forward_activations",
    "KEstimate",
    "LayerReport",
    "LayerSensitivity",
    "linear_layers",
    "load",
    "max_times_product",
    "max_times_product_reference",
    "METHODS",
    "multinomial_counts",
    "relative_cancellation",
    "sparsify_part",
    "SparseLinear",
    "QUANTIZERS",
    "Quantization",
    "quantize",
    "quantize_values",
    "kmeans_1d",
    "uniform_levels",
]
