"""``netcoreset compress`` and ``netcoreset demo``, run in-process."""

from __future__ import annotations

import json

import numpy as np
import torch
from torch import nn

from netcoreset.sampler import load
from netcoreset.verification.cli import main


def _save_model(tmp_path):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    path = tmp_path / "model.pt"
    torch.save(net, path)
    return net, path


def test_compress_digits_json_and_out(tmp_path, capsys):
    _, path = _save_model(tmp_path)
    out = tmp_path / "res"
    code = main(
        ["compress", str(path), "--dataset", "digits", "--keep", "0.2", "--json", "--out", str(out)]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert (
        report["method"] == "corenet"
        and abs(report["expected_nnz"] / report["nnz_original"] - 0.2) < 0.01
    )
    assert load(out).report.to_dict() == report


def test_compress_npy_table(tmp_path, capsys):
    _, path = _save_model(tmp_path)
    np.save(tmp_path / "x.npy", np.random.default_rng(0).random((80, 64)).astype(np.float32))
    code = main(
        [
            "compress",
            str(path),
            "--data",
            str(tmp_path / "x.npy"),
            "--eps",
            "0.5",
            "--method",
            "corenet",
        ]
    )
    assert code == 0
    assert "certified eps" in capsys.readouterr().out


def test_compress_bad_input_exits_2(tmp_path, capsys):
    _, path = _save_model(tmp_path)
    assert main(["compress", str(path), "--dataset", "digits", "--keep", "1.5"]) == 2
    assert "keep must be a fraction" in capsys.readouterr().err
    assert (
        main(["compress", str(tmp_path / "missing.pt"), "--dataset", "digits", "--keep", "0.1"])
        == 2
    )
    assert "no such model file" in capsys.readouterr().err
    torch.save({"not": "a model"}, tmp_path / "dict.pt")
    assert (
        main(["compress", str(tmp_path / "dict.pt"), "--dataset", "digits", "--keep", "0.1"]) == 2
    )
    assert "not an nn.Module" in capsys.readouterr().err
    np.save(tmp_path / "bad.npy", np.zeros((5, 3)))
    assert main(["compress", str(path), "--data", str(tmp_path / "bad.npy"), "--keep", "0.1"]) == 2
    assert "shape mismatch" in capsys.readouterr().err


def test_demo_quick(tmp_path, capsys):
    code = main(["demo", "--seeds", "1", "--epochs", "2", "--keeps", "0.3", "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "guarantee mode" in out and "corenet+" in out and "magnitude" in out
    data = json.loads((tmp_path / "demo.json").read_text())
    assert {r["method"] for r in data["rows"]} == {"corenet", "corenet+", "uniform", "magnitude"}
    assert (tmp_path / "demo.png").stat().st_size > 1000
