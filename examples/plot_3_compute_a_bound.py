"""
Compute a bound
===============

The theory as numbers: how many samples one neuron needs for a relative error
:math:`\\varepsilon` with failure probability :math:`\\delta`, what a given number of samples
certifies, and the theorem's sample sizes and size bound for a whole architecture. No network
and no data are needed: :mod:`netcoreset.bounds` is plain NumPy and SciPy, and every formula
has a SymPy twin in :mod:`netcoreset.bounds.symbolic`.
"""

# %%
# One neuron
# ----------
# For a part of a neuron (its positive or its negative weights) whose empirical sensitivities
# sum to :math:`\mathcal{S}`, in a network of :math:`\eta` neurons, the number of i.i.d. draws
# of the SPARSIFY step is
#
# .. math::
#
#     m = \left\lceil \frac{8\,\mathcal{S}\,K\log(8\eta/\delta)}{\varepsilon^2}\right\rceil
#
# (Baykal et al., 2019: Bernstein's inequality with the constant :math:`C = 3K` of their Lemma 1
# and :math:`6 + 2\varepsilon \le 8`), and ``tight=True`` gives Bernstein's form solved
# exactly. :func:`~netcoreset.bounds.certified_eps` is the inverse: the smallest
# :math:`\varepsilon` a given :math:`m` certifies.

import matplotlib.pyplot as plt
import numpy as np

from netcoreset.bounds import certified_eps, network_bound, sample_size

S, eta, delta, K = 4.0, 410, 0.05, 2.0
m = sample_size(S, 0.1, delta, eta, K=K)
print(f"draws for eps = 0.1: {m}")
print(f"eps certified by {m} draws: {certified_eps(m, S, delta, eta, K=K):.4f}")
print(
    f"draws for eps = 0.1, exact Bernstein form: {sample_size(S, 0.1, delta, eta, K=K, tight=True)}"
)

# %%
# The functions take arrays, so a curve is one call:

eps = np.geomspace(0.02, 0.95, 60)
fig, ax = plt.subplots()
ax.loglog(eps, sample_size(S, eps, delta, eta, K=K), label="8-form (the paper's)")
ax.loglog(eps, sample_size(S, eps, delta, eta, K=K, tight=True), label="exact Bernstein form")
ax.set_xlabel(r"relative error $\varepsilon$ of the neuron")
ax.set_ylabel("draws $m$ per part")
ax.legend()

# %%
# A whole network
# ---------------
# :func:`~netcoreset.bounds.network_bound` splits :math:`\varepsilon` across the layers as the
# theorem does and returns each layer's draws and the bound on the weights it keeps. With the
# smallest sensitivity sums a part can have (the default) the figures are lower bounds on what
# CoreNet draws for a trained network.

bound = network_bound("784,300,100,10", eps=0.5, delta=0.05, K=K)
print(f"kappa = {bound.kappa:.1f}, |S| = {bound.sensitivity_set_size}")
print("layer  fan-in  width  eps_layer  draws/part  kept fraction")
for layer in bound.layers:
    print(
        f"{layer.layer:5d}  {layer.fan_in:6d}  {layer.width:5d}  {layer.eps_layer:9.2e}"
        f"  {float(layer.draws_per_part):10.2e}  {layer.kept_fraction:13.3f}"
    )

# %%
# The draws per part exceed the fan-in of every layer: for so wide a network the theorem's
# sample sizes keep every weight, and the size bound is vacuous. That is why the toolkit also
# offers budget mode and certificates measured on held-out points.
#
# The same formula in SymPy
# -------------------------
# Every numeric formula has a symbolic twin, named with ``_expr``, used to check the
# derivations (:doc:`/theory/derivation-checks`):

import sympy as sp  # noqa: E402

from netcoreset.bounds.symbolic import sample_size_expr  # noqa: E402

expr = sample_size_expr()
print(sp.pretty(expr, use_unicode=False))
values = {"\\mathcal{S}": S, "\\varepsilon": 0.1, "\\delta": delta, "\\eta": eta, "K": K}
at_point = expr.subs({sym: values[sym.name] for sym in expr.free_symbols})
print(f"sympy: {int(at_point)}, numpy: {sample_size(S, 0.1, delta, eta, K=K)}")
