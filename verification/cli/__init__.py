"""The ``netcoreset`` command line.

One module per sub-command (:mod:`~netcoreset.verification.cli.bound`,
:mod:`~netcoreset.verification.cli.compress`, :mod:`~netcoreset.verification.cli.verify`,
:mod:`~netcoreset.verification.cli.demo`, :mod:`~netcoreset.verification.cli.reproduce`),
each exposing ``register(subparsers)``; shared pieces live in
:mod:`~netcoreset.verification.cli.common`. This module only dispatches. Call :func:`main`
with an argument list to run it in-process. Bad input exits with status 2 and a one-line
message, never a traceback. The modules import torch only inside their handlers, so
``netcoreset bound`` stays pure arithmetic.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from . import bound, compress, demo, reproduce, verify
from .common import CLIError, OneLineParser

__all__ = ["main", "build_parser", "CLIError"]

_SUBCOMMANDS = (bound, compress, verify, demo, reproduce)


def build_parser() -> OneLineParser:
    """The full argument parser, one sub-parser per sub-command.

    >>> sorted(build_parser()._subparsers._group_actions[0].choices)
    ['bound', 'compress', 'demo', 'reproduce', 'verify']
    """
    parser = OneLineParser(
        prog="netcoreset",
        description=(
            "CoreNet coresets for fully-connected networks: bounds, compression, verification."
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    sub.required = True
    for module in _SUBCOMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``) and return the exit status.

    >>> main(["bound", "sample-size", "--sensitivity-sum", "2", "--eps", "0.1",
    ...       "--delta", "0.05", "--eta", "410", "--json"])  # doctest: +ELLIPSIS
    {...17747...}
    0
    """
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # usage errors exit 2 (one line), --help exits 0
        return int(exc.code or 0)
    try:
        return int(args.handler(args) or 0)
    except (ValueError, CLIError, FileNotFoundError) as exc:
        print(f"netcoreset {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `netcoreset ... --json | head`
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the final flush
        except OSError:
            pass
        return 0
