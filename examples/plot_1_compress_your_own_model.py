"""
Compress your own model
=======================

Take a model of your own class, compress its ``Linear`` layers with CoreNet to a fraction of
their weights, compare with uniform sampling and magnitude pruning, then ask for a
relative-error guarantee instead of a size.

:func:`~netcoreset.sampler.prune_linear` works like :mod:`torch.nn.utils.prune`: it takes any
``nn.Module``, finds the ``Linear`` layers its ``forward`` calls, and attaches a mask (and the
reweighting of the kept weights) to each. It returns a pruned copy unless ``inplace=True``; the
model it is given is not modified.
"""

# %%
# A model of your own
# -------------------
# Any module whose ``Linear`` layers form a ``Linear -> ReLU -> ... -> Linear`` chain is covered
# by CoreNet's guarantee; here a 64-48-24-10 classifier of the 8x8 digits, trained for a few
# seconds (seeded, so the figures below are the same on every run).

import tempfile
import warnings

import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.nn.utils import prune

from netcoreset.sampler import load, prune_linear
from netcoreset.verification.experiments import accuracy, load_digits_split, relative_l2_error


class DigitClassifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(64, 48)
        self.middle = nn.Linear(48, 24)
        self.head = nn.Linear(24, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.middle(torch.relu(self.hidden(x)))))


x_train, y_train, x_test, y_test = load_digits_split(seed=0)
torch.manual_seed(0)
model = DigitClassifier()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
for _epoch in range(60):
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(x_train), y_train).backward()
    optimizer.step()
model.eval()
print(f"test accuracy {accuracy(model, x_test, y_test):.3f}")

# %%
# Compress to a budget
# --------------------
# ``keep=0.3`` asks for 30% of the non-zero weights and biases of all the layers together, in
# expectation (``budget="layer"`` would apply it to each layer). The sensitivities are computed
# on the points ``data``: the training inputs are a good choice, since the guarantee is about
# inputs from the same distribution.

pruned = prune_linear(model, x_train, keep=0.3, seed=0)
print(f"layers {pruned.layers}, a chain: {pruned.chain}")
print(f"{pruned.nnz} of {pruned.nnz_original} weights and biases kept")
print(f"test accuracy {accuracy(pruned.model, x_test, y_test):.3f}")
print(f"mean relative output error {relative_l2_error(pruned.model, model, x_test):.3f}")

# %%
# The pruned copy is still a ``DigitClassifier``. As with :mod:`torch.nn.utils.prune`, each
# layer holds ``weight_orig`` and ``weight_mask`` (here the mask also carries the factor that
# reweights a kept weight), and :func:`torch.nn.utils.prune.remove` makes them permanent:

layer = pruned.model.hidden
print(type(pruned.model).__name__, sorted(name for name, _ in layer.named_buffers()))
prune.remove(layer, "weight")
print(f"hidden layer: {int((layer.weight != 0).sum())} non-zero weights of {layer.weight.numel()}")

# %%
# CoreNet samples each neuron's weights with probabilities proportional to their empirical
# sensitivity and reweights what it keeps, so that every pre-activation stays unbiased. Against
# uniform sampling and magnitude pruning over a range of budgets:

keeps = [0.05, 0.1, 0.2, 0.3, 0.5]
fig, ax = plt.subplots()
for method in ("corenet", "uniform", "magnitude"):
    errors = [
        relative_l2_error(
            prune_linear(model, x_train, method=method, keep=k, seed=0).model, model, x_test
        )
        for k in keeps
    ]
    ax.plot(keeps, errors, marker="o", label=method)
ax.set_xlabel("fraction of weights kept")
ax.set_ylabel("mean relative output error (test)")
ax.set_yscale("log")
ax.legend()

# %%
# Ask for a guarantee
# -------------------
# Give ``eps`` and ``delta`` instead of a size: CoreNet draws the sample sizes of the paper's
# theorem and the result carries a certificate (``.compression``), computed on points that were
# not used to choose the weights. It states the relative error :math:`\varepsilon` and the
# failure probability :math:`\delta` it reaches, and the assumptions it rests on.

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    guaranteed = prune_linear(model, x_train, eps=0.5, delta=0.1, seed=0)
print(f"{guaranteed.nnz} of {guaranteed.nnz_original} weights and biases kept")
print(guaranteed.compression.report.certificate_statement)
for warning in caught:
    print("warning:", warning.message)

# %%
# Read the certificate before the sizes: when the held-out points contradict an assumption of
# the theorem, the certified :math:`\delta` is larger than the one asked for, and the warnings
# say which assumption failed and what to do about it. ``certificate="holdout"`` replaces the
# theorem's assumptions by a test of the compressed network itself on held-out points (an exact
# binomial bound on the probability that its outputs leave :math:`(1\pm\varepsilon)` times the
# original's); it assumes only that those points are drawn from the same distribution as the
# inputs to come:

checked = prune_linear(model, x_train, eps=0.5, delta=0.1, seed=0, certificate="holdout")
print(f"{checked.nnz} of {checked.nnz_original} weights and biases kept")
print(checked.compression.report.certificate_statement)

# %%
# A sample of the theorem's size keeps most weights of so small a network: the bound is a
# worst case over all inputs of the distribution. How much smaller a sample still meets the
# guarantee in practice is measured in :ref:`sphx_glr_auto_examples_plot_2_check_a_guarantee.py`.
#
# Save and load
# -------------
# The certified result is also a plain ``nn.Sequential`` of the compressed layers
# (:class:`~netcoreset.sampler.CompressionResult`, the output of
# :func:`~netcoreset.sampler.compress`). Its
# :meth:`~netcoreset.sampler.CompressionResult.save` writes the model as ``.safetensors`` and
# the report as JSON; :func:`~netcoreset.sampler.load` reads them back without running code
# from the files.

result = checked.compression
with tempfile.TemporaryDirectory() as folder:
    path = result.save(folder)
    print(sorted(p.name for p in path.iterdir()))
    again = load(path)
with torch.no_grad():
    print("same outputs:", torch.equal(again.model(x_test), result.model(x_test)))
