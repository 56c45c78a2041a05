"""The declared grids of the generalization benchmarks, one per data set.

Everything here is fixed before the training data is loaded: the architectures, and per
setting every dimension the search may choose with its options (the prior pays
log2(options) bits per dimension plus log2(number of settings)). ``PLANS`` lists the subsets
actually evaluated (any subset of the declared grid; the union bound covers all declared
configurations whether evaluated or not), and ``TRAIN_EPOCHS`` how long each original
network is trained.
"""

from __future__ import annotations

from typing import Any

from netcoreset.verification.experiments.certificate import SearchGrid
from netcoreset.verification.experiments.search import Architecture

CODE = {"value_coding": ("fixed", "arithmetic"), "shape_code": ("declared", "shrunk", "inputs")}
KEEPS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0)


def _archs(*specs: tuple[str, tuple[int, ...], int]) -> dict[str, Architecture]:
    return {name: Architecture(name, hidden, pool) for name, hidden, pool in specs}


ARCHITECTURES: dict[str, dict[str, Architecture]] = {
    "fashion": _archs(
        ("d784-300-100", (300, 100), 1),
        ("d784-100", (100,), 1),
        ("d784-32", (32,), 1),
        ("p2-8", (8,), 2),
        ("p2-16", (16,), 2),
        ("p2-32", (32,), 2),
        ("p2-64", (64,), 2),
        ("p4-16", (16,), 4),
        ("p4-32", (32,), 4),
    ),  # fmt: skip
    "mnist5k": _archs(
        ("d784-300-100", (300, 100), 1),
        ("d784-100", (100,), 1),
        ("d784-32", (32,), 1),
        ("p2-8", (8,), 2),
        ("p2-16", (16,), 2),
        ("p2-32", (32,), 2),
        ("p4-8", (8,), 4),
        ("p4-16", (16,), 4),
        ("p4-32", (32,), 4),
    ),  # fmt: skip
    "digits": _archs(
        ("d64-32", (32,), 1),
        ("d64-16", (16,), 1),
        ("d64-8", (8,), 1),
        ("p2-8", (8,), 2),
        ("p2-16", (16,), 2),
    ),  # fmt: skip
}


def declared_grid(dataset: str) -> SearchGrid:
    """The grid of ``dataset``, declared before its data is loaded."""
    archs = tuple(ARCHITECTURES[dataset])
    return SearchGrid({
        "paper": {
            "architecture": archs,
            "method": ("corenet", "corenet+", "magnitude", "uniform", "l1", "l2"),
            "keep": KEEPS,
            "seed": (0, 1),
            "levels": (2, 3, 4, 6, 8, 12, 16, 32),
            "quantizer": ("kmeans", "uniform"),
            "codebook": ("per_layer", "shared"),
            "codebook_dtype": ("float32", "float16"),
            **CODE,
        },
        "retrained": {
            "architecture": archs,
            "method": ("corenet", "corenet+", "magnitude"),
            "keep": KEEPS,
            "seed": (0, 1),
            "retrain_epochs": (8, 20),
            "levels": (2, 3, 4, 6, 8, 12, 16),
            "qat_epochs": (6, 15),
            "codebook_dtype": ("float32", "float16"),
            **CODE,
        },
        "subspace": {
            "architecture": archs,
            "dim": (100, 250, 500, 1000, 2000, 3000, 4000),
            "basis_seed": (0, 1),
            "epochs": (8, 20),
            "levels": (2, 3, 4, 6, 8, 16),
            "qat_epochs": (3, 8),
            "codebook_dtype": ("float32", "float16"),
            "value_coding": ("fixed", "arithmetic"),
        },
    })  # fmt: skip


#: Margins declared for the margin form (Arora et al. 2018) of the best paper-setting network.
GAMMAS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)

#: Epochs of the original (uncompressed) training, per data set.
TRAIN_EPOCHS = {"fashion": 12, "mnist5k": 40, "digits": 60}

_PAPER = {"seed": (0,), "quantizer": ("kmeans", "uniform"), "codebook": ("per_layer",),
          "codebook_dtype": ("float16",),
          "method": ("corenet", "corenet+", "magnitude", "uniform")}  # fmt: skip
_ALL3 = ("corenet", "corenet+", "magnitude")

#: The evaluated subsets, in order: (setting, plan) pairs.
PLANS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "fashion": [
        ("subspace", {"architecture": ("p2-32",), "dim": (1000, 2000),
                      "basis_seed": (0,), "epochs": (8,), "levels": (4, 6, 8),
                      "qat_epochs": (3,), "codebook_dtype": ("float16",)}),
        ("retrained", {"architecture": ("p2-8", "p2-16"), "method": _ALL3,
                       "keep": (0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0), "seed": (0,),
                       "retrain_epochs": (8,), "levels": (6, 8), "qat_epochs": (6,),
                       "codebook_dtype": ("float16",)}),
        ("retrained", {"architecture": ("d784-100",), "method": ("corenet+",),
                       "keep": (0.02, 0.05), "seed": (0,), "retrain_epochs": (8,),
                       "levels": (8, 16), "qat_epochs": (6,), "codebook_dtype": ("float16",)}),
        ("paper", {"architecture": ("p2-16", "p2-32", "d784-100", "d784-300-100"),
                   **_PAPER, "method": _ALL3, "quantizer": ("kmeans",),
                   "keep": (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0), "levels": (4, 8, 16, 32)}),
    ],  # fmt: skip
    "mnist5k": [
        ("subspace", {"architecture": ("p4-16", "p2-32"), "dim": (100, 250, 500, 1000),
                      "basis_seed": (0,), "epochs": (20,), "levels": (2, 3, 4, 6),
                      "qat_epochs": (8,), "codebook_dtype": ("float16",)}),
        ("retrained", {"architecture": ("p4-8", "p4-16", "p2-16"), "method": _ALL3,
                       "keep": (0.1, 0.2, 0.3, 0.5, 0.7, 1.0), "seed": (0,),
                       "retrain_epochs": (20,), "levels": (3, 4, 6), "qat_epochs": (15,),
                       "codebook_dtype": ("float16",)}),
        ("paper", {"architecture": ("p4-16", "p2-16", "d784-100", "d784-300-100"),
                   **_PAPER, "method": _ALL3, "quantizer": ("kmeans",),
                   "keep": (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0), "levels": (4, 8, 16, 32)}),
    ],
    "digits": [
        ("subspace", {"architecture": ("d64-16", "p2-16"), "dim": (100, 250, 500),
                      "basis_seed": (0,), "epochs": (20,), "levels": (2, 3, 4, 6),
                      "qat_epochs": (8,), "codebook_dtype": ("float16",)}),
        ("retrained", {"architecture": ("d64-8", "d64-16", "p2-16"), "method": _ALL3,
                       "keep": (0.2, 0.3, 0.5, 0.7, 1.0), "seed": (0,), "retrain_epochs": (20,),
                       "levels": (2, 3, 4, 6), "qat_epochs": (15,),
                       "codebook_dtype": ("float16",)}),
        ("paper", {"architecture": tuple(ARCHITECTURES["digits"]), **_PAPER, "method": _ALL3,
                   "quantizer": ("kmeans",), "keep": (0.1, 0.2, 0.3, 0.5, 0.7, 1.0),
                   "levels": (2, 4, 8, 16)}),
    ],
}  # fmt: skip
