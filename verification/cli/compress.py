"""``netcoreset compress``: compress a saved model with CoreNet or a baseline."""

from __future__ import annotations

import argparse

from .common import (
    add_assumption_args,
    add_model_args,
    check_output_folder,
    integer,
    load_model_file,
    real,
    reported_warnings,
    seed,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compress",
        help="compress a saved fully-connected ReLU network",
        description=(
            "Compress MODEL (.safetensors with its architecture, or .pt/.pth: an nn.Sequential "
            "saved with torch.save, or a state dict with --architecture; read without running "
            "code from the file) using the points of --data or --dataset."
        ),
    )
    p.add_argument("model", help="MODEL.safetensors, MODEL.pt or MODEL.pth")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", help="inputs P as .npy or .pt, shape (n, features)")
    src.add_argument("--dataset", choices=["digits"], help="bundled data (digits: 64 features)")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--keep", type=real, help="budget: fraction of weights to keep")
    mode.add_argument("--nnz", type=integer, help="budget: number of weights to keep")
    mode.add_argument("--eps", type=real, help="guarantee mode: relative error eps in (0, 1)")
    p.add_argument(
        "--method",
        default="corenet",
        help="corenet, corenet+, corenet++, uniform, l1, l2, magnitude, svd",
    )
    p.add_argument("--delta", type=real, default=0.1, help="failure probability (0.1)")
    add_assumption_args(p, "include kappa in the allocation (default: on in guarantee mode)")
    p.add_argument("--allocation", choices=["theorem", "uniform"], default=None)
    p.add_argument("--tight", action="store_true", help="exact Bernstein sample sizes")
    p.add_argument(
        "--certificate",
        choices=["none", "paper", "tight", "holdout"],
        default=None,
        help="paper's theorem, its tight constants, a held-out test, or none (default: paper "
        "in guarantee mode, none in budget mode)",
    )
    p.add_argument("--seed", type=seed, default=0, help="seed (0)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--out",
        help="save the result (safetensors + metadata.json) to this folder (a new folder, or "
        "a saved result, which is replaced whole)",
    )
    add_model_args(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from netcoreset.bounds.serialization import to_json
    from netcoreset.sampler import compress
    from netcoreset.verification.experiments import load_array, load_digits_split

    check_output_folder(args.out, "--out")
    model = load_model_file(args.model, args)
    data = load_digits_split()[0] if args.dataset == "digits" else load_array(args.data)
    with reported_warnings():
        res = compress(
            model,
            data,
            method=args.method,
            eps=args.eps,
            keep=args.keep,
            nnz=args.nnz,
            delta=args.delta,
            K=args.K,
            k_prime=args.k_prime,
            include_kappa=args.kappa,
            allocation=args.allocation,
            tight=args.tight,
            seed=args.seed,
            certificate=args.certificate,
        )
    if args.out:
        res.save(args.out)
    if args.json:
        print(to_json(res.to_dict(), indent=2))
        return 0
    rep = res.report
    print(
        f"method {rep.method} ({rep.mode} mode), delta={rep.delta}, "
        f"|S|={rep.sensitivity_set_size}, "
        f"seed={rep.seed}"
    )
    print(
        f"{'layer':>5} {'shape':>11} {'nnz before':>11} {'nnz after':>10} "
        f"{'draws min/med/max':>26} {'Delta-hat':>10}"
    )
    for lay in rep.layers:
        draws = f"{lay.draws_min:.3g}/{lay.draws_median:.3g}/{lay.draws_max:.3g}"
        print(
            f"{lay.index:>5} {lay.out_features:>5}x{lay.in_features:<5} {lay.nnz_before:>11} "
            f"{lay.nnz_after:>10} {draws:>26} {lay.delta_hat:>10.3g}"
        )
    print(
        f"kept {rep.nnz}/{rep.nnz_original} non-zeros ({rep.nnz / max(rep.nnz_original, 1):.1%}); "
        f"parameters {rep.parameters}"
    )
    if rep.K is not None:
        print(f"K = {rep.K:.4g} ({rep.K_source})")
    if rep.method.startswith("corenet"):
        print(f"certified {rep.certificate_statement}")
    if rep.certified_eps is not None and rep.certified_eps_empirical is not None:
        floor = rep.rounding_eps or 0.0
        below = " (below rounding: not observable)" if rep.certified_eps_empirical < floor else ""
        print(
            f"with the empirical Delta-hat only (no kappa, a heuristic): "
            f"{rep.certified_eps_empirical:.4g}{below}"
        )
    for note in rep.warnings:
        print(f"WARNING: {note}")
    if args.out:
        print(f"saved to {args.out}")
    return 0
