"""Every number that differs between the committed result files and a rerun.

``python tools/diff_results.py [--base REV] [PATH ...]`` compares each JSON result file (by
default every tracked ``*.json`` under ``docs/results`` and ``benchmarks/results``) in the
working tree with the same file at git revision ``REV`` (default ``HEAD``) and prints, per
file, each leaf that changed: ``path: old -> new``. Timings are not results: the provenance
block, wall times, the keys named like a duration (``wall_*``, ``*_seconds``, ``*_s``, ``s``,
``elapsed*``, ``time*``), the machine's load and environment at the time, whether a model came
from the cache (``from_cache``) and the record of which source a run was on (``source_sha256``,
``*commit``: a reproduction on a later source restates them) are compared apart and only
counted. ``--timings`` lists them too.
Exit status 0 (a report, not a check).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("docs/results", "benchmarks/results")
TIMING = re.compile(
    r"^(provenance|environment|date|load(_.*)?|wall.*|.*_seconds|s|.*_s|elapsed.*|time.*|seconds|.*_ms"
    r"|from_cache|source_sha256|.*commit)$"
)


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, leaf value) of a JSON value, lists indexed by position."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves(v, f"{path}.{i}" if path else str(i))
    else:
        yield path, value


def is_timing(path: str) -> bool:
    """Whether a leaf is a timing (or provenance) rather than a result."""
    return any(TIMING.match(part) for part in path.split("."))


def compare(old: Any, new: Any) -> tuple[list[tuple[str, Any, Any]], list[tuple[str, Any, Any]]]:
    """(changed results, changed timings): each ``(path, old, new)``; a leaf present on one
    side only shows the other as ``<absent>``."""
    a, b = dict(leaves(old)), dict(leaves(new))
    results, timings = [], []
    for path in sorted(a.keys() | b.keys()):
        va, vb = a.get(path, "<absent>"), b.get(path, "<absent>")
        both_nan = isinstance(va, float) and isinstance(vb, float) and va != va and vb != vb
        if va != vb and not both_nan:
            (timings if is_timing(path) else results).append((path, va, vb))
    return results, timings


def committed(rev: str, relative: str) -> Any | None:
    """The file as committed at ``rev``, or None when it was not there."""
    got = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{relative}"],
                         capture_output=True, text=True)  # fmt: skip
    return json.loads(got.stdout) if got.returncode == 0 else None


def tracked() -> list[str]:
    """The tracked JSON result files."""
    out = subprocess.run(["git", "-C", str(ROOT), "ls-files", *FOLDERS], capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    return [p for p in out.split() if p.endswith(".json")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="result files (default: every tracked one)")
    parser.add_argument("--base", default="HEAD", help="the git revision to compare with")
    parser.add_argument("--timings", action="store_true", help="list changed timings too")
    args = parser.parse_args(argv)
    total = 0
    for relative in args.paths or tracked():
        old = committed(args.base, relative)
        new_path = ROOT / relative
        if old is None or not new_path.exists():
            print(f"{relative}: {'new' if old is None else 'removed'}")
            continue
        results, timings = compare(old, json.loads(new_path.read_text()))
        total += len(results)
        head = f"{relative}: {len(results)} result(s) changed, {len(timings)} timing(s)"
        print(head if results or timings else f"{relative}: unchanged")
        for path, a, b in results + (timings if args.timings else []):
            print(f"    {path}: {a!r} -> {b!r}")
    print(f"{total} result value(s) changed in all", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
