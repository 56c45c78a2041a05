r"""Sympy twin of ``network.py``: the size theorem's per-neuron term, with the check that
substituting :math:`\varepsilon_\ell` into the sample size gives it.

The expression names its numeric function under See Also, and the numeric function names it
back. The names are exported by :mod:`netcoreset.bounds.symbolic` (this module imports sympy;
``import netcoreset.bounds`` does not load it).
"""

from __future__ import annotations

import sympy as sp

from ._symbolic_base import SYM, DerivationCheck, _is_zero, _log8
from .error_budget_symbolic import layer_eps_expr
from .sample_size_symbolic import sample_size_expr

__all__ = ["size_term_expr", "check_theorem_size_term"]


def size_term_expr(integer: bool = True) -> sp.Expr:
    r"""The size theorem's term for one neuron :math:`i` of layer :math:`\ell`.

    .. math::

        \left\lceil\frac{32\,(L-1)^2\,(\hat\Delta^{\ell\rightarrow})^2\,\mathcal{S}^\ell_i\,K
        \log(8\eta/\delta)}{\varepsilon^2}\right\rceil + 1

    ``integer=False`` gives the real-valued quotient (no ceiling, no ``+ 1``).

    See Also
    --------
    netcoreset.bounds.compressed_size_bound : the numeric function.

    Examples
    --------
    >>> per_part = sample_size_expr(integer=False).subs(SYM.S, SYM.S_i)
    >>> sp.factor(size_term_expr(integer=False) / per_part)
    4*\hat{\Delta}^{\ell\rightarrow}**2*(L - 1)**2
    """
    real = 32 * (SYM.L - 1) ** 2 * SYM.delta_hat_product**2 * SYM.S_i * SYM.K * _log8() / SYM.eps**2
    return sp.ceiling(real) + 1 if integer else real


def check_theorem_size_term() -> DerivationCheck:
    r"""Substituting :math:`\varepsilon_\ell` into :math:`m` gives the size theorem's term.

    .. math::

        \frac{8\,\mathcal{S}K\log(8\eta/\delta)}{\varepsilon_\ell^2}\bigg|_{
        \varepsilon_\ell = \frac{\varepsilon}{2(L-1)\hat\Delta^{\ell\rightarrow}}}
        = \frac{32\,(L-1)^2(\hat\Delta^{\ell\rightarrow})^2\,\mathcal{S}K\log(8\eta/\delta)}
        {\varepsilon^2}.

    Summed over the two parts of a neuron (:math:`\mathcal{S}^\ell_i = \mathcal{S}_+ +
    \mathcal{S}_-`, the real-valued terms add) and with
    :math:`\lceil a\rceil + \lceil b\rceil \le \lceil a+b\rceil + 1` this is the theorem's
    per-neuron bound :func:`size_term_expr`.

    Examples
    --------
    >>> check_theorem_size_term().residual
    0
    """
    s_plus, s_minus = sp.symbols(r"\mathcal{S}_{+} \mathcal{S}_{-}", positive=True)
    m_real = sample_size_expr(integer=False).subs(SYM.eps, layer_eps_expr())
    both = m_real.subs(SYM.S, s_plus) + m_real.subs(SYM.S, s_minus)
    target = size_term_expr(integer=False).subs(SYM.S_i, s_plus + s_minus)
    ok, res = _is_zero(both - target)
    return DerivationCheck(
        claim="m(S+, eps_l) + m(S-, eps_l) with eps_l = eps/(2(L-1) Dhat) equals "
        "32 (L-1)^2 Dhat^2 (S+ + S-) K log(8 eta/delta)/eps^2",
        assumptions="S+, S-, K, eta, delta, eps, Dhat > 0; L > 1 integer",
        proved=ok,
        residual=res,
    )
