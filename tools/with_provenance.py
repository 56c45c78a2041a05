"""Run a command that writes a JSON result file, then record its provenance in that file.

    python tools/with_provenance.py --out RESULT.json [--data FILE ...] -- COMMAND ...

The package's source is hashed *before* the command starts (so an edit during a long run
cannot be mistaken for the source it ran on); after the command succeeds, RESULT.json gets a
``"provenance"`` object (commit, per-module and overall source SHA-256, the data files'
hashes, the command, the wall time; see
:mod:`netcoreset.verification.experiments.provenance`) and is rewritten atomically. When the
command fails, nothing is added and its exit status is returned. ``make results`` wraps every
result-producing script this way; ``netcoreset reproduce`` records its provenance itself.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

from netcoreset.verification.experiments.files import write_json
from netcoreset.verification.experiments.provenance import provenance, source_files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="the JSON file COMMAND writes")
    parser.add_argument("--data", type=Path, nargs="*", default=[], help="data files read")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND ...")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given (after --)")
    code = source_files()
    t0 = time.perf_counter()
    status = subprocess.call(command)
    wall = time.perf_counter() - t0
    if status != 0:
        print(f"with_provenance: {command[0]} failed (status {status}); {args.out} unchanged")
        return status
    if not args.out.is_file():
        print(f"with_provenance: {command[0]} succeeded but wrote no {args.out}")
        return 1
    result = json.loads(args.out.read_text(encoding="utf-8"))
    if not isinstance(result, dict):
        print(f"with_provenance: {args.out} is not a JSON object; no provenance added")
        return 1
    result["provenance"] = provenance(
        shlex.join(command), data_files=args.data, wall_seconds=wall, files=code
    )
    write_json(args.out, result)
    digest = result["provenance"]["source_sha256"][:12]
    print(f"with_provenance: {args.out}: {wall:.0f} s, source {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
