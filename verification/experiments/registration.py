r"""Pre-registration of a generalisation certificate: the data split, the code and the source,
fixed in a file before the certification sample is looked at.

An Occam or PAC-Bayes bound holds for a code (a prior) fixed before the :math:`n` points it
is evaluated on. A :class:`Registration` writes down everything that must be fixed:

* the **data set** (its name and the SHA-256 fingerprint of its training arrays);
* the **split** of the training points into a *design* part (exploration, prior training,
  choosing the grid) and a disjoint *certification* part: the recipe (a seed and the design
  size) and the SHA-256 of each part's sorted point indices (:func:`indices_sha256`);
* the **code**: every architecture, the grid of choices with its options (methods, keep
  ratios, levels, quantisers, codebook precision, ...) and the prior weights;
* :math:`\delta` and the SHA-256 of the package **source** that will certify
  (:func:`~netcoreset.verification.experiments.provenance.source_digest`).

Certifying (:func:`check_registration`) recomputes the split from its recipe, checks both
hashes and that the parts are disjoint, checks the data fingerprint, the source hash and
that the code to be certified is exactly the registered one, and refuses otherwise. The
registration's own SHA-256 (:attr:`Registration.sha256`, over its canonical JSON) is printed
with every certificate.

**Trying again costs bits.** Every registration certified on one certification sample is
appended to a log kept next to the registration files (:class:`RegistrationLog`, one file
per certification sample, i.e. per data set and split, committed with the results). The
:math:`i`-th registration logged on a sample gets the prior weight :math:`w_i = 1/(i(i+1))`,
fixed in advance:

.. math::

    \sum_{i\ge1}\frac{1}{i(i+1)} = \sum_{i\ge1}\Bigl(\frac1i - \frac1{i+1}\Bigr) = 1,
    \qquad \text{cost}_i = \log_2\bigl(i(i+1)\bigr)\ \text{bits}
    \ \ (\ge \log_2 i),

so all certificates ever issued on the sample hold together with probability
:math:`\ge 1-\delta`, and a certificate never needs recomputing when later registrations
are logged (a cost of :math:`\log_2 K` for :math:`K` registrations would have to be raised
in every earlier certificate each time :math:`K` grows). The union bound assumes each
registration was fixed from the design part or other data; one designed after reading an
earlier certificate's number on the same certification sample depends on that sample, which
no count of registrations pays for: the honest response to a disappointing certificate is a
new certification sample.

**Reproducing on a later source costs nothing.** What an Occam or PAC-Bayes bound needs is
that the *certified hypothesis* (the coded network, or the posterior) and its code were fixed
by a registered recipe before the certification part was seen; the source hash pins that
recipe. A rerun on a changed source (a docstring, a faster routine with the same outputs)
that produces bit-identically the same coded network as the result certified under the
registered source states exactly the same certificate, so it needs no new registration and
pays nothing more. In *reproduce* mode (``check_registration(..., reproduce=True)``) a
changed source is accepted provisionally; the certificate is only issued when every row's
newly computed code SHA-256 (``code_sha256``) and numbers equal those of the committed result
(:func:`check_reproduction`); a PAC-Bayes row, whose posterior is not stored, is reproduced
only when its deterministic training gives the same KL and Monte Carlo numbers exactly. A
rerun that differs anywhere certifies a new hypothesis chosen after the certification part was
seen: it is refused, and must be registered again (and paid for through the log). A
reproduction adds nothing to the log (:meth:`RegistrationLog.position`).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from netcoreset.bounds.serialization import to_jsonable

from .files import write_json

__all__ = [
    "SCHEMA",
    "LOG_SCHEMA",
    "MAX_FILE_BYTES",
    "RegistrationError",
    "Registration",
    "RegistrationLog",
    "split_indices",
    "indices_sha256",
    "registration_bits",
    "sample_sha256",
    "make_registration",
    "check_registration",
    "check_reproduction",
    "certification_place",
    "reproduction_record",
    "REPRODUCED_FIELDS",
]

SCHEMA = "netcoreset.registration/1"
LOG_SCHEMA = "netcoreset.registration-log/1"
#: A registration or log file larger than this is refused before it is parsed.
MAX_FILE_BYTES = 1 << 20


class RegistrationError(ValueError):
    """The data, split, code or source differs from the registered one (certifying refused)."""


def split_indices(n_total: int, design_size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The design and certification parts of ``range(n_total)``, each sorted: a uniformly
    random subset of ``design_size`` points (``numpy.random.default_rng(seed)``) and the rest.

    >>> d, c = split_indices(10, 4, 0)
    >>> d.tolist(), c.tolist()
    ([2, 4, 6, 7], [0, 1, 3, 5, 8, 9])
    """
    if isinstance(n_total, bool) or not isinstance(n_total, (int, np.integer)) or n_total < 2:
        raise ValueError(f"n_total must be an integer >= 2; got {n_total!r}")
    if (
        isinstance(design_size, bool)
        or not isinstance(design_size, (int, np.integer))
        or not 1 <= design_size < n_total
    ):
        raise ValueError(
            f"design_size must be an integer in [1, {n_total - 1}]; got {design_size!r}"
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0; got {seed!r}")
    perm = np.random.default_rng(int(seed)).permutation(int(n_total))
    return np.sort(perm[:design_size]), np.sort(perm[design_size:])


def indices_sha256(indices: np.ndarray) -> str:
    """SHA-256 of the sorted point indices as little-endian int64 (hex).

    >>> indices_sha256(np.array([3, 1])) == indices_sha256(np.array([1, 3]))
    True
    """
    arr = np.sort(np.asarray(indices, dtype=np.int64).ravel()).astype("<i8")
    return hashlib.sha256(arr.tobytes()).hexdigest()


def registration_bits(index: int) -> float:
    r"""The cost of the ``index``-th registration on a certification sample:
    :math:`\log_2(i(i+1))` bits (prior weight :math:`1/(i(i+1))`).

    .. math::

        \mathrm{cost}(i) = \log_2\bigl(i\,(i+1)\bigr)

    >>> [round(registration_bits(i), 4) for i in (1, 2, 3)]
    [1.0, 2.585, 3.585]
    """
    if isinstance(index, bool) or not isinstance(index, int) or index < 1:
        raise ValueError(f"index must be an integer >= 1; got {index!r}")
    return math.log2(index) + math.log2(index + 1)


def _canonical(obj: Any) -> bytes:
    return json.dumps(to_jsonable(obj), sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Registration:
    """A pre-registered certificate: data set, split, code, delta and source (fields in the
    module docstring). :attr:`sha256` names it.

    >>> r = make_registration("digits", "ab" * 32, 100, 40, 0, {"keep": [0.1]}, 0.05,
    ...                       source_sha256="cd" * 32)
    >>> r.certification_size, len(r.sha256), r == Registration.from_dict(r.to_dict())
    (60, 64, True)
    """

    dataset: str
    data_fingerprint: str
    n_total: int
    split_seed: int
    design_size: int
    certification_size: int
    design_sha256: str
    certification_sha256: str
    code: dict[str, Any]
    delta: float
    source_sha256: str
    note: str = ""
    schema: str = SCHEMA

    @property
    def sha256(self) -> str:
        """SHA-256 of the canonical JSON (sorted keys, no spaces) of :meth:`to_dict`."""
        return hashlib.sha256(_canonical(self.to_dict())).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return to_jsonable(asdict(self))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Registration:
        """Build from :meth:`to_dict`'s output; ``ValueError`` naming a missing or wrong field."""
        if not isinstance(data, Mapping) or data.get("schema") != SCHEMA:
            raise ValueError(f"not a registration (schema {SCHEMA!r} expected)")
        types = {
            "dataset": str,
            "data_fingerprint": str,
            "n_total": int,
            "split_seed": int,
            "design_size": int,
            "certification_size": int,
            "design_sha256": str,
            "certification_sha256": str,
            "code": dict,
            "delta": float,
            "source_sha256": str,
            "note": str,
        }
        values: dict[str, Any] = {}
        for name, kind in types.items():
            value = data.get(name)
            ok = isinstance(value, kind) and not isinstance(value, bool)
            if kind is float:
                ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not ok:
                raise ValueError(f"registration field {name!r} must be a {kind.__name__}")
            values[name] = float(value) if kind is float else value  # type: ignore[arg-type]
        unknown = set(data) - set(types) - {"schema"}
        if unknown:
            raise ValueError(f"registration has unknown fields: {', '.join(sorted(unknown))}")
        if not 0 < values["delta"] < 1:
            raise ValueError(f"registration delta must be in (0, 1); got {values['delta']}")
        return cls(**values)

    def save(self, path: str | Path) -> Path:
        """Write the registration as JSON (atomically); refuses to overwrite a file."""
        target = Path(path)
        if target.exists():
            raise ValueError(f"{target} exists: a registration is never overwritten")
        return write_json(target, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> Registration:
        """Read a registration file (plain JSON, at most :data:`MAX_FILE_BYTES`)."""
        return cls.from_dict(_read_json(path, "registration"))


def _read_json(path: str | Path, what: str) -> Any:
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"no such {what} file: {p}")
    if p.stat().st_size > MAX_FILE_BYTES:
        raise ValueError(f"{what} file {p} is larger than {MAX_FILE_BYTES} bytes")
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{what} file {p} is not valid JSON: {exc}") from None


def make_registration(
    dataset: str,
    data_fingerprint: str,
    n_total: int,
    design_size: int,
    split_seed: int,
    code: Mapping[str, Any],
    delta: float,
    *,
    source_sha256: str | None = None,
    note: str = "",
) -> Registration:
    """A registration of ``code`` on the split :func:`split_indices` ``(n_total, design_size,
    split_seed)`` of the data set; the source hash is the installed package's unless given."""
    design, cert = split_indices(n_total, design_size, split_seed)
    if not 0 < float(delta) < 1:
        raise ValueError(f"delta must be in (0, 1); got {delta!r}")
    if source_sha256 is None:
        from .provenance import source_digest, source_files

        source_sha256 = source_digest(source_files())
    return Registration(
        dataset=str(dataset),
        data_fingerprint=str(data_fingerprint),
        n_total=int(n_total),
        split_seed=int(split_seed),
        design_size=int(design.size),
        certification_size=int(cert.size),
        design_sha256=indices_sha256(design),
        certification_sha256=indices_sha256(cert),
        code=to_jsonable(dict(code)),
        delta=float(delta),
        source_sha256=source_sha256,
        note=note,
    )


def check_registration(
    reg: Registration,
    *,
    dataset: str,
    data_fingerprint: str,
    code: Mapping[str, Any],
    source_sha256: str | None = None,
    reproduce: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Check everything certifying depends on against ``reg``; return the (design,
    certification) indices. Raises :class:`RegistrationError` naming the first difference.
    With ``reproduce=True`` a source other than the registered one is accepted: the caller
    must then issue the certificate only if :func:`check_reproduction` passes.

    >>> r = make_registration("digits", "ab" * 32, 100, 40, 0, {"keep": [0.1]}, 0.05,
    ...                       source_sha256="cd" * 32)
    >>> d, c = check_registration(r, dataset="digits", data_fingerprint="ab" * 32,
    ...                           code={"keep": [0.1]}, source_sha256="cd" * 32)
    >>> d.size, c.size
    (40, 60)
    >>> try:
    ...     check_registration(r, dataset="digits", data_fingerprint="ab" * 32,
    ...                        code={"keep": [0.2]}, source_sha256="cd" * 32)
    ... except RegistrationError as exc:
    ...     print(exc)
    the code differs from the registered one: keep registered as [0.1], given as [0.2]
    """
    if dataset != reg.dataset:
        raise RegistrationError(
            f"the registration is for data set {reg.dataset!r}, not {dataset!r}"
        )
    if data_fingerprint != reg.data_fingerprint:
        raise RegistrationError(
            f"the training data of {dataset!r} differ from the registered data "
            f"(fingerprint {data_fingerprint[:16]}... vs {reg.data_fingerprint[:16]}...)"
        )
    design, cert = split_indices(reg.n_total, reg.design_size, reg.split_seed)
    if (
        indices_sha256(design) != reg.design_sha256
        or indices_sha256(cert) != reg.certification_sha256
    ):
        raise RegistrationError(
            "the split recomputed from its seed does not match the registered hashes"
        )
    if np.intersect1d(design, cert).size or design.size + cert.size != reg.n_total:
        raise RegistrationError("the design and certification parts are not a disjoint split")
    given = to_jsonable(dict(code))
    if given != reg.code:
        where, registered, got = _first_difference(reg.code, given)
        raise RegistrationError(
            f"the code differs from the registered one: {where} registered as "
            f"{registered!r}, given as {got!r}"
        )
    if source_sha256 is None:
        from .provenance import source_digest, source_files

        source_sha256 = source_digest(source_files())
    if source_sha256 != reg.source_sha256 and not reproduce:
        raise RegistrationError(
            "the package source differs from the registered source (SHA-256 "
            f"{source_sha256[:16]}... vs {reg.source_sha256[:16]}...): register again"
        )
    return design, cert


#: The numbers of a row compared in reproduce mode (those present in the committed row).
REPRODUCED_FIELDS = ("code_sha256", "train_errors", "train_error", "certification_error",
                     "design_error", "test_error", "stochastic_test_error",
                     "mean_network_test_error", "empirical_error_bound", "n",
                     "description_bits", "bits", "bound",
                     "bound_kl", "delta", "kl_nats", "mc_error", "mc_errors", "mc_draws",
                     "symbols", "codebook")  # fmt: skip


def check_reproduction(
    reg: Registration, committed: Mapping[str, Any], rows: list[Mapping[str, Any]]
) -> list[str]:
    """Refuse (:class:`RegistrationError`, naming the rows, "register again") unless the
    committed result is ``reg``'s and each of ``rows`` equals its committed row exactly in
    every field of :data:`REPRODUCED_FIELDS` the committed row holds (its ``code_sha256``
    above all); return the fields compared.

    >>> r = make_registration("digits", "ab" * 32, 100, 40, 0, {}, 0.05, source_sha256="0")
    >>> old = {"registration": {"sha256": r.sha256}, "rows": [{"code_sha256": "e1", "bound": 0.2}]}
    >>> check_reproduction(r, old, [{"code_sha256": "e1", "bound": 0.2}])
    ['bound', 'code_sha256']
    >>> try:
    ...     check_reproduction(r, old, [{"code_sha256": "f7", "bound": 0.2}])
    ... except RegistrationError as exc:
    ...     print(str(exc)[:43])
    not reproduced: row 0 (code_sha256) differs
    """
    if (committed.get("registration") or {}).get("sha256") != reg.sha256:
        raise RegistrationError("the committed result was not certified under this registration: "
                                "nothing to reproduce; register again")  # fmt: skip
    old = committed.get("rows", [])
    if len(old) != len(rows):
        raise RegistrationError(f"not reproduced: {len(rows)} rows against {len(old)} "
                                "committed; register again")  # fmt: skip
    compared, bad = set(), []
    for i, (a, b) in enumerate(zip(old, rows, strict=True)):
        keys = [k for k in REPRODUCED_FIELDS if k in a]
        compared.update(keys)
        diff = [k for k in keys if b.get(k) != a[k]]
        if diff:
            bad.append(f"row {i} ({', '.join(diff)})")
    if bad:
        raise RegistrationError(
            f"not reproduced: {'; '.join(bad)} differs from the result certified under the "
            "registered source: a different hypothesis; register again"
        )
    return sorted(compared)


def certification_place(
    log: RegistrationLog, reg: Registration, source_sha256: str, committed: str | Path
) -> tuple[int, dict[str, Any] | None]:
    """The registration's place in its log, and the result to reproduce. On the registered
    source: the place (the registration appended if new) and ``None``. On another source:
    reproduce mode, nothing logged: the place the registration already holds and the result
    at ``committed`` (certified under the registered source), or :class:`RegistrationError`
    when either is missing ("register again").

    >>> import tempfile
    >>> r = make_registration("digits", "ab" * 32, 100, 40, 0, {}, 0.05, source_sha256="0")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     log = RegistrationLog.of(d, r)
    ...     place = certification_place(log, r, "0", f"{d}/result.json")
    ...     try:
    ...         certification_place(log, r, "1", f"{d}/result.json")
    ...     except RegistrationError as exc:
    ...         print(place, "no result at" in str(exc))
    (1, None) True
    """
    if source_sha256 == reg.source_sha256:
        return log.index_of(reg.sha256), None
    path = Path(committed)
    index = log.position(reg.sha256)
    if index is None or not path.is_file():
        raise RegistrationError(
            "the package source differs from the registered one and "
            + ("the registration was never certified" if index is None else f"no result at {path}")
            + ": nothing to reproduce; register again"
        )
    return index, _read_json(path, "result")


def reproduction_record(
    reg: Registration, source_sha256: str, committed: Mapping[str, Any], compared: list[str]
) -> dict[str, Any]:
    """What a reproduced result records: ``reproduced``, the registered and the current
    source hashes, the fields compared and the commit of the result reproduced.

    >>> r = make_registration("digits", "ab" * 32, 100, 40, 0, {}, 0.05, source_sha256="0")
    >>> reproduction_record(r, "1", {}, ["bound"])["registered_source_sha256"]
    '0'
    """
    return {"reproduced": True, "registered_source_sha256": reg.source_sha256,
            "source_sha256": source_sha256, "compared": list(compared),
            "reproduced_commit": (committed.get("provenance") or {}).get("commit")}  # fmt: skip


def _first_difference(a: Any, b: Any, path: str = "") -> tuple[str, Any, Any]:
    """The path of the first leaf where two JSON values differ, and the two values there."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if a.get(key) != b.get(key):
                return _first_difference(a.get(key), b.get(key), f"{path}.{key}".lstrip("."))
    return path or "code", a, b


def sample_sha256(data_fingerprint: str, certification_sha256: str) -> str:
    """The identity of a certification sample: its data set's fingerprint and its indices
    (the same indices of two data sets are two samples).

    >>> sample_sha256("ab" * 32, "cd" * 32) != sample_sha256("ef" * 32, "cd" * 32)
    True
    """
    return hashlib.sha256(f"{data_fingerprint}:{certification_sha256}".encode()).hexdigest()


@dataclass
class RegistrationLog:
    """Every registration certified on one certification sample, in order (one JSON file per
    sample, named by :func:`sample_sha256` of the data's fingerprint and the sample's indices).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     log = RegistrationLog.open(d, "ab" * 32, "ef" * 32, "digits")
    ...     log.index_of("aa" * 32), log.index_of("bb" * 32), log.index_of("aa" * 32)
    (1, 2, 1)
    """

    path: Path
    data_fingerprint: str
    certification_sha256: str
    dataset: str
    entries: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def open(
        cls, folder: str | Path, data_fingerprint: str, certification_sha256: str, dataset: str
    ) -> RegistrationLog:
        """The log of one certification sample in ``folder`` (empty if none yet)."""
        sample = sample_sha256(data_fingerprint, certification_sha256)
        path = Path(folder) / f"log-{dataset}-{sample[:16]}.json"
        log = cls(path, data_fingerprint, certification_sha256, dataset)
        if path.exists():
            data = _read_json(path, "registration log")
            if (
                not isinstance(data, dict)
                or data.get("schema") != LOG_SCHEMA
                or data.get("data_fingerprint") != data_fingerprint
                or data.get("certification_sha256") != certification_sha256
                or not isinstance(data.get("registrations"), list)
            ):
                raise ValueError(f"{path} is not the registration log of this certification sample")
            log.entries = [e for e in data["registrations"] if isinstance(e, dict)]
        return log

    @classmethod
    def of(cls, folder: str | Path, reg: Registration) -> RegistrationLog:
        """The log of ``reg``'s certification sample."""
        return cls.open(folder, reg.data_fingerprint, reg.certification_sha256, reg.dataset)

    def position(self, registration_sha256: str) -> int | None:
        """The 1-based position of a registration in the log, ``None`` when it is not logged
        (nothing is appended: a reproduction)."""
        for i, entry in enumerate(self.entries, start=1):
            if entry.get("sha256") == registration_sha256:
                return i
        return None

    def index_of(self, registration_sha256: str) -> int:
        """The 1-based position of a registration in the log, appending (and saving) it when
        it is new."""
        for i, entry in enumerate(self.entries, start=1):
            if entry.get("sha256") == registration_sha256:
                return i
        self.entries.append(
            {
                "sha256": registration_sha256,
                "first_certified": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
        )
        write_json(
            self.path,
            {
                "schema": LOG_SCHEMA,
                "dataset": self.dataset,
                "data_fingerprint": self.data_fingerprint,
                "certification_sha256": self.certification_sha256,
                "registrations": self.entries,
            },
        )
        return len(self.entries)
