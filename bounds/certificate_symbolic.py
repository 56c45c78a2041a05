r"""Sympy check behind ``certificate.py``: the binomial-beta duality that makes the
Clopper-Pearson bound and the order-statistic rank of the held-out certificates exact.

The name is exported by :mod:`netcoreset.bounds.symbolic` (this module imports sympy;
``import netcoreset.bounds`` does not load it).
"""

from __future__ import annotations

import sympy as sp

from ._symbolic_base import DerivationCheck

__all__ = ["check_order_statistic_duality"]


def check_order_statistic_duality(max_n: int = 6) -> DerivationCheck:
    r"""The binomial–Beta duality behind the held-out certificates, for every
    :math:`1 \le k \le n \le` ``max_n``.

    .. math::

        \sum_{j=0}^{k-1}\binom{n}{j}p^j(1-p)^{n-j}
        = \int_p^1 \frac{t^{k-1}(1-t)^{n-k}}{B(k, n-k+1)}\,dt ,

    i.e. :math:`\mathbb{P}(\mathrm{Bin}(n,p) \le k-1) = \mathbb{P}(\mathrm{Beta}(k, n-k+1) > p)`,
    which makes the Clopper–Pearson bound exact and fixes the rank of
    :func:`~netcoreset.bounds.order_statistic_rank`. sympy integrates each case
    exactly (a proof for each listed :math:`n`, not for all :math:`n`).

    Examples
    --------
    >>> check_order_statistic_duality(3).proved
    True
    """
    p, t = sp.symbols("p t", positive=True)
    worst = sp.Integer(0)
    ok = True
    for n in range(1, max_n + 1):
        for k in range(1, n + 1):
            lhs = sum(sp.binomial(n, j) * p**j * (1 - p) ** (n - j) for j in range(k))
            beta_kn = sp.factorial(k - 1) * sp.factorial(n - k) / sp.factorial(n)  # B(k, n-k+1)
            dens = t ** (k - 1) * (1 - t) ** (n - k) / beta_kn
            rhs = sp.integrate(sp.expand(dens), (t, p, 1))
            res = sp.simplify(sp.expand(lhs - rhs))
            if res != 0:
                ok, worst = False, res
    return DerivationCheck(
        claim=f"P(Bin(n, p) <= k-1) = P(Beta(k, n-k+1) > p) for all 1 <= k <= n <= {max_n}",
        assumptions="0 < p < 1",
        proved=ok,
        residual=worst,
    )
