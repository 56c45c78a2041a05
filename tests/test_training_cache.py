"""The model cache: bit-exact reloads, and a changed configuration never reuses a model."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from netcoreset.verification.experiments import training as tr
from netcoreset.verification.experiments.datasets import load_dataset
from netcoreset.verification.experiments.training import TrainConfig, cache_key, train_cached

BASE = TrainConfig(hidden=(12, 8), epochs=2, batch_size=32, seed=0)


@pytest.fixture(scope="module")
def data():
    d = load_dataset("digits")
    return d.x_train[:200], d.y_train[:200], d.x_test


def _params(net):
    return [p.detach().clone() for p in net.parameters()]


def test_reload_is_bit_exact_and_stores_no_pickle(tmp_path, data):
    x, y, x_test = data
    first = train_cached(x, y, BASE, cache_dir=tmp_path)
    again = train_cached(x, y, BASE, cache_dir=tmp_path)
    assert (first.from_cache, again.from_cache) == (False, True)
    assert first.key == again.key and first.path == again.path
    assert all(
        torch.equal(a, b) for a, b in zip(_params(first.model), _params(again.model), strict=True)
    )
    assert torch.equal(first.model(x_test), again.model(x_test))
    assert sorted(p.name for p in first.path.iterdir()) == ["config.json", "model.safetensors"]
    assert [p.name for p in tmp_path.iterdir()] == [first.key]  # no temporary folder left
    # training without the cache gives the same weights: the cache changes nothing
    plain = tr.train_mlp(x, y, (12, 8), epochs=2, batch_size=32, seed=0)
    assert all(torch.equal(a, b) for a, b in zip(_params(plain), _params(first.model), strict=True))


CHANGES = {
    "hidden": (12, 9),
    "epochs": 3,
    "batch_size": 33,
    "lr": 2e-3,
    "weight_decay": 1e-4,
    "optimizer": "sgd",
    "momentum": 0.5,
    "seed": 1,
}


@pytest.mark.parametrize("field", sorted(CHANGES))
def test_changed_configuration_trains_afresh(tmp_path, data, field):
    x, y, _ = data
    base = train_cached(x, y, BASE, cache_dir=tmp_path)
    cfg = dataclasses.replace(BASE, **{field: CHANGES[field]})
    other = train_cached(x, y, cfg, cache_dir=tmp_path)
    assert other.key != base.key and not other.from_cache
    stored = json.loads((other.path / "config.json").read_text())["identity"]["config"]
    assert stored[field] == (list(CHANGES[field]) if field == "hidden" else CHANGES[field])


def test_changed_data_or_versions_change_the_key(data, monkeypatch):
    x, y, _ = data
    key = cache_key(x, y, BASE)
    x2 = x.clone()
    x2[0, 0] += 1e-6  # one pixel
    y2 = y.clone()
    y2[0] = (y2[0] + 1) % 10  # one label
    assert len({key, cache_key(x2, y, BASE), cache_key(x, y2, BASE)}) == 3
    assert key != cache_key(x.double(), y, BASE)
    versions = tr._versions()
    monkeypatch.setattr(tr, "_versions", lambda: {**versions, "torch": "0.0.0"})
    assert cache_key(x, y, BASE) != key


def test_changed_training_code_changes_the_key(tmp_path, data, monkeypatch):
    # a model trained by other code (same configuration, same version string) is never
    # taken from the cache
    x, y, _ = data
    base = train_cached(x, y, BASE, cache_dir=tmp_path)
    original = tr._train

    def _train(x, y, cfg, progress):  # noqa: ANN001, ANN202 - other source, same result
        return original(x, y, cfg, progress)

    monkeypatch.setattr(tr, "_train", _train)
    assert cache_key(x, y, BASE) != base.key
    again = train_cached(x, y, BASE, cache_dir=tmp_path)
    assert not again.from_cache and again.path != base.path


def test_tampered_entry_is_refused(tmp_path, data):
    x, y, _ = data
    entry = train_cached(x, y, BASE, cache_dir=tmp_path).path
    meta = json.loads((entry / "config.json").read_text())
    meta["identity"]["config"]["epochs"] = 99
    (entry / "config.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="does not match its key"):
        train_cached(x, y, BASE, cache_dir=tmp_path)


def test_failed_write_leaves_nothing(tmp_path, data, monkeypatch):
    import safetensors.torch

    x, y, _ = data

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(safetensors.torch, "save_file", boom)
    with pytest.raises(OSError, match="disk full"):
        train_cached(x, y, BASE, cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_cache_dir_from_environment(tmp_path, data, monkeypatch):
    x, y, _ = data
    monkeypatch.setenv("NETCORESET_CACHE", str(tmp_path / "env"))
    assert tr.default_cache_dir() == tmp_path / "env"
    got = train_cached(x, y, BASE)
    assert got.path.parent == tmp_path / "env"
    monkeypatch.delenv("NETCORESET_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert tr.default_cache_dir() == tmp_path / "xdg" / "netcoreset"


def test_bad_configuration_is_a_value_error():
    with pytest.raises(ValueError, match="optimizer"):
        TrainConfig(optimizer="rmsprop")
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="hidden"):
        TrainConfig(hidden="300")
    with pytest.raises(ValueError, match="lr"):
        TrainConfig(lr=float("nan"))
    with pytest.raises(ValueError, match="x must have shape"):
        train_cached(torch.zeros(3), torch.zeros(3, dtype=torch.long), BASE)


@pytest.mark.parametrize("damage", ["zeroed", "truncated", "no checksum"])
def test_damaged_weights_are_retrained_and_the_entry_replaced(tmp_path, data, damage):
    """The entry's weights carry a SHA-256 in config.json: zeroed or truncated weights, or an
    entry without the checksum, are never used; the model is trained again (bit-identical to
    the first training) and the entry rewritten, with a warning."""
    from safetensors.torch import load_file, save_file

    x, y, x_test = data
    first = train_cached(x, y, BASE, cache_dir=tmp_path)
    weights = first.path / "model.safetensors"
    if damage == "zeroed":
        save_file({k: torch.zeros_like(v) for k, v in load_file(str(weights)).items()}, weights)
    elif damage == "truncated":
        weights.write_bytes(weights.read_bytes()[:100])
    else:
        meta = json.loads((first.path / "config.json").read_text())
        del meta["weights_sha256"]
        (first.path / "config.json").write_text(json.dumps(meta))
    with pytest.warns(UserWarning, match="cannot be verified"):
        again = train_cached(x, y, BASE, cache_dir=tmp_path)
    assert not again.from_cache and again.path == first.path
    assert torch.equal(again.model(x_test), first.model(x_test))
    third = train_cached(x, y, BASE, cache_dir=tmp_path)  # the rewritten entry reloads
    assert third.from_cache and torch.equal(third.model(x_test), first.model(x_test))
    assert [p.name for p in tmp_path.iterdir()] == [first.key]  # nothing left aside


def test_cache_key_separates_avx512_kernels(monkeypatch):
    # a model trained on AVX-512 kernels has other weights than one trained on AVX2 kernels
    # (the published ones): it never takes their key, and the AVX2 key is what it was
    from netcoreset.verification.experiments import training

    x, y = torch.zeros(4, 3), torch.tensor([0, 1, 0, 1])
    cfg = training.TrainConfig(hidden=(5,))
    monkeypatch.setattr(training, "avx512_kernels", lambda: False)
    avx2 = training.cache_key(x, y, cfg)
    assert "cpu_kernels" not in training._identity(x, y, cfg)
    monkeypatch.setattr(training, "avx512_kernels", lambda: True)
    assert training.cache_key(x, y, cfg) != avx2
    assert training._identity(x, y, cfg)["cpu_kernels"] == "avx512"


def test_avx512_kernels_follow_the_pins(monkeypatch):
    from netcoreset.verification.experiments import provenance

    monkeypatch.setattr(provenance, "numeric_paths", lambda: {"avx512f": True, "pins": {}})
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "avx2")
    monkeypatch.setenv("MKL_CBWR", "AVX2")
    assert not provenance.avx512_kernels()
    monkeypatch.delenv("MKL_CBWR")
    assert provenance.avx512_kernels()
    monkeypatch.setattr(provenance, "numeric_paths", lambda: {"avx512f": False, "pins": {}})
    assert not provenance.avx512_kernels()
