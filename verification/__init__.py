"""Statistical verification of the (1 ± eps, delta) guarantee.

* :mod:`~netcoreset.verification.confidence`: Clopper–Pearson, betting confidence sequences,
  empirical Bernstein, quantile intervals and verdicts;
* :mod:`~netcoreset.verification.checker`: :func:`check_guarantee`, repeated compressions
  evaluated on held-out inputs, through any :class:`concurrent.futures.Executor`;
* :mod:`~netcoreset.verification.slack`: the empirical sample complexity (the theorem's slack);
* :mod:`~netcoreset.verification.networks`: seeded builders of ReLU networks and inputs;
* :mod:`~netcoreset.verification.strategies`: public hypothesis strategies over them;
* :mod:`~netcoreset.verification.experiments`: data sets, training, method comparisons, and
  the reproduction of the paper's experiments with its claims decided;
* :mod:`~netcoreset.verification.plots` and the ``netcoreset`` command line
  (:mod:`~netcoreset.verification.cli`).
"""

from .checker import GuaranteeCheck, SamplerCompressor, check_guarantee, entrywise_relative_errors
from .confidence import (
    BettingConfidenceSequence,
    Verdict,
    betting_cs,
    clopper_pearson,
    empirical_bernstein,
    quantile_ci,
    trials_to_decide,
    verdict,
)
from .plots import plot_check, plot_slack
from .slack import DrawScaleFactory, SlackCheck, SlackResult, SlackSearch, find_slack

__all__ = [
    "BettingConfidenceSequence",
    "betting_cs",
    "check_guarantee",
    "clopper_pearson",
    "DrawScaleFactory",
    "empirical_bernstein",
    "find_slack",
    "GuaranteeCheck",
    "plot_check",
    "plot_slack",
    "quantile_ci",
    "entrywise_relative_errors",
    "SamplerCompressor",
    "SlackCheck",
    "SlackResult",
    "SlackSearch",
    "trials_to_decide",
    "verdict",
    "Verdict",
]
