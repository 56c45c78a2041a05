"""CoreNet codes in the pre-registered protocol on scikit-learn's digits: the split is
disjoint, the registration is checked and logged once, the mask comes from design points
only and costs nothing, the offsets move the kept weights only, and every code length is
recomputed from the stored symbols. Deterministic (fixed seeds; no statistical test)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from netcoreset.bounds import describe_network, occam_bound
from netcoreset.verification.experiments import load_digits_split, train_mlp
from netcoreset.verification.experiments.corenet_code import (
    certify_corenet_code,
    code_grid,
    corenet_origin,
    mask_bits_if_paid,
)
from netcoreset.verification.experiments.registration import (
    RegistrationError,
    RegistrationLog,
    check_registration,
    make_registration,
)
from netcoreset.verification.experiments.subspace import subspace_model

GRID = code_grid(["corenet", "corenet+", "corenet++"], [0.3], 8, 4, "float16")
TRAINING = {"epochs": 1, "lr": 0.05, "qat_epochs": 1, "qat_lr": 0.005, "batch_size": 64,
            "seed": 0}  # fmt: skip
CODE = {"grid": GRID.to_dict(), "training": TRAINING}


@pytest.fixture(scope="module")
def protocol():
    x, y, xt, yt = load_digits_split()
    reg = make_registration("digits", "ab" * 32, x.shape[0], 600, 0, CODE, 0.05,
                            source_sha256="cd" * 32)  # fmt: skip
    design, cert = (torch.from_numpy(a) for a in check_registration(
        reg, dataset="digits", data_fingerprint="ab" * 32, code=CODE,
        source_sha256="cd" * 32))  # fmt: skip
    prior = train_mlp(x[design], y[design], (32, 16), epochs=10, seed=0, progress=False)
    return reg, prior, x, y, xt, yt, design, cert


def test_split_is_disjoint_and_the_registration_is_checked(protocol, tmp_path):
    reg, _, x, *_, design, cert = protocol
    assert np.intersect1d(design, cert).size == 0 and design.numel() + cert.numel() == x.shape[0]
    with pytest.raises(RegistrationError, match="the code differs"):
        check_registration(reg, dataset="digits", data_fingerprint="ab" * 32,
                           code={**CODE, "training": {**TRAINING, "epochs": 2}},
                           source_sha256="cd" * 32)  # fmt: skip
    log = RegistrationLog.of(tmp_path, reg)
    assert log.index_of(reg.sha256) == 1
    assert RegistrationLog.of(tmp_path, reg).index_of(reg.sha256) == 1  # a rerun: not charged


def test_the_mask_comes_from_design_points_and_is_reproducible(protocol):
    _, prior, x, _, _, _, design, _ = protocol
    pts = x[design[:200]]
    a = corenet_origin(prior, pts, "corenet+@0.3", dim=8, basis_seed=0, seed=0)
    b = corenet_origin(prior, pts, "corenet+@0.3", dim=8, basis_seed=0, seed=0)
    assert torch.equal(a.origin, b.origin) and torch.equal(a.mask, b.mask)
    assert a.nnz < sum(p.numel() for p in prior.parameters())
    assert mask_bits_if_paid(a) > 100  # what choosing it on certification data would cost
    with pytest.raises(ValueError, match="code must be"):
        corenet_origin(prior, pts, "magnitude@0.3", dim=8, basis_seed=0, seed=0)


@pytest.mark.parametrize("code", ["unpruned", "corenet@0.3", "corenet++@0.3"])
def test_code_lengths_are_recomputed_and_offsets_stay_on_the_mask(protocol, code):
    reg, prior, x, y, xt, yt, design, cert = protocol
    org = corenet_origin(prior, x[design[:200]], code, dim=8, basis_seed=0, seed=0)
    xc, yc = x[cert], y[cert]
    none = certify_corenet_code(org, "none", (xc, yc), grid=GRID, delta=0.05)
    assert none["description_bits"] == pytest.approx(math.log2(GRID.size("subspace")))
    with torch.no_grad():
        k = int((org.model(xc).argmax(1) != yc).sum())
    assert none["train_errors"] == k
    assert none["bound"] == occam_bound(k, int(cert.numel()), none["description_bits"],
                                        0.05, "binomial").bound  # fmt: skip
    row = certify_corenet_code(org, "subspace", (xc, yc), grid=GRID, delta=0.05, train=(x, y),
                               training=TRAINING, test=(xt, yt))  # fmt: skip
    again_row = certify_corenet_code(org, "subspace", (xc, yc), grid=GRID, delta=0.05,
                                     train=(x, y), training=TRAINING, test=(xt, yt))  # fmt: skip
    assert again_row == row  # a rerun of the same registered code gives the same certificate
    symbols = np.array(row["symbols"])
    again = describe_network([8], [8], [np.bincount(symbols, minlength=4)], 4,
                             value_coding=row["configuration"]["value_coding"],
                             bits_per_codebook_value=16, choices=GRID.choices("subspace"),
                             choice_weights={"setting": 1.0})  # fmt: skip
    assert row["description_bits"] == pytest.approx(again.total_bits, abs=1e-9)
    net = subspace_model(org.spec, np.array(row["codebook"])[symbols], org.origin, org.mask)
    with torch.no_grad():
        assert int((net(xc).argmax(1) != yc).sum()) == row["train_errors"]
    theta = torch.cat([torch.cat([lay.weight, lay.bias[:, None]], 1).flatten()
                       for lay in net if isinstance(lay, torch.nn.Linear)])  # fmt: skip
    assert bool(theta[org.origin == 0].eq(0).all()) or code == "unpruned"


def _fake_row(method, keep, bound):
    return {"method": method, "keep": keep, "kept_fraction": keep, "bound": bound,
            "configuration": {"offsets": "none", "dim": 8, "levels": 4},
            "description_bits": 3.0, "train_error": 0.1, "test_error": 0.1, "delta": 0.025,
            "n": 1000}  # fmt: skip


@pytest.mark.parametrize(("corenet_bound", "verdict"), [(0.2, "no"), (0.1, "yes")])
def test_the_docs_table_computes_the_verdict_from_the_rows(monkeypatch, corenet_bound, verdict):
    pytest.importorskip("sphinx")
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "docs" / "_ext"))
    from netcoreset_corenet import corenet_lines

    result = {"dataset": "digits", "registration": {"sha256": "ab" * 32, "index_on_sample": 1},
              "rows": [_fake_row("unpruned", 1.0, 0.15),
                       _fake_row("corenet+", 0.3, corenet_bound)]}  # fmt: skip
    text = "\n".join(corenet_lines(result, "x.json"))
    assert f"CoreNet code beats the unpruned code: {verdict}" in text
    assert "``abababababababab…``" in text and "1,000" in text
    with pytest.raises(ValueError, match="development run"):
        corenet_lines({**result, "registration": None}, "x.json")
