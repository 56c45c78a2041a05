"""The on-disk format of a saved compression: written whole or not at all, read only if intact.

A result folder holds two files:

``model.safetensors``
    ``layers.{i}.weight`` and ``layers.{i}.bias``, bit-exact; its header metadata holds
    ``content_sha256``, the SHA-256 of the canonical JSON of ``metadata.json``'s content.
``metadata.json``
    ``format``, ``version`` (2), ``layers`` (``[in, out, has_bias]`` each), ``flatten`` and
    ``report``, plus ``weights_sha256``, the SHA-256 of ``model.safetensors``.

Each file vouches for the other, so a truncated file, a flipped byte, or the metadata of one
run next to the weights of another is refused. Version 1 (netcoreset 0.1.0: no checksums,
no ``flatten``) is read only when the caller opts in (``allow_unverified=True``).

Saving writes to a temporary folder next to the target, flushes each file and the folder to
disk (``fsync``) and renames the folder into place; an existing result is first renamed
aside and, once the new one is in place, its two files are deleted and the emptied folder
removed. A save deletes nothing else: a folder holding any other file is refused before
anything is written, names are used literally (never as patterns), and a save killed
between the two renames leaves the previous result in ``.NAME.netcoreset-save-*.old``,
which :func:`read_result` names. Saves into one folder are serialised by an exclusive lock
(``flock``) on the parent folder, held while the target is checked and replaced; a save that
waits longer than :data:`LOCK_TIMEOUT` seconds fails with a ``ValueError`` and changes
nothing. Reading checks sizes first: ``metadata.json`` may hold at most
:data:`MAX_METADATA_BYTES`, and only regular files are read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

__all__ = [
    "StoredResult",
    "write_result",
    "read_result",
    "FORMAT",
    "VERSION",
    "LOCK_TIMEOUT",
    "MAX_METADATA_BYTES",
]

FORMAT = "netcoreset-compressed"
VERSION = 2
_META, _WEIGHTS = "metadata.json", "model.safetensors"
_OWN_FILES = frozenset({_META, _WEIGHTS})
_TAG = "netcoreset-save-"
#: Seconds a save waits for another save into the same parent folder before it gives up.
LOCK_TIMEOUT = 60.0
#: The largest ``metadata.json`` read (bytes); a saved report is a few kilobytes.
MAX_METADATA_BYTES = 64 << 20


@dataclass
class StoredResult:
    """What a result folder holds, checked."""

    weights: list[torch.Tensor]
    biases: list[torch.Tensor | None]
    flatten: bool
    report: dict[str, Any]
    version: int


def _canonical(content: dict[str, Any]) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _is_result(path: Path) -> bool:
    try:
        if not _regular(path / _META) or (path / _META).stat().st_size > MAX_METADATA_BYTES:
            return False
        meta = json.loads((path / _META).read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        return False
    return isinstance(meta, dict) and meta.get("format") == FORMAT


def _regular(path: Path) -> bool:
    """Whether ``path`` is a regular file (following links; no FIFO, device or folder)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def _check_target(path: Path) -> None:
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise ValueError(f"cannot save to {path}: {parent} is a file, not a folder")
    if path.is_symlink():
        raise ValueError(f"cannot save to {path}: it is a symbolic link (nothing was changed)")
    if path.exists() and not path.is_dir():
        raise ValueError(f"cannot save to {path}: it is a file, not a folder")
    if not path.is_dir():
        return
    names = set(os.listdir(path))
    if names and not _is_result(path):
        raise ValueError(
            f"cannot save to {path}: the folder holds files that are not a saved compression "
            "(choose a new or empty folder; nothing was changed)"
        )
    others = sorted(names - _OWN_FILES)
    if others or any(not _regular(path / n) or (path / n).is_symlink() for n in names):
        raise ValueError(
            f"cannot save to {path}: besides a saved compression the folder holds "
            f"{', '.join(others[:3]) or 'links or special files'}, which a save would not "
            "keep (move them or choose another folder; nothing was changed)"
        )


@contextlib.contextmanager
def _locked(folder: Path, target: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``folder`` (saves into it wait for each other); a
    ``ValueError`` after ``timeout`` seconds (default :data:`LOCK_TIMEOUT`). A lock dies with
    its process, so a killed save never blocks the next one."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        deadline = time.monotonic() + (LOCK_TIMEOUT if timeout is None else timeout)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ValueError(
                        f"cannot save to {target}: another save into {folder} has held it for "
                        f"more than {LOCK_TIMEOUT:g} s (nothing was changed)"
                    ) from None
                time.sleep(0.01)
        yield
    finally:
        os.close(fd)  # releases the lock


def write_result(
    path: Path,
    *,
    weights: list[torch.Tensor],
    biases: list[torch.Tensor | None],
    flatten: bool,
    report: dict[str, Any],
) -> Path:
    """Write a result folder at ``path`` atomically (see the module docstring)."""
    from safetensors.torch import save_file

    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise ValueError(f"cannot save to {path}: {parent} is a file, not a folder")
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path.parent, path):  # fail before writing anything (under the lock: another
        _check_target(path)  # save may be between its two renames)
    content = {
        "format": FORMAT,
        "version": VERSION,
        "layers": [
            [int(w.shape[1]), int(w.shape[0]), b is not None]
            for w, b in zip(weights, biases, strict=True)
        ],
        "flatten": bool(flatten),
        "report": report,
    }
    tensors = {}
    for idx, (w, b) in enumerate(zip(weights, biases, strict=True)):
        tensors[f"layers.{idx}.weight"] = w.detach().cpu().contiguous()
        if b is not None:
            tensors[f"layers.{idx}.bias"] = b.detach().cpu().contiguous()
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.{_TAG}", suffix=".tmp", dir=path.parent))
    try:
        sha_content = hashlib.sha256(_canonical(content)).hexdigest()
        save_file(tensors, str(tmp / _WEIGHTS), metadata={"content_sha256": sha_content})
        _fsync(tmp / _WEIGHTS)
        meta = dict(content, weights_sha256=_sha256_file(tmp / _WEIGHTS))
        with open(tmp / _META, "w") as fh:
            fh.write(json.dumps(meta, indent=2, allow_nan=False))
            fh.flush()
            os.fsync(fh.fileno())
        _fsync(tmp)
        with _locked(path.parent, path):
            _check_target(path)  # again, now that no other save can change it
            _replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return path


def _replace(new: Path, path: Path) -> None:
    """Rename the folder ``new`` to ``path``; an existing result at ``path`` is moved aside
    first and then only its two files are deleted (the caller holds the lock)."""
    old = None
    if path.exists():
        if not any(path.iterdir()):
            path.rmdir()
        else:
            old = Path(
                tempfile.mkdtemp(prefix=f".{path.name}.{_TAG}", suffix=".old", dir=path.parent)
            )
            os.replace(path, old)  # an empty folder is replaced by a rename
    os.rename(new, path)
    _fsync(path.parent)
    if old is not None:
        for name in _OWN_FILES:
            with contextlib.suppress(FileNotFoundError):
                (old / name).unlink()
        with contextlib.suppress(OSError):  # not empty: something else appeared; keep it
            old.rmdir()


def _leftovers(path: Path) -> list[Path]:
    """Previous results that interrupted saves left next to ``path`` (literal names)."""
    prefix = f".{path.name}.{_TAG}"
    try:
        names = os.listdir(path.parent)
    except OSError:
        return []
    return sorted(
        path.parent / n
        for n in names
        if n.startswith(prefix) and n.endswith(".old") and _is_result(path.parent / n)
    )


def _damaged(path: Path, what: str) -> ValueError:
    return ValueError(f"{path} is not an intact saved compression: {what}")


def _read_meta(path: Path) -> dict[str, Any]:
    meta_file, tensor_file = path / _META, path / _WEIGHTS
    if not path.is_dir() or not _regular(meta_file) or not _regular(tensor_file):
        aside = _leftovers(path) if not path.exists() else []
        hint = f"; an interrupted save left the previous result in {aside[-1]}" if aside else ""
        raise ValueError(f"{path} holds no saved compression ({_META}, {_WEIGHTS}){hint}")
    if meta_file.stat().st_size > MAX_METADATA_BYTES:
        raise _damaged(path, f"{_META} is larger than {MAX_METADATA_BYTES} bytes")
    try:
        meta = json.loads(meta_file.read_text())
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise _damaged(path, f"{_META} is not readable JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{meta_file} is not a netcoreset compression")
    if meta.get("version") not in (1, VERSION):
        raise ValueError(
            f"{meta_file} has format version {meta.get('version')!r}; this netcoreset reads 1 and 2"
        )
    return meta


def _check_layers(path: Path, meta: dict[str, Any]) -> list[tuple[int, int, bool]]:
    layers = meta.get("layers")
    ok = (
        isinstance(layers, list)
        and layers
        and all(
            isinstance(lay, list)
            and len(lay) == 3
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in lay[:2])
            and isinstance(lay[2], bool)
            for lay in layers
        )
    )
    if not ok or not isinstance(layers, list) or not isinstance(meta.get("report"), dict):
        raise _damaged(path, f"{_META} lacks a valid 'layers' list or 'report'")
    return [(int(a), int(b), bool(c)) for a, b, c in layers]


def read_result(
    path: Path, device: str | torch.device = "cpu", *, allow_unverified: bool = False
) -> StoredResult:
    """Read and check a result folder (see the module docstring); ``ValueError`` if damaged,
    or if it is of version 1 (no checksums) and ``allow_unverified`` is false."""
    from safetensors import SafetensorError, safe_open

    meta = _read_meta(path)
    layers = _check_layers(path, meta)
    version = int(meta["version"])
    if version < 2 and not allow_unverified:
        raise ValueError(
            f"{path} is a result of format version 1, which has no checksums: its weights "
            "cannot be verified. Only if you trust the folder: load it with "
            "allow_unverified=True (or save it again with this netcoreset)"
        )
    if version >= 2 and _sha256_file(path / _WEIGHTS) != meta.get("weights_sha256"):
        raise _damaged(path, f"{_WEIGHTS} does not match the checksum in {_META}")
    try:
        with safe_open(str(path / _WEIGHTS), framework="pt", device=str(device)) as fh:
            header = fh.metadata() or {}
            tensors = {name: fh.get_tensor(name) for name in fh.keys()}  # noqa: SIM118
    except (SafetensorError, RuntimeError, OSError, ValueError) as exc:
        raise _damaged(path, f"{_WEIGHTS} is not readable ({' '.join(str(exc).split())})") from None
    if version >= 2:
        content = {k: v for k, v in meta.items() if k != "weights_sha256"}
        if header.get("content_sha256") != hashlib.sha256(_canonical(content)).hexdigest():
            raise _damaged(path, f"{_META} does not match the checksum in {_WEIGHTS}")
    weights, biases = [], []
    for idx, (n_in, n_out, has_bias) in enumerate(layers):
        w = tensors.pop(f"layers.{idx}.weight", None)
        b = tensors.pop(f"layers.{idx}.bias", None) if has_bias else None
        if (
            w is None
            or tuple(w.shape) != (n_out, n_in)
            or (has_bias and (b is None or tuple(b.shape) != (n_out,)))
        ):
            raise _damaged(path, f"layer {idx} is missing or has the wrong shape")
        if idx and n_in != layers[idx - 1][1]:
            raise _damaged(
                path, f"layer {idx} takes {n_in} inputs, layer {idx - 1} gives {layers[idx - 1][1]}"
            )
        weights.append(w)
        biases.append(b)
    if tensors:
        raise _damaged(path, f"unexpected tensors {sorted(tensors)[:3]}")
    flatten = meta.get("flatten", False)
    if not isinstance(flatten, bool):
        raise _damaged(path, "'flatten' must be true or false")
    return StoredResult(weights, biases, flatten, meta["report"], version)
