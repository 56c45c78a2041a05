"""Test configuration: hypothesis profiles and torch threading.

The ``ci`` profile (the default here) is derandomised, bounded and keeps no example database,
so every run of the suite draws the same examples. ``HYPOTHESIS_PROFILE=dev`` explores more.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=30,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config):  # noqa: D103
    try:
        import torch
    except ImportError:  # pragma: no cover
        return
    torch.set_num_threads(1)
