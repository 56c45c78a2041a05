"""The sweep's cells through executors: a local Dask cluster and a process pool give the serial
run's results bit for bit (every number but the timings), in the same order."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import pytest

from netcoreset.verification.experiments.datasets import load_dataset
from netcoreset.verification.experiments.sweep import plan_for, run_sweep
from netcoreset.verification.experiments.training import train_mlp

TIMINGS = {"seconds", "seconds_per_compression"}


def _strip(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in TIMINGS} for r in rows]


@pytest.fixture(scope="module")
def setting():
    d = load_dataset("digits")
    net = train_mlp(d.x_train, d.y_train, (16,), epochs=2, seed=0)
    plan = replace(
        plan_for("digits", "tiny"),
        keeps=(0.005, 0.3),  # 0.5% is below what the sampler can meet: refused
        methods=("corenet+", "svd"),
        seeds=2,
    )
    serial = run_sweep(net, d, plan, progress=False)
    assert serial[1], "the refused cell must be on record"
    return net, d, plan, serial


@pytest.mark.slow
def test_dask_local_cluster_is_bit_identical_to_serial(setting):
    distributed = pytest.importorskip("dask.distributed")
    net, d, plan, (rows, refused) = setting
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as client:
        got_rows, got_refused = run_sweep(net, d, plan, False, client.get_executor())
    assert _strip(got_rows) == _strip(rows)
    assert got_refused == refused


@pytest.mark.slow
def test_process_pool_is_bit_identical_to_serial(setting):
    net, d, plan, (rows, refused) = setting
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        got_rows, got_refused = run_sweep(net, d, plan, False, pool)
    assert _strip(got_rows) == _strip(rows)
    assert got_refused == refused
