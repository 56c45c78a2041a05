r"""Sympy twins of ``description_length.py``: the bits of a count, of the positions of the
kept weights, of fixed-width and table codes, of the multinomial and arithmetic codes, of a
codebook and the permutation credit, with the Kraft check of the layer code.

Each expression names its numeric function under See Also, and the numeric function names
it back. The names are exported by :mod:`netcoreset.bounds.symbolic` (this module imports
sympy; ``import netcoreset.bounds`` does not load it).
"""

from __future__ import annotations

import sympy as sp

from ._symbolic_base import GSYM, DerivationCheck, _log2

__all__ = [
    "count_bits_expr",
    "positions_bits_expr",
    "fixed_width_bits_expr",
    "count_table_bits_expr",
    "multinomial_bits_expr",
    "arithmetic_coding_bits_expr",
    "codebook_bits_expr",
    "permutation_credit_bits_expr",
    "check_layer_code_kraft",
]


def count_bits_expr() -> sp.Expr:
    r"""Twin of :func:`~netcoreset.bounds.count_bits`.

    .. math::

        \lceil\log_2(N+1)\rceil

    See Also
    --------
    netcoreset.bounds.count_bits : the numeric function.

    Examples
    --------
    >>> count_bits_expr().subs(GSYM.N, 4)
    3
    """
    return sp.ceiling(_log2(GSYM.N + 1))


def positions_bits_expr() -> sp.Expr:
    r"""Twin of :func:`~netcoreset.bounds.positions_bits`.

    .. math::

        \log_2\binom Nq

    See Also
    --------
    netcoreset.bounds.positions_bits : the numeric function.

    Examples
    --------
    >>> sp.simplify(positions_bits_expr().subs({GSYM.N: 4, GSYM.q: 1}))
    2
    """
    return _log2(sp.binomial(GSYM.N, GSYM.q))


def fixed_width_bits_expr() -> sp.Expr:
    r"""Twin of :func:`~netcoreset.bounds.fixed_width_bits`.

    .. math::

        q\,\lceil\log_2 r\rceil

    See Also
    --------
    netcoreset.bounds.fixed_width_bits : the numeric function.

    Examples
    --------
    >>> fixed_width_bits_expr().subs({GSYM.q: 10, GSYM.r: 5})
    30
    """
    return GSYM.q * sp.ceiling(_log2(GSYM.r))


def count_table_bits_expr() -> sp.Expr:
    r"""Twin of :func:`~netcoreset.bounds.count_table_bits` ("composition").

    .. math::

        \log_2\binom{q+r-1}{r-1}

    See Also
    --------
    netcoreset.bounds.count_table_bits : the numeric function.

    Examples
    --------
    >>> sp.simplify(count_table_bits_expr().subs({GSYM.q: 3, GSYM.r: 2}))
    2
    """
    return _log2(sp.binomial(GSYM.q + GSYM.r - 1, GSYM.r - 1))


def multinomial_bits_expr() -> sp.Expr:
    r"""Twin of :func:`~netcoreset.bounds.multinomial_bits`.

    .. math::

        \log_2\frac{q!}{\prod_{i=1}^{r} c_i!}

    See Also
    --------
    netcoreset.bounds.multinomial_bits : the numeric function.

    Examples
    --------
    >>> multinomial_bits_expr().has(GSYM.q)
    True
    """
    i, c = GSYM.i, GSYM.counts
    return _log2(sp.factorial(GSYM.q) / sp.Product(sp.factorial(c[i]), (i, 1, GSYM.r)))


def arithmetic_coding_bits_expr() -> sp.Expr:
    r"""Twin of :func:`~netcoreset.bounds.arithmetic_coding_bits` (default overhead).

    .. math::

        \log_2\binom{q+r-1}{r-1} + \log_2\frac{q!}{\prod_i c_i!} + 2

    See Also
    --------
    netcoreset.bounds.arithmetic_coding_bits : the numeric function.

    Examples
    --------
    >>> arithmetic_coding_bits_expr().has(GSYM.counts)
    True
    """
    return count_table_bits_expr() + multinomial_bits_expr() + 2


def codebook_bits_expr() -> sp.Expr:
    r"""Twin of :func:`~netcoreset.bounds.codebook_bits` ("table").

    .. math::

        r\,b

    See Also
    --------
    netcoreset.bounds.codebook_bits : the numeric function.

    Examples
    --------
    >>> codebook_bits_expr().subs({GSYM.r: 16, GSYM.b: 32})
    512
    """
    return GSYM.r * GSYM.b


def permutation_credit_bits_expr() -> sp.Expr:
    r"""Twin of :func:`~netcoreset.bounds.permutation_credit_bits`.

    .. math::

        \sum_{i=1}^{H}\log_2(\eta_i!)

    See Also
    --------
    netcoreset.bounds.permutation_credit_bits : the numeric function.

    Examples
    --------
    >>> permutation_credit_bits_expr().subs(GSYM.H, 1).doit().has(GSYM.widths)
    True
    """
    i = GSYM.i
    return sp.Sum(_log2(sp.factorial(GSYM.widths[i])), (i, 1, GSYM.H))


def check_layer_code_kraft(max_slots: int = 6, max_levels: int = 3) -> DerivationCheck:
    r"""BY EXHAUSTIVE EVALUATION (exact rational arithmetic; a proof only for the sizes
    enumerated): the layer code is a valid prior.

    For every layer of :math:`N \le` ``max_slots`` slots and :math:`r \le` ``max_levels``
    levels, sum :math:`2^{-\ell}` over every possible layer (every count :math:`q`, every
    subset of :math:`q` slots, every sequence of :math:`q` symbols), with
    :math:`\ell` = count bits + :math:`\log_2\binom Nq` + count table
    :math:`\log_2\binom{q+r-1}{r-1}` + :math:`\log_2(q!/\prod c_i!)`:

    .. math::

        \sum_{q=0}^{N} 2^{-\lceil\log_2(N+1)\rceil}\binom Nq\frac{1}{\binom Nq}
        \sum_{s \in [r]^q}\frac{1}{\binom{q+r-1}{r-1}}\frac{\prod_i c_i(s)!}{q!}
        = \frac{N+1}{2^{\lceil\log_2(N+1)\rceil}} \le 1 .

    The inner sum over all :math:`r^q` sequences is enumerated and must be exactly 1 (the
    two-part value code is a complete prefix code); the total must be at most 1. The general
    statement follows from counting (stars and bars and the multinomial theorem); this check
    only confirms the bookkeeping.

    Examples
    --------
    >>> check_layer_code_kraft(4, 2).passed
    True
    """
    import itertools

    worst = sp.Integer(0)
    kraft_ok = True
    for N in range(1, max_slots + 1):
        for r in range(1, max_levels + 1):
            total = sp.Integer(0)
            for q in range(N + 1):
                inner = sp.Integer(0)
                for seq in itertools.product(range(r), repeat=q):
                    counts = [seq.count(s) for s in range(r)]
                    mult = sp.factorial(q) / sp.Mul(*[sp.factorial(ci) for ci in counts])
                    inner += 1 / (sp.binomial(q + r - 1, r - 1) * mult)
                worst = max(worst, abs(inner - 1))
                # binomial(N, q) subsets, each of weight 1/binomial(N, q)
                total += inner * sp.binomial(N, q) / sp.binomial(N, q)
            total /= 2 ** N.bit_length()  # the count: ceil(log2(N + 1)) bits
            kraft_ok = kraft_ok and bool(total <= 1)
    return DerivationCheck(
        claim=f"BY EXHAUSTIVE EVALUATION (exact rationals, N <= {max_slots}, r <= {max_levels}): "
        "the two-part value code sums to exactly 1 over all r^q sequences and the layer code "
        "(count, positions, values) to (N+1)/2^ceil(log2(N+1)) <= 1 (Kraft)",
        assumptions="every layer of N slots, every count q <= N, every subset, every sequence",
        proved=bool(worst == 0 and kraft_ok),
        residual=worst,
        kind="evaluation",
    )
