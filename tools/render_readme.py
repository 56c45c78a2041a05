"""Render the result blocks of README.md from the committed result files.

A block sits between ``<!-- results:NAME -->`` and ``<!-- /results:NAME -->``; everything
between the two markers is replaced by what :data:`BLOCKS` renders from ``docs/results/``:

* ``claims``: the verdict of each of the paper's claims per data set, with the measured
  numbers, from ``claims-*.json``;
* ``generalization``: the best certificate per data set and setting, with the network, the
  method and the setting, from ``generalization_*.json``.

``python tools/render_readme.py`` rewrites README.md (atomically); ``--check`` exits with
status 1 and names the blocks that differ from what the JSON gives (tests/test_readme.py runs
the same check). No number in these blocks is typed by hand.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results"
README = ROOT / "README.md"

#: Claims result files in column order, with the names the README gives them.
CLAIM_RUNS = {
    "mnist": "MNIST",
    "fashion-mnist": "Fashion-MNIST",
    "mnist5k": "MNIST, 5k subset",
    "digits": "digits (8×8)",
}
#: Generalisation result files, with the names the README gives them.
CERT_RUNS = {"fashion": "Fashion-MNIST", "mnist5k": "MNIST, 5k subset"}
SETTINGS = {
    "paper": "compress and quantise, no retraining (the paper's setting)",
    "retrained": "mask fixed, then quantisation-aware retraining",
    "subspace": "trained in a random subspace, then quantised",
}
_VERDICT = {None: "not tested", True: "reproduced", False: "**not reproduced**"}


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / name
    return json.loads(path.read_text()) if path.is_file() else None


def _source(results: dict[str, Any]) -> str:
    record = results.get("provenance")
    if not record:
        return "provenance not recorded"
    commit = (record.get("commit") or "unknown")[:7]
    if record.get("backfilled"):  # reconstructed from git: the commit, not the working tree
        return f"commit {commit} (provenance backfilled from git)"
    return f"commit {commit}" + (" with uncommitted changes" if record.get("dirty") else "")


def render_claims(runs: dict[str, dict[str, Any] | None]) -> str:
    """The claims block from the ``claims-*.json`` dictionaries keyed as :data:`CLAIM_RUNS`."""
    have = {k: v for k, v in runs.items() if v is not None}
    names = list(dict.fromkeys(c["name"] for r in have.values() for c in r["claims"]))
    head = ["claim", *(CLAIM_RUNS[k] for k in have), "CIFAR-10"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    claims = {k: {c["name"]: c for c in r["claims"]} for k, r in have.items()}
    for n in names:
        cells = []
        for k in have:
            c = claims[k].get(n)
            cells.append("—" if c is None else _VERDICT[c["reproduced"] if c["tested"] else None])
        lines.append(f"| `{n}` | " + " | ".join(cells) + " | not tested here: no offline copy |")
    lines.append("")
    for n in names:
        first = next(claims[k][n] for k in have if n in claims[k])
        lines.append(f"- `{n}`: {first['statement']}")
        for k in have:
            if n in claims[k]:
                lines.append(f"  - {CLAIM_RUNS[k]}: {claims[k][n]['summary']}")
    lines.append("")
    lines.append("Networks and sources:")
    lines.append("")
    for k, r in have.items():
        arch = "-".join(str(w) for w in r["architecture"])
        lines.append(
            f"- {CLAIM_RUNS[k]}: {arch}, test accuracy {100 * r['reference_accuracy']:.2f}% "
            f"before compression, {r['plan']['seeds']} compressions per cell; {_source(r)}."
        )
    return "\n".join(lines)


def _network(arch: str, spec: dict[str, Any], classes: int = 10) -> str:
    pool = int(spec.get("pool", 1))
    inputs = 784 // (pool * pool)
    widths = "-".join(str(w) for w in (inputs, *spec["hidden"], classes))
    return widths + (f" ({pool}×{pool}-pooled inputs)" if pool > 1 else "")


def _row(name: str, setting: str, best: dict[str, Any], archs: dict[str, Any]) -> str:
    cfg = best["configuration"]
    method = cfg.get("method", "— (subspace of dimension " + str(cfg.get("dim")) + ")")
    kept = best.get("kept_fraction")
    kept_text = f"{100 * kept:.1f}%" if kept is not None else f"{100 * cfg.get('keep', 0):.0f}%"
    return (
        f"| {name} | {setting} | {_network(cfg['architecture'], archs[cfg['architecture']])} "
        f"| {method} | {kept_text} | {cfg.get('levels')} | **{best['bound']:.3f}** "
        f"| {best['train_error']:.3f} | {best['test_error']:.3f} "
        f"| {best['description_bits']:,.0f} |"
    )


def render_generalization(runs: dict[str, dict[str, Any] | None]) -> str:
    """The generalisation block from the ``generalization_*.json`` dictionaries keyed as
    :data:`CERT_RUNS`."""
    head = "| data (n) | setting | network | method | kept | levels | bound | train | test | bits |"
    lines = [head, "|" + "---|" * 10]
    for key, r in runs.items():
        if r is None:
            continue
        name = f"{CERT_RUNS[key]} ({r['n']:,})"
        for setting in SETTINGS:
            best = r["best_per_setting"].get(setting)
            if best is not None:
                lines.append(_row(name, setting, best, r["architectures"]))
        big = r["best_per_architecture"].get("paper/d784-300-100")
        if big is not None:
            lines.append(_row(name, "paper", big, r["architectures"]))
    lines.append("")
    for setting, text in SETTINGS.items():
        lines.append(f"- *{setting}*: {text};")
    deltas = sorted({r["delta"] for r in runs.values() if r is not None})
    lines.append(
        f"- bound: the Occam bound with the exact binomial tail at δ = "
        f"{', '.join(map(str, deltas))}, on the true error of the deterministic quantised "
        "network, every choice of the declared grid paid for in the prior."
    )
    lines.append("")
    sources = ", ".join(f"{CERT_RUNS[k]} {_source(r)}" for k, r in runs.items() if r)
    lines.append(f"Produced by: {sources}.")
    return "\n".join(lines)


def _claim_runs() -> dict[str, dict[str, Any] | None]:
    return {k: _load(f"claims-{k}.json") for k in CLAIM_RUNS}


def _cert_runs() -> dict[str, dict[str, Any] | None]:
    return {k: _load(f"generalization_{k}.json") for k in CERT_RUNS}


BLOCKS: dict[str, Callable[[], str]] = {
    "claims": lambda: render_claims(_claim_runs()),
    "generalization": lambda: render_generalization(_cert_runs()),
}


def _replaced(match: re.Match[str], body: str) -> str:
    return match.group(1) + body + "\n" + match.group(3)


def render(text: str, blocks: dict[str, Callable[[], str]] = BLOCKS) -> str:
    """``text`` with each marked block replaced by its rendering; ``ValueError`` when a
    block's markers are missing."""
    for name, make in blocks.items():
        pattern = re.compile(
            rf"(<!-- results:{name} -->\n)(.*?)(<!-- /results:{name} -->)", flags=re.DOTALL
        )
        if not pattern.search(text):
            raise ValueError(f"README has no block <!-- results:{name} --> ... <!-- /results:/ -->")
        body = make()
        text = pattern.sub(functools.partial(_replaced, body=body), text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when README.md differs")
    args = parser.parse_args(argv)
    text = README.read_text(encoding="utf-8")
    new = render(text)
    if args.check:
        if new != text:
            print("README.md: result blocks differ from docs/results; run tools/render_readme.py")
            return 1
        return 0
    if new != text:
        tmp = README.with_name(".README.md.tmp")
        tmp.write_text(new, encoding="utf-8")
        tmp.replace(README)
        print("README.md: result blocks rendered")
    return 0


if __name__ == "__main__":
    sys.exit(main())
