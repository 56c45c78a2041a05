r"""Stored codes of published generalisation certificates, and their recheck.

A certificate's bound is a statement about one network: the one its code describes. Each
published certificate stores that network in coded form next to its result JSON
(``<name>.code.npz``, :func:`code_path`), so that a reader can decode it, recount its errors
on the certification points, recompute its description length and its bound, and compare
each number with the JSON (:func:`recheck`), instead of trusting the JSON.

An **entry** (:class:`CodeEntry`) is one coded network, of one of three kinds:

``"quantization"``
    A quantised sparse network: the bit-packed non-zero pattern of each layer's
    :math:`[W \mid b]`, the symbols of its non-zeros (row-major) and the codebooks in the
    precision the description pays for (``float16``/``float32``/``float64``). The bits a
    certificate pays for (positions, values, codebooks, widths, inputs, the choices of the
    declared grid) are recomputed from these by
    :func:`~.certificate.certify_quantization`.
``"subspace"``
    Quantised coordinates :math:`z` of a random subspace :math:`\theta_0 + P z`: the
    codebook, the symbols, the spec (widths, dimension, seed of :math:`\theta_0` and
    :math:`P`) and, for a data-dependent origin, the origin's float32 parameters
    (:mod:`~.subspace`), and, for a basis restricted to a mask
    (:math:`\theta_0 + \operatorname{diag}(m) P z`, e.g. the non-zeros of a CoreNet-compressed
    prior), the bit-packed mask :math:`m`; rechecked by :func:`~.certificate.certify_subspace`.
``"network"``
    A network fixed before the certification points were seen (the pre-registered prior, or
    the prior compressed on design points), as float32 :math:`[W \mid b]` per layer; its
    bound is the exact binomial tail :func:`~netcoreset.bounds.occam_bound` at 0 bits, or,
    when it is one configuration of a declared grid, at the grid's choice bits
    (:meth:`~.certificate.SearchGrid.prior_bits`, the configuration checked to lie in it).

Each entry names the row of the JSON it certifies (a key path, ``row``), how its inputs are
transformed (``pool``, :func:`~.search.pool_inputs`), the certification points (a data set
name, the part and the SHA-256 of the points, :data:`POINTS`) and what the certificate needs
besides the network (the declared grid, the configuration, delta). The JSON row records the
entry's SHA-256 (``code_sha256``, :meth:`CodeEntry.sha256`), so a code that was changed in
any bit no longer matches its row.

The file is a compressed NumPy ``.npz`` archive read with ``allow_pickle=False`` (no code
ever runs on load): a UTF-8 JSON header (``header``, at most :data:`MAX_HEADER_BYTES`) and
plain arrays, the whole file (packed and unpacked) at most :data:`MAX_CODE_BYTES`, every
member's CRC-32 verified. Every array's dtype and shape are checked against the header before
use. Files are written whole or not at all (:func:`~.files.atomic_write`).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import stat
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from netcoreset.bounds import occam_bound, pac_bayes_bound
from netcoreset.sampler import Quantization, build_sequential, linear_layers

from .certificate import (
    CODE_DIMENSIONS,
    Certificate,
    SearchGrid,
    certify_quantization,
    certify_subspace,
    code_variants,
)
from .files import atomic_write
from .search import pool_inputs
from .subspace import SubspaceQuantization, SubspaceSpec, subspace_model

__all__ = [
    "FORMAT",
    "VERSION",
    "MAX_CODE_BYTES",
    "MAX_HEADER_BYTES",
    "POINTS",
    "CodeEntry",
    "CodeError",
    "DataUnavailable",
    "Recheck",
    "code_path",
    "quantization_entry",
    "subspace_entry",
    "network_entry",
    "certificate_entry",
    "record_codes",
    "decode",
    "save_code",
    "load_code",
    "load_points",
    "recheck",
]

FORMAT = "netcoreset-certificate-code"
VERSION = 1
#: Largest code file read (bytes).
MAX_CODE_BYTES = 64 << 20
#: Largest JSON header read (bytes).
MAX_HEADER_BYTES = 1 << 20
#: The certification points a code can name: data set -> its loader's training part.
POINTS = ("digits", "mnist5k", "fashion-mnist", "mnist")
_KINDS = ("quantization", "subspace", "network")
_BOOK_DTYPES = {"float16": np.float16, "float32": np.float32, "float64": np.float64}
_SYMBOL_DTYPES = (np.uint8, np.uint16, np.uint32, np.int64)


class CodeError(ValueError):
    """A code file that is damaged, not a certificate code, or does not match its JSON."""


class DataUnavailable(FileNotFoundError):
    """The certification points of a code are not on this machine (e.g. ``make data`` not
    run)."""


def code_path(json_path: str | Path) -> Path:
    """Where the code of a result JSON lives: ``<name>.code.npz`` next to it.

    >>> code_path("docs/results/generalization_digits.json").as_posix()
    'docs/results/generalization_digits.code.npz'
    """
    p = Path(json_path)
    return p.with_name(p.stem + ".code.npz")


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


@dataclass(frozen=True)
class CodeEntry:
    """One coded network: ``kind``, ``meta`` (JSON data) and ``arrays`` (name -> array)."""

    kind: str
    meta: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(repr=False)

    @property
    def sha256(self) -> str:
        """SHA-256 over the kind, the canonical JSON of ``meta`` and each array's name,
        dtype, shape and bytes (sorted by name): the identity a JSON row records.

        >>> e = network_entry(nn.Sequential(nn.Linear(2, 1)), row=["rows", 0], points={},
        ...                   delta=0.05)
        >>> len(e.sha256)
        64
        """
        h = hashlib.sha256(self.kind.encode() + b"\0" + _canonical(self.meta))
        for name in sorted(self.arrays):
            a = np.ascontiguousarray(self.arrays[name])
            h.update(f"\0{name}\0{a.dtype.str}\0{a.shape}\0".encode())
            h.update(a.tobytes())
        return h.hexdigest()


def _symbols(s: np.ndarray, size: int) -> np.ndarray:
    for dt in _SYMBOL_DTYPES:
        if size <= np.iinfo(dt).max + 1:
            return np.asarray(s).astype(dt)
    raise CodeError(f"a codebook of {size} levels is too large")  # pragma: no cover


def _common(row: Sequence[Any], points: Mapping[str, Any], pool: int, **meta: Any) -> dict:
    if isinstance(pool, bool) or not isinstance(pool, int) or pool < 1:
        raise ValueError(f"pool must be an integer >= 1; got {pool!r}")
    return {"row": list(row), "points": dict(points), "pool": pool, **meta}


def quantization_entry(
    q: Quantization,
    *,
    row: Sequence[Any],
    points: Mapping[str, Any],
    certify: Mapping[str, Any],
    pool: int = 1,
) -> CodeEntry:
    """The code of a :class:`~netcoreset.sampler.Quantization`: bit-packed masks, symbols,
    codebooks in their described precision. ``certify`` holds what
    :func:`~.certificate.certify_quantization` needs besides the network: ``grid``
    (:meth:`SearchGrid.to_dict`), ``setting``, ``config``, ``declared_widths``, ``delta``;
    with ``"variants": True`` the row reports the bits and bound of every code variant
    (:func:`~.certificate.code_variants`, dictionaries) instead of the best one.

    >>> from netcoreset.sampler import quantize
    >>> q = quantize(nn.Sequential(nn.Linear(3, 2)), 2, codebook_dtype="float16")
    >>> e = quantization_entry(q, row=["best"], points={}, certify={})
    >>> sorted(e.arrays), decode_quantization(e).codebooks[0].tolist() == q.codebooks[0].tolist()
    (['codebook0', 'mask0', 'symbols0'], True)
    """
    arrays: dict[str, np.ndarray] = {}
    for i, (mask, sym) in enumerate(zip(q.masks, q.symbols, strict=True)):
        arrays[f"mask{i}"] = np.packbits(mask.astype(bool).ravel())
        arrays[f"symbols{i}"] = _symbols(sym, q.codebooks[q.codebook_of(i)].size)
    for i, book in enumerate(q.codebooks):
        held = book.astype(_BOOK_DTYPES[q.codebook_dtype])
        if not np.array_equal(held.astype(np.float64), book):
            raise ValueError(f"codebook {i} is not exact in {q.codebook_dtype}")
        arrays[f"codebook{i}"] = held
    meta = _common(row, points, pool, certify=dict(certify), levels=int(q.levels),
                   scheme=q.scheme, shared=bool(q.shared), has_bias=[bool(b) for b in q.has_bias],
                   shapes=[list(map(int, m.shape)) for m in q.masks],
                   codebook_dtype=q.codebook_dtype)  # fmt: skip
    return CodeEntry("quantization", meta, arrays)


def subspace_entry(
    spec: SubspaceSpec,
    codebook: np.ndarray,
    symbols: np.ndarray,
    levels: int,
    codebook_dtype: str,
    *,
    row: Sequence[Any],
    points: Mapping[str, Any],
    certify: Mapping[str, Any],
    origin: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
    pool: int = 1,
) -> CodeEntry:
    """The code of quantised subspace coordinates (``codebook[symbols]`` is :math:`z`),
    with the origin's parameters when it is not the seed's :math:`\\theta_0` and the 0/1
    ``mask`` restricting the basis when there is one (:func:`~.subspace.subspace_basis`).
    ``certify``: ``grid``, ``config``, ``delta`` (:func:`~.certificate.certify_subspace`).

    >>> spec = SubspaceSpec((2, 2), 3, seed=0)
    >>> e = subspace_entry(spec, np.array([-0.5, 0.5]), np.array([0, 1, 1]), 2, "float32",
    ...                    row=["rows", 1], points={}, certify={})
    >>> decode(e)(torch.zeros(1, 2)).shape
    torch.Size([1, 2])
    """
    book = np.asarray(codebook, dtype=np.float64)
    held = book.astype(_BOOK_DTYPES[codebook_dtype])
    if not np.array_equal(held.astype(np.float64), book):
        raise ValueError(f"the codebook is not exact in {codebook_dtype}")
    arrays = {"codebook": held, "symbols": _symbols(symbols, book.size)}
    if origin is not None:
        arrays["origin"] = torch.as_tensor(origin).detach().cpu().float().numpy().ravel()
    meta = _common(row, points, pool, certify=dict(certify), widths=list(spec.widths),
                   dim=spec.dim, seed=spec.seed, levels=int(levels),
                   codebook_dtype=codebook_dtype, has_origin=origin is not None)  # fmt: skip
    if mask is not None:  # only then: the codes stored without a mask keep their SHA-256
        arrays["mask"] = _pack_mask(mask, spec.num_params)
        meta["has_mask"] = True
    return CodeEntry("subspace", meta, arrays)


def _pack_mask(mask: torch.Tensor, size: int) -> np.ndarray:
    m = torch.as_tensor(mask).detach().cpu().reshape(-1).numpy()
    if m.size != size or not np.isin(m, (0, 1)).all():
        raise ValueError(f"mask must hold {size} values in {{0, 1}}")
    return np.packbits(m.astype(bool))


def network_entry(
    model: nn.Module,
    *,
    row: Sequence[Any],
    points: Mapping[str, Any],
    delta: float,
    pool: int = 1,
    certify: Mapping[str, Any] | None = None,
    flat: bool = False,
) -> CodeEntry:
    """A network as float32 ``[W | b]`` per layer: a classifier fixed before the
    certification points were seen, certified at 0 bits (the exact binomial tail at
    ``delta``), or, with ``certify`` = ``{"grid": ..., "setting": ..., "config": ...}``, as
    one configuration of that grid at its choice bits
    (:meth:`~.certificate.SearchGrid.prior_bits`). With ``flat=True`` the layers are stored
    as one vector (each layer's ``[W | b]`` row by row, :func:`~.subspace.prior_origin`'s
    layout), so that a subspace entry with this network as its origin shares the array.

    >>> net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2))
    >>> e = network_entry(net, row=["rows", 0], points={}, delta=0.025)
    >>> x = torch.rand(4, 2)
    >>> torch.equal(decode(e)(x), net(x))
    True
    """
    arrays, has_bias = {}, []
    for i, lay in enumerate(linear_layers(model)):
        w = lay.weight.detach().cpu().float()
        b = lay.bias
        arrays[f"layer{i}"] = (w if b is None else torch.cat([w, b.detach().cpu().float()[:, None]],
                                                               1)).numpy()  # fmt: skip
        has_bias.append(b is not None)
    meta = _common(row, points, pool, has_bias=has_bias, delta=float(delta))
    if flat:  # only then: the codes stored layer by layer keep their SHA-256
        meta["shapes"] = [list(arrays[f"layer{i}"].shape) for i in range(len(has_bias))]
        arrays = {"params": np.concatenate([arrays.pop(f"layer{i}").ravel()
                                            for i in range(len(has_bias))])}  # fmt: skip
    if certify is not None:  # only then: the codes stored without a grid keep their SHA-256
        missing = {"grid", "setting", "config"} - set(certify)
        if missing:
            raise ValueError(f"certify lacks {', '.join(sorted(missing))}")
        meta["certify"] = dict(certify)
    return CodeEntry("network", meta, arrays)


def certificate_entry(
    certificate: Certificate,
    *,
    grid: SearchGrid,
    row: Sequence[Any],
    points: Mapping[str, Any],
    pool: int = 1,
    origin: torch.Tensor | None = None,
) -> CodeEntry:
    """The code of a :class:`~.certificate.Certificate` whose ``network`` is a
    :class:`~netcoreset.sampler.Quantization` (:func:`quantization_entry`) or a
    :class:`~.subspace.SubspaceQuantization` (:func:`subspace_entry`, ``origin`` its
    data-dependent origin if any), certified under ``grid``.

    >>> from netcoreset.sampler import quantize
    >>> net = nn.Sequential(nn.Linear(4, 2))
    >>> x, y = torch.rand(50, 4), torch.randint(0, 2, (50,))
    >>> grid = SearchGrid({"paper": {"levels": (4,)}})
    >>> c = certify_quantization(quantize(net, 4), x, y, grid=grid, setting="paper",
    ...                          config={"levels": 4}, declared_widths=[4, 2])
    >>> e = certificate_entry(c, grid=grid, row=["best"], points={})
    >>> e.kind, _recompute(e, x, y)["bound"] == c.bound
    ('quantization', True)
    """
    net = certificate.network
    certify = {"grid": grid.to_dict(), "setting": certificate.setting,
               "config": certificate.config, "delta": certificate.delta}  # fmt: skip
    if isinstance(net, Quantization):
        certify["declared_widths"] = certificate.extra["declared_widths"]
        return quantization_entry(net, row=row, points=points, certify=certify, pool=pool)
    if isinstance(net, SubspaceQuantization):
        return subspace_entry(net.spec, net.codebook, net.symbols, net.levels, net.codebook_dtype,
                              row=row, points=points, certify=certify, origin=origin,
                              pool=pool)  # fmt: skip
    raise ValueError(f"a certificate of a {type(net).__name__} has no code (its network is "
                     "not a Quantization or a SubspaceQuantization)")  # fmt: skip


def record_codes(
    result: dict[str, Any], entries: Sequence[CodeEntry], json_path: str | Path
) -> Path:
    """Save ``entries`` as the code of the result that will be written to ``json_path``
    (:func:`code_path`) and record each entry's SHA-256 as ``code_sha256`` in the row of
    ``result`` it names; write the JSON after this call. Returns the code's path.

    >>> import tempfile
    >>> result = {"rows": [{"bound": 0.5}]}
    >>> e = network_entry(nn.Sequential(nn.Linear(2, 1)), row=["rows", 0], points={},
    ...                   delta=0.05)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     name = record_codes(result, [e], f"{d}/r.json").name
    >>> name, result["rows"][0]["code_sha256"] == e.sha256
    ('r.code.npz', True)
    """
    for e in entries:
        row = _row_of(result, e.meta["row"])
        if not isinstance(row, dict):
            raise ValueError(f"row {e.meta['row']!r} of the result is not an object")
        row["code_sha256"] = e.sha256
    return save_code(code_path(json_path), entries)


def _split(mats: Sequence[np.ndarray], has_bias: Sequence[bool]) -> nn.Sequential:
    pairs = [(torch.from_numpy(np.ascontiguousarray(m)).float(), bool(b))
             for m, b in zip(mats, has_bias, strict=True)]  # fmt: skip
    return build_sequential([(t[:, :-1] if b else t).contiguous() for t, b in pairs],
                            [t[:, -1].contiguous() if b else None for t, b in pairs])  # fmt: skip


def decode_quantization(entry: CodeEntry) -> Quantization:
    """The :class:`~netcoreset.sampler.Quantization` a ``"quantization"`` entry codes (its
    float32 model built from masks, symbols and codebooks, as
    :func:`~netcoreset.sampler.quantize` builds it)."""
    m, a = entry.meta, entry.arrays
    books = [a[f"codebook{i}"].astype(np.float64) for i in range(_n_books(m))]
    masks, symbols, mats = [], [], []
    for i, (rows, cols) in enumerate(m["shapes"]):
        mask = np.unpackbits(a[f"mask{i}"], count=rows * cols).astype(bool).reshape(rows, cols)
        sym = a[f"symbols{i}"].astype(np.int64)
        full = np.zeros((rows, cols))
        full[mask] = books[0 if m["shared"] else i][sym]
        masks.append(mask)
        symbols.append(sym)
        mats.append(full)
    model = _split(mats, m["has_bias"])
    return Quantization(model, int(m["levels"]), m["scheme"], bool(m["shared"]), books, masks,
                        symbols, list(m["has_bias"]), m["codebook_dtype"])  # fmt: skip


def _spec(entry: CodeEntry) -> SubspaceSpec:
    m = entry.meta
    return SubspaceSpec(tuple(m["widths"]), int(m["dim"]), int(m["seed"]))


def decode(entry: CodeEntry) -> nn.Sequential:
    """The float32 network an entry codes (what its certificate is about)."""
    a = entry.arrays
    if entry.kind == "quantization":
        return decode_quantization(entry).model
    if entry.kind == "subspace":
        z = a["codebook"].astype(np.float64)[a["symbols"].astype(np.int64)]
        origin = torch.from_numpy(a["origin"]) if "origin" in a else None
        return subspace_model(_spec(entry), z, origin, _unpack_mask(entry))
    return _split(_network_layers(entry), entry.meta["has_bias"])


def _network_layers(entry: CodeEntry) -> list[np.ndarray]:
    """A network entry's ``[W | b]`` per layer (stored one by one, or as one flat vector)."""
    a, m = entry.arrays, entry.meta
    if "shapes" not in m:
        return [a[f"layer{i}"] for i in range(len(m["has_bias"]))]
    out, offset = [], 0
    for rows, cols in m["shapes"]:
        out.append(a["params"][offset : offset + rows * cols].reshape(rows, cols))
        offset += rows * cols
    return out


def _unpack_mask(entry: CodeEntry) -> torch.Tensor | None:
    if "mask" not in entry.arrays:
        return None
    size = _spec(entry).num_params
    return torch.from_numpy(np.unpackbits(entry.arrays["mask"], count=size).astype(np.float32))


def save_code(path: str | Path, entries: Sequence[CodeEntry]) -> Path:
    """Write ``entries`` to ``path`` (atomically; an existing file is replaced).

    >>> import tempfile
    >>> net = nn.Sequential(nn.Linear(2, 1))
    >>> e = network_entry(net, row=["rows", 0], points={"dataset": "digits"}, delta=0.05)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     back = load_code(save_code(f"{d}/r.code.npz", [e]))
    >>> [b.sha256 == e.sha256 for b in back]
    [True]
    """
    stored: dict[str, np.ndarray] = {}
    keys: dict[str, str] = {}  # content hash -> key: an array repeated (an origin) is stored once
    listing = []
    for i, e in enumerate(entries):
        names = {}
        for name, v in sorted(e.arrays.items()):
            a = np.ascontiguousarray(v)
            digest = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode() + a.tobytes()).hexdigest()
            key = keys.setdefault(digest, f"e{i}.{name}")
            stored.setdefault(key, a)
            names[name] = [a.dtype.str, list(a.shape), key]
        listing.append({"kind": e.kind, "meta": e.meta, "arrays": names})
    blob = _canonical({"format": FORMAT, "version": VERSION, "entries": listing})
    if len(blob) > MAX_HEADER_BYTES:
        raise ValueError(f"the header holds {len(blob)} bytes (limit {MAX_HEADER_BYTES})")
    arrays = {"header": np.frombuffer(blob, dtype=np.uint8), **stored}
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)  # type: ignore[arg-type]
    if buf.tell() > MAX_CODE_BYTES:
        raise ValueError(f"the code holds {buf.tell()} bytes (limit {MAX_CODE_BYTES})")
    return atomic_write(path, lambda tmp: Path(tmp).write_bytes(buf.getvalue()))


def _damaged(path: Path, what: str) -> CodeError:
    return CodeError(f"{path}: not a valid certificate code: {what}")


def _n_books(meta: Mapping[str, Any]) -> int:
    return 1 if meta["shared"] else len(meta["shapes"])


def _check_entry(path: Path, e: CodeEntry) -> None:
    """Shapes, dtypes and ranges of an entry's arrays against its meta."""
    m, a = e.meta, e.arrays
    if e.kind == "quantization":
        books = [a.get(f"codebook{i}") for i in range(_n_books(m))]
        if any(b is None or b.ndim != 1 or b.dtype != _BOOK_DTYPES[m["codebook_dtype"]]
               or not np.isfinite(b).all() for b in books):  # fmt: skip
            raise _damaged(path, "a codebook is missing or not in its declared precision")
        for i, (rows, cols) in enumerate(m["shapes"]):
            mask, sym = a.get(f"mask{i}"), a.get(f"symbols{i}")
            if mask is None or sym is None or mask.dtype != np.uint8 or mask.shape != (
                    math.ceil(rows * cols / 8),):  # fmt: skip
                raise _damaged(path, f"layer {i}'s mask is missing or of the wrong size")
            nnz = int(np.unpackbits(mask, count=rows * cols).sum())
            book = books[0 if m["shared"] else i]
            if sym.shape != (nnz,) or (nnz and int(sym.max()) >= book.size):  # type: ignore[union-attr]
                raise _damaged(path, f"layer {i} has {nnz} non-zeros but {sym.shape} symbols, "
                               "or a symbol beyond its codebook")  # fmt: skip
    elif e.kind == "subspace":
        book, sym = a.get("codebook"), a.get("symbols")
        if book is None or sym is None or sym.shape != (int(m["dim"]),) or (
                sym.size and int(sym.max()) >= book.size):  # fmt: skip
            raise _damaged(path, "the subspace symbols do not fit the dimension or codebook")
        mask = a.get("mask")
        if bool(m.get("has_mask")) != (mask is not None) or (mask is not None and (
                mask.dtype != np.uint8 or mask.shape != (math.ceil(
                    _spec(e).num_params / 8),))):  # fmt: skip
            raise _damaged(path, "the subspace mask is missing, unexpected or of the wrong size")
    elif "shapes" in m:
        p = a.get("params")
        if p is None or p.dtype != np.float32 or len(m["shapes"]) != len(m["has_bias"]) or (
                p.shape != (sum(int(r) * int(c) for r, c in m["shapes"]),)):  # fmt: skip
            raise _damaged(path, "the network's parameters are missing or of the wrong size")
    elif any(a.get(f"layer{i}") is None for i in range(len(m["has_bias"]))):
        raise _damaged(path, "a layer of the network is missing")


def _regular_size(path: Path) -> None:
    st = path.stat()
    if not stat.S_ISREG(st.st_mode):
        raise _damaged(path, "not a regular file")
    if st.st_size > MAX_CODE_BYTES:
        raise _damaged(path, f"{st.st_size} bytes, above the limit {MAX_CODE_BYTES}")


def _check_zip(p: Path) -> None:
    """Uncompressed sizes bounded (no zip bomb), then every member's CRC-32: a flipped byte
    anywhere is refused."""
    with zipfile.ZipFile(p) as zf:
        total = sum(info.file_size for info in zf.infolist())
        if total > MAX_CODE_BYTES:
            raise _damaged(p, f"{total} bytes unpacked, above the limit {MAX_CODE_BYTES}")
        bad = zf.testzip()
    if bad is not None:
        raise _damaged(p, f"member {bad} fails its checksum")


def _entries(p: Path, z: Any) -> list[CodeEntry]:
    """The header's entries with their arrays, each checked against its declared dtype and
    shape."""
    raw = z["header"]
    if raw.dtype != np.uint8 or raw.ndim != 1 or raw.size > MAX_HEADER_BYTES:
        raise _damaged(p, "bad header")
    header = json.loads(raw.tobytes().decode("utf-8"))
    if header.get("format") != FORMAT or header.get("version") != VERSION:
        raise _damaged(p, f"format {header.get('format')!r} {header.get('version')!r}")
    entries = []
    for i, h in enumerate(header["entries"]):
        if h["kind"] not in _KINDS:
            raise _damaged(p, f"unknown kind {h['kind']!r}")
        arrays = {}
        for name, (dt, shape, key) in h["arrays"].items():
            arr = z[key]
            if arr.dtype.str != dt or list(arr.shape) != shape:
                raise _damaged(p, f"array {name} of entry {i} is not {dt} {shape}")
            arrays[name] = arr
        entries.append(CodeEntry(h["kind"], h["meta"], arrays))
    return entries


_READ_ERRORS = (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError, zipfile.BadZipFile,
                zlib.error)  # fmt: skip


def load_code(path: str | Path) -> list[CodeEntry]:
    """The entries of a code file, checked (sizes first, checksums, no pickles, every array
    against the header); :class:`CodeError` names what is wrong."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no certificate code at {p}")
    _regular_size(p)
    try:
        _check_zip(p)
        with np.load(p, allow_pickle=False) as z:
            entries = _entries(p, z)
        for e in entries:
            _check_entry(p, e)
    except CodeError:
        raise
    except _READ_ERRORS as exc:
        raise _damaged(p, f"{type(exc).__name__}: {exc}") from None
    return entries


def _fashion(idx: str) -> tuple[torch.Tensor, torch.Tensor]:
    from .datasets import FASHION_MNIST_DIR, load_fashion_mnist, mnist_dir

    folder = FASHION_MNIST_DIR if idx == "fashion-mnist" else mnist_dir()
    try:
        x, y, _, _ = load_fashion_mnist(folder)
    except (FileNotFoundError, OSError) as exc:
        raise DataUnavailable(f"{idx} is not on this machine ({exc}); run `make data`") from None
    return x, y


def load_points(points: Mapping[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
    """The certification points a code names, checked against their SHA-256.

    ``points``: ``dataset`` (one of :data:`POINTS`: the training part of
    :func:`~.datasets.load_digits_split`, :func:`~.datasets.load_mnist_subset`, or the
    official 60,000 training images), optionally ``split`` = ``[design_size, seed]`` (the
    certification part of :func:`~.registration.split_indices`), and ``sha256``
    (:func:`~.datasets.array_fingerprint` of the points). :class:`DataUnavailable` when
    the data set is not installed.

    >>> from netcoreset.verification.experiments.datasets import array_fingerprint
    >>> x, y = load_points({"dataset": "digits"})
    >>> x.shape, array_fingerprint(x, y) == points_sha256(x, y)
    (torch.Size([1258, 64]), True)
    """
    from .datasets import DataNotInstalled, load_digits_split, load_mnist_subset

    name = points.get("dataset")
    if name not in POINTS:
        raise CodeError(f"unknown certification data set {name!r}; expected one of {POINTS}")
    try:
        if name == "digits":
            x, y, _, _ = load_digits_split()
        elif name == "mnist5k":
            x, y, _, _ = load_mnist_subset()
        else:
            x, y = _fashion(name)
    except DataNotInstalled as exc:
        raise DataUnavailable(f"{name} is not on this machine ({exc})") from None
    if points.get("split") is not None:
        from .registration import split_indices

        design_size, seed = points["split"]
        _, cert = split_indices(int(x.shape[0]), int(design_size), int(seed))
        x, y = x[torch.from_numpy(cert)], y[torch.from_numpy(cert)]
    want = points.get("sha256")
    if want is not None and points_sha256(x, y) != want:
        raise CodeError(f"the {name} points on this machine are not those certified "
                        f"(SHA-256 {points_sha256(x, y)[:16]}... vs {want[:16]}...)")  # fmt: skip
    return x, y


def points_sha256(x: torch.Tensor, y: torch.Tensor) -> str:
    """:func:`~.datasets.array_fingerprint` of the certification points."""
    from .datasets import array_fingerprint

    return array_fingerprint(x, y)


@dataclass(frozen=True)
class Recheck:
    """One rechecked row: what the JSON reports and what the code gives (``errors``,
    ``n``, ``bits``, ``bound`` and, when reported, ``bound_kl``); ``differences`` lists the
    fields that differ (empty: the row is confirmed)."""

    row: tuple[Any, ...]
    kind: str
    reported: dict[str, Any]
    recomputed: dict[str, Any]
    differences: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Whether every reported number was recomputed exactly."""
        return not self.differences


def _grid(d: Mapping[str, Any]) -> SearchGrid:
    dims = {s: {k: tuple(v) for k, v in opts.items()} for s, opts in d["settings"].items()}
    return SearchGrid(dims, d.get("weights"))


def _recompute(entry: CodeEntry, x: torch.Tensor, y: torch.Tensor) -> dict[str, Any]:
    """Errors, n, bits and bounds of the network an entry codes, on the points ``x, y``."""
    m, c = entry.meta, entry.meta.get("certify", {})
    xin = pool_inputs(x, int(m["pool"]))
    if entry.kind == "network":
        with torch.no_grad():  # one pass over all points, as the certificate counted them
            k, n = int((decode(entry)(xin).argmax(1) != y).sum()), int(x.shape[0])
        bits, d = (_choice_bits(c) if c else 0.0), float(m["delta"])
        return {"errors": k, "n": n, "bits": bits,
                "bound": occam_bound(k, n, bits, d, form="binomial").bound,
                "bound_kl": occam_bound(k, n, bits, d, form="kl").bound}  # fmt: skip
    config = {k: v for k, v in c["config"].items() if k not in (*CODE_DIMENSIONS, "levels_used")}
    if entry.kind == "quantization":
        grid = _grid(c["grid"])
        cert = certify_quantization(decode_quantization(entry), xin, y, grid=grid,
                                    setting=c["setting"], config=config,
                                    declared_widths=c["declared_widths"],
                                    delta=float(c["delta"]))  # fmt: skip
        if c.get("variants"):  # every code variant's bits and bound (the encoding ablation)
            variant_bits = code_variants(cert, grid)
            bounds = {k: occam_bound(cert.train_errors, cert.n, b, cert.delta, "binomial").bound
                      for k, b in variant_bits.items()}  # fmt: skip
            return {"errors": cert.train_errors, "n": cert.n, "bits": variant_bits,
                    "bound": bounds}  # fmt: skip
    else:
        cert = certify_subspace(entry.arrays["symbols"].astype(np.int64), int(m["levels"]),
                                m["codebook_dtype"], decode(entry), xin, y,
                                grid=_grid(c["grid"]), config=config,
                                delta=float(c["delta"]))  # fmt: skip
    return {"errors": cert.train_errors, "n": cert.n, "bits": cert.description_bits,
            "bound": cert.bound, "bound_kl": cert.bound_kl}  # fmt: skip


def _choice_bits(c: Mapping[str, Any]) -> float:
    """The grid's choice bits of a network entry's configuration (checked to lie in it)."""
    grid = _grid(c["grid"])
    try:
        grid.check(c["setting"], c["config"])
    except ValueError as exc:
        raise CodeError(f"the network's configuration is not in its grid: {exc}") from None
    return grid.prior_bits(c["setting"])


def _reported(row: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON row's numbers under the recheck's names."""
    out: dict[str, Any] = {"bound": row["bound"]}
    if "train_errors" in row:
        out["errors"] = row["train_errors"]
    for key in ("train_error", "certification_error"):
        if key in row:
            out["error_rate"] = row[key]
    for key in ("description_bits", "bits"):
        if key in row:
            out["bits"] = row[key]
    for key in ("n", "bound_kl"):
        if key in row:
            out[key] = row[key]
    return out


def _compare(reported: Mapping[str, Any], got: dict[str, Any]) -> tuple[str, ...]:
    got = {**got, "error_rate": got["errors"] / got["n"]}
    return tuple(k for k, v in reported.items() if got[k] != v)


def _row_of(result: Mapping[str, Any], path: Sequence[Any]) -> Mapping[str, Any]:
    node: Any = result
    for key in path:
        node = node[key]
    return node


def _stochastic(row: Mapping[str, Any]) -> dict[str, Any]:
    """The PAC-Bayes bound recomputed from the row's own Monte Carlo error, draws and KL
    (the posterior is not stored: only this arithmetic is rechecked)."""
    b = pac_bayes_bound(row["mc_error"], row["mc_draws"], row["kl_nats"], row["n"],
                        row["delta"] / row["prior_grid_size"], row["delta_prime"],
                        row["form"])  # fmt: skip
    return {"bound": b.bound, "empirical_error_bound": b.empirical_error_bound}


def recheck(
    json_path: str | Path,
    *,
    points: Callable[[Mapping[str, Any]], tuple[torch.Tensor, torch.Tensor]] = load_points,
) -> list[Recheck]:
    """Decode every entry of a result's code, recount its errors on the certification
    points, recompute its description length and bound, and compare each with the row of
    the JSON it names (exact equality; the JSON row's ``code_sha256`` must be the entry's).

    Rows of PAC-Bayes (stochastic) certificates in the JSON (``"kind": "stochastic"``) are
    rechecked from their own reported terms only: :func:`~netcoreset.bounds.pac_bayes_bound`
    of their Monte Carlo error, draws, KL, :math:`n` and deltas; the posterior's KL and the
    Monte Carlo count themselves are not recomputed (the posterior is not stored).

    Raises :class:`CodeError` for a missing, damaged or unmatched code (naming it),
    :class:`DataUnavailable` when the certification points are not installed. ``points``
    maps a code's ``points`` to ``(x, y)`` (default :func:`load_points`).
    """
    jp = Path(json_path)
    result = json.loads(jp.read_text(encoding="utf-8"))
    cp = code_path(jp)
    if not cp.exists():
        raise CodeError(f"{jp} has no stored code: {cp} is missing")
    out, seen = [], set()
    cache: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    for entry in load_code(cp):
        path = tuple(entry.meta["row"])
        row = _row_of(result, path)
        if row.get("code_sha256") != entry.sha256:
            raise CodeError(f"{cp}: the code of {'/'.join(map(str, path))} is not the one its "
                            f"row records (SHA-256 {entry.sha256[:16]}... vs "
                            f"{str(row.get('code_sha256'))[:16]}...)")  # fmt: skip
        key = _canonical(entry.meta["points"]).decode()
        if key not in cache:
            cache[key] = points(entry.meta["points"])
        got = _recompute(entry, *cache[key])
        reported = _reported(row)
        out.append(Recheck(path, entry.kind, reported, got, _compare(reported, got)))
        seen.add(path)
    for i, row in enumerate(result.get("rows", [])):
        if row.get("kind") == "stochastic":
            got = _stochastic(row)
            rep = {k: row[k] for k in got}
            diff = tuple(k for k in got if got[k] != rep[k])
            out.append(Recheck(("rows", i), "stochastic-arithmetic", rep, got, diff))
        elif ("rows", i) not in seen:
            raise CodeError(f"{cp} holds no code for row {i} of {jp}")
    for path in _rendered(result):
        if path not in seen:
            raise CodeError(f"{cp} holds no code for {'/'.join(path)} of {jp}")
    return out


def _rendered(result: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The search rows the pages show: the best per setting and the paper's network."""
    out = [("best_per_setting", s) for s in result.get("best_per_setting", {})]
    if "paper/d784-300-100" in result.get("best_per_architecture", {}):
        out.append(("best_per_architecture", "paper/d784-300-100"))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m netcoreset.verification.experiments.certificate_codes RESULT.json ...``:
    recheck each result's stored code and print one line per row; exit status 1 on any
    difference or unusable code, 0 when every row is confirmed."""
    import argparse

    parser = argparse.ArgumentParser(description="Recheck published certificates' codes.")
    parser.add_argument("results", nargs="+", type=Path, help="certificate result JSON files")
    status = 0
    for path in parser.parse_args(argv).results:
        try:
            checks = recheck(path)
        except (CodeError, DataUnavailable, FileNotFoundError) as exc:
            print(f"{path}: {exc}")
            status = 1
            continue
        for c in checks:
            what = "confirmed" if c.ok else "DIFFERS in " + ", ".join(c.differences)
            b = c.recomputed["bound"]
            b = min(b.values()) if isinstance(b, dict) else b  # code variants: the smallest
            print(f"{path.name} {'/'.join(map(str, c.row))} ({c.kind}): {what}; bound "
                  f"{b:.6g}")  # fmt: skip
            status |= not c.ok
    return status


if __name__ == "__main__":
    raise SystemExit(main())
