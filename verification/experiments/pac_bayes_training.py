r"""Stochastic networks certified by PAC-Bayes: a Gaussian posterior trained around a prior
network trained on other data.

The protocol (Dziugaite and Roy 2017; Pérez-Ortiz et al. 2021, data-dependent priors):

1. **Prior.** A network :math:`w_0` trained on the *design/prior* part only (never on the
   certification part), and a declared prior scale :math:`\sigma_p` (one of a grid fixed in
   advance, each at level :math:`\delta/G`): :math:`P = \mathcal N(w_0, \sigma_p^2 I)`.
2. **Posterior.** :math:`Q = \mathcal N(\mu, \mathrm{diag}\,\sigma^2)` with
   :math:`\mu = w_0`, :math:`\sigma = \sigma_p` at the start, trained on the certification
   part (the posterior may depend on anything) by minimising a PAC-Bayes objective
   (:func:`pac_bayes_objective`) of a bounded cross-entropy and
   :math:`\mathrm{KL}(Q\|P)`, with the reparametrisation
   :math:`w = \mu + \sigma\odot\varepsilon`.
3. **Certificate.** :math:`\mathrm{KL}(Q\|P)` in float64
   (:func:`~netcoreset.bounds.pac_bayes.gaussian_kl`), :math:`\hat L_m(Q)` from :math:`m`
   seeded weight draws on the certification part, and
   :func:`~netcoreset.bounds.pac_bayes.pac_bayes_bound` with :math:`n` = the certification
   part's size; the failure probability is :math:`\delta + \delta'`.

The result bounds the error of the **stochastic** classifier (fresh weights per input); it
is labelled ``"stochastic"`` everywhere and is not a bound on the mean network, whose test
error is reported beside it for comparison only.

The training objective is a differentiable surrogate (torch); the certificate's numbers all
come from :mod:`netcoreset.bounds.pac_bayes`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from netcoreset.bounds.pac_bayes import gaussian_kl, maurer_confidence_nats, pac_bayes_bound
from netcoreset.bounds.validation import check_open_unit, check_positive, check_positive_int
from netcoreset.sampler import linear_layers

from .training import _check_xy, _progress

__all__ = [
    "GaussianNetwork",
    "pac_bayes_objective",
    "train_posterior",
    "stochastic_error",
    "StochasticCertificate",
    "certify_posterior",
]


class GaussianNetwork(nn.Module):
    r"""A ReLU network with independent Gaussian weights :math:`\mathcal N(\mu,
    \sigma^2)`, initialised at a prior network :math:`w_0` with :math:`\sigma = \sigma_p`.

    :math:`\sigma = \mathrm{softplus}(\rho)`; the prior's means are kept (frozen) for the KL.
    The prior network is copied, never modified.

    Examples
    --------
    >>> prior = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    >>> g = GaussianNetwork(prior, 0.05)
    >>> round(g.kl(), 12)  # Q = P at the start
    0.0
    >>> g(torch.zeros(5, 3), generator=torch.Generator().manual_seed(0)).shape
    torch.Size([5, 2])
    """

    def __init__(self, prior: nn.Module, sigma_prior: float) -> None:
        super().__init__()
        self.sigma_prior = check_positive("sigma_prior", sigma_prior)
        lays = linear_layers(prior)
        self.mu = nn.ParameterList()
        self.rho = nn.ParameterList()
        rho0 = math.log(math.expm1(self.sigma_prior))  # softplus^-1(sigma_p)
        for i, lay in enumerate(lays):
            w = lay.weight.detach().to(torch.float32).clone()
            b = (
                torch.zeros(w.shape[0])
                if lay.bias is None
                else lay.bias.detach().to(torch.float32).clone()
            )
            both = torch.cat([w, b[:, None]], dim=1)  # [W | b]
            self.register_buffer(f"prior_{i}", both.clone())
            self.mu.append(nn.Parameter(both))
            self.rho.append(nn.Parameter(torch.full_like(both, rho0)))

    def priors(self) -> list[torch.Tensor]:
        """The prior means :math:`w_0`, per layer ``[W | b]``."""
        return [getattr(self, f"prior_{i}") for i in range(len(self.mu))]

    def sigmas(self) -> list[torch.Tensor]:
        r""":math:`\sigma = \mathrm{softplus}(\rho)` per layer."""
        return [nn.functional.softplus(r) for r in self.rho]

    def forward(
        self, x: torch.Tensor, *, sample: bool = True, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """One weight draw for the whole batch (``sample=False``: the mean network)."""
        h = x
        n_layers = len(self.mu)
        for i, (mu, sigma) in enumerate(zip(self.mu, self.sigmas(), strict=True)):
            wb = mu
            if sample:
                eps = torch.randn(mu.shape, generator=generator, device=mu.device)
                wb = mu + sigma * eps
            h = h @ wb[:, :-1].T + wb[:, -1]
            if i < n_layers - 1:
                h = torch.relu(h)
        return h

    def kl_torch(self) -> torch.Tensor:
        r"""The differentiable :math:`\mathrm{KL}(Q\|P)` for training (float32); the
        certificate uses :meth:`kl`."""
        sp2 = self.sigma_prior**2
        total = torch.zeros(())
        for mu, sigma, mu0 in zip(self.mu, self.sigmas(), self.priors(), strict=True):
            s2 = sigma**2
            total = total + 0.5 * (s2 / sp2 + (mu - mu0) ** 2 / sp2 - 1 - torch.log(s2 / sp2)).sum()
        return total

    def kl(self) -> float:
        r""":math:`\mathrm{KL}(Q\|P)` in float64 by
        :func:`~netcoreset.bounds.pac_bayes.gaussian_kl`."""
        with torch.no_grad():
            mu = np.concatenate([m.double().ravel().numpy() for m in self.mu])
            sq = np.concatenate([s.double().ravel().numpy() for s in self.sigmas()])
            mp = np.concatenate([p.double().ravel().numpy() for p in self.priors()])
        return gaussian_kl(mu, sq, mp, self.sigma_prior)


def pac_bayes_objective(
    surrogate: torch.Tensor, kl: torch.Tensor, n: int, delta: float
) -> torch.Tensor:
    r"""The training objective: the "quadratic" PAC-Bayes bound of Pérez-Ortiz et al. (2021)
    on a bounded surrogate loss :math:`\hat\ell \in [0, 1]`,

    .. math::

        \Bigl(\sqrt{\hat\ell + c} + \sqrt{c}\Bigr)^2,\qquad
        c = \frac{\mathrm{KL}(Q\|P) + \ln(2\sqrt n/\delta)}{2n}.

    Examples
    --------
    >>> v = pac_bayes_objective(torch.tensor(0.1), torch.tensor(0.0), 10000, 0.05)
    >>> round(float(v), 4)  # c = ln(4000) / 20000; (sqrt(0.1 + c) + sqrt(c))^2
    0.1137
    """
    c = (kl + maurer_confidence_nats(n, delta)) / (2.0 * n)
    return (torch.sqrt(surrogate + c) + torch.sqrt(c)) ** 2


def _bounded_ce(logits: torch.Tensor, y: torch.Tensor, p_min: float) -> torch.Tensor:
    """Cross-entropy with probabilities clamped at ``p_min``, divided by ``ln(1/p_min)``:
    in [0, 1] (Dziugaite and Roy 2018; Pérez-Ortiz et al. 2021)."""
    logp = torch.log_softmax(logits, dim=1).gather(1, y[:, None]).squeeze(1)
    return (-logp.clamp(min=math.log(p_min))).mean() / math.log(1.0 / p_min)


def train_posterior(
    prior: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    sigma_prior: float = 0.03,
    delta: float = 0.025,
    epochs: int = 10,
    lr: float = 1e-3,
    batch_size: int = 256,
    p_min: float = 1e-4,
    seed: int = 0,
    progress: bool | None = None,
) -> GaussianNetwork:
    r"""Train :math:`Q` around the prior on the certification points ``x, y`` by minimising
    :func:`pac_bayes_objective` with :math:`n` = ``len(x)`` (Adam on :math:`\mu, \rho`; one
    weight draw per mini-batch; seeded, bit-reproducible on CPU).

    Examples
    --------
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> prior = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> x, y = torch.rand(200, 4), torch.randint(0, 2, (200,))
    >>> q = train_posterior(prior, x, y, epochs=2, seed=1)
    >>> q.kl() > 0
    True
    """
    x, y = _check_xy(x, y)
    check_positive_int("epochs", epochs)
    check_positive_int("batch_size", batch_size)
    check_open_unit("p_min", p_min)
    delta = check_open_unit("delta", delta)
    net = GaussianNetwork(prior, sigma_prior)
    gen = torch.Generator().manual_seed(int(seed))
    opt = torch.optim.Adam(net.parameters(), lr=check_positive("lr", lr))
    n = x.shape[0]
    for _ in _progress(range(epochs), progress, "PAC-Bayes posterior"):
        order = torch.randperm(n, generator=gen)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            opt.zero_grad()
            loss = _bounded_ce(net(x[idx], generator=gen), y[idx], p_min)
            pac_bayes_objective(loss, net.kl_torch(), n, delta).backward()
            opt.step()
    if not all(bool(torch.isfinite(p).all()) for p in net.parameters()):
        raise ValueError(f"training diverged (NaN or inf) at lr={lr!r}: lower lr")
    return net.eval()


@torch.no_grad()
def stochastic_error(
    net: GaussianNetwork,
    x: torch.Tensor,
    y: torch.Tensor,
    draws: int,
    seed: int,
    *,
    per_input: bool = False,
    batch_size: int = 4096,
) -> float:
    r"""The mean error of ``draws`` seeded passes of the stochastic network over ``x``.

    ``per_input=False``: each pass draws one network for all of ``x``,
    :math:`\hat L_m(Q) = \frac1m\sum_j \hat L(h_j)`, :math:`m` = ``draws`` independent
    terms. ``per_input=True``: every input gets its own independent weights, as the
    stochastic classifier does; with the weights of a unit independent Gaussians, a unit's
    input :math:`z = \sum_k w_k a_k + b` given the layer's input :math:`a` is exactly
    :math:`\mathcal N(\sum_k\mu_k a_k + \mu_b,\ \sum_k\sigma_k^2a_k^2 + \sigma_b^2)`
    (the local reparametrisation of Kingma et al. 2015), drawn per input. The result is then
    the mean of ``draws`` :math:`\times n` independent 0/1 terms whose means average to
    :math:`\hat L(Q)`; pass :math:`m` = ``draws * len(x)`` to
    :func:`~netcoreset.bounds.pac_bayes.monte_carlo_error_bound`.

    Examples
    --------
    >>> prior = nn.Sequential(nn.Linear(2, 2))
    >>> with torch.no_grad():
    ...     _ = prior[0].weight.copy_(torch.eye(2) * 100); _ = prior[0].bias.zero_()
    >>> x = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> stochastic_error(GaussianNetwork(prior, 1e-3), x, torch.tensor([0, 1]), 5, 0)
    0.0
    """
    draws = check_positive_int("draws", draws)
    gen = torch.Generator().manual_seed(int(seed))
    wrong = 0
    for _ in _progress(range(draws), None, "Monte Carlo draws"):
        if not per_input:
            wrong += int((net(x, generator=gen).argmax(1) != y).sum())
            continue
        for start in range(0, x.shape[0], batch_size):
            out = _local_draw(net, x[start : start + batch_size], gen)
            wrong += int((out.argmax(1) != y[start : start + batch_size]).sum())
    return wrong / (draws * x.shape[0])


def _local_draw(net: GaussianNetwork, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Outputs with independent weights per input (local reparametrisation)."""
    h = x
    n_layers = len(net.mu)
    for i, (mu, sigma) in enumerate(zip(net.mu, net.sigmas(), strict=True)):
        mean = h @ mu[:, :-1].T + mu[:, -1]
        var = (h * h) @ (sigma[:, :-1] ** 2).T + sigma[:, -1] ** 2
        h = mean + var.sqrt() * torch.randn(mean.shape, generator=gen)
        if i < n_layers - 1:
            h = torch.relu(h)
    return h


@dataclass(frozen=True)
class StochasticCertificate:
    """A certified **stochastic** network: the bound, its terms and the errors beside it.

    ``kind`` is always ``"stochastic"``; ``mean_network_test_error`` is for comparison only
    (not certified). ``bound`` holds with probability :math:`\\ge 1 -` ``total_delta``.

    .. math::

        L(Q) \\le B\\bigl(\\mathrm{kl}^{-1}(\\hat L_m(Q), \\ln(2/\\delta')/m),
        \\mathrm{KL}(Q\\|P), n, \\delta/G\\bigr)
    """

    kind: str
    bound: float
    form: str
    n: int
    kl_nats: float
    mc_error: float
    mc_draws: int
    empirical_error_bound: float
    delta: float
    delta_prime: float
    total_delta: float
    prior_grid_size: int
    sigma_prior: float
    stochastic_test_error: float | None
    mean_network_test_error: float | None
    details: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        from netcoreset.bounds.serialization import to_jsonable

        return to_jsonable(self.__dict__)


def certify_posterior(
    net: GaussianNetwork,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    delta: float = 0.025,
    delta_prime: float = 0.025,
    draws: int = 100,
    form: str = "kl",
    prior_grid_size: int = 1,
    lambdas: Sequence[float] | None = None,
    seed: int = 0,
    per_input: bool = True,
    x_test: torch.Tensor | None = None,
    y_test: torch.Tensor | None = None,
) -> StochasticCertificate:
    r"""The PAC-Bayes certificate of ``net`` on the certification points ``x, y``.

    The prior scale was one of ``prior_grid_size`` declared values, so the PAC-Bayes bound
    runs at :math:`\delta/G`; the Monte Carlo estimate uses ``draws`` seeded passes at
    :math:`\delta'` (with ``per_input``, fresh weights for every input, so
    :math:`m` = ``draws`` :math:`\times n` terms; see :func:`stochastic_error`). Total
    failure probability :math:`\delta + \delta'`.

    Examples
    --------
    >>> prior = nn.Sequential(nn.Linear(2, 2))
    >>> with torch.no_grad():
    ...     _ = prior[0].weight.copy_(torch.eye(2) * 100); _ = prior[0].bias.zero_()
    >>> x = torch.eye(2).repeat(500, 1)
    >>> y = torch.tensor([0, 1]).repeat(500)
    >>> c = certify_posterior(GaussianNetwork(prior, 1e-3), x, y, draws=200, per_input=False)
    >>> c.kind, c.n, c.mc_error, round(c.kl_nats, 9)  # Q = P (to float32), no errors
    ('stochastic', 1000, 0.0, 0.0)
    >>> # 1 - exp(-ln(80) / 200) = 0.0217, then kl^-1(0.0217, ln(2 sqrt(1000) / 0.025) / 1000)
    >>> round(c.empirical_error_bound, 4), round(c.bound, 4)
    (0.0217, 0.0451)
    """
    x, y = _check_xy(x, y)
    grid = check_positive_int("prior_grid_size", prior_grid_size)
    mc = stochastic_error(net, x, y, draws, seed, per_input=per_input)
    m = draws * x.shape[0] if per_input else draws
    kl = net.kl()
    b = pac_bayes_bound(mc, m, kl, x.shape[0], delta / grid, delta_prime, form, lambdas=lambdas)
    test_s = test_m = None
    if x_test is not None and y_test is not None:
        test_s = stochastic_error(net, x_test, y_test, draws, seed + 1, per_input=per_input)
        with torch.no_grad():
            test_m = float((net(x_test, sample=False).argmax(1) != y_test).float().mean())
    return StochasticCertificate(
        kind="stochastic",
        bound=b.bound,
        form=form,
        n=int(x.shape[0]),
        kl_nats=kl,
        mc_error=mc,
        mc_draws=int(m),
        empirical_error_bound=b.empirical_error_bound,
        delta=float(delta),
        delta_prime=float(delta_prime),
        total_delta=float(delta) + float(delta_prime),
        prior_grid_size=grid,
        sigma_prior=net.sigma_prior,
        stochastic_test_error=test_s,
        mean_network_test_error=test_m,
        details=b.to_dict(),
    )
