"""
Certify generalisation
======================

A compressed network is short to describe, and a short description is a generalisation
certificate: for any code fixed before the data, with probability at least :math:`1-\\delta`
over the :math:`n` training points, every network :math:`g` with :math:`k` training errors
and a description of :math:`\\ell(g)` bits has true error

.. math::

    L(g) \\le \\max\\Bigl\\{p : \\Pr\\bigl[\\mathrm{Bin}(n, p) \\le k\\bigr]
    \\ge \\delta\\,2^{-\\ell(g)}\\Bigr\\}

(the Occam bound; Blumer et al., 1987; Langford, 2005, Theorem 4.1). The network may depend
on the training data in any way; only the code may not. This example declares a small grid of
compressions before looking at the data, pays for the choice among them in bits, and
certifies the best.
"""

# %%
# The code, declared first
# ------------------------
# A grid of keep ratios and codebook sizes, fixed before any data is loaded. Choosing one of
# its 12 cells after seeing the data costs :math:`\log_2 12 \approx 3.6` bits, charged to every
# description below, so all 12 bounds hold at once and reporting the smallest is legitimate.

import matplotlib.pyplot as plt

from netcoreset.bounds import describe_network, occam_bound
from netcoreset.sampler import compress, quantize
from netcoreset.verification.experiments import accuracy, load_digits_split, train_mlp

KEEPS = (0.05, 0.1, 0.2, 0.4)
LEVELS = (2, 4, 8)
DELTA = 0.05

# %%
# Train, compress, quantise
# -------------------------
# A 64-16-10 network on the digits' 1,258 training images. Each cell compresses it with
# CoreNet (the sensitivities from the training inputs), quantises the surviving weights to a
# per-layer :math:`k`-means codebook, and counts the training errors of the quantised network:
# that network, not the one before quantisation, is what the code describes.

x_train, y_train, x_test, y_test = load_digits_split(seed=0)
n = len(y_train)
model = train_mlp(x_train, y_train, hidden=(16,), seed=0, epochs=15, progress=False)


def certify(keep: float, levels: int) -> dict:
    """Compress, quantise, describe and bound one cell of the grid."""
    q = quantize(compress(model, x_train, keep=keep, seed=0).model, levels)
    bits = describe_network(
        [mask.size for mask in q.masks],
        [int(mask.sum()) for mask in q.masks],
        q.counts,
        levels,
        value_coding="arithmetic",
        choices={"keep": len(KEEPS), "levels": len(LEVELS)},
    ).total_bits
    errors = round((1 - accuracy(q.model, x_train, y_train)) * n)
    bound = occam_bound(errors, n, bits, DELTA, form="binomial").bound
    test_error = 1 - accuracy(q.model, x_test, y_test)
    return {
        "keep": keep,
        "levels": levels,
        "bits": bits,
        "errors": errors,
        "bound": bound,
        "test": test_error,
    }


cells = [certify(keep, levels) for keep in KEEPS for levels in LEVELS]
print("keep  levels    bits  train err  bound  test err")
for c in cells:
    print(
        f"{c['keep']:4.2f}  {c['levels']:6d}  {c['bits']:6.0f}  {c['errors'] / n:9.3f}"
        f"  {c['bound']:5.3f}  {c['test']:8.3f}"
    )

# %%
# The certificate
# ---------------
# The smallest bound of the grid, with probability at least 95% over the training sample:

best = min(cells, key=lambda c: c["bound"])
print(
    f"keep {best['keep']}, {best['levels']} levels: {best['bits']:.0f} bits, training error "
    f"{best['errors'] / n:.3f} -> true error <= {best['bound']:.3f} (test error "
    f"{best['test']:.3f})"
)

# %%
# Size against fit: fewer weights and levels shorten the code but raise the training error.

fig, ax = plt.subplots()
for levels in LEVELS:
    row = [c for c in cells if c["levels"] == levels]
    ax.plot(
        [c["bits"] for c in row], [c["bound"] for c in row], marker="o", label=f"{levels} levels"
    )
ax.axhline(
    best["test"],
    color="grey",
    linestyle=":",
    label="test error of the best",
)
ax.set_xscale("log")
ax.set_xlabel(r"description length $\ell(g)$ (bits)")
ax.set_ylabel(r"bound on the true error ($\delta = 0.05$)")
ax.legend()

# %%
# With 1,258 training points, every bit of description costs about :math:`\ln 2/n` in the
# exponent, so a code of a few thousand bits leaves little room: the certificate is valid but
# far above the test error. The bound needs only the training set; the test error is shown for
# comparison and was not used to choose anything. :doc:`/guide/generalization` reports the
# best certificates the toolkit finds on more data, with richer codes and retraining.
