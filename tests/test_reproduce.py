"""``netcoreset reproduce`` end to end on digits (the internal tiny level), in-process."""

from __future__ import annotations

import csv
import json

import pytest

from netcoreset.verification.cli import main
from netcoreset.verification.experiments.claims import CLAIMS
from netcoreset.verification.experiments.sweep import PAPER_METHODS, plan_for

EXPECTED_CLAIMS = ["size-15-percent", "beats-baselines", "gap-grows-with-depth", "variants-ordered"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("reproduce")
    argv = ["reproduce", "--dataset", "digits", "--tiny", "--cache-dir", str(root / "cache")]
    assert main([*argv, "--out", str(root / "out")]) == 0
    return root, argv


def test_output_files_and_claims(run):
    root, _ = run
    out = root / "out"
    names = sorted(p.name for p in out.iterdir())
    assert names == ["depth.csv", "depth.png", "results.json", "sweep.csv", "sweep.png"]
    res = json.loads((out / "results.json").read_text())
    plan = plan_for("digits", "tiny")
    assert res["dataset"]["name"] == "digits" and res["level"] == "tiny"
    assert [c["name"] for c in res["claims"]] == EXPECTED_CLAIMS
    for claim in res["claims"]:
        assert isinstance(claim["reproduced"], bool) and claim["tested"] is True
        assert claim["measured"] and claim["rule"] and claim["paper_wording"]
    with open(out / "sweep.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(plan.keeps) * len(PAPER_METHODS)
    assert {r["method"] for r in rows} == set(PAPER_METHODS)
    assert all(int(r["runs"]) == plan.seeds for r in rows)
    for r in res["sweep"]["rows"]:  # the budget is met, and the drop is reference - accuracy
        if r["method"] == "svd":  # whole ranks: at most the budget, one rank's worth below
            assert r["keep"] - 0.05 < r["kept_fraction"] <= r["keep"] + 1e-9
        else:
            assert abs(r["kept_fraction"] - r["keep"]) < 0.02
        assert r["accuracy_drop_mean"] == pytest.approx(
            res["reference_accuracy"] - r["accuracy_mean"], abs=1e-12
        )
    depths = [d["hidden_layers"] for d in res["depth"]["results"]]
    assert depths == list(plan.depth_layers)
    assert [g["hidden_layers"] for g in res["depth"]["gaps"]["corenet"]] == depths


def test_second_run_reuses_the_models_and_repeats_bit_for_bit(run, tmp_path, capsys):
    root, argv = run
    assert main([*argv, "--out", str(tmp_path), "--no-plot", "--no-depth"]) == 0
    assert "from the cache" in capsys.readouterr().out
    first = json.loads((root / "out" / "results.json").read_text())
    again = json.loads((tmp_path / "results.json").read_text())
    assert again["training"]["from_cache"] and again["depth"] == {}
    keys = ("method", "keep", "accuracies", "errors", "kept_fraction")
    strip = lambda rows: [{k: r[k] for k in keys} for r in rows]  # noqa: E731
    assert strip(again["sweep"]["rows"]) == strip(first["sweep"]["rows"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json", "sweep.csv"]


def test_claims_only_redecides_from_the_file(run, tmp_path, capsys):
    root, _ = run
    path = tmp_path / "results.json"
    res = json.loads((root / "out" / "results.json").read_text())
    res["claims"] = []
    path.write_text(json.dumps(res))
    assert main(["reproduce", "--claims-only", str(path)]) == 0
    again = json.loads(path.read_text())
    assert again["claims"] == json.loads((root / "out" / "results.json").read_text())["claims"]
    assert "size-15-percent" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--dataset", "files"], "--dataset files needs --data-dir"),
        (["--dataset", "digits", "--arch", "784-300-10"], "does not fit the data"),
        (["--dataset", "digits", "--architecture", "30,x"], "--architecture must be widths"),
        (["--dataset", "digits", "--seeds", "0"], "expected an integer from 1 to 1000"),
        (["--dataset", "digits", "--data-dir", "/tmp"], "applies to mnist and fashion-mnist only"),
        ([], "--dataset is required"),
    ],
)
def test_bad_input_is_one_line(argv, message, capsys):
    assert main(["reproduce", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_every_claim_has_its_rule_written_down():
    from netcoreset.verification.experiments import claims

    for claim in CLAIMS:
        assert f"``{claim.name}``" in claims.__doc__
