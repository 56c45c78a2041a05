"""Pieces shared by the ``compress`` and ``verify`` sub-commands."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_assumption_args(p: argparse.ArgumentParser, kappa_help: str) -> None:
    """``--K``, ``--k-prime`` and ``--kappa/--no-kappa``."""
    p.add_argument("--K", type=float, default=1.0, help="constant K of Assumption 1 (1)")
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
