"""Start-up time of the ``netcoreset`` command: ``--help``, a bad path, and a pure-arithmetic
``bound`` call, each in a fresh process, against a bare ``python -c pass``.

Target: ``netcoreset --help`` and a missing model file answer in under a second. Medians of
``--repeat`` runs (default 7) after one warm-up; the load average is recorded before and after
(other jobs share the machine). ``-X importtime`` gives the import time of the command line's
module alone (what building the parser costs). Writes ``benchmarks/results/startup.json``
(or ``--out``)::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_startup.py

``results/startup-before.json`` measured the code of commit 3742b80 (before the lazy imports),
put first on ``PYTHONPATH`` as a ``netcoreset`` folder of links to its three packages, in the
same session as ``results/startup.json``.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench_common import environment, load, write_json

TARGET_S = 1.0
CLI = [sys.executable, "-m", "netcoreset.verification.cli"]
CASES: dict[str, list[str]] = {
    "python -c pass (reference)": [sys.executable, "-c", "pass"],
    "netcoreset --help": [*CLI, "--help"],
    "netcoreset compress MISSING.pt": [
        *CLI,
        "compress",
        "/no/such/model.pt",
        "--dataset",
        "digits",
        "--keep",
        "0.5",
    ],
    "netcoreset bound sample-size": [
        *CLI,
        *"bound sample-size --sensitivity-sum 2 --eps 0.1 --delta 0.05 --eta 410 --K 2".split(),
    ],
}
TARGETED = ("netcoreset --help", "netcoreset compress MISSING.pt")


def wall(cmd: list[str], repeat: int) -> dict[str, float]:
    """Median wall time of running ``cmd`` to completion, after one warm-up run."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(cmd, capture_output=True, env=env, check=False)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, env=env, check=False)
        times.append(time.perf_counter() - t0)
    return {"s": statistics.median(times), "min_s": min(times), "max_s": max(times)}


def import_time_s(module: str) -> float:
    """Cumulative import time of ``module`` (``python -X importtime``), in seconds."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
    )
    for line in out.stderr.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) == 3 and cells[2] == module:
            return int(re.sub(r"\D", "", cells[1])) / 1e6
    raise RuntimeError(f"{module} not in the -X importtime output")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "startup.json"))
    parser.add_argument(
        "--label", default="working tree", help="what code ran (e.g. another commit on PYTHONPATH)"
    )
    args = parser.parse_args()
    before = load()
    cases: list[dict[str, Any]] = []
    for name, cmd in CASES.items():
        row = {"case": name, **wall(cmd, args.repeat)}
        if name in TARGETED:
            row.update(limit_s=TARGET_S, **{"pass": row["s"] <= TARGET_S})
        cases.append(row)
        print(f"{name:34} {row['s']:.3f} s (min {row['min_s']:.3f})")
    modules = {m: import_time_s(m) for m in ("netcoreset.verification.cli", "netcoreset.bounds")}
    for m, s in modules.items():
        print(f"import {m:28} {s:.3f} s (-X importtime, cumulative)")
    write_json(
        Path(args.out),
        {
            "environment": environment("cpu"),
            "code": args.label,
            "load_before": before,
            "load_after": load(),
            "repeat": args.repeat,
            "cases": cases,
            "import_s": modules,
        },
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
