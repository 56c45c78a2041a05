"""The result of a compression: the new model and its report, sparse storage, save and load."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ._model import build_sequential, linear_layers, starts_with_flatten
from .report import CompressionReport

__all__ = ["CompressionResult", "SparseLinear", "load", "target_reached"]


def target_reached(report: CompressionReport) -> bool:
    """Whether ``report``'s certificate reaches its request (see
    :attr:`CompressionResult.target_reached`); a report of a baseline, or of a compression
    without a certificate, has no target and counts as reached.

    >>> from types import SimpleNamespace as NS
    >>> target_reached(NS(method="corenet", certificate="paper", certified_eps=0.2,
    ...                   certified_delta=0.133, delta=0.1, eps=None))
    False
    """
    if not report.method.startswith("corenet") or report.certificate == "none":
        return True
    if report.certified_eps is None or report.certified_delta is None:
        return False
    tol = 1 + 1e-9
    eps_ok = report.eps is None or report.certified_eps <= report.eps * tol
    return eps_ok and report.certified_delta <= report.delta * tol


class SparseLinear(nn.Module):
    """A linear layer whose weight is stored as ``torch.sparse_csr`` (see
    :meth:`CompressionResult.to_sparse`): :math:`y = W x + b` with :math:`W` sparse.

    Like :class:`torch.nn.Linear` it maps inputs of shape ``(*, in_features)`` to
    ``(*, out_features)``. Half and bfloat16 weights are stored and multiplied in float32 (CPU
    kernels for sparse half matrices are missing) and the output is cast back.

    >>> import torch
    >>> layer = SparseLinear(torch.tensor([[0.0, 2.0], [1.0, 0.0]]), torch.zeros(2))
    >>> layer(torch.tensor([[1.0, 3.0]]))
    tensor([[6., 1.]])
    >>> layer(torch.ones(4, 5, 2)).shape
    torch.Size([4, 5, 2])
    """

    weight: torch.Tensor
    bias: torch.Tensor | None

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None) -> None:
        super().__init__()
        self.in_features = weight.shape[1]
        self.out_features = weight.shape[0]
        self.output_dtype = weight.dtype
        stored = weight.detach()
        if stored.dtype in (torch.float16, torch.bfloat16):
            stored = stored.float()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
            self.register_buffer("weight", stored.to_sparse_csr())
        self.register_buffer("bias", None if bias is None else bias.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"SparseLinear expects inputs (*, {self.in_features}); got {tuple(x.shape)}"
            )
        lead = x.shape[:-1]
        flat = x.reshape(-1, self.in_features).to(self.weight.dtype)
        out = (self.weight @ flat.T).T.to(self.output_dtype)
        if self.bias is not None:
            out = out + self.bias
        return out.reshape(*lead, self.out_features)

    def extra_repr(self) -> str:
        nnz = int(self.weight.values().numel())
        return f"in_features={self.in_features}, out_features={self.out_features}, nnz={nnz}"


@dataclass(repr=False)
class CompressionResult:
    r"""A compressed model and its :class:`CompressionReport`.

    The headline is what the certificate reaches, not what was asked:
    :attr:`certified_eps` and :attr:`certified_delta` (with probability at least
    :math:`1 - \delta_{\mathrm{cert}}`, every output is within
    :math:`(1 \pm \varepsilon_{\mathrm{cert}})` of the original's);
    :attr:`requested_eps` and :attr:`requested_delta` are the request. When the data cannot
    support the request, :func:`~netcoreset.sampler.compress` warns
    (:class:`~netcoreset.sampler.CompressionWarning`) and :attr:`target_reached` is
    ``False``. There is deliberately no ``delta`` attribute: it would be ambiguous.

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
        r"""The :math:`\varepsilon` the certificate reaches (None when nothing is certified,
        and for baselines)."""
        return self.report.certified_eps

    @property
    def certified_delta(self) -> float | None:
        """The failure probability the certificate reaches; the guarantee holds with
        probability at least ``1 - certified_delta`` (None when no certificate was asked)."""
        return self.report.certified_delta

    @property
    def requested_eps(self) -> float | None:
        r"""The :math:`\varepsilon` asked for (guarantee mode; None in budget mode)."""
        return self.report.eps

    @property
    def requested_delta(self) -> float:
        r"""The :math:`\delta` asked for (what :attr:`certified_delta` is compared with)."""
        return self.report.delta

    @property
    def target_reached(self) -> bool:
        """Whether the certificate reaches the request (something is certified, at a
        failure probability of at most :attr:`requested_delta` and, in guarantee mode, an
        error of at most :attr:`requested_eps`, with relative tolerance :math:`10^{-9}`)."""
        return target_reached(self.report)

    @property
    def delta(self) -> float:
        """No longer available (ambiguous between the request and what is certified)."""
        raise AttributeError(
            "CompressionResult.delta is ambiguous: use certified_delta (what the certificate "
            "reaches) or requested_delta (what was asked)"
        )

    def __repr__(self) -> str:
        rep = self.report
        line = f"CompressionResult(method={rep.method!r}, nnz={rep.nnz}/{rep.nnz_original}"
        if self.certified_eps is None:
            return line + ", nothing certified)"
        line += f", certified_eps={self.certified_eps:.4g}"
        line += f", certified_delta={self.certified_delta:.4g}"
        return line + ("" if self.target_reached else ", target NOT reached") + ")"

    @property
    def nnz(self) -> int:
        return self.report.nnz

    @property
    def kept_neurons(self) -> list[torch.Tensor] | None:
        """Per hidden layer, the indices (``int64``, ascending, into the original layer's
        outputs) of the neurons :attr:`model` keeps: all of them unless CoreNet+ or CoreNet++
        removed some (``None`` for a result saved before they were recorded).

        >>> import torch
        >>> from netcoreset.sampler import compress
        >>> _ = torch.manual_seed(0)
        >>> net = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2))
        >>> with torch.no_grad():
        ...     _ = net[0].bias.copy_(torch.tensor([-9.0, 1, 1, 1, 1, -9.0]))  # 0 and 5 never fire
        >>> res = compress(net, torch.rand(50, 4), keep=0.3, seed=0, method="corenet+")
        >>> res.kept_neurons, res.model[0].out_features
        ([tensor([1, 2, 3, 4])], 4)
        """
        kept = self.report.kept_neurons
        return None if kept is None else [torch.tensor(k, dtype=torch.int64) for k in kept]

    @property
    def nnz_original(self) -> int:
        return self.report.nnz_original

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON-serialisable dict."""
        return self.report.to_dict()

    def to_sparse(self) -> nn.Sequential:
        """The model with every weight as ``torch.sparse_csr`` (for storage and inference);
        a leading ``nn.Flatten`` is kept."""
        mods: list[nn.Module] = [nn.Flatten()] if starts_with_flatten(self.model) else []
        layers = linear_layers(self.model)
        for idx, layer in enumerate(layers):
            mods.append(SparseLinear(layer.weight, layer.bias))
            if idx < len(layers) - 1:
                mods.append(nn.ReLU())
        return nn.Sequential(*mods)

    def save(self, directory: str | Path) -> Path:
        """Write the result to the folder ``directory``, whole or not at all.

        The folder holds ``model.safetensors`` (the tensors, bit-exact) and ``metadata.json``
        (the layers and the report); each file carries the SHA-256 of the other's content, so
        :func:`load` detects a damaged or mismatched pair. Both are written to a temporary
        folder next to ``directory``, flushed to disk, and the folder is renamed into place; an
        existing result there is replaced (it is moved aside first and deleted after), so an
        interruption leaves the old result, the new one, or no folder, never a mixture.

        Raises
        ------
        ValueError
            When ``directory`` is a file, lies under a file, or is a folder that holds
            something other than a saved result (it is never deleted).

        Examples
        --------
        >>> import tempfile
        >>> from netcoreset.sampler import compress
        >>> net = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2))
        >>> res = compress(net, torch.rand(50, 4), keep=0.5, seed=0)
        >>> with tempfile.TemporaryDirectory() as d:
        ...     sorted(p.name for p in res.save(f"{d}/run").iterdir())
        ['metadata.json', 'model.safetensors']
        """
        from ._store import write_result

        layers = linear_layers(self.model)
        return write_result(
            Path(directory),
            weights=[lay.weight for lay in layers],
            biases=[lay.bias for lay in layers],
            flatten=starts_with_flatten(self.model),
            report=self.report.to_dict(),
        )


def load(
    directory: str | Path,
    device: str | torch.device = "cpu",
    *,
    allow_unverified: bool = False,
) -> CompressionResult:
    """Load a :class:`CompressionResult` written by :meth:`CompressionResult.save`.

    The checksums written by ``save`` are verified: a truncated, altered or mismatched
    ``model.safetensors``/``metadata.json`` pair is refused. Results of netcoreset 0.1.0
    (format version 1) carry no checksums, so nothing shows whether their weights were
    altered: they are refused unless ``allow_unverified=True``, and then load with their
    structure checked only.

    Raises
    ------
    ValueError
        When the folder is not a complete, intact saved result (naming what is wrong), or
        is of version 1 without ``allow_unverified``.

    Examples
    --------
    >>> import tempfile
    >>> from netcoreset.sampler import compress
    >>> net = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2))
    >>> res = compress(net, torch.rand(50, 4), keep=0.5, seed=0)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     back = load(res.save(d))
    >>> all(torch.equal(a, b) for a, b in zip(res.model.parameters(), back.model.parameters()))
    True
    """
    from ._store import read_result

    stored = read_result(Path(directory), device, allow_unverified=allow_unverified)
    net = build_sequential(stored.weights, stored.biases)
    model = nn.Sequential(nn.Flatten(), *net) if stored.flatten else net
    report = CompressionReport.from_dict(stored.report, legacy_strings=stored.version == 1)
    return CompressionResult(model=model, report=report)
