"""Print the reStructuredText tables of docs/guide/generalization.rst from the result JSON.

Usage::

    python benchmarks/generalization/tables.py docs/results/generalization_fashion.json \
        docs/results/generalization_mnist5k.json docs/results/generalization_digits.json

(the search results; the other generalization_*.json files hold other experiments).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

_TERMS = ("architecture", "counts", "positions", "values", "count_tables", "coding_overhead",
          "codebooks", "choices")  # fmt: skip


def _cfg(c: dict) -> str:
    keys = ("architecture", "method", "keep", "dim", "levels", "value_coding", "shape_code")
    return ", ".join(f"{k} {c[k]}" for k in keys if k in c)


def best_table(results: list[dict]) -> str:
    rows = ["   * - data (n)", "     - setting", "     - bound (kl)", "     - train / test",
            "     - bits", "     - configuration"]  # fmt: skip
    for r in results:
        for setting, b in r["best_per_setting"].items():
            terms = b["terms_bits"]
            parts = ", ".join(f"{k} {terms[k]:.0f}" for k in _TERMS if terms.get(k))
            rows += [
                f"   * - {r['dataset']} ({r['n']})",
                f"     - {setting}",
                f"     - **{b['bound']:.3f}** ({b['bound_kl']:.3f})",
                f"     - {b['train_error']:.3f} / {b['test_error']:.3f}",
                f"     - {b['description_bits']:.0f} ({parts})",
                f"     - {_cfg(b['configuration'])}",
            ]
    return ".. list-table::\n   :header-rows: 1\n\n" + "\n".join(rows)


def curve_table(result: dict) -> str:
    rows = ["   * - setting", "     - budget", "     - kept", "     - bound", "     - train",
            "     - test", "     - bits", "     - architecture, method, levels"]  # fmt: skip
    for c in result["curve"]:
        cfg = c["configuration"]
        kept = "" if c["kept_fraction"] is None else f"{100 * c['kept_fraction']:.2f}%"
        what = f"{cfg['architecture']}, {cfg.get('method', '-')}, {cfg['levels']}"
        rows += [f"   * - {c['setting']}", f"     - {c['budget']}", f"     - {kept}",
                 f"     - {c['bound']:.3f}", f"     - {c['train_error']:.3f}",
                 f"     - {c['test_error']:.3f}", f"     - {c['description_bits']:.0f}",
                 f"     - {what}"]  # fmt: skip
    return ".. list-table::\n   :header-rows: 1\n\n" + "\n".join(rows)


def main() -> int:
    results = [json.loads(Path(p).read_text()) for p in sys.argv[1:]]
    print(best_table(results))
    for r in results:
        print(f"\n{r['dataset']}: {r['total_seconds']:.0f} s; " + "; ".join(
            f"{w['setting']} {w['seconds']:.0f} s" for w in r["wall_times"]))  # fmt: skip
        print(curve_table(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
