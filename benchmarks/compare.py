"""Before/after table of two benchmark JSON files (``python benchmarks/compare.py A B``).

Prints one row per figure of sections (a)-(e) with both values and the speed-up (before
divided by after; for memory, the reduction), in reStructuredText ``list-table`` form (``--rst``)
or plain Markdown.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def _certificate(case: dict[str, Any]) -> str:
    """``", certificate='paper'"`` for a case that asked for one, else ``""``."""
    cert = case.get("certificate")
    return "" if cert in (None, "none") else f", certificate={cert!r}"


def _rows(res: dict[str, Any]) -> dict[str, tuple[float, str]]:
    out: dict[str, tuple[float, str]] = {}
    for r in res.get("layer", []):
        key = f"(a) sensitivities {r['width']}x{r['width']}, |S|={r['points']}"
        out[key] = (r["sensitivity_over_gemm"], "x GEMM")
    comp = res.get("compress", {})
    if "certificate_arithmetic" in comp:
        floor = comp["certificate_arithmetic"]["over_forward"]
        out["(b) certificate arithmetic (the CoreNet methods' floor)"] = (floor, "x forward")
    for c in comp.get("cases", []):
        name = f"(b) {c['method']} {c['mode']}{_certificate(c)}"
        out[name] = (c["over_forward"], "x forward")
        if c.get("over_floor") is not None:
            out[f"{name} against the floor"] = (c["over_floor"], "x floor")
    checks = res.get("checker", [])
    for c in [checks] if isinstance(checks, dict) else checks:
        out[f"(c) checker {c['compressor']}"] = (c["trials_per_s"], "trials/s")
    for c in res.get("memory", {}).get("cases", []):
        if "error" not in c:
            net = "-".join(map(str, c["widths"])) + _certificate(c)
            out[f"(d) peak extra memory {net}"] = (c["peak_extra_over_weights"], "x weights")
            out[f"(d) wall time {net} keep 0.1"] = (c["wall_s"], "s")
    sc = res.get("scaling", {})
    for key in ("weights", "points"):
        if key in sc:
            out[f"(e) log-log slope of time vs {key}"] = (sc[key]["slope"], "")
            for p in sc[key]["points"]:
                out[f"(e) time at {key} = {p[key]}"] = (p["wall_s"], "s")
    return out


def table(before: dict[str, Any], after: dict[str, Any], rst: bool) -> str:
    """The rows present in both files, with before/after (a factor > 1 is an improvement,
    except for slopes and trials/s, where after/before is shown)."""
    a, b = _rows(before), _rows(after)
    lines = []
    if rst:
        lines += [".. list-table::", "   :header-rows: 1", ""]
        lines += ["   * - figure", "     - before", "     - after", "     - factor"]
    else:
        lines += ["| figure | before | after | factor |", "|---|---|---|---|"]
    for key, (va, unit) in a.items():
        if key not in b:
            continue
        vb = b[key][0]
        if unit == "":
            factor = "-"
        elif unit == "trials/s":
            factor = f"{vb / va:.1f}x" if va else "-"
        else:
            factor = f"{va / vb:.1f}x" if vb else "-"
        cells = [key, f"{va:.3g} {unit}".strip(), f"{vb:.3g} {unit}".strip(), factor]
        if rst:
            cells = [c.replace("|", "\\|") for c in cells]
            lines.append(f"   * - {cells[0]}")
            lines += [f"     - {c}" for c in cells[1:]]
        else:
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets_table(res: dict[str, Any]) -> str:
    """The ``targets`` section of one run as a reStructuredText list-table."""
    lines = [".. list-table::", "   :header-rows: 1", ""]
    lines += ["   * - target", "     - value", "     - limit", "     - verdict"]
    for row in res.get("targets", []):
        value = "not measured" if row["value"] is None else f"{row['value']:.3g} {row['unit']}"
        verdict = {True: "pass", False: "FAIL", None: "n/a"}[row["pass"]]
        target = row["target"].replace("|", "\\|")
        lines += [f"   * - {target}", f"     - {value}"]
        lines += [f"     - {row['limit']} {row['unit']}", f"     - {verdict}"]
    return "\n".join(lines)


def floor_table(res: dict[str, Any]) -> str:
    """(b)'s certificate arithmetic of one run (``bench_floor.py``) as a reStructuredText
    list-table: each operation against one forward pass of S, their sum, and every CoreNet
    case against the sum."""
    comp = res.get("compress", {})
    floor = comp.get("certificate_arithmetic")
    if not floor:
        return ""
    forward = comp["forward_s"]
    lines = [".. list-table::", "   :header-rows: 1", ""]
    lines += ["   * - operation (float64 unless marked)", "     - x forward of S"]
    rows = [(name, s / forward) for name, s in floor["operations"].items()]
    rows.append(("**sum: the floor**", floor["s"] / forward))
    for c in comp.get("cases", []):
        if c.get("over_floor") is not None:
            rows.append((f"{c['method']} {c['mode']}{_certificate(c)}: x floor", c["over_floor"]))
    for name, value in rows:
        lines += [f"   * - {name.replace('|', chr(92) + '|')}", f"     - {value:.3g}"]
    return "\n".join(lines)


def describe(res: dict[str, Any]) -> str:
    """One line on where and when a run was made."""
    env = res.get("environment", {})
    return (
        f"{res.get('label', '')}: {env.get('cpu', '?')}, {env.get('cpus', '?')} CPUs, torch "
        f"{env.get('torch', '?')}, {env.get('torch_threads', '?')} thread, load average "
        f"{res.get('load_before')} before and {res.get('load_after')} after, {env.get('date')}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--rst", action="store_true")
    parser.add_argument("--targets", action="store_true", help="also the after run's targets")
    args = parser.parse_args()
    load = [json.loads(Path(p).read_text()) for p in (args.before, args.after)]
    print(table(load[0], load[1], args.rst))
    if args.targets:
        print("\n" + targets_table(load[1]))


if __name__ == "__main__":
    main()
