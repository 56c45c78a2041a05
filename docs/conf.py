"""Sphinx configuration for the netcoreset documentation.

Build (warnings are errors, as in ``make docs`` / ``make docs-test``)::

    sphinx-build -W --keep-going -q -b html docs docs/_build/html
    sphinx-build -W --keep-going -q -b doctest docs docs/_build/doctest

The API pages need ``netcoreset`` importable (the Makefile installs it into ``.venv`` first).

Offline by default. Two environment variables change that:

``NETCORESET_DOCS_INTERSPHINX=1``
    Link to the Python, NumPy, SciPy, PyTorch and SymPy documentation through intersphinx.
    Off by default because the inventories are fetched over the network at build time and
    the build machines are offline: an unreachable inventory would be a warning, and
    warnings are errors here.

``NETCORESET_MATHJAX_PATH=/path/to/mathjax``
    Another local MathJax to publish with the pages. By default the MathJax 3.2 copy of the
    ``sphinx-mathjax-offline`` package (a docs dependency) is published as
    ``_static/mathjax/``, so the HTML shows typeset formulas on a machine with no network;
    no page ever loads MathJax from a CDN. The directory is either a MathJax 3 package
    (``es5/tex-mml-chtml.js`` or ``tex-mml-chtml.js``) or a MathJax 2 tree (``MathJax.js``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))

# -- Project --------------------------------------------------------------------------------

project = "netcoreset"
author = "netcoreset developers"
copyright = "2026, netcoreset developers"
release = "0.1.0"
version = "0.1"

# -- Extensions -----------------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.doctest",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "sphinxcontrib.bibtex",
    "matplotlib.sphinxext.plot_directive",
    "netcoreset_docs",  # docs/_ext: API walk for the templates, ``.. derivation-checks::``
    "netcoreset_claims",  # docs/_ext: ``.. reproduced-claims::`` etc. from docs/results/*.json
    "netcoreset_corenet",  # docs/_ext: ``.. generalization-corenet-codes::`` (CoreNet codes)
    "sphinx_gallery.gen_gallery",  # examples/*.py -> auto_examples/, executed at build time
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "results"]
root_doc = "index"
language = "en"
# Docstrings may define classic reST citations (``.. [WSR24]``) and name them in prose without
# a ``[WSR24]_`` reference; Sphinx would warn "Citation [...] is not referenced" (and, with the
# same type, about a label defined twice). Neither makes a page wrong, so they are not errors.
# The bibliography of these pages uses sphinxcontrib-bibtex, whose warnings are unaffected.
suppress_warnings = ["ref.citation"]
nitpicky = True
# Every cross-reference must resolve (see the -n/nitpicky build). The pages are built offline,
# so the documentation of the libraries below cannot be linked (intersphinx would need their
# inventories over the network): their types are named in signatures and docstrings as plain
# text. Only names of other projects are listed; a netcoreset name that does not resolve is a
# broken link to fix, never to add here.
_EXTERNAL = {
    "py:class": (
        # Python's standard library
        "collections.abc.Callable",
        "collections.abc.Iterable",
        "collections.abc.Iterator",
        "collections.abc.Mapping",
        "collections.abc.Sequence",
        "concurrent.futures.Executor",
        "concurrent.futures._base.Executor",
        "os.PathLike",
        "pathlib.Path",
        "argparse.Namespace",
        "argparse.ArgumentParser",
        "argparse._SubParsersAction",
        "numbers.Real",
        # NumPy
        "numpy.ndarray",
        "numpy.typing.ArrayLike",
        "numpy.typing.NDArray",
        "numpy.dtype",
        "numpy.random.Generator",
        "numpy.random.SeedSequence",
        "numpy.float64",
        "numpy.int64",
        # PyTorch (torch.Generator is torch._C.Generator at run time, likewise nn classes)
        "torch.Tensor",
        "torch.dtype",
        "torch.device",
        "torch.Generator",
        "torch._C.Generator",
        "torch.float32",
        "torch.float64",
        "torch.nn.Module",
        "torch.nn.Linear",
        "torch.nn.Sequential",
        "torch.nn.ReLU",
        "torch.nn.modules.module.Module",
        "torch.nn.modules.linear.Linear",
        "torch.nn.modules.container.Sequential",
        "torch.nn.modules.activation.ReLU",
        # SymPy
        "sympy.Expr",
        "sympy.Symbol",
        "sympy.core.expr.Expr",
        "sympy.core.symbol.Symbol",
        "sympy.core.relational.Relational",
        "sympy.tensor.indexed.IndexedBase",
        "sympy.logic.boolalg.Boolean",
        "sympy.core.basic.Basic",
        # hypothesis, matplotlib
        "hypothesis.strategies.SearchStrategy",
        "matplotlib.figure.Figure",
        "matplotlib.axes.Axes",
        "matplotlib.axes._axes.Axes",
    ),
    "py:func": (
        "torch.multinomial",
        "torch.binomial",
        "torch.nn.utils.prune.remove",
        "torch.nn.utils.prune.custom_from_mask",
        "torch.nn.utils.prune.l1_unstructured",
        "torch.nn.utils.parametrize.register_parametrization",
        "torch.nn.utils.skip_init",
        "scipy.optimize.brentq",
        "numpy.frombuffer",
    ),
    "py:mod": ("torch.nn.utils.prune", "torch.nn.utils.parametrize", "sympy", "safetensors"),
    # Python's constants, as napoleon marks up "bool, default False"
    "py:obj": ("True", "False"),
}
nitpick_ignore = [(role, target) for role, targets in _EXTERNAL.items() for target in targets]
# Equations are numbered per theory page, prefixed by the page's number ((3.2) is the second
# equation of the third theory page), so that a reference from another page is unambiguous.
numfig = True
math_numfig = True
numfig_secnum_depth = 1  # type names in signatures (torch.Tensor, ArrayLike) are not all resolvable

# -- autodoc / autosummary / napoleon ---------------------------------------------------------

autosummary_generate = True  # writes docs/api/generated/ (git-ignored)
autosummary_ignore_module_all = False  # a package's page lists exactly its __all__
autosummary_imported_members = False
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_member_order = "bysource"
autodoc_preserve_defaults = True
# Show the names of type aliases instead of their expansion (numpy's ArrayLike alone would be
# a 200-character union); modules annotate with ``from __future__ import annotations``.
autodoc_type_aliases = {
    "ArrayLike": "numpy.typing.ArrayLike",
    "npt.ArrayLike": "numpy.typing.ArrayLike",
    "NDArray": "numpy.typing.NDArray",
}
autodoc_class_signature = "mixed"
# A method without a docstring shows none, rather than its base class's (torch.nn.Module's
# forward, for instance, would document PyTorch's internals on our pages).
autodoc_inherit_docstrings = False

# NumPy-style docstrings written by several people: napoleon parses both NumPy and Google
# styles and turns unknown section headers into rubrics instead of failing.
napoleon_numpy_docstring = True
napoleon_google_docstring = True
napoleon_use_param = True
napoleon_use_rtype = False
napoleon_use_ivar = True  # "Attributes" sections as fields: no duplicate object descriptions
# Types in "Parameters"/"Returns" are parsed as numpydoc describes them: "int, default 1" and
# "{"a", "b"}" become a type, a keyword and literals instead of one unresolvable class name.
napoleon_preprocess_types = True
# Plain-language types of the numpydoc standard, kept as words (single backquotes render them
# in italics and make no link). (Sphinx also applies these to the annotations in signatures, so
# no key may be a name that an annotation uses, such as Tensor or nn.Module.)
_WORDS = (
    "array_like",
    "array-like",
    "sequence",
    "callable",
    "mapping",
    "iterable",
    "path-like",
    "path",
    "shape",
    "scalar",
    "number",
    "sympy expression",
    "strategy",
    "file-like",
)
napoleon_type_aliases = {word: f"`{word}`" for word in _WORDS}
napoleon_custom_sections = [
    "Algorithm",
    "Assumptions",
    "Complexity",
    "Derivation",
    "Guarantee",
    "Theory",
    "Statistics",
    "Performance",
    ("Warns", "params_style"),
]

# -- doctest --------------------------------------------------------------------------------

# Only explicit ``.. doctest::`` / ``.. testcode::`` blocks of these pages are run by the
# doctest builder. The ``>>>`` examples in docstrings (pulled into the API pages) are run by
# ``pytest --doctest-modules`` in their own module namespace, where they belong.
doctest_test_doctest_blocks = ""
doctest_global_setup = """
import os
os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np
"""

# -- bibliography ---------------------------------------------------------------------------

bibtex_bibfiles = ["refs.bib"]
bibtex_default_style = "plain"
bibtex_reference_style = "author_year"

# -- plots (executed at build time; keep them fast) -------------------------------------------

plot_include_source = True
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 110)]
plot_rcparams = {"figure.figsize": (6.4, 3.6), "font.size": 10, "axes.grid": True}
plot_pre_code = "import numpy as np\nimport matplotlib.pyplot as plt\n"

# -- gallery (examples/*.py, executed at build time; each takes a few seconds) ------------------

# The examples run in this process: one thread, as in the tests (torch with 2 threads is
# pathologically slow on small machines), and matplotlib without a display.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
sphinx_gallery_conf = {
    "examples_dirs": str(DOCS.parent / "examples"),
    "gallery_dirs": "auto_examples",  # generated (git-ignored), like api/generated
    "filename_pattern": r"\.py$",  # execute every example, not only plot_*.py
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,  # a failing example fails the build
    "only_warn_on_example_error": False,
    "download_all_examples": False,
    "remove_config_comments": True,
    "min_reported_time": 0,
    "show_memory": False,
    "show_signature": False,
    "reset_modules": ("matplotlib",),
    "backreferences_dir": None,
    "write_computation_times": True,  # auto_examples/sg_execution_times.rst
}

# -- intersphinx (off unless NETCORESET_DOCS_INTERSPHINX=1; see the module docstring) -----------

if os.environ.get("NETCORESET_DOCS_INTERSPHINX", "") == "1":
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "scipy": ("https://docs.scipy.org/doc/scipy", None),
        "torch": ("https://docs.pytorch.org/docs/stable", None),
        "sympy": ("https://docs.sympy.org/latest", None),
    }
else:
    intersphinx_mapping = {}
intersphinx_timeout = 10
intersphinx_disabled_reftypes = ["std:doc"]

# -- MathJax (offline: a local copy is published with the pages; never a CDN) -----------------

mathjax3_config = {
    "tex": {"macros": {"R": r"\mathbb{R}", "nnz": r"\operatorname{nnz}"}},
}
html_static_path = ["_static"]


def _bundled_mathjax() -> str:
    """MathJax 3.2 as shipped by the ``sphinx-mathjax-offline`` package (a docs dependency)."""
    import importlib.util

    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or spec.origin is None:
        raise RuntimeError(
            "the docs need a local MathJax: pip install sphinx-mathjax-offline (make docs does), "
            "or set NETCORESET_MATHJAX_PATH to a MathJax 2 or 3 folder"
        )
    return str(Path(spec.origin).parent / "static" / "mathjax")


def _local_mathjax(root: str) -> tuple[Path, str, bool]:
    """(directory to publish as ``_static/mathjax``, entry script, is MathJax 2)."""
    base = Path(root).expanduser().resolve()
    for folder in (base / "es5", base):
        for entry in ("tex-mml-chtml.js", "tex-chtml.js"):
            if (folder / entry).is_file():
                return folder, entry, False
    if (base / "MathJax.js").is_file():
        return base, "MathJax.js?config=TeX-AMS-MML_HTMLorMML", True
    raise RuntimeError(
        f"NETCORESET_MATHJAX_PATH={root!r} holds neither es5/tex-mml-chtml.js, "
        "es5/tex-chtml.js (MathJax 3) nor MathJax.js (MathJax 2)"
    )


_mj_dir, _mj_entry, _mj2 = _local_mathjax(
    os.environ.get("NETCORESET_MATHJAX_PATH") or _bundled_mathjax()
)
# Sphinx copies every html_static_path entry's *contents* into _static/ (following links), so a
# staging folder holding one link named "mathjax" becomes _static/mathjax/.
_stage = DOCS / "_build" / "mathjax-static"
_stage.mkdir(parents=True, exist_ok=True)
_link = _stage / "mathjax"
if _link.is_symlink() or _link.exists():
    if not (_link.is_symlink() and _link.resolve() == _mj_dir):
        _link.unlink()
if not _link.is_symlink():
    _link.symlink_to(_mj_dir, target_is_directory=True)
html_static_path.append(str(_stage))
mathjax_path = f"mathjax/{_mj_entry}"
if _mj2:  # MathJax 2 reads its own configuration; the v3 one would be ignored anyway
    mathjax3_config = None
    mathjax2_config = {"TeX": {"Macros": {"R": r"\mathbb{R}", "nnz": r"\operatorname{nnz}"}}}

# -- HTML -----------------------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = "netcoreset"
html_css_files = ["netcoreset.css"]
html_show_sourcelink = False
html_copy_source = False
html_theme_options = {
    "logo": {"text": "netcoreset"},
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": [], "changelog": []}
