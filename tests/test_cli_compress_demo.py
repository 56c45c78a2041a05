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
    # the command's own fields: what P was, the evaluation, where the result went
    assert report.pop("saved") == str(out)
    assert report.pop("data").startswith("the validation split of digits (270 points")
    evaluation = report.pop("evaluation")
    assert evaluation["on"] == "the test split of digits (539 points)"
    assert 0 <= evaluation["accuracy_compressed"] <= 1 and evaluation["relative_output_error"] > 0
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


def test_compress_reports_accuracy_and_output_error_and_what_it_saved(tmp_path, capsys):
    net, path = _save_model(tmp_path)
    x = np.random.default_rng(0).random((80, 64)).astype(np.float32)
    y = np.arange(80) % 10
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    argv = ["compress", str(path), "--data", str(tmp_path / "x.npy"), "--keep", "0.5"]
    assert main([*argv, "--labels", str(tmp_path / "y.npy")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "not saved (--out FOLDER saves the result)"
    # every WARNING line names what to do about it
    assert all("; use " in ln or "holdout" in ln for ln in out if ln.startswith("WARNING"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt", "x.npy", "y.npy"]
    # accuracy of both networks on the labelled points, from the same forward passes
    with torch.no_grad():
        want = (net(torch.from_numpy(x)).argmax(1).numpy() == y).mean()
    line = next(ln for ln in out if ln.startswith("on the --data points (80; S is among them)"))
    assert f"accuracy {want:.4f} (original) -> " in line and "mean relative output error" in line
    # the data set's names are those of the registry, aliases included; bad labels refused
    assert main([*argv, "--labels", str(tmp_path / "x.npy")]) == 2
    assert "--labels must hold one number per --data point" in capsys.readouterr().err
    assert main(["compress", str(path), "--dataset", "imagenet", "--keep", "0.5"]) == 2
    err = capsys.readouterr().err
    assert "unknown data set 'imagenet'" in err and "fashion-mnist" in err


def test_compress_dataset_choices_are_the_registry():
    from netcoreset.verification.cli import build_parser
    from netcoreset.verification.experiments import DATASETS
    from netcoreset.verification.registry import canonical_dataset

    args = build_parser().parse_args(["compress", "m.pt", "--dataset", "FASHION", "--keep", "1"])
    assert args.dataset == "fashion-mnist" == canonical_dataset("fashion")
    sub = build_parser()._subparsers._group_actions[0].choices["compress"]
    dataset = next(a for a in sub._actions if a.dest == "dataset")
    assert tuple(dataset.choices) == DATASETS == ("digits", "mnist5k", "mnist", "fashion-mnist")


def test_a_bad_path_is_refused_before_torch_is_imported():
    import subprocess
    import sys

    code = (
        "import sys; from netcoreset.verification.cli import main; "
        "status = main(['compress', '/no/such/model.pt', '--dataset', 'digits', '--keep', '0.5']); "
        "print(status, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["2", "False"]
    assert "no such model file: /no/such/model.pt" in out.stderr
