"""``netcoreset bound generalization``: JSON fields, plot, retrained setting, bad input."""

from __future__ import annotations

import json

import pytest
import torch

from netcoreset.bounds import occam_bound
from netcoreset.verification.cli import main
from netcoreset.verification.experiments import load_digits_split, train_mlp

QUICK = ["--keeps", "0.3,1", "--levels", "4,8", "--methods", "corenet,magnitude"]


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    x, y, _, _ = load_digits_split()
    net = train_mlp(x, y, (16,), epochs=15, seed=0)
    path = tmp_path_factory.mktemp("gen") / "digits16.pt"
    torch.save(net, path)
    return str(path)


def _run_json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_json_has_the_certificate_fields(digits_model, capsys, tmp_path):
    plot = tmp_path / "curve.png"
    out = _run_json(capsys, ["bound", "generalization", digits_model, "--dataset", "digits",
                             "--delta", "0.1", "--json", "--plot", str(plot), *QUICK])  # fmt: skip
    for key in ("bound", "train_error", "test_error", "description_bits", "n", "delta",
                "configuration", "terms_bits", "curve", "declared_grid"):  # fmt: skip
        assert key in out
    assert out["n"] == 1258 and out["delta"] == 0.1
    assert out["train_error"] < out["bound"] <= 1.0
    assert out["configuration"]["keep"] in (0.3, 1.0)
    assert out["configuration"]["levels"] in (4, 8)
    assert abs(sum(out["terms_bits"].values()) - out["description_bits"]) < 1e-6
    k = round(out["train_error"] * out["n"])
    again = occam_bound(k, out["n"], out["description_bits"], 0.1, form="binomial").bound
    assert again == out["bound"]
    assert min(r["bound"] for r in out["curve"]) == out["bound"]
    assert plot.stat().st_size > 0


def test_text_output_retrained_setting_and_margin_form(digits_model, capsys):
    argv = ["bound", "generalization", digits_model, "--dataset", "digits", "--keeps", "0.5",
            "--levels", "4", "--methods", "corenet+", "--retrain-epochs", "1",
            "--qat-epochs", "1", "--gammas", "1,4,16"]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "best bound" in text and "retrained" in text and "margin form" in text
    assert "exploratory: not a certificate" in text  # no registration


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--keeps", "1.5"], "keep ratios"),
        (["--levels", "0"], "levels"),
        (["--methods", "svd2"], "unknown method"),
        (["--delta", "1"], "delta"),
        (["--dataset", "cifar"], "unknown data set"),
    ],
)
def test_bad_input_exits_2_with_one_line(digits_model, capsys, extra, message):
    argv = ["bound", "generalization", digits_model, "--dataset", "digits", *extra]
    if extra[0] == "--dataset":
        argv = ["bound", "generalization", digits_model, *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_missing_model_and_wrong_features(tmp_path, capsys):
    assert main(["bound", "generalization", str(tmp_path / "none.pt"), "--dataset", "digits"]) == 2
    assert "no such model file" in capsys.readouterr().err
    path = tmp_path / "wide.pt"
    torch.save(torch.nn.Sequential(torch.nn.Linear(10, 3), torch.nn.ReLU(),
                                   torch.nn.Linear(3, 10)), path)  # fmt: skip
    assert main(["bound", "generalization", str(path), "--dataset", "digits"]) == 2
    err = capsys.readouterr().err.strip()
    assert "reads 10 features" in err and len(err.splitlines()) == 1
