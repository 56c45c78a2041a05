r"""CoreNet codes in the pre-registered protocol: CoreNet masks computed on the prior network
with design points, and quantised offsets of the kept weights only.

The protocol of :mod:`~.registration` fixes a *prior network* :math:`g_0` (trained on the
design part only) before the certification part is seen. A **CoreNet code** of method
:math:`M \in \{`CoreNet, CoreNet+, CoreNet++:math:`\}` and keep fraction :math:`\kappa`:

1. compresses :math:`g_0` with :func:`~netcoreset.sampler.compress` (method :math:`M`, keep
   :math:`\kappa`, a declared seed) on declared *design* points. The mask, the sampling counts
   :math:`c_j` and the reweighted kept weights :math:`\hat w_j = c_j w_j/(m q_j)` are then a
   function of :math:`g_0`, the design points and the seed, all fixed before the
   certification part is seen: they cost **0 bits** (the registration names them). Computed
   from data that include the certification points, the mask alone would cost its positions,
   :math:`\sum_\ell \lceil\log_2(N_\ell+1)\rceil + \log_2\binom{N_\ell}{q_\ell}` bits
   (:func:`mask_bits_if_paid`, reported for comparison, never charged here);
2. optionally moves the kept weights only, :math:`\theta = \hat\theta_0 +
   \operatorname{diag}(m)\,P z` with :math:`P` a random basis from a declared seed and
   :math:`m` the mask (:func:`~.subspace.subspace_basis`), :math:`z` trained on any data
   (the whole training set) and quantised; only :math:`z`'s symbols, counts and codebook are
   paid (:func:`~.certificate.certify_subspace`).

The comparator is the **same architecture unpruned**, coded the same way: :math:`g_0` itself
(0 bits) or :math:`g_0 + P z` over all its weights. All codes of a grid (:func:`code_grid`)
share one union bound (each pays :math:`\log_2` of the grid's size), so the table compares
certificates that hold together.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from netcoreset.bounds import count_bits, occam_bound, positions_bits
from netcoreset.sampler import compress, linear_layers

from .certificate import SearchGrid, certify_subspace, count_errors
from .subspace import SubspaceSpec, prior_origin, quantize_subspace, train_subspace

__all__ = [
    "CORENET_METHODS",
    "UNPRUNED",
    "CoreNetOrigin",
    "code_grid",
    "corenet_origin",
    "mask_bits_if_paid",
    "certify_corenet_code",
]

#: The CoreNet methods a grid may declare.
CORENET_METHODS = ("corenet", "corenet+", "corenet++")
#: The code name of the unpruned comparator.
UNPRUNED = "unpruned"


def code_grid(
    methods: Sequence[str], keeps: Sequence[float], dim: int, levels: int, codebook_dtype: str
) -> SearchGrid:
    r"""The declared grid: codes ``"unpruned"`` and ``"<method>@<keep>"``, offsets
    ``"none"`` or ``"subspace"`` (of dimension ``dim``, ``levels`` levels), two value codings.
    Every configuration costs :math:`\log_2` of the grid's size.

    >>> g = code_grid(["corenet"], [0.1, 0.3], 50, 4, "float16")
    >>> g.options("subspace", "code"), g.prior_bits("subspace")  # log2(3 * 2 * 2)
    (('unpruned', 'corenet@0.1', 'corenet@0.3'), 3.584962500721156)
    """
    for m in methods:
        if m not in CORENET_METHODS:
            raise ValueError(f"method must be one of {CORENET_METHODS}; got {m!r}")
    for k in keeps:
        if not 0.0 < float(k) < 1.0:
            raise ValueError(f"keep fractions must lie in (0, 1); got {k!r}")
    codes = (UNPRUNED, *(f"{m}@{k}" for m in methods for k in keeps))
    return SearchGrid({"subspace": {
        "code": codes, "offsets": ("none", "subspace"), "dim": (int(dim),),
        "levels": (int(levels),), "codebook_dtype": (codebook_dtype,),
        "value_coding": ("fixed", "arithmetic")}})  # fmt: skip


@dataclass
class CoreNetOrigin:
    """A code's starting network (the pruned prior, or the prior itself), its subspace spec,
    its parameters as a subspace origin, the mask of its non-zero parameters (``None``:
    every parameter moves) and the number of non-zero parameters."""

    code: str
    model: nn.Sequential
    spec: SubspaceSpec
    origin: torch.Tensor
    mask: torch.Tensor | None
    nnz: int


def corenet_origin(
    prior: nn.Module, points: torch.Tensor, code: str, *, dim: int, basis_seed: int, seed: int
) -> CoreNetOrigin:
    """The origin of ``code``: the prior compressed by ``"<method>@<keep>"`` on ``points``
    (which must be design points) with ``seed``, or the prior itself for ``"unpruned"``.
    Compressed networks keep their shrunk widths (CoreNet+ drops inactive neurons).

    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> net = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    >>> o = corenet_origin(net, torch.rand(50, 6), "corenet@0.5", dim=4, basis_seed=0, seed=0)
    >>> o.nnz < 6 * 8 + 8 + 8 * 3 + 3, bool(o.mask[o.origin == 0].eq(0).all())
    (True, True)
    """
    if code == UNPRUNED:
        net = prior
    else:
        method, _, keep = code.partition("@")
        if method not in CORENET_METHODS or not keep:
            raise ValueError(f"code must be {UNPRUNED!r} or '<method>@<keep>'; got {code!r}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net = compress(prior, points, method=method, keep=float(keep), seed=seed,
                           progress=False).model  # fmt: skip
    lays = linear_layers(net)
    spec = SubspaceSpec((lays[0].in_features, *(lay.out_features for lay in lays)), dim,
                        basis_seed)  # fmt: skip
    origin = prior_origin(net, spec)
    mask = None if code == UNPRUNED else (origin != 0).to(torch.float32)
    nnz = int((origin != 0).sum())
    return CoreNetOrigin(code, net, spec, origin, mask, nnz)  # type: ignore[arg-type]


def mask_bits_if_paid(origin: CoreNetOrigin) -> float:
    r"""What the mask would cost if it had been chosen after seeing the certification part:
    :math:`\sum_\ell \lceil\log_2(N_\ell+1)\rceil + \log_2\binom{N_\ell}{q_\ell}` over the
    layers' :math:`[W \mid b]` slots (0 for the unpruned code).

    >>> net = nn.Sequential(nn.Linear(2, 2))
    >>> o = corenet_origin(net, torch.rand(4, 2), "unpruned", dim=1, basis_seed=0, seed=0)
    >>> mask_bits_if_paid(o)
    0.0
    """
    if origin.mask is None:
        return 0.0
    total, offset = 0.0, 0
    for rows, cols in origin.spec.shapes:
        part = origin.mask[offset : offset + rows * cols]
        total += count_bits(rows * cols) + positions_bits(rows * cols, int(part.sum()))
        offset += rows * cols
    return total


def certify_corenet_code(
    origin: CoreNetOrigin,
    offsets: str,
    cert: tuple[torch.Tensor, torch.Tensor],
    *,
    grid: SearchGrid,
    delta: float,
    train: tuple[torch.Tensor, torch.Tensor] | None = None,
    training: Mapping[str, Any] | None = None,
    test: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> dict[str, Any]:
    r"""Certify one code of ``grid`` on the certification points ``cert``: with
    ``offsets="none"`` the origin network itself (only the grid's choices are paid), with
    ``"subspace"`` the origin moved on its kept weights by quantised subspace coordinates
    trained on ``train`` with the ``training`` rates (``epochs``, ``lr``, ``qat_epochs``,
    ``qat_lr``, ``batch_size``, ``seed``). Returns a JSON-ready row: bound (exact binomial
    tail), its kl relaxation, bits with their terms, certification and test errors.
    """
    g = grid.dims["subspace"]
    cfg = {"code": origin.code, "offsets": offsets, "dim": origin.spec.dim,
           "levels": g["levels"][0], "codebook_dtype": g["codebook_dtype"][0]}  # fmt: skip
    xc, yc = cert
    if offsets == "none":
        grid.check("subspace", {**cfg, "value_coding": "fixed"})
        bits = grid.prior_bits("subspace")
        k, n = count_errors(origin.model, xc, yc), int(xc.shape[0])
        return {"configuration": cfg, "bound": occam_bound(k, n, bits, delta, "binomial").bound,
                "bound_kl": occam_bound(k, n, bits, delta, "kl").bound, "n": n, "delta": delta,
                "description_bits": bits, "terms_bits": {"choices": bits},
                "train_errors": k, "train_error": k / n, "nnz": origin.nnz,
                "test_error": None if test is None else
                count_errors(origin.model, *test) / int(test[0].shape[0])}  # fmt: skip
    if offsets != "subspace" or train is None or training is None:
        raise ValueError("offsets must be 'none', or 'subspace' with train and training given")
    t = training
    z = train_subspace(origin.spec, *train, epochs=t["epochs"], lr=t["lr"],
                       batch_size=t["batch_size"], seed=t["seed"], origin=origin.origin,
                       mask=origin.mask)  # fmt: skip
    sq = quantize_subspace(origin.spec, z, *train, cfg["levels"], epochs=t["qat_epochs"],
                           lr=t["qat_lr"], batch_size=t["batch_size"], seed=t["seed"],
                           codebook_dtype=cfg["codebook_dtype"], origin=origin.origin,
                           mask=origin.mask)  # fmt: skip
    c = certify_subspace(sq.symbols, cfg["levels"], cfg["codebook_dtype"], sq.model, xc, yc,
                         grid=grid, config=cfg, delta=delta,
                         x_test=None if test is None else test[0],
                         y_test=None if test is None else test[1])  # fmt: skip
    row = c.to_dict()
    row.update({"nnz": origin.nnz, "symbols": sq.symbols.tolist(),
                "codebook": sq.codebook.tolist()})  # fmt: skip
    row.pop("description", None)
    return row
