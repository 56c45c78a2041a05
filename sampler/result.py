"""The result of a compression: the new model and its report, sparse storage, save and load."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ._model import build_sequential, linear_layers
from .report import CompressionReport

__all__ = ["CompressionResult", "SparseLinear", "load"]

_FORMAT_VERSION = 1


class SparseLinear(nn.Module):
    """A linear layer whose weight is stored as ``torch.sparse_csr`` (see
    :meth:`CompressionResult.to_sparse`): :math:`y = W x + b` with :math:`W` sparse.

    >>> import torch
    >>> layer = SparseLinear(torch.tensor([[0.0, 2.0], [1.0, 0.0]]), torch.zeros(2))
    >>> layer(torch.tensor([[1.0, 3.0]]))
    tensor([[6., 1.]])
    """

    weight: torch.Tensor
    bias: torch.Tensor | None

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None) -> None:
        super().__init__()
        self.in_features = weight.shape[1]
        self.out_features = weight.shape[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
            self.register_buffer("weight", weight.detach().to_sparse_csr())
        self.register_buffer("bias", None if bias is None else bias.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = (self.weight @ x.reshape(-1, self.in_features).T).T
        if self.bias is not None:
            out = out + self.bias
        return out

    def extra_repr(self) -> str:
        nnz = int(self.weight.values().numel())
        return f"in_features={self.in_features}, out_features={self.out_features}, nnz={nnz}"


@dataclass
class CompressionResult:
    """A compressed model and its :class:`CompressionReport`.

    >>> import torch
    >>> from netcoreset.sampler import compress
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 2))
    >>> res = compress(net, torch.rand(50, 4), keep=0.5, seed=0)
    >>> res.nnz <= res.nnz_original, type(res.model).__name__
    (True, 'Sequential')

    Attributes
    ----------
    model : torch.nn.Sequential
        A new ``Linear -> ReLU -> ... -> Linear`` network holding the reweighted sparse
        weights (dense storage; :meth:`to_sparse` converts).
    report : CompressionReport
    """

    model: nn.Sequential
    report: CompressionReport

    @property
    def certified_eps(self) -> float | None:
        """The theorem's :math:`\\varepsilon` certified by the draws (None for baselines)."""
        return self.report.certified_eps

    @property
    def delta(self) -> float:
        return self.report.delta

    @property
    def nnz(self) -> int:
        return self.report.nnz

    @property
    def nnz_original(self) -> int:
        return self.report.nnz_original

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON-serialisable dict."""
        return self.report.to_dict()

    def to_sparse(self) -> nn.Sequential:
        """The model with every weight as ``torch.sparse_csr`` (for storage and inference)."""
        mods: list[nn.Module] = []
        layers = linear_layers(self.model)
        for idx, layer in enumerate(layers):
            mods.append(SparseLinear(layer.weight, layer.bias))
            if idx < len(layers) - 1:
                mods.append(nn.ReLU())
        return nn.Sequential(*mods)

    def save(self, directory: str | Path) -> Path:
        """Write ``model.safetensors`` (the tensors, bit-exact) and ``metadata.json``."""
        from safetensors.torch import save_file

        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        layers = linear_layers(self.model)
        tensors = {}
        for idx, layer in enumerate(layers):
            tensors[f"layers.{idx}.weight"] = layer.weight.detach().cpu().contiguous()
            if layer.bias is not None:
                tensors[f"layers.{idx}.bias"] = layer.bias.detach().cpu().contiguous()
        save_file(tensors, str(path / "model.safetensors"))
        meta = {
            "format": "netcoreset-compressed",
            "version": _FORMAT_VERSION,
            "layers": [[lay.in_features, lay.out_features, lay.bias is not None] for lay in layers],
            "report": self.report.to_dict(),
        }
        (path / "metadata.json").write_text(json.dumps(meta, indent=2))
        return path


def load(directory: str | Path, device: str | torch.device = "cpu") -> CompressionResult:
    """Load a :class:`CompressionResult` written by :meth:`CompressionResult.save`.

    Raises ``ValueError`` when the folder is not such a result.

    >>> import tempfile, torch
    >>> from netcoreset.sampler import compress
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 2))
    >>> res = compress(net, torch.rand(50, 4), keep=0.5, seed=0)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     back = load(res.save(d))
    >>> all(torch.equal(a, b) for a, b in zip(res.model.parameters(), back.model.parameters()))
    True
    """
    from safetensors.torch import load_file

    path = Path(directory)
    meta_file, tensor_file = path / "metadata.json", path / "model.safetensors"
    if not meta_file.is_file() or not tensor_file.is_file():
        raise ValueError(f"{path} holds no saved compression (metadata.json, model.safetensors)")
    meta = json.loads(meta_file.read_text())
    if meta.get("format") != "netcoreset-compressed":
        raise ValueError(f"{meta_file} is not a netcoreset compression")
    tensors = load_file(str(tensor_file), device=str(device))
    weights, biases = [], []
    for idx, (_, _, has_bias) in enumerate(meta["layers"]):
        weights.append(tensors[f"layers.{idx}.weight"])
        biases.append(tensors[f"layers.{idx}.bias"] if has_bias else None)
    return CompressionResult(
        model=build_sequential(weights, biases),
        report=CompressionReport.from_dict(meta["report"]),
    )
