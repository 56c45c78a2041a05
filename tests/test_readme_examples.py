"""The numbers README.md shows outside its rendered result blocks are what the code computes:
the values in the comments of the Python examples, the printed table of ``netcoreset bound
network`` and the figures of the kappa paragraph are recomputed here (deterministic formulas,
no randomness), so none of them is a figure typed by hand."""

from __future__ import annotations

import ast
import contextlib
import io
import re

from _loaders import ROOT

from netcoreset.bounds import network_bound
from netcoreset.verification.cli import main

README = (ROOT / "README.md").read_text(encoding="utf-8")
VALUE = re.compile(r"^(\(.*?\)|\[.*?\]|True|False|-?[0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)")


def _block(after: str, fence: str) -> str:
    """The first fenced block of kind ``fence`` after the heading or line ``after``."""
    rest = README.split(after, 1)[1]
    return rest.split(f"```{fence}\n", 1)[1].split("```", 1)[0]


def _check_commented_values(code: str) -> int:
    """Run ``code`` line by line; where an expression line's comment starts with a value,
    the expression must give it (``...`` at its end: the repr starts with what precedes it)."""
    namespace: dict = {}
    checked = 0
    for line in code.splitlines():
        source, _, comment = line.partition("  #")
        if not source.strip() or source.lstrip().startswith("#"):
            continue
        try:
            tree = ast.parse(source.strip(), mode="eval")
        except SyntaxError:
            exec(source.strip(), namespace)  # an import or an assignment
            continue
        got = eval(compile(tree, "README.md", "eval"), namespace)
        token = VALUE.match(comment.strip())
        if token is None:
            continue
        text = token.group(1)
        if comment.strip()[len(text) :].startswith("..."):
            assert repr(got).startswith(text), (source, got, text)
        else:
            assert got == ast.literal_eval(text), (source, got, text)
        checked += 1
    return checked


def test_the_bounds_examples_print_what_their_comments_say():
    assert _check_commented_values(_block("## Bounds in Python", "python")) >= 6


def test_the_occam_example_prints_what_its_comment_says():
    assert _check_commented_values(_block("## Generalisation bounds", "python")) == 1


def test_the_bound_network_transcript_is_the_cli_output():
    block = _block("`--no-kappa`. When they are left out", "")
    command, _, shown = block.partition("\n")
    assert command.startswith("$ netcoreset bound network ")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(command.split()[2:]) == 0
    assert out.getvalue().rstrip() == shown.rstrip()


def test_the_kappa_paragraph_figures_are_the_theorem_s():
    paragraph = README.split("**The κ finding.**", 1)[1].split("\n\n", 1)[0]
    nb = network_bound("784,300,100,10", eps=0.1, delta=0.05, K=2.0)
    kappa = float(re.search(r"κ ≈ (\d+)", paragraph).group(1))
    assert abs(nb.kappa - kappa) < 0.5 * 10 ** (len(str(int(kappa))) - 1), nb.kappa
    mantissa, exponent = re.search(r"about (\d)·10([⁰¹²³⁴⁵⁶⁷⁸⁹]+) draws", paragraph).groups()
    power = int(exponent.translate(str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")))
    first = nb.to_dict()["layers"][0]
    assert round(first["draws_per_part"] / 10**power) == int(mantissa), first["draws_per_part"]
    fan_in = int(re.search(r"which has (\d+) edges per neuron", paragraph).group(1))
    assert fan_in == first["fan_in"]
