"""The steps the pre-registered scripts share (``preregistered.py``, ``preregistered_subspace.py``,
``preregistered_corenet.py``): the data and the split, the registration of a code, its place
in the log of its certification sample, and the writing of the result (the stored codes, and
on a later package source the reproduction check).

The logic itself lives in :mod:`netcoreset.verification.experiments.registration`; this module
only puts its calls in the order the protocol needs:

1. :func:`open_registration` loads the code's registration (creating it on the first run) and
   refuses unless the data, the split and the code are the registered ones;
2. :func:`place` appends it to its certification sample's log before any certificate is
   computed (or, on a later source, finds the committed result to reproduce);
3. :func:`finish` names each row's coded network, compares every row with the committed result
   when reproducing (refusing any difference), stores the codes and writes the JSON.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import torch

from netcoreset.verification.experiments import load_fashion_mnist, mnist_dir
from netcoreset.verification.experiments.certificate_codes import points_sha256, record_codes
from netcoreset.verification.experiments.datasets import FASHION_MNIST_DIR, array_fingerprint
from netcoreset.verification.experiments.files import write_json
from netcoreset.verification.experiments.provenance import source_digest
from netcoreset.verification.experiments.registration import (
    Registration,
    RegistrationError,
    RegistrationLog,
    certification_place,
    check_registration,
    check_reproduction,
    make_registration,
    registration_bits,
    reproduction_record,
    split_indices,
)

REGISTRY = Path("docs/results/registrations")
DESIGN_SIZE = 30_000
SPLIT_SEED = 0
DELTA = 0.05


def load_dataset(name: str) -> tuple[torch.Tensor, ...]:
    """(x, y, x_test, y_test) of MNIST or Fashion-MNIST, 60,000 / 10,000 (the IDX files)."""
    folder = FASHION_MNIST_DIR if name == "fashion-mnist" else mnist_dir()
    x, y, xt, yt = load_fashion_mnist(folder)  # the generic IDX reader of the 60k/10k files
    return x, y, xt, yt


def split(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The registered split's (design, certification) indices."""
    design, cert = split_indices(n, DESIGN_SIZE, SPLIT_SEED)
    return torch.from_numpy(design), torch.from_numpy(cert)


def open_registration(
    name: str, kind: str, x: torch.Tensor, y: torch.Tensor, files: Sequence, code: dict
) -> tuple[Registration, Path]:
    """The registration ``REGISTRY/<name>-<kind>.json`` of ``code`` (written on the first run,
    never overwritten), checked against the data, the split and the code; raises
    :class:`RegistrationError` on any difference."""
    path = REGISTRY / f"{name}-{kind}.json"
    fingerprint = array_fingerprint(x, y)
    if not path.exists():
        make_registration(name, fingerprint, x.shape[0], DESIGN_SIZE, SPLIT_SEED, code, DELTA,
                          source_sha256=source_digest(files)).save(path)  # fmt: skip
    reg = Registration.load(path)
    check_registration(reg, dataset=name, data_fingerprint=fingerprint, code=code,
                       source_sha256=source_digest(files), reproduce=True)  # fmt: skip
    return reg, path


@dataclass(frozen=True)
class Placement:
    """A registration's place on its certification sample: ``index`` (1-based), the share of
    delta it runs at, and the committed result to reproduce (None on the registered source)."""

    reg: Registration
    path: Path
    source: str
    index: int
    committed: dict | None

    @property
    def delta(self) -> float:
        """delta / (i (i + 1)) for the i-th registration on the sample."""
        return DELTA * 2.0 ** -registration_bits(self.index)

    def record(self) -> dict:
        """The result's ``registration`` block."""
        return {
            "sha256": self.reg.sha256,
            "file": str(self.path),
            "index_on_sample": self.index,
            "bits": registration_bits(self.index),
            "delta": DELTA,
            "delta_this_registration": self.delta,
            "design_size": self.reg.design_size,
            "certification_size": self.reg.certification_size,
            "certification_sha256": self.reg.certification_sha256,
        }

    def points(self, x_cert: torch.Tensor, y_cert: torch.Tensor) -> dict:
        """The certification points as a stored code names them."""
        return {"dataset": self.reg.dataset, "split": [DESIGN_SIZE, SPLIT_SEED],
                "sha256": points_sha256(x_cert, y_cert)}  # fmt: skip


def place(
    name: str, kind: str, x: torch.Tensor, y: torch.Tensor, files: Sequence, code: dict, out: str
) -> Placement:
    """Open the registration and take its place in the log, before any certificate."""
    reg, path = open_registration(name, kind, x, y, files, code)
    source = source_digest(files)
    index, committed = certification_place(RegistrationLog.of(REGISTRY, reg), reg, source, out)
    return Placement(reg, path, source, index, committed)


def finish(result: dict, placement: Placement | None, entries: Sequence, out: str) -> None:
    """Name each row's coded network (``code_sha256``), check a reproduction against the
    committed result (raises :class:`RegistrationError` on any difference, before anything is
    written), store the codes next to the JSON and write it."""
    rows = result["rows"]
    for e in entries:
        rows[e.meta["row"][1]]["code_sha256"] = e.sha256
    if placement is not None and placement.committed is not None:
        reg, committed = placement.reg, placement.committed
        compared = check_reproduction(reg, committed, rows)
        result.update(reproduction_record(reg, placement.source, committed, compared))
    if entries:
        record_codes(result, entries, out)
    write_json(out, result)


def run(main: Callable[[], int], script: str) -> NoReturn:
    """``main()``, with a refused registration reported as exit status 2."""
    try:
        raise SystemExit(main())
    except RegistrationError as exc:  # data, split, code or source not the registered ones
        print(f"{Path(script).name}: refused: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
