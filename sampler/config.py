r"""The validated arguments of :func:`~netcoreset.sampler.compress`, as one frozen dataclass.

:meth:`CompressionConfig.create` checks every argument once (and names the argument in its
``ValueError``); the stages of the compression then read a config that cannot be wrong.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from netcoreset.bounds import check_open_unit, check_positive, default_tau
from netcoreset.bounds.validation import check_int, check_K, check_seed

from .methods import get_method

__all__ = [
    "CompressionConfig",
    "BUDGET_ALLOCATION_DEFAULT",
    "BUDGET_INCLUDE_KAPPA_DEFAULT",
    "CERTIFICATES",
]

#: Default of ``include_kappa`` in budget mode. With :math:`\kappa` the allocation follows
#: :math:`(\hat\Delta^{\ell\rightarrow})^2` including :math:`\kappa`, which starves the last
#: layers; the user guide's budget-mode experiment gives the numbers behind this choice.
BUDGET_INCLUDE_KAPPA_DEFAULT = False

#: Default of ``allocation`` in budget mode ("theorem": :math:`\varepsilon_\ell` from
#: :math:`\hat\Delta^{\ell\rightarrow}`; "uniform": the same :math:`\varepsilon_\ell` in every
#: layer). Measured on the digits 64-300-100-10 net (3 seeds, keep 10/20/30%): test accuracy
#: 0.51/0.83/0.93 with "uniform" against 0.12/0.13-0.19/0.21 with "theorem" (with or without
#: :math:`\kappa`), which gives the last layers one draw per part.
BUDGET_ALLOCATION_DEFAULT = "uniform"

#: Most CoreNet++ candidates per part: each is a full resample of the part, and
#: :math:`\lceil\log_2(1/\delta)\rceil \le 1075` for every float64 :math:`\delta`.
MAX_TAU = 2048

Mode = Literal["guarantee", "budget"]

#: The certificates :func:`~netcoreset.sampler.compress` can state (the theory page *Tight
#: certificates*): the paper's theorem, the theorem with the constants its proof needs, and a
#: held-out test of the compressed network; ``"none"`` (budget mode only) asks for none, and
#: the compression then runs no held-out check (:func:`netcoreset.sampler.certify` certifies
#: a result afterwards, for any criterion).
CERTIFICATES: tuple[str, ...] = ("none", "paper", "tight", "holdout")


#: The criteria ``certificate="holdout"`` can certify (:mod:`netcoreset.sampler.criteria`).
_CRITERIA = ("entrywise", "relative-l2", "top1", "margin")


def _certificate(value: Any, mode: Mode) -> str:
    """``None``: the paper's theorem in guarantee mode (its draws are sized for it), no
    certificate in budget mode (nothing is paid for one unless asked)."""
    if value is None:
        return "paper" if mode == "guarantee" else "none"
    if value not in CERTIFICATES:
        raise ValueError(f"certificate must be one of {CERTIFICATES}; got {value!r}")
    if value == "none" and mode == "guarantee":
        raise ValueError(
            "certificate='none' applies to budget mode (keep or nnz): guarantee mode sizes its "
            "draws for the certificate it states ('paper', 'tight' or 'holdout')"
        )
    return str(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _optional_count(name: str, value: Any) -> int | None:
    if value is None:
        return None
    if not _is_int(value) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1; got {value!r}")
    return int(value)


def _draw_scale(value: Any) -> float | tuple[float, ...]:
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        scales: tuple[float, ...] = (float(value),)
        scalar = True
    else:
        try:
            scales = tuple(float(s) for s in value)
        except (TypeError, ValueError):
            raise ValueError(f"draw_scale must be a number or a sequence; got {value!r}") from None
        scalar = False
    if not scales or not all(math.isfinite(s) and s > 0 for s in scales):
        raise ValueError(f"draw_scale must be finite and > 0; got {value!r}")
    return scales[0] if scalar else scales


@dataclass(frozen=True)
class CompressionConfig:
    r"""Everything :func:`~netcoreset.sampler.compress` was asked to do, validated.

    ``mode`` is ``"guarantee"`` when ``eps`` is given and ``"budget"`` for ``keep`` or
    ``nnz``; ``include_kappa`` and ``allocation`` hold the resolved defaults of the mode;
    ``tau`` is CoreNet++'s number of candidates (``None`` for the other methods). ``K`` is
    ``None`` when it is to be estimated from held-out points; a given ``K`` must exceed 1
    (Assumption 1, :math:`F_j(M_j/K) \le e^{-1/K'}`, fails at :math:`K \le 1`, where
    :math:`F_j(M_j/K) = 1`).

    Examples
    --------
    >>> cfg = CompressionConfig.create(method="corenet++", keep=0.2, delta=0.1)
    >>> cfg.mode, cfg.tau, cfg.include_kappa, cfg.allocation
    ('budget', 4, False, 'uniform')
    >>> CompressionConfig.create(eps=1.5)
    Traceback (most recent call last):
    ...
    ValueError: eps must be a real number in the open interval (0, 1); got 1.5
    >>> CompressionConfig.create(eps=0.5, K=1.0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: K must exceed 1: Assumption 1 ... (or leave K=None to estimate it ...)
    """

    method: str
    mode: Mode
    eps: float | None
    keep: float | None
    nnz: int | None
    delta: float
    K: float | None
    k_prime: float
    include_kappa: bool
    allocation: str
    tight: bool
    activations: str
    tau: int | None
    holdout_set_size: int | None
    draw_scale: float | tuple[float, ...]
    sensitivity_set_size: int | None
    seed: int | None
    chunk_size: int
    progress: bool | None
    certificate: str = "paper"
    certification_set_size: int | None = None
    criterion: str = "entrywise"

    @classmethod
    def create(
        cls,
        *,
        method: str = "corenet",
        eps: float | None = None,
        delta: float = 0.1,
        keep: float | None = None,
        nnz: int | None = None,
        K: float | None = None,
        k_prime: float = 3.0,
        include_kappa: bool | None = None,
        allocation: str | None = None,
        tight: bool = False,
        activations: str = "original",
        tau: int | None = None,
        holdout_set_size: int | None = None,
        draw_scale: float | Sequence[float] = 1.0,
        sensitivity_set_size: int | None = None,
        seed: int | None = None,
        chunk_size: int = 1,
        progress: bool | None = None,
        certificate: str | None = None,
        certification_set_size: int | None = None,
        criterion: str = "entrywise",
    ) -> CompressionConfig:
        """Validate the arguments of :func:`~netcoreset.sampler.compress` (same names)."""
        entry = get_method(method)
        given = [n for n, v in (("eps", eps), ("keep", keep), ("nnz", nnz)) if v is not None]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of eps (guarantee mode), keep or nnz (budget mode); got {given}"
            )
        mode: Mode = "guarantee" if eps is not None else "budget"
        if eps is not None:
            eps = check_open_unit("eps", eps)
        if keep is not None and (
            isinstance(keep, bool) or not isinstance(keep, (int, float)) or not 0 < keep <= 1
        ):
            raise ValueError(f"keep must be a fraction in (0, 1]; got {keep!r}")
        delta = check_open_unit("delta", delta)
        if activations not in ("original", "compressed"):
            raise ValueError(f"activations must be 'original' or 'compressed'; got {activations!r}")
        if allocation not in (None, "theorem", "uniform"):
            raise ValueError(f"allocation must be 'theorem' or 'uniform'; got {allocation!r}")
        if not _is_int(chunk_size) or chunk_size < 1:
            raise ValueError(f"chunk_size must be an integer >= 1; got {chunk_size!r}")
        if seed is not None:
            try:
                seed = check_seed("seed", seed)
            except ValueError:
                raise ValueError(f"seed must be a non-negative integer; got {seed!r}") from None
        if not entry.amplify and (tau is not None or holdout_set_size is not None):
            raise ValueError("tau and holdout_set_size apply to method='corenet++' only")
        certificate = _certificate(certificate, mode)
        if criterion not in _CRITERIA:
            raise ValueError(f"criterion must be one of {_CRITERIA}; got {criterion!r}")
        if criterion != "entrywise" and certificate != "holdout":
            raise ValueError(
                f"criterion {criterion!r} applies to certificate='holdout' only: the theorem's "
                "certificates state the entry-wise (1 +- eps)"
            )
        if K is not None:
            K = check_K(K, hint="or leave K=None to estimate it from held-out points")
        guarantee = mode == "guarantee"
        return cls(
            method=entry.name,
            mode=mode,
            eps=eps,
            keep=None if keep is None else float(keep),
            nnz=_optional_count("nnz", nnz),
            delta=delta,
            K=K,
            k_prime=check_positive("k_prime", k_prime),
            include_kappa=(
                (guarantee or BUDGET_INCLUDE_KAPPA_DEFAULT)
                if include_kappa is None
                else bool(include_kappa)
            ),
            allocation=allocation or ("theorem" if guarantee else BUDGET_ALLOCATION_DEFAULT),
            tight=bool(tight),
            activations=activations,
            tau=(
                (default_tau(delta) if tau is None else check_int("tau", tau, 1, MAX_TAU))
                if entry.amplify
                else None
            ),
            holdout_set_size=_optional_count("holdout_set_size", holdout_set_size),
            draw_scale=_draw_scale(draw_scale),
            sensitivity_set_size=_optional_count("sensitivity_set_size", sensitivity_set_size),
            seed=seed,
            chunk_size=int(chunk_size),
            progress=progress,
            certificate=certificate,
            certification_set_size=_optional_count(
                "certification_set_size", certification_set_size
            ),
            criterion=criterion,
        )

    def budget_fraction(self) -> float:
        """``keep`` in budget mode (``ValueError`` when the config has none).

        >>> CompressionConfig.create(keep=0.25).budget_fraction()
        0.25
        """
        if self.keep is None:
            raise ValueError("this configuration has no keep fraction")
        return self.keep

    def draw_scales(self, n_layers: int) -> list[float]:
        """``draw_scale`` as one factor per weight layer.

        >>> CompressionConfig.create(keep=0.5, draw_scale=2).draw_scales(3)
        [2.0, 2.0, 2.0]
        """
        if isinstance(self.draw_scale, float):
            return [self.draw_scale] * n_layers
        if len(self.draw_scale) != n_layers:
            raise ValueError(
                f"draw_scale needs one value per weight layer ({n_layers}); "
                f"got {len(self.draw_scale)}"
            )
        return list(self.draw_scale)
