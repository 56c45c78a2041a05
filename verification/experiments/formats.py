"""Readers for the standard image-classification file formats, without running any code.

* **IDX** (MNIST, Fashion-MNIST, EMNIST, KMNIST): ``train-images-idx3-ubyte``,
  ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each
  optionally gzip-compressed (``.gz``); the ``train-images.idx3-ubyte`` spelling of some
  mirrors is accepted too.
* **CIFAR-10, binary version** (``cifar-10-binary.tar.gz``): ``data_batch_1.bin`` …
  ``data_batch_5.bin`` and ``test_batch.bin``, records of one label byte and 3,072 pixel bytes.
* **CIFAR-10, python version** (``cifar-10-python.tar.gz``): ``data_batch_1`` …
  ``data_batch_5`` and ``test_batch``. These are *pickles*. They are read by a restricted
  unpickler that resolves no global except the four names a pickled NumPy array refers to,
  and even those are replaced by inert records: no constructor of NumPy (or anything else)
  runs while the file is read. The arrays are rebuilt afterwards from the recorded raw bytes
  with :func:`numpy.frombuffer`, for plain numeric dtypes only. A file that refers to any
  other global (``os.system``, ``builtins.eval``, ...) is rejected with a ``ValueError``.

Nothing here downloads anything. Every reader returns NumPy arrays (pixels as stored, labels
as ``int64``) and raises ``ValueError`` naming the file and the problem on bad input.

Limits, checked before anything is allocated: only regular files are read (never a FIFO or a
device); a file, or the data a compressed file expands to, holds at most
:data:`MAX_DATA_BYTES`; the size a header declares must match the bytes that follow it (a
gzip stream is read only up to the declared size, so a small file cannot expand without
bound); labels are integers in ``0 .. MAX_CLASSES - 1`` (CIFAR-10: ``0 .. 9``); CIFAR-10
pixels are integers in ``0 .. 255``; a pickle may build at most :data:`MAX_PICKLE_OBJECTS`
objects, shared ones counted once.
"""

from __future__ import annotations

import gzip
import io
import pickle
import stat
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "MAX_CLASSES",
    "MAX_DATA_BYTES",
    "MAX_PICKLE_OBJECTS",
    "check_npy_header",
    "regular_file_size",
    "read_idx",
    "find_idx_files",
    "read_idx_directory",
    "read_cifar10_directory",
    "restricted_unpickle",
]

# IDX type codes -> big-endian numpy dtypes (LeCun's format description).
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
IDX_SPLITS = ("train", "t10k")
CIFAR_SHAPE = (3, 32, 32)
CIFAR_FEATURES = 3 * 32 * 32
#: The most bytes of data one file may hold or expand to (4 GiB).
MAX_DATA_BYTES = 4 << 30
#: Labels must lie in ``0 .. MAX_CLASSES - 1``.
MAX_CLASSES = 1 << 16
#: The most objects a pickled CIFAR-10 batch may build (the real ones build a few dozen).
MAX_PICKLE_OBJECTS = 1 << 20


def regular_file_size(path: str | Path, limit: int = MAX_DATA_BYTES) -> int:
    """The size of ``path``, after checking that it is a regular file (following links; not
    a FIFO, device or folder) of at most ``limit`` bytes; ``ValueError`` otherwise.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = (Path(d) / "a").write_bytes(b"abc")
    ...     regular_file_size(Path(d) / "a")
    3
    """
    p = Path(path)
    try:
        info = p.stat()
    except OSError as exc:
        raise ValueError(f"cannot read {p}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"{p} is not a regular file (a folder, FIFO or device is never read)")
    if info.st_size > limit:
        raise ValueError(f"{p} holds {info.st_size} bytes, more than the limit of {limit}")
    return int(info.st_size)


def check_npy_header(path: str | Path) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype of a ``.npy`` file, after checking that its header declares exactly
    the bytes that follow it (and no object dtype); ``ValueError`` otherwise.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     np.save(f"{d}/x.npy", np.zeros((2, 3)))
    ...     check_npy_header(f"{d}/x.npy")
    ((2, 3), dtype('float64'))
    """
    p = Path(path)
    size = regular_file_size(p)
    fmt = np.lib.format
    try:
        with open(p, "rb") as fh:
            version = fmt.read_magic(fh)
            if version == (1, 0):
                shape, _, dtype = fmt.read_array_header_1_0(fh)
            else:
                shape, _, dtype = fmt.read_array_header_2_0(fh)
            offset = fh.tell()
    except (ValueError, OSError, SyntaxError, TypeError, OverflowError) as exc:
        raise ValueError(f"{p} is not a readable .npy file: {exc}") from None
    if dtype.hasobject:
        raise ValueError(f"{p} holds Python objects, which are never unpickled")
    count = 1
    for n in shape:
        count *= int(n)
    declared = count * dtype.itemsize
    if declared != size - offset:
        raise ValueError(
            f"{p}: its header declares {shape} {dtype} values ({declared} bytes) but "
            f"{size - offset} bytes follow it"
        )
    return tuple(int(n) for n in shape), dtype


def _open_maybe_gzip(path: Path) -> io.BufferedIOBase:
    regular_file_size(path)
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gz else open(path, "rb")  # noqa: SIM115 - caller closes


def read_idx(path: str | Path) -> np.ndarray:
    """One IDX file (gzip-compressed or not) as a NumPy array of its stored shape and type.

    The header is two zero bytes, a type code, the number of dimensions :math:`d`, then
    :math:`d` big-endian 32-bit sizes; the data follow in C order.

    >>> import struct, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = Path(d) / "x-idx2-ubyte"
    ...     _ = p.write_bytes(struct.pack(">4B2I", 0, 0, 8, 2, 2, 3) + bytes(range(6)))
    ...     read_idx(p).tolist()
    [[0, 1, 2], [3, 4, 5]]
    """
    p = Path(path)
    try:
        with _open_maybe_gzip(p) as fh:
            head = fh.read(4)
            if len(head) != 4 or head[0] != 0 or head[1] != 0 or head[2] not in _IDX_DTYPES:
                raise ValueError(f"{p} is not an IDX file (bad magic number {head.hex()})")
            ndim = head[3]
            dims = fh.read(4 * ndim)
            if len(dims) != 4 * ndim:
                raise ValueError(f"{p} is truncated inside its IDX header")
            shape = struct.unpack(">" + "I" * ndim, dims)
            dtype = np.dtype(_IDX_DTYPES[head[2]])
            expected = dtype.itemsize
            for n in shape:
                expected *= n
            if expected > MAX_DATA_BYTES:
                raise ValueError(
                    f"{p}: its IDX header {shape} declares {expected} bytes of data, more than "
                    f"the limit of {MAX_DATA_BYTES}"
                )
            data = fh.read(expected + 1)  # bounded: a gzip stream never expands further
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise ValueError(f"cannot read {p}: {exc}") from None
    if len(data) != expected:
        held = f"more than {expected}" if len(data) > expected else str(len(data))
        raise ValueError(f"{p} holds {held} data bytes; its header {shape} asks {expected}")
    return np.frombuffer(data, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def _idx_candidates(split: str, kind: str, rank: int) -> list[str]:
    stems = [f"{split}-{kind}-idx{rank}-ubyte", f"{split}-{kind}.idx{rank}-ubyte"]
    return [s + ext for s in stems for ext in ("", ".gz")]


def find_idx_files(directory: str | Path) -> dict[str, Path] | None:
    """The four IDX files of an MNIST-style folder, keyed ``train-images`` … ``t10k-labels``;
    ``None`` when the folder holds none of them. ``ValueError`` names the missing ones when
    only some are there.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     find_idx_files(d) is None
    True
    """
    root = Path(directory)
    found: dict[str, Path] = {}
    missing: list[str] = []
    for split in IDX_SPLITS:
        for kind, rank in (("images", 3), ("labels", 1)):
            names = _idx_candidates(split, kind, rank)
            hit = next((root / n for n in names if (root / n).is_file()), None)
            if hit is None:
                missing.append(names[0] + "[.gz]")
            else:
                found[f"{split}-{kind}"] = hit
    if not found:
        return None
    if missing:
        raise ValueError(f"{root} lacks the IDX file(s) {', '.join(missing)}")
    return found


def read_idx_directory(
    directory: str | Path,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x_train, y_train, x_test, y_test)`` of an MNIST-style folder of IDX files; images are
    flattened to one row each (as stored, e.g. ``uint8``), labels ``int64``.

    >>> import struct, tempfile
    >>> with tempfile.TemporaryDirectory() as d:  # two 28x28 images per split
    ...     for split in ("train", "t10k"):
    ...         img = struct.pack(">4B3I", 0, 0, 8, 3, 2, 28, 28) + bytes(2 * 784)
    ...         _ = (Path(d) / f"{split}-images-idx3-ubyte").write_bytes(img)
    ...         lab = struct.pack(">4BI", 0, 0, 8, 1, 2) + bytes([3, 7])
    ...         _ = (Path(d) / f"{split}-labels-idx1-ubyte").write_bytes(lab)
    ...     x_tr, y_tr, x_te, y_te = read_idx_directory(d)
    >>> x_tr.shape, y_te.tolist()
    ((2, 784), [3, 7])
    """
    files = find_idx_files(directory)
    if files is None:
        raise ValueError(
            f"{directory} holds no IDX files (expected train-images-idx3-ubyte, "
            "train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, "
            "optionally .gz)"
        )
    out: list[np.ndarray] = []
    for split in IDX_SPLITS:
        x = read_idx(files[f"{split}-images"])
        y = read_idx(files[f"{split}-labels"])
        if y.ndim != 1 or x.ndim < 2 or x.shape[0] != y.shape[0]:
            raise ValueError(
                f"{split}: {x.shape[0] if x.ndim else 0} images but labels of shape {y.shape} "
                f"in {files[f'{split}-labels']}"
            )
        out += [x.reshape(x.shape[0], -1), _labels(y, files[f"{split}-labels"], MAX_CLASSES)]
    return out[0], out[1], out[2], out[3]


def _labels(y: np.ndarray, where: Path, classes: int) -> np.ndarray:
    """``y`` as int64 after checking it holds integers in ``0 .. classes - 1``."""
    if y.dtype.kind not in "iu":
        raise ValueError(f"{where}: labels must be integers; got {y.dtype} values")
    if y.size and (int(y.min()) < 0 or int(y.max()) >= classes):
        raise ValueError(
            f"{where}: labels must lie in 0..{classes - 1}; got {int(y.min())}..{int(y.max())}"
        )
    return y.astype(np.int64)


# --- CIFAR-10 -------------------------------------------------------------------------------

CIFAR_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR_TEST = "test_batch"
CIFAR_SUBFOLDERS = ("", "cifar-10-batches-bin", "cifar-10-batches-py")


class _Record:
    """What a pickle would have built: the callable's name, its arguments, its state."""

    def __init__(self, kind: str, args: tuple[Any, ...]) -> None:
        self.kind, self.args, self.state = kind, args, None

    def __setstate__(self, state: Any) -> None:
        self.state = state


def _recorder(kind: str) -> Callable[..., _Record]:
    return lambda *args: _Record(kind, args)


def _latin1_encode(text: Any, encoding: Any = "utf-8") -> bytes:
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("only _codecs.encode(str, 'latin1') is allowed")
    return text.encode("latin1")


_ALLOWED: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _recorder("reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"): _recorder("reconstruct"),
    ("numpy.core.numeric", "_frombuffer"): _recorder("frombuffer"),
    ("numpy._core.numeric", "_frombuffer"): _recorder("frombuffer"),
    ("numpy", "dtype"): _recorder("dtype"),
    ("numpy", "ndarray"): "ndarray",
    ("_codecs", "encode"): _latin1_encode,
}
_PLAIN_DTYPES = {"b1", "u1", "i1", "u2", "i2", "u4", "i4", "u8", "i8", "f2", "f4", "f8"}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed") from None


def _text(v: Any) -> str:
    return v.decode("latin1") if isinstance(v, bytes) else str(v)


def _dtype(rec: Any) -> np.dtype:
    if not isinstance(rec, _Record) or rec.kind != "dtype" or not rec.args:
        raise ValueError("array without a plain dtype")
    code = _text(rec.args[0])
    order = "|"
    if isinstance(rec.state, tuple) and len(rec.state) > 1:
        order = _text(rec.state[1])
    if code not in _PLAIN_DTYPES or order not in ("|", "<", ">", "="):
        raise ValueError(f"dtype {order}{code} is not a plain numeric dtype")
    return np.dtype(code if order in ("|", "=") else order + code)


def _shape(value: Any) -> tuple[int, ...]:
    if not isinstance(value, tuple) or not all(isinstance(s, int) and s >= 0 for s in value):
        raise ValueError(f"bad array shape {value!r}")
    return value


def _to_array(rec: _Record) -> np.ndarray:
    if rec.kind == "reconstruct":  # state = (version, shape, dtype, is_fortran, raw bytes)
        st = rec.state
        if not (isinstance(st, tuple) and len(st) == 5):
            raise ValueError("array record without its state")
        shape, dtype, fortran = _shape(st[1]), _dtype(st[2]), bool(st[3])
        if not isinstance(st[4], (bytes, str)):
            raise ValueError("array record without raw data")
        raw = st[4].encode("latin1") if isinstance(st[4], str) else st[4]
    else:  # _frombuffer(buffer, dtype, shape, order)
        if len(rec.args) != 4 or not isinstance(rec.args[0], (bytes, bytearray)):
            raise ValueError("array record without raw data")
        raw, dtype, shape = bytes(rec.args[0]), _dtype(rec.args[1]), _shape(rec.args[2])
        fortran = _text(rec.args[3]) == "F"
    count = int(np.prod(shape, dtype=np.int64))
    if len(raw) != count * dtype.itemsize:
        raise ValueError(f"array of shape {shape} has {len(raw)} bytes of data")
    arr = np.frombuffer(raw, dtype=dtype, count=count)
    return arr.reshape(shape, order="F" if fortran else "C").astype(dtype.newbyteorder("="))


def _materialise(obj: Any, memo: dict[int, Any] | None = None) -> Any:
    """Arrays for the records in ``obj``; a shared object is converted once (a pickle can
    share one list many times, which a tree walk would visit exponentially often), and at
    most :data:`MAX_PICKLE_OBJECTS` containers and records are converted."""
    memo = {} if memo is None else memo
    if not isinstance(obj, (_Record, dict, list, tuple)):
        return obj
    if id(obj) in memo:
        return memo[id(obj)]
    if len(memo) >= MAX_PICKLE_OBJECTS:
        raise ValueError(f"the pickle builds more than {MAX_PICKLE_OBJECTS} objects")
    memo[id(obj)] = None  # a cycle (a list holding itself) reads back as None
    if isinstance(obj, _Record):
        out: Any = _to_array(obj)
    elif isinstance(obj, dict):
        out = {k: _materialise(v, memo) for k, v in obj.items()}
    elif isinstance(obj, list):
        out = [_materialise(v, memo) for v in obj]
    else:
        out = tuple(_materialise(v, memo) for v in obj)
    memo[id(obj)] = out
    return out


def restricted_unpickle(data: bytes) -> Any:
    """Unpickle ``data`` that may hold only builtin containers, strings, bytes, numbers and
    NumPy arrays of plain numeric dtypes; anything else is a ``ValueError``.

    No code from the pickle runs: globals other than NumPy's array-reconstruction names are
    refused, and those are recorded rather than called (see the module docstring).

    >>> restricted_unpickle(pickle.dumps({b"labels": [1, 2], b"data": np.arange(3)}))
    {b'labels': [1, 2], b'data': array([0, 1, 2])}
    >>> restricted_unpickle(pickle.dumps(print))
    Traceback (most recent call last):
    ...
    ValueError: refused to unpickle: global builtins.print is not allowed
    """
    try:
        obj = _RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()
        return _materialise(obj)
    except pickle.UnpicklingError as exc:
        raise ValueError(f"refused to unpickle: {exc}") from None
    except (
        EOFError,
        TypeError,
        AttributeError,
        IndexError,
        KeyError,
        OverflowError,
        RecursionError,
        MemoryError,
        UnicodeDecodeError,
    ) as exc:
        raise ValueError(f"not a valid pickle of arrays: {type(exc).__name__}: {exc}") from None


def _cifar_root(directory: Path) -> tuple[Path, str] | None:
    for sub in CIFAR_SUBFOLDERS:
        root = directory / sub if sub else directory
        for suffix in (".bin", ""):
            if (root / (CIFAR_TEST + suffix)).is_file() or (
                root / (CIFAR_TRAIN[0] + suffix)
            ).is_file():
                return root, suffix
    return None


def _read_cifar_binary(path: Path) -> tuple[np.ndarray, np.ndarray]:
    regular_file_size(path)
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % (CIFAR_FEATURES + 1):
        raise ValueError(f"{path}: {raw.size} bytes is not a whole number of 3073-byte records")
    rec = raw.reshape(-1, CIFAR_FEATURES + 1)
    return rec[:, 1:].copy(), rec[:, 0].astype(np.int64)


def _read_cifar_python(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        regular_file_size(path)
        obj = restricted_unpickle(path.read_bytes())
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    if not isinstance(obj, dict):
        raise ValueError(f"{path} is not a CIFAR-10 batch (no dictionary)")
    obj = {_text(k): v for k, v in obj.items()}
    x, y = obj.get("data"), obj.get("labels")
    if not isinstance(x, np.ndarray) or x.ndim != 2 or x.shape[1] != CIFAR_FEATURES:
        raise ValueError(f"{path}: 'data' must be an array of shape (n, {CIFAR_FEATURES})")
    return _cifar_pixels(x, path), _cifar_labels(y, x.shape[0], path)


def _cifar_pixels(x: np.ndarray, path: Path) -> np.ndarray:
    """``x`` as uint8, after checking that every value is an integer in 0..255 (a float
    pixel that is NaN, huge or fractional would otherwise be cast silently)."""
    if x.dtype.kind == "b" or x.dtype.kind not in "iuf":
        raise ValueError(f"{path}: 'data' must hold pixel values 0..255; got {x.dtype}")
    if x.size and x.dtype.kind == "f" and not bool(np.all(np.isfinite(x))):
        raise ValueError(f"{path}: 'data' holds NaN or infinite pixel values")
    if x.size and (float(x.min()) < 0 or float(x.max()) > 255):
        raise ValueError(f"{path}: pixel values must lie in 0..255; got {x.min()}..{x.max()}")
    if x.dtype.kind == "f" and not bool(np.all(x == np.floor(x))):
        raise ValueError(f"{path}: pixel values must be whole numbers 0..255")
    return x.astype(np.uint8)


def _cifar_labels(y: Any, rows: int, path: Path) -> np.ndarray:
    """``y`` (a list of ints or a 1-d integer array) as int64 labels 0..9, one per row."""
    if isinstance(y, list):
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in y):
            raise ValueError(f"{path}: 'labels' must be whole numbers 0..9")
        if not all(0 <= v <= 9 for v in y):
            raise ValueError(f"{path}: labels must lie in 0..9")
        y = np.array(y, dtype=np.int64)
    if not isinstance(y, np.ndarray) or y.ndim != 1 or y.dtype.kind not in "iu":
        raise ValueError(f"{path}: 'labels' must be a list or 1-d array of whole numbers 0..9")
    if len(y) != rows:
        raise ValueError(f"{path}: 'labels' must hold one label per row of 'data'")
    return _labels(y, path, 10)


def read_cifar10_directory(
    directory: str | Path,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x_train, y_train, x_test, y_test)`` of a CIFAR-10 folder, binary or python version
    (also inside its ``cifar-10-batches-bin`` / ``cifar-10-batches-py`` subfolder).

    Rows are the 3,072 pixel bytes as stored (the red, green and blue 32×32 planes in turn).

    >>> import tempfile
    >>> rng = np.random.default_rng(0)
    >>> with tempfile.TemporaryDirectory() as d:  # the binary version, 2 images a batch
    ...     for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
    ...         rec = np.hstack([[[3], [5]], rng.integers(0, 256, (2, 3072))])
    ...         rec.astype(np.uint8).tofile(f"{d}/{name}.bin")
    ...     x_tr, y_tr, x_te, y_te = read_cifar10_directory(d)
    >>> x_tr.shape, y_te.tolist()
    ((10, 3072), [3, 5])
    """
    found = _cifar_root(Path(directory))
    if found is None:
        raise ValueError(f"{directory} holds no CIFAR-10 batches (data_batch_1..5, test_batch)")
    root, suffix = found
    names = [n + suffix for n in (*CIFAR_TRAIN, CIFAR_TEST)]
    missing = [n for n in names if not (root / n).is_file()]
    if missing:
        raise ValueError(f"{root} lacks the CIFAR-10 file(s) {', '.join(missing)}")
    reader = _read_cifar_binary if suffix == ".bin" else _read_cifar_python
    parts = [reader(root / n) for n in names]
    for (_, y), n in zip(parts, names, strict=True):
        _labels(y, root / n, 10)
    x_train = np.concatenate([p[0] for p in parts[:-1]])
    y_train = np.concatenate([p[1] for p in parts[:-1]])
    return x_train, y_train, parts[-1][0], parts[-1][1]
