"""
Check a guarantee
=================

CoreNet's theorem says that, with probability at least :math:`1-\\delta` over the sampling and
a random input :math:`x`, every output of the compressed network is within a factor
:math:`1\\pm\\varepsilon` of the original's. :func:`~netcoreset.verification.check_guarantee`
tests that statement directly: it compresses the model afresh in each of :math:`T` trials,
counts the held-out inputs on which the compressed outputs leave the band, and compares a
confidence interval for the failure probability :math:`p` with :math:`\\delta`.

The verdict is ``"holds"`` when the whole interval is at most :math:`\\delta`, ``"violated"``
when it is above, and ``"inconclusive"`` otherwise; a decisive verdict is wrong with probability
at most ``alpha``.
"""

# %%
# A network and its data
# ----------------------
# A small classifier of the digits (any trained network will do).

import warnings

import matplotlib.pyplot as plt

from netcoreset.verification import SamplerCompressor, check_guarantee
from netcoreset.verification.experiments import load_digits_split, train_mlp

x_train, y_train, x_test, y_test = load_digits_split(seed=0)
model = train_mlp(x_train, y_train, hidden=(32,), seed=0, epochs=10, progress=False)

# %%
# Two compressors to test
# -----------------------
# :class:`~netcoreset.verification.SamplerCompressor` is :func:`~netcoreset.sampler.compress`
# with its arguments fixed. The first draws the theorem's sample sizes for
# :math:`(\varepsilon, \delta) = (0.5, 0.1)`; the second keeps 30% of the weights, a budget
# that carries no guarantee of its own. The check below replaces the certificates: the first
# compressor still computes one in every trial, and its warnings about the theorem's
# assumptions are silenced here (the trials test the outcome, whatever the assumptions).

compressors = {
    "theorem's sizes": SamplerCompressor("corenet", eps=0.5, delta=0.1),
    "30% budget": SamplerCompressor("corenet", keep=0.3, certificate="none"),
}

# %%
# Test the guarantee
# ------------------
# Each trial compresses with its own seed, given the training inputs, and evaluates one test
# input drawn at random. With one input per trial the failures are binomial and the interval is
# the exact Clopper–Pearson one; ``alpha=0.01`` is the probability that a decisive verdict is
# wrong.

checks = {}
for name, compressor in compressors.items():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check = check_guarantee(
            model,
            x_train,
            compressor,
            eps=0.5,
            delta=0.1,
            holdout=x_test,
            trials=100,
            alpha=0.01,
            seed=0,
            progress=False,
        )
    checks[name] = check
    print(
        f"{name}: {check.failures} failures in {check.trials} trials, "
        f"p in [{check.lower:.3f}, {check.upper:.3f}] -> {check.verdict}"
    )

# %%
# The failure probability of each compressor, with its interval, against :math:`\delta`:

fig, ax = plt.subplots(figsize=(6.4, 2.4))
for row, check in enumerate(checks.values()):
    ax.plot([check.lower, check.upper], [row, row], linewidth=6, alpha=0.6)
    ax.plot([check.failures / check.trials], [row], "k|", markersize=16)
ax.axvline(0.1, color="red", linestyle="--", label=r"$\delta = 0.1$")
ax.set_yticks(range(len(checks)), list(checks))
ax.set_xlim(0, 1.02)
ax.set_ylim(-0.6, len(checks) - 0.4)
ax.set_xlabel(r"failure probability $p$ (99% interval)")
ax.legend(loc="center right")
fig.tight_layout()

# %%
# The relative error is entrywise, so an output close to zero fails for a small perturbation:
# a budget that keeps the accuracy can still violate the guarantee on most inputs. How far
# below the theorem's sample sizes the guarantee still holds is what
# :func:`~netcoreset.verification.find_slack` measures, by a search over a multiple of the draws
# with the same checks.
