"""The slack of the three certificates in draws, and the checker's verdict on each.

For ``certificate`` in ("paper", "tight", "holdout"): compress once (seed 0) for the certified
(eps, delta), the kept fraction and the certificate's total draws D; then, for each allocation
shape, ``find_slack`` scales all draw counts by c and finds the smallest c at which
``check_guarantee`` still says "holds", recording the total draws D(c) of every checked scale
(``DrawCounter``, seed 0). The slack of a certificate is D / D(c*) of its own shape. The
held-out certificate's draws are a scale of the paper's allocation (K enters every part's draws
as one factor), so its slack is measured against the paper shape's search. Each search fixes
K at the seed-0 estimate so that the shape does not move from trial to trial. Finally the
checker tests each certificate as it is used (``SamplerCompressor(certificate=...)``).

    python benchmarks/slack_modes.py --net digits --out benchmarks/results/slack_modes_digits.json \
        --rst docs/results/slack_modes_digits.inc

Every decisive verdict of a run is right with probability >= 1 - alpha_total (union bound over
the two searches and the three direct checks, alpha_total / 5 each). The data never include a
training image (``bench_common.certificate_network``).
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from typing import Any

import torch
from bench_common import certificate_network

from netcoreset.sampler import compress
from netcoreset.verification import DrawScaleFactory, SamplerCompressor, check_guarantee, find_slack
from netcoreset.verification.experiments.files import write_json, write_text
from netcoreset.verification.slack import DrawCounter, render_slack_table, total_draws

EPS, DELTA = 0.5, 0.1
MODES = ("paper", "tight", "holdout")


def _summary(res: Any) -> dict[str, Any]:
    rep = res.report
    return {
        "certified_eps": rep.certified_eps,
        "certified_delta": rep.certified_delta,
        "kept_fraction": rep.nnz / rep.nnz_original,
        "draws": total_draws(res),
        "K": rep.K,
        "K_source": rep.K_source,
        "statement": rep.certificate_statement,
        "delta_charges": rep.delta_charges,
        "held_out": rep.held_out,
        "holdout": rep.holdout,
        "points": rep.certification_set_size,
        "sensitivity_set_size": rep.sensitivity_set_size,
    }


def _check(net: Any, data: torch.Tensor, mode: str, args: Any, alpha: float) -> dict[str, Any]:
    """The checker on the certificate as it is used."""
    check = check_guarantee(
        net,
        data,
        SamplerCompressor("corenet", eps=EPS, delta=DELTA, certificate=mode),
        EPS,
        DELTA,
        trials=args.trials,
        inputs_per_trial=args.inputs,
        alpha=alpha,
        sequential=True,
        seed=1,
    )
    return {k: v for k, v in check.to_dict().items() if k != "worst_errors"}


PARTS = ("certificates", "search-paper", "search-tight", *(f"check-{m}" for m in MODES))


def _certificates(net: Any, pool: torch.Tensor, seeds: int) -> dict[str, Any]:
    certs = {
        mode: _summary(compress(net, pool, eps=EPS, delta=DELTA, certificate=mode, seed=0))
        for mode in ("paper", "tight")
    }
    runs = [
        compress(net, pool, eps=EPS, delta=DELTA, certificate="holdout", seed=s)
        for s in range(seeds)
    ]
    certs["holdout"] = {
        **_summary(runs[0]),
        "scales": [r.report.holdout["scale"] for r in runs],
        "draws_per_seed": [total_draws(r) for r in runs],
        "draws_median": statistics.median(total_draws(r) for r in runs),
    }
    return certs


def _search(net: Any, data: torch.Tensor, pool: torch.Tensor, mode: str, args: Any) -> Any:
    # K fixed at the seed-0 estimate: the allocation's shape does not move between trials
    K = compress(net, pool, eps=EPS, delta=DELTA, certificate=mode, seed=0).report.K
    shape = {"eps": EPS, "delta": DELTA, "certificate": mode, "K": K}
    search = find_slack(
        net,
        data,
        EPS,
        DELTA,
        compressor_factory=DrawScaleFactory("corenet", **shape),
        draws_of=DrawCounter(net, pool, **shape),
        alpha_total=args.alpha_total / 5,  # two searches, three direct checks
        factor=10.0,
        c_min=1e-30,
        c_max=10.0,
        bisection_steps=3,
        trials=args.trials,
        inputs_per_trial=args.inputs,
        sequential=True,
    )
    print(mode, search.summary(), flush=True)
    return {"K": K, "search": search.to_dict()}


def _run_part(part: str, net: Any, data: torch.Tensor, args: Any) -> Any:
    pool = data[: data.shape[0] // 2]
    if part == "certificates":
        return _certificates(net, pool, args.seeds)
    if part.startswith("search-"):
        return _search(net, data, pool, part.removeprefix("search-"), args)
    return _check(net, data, part.removeprefix("check-"), args, args.alpha_total / 5)


def merge(parts: dict[str, Any], header: dict[str, Any]) -> dict[str, Any]:
    """The benchmark's JSON from its parts: each certificate's slack in draws against its
    allocation shape's search (the held-out certificate against the paper shape's)."""
    certs = parts["certificates"]
    out = {**header, "certificates": certs, "shapes": {}}
    for mode in ("paper", "tight"):
        out["shapes"][mode] = parts[f"search-{mode}"]
    for name, cert in certs.items():
        shape = "tight" if name == "tight" else "paper"
        searched = out["shapes"][shape]["search"]["overall"]
        lo, hi = searched["draws_bracket"]
        cert["shape"] = shape
        cert["slack"] = {
            "value": None if hi is None else cert["draws"] / hi,
            "upper": None if lo is None else cert["draws"] / lo,
        }
        cert["check"] = parts[f"check-{name}"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--net", choices=["digits", "fashion"], default="digits")
    parser.add_argument("--out", default="bench-results/slack_modes.json")
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--inputs", type=int, default=50)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--alpha-total", type=float, default=1e-2)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--rst", default=None, help="also write the table the docs include")
    parser.add_argument("--jobs", type=int, default=1, help="parts run in parallel processes")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", UserWarning)
    t0 = time.perf_counter()
    net, data, acc = certificate_network(args.net, args.epochs)
    header = {
        "network": args.net,
        "test_accuracy": acc,
        "eps": EPS,
        "delta": DELTA,
        "data_points": int(data.shape[0]),
        "pool_points": int(data.shape[0] // 2),
        "trials": args.trials,
        "inputs_per_trial": args.inputs,
        "alpha_total": args.alpha_total,
    }
    if args.jobs > 1:
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(args.jobs, _init_worker) as workers:
            results = workers.starmap(_run_part, [(p, net, data, args) for p in PARTS])
    else:
        results = [_run_part(p, net, data, args) for p in PARTS]
    out = merge(dict(zip(PARTS, results, strict=True)), header)
    out["elapsed_s"] = time.perf_counter() - t0
    path = write_json(args.out, out)
    table = render_slack_table(out)
    if args.rst:
        write_text(args.rst, table)  # atomically, like the JSON
    print(table)
    print(f"elapsed {out['elapsed_s']:.0f}s -> {path}")


def _init_worker() -> None:
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", UserWarning)


if __name__ == "__main__":
    main()
