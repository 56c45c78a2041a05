"""Local Sphinx extension of the netcoreset docs.

1. Walks the public packages once at start-up and hands the autosummary templates two
   tables (``autosummary_context``):

   ``api_submodules``
       package -> its public submodules (no leading underscore, not shadowed by a
       re-exported function of the same name, e.g. ``netcoreset.bounds.sample_size``).
   ``api_reexported``
       submodule -> the names it defines that its package re-exports in ``__all__``; those
       are documented once, on the package page, and only linked from the submodule page.

   New public functions therefore appear in the API reference as soon as they are in an
   ``__all__``; new submodules as soon as they exist. ``api/generated/`` is deleted at the
   start of every build, so pages of names that no longer exist do not linger.

2. ``.. derivation-checks::`` renders :func:`netcoreset.bounds.symbolic.all_derivation_checks`
   at build time (claim, whether sympy proved it, assumptions, residual), and
   ``.. symbolic-formulas::`` every formula of :data:`netcoreset.bounds.symbolic.FORMULA_NAMES`
   through :func:`netcoreset.bounds.symbolic.to_latex`.

3. Makes autosummary's one-line summaries robust to docstrings by several hands: Sphinx cuts
   the summary at the first ". ", which can fall inside an inline literal
   (``Linear -> ... -> Linear``) or after an abbreviation (``i.i.d.``) and then produce broken
   markup (a warning, an error under ``-W``). A summary that does not parse cleanly is
   extended sentence by sentence until it does (see :func:`robust_summary`).
"""

from __future__ import annotations

import importlib
import pkgutil
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.ext import autosummary as _autosummary
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

PACKAGES = ("netcoreset.bounds", "netcoreset.sampler", "netcoreset.verification")


def _public_names(mod: ModuleType) -> list[str]:
    names = getattr(mod, "__all__", None)
    if names is None:
        names = [n for n in vars(mod) if not n.startswith("_")]
    return [str(n) for n in names]


def _walk(pkg: ModuleType, submodules: dict[str, list[str]], reexported: dict[str, list[str]]):
    exported = set(_public_names(pkg)) if hasattr(pkg, "__all__") else set()
    subs: list[str] = []
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith("_"):
            continue
        attr = getattr(pkg, info.name, None)
        if attr is not None and not isinstance(attr, ModuleType):
            continue  # shadowed by a re-exported member of the same name
        fullname = f"{pkg.__name__}.{info.name}"
        try:
            mod = importlib.import_module(fullname)
        except Exception as exc:  # autosummary reports the import error itself
            logger.info("netcoreset_docs: cannot import %s (%s)", fullname, exc)
            continue
        subs.append(fullname)
        reexported[fullname] = sorted(
            n
            for n in _public_names(mod)
            if n in exported and getattr(pkg, n, None) is getattr(mod, n, object())
        )
        if info.ispkg:
            _walk(mod, submodules, reexported)
    submodules[pkg.__name__] = sorted(subs)


def api_tables(packages: tuple[str, ...] = PACKAGES) -> dict[str, dict[str, list[str]]]:
    """The two tables described in the module docstring (plain, picklable data)."""
    submodules: dict[str, list[str]] = {}
    reexported: dict[str, list[str]] = {}
    for name in packages:
        try:
            pkg = importlib.import_module(name)
        except Exception as exc:  # autosummary reports the import error itself
            logger.info("netcoreset_docs: cannot import %s (%s)", name, exc)
            continue
        _walk(pkg, submodules, reexported)
    return {"api_submodules": submodules, "api_reexported": reexported}


def _config_inited(app: Sphinx, config: Config) -> None:
    # autosummary never deletes a page it generated earlier; after an API change such a page
    # is stale and orphaned ("document isn't included in any toctree", an error under -W).
    # The folder is git-ignored output, so start it afresh (costs a few seconds per build).
    shutil.rmtree(Path(app.confdir) / "api" / "generated", ignore_errors=True)
    context = dict(config.autosummary_context or {})
    context.update(api_tables())
    config.autosummary_context = context


_ABBREVIATIONS = (
    "et al.",
    "e.g.",
    "i.e.",
    "i.i.d.",
    "cf.",
    "vs.",
    "resp.",
    "approx.",
    "Eq.",
    "Fig.",
    "Thm.",
    "Sec.",
)
_original_extract_summary = _autosummary.extract_summary


def _parses_cleanly(text: str, settings: Any) -> bool:
    doc = _autosummary._parse_summary([text], settings)
    return not any(doc.findall(nodes.system_message)) and not any(doc.findall(nodes.problematic))


def robust_summary(doc: list[str], settings: Any) -> str:
    """autosummary's ``extract_summary``, extended past cuts that break inline markup."""
    summary = _original_extract_summary(doc, settings)
    if _parses_cleanly(summary, settings) and not summary.endswith(_ABBREVIATIONS[3:]):
        return summary
    stanza: list[str] = []
    for line in doc:
        if not line.strip():
            if stanza:
                break
            continue
        stanza.append(line.strip())
    text = " ".join(stanza)
    sentences = _autosummary.periods_re.split(text)
    for i in range(len(sentences)):
        candidate = ". ".join(sentences[: i + 1]).rstrip(".") + "."
        if candidate.endswith(_ABBREVIATIONS) and i + 1 < len(sentences):
            continue
        if _parses_cleanly(candidate, settings):
            return _autosummary.literal_re.sub(".", candidate)
    return _autosummary.literal_re.sub(".", text)


def _latex_of(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        import sympy

        return sympy.latex(value)
    except Exception:
        return str(value)


def _math_block(latex: str, docname: str) -> nodes.math_block:
    return nodes.math_block(
        latex, latex, docname=docname, number=None, label=None, nowrap=False, classes=[]
    )


def _unavailable(exc: Exception) -> list[nodes.Node]:
    note = nodes.note()
    note += nodes.paragraph(
        text=f"netcoreset.bounds.symbolic is not available in this build ({exc})."
    )
    return [note]


def _formula_node(value: Any, docname: str) -> nodes.Node:
    """Inline math for sympy objects and LaTeX-looking text, plain text otherwise."""
    if isinstance(value, str):
        return nodes.Text(value)
    tex = _latex_of(value)
    return nodes.math(tex, tex)


class DerivationChecks(SphinxDirective):
    """Render ``netcoreset.bounds.symbolic.all_derivation_checks()`` as a numbered list."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        try:
            symbolic = importlib.import_module("netcoreset.bounds.symbolic")
            checks = list(symbolic.all_derivation_checks())
        except ImportError as exc:
            return _unavailable(exc)
        items = nodes.enumerated_list(enumtype="arabic", prefix="", suffix=".")
        items["classes"].append("derivation-checks")
        for check in checks:
            item = nodes.list_item()
            proved = bool(getattr(check, "proved", False))
            evaluation = getattr(check, "kind", "proof") == "evaluation"
            if evaluation:
                label = "evaluated (not a proof)" if proved else "evaluation FAILED"
            else:
                label = "proved" if proved else "NOT proved"
            head = nodes.paragraph()
            head += nodes.inline(
                text=label,
                classes=["check-proved" if proved else "check-open"],
            )
            head += nodes.Text(" — ")
            head += nodes.Text(str(getattr(check, "claim", check)))
            item += head
            if callable(getattr(check, "to_latex", None)):
                item += _math_block(str(check.to_latex()), self.env.docname)
            details = nodes.bullet_list()
            for label, attr in (("assumptions", "assumptions"), ("residual", "residual")):
                value = getattr(check, attr, None)
                if value is None or (isinstance(value, str) and not value):
                    continue
                para = nodes.paragraph()
                para += nodes.emphasis(text=f"{label}: ")
                if isinstance(value, list | tuple):
                    for k, v in enumerate(value):
                        if k:
                            para += nodes.Text("; ")
                        para += _formula_node(v, self.env.docname)
                else:
                    para += _formula_node(value, self.env.docname)
                details += nodes.list_item("", para)
            if len(details):
                item += details
            items += item
        return [items]


class SymbolicFormulas(SphinxDirective):
    """Render every formula of ``netcoreset.bounds.symbolic`` as sympy typesets it."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        try:
            symbolic = importlib.import_module("netcoreset.bounds.symbolic")
            names = list(symbolic.FORMULA_NAMES)
        except (ImportError, AttributeError) as exc:
            return _unavailable(exc)
        out: list[nodes.Node] = []
        for name in names:
            para = nodes.paragraph()
            para += nodes.literal(text=f"to_latex({name!r})")
            out.append(para)
            out.append(_math_block(symbolic.to_latex(name), self.env.docname))
        return out


def setup(app: Sphinx) -> dict[str, Any]:
    _autosummary.extract_summary = robust_summary
    app.connect("config-inited", _config_inited)
    app.add_directive("derivation-checks", DerivationChecks)
    app.add_directive("symbolic-formulas", SymbolicFormulas)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
