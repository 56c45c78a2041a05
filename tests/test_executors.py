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


def _searches(executor):
    """The three settings of the certificate search on a small grid each."""
    import torch
    from torch import nn

    from netcoreset.verification.experiments.certificate import SearchGrid
    from netcoreset.verification.experiments.search import (
        Architecture,
        search_paper,
        search_retrained,
        search_subspace,
    )

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2))
    x, y = torch.rand(200, 4), torch.randint(0, 2, (200,))
    arch = {"a": Architecture("a", (6,))}
    grid = SearchGrid(
        {
            "paper": {"architecture": ("a",), "method": ("corenet", "magnitude"),
                      "keep": (0.5, 1.0), "seed": (0,), "levels": (2, 4),
                      "quantizer": ("kmeans",), "codebook": ("per_layer",),
                      "codebook_dtype": ("float32",)},
            "retrained": {"architecture": ("a",), "method": ("magnitude",), "keep": (0.5,),
                          "seed": (0, 1), "retrain_epochs": (1,), "levels": (4,),
                          "qat_epochs": (1,), "codebook_dtype": ("float16",)},
            "subspace": {"architecture": ("a",), "dim": (5, 8), "basis_seed": (0,),
                         "epochs": (1,), "levels": (2,), "qat_epochs": (1,),
                         "codebook_dtype": ("float16",)},
        }
    )  # fmt: skip
    return (
        search_paper({"a": net}, arch, x, y, grid, executor=executor)
        + search_retrained({"a": net}, arch, x, y, grid, executor=executor)
        + search_subspace(arch, x, y, grid, n_classes=2, executor=executor)
    )


@pytest.mark.slow
def test_certificate_search_through_dask_and_a_pool_equals_serial():
    distributed = pytest.importorskip("dask.distributed")
    serial = _searches(None)
    assert len(serial) == 12 and {c.setting for c in serial} == {"paper", "retrained", "subspace"}
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as client:
        assert _searches(client.get_executor()) == serial
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        assert _searches(pool) == serial


@pytest.mark.slow
def test_reproduce_cli_through_a_process_pool_records_provenance(tmp_path, capsys):
    import json

    from netcoreset.verification.cli import main
    from netcoreset.verification.experiments.provenance import compare

    argv = ["reproduce", "--dataset", "digits", "--tiny", "--no-depth", "--no-plot"]
    argv += ["--cache-dir", str(tmp_path / "cache")]
    assert main([*argv, "--out", str(tmp_path / "serial")]) == 0
    pool = ["--executor", "process", "--workers", "2", "--out", str(tmp_path / "pool")]
    assert main([*argv, *pool]) == 0
    serial, pooled = (
        json.loads((tmp_path / d / "results.json").read_text()) for d in ("serial", "pool")
    )
    assert _strip(pooled["sweep"]["rows"]) == _strip(serial["sweep"]["rows"])
    assert pooled["claims"] == serial["claims"]
    prov = pooled["provenance"]
    assert prov["command"].endswith("--executor process --workers 2 --tiny --no-depth")
    assert compare(prov)["status"] == "current" and prov["wall_seconds"] > 0
    assert prov["data_files"]["digits"]["arrays_sha256"] == pooled["dataset"]["fingerprint"]
    capsys.readouterr()
    assert main([*argv, "--executor", "threads"]) == 2
    assert "invalid choice: 'threads'" in capsys.readouterr().err
