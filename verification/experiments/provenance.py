r"""Provenance of a committed result: which code, which data, which command, how long.

Every result file the project publishes (``docs/results/``, ``benchmarks/results/``) carries a
``"provenance"`` object written by :func:`provenance`:

* ``commit``: the git commit of the checkout the packages sit in (``null`` outside a git
  checkout of the project) and ``dirty``: whether the hashed source (below) differs from that
  commit's files, compared hash by hash, so that an installed copy is judged by its content;
* ``source_sha256``: one SHA-256 over the package source the run used, and ``source_files``:
  the SHA-256 of each file it covers. The source is every ``*.py`` and ``*.c`` file below
  the three packages ``netcoreset.bounds``, ``netcoreset.sampler`` and
  ``netcoreset.verification`` (``bounds/``, ``sampler/``, ``verification/`` in the
  repository; the C source of the native kernels, ``sampler/_kernels.c``, computes
  sensitivities and sampling counts, so it is code the result depends on), keyed by its path
  relative to the packages' parent, e.g. ``sampler/methods.py``. The overall hash is

  .. math::

     \mathrm{SHA256}\Big(\textstyle\bigoplus_{f \text{ sorted by path}}
     \texttt{path}_f \,\|\, \texttt{\textbackslash 0} \,\|\, \mathrm{SHA256}(f)
     \,\|\, \texttt{\textbackslash n}\Big),

  so it names the code whether the package runs from a checkout or an installed wheel;
* ``data_files``: the SHA-256 and size of each data file read (or, for data bundled with a
  library, the fingerprint of the arrays);
* ``command``, ``wall_seconds``, ``started`` (UTC, the wall time before the record was made)
  and the library ``versions``;
* ``numeric_paths``: whether the CPU has AVX-512 and the variables that pin torch, MKL,
  OpenBLAS and NumPy to their AVX2 kernels (:func:`numeric_paths`): the same source, data and
  versions give the same bits on the same kernels, and the AVX-512 kernels round differently.

:func:`compare` tells whether a result was produced by the source now installed and, when not,
which modules changed; the documentation prints that next to each table.
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import subprocess
import time
from collections.abc import Iterable, Mapping
from importlib import util
from pathlib import Path
from typing import Any

__all__ = [
    "NUMERIC_PATH_VARIABLES",
    "PACKAGES",
    "avx512_kernels",
    "SCHEMA",
    "SOURCE_SUFFIXES",
    "backfilled",
    "commit_source_files",
    "compare",
    "data_sources",
    "file_sha256",
    "numeric_paths",
    "provenance",
    "source_digest",
    "source_files",
]

SCHEMA = "netcoreset.provenance/1"
#: The packages whose source files (:data:`SOURCE_SUFFIXES`) make up the hashed source.
PACKAGES = ("bounds", "sampler", "verification")
#: The suffixes of the hashed source files: Python modules and the native kernels' C source.
SOURCE_SUFFIXES = (".py", ".c")


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes (hex), read in 1 MiB blocks.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = (Path(d) / "a").write_bytes(b"abc")
    ...     file_sha256(Path(d) / "a")[:16]
    'ba7816bf8f01cfea'
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _package_dir(name: str) -> Path:
    spec = util.find_spec(f"netcoreset.{name}")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"netcoreset.{name} is not importable")
    return Path(next(iter(spec.submodule_search_locations)))


def source_files() -> dict[str, str]:
    """SHA-256 of every source file (``*.py``, ``*.c``) of the three packages, keyed
    ``package/relative/path`` and sorted by key.

    >>> files = source_files()
    >>> "verification/experiments/provenance.py" in files, len(next(iter(files.values())))
    (True, 64)
    """
    out: dict[str, str] = {}
    for name in PACKAGES:
        root = _package_dir(name)
        for path in root.rglob("*"):
            if path.suffix in SOURCE_SUFFIXES and "__pycache__" not in path.parts:
                out[f"{name}/{path.relative_to(root).as_posix()}"] = file_sha256(path)
    return dict(sorted(out.items()))


def source_digest(files: Mapping[str, str]) -> str:
    """The overall source hash of the per-file hashes ``files`` (formula in the module
    docstring).

    >>> source_digest({"a.py": "00"}) == source_digest({"a.py": "01"})
    False
    """
    h = hashlib.sha256()
    for key in sorted(files):
        h.update(f"{key}\0{files[key]}\n".encode())
    return h.hexdigest()


def _git(*args: str, data: bytes | None = None) -> bytes | None:
    root = _package_dir("bounds").parent
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], input=data, capture_output=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def _committed_files(head: str) -> dict[str, str] | None:
    """SHA-256 of the packages' source files in commit ``head`` of the git checkout the
    packages sit in, keyed like :func:`source_files`; ``None`` when that tree has no such
    packages at its top (an installed copy inside some other repository, say)."""
    listing = _git("ls-tree", "-r", "--full-tree", head, "--", *PACKAGES)
    if not listing:
        return None
    blobs = {}
    for line in listing.decode().splitlines():
        meta, path = line.split("\t", 1)
        if path.endswith(SOURCE_SUFFIXES) and path.split("/")[0] in PACKAGES:
            blobs[path] = meta.split()[2]
    batch = _git("cat-file", "--batch", data="".join(f"{b}\n" for b in blobs.values()).encode())
    if not blobs or batch is None:
        return None
    out, pos = {}, 0
    for path in blobs:  # "<sha> blob <size>\n<content>\n" per object, in order
        end = batch.index(b"\n", pos)
        size = int(batch[pos:end].split()[2])
        out[path] = hashlib.sha256(batch[end + 1 : end + 1 + size]).hexdigest()
        pos = end + 2 + size
    return dict(sorted(out.items()))


def commit_source_files(commit: str) -> dict[str, str]:
    """SHA-256 of the packages' source files as they were in an earlier ``commit`` of the
    git checkout the packages sit in, keyed like :func:`source_files` (read with
    ``git cat-file``; nothing is checked out), so :func:`source_digest` of it is the source hash
    a run on that commit's clean tree would have recorded.

    >>> try:
    ...     commit_source_files("0" * 40)
    ... except ValueError as exc:
    ...     print(str(exc).split(" with")[0])
    no commit 0000000000000000000000000000000000000000
    """
    full = _git("rev-parse", "--verify", "-q", f"{commit}^{{commit}}")
    files = _committed_files(full.decode().strip()) if full else None
    if files is None:
        raise ValueError(
            f"no commit {commit} with the packages {', '.join(PACKAGES)} in the git checkout "
            "the packages sit in"
        )
    return files


def backfilled(
    commit: str,
    derivation: str,
    *,
    command: str | None,
    wall_seconds: float | None,
    started: str | None = None,
    versions: Mapping[str, str] | None = None,
    historical: str | None = None,
) -> dict[str, Any]:
    """Provenance reconstructed afterwards for a result written before the project recorded
    provenance: the fields of :func:`provenance`, with the source hashes of ``commit``'s tree
    (:func:`commit_source_files`), ``"backfilled": true`` and ``derivation`` saying how the
    commit (and the command) were found. ``dirty`` is ``null`` (not known) and ``data_files``
    empty (not recorded); ``historical`` (a reason) marks a record of older code kept on
    purpose, which ``make results`` does not regenerate.

    >>> try:
    ...     backfilled("0" * 40, "example", command=None, wall_seconds=None)
    ... except ValueError as exc:
    ...     print(str(exc)[:9])
    no commit
    """
    files = commit_source_files(commit)
    full = _git("rev-parse", f"{commit}^{{commit}}")
    record: dict[str, Any] = {
        "schema": SCHEMA,
        "commit": full.decode().strip() if full else commit,
        "dirty": None,
        "source_sha256": source_digest(files),
        "source_files": files,
        "data_files": {},
        "command": command,
        "wall_seconds": wall_seconds,
        "started": started,
        "versions": dict(versions or {}),
        "backfilled": True,
        "derivation": derivation,
    }
    if historical:
        record["historical"] = historical
    return record


def _commit(files: Mapping[str, str]) -> tuple[str | None, bool | None]:
    """The checkout's commit and whether ``files`` (the hashed source) differ from it; both
    ``None`` outside a git checkout of the project."""
    head = _git("rev-parse", "HEAD")
    if head is None:
        return None, None
    commit = head.decode().strip()
    committed = _committed_files(commit)
    if committed is None:
        return None, None
    return commit, committed != dict(files)


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for lib in ("netcoreset", "numpy", "scipy", "torch"):
        try:
            out[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            out[lib] = "absent"
    return out


#: The environment variables that choose the numeric kernels of torch, MKL, OpenBLAS and
#: NumPy (the Makefile sets them to the AVX2 kernels on an AVX-512 machine).
NUMERIC_PATH_VARIABLES = (
    "ATEN_CPU_CAPABILITY",
    "MKL_CBWR",
    "OPENBLAS_CORETYPE",
    "NPY_DISABLE_CPU_FEATURES",
)


def numeric_paths() -> dict[str, Any]:
    """The numeric code paths a result ran on: whether the CPU has AVX-512 (``avx512f``)
    and the AVX2 pins in effect (:data:`NUMERIC_PATH_VARIABLES`, None where unset). Results
    computed on the same paths agree bit for bit; a model trained on AVX-512 kernels differs
    from one trained on AVX2 kernels.

    >>> sorted(numeric_paths())
    ['avx512f', 'pins']
    """
    return {
        "avx512f": _has_avx512f(),
        "pins": {v: os.environ.get(v) for v in NUMERIC_PATH_VARIABLES},
    }


@functools.lru_cache(maxsize=1)
def _has_avx512f() -> bool | None:
    """Whether the CPU has AVX-512 (None where ``/proc/cpuinfo`` is absent: not Linux),
    read once."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").split()
    except OSError:
        return None
    return "avx512f" in flags


def avx512_kernels() -> bool:
    """Whether torch and MKL may run AVX-512 kernels here: the CPU has AVX-512 and they are
    not pinned to AVX2 (``ATEN_CPU_CAPABILITY=avx2`` and ``MKL_CBWR=AVX2``).

    >>> isinstance(avx512_kernels(), bool)
    True
    """
    pinned = (
        os.environ.get("ATEN_CPU_CAPABILITY") == "avx2" and os.environ.get("MKL_CBWR") == "AVX2"
    )
    return bool(numeric_paths()["avx512f"]) and not pinned


def provenance(
    command: str,
    *,
    data_files: Iterable[str | Path] = (),
    data_arrays: Mapping[str, str] | None = None,
    wall_seconds: float | None = None,
    files: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The provenance object of a result (fields in the module docstring).

    Parameters
    ----------
    command
        The command that produced the result, as a user would type it.
    data_files
        The data files read; each is hashed.
    data_arrays
        Fingerprints of data that came as arrays from a library (name to SHA-256).
    wall_seconds
        The run's wall time; may be filled in later.
    files
        Per-file source hashes taken when the run started (:func:`source_files`); taken now
        when not given.

    Examples
    --------
    >>> p = provenance("netcoreset demo", wall_seconds=1.5)
    >>> p["schema"], p["command"], p["wall_seconds"], len(p["source_sha256"])
    ('netcoreset.provenance/1', 'netcoreset demo', 1.5, 64)
    >>> compare(p)["status"]
    'current'
    """
    files = dict(files) if files is not None else source_files()
    commit, dirty = _commit(files)
    started_ago = wall_seconds or 0.0
    data = {
        str(Path(p).name): {"sha256": file_sha256(p), "bytes": Path(p).stat().st_size}
        for p in data_files
    }
    for name, digest in (data_arrays or {}).items():
        data[name] = {"arrays_sha256": digest}
    return {
        "schema": SCHEMA,
        "commit": commit,
        "dirty": dirty,
        "source_sha256": source_digest(files),
        "source_files": files,
        "data_files": data,
        "command": command,
        "wall_seconds": wall_seconds,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - started_ago)),
        "versions": _versions(),
        "numeric_paths": numeric_paths(),
    }


def data_sources(splits: Any) -> dict[str, Any]:
    """The ``data_files`` and ``data_arrays`` arguments of :func:`provenance` for a
    :class:`~netcoreset.verification.experiments.datasets.DataSplits`: the IDX or CIFAR-10
    files of a folder, else the fingerprint of the arrays a library bundles.

    >>> from netcoreset.verification.experiments.datasets import load_dataset
    >>> src = data_sources(load_dataset("digits"))
    >>> src["data_files"], list(src["data_arrays"])
    ([], ['digits'])
    """
    from .formats import find_idx_files

    root = Path(splits.source)
    if root.is_dir():
        idx = find_idx_files(root)
        paths = sorted(idx.values()) if idx else sorted(p for p in root.iterdir() if p.is_file())
        return {"data_files": paths, "data_arrays": None}
    return {"data_files": [], "data_arrays": {splits.name: splits.fingerprint}}


def _module(key: str) -> str:
    stem = key.removesuffix(".py").removesuffix(".c").removesuffix("/__init__")
    return "netcoreset." + stem.replace("/", ".")


def compare(recorded: Mapping[str, Any] | None, current: Mapping[str, str] | None = None) -> dict:
    """Whether a result's recorded provenance matches the source installed now.

    Returns ``{"status": s, "changed": [...], "commit": ...}`` where ``s`` is ``"current"``
    (same source hash), ``"stale"`` (``changed`` lists the modules added, removed or edited
    since, as dotted names) or ``"not recorded"`` (no provenance in the file).

    >>> old = {"source_files": {"bounds/a.py": "1", "sampler/b.py": "2"}, "commit": "abc"}
    >>> compare(old, {"bounds/a.py": "1", "sampler/b.py": "3"})["changed"]
    ['netcoreset.sampler.b']
    >>> compare(None)["status"]
    'not recorded'
    """
    if not recorded or "source_files" not in recorded:
        return {"status": "not recorded", "changed": [], "commit": None}
    now = dict(current) if current is not None else source_files()
    then = dict(recorded["source_files"])
    changed = sorted(_module(k) for k in set(now) | set(then) if now.get(k) != then.get(k))
    return {
        "status": "stale" if changed else "current",
        "changed": changed,
        "commit": recorded.get("commit"),
    }
