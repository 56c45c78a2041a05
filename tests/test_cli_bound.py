"""``netcoreset bound ...`` in-process: text, JSON, LaTeX, exit status 2 on bad input.

Deterministic (no randomness): no false failures.
"""

from __future__ import annotations

import json

import pytest

from netcoreset.bounds import certified_eps, network_bound, sample_size
from netcoreset.verification.cli import main
from netcoreset.verification.cli.bound import format_count

NET = ["bound", "network", "--architecture", "784,300,100,10", "--eps", "0.1", "--delta", "0.05"]
K2 = ["--K", "2"]  # Assumption 1 needs K > 1: the bound commands require it


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_sample_size_text(capsys):
    # 8*2*2*log(8*410/0.05)/0.1^2 = 32*11.091331/0.01 = 35492.26 -> 35493
    code, out, err = run(
        capsys, "bound", "sample-size", "--sensitivity-sum", "2", "--eps", "0.1",
        "--delta", "0.05", "--eta", "410", "--K", "2",
    )  # fmt: skip
    assert code == 0 and err == ""
    assert "m = 35493" in out.splitlines()


def test_sample_size_json_tight(capsys):
    # tight: (6+2*0.5)*2*log(800)/0.25 = 374.35 -> 375
    code, out, _ = run(
        capsys, "bound", "sample-size", "--sensitivity-sum", "1", "--eps", "0.5",
        "--delta", "0.1", "--eta", "10", "--K", "2", "--tight", "--json",
    )  # fmt: skip
    assert code == 0
    d = json.loads(out)
    assert d["m"] == 375 and d["form"] == "tight"


def test_sample_size_huge_prints_readably(capsys):
    code, out, _ = run(
        capsys, "bound", "sample-size", "--sensitivity-sum", "1", "--eps", "1e-9",
        "--delta", "0.05", "--eta", "10", "--K", "2",
    )  # fmt: skip
    assert code == 0
    m = sample_size(1.0, 1e-9, 0.05, 10, K=2.0)
    assert m > 10**19
    assert f"m = {m:.3g}" in out  # e.g. 5.9e+19, not 20 digits


def test_certified_eps_text_json_and_notes(capsys):
    code, out, _ = run(
        capsys, "bound", "certified-eps", "--m", "17747", "--sensitivity-sum", "2",
        "--delta", "0.05", "--eta", "410", "--K", "2", "--json",
    )  # fmt: skip
    assert code == 0
    d = json.loads(out)
    assert d["certified_eps"] == certified_eps(17747, 2.0, 0.05, 410, K=2.0)
    assert d["valid"] is True
    # few draws: the 8-form's eps >= 1 is flagged
    code, out, _ = run(
        capsys, "bound", "certified-eps", "--m", "5", "--sensitivity-sum", "1",
        "--delta", "0.05", "--eta", "10", "--K", "2",
    )  # fmt: skip
    assert code == 0 and "outside the 8-form's validity" in out
    # m given in scientific notation, tight form
    code, out, _ = run(
        capsys, "bound", "certified-eps", "--m", "2.12e19", "--sensitivity-sum", "1",
        "--delta", "0.05", "--eta", "10", "--K", "2", "--tight",
    )  # fmt: skip
    assert code == 0 and "m = 2.12e+19" in out
    # m = 0 certifies nothing; JSON stays valid (null, not Infinity)
    code, out, _ = run(
        capsys, "bound", "certified-eps", "--m", "0", "--sensitivity-sum", "1",
        "--delta", "0.05", "--eta", "10", "--K", "2", "--json",
    )  # fmt: skip
    d = json.loads(out)
    assert code == 0 and d["certified_eps"] is None and d["valid"] is False


def test_network_table_kappa_finding(capsys):
    """784-300-100-10 at delta = 0.05: kappa ~ 200 and the theorem keeps every weight."""
    code, out, err = run(capsys, *NET, *K2)
    assert code == 0 and err == ""
    assert "kappa = 200.3" in out
    rows = [line.split() for line in out.splitlines() if line.split()[:1] in (["2"], ["3"], ["4"])]
    assert len(rows) == 3
    assert all(row[-1] == "1.000" for row in rows)  # kept fraction of every layer
    assert rows[0][:3] == ["2", "300", "785"]  # layer, eta^l, fan-in
    assert "4.25e+19" in rows[0]  # m per part of layer 2 (twice K = 1's), printed readably
    total = next(line for line in out.splitlines() if line.startswith("total"))
    assert total.split()[-2:] == ["266610", "1.000"]
    assert "guarantee mode keeps (almost) every weight" in " ".join(out.split())
    # |S| = ceil(3 log(8 * 410 * 785 / 0.05)) = ceil(3 * 17.757) = 54 (largest part: 785 edges)
    assert "|S| = 54" in out


def test_network_json_matches_network_bound(capsys):
    code, out, _ = run(
        capsys, *NET, *K2, "--sensitivity-sum", "1.5,2,2.5", "--delta-hat", "3", "--json"
    )
    assert code == 0
    d = json.loads(out)
    nb = network_bound(
        "784,300,100,10", 0.1, 0.05, K=2.0, sensitivity_sum=[1.5, 2.0, 2.5], mean_cancellation=3.0
    )
    assert d["kept_fraction"] == 1.0 == nb.kept_fraction
    assert d["kappa"] == nb.kappa
    assert [lb["draws_per_part"] for lb in d["layers"]] == [lb.draws_per_part for lb in nb.layers]
    assert d["layers"][0]["delta_hat"] == pytest.approx(3.0 + nb.kappa)
    assert d["within_theorem"] is True and d["keeps_almost_everything"] is True


def test_network_no_kappa_is_labelled_heuristic(capsys):
    code, out, _ = run(
        capsys, "bound", "network", "--arch", "784,300,100,10", "--eps", "0.5",
        "--delta", "0.05", "--no-kappa", *K2,
    )  # fmt: skip
    assert code == 0
    flat = " ".join(out.split())
    assert "heuristic OUTSIDE the theorem" in flat
    assert "NOT added" in flat
    rows = [line.split() for line in out.splitlines() if line.split()[:1] == ["2"]]
    # eps_l = 0.5/6, m = ceil(8*2*log(65600)*144) = ceil(25554.4) = 25555 per part (K = 2)
    assert rows[0][6] == "25555"


def test_network_small_budget_below_one(capsys):
    # A wide, shallow layer without kappa and a large eps keeps only part of its weights:
    # eta = 10, eps_l = 0.9/(2*1*1) = 0.45, log(8*10/0.5) = log(160) = 5.075174,
    # with K = 2: m = ceil(8*2*5.075174/0.2025) = ceil(401.001) = 402 per part; theorem per
    # neuron ceil(32*1*1*2*2*5.075174/0.81) + 1 = ceil(802.003) + 1 = 804, times 10 neurons
    # = 8040 of 5001*10 = 50010 weights
    code, out, _ = run(
        capsys, "bound", "network", "--arch", "5000,10", "--eps", "0.9", "--delta", "0.5",
        "--no-kappa", "--json", *K2,
    )  # fmt: skip
    d = json.loads(out)
    assert code == 0
    assert d["layers"][0]["draws_per_part"] == 402
    assert d["layers"][0]["nnz_bound"] == 8040.0
    assert d["kept_fraction"] == pytest.approx(8040 / 50010)


def test_network_latex(capsys):
    code, out, _ = run(capsys, *NET, *K2, "--latex")
    assert code == 0
    assert r"\varepsilon_{\ell} = " in out and r"\kappa = " in out and "32" in out
    code, out, _ = run(capsys, *NET, *K2, "--latex", "--json")
    assert r"\mathcal{S}" in json.loads(out)["latex"]["sample_size"]


BAD = [
    (["bound", "network", "--arch", "784,abc", "--eps", "0.1", "--delta", "0.05"], "--arch"),
    (["bound", "network", "--arch", "", "--eps", "0.1", "--delta", "0.05"], "--arch"),
    (["bound", "network", "--arch", "784,2.5,10", "--eps", "0.1", "--delta", "0.05"], "--arch"),
    (["bound", "network", "--arch", "4,3", "--eps", "1.5", "--delta", "0.05"], "--eps"),
    (["bound", "network", "--arch", "4,3", "--eps", "nan", "--delta", "0.05"], "--eps"),
    (["bound", "network", "--arch", "4,3", "--eps", "x", "--delta", "0.05"], "--eps"),
    (["bound", "network", "--arch", "4,3", "--eps", "0.1", "--delta", "1"], "--delta"),
    (["bound", "network", "--arch", "4,3", "--eps", "0.1", "--delta", "0.1", "--K", "0"], "--K"),
    (
        [
            "bound",
            "network",
            "--arch",
            "4,3",
            "--eps",
            "0.1",
            "--delta",
            "0.1",
            "--sensitivity-sum",
            "-1",
        ],
        "--sensitivity-sum",
    ),  # fmt: skip
    (
        [
            "bound",
            "network",
            "--arch",
            "4,3,2",
            "--eps",
            "0.1",
            "--delta",
            "0.1",
            "--sensitivity-sum",
            "1,2,3",
        ],
        "--sensitivity-sum",
    ),  # fmt: skip
    (
        [
            "bound",
            "network",
            "--arch",
            "4,3",
            "--eps",
            "0.1",
            "--delta",
            "0.1",
            "--sensitivity-sum",
            "1,,2",
        ],
        "--sensitivity-sum",
    ),  # fmt: skip
    (
        [
            "bound",
            "network",
            "--arch",
            "4,3",
            "--eps",
            "0.1",
            "--delta",
            "0.1",
            "--delta-hat",
            "0.5",
        ],
        "--delta-hat",
    ),  # fmt: skip
    (["bound", "network", "--arch", "4,3", "--eps", "0.1"], "--delta"),
    (
        [
            "bound",
            "sample-size",
            "--sensitivity-sum",
            "nan",
            "--eps",
            "0.1",
            "--delta",
            "0.1",
            "--eta",
            "10",
        ],
        "--sensitivity-sum",
    ),  # fmt: skip
    (
        [
            "bound",
            "sample-size",
            "--sensitivity-sum",
            "1",
            "--eps",
            "0.1",
            "--delta",
            "0.1",
            "--eta",
            "1.5",
        ],
        "--eta",
    ),  # fmt: skip
    (
        [
            "bound",
            "sample-size",
            "--sensitivity-sum",
            "1",
            "--eps",
            "0.1",
            "--delta",
            "0.1",
            "--eta",
            "0",
        ],
        "--eta",
    ),  # fmt: skip
    (
        [
            "bound",
            "certified-eps",
            "--m",
            "2.5",
            "--sensitivity-sum",
            "1",
            "--delta",
            "0.1",
            "--eta",
            "10",
        ],
        "--m",
    ),  # fmt: skip
    (
        [
            "bound",
            "certified-eps",
            "--m",
            "-3",
            "--sensitivity-sum",
            "1",
            "--delta",
            "0.1",
            "--eta",
            "10",
        ],
        "--m",
    ),  # fmt: skip
    (["bound"], "WHAT"),
    (["bound", "nope"], "nope"),
]


@pytest.mark.parametrize(("argv", "flag"), BAD, ids=[f"{i}-{f}" for i, (_, f) in enumerate(BAD)])
def test_bad_input_exits_2_with_one_line(capsys, argv, flag):
    if len(argv) > 2 and "--K" not in argv:
        argv = [*argv, *K2]  # K is required; each case is about another flag
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "error:" in lines[0] and flag in lines[0]
    assert "Traceback" not in err


def test_format_count():
    # exact below 1e6, three significant digits above
    assert format_count(17747) == "17747"
    assert format_count(2.1234e19) == "2.12e+19"
    assert format_count(12345678) == "1.23e+07"
    assert format_count(0.5) == "0.5"


def test_arch_with_an_empty_field_is_rejected(capsys):
    argv = ["bound", "network", "--arch", "784,,300", "--eps", "0.1", "--delta", "0.05", *K2]
    assert main(argv) == 2
    assert "--architecture must be a comma-separated list" in capsys.readouterr().err


def test_one_vocabulary_for_K_and_the_architecture(capsys):
    # K: required by the bound commands (no data to estimate it), > 1 everywhere, refused
    # with the same message by bound and compress (one validator)
    base = ["bound", "sample-size", "--sensitivity-sum", "2", "--eps", "0.1", "--delta", "0.1"]
    assert main([*base, "--eta", "10"]) == 2
    assert "required: --K" in capsys.readouterr().err
    messages = []
    for argv in (
        [*base, "--eta", "10", "--K", "0.5"],
        [*NET, "--K", "1"],
        ["compress", "m.pt", "--dataset", "digits", "--keep", "0.5", "--K", "0.5"],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        messages.append(err[err.index("K must exceed 1") : err.index("; got")])
    assert len(set(messages)) == 1 and "Assumption 1" in messages[0]
    # --architecture everywhere; the former --arch of bound network still works, unlisted
    assert main([*NET, *K2, "--json"]) == 0
    via_alias = [a if a != "--architecture" else "--arch" for a in NET]
    assert json.loads(capsys.readouterr().out) == (
        main([*via_alias, *K2, "--json"]) or json.loads(capsys.readouterr().out)
    )
    assert main(["bound", "network", "--help"]) == 0
    usage = capsys.readouterr().out
    assert "--architecture WIDTHS" in usage and "--arch " not in usage


def test_occam_form_choices_are_the_library_forms():
    from netcoreset.bounds import OCCAM_FORMS
    from netcoreset.verification.cli import bound

    assert bound._OCCAM_FORMS == OCCAM_FORMS
