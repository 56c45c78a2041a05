r"""``netcoreset bound``: the theorem's sample sizes, certified errors and size bounds.

Three sub-commands, all pure arithmetic (no model, no data, no torch):

``netcoreset bound sample-size``
    :math:`m = \lceil 8\mathcal{S}K\log(8\eta/\delta)/\varepsilon^2\rceil` draws of one part
    (``--tight``: the exact Bernstein form).
``netcoreset bound certified-eps``
    the inverse: the smallest :math:`\varepsilon` that ``--m`` draws certify.
``netcoreset bound network``
    the per-layer table of the size theorem for an architecture: :math:`\eta^\ell`, fan-in,
    :math:`\hat\Delta^\ell`, :math:`\hat\Delta^{\ell\rightarrow}`, :math:`\varepsilon_\ell`,
    draws per part and per neuron, the bound on the number of non-zero weights and the
    fraction of the layer's weights it allows.
``netcoreset bound occam``
    the Occam bound on the true error of a classifier with ``--errors`` training errors out
    of ``--n`` and a description of ``--bits`` bits (or ``--nats``) fixed before the data:
    the kl, Hoeffding or exact binomial form, or all three
    (:func:`~netcoreset.bounds.occam_bound`).

``--json`` prints machine-readable output, ``--latex`` the formulas (from
:mod:`netcoreset.bounds.symbolic`). Bad input exits with status 2 and a one-line message.

Examples
--------
>>> from netcoreset.verification.cli import main
>>> main(["bound", "sample-size", "--sensitivity-sum", "2", "--eps", "0.1",
...       "--delta", "0.05", "--eta", "410", "--K", "2"])  # doctest: +ELLIPSIS
sample size per part (8-form): m = ceil(8 S K log(8 eta/delta) / eps^2)
...
m = 35493
0
"""

from __future__ import annotations

import argparse
import math
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

from . import generalization
from .common import (
    K_HELP_REQUIRED,
    OneLineParser,
    constant_K,
    count,
    integer,
    real,
    real_list,
)

__all__ = [
    "register",
    "run_sample_size",
    "run_certified_eps",
    "run_network",
    "run_occam",
    "format_count",
]

# Python argument names in the bounds' error messages -> the command-line flag.
_FLAGS = {
    "sensitivity_sum": "--sensitivity-sum",
    "mean_cancellation": "--delta-hat",
    "k_prime": "--k-prime",
    "arch": "--architecture",
    "eps": "--eps",
    "delta": "--delta",
    "eta": "--eta",
    "K": "--K",
    "m": "--m",
    "errors": "--errors",
    "n": "--n",
    "bits": "--bits",
}


# The forms of :data:`netcoreset.bounds.OCCAM_FORMS`, named here so that building the parser
# does not import scipy (tests/test_cli_bound.py checks that the two agree).
_OCCAM_FORMS = ("binomial", "kl", "hoeffding")


def format_count(value: float) -> str:
    r"""A count for people: exact below :math:`10^6`, else three significant digits.

    .. math::

        17747 \mapsto \texttt{17747},\qquad 2.1234\times10^{19} \mapsto \texttt{2.12e+19}

    Examples
    --------
    >>> format_count(17747), format_count(21234000000000000000), format_count(float("inf"))
    ('17747', '2.12e+19', 'inf')
    """
    v = float(value)
    if not math.isfinite(v):
        return "inf" if v > 0 else str(v)
    if abs(v) < 1e6 and v == int(v):
        return str(int(v))
    if abs(v) < 1e6:
        return f"{v:.4g}"
    return f"{v:.3g}"


def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a bounds function; name the flag instead of the Python argument in errors."""
    try:
        return fn(*args, **kwargs)
    except ValueError as exc:
        msg = str(exc)
        for name, flag in _FLAGS.items():
            if msg.startswith(name + " "):
                raise ValueError(flag + msg[len(name) :]) from None
        raise


def _latex(names: Sequence[str]) -> dict[str, str]:
    from netcoreset.bounds import symbolic

    return {name: symbolic.to_latex(name) for name in names}


def _print_latex(names: Sequence[str]) -> None:
    print()
    print("Formulas (LaTeX):")
    for name, tex in _latex(names).items():
        print(f"  % {name}")
        print(f"  {tex}")


def _note(text: str) -> None:
    print(textwrap.fill(text, width=100, subsequent_indent="  "))


def _dump(obj: dict[str, Any]) -> None:
    from netcoreset.bounds.serialization import to_json

    print(to_json(obj, indent=2))


def _common(p: argparse.ArgumentParser, *, sensitivity_help: str) -> None:
    p.add_argument(
        "--sensitivity-sum", type=real, required=True, metavar="S", help=sensitivity_help
    )
    p.add_argument("--delta", type=real, required=True, help="failure probability, in (0, 1)")
    p.add_argument("--eta", type=integer, required=True, help="number of non-input neurons, >= 1")
    p.add_argument("--K", type=constant_K, required=True, help=K_HELP_REQUIRED)
    p.add_argument(
        "--tight",
        action="store_true",
        help="exact Bernstein form K S (6 + 2 eps) log(8 eta/delta)/eps^2 instead of the 8-form",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--latex", action="store_true", help="also print the formulas in LaTeX")


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``bound`` and its sub-commands to the top-level sub-parsers ``sub``.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="netcoreset")
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["bound", "network", "--architecture", "4,3,2", "--eps", "0.5",
    ...                           "--delta", "0.1", "--K", "2"])
    >>> args.arch, args.K, args.kappa, args.handler is run_network
    ('4,3,2', 2.0, True, True)
    """
    p = sub.add_parser(
        "bound",
        help="the theorem's sample sizes, certified eps and size bounds",
        description="CoreNet's sample sizes, certified errors and the size theorem (no model "
        "needed). Guarantees are per random input x ~ D, with probability >= 1 - delta; "
        "K is an assumption (Assumption 1).",
    )
    bsub = p.add_subparsers(dest="bound_command", metavar="WHAT", parser_class=OneLineParser)
    bsub.required = True

    ss = bsub.add_parser(
        "sample-size",
        help="draws m of one part for a relative error eps",
        description="m = ceil(8 S K log(8 eta/delta) / eps^2) draws of one part (positive or "
        "negative weights of one neuron); --tight: ceil(K S (6 + 2 eps) log(8 eta/delta)/eps^2).",
    )
    _common(ss, sensitivity_help="total sensitivity of the part, >= 0")
    ss.add_argument("--eps", type=real, required=True, help="relative error, in (0, 1)")
    ss.set_defaults(handler=run_sample_size)

    ce = bsub.add_parser(
        "certified-eps",
        help="the eps that m draws of one part certify",
        description="The smallest eps whose sample size is at most m (inverse of sample-size).",
    )
    _common(ce, sensitivity_help="total sensitivity of the part, >= 0")
    ce.add_argument("--m", type=count, required=True, help="number of draws, a whole number")
    ce.set_defaults(handler=run_certified_eps)

    nw = bsub.add_parser(
        "network",
        help="per-layer table of the size theorem for an architecture",
        description="The theorem's eps_l, draws and bound on the number of non-zero weights, "
        "layer by layer. Without --sensitivity-sum/--delta-hat the smallest possible values "
        "(1) are used, so every figure is a lower bound on what the theorem demands.",
    )
    arch = nw.add_mutually_exclusive_group(required=True)
    arch.add_argument(
        "--architecture",
        dest="arch",
        metavar="WIDTHS",
        help="layer widths, input first, comma-separated (e.g. 784,300,100,10)",
    )
    arch.add_argument("--arch", dest="arch", help=argparse.SUPPRESS)  # the former name
    nw.add_argument("--eps", type=real, required=True, help="relative error, in (0, 1)")
    nw.add_argument("--delta", type=real, required=True, help="failure probability, in (0, 1)")
    nw.add_argument("--K", type=constant_K, required=True, help=K_HELP_REQUIRED)
    nw.add_argument(
        "--k-prime", type=real, default=3.0, help="K' of Assumption 1 for |S| (default 3)"
    )
    nw.add_argument(
        "--sensitivity-sum",
        type=real_list,
        default=None,
        metavar="S[,S...]",
        help="total sensitivity of each part: one value or one per weight layer (default 1, "
        "the smallest an active part can have)",
    )
    nw.add_argument(
        "--delta-hat",
        type=real_list,
        default=None,
        metavar="D[,D...]",
        help="mean cancellation max_i mean_{x in S} Delta_i(x) (>= 1): one value or one per "
        "weight layer (default 1); kappa is added unless --no-kappa",
    )
    nw.add_argument(
        "--kappa",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="add kappa to Delta-hat as the theorem does (--no-kappa: empirical Delta-hat "
        "only, a heuristic outside the theorem)",
    )
    nw.add_argument(
        "--bias",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="count one bias edge per neuron (default yes)",
    )
    nw.add_argument("--tight", action="store_true", help="exact Bernstein form of the draws")
    nw.add_argument("--json", action="store_true", help="print JSON (NetworkBound.to_dict())")
    nw.add_argument("--latex", action="store_true", help="also print the formulas in LaTeX")
    nw.set_defaults(handler=run_network)
    _register_occam(bsub)

    generalization.register(bsub)


def _form(tight: bool) -> str:
    return "tight" if tight else "8-form"


def run_sample_size(args: argparse.Namespace) -> int:
    r"""Handler of ``netcoreset bound sample-size``; prints :math:`m` and returns 0.

    .. math::

        m = \left\lceil \frac{8\,\mathcal{S} K \log(8\eta/\delta)}{\varepsilon^2} \right\rceil

    Examples
    --------
    >>> ns = argparse.Namespace(sensitivity_sum=1.0, eps=0.5, delta=0.1, eta=10, K=2.0,
    ...                         tight=True, json=True, latex=False)
    >>> run_sample_size(ns)  # doctest: +ELLIPSIS
    {
      "m": 375,
    ...
    0
    """
    from netcoreset.bounds import sample_size

    m = _call(
        sample_size,
        args.sensitivity_sum,
        args.eps,
        args.delta,
        args.eta,
        K=args.K,
        tight=args.tight,
    )
    names = ["sample_size_tight" if args.tight else "sample_size"]
    if args.json:
        out: dict[str, Any] = {
            "m": int(m),
            "form": _form(args.tight),
            "sensitivity_sum": args.sensitivity_sum,
            "eps": args.eps,
            "delta": args.delta,
            "eta": args.eta,
            "K": args.K,
        }
        if args.latex:
            out["latex"] = _latex(names)
        _dump(out)
        return 0
    if args.tight:
        print("sample size per part (tight): m = ceil(K S (6 + 2 eps) log(8 eta/delta) / eps^2)")
    else:
        print("sample size per part (8-form): m = ceil(8 S K log(8 eta/delta) / eps^2)")
    print(
        f"  S = {args.sensitivity_sum:g}, K = {args.K:g}, eta = {args.eta}, "
        f"delta = {args.delta:g}, eps = {args.eps:g}"
    )
    print(f"m = {format_count(m)}")
    if args.latex:
        _print_latex(names)
    return 0


def run_certified_eps(args: argparse.Namespace) -> int:
    r"""Handler of ``netcoreset bound certified-eps``; prints :math:`\varepsilon(m)`, returns 0.

    .. math::

        \varepsilon(m) = \sqrt{8\mathcal{S}K\log(8\eta/\delta)/m}

    Examples
    --------
    >>> ns = argparse.Namespace(m=35493, sensitivity_sum=2.0, delta=0.05, eta=410, K=2.0,
    ...                         tight=False, json=False, latex=False)
    >>> run_certified_eps(ns)  # doctest: +ELLIPSIS
    certified eps per part (8-form): eps = sqrt(8 S K log(8 eta/delta) / m)
      m = 35493, S = 2, K = 2, eta = 410, delta = 0.05
    eps = 0.099999
    0
    """
    from netcoreset.bounds import certified_eps

    eps = _call(
        certified_eps,
        args.m,
        args.sensitivity_sum,
        args.delta,
        args.eta,
        K=args.K,
        tight=args.tight,
    )
    names = ["certified_eps_tight" if args.tight else "certified_eps"]
    outside = (not args.tight) and math.isfinite(eps) and eps >= 1.0
    note = ""
    if not math.isfinite(eps):
        note = "m = 0 draws certify nothing (eps = inf)"
    elif outside:
        note = "eps >= 1 is outside the 8-form's validity (eps <= 1); use --tight"
    if args.json:
        out: dict[str, Any] = {
            "certified_eps": eps,
            "form": _form(args.tight),
            "m": args.m,
            "sensitivity_sum": args.sensitivity_sum,
            "delta": args.delta,
            "eta": args.eta,
            "K": args.K,
            "valid": math.isfinite(eps) and not outside,
            "note": note,
        }
        if args.latex:
            out["latex"] = _latex(names)
        _dump(out)
        return 0
    formula = (
        "eps = (c + sqrt(c^2 + 6 m c)) / m, c = K S log(8 eta/delta)"
        if args.tight
        else "eps = sqrt(8 S K log(8 eta/delta) / m)"
    )
    print(f"certified eps per part ({_form(args.tight)}): {formula}")
    print(
        f"  m = {format_count(args.m)}, S = {args.sensitivity_sum:g}, K = {args.K:g}, "
        f"eta = {args.eta}, delta = {args.delta:g}"
    )
    print(f"eps = {eps:.6g}")
    if note:
        print(f"note: {note}")
    if args.latex:
        _print_latex(names)
    return 0


_NETWORK_FORMULAS = (
    "sensitivity_set_size",
    "lambda_star",
    "kappa",
    "delta_hat",
    "delta_hat_product",
    "eps_prime",
    "layer_eps",
    "sample_size",
    "sample_size_tight",
    "size_term",
)


def run_network(args: argparse.Namespace) -> int:
    r"""Handler of ``netcoreset bound network``; prints the per-layer table and returns 0.

    .. math::

        \varepsilon_\ell = \frac{\varepsilon}{2(L-1)\hat\Delta^{\ell\rightarrow}},\qquad
        m^\ell = \left\lceil\frac{8\mathcal{S}K\log(8\eta/\delta)}{\varepsilon_\ell^2}\right\rceil

    Examples
    --------
    >>> ns = argparse.Namespace(arch="4,3,2", eps=0.5, delta=0.1, K=2.0, k_prime=3.0,
    ...                         sensitivity_sum=None, delta_hat=None, kappa=False, bias=True,
    ...                         tight=False, json=False, latex=False)
    >>> run_network(ns)  # doctest: +ELLIPSIS
    CoreNet size theorem for 4-3-2 ...
    0
    """
    from netcoreset.bounds import network_bound

    if args.arch is None:
        raise ValueError("--architecture is required: layer widths, e.g. 784,300,100,10")
    sens = args.sensitivity_sum if args.sensitivity_sum is not None else [1.0]
    canc = args.delta_hat if args.delta_hat is not None else [1.0]
    nb = _call(
        network_bound,
        args.arch,
        args.eps,
        args.delta,
        K=args.K,
        k_prime=args.k_prime,
        sensitivity_sum=sens if len(sens) > 1 else sens[0],
        mean_cancellation=canc if len(canc) > 1 else canc[0],
        include_kappa=args.kappa,
        tight=args.tight,
        bias=args.bias,
    )
    if args.json:
        _dump(_network_json(nb, args, sens, canc))
        return 0
    _print_network_table(nb)
    _print_network_notes(nb, args)
    if args.latex:
        _print_latex(_NETWORK_FORMULAS)
    return 0


def _network_json(
    nb: Any, args: argparse.Namespace, sens: list[float], canc: list[float]
) -> dict[str, Any]:
    out: dict[str, Any] = nb.to_dict()
    out["inputs"] = {
        "sensitivity_sum": sens,
        "mean_cancellation": canc,
        "defaults_used": args.sensitivity_sum is None or args.delta_hat is None,
    }
    out["within_theorem"] = bool(args.kappa)
    out["keeps_almost_everything"] = bool(nb.kept_fraction >= 0.99)
    if args.latex:
        out["latex"] = _latex(_NETWORK_FORMULAS)
    return out


def _print_network_table(nb: Any) -> None:
    arch_txt = "-".join(str(w) for w in nb.arch)
    print(
        f"CoreNet size theorem for {arch_txt} (eps = {nb.eps:g}, delta = {nb.delta:g}, "
        f"K = {nb.K:g}, K' = {nb.k_prime:g}, {_form(nb.tight)}, "
        f"{'with' if nb.bias else 'no'} bias edges)"
    )
    kap_txt = f"{nb.kappa:.1f}" + (
        " (added to Delta-hat)" if nb.include_kappa else " (NOT added: --no-kappa)"
    )
    print(
        f"eta = {nb.eta} neurons, eta* = {nb.eta_star}, kappa = {kap_txt}, "
        f"|S| = {nb.sensitivity_set_size} points"
    )
    print()
    header = (
        f"{'layer':>5} {'eta^l':>6} {'fan-in':>7} {'Delta-hat':>10} {'product':>10} "
        f"{'eps_l':>10} {'m/part':>10} {'m/neuron':>10} {'nnz bound':>10} {'weights':>10} "
        f"{'kept':>6}"
    )
    print(header)
    print("-" * len(header))
    for lb in nb.layers:
        print(
            f"{lb.layer:>5} {lb.width:>6} {lb.fan_in:>7} {lb.delta_hat:>10.4g} "
            f"{lb.delta_hat_product:>10.4g} {lb.eps_layer:>10.3g} "
            f"{format_count(lb.draws_per_part):>10} {format_count(lb.draws_per_neuron):>10} "
            f"{format_count(lb.nnz_bound):>10} {lb.weights:>10} {lb.kept_fraction:>6.3f}"
        )
    print("-" * len(header))
    total_nnz = sum(lb.nnz_bound for lb in nb.layers)
    print(
        f"{'total':>5} {nb.eta:>6} {'':>7} {'':>10} {'':>10} {'':>10} {'':>10} {'':>10} "
        f"{format_count(total_nnz):>10} {nb.total_weights:>10} {nb.kept_fraction:>6.3f}"
    )
    print()


def _print_network_notes(nb: Any, args: argparse.Namespace) -> None:
    _note(
        "product = Delta-hat^{l->} (product of Delta-hat from layer l to the output); "
        "eps_l = eps / (2 (L-1) product); m/part = draws for the positive or the negative "
        "weights of one neuron; nnz bound = the theorem's bound, kept = min(bound, weights) "
        "/ weights."
    )
    missing = [
        flag
        for flag, value in (
            ("--sensitivity-sum", args.sensitivity_sum),
            ("--delta-hat", args.delta_hat),
        )
        if value is None
    ]
    if missing:
        _note(
            f"{' and '.join(missing)} not given: using 1, the smallest possible value, so the "
            "figures are lower bounds on what the theorem demands."
        )
    who = "The theorem" if nb.include_kappa else "The heuristic (--no-kappa)"
    if nb.kept_fraction >= 0.99:
        _note(
            f"{who} keeps {nb.kept_fraction:.1%} of the weights: its sample sizes exceed "
            "the number of edges, so guarantee mode keeps (almost) every weight."
        )
    else:
        _note(
            f"{who} keeps at most {nb.kept_fraction:.1%} of the weights "
            f"({nb.total_nnz_bound} of {nb.total_weights})."
        )
    if not nb.include_kappa:
        _note(
            "--no-kappa: Delta-hat is the purely empirical mean cancellation; this is a "
            "heuristic OUTSIDE the theorem and certifies nothing."
        )
    _note(
        "Guarantee (with kappa): with probability >= 1 - delta over the compression and a "
        "random input x ~ D, f_hat(x) is within (1 +- eps) of f(x); per random input, not "
        "uniform over inputs; K is an assumption."
    )


# --------------------------------------------------------------------------------------------
# netcoreset bound occam
# --------------------------------------------------------------------------------------------

_OCCAM_TEXT = {
    "binomial": "L <= max{p : P[Bin(n, p) <= k] >= delta 2^-bits}",
    "kl": "L <= kl^-1(k/n, (bits ln 2 + ln(1/delta)) / n)",
    "hoeffding": "L <= k/n + sqrt((bits ln 2 + ln(1/delta)) / (2n))",
}
_VACUOUS = 1.0 - 1e-9  # a bound this close to 1 says nothing the trivial bound does not
_OCCAM_LATEX = {
    "binomial": ["binomial_tail", "occam_binomial_level"],
    "kl": ["binary_kl", "occam_rate"],
    "hoeffding": ["occam_hoeffding"],
}


def _register_occam(bsub: argparse._SubParsersAction) -> None:
    oc = bsub.add_parser(
        "occam",
        help="Occam bound on the true error from training errors and a description length",
        description="With probability >= 1 - delta over n i.i.d. training points, "
        "simultaneously for every classifier g with a code of B bits fixed before the data "
        "and K training errors: L(g) <= the bound. Forms: binomial (exact tail) <= kl "
        "(Chernoff) <= hoeffding (Pinsker).",
    )
    oc.add_argument("--errors", type=integer, required=True, metavar="K", help="training errors")
    oc.add_argument("--n", type=integer, required=True, help="training points, >= 1")
    size = oc.add_mutually_exclusive_group(required=True)
    size.add_argument("--bits", type=real, metavar="B", help="description length in bits, >= 0")
    size.add_argument("--nats", type=real, metavar="C", help="description length in nats, >= 0")
    oc.add_argument("--delta", type=real, required=True, help="failure probability, in (0, 1)")
    oc.add_argument(
        "--form",
        choices=[*_OCCAM_FORMS, "all"],
        default="kl",
        help="kl (default), hoeffding, binomial, or all three",
    )
    oc.add_argument("--json", action="store_true", help="print JSON (OccamBound.to_dict())")
    oc.add_argument("--latex", action="store_true", help="also print the formulas in LaTeX")
    oc.set_defaults(handler=run_occam)


def _occam_bits(args: argparse.Namespace) -> float:
    if args.nats is None:
        return float(args.bits)
    if not (math.isfinite(args.nats) and args.nats >= 0):
        raise ValueError(f"--nats must be a finite real number >= 0; got {args.nats!r}")
    return args.nats / math.log(2.0)


def run_occam(args: argparse.Namespace) -> int:
    r"""Handler of ``netcoreset bound occam``; prints the bound(s) and returns 0.

    .. math::

        L(g) \le \mathrm{kl}^{-1}\Bigl(\frac kn, \frac{\ell\ln 2 + \ln(1/\delta)}{n}\Bigr)

    Examples
    --------
    >>> ns = argparse.Namespace(errors=0, n=1000, bits=10.0, nats=None, delta=0.05,
    ...                         form="hoeffding", json=False, latex=False)
    >>> run_occam(ns)  # doctest: +ELLIPSIS
    Occam bound (hoeffding form): L <= k/n + sqrt((bits ln 2 + ln(1/delta)) / (2n))
    ...
    bound = 0.0704528
    ...
    0
    """
    from netcoreset.bounds import OCCAM_FORMS, occam_bound

    bits = _occam_bits(args)
    forms = list(OCCAM_FORMS) if args.form == "all" else [args.form]
    results = {f: _call(occam_bound, args.errors, args.n, bits, args.delta, form=f) for f in forms}
    best = results[forms[0]]  # binomial first: the tightest; the others relax it
    names = [name for f in forms for name in _OCCAM_LATEX[f]]
    if args.json:
        out = best.to_dict()
        if args.form == "all":
            out["forms"] = {f: r.to_dict() for f, r in results.items()}
        out["vacuous"] = best.bound >= _VACUOUS
        if args.latex:
            out["latex"] = _latex(names)
        _dump(out)
        return 0
    t = best.terms
    head = "all forms" if args.form == "all" else f"{best.form} form"
    print(f"Occam bound ({head}): {_OCCAM_TEXT[best.form] if len(forms) == 1 else ''}".rstrip())
    print(
        f"  k = {best.errors} errors of n = {best.n} (train error {best.train_error:.6g}), "
        f"delta = {best.delta:g}"
    )
    print(
        f"  description {t['complexity_bits']:.6g} bits = {t['complexity_nats']:.6g} nats, "
        f"ln(1/delta) = {t['confidence_nats']:.6g} nats, "
        f"c = total / n = {t['rate']:.6g}"
    )
    if len(forms) == 1:
        print(f"bound = {best.bound:.6g}")
    else:
        for f, r in results.items():
            print(f"  {f:>9}: {r.bound:.6g}   ({_OCCAM_TEXT[f]})")
        print(f"bound = {best.bound:.6g} (binomial: the tightest; kl and hoeffding relax it)")
    if best.bound >= _VACUOUS:
        _note(
            "The bound is (within 1e-9 of) 1: vacuous, it says nothing the trivial bound does not."
        )
    _note(
        "Valid only if the code (the B bits) was fixed before the n training points were "
        "seen; the classifier itself may depend on them. Every choice made after looking at "
        "the data must be paid for in B (a union bound: ln k nats for k options)."
    )
    if args.latex:
        _print_latex(names)
    return 0
