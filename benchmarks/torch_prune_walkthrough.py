"""A timed walkthrough of :func:`netcoreset.sampler.torch_prune.prune_linear` on models that
are not an ``nn.Sequential``: wall time of each step, written as JSON.

Two models on the digits data set (64 features, 10 classes), trained for a few hundred Adam
steps with a fixed seed: a class with named Linear attributes and its own ``forward`` (a
chain: CoreNet's certificate applies) and a two-branch class (not a chain: the heuristic
path). Each step is timed once, ``prune_linear`` ``--repeat`` times (median and minimum;
wall clock, one torch thread)::

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


def walkthrough(cls: type[nn.Module], keep: float, train_steps: int, repeat: int) -> dict[str, Any]:
    """Every step of pruning one model, timed (``prune_linear``: the median of ``repeat``
    runs, and their minimum)."""
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
        runs = []
        for _ in range(repeat):  # the same seed: the same result each time, timed `repeat` times
            res = _timed(
                steps,
                "prune_linear",
                lambda: prune_linear(
                    model, data.x_train, keep=keep, seed=0, **_certificate(cls is Classifier)
                ),
            )
            runs.append(steps["prune_linear"])
    steps["prune_linear"] = sorted(runs)[len(runs) // 2]
    steps["prune_linear (min)"] = min(runs)
    del caught[len(caught) // repeat :]  # one run's warnings
    after = _timed(
        steps, "test accuracy (pruned)", lambda: _accuracy(res.model, data.x_test, data.y_test)
    )

    def remove() -> None:
        for name in res.layers:
            for param in ("weight", "bias"):
                prune.remove(res.model.get_submodule(name), param)

    same = None
    if res.chain:  # compress on an nn.Sequential of the same layers, for comparison
        same = _timed(
            steps,
            "compress (nn.Sequential of the layers)",
            lambda: _same_as_compress(model, res, data.x_train, keep),
        )
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
        "same_kept_weights_as_compress": same,
        "accuracy": before,
        "accuracy_pruned": after,
        "warnings": [str(w.message) for w in caught],
        "steps_s": steps,
    }


def _same_as_compress(model: nn.Module, res: Any, x: torch.Tensor, keep: float) -> bool:
    """Whether compress on an nn.Sequential of the same layers keeps the same weights."""
    from netcoreset.sampler import compress

    layers = [res.model.get_submodule(name) for name in res.layers]
    seq = nn.Sequential()
    for idx, name in enumerate(res.layers):
        seq.append(model.get_submodule(name))
        if idx < len(layers) - 1:
            seq.append(nn.ReLU())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = compress(seq, x, keep=keep, seed=0, certificate="paper")
    lins = [m for m in ref.model if isinstance(m, nn.Linear)]
    return all(
        torch.equal(res.masks[name], lin.weight != 0)
        for name, lin in zip(res.layers, lins, strict=True)
    )


def _certificate(chain: bool) -> dict[str, str]:
    return {"certificate": "paper"} if chain else {}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--keep", type=float, default=0.2)
    parser.add_argument("--train-steps", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    runs = [
        walkthrough(cls, args.keep, args.train_steps, args.repeat)
        for cls in (Classifier, TwoBranch)
    ]
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
