"""Provenance records: the source hash covers exactly the packages' *.py files and the native
kernels' C source, a change to one module makes a result stale naming that module, and data
files are hashed."""

from __future__ import annotations

import hashlib
import json

import pytest

from netcoreset.verification.experiments import provenance as pv
from netcoreset.verification.experiments.files import write_json


def test_source_files_are_the_three_packages_python_and_c_files():
    files = pv.source_files()
    assert {k.split("/")[0] for k in files} == set(pv.PACKAGES)
    assert all(k.endswith((".py", ".c")) for k in files)
    assert "verification/cli/reproduce.py" in files and "bounds/__init__.py" in files
    # the native kernels compute sensitivities and sampling counts: an edit must show
    assert "sampler/_kernels.c" in files
    edited = {**files, "sampler/_kernels.c": "0" * 64}
    assert pv.source_digest(edited) != pv.source_digest(files)
    assert pv.compare({"source_files": files}, edited)["changed"] == ["netcoreset.sampler._kernels"]
    assert list(files) == sorted(files)
    assert pv.source_digest(files) == pv.source_digest(dict(reversed(files.items())))


def test_a_changed_module_is_named_and_an_unrecorded_result_says_so():
    files = pv.source_files()
    record = pv.provenance("netcoreset demo", wall_seconds=2.0, files=files)
    assert pv.compare(record, files) == {
        "status": "current",
        "changed": [],
        "commit": record["commit"],
    }
    edited = {**files, "sampler/methods.py": "0" * 64, "bounds/new.py": "1" * 64}
    del edited["verification/cli/__init__.py"]
    got = pv.compare(record, edited)
    assert got["status"] == "stale"
    assert got["changed"] == [
        "netcoreset.bounds.new",
        "netcoreset.sampler.methods",
        "netcoreset.verification.cli",
    ]
    assert pv.compare({"command": "x"})["status"] == "not recorded"


def test_record_is_strict_json_with_data_hashes(tmp_path):
    data = tmp_path / "train-images-idx3-ubyte"
    data.write_bytes(b"\x00\x00\x08\x01")
    record = pv.provenance("cmd", data_files=[data], data_arrays={"digits": "ab"})
    assert record["data_files"]["train-images-idx3-ubyte"] == {
        "sha256": hashlib.sha256(b"\x00\x00\x08\x01").hexdigest(),
        "bytes": 4,
    }
    assert record["data_files"]["digits"] == {"arrays_sha256": "ab"}
    path = write_json(tmp_path / "r.json", {"provenance": record})
    back = json.loads(path.read_text())["provenance"]
    assert back["source_sha256"] == pv.source_digest(back["source_files"])
    assert back["versions"]["netcoreset"] != "absent"


def _with_provenance():
    from _loaders import load_project_module

    return load_project_module("tools/with_provenance.py", "with_provenance")


def test_wrapper_stamps_a_result_and_leaves_a_failed_one_alone(tmp_path):
    import shlex
    import sys

    wp = _with_provenance()
    out = tmp_path / "r.json"
    data = tmp_path / "d.bin"
    data.write_bytes(b"xyz")
    write = f"import json; json.dump({{'bound': 0.25}}, open({str(out)!r}, 'w'))"
    assert wp.main(["--out", str(out), "--data", str(data), "--", sys.executable, "-c", write]) == 0
    got = json.loads(out.read_text())
    assert got["bound"] == 0.25
    prov = got["provenance"]
    assert shlex.split(prov["command"]) == [sys.executable, "-c", write]
    assert prov["data_files"]["d.bin"]["bytes"] == 3 and prov["wall_seconds"] > 0
    assert pv.compare(prov)["status"] == "current"
    before = out.read_bytes()
    assert wp.main(["--out", str(out), "--", sys.executable, "-c", "raise SystemExit(3)"]) == 3
    assert out.read_bytes() == before  # a failed run adds nothing
    missing = tmp_path / "none.json"
    assert wp.main(["--out", str(missing), "--", sys.executable, "-c", "pass"]) == 1
    assert not missing.exists()


def test_dirty_compares_the_hashed_source_with_the_commit():
    head = pv._git("rev-parse", "HEAD")
    if head is None:
        pytest.skip("not a git checkout of the project")
    commit = head.decode().strip()
    committed = pv._committed_files(commit)
    assert committed is not None and set(committed) >= {"bounds/__init__.py"}
    assert pv._commit(committed) == (commit, False)
    assert pv._commit({**committed, "bounds/__init__.py": "0" * 64}) == (commit, True)


def test_backfilled_provenance_hashes_the_commits_own_files():
    head = pv._git("rev-parse", "HEAD")
    if head is None:
        pytest.skip("not a git checkout of the project")
    commit = head.decode().strip()
    record = pv.backfilled(commit, "test", command="c", wall_seconds=1.0, historical="kept")
    shown = pv._git("show", f"{commit}:bounds/__init__.py")
    assert shown is not None
    assert record["source_files"]["bounds/__init__.py"] == hashlib.sha256(shown).hexdigest()
    assert record["source_sha256"] == pv.source_digest(record["source_files"])
    assert record["backfilled"] is True and record["dirty"] is None
    assert (record["commit"], record["historical"]) == (commit, "kept")
    assert pv.compare(record)["status"] in {"current", "stale"}
    with pytest.raises(ValueError, match="no commit"):
        pv.commit_source_files("f" * 40)


def test_provenance_records_the_numeric_paths(monkeypatch):
    # the kernels a result ran on are part of what reproduces it: the AVX2 pins in effect
    # and whether the CPU has AVX-512
    from netcoreset.verification.experiments.provenance import (
        NUMERIC_PATH_VARIABLES,
        numeric_paths,
        provenance,
    )

    for name in NUMERIC_PATH_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "avx2")
    record = provenance("netcoreset demo")["numeric_paths"]
    assert record == numeric_paths()
    assert record["pins"] == {name: ("avx2" if name == "ATEN_CPU_CAPABILITY" else None)
                              for name in NUMERIC_PATH_VARIABLES}  # fmt: skip
    assert record["avx512f"] in (True, False, None)
