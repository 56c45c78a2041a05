"""Sphinx directive: the pre-registered CoreNet codes against the same network unpruned.

``.. generalization-corenet-codes:: FILE [FILE ...]``
    One table per ``generalization_prereg_corenet_*.json``: for every code of the registered
    grid (method, keep fraction, offsets), the kept fraction, the bits paid, the
    certification and test errors, the bound, delta, n and the registration's SHA-256; then
    the line "CoreNet code beats the unpruned code: yes/no", computed from the rows (the
    smallest bound of a CoreNet code against the smallest bound of an unpruned code), and the
    file's provenance. A development run (no registration) is refused: it is not a
    certificate.

Paths are relative to the documentation source folder; each file is a build dependency.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from netcoreset_claims import _list_table, _provenance_lines, _ResultsDirective
from sphinx.application import Sphinx

_NAMES = {"unpruned": "unpruned", "corenet": "CoreNet", "corenet+": "CoreNet+",
          "corenet++": "CoreNet++"}  # fmt: skip


def _row(row: dict[str, Any], reg: dict[str, Any]) -> list[str]:
    offsets = row["configuration"]["offsets"]
    what = "none (0 bits)" if offsets == "none" else (
        f"subspace d = {row['configuration']['dim']}, {row['configuration']['levels']} levels, "
        f"{row['configuration']['value_coding']}")  # fmt: skip
    keep = "1 (all)" if row["method"] == "unpruned" else f"{row['keep']:g}"
    return [_NAMES[row["method"]], f"{keep} ({row['kept_fraction']:.3f})", what,
            f"{row['description_bits']:.1f}", f"{row['train_error']:.4f}",
            f"{row['test_error']:.4f}", f"**{row['bound']:.4f}**", f"{row['delta']:.4g}",
            f"{row['n']:,}", f"``{reg['sha256'][:16]}…``"]  # fmt: skip


def corenet_lines(r: dict[str, Any], where: str) -> list[str]:
    """The table, the verdict and the provenance of one result file."""
    reg = r.get("registration")
    if not reg:
        raise ValueError(f"{where} is a development run (no registration), not a certificate")
    rows = r["rows"]
    best = {w: min((x for x in rows if (x["method"] == "unpruned") == w), key=lambda x: x["bound"])
            for w in (True, False)}  # fmt: skip
    beats = best[False]["bound"] < best[True]["bound"]
    head = ["method", "keep (kept fraction)", "offsets", "bits", "certification error",
            "test error", "bound", "delta", "n", "registration"]  # fmt: skip
    verdict = (
        f"**CoreNet code beats the unpruned code: {'yes' if beats else 'no'}** "
        f"({r['dataset']}: best CoreNet code {best[False]['bound']:.4f}, "
        f"{_NAMES[best[False]['method']]} at keep {best[False]['keep']:g}; best unpruned code "
        f"{best[True]['bound']:.4f}; registration ``{reg['sha256'][:16]}…``, "
        f"{reg['index_on_sample']} on its certification sample, "
        f":math:`\\delta = {rows[0]['delta']:.4g}`, :math:`n = {str(rows[0]['n'])}`)."
    )
    return [f"**{r['dataset']}**", "",
            *_list_table(head, [_row(x, reg) for x in rows], [10, 10, 18, 6, 9, 8, 8, 7, 7, 17]),
            verdict, "", *_provenance_lines(r.get("provenance"), where)]  # fmt: skip


class GeneralizationCorenetCodes(_ResultsDirective):
    def run(self) -> list[nodes.Node]:
        lines: list[str] = []
        for arg, r in zip(self.arguments, self.load(), strict=True):
            lines += corenet_lines(r, arg)
        return self.render(lines)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("generalization-corenet-codes", GeneralizationCorenetCodes)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
