"""Pieces shared by the sub-commands: the one error path, argument types, shared flags,
model loading and output paths checked before the work starts.

The command-line contract: a bad input exits with status 2 and one line
``netcoreset COMMAND: error: ...`` on stderr, never a traceback; with ``--json`` (``bound``,
``compress``) the same error is also printed on stdout as a JSON object with an ``error``
field. Output paths are checked before any work, so an hour of trials never ends in "is a
directory".
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn


class CLIError(Exception):
    """A user error found by a sub-command: exit status 2 with a one-line message."""


class UsageError(CLIError):
    """An argparse usage error of the parser ``prog`` (raised by :class:`OneLineParser`)."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(message)
        self.prog = prog


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors become :class:`UsageError` (one line, exit 2).

    Every parser of the command line is of this class (sub-parsers included), so that a usage
    error, like any other bad input, ends in one line and never in a traceback.
    """

    def error(self, message: str) -> NoReturn:
        raise UsageError(self.prog, f"{message} (see --help)")


def one_line(text: object) -> str:
    """``text`` on one line (whitespace runs collapsed), at most 500 characters.

    >>> one_line("shape mismatch:\\n  (3, 4) vs (4, 3)")
    'shape mismatch: (3, 4) vs (4, 3)'
    """
    return " ".join(str(text).split())[:500]


def fail(prog: str, message: object, *, as_json: bool) -> int:
    """Print the error (one line on stderr; a JSON object on stdout with ``as_json``); 2."""
    msg = one_line(message) or "unknown error"
    print(f"{prog}: error: {msg}", file=sys.stderr)
    if as_json:
        print(json.dumps({"error": msg, "command": prog, "exit_status": 2}))
    return 2


@contextmanager
def reported_warnings() -> Iterator[None]:
    """Silence the warnings of :func:`~netcoreset.sampler.compress` around a call whose
    report the command prints: every warning it raises is also in ``report.warnings``, which
    the commands print (``WARNING: ...``) or write to JSON, so each is shown once."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


@contextmanager
def one_line_warnings(prog: str) -> Iterator[None]:
    """Show Python warnings as one line each: ``PROG: warning: message``."""

    def show(message: Any, category: Any, filename: Any, lineno: Any, *a: Any, **k: Any) -> None:
        print(f"{prog}: warning: {one_line(message)}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


# ------------------------------------------------------------------------------------------------
# Argument types
# ------------------------------------------------------------------------------------------------


def real(text: str) -> float:
    """An argparse type: a real number (``argparse.ArgumentTypeError`` otherwise)."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid real number: {text!r}") from None


def real_list(text: str) -> list[float]:
    """An argparse type: one number or a comma-separated list of numbers."""
    parts = [p.strip() for p in text.split(",")]
    try:
        if not text.strip() or any(not p for p in parts):
            raise ValueError
        return [float(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number or a comma-separated list of numbers: {text!r}"
        ) from None


def count(text: str) -> int:
    """A whole number of draws; accepts ``17747`` and ``2.12e19`` (at most about 1.8e308)."""
    try:
        if text.strip().lstrip("+").isdigit():
            value_int = int(text)
            if value_int > sys.float_info.max:
                raise argparse.ArgumentTypeError(f"too large (above 1.8e308): {text[:20]}...")
            return value_int
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid whole number: {text[:40]!r}") from None
    if not math.isfinite(value) or value < 0 or value != math.floor(value):
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0: {text!r}")
    return int(value)


def integer(text: str) -> int:
    """An argparse type: an integer (no fractions, no exponents: ``2.5`` is refused)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer: {text[:40]!r}") from None


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer in ``[low, high]`` (the bound keeps the work bounded).

    >>> bounded_int(1, 10)("3")
    3
    >>> bounded_int(1, 10)("11")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected an integer from 1 to 10: '11'
    """

    def parse(text: str) -> int:
        value = integer(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"expected an integer from {low} to {high}: {text[:40]!r}"
            )
        return value

    parse.__name__ = "integer"
    return parse


def seed(text: str) -> int:
    """An argparse type: a seed, an integer from 0 to ``MAX_SEED`` = 2**64 - 1 (imported when
    a seed is parsed, so that building the parser stays fast).

    >>> seed("7")
    7
    """
    from netcoreset.bounds.validation import MAX_SEED

    return bounded_int(0, MAX_SEED)(text)


def constant_K(text: str) -> float:
    """An argparse type: Assumption 1's constant :math:`K`, a real number above 1, refused
    with the message of :func:`netcoreset.bounds.check_K` (the same everywhere).

    >>> constant_K("2.5")
    2.5
    >>> constant_K("1")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: K must exceed 1: Assumption 1 asks ...; got K=1.0
    """
    from netcoreset.bounds.validation import check_K

    try:
        return check_K(real(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def dataset_name(text: str) -> str:
    """An argparse type: a data set of ``netcoreset.verification.registry``, by its
    canonical name or an alias (``fashion`` for ``fashion-mnist``); the canonical name.

    >>> dataset_name("Fashion")
    'fashion-mnist'
    """
    from netcoreset.verification.registry import canonical_dataset

    try:
        return canonical_dataset(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


#: Help of ``--K`` wherever data can estimate it (``compress``, ``verify``).
K_HELP = "constant K of Assumption 1, > 1 (default: estimated from held-out points)"
#: Help of ``--K`` of the ``bound`` sub-commands: without data it cannot be estimated.
K_HELP_REQUIRED = (
    "constant K of Assumption 1, > 1 (required: without data it cannot be estimated; "
    "compress estimates it from held-out points and reports it)"
)


def add_assumption_args(p: argparse.ArgumentParser, kappa_help: str) -> None:
    """``--K``, ``--k-prime`` and ``--kappa/--no-kappa``."""
    p.add_argument("--K", type=constant_K, default=None, help=K_HELP)
    p.add_argument("--k-prime", type=real, default=3.0, help="constant K' (3)")
    p.add_argument("--kappa", action=argparse.BooleanOptionalAction, default=None, help=kappa_help)


# ------------------------------------------------------------------------------------------------
# Model files
# ------------------------------------------------------------------------------------------------


def add_model_args(p: argparse.ArgumentParser) -> None:
    """``--architecture`` and ``--allow-unsafe-pickle`` (see :func:`load_model_file`)."""
    p.add_argument(
        "--architecture",
        metavar="WIDTHS|FILE.json",
        help="the network of a state dict or of a safetensors file without it: widths "
        '(784,300,100,10) or a JSON file {"widths": [...], "bias": true, "flatten": false}',
    )
    p.add_argument(
        "--allow-unsafe-pickle",
        action="store_true",
        help="unpickle a .pt file with the general unpickler, which RUNS ANY CODE the file "
        "holds: only for files you trust (default: only tensors and the supported modules)",
    )


def check_input_file(path: str, what: str) -> Path:
    """Check that the ``what`` file ``path`` exists and is a file, with the loaders' messages
    (``no such model file: ...``), before any heavy import: a bad path answers at once.

    >>> check_input_file("/no/such/net.pt", "model")
    Traceback (most recent call last):
    ...
    FileNotFoundError: no such model file: /no/such/net.pt
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no such {what} file: {p}")
    if not p.is_file():
        raise ValueError(f"{what} file {p} is not a file")
    return p


def load_model_file(path: str, args: argparse.Namespace) -> Any:
    """The model of ``path`` via :func:`netcoreset.sampler.load_model` (no code runs unless
    ``--allow-unsafe-pickle``)."""
    from netcoreset.sampler import load_model

    unsafe = bool(getattr(args, "allow_unsafe_pickle", False))
    if unsafe:  # printed whatever the warning filters say
        print(
            f"netcoreset {args.command}: warning: unpickling {path} with the general unpickler "
            "(--allow-unsafe-pickle): it can run any code it holds",
            file=sys.stderr,
        )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="unpickling .* general unpickler")
        return load_model(
            path, architecture=getattr(args, "architecture", None), allow_unsafe_pickle=unsafe
        )


# ------------------------------------------------------------------------------------------------
# Output paths, checked before the work starts; files written whole or not at all
# ------------------------------------------------------------------------------------------------


def _blocking_file(path: Path) -> Path | None:
    """The first existing non-directory among the ancestors of ``path`` (None if none)."""
    for parent in reversed(path.parents):
        if parent.exists() and not parent.is_dir():
            return parent
    return None


def check_output_file(path: str | None, flag: str, suffixes: Sequence[str] = ()) -> Path | None:
    """Check that ``path`` can be written: its folder exists and is writable, and it is not
    a folder itself; ``suffixes`` lists the accepted extensions. ``ValueError`` otherwise."""
    if path is None:
        return None
    p = Path(path)
    if not str(path).strip():
        raise ValueError(f"{flag} needs a file name")
    if suffixes and p.suffix.lower() not in suffixes:
        raise ValueError(f"{flag} {p} must end in one of {', '.join(suffixes)}")
    blocker = _blocking_file(p)
    if blocker is not None:
        raise ValueError(f"{flag} {p}: {blocker} is a file, not a folder")
    if p.is_dir():
        raise ValueError(f"{flag} {p} is a folder; give a file name")
    parent = p.parent
    if not parent.is_dir():
        raise ValueError(f"{flag} {p}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise ValueError(f"{flag} {p}: the folder {parent} is not writable")
    return p


def check_output_folder(path: str | None, flag: str) -> Path | None:
    """Check that the folder ``path`` can be created or written (no file in the way)."""
    if path is None:
        return None
    p = Path(path)
    if not str(path).strip():
        raise ValueError(f"{flag} needs a folder name")
    blocker = _blocking_file(p)
    if blocker is not None:
        raise ValueError(f"{flag} {p}: {blocker} is a file, not a folder")
    if p.exists() and not p.is_dir():
        raise ValueError(f"{flag} {p} is a file, not a folder")
    existing = p if p.exists() else next(a for a in p.parents if a.exists())
    if not os.access(existing, os.W_OK):
        raise ValueError(f"{flag} {p}: {existing} is not writable")
    return p


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (temporary file, fsync, rename)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
