r"""Sympy twins of ``sample_size.py``: :math:`|S|`, the draws :math:`m` of a part, the
certified :math:`\varepsilon(m)`, Bernstein's exponent and the expected number of distinct
edges, with the checks that lead from Bernstein's inequality to the sample size.

Each expression names its numeric function under See Also, and the numeric function names
it back. The names are exported by :mod:`netcoreset.bounds.symbolic` (this module imports
sympy; ``import netcoreset.bounds`` does not load it).
"""

from __future__ import annotations

import sympy as sp

from ._symbolic_base import SYM, DerivationCheck, _is_zero, _log8

__all__ = [
    "sensitivity_set_size_expr",
    "sample_size_expr",
    "certified_eps_expr",
    "bernstein_exponent_expr",
    "expected_distinct_edges_expr",
    "check_log_term_positive",
    "check_bernstein_exponent",
    "check_failure_probability",
    "check_eight_form_condition",
    "check_certified_eps_inverse",
    "bernstein_exponent_general_expr",
    "check_bernstein_constant",
]


def sensitivity_set_size_expr() -> sp.Expr:
    r"""Number of points used for the sensitivities.

    .. math::

        |S| = \left\lceil K' \log\frac{8\,\eta\,\eta^*}{\delta} \right\rceil

    See Also
    --------
    netcoreset.bounds.sensitivity_set_size : the numeric function.

    Examples
    --------
    >>> sensitivity_set_size_expr()
    ceiling(K'*log(8*\eta*\eta^{*}/\delta))
    """
    return sp.ceiling(SYM.K_prime * sp.log(8 * SYM.eta * SYM.eta_star / SYM.delta))


def sample_size_expr(tight: bool = False, *, integer: bool = True) -> sp.Expr:
    r"""Draws :math:`m` of one part, the 8-form or (``tight=True``) the exact Bernstein form.

    .. math::

        m = \left\lceil\frac{8\,\mathcal{S} K \log(8\eta/\delta)}{\varepsilon^2}\right\rceil,
        \qquad
        m_{\text{tight}} = \left\lceil\frac{K\mathcal{S}(6+2\varepsilon)\log(8\eta/\delta)}
        {\varepsilon^2}\right\rceil .

    ``integer=False`` drops the ceiling (the real-valued :math:`m(\varepsilon)` the
    derivations work with).

    See Also
    --------
    netcoreset.bounds.sample_size : the numeric function.

    Examples
    --------
    >>> sample_size_expr(integer=False)
    8*K*\mathcal{S}*log(8*\eta/\delta)/\varepsilon**2
    """
    c = (6 + 2 * SYM.eps) if tight else sp.Integer(8)
    real = c * SYM.S * SYM.K * _log8() / SYM.eps**2
    return sp.ceiling(real) if integer else real


def certified_eps_expr(tight: bool = False) -> sp.Expr:
    r"""The certified :math:`\varepsilon(m)`: the sample-size formula solved for
    :math:`\varepsilon`.

    .. math::

        \varepsilon(m) = \sqrt{\frac{8c}{m}},\qquad
        \varepsilon_{\text{tight}}(m) = \frac{c + \sqrt{c^2 + 6mc}}{m},\qquad
        c = K\mathcal{S}\log\frac{8\eta}{\delta},

    the latter being the positive root of :math:`m\varepsilon^2 - 2c\varepsilon - 6c = 0`
    (:func:`check_certified_eps_inverse`).

    See Also
    --------
    netcoreset.bounds.certified_eps : the numeric function.

    Examples
    --------
    >>> certified_eps_expr()
    2*sqrt(2)*sqrt(K)*sqrt(\mathcal{S})*sqrt(log(8*\eta/\delta))/sqrt(m)
    """
    c = SYM.K * SYM.S * _log8()
    if tight:
        return (c + sp.sqrt(c**2 + 6 * SYM.m * c)) / SYM.m
    return sp.sqrt(8 * c / SYM.m)


def bernstein_exponent_expr() -> sp.Expr:
    r"""The exponent of the Bernstein tail of one part,
    :math:`P(|\hat z_+ - z_+| > \varepsilon z_+) \le 2\exp(-E)`.

    .. math::

        E = \frac{m\,\varepsilon^2}{K\mathcal{S}\,(6 + 2\varepsilon)}

    derived in :func:`check_bernstein_exponent`.

    Examples
    --------
    >>> bernstein_exponent_expr()
    \varepsilon**2*m/(K*\mathcal{S}*(2*\varepsilon + 6))
    """
    return SYM.m * SYM.eps**2 / (SYM.K * SYM.S * (6 + 2 * SYM.eps))


def expected_distinct_edges_expr() -> sp.Expr:
    r"""Expected number of distinct edges kept by :math:`m` i.i.d. draws from :math:`q`.

    .. math::

        \sum_{j=1}^{n}\bigl(1 - (1 - q_j)^m\bigr)

    See Also
    --------
    netcoreset.bounds.expected_distinct_edges : the numeric function.

    Examples
    --------
    >>> expected_distinct_edges_expr().subs({SYM.n: 2, SYM.m: 2}).doit()
    -(1 - q[1])**2 - (1 - q[2])**2 + 2
    """
    return sp.Sum(1 - (1 - SYM.q[SYM.j]) ** SYM.m, (SYM.j, 1, SYM.n))


def check_log_term_positive() -> DerivationCheck:
    r"""Show :math:`\log(8\eta/\delta) > 0` for :math:`\eta \ge 1`, :math:`0 < \delta < 1`.

    Writing :math:`\eta = 1 + a` (:math:`a \ge 0`) and :math:`\delta = 1/(1+b)`
    (:math:`b > 0`) covers exactly those values, and

    .. math::

        \frac{8\eta}{\delta} - 1 = 8(1+a)(1+b) - 1 = 7 + 8a + 8b + 8ab > 0,

    which sympy decides from the signs of :math:`a` and :math:`b`. The other checks divide
    by this logarithm and use it as a positive constant.

    Examples
    --------
    >>> check_log_term_positive().proved
    True
    """
    a = sp.Symbol("a", nonnegative=True)
    b = sp.Symbol("b", positive=True)
    arg = (8 * SYM.eta / SYM.delta).subs({SYM.eta: 1 + a, SYM.delta: 1 / (1 + b)})
    gap = sp.expand(sp.simplify(arg - 1))
    proved = bool(gap.is_positive)
    return DerivationCheck(
        claim="log(8*eta/delta) > 0, i.e. 8*eta/delta - 1 = 8(1+a)(1+b) - 1 > 0",
        assumptions="eta = 1 + a with a >= 0 (eta >= 1); delta = 1/(1+b) with b > 0 "
        "(0 < delta < 1)",
        proved=proved,
        residual=gap,
    )


def check_bernstein_exponent() -> DerivationCheck:
    r"""Derive the Bernstein exponent of one part from Bernstein's inequality.

    With :math:`m` i.i.d. draws :math:`X_k = w_j a_j/q_j`, :math:`\hat z_+ = \frac1m\sum_k X_k`,
    each draw bounded by :math:`M = 3K\mathcal{S}z_+` and of variance
    :math:`\sigma^2 \le 3K\mathcal{S}z_+^2`, Bernstein's inequality for the deviation
    :math:`t = m\varepsilon z_+` of the sum gives the exponent

    .. math::

        \frac{t^2/2}{m\sigma^2 + Mt/3}
        = \frac{m\,\varepsilon^2}{K\mathcal{S}\,(6 + 2\varepsilon)}.

    sympy simplifies the difference of the two sides to 0.

    Examples
    --------
    >>> check_bernstein_exponent().residual
    0
    """
    M = 3 * SYM.K * SYM.S * SYM.z
    sigma2 = 3 * SYM.K * SYM.S * SYM.z**2
    t = SYM.m * SYM.eps * SYM.z
    exponent = (SYM.t**2 / 2 / (SYM.m * sigma2 + M * SYM.t / 3)).subs(SYM.t, t)
    ok, res = _is_zero(exponent - bernstein_exponent_expr())
    return DerivationCheck(
        claim="Bernstein: t^2/2/(m sigma^2 + M t/3) with M = 3 K S z, sigma^2 = 3 K S z^2, "
        "t = m eps z equals m eps^2/(K S (6 + 2 eps))",
        assumptions="K, S, z, m, eps > 0",
        proved=ok,
        residual=res,
    )


def check_failure_probability() -> DerivationCheck:
    r"""Requiring the tail :math:`2e^{-E}` to be at most :math:`\delta/(4\eta)` is
    :math:`E \ge \log(8\eta/\delta)`.

    .. math::

        2e^{-E} \le \frac{\delta}{4\eta} \iff E \ge \log 2 - \log\frac{\delta}{4\eta}
        = \log\frac{8\eta}{\delta}.

    The logarithm is increasing, so the two inequalities are equivalent; sympy shows
    :math:`\log 2 - \log(\delta/(4\eta)) - \log(8\eta/\delta) = 0`.

    Examples
    --------
    >>> check_failure_probability().proved
    True
    """
    threshold = sp.log(2) - sp.log(SYM.delta / (4 * SYM.eta))
    res = sp.simplify(sp.expand_log(threshold - _log8(), force=True))
    return DerivationCheck(
        claim="2 exp(-E) <= delta/(4 eta)  <=>  E >= log 2 - log(delta/(4 eta)) = log(8 eta/delta)",
        assumptions="eta, delta > 0",
        proved=bool(res == 0),
        residual=res,
    )


def check_eight_form_condition() -> DerivationCheck:
    r"""The 8-form meets the Bernstein requirement exactly when :math:`\varepsilon \le 1`.

    With :math:`m = 8\mathcal{S}K\log(8\eta/\delta)/\varepsilon^2` (real-valued),

    .. math::

        \frac{E}{\log(8\eta/\delta)} = \frac{8}{6 + 2\varepsilon},\qquad
        \{\varepsilon > 0 : E \ge \log(8\eta/\delta)\} = (0, 1].

    Both directions: sympy simplifies the ratio, then solves the inequality
    :math:`8\ell/(6+2\varepsilon) \ge \ell` over :math:`\varepsilon > 0` with
    :math:`\ell = \log(8\eta/\delta) > 0` (:func:`check_log_term_positive`) and the solution
    set must equal :math:`(0, 1]`. (So ``tight=True``, which solves :math:`E = \ell` exactly,
    never needs more draws than the 8-form for :math:`\varepsilon \le 1`.)

    Examples
    --------
    >>> check_eight_form_condition().residual
    EmptySet
    """
    ell = sp.Symbol(r"\ell_{8}", positive=True)
    exponent = bernstein_exponent_expr().subs(SYM.m, sample_size_expr(integer=False))
    ratio = sp.simplify(exponent / _log8())
    ratio_ok, _ = _is_zero(ratio - sp.Integer(8) / (6 + 2 * SYM.eps))
    ineq = exponent.subs(_log8(), ell) >= ell
    solution = sp.solve_univariate_inequality(
        ineq, SYM.eps, relational=False, domain=sp.Interval.open(0, sp.oo)
    )
    target = sp.Interval.Lopen(0, 1)
    residual = sp.Union(sp.Complement(solution, target), sp.Complement(target, solution))
    return DerivationCheck(
        claim="with m = 8 S K log(8 eta/delta)/eps^2: E/log(8 eta/delta) = 8/(6 + 2 eps), "
        "and E >= log(8 eta/delta) holds for eps > 0 if and only if eps <= 1",
        assumptions="S, K, eta, delta, eps > 0; log(8 eta/delta) > 0 (check_log_term_positive)",
        proved=bool(ratio_ok and residual == sp.S.EmptySet),
        residual=residual,
    )


def check_certified_eps_inverse(tight: bool = False) -> DerivationCheck:
    r"""The certified :math:`\varepsilon(m)` inverts the real-valued :math:`m(\varepsilon)`.

    8-form: :math:`m(\varepsilon(m)) = 8c/(8c/m) = m`. Tight form: :math:`m(\varepsilon) =
    c(6+2\varepsilon)/\varepsilon^2` is equivalent to the quadratic

    .. math::

        m\varepsilon^2 - 2c\varepsilon - 6c = 0,\qquad
        \varepsilon_\pm = \frac{c \pm \sqrt{c^2 + 6mc}}{m},

    whose roots sympy finds; :math:`\varepsilon_-` is negative because
    :math:`(c - \sqrt{c^2+6mc})(c + \sqrt{c^2+6mc}) = -6mc < 0`, so :math:`\varepsilon_+` is
    the only admissible root, and substituting it back leaves residual 0.
    (:math:`c = K\mathcal{S}\log(8\eta/\delta) > 0`, :func:`check_log_term_positive`.)

    Examples
    --------
    >>> check_certified_eps_inverse().proved, check_certified_eps_inverse(tight=True).proved
    (True, True)
    """
    c, m, eps = SYM.c, SYM.m, SYM.eps
    to_c = {SYM.K: c / (SYM.S * _log8())}
    if not tight:
        e8 = certified_eps_expr(False).subs(to_c)
        ok, res = _is_zero(8 * c / e8**2 - m)
        return DerivationCheck(
            claim="8-form: substituting eps(m) = sqrt(8 c/m) into 8 c/eps^2 gives m",
            assumptions="c = K S log(8 eta/delta) > 0, m > 0",
            proved=ok,
            residual=res,
        )
    e_plus = certified_eps_expr(True).subs(to_c)
    ok_back, res = _is_zero(c * (6 + 2 * e_plus) / e_plus**2 - m)
    roots = sp.solve(sp.Eq(m * eps**2, c * (6 + 2 * eps)), eps)
    e_minus = (c - sp.sqrt(c**2 + 6 * m * c)) / m
    matched = len(roots) == 2 and all(
        any(sp.simplify(r - e) == 0 for e in (e_plus, e_minus)) for r in roots
    )
    minus_negative = bool(
        sp.expand((c - sp.sqrt(c**2 + 6 * m * c)) * (c + sp.sqrt(c**2 + 6 * m * c))).is_negative
    )
    plus_positive = bool(e_plus.is_positive)
    return DerivationCheck(
        claim="tight form: m eps^2 = c (6 + 2 eps) has exactly the roots "
        "(c +- sqrt(c^2 + 6 m c))/m, the '-' root is negative, and substituting the '+' root "
        "into c (6 + 2 eps)/eps^2 gives m",
        assumptions="c = K S log(8 eta/delta) > 0, m > 0",
        proved=bool(ok_back and matched and minus_negative and plus_positive),
        residual=res,
    )


def bernstein_exponent_general_expr() -> sp.Expr:
    r"""The Bernstein exponent of one part with the coverage constant :math:`C`
    (:math:`g_j(x) \le C s_j`): range :math:`C\mathcal{S}z_+`, variance
    :math:`\le C\mathcal{S}z_+^2`.

    .. math::

        E_C = \frac{m\,\varepsilon^2}{C\mathcal{S}\,(2 + 2\varepsilon/3)}

    See Also
    --------
    netcoreset.bounds.sample_size : the numeric function.

    Examples
    --------
    >>> bernstein_exponent_general_expr()
    \varepsilon**2*m/(C*\mathcal{S}*(2*\varepsilon/3 + 2))
    """
    C = sp.Symbol("C", positive=True)
    return SYM.m * SYM.eps**2 / (C * SYM.S * (2 + 2 * SYM.eps / 3))


def check_bernstein_constant() -> DerivationCheck:
    r"""Bernstein with the coverage constant :math:`C`, and what :math:`C = 3K` costs.

    Range :math:`M = C\mathcal{S}z_+`, variance :math:`\sigma^2 \le C\mathcal{S}z_+^2`,
    :math:`t = m\varepsilon z_+`:

    .. math::

        \frac{t^2/2}{m\sigma^2 + Mt/3} = \frac{m\varepsilon^2}{C\mathcal{S}(2+2\varepsilon/3)},
        \qquad E_{3K} = \frac{m\varepsilon^2}{K\mathcal{S}(6+2\varepsilon)},
        \qquad \frac{m_{C=3K}}{m_{C=K}} = 3 .

    Lemma 1's argument gives :math:`g_j(x) \le K s_j` on the coverage event, so the split of
    :func:`check_error_split` (sampling on the original activations) needs only :math:`C = K`.

    Examples
    --------
    >>> check_bernstein_constant().proved
    True
    """
    C = sp.Symbol("C", positive=True)
    M = C * SYM.S * SYM.z
    sigma2 = C * SYM.S * SYM.z**2
    t = SYM.m * SYM.eps * SYM.z
    exponent = (SYM.t**2 / 2 / (SYM.m * sigma2 + M * SYM.t / 3)).subs(SYM.t, t)
    ok1, res1 = _is_zero(exponent - bernstein_exponent_general_expr())
    ok2, res2 = _is_zero(
        bernstein_exponent_general_expr().subs(C, 3 * SYM.K) - bernstein_exponent_expr()
    )
    level = sp.Symbol(r"\ell_{E}", positive=True)
    m_of = sp.solve(sp.Eq(bernstein_exponent_general_expr(), level), SYM.m)[0]
    ok3, res3 = _is_zero(m_of.subs(C, 3 * SYM.K) / m_of.subs(C, SYM.K) - 3)
    return DerivationCheck(
        claim="Bernstein with range C S z and variance C S z^2 gives E_C = m eps^2/(C S "
        "(2 + 2 eps/3)); C = 3K gives the paper's m eps^2/(K S (6 + 2 eps)), three times "
        "the draws of C = K",
        assumptions="C, K, S, z, m, eps > 0",
        proved=bool(ok1 and ok2 and ok3),
        residual=res1 + res2 + res3,
    )
