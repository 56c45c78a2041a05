"""Saved results are complete or absent: a process killed while saving, a crash between the
writes, or damaged files never load as a valid result (CompressionResult.save / load)."""

from __future__ import annotations

import json
import os
import random
import signal
import time

import pytest
import torch

from netcoreset.sampler import CompressionResult, compress, load
from netcoreset.sampler import _store as store
from netcoreset.verification.networks import build_relu_network, make_inputs


def _results() -> tuple[CompressionResult, CompressionResult]:
    net = build_relu_network((8, 40, 30, 4), seed=3)
    x = make_inputs(60, 8, seed=3)
    return compress(net, x, keep=0.3, seed=0), compress(net, x, keep=0.8, seed=1)


def _equal(a: CompressionResult, b: CompressionResult) -> bool:
    same = all(
        torch.equal(p, q) for p, q in zip(a.model.parameters(), b.model.parameters(), strict=True)
    )
    return same and a.report.to_dict() == b.report.to_dict()


def _state(folder, results) -> str:
    """'absent', or the index of the result the folder loads as; fails on anything else."""
    try:
        back = load(folder)
    except ValueError as exc:
        assert "holds no saved compression" in str(exc), f"a damaged result: {exc}"
        return "absent"
    matches = [i for i, r in enumerate(results) if _equal(back, r)]
    assert matches, "the folder loads as a result that was never saved (a mixture)"
    return str(matches[0])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_process_killed_while_saving_leaves_a_whole_result_or_none(tmp_path):
    """A child saves result A and B alternately into one folder, forever; it is killed with
    SIGKILL at 25 random moments (seeded). After each kill the folder is absent (only before
    the first save completes) or loads bit-exactly as A or as B. This holds for every timing,
    so the test is not statistical; the timings only decide which states get exercised."""
    results = _results()
    folder = tmp_path / "result"
    rng = random.Random(20240611)
    seen = set()
    for _ in range(25):
        pid = os.fork()
        if pid == 0:  # the child: save until killed
            try:
                while True:
                    for res in results:
                        res.save(folder)
            finally:
                os._exit(0)
        time.sleep(rng.uniform(0.0, 0.3))  # a save takes 20-80 ms (two fsyncs and a rename)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        seen.add(_state(folder, results))
    assert seen & {"0", "1"}, f"no kill landed after a completed save: {seen}"


def test_a_crash_between_the_writes_keeps_the_old_result(tmp_path, monkeypatch):
    """Injected crashes after the new files are written (before the rename) and after the old
    result was moved aside (before the new one is renamed in): the old result loads, or the
    folder is absent; never the new weights with the old metadata or the reverse."""
    first, second = _results()
    folder = tmp_path / "result"
    first.save(folder)

    def crash(*args, **kwargs):
        raise OSError("simulated crash")

    monkeypatch.setattr(store, "_replace", crash)
    with pytest.raises(OSError, match="simulated"):
        second.save(folder)
    monkeypatch.undo()
    assert _equal(load(folder), first)
    assert [p.name for p in tmp_path.iterdir()] == ["result"]  # the temporary folder is gone

    real_rename = os.rename
    monkeypatch.setattr(store.os, "rename", crash)  # the move-aside uses os.replace
    with pytest.raises(OSError, match="simulated"):
        second.save(folder)
    monkeypatch.setattr(store.os, "rename", real_rename)
    assert _state(folder, (first, second)) == "absent"
    second.save(folder)
    assert _equal(load(folder), second)


def test_the_issue_scenario_new_metadata_next_to_old_weights_is_refused(tmp_path):
    """The defect of issue 11: a kill between the two writes of the old save left the new
    metadata.json next to the old model.safetensors, which loaded as a valid result."""
    first, second = _results()
    a, b = tmp_path / "a", tmp_path / "b"
    first.save(a)
    second.save(b)
    (a / "metadata.json").write_text((b / "metadata.json").read_text())
    with pytest.raises(ValueError, match="checksum"):
        load(a)
    first.save(a)
    meta = json.loads((a / "metadata.json").read_text())
    meta["report"]["nnz"] += 1  # an edited report, checksum of the weights left as it was
    (a / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="checksum"):
        load(a)


def test_save_never_replaces_a_folder_that_is_not_a_result(tmp_path):
    first, _ = _results()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("keep me")
    with pytest.raises(ValueError, match="not a saved compression"):
        first.save(tmp_path / "notes")
    assert (tmp_path / "notes" / "todo.txt").read_text() == "keep me"
    (tmp_path / "file").write_text("x")
    for target in (tmp_path / "file", tmp_path / "file" / "under"):
        with pytest.raises(ValueError, match="is a file"):
            first.save(target)


def test_a_result_of_version_1_loads_only_when_the_caller_opts_in(tmp_path):
    """netcoreset 0.1.0 wrote no checksums and non-finite numbers as strings: such a folder
    cannot be verified, so it is refused unless ``allow_unverified=True``."""
    from safetensors.torch import save_file

    first, _ = _results()
    layers = [m for m in first.model if isinstance(m, torch.nn.Linear)]
    tensors = {}
    for i, lay in enumerate(layers):
        tensors[f"layers.{i}.weight"] = lay.weight.detach().contiguous()
        tensors[f"layers.{i}.bias"] = lay.bias.detach().contiguous()
    folder = tmp_path / "old"
    folder.mkdir()
    save_file(tensors, str(folder / "model.safetensors"))
    report = first.report.to_dict()
    report["theorem_nnz_bound"] = "inf"
    meta = {
        "format": "netcoreset-compressed",
        "version": 1,
        "layers": [[lay.in_features, lay.out_features, True] for lay in layers],
        "report": report,
    }
    (folder / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="version 1, which has no checksums"):
        load(folder)
    back = load(folder, allow_unverified=True)
    assert back.report.theorem_nnz_bound == float("inf")
    pairs = zip(back.model.parameters(), first.model.parameters(), strict=True)
    assert all(torch.equal(p, q) for p, q in pairs)
