"""Fault tests: concurrent saves, kills during a save, a planted native library in every place
the package might look for one, decompression bombs, and the command line's answers to inputs
that used to crash it. None is statistical: each property holds for every timing and seed, so
a correct implementation passes with probability 1."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path

import pytest
import torch
from torch import nn

from netcoreset.sampler import _store as store
from netcoreset.sampler import compress, load, native
from netcoreset.verification.cli import main
from netcoreset.verification.experiments import formats

_NEEDS_FORK = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _results():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2))
    x = torch.rand(40, 4)
    return compress(net, x, keep=0.5, seed=0), compress(net, x, keep=0.9, seed=1)


def _loads_as(folder: Path, results) -> int:
    back = load(folder)
    for i, res in enumerate(results):
        pairs = zip(back.model.parameters(), res.model.parameters(), strict=True)
        if all(torch.equal(p, q) for p, q in pairs):
            return i
    raise AssertionError("the folder holds a result that was never saved")


# ------------------------------------------------------------------------------------------------
# Saving
# ------------------------------------------------------------------------------------------------


@_NEEDS_FORK
def test_concurrent_saves_into_one_folder_lose_nothing(tmp_path):
    """Four processes save A or B into one folder eight times each, at once. Every save
    succeeds (the lock serialises them); afterwards the folder loads as A or B, the user's
    file next to it is intact, and no temporary folder is left."""
    results = _results()
    folder = tmp_path / "run"
    results[0].save(folder)
    (tmp_path / "notes.txt").write_text("mine")
    pids = []
    for child in range(4):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                for _ in range(8):
                    results[child % 2].save(folder)
            except BaseException as exc:  # noqa: BLE001 - report through the exit status
                print(f"save failed: {exc!r}", file=sys.stderr)
                code = 1
            finally:
                os._exit(code)
        pids.append(pid)
    statuses = [os.waitpid(pid, 0)[1] for pid in pids]
    assert statuses == [0, 0, 0, 0], "a concurrent save failed"
    assert _loads_as(folder, results) in (0, 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "run"]
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_save_that_waits_too_long_fails_clearly_and_changes_nothing(tmp_path, monkeypatch):
    first, second = _results()
    folder = tmp_path / "run"
    first.save(folder)
    import fcntl

    fd = os.open(tmp_path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another save holds the lock
    try:
        monkeypatch.setattr(store, "LOCK_TIMEOUT", 0.2)
        with pytest.raises(ValueError, match="another save"):
            second.save(folder)
    finally:
        os.close(fd)
    assert _loads_as(folder, (first, second)) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


@_NEEDS_FORK
def test_a_kill_during_save_never_costs_a_users_file(tmp_path):
    """SIGKILL at 12 moments (fixed) of a child that saves in a loop: the folder next to the
    result, holding the user's files, is never touched, and the result folder is a whole
    result or absent with the previous one named by ``load``."""
    results = _results()
    folder = tmp_path / ".run*"  # pattern characters are only characters
    keep = tmp_path / ".run-data.1.old"
    keep.mkdir()
    (keep / "data.csv").write_text("1,2\n")
    for k in range(12):
        pid = os.fork()
        if pid == 0:
            try:
                while True:
                    for res in results:
                        res.save(folder)
            finally:
                os._exit(0)
        time.sleep(0.01 + 0.02 * k)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        try:
            _loads_as(folder, results)
        except ValueError as exc:
            assert "holds no saved compression" in str(exc)
    assert (keep / "data.csv").read_text() == "1,2\n"


def test_saving_over_a_result_keeps_a_users_file_and_refuses(tmp_path):
    first, second = _results()
    folder = first.save(tmp_path / "run")
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="notes.txt"):
        second.save(folder)
    assert (folder / "notes.txt").read_text() == "mine"
    assert _loads_as(folder, (first, second)) == 0


# ------------------------------------------------------------------------------------------------
# Native code
# ------------------------------------------------------------------------------------------------

_EVIL = r"""
#include <stdio.h>
__attribute__((constructor)) static void planted(void) {
  FILE *f = fopen("%s", "w"); if (f) { fputs("ran", f); fclose(f); }
}
void netcoreset_max_times_f32(void) {} void netcoreset_max_times_f64(void) {}
long netcoreset_binomial_round(void) { return 0; }
"""

_PROBE = """
import sys
import torch
from netcoreset.sampler import max_times_product
from netcoreset.sampler.native import kernel_path, native_available, native_status
native_available()
u, a = torch.rand(9, 5, dtype=torch.float64), torch.rand(5, 7, dtype=torch.float64)
got = max_times_product(u, a)
want = (u[:, :, None] * a[None, :, :]).amax(dim=1)
assert torch.equal(got, want), "wrong kernel result"
print(native_status())
"""


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler to build the plant")
def test_a_planted_library_is_never_loaded(tmp_path):
    """A library whose constructor leaves a mark is planted, under every name the package
    uses or used, in every place it might look: $NETCORESET_CACHE, $XDG_CACHE_HOME/netcoreset,
    ~/.cache/netcoreset, the current folder, a folder on the child's PYTHONPATH, one on
    LD_LIBRARY_PATH. A fresh interpreter loads the kernels: no mark appears, and the status
    names the package folder (or says the library is absent)."""
    mark = tmp_path / "MARK"
    src = tmp_path / "evil.c"
    src.write_text(_EVIL % mark)
    lib = tmp_path / "evil.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
    names = [native.kernel_path().name, "_kernels.so", "max_times.so", "libkernels.so"]
    places = {
        p: tmp_path / p
        for p in (
            "env",
            "xdg/netcoreset",
            "home/.cache/netcoreset",
            "cwd",
            "syspath",
            "ldpath",
        )
    }
    for folder in places.values():
        folder.mkdir(parents=True)
        for name in names:
            shutil.copy(lib, folder / name)
        for key in range(3):  # the old cache's names: max_times-<20 hex>.so
            shutil.copy(lib, folder / f"max_times-{key:020x}.so")
    env = dict(
        os.environ,
        NETCORESET_CACHE=str(places["env"]),
        XDG_CACHE_HOME=str(tmp_path / "xdg"),
        HOME=str(tmp_path / "home"),
        PYTHONPATH=str(tmp_path / "syspath"),
        LD_LIBRARY_PATH=str(places["ldpath"]),
        OMP_NUM_THREADS="1",
    )
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_PROBE)],
        cwd=places["cwd"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-500:]
    assert not mark.exists(), "a planted library ran"
    status = proc.stdout.strip()
    assert status == f"loaded {native.kernel_path()}" or status.startswith("not built"), status


def test_group_write_counts_unless_the_group_is_this_users_alone():
    assert native._shared_group(os.getgid() + 54321)  # a group that is not ours


@pytest.mark.parametrize("how", ["symlink", "group-writable", "fifo", "folder-writable"])
def test_the_package_library_is_refused_unless_safe(tmp_path, monkeypatch, how):
    """The one place the library is loaded from must hold a regular file, not a link, and
    neither it nor its folder may be writable by others."""
    folder = tmp_path / "pkg"
    folder.mkdir()
    target = folder / native.kernel_path().name
    real = native.kernel_path()
    if how == "symlink":
        target.symlink_to(real if real.exists() else tmp_path / "elsewhere.so")
    elif how == "fifo":
        os.mkfifo(target)
    else:
        target.write_bytes(b"\0")
        if how == "group-writable":
            target.chmod(0o664)
        else:
            folder.chmod(0o777)
    if how == "group-writable":  # a group shared with another user
        monkeypatch.setattr(native, "_shared_group", lambda gid: True)
    reason = native._unsafe(target)
    assert reason is not None and reason.startswith("refused"), reason
    monkeypatch.setattr(native, "kernel_path", lambda: target)
    native._library.cache_clear()
    try:
        assert native.native_available() is False
        assert native.native_status().startswith("refused")
    finally:
        native._library.cache_clear()
        folder.chmod(0o755)


# ------------------------------------------------------------------------------------------------
# Decompression and the command line
# ------------------------------------------------------------------------------------------------


def test_a_gzip_bomb_is_read_only_up_to_its_declared_size(tmp_path):
    """256 MiB of zeros in 256 KB after a header that declares 16 bytes: the reader stops
    after 17 bytes of data, so its memory stays far below the stream's size."""
    header = struct.pack(">4B3I", 0, 0, 8, 3, 4, 2, 2)
    member = gzip.compress(bytes(1 << 20), compresslevel=9)
    path = tmp_path / "x-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(header + bytes(16)) + member * 256)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="more than 16"):
            formats.read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"{peak} bytes allocated"


def _cli(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    return code, err.getvalue()


OCCAM = ["bound", "occam", "--bits", "100", "--delta", "0.05", "--form", "binomial"]


@pytest.mark.parametrize(
    ("argv", "prefix"),
    [
        (
            ["bound", "occam", "--errors", "3", "--n", "9", "--bits", "1", "--delta", "0.1", "--x"],
            "netcoreset bound occam: error: unrecognized arguments: --x",
        ),
        (
            ["compress", "m.pt", "--dataset", "digits", "--keep", "0.5", "--no-such-flag"],
            "netcoreset compress: error: unrecognized arguments: --no-such-flag",
        ),
    ],
)
def test_unknown_flags_are_named_by_their_command(argv, prefix):
    code, err = _cli(argv)
    assert code == 2 and err.startswith(prefix), err


def test_occam_binomial_with_huge_counts_uses_the_closed_form():
    """k = 10^8 of n = 10^9: no array of k + 1 values; the bound lies between the train error
    and the kl form it tightens."""
    out = io.StringIO()
    argv = [*OCCAM, "--errors", "100000000", "--n", "1000000000", "--json"]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(argv)
    assert code == 0
    text = out.getvalue()
    bound = json.loads(text)
    value = bound["bound"] if "bound" in bound else bound["binomial"]["bound"]
    assert 0.1 < value < 0.100114 + 1e-6


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--levels", str(10**18)),
        ("--seeds", ",".join(map(str, range(101)))),
        ("--retrain-epochs", str(10**9)),
        ("--qat-epochs", "1001"),
    ],
)
def test_generalization_caps(tmp_path, flag, value):
    model = tmp_path / "m.pt"
    torch.save(nn.Sequential(nn.Linear(64, 10)), model)
    argv = [
        "bound",
        "generalization",
        str(model),
        "--dataset",
        "digits",
        "--keeps",
        "1",
        "--methods",
        "magnitude",
        "--levels",
        "2",
        flag,
        value,
    ]
    code, err = _cli(argv)
    assert code == 2 and "error:" in err and "at most" in err, err
