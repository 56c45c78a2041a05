"""Tests of ``netcoreset verify`` (in-process) and of the figures in verification.plots.

Verdicts asserted here are deterministic given the seeds (fixed data, models and trial seeds);
no test relies on a random event.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from netcoreset.verification.checker import check_guarantee
from netcoreset.verification.cli import main
from netcoreset.verification.plots import plot_check, plot_slack
from netcoreset.verification.slack import find_slack


@pytest.fixture()
def files(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 30), nn.ReLU(), nn.Linear(30, 3))
    data = np.random.default_rng(0).random((120, 6)).astype(np.float32)
    torch.save(model, tmp_path / "model.pt")
    np.save(tmp_path / "x.npy", data)
    return tmp_path


def test_verify_with_files_json_and_plot(files, capsys):
    out_json, out_png = files / "r.json", files / "r.png"
    rc = main(
        [
            "verify",
            "--model",
            str(files / "model.pt"),
            "--data",
            str(files / "x.npy"),
            "--method",
            "uniform",
            "--keep",
            "0.25",
            "--eps",
            "0.05",
            "--delta",
            "0.2",
            "--trials",
            "12",
            "--inputs-per-trial",
            "2",
            "--json",
            str(out_json),
            "--plot",
            str(out_png),
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "verdict" in text and "failure rate" in text and "wrote" in text
    d = json.loads(out_json.read_text())
    assert d["trials"] == 12 and d["inputs_per_trial"] == 2
    assert d["verdict"] in {"holds", "violated", "inconclusive"}
    assert d["config"]["method"] == "uniform" and d["config"]["compress_kwargs"]["keep"] == 0.25
    # keeping 25% of the weights uniformly gives far more than 5% output error here
    assert d["verdict"] == "violated"
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_verify_guarantee_mode_sequential(files, capsys):
    rc = main(
        [
            "verify",
            "--model",
            str(files / "model.pt"),
            "--data",
            str(files / "x.npy"),
            "--eps",
            "0.5",
            "--delta",
            "0.3",
            "--trials",
            "8",
            "--sequential",
            "--batch-size",
            "4",
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert "anytime-valid" in out and "SamplerCompressor(method='corenet', delta=0.3" in out


def test_verify_trains_digits_net(capsys):
    rc = main(["verify", "--eps", "0.5", "--trials", "3", "--epochs", "1", "--method", "l1"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "training a 64-300-100-10" in out and "pool 269, holdout 270" in out


@pytest.mark.slow  # spawned workers import torch (a few seconds)
def test_verify_process_executor(files, capsys):
    rc = main(
        [
            "verify",
            "--model",
            str(files / "model.pt"),
            "--data",
            str(files / "x.npy"),
            "--method",
            "magnitude",
            "--keep",
            "0.25",
            "--eps",
            "0.5",
            "--trials",
            "4",
            "--executor",
            "process",
            "--workers",
            "1",
            "--json",
            str(files / "p.json"),
        ]
    )
    assert rc == 0
    main(
        [
            "verify",
            "--model",
            str(files / "model.pt"),
            "--data",
            str(files / "x.npy"),
            "--method",
            "magnitude",
            "--keep",
            "0.25",
            "--eps",
            "0.5",
            "--trials",
            "4",
            "--json",
            str(files / "s.json"),
        ]
    )
    a = json.loads((files / "p.json").read_text())
    b = json.loads((files / "s.json").read_text())
    assert a["worst_errors"] == b["worst_errors"] and a["verdict"] == b["verdict"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--eps", "1.5"], "eps must be a real number in the open interval"),
        (["--eps", "0.5", "--trials", "0"], "argument --trials: expected an integer from 1"),
        (["--eps", "0.5", "--workers", "0"], "argument --workers: expected an integer from 1"),
        (["--eps", "0.5", "--alpha", "2"], "alpha must be"),
    ],
)
def test_verify_bad_input_exits_2(files, capsys, extra, message):
    rc = main(
        ["verify", "--model", str(files / "model.pt"), "--data", str(files / "x.npy"), *extra]
    )
    assert rc == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_verify_missing_files_and_shape_mismatch(files, capsys):
    rc = main(
        [
            "verify",
            "--model",
            str(files / "nope.pt"),
            "--data",
            str(files / "x.npy"),
            "--eps",
            "0.5",
        ]
    )
    assert rc == 2 and "no such model file" in capsys.readouterr().err
    np.save(files / "bad.npy", np.zeros((20, 4), dtype=np.float32))
    rc = main(
        [
            "verify",
            "--model",
            str(files / "model.pt"),
            "--data",
            str(files / "bad.npy"),
            "--eps",
            "0.5",
        ]
    )
    assert rc == 2 and "model does not accept inputs of shape" in capsys.readouterr().err


def _tiny_check(compressor):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2))
    x = torch.rand(30, 3, generator=torch.Generator().manual_seed(1))
    return model, x, check_guarantee(model, x, compressor, 0.1, 0.2, trials=10)


def _exact(model, pool, generator):
    return model


def _inf_errors(model, pool, generator):
    with torch.no_grad():
        model[0].weight.zero_()
        model[0].bias.fill_(float("nan"))
    return model


def test_plot_check_handles_zero_and_infinite_errors(tmp_path):
    _, _, exact = _tiny_check(_exact)
    assert np.all(exact.worst_errors == 0)
    assert plot_check(exact, tmp_path / "a.png").endswith("a.png")
    _, _, broken = _tiny_check(_inf_errors)
    assert np.all(np.isinf(broken.worst_errors)) and broken.verdict == "violated"
    plot_check(broken, tmp_path / "b.svg")
    assert (tmp_path / "a.png").stat().st_size > 1000
    assert (tmp_path / "b.svg").read_text().lstrip().startswith("<?xml")
    with pytest.raises(ValueError, match="GuaranteeCheck"):
        plot_check(object(), tmp_path / "c.png")


def test_plot_slack(tmp_path):
    model, x, _ = _tiny_check(_exact)
    r = find_slack(
        model,
        x,
        0.1,
        0.2,
        compressor_factory=lambda s: _exact,
        c_min=0.25,
        trials=40,
        sequential=False,
    )
    assert plot_slack(r, tmp_path / "s.png").endswith("s.png")
    assert (tmp_path / "s.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="SlackResult"):
        plot_slack(object(), tmp_path / "t.png")


def test_verify_prints_one_warning_summary_not_one_line_per_trial(files, capsys):
    import re

    argv = ["verify", "--model", str(files / "model.pt"), "--data", str(files / "x.npy")]
    rc = main([*argv, "--eps", "0.5", "--delta", "0.3", "--trials", "8"])
    assert rc == 0
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    # every one of the 8 compressions misses its target here (|S| and V are small), yet the
    # warnings come as a few grouped lines after the table, whose WARNING rows hold the rest
    assert 1 <= len(lines) <= 5
    pattern = r"netcoreset verify: warning: \[in (\d+) of 8 compressions\] "
    counts = [re.match(pattern, line) for line in lines]
    assert all(counts) and sum(int(m.group(1)) for m in counts) == 8
    assert all("does not reach the request" in line for line in lines)
    assert "WARNING" in captured.out


def test_verify_takes_every_registered_data_set_name(capsys):
    """``verify --dataset`` uses the one registry of names (aliases included), like compress;
    an unknown name and a --data-dir for a bundled data set exit 2 with the reason."""
    from netcoreset.verification.registry import DATASETS

    assert set(DATASETS) >= {"digits", "mnist5k", "mnist", "fashion-mnist"}
    assert main(["verify", "--dataset", "imagenet", "--eps", "0.5"]) == 2
    assert "unknown data set 'imagenet': expected one of digits" in capsys.readouterr().err
    rc = main(["verify", "--dataset", "digits", "--data-dir", ".", "--eps", "0.5"])
    err = capsys.readouterr().err
    assert rc == 2 and "--data-dir applies to --dataset mnist or fashion-mnist only" in err


@pytest.mark.skipif(
    not __import__("os").path.isdir("/usr/share/datasets/fashion-mnist"),
    reason="Fashion-MNIST IDX files absent (make data installs them)",
)
def test_verify_on_fashion_with_a_given_model(tmp_path, capsys):
    """``--dataset fashion`` (an alias) with a model file: the checks run on the test part."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 8), nn.ReLU(), nn.Linear(8, 10))
    torch.save(model, tmp_path / "m.pt")
    args = ["verify", "--dataset", "fashion", "--model", str(tmp_path / "m.pt")]
    rc = main([*args, "--eps", "0.5", "--keep", "0.5", "--trials", "2"])
    out = capsys.readouterr().out
    assert rc == 0 and "verdict" in out and "trials        2" in out
