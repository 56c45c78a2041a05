"""The ``netcoreset`` command line.

One module per sub-command (``bound``,
``compress``, ``verify``,
``demo``, ``reproduce``),
each exposing ``register(subparsers)``; shared pieces live in
``common``. This module only dispatches. Call :func:`main`
with an argument list to run it in-process. Bad input exits with status 2 and a one-line
message, never a traceback. The modules import torch only inside their handlers, so
``netcoreset bound`` stays pure arithmetic.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from . import bound, compress, demo, reproduce, verify
from .common import CLIError, OneLineParser, UsageError, fail, one_line, one_line_warnings

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


def _json_errors(argv: Sequence[str]) -> bool:
    """Whether errors also go to stdout as JSON: ``--json`` of ``bound`` and ``compress``
    (``verify --json`` names a file)."""
    asked = any(a == "--json" or a.startswith("--json=") for a in argv)
    return asked and bool(argv) and argv[0] != "verify"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``) and return the exit status.

    Bad input (a usage error, a value out of range, a file that cannot be read or written)
    returns 2 after one line ``netcoreset COMMAND: error: ...`` on stderr, and with ``--json``
    a JSON object ``{"error": ...}`` on stdout. An unexpected failure returns 1 after one line
    (``NETCORESET_TRACEBACK=1`` shows the traceback).

    >>> main(["bound", "sample-size", "--sensitivity-sum", "2", "--eps", "0.1",
    ...       "--delta", "0.05", "--eta", "410", "--K", "2", "--json"])  # doctest: +ELLIPSIS
    {...35493...}
    0
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    as_json = _json_errors(args_list)
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(args_list)
    except UsageError as exc:
        return fail(exc.prog, exc, as_json=as_json)
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    if extra:  # named after the sub-command, like every other error
        words = ["netcoreset", args.command, getattr(args, "bound_command", None)]
        where = " ".join(w for w in words if isinstance(w, str))
        unknown = " ".join(extra)
        return fail(where, f"unrecognized arguments: {unknown} (see --help)", as_json=as_json)
    prog = f"netcoreset {args.command}"
    try:
        with one_line_warnings(prog):
            return int(args.handler(args) or 0)
    except BrokenPipeError:  # e.g. `netcoreset ... --json | head`
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the final flush
        except OSError:
            pass
        return 0
    except (ValueError, CLIError, OSError) as exc:
        return fail(prog, exc, as_json=as_json)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug: still one line, unless asked for more
        if os.environ.get("NETCORESET_TRACEBACK"):
            raise
        print(
            f"{prog}: internal error: {type(exc).__name__}: {one_line(exc)} (please report it; "
            "NETCORESET_TRACEBACK=1 shows the traceback)",
            file=sys.stderr,
        )
        return 1
