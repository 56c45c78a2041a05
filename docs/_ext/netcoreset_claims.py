"""Sphinx directives that render committed ``netcoreset reproduce`` results (JSON) at build
time, so that the claims page cannot drift from the numbers it reports.

``.. reproduced-claims:: FILE [FILE ...]``
    The verdicts: one short row per claim with a column per results file (and, with the
    ``:untested:`` option ``NAME: REASON[; NAME: REASON ...]``, a column for each data set
    not run), then one row
    per claim and data set with the measured numbers, then each claim's statement, the
    paper's wording (as recalled) and its rule.
``.. generalization-best:: FILE [FILE ...]``
    The best certificate per setting of each ``generalization_*.json`` (and the paper's
    784-300-100-10 network in the paper's setting): bound, training and test error, bits with
    their terms, network, method and levels; each file's provenance below the table.
``.. generalization-preregistered:: FILE [FILE ...]``
    The pre-registered certificates of ``generalization_prereg_*.json``: a table of the
    deterministic ones and a separate table of the stochastic (PAC-Bayes) ones, each row with
    the registration's SHA-256, :math:`n` and delta; each file's provenance below.
``.. generalization-corollary:: FILE``
    The paper's generalisation corollary on trained networks (``corollary.json``): one column
    per network, one row per term (the logits' largest norm, the sensitivities and
    Delta-hat products, the chosen margin and its loss, the size bound against the
    weight count, the description length, the union bound over the margins, the bound);
    the file's provenance below the table.
``.. generalization-curve:: FILE``
    The best certificate per setting and keep ratio (subspace: dimension) of a
    ``generalization_*.json``: kept fraction, bound, training and test error, bits,
    architecture, method and levels.
``.. generalization-encoding:: FILE``
    What each encoding idea saves (``generalization_encoding_*.json``): the retrained network
    of the ``:method:`` option (default ``corenet+``) under each code, one idea added per row,
    then the shared codebook of the paper's setting.
``.. result-provenance:: FILE [FILE ...]``
    Whether a committed result (any JSON file with a ``"provenance"`` object, see
    :mod:`netcoreset.verification.experiments.provenance`) was produced by the source being
    documented: *current*, *stale* (naming the modules changed since) or *provenance not
    recorded*; with the commit, command, data hashes and wall time (several files: one line
    each).
``.. reproduced-run:: FILE``
    How the run was made (data set, network, plan, versions, wall times).
``.. reproduced-drops:: FILE``
    Accuracy drop (percentage points) and relative output error, mean ± standard deviation,
    per method at 5, 10, 15, 25 and 50% kept.
``.. reproduced-depth:: FILE``
    The depth experiment: reference accuracy and the gap to the best baseline per depth.

``:result:`FILE#KEY.PATH|FORMAT```
    One value of a committed result, inline: the dotted ``KEY.PATH`` (list indices as
    numbers) into ``FILE``, formatted with the Python format spec ``FORMAT`` (``.3f``,
    ``.1%``, ``,``; none: ``str``); ``null`` prints as "none". On a list of objects, a step
    ``name^=prefix`` keeps the items whose ``name`` starts with ``prefix`` and a plain key
    takes it from every item; a list of numbers prints as its range, ``lo–hi``. A missing file
    or key (or no item kept) is a build error, so the text cannot name a number the file does
    not hold. Without ``FILE`` (the
    role's text starts with ``#``) the file is the one the last ``.. result-file:: FILE`` of the
    page named.

Paths are relative to the documentation source folder; each file is a build dependency.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from netcoreset.verification.experiments.claims import CLAIM_KEEPS
from netcoreset.verification.experiments.provenance import compare
from netcoreset.verification.experiments.sweep import COREMETHODS, PAPER_METHODS, drop_text

_VERDICT = {True: "**reproduced**", False: "**not reproduced**"}


def _cell_text(text: str) -> list[str]:
    return [line if line else "" for line in str(text).splitlines()] or [""]


def _list_table(header: list[str], rows: list[list[str]], widths: list[int] | None) -> list[str]:
    out = [".. list-table::", "   :header-rows: 1"]
    if widths:
        out.append(f"   :widths: {' '.join(map(str, widths))}")
    out.append("")
    for row in [header, *rows]:
        for i, cell in enumerate(row):
            lines = _cell_text(cell)
            out.append(f"   {'* -' if i == 0 else '  -'} {lines[0]}")
            out += [f"       {line}" for line in lines[1:]]
    return [*out, ""]


class _ResultsDirective(SphinxDirective):
    required_arguments = 1
    optional_arguments = 10
    has_content = False

    def load(self) -> list[dict[str, Any]]:
        out = []
        for arg in self.arguments:
            path = Path(self.env.srcdir) / arg
            self.env.note_dependency(str(path))
            out.append(json.loads(path.read_text()))
        return out

    def render(self, lines: list[str]) -> list[nodes.Node]:
        node = nodes.container()
        self.state.nested_parse(StringList(lines, source=self.get_source_info()[0]), 0, node)
        return node.children


_SHORT = {True: "reproduced", False: "**not reproduced**"}
_MAX_MODULES = 15


def _verdict(claim: dict[str, Any]) -> str:
    if not claim["tested"]:
        return f"not tested: {claim['summary']}"
    return f"{_VERDICT[claim['reproduced']]}: {claim['summary']}"


def _short(claim: dict[str, Any] | None) -> str:
    if claim is None:
        return "does not apply"
    return "not tested" if not claim["tested"] else _SHORT[claim["reproduced"]]


class ReproducedClaims(_ResultsDirective):
    option_spec = {"untested": lambda text: text}

    def run(self) -> list[nodes.Node]:
        runs = self.load()
        names = list(dict.fromkeys(c["name"] for r in runs for c in r["claims"]))
        find = [{c["name"]: c for c in r["claims"]} for r in runs]
        untested = self.options.get("untested") or ""
        extra = [[t.strip() for t in u.split(":", 1)] for u in untested.split(";") if u.strip()]
        header = ["claim", *(r["dataset"]["name"] for r in runs)]
        rows = [[f"**{n}**", *(_short(f.get(n)) for f in find)] for n in names]
        prov = ["*source*", *(compare(r.get("provenance"))["status"] for r in runs)]
        for name, reason in extra:
            header.append(name)
            rows = [[*row, reason] for row in rows]
            prov.append("")
        lines = _list_table(header, [*rows, prov], None)
        detail = []
        for n in names:
            for r, f in zip(runs, find, strict=True):
                if n in f:
                    verdict = _short(f[n]).replace("*", "")
                    detail.append([n, r["dataset"]["name"], verdict, f[n]["summary"]])
        lines += ["Measured numbers:", ""]
        lines += _list_table(["claim", "data", "verdict", "measured"], detail, [16, 12, 12, 60])
        lines += ["The claims and their rules:", ""]
        for n in names:
            first = next(f[n] for f in find if n in f)
            lines += [
                f"**{n}**",
                f"   {first['statement']}",
                "",
                f'   *Paper (recalled, unverified):* "{first["paper_wording"]}"',
                "",
                f"   *Rule:* {first['rule']}",
                "",
            ]
        return self.render(lines)


def _provenance_lines(record: dict[str, Any] | None, where: str) -> list[str]:
    got = compare(record)
    if got["status"] == "not recorded":
        return [
            ".. note::",
            "",
            f"   **Provenance not recorded.** ``{where}`` predates the project's provenance "
            "records: which source produced it is not known, so its numbers may not be what "
            "the current code computes. ``make results`` regenerates it with a record.",
            "",
        ]
    assert record is not None
    commit = (record.get("commit") or "unknown")[:10]
    if record.get("dirty"):
        commit += " with uncommitted changes"
    wall = record.get("wall_seconds")
    facts = (
        f"commit {commit}, source SHA-256 ``{record['source_sha256'][:12]}…``, started "
        f"{record.get('started') or 'not recorded'}"
        + (f", wall time {wall / 60:.1f} min" if wall is not None else "")
        + f"; command ``{record.get('command', '?')}``"
    )
    if record.get("backfilled"):
        facts += f"; provenance backfilled from git ({record.get('derivation', '?')})"
    if record.get("historical"):
        facts += f"; {record['historical']}"
    data = record.get("data_files") or {}
    if data:
        facts += "; data " + ", ".join(
            f"{k} ``{(v.get('sha256') or v.get('arrays_sha256', ''))[:12]}…``"
            for k, v in data.items()
        )
    if got["status"] == "current":
        return [f"*Produced by the current source* ({facts}).", ""]
    changed = got["changed"]
    named = ", ".join(f"``{m}``" for m in changed[:_MAX_MODULES])
    if len(changed) > _MAX_MODULES:
        named += f" and {len(changed) - _MAX_MODULES} more"
    return [
        ".. warning::",
        "",
        f"   **Stale.** ``{where}`` was produced by an earlier source ({facts}). Since then "
        f"{len(changed)} module(s) changed: {named}. The numbers are those of that source, "
        "not necessarily what the current code computes; ``make results`` regenerates them.",
        "",
    ]


def _provenance_item(record: dict[str, Any] | None, where: str) -> str:
    got = compare(record)
    if got["status"] == "not recorded":
        return f"``{where}``: provenance not recorded"
    commit = (got["commit"] or "unknown")[:10]
    if got["status"] == "current":
        return f"``{where}``: produced by the current source (commit {commit})"
    named = ", ".join(f"``{m}``" for m in got["changed"][:_MAX_MODULES])
    more = len(got["changed"]) - _MAX_MODULES
    return f"``{where}``: **stale** (commit {commit}; changed since: {named}" + (
        f" and {more} more)" if more > 0 else ")"
    )


class ResultProvenance(_ResultsDirective):
    def run(self) -> list[nodes.Node]:
        results = self.load()
        if len(results) == 1:
            return self.render(_provenance_lines(results[0].get("provenance"), self.arguments[0]))
        items = [
            _provenance_item(r.get("provenance"), a)
            for a, r in zip(self.arguments, results, strict=True)
        ]
        return self.render([f"* {item}" for item in items] + [""])


def _arch(r: dict[str, Any]) -> str:
    return "-".join(str(w) for w in r["architecture"])


class ReproducedRun(_ResultsDirective):
    def run(self) -> list[nodes.Node]:
        r = self.load()[0]
        head = _provenance_lines(r.get("provenance"), self.arguments[0])
        d, plan, wall = r["dataset"], r["plan"], r["wall_seconds"]
        depth = r.get("depth") or {}
        items = [
            f"data: {d['name']} ({d['source']}): {d['train']:,} train, {d['validation']:,} "
            f"validation (the pool of S and T), {d['test']:,} test; fingerprint "
            f"``{d['fingerprint'][:16]}…``",
            f"network: {_arch(r)}, trained {plan['train']['epochs']} epochs with "
            f"{plan['train']['optimizer']} (lr {plan['train']['lr']}, batch "
            f"{plan['train']['batch_size']}, seed {plan['train']['seed']}); test accuracy "
            f"{100 * r['reference_accuracy']:.2f}%",
            f"sweep: {len(plan['keeps'])} kept fractions from {100 * min(plan['keeps']):.0f}% "
            f"to {100 * max(plan['keeps']):.0f}%, {len(plan['methods'])} methods, "
            f"{plan['seeds']} independent compressions each, delta = {plan['delta']}",
        ]
        refused = [*r["sweep"].get("refused", [])]
        for d_run in depth.get("results", []):
            refused += [{**c, "method": f"{c['method']} (L={d_run['hidden_layers']})"}
                        for c in d_run.get("refused", [])]  # fmt: skip
        if refused:
            items.append(
                "cells the sampler refused (budget below the smallest it can meet): "
                + ", ".join(f"{c['method']} at {100 * c['keep']:.0f}%" for c in refused)
            )
        if depth:
            items.append(
                f"depth: width {depth['width']}, {len(depth['results'])} depths "
                f"({', '.join(str(x['hidden_layers']) for x in depth['results'])} hidden "
                f"layers), kept {', '.join(f'{100 * k:.0f}%' for k in depth['keeps'])}"
            )
        items.append(
            f"command: ``{r.get('command', 'netcoreset reproduce')}``; wall time "
            f"{wall['total'] / 60:.1f} min (training {wall['train'] / 60:.1f}, sweep "
            f"{wall['sweep'] / 60:.1f}, depth {wall['depth'] / 60:.1f})"
        )
        v = r["versions"]
        items.append(
            f"versions: netcoreset {v['netcoreset']}, torch {v['torch']}, numpy {v['numpy']}, "
            f"Python {v['python']}"
        )
        return self.render([*head, *(f"* {item}" for item in items), ""])


def _find(rows: list[dict[str, Any]], method: str, keep: float) -> dict[str, Any] | None:
    return next((x for x in rows if x["method"] == method and abs(x["keep"] - keep) < 1e-9), None)


class ReproducedDrops(_ResultsDirective):
    def run(self) -> list[nodes.Node]:
        r = self.load()[0]
        rows = r["sweep"]["rows"]
        keeps = [k for k in CLAIM_KEEPS if _find(rows, "corenet", k)]
        header = ["method", *(f"{100 * k:.0f}% kept" for k in keeps)]
        body = []
        for m in PAPER_METHODS:
            found = [_find(rows, m, k) for k in keeps]
            cells = [
                "–"
                if c is None
                else f"{drop_text(c)} pp\n\nerror {c['error_mean']:.3f} ± {c['error_std']:.3f}"
                for c in found
            ]
            body.append([m, *cells])
        return self.render(_list_table(header, body, None))


class ReproducedDepth(_ResultsDirective):
    def run(self) -> list[nodes.Node]:
        r = self.load()[0]
        depth = r.get("depth") or {}
        if not depth:
            return self.render(["The run has no depth experiment.", ""])
        methods = [m for m in COREMETHODS if m in depth["gaps"]]
        header = ["hidden layers", "network", "test accuracy", *methods]
        body = []
        for i, d in enumerate(depth["results"]):
            gaps = [depth["gaps"][m][i] for m in methods]
            body.append(
                [
                    str(d["hidden_layers"]),
                    "-".join(map(str, d["architecture"])),
                    f"{100 * d['reference_accuracy']:.2f}%",
                    *(f"{100 * g['gap_mean']:+.2f} ± {100 * g['gap_std']:.2f} pp" for g in gaps),
                ]
            )
        body.append(["slope", "least squares over all seeds", "", *map(_slope, (
            depth["gaps"][m] for m in methods))])  # fmt: skip
        return self.render(_list_table(header, body, None))


def _slope(gaps: list[dict[str, Any]]) -> str:
    from scipy.stats import linregress

    xs = [g["hidden_layers"] for g in gaps for _ in g["gaps"]]
    ys = [v for g in gaps for v in g["gaps"]]
    if len(gaps) < 3:
        return "–"
    fit = linregress(xs, ys)
    return f"{100 * fit.slope:+.2f} ± {100 * fit.stderr:.2f} pp per layer (p = {fit.pvalue:.2g})"


_SETTINGS = ("subspace", "retrained", "paper")
_DATA = {"fashion": "Fashion-MNIST", "mnist5k": "MNIST subset", "digits": "digits"}


def _network(key: str, archs: dict[str, Any], features: int, classes: int = 10) -> str:
    spec = archs[key]
    pool = int(spec.get("pool", 1))
    side = int(round(features**0.5))
    inputs = (side // pool) ** 2 if pool > 1 else features
    return "-".join(str(w) for w in (inputs, *spec["hidden"], classes))


def _cert_row(name: str, setting: str, best: dict[str, Any], r: dict[str, Any]) -> list[str]:
    cfg = best["configuration"]
    features = 64 if r["dataset"] == "digits" else 784
    net = f"{cfg['architecture']} ({_network(cfg['architecture'], r['architectures'], features)})"
    terms = sorted((best.get("terms_bits") or {}).items(), key=lambda kv: -kv[1])
    bits = f"{best['description_bits']:,.0f}" + (
        ": " + ", ".join(f"{k.replace('_', ' ')} {v:,.0f}" for k, v in terms if v >= 0.5)
        if terms
        else ""
    )
    if "method" in cfg:
        kept = best.get("kept_fraction")
        how = f"{cfg['method']}, keep {100 * cfg['keep']:.0f}%" + (
            f" ({100 * kept:.1f}% of the weights)" if kept is not None else "")  # fmt: skip
    else:
        how = f"subspace :math:`d = {cfg['dim']}`"
    return [
        name,
        setting,
        f"**{best['bound']:.3f}**"
        + (f" ({best['bound_kl']:.3f})" if best.get("bound_kl") is not None else ""),
        f"{best['train_error']:.3f} / {best['test_error']:.3f}",
        bits,
        f"{net}, {how}, {cfg['levels']} levels",
    ]


class GeneralizationBest(_ResultsDirective):
    def run(self) -> list[nodes.Node]:
        rows, notes = [], []
        for arg, r in zip(self.arguments, self.load(), strict=True):
            name = f"{_DATA.get(r['dataset'], r['dataset'])} ({r['n']:,})"
            for setting in _SETTINGS:
                best = r["best_per_setting"].get(setting)
                if best is not None:
                    rows.append(_cert_row(name, setting, best, r))
            big = r["best_per_architecture"].get("paper/d784-300-100")
            if big is not None:
                rows.append(_cert_row(name, "paper", big, r))
            notes += _provenance_lines(r.get("provenance"), arg)
        header = ["data (n)", "setting", "bound (kl)", "train / test", "bits", "configuration"]
        return self.render([*_list_table(header, rows, [14, 10, 12, 12, 28, 24]), *notes])


def _curve_row(c: dict[str, Any]) -> list[str]:
    cfg = c["configuration"]
    return [c["setting"], f"{c['budget']:g}", f"{100 * c['kept_fraction']:.2f}%",
            f"{c['bound']:.3f}", f"{c['train_error']:.3f}", f"{c['test_error']:.3f}",
            f"{c['description_bits']:,.0f}",
            f"{cfg['architecture']}, {cfg.get('method', '–')}, {cfg['levels']}"]  # fmt: skip


class GeneralizationCurve(_ResultsDirective):
    """``.. generalization-curve:: FILE``: the best certificate per setting and keep ratio
    (subspace: dimension) of a search result's ``curve``."""

    def run(self) -> list[nodes.Node]:
        header = ["setting", "budget", "kept", "bound", "train", "test", "bits",
                  "architecture, method, levels"]  # fmt: skip
        return self.render(_list_table(header, [_curve_row(c) for c in self.load()[0]["curve"]],
                                       None))  # fmt: skip


def _ablation_row(rows: list[dict[str, Any]], setting: str, method: str, dtype: str,
                  shared: bool = False) -> dict[str, Any]:  # fmt: skip
    for r in rows:
        cfg = r["configuration"]
        if (r["setting"], cfg["method"], cfg["codebook_dtype"], cfg["shared"]) == (
                setting, method, dtype, shared):  # fmt: skip
            return r
    raise KeyError(f"no {setting} {method} {dtype} row (shared={shared})")


def _bits(r: dict[str, Any], code: str, bound: bool = True) -> str:
    return f"{r['bits'][code]:,.0f}" + (f" ({r['bound'][code]:.3f})" if bound else "")


def _saved(before: float, after: float, pct: bool = False) -> str:
    d = before - after
    text = f"{d:,.0f} bits" if d >= 0 else f"**−{-d:,.0f}** bits (costs more than it saves)"
    return text + (f" ({100 * d / before:.1f}%)" if pct and d >= 0 else "")


def encoding_lines(res: dict[str, Any], method: str) -> list[str]:
    """The reStructuredText of ``.. generalization-encoding::``: the retrained network of
    ``method`` under each code, one idea added per row, then the shared codebook."""
    f32 = _ablation_row(res["rows"], "retrained", method, "float32")
    f16 = _ablation_row(res["rows"], "retrained", method, "float16")
    b32, b16 = f32["bits"], f16["bits"]
    shape = min(("shrunk", "inputs"), key=lambda s: b32[f"fixed/{s}"])
    arith = f"arithmetic/{shape}"
    arch = "-".join(map(str, res["architecture"]))
    head = (
        f"A {arch} network compressed by ``{method}`` to {100 * res['keep']:g}% "
        f"({f32['nnz']:,} non-zeros after removing dead units, "
        f"{f32['hidden_width_after_shrinking']} hidden units and {f32['live_inputs']} input "
        f"pixels left), retrained, {f32['configuration']['levels']} levels "
        f"(training error {f32['train_error']:.3f}):"
    )
    cb32, cb16 = f32["terms_bits_best"]["codebooks"], f16["terms_bits_best"]["codebooks"]
    rows = [
        ["baseline: declared slots, fixed-width values, float32 codebooks",
         _bits(f32, "fixed/declared"), ""],
        ["neuron pruning and dead-unit removal, hidden width coded (``shrunk``)",
         _bits(f32, "fixed/shrunk"), _saved(b32["fixed/declared"], b32["fixed/shrunk"], True)],
        ["\\+ subset of input pixels coded first (``inputs``)", _bits(f32, "fixed/inputs"),
         _saved(b32["fixed/shrunk"], b32["fixed/inputs"])],
        [f"\\+ two-part arithmetic coding of the values (on ``{shape}``)", _bits(f32, arith),
         _saved(b32[f"fixed/{shape}"], b32[arith])],
        ["\\+ float16 codebooks (quantisation-aware training redone with them)",
         _bits(f16, arith), _saved(b32[arith], b16[arith]) + f" (codebooks {cb32:,.0f} → "
         f"{cb16:,.0f})"],
        ["positions in the shortest code of the float16 network",
         f"{f16['terms_bits_best']['positions']:,.0f} of {min(b16.values()):,.0f}",
         f"{100 * f16['terms_bits_best']['positions'] / min(b16.values()):.0f}% of the bits "
         "say which weights survive"],
    ]  # fmt: skip
    per, sh = (_ablation_row(res["rows"], "paper", method, "float32", s) for s in (False, True))
    tail = (
        f"A codebook shared by the layers instead of one per layer (the paper's setting, the "
        f"same mask, float32): codebooks {per['terms_bits_best']['codebooks']:,.0f} → "
        f"{sh['terms_bits_best']['codebooks']:,.0f} bits, shortest code "
        f"{min(per['bits'].values()):,.0f} → {min(sh['bits'].values()):,.0f} bits, training "
        f"error {per['train_error']:.3f} → {sh['train_error']:.3f}."
    )
    return [head, "", *_list_table(["idea", "bits (bound)", "saved"], rows, None), tail, ""]


class GeneralizationEncoding(_ResultsDirective):
    """``.. generalization-encoding:: FILE``, option ``:method:`` (default ``corenet+``)."""

    option_spec = {"method": str}

    def run(self) -> list[nodes.Node]:
        method = self.options.get("method", "corenet+")
        return self.render(encoding_lines(self.load()[0], method))


def _prereg_rows(r: dict[str, Any], kind: str) -> list[list[str]]:
    reg = r["registration"]
    rows = []
    for row in (row for row in r["rows"] if row["kind"] == kind):
        common = [
            r["dataset"],
            f"``{reg['sha256'][:16]}…`` (registration {reg['index_on_sample']} on its "
            f"sample, {reg['bits']:.2f} bits)",
            f"{row['n']:,}",
        ]
        if kind == "deterministic":
            rows.append([*common, f"{row['delta']:.4g}", f"**{row['bound']:.4f}**",
                         f"{row['certification_error']:.4f} / {row['test_error']:.4f}",
                         f"{row['bits']:g} bits", row["what"],
                         f"{row['wall_seconds']:.0f} s"])  # fmt: skip
        else:
            rows.append([*common, f"{row['total_delta']:.4g} (:math:`\\delta + \\delta'`)",
                         f"**{row['bound']:.4f}**",
                         f"{row['mc_error']:.4f} / {row['stochastic_test_error']:.4f} "
                         f"(mean network {row['mean_network_test_error']:.4f})",
                         f"KL {row['kl_nats']:,.1f} nats", row["what"],
                         f"{row['wall_seconds']:.0f} s"])  # fmt: skip
    return rows


class GeneralizationPreregistered(_ResultsDirective):
    def run(self) -> list[nodes.Node]:
        runs = self.load()
        notes: list[str] = []
        for arg, r in zip(self.arguments, runs, strict=True):
            notes += _provenance_lines(r.get("provenance"), arg)
        head = ["data", "registration", "n", "delta", "bound"]
        widths = [10, 22, 8, 10, 9, 16, 10, 15, 6]
        det = [row for r in runs for row in _prereg_rows(r, "deterministic")]
        sto = [row for r in runs for row in _prereg_rows(r, "stochastic")]
        lines = ["**Deterministic** (one fixed network):", ""]
        lines += _list_table([*head, "certification / test error", "code", "network", "wall"],
                             det, widths)  # fmt: skip
        lines += ["**Stochastic** (PAC-Bayes, a distribution over weights):", ""]
        lines += _list_table([*head, "Monte Carlo / test error", "KL", "posterior", "wall"],
                             sto, widths)  # fmt: skip
        return self.render([*lines, *notes])


def _sci(x: float) -> str:
    """``x`` as :math:`a\\times 10^{b}` (three significant digits) when large or small."""
    if x == 0 or 1e-3 <= abs(x) < 1e6:
        return f"{x:,.0f}" if abs(x) >= 1e4 else f"{x:,.4g}"
    mant, exp = f"{x:.2e}".split("e")
    return f":math:`{mant}\\times 10^{{{int(exp)}}}`"


def _layers(values: list[float]) -> str:
    return ", ".join(_sci(v) for v in values)


def _corollary_column(r: dict[str, Any], res: dict[str, Any]) -> list[str]:
    b, t = r["best"], r["best"]["terms"]
    return [
        f"{'-'.join(map(str, r['architecture']))}, {r['n']:,}",
        f"{r['train_error']:.4f} / {r['test_error']:.4f}",
        f"{r['max_output_norm']:.2f}",
        f"{r['weight_layers']}",
        f"{r['sensitivity_set_size']:,}; " + _layers(r["sensitivity_totals"]),
        f"{_sci(r['kappa'])}; " + _layers(r["delta_hats"]),
        _layers(r["delta_hat_products"]),
        _sci(r["weighted_sensitivity"]),
        f"{b['gamma']:g}: {b['margin_error']:.4f}",
        _sci(b["eps"]),
        f"{_sci(b['delta_per_point'])}; {t['log_term']:.2f}",
        f"{_sci(t['nnz_bound_uncapped'])} vs {r['weights']:,}",
        f"{b['description_bits']:,.0f} bits = {b['complexity_nats']:,.0f} nats "
        f"(values {t['value_bits']:,.0f}, positions {t['position_bits']:,.0f})",
        f"{res['grid_nats']:.2f} nats ({res['grid_bits']:.2f} bits)",
        _sci(t["o_tilde_argument"]),
        f"{t['uncapped']:.4g}, so **{b['bound']:.4g}**",
    ]


_COROLLARY_TERMS = [
    "network, :math:`n`",
    "train / test error of :math:`f_\\theta`",
    ":math:`M = \\max_i\\|f_\\theta(x_i)\\|_2`",
    "weight layers :math:`L - 1`",
    ":math:`|S|`; :math:`\\sum_i\\mathcal{S}^\\ell_i` per layer",
    ":math:`\\kappa`; :math:`\\hat\\Delta^\\ell` per layer",
    ":math:`\\hat\\Delta^{\\ell\\rightarrow}` per layer",
    ":math:`\\sum_\\ell(\\hat\\Delta^{\\ell\\rightarrow})^2\\sum_i\\mathcal{S}^\\ell_i`",
    ":math:`\\gamma`: margin loss :math:`\\hat L_\\gamma(f_\\theta)`",
    ":math:`\\varepsilon = \\gamma/(2M)`",
    ":math:`\\delta_x`; :math:`\\ln(8\\eta/\\delta_x)`",
    "size bound :math:`\\sum_\\ell\\bar q_\\ell` (uncapped) vs weights",
    ":math:`\\ln|G|`: description length (sizes capped at the weights)",
    "union bound over the :math:`\\gamma` grid",
    "argument of the paper's :math:`\\tilde O(\\sqrt{\\cdot})`",
    "Hoeffding bound (uncapped), so the bound",
]


_CORO_DATA = {**_DATA, "fashion-mnist": "Fashion-MNIST", "mnist": "MNIST"}


def corollary_lines(res: dict[str, Any], where: str) -> list[str]:
    """The reStructuredText of ``.. generalization-corollary::`` for the result ``res`` read
    from ``where``: the terms table, then the provenance."""
    runs = res["runs"]
    cols = [_corollary_column(r, res) for r in runs]
    rows = [[term, *(c[i] for c in cols)] for i, term in enumerate(_COROLLARY_TERMS)]
    header = ["term", *(_CORO_DATA.get(r["dataset"], r["dataset"]) for r in runs)]
    widths = [28, *([24] * len(runs))]
    head = (
        f":math:`\\delta = {res['delta']:g}` over the grid of {len(res['gammas'])} margins "
        f"(each at :math:`\\delta/{len(res['gammas'])}`, half for the compression), "
        f":math:`K = {res['K']:g}`, {res['bits_per_param']:g} bits per value."
    )
    table = _list_table(header, rows, widths)
    return [head, "", *table, *_provenance_lines(res.get("provenance"), where)]


class GeneralizationCorollary(_ResultsDirective):
    def run(self) -> list[nodes.Node]:
        return self.render(corollary_lines(self.load()[0], self.arguments[0]))


def result_value(root: Path, text: str) -> tuple[Path, str]:
    """The file and the formatted value that ``:result:`text``` names (see the module
    docstring); raises ``OSError``, ``ValueError``, ``KeyError``, ``IndexError`` or
    ``TypeError`` when the file, the key or the format does not fit."""
    where, _, rest = text.partition("#")
    key, _, spec = rest.partition("|")
    path = root / where.strip()
    value: Any = json.loads(path.read_text(encoding="utf-8"))
    for part in key.strip().split("."):
        value = _step(value, part)
    spec = spec.strip()
    if isinstance(value, list) and value and all(isinstance(v, (int, float)) for v in value):
        lo, hi = format(min(value), spec), format(max(value), spec)
        return path, lo if lo == hi else f"{lo}–{hi}"
    if isinstance(value, (dict, list)):
        raise TypeError(f"{key} is not a single value or a list of numbers")
    return path, "none" if value is None else format(value, spec)


def _step(value: Any, part: str) -> Any:
    """One step of a ``:result:`` key path (see the module docstring)."""
    if not isinstance(value, list):
        return value[part]
    if part.isdigit():
        return value[int(part)]
    name, sep, prefix = part.partition("^=")
    if not sep:
        return [v[part] for v in value]
    kept = [v for v in value if str(v[name]).startswith(prefix)]
    if not kept:
        raise KeyError(f"no item of the list has {part}")
    return kept


def result_role(
    name: str, rawtext: str, text: str, lineno: int, inliner: Any, options: Any = None,
    content: Any = (),
) -> tuple[list[nodes.Node], list[nodes.system_message]]:  # fmt: skip
    env = inliner.document.settings.env
    if text.startswith("#"):
        text = env.temp_data.get(_RESULT_FILE, "") + text
    try:
        path, shown = result_value(Path(env.srcdir), text)
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        msg = inliner.reporter.error(f"result {text!r}: {exc!r}", line=lineno)
        return [inliner.problematic(rawtext, rawtext, msg)], [msg]
    env.note_dependency(str(path))
    return [nodes.Text(shown)], []


_RESULT_FILE = "netcoreset_result_file"


class ResultFile(SphinxDirective):
    """``.. result-file:: FILE``: the file of the page's following ``:result:`#KEY``` roles."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        self.env.temp_data[_RESULT_FILE] = self.arguments[0]
        return []


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_role("result", result_role)
    app.add_directive("result-file", ResultFile)
    app.add_directive("reproduced-claims", ReproducedClaims)
    app.add_directive("reproduced-run", ReproducedRun)
    app.add_directive("reproduced-drops", ReproducedDrops)
    app.add_directive("reproduced-depth", ReproducedDepth)
    app.add_directive("result-provenance", ResultProvenance)
    app.add_directive("generalization-best", GeneralizationBest)
    app.add_directive("generalization-preregistered", GeneralizationPreregistered)
    app.add_directive("generalization-corollary", GeneralizationCorollary)
    app.add_directive("generalization-curve", GeneralizationCurve)
    app.add_directive("generalization-encoding", GeneralizationEncoding)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
