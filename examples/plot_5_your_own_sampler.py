"""
Write your own importance sampler
=================================

The checker tests any compressor, not only the toolkit's: a function
``compressor(model, pool, generator)`` that returns a compressed network is enough. This
example writes a simple importance sampler in a dozen lines, tests its
:math:`(1\\pm\\varepsilon, \\delta)` behaviour with
:func:`~netcoreset.verification.check_guarantee`, and compares it with CoreNet at the same size.
"""

# %%
# The sampler
# -----------
# For each neuron :math:`i` of a layer with input activations :math:`a(x)` on the pool, draw
# :math:`m` of its incoming edges i.i.d. with probability
#
# .. math::
#
#     q_j \propto |w_{ij}|\, \overline{a_j}, \qquad
#     \overline{a_j} = \frac{1}{|P|}\sum_{x \in P} a_j(x),
#
# and reweight the :math:`c_j` copies of edge :math:`j` to
# :math:`\hat w_{ij} = c_j w_{ij}/(m q_j)`, so that every pre-activation is unbiased. CoreNet
# differs in two ways: its probabilities are the *empirical sensitivities* (the largest share of
# the pre-activation an edge carries on any point, not the mean), and it samples the positive
# and the negative weights of a neuron separately, which is what its guarantee needs.
#
# :func:`~netcoreset.sampler.linear_layers`, :func:`~netcoreset.sampler.multinomial_counts` and
# :func:`~netcoreset.sampler.build_sequential` do the bookkeeping. The generator passed in is the
# only source of randomness, so the checker can reproduce every trial.

import functools
import warnings

import matplotlib.pyplot as plt
import torch

from netcoreset.sampler import build_sequential, linear_layers, multinomial_counts
from netcoreset.verification import SamplerCompressor, check_guarantee
from netcoreset.verification.experiments import load_digits_split, train_mlp


def mean_activation_sampler(model, pool, generator, draws=40):
    """Sample every neuron's edges with probability proportional to |w| times mean input."""
    layers = linear_layers(model)
    weights, biases = [], []
    a = pool.to(layers[0].weight.dtype)
    with torch.no_grad():
        for index, layer in enumerate(layers):
            w = layer.weight
            importance = w.abs() * a.mean(dim=0)
            dead = importance.sum(dim=1, keepdim=True) == 0
            importance = torch.where(dead, torch.ones_like(importance), importance)
            q = importance / importance.sum(dim=1, keepdim=True)
            m = torch.full((w.shape[0],), draws, dtype=torch.int64)
            counts = multinomial_counts(q, m, generator)
            w_hat = torch.where(counts > 0, counts * w / (draws * q), torch.zeros_like(w))
            weights.append(w_hat.to(w.dtype))
            biases.append(layer.bias.clone())
            z = a @ w.T + layer.bias  # the original network's activations feed the next layer
            a = torch.relu(z) if index < len(layers) - 1 else z
    return build_sequential(weights, biases)


# %%
# A network and one compression
# -----------------------------

x_train, y_train, x_test, y_test = load_digits_split(seed=0)
model = train_mlp(x_train, y_train, hidden=(32,), seed=0, epochs=10, progress=False)

compressed = mean_activation_sampler(model, x_train, torch.Generator().manual_seed(0))
print(compressed)

# %%
# Test it, and CoreNet at the same size
# -------------------------------------
# One test input per trial, 60 trials, a 99% Clopper–Pearson interval for the probability
# :math:`p` that some output leaves :math:`(1\pm\varepsilon)` times the original, here with
# :math:`\varepsilon = 0.5`. CoreNet gets the same number of non-zeros in budget mode. With
# more draws per neuron both keep more weights and fail less often; the entrywise criterion is
# demanding (an output near zero fails for a small perturbation), so it takes most of the
# weights to bring :math:`p` below :math:`\delta`.


def size(net):
    return sum(int((layer.weight != 0).sum()) + layer.bias.numel() for layer in linear_layers(net))


def failure_interval(compressor):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check = check_guarantee(
            model,
            x_train,
            compressor,
            eps=0.5,
            delta=0.2,
            holdout=x_test,
            trials=60,
            alpha=0.01,
            seed=0,
            progress=False,
        )
    return check


rows = []
for draws in (3000, 30000):
    ours = functools.partial(mean_activation_sampler, draws=draws)
    nnz = size(ours(model, x_train, torch.Generator().manual_seed(0)))
    corenet = SamplerCompressor("corenet", nnz=nnz, certificate="none")
    for name, compressor in (("mean activation", ours), ("CoreNet", corenet)):
        check = failure_interval(compressor)
        rows.append((name, nnz, check))
        print(
            f"{draws:5d} draws, {nnz:4d} of {size(model)} kept, {name}: "
            f"{check.failures}/{check.trials} failures, "
            f"p in [{check.lower:.3f}, {check.upper:.3f}] -> {check.verdict}"
        )

# %%

fig, ax = plt.subplots()
for name in ("mean activation", "CoreNet"):
    points = [(nnz, check) for n, nnz, check in rows if n == name]
    ax.errorbar(
        [nnz for nnz, _ in points],
        [c.failures / c.trials for _, c in points],
        yerr=[
            [c.failures / c.trials - c.lower for _, c in points],
            [c.upper - c.failures / c.trials for _, c in points],
        ],
        marker="o",
        capsize=3,
        label=name,
    )
ax.axhline(0.2, color="red", linestyle="--", label=r"$\delta = 0.2$")
ax.set_xlabel("weights and biases kept")
ax.set_ylabel(r"failure probability at $\varepsilon = 0.5$")
ax.legend()

# %%
# Any callable with this signature can be tested the same way, including one that wraps a
# compressor from another library; :func:`~netcoreset.verification.find_slack` runs such checks
# over a range of sample sizes to find the smallest that still meets the guarantee.
