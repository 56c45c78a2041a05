"""Every committed result records its provenance, and `make results` regenerates every one that
is not a historical record: a result JSON under docs/results/ or benchmarks/results/ without a
complete provenance object, or one that no rule of the Makefile writes, fails here (< 1 s)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from netcoreset.verification.experiments.provenance import SCHEMA, source_digest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("docs/results", "benchmarks/results")
#: The pre-registered protocol's registrations and logs: inputs fixed before a run, not results.
PROTOCOL_SCHEMAS = {"netcoreset.registration/1", "netcoreset.registration-log/1"}
FIELDS = ("commit", "source_sha256", "source_files", "data_files", "command", "wall_seconds")


def _committed_json() -> list[Path]:
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "--", *FOLDERS], capture_output=True, text=True
    )
    if listed.returncode:
        paths = [p for f in FOLDERS for p in (ROOT / f).rglob("*.json")]
    else:
        paths = [ROOT / line for line in listed.stdout.splitlines() if line.endswith(".json")]
    return sorted(p for p in paths if p.is_file())


def _results() -> dict[str, dict]:
    out = {}
    for path in _committed_json():
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("schema") in PROTOCOL_SCHEMAS:
            assert path.parent.name == "registrations", f"{path}: a registration out of place"
            continue
        out[path.relative_to(ROOT).as_posix()] = data
    return out


def test_every_committed_result_records_its_provenance():
    results = _results()
    assert len(results) >= 30, "the committed results were not found"
    missing = [name for name, data in results.items() if not isinstance(data, dict)]
    missing += [name for name, data in results.items() if "provenance" not in data]
    assert not missing, f"result files without provenance: {missing}"
    for name, data in results.items():
        prov = data["provenance"]
        absent = [f for f in FIELDS if f not in prov]
        assert prov.get("schema") == SCHEMA and not absent, f"{name}: provenance lacks {absent}"
        assert prov["source_files"], f"{name}: no source files hashed"
        assert prov["source_sha256"] == source_digest(prov["source_files"]), name
        assert isinstance(prov["commit"], str) and len(prov["commit"]) == 40, name
        if prov.get("backfilled"):
            assert prov.get("derivation"), f"{name}: backfilled without saying how"


def test_make_results_writes_every_result_that_is_not_historical():
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")

    def run(*targets: str) -> str:
        env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
        done = subprocess.run([make, "-s", "-C", str(ROOT), *targets], capture_output=True,
                              text=True, timeout=60, env=env)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    listed = run("results-list").split()
    regenerated = {n for n, d in _results().items() if not d["provenance"].get("historical")}
    assert sorted(regenerated - set(listed)) == [], "results that make results does not write"
    historical = {n for n, d in _results().items() if d["provenance"].get("historical")}
    assert not historical & set(listed), "a historical record would be overwritten"
    dry = run("-n", "results", "results-registered")
    unwritten = [name for name in listed if f"--out {name}" not in dry and f" {name}" not in dry]
    assert not unwritten, f"listed but no command writes them: {unwritten}"


def test_the_result_role_prints_a_value_of_the_file_or_fails(tmp_path):
    pytest.importorskip("sphinx")
    from _loaders import claims_extension

    ext = claims_extension()
    (tmp_path / "r.json").write_text('{"a": {"b": [0.12345, null]}, "n": 60000}')
    assert ext.result_value(tmp_path, "r.json#a.b.0|.1%")[1] == "12.3%"
    assert ext.result_value(tmp_path, "r.json#a.b.1")[1] == "none"
    assert ext.result_value(tmp_path, "r.json#n|,")[1] == "60,000"
    (tmp_path / "l.json").write_text('{"x": [{"o": "p 0.1", "v": 2}, {"o": "p 2", "v": 5}]}')
    assert ext.result_value(tmp_path, "l.json#x.v|.1f")[1] == "2.0–5.0"
    assert ext.result_value(tmp_path, "l.json#x.o^=p 2.0.v")[1] == "5"
    for bad in ("r.json#a.c", "r.json#a", "nothere.json#n", "r.json#n|.2q", "l.json#x.o^=q.v"):
        with pytest.raises((OSError, KeyError, TypeError, ValueError)):
            ext.result_value(tmp_path, bad)


def test_backfill_takes_the_commit_the_file_names_then_its_environment():
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True,
                          text=True)  # fmt: skip
    if head.returncode:
        pytest.skip("not a git checkout of the project")
    from _loaders import load_project_module

    bf = load_project_module("tools/backfill_provenance.py", "backfill_provenance")
    commit = head.stdout.strip()
    path = Path("benchmarks/results/before-x.json")
    named = bf.record({"label": f"before (main {commit[:7]})", "full": False, "layer": {}}, path)
    assert named["commit"] == commit and named["historical"] and named["backfilled"] is True
    assert "names as measured" in named["derivation"] and "--label" in named["command"]
    env = {"environment": {"commit": commit[:9], "date": "2026-01-01T00:00:00+0000"}, "wall_s": 3}
    got = bf.record(env, Path("benchmarks/results/certify_cost.json"))
    assert (got["commit"], got["started"], got["wall_seconds"]) == (
        commit,
        "2026-01-01T00:00:00Z",
        3.0,
    )
    assert "historical" not in got and got["command"].startswith(
        "python benchmarks/certify_cost.py"
    )


def test_every_result_role_of_the_docs_names_a_value_of_a_committed_file():
    pytest.importorskip("sphinx")
    import re

    from _loaders import claims_extension

    ext = claims_extension()
    token = re.compile(r"^\.\. result-file:: (\S+)|:result:`([^`]+)`", re.M)
    seen, bad = 0, []
    for page in sorted((ROOT / "docs").rglob("*.rst")):
        if "_build" in page.parts:
            continue
        current, text = "", page.read_text(encoding="utf-8")
        if re.search(r"\*:result:`", text):  # inside emphasis a role is not parsed
            bad.append(f"{page.relative_to(ROOT)}: a :result: role inside * or **")
        for m in token.finditer(text):
            if m.group(1):
                current = m.group(1)
                continue
            text = m.group(2).replace("\\ ", " ")
            seen += 1
            try:
                ext.result_value(ROOT / "docs", current + text if text[:1] == "#" else text)
            except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
                bad.append(f"{page.relative_to(ROOT)}: {text}: {exc!r}")
    assert seen > 0 and not bad, "\n".join(bad)
