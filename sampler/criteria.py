r"""Criteria a compressed network can be certified for, and the held-out certificate.

A criterion says, for one input :math:`x`, whether the compressed network's outputs
:math:`\hat f = f_{\hat\theta}(x)` *fail* against the original's :math:`f = f_\theta(x)`. Each is
one small pure function ``fails(approx, exact, eps) -> bool per row`` (float64), registered by
name in ``CRITERIA`` (like the functions of :mod:`torch.nn.utils.prune`):

* ``"entrywise"``: :math:`\exists k:\ |\hat f_k - f_k| > \varepsilon |f_k|` (the
  :math:`(1\pm\varepsilon)` statement of Baykal et al., 2019, Theorem 4);
* ``"relative-l2"``: :math:`\|\hat f - f\|_2 > \varepsilon \|f\|_2`;
* ``"top1"``: :math:`\arg\max_k \hat f_k \ne \arg\max_k f_k` (``eps`` is not used);
* ``"margin"``: with :math:`c = \arg\max_k f_k` and the margin
  :math:`\gamma_c(g) = g_c - \max_{k \ne c} g_k`,
  :math:`\gamma_c(\hat f) < (1-\varepsilon)\,\gamma_c(f)`: the compressed network keeps at
  least a :math:`1-\varepsilon` share of the original's margin for the original's class (so it
  also agrees at top 1 when that margin is positive).

A NaN output always fails. Ties in :math:`\arg\max` go to the first index (``torch.argmax``).

:func:`certify` states the exact held-out certificate of one compressed network for a
criterion: with :math:`F` failures on :math:`n` held-out points drawn i.i.d. from
:math:`\mathcal{D}` independently of the network, the one-sided Clopper–Pearson bound
(:func:`netcoreset.bounds.binomial_upper_bound`) gives

.. math::

    \mathbb{P}_V\bigl(\mathbb{P}_x(\text{fail} \mid \hat\theta) \le U_{\alpha/G}(F)\bigr)
    \ge 1 - \alpha,

where :math:`G` counts the candidate networks fixed before :math:`V` was looked at (the
union bound); hence :math:`\mathbb{P}_{V, x}(\text{fail}) \le U_{\alpha/G}(F) + \alpha`
(:func:`netcoreset.bounds.holdout_certified_delta`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from netcoreset.bounds import binomial_upper_bound, check_open_unit, holdout_certified_delta
from netcoreset.bounds.validation import check_positive_int

from ._model import as_inputs, linear_layers, starts_with_flatten

__all__ = [
    "CRITERIA",
    "Criterion",
    "HeldOutCertificate",
    "certify",
    "check_criterion",
    "criterion_failures",
    "criterion_scores",
    "entrywise",
    "get_criterion",
    "margin",
    "register_criterion",
    "relative_l2",
    "top1",
]

FailureRule = Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]
ScoreRule = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

#: Rows evaluated at once by :func:`certify` (bounds its working memory for large sets).
CERTIFY_BATCH = 4096


@dataclass(frozen=True)
class Criterion:
    """A registered criterion: its ``name``, the rule ``fails(approx, exact, eps)`` (both
    ``(n, outputs)`` float64; a bool tensor ``(n,)``), whether it uses ``eps``, the fewest
    outputs it makes sense for, one line describing it, and optionally ``score(approx,
    exact)``: per row the smallest ``eps`` at which the row passes (``fails`` is then
    ``score > eps``, up to rounding; ``inf`` when no ``eps`` passes).

    Examples
    --------
    >>> top1 = CRITERIA["top1"]
    >>> exact = torch.tensor([[2.0, 1.0], [0.0, 3.0]], dtype=torch.float64)
    >>> approx = torch.tensor([[1.5, 1.8], [0.5, 2.0]], dtype=torch.float64)
    >>> top1.name, top1.uses_eps, top1.fails(approx, exact, 0.0).tolist()
    ('top1', False, [True, False])
    """

    name: str
    fails: FailureRule
    uses_eps: bool
    min_outputs: int
    summary: str
    score: ScoreRule | None = None


#: The criteria by name (:func:`register_criterion` adds one).
CRITERIA: dict[str, Criterion] = {}


def register_criterion(
    name: str,
    *,
    uses_eps: bool = True,
    min_outputs: int = 1,
    summary: str = "",
    score: ScoreRule | None = None,
) -> Callable[[FailureRule], FailureRule]:
    """Decorator adding ``fails(approx, exact, eps) -> bool tensor`` to ``CRITERIA``.

    >>> @register_criterion("sign", uses_eps=False, summary="some output changes sign")
    ... def sign(approx, exact, eps):
    ...     return (torch.sign(approx) != torch.sign(exact)).any(dim=1)
    >>> criterion_failures("sign", torch.tensor([[1.0, -1.0]]), torch.tensor([[1.0, 1.0]]))
    array([ True])
    >>> del CRITERIA["sign"]
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"a criterion's name must be a non-empty string; got {name!r}")

    def add(fn: FailureRule) -> FailureRule:
        if name in CRITERIA:
            raise ValueError(f"criterion {name!r} is already registered")
        CRITERIA[name] = Criterion(name, fn, uses_eps, min_outputs, summary or name, score)
        return fn

    return add


def get_criterion(name: str) -> Criterion:
    """The registered criterion ``name`` (``ValueError`` naming the choices otherwise).

    >>> get_criterion("top1").uses_eps
    False
    >>> get_criterion("l3")
    Traceback (most recent call last):
    ...
    ValueError: criterion must be one of ['entrywise', 'margin', 'relative-l2', 'top1']; got 'l3'
    """
    if not isinstance(name, str) or name not in CRITERIA:
        raise ValueError(f"criterion must be one of {sorted(CRITERIA)}; got {name!r}")
    return CRITERIA[name]


def _nan_rows(approx: torch.Tensor) -> torch.Tensor:
    return torch.isnan(approx).any(dim=1)


def _ratio(num: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
    """num / den elementwise with 0/0 = 0, x/0 = inf (x > 0) and NaN = inf."""
    out = torch.where(den > 0, num / torch.where(den > 0, den, 1.0), 0.0)
    out = torch.where((den <= 0) & (num > 0), math.inf, out)
    return torch.where(torch.isnan(num) | torch.isnan(out), math.inf, out)


def _entrywise_score(approx: torch.Tensor, exact: torch.Tensor) -> torch.Tensor:
    return _ratio((approx - exact).abs(), exact.abs()).amax(dim=1)


def _l2_score(approx: torch.Tensor, exact: torch.Tensor) -> torch.Tensor:
    err = torch.linalg.vector_norm(approx - exact, dim=1)
    return _ratio(err, torch.linalg.vector_norm(exact, dim=1))


def _top1_score(approx: torch.Tensor, exact: torch.Tensor) -> torch.Tensor:
    return torch.where(top1(approx, exact, 0.0), math.inf, 0.0).to(torch.float64)


def _margin_score(approx: torch.Tensor, exact: torch.Tensor) -> torch.Tensor:
    cls = exact.argmax(dim=1)
    full = _class_margin(exact, cls)
    return _ratio((full - _class_margin(approx, cls)).clamp(min=0.0), full)


@register_criterion(
    "entrywise",
    summary="some output leaves (1 +- eps) of the original's",
    score=_entrywise_score,
)
def entrywise(approx: torch.Tensor, exact: torch.Tensor, eps: float) -> torch.Tensor:
    r"""Fails where :math:`\exists k:\ |\hat f_k - f_k| > \varepsilon |f_k|`.

    >>> entrywise(torch.tensor([[1.1, 0.0]]), torch.tensor([[1.0, 0.0]]), 0.2).tolist()
    [False]
    """
    diff = (approx - exact).abs()
    return (diff > eps * exact.abs()).any(dim=1) | _nan_rows(approx)


@register_criterion("relative-l2", summary="||f_hat - f||_2 > eps ||f||_2", score=_l2_score)
def relative_l2(approx: torch.Tensor, exact: torch.Tensor, eps: float) -> torch.Tensor:
    r"""Fails where :math:`\|\hat f - f\|_2 > \varepsilon \|f\|_2`.

    >>> relative_l2(torch.tensor([[3.0, 4.5]]), torch.tensor([[3.0, 4.0]]), 0.1).tolist()
    [False]
    """
    err = torch.linalg.vector_norm(approx - exact, dim=1)
    return (err > eps * torch.linalg.vector_norm(exact, dim=1)) | _nan_rows(approx)


@register_criterion(
    "top1",
    uses_eps=False,
    min_outputs=2,
    summary="the top-1 class differs from the original's",
    score=_top1_score,
)
def top1(approx: torch.Tensor, exact: torch.Tensor, eps: float) -> torch.Tensor:
    r"""Fails where :math:`\arg\max_k \hat f_k \ne \arg\max_k f_k` (``eps`` unused).

    >>> top1(torch.tensor([[0.0, 2.0], [1.0, 0.0]]), torch.tensor([[1.0, 0.0]] * 2), 0.0)
    tensor([ True, False])
    """
    return (approx.argmax(dim=1) != exact.argmax(dim=1)) | _nan_rows(approx)


def _class_margin(out: torch.Tensor, cls: torch.Tensor) -> torch.Tensor:
    r""":math:`g_c - \max_{k \ne c} g_k` per row, for the class ``cls`` of each row."""
    own = out.gather(1, cls[:, None]).squeeze(1)
    others = out.scatter(1, cls[:, None], -math.inf).amax(dim=1)
    return own - others


@register_criterion(
    "margin",
    min_outputs=2,
    summary="the margin of the original's class falls below (1 - eps) of the original's",
    score=_margin_score,
)
def margin(approx: torch.Tensor, exact: torch.Tensor, eps: float) -> torch.Tensor:
    r"""Fails where :math:`\gamma_c(\hat f) < (1-\varepsilon)\gamma_c(f)`, with
    :math:`c = \arg\max_k f_k` and :math:`\gamma_c(g) = g_c - \max_{k\ne c} g_k`.

    >>> exact = torch.tensor([[2.0, 0.0], [2.0, 0.0]])
    >>> margin(torch.tensor([[1.5, 0.0], [0.5, 0.0]]), exact, 0.5).tolist()
    [False, True]
    """
    cls = exact.argmax(dim=1)
    kept = _class_margin(approx, cls)
    return (kept < (1.0 - eps) * _class_margin(exact, cls)) | _nan_rows(approx)


def _check_eps(crit: Criterion, eps: float | None) -> float:
    if not crit.uses_eps:
        if eps is not None:
            raise ValueError(f"criterion {crit.name!r} takes no eps; got eps={eps!r}")
        return 0.0
    if eps is None:
        raise ValueError(f"criterion {crit.name!r} needs eps")
    if crit.name == "relative-l2":
        ok = isinstance(eps, (int, float)) and not isinstance(eps, bool) and 0 < eps < math.inf
        if not ok:
            raise ValueError(f"eps must be a finite real number > 0; got {eps!r}")
        return float(eps)
    return check_open_unit("eps", eps)


def check_criterion(criterion: str, eps: float | None) -> tuple[Criterion, float | None]:
    """The registered criterion and its validated ``eps`` (``None`` for a criterion without
    one); ``ValueError`` naming the problem otherwise.

    >>> check_criterion("relative-l2", 2.0)[1], check_criterion("top1", None)[1]
    (2.0, None)
    >>> check_criterion("margin", None)
    Traceback (most recent call last):
    ...
    ValueError: criterion 'margin' needs eps
    """
    crit = get_criterion(criterion)
    checked = _check_eps(crit, eps)
    return crit, (checked if crit.uses_eps else None)


def criterion_failures(
    criterion: str,
    approx: torch.Tensor | np.ndarray,
    exact: torch.Tensor | np.ndarray,
    eps: float | None = None,
) -> np.ndarray:
    """Which rows fail ``criterion`` at ``eps`` (float64 arithmetic, outputs flattened per row).

    ``eps`` is in (0, 1) for ``"entrywise"`` and ``"margin"``, any finite value > 0 for
    ``"relative-l2"``, and absent for ``"top1"``.

    Raises
    ------
    ValueError
        An unknown criterion, a missing or out-of-range ``eps``, outputs of different shapes,
        or fewer outputs than the criterion needs (two for ``"top1"`` and ``"margin"``).

    Examples
    --------
    >>> f = torch.tensor([[1.0, -2.0, 0.5], [3.0, 0.0, 1.0]])
    >>> g = torch.tensor([[1.2, -2.0, 0.5], [3.0, 0.1, 1.0]])
    >>> criterion_failures("entrywise", g, f, 0.1), criterion_failures("top1", g, f)
    (array([ True,  True]), array([False, False]))
    """
    crit = get_criterion(criterion)
    eps_value = _check_eps(crit, eps)
    b, a = _rows(crit, approx, exact)
    return crit.fails(b, a, eps_value).cpu().numpy().astype(bool)


def criterion_scores(
    criterion: str, approx: torch.Tensor | np.ndarray, exact: torch.Tensor | np.ndarray
) -> np.ndarray:
    r"""Per row, the smallest ``eps`` at which the row passes ``criterion`` (float64; ``inf``
    when none does): :math:`\max_k |\hat f_k - f_k|/|f_k|` (entry-wise),
    :math:`\|\hat f - f\|_2/\|f\|_2` (relative-l2), :math:`1 - \gamma_c(\hat f)/\gamma_c(f)`
    clipped at 0 (margin), 0 or ``inf`` (top1).

    >>> f = torch.tensor([[2.0, 0.0]]); g = torch.tensor([[1.5, 0.0]])
    >>> [float(criterion_scores(c, g, f)[0]) for c in ("entrywise", "margin", "top1")]
    [0.25, 0.25, 0.0]
    """
    crit = get_criterion(criterion)
    b, a = _rows(crit, approx, exact)
    if crit.score is None:
        raise ValueError(f"criterion {crit.name!r} has no score")
    return crit.score(b, a).cpu().numpy().astype(np.float64)


def _rows(
    crit: Criterion, approx: torch.Tensor | np.ndarray, exact: torch.Tensor | np.ndarray
) -> tuple[torch.Tensor, torch.Tensor]:
    """Both outputs as float64 ``(n, outputs)``, checked for equal shapes and enough outputs."""
    a = torch.as_tensor(exact).detach().to(torch.float64)
    b = torch.as_tensor(approx).detach().to(torch.float64)
    if a.shape != b.shape or a.ndim == 0:
        raise ValueError(
            f"outputs must have the same shape (n, ...); got {tuple(b.shape)} for the "
            f"compressed network and {tuple(a.shape)} for the original"
        )
    a, b = a.reshape(a.shape[0], -1), b.reshape(b.shape[0], -1)
    if a.shape[1] < crit.min_outputs:
        raise ValueError(
            f"criterion {crit.name!r} needs at least {crit.min_outputs} outputs; "
            f"the network has {a.shape[1]}"
        )
    return b, a


@dataclass(frozen=True)
class HeldOutCertificate:
    r"""The held-out certificate of one compressed network for one criterion.

    With probability at least :math:`1-\alpha` over the held-out points, a fresh input fails
    the criterion with probability at most ``failure_bound``
    (:math:`U_{\alpha/G}(F)`, :math:`G` = ``candidates``); over the held-out points and the
    input together, at most ``delta`` (:math:`U_{\alpha/G}(F) + \alpha`). It assumes only
    that the ``points`` held-out inputs are i.i.d. from the input distribution and were not
    used to train, compress or choose the network (nor any of the :math:`G` candidates).
    """

    criterion: str
    eps: float | None
    points: int
    failures: int
    alpha: float
    candidates: int
    failure_bound: float
    delta: float

    @property
    def statement(self) -> str:
        """What is certified, with which probability, in one line.

        >>> cert = HeldOutCertificate("top1", None, 1000, 0, 0.01, 1, 0.0046, 0.0146)
        >>> print(cert.statement)  # doctest: +NORMALIZE_WHITESPACE
        top1 fails on a fresh input with probability <= 0.0046 (confidence 0.99 over 1000
        held-out points, 0 failures, 1 candidate)
        """
        crit = self.criterion if self.eps is None else f"{self.criterion} at eps={self.eps:g}"
        many = "candidate" if self.candidates == 1 else "candidates"
        return (
            f"{crit} fails on a fresh input with probability <= {self.failure_bound:.3g} "
            f"(confidence {1 - self.alpha:g} over {self.points} held-out points, "
            f"{self.failures} failures, {self.candidates} {many})"
        )

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-able dict."""
        return dataclasses.asdict(self)


def _networks(compressed: Any, original: nn.Module) -> tuple[nn.Module, nn.Module]:
    model = getattr(compressed, "model", compressed)
    if not isinstance(model, nn.Module):
        raise ValueError(
            "compressed must be an nn.Module or a CompressionResult; "
            f"got {type(compressed).__name__}"
        )
    if not isinstance(original, nn.Module):
        raise ValueError(f"original must be an nn.Module; got {type(original).__name__}")
    return model, original


@torch.no_grad()
def _outputs(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    parts = [
        net(x[i : i + CERTIFY_BATCH]).to(torch.float64) for i in range(0, x.shape[0], CERTIFY_BATCH)
    ]
    return torch.cat(parts)


def certify(
    compressed: Any,
    original: nn.Module,
    held_out: torch.Tensor | np.ndarray,
    *,
    criterion: str = "entrywise",
    eps: float | None = None,
    alpha: float = 0.01,
    candidates: int = 1,
) -> HeldOutCertificate:
    r"""Certify a compressed network for ``criterion`` on held-out inputs (see the module).

    .. math::

        \mathbb{P}_V\bigl(\mathbb{P}_x(\text{fail}\mid\hat\theta) \le U_{\alpha/G}(F)\bigr)
        \ge 1-\alpha, \qquad
        \mathbb{P}_{V,x}(\text{fail}) \le U_{\alpha/G}(F) + \alpha,

    with :math:`F` the failures among the :math:`n` rows of ``held_out`` and :math:`U` the
    exact one-sided Clopper–Pearson bound (Clopper & Pearson, 1934). Costs two forward passes
    of ``held_out``; :func:`~netcoreset.sampler.compress` does not pay for it.

    Parameters
    ----------
    compressed : CompressionResult or torch.nn.Module
        The compressed network (a result's ``model``); evaluated as is, never modified.
    original : torch.nn.Module
        The network it was compressed from (never modified).
    held_out : torch.Tensor or numpy.ndarray
        Inputs i.i.d. from the input distribution, used neither to train the original nor
        to compress or choose the network: not the data given to
        :func:`~netcoreset.sampler.compress` (its :math:`S`) and not the training set.
    criterion : str, default "entrywise"
        A name in ``CRITERIA``.
    eps : float, optional
        The criterion's tolerance (none for ``"top1"``; see :func:`criterion_failures`).
    alpha : float, default 0.01
        The probability that the bound is wrong, in (0, 1).
    candidates : int, default 1
        :math:`G`: how many networks, all fixed before ``held_out`` was looked at, the
        certified one may have been chosen from on ``held_out`` (each pays
        :math:`\alpha/G`).

    Returns
    -------
    HeldOutCertificate

    Examples
    --------
    >>> from netcoreset.sampler import compress
    >>> gen = torch.Generator().manual_seed(0)
    >>> net = nn.Sequential(nn.Linear(20, 30), nn.ReLU(), nn.Linear(30, 5))
    >>> x = torch.rand(2000, 20, generator=gen)
    >>> res = compress(net, x[:1000], keep=0.5, seed=0)
    >>> cert = certify(res, net, x[1000:], criterion="top1", alpha=0.01)
    >>> cert.points, cert.failures <= cert.points, cert.failure_bound < 1
    (1000, True, True)
    """
    model, orig = _networks(compressed, original)
    crit, eps_value = check_criterion(criterion, eps)
    alpha = check_open_unit("alpha", alpha)
    candidates = check_positive_int("candidates", candidates)
    first = linear_layers(orig)[0]
    x = as_inputs(
        held_out,
        name="held_out",
        like=first.weight,
        features=first.in_features,
        flatten=starts_with_flatten(orig),
    )
    exact = _outputs(orig, x)
    if not bool(torch.isfinite(exact).all()):
        raise ValueError("the original network's outputs on held_out contain NaN or inf")
    fails = criterion_failures(crit.name, _outputs(model, x), exact, eps_value)
    n, k = int(x.shape[0]), int(fails.sum())
    return HeldOutCertificate(
        criterion=crit.name,
        eps=eps_value,
        points=n,
        failures=k,
        alpha=alpha,
        candidates=candidates,
        failure_bound=binomial_upper_bound(k, n, alpha / candidates),
        delta=holdout_certified_delta(k, n, alpha, candidates),
    )
