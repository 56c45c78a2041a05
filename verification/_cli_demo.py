"""``netcoreset demo``: the main job on bundled data."""

from __future__ import annotations

import argparse

from netcoreset.bounds import network_bound


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the main job on bundled data and print the result")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    for eps in (0.1, 0.5):
        nb = network_bound("784,300,100,10", eps, 0.05)
        print(
            f"784-300-100-10, eps={eps}, delta=0.05: kappa={nb.kappa:.1f}, "
            f"theorem keeps {nb.kept_fraction:.1%} of the weights"
        )
    return 0
