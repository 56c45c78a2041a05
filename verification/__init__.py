"""Statistical verification of the (1 ± eps, delta) guarantee.

* ``confidence``: Clopper–Pearson, betting confidence sequences,
  empirical Bernstein, quantile intervals and verdicts;
* ``checker``: :func:`check_guarantee`, repeated compressions
  evaluated on held-out inputs, through any :class:`concurrent.futures.Executor`;
* ``slack``: the empirical sample complexity (the theorem's slack);
* ``networks``: seeded builders of ReLU networks and inputs;
* ``strategies``: public hypothesis strategies over them;
* :mod:`~netcoreset.verification.experiments`: data sets, training, method comparisons, and
  the reproduction of the paper's experiments with its claims decided;
* ``plots`` and the ``netcoreset`` command line
  (:mod:`~netcoreset.verification.cli`).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "BettingConfidenceSequence",
    "betting_cs",
    "check_guarantee",
    "clopper_pearson",
    "DrawScaleFactory",
    "empirical_bernstein",
    "entrywise_relative_errors",
    "find_slack",
    "GuaranteeCheck",
    "plot_check",
    "plot_slack",
    "quantile_ci",
    "SamplerCompressor",
    "SlackCheck",
    "SlackResult",
    "SlackSearch",
    "trials_to_decide",
    "verdict",
    "Verdict",
]

# Where each exported name lives. The names load on first use (``__getattr__``), so that
# ``import netcoreset.verification`` -- and with it ``netcoreset bound``, pure arithmetic --
# does not import torch.
_MODULE_OF = {
    "GuaranteeCheck": "checker",
    "SamplerCompressor": "checker",
    "check_guarantee": "checker",
    "entrywise_relative_errors": "checker",
    "BettingConfidenceSequence": "confidence",
    "Verdict": "confidence",
    "betting_cs": "confidence",
    "clopper_pearson": "confidence",
    "empirical_bernstein": "confidence",
    "quantile_ci": "confidence",
    "trials_to_decide": "confidence",
    "verdict": "confidence",
    "plot_check": "plots",
    "plot_slack": "plots",
    "DrawScaleFactory": "slack",
    "SlackCheck": "slack",
    "SlackResult": "slack",
    "SlackSearch": "slack",
    "find_slack": "slack",
}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
