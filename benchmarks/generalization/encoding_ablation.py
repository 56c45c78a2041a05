"""What each encoding idea saves, measured on one network: the probe's operating point.

A 784-100-10 network on Fashion-MNIST (n = 60,000), compressed by CoreNet+ (and CoreNet) to
2% of its weights, then (a) quantised as is (the paper's setting) and (b) retrained with the
mask fixed and quantised with the codebook tuned. For each network the description length
is computed under every code: fixed-width or two-part arithmetic values; the declared
784-100-10 slots, the shrunk hidden width, or the shrunk width and the subset of input
pixels read; float32 or float16 codebooks; per-layer or shared codebook. Choices are paid
for as in the declared grid of the search.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/generalization/encoding_ablation.py \\
        --out docs/results/generalization_encoding_fashion.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from grids import ARCHITECTURES, TRAIN_EPOCHS, declared_grid  # noqa: E402
from run_search import _write_atomic  # noqa: E402

from netcoreset.bounds import occam_bound  # noqa: E402
from netcoreset.sampler import compress, quantize  # noqa: E402
from netcoreset.verification.experiments import load_fashion_mnist, train_mlp  # noqa: E402
from netcoreset.verification.experiments.certificate import (  # noqa: E402
    certify_quantization,
    code_variants,
)
from netcoreset.verification.experiments.certificate_codes import (  # noqa: E402
    points_sha256,
    quantization_entry,
    record_codes,
)
from netcoreset.verification.experiments.retrain import (  # noqa: E402
    quantization_aware_retrain,
    retrain_masked,
)
from netcoreset.verification.experiments.search import parameter_count  # noqa: E402
from netcoreset.verification.experiments.shrink import remove_dead_units  # noqa: E402


def _row(q, x, y, xt, yt, grid, setting, config, declared, n_orig, delta):
    cert = certify_quantization(q, x, y, grid=grid, setting=setting, config=config,
                                declared_widths=declared, delta=delta, x_test=xt, y_test=yt,
                                nnz_original=n_orig)  # fmt: skip
    bits = code_variants(cert, grid)
    return {
        "setting": setting,
        "configuration": {**config, "codebook_dtype": q.codebook_dtype, "shared": q.shared},
        "nnz": q.nnz,
        "hidden_width_after_shrinking": int(q.masks[0].shape[0]),
        "live_inputs": int(q.masks[0][:, :declared[0]].any(axis=0).sum()),
        "train_error": cert.train_error,
        "test_error": cert.test_error,
        "terms_bits_best": cert.description.breakdown(),
        "bits": bits,
        "bound": {k: occam_bound(cert.train_errors, cert.n, b, delta, form="binomial").bound
                  for k, b in bits.items()},
    }  # fmt: skip


def _entry(q, i, setting, config, declared, delta, grid, points):
    """The stored code of row ``i``'s network (its recheck recomputes every variant)."""
    certify = {"grid": grid.to_dict(), "setting": setting, "config": config,
               "declared_widths": declared, "delta": delta, "variants": True}  # fmt: skip
    return quantization_entry(q, row=["rows", i], points=points, certify=certify)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--keep", type=float, default=0.02)
    p.add_argument("--delta", type=float, default=0.05)
    args = p.parse_args()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    grid = declared_grid("fashion")
    arch = ARCHITECTURES["fashion"]["d784-100"]
    x, y, xt, yt = load_fashion_mnist()
    net = train_mlp(x, y, arch.hidden, epochs=TRAIN_EPOCHS["fashion"], batch_size=128, seed=0)
    declared, n_orig = arch.widths(784, 10), parameter_count(net)
    rows, entries = [], []
    points = {"dataset": "fashion-mnist", "sha256": points_sha256(x, y)}
    for method in ("corenet+", "corenet"):
        sparse = remove_dead_units(compress(net, x, method=method, keep=args.keep, seed=0).model)
        base = {"architecture": "d784-100", "method": method, "keep": args.keep, "seed": 0}
        for dtype in ("float32", "float16"):
            for shared in (False, True):
                q = quantize(sparse, 16, shared=shared, codebook_dtype=dtype)
                book = "shared" if shared else "per_layer"
                cfg = {**base, "levels": 16, "quantizer": "kmeans", "codebook": book,
                       "codebook_dtype": dtype}  # fmt: skip
                entries.append(_entry(q, len(rows), "paper", cfg, declared, args.delta, grid,
                                      points))  # fmt: skip
                rows.append(_row(q, x, y, xt, yt, grid, "paper", cfg, declared, n_orig,
                                 args.delta))  # fmt: skip
        retrained = remove_dead_units(retrain_masked(sparse, x, y, epochs=8, lr=3e-3, seed=0))
        for dtype in ("float32", "float16"):
            q = quantization_aware_retrain(retrained, x, y, 16, epochs=6, lr=3e-3, seed=0,
                                           codebook_dtype=dtype)  # fmt: skip
            cfg = {**base, "retrain_epochs": 8, "levels": 16, "qat_epochs": 6,
                   "codebook_dtype": dtype}  # fmt: skip
            entries.append(_entry(q, len(rows), "retrained", cfg, declared, args.delta, grid,
                                  points))  # fmt: skip
            rows.append(_row(q, x, y, xt, yt, grid, "retrained", cfg, declared, n_orig,
                             args.delta))  # fmt: skip
        print(json.dumps(rows[-1], indent=1), flush=True)
    out = {"dataset": "fashion", "n": int(x.shape[0]), "delta": args.delta, "keep": args.keep,
           "architecture": declared, "rows": rows, "seconds": time.perf_counter() - t0,
           "command": " ".join(["python", *sys.argv])}  # fmt: skip
    record_codes(out, entries, args.out)  # the 12 coded networks, next to the JSON
    _write_atomic(args.out, json.dumps(out, indent=1) + "\n")
    print(f"{out['seconds']:.0f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
