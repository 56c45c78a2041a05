"""Add backfilled provenance to committed result files written before provenance was recorded.

    python tools/backfill_provenance.py RESULT.json [RESULT.json ...]

For each file without a ``"provenance"`` object, the commit its numbers came from is taken, in
this order, from the code the file names (a label ``main <commit>``, a field
``code: "commit <commit>"``), its own ``commit`` field, the checkout's commit recorded in its
``environment``, else the commit that committed the file (``git log``). The source SHA-256 is
that commit's package source, hashed from git without a checkout
(:func:`netcoreset.verification.experiments.provenance.backfilled`); the record says
``"backfilled": true`` and how the commit and the command were found. The before/after records
of earlier performance work are marked ``historical``: ``make results`` does not regenerate
them. Files that already carry provenance are left alone. Each file is rewritten atomically,
with its own indentation (the numbers are untouched).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from netcoreset.bounds.serialization import to_jsonable
from netcoreset.verification.experiments.files import write_text
from netcoreset.verification.experiments.provenance import backfilled

HISTORICAL = re.compile(r"^(before|after)(-.*)?\.json$|^startup-before\.json$")
WALL_KEYS = ("total_s", "wall_s", "total_seconds", "seconds", "elapsed_s")
#: The command of each regenerable result written without one: the script's usage line.
USAGE = {
    "certify_cost.json": "python benchmarks/certify_cost.py --out {path}",
    "fashion_criteria.json": "python benchmarks/fashion_criteria.py --out {path}",
    "holdout_check_digits.json": "python benchmarks/holdout_check.py --net digits --out {path}",
    "holdout_check_fashion.json": "python benchmarks/holdout_check.py --net fashion --out {path}",
    "slack_modes_digits.json": (
        "python benchmarks/slack_modes.py --net digits --out {path} "
        "--rst docs/results/slack_modes_digits.inc"
    ),
}


def _file_commit(path: Path) -> str:
    out = subprocess.run(
        ["git", "log", "-1", "--format=%H", "--", str(path)], capture_output=True, text=True
    )
    if out.returncode or not out.stdout.strip():
        raise SystemExit(f"backfill_provenance: {path} is not committed; nothing to derive from")
    return out.stdout.strip()


def _commit(result: dict[str, Any], path: Path) -> tuple[str, str]:
    """The commit the numbers came from, and how it was found."""
    named = re.search(r"\bmain ([0-9a-f]{7,40})\b", str(result.get("label", "")))
    named = named or re.search(r"^commit ([0-9a-f]{7,40})\b", str(result.get("code", "")))
    if named:
        return named.group(1), "the commit of the code the file itself names as measured"
    if isinstance(result.get("commit"), str):
        return result["commit"], "the file's own 'commit' field"
    env = result.get("environment") or {}
    if env.get("commit"):
        return env["commit"], (
            "the checkout's commit recorded in the file's 'environment' (uncommitted changes "
            "at run time, if any, are not known)"
        )
    return _file_commit(path), "the commit that committed this version of the file (git log)"


def _command(result: dict[str, Any], path: Path) -> tuple[str | None, str]:
    if isinstance(result.get("command"), str):
        return result["command"], "the command recorded in the file"
    if path.name in USAGE:
        return USAGE[path.name].format(path=path.as_posix()), "the script's usage line"
    if "label" in result:  # benchmarks/run.py
        argv = ["python", "benchmarks/run.py", *(["--full"] if result.get("full") else [])]
        argv += ["--only", "memory"] if "layer" not in result else []
        argv += ["--label", result["label"], "--out", path.as_posix()]
        return shlex.join(argv), "reconstructed from the file's label, full flag and parts"
    if "cases" in result:  # benchmarks/bench_startup.py, older code first on PYTHONPATH
        argv = ["python", "benchmarks/bench_startup.py", "--repeat", str(result.get("repeat"))]
        argv += ["--label", str(result.get("code")), "--out", path.as_posix()]
        return shlex.join(argv), "reconstructed from the file's code, repeat and cases"
    return None, "no command recorded"


def _wall(result: dict[str, Any]) -> float | None:
    for key in WALL_KEYS:
        if isinstance(result.get(key), (int, float)):
            return float(result[key])
    wall = result.get("wall_seconds")
    return float(wall["total"]) if isinstance(wall, dict) and "total" in wall else None


def record(result: dict[str, Any], path: Path) -> dict[str, Any]:
    """The backfilled provenance of one result file."""
    commit, how_commit = _commit(result, path)
    command, how_command = _command(result, path)
    env = result.get("environment") or {}
    started = env.get("date")
    versions = result.get("versions") or {
        k: str(env[k]) for k in ("python", "numpy", "torch") if k in env
    }
    historical = (
        "a before/after record of earlier performance work, kept as measured"
        if HISTORICAL.match(path.name)
        else None
    )
    return backfilled(
        commit,
        f"commit: {how_commit}; command: {how_command}",
        command=command,
        wall_seconds=_wall(result),
        started=started.replace("+0000", "Z") if isinstance(started, str) else None,
        versions=versions,
        historical=historical,
    )


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    for name in argv:
        path = Path(name)
        result = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(result, dict):
            print(f"backfill_provenance: {path} is not a JSON object; skipped")
            continue
        if "provenance" in result:
            print(f"backfill_provenance: {path} already records its provenance; left alone")
            continue
        text = path.read_text(encoding="utf-8")
        indent = len(text.splitlines()[1]) - len(text.splitlines()[1].lstrip(" "))
        result["provenance"] = record(result, path)
        write_text(path, json.dumps(to_jsonable(result), indent=indent or 2) + "\n")
        print(f"backfill_provenance: {path}: commit {result['provenance']['commit'][:10]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
