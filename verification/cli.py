"""The ``netcoreset`` command line.

Each sub-command lives in its own module (``_cli_<name>.py``) exposing ``register(subparsers)``;
this module only dispatches. Call :func:`main` with an argument list to run it in-process.
Bad input exits with status 2 and a one-line message, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

__all__ = ["main", "build_parser"]

_SUBCOMMANDS = ("bound", "compress", "verify", "demo")


class CLIError(Exception):
    """Raised by sub-commands for user errors (exit status 2)."""


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (one sub-parser per available sub-command).

    >>> sorted(build_parser()._subparsers._group_actions[0].choices)
    ['bound', 'compress', 'demo', 'verify']
    """
    parser = argparse.ArgumentParser(
        prog="netcoreset",
        description=(
            "CoreNet coresets for fully-connected networks: bounds, compression, verification."
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in _SUBCOMMANDS:
        try:
            module = importlib.import_module(f"netcoreset.verification._cli_{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"netcoreset.verification._cli_{name}":
                continue
            raise
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
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
