"""Pieces shared by the sub-commands: the one error path, argument types, shared flags."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any, NoReturn


class CLIError(Exception):
    """A user error found by a sub-command: exit status 2 with a one-line message."""


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr (exit status 2).

    Every parser of the command line is of this class, so that a usage error, like any other
    bad input, ends in one line and never in a traceback.
    """

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message} (see --help)", file=sys.stderr)
        raise SystemExit(2)


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
    """A whole number of draws; accepts ``17747`` and ``2.12e19``."""
    try:
        if text.strip().lstrip("+").isdigit():
            return int(text)
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid whole number: {text!r}") from None
    if not math.isfinite(value) or value < 0 or value != math.floor(value):
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0: {text!r}")
    return int(value)


def integer(text: str) -> int:
    """An argparse type: an integer."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer: {text!r}") from None


def add_assumption_args(p: argparse.ArgumentParser, kappa_help: str) -> None:
    """``--K``, ``--k-prime`` and ``--kappa/--no-kappa``."""
    p.add_argument(
        "--K",
        type=float,
        default=None,
        help="constant K of Assumption 1, > 1 (default: estimated from held-out points)",
    )
    p.add_argument("--k-prime", type=float, default=3.0, help="constant K' (3)")
    p.add_argument("--kappa", action=argparse.BooleanOptionalAction, default=None, help=kappa_help)


def load_model(path: str) -> Any:
    """Unpickle a whole ``nn.Module`` saved with ``torch.save`` (only files you trust)."""
    import torch

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such model file: {p}")
    try:
        obj = torch.load(p, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001 - report any unpickling failure in one line
        raise ValueError(f"could not load a model from {p}: {exc}") from exc
    if not isinstance(obj, torch.nn.Module):
        raise ValueError(
            f"{p} holds a {type(obj).__name__}, not an nn.Module (save the whole model)"
        )
    return obj
