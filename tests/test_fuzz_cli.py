"""Fuzz: the ``netcoreset`` command line with wild values, files and output paths exits 0 with
valid output or 2 with one error line (and a JSON error object with ``--json``), never with a
traceback; no file a user hands in runs code (see ``tests/_fuzz.py`` for the classification).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from _fuzz import (
    DATA_FILES,
    MODEL_FILES,
    Wrong,
    cli,
    examples,
    make_data_file,
    make_model_file,
    strict_json,
    wild_text,
)
from hypothesis import given
from hypothesis import strategies as st

from netcoreset.sampler import load

number = st.sampled_from(["0.1", "0.5", "0.05", "0.9"])
count = st.sampled_from(["1", "10", "410", "3"])


def _json_ok(stdout: str) -> None:
    strict_json(stdout)


# ------------------------------------------------------------------------------------------------
# netcoreset bound
# ------------------------------------------------------------------------------------------------

BOUND = {
    "sample-size": {
        "--sensitivity-sum": number,
        "--eps": number,
        "--delta": number,
        "--eta": count,
        "--K": number,
    },
    "certified-eps": {
        "--m": st.sampled_from(["0", "17747", "2.12e19", "1"]),
        "--sensitivity-sum": number,
        "--delta": number,
        "--eta": count,
        "--K": number,
    },
    "network": {
        "--arch": st.sampled_from(["4,3,2", "784,300,100,10", "6,5,3"]),
        "--eps": number,
        "--delta": number,
        "--K": number,
        "--k-prime": number,
        "--sensitivity-sum": st.sampled_from(["1", "2,3", "0.5"]),
        "--delta-hat": st.sampled_from(["1", "2", "1.5,1.2"]),
    },
}


@examples(150)
@given(
    what=st.sampled_from(sorted(BOUND)),
    data=st.data(),
    json_flag=st.booleans(),
    extra=st.sampled_from([[], ["--tight"], ["--latex"], ["--no-kappa"], ["--no-bias"]]),
)
def test_bound(what, data, json_flag, extra):
    flags = BOUND[what]
    wild = data.draw(st.sampled_from([None, *sorted(flags)]))
    argv = ["bound", what]
    for flag, strategy in flags.items():
        value = data.draw(wild_text() if flag == wild else strategy)
        argv += [flag, value] if not value.startswith("-") else [f"{flag}={value}"]
    if what != "network":
        extra = [e for e in extra if e in ("--tight", "--latex")]
    argv += extra + (["--json"] if json_flag else [])
    cli(argv, validate=_json_ok if json_flag else None)


# ------------------------------------------------------------------------------------------------
# netcoreset compress
# ------------------------------------------------------------------------------------------------

COMPRESS_FLAGS = {
    "--delta": number,
    "--K": st.sampled_from(["1", "2", "0.5"]),
    "--k-prime": st.sampled_from(["3", "1", "5"]),
    "--seed": st.sampled_from(["0", "1", "12345"]),
    "--method": st.sampled_from(
        ["corenet", "corenet+", "corenet++", "uniform", "l1", "l2", "magnitude", "svd"]
    ),
    "--allocation": st.sampled_from(["theorem", "uniform"]),
}
OUT_KINDS = ["none", "none", "new", "existing-file", "under-file", "existing-result", "other-dir"]


def _out_path(folder: Path, kind: str) -> Path | None:
    if kind == "none":
        return None
    out = folder / "result"
    if kind == "existing-file":
        out.write_text("precious")
    elif kind == "under-file":
        (folder / "afile").write_text("precious")
        out = folder / "afile" / "result"
    elif kind == "existing-result":
        cli(
            [
                "compress",
                str(make_model_file(folder, "pt-sequential")),
                "--data",
                str(make_data_file(folder, "npy")),
                "--keep",
                "0.5",
                "--out",
                str(out),
            ],
            name="setup (a first result)",
        )
    elif kind == "other-dir":
        out.mkdir()
        (out / "notes.txt").write_text("precious")
    return out


@examples(150)
@given(
    model_kind=st.sampled_from(MODEL_FILES),
    data_kind=st.sampled_from(DATA_FILES),
    fault=st.sampled_from(["model", "data", "flag", "budget", "out", "none", "none"]),
    budget=st.sampled_from(
        [("--keep", "0.5"), ("--keep", "1.0"), ("--nnz", "20"), ("--eps", "0.5")]
    ),
    data=st.data(),
    json_flag=st.booleans(),
)
def test_compress(model_kind, data_kind, fault, budget, data, json_flag):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        marker = folder / "CODE-RAN"
        model_kind = model_kind if fault == "model" else MODEL_FILES[0]
        data_kind = data_kind if fault == "data" else DATA_FILES[0]
        model_path = make_model_file(folder, model_kind, marker)
        if model_kind == "pt-flatten" and data_kind == "npy":
            data_kind = "npy-images"
        data_path = make_data_file(folder, data_kind, marker=marker)
        argv = ["compress", str(model_path), "--data", str(data_path)]
        flag, value = budget
        if fault == "budget":
            value = data.draw(wild_text())
        argv += [f"{flag}={value}"]
        for name in data.draw(
            st.lists(st.sampled_from(sorted(COMPRESS_FLAGS)), max_size=3, unique=True)
        ):
            v = data.draw(wild_text() if fault == "flag" else COMPRESS_FLAGS[name])
            argv += [f"{name}={v}"]
        out_kind = data.draw(st.sampled_from(OUT_KINDS)) if fault == "out" else "none"
        out = _out_path(folder, out_kind)
        if out is not None:
            argv += ["--out", str(out)]
        if json_flag:
            argv += ["--json"]

        def validate(stdout: str) -> None:
            if json_flag:
                rep = strict_json(stdout)
                if rep["nnz"] > rep["nnz_original"]:
                    raise Wrong("nnz grew")
            if out is not None:
                back = load(out)
                printed = json.loads(stdout) if json_flag else {}
                for key in ("data", "evaluation", "saved"):  # the command's, not the report's
                    printed.pop(key, None)
                if json_flag and back.report.to_dict() != printed:
                    raise Wrong("the saved report differs from the printed one")

        def after(code: Any) -> str | None:
            if marker.exists():
                return f"{model_kind}/{data_kind}: a file ran code (exit status {code})"
            if out_kind in ("existing-file", "other-dir", "under-file"):
                precious = {
                    "existing-file": out,
                    "other-dir": folder / "result" / "notes.txt",
                    "under-file": folder / "afile",
                }[out_kind]
                if not precious.is_file() or precious.read_text() != "precious":
                    return f"--out {out_kind}: a file the user had was overwritten"
            return None

        cli(argv, validate=validate, after=after)


# ------------------------------------------------------------------------------------------------
# netcoreset verify
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def verify_files():
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        yield make_model_file(folder, "pt-sequential"), make_data_file(folder, "npy", n=40)


VERIFY_FLAGS = {
    "--trials": st.sampled_from(["1", "3", "4"]),
    "--inputs-per-trial": st.sampled_from(["1", "2"]),
    "--holdout-fraction": st.sampled_from(["0.5", "0.3"]),
    "--batch-size": st.sampled_from(["1", "2", "32"]),
    "--alpha": st.sampled_from(["0.001", "0.1"]),
    "--seed": st.sampled_from(["0", "7"]),
    "--delta": number,
    "--keep": st.sampled_from(["0.5", "0.2"]),
    "--draw-scale": st.sampled_from(["1", "0.5"]),
    "--K": st.sampled_from(["1", "2"]),
    "--method": st.sampled_from(["corenet", "uniform", "magnitude"]),
    "--workers": st.sampled_from(["1", "2"]),
}
JSON_KINDS = ["none", "none", "new", "directory", "under-file", "missing-parent"]
PLOT_KINDS = ["none", "none", "new", "directory", "bad-suffix"]


@examples(40)
@given(data=st.data(), fault=st.sampled_from(["flag", "json", "plot", "none"]))
def test_verify(verify_files, data, fault):
    model_path, data_path = verify_files
    argv = [
        "verify",
        "--model",
        str(model_path),
        "--data",
        str(data_path),
        "--eps",
        "0.5",
        "--trials",
        "2",
    ]
    names = data.draw(st.lists(st.sampled_from(sorted(VERIFY_FLAGS)), max_size=3, unique=True))
    for name in names:
        v = data.draw(wild_text() if fault == "flag" else VERIFY_FLAGS[name])
        argv += [f"{name}={v}"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "afile").write_text("x")
        json_kind = data.draw(st.sampled_from(JSON_KINDS)) if fault == "json" else "none"
        json_path = {
            "new": folder / "r.json",
            "directory": folder,
            "under-file": folder / "afile" / "r.json",
            "missing-parent": folder / "no" / "such" / "r.json",
        }.get(json_kind)
        plot_kind = data.draw(st.sampled_from(PLOT_KINDS)) if fault == "plot" else "none"
        plot_path = {
            "new": folder / "r.png",
            "directory": folder,
            "bad-suffix": folder / "r.xyz",
        }.get(plot_kind)
        argv += ["--json", str(json_path)] if json_path else []
        argv += ["--plot", str(plot_path)] if plot_path else []

        def validate(stdout: str) -> None:
            if json_path is not None:
                strict_json(Path(json_path).read_text())

        cli(argv, validate=validate)


# ------------------------------------------------------------------------------------------------
# Usage errors, and the defect classes of issue 11 one by one
# ------------------------------------------------------------------------------------------------

USAGE = [
    ["compress"],
    ["bound"],
    ["bound", "sample-size", "--eps"],
    ["bound", "network", "--arch", "4,3", "--eps", "0.1", "--delta", "0.1", "--bogus"],
    ["compress", "m.pt", "--keep", "0.1", "--eps", "0.1", "--dataset", "digits"],
    ["compress", "m.pt", "--keep", "0.1", "--dataset", "cifar"],
    ["verify"],
    ["demo", "--seeds", "two"],
    ["nonsense"],
    [],
]


@examples(60)
@given(
    base=st.sampled_from(USAGE),
    json_flag=st.booleans(),
    junk=st.lists(st.sampled_from(["--bogus", "-x", "--", "--keep", "--json=3", "🙂"]), max_size=2),
)
def test_usage_errors(base, json_flag, junk):
    argv = list(base) + junk + (["--json"] if json_flag else [])
    cli(argv)


ISSUE_CASES = [
    "huge --seed",
    "huge --nnz",
    "huge --eta",
    "huge --m",
    "network inf",
    "meta model",
    "meta model --json",
    "--out under a file",
    "verify --json into a directory",
    "verify --plot bad suffix",
    "verify huge --trials",
    "verify huge --seed",
    "verify --batch-size 0",
    "verify --workers 0",
    "verify --workers huge",
    "verify --inputs-per-trial huge",
    "verify huge --epochs",
    "demo --out under a file",
    "demo huge --seeds",
    "demo bad --keeps",
]


def _issue_case(tmp: Path, name: str) -> list[str]:
    model = str(make_model_file(tmp, "pt-sequential"))
    meta = str(make_model_file(tmp, "pt-meta"))
    data = str(make_data_file(tmp, "npy", n=40))
    (tmp / "afile").write_text("x")
    under = str(tmp / "afile" / "out")
    common = ["verify", "--model", model, "--data", data, "--eps", "0.5"]
    demo = ["demo", "--epochs", "1", "--seeds", "1", "--keeps", "0.3", "--no-plot"]
    eps_eta = ["--eps", "0.5", "--delta", "0.1", "--eta"]
    return {
        "huge --seed": ["compress", model, "--data", data, "--keep", "0.5", "--seed", "1" * 30],
        "huge --nnz": ["compress", model, "--data", data, "--nnz", "9" * 30],
        "huge --eta": ["bound", "sample-size", "--sensitivity-sum", "1", *eps_eta, "9" * 400],
        "huge --m": [
            "bound",
            "certified-eps",
            "--m",
            "9" * 400,
            "--sensitivity-sum",
            "1",
            "--delta",
            "0.1",
            "--eta",
            "10",
            "--json",
        ],
        "network inf": [
            "bound",
            "network",
            "--arch",
            "100000,100000,10",
            "--eps",
            "1e-300",
            "--delta",
            "0.1",
            "--json",
        ],
        "meta model": ["compress", meta, "--data", data, "--keep", "0.5"],
        "meta model --json": ["compress", meta, "--data", data, "--keep", "0.5", "--json"],
        "--out under a file": ["compress", model, "--data", data, "--keep", "0.5", "--out", under],
        "verify --json into a directory": [*common, "--trials", "3", "--json", str(tmp)],
        "verify --plot bad suffix": [*common, "--trials", "3", "--plot", str(tmp / "p.xyz")],
        "verify huge --trials": [*common, "--trials", "9" * 15],
        "verify huge --seed": [*common, "--trials", "2", "--seed", "9" * 25],
        "verify --batch-size 0": [*common, "--trials", "2", "--batch-size", "0"],
        "verify --workers 0": [*common, "--trials", "2", "--workers", "0"],
        "verify --workers huge": [*common, "--trials", "1", "--workers", "100000"],
        "verify --inputs-per-trial huge": [
            *common,
            "--trials",
            "2",
            "--inputs-per-trial",
            "9" * 20,
        ],
        "verify huge --epochs": ["verify", "--eps", "0.5", "--epochs", "9" * 12, "--trials", "1"],
        "demo --out under a file": [*demo, "--out", under],
        "demo huge --seeds": [
            *demo[:3],
            "--seeds",
            "9" * 12,
            "--keeps",
            "0.3",
            "--no-plot",
            "--out",
            str(tmp / "d"),
        ],
        "demo bad --keeps": ["demo", "--keeps", "0.3,2", "--out", str(tmp / "d")],
    }[name]


@pytest.mark.parametrize("name", ISSUE_CASES)
def test_issue_cases(name, tmp_path):
    cli(_issue_case(tmp_path, name), name=f"issue case: {name}", seconds=15)


@pytest.mark.parametrize("kind", ["pt-evil", "pt-evil-model"])
@pytest.mark.parametrize("command", ["compress", "verify"])
def test_a_model_file_never_runs_code(kind, command, tmp_path):
    marker = tmp_path / "CODE-RAN"
    model = str(make_model_file(tmp_path, kind, marker))
    data = str(make_data_file(tmp_path, "npy", n=40))
    argv = (
        ["compress", model, "--data", data, "--keep", "0.5"]
        if command == "compress"
        else ["verify", "--model", model, "--data", data, "--eps", "0.5", "--trials", "2"]
    )

    def after(code: Any) -> str | None:
        if marker.exists():
            return f"{kind} via {command}: the file ran code (exit status {code})"
        return "exit status 0 for a malicious file" if code == 0 else None

    cli(argv, name="malicious model file", after=after)
