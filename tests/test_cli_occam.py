"""``netcoreset bound occam`` in-process: text, JSON, all forms, --nats, exit status 2.

Deterministic (pure arithmetic): no false failures.
"""

from __future__ import annotations

import json
import math

import pytest

from netcoreset.bounds import occam_bound
from netcoreset.verification.cli import main

BASE = ["bound", "occam", "--errors", "0", "--n", "60000", "--bits", "10000", "--delta", "0.05"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_occam_text_kl(capsys):
    # c = (10000 ln 2 + ln 20) / 60000 = 0.1155738; kl(0||p) = c => p = 1 - e^-c = 0.109146
    code, out, err = run(capsys, *BASE)
    assert code == 0 and err == ""
    assert "Occam bound (kl form)" in out
    assert "bound = 0.109146" in out.splitlines()
    assert "c = total / n = 0.115574" in out
    assert "fixed before the n training points" in out


def test_occam_json_has_the_documented_fields(capsys):
    code, out, _ = run(capsys, *BASE, "--form", "hoeffding", "--json")
    assert code == 0
    d = json.loads(out)
    assert {"bound", "train_error", "n", "delta", "description_bits", "terms", "form"} <= set(d)
    assert d["form"] == "hoeffding" and d["n"] == 60000 and d["description_bits"] == 10000.0
    # 0 + sqrt((10000 ln 2 + ln 20) / 120000) = sqrt(0.0577869) = 0.240390
    assert d["bound"] == pytest.approx(0.240390, abs=1e-6)
    assert d["terms"]["complexity_nats"] == pytest.approx(10000 * math.log(2))
    assert d["terms"]["confidence_nats"] == pytest.approx(math.log(20))
    assert d["vacuous"] is False


def test_occam_all_forms(capsys):
    code, out, _ = run(capsys, *BASE, "--errors", "3000", "--bits", "100000", "--form", "all")
    assert code == 0
    lines = out.splitlines()
    for form in ("binomial", "kl", "hoeffding"):
        value = occam_bound(3000, 60000, 1e5, 0.05, form=form).bound
        assert any(line.strip().startswith(f"{form}: {value:.6g}") for line in lines), form
    code, out, _ = run(capsys, *BASE, "--form", "all", "--json")
    d = json.loads(out)
    assert d["form"] == "binomial" and set(d["forms"]) == {"binomial", "kl", "hoeffding"}
    assert d["bound"] == min(f["bound"] for f in d["forms"].values())


def test_occam_nats_equals_bits(capsys):
    _, a, _ = run(capsys, *BASE[:6], "--bits", "144.26950408889634", "--delta", "0.05", "--json")
    _, b, _ = run(capsys, *BASE[:6], "--nats", "100", "--delta", "0.05", "--json")
    assert json.loads(a)["bound"] == pytest.approx(json.loads(b)["bound"], rel=1e-12)
    assert json.loads(b)["terms"]["complexity_nats"] == pytest.approx(100.0)


def test_occam_vacuous_note_and_latex(capsys):
    code, out, _ = run(capsys, *BASE, "--errors", "30000", "--bits", "1e6", "--latex")
    assert code == 0
    assert "vacuous" in out and "Formulas (LaTeX):" in out and r"\mathrm{kl}" in out
    code, out, _ = run(capsys, *BASE, "--json", "--latex")
    assert "binary_kl" in json.loads(out)["latex"]


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--errors", "60001"], "--errors must be an integer in [0, n]"),
        (["--errors", "-1"], "--errors must be an integer >= 0"),
        (["--n", "0"], "--n must be an integer >= 1"),
        (["--bits", "-3"], "--bits must be a finite real number >= 0"),
        (["--bits", "inf"], "--bits must be a finite real number >= 0"),
        (["--delta", "1.5"], "--delta must be a real number in the open interval (0, 1)"),
        (["--form", "chernoff"], "invalid choice"),
        (["--nats", "3"], "not allowed with argument --bits"),
        (["--errors", "x"], "invalid integer"),
    ],
)
def test_occam_bad_input_exits_2_with_one_line(capsys, extra, needle):
    code, out, err = run(capsys, *BASE, *extra)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and needle in err


def test_occam_needs_a_description_length(capsys):
    code, _, err = run(capsys, "bound", "occam", "--errors", "0", "--n", "10", "--delta", "0.1")
    assert code == 2 and "one of the arguments --bits --nats is required" in err
    code, _, err = run(capsys, *BASE[:6], "--nats", "-1", "--delta", "0.1")
    assert code == 2 and "--nats must be a finite real number >= 0" in err
