"""A sweep, a depth experiment and a whole reproduction end in at most one compression
warning (a grouped summary attributed to the caller), not one per compression."""

from __future__ import annotations

import multiprocessing
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import pytest

from netcoreset.sampler.notices import CompressionWarning
from netcoreset.verification.experiments.datasets import load_dataset
from netcoreset.verification.experiments.reproduction import reproduce
from netcoreset.verification.experiments.sweep import plan_for, run_sweep
from netcoreset.verification.experiments.training import TrainConfig, train_mlp


@pytest.fixture(scope="module")
def setting():
    d = load_dataset("digits")
    net = train_mlp(d.x_train, d.y_train, (16,), epochs=2, seed=0)
    plan = replace(
        plan_for("digits", "tiny"),
        keeps=(0.2, 0.4),
        methods=("corenet", "corenet+"),
        seeds=2,
        depth_layers=(1, 2),
        depth_keeps=(0.3,),
        depth_methods=("corenet",),
        depth_width=16,
        depth_train=TrainConfig(epochs=2),
        train=TrainConfig(hidden=(16,), epochs=2),
    )
    return d, net, plan


def _ours(caught: list[warnings.WarningMessage]) -> list[warnings.WarningMessage]:
    return [w for w in caught if issubclass(w.category, CompressionWarning)]


def test_sweep_ends_in_one_summary_at_the_caller(setting):
    d, net, plan = setting
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_sweep(net, d, plan, progress=False)
    # every one of the 8 compressions misses the requested delta on so few points (fixed
    # seeds: deterministic), so exactly one summary, counting all 8, at this file's line
    (only,) = _ours(caught)
    assert "over 8 compressions" in str(only.message).splitlines()[0]
    assert "[in 8 of 8 compressions]" in str(only.message)
    assert "delta 0.1 NOT reached" in str(only.message)
    assert only.filename == __file__


@pytest.mark.slow
def test_sweep_through_a_process_pool_ends_in_one_summary(setting):
    d, net, plan = setting
    ctx = multiprocessing.get_context("spawn")
    with warnings.catch_warnings(record=True) as caught:  # Python's default filters
        with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
            run_sweep(net, d, plan, False, pool)
    (only,) = _ours(caught)  # the workers' warnings come back and are folded here
    # every one counted, though the default filters would show a repeated text once
    assert "[in 8 of 8 compressions]" in str(only.message)
    assert only.filename == __file__


def test_reproduce_ends_in_one_summary(setting, tmp_path):
    d, _, plan = setting
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reproduce(d, plan, cache_dir=tmp_path, progress=False, log=lambda _: None)
    # the sweep's 8 and the depth experiment's 2 depths x 1 cell x 2 seeds
    (only,) = _ours(caught)
    assert "over 12 compressions" in str(only.message).splitlines()[0]
    assert only.filename == __file__


def test_reproduce_command_prints_one_warning_line(tmp_path, capsys):
    from netcoreset.verification.cli import main

    argv = ["reproduce", "--dataset", "digits", "--tiny", "--no-depth", "--no-plot"]
    argv += ["--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "out")]
    assert main(argv) == 0
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ": warning: " in ln]
    # the tiny sweep's compressions miss the requested delta on so few points: one line for all
    assert len(lines) == 1 and "compressions" in lines[0], lines
