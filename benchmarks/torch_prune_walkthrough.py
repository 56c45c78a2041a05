"""A timed walkthrough of :func:`netcoreset.sampler.torch_prune.prune_linear` on models that
are not an ``nn.Sequential``: wall time of each step, written as JSON.

Two models on the digits data set (64 features, 10 classes), trained for a few hundred Adam
steps with a fixed seed: a class with named Linear attributes and its own ``forward`` (a
chain: CoreNet's certificate applies) and a two-branch class (not a chain: the heuristic
path). Each step is timed once (wall clock, one torch thread)::

    OMP_NUM_THREADS=1 python benchmarks/torch_prune_walkthrough.py \\
        --out benchmarks/results/torch-prune-walkthrough.json
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.utils import prune


class Classifier(nn.Module):
    """Named Linear layers and a custom forward (a Linear+ReLU chain)."""

    def __init__(self, features: int, classes: int) -> None:
        super().__init__()
        self.encoder = nn.Linear(features, 300)
        self.hidden = nn.Linear(300, 100)
        self.logits = nn.Linear(100, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.encoder(x))
        return self.logits(torch.relu(self.hidden(h)))


class TwoBranch(nn.Module):
    """A ReLU branch and a tanh branch, summed (not a chain)."""

    def __init__(self, features: int, classes: int) -> None:
        super().__init__()
        self.relu_branch = nn.Linear(features, 200)
        self.tanh_branch = nn.Linear(features, 200)
        self.logits = nn.Linear(200, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.relu_branch(x)) + torch.tanh(self.tanh_branch(x))
        return self.logits(h)


def _timed(steps: dict[str, float], name: str, fn: Callable[[], Any]) -> Any:
    t0 = time.perf_counter()
    out = fn()
    steps[name] = round(time.perf_counter() - t0, 4)
    return out


def _train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int) -> nn.Module:
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    for _ in range(steps):
        idx = torch.randint(0, x.shape[0], (128,), generator=gen)
        opt.zero_grad()
        nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
        opt.step()
    return model.eval()


@torch.no_grad()
def _accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    return round(float((model(x).argmax(1) == y).double().mean()), 4)


def walkthrough(cls: type[nn.Module], keep: float, train_steps: int) -> dict[str, Any]:
    """Every step of pruning one model, timed."""
    from netcoreset.sampler.torch_prune import prune_linear
    from netcoreset.verification.experiments.datasets import load_dataset

    steps: dict[str, float] = {}
    data = _timed(steps, "load data", lambda: load_dataset("digits", seed=0))
    torch.manual_seed(0)
    model = _timed(steps, "build model", lambda: cls(data.num_features, data.num_classes))
    _timed(steps, "train", lambda: _train(model, data.x_train, data.y_train, train_steps))
    before = _timed(steps, "test accuracy", lambda: _accuracy(model, data.x_test, data.y_test))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = _timed(
            steps,
            "prune_linear",
            lambda: prune_linear(
                model, data.x_train, keep=keep, seed=0, **_certificate(cls is Classifier)
            ),
        )
    after = _timed(
        steps, "test accuracy (pruned)", lambda: _accuracy(res.model, data.x_test, data.y_test)
    )

    def remove() -> None:
        for name in res.layers:
            for param in ("weight", "bias"):
                prune.remove(res.model.get_submodule(name), param)

    _timed(steps, "prune.remove", remove)
    return {
        "model": cls.__name__,
        "layers": res.layers,
        "chain": res.chain,
        "reason": res.reason,
        "keep": keep,
        "nnz_original": res.nnz_original,
        "nnz": res.nnz,
        "expected_nnz": round(res.expected_nnz, 2),
        "certified_eps": res.certified_eps,
        "certified_delta": res.certified_delta,
        "accuracy": before,
        "accuracy_pruned": after,
        "warnings": [str(w.message) for w in caught],
        "steps_s": steps,
    }


def _certificate(chain: bool) -> dict[str, str]:
    return {"certificate": "paper"} if chain else {}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--keep", type=float, default=0.2)
    parser.add_argument("--train-steps", type=int, default=400)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    runs = [walkthrough(cls, args.keep, args.train_steps) for cls in (Classifier, TwoBranch)]
    out = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "total_s": round(time.perf_counter() - t0, 2),
        "runs": runs,
    }
    text = json.dumps(out, indent=2)
    if args.out is not None:
        tmp = args.out.with_suffix(".tmp")
        tmp.write_text(text + "\n")
        tmp.replace(args.out)
    print(text)


if __name__ == "__main__":
    main()
